"""Runs the bot: migrations, the Application, the intake, and a clean stop on signals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal

from bot.core.clock import Clock
from bot.core.gcpause import freeze_long_lived, gc_paused, thaw
from bot.logs import redact
from bot.settings import Settings
from bot.telegram.app import ALLOWED_UPDATES, build_application, post_init
from bot.telegram.backups import schedule_backups
from bot.telegram.intake import Intake
from bot.telegram.ops import Health, OpsServers, flood_waits
from bot.telegram.ratelimit import Pace
from bot.telegram.scheduling import rebuild
from bot.telegram.services import App, Services, acks
from bot.telegram.webhook import WebhookServer
from storage.actions import Actions
from storage.backup import journal_lock
from storage.engine import describe, open_database, session_factory, sqlite_file
from storage.inbox import ChatLocks, Inbox
from storage.ledger import Ledger
from storage.notes import Notes
from storage.reader import Reader
from storage.users import Users

log = logging.getLogger(__name__)


async def _serve_webhook(
    app: App,
    intake: Intake,
    settings: Settings,
    stop: asyncio.Event,
    expose: dict[str, object] | None,
    health: Health,
) -> None:
    """Receive updates by webhook; Telegram hears "200" only after the inbox commit.

    The same port answers GET /healthz.
    """
    secret = (
        settings.webhook_secret.get_secret_value()
        if settings.webhook_secret is not None
        else secrets.token_urlsafe(32)
    )
    redact(secret)  # PTB logs setWebhook's parameters at DEBUG
    server = WebhookServer(
        app,
        intake,
        url=settings.webhook_url,
        secret=secret,
        host=settings.webhook_listen,
        port=settings.webhook_port,
        extra={"/healthz": health.handle},
    )
    await server.start()
    if expose is not None:
        expose.update(webhook=server, webhook_secret=secret)
    try:
        await app.bot.set_webhook(
            settings.webhook_url,
            secret_token=secret,
            allowed_updates=list(ALLOWED_UPDATES),
            drop_pending_updates=False,
        )
        log.info("receiving updates by webhook on %s:%s", settings.webhook_listen, server.port)
        await intake.run(stop, poll=False)
    finally:
        await server.stop()


async def run_bot(
    settings: Settings,
    clock: Clock,
    stop: asyncio.Event | None = None,
    *,
    handle_signals: bool = False,
    expose: dict[str, object] | None = None,
    pace: Pace | None = None,
) -> None:
    """Serve until `stop` is set (or SIGINT/SIGTERM with handle_signals).

    `pace` is the clock the outgoing rate limiter sleeps on (the event loop's by default).
    """
    stop = stop or asyncio.Event()
    engine = await asyncio.to_thread(open_database, settings.database_url)
    log.info("database: %s", describe(settings.database_url))  # which journal this is
    held = contextlib.ExitStack()  # `rizhilu restore` refuses while this shared lock is held
    journal_file = sqlite_file(settings.database_url)
    if journal_file is not None and not held.enter_context(
        journal_lock(journal_file, exclusive=False)
    ):
        log.warning("a restore is replacing %s; starting anyway", journal_file)
    sessions = session_factory(engine)
    svc = Services(
        settings=settings,
        clock=clock,
        users=Users(sessions, clock),
        notes=Notes(sessions, clock),
        reader=Reader(sessions),
        actions=Actions(sessions, clock),
        ledger=Ledger(sessions, clock),
        engine=engine,
    )
    own_intake = settings.intake == "inbox"
    app = build_application(svc, own_intake=own_intake, pace=pace)
    intake = Intake(
        app,
        Inbox(sessions, clock),
        allowed_updates=list(ALLOWED_UPDATES),
        poll_timeout=settings.poll_timeout,
        # replicas may share a PostgreSQL database: each chat is handled by one at a time
        locks=ChatLocks(engine) if engine.dialect.name == "postgresql" else None,
    )
    # in the services before the app runs: the first handler to find the database away
    # hands its update back to the intake (and a test that sees the services sees both)
    svc.app = app
    svc.intake = intake if own_intake else None
    loop = asyncio.get_running_loop()
    if handle_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    menu: asyncio.Task[None] | None = None
    try:
        await app.initialize()  # getMe: a wrong token stops here
        # the "/" menu goes out beside the first poll (run_polling would await it first)
        menu = asyncio.create_task(post_init(app), name="command-menu")
        await app.start()
        if expose is not None:  # tests reach the scheduler through this
            expose.update(app=app, services=svc)
        with gc_paused():  # 10,000 users' jobs: the collector walked the growing heap again
            await rebuild(app, svc)  # what fell due while the bot was down goes out later
        freeze_long_lived()
        if settings.export_path:  # the export and git code only when EXPORT_PATH asks for it
            from bot.telegram.autoexport import schedule_autoexport

            schedule_autoexport(app, svc)
        schedule_backups(app, svc)
        log.info("rizhilu is running (%s intake)", settings.intake)
        health = Health(engine, clock, app, intake if own_intake else None)
        metrics = None
        if settings.metrics_port is not None:
            from bot.telegram.metrics import Metrics  # prometheus_client only when asked for

            metrics = Metrics(engine, lambda: flood_waits(app, intake))
            intake.on_handled = metrics.latency.observe
        ops = OpsServers(settings, health, metrics)
        await ops.start()
        if metrics is not None:
            metrics.attach()
        if expose is not None:  # tests reach the health and metrics ports through it
            expose.update(ops=ops, metrics=metrics)
        try:
            if own_intake:
                if settings.webhook_url:
                    await _serve_webhook(app, intake, settings, stop, expose, health)
                else:
                    await intake.run(stop)
            else:
                assert app.updater is not None
                await app.updater.start_polling(
                    allowed_updates=list(ALLOWED_UPDATES), timeout=settings.poll_timeout
                )
                await stop.wait()
                await app.updater.stop()
        finally:
            if metrics is not None:
                metrics.detach()
            await ops.stop()
    finally:
        # before the app stops: reminders still queued are left to the catch-up after the
        # restart (the backlog would hold the stop at 30 sends/s), the few being sent finish
        if menu is not None:
            menu.cancel()  # nothing if it is done
            await asyncio.wait({menu})
        dropped = await svc.due.close()
        if dropped:
            log.info("%d queued reminders/digests left for the catch-up after restart", dropped)
        if app.running:
            await app.stop()  # the stock updater handles what it queued in here
        await acks(svc).drain()  # so users (and tests) still see the last ✍
        await app.shutdown()
        if handle_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        engine.dispose()
        held.close()
        thaw()
        log.info("rizhilu stopped")

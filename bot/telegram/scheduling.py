"""Reminder, snooze and digest jobs on PTB's JobQueue (APScheduler), rebuilt from the database.

The jobs only wake the bot up; whether a message is due is decided by the pure core from
the clock, and the sent-ledger makes each one go out at most once per day — across
restarts, APScheduler's double run on a DST fall-back day, and several processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Literal

from apscheduler.jobstores.base import JobLookupError
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Job

from bot import texts
from bot.core.days import journal_day, parse_hhmm, zone
from bot.core.digest import one_message, weekly_digest
from bot.core.reminders import (
    due_daily,
    due_snooze,
    ptb_days,
    reminder_text,
    should_skip,
)
from bot.telegram.pictures import last_year_picture, user_counts
from bot.telegram.ratelimit import SEND_STAGE
from bot.telegram.services import KEY, App, Batched, Context, Services, db
from storage.engine import is_transient
from storage.ledger import Claim
from storage.users import UserInfo

log = logging.getLogger(__name__)
RETRY_AFTER = timedelta(seconds=30)
# what became of a due reminder or digest: sent, or why not
Outcome = Literal[
    "sent", "already", "no-chat", "done", "skipped", "blocked", "unknown", "retry", "failed"
]


@dataclass
class Scheduled:
    """A user's jobs, and what they were made from (a change reschedules them)."""

    signature: tuple[Any, ...]
    jobs: list[Job[Any]]


def _signature(user: UserInfo) -> tuple[Any, ...]:
    return (
        user.timezone, user.reminder_time, user.digest_weekday, user.digest_time,
        user.snoozed_until, user.blocked, user.chat_id,
    )  # fmt: skip


def buttons(day: date) -> InlineKeyboardMarkup:
    d = day.isoformat()
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(texts.BUTTON_SNOOZE_30, callback_data=f"rz:snooze:30:{d}"),
                InlineKeyboardButton(texts.BUTTON_SNOOZE_60, callback_data=f"rz:snooze:60:{d}"),
            ],
            [InlineKeyboardButton(texts.BUTTON_DONE_TODAY, callback_data=f"rz:done:{d}")],
        ]
    )


def schedule_user(app: App, svc: Services, user: UserInfo, *, force: bool = False) -> None:
    """(Re)create the user's jobs; a no-op when nothing they depend on changed."""
    reg = svc.jobs
    current = reg.get(user.id)
    signature = _signature(user)
    if current is not None and current.signature == signature and not force:
        return
    if current is not None:
        for job in current.jobs:
            with contextlib.suppress(JobLookupError):  # a one-off job that already ran
                job.schedule_removal()
    jobs: list[Job[Any]] = []
    jq = app.job_queue
    assert jq is not None
    kwargs = {
        "misfire_grace_time": svc.settings.reminder_grace_minutes * 60,
        "coalesce": True,
        # at a random moment of their second (below): APScheduler adds 0-1 s to each run,
        # never less, so a job never goes off before its time
        "jitter": 1,
    }
    # no job for someone no longer in ALLOWED_USER_IDS: their rows stay, their reminders stop
    allowed = svc.settings.allowed_user_ids.allows(user.id)
    if allowed and not user.blocked and user.chat_id is not None:
        tz = zone(user.timezone)
        # each user's jobs go off at their own second of the minute: 10,000 jobs due at
        # the same second are processed by APScheduler in one go on the event loop (3 s
        # during which no note was acknowledged), and the 170 sharing a second still held
        # it 25-160 ms at once (hence the jitter above); whether one is due is still
        # decided from the clock, and the sends are paced anyway
        second = user.id % 60
        if user.reminder_time:
            at = parse_hhmm(user.reminder_time).replace(second=second, tzinfo=tz)
            jobs.append(
                jq.run_daily(
                    reminder_job, at, name=f"reminder:{user.id}", data=user.id, job_kwargs=kwargs
                )
            )
        if user.digest_time and user.digest_weekday is not None:
            at = parse_hhmm(user.digest_time).replace(second=second, tzinfo=tz)
            jobs.append(
                jq.run_daily(
                    digest_job,
                    at,
                    days=ptb_days(user.digest_weekday),
                    name=f"digest:{user.id}",
                    data=user.id,
                    job_kwargs=kwargs,
                )
            )
        now = svc.clock.now()
        if user.snoozed_until is not None and user.snoozed_until > now:
            # a delay from the injected clock, so the job and the decision agree on "now"
            delay = user.snoozed_until - now
            jobs.append(jq.run_once(snooze_job, delay, name=f"snooze:{user.id}", data=user.id))
    reg[user.id] = Scheduled(signature, jobs)


async def rebuild(app: App, svc: Services) -> int:
    """At start: jobs for every user from the database; anything due right now is queued in
    the backlog, so capture starts at once (thousands of reminders due after an outage went
    out one by one before the first poll) and a stop leaves the unsent to the next start.
    Returns how many users' catch-ups were queued."""
    users = await db(svc.users.all)
    for user in users:
        schedule_user(app, svc, user, force=True)
    queued = 0
    for user in users:
        if not svc.settings.allowed_user_ids.allows(user.id):
            continue
        if user.reminder_time:  # the reminders a batch at a time, as when their jobs go off
            svc.due.put(Batched(remind_batch, (app, svc, user.id)))
        if user.snoozed_until is not None or user.digest_time:
            svc.due.put(partial(_catch_up_quietly, app, svc, user))
        queued += 1
    return queued


async def _catch_up_quietly(app: App, svc: Services, user: UserInfo) -> None:
    for check in (check_snooze, check_digest):
        await check(app, svc, user)


async def catch_up(app: App, svc: Services, user: UserInfo) -> None:
    """Send whatever is due now (within the grace) and not yet sent."""
    await check_reminder(app, svc, user)
    await check_snooze(app, svc, user)
    await check_digest(app, svc, user)


CHART = "digest-chart"  # the ledger's kind for the digest's picture


def _grace(svc: Services) -> timedelta:
    return timedelta(minutes=svc.settings.reminder_grace_minutes)


async def deliver(
    app: App,
    svc: Services,
    user: UserInfo,
    day: date,
    kind: str,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    claimed: bool = False,
) -> Outcome:
    """Claim the ledger entry (unless the caller did), send, record the outcome."""
    if user.chat_id is None:
        return "no-chat"
    if not claimed and not await db(svc.ledger.claim, user.id, day, kind):
        return "already"
    stage = ["wire"]  # without a rate limiter, a request is on its way at once
    SEND_STAGE.set(stage)
    try:
        message = await app.bot.send_message(user.chat_id, text, reply_markup=markup)
    except asyncio.CancelledError:
        # the bot is stopping (Backlog.close): a send still waiting for its turn surely did
        # not go out, so the restart's catch-up may claim it again; one on the wire may have
        if stage[0] == "wire":
            await db(svc.ledger.mark, user.id, day, kind, "unknown")
        else:
            await db(svc.ledger.release, user.id, day, kind)
        raise
    except Forbidden:
        log.info("user %s blocked the bot; reminders and digests are off until they write", user.id)
        await db(svc.ledger.mark, user.id, day, kind, "blocked")
        updated = await db(svc.users.mark_blocked, user.id)
        schedule_user(app, svc, updated)
        return "blocked"
    except TimedOut:
        # it may well have been delivered: never send it blindly again
        await db(svc.ledger.mark, user.id, day, kind, "unknown")
        return "unknown"
    except (RetryAfter, NetworkError) as exc:
        log.warning("%s for user %s not sent (%s); retrying", kind, user.id, exc)
        await db(svc.ledger.release, user.id, day, kind)
        _retry_soon(app, user.id)
        return "retry"
    except BadRequest as exc:
        log.warning("%s for user %s refused: %s", kind, user.id, exc)
        await db(svc.ledger.mark, user.id, day, kind, "failed")
        return "failed"
    del message  # the claim already reads "sent": one write per message, not two
    return "sent"


async def check_reminder(app: App, svc: Services, user: UserInfo) -> None:
    """One user's reminder (a retry after an outage), decided and sent as a batch of one."""
    await _remind(app, svc, lambda: _claim_reminders(svc, [user]))


@dataclass(frozen=True)
class Nudge:
    """A reminder claimed in the ledger: it must now be sent."""

    user: UserInfo
    day: date
    notes: int  # on that day, for the wording


async def remind_batch(items: list[tuple[App, Services, int]]) -> None:
    """Reminders whose jobs went off (or were due at start), together: one database trip
    reads what the decision needs and claims the due ones in one short transaction, then
    they are sent one after another (the rate limiter paces them)."""
    app, svc = items[0][0], items[0][1]
    user_ids = [user_id for _, _, user_id in items]
    try:
        await _remind(app, svc, lambda: _prepare_reminders(svc, user_ids))
    except Exception as exc:  # only the deciding trip's: _remind logs a failed send
        if not is_transient(exc):
            raise
        log.warning("database unavailable for %d reminders (%s); retrying", len(items), exc)
        for user_id in dict.fromkeys(user_ids):
            _retry_soon(app, user_id)


async def _remind(app: App, svc: Services, prepare_trip: Callable[[], list[Nudge]]) -> None:
    """Run the blocking trip that decides and claims, then send what it claimed."""
    # shielded: a stop that cancels us mid-trip must not leave the claims the trip makes
    # (they would read "sent" for reminders that never went out)
    prepare = asyncio.ensure_future(db(prepare_trip))
    try:
        nudges = await asyncio.shield(prepare)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            won = await prepare
            await db(svc.ledger.release_many, [(n.user.id, n.day, "reminder") for n in won])
        raise
    for i, nudge in enumerate(nudges):
        try:
            await deliver(app, svc, nudge.user, nudge.day, "reminder", reminder_text(nudge.notes),
                          buttons(nudge.day), claimed=True)  # fmt: skip
        except asyncio.CancelledError:
            # the bot is stopping: the rest of the batch is surely not sent (deliver saw
            # to the one in hand), so the restart's catch-up may claim them again
            rest = [(n.user.id, n.day, "reminder") for n in nudges[i + 1 :]]
            await db(svc.ledger.release_many, rest)
            raise
        except Exception:  # one user's failure is logged; the batch goes on
            log.exception("reminder for user %s failed", nudge.user.id)


def _prepare_reminders(svc: Services, user_ids: list[int]) -> list[Nudge]:
    """Blocking, one trip off the loop for a batch: a read of the users, then
    _claim_reminders."""
    return _claim_reminders(svc, svc.users.get_many(user_ids))


def _claim_reminders(svc: Services, users: list[UserInfo]) -> list[Nudge]:
    """Blocking: which users' reminders are due now, done for the day already, or to be
    skipped for having notes; then claim the rest.

    A read of the "done" rows, one of the day's note counts, and one INSERT for the claims
    (the skipped ones are claimed as "skipped", so the day's reminder is decided once).
    """
    now = svc.clock.now()
    due: dict[int, tuple[UserInfo, date]] = {}
    for user in users:
        # a user with no chat claims nothing: the ledger never says "sent" for a message
        # that was not
        if user.blocked or not user.reminder_time or user.chat_id is None:
            continue
        when = due_daily(
            parse_hhmm(user.reminder_time), zone(user.timezone), svc.settings.day_starts_at,
            now, _grace(svc),
        )  # fmt: skip
        if when is not None:
            due[user.id] = (user, when.day)
    if not due:
        return []
    done = svc.ledger.present((uid, day, "done") for uid, (_, day) in due.items())
    counts = svc.reader.notes_on_many((uid, day) for uid, (_, day) in due.items())
    claims: list[Claim] = []
    nudges: list[Nudge] = []
    for uid, (user, day) in due.items():
        if (uid, day, "done") in done:
            continue
        count = counts.get((uid, day), 0)
        if should_skip(user.reminder_mode, count):
            claims.append(Claim(uid, day, "reminder", "skipped"))
        else:
            claims.append(Claim(uid, day, "reminder"))
            nudges.append(Nudge(user, day, count))
    won = svc.ledger.claim_many(claims)
    return [n for n in nudges if (n.user.id, n.day, "reminder") in won]


def _prepare_snooze(
    svc: Services, user: UserInfo, day: date, kind: str
) -> tuple[Outcome | Literal["claimed"], int]:
    """Blocking, one trip off the loop: done already? how many notes? then claim the send
    (a snooze was asked for, so it is never skipped for having notes).

    "claimed" means this caller must send it; anything else is why not. A user with no
    chat claims nothing, so the ledger never says "sent" for a message that was not.
    """
    if user.chat_id is None:
        return "no-chat", 0
    if svc.ledger.status(user.id, day, "done") is not None:
        return "done", 0
    count = svc.reader.notes_on(user.id, day)
    if not svc.ledger.claim(user.id, day, kind):
        return "already", count
    return "claimed", count


async def check_snooze(app: App, svc: Services, user: UserInfo) -> Outcome | None:
    until = user.snoozed_until
    if user.blocked or until is None or not due_snooze(until, svc.clock.now(), _grace(svc)):
        return None
    tz = zone(user.timezone)
    day = journal_day(until, tz, svc.settings.day_starts_at)
    kind = f"snooze@{until.astimezone(tz):%H%M}"
    result, count = await db(_prepare_snooze, svc, user, day, kind)
    if result == "claimed":
        result = await deliver(
            app, svc, user, day, kind, reminder_text(count), buttons(day), claimed=True
        )
    if result in {"sent", "already", "unknown"}:
        await db(svc.users.snooze, user.id, None)
    return result


async def check_digest(app: App, svc: Services, user: UserInfo) -> Outcome | None:
    if user.blocked or not user.digest_time or user.digest_weekday is None:
        return None
    due = due_daily(
        parse_hhmm(user.digest_time), zone(user.timezone), svc.settings.day_starts_at,
        svc.clock.now(), _grace(svc), weekday=user.digest_weekday,
    )  # fmt: skip
    if due is None:
        return None
    style = svc.settings.export_date_style
    text = await db(weekly_digest, svc.reader, user.id, due.day, style)
    outcome = await deliver(app, svc, user, due.day, "digest", one_message(text))
    if outcome == "sent" and user.digest_chart:
        await send_chart(app, svc, user, due.day)
    return outcome


async def send_chart(app: App, svc: Services, user: UserInfo, day: date) -> None:
    """The digest's heatmap picture, after the digest: claimed in the ledger on its own,
    so it too goes out at most once; a failure is logged and not retried."""
    if user.chat_id is None or not await db(svc.ledger.claim, user.id, day, CHART):
        return
    counts = await user_counts(svc, user.id)
    try:
        png = await last_year_picture(counts, day)
        await app.bot.send_photo(
            user.chat_id, png, caption=texts.DIGEST_CHART_CAPTION, filename="heatmap.png"
        )
    except TelegramError as exc:
        log.warning("the digest's chart for user %s not sent: %s", user.id, exc)
        await db(svc.ledger.mark, user.id, day, CHART, "failed")


def _user_id(data: object) -> int:
    assert isinstance(data, int)
    return data


async def _run(context: Context, check: Any) -> None:
    """The job only queues the work: svc.due works through it a few at a time."""
    svc = context.application.bot_data[KEY]
    assert isinstance(svc, Services) and context.job is not None
    user_id = _user_id(context.job.data)
    app = context.application
    svc.due.put(lambda: _check(app, svc, user_id, check))


async def _check(app: App, svc: Services, user_id: int, check: Any) -> None:
    try:
        user = await db(svc.users.get, user_id)
        if user is not None:
            await check(app, svc, user)
    except Exception as exc:
        if not is_transient(exc):
            raise
        # the database was away: look again in a while (still inside the grace, it goes
        # out then; the ledger keeps it to once)
        log.warning("database unavailable for user %s's job (%s); retrying", user_id, exc)
        _retry_soon(app, user_id)


def _retry_soon(app: App, user_id: int) -> None:
    """Look at everything due for the user again in RETRY_AFTER."""
    jq = app.job_queue
    assert jq is not None
    jq.run_once(retry_job, RETRY_AFTER, data=user_id, name=f"retry:{user_id}")


async def reminder_job(context: Context) -> None:
    """Queued to be taken with the reminders due beside it (remind_batch)."""
    svc = context.application.bot_data[KEY]
    assert isinstance(svc, Services) and context.job is not None
    svc.due.put(Batched(remind_batch, (context.application, svc, _user_id(context.job.data))))


async def snooze_job(context: Context) -> None:
    await _run(context, check_snooze)


async def digest_job(context: Context) -> None:
    await _run(context, check_digest)


async def retry_job(context: Context) -> None:
    await _run(context, catch_up)  # whatever is due now: the send that failed, or more


def snooze_until(now: datetime, minutes: int) -> datetime:
    return (now + timedelta(minutes=minutes)).replace(microsecond=0)


def local_hhmm(moment: datetime, tz_name: str) -> str:
    return moment.astimezone(zone(tz_name)).strftime("%H:%M")

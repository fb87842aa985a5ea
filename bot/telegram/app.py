"""Builds the python-telegram-bot Application and registers the handlers by feature."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot import texts
from bot.telegram import paging
from bot.telegram.acks import Acks
from bot.telegram.groupcommit import NoteWriter
from bot.telegram.handlers import (
    access,
    commands,
    errors,
    export,
    imports,
    lookback,
    notes,
    reminders,
    search,
    todos,
)
from bot.telegram.ratelimit import JournalRateLimiter, Pace
from bot.telegram.services import KEY, App, Services

log = logging.getLogger(__name__)

COMMANDS = [BotCommand(command, description) for command, description in texts.COMMANDS]

ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
]

PRIVATE_NEW = filters.UpdateType.MESSAGE
PRIVATE_EDIT = filters.UpdateType.EDITED_MESSAGE
IMAGES = filters.PHOTO | filters.Document.IMAGE
# journal files are claimed first, by the import handler; other documents are notes
FILES = (
    filters.VOICE | filters.AUDIO | filters.VIDEO | filters.VIDEO_NOTE | filters.ANIMATION
    | filters.Document.ALL
)  # fmt: skip
OTHER_KINDS = (
    filters.CONTACT | filters.Sticker.ALL | filters.POLL | filters.Dice.ALL
)  # fmt: skip
PLACES = filters.LOCATION | filters.VENUE  # a live location's edits move nothing


async def post_init(app: App) -> None:
    """The "/" menu. The runner sends it beside the first poll, not before it (a round trip
    less before capture starts); a failure is a warning and the menu stays as it was."""
    try:
        await app.bot.set_my_commands(COMMANDS)
    except TelegramError as exc:
        log.warning("could not set the command menu: %s", exc)


def build_application(svc: Services, *, own_intake: bool, pace: Pace | None = None) -> App:
    """The Application; with own_intake PTB's updater is off and the inbox feeds updates."""
    settings = svc.settings
    # PTB's two HTTP clients (getUpdates, everything else) with its default pool sizes, and
    # one TLS context between them: the CA bundle is read once (~20 ms and ~1 MB at start)
    tls = {"verify": httpx.create_ssl_context()}
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        Application.builder()
        .token(settings.token())
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .request(HTTPXRequest(connection_pool_size=256, httpx_kwargs=tls))
        .get_updates_request(HTTPXRequest(connection_pool_size=1, httpx_kwargs=tls))
        .concurrent_updates(False)
        .post_init(post_init)
    )
    if settings.rate_limit > 0:
        builder = builder.rate_limiter(JournalRateLimiter(settings.rate_limit, pace=pace))
    if own_intake:
        builder = builder.updater(None)
    app = builder.build()
    app.bot_data[KEY] = svc
    svc.acks = Acks(app.bot, pace=pace, tls=tls["verify"], own_wire=settings.reactions_via == "own")
    svc.writer = NoteWriter(lambda: svc.notes)
    register(app)
    return app


def register(app: App) -> None:
    """Every handler, in the order they are tried."""
    app.add_handler(TypeHandler(Update, access.gatekeeper), group=-1)
    cmd = [
        ("start", commands.start),
        ("help", commands.help_),
        ("today", commands.today),
        ("day", commands.day),
        ("undo", commands.undo),
        ("done", commands.done),
        ("tz", commands.tz),
        ("settings", commands.settings_),
    ]
    for name, callback in cmd:
        app.add_handler(CommandHandler(name, callback, filters=PRIVATE_NEW))
    export.register(app)
    search.register(app)
    lookback.register(app)
    paging.register(app, {search.SEARCH: search.page, lookback.TAG: lookback.tag_page})
    todos.register(app)
    imports.register(app)
    reminders.register(app)
    kept = (filters.TEXT & ~filters.COMMAND) | IMAGES | FILES | OTHER_KINDS
    app.add_handler(MessageHandler(PRIVATE_NEW & (kept | PLACES), notes.capture))
    app.add_handler(MessageHandler(PRIVATE_EDIT & kept, notes.capture))
    app.add_handler(
        MessageHandler(
            PRIVATE_NEW & ~filters.COMMAND & ~filters.StatusUpdate.ALL, notes.unsupported
        )
    )
    # a button no handler above claims (old or garbage data) is still answered: it stops spinning
    app.add_handler(CallbackQueryHandler(answer_only))
    app.add_error_handler(errors.on_error)


async def answer_only(update: Update, context: object) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer()

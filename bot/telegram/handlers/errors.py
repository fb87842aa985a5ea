"""The last resort: a one-line apology in the chat, the full trace in the log."""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import texts
from bot.telegram.services import Context, services
from storage.engine import is_transient

log = logging.getLogger(__name__)
_STALE_EDITS = ("message is not modified", "message can't be edited", "message to edit not found")


async def on_error(update: object, context: Context) -> None:
    if isinstance(context.error, BadRequest) and any(
        benign in str(context.error).lower() for benign in _STALE_EDITS
    ):
        # a second tap on a button whose message already says so, or a button under a
        # message too old (48 h) or gone: the action itself was done, only the edit was not
        log.debug("edit skipped: %s", context.error)
        return
    intake = services(context).intake
    if (
        intake is not None
        and context.error is not None
        and is_transient(context.error)
        and isinstance(update, Update)
    ):
        # not lost: the update stays in the inbox and is handled again when the database is back
        # (the intake logs the outage once, not at every retry)
        if intake.retry_later(update.update_id, context.error) and update.effective_chat:
            with contextlib.suppress(TelegramError):
                await context.bot.send_message(update.effective_chat.id, texts.DB_AWAY)
        return
    log.error("handler failed", exc_info=context.error)
    if isinstance(context.error, Forbidden):
        return
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, texts.ERROR)
        except TelegramError:
            log.warning("could not send the apology", exc_info=True)

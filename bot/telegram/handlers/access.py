"""Who gets through: private chats of allowed users only; the bot leaves groups."""

from __future__ import annotations

import logging

from telegram import Chat, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot import texts
from bot.telegram.services import Context, services

log = logging.getLogger(__name__)


async def gatekeeper(update: Update, context: Context) -> None:
    """Runs before every other handler; stops updates that must not be stored."""
    chat = update.effective_chat
    if chat is None:
        return
    if chat.type != Chat.PRIVATE:
        await _leave(update, context, chat)
        raise ApplicationHandlerStop
    user = update.effective_user
    if user is None:
        raise ApplicationHandlerStop
    allowed = services(context).settings.allowed_user_ids
    if allowed.allows(user.id):
        return
    log.info("ignored an update from a user who is not allowed (id %s)", user.id)
    if update.message is not None:
        await update.message.reply_text(texts.STRANGER.format(user_id=user.id))
    raise ApplicationHandlerStop


async def _leave(update: Update, context: Context, chat: Chat) -> None:
    member = update.my_chat_member
    if member is not None and member.new_chat_member.status in {"left", "kicked"}:
        return  # already out
    try:
        if update.message is not None or member is not None:
            await context.bot.send_message(chat.id, texts.GROUP_LEAVE)
        await context.bot.leave_chat(chat.id)
    except TelegramError as exc:
        log.info("could not leave chat %s: %s", chat.id, exc)

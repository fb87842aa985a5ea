"""Who gets through: private chats of allowed users only; the bot leaves groups."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Coroutine
from datetime import date
from typing import Any

from telegram import Chat, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot import texts
from bot.telegram.services import Context, services

log = logging.getLogger(__name__)

STRANGERS_KEY = "rizhilu.strangers"
STRANGERS_REMEMBERED = 10_000  # (user, day) pairs: bounded, so a flood cannot grow it forever


class StrangerReplies:
    """Which strangers were told today: one reply per stranger per day, in a bounded memory."""

    def __init__(self, cap: int = STRANGERS_REMEMBERED) -> None:
        self.cap = cap
        self._told: OrderedDict[tuple[int, date], None] = OrderedDict()

    def first_today(self, user_id: int, day: date) -> bool:
        """True the first time this user is seen on this day (then remembered)."""
        key = (user_id, day)
        if key in self._told:
            return False
        self._told[key] = None
        while len(self._told) > self.cap:
            self._told.popitem(last=False)
        return True


def _background(context: Context, coro: Coroutine[Any, Any, Any], what: str) -> None:
    """Run a reply without holding the update queue: a stranger must not slow the owner."""

    async def guarded() -> None:
        try:
            await coro
        except TelegramError as exc:
            log.info("could not %s: %s", what, exc)
        except Exception:
            log.exception("could not %s", what)

    context.application.create_task(guarded(), name=what)


async def gatekeeper(update: Update, context: Context) -> None:
    """Runs before every other handler; stops updates that must not be stored."""
    chat = update.effective_chat
    user = update.effective_user
    query = update.callback_query
    if chat is not None and chat.type != Chat.PRIVATE:
        if query is not None:
            _background(context, query.answer(), "answer a button in a group")
        await _leave(update, context, chat)
        raise ApplicationHandlerStop
    if user is None:
        raise ApplicationHandlerStop
    svc = services(context)
    if not svc.settings.allowed_user_ids.allows(user.id):
        log.info("ignored an update from a user who is not allowed (id %s)", user.id)
        if query is not None:
            _background(context, query.answer(), "answer a stranger's button")
        strangers = context.application.bot_data.setdefault(STRANGERS_KEY, StrangerReplies())
        if chat is not None and strangers.first_today(user.id, svc.clock.now().date()):
            reply = context.bot.send_message(chat.id, texts.STRANGER.format(user_id=user.id))
            _background(context, reply, "tell a stranger this bot is private")
        raise ApplicationHandlerStop
    if chat is None or chat.id != user.id:
        # a button under an inline message or a message we cannot see, or someone else's chat:
        # nothing of the journal may act on it
        log.info("ignored an update without the sender's own chat (user %s)", user.id)
        if query is not None:
            _background(context, query.answer(), "answer a button without its chat")
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

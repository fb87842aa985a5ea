"""What every handler needs first: the message, the services and its sender as a journal user."""

from __future__ import annotations

import re

from telegram import Message, Update

from bot.telegram.scheduling import schedule_user
from bot.telegram.services import Context, Services, db, services
from storage.users import UserInfo

# what a button's number may be: ASCII digits only (str.isdigit() accepts '²', which int()
# refuses) and at most 18 of them (a longer one overflows a 64-bit column)
BUTTON_NUMBER = re.compile(r"[0-9]{1,18}")


def button_number(text: str) -> int | None:
    """The number a button's data carries, or None when it is not strictly one."""
    return int(text) if BUTTON_NUMBER.fullmatch(text) else None


async def user_of(svc: Services, message: Message) -> UserInfo:
    """The sender as a journal user, created with the defaults on first contact.

    Writing to the bot also (re)arms their reminder after a block.
    """
    sender = message.from_user
    assert sender is not None
    return await journal_user(svc, sender.id, message.chat_id, sender.full_name)


async def journal_user(svc: Services, user_id: int, chat_id: int, full_name: str) -> UserInfo:
    """user_of from the sender's id, chat and name (the short way has no PTB Message)."""
    reminder = svc.settings.reminder_time
    # most updates come from a user read moments ago: no trip to a database thread
    user = svc.users.known(user_id, chat_id)
    if user is None:
        user = await db(
            svc.users.ensure,
            user_id,
            chat_id,
            full_name,
            svc.settings.timezone,
            reminder.strftime("%H:%M") if reminder else None,
        )
    if svc.app is not None:
        schedule_user(svc.app, svc, user)
    return user


async def sender(update: Update, context: Context) -> tuple[Message, Services, UserInfo]:
    """The message a command came in, the services, and its sender as a journal user."""
    message = update.effective_message
    assert message is not None
    svc = services(context)
    return message, svc, await user_of(svc, message)

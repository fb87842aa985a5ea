"""Capture: new messages, edits and photos become bullets in the day's entry."""

from __future__ import annotations

import logging
from datetime import date

from telegram import Message, ReactionTypeEmoji, Update
from telegram.error import TelegramError

from bot import texts
from bot.core.capture import BadBackdate, find_backdate, message_notes, photo_notes, strip_prefix
from bot.core.days import journal_day, zone
from bot.core.entities import Entity
from bot.core.notes import NoteDraft
from bot.telegram.convert import entities
from bot.telegram.handlers.common import user_of
from bot.telegram.media import TooBig, save_image
from bot.telegram.services import Context, Services, db, services
from storage.journal import MessageRef

log = logging.getLogger(__name__)
ACK = "✍"


async def _drafts(
    context: Context, svc: Services, message: Message, text: str, ents: list[Entity], day: date
) -> list[NoteDraft]:
    drafts = message_notes(text, ents) if text.strip() else []
    if message.photo or message.document:
        rel = await save_image(context.bot, message, svc.settings.media_dir, day)
        drafts = photo_notes(svc.settings.media_url + rel, drafts)
    return drafts


async def capture(update: Update, context: Context) -> None:
    """A new message or an edit: store it, then acknowledge with a reaction."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    edited = update.edited_message is not None
    svc = services(context)
    user = await user_of(svc, message)
    tz = zone(user.timezone)
    sent_day = journal_day(message.date, tz, svc.settings.day_starts_at)
    text = message.text or message.caption or ""
    ents = entities(message.entities or message.caption_entities)
    day = sent_day
    try:
        backdate = find_backdate(text, sent_day)
    except BadBackdate as exc:
        if not edited:
            await message.reply_text(texts.BAD_BACKDATE.format(prefix=exc.args[0]))
        return
    if backdate is not None:
        if backdate.day > sent_day:
            if not edited:
                await message.reply_text(texts.FUTURE_BACKDATE.format(day=backdate.day))
            return
        day = backdate.day
        text, ents = strip_prefix(text, ents, backdate)
    try:
        drafts = await _drafts(context, svc, message, text, ents, day)
    except TooBig:
        await message.reply_text(texts.TOO_BIG)
        return
    if not drafts:
        if not edited:
            await message.reply_text(texts.EMPTY)
        return
    ref = MessageRef(
        user_id=user.id,
        chat_id=message.chat_id,
        message_id=message.message_id,
        at=message.edit_date if edited and message.edit_date else message.date,
    )
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    if edited:
        result = await db(svc.journal.edit_message, ref, drafts, day, reply_to)
    else:
        album = message.media_group_id
        result = await db(svc.journal.add_message, ref, day, drafts, reply_to, album)
    log.debug("message %s/%s: %s", message.chat_id, message.message_id, result.status)
    if result.status in {"stored", "created", "duplicate"}:
        await acknowledge(message)


async def acknowledge(message: Message) -> None:
    """React on the message; quietly skip chats where reactions are off."""
    try:
        await message.set_reaction(ReactionTypeEmoji(ACK))
    except TelegramError as exc:
        log.debug("reaction not set: %s", exc)


async def unsupported(update: Update, context: Context) -> None:
    """Stickers, voice, locations…: say so politely, store nothing."""
    if update.message is not None:
        await update.message.reply_text(texts.UNSUPPORTED)

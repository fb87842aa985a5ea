"""Capture: new messages, edits and photos become bullets in the day's entry."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from telegram import Message, Update

from bot import texts
from bot.core.capture import MAX_DOWNLOAD, Image, MessageFacts, Prefs, Refusal, plan
from bot.telegram.convert import entities
from bot.telegram.handlers.common import user_of
from bot.telegram.media import fetch, place, sniff
from bot.telegram.services import Context, acks, db, services
from storage.notes import MessageRef

log = logging.getLogger(__name__)


def _image(message: Message) -> Image | None:
    if message.photo:
        item = message.photo[-1]  # the largest size
        return Image(item.file_id, item.file_unique_id, item.file_size)
    doc = message.document
    if doc is not None:
        return Image(
            doc.file_id,
            doc.file_unique_id,
            doc.file_size,
            document=True,
            file_name=doc.file_name,
            mime_type=doc.mime_type,
        )
    return None


def facts_of(message: Message, edit: bool) -> MessageFacts:
    """The plain facts capture plans from."""
    return MessageFacts(
        sent_at=message.date,
        text=message.text or message.caption or "",
        entities=tuple(entities(message.entities or message.caption_entities)),
        edit=edit,
        edited_at=message.edit_date,
        image=_image(message),
        reply_to=message.reply_to_message.message_id if message.reply_to_message else None,
        album=message.media_group_id,
    )


def refusal_text(refusal: Refusal) -> str:
    """What the user is told when a message is not stored."""
    if refusal.reason == "bad_backdate":
        return texts.BAD_BACKDATE.format(prefix=refusal.prefix)
    if refusal.reason == "future":
        return texts.FUTURE_BACKDATE.format(day=refusal.day)
    if refusal.reason == "too_big":
        return texts.TOO_BIG
    return texts.EMPTY


async def capture(update: Update, context: Context) -> None:
    """A new message or an edit: store it, then acknowledge with a reaction.

    The reaction goes out in the background once the note is committed: the next
    update does not wait for it (nor for the rate limiter's queue).
    """
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    svc = services(context)
    user = await user_of(svc, message)
    prefs = Prefs(user.timezone, svc.settings.day_starts_at, svc.settings.media_url)
    facts = facts_of(message, edit=update.edited_message is not None)
    fetched: Path | None = None
    try:
        image = facts.image
        if image is not None and (image.size is None or image.size <= MAX_DOWNLOAD):
            fetched = await fetch(context.bot, image.file_id, svc.settings.media_dir)
            extension = sniff(fetched)
            if extension is None:
                await message.reply_text(texts.NOT_AN_IMAGE)
                return
            facts = replace(facts, image=replace(image, extension=extension))
        outcome = plan(facts, prefs)
        if isinstance(outcome, Refusal):
            if not outcome.quiet:
                await message.reply_text(refusal_text(outcome))
            return
        if outcome.download is not None and fetched is not None:
            place(fetched, svc.settings.media_dir / outcome.download.path)
            fetched = None
    finally:
        if fetched is not None:
            fetched.unlink(missing_ok=True)
    ref = MessageRef(
        user_id=user.id, chat_id=message.chat_id, message_id=message.message_id, at=outcome.at
    )
    if outcome.edit:
        result = await db(
            svc.notes.edit_message, ref, outcome.drafts, outcome.day, outcome.reply_to
        )
    else:
        result = await db(
            svc.notes.add_message,
            ref,
            outcome.day,
            outcome.drafts,
            outcome.reply_to,
            outcome.album,
        )
    log.debug("message %s/%s: %s", message.chat_id, message.message_id, result.status)
    if result.status in {"stored", "created", "duplicate"}:
        acks(svc).react(message.chat_id, message.message_id)


async def unsupported(update: Update, context: Context) -> None:
    """Stickers, voice, locations…: say so politely, store nothing."""
    if update.message is not None:
        await update.message.reply_text(texts.UNSUPPORTED)

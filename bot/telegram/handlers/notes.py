"""Capture: new messages, edits, photos, files and every other kind become bullets."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot import texts
from bot.core.capture import (
    MAX_DOWNLOAD,
    Capture,
    Image,
    MessageFacts,
    Prefs,
    Refusal,
    plan,
)
from bot.core.entities import Entity
from bot.core.kinds import media_paths
from bot.telegram.convert import entities, extra_of, file_of, origin_of
from bot.telegram.handlers.common import journal_user, user_of
from bot.telegram.media import fetch, place, sniff, sniff_file, used_bytes
from bot.telegram.services import Context, Services, acks, db, services, writer
from storage.notes import MessageRef, NewMessage, Stored

log = logging.getLogger(__name__)


def _image(message: Message) -> Image | None:
    if message.photo:
        item = message.photo[-1]  # the largest size
        return Image(item.file_id, item.file_unique_id, item.file_size)
    doc = message.document
    if doc is not None and (doc.mime_type or "").startswith("image/"):
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
        file=file_of(message),
        extra=extra_of(message),
        origin=origin_of(message),
    )


def refusal_text(refusal: Refusal) -> str:
    """What the user is told when a message is not stored."""
    if refusal.reason == "bad_backdate":
        return texts.BAD_BACKDATE.format(prefix=refusal.prefix)
    if refusal.reason == "future":
        return texts.FUTURE_BACKDATE.format(day=refusal.day)
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
    fetched: dict[str, Path] = {}  # file_id → its download, until placed
    quota_full = False
    try:
        try:
            judged = await _fetch(context.bot, svc.settings.media_dir, facts, fetched)
        except TelegramError as exc:
            # its file_path (with the token) is never logged: the error's type only
            log.warning(
                "message %s/%s: a file could not be downloaded (%s)",
                message.chat_id,
                message.message_id,
                type(exc).__name__,
            )
            text_only = replace(facts, image=None, file=None)
            await _without_media(update, user.id, svc, text_only, prefs)
            return
        if judged is None:
            await message.reply_text(texts.NOT_AN_IMAGE)
            return
        outcome = plan(judged, prefs)
        if isinstance(outcome, Refusal):
            if not outcome.quiet:
                await message.reply_text(refusal_text(outcome))
            return
        if svc.settings.media_quota_mb is not None and await _over_quota(
            svc, user.id, outcome, fetched, svc.settings.media_quota_mb
        ):
            quota_full = True
            outcome = plan(replace(judged, over_quota=True), prefs)
            assert not isinstance(outcome, Refusal)  # the same message, fewer files
        for download in (outcome.download, outcome.file_download, outcome.thumb_download):
            if download is not None and download.file_id in fetched:
                place(fetched.pop(download.file_id), svc.settings.media_dir / download.path)
    finally:
        for partial in fetched.values():
            partial.unlink(missing_ok=True)
    ref = MessageRef(
        user_id=user.id, chat_id=message.chat_id, message_id=message.message_id, at=outcome.at
    )
    result = await _keep(svc, ref, outcome, update.update_id)
    if quota_full and result.status in {"stored", "created", "updated"}:
        await message.reply_text(texts.QUOTA_FULL.format(quota=svc.settings.media_quota_mb))


@dataclass(frozen=True)
class PlainText:
    """A new text message in its sender's private chat, read from the raw update
    (bot/telegram/shortcut.py): what capture would read of PTB's objects."""

    update_id: int
    user_id: int  # the chat's id too
    message_id: int
    sent_at: datetime
    text: str
    entities: tuple[Entity, ...]
    full_name: str


async def capture_plain(svc: Services, note: PlainText) -> bool:
    """capture() for a plain text message, without PTB's objects; False (with nothing
    done but the user's row) when it is refused: the reply goes PTB's way."""
    user = await journal_user(svc, note.user_id, note.user_id, note.full_name)
    prefs = Prefs(user.timezone, svc.settings.day_starts_at, svc.settings.media_url)
    # no image and no file: nothing to fetch, nothing to count against the quota
    facts = MessageFacts(sent_at=note.sent_at, text=note.text, entities=note.entities)
    outcome = plan(facts, prefs)
    if isinstance(outcome, Refusal):
        return False
    ref = MessageRef(user.id, note.user_id, note.message_id, outcome.at)
    await _keep(svc, ref, outcome, note.update_id)
    return True


async def _keep(svc: Services, ref: MessageRef, outcome: Capture, update_id: int) -> Stored:
    """Store the message's notes and acknowledge them once committed."""
    result = await _store(svc, ref, outcome)
    intake = svc.intake
    if result.status == "duplicate" and intake is not None and intake.retrying(update_id):
        # its text was stored by a try whose download failed: now the whole message,
        # unless an edit came since (that edit fetched its own files)
        result = await db(svc.notes.edit_message, ref, outcome.drafts, outcome.day)
    log.debug("message %s/%s: %s", ref.chat_id, ref.message_id, result.status)
    if result.status in {"stored", "created", "duplicate"}:
        acks(svc).react(ref.chat_id, ref.message_id)
    return result


async def _store(svc: Services, ref: MessageRef, outcome: Capture) -> Stored:
    """A new message's notes added (committed with the other notes arriving meanwhile), or
    an edit's put in place of the earlier version."""
    if outcome.edit:
        return await db(svc.notes.edit_message, ref, outcome.drafts, outcome.day, outcome.reply_to)
    return await writer(svc).add(
        NewMessage(ref, outcome.day, outcome.drafts, outcome.reply_to, outcome.album)
    )


async def _without_media(
    update: Update, user_id: int, svc: Services, facts: MessageFacts, prefs: Prefs
) -> None:
    """A file could not be downloaded: a new message's text is stored now, and the update
    waits in the inbox for another try (an edit waits whole); the user is told once."""
    message = update.effective_message
    assert message is not None
    intake = svc.intake
    stored = False
    if not facts.edit:
        outcome = plan(facts, prefs)
        if isinstance(outcome, Refusal) and outcome.reason != "empty":
            await message.reply_text(refusal_text(outcome))  # the file would be refused too
            return
        if not isinstance(outcome, Refusal):
            ref = MessageRef(user_id, message.chat_id, message.message_id, outcome.at)
            await _store(svc, ref, outcome)
            acks(svc).react(message.chat_id, message.message_id)
            stored = True
    if intake is None:
        await message.reply_text(texts.MEDIA_FAILED)  # the stock intake cannot keep it
    elif intake.media_later(update.update_id):
        told = texts.MEDIA_EDIT_LATER if facts.edit else texts.MEDIA_LATER
        await message.reply_text(texts.MEDIA_LATER_TEXT if stored else told)


async def _fetch(
    bot: ExtBot[None], media_dir: Path, facts: MessageFacts, fetched: dict[str, Path]
) -> MessageFacts | None:
    """Download the message's photo, file and thumbnail (not those over the download limit)
    and judge each by its bytes; None when an image is not one."""
    image, file = facts.image, facts.file
    if image is not None and (image.size is None or image.size <= MAX_DOWNLOAD):
        fetched[image.file_id] = await fetch(bot, image.file_id, media_dir)
        extension = sniff(fetched[image.file_id])
        if extension is None:
            return None
        facts = replace(facts, image=replace(image, extension=extension))
    if file is None:
        return facts
    if not file.too_large:
        fetched[file.file_id] = await fetch(bot, file.file_id, media_dir)
        file = replace(file, extension=sniff_file(fetched[file.file_id], file.file_name))
    thumb = file.thumbnail
    if thumb is not None and (thumb.size is None or thumb.size <= MAX_DOWNLOAD):
        fetched[thumb.file_id] = await fetch(bot, thumb.file_id, media_dir)
        # a preview that is no picture is left out, the file is still kept
        file = replace(file, thumbnail=replace(thumb, extension=sniff(fetched[thumb.file_id])))
    return replace(facts, file=file)


async def _over_quota(
    svc: Services, user_id: int, outcome: Capture, fetched: dict[str, Path], quota_mb: int
) -> bool:
    """Whether placing this message's new files would take the user past MEDIA_QUOTA_MB
    (a file already in place, e.g. from a redelivery, adds nothing)."""
    media_dir = svc.settings.media_dir
    new = 0
    for download in (outcome.download, outcome.file_download, outcome.thumb_download):
        in_hand = download is not None and download.file_id in fetched
        if in_hand and download is not None and not (media_dir / download.path).exists():
            new += fetched[download.file_id].stat().st_size
    if new == 0:
        return False
    texts_ = await db(svc.reader.linked_media, user_id, svc.settings.media_url)
    used = await asyncio.to_thread(
        used_bytes, media_dir, media_paths(texts_, svc.settings.media_url)
    )
    return used + new > quota_mb * 1024 * 1024


async def unsupported(update: Update, context: Context) -> None:
    """Games, invoices, stories…: say so politely, store nothing."""
    if update.message is not None:
        await update.message.reply_text(texts.UNSUPPORTED)

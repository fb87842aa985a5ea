"""A markdown journal sent as a file: a preview with its problems, then import on a button."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackQueryHandler, ExtBot, MessageHandler, filters

if TYPE_CHECKING:
    from bot.core.journal_doc import ParsedJournal

from bot import texts
from bot.core.capture import MAX_DOWNLOAD
from bot.telegram.handlers.common import sender
from bot.telegram.services import App, Context, Services, db, services

log = logging.getLogger(__name__)
KIND = "import"
SHOWN_ANOMALIES = 15
JOURNAL_FILES = (
    filters.Document.FileExtension("md")
    | filters.Document.FileExtension("markdown")
    | filters.Document.FileExtension("txt")
)


def register(app: App) -> None:
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & JOURNAL_FILES, offer))
    app.add_handler(CallbackQueryHandler(decide, pattern=r"^im:"))


async def _read(bot: ExtBot[None], file_id: str) -> str | None:
    tg_file = await bot.get_file(file_id)  # its file_path embeds the token: never log it
    data = await tg_file.download_as_bytearray()
    try:
        return bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


async def _parse(svc: Services, text: str, fix: bool = False) -> ParsedJournal | None:
    """The file parsed in a bounded worker process; None when it was refused (and why, logged).

    A hostile file must not hold the event loop (or the GIL) for everyone: see bot.worker.
    """
    from bot.worker import Refused, parse_journal_file  # only when a file comes

    try:
        return await asyncio.to_thread(parse_journal_file, text, svc.parse_limits, fix=fix)
    except Refused as exc:
        log.warning("a journal file of %s characters was refused: out of %s", len(text), exc)
        return None


async def offer(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    doc = message.document
    assert doc is not None
    name = doc.file_name or texts.THE_FILE
    if doc.file_size is not None and doc.file_size > MAX_DOWNLOAD:
        await message.reply_text(texts.TOO_BIG)
        return
    text = await _read(context.bot, doc.file_id)
    if text is None:
        await message.reply_text(texts.IMPORT_NOT_TEXT.format(name=name))
        return
    parsed = await _parse(svc, text)
    if parsed is None:
        await message.reply_text(texts.IMPORT_REFUSED.format(name=name))
        return
    if not parsed.days:
        await message.reply_text(texts.IMPORT_NOT_JOURNAL.format(name=name))
        return
    from storage import bulk_import

    now = svc.clock.now()
    report = await db(
        bulk_import.import_journal, svc.engine, user.id, parsed, now, user.timezone, dry_run=True
    )
    lines = [
        texts.IMPORT_PREVIEW.format(
            name=name, days=report.days, notes=report.notes, new_notes=report.new_notes,
        )
    ]  # fmt: skip
    if report.anomalies:
        lines += ["", texts.IMPORT_CHECK.format(count=len(report.anomalies))]
        lines += [a[:300] for a in report.anomalies[:SHOWN_ANOMALIES]]
        if len(report.anomalies) > SHOWN_ANOMALIES:
            lines.append(
                texts.IMPORT_CHECK_MORE.format(more=len(report.anomalies) - SHOWN_ANOMALIES)
            )
    fixes = sum(1 for a in parsed.anomalies if a.fix is not None)
    row = [InlineKeyboardButton(texts.IMPORT_GO, callback_data="im:go")]
    if fixes:
        row.append(
            InlineKeyboardButton(texts.IMPORT_GO_FIXED.format(count=fixes), callback_data="im:fix")
        )
    markup = InlineKeyboardMarkup(
        [row, [InlineKeyboardButton(texts.IMPORT_CANCEL, callback_data="im:no")]]
    )
    preview = await message.reply_text("\n".join(lines)[:4000], reply_markup=markup)
    # the buttons carry no file id (64 bytes is too short): the preview message remembers it
    await db(
        svc.actions.remember, preview.chat_id, preview.message_id, KIND, f"{doc.file_id}\n{name}"
    )


async def decide(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    svc = services(context)
    preview = query.message
    if not isinstance(preview, Message) or query.data not in {"im:go", "im:fix", "im:no"}:
        await query.answer()
        return
    if query.from_user.id != preview.chat_id:
        # the file was offered to that chat's owner: nobody else imports it (into their journal)
        await query.answer()
        return
    pending = await db(svc.actions.recall, preview.chat_id, preview.message_id, KIND)
    if pending is None:
        await query.answer(texts.IMPORT_EXPIRED)
        return
    file_id, _, name = pending.partition("\n")
    if query.data == "im:no":
        await db(svc.actions.remember, preview.chat_id, preview.message_id, "import-closed", "")
        await query.answer()
        await query.edit_message_text(texts.IMPORT_CANCELLED)
        return
    await query.answer(texts.IMPORT_WORKING)
    await _import(context, svc, query.from_user.id, file_id, name, query.data == "im:fix", preview)
    # closed only once imported: a crash before this replays the press, and the import is
    # idempotent, so the replay finishes the job instead of saying "no longer pending"
    await db(svc.actions.remember, preview.chat_id, preview.message_id, "import-closed", "")


async def _import(
    context: Context,
    svc: Services,
    user_id: int,
    file_id: str,
    name: str,
    fix: bool,
    preview: Message,
) -> None:
    text = await _read(context.bot, file_id)
    if text is None:
        await preview.edit_text(texts.IMPORT_NOT_TEXT.format(name=name))
        return
    parsed = await _parse(svc, text, fix)
    if parsed is None:
        await preview.edit_text(texts.IMPORT_REFUSED.format(name=name))
        return
    from storage import bulk_import

    user = await db(svc.users.get, user_id)
    tz = user.timezone if user else svc.settings.timezone
    report = await db(bulk_import.import_journal, svc.engine, user_id, parsed, svc.clock.now(), tz)
    moved = texts.IMPORT_MOVED.format(moved=report.moved_notes) if report.moved_notes else ""
    log.info("user %s imported %s new notes", user_id, report.new_notes)
    await preview.edit_text(
        texts.IMPORT_DONE.format(
            name=name, new_days=report.new_days, new_notes=report.new_notes, moved=moved
        )
    )

"""A markdown journal sent as a file: a preview with its problems, then import on a button."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, ExtBot, MessageHandler, filters

if TYPE_CHECKING:
    from bot.worker import ImportOutcome

from bot import texts
from bot.core.capture import MAX_DOWNLOAD
from bot.telegram.handlers import notes
from bot.telegram.handlers.common import sender
from bot.telegram.services import App, Context, Services, db, services

log = logging.getLogger(__name__)
KIND = "import"
SHOWN_ANOMALIES = 15
PROGRESS_MIN = 5000  # notes: a smaller file is stored before progress would be worth showing
PROGRESS_EVERY = 2.0  # seconds between progress edits
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


async def _run(
    svc: Services,
    text: str,
    user_id: int,
    timezone: str,
    *,
    fix: bool = False,
    dry_run: bool,
    progress: Callable[[int, int], None] | None = None,
) -> ImportOutcome | None:
    """The file parsed and previewed (dry_run) or imported, all in a bounded worker process;
    None when it was refused (and why, logged).

    A hostile file must not hold the event loop (or the GIL) for everyone, and neither must
    the Python that stores 100,000 notes: see bot.worker.
    """
    from bot.worker import ImportJob, Refused, import_journal_file  # only when a file comes

    job = ImportJob(
        text, fix, svc.settings.database_url, user_id, svc.clock.now(), timezone, dry_run,
        turn=svc.import_turn,
    )  # fmt: skip
    try:
        return await asyncio.to_thread(import_journal_file, job, svc.parse_limits, progress)
    except Refused as exc:
        log.warning("a journal file of %s characters was refused: out of %s", len(text), exc)
        return None


class _Progress:
    """Edits the preview into "Importing …: N of M notes stored" while a big file is stored:
    at most every PROGRESS_EVERY seconds, and only for files of PROGRESS_MIN notes or more."""

    def __init__(self, preview: Message, name: str) -> None:
        self._preview = preview
        self._name = name
        self._loop = asyncio.get_running_loop()
        self._last: float | None = None
        self._edit: asyncio.Task[None] | None = None

    def heard(self, done: int, total: int) -> None:
        """From the worker's thread: progress after a batch."""
        self._loop.call_soon_threadsafe(self._show, done, total)

    def _show(self, done: int, total: int) -> None:
        now = self._loop.time()
        if total < PROGRESS_MIN or done >= total:
            return
        if self._last is not None and now - self._last < PROGRESS_EVERY:
            return
        if self._edit is not None and not self._edit.done():
            return  # the previous edit is still on its way
        self._last = now
        text = texts.IMPORT_PROGRESS.format(name=self._name, done=done, total=total)
        self._edit = asyncio.create_task(self._send(text))

    async def _send(self, text: str) -> None:
        try:
            await self._preview.edit_text(text)
        except TelegramError as exc:  # progress is a courtesy: the import goes on
            log.info("import progress not shown: %s", exc)

    async def finished(self) -> None:
        """Wait for an edit on its way, so that the last word is the result."""
        if self._edit is not None:
            await self._edit


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
        await _keep_as_file(update, context, texts.IMPORT_NOT_TEXT_KEPT.format(name=name))
        return
    outcome = await _run(svc, text, user.id, user.timezone, dry_run=True)
    if outcome is None:
        await message.reply_text(texts.IMPORT_REFUSED.format(name=name))
        return
    report = outcome.report
    if report is None:
        await _keep_as_file(update, context, texts.IMPORT_NOT_JOURNAL_KEPT.format(name=name))
        return
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
    fixes = outcome.fixes
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


async def _keep_as_file(update: Update, context: Context, why: str) -> None:
    """A .md or .txt that is no journal is kept as any other document is (nothing a user
    sends is dropped), and the user is told why it was not imported."""
    await notes.capture(update, context)
    assert update.effective_message is not None
    await update.effective_message.reply_text(why)


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
    user = await db(svc.users.get, user_id)
    tz = user.timezone if user else svc.settings.timezone
    progress = _Progress(preview, name)
    try:
        outcome = await _run(
            svc, text, user_id, tz, fix=fix, dry_run=False, progress=progress.heard
        )
    finally:
        await progress.finished()
    if outcome is None:
        await preview.edit_text(texts.IMPORT_REFUSED.format(name=name))
        return
    report = outcome.report
    if report is None:  # the preview found days: only a changed file gets here
        await preview.edit_text(texts.IMPORT_NOT_JOURNAL.format(name=name))
        return
    moved = texts.IMPORT_MOVED.format(moved=report.moved_notes) if report.moved_notes else ""
    log.info("user %s imported %s new notes", user_id, report.new_notes)
    await preview.edit_text(
        texts.IMPORT_DONE.format(
            name=name, new_days=report.new_days, new_notes=report.new_notes, moved=moved
        )
    )

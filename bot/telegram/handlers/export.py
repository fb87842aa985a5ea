"""/export: the journal (or a period of it) as a document, the same bytes as `rizhilu export`."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot import texts
from bot.core.export import Format, Order, Split
from bot.core.notes import MAX_DEPTH
from bot.core.periods import parse_period
from bot.telegram.handlers.common import sender
from bot.telegram.services import App, Context, db

if TYPE_CHECKING:  # the export code is imported at the first /export, not at start
    from bot.exporting import ExportRequest

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.add_handler(CommandHandler("export", export, filters=filters.UpdateType.MESSAGE))


_FORMATS: dict[str, Format] = {"jekyll": "jekyll", "plain": "plain", "obsidian": "obsidian"}
_SPLITS: dict[str, Split] = {"daily": "day", "weekly": "week", "monthly": "month"}
_ORDERS: dict[str, Order] = {"newest": "newest", "oldest": "oldest"}


class BadPeriod(ValueError):
    """The words left after the shape words are not a period."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def parse_request(user_id: int, words: list[str]) -> tuple[ExportRequest, str]:
    """`/export 2021-03 plain oldest`, `/export monthly`, `/export obsidian`: any order.

    Returns the request and the period's label for the file name; BadPeriod otherwise.
    """
    from bot.exporting import ExportRequest

    fmt: Format = "jekyll"
    split: Split = "none"
    order: Order = "newest"
    period: list[str] = []
    for word in words:
        w = word.lower()
        if w in _FORMATS:
            fmt = _FORMATS[w]
        elif w in _SPLITS:
            split = _SPLITS[w]
        elif w in _ORDERS:
            order = _ORDERS[w]
        else:
            period.append(word)
    text = " ".join(period)
    try:
        start, end, label = parse_period(text)
    except ValueError:
        raise BadPeriod(text) from None
    return ExportRequest(user_id, start, end, order=order, split=split, format=fmt), label


def file_name(request: ExportRequest, label: str, media: bool = False) -> str:
    if not request.many_files:
        return f"rizhilu-{label}.zip" if media else f"rizhilu-{label}.md"
    kind = "obsidian" if request.format == "obsidian" else f"posts-by-{request.split}"
    return f"rizhilu-{label}-{kind}.zip"


def bundle(request: ExportRequest, label: str, folder: Path) -> tuple[ExportRequest, Path]:
    """The request and target that put the export and its images in `folder`: the markdown
    (or the many files) with the images under `media/`, linked relatively (Obsidian: beside
    the notes), so the zip reads the same wherever it is unpacked."""
    media = replace(request, media_out=folder / MEDIA_FOLDER, media_url=MEDIA_FOLDER)
    if request.many_files:
        return media, folder
    return media, folder / file_name(request, label)


MEDIA_FOLDER = "media"


async def export(update: Update, context: Context) -> None:
    from bot.exporting import (
        ExportResult,
        FrontMatterUnreadable,
        NoJournal,
        write_export,
        zip_folder,
    )

    message, svc, user = await sender(update, context)
    try:
        request, label = parse_request(user.id, list(context.args or []))
    except BadPeriod as exc:
        await message.reply_text(texts.EXPORT_BAD.format(arg=exc.text[:100]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "export"
        wanted, target = bundle(request, label, folder)
        try:
            # off the event loop: a long journal takes a while to read and render
            result = await db(write_export, svc.engine, svc.settings, wanted, target)
        except FrontMatterUnreadable as exc:
            log.error("%s", exc)
            await message.reply_text(texts.EXPORT_FRONT_MATTER)
            return
        except NoJournal:
            result = ExportResult(0, 0)
        if result.days == 0:
            await message.reply_text(texts.EXPORT_EMPTY)
            return
        path = target
        if request.many_files or result.media:  # the markdown with its images: one zip
            path = Path(tmp) / file_name(request, label, media=True)
            await db(zip_folder, folder, path)
        with path.open("rb") as fh:
            await message.reply_document(
                document=fh,
                filename=path.name,
                caption=texts.EXPORT_CAPTION.format(days=result.days),
                do_quote=False,
            )
    if result.too_deep:  # replies nested past what a post can show: written higher up
        await message.reply_text(
            texts.EXPORT_TOO_DEEP.format(count=result.too_deep, depth=MAX_DEPTH), do_quote=False
        )

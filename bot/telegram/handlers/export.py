"""/export: the journal (or a period of it) as a markdown document, like `rizhilu export`."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Literal

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot import texts
from bot.core.days import DayRange
from bot.core.export import ExportOptions, render_document
from bot.core.notes import NoteDraft
from bot.core.periods import parse_period
from bot.export_files import write_daily_notes, write_posts, zip_folder
from bot.telegram.handlers.common import sender
from bot.telegram.services import Context, Services, db
from storage import bulk


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("export", export, filters=filters.UpdateType.MESSAGE))


def _options(svc: Services) -> ExportOptions:
    template = None
    if svc.settings.export_front_matter is not None:
        try:
            template = svc.settings.export_front_matter.read_text(encoding="utf-8")
        except OSError:
            template = None
    return ExportOptions(
        title=svc.settings.export_title,
        author=svc.settings.export_author,
        front_matter_template=template,
        heading_level=svc.settings.export_heading_level,
        date_style=svc.settings.export_date_style,
    )


@dataclass(frozen=True)
class ExportRequest:
    """What /export was asked for: a period and how to shape it."""

    period: str = ""
    format: Literal["jekyll", "plain", "obsidian"] = "jekyll"
    split: Literal["none", "day", "week", "month"] = "none"
    order: Literal["newest", "oldest"] = "newest"


_FORMATS = {"jekyll": "jekyll", "plain": "plain", "obsidian": "obsidian"}
_SPLITS = {"daily": "day", "weekly": "week", "monthly": "month"}
_ORDERS = {"newest": "newest", "oldest": "oldest"}


def parse_request(words: list[str]) -> ExportRequest:
    """`/export 2021-03 plain oldest`, `/export monthly`, `/export obsidian`: any order."""
    found: dict[str, str] = {}
    period: list[str] = []
    for word in words:
        w = word.lower()
        for key, table in (("format", _FORMATS), ("split", _SPLITS), ("order", _ORDERS)):
            if w in table:
                found[key] = table[w]
                break
        else:
            period.append(word)
    return ExportRequest(" ".join(period), **found)  # type: ignore[arg-type]


def write_export(
    svc: Services,
    user_id: int,
    start: date | None,
    end: date | None,
    path: Path,
    request: ExportRequest = ExportRequest(),
) -> int:
    """Write the export to `path` (a .md file, or a .zip of many); returns how many days."""
    meta = bulk.journal_meta(svc.engine, user_id)
    opts = replace(_options(svc), format=request.format, order=request.order)
    title = (meta.title if meta else None) or opts.title
    count = 0

    def days() -> Iterator[tuple[DayRange, list[NoteDraft]]]:
        nonlocal count
        newest = request.order == "newest"
        for item in bulk.iter_days(svc.engine, user_id, start=start, end=end, newest_first=newest):
            count += 1
            yield item

    if request.format == "obsidian" or request.split != "none":
        folder = path.with_suffix("")
        if request.format == "obsidian":
            write_daily_notes(days(), folder, opts)
        else:
            write_posts(days(), folder, opts, request.split, title)
        if count:
            zip_folder(folder, path)
        return count
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for chunk in render_document(
            opts,
            title=title,
            stored_front_matter=meta.front_matter if meta else None,
            newest=meta.newest if meta else None,
            sections=bulk.sections(svc.engine, user_id) if start is None else [],
            days=days(),
        ):
            fh.write(chunk)
    return count


async def export(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    request = parse_request(list(context.args or []))
    try:
        start, end, label = parse_period(request.period)
    except ValueError:
        await message.reply_text(texts.EXPORT_BAD.format(arg=request.period[:100]))
        return
    many = request.format == "obsidian" or request.split != "none"
    kind = "obsidian" if request.format == "obsidian" else f"posts-by-{request.split}"
    name = f"rizhilu-{label}-{kind}.zip" if many else f"rizhilu-{label}.md"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        count = await db(write_export, svc, user.id, start, end, path, request)
        if count == 0:
            await message.reply_text(texts.EXPORT_EMPTY)
            return
        with path.open("rb") as fh:
            await message.reply_document(
                document=fh,
                filename=path.name,
                caption=texts.EXPORT_CAPTION.format(days=count),
                do_quote=False,
            )

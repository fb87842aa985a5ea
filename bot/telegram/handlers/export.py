"""/export: the journal (or a period of it) as a markdown document, like `rizhilu export`."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot import texts
from bot.core.days import DayRange
from bot.core.export import ExportOptions, render_document
from bot.core.markdown import NoteDraft
from bot.core.periods import parse_period
from bot.telegram.handlers.notes import sender
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


def write_export(
    svc: Services, user_id: int, start: date | None, end: date | None, path: Path
) -> int:
    """Write the export to a file; returns how many days it holds."""
    meta = bulk.journal_meta(svc.engine, user_id)
    opts = _options(svc)
    count = 0

    def days() -> Iterator[tuple[DayRange, list[NoteDraft]]]:
        nonlocal count
        for item in bulk.iter_days(svc.engine, user_id, start=start, end=end):
            count += 1
            yield item

    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for chunk in render_document(
            opts,
            title=(meta.title if meta else None) or opts.title,
            stored_front_matter=meta.front_matter if meta else None,
            newest=meta.newest if meta else None,
            sections=bulk.sections(svc.engine, user_id) if start is None else [],
            days=days(),
        ):
            fh.write(chunk)
    return count


async def export(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    arg = " ".join(context.args or [])
    try:
        start, end, label = parse_period(arg)
    except ValueError:
        await message.reply_text(texts.EXPORT_BAD.format(arg=arg[:100]))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"rizhilu-{label}.md"
        count = await db(write_export, svc, user.id, start, end, path)
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

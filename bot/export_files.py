"""Exports that are many files: posts split by day, week or month, and Obsidian daily notes.

Shared by `rizhilu export` and the bot's /export (which zips the folder).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any

from bot.core.days import DayRange, format_date
from bot.core.export import ExportOptions, front_matter, period_of, render_day
from bot.core.render import render_body


def write_daily_notes(
    days: Iterator[tuple[DayRange, list[Any]]], folder: Path, opts: ExportOptions
) -> int:
    """One `2021-04-08.md` per day (Obsidian's daily notes); returns how many."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for span, notes in days:
        body = "\n".join(render_body(notes)) + "\n"
        if not span.is_single:
            body = f"{span.label(opts.date_style)}\n\n{body}"
        (folder / f"{span.start.isoformat()}.md").write_text(body, encoding="utf-8", newline="\n")
        count += 1
    return count


def write_posts(
    days: Iterator[tuple[DayRange, list[Any]]],
    folder: Path,
    opts: ExportOptions,
    split: Any,
    title: str,
) -> int:
    """One Jekyll post per day, week or month (`_posts/2021-04-01-rizhilu-2021-04.md`)."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    current: tuple[date, str] | None = None
    out: IO[str] | None = None
    try:
        for span, notes in days:
            period = period_of(span.start, split)
            if period != current:
                if out is not None:
                    out.close()
                current = period
                start, label = period
                shown = format_date(start, opts.date_style) if split == "day" else label
                post_title = f"{title} {shown}"
                name = f"{start.isoformat()}-rizhilu-{label.lower()}.md"
                out = (folder / name).open("w", encoding="utf-8", newline="\n")
                out.write(front_matter(opts, None, start, post_title))
                out.write(f"\n# {post_title}\n")
                count += 1
            assert out is not None
            out.write("\n" + render_day(span, notes, opts))
    finally:
        if out is not None:
            out.close()
    return count


def zip_folder(folder: Path, target: Path) -> None:
    """Every file under `folder`, sorted, into one zip (paths relative to the folder)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            zf.write(path, path.relative_to(folder).as_posix())

"""One export path for `rizhilu export`, /export and EXPORT_PATH: a request in, markdown out.

What an export holds, whoever asks for it:

* One document (split none, format jekyll or plain): the front matter (jekyll only), the
  title, the named sections (the preamble under the title, TODO, 自省…), then the days.
  Named sections carry no date, so they belong to the whole journal: they are in an export
  with neither a first nor a last day, and never in a period export (`--from`/`--to`,
  `/export 2021`), which holds exactly the days of its period.
* Many files (split day/week/month: one Jekyll post per period; format obsidian: one note
  per day) go to a folder, or into a .zip when the target's name ends in `.zip`. They hold
  days only. Zip entries are sorted by name and stamped 1980-01-01, so the same journal
  gives the same bytes from the CLI and the bot, run after run.
* An EXPORT_FRONT_MATTER template that cannot be read stops the export with
  FrontMatterUnreadable (the CLI exits 2, the bot says so in one line, EXPORT_PATH logs it
  and leaves the post as it was): an export never swaps in the default front matter silently.
* Media: with `media_out` (`--media-out`, EXPORT_MEDIA_DIR, the bot's zip) the files under
  MEDIA_DIR the export links to are copied there and the links point at them
  (bot.export_media); an Obsidian export always puts them beside its notes as `![[…]]`.
"""

from __future__ import annotations

import logging
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

from sqlalchemy import Engine

from bot.core.days import DayRange, format_date
from bot.core.export import (
    ExportOptions,
    Format,
    Order,
    Split,
    front_matter,
    heading,
    period_of,
    render_day,
    render_document,
)
from bot.core.liquid import RAW_CLOSE, RAW_OPEN, escape_raw
from bot.core.notes import MAX_DEPTH, NoteDraft, too_deep
from bot.core.render import render_body
from bot.export_media import MediaCopier, MediaOut
from bot.settings import Settings
from storage import bulk_export

Days = Iterator[tuple[DayRange, list[NoteDraft]]]

# reproducible zips: one fixed timestamp (the earliest a zip can hold) for every entry
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
log = logging.getLogger(__name__)


class ExportError(Exception):
    """The export cannot be made; the message says why, for the CLI's stderr and the log."""


class FrontMatterUnreadable(ExportError):
    """EXPORT_FRONT_MATTER names a file that cannot be read."""


class NoJournal(ExportError):
    """The user has no journal in this database."""


@dataclass(frozen=True)
class ExportRequest:
    """Whose journal, which days (None: open-ended) and in what shape."""

    user_id: int
    start: date | None = None
    end: date | None = None
    order: Order = "newest"
    split: Split = "none"
    format: Format = "jekyll"
    # where the media the export links to are copied (None: links left as stored), and the
    # prefix of the new links (None: EXPORT_MEDIA_URL; "" relative to the markdown)
    media_out: Path | None = None
    media_url: str | None = None

    @property
    def with_sections(self) -> bool:
        """Named sections are undated: only an export of the whole journal has them."""
        return self.start is None and self.end is None

    @property
    def many_files(self) -> bool:
        return self.format == "obsidian" or self.split != "none"


@dataclass(frozen=True)
class ExportResult:
    """How many days went out, in how many files, and the media files they link to."""

    days: int
    files: int
    media: tuple[Path, ...] = ()  # where each linked media file now is
    media_copied: int = 0  # of those, how many this export wrote (new or changed)
    media_missing: int = 0  # links into MEDIA_DIR whose file is not there (left as they were)
    too_deep: int = 0  # notes nested past MAX_DEPTH levels, written at the last level


def export_options(settings: Settings, request: ExportRequest) -> ExportOptions:
    """The post's look from the EXPORT_* settings and the request's order and format."""
    template = None
    if settings.export_front_matter is not None:
        try:
            template = settings.export_front_matter.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise FrontMatterUnreadable(
                f"EXPORT_FRONT_MATTER: cannot read {settings.export_front_matter} ({exc})"
            ) from None
    return ExportOptions(
        title=settings.export_title,
        author=settings.export_author,
        front_matter_template=template,
        heading_level=settings.export_heading_level,
        date_style=settings.export_date_style,
        order=request.order,
        format=request.format,
    )


def write_export(
    engine: Engine, settings: Settings, request: ExportRequest, target: Path | IO[str]
) -> ExportResult:
    """Write the export to `target`: a stream or a file for one document; a folder, or a
    `.zip` file, for many. Blocking (reads the database)."""
    opts = export_options(settings, request)
    meta = bulk_export.journal_meta(engine, request.user_id)
    if meta is None:
        raise NoJournal(f"no journal for user {request.user_id}")
    title = meta.title or opts.title
    count = 0
    deep = 0
    copier = _copier(settings, request)

    def days() -> Days:
        nonlocal count, deep
        for item in bulk_export.iter_days(
            engine,
            request.user_id,
            start=request.start,
            end=request.end,
            newest_first=request.order == "newest",
        ):
            count += 1
            deep += too_deep(item[1])
            if copier is not None:
                copier.notes(item[1])
            yield item

    def result(files: int) -> ExportResult:
        if deep:
            log.warning(
                "export of user %s: %d notes nested deeper than %d levels are written at "
                "the last level, right after the note above them",
                request.user_id,
                deep,
                MAX_DEPTH,
            )
        if copier is None:
            return ExportResult(count, files, too_deep=deep)
        media = tuple(copier.files)
        return ExportResult(count, files, media, copier.copied, copier.missing, too_deep=deep)

    if request.many_files:
        if not isinstance(target, Path):
            raise ExportError("an export of many files needs a folder or a .zip file")

        def write(folder: Path) -> int:
            nonlocal copier
            if request.format == "obsidian":
                copier = MediaCopier(
                    settings.media_dir, settings.media_url, MediaOut(folder, obsidian=True)
                )
                return write_daily_notes(days(), folder, opts)
            return write_posts(days(), folder, opts, request.split, title)

        if target.suffix.lower() != ".zip":
            return result(write(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".rizhilu-") as tmp:
            files = write(Path(tmp))
            zip_folder(Path(tmp), target)
        return result(files)

    sections = bulk_export.sections(engine, request.user_id) if request.with_sections else []
    if copier is not None:
        for section in sections:
            copier.notes(section.notes)
    chunks = render_document(
        opts,
        title=title,
        stored_front_matter=meta.front_matter,
        newest=meta.newest,
        sections=sections,
        days=days(),
    )
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", encoding="utf-8", newline="\n") as fh:
            fh.writelines(chunks)
    else:
        target.writelines(chunks)
        target.flush()
    return result(1)


def _copier(settings: Settings, request: ExportRequest) -> MediaCopier | None:
    """The media copier a Jekyll or plain export asks for (None: links stay as stored)."""
    if request.media_out is None:
        return None
    url = settings.export_media_url if request.media_url is None else request.media_url
    return MediaCopier(settings.media_dir, settings.media_url, MediaOut(request.media_out, url))


def write_daily_notes(days: Days, folder: Path, opts: ExportOptions) -> int:
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


def write_posts(days: Days, folder: Path, opts: ExportOptions, split: Split, title: str) -> int:
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
                    _end_post(out)
                current = period
                start, label = period
                shown = format_date(start, opts.date_style) if split == "day" else label
                post_title = f"{title} {shown}"
                name = f"{start.isoformat()}-rizhilu-{label.lower()}.md"
                out = (folder / name).open("w", encoding="utf-8", newline="\n")
                out.write(front_matter(opts, None, start, post_title) + RAW_OPEN + "\n\n")
                out.write(escape_raw(heading(1, post_title) + "\n"))
                count += 1
            assert out is not None
            out.write(escape_raw("\n" + render_day(span, notes, opts)))
    finally:
        if out is not None:
            _end_post(out)
    return count


def _end_post(out: IO[str]) -> None:
    out.write("\n" + RAW_CLOSE + "\n")
    out.close()


def zip_folder(folder: Path, target: Path) -> None:
    """Every file under `folder`, sorted, into one zip (paths relative to the folder)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16  # private like every export (umask 077), not 000
            zf.writestr(info, path.read_bytes())

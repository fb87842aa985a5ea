"""`rizhilu site OUT`: the journal as a static HTML site written to a folder, media copied.

The folder gets index.html (the calendar: a heatmap a year, the months, the tags),
months/YYYY-MM.html, tags/KEY.html, search.html with assets/search-index.js (the search
index as a script, so search works from file:// too), assets/ (CSS, JS) and media/ (only
the files under MEDIA_DIR that notes link to; a file is copied again only when its size or
time changed). A `.rizhilu-site` file lists what the last build wrote: a new build removes
its own files that are gone (a month emptied, a tag no longer used) and never touches
anything else, and a non-empty folder without it is refused.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from bot.core import site as pages
from bot.core.days import DayRange
from bot.core.lookback import per_day
from bot.core.notes import NoteDraft
from bot.export_media import MediaCopier, MediaOut
from bot.settings import Settings
from storage import bulk_export
from storage.lookback import Lookback

MARKER = ".rizhilu-site"
ASSET_FILES = ("site.css", "search.js", "favicon.svg")
ASSET_DIR = Path(__file__).resolve().parent / "data" / "site"


class SiteError(Exception):
    """The site cannot be written; the message says why (the CLI's one error line)."""


@dataclass(frozen=True)
class SiteResult:
    """What a build wrote."""

    pages: int
    days: int
    notes: int
    media_copied: int
    media_kept: int
    media_missing: tuple[str, ...]


def _check_folder(out: Path) -> set[str]:
    """The files the previous build wrote (empty for a new folder); refuses a folder that is
    not a site of ours."""
    if out.exists() and not out.is_dir():
        raise SiteError(f"{out} is a file, not a folder")
    marker = out / MARKER
    if marker.is_file():
        return {line for line in marker.read_text(encoding="utf-8").splitlines() if line}
    if out.is_dir() and any(out.iterdir()):
        raise SiteError(
            f"{out} is not empty and was not written by `rizhilu site`: choose a new folder"
        )
    return set()


class _Writer:
    """Files into the site folder, each whole or not at all, remembered for the manifest."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.written: set[str] = set()

    def text(self, rel: str, content: str) -> None:
        self.bytes(rel, content.encode("utf-8"))

    def bytes(self, rel: str, content: bytes) -> None:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.written.add(rel)

    def finish(self, before: set[str]) -> None:
        """Remove what the last build wrote and this one did not; write the manifest."""
        for rel in sorted(before - self.written):
            path = self.out / rel
            if ".." in Path(rel).parts or Path(rel).is_absolute():
                continue  # a hand-edited manifest must not reach outside the folder
            path.unlink(missing_ok=True)
            parent = path.parent
            while parent != self.out and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
        self.text(MARKER, "".join(f"{rel}\n" for rel in sorted(self.written | {MARKER})))


def build_site(engine: Engine, settings: Settings, user_id: int, out: Path) -> SiteResult:
    """Write the user's journal as a static site into `out`. Blocking (reads the database)."""
    meta = bulk_export.journal_meta(engine, user_id)
    if meta is None:
        raise SiteError(f"no journal for user {user_id}")
    before = _check_folder(out)
    title = meta.title or settings.export_title
    style = settings.export_date_style
    md = pages.Markdown(settings.media_url)
    found = pages.Rendered()
    entries = Lookback(engine).entry_counts(user_id)
    counts = per_day(entries)
    links = pages.day_links(entries)
    months = sorted({(start.year, start.month) for start, _, _ in entries}, reverse=True)
    out.mkdir(parents=True, exist_ok=True)
    writer = _Writer(out)
    search: list[pages.SearchEntry] = []
    tagged: list[str] = []
    tag_items: dict[str, list[pages.TagItem]] = defaultdict(list)
    days = notes = 0
    month: tuple[int, int] | None = None
    month_days: list[pages.DayHtml] = []

    def flush() -> None:
        if month is None:
            return
        at = months.index(month)
        nav = pages.MonthNav(
            older=months[at + 1] if at + 1 < len(months) else None,
            newer=months[at - 1] if at > 0 else None,
        )
        html = pages.month_page(title, month, month_days, nav, style)
        writer.text(pages.month_href(*month), html)

    for span, tree in bulk_export.iter_days(engine, user_id, newest_first=True):
        key = (span.start.year, span.start.month)
        if key != month:
            flush()
            month, month_days = key, []
        in_day = pages.note_entries(pages.day_href(span.start), span.label(style), tree)
        body = md.notes(tree, "../", found)
        count = sum(len(note.walk()) for note in tree)
        month_days.append(pages.DayHtml(span, body, count))
        search.extend(in_day)
        days += 1
        notes += count
        _collect_tags(span, tree, md, found, tagged, tag_items)
    flush()
    tags = pages.tag_counts(tagged)
    for tag in tags:
        items = tag_items[tag.key]
        writer.text(pages.tag_file(tag.key), pages.tag_page(title, tag.name, items, style))
    sections = []
    for number, section in enumerate(bulk_export.sections(engine, user_id), start=1):
        if not section.notes:
            continue
        body = md.notes(section.notes, "", found)
        sections.append(pages.section_html(number, section.title, body))
        href = f"index.html#{pages.section_anchor(number)}"
        search.extend(pages.note_entries(href, section.title or title, section.notes))
    writer.text("index.html", pages.index_page(title, counts, links, "".join(sections), tags))
    writer.text("search.html", pages.search_page(title))
    writer.text(pages.SEARCH_INDEX, pages.search_index_js(search))
    for name in ASSET_FILES:
        writer.bytes(pages.ASSETS + name, (ASSET_DIR / name).read_bytes())
    copier = MediaCopier(settings.media_dir, settings.media_url, MediaOut(out / pages.MEDIA))
    missing = []
    for rel in sorted(found.media):
        if copier.place(rel) is None:
            missing.append(rel)
        else:
            writer.written.add(pages.MEDIA + rel)
    writer.finish(before)
    page_count = sum(1 for rel in writer.written if rel.endswith(".html"))
    placed = len(found.media) - len(missing)
    return SiteResult(
        page_count, days, notes, copier.copied, placed - copier.copied, tuple(missing)
    )


def _collect_tags(
    span: DayRange,
    tree: list[NoteDraft],
    md: pages.Markdown,
    found: pages.Rendered,
    tagged: list[str],
    tag_items: dict[str, list[pages.TagItem]],
) -> None:
    """Each tagged note of a day (with its sub-notes) rendered once for its tags' pages."""
    for top in tree:
        for note in top.walk():
            keys = pages.note_tags(note.text)
            if not keys:
                continue
            tagged.append(note.text)
            item = pages.TagItem(span, md.notes([note], "../", found))
            for key in keys:
                tag_items[key].append(item)

"""The static journal's pages (`rizhilu site`): HTML from note trees, pure, no files touched.

Each day is the blog export's markdown (render_body: the same sanitised, defanged text)
rendered by markdown-it with raw HTML off, and links judged by the export's rule
(sanitize.unsafe_target: only http(s), mailto and relative targets). Every text and
attribute that reaches a page is escaped; no page has an inline script or style, and a
Content-Security-Policy says so to the browser.
"""

from __future__ import annotations

import calendar
import html
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from hashlib import sha256
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from bot import texts
from bot.core.days import WEEKDAYS, DayRange
from bot.core.heatmap import CELL, GAP, LEFT, TOP, WIDTH, cell_box
from bot.core.lookback import heatmap_grid
from bot.core.mdparser import unescape
from bot.core.media import path_under_media
from bot.core.notes import NoteDraft, capped
from bot.core.render import _runs as runs
from bot.core.render import item_text
from bot.core.sanitize import defang, unsafe_target
from bot.core.tags import count_tags, find_tags, hash_runs, tag_key

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

MEDIA = "media/"  # where referenced media are copied, under the site's root
ASSETS = "assets/"
MONTHS = "months/"
TAGS = "tags/"
SEARCH_INDEX = "assets/search-index.js"
# scripts and styles from the site's own files only: a note that slipped past the sanitiser
# still could not run anything. Images may come from anywhere (the sample's are on GitHub).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:; "
    "media-src 'self'; base-uri 'none'; form-action 'self'"
)
# the PNG's geometry without its title and legend rows
HEATMAP_TOP = TOP - 22
HEATMAP_HEIGHT = TOP + 7 * CELL + 8 - HEATMAP_TOP
_DRIVE = re.compile(r"^[A-Za-z]:(?:%5C|/|\\)", re.I)  # a Windows path pasted by Typora


def month_href(year: int, month: int) -> str:
    return f"{MONTHS}{year:04d}-{month:02d}.html"


def day_anchor(day: date) -> str:
    return f"d{day.isoformat()}"


def day_href(day: date) -> str:
    """A day's place: its month page and its anchor (a range: the month of its first day)."""
    return f"{month_href(day.year, day.month)}#{day_anchor(day)}"


def tag_file(key: str) -> str:
    """A tag's page, named by its key (tags hold only letters, digits, marks, `_` and `-`);
    a key too long for a file name is cut and given a stable hash."""
    if len(key.encode()) > 120:
        key = key[:24] + "-" + sha256(key.encode()).hexdigest()[:12]
    return f"{TAGS}{key}.html"


def tag_href(key: str) -> str:
    return quote(tag_file(key))


def esc(text: str) -> str:
    return html.escape(text, quote=True)


@dataclass
class Rendered:
    """What rendering found: media to copy (paths under MEDIA_DIR)."""

    media: set[str] = field(default_factory=set)


class Markdown:
    """markdown-it for the site: the journal's parser, raw HTML off, the export's link rule,
    links into MEDIA_URL pointed at the site's copy of the file."""

    def __init__(self, media_url: str) -> None:
        from markdown_it import MarkdownIt
        from mdit_py_plugins.gfm import gfm_plugin

        md = MarkdownIt("commonmark", {"html": False}).use(gfm_plugin, front_matter=False)
        default = md.validateLink

        def validate(url: str) -> bool:
            return default(url) and not unsafe_target(url)

        md.validateLink = validate  # type: ignore[method-assign]
        self._md: MarkdownIt = md
        self._prefix = md.normalizeLink(media_url) if media_url else ""

    def render(
        self,
        markdown: str,
        root: str,
        found: Rendered,
        *,
        inline: bool = False,
        tags: frozenset[str] = frozenset(),
    ) -> str:
        """HTML of markdown on a page `root` away from the site's root (`""` or `"../"`);
        inline: one line of text, no block structure (no paragraph around it); tags: the
        keys of the note's #tags, linked to their pages where they appear."""
        env: dict[str, Any] = {}
        tokens = self._md.parseInline(markdown, env) if inline else self._md.parse(markdown, env)
        for tok in tokens:
            if tok.children:
                self._links(tok.children, root, found)
                if tags and any(c.type == "text" and "#" in c.content for c in tok.children):
                    tok.children = _tag_links(tok.children, root, tags)
        return str(self._md.renderer.render(tokens, self._md.options, env))

    def notes(self, notes: list[NoteDraft], root: str, found: Rendered) -> str:
        """A day's (or a tagged note's) tree as nested lists, as the export writes it.

        The tree gives the lists; markdown-it renders each note's own text (the export's
        item text: defanged, done TODOs struck). Parsing a whole day's nested list was
        nine tenths of a big site's time.
        """
        out: list[str] = []
        self._tree(capped(notes), root, found, out, top=True)  # at most MAX_DEPTH levels
        return "".join(out)

    def _tree(
        self, notes: list[NoteDraft], root: str, found: Rendered, out: list[str], top: bool
    ) -> None:
        for kind, run in runs(notes):
            if kind == "block" and top:  # paragraphs, quotes, code between a day's lists
                out.extend(
                    self.render(defang(n.text), root, found, tags=note_tags(n.text)) for n in run
                )
                continue
            tag = "ol" if kind == "ordered" else "ul"
            out.append(f"<{tag}>\n")
            for note in run:
                keys = note_tags(note.text)
                out.append(f"<li>{self._item(item_text(note), root, found, keys)}")
                if note.children:
                    out.append("\n")
                    self._tree(note.children, root, found, out, top=False)
                out.append("</li>\n")
            out.append(f"</{tag}>\n")

    def _item(self, text: str, root: str, found: Rendered, tags: frozenset[str]) -> str:
        if "\n" in text or _BLOCKISH.match(text):
            return self.render(text, root, found, tags=tags)
        task = _TASK.match(text)
        if task:
            box = (
                '<input type="checkbox" disabled>'
                if task.group(1) == " "
                else ('<input type="checkbox" checked disabled>')
            )
            return box + " " + self._item(text[task.end() :], root, found, tags)
        if _INLINE_MARKUP.search(text) is None and "www." not in text and "#" not in text:
            return esc(text)  # nothing markdown-it would change: most notes
        return self.render(text, root, found, inline=True, tags=tags)

    def _local(self, url: str, root: str, found: Rendered) -> str | None:
        path = path_under_media(url, self._prefix) if self._prefix else None
        if path is None:
            return None
        found.media.add(path)
        return root + MEDIA + quote(path)

    def _links(self, children: list[Token], root: str, found: Rendered) -> None:
        for tok in children:
            if tok.type == "link_open":
                href = str(tok.attrs.get("href", ""))
                local = self._local(href, root, found)
                if local is not None:
                    tok.attrs["href"] = local
            elif tok.type == "image":
                src = str(tok.attrs.get("src", ""))
                if _DRIVE.match(src):  # never loads anywhere: say what it was
                    name = unquote(src).replace("\\", "/").rsplit("/", 1)[-1]
                    tok.type, tok.tag, tok.attrs, tok.children = "text", "", {}, None
                    tok.content = texts.SITE_IMAGE_ELSEWHERE.format(name=name)
                    continue
                local = self._local(src, root, found)
                if local is not None:
                    tok.attrs["src"] = local
                tok.attrs["loading"] = "lazy"
                if local is None and src.startswith(("http:", "https:", "//")):
                    tok.attrs["referrerpolicy"] = "no-referrer"


def _tag_links(children: list[Token], root: str, keys: frozenset[str]) -> list[Token]:
    """Inline tokens with each of the note's #tags in plain text (not in a link or code) a
    link to its page; what is a tag is decided by tags.find_tags, as for the pages."""
    from markdown_it.token import Token

    out: list[Token] = []
    depth = 0
    for tok in children:
        depth += (tok.type == "link_open") - (tok.type == "link_close")
        if tok.type != "text" or depth or "#" not in tok.content:
            out.append(tok)
            continue
        text, done = tok.content, 0
        for start, name in hash_runs(text):
            before = text[start - 1] if start else " "
            if name and tag_key(name) in keys and find_tags(f"{before}#{name}") == [name]:
                out.append(Token("text", "", 0, content=text[done:start]))
                href = root + tag_href(tag_key(name))
                out.append(Token("link_open", "a", 1, attrs={"class": "tag", "href": href}))
                out.append(Token("text", "", 0, content=f"#{name}"))
                out.append(Token("link_close", "a", -1))
                done = start + 1 + len(name)
        out.append(Token("text", "", 0, content=text[done:]))
    return out


# a note's first line that opens a block (quote, heading, code, list, table, HTML): the whole
# parser renders it; any other single line is inline text
_BLOCKISH = re.compile(r"^(?: {4}|\s*+(?:[>#|=<]|```|~~~|[-+*_](?:\s|$)|\d{1,9}[.)](?:\s|$)))")
_TASK = re.compile(r"\[([ xX])\] ")
# what can start inline markup: emphasis, code, links, images, escapes, entities, autolinks
_INLINE_MARKUP = re.compile(r"[\\*_`\[\]!<>&~:@]")
_IMAGE = re.compile(r"!\[([^\]\n]*+)\]\([^)\n]*+\)")
_LINK = re.compile(r"\[([^\]\n]*+)\]\([^)\n]*+\)")
_MARKS = re.compile(r"\*\*|~~|`+|^\s*(?:[>*+-]|\d{1,9}[.)])\s+", re.M)


def plain_text(markdown: str) -> str:
    """A note as a reader sees it, for the search index: links as their text, images as their
    alt text, emphasis marks and escapes gone, whitespace folded."""
    if "\n" not in markdown and _INLINE_MARKUP.search(markdown) is None:
        return " ".join(markdown.split())  # nothing to take away: most notes
    text = _IMAGE.sub(r"\1", markdown)
    text = _LINK.sub(r"\1", text)
    text = _MARKS.sub(" ", text)
    return " ".join(unescape(text).split())


@dataclass(frozen=True)
class SearchEntry:
    """One note in the search index: its text, and the place it is at (href, label)."""

    href: str
    label: str
    text: str


def search_index_js(entries: Iterable[SearchEntry]) -> str:
    """The search index as a script (a fetch() of JSON is refused on file:// pages):
    `days` ([href, label] of each place: a day, or a named section) and `notes`
    ([place number, plain text])."""
    days: list[list[str]] = []
    seen: dict[tuple[str, str], int] = {}
    notes: list[list[object]] = []
    for entry in entries:
        place = (entry.href, entry.label)
        number = seen.get(place)
        if number is None:
            number = seen[place] = len(days)
            days.append(list(place))
        notes.append([number, entry.text])
    data = json.dumps({"days": days, "notes": notes}, ensure_ascii=False, separators=(",", ":"))
    # JSON is JavaScript (ES2019: U+2028 too); never inside HTML, so no </script> concern
    return f"window.RIZHILU_SEARCH = {data};\n"


def note_entries(href: str, label: str, notes: Sequence[NoteDraft]) -> list[SearchEntry]:
    """Every note of a day or section (nested ones too) with visible text."""
    out = []
    for top in notes:
        for note in top.walk():
            text = plain_text(note.text)
            if text:
                out.append(SearchEntry(href, label, text))
    return out


def section_anchor(number: int) -> str:
    return f"s{number}"


def section_html(number: int, title: str | None, body: str) -> str:
    """A named section (the preamble has no title) for the calendar page."""
    head = f"<h2>{esc(title)}</h2>\n" if title else ""
    return f'<section class="named" id="{section_anchor(number)}">\n{head}{body}</section>\n'


# --- pages ----------------------------------------------------------------------------


def layout(title: str, site_title: str, body: str, root: str, scripts: Sequence[str] = ()) -> str:
    """A whole page: the head (viewport, colour schemes, the policy), header, body, scripts."""
    script_tags = "".join(f'<script src="{esc(root + s)}"></script>\n' for s in scripts)
    page_title = esc(site_title) if title == site_title else f"{esc(title)} · {esc(site_title)}"
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="referrer" content="no-referrer">
<title>{page_title}</title>
<link rel="stylesheet" href="{root}{ASSETS}site.css">
<link rel="icon" href="{root}{ASSETS}favicon.svg" type="image/svg+xml">
</head>
<body>
<header class="top">
<a class="home" href="{root}index.html">{esc(site_title)}</a>
<nav><a href="{root}index.html#calendar">{esc(texts.SITE_CALENDAR)}</a>
<a href="{root}index.html#tags">{esc(texts.SITE_TAGS)}</a></nav>
<form class="search" action="{root}search.html" role="search">
<input type="search" name="q" placeholder="{esc(texts.SITE_SEARCH)}" \
aria-label="{esc(texts.SITE_SEARCH_LABEL)}">
</form>
</header>
<main>
{body}
</main>
<footer>{esc(texts.SITE_FOOTER)}</footer>
{script_tags}</body>
</html>
"""


@dataclass(frozen=True)
class DayHtml:
    """A day rendered for its month page."""

    day: DayRange
    html: str
    notes: int


def day_section(day: DayHtml, date_style: str) -> str:
    anchor = day_anchor(day.day.start)
    label = esc(day.day.label(date_style))
    return (
        f'<section class="day" id="{anchor}">\n<h2><a href="#{anchor}">{label}</a></h2>\n'
        f"{day.html}</section>\n"
    )


@dataclass(frozen=True)
class MonthNav:
    """The months before and after one (None at either end)."""

    older: tuple[int, int] | None
    newer: tuple[int, int] | None


def _month_name(ym: tuple[int, int]) -> str:
    return f"{ym[0]:04d}-{ym[1]:02d}"


def month_page(
    site_title: str, ym: tuple[int, int], days: Sequence[DayHtml], nav: MonthNav, date_style: str
) -> str:
    """One month: its days newest first, links to the months around it."""
    root = "../"
    links = []
    if nav.newer is not None:
        href = root + month_href(*nav.newer)
        text = texts.SITE_NEWER.format(month=_month_name(nav.newer))
        links.append(f'<a rel="next" href="{href}">{esc(text)}</a>')
    if nav.older is not None:
        href = root + month_href(*nav.older)
        text = texts.SITE_OLDER.format(month=_month_name(nav.older))
        links.append(f'<a rel="prev" href="{href}">{esc(text)}</a>')
    pager = f'<nav class="pager">{" ".join(links)}</nav>\n' if links else ""
    notes = sum(day.notes for day in days)
    head = (
        f"<h1>{calendar.month_name[ym[1]]} {ym[0]}</h1>\n"
        f'<p class="meta">{esc(texts.SITE_MONTH.format(days=len(days), notes=notes))}</p>\n'
    )
    body = head + pager + "".join(day_section(d, date_style) for d in days) + pager
    return layout(_month_name(ym), site_title, body, root)


@dataclass(frozen=True)
class TagItem:
    """A tagged note (with its sub-notes) on its day."""

    day: DayRange
    html: str


def tag_page(site_title: str, name: str, items: Sequence[TagItem], date_style: str) -> str:
    """A tag's notes under their days, newest first."""
    root = "../"
    parts = [f"<h1>{esc(texts.SITE_TAG_HEAD.format(tag=name, notes=len(items)))}</h1>\n"]
    current: DayRange | None = None
    for item in items:
        if item.day != current:
            if current is not None:
                parts.append("</section>\n")
            current = item.day
            href = root + day_href(item.day.start)
            label = esc(item.day.label(date_style))
            parts.append(f'<section class="day">\n<h2><a href="{href}">{label}</a></h2>\n')
        parts.append(item.html)
    if current is not None:
        parts.append("</section>\n")
    return layout(f"#{name}", site_title, "".join(parts), root)


def search_page(site_title: str) -> str:
    """The search box and its results; the script and the index are the site's own files."""
    data = {
        "none": texts.SITE_SEARCH_NONE,
        "count": texts.SITE_SEARCH_COUNT,
        "more": texts.SITE_SEARCH_MORE,
    }
    attrs = " ".join(f'data-{k}="{esc(v)}"' for k, v in data.items())
    body = f"""<h1>{esc(texts.SITE_SEARCH)}</h1>
<form class="search-page" action="search.html" role="search">
<input id="q" type="search" name="q" autofocus aria-label="{esc(texts.SITE_SEARCH_LABEL)}" \
placeholder="{esc(texts.SITE_SEARCH_LABEL)}">
</form>
<p class="meta">{esc(texts.SITE_SEARCH_HINT)}</p>
<noscript><p>{esc(texts.SITE_SEARCH_NOSCRIPT)}</p></noscript>
<p id="status" class="meta" {attrs}></p>
<ol id="results" class="results"></ol>
"""
    return layout(texts.SITE_SEARCH, site_title, body, "", [SEARCH_INDEX, f"{ASSETS}search.js"])


# --- the calendar -----------------------------------------------------------------------


def day_links(entries: Iterable[tuple[date, date | None, int]]) -> dict[date, date]:
    """Each day inside an entry → the day its entry is filed under (a range's first day)."""
    out: dict[date, date] = {}
    for start, end, _ in entries:
        cursor = start
        stop = min(end or start, start + timedelta(days=400))
        while cursor <= stop:
            out.setdefault(cursor, start)
            cursor += timedelta(days=1)
    return out


def heatmap_svg(year: int, counts: dict[date, int], links: dict[date, date]) -> str:
    """The year as an inline SVG contribution graph (the /stats PNG's layout): a square a
    day, shaded by notes, each logged day a link to its place in its month page."""
    grid = heatmap_grid(counts, date(year, 1, 1), date(year, 12, 31))
    parts = [
        f'<svg class="heatmap" viewBox="0 {HEATMAP_TOP} {WIDTH} {HEATMAP_HEIGHT}" role="img" '
        f'aria-label="{year}" xmlns="http://www.w3.org/2000/svg">'
    ]
    shown = -3
    for col, month in grid.months:
        if col - shown >= 3:
            parts.append(
                f'<text x="{LEFT + col * CELL}" y="{TOP - 8}">{calendar.month_abbr[month]}</text>'
            )
            shown = col
    for row in (0, 2, 4):
        y = TOP + row * CELL + (CELL - GAP) / 2
        parts.append(
            f'<text x="{LEFT - 6}" y="{y:g}" text-anchor="end" dominant-baseline="middle">'
            f"{WEEKDAYS[row][:3]}</text>"
        )
    for col, week in enumerate(grid.weeks):
        for row, shade in enumerate(week):
            if shade < 0:
                continue
            day = grid.monday + timedelta(days=7 * col + row)
            x0, y0, _, _ = cell_box(col, row)
            size = CELL - GAP
            notes = counts.get(day)
            title = day.isoformat() if notes is None else f"{day.isoformat()}: {notes}"
            rect = (
                f'<rect class="l{shade}" x="{x0}" y="{y0}" width="{size}" height="{size}">'
                f"<title>{title}</title></rect>"
            )
            target = links.get(day)
            if notes is not None and target is not None:
                parts.append(f'<a href="{day_href(target)}">{rect}</a>')
            else:
                parts.append(rect)
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class TagCount:
    """A tag as the index lists it: shown spelling, key, notes."""

    name: str
    key: str
    notes: int


def tag_counts(texts_: Iterable[str]) -> list[TagCount]:
    """Every tag with its note count, most used first (the digest's and /tags' rule)."""
    return [TagCount(name, tag_key(name), n) for name, n in count_tags(texts_)]


def note_tags(text: str) -> frozenset[str]:
    """The keys of a note's tags."""
    return frozenset(tag_key(t) for t in find_tags(text)) if "#" in text else frozenset()


def index_page(
    site_title: str,
    counts: dict[date, int],
    links: dict[date, date],
    sections_html: str,
    tags: Sequence[TagCount],
) -> str:
    """The calendar: a heatmap per year (newest first) with its months, the named sections
    (preamble, TODO…), and every tag."""
    years = sorted({d.year for d in counts}, reverse=True)
    parts = [f"<h1>{esc(site_title)}</h1>\n", sections_html]
    parts.append(f'<h2 id="calendar">{esc(texts.SITE_CALENDAR)}</h2>\n')
    if not years:
        parts.append(f"<p>{esc(texts.SITE_EMPTY)}</p>\n")
    months: Counter[tuple[int, int]] = Counter()
    month_notes: Counter[tuple[int, int]] = Counter()
    for day, n in counts.items():
        months[(day.year, day.month)] += 1
        month_notes[(day.year, day.month)] += n
    for year in years:
        days = sum(v for (y, _), v in months.items() if y == year)
        notes = sum(v for (y, _), v in month_notes.items() if y == year)
        head = texts.SITE_YEAR.format(year=year, days=days, notes=notes)
        parts.append(f'<section class="year" id="y{year}">\n<h3>{esc(head)}</h3>\n')
        parts.append(heatmap_svg(year, counts, links) + '\n<ul class="months">')
        for month in range(12, 0, -1):
            if (year, month) not in months:
                continue
            title = texts.SITE_MONTH.format(
                days=months[(year, month)], notes=month_notes[(year, month)]
            )
            parts.append(
                f'<li><a href="{month_href(year, month)}" title="{esc(title)}">'
                f"{calendar.month_abbr[month]}</a></li>"
            )
        parts.append("</ul>\n</section>\n")
    parts.append(f'<h2 id="tags">{esc(texts.SITE_TAGS)}</h2>\n')
    if not tags:
        parts.append(f"<p>{esc(texts.SITE_NO_TAGS)}</p>\n")
    else:
        items = "".join(
            f'<li><a href="{tag_href(t.key)}">#{esc(t.name)}</a> <span>{t.notes}</span></li>'
            for t in tags
        )
        parts.append(f'<ul class="tags">{items}</ul>\n')
    return layout(site_title, site_title, "".join(parts), "")

"""The journal as a blog post: front matter, title, sections and days, streamed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bot.core.days import DayRange
from bot.core.frontmatter import clean_front_matter, html_safe, yaml_scalar
from bot.core.liquid import RAW_CLOSE, RAW_OPEN, escape_raw
from bot.core.mdparser import unescape
from bot.core.notes import NoteDraft
from bot.core.render import render_body
from bot.core.sanitize import safe_heading

Order = Literal["newest", "oldest"]
Split = Literal["none", "day", "week", "month"]
Format = Literal["jekyll", "plain", "obsidian"]

DEFAULT_FRONT_MATTER = """\
layout:     post
title:      {title}
subtitle:   {subtitle}
date:       {date}
author:     {author}
header-img: {header_img}
catalog: true
tags:
    - journal"""


@dataclass(frozen=True)
class ExportOptions:
    """How the post looks; every field has the sample's style as its default."""

    title: str = "日知录"
    author: str = ""
    subtitle: str = ""
    header_img: str = ""
    front_matter_template: str | None = None
    heading_level: int = 2
    date_style: str = "unpadded"
    order: Order = "newest"
    format: Format = "jekyll"


@dataclass(frozen=True)
class SectionOut:
    """A named non-date section (title None: the preamble under the post's title)."""

    title: str | None
    level: int
    notes: list[NoteDraft]


def front_matter(opts: ExportOptions, stored: str | None, newest: date | None, title: str) -> str:
    """The YAML front matter: stored from an import, else the template, else the default.

    A stored one is cut down to the allowed keys again (it may predate that check); values
    put into a template are YAML scalars, the title as plain text safe for any theme.
    Jekyll's excerpt is turned off (NO_EXCERPT) unless a template sets its own separator.
    """
    kept = clean_front_matter(stored.strip("\n"))[0] if stored is not None else None
    if kept is not None:
        body = kept
    else:
        template = opts.front_matter_template or DEFAULT_FRONT_MATTER
        body = template.strip("\n").format_map(
            _Blank(
                title=_value(html_safe(unescape(title))),
                author=_value(opts.author),
                subtitle=_value(opts.subtitle),
                header_img=_value(opts.header_img),
                date=(newest or date(1970, 1, 1)).isoformat(),
            )
        )
        body = "\n".join(line.rstrip() for line in body.split("\n"))
    if not any(line.startswith(f"{NO_EXCERPT.split(':')[0]}:") for line in body.split("\n")):
        body += "\n" + NO_EXCERPT
    return f"---\n{body}\n---\n"


def _value(text: str) -> str:
    return yaml_scalar(text) if text else ""


# Jekyll cuts each post's excerpt at the first blank line, which falls inside the post's raw
# block: Jekyll 3 and 4 then warn on every build and re-close the block, and Jekyll 3 (GitHub
# Pages) appends every `[x]: …`-looking line of the rest after it, outside the raw block,
# where Liquid runs. An empty separator turns excerpts off in both.
NO_EXCERPT = 'excerpt_separator: ""'


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def heading(level: int, text: str) -> str:
    """An ATX heading whose text kramdown cannot turn into markup."""
    return f"{'#' * level} {safe_heading(text)}"


def render_day(days: DayRange, notes: list[NoteDraft], opts: ExportOptions) -> str:
    """`## 2021-4-8`, a blank line, the nested bullets."""
    body = "\n".join(render_body(notes, parens=opts.format != "jekyll"))
    return f"{heading(opts.heading_level, days.label(opts.date_style))}\n\n{body}\n"


def render_section(section: SectionOut, parens: bool = True) -> str:
    body = "\n".join(render_body(section.notes, parens=parens))
    if section.title is None:
        return f"{body}\n"
    return f"{heading(max(section.level, 1), section.title)}\n\n{body}\n"


def render_document(
    opts: ExportOptions,
    *,
    title: str,
    stored_front_matter: str | None,
    newest: date | None,
    sections: Iterable[SectionOut],
    days: Iterable[tuple[DayRange, list[NoteDraft]]],
) -> Iterator[str]:
    """The whole post, chunk by chunk (a day at a time), ending in one newline.

    A Jekyll post's body sits in one Liquid raw block (bot.core.liquid), after the front
    matter.
    """
    jekyll = opts.format == "jekyll"
    if jekyll:
        yield front_matter(opts, stored_front_matter, newest, title) + RAW_OPEN + "\n\n"
    parts = [heading(1, title) + "\n"]
    for section in sections:
        if section.notes:
            parts.append(render_section(section, parens=not jekyll))
    yield _inert("\n".join(parts), jekyll)
    for days_, notes in days:
        if notes:
            yield _inert("\n" + render_day(days_, notes, opts), jekyll)
    if jekyll:
        yield "\n" + RAW_CLOSE + "\n"


def _inert(chunk: str, jekyll: bool) -> str:
    return escape_raw(chunk) if jekyll else chunk


def period_of(day: date, split: Split) -> tuple[date, str]:
    """The period a day falls in for --split: its first day and a label for names/titles."""
    if split == "week":
        start = day - timedelta(days=day.weekday())
        iso = start.isocalendar()
        return start, f"{iso.year}-W{iso.week:02d}"
    if split == "month":
        return day.replace(day=1), f"{day.year}-{day.month:02d}"
    return day, day.isoformat()

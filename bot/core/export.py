"""The journal as a blog post: front matter, title, sections and days, streamed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bot.core.days import DayRange
from bot.core.notes import NoteDraft
from bot.core.render import render_body

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
    """The YAML front matter: stored from an import, else the template, else the default."""
    if stored is not None and stored.strip():
        body = stored.strip("\n")
    else:
        template = opts.front_matter_template or DEFAULT_FRONT_MATTER
        body = template.strip("\n").format_map(
            _Blank(
                title=title,
                author=opts.author,
                subtitle=opts.subtitle,
                header_img=opts.header_img,
                date=(newest or date(1970, 1, 1)).isoformat(),
            )
        )
        body = "\n".join(line.rstrip() for line in body.split("\n"))
    return f"---\n{body}\n---\n"


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def heading(level: int, text: str) -> str:
    return f"{'#' * level} {text}"


def render_day(days: DayRange, notes: list[NoteDraft], opts: ExportOptions) -> str:
    """`## 2021-4-8`, a blank line, the nested bullets."""
    body = "\n".join(render_body(notes))
    return f"{heading(opts.heading_level, days.label(opts.date_style))}\n\n{body}\n"


def render_section(section: SectionOut) -> str:
    body = "\n".join(render_body(section.notes))
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
    """The whole post, chunk by chunk (a day at a time), ending in one newline."""
    parts: list[str] = []
    if opts.format == "jekyll":
        parts.append(front_matter(opts, stored_front_matter, newest, title))
    parts.append(f"# {title}\n")
    for section in sections:
        if section.notes:
            parts.append(render_section(section))
    yield "\n".join(parts)
    for days_, notes in days:
        if notes:
            yield "\n" + render_day(days_, notes, opts)


def period_of(day: date, split: Split) -> tuple[date, str]:
    """The period a day falls in for --split: its first day and a label for names/titles."""
    if split == "week":
        start = day - timedelta(days=day.weekday())
        iso = start.isocalendar()
        return start, f"{iso.year}-W{iso.week:02d}"
    if split == "month":
        return day.replace(day=1), f"{day.year}-{day.month:02d}"
    return day, day.isoformat()

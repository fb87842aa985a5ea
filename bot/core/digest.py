"""The weekly digest: what was logged, streaks, TODOs, tags, and a year ago."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from bot import texts
from bot.core.chunks import TELEGRAM_LIMIT, clip
from bot.core.days import WEEKDAYS, format_date, same_day_in
from bot.core.mdparser import unescape
from bot.core.notes import NoteDraft
from bot.core.tags import find_tags

_OPEN_TODO = re.compile(r"^(?:(?:TODO|todo)(?![\w-])|\\?\[ \\?\]|:warning:)", re.UNICODE)


def is_open_todo(text: str) -> bool:
    """A note that reads as an unfinished TODO: `TODO …`, `[ ] …` or `:warning: …`."""
    return bool(_OPEN_TODO.match(text))


# what the database narrows candidates to before is_open_todo decides
TODO_PREFIXES = ("TODO", "todo", "[ ]", "\\[ ]", "\\[ \\]", ":warning:")


@dataclass(frozen=True)
class WeekStats:
    days_logged: int
    notes: int
    current_streak: int
    longest_streak: int
    todos_done: int
    todos_open: int
    tags: list[tuple[str, int]]


def streaks(logged: Iterable[date], today: date) -> tuple[int, int]:
    """(current, longest) runs of consecutive logged days; today may still be empty."""
    days = sorted(set(logged))
    longest = run = 0
    prev: date | None = None
    for d in days:
        run = run + 1 if prev is not None and d - prev == timedelta(days=1) else 1
        longest = max(longest, run)
        prev = d
    have = set(days)
    cursor = today if today in have else today - timedelta(days=1)
    current = 0
    while cursor in have:
        current += 1
        cursor -= timedelta(days=1)
    return current, longest


def _all(notes: list[NoteDraft]) -> list[NoteDraft]:
    return [n for top in notes for n in top.walk()]


def week_stats(week: dict[date, list[NoteDraft]], logged: Iterable[date], today: date) -> WeekStats:
    every = [n for notes in week.values() for n in _all(notes)]
    tags: Counter[str] = Counter()
    for n in every:
        tags.update(t.lower() for t in find_tags(n.text))
    current, longest = streaks(logged, today)
    return WeekStats(
        days_logged=sum(1 for notes in week.values() if notes),
        notes=len(every),
        current_streak=current,
        longest_streak=longest,
        todos_done=sum(1 for n in every if n.done),
        todos_open=sum(1 for n in every if not n.done and is_open_todo(n.text)),
        tags=tags.most_common(5),
    )


def one_line(text: str, limit: int = 160) -> str:
    """A note as one plain line: markdown escapes undone, whitespace folded, clipped."""
    return clip(" ".join(unescape(text).split()), limit)


def render_digest(
    start: date,
    end: date,
    week: dict[date, list[NoteDraft]],
    logged: Iterable[date],
    today: date,
    year_ago: dict[date, list[NoteDraft]] | None = None,
    date_style: str = "unpadded",
) -> str:
    """The digest as plain text (markdown-flavoured, readable in Telegram as is)."""
    stats = week_stats(week, logged, today)
    span = (end - start).days + 1
    head = texts.DIGEST_HEAD.format(
        start=format_date(start, date_style), end=format_date(end, date_style)
    )
    lines = [head, ""]
    for day in sorted(week, reverse=True):
        notes = week[day]
        if not notes:
            continue
        weekday = WEEKDAYS[day.weekday()][:3]
        lines.append(texts.DIGEST_DAY.format(day=format_date(day, date_style), weekday=weekday))
        for n in notes:
            kids = len(n.walk()) - 1
            more = f" (+{kids})" if kids else ""
            mark = "✓ " if n.done else ""
            lines.append(f"• {mark}{one_line(n.text)}{more}")
        lines.append("")
    if stats.notes == 0:
        lines += [texts.DIGEST_NOTHING, ""]
    lines.append(
        texts.DIGEST_STATS.format(
            days=stats.days_logged,
            span=span,
            notes=stats.notes,
            current=stats.current_streak,
            longest=stats.longest_streak,
        )
    )
    if stats.todos_done or stats.todos_open:
        lines.append(texts.DIGEST_TODOS.format(done=stats.todos_done, open=stats.todos_open))
    if stats.tags:
        lines.append(texts.DIGEST_TAGS.format(tags=", ".join(f"#{t} ×{c}" for t, c in stats.tags)))
    if year_ago and any(year_ago.values()):
        lines += ["", texts.DIGEST_YEAR_AGO]
        for day in sorted(year_ago, reverse=True):
            for n in year_ago[day][:3]:
                lines.append(f"• {format_date(day, date_style)}: {one_line(n.text, 120)}")
    return "\n".join(lines).strip() + "\n"


def week_bounds(today: date, back: int = 1) -> tuple[date, date]:
    """The 7 days ending today (back=1), the 7 before them (back=2), …"""
    if back < 1:
        raise ValueError("weeks back start at 1")
    end = today - timedelta(days=7 * (back - 1))
    return end - timedelta(days=6), end


class JournalReads(Protocol):
    """What the digest reads from the journal (storage's reads provide it)."""

    def days_between(self, user_id: int, start: date, end: date) -> dict[date, list[NoteDraft]]:
        """Note trees of the days that start between start and end."""
        ...

    def logged_dates(self, user_id: int) -> set[date]:
        """Every day with at least one live note."""
        ...


def digest_for(
    reads: JournalReads, user_id: int, start: date, end: date, today: date, date_style: str
) -> str:
    """The digest of start..end, with the same days a year earlier. Blocking: it reads."""
    week = reads.days_between(user_id, start, end)
    for offset in range((end - start).days + 1):
        week.setdefault(start + timedelta(days=offset), [])
    year_ago = reads.days_between(
        user_id, same_day_in(start, start.year - 1), same_day_in(end, end.year - 1)
    )
    return render_digest(start, end, week, reads.logged_dates(user_id), today, year_ago, date_style)


def weekly_digest(
    reads: JournalReads, user_id: int, today: date, date_style: str, back: int = 1
) -> str:
    """The digest of the 7 days ending `today` (or `back` weeks earlier). Blocking."""
    start, end = week_bounds(today, back)
    return digest_for(reads, user_id, start, end, today, date_style)


def one_message(text: str, limit: int = TELEGRAM_LIMIT) -> str:
    """The scheduled digest in one message: cut at a line, pointing to /week for the rest."""
    if len(text) <= limit:
        return text
    return text[: limit - 40].rsplit("\n", 1)[0] + "\n" + texts.DIGEST_CUT

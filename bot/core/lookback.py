"""Looking back: notes per day, streaks, the busiest weekday, the heatmap grid, on this day."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from bot.core.digest import streaks

LEVELS = 4  # shades of a logged day in the heatmap; 0 is a day without notes
FIRST_YEAR = 1900  # older "years" are typos, not journals


def per_day(entries: Iterable[tuple[date, date | None, int]]) -> dict[date, int]:
    """Notes per logged day, from (start, end, notes) of the day entries that have notes.

    An imported range (`2021-3-31 ~ 2021-4-4`) counts its notes on its first day; its other
    days count as logged with no notes of their own.
    """
    out: dict[date, int] = {}
    for start, end, notes in entries:
        out[start] = out.get(start, 0) + notes
        cursor = start + timedelta(days=1)
        while end is not None and cursor <= end and len(out) < 100_000:
            out.setdefault(cursor, 0)
            cursor += timedelta(days=1)
    return out


@dataclass(frozen=True)
class Summary:
    """The numbers /stats shows for a period."""

    first: date
    last: date
    days_logged: int
    notes: int
    current_streak: int | None  # None: the period is over (a past year)
    longest_streak: int
    weekday_notes: tuple[int, ...]  # notes per weekday, Monday first

    @property
    def busiest_weekday(self) -> int | None:
        """0 = Monday; the earlier day wins a tie; None without notes."""
        if not any(self.weekday_notes):
            return None
        return max(range(7), key=lambda wd: (self.weekday_notes[wd], -wd))


def summarize(counts: dict[date, int], first: date, last: date, today: date) -> Summary:
    """Days logged, notes, streaks and notes per weekday between first and last (inclusive).

    The current streak runs up to today (today may still be empty); it is only shown while
    the period lasts. The longest streak is the longest inside the period.
    """
    inside = {d: n for d, n in counts.items() if first <= d <= last}
    weekdays = [0] * 7
    for day, notes in inside.items():
        weekdays[day.weekday()] += notes
    current, _ = streaks(counts, today)
    _, longest = streaks(inside, today)
    return Summary(
        first=first,
        last=last,
        days_logged=len(inside),
        notes=sum(inside.values()),
        current_streak=current if first <= today <= last else None,
        longest_streak=longest,
        weekday_notes=tuple(weekdays),
    )


def scale(counts: Iterable[int]) -> int:
    """The count that gets the darkest shade: the 90th percentile of the non-zero counts.

    A percentile, not the maximum, so one huge import day does not wash the year out; at
    least LEVELS, so 1, 2, 3 and 4 notes a day each get their own shade.
    """
    values = sorted(n for n in counts if n > 0)
    if not values:
        return LEVELS
    return max(LEVELS, values[(len(values) - 1) * 9 // 10])


def level(notes: int | None, top: int) -> int:
    """0 for a day without an entry; 1..LEVELS for a logged day (at least 1, even with 0 notes),
    in equal steps up to `top` notes."""
    if notes is None:
        return 0
    return min(LEVELS, 1 + (LEVELS - 1) * (max(notes, 1) - 1) // (top - 1))


@dataclass(frozen=True)
class Grid:
    """A calendar heatmap: one column per week (Monday on top), like a contribution graph."""

    monday: date  # the Monday of the first column
    first: date
    last: date
    weeks: tuple[tuple[int, ...], ...]  # [column][weekday]: -1 outside first..last, else level
    months: tuple[tuple[int, int], ...]  # (column, month) of each month's first day inside

    def cell(self, day: date) -> tuple[int, int]:
        """(column, row) of a day."""
        return (day - self.monday).days // 7, day.weekday()


def heatmap_grid(counts: dict[date, int], first: date, last: date) -> Grid:
    """The levels of the days first..last, laid out in week columns."""
    if last < first:
        raise ValueError("a heatmap needs first <= last")
    monday = first - timedelta(days=first.weekday())
    columns = (last - monday).days // 7 + 1
    top = scale(n for d, n in counts.items() if first <= d <= last)
    weeks = []
    for col in range(columns):
        week = []
        for row in range(7):
            day = monday + timedelta(days=7 * col + row)
            inside = first <= day <= last
            week.append(level(counts.get(day), top) if inside else -1)
        weeks.append(tuple(week))
    months = []
    cursor = first
    while cursor <= last:
        months.append(((cursor - monday).days // 7, cursor.month))
        cursor = (cursor.replace(day=1) + timedelta(days=32)).replace(day=1)
    return Grid(monday, first, last, tuple(weeks), tuple(months))


def last_year(today: date) -> tuple[date, date]:
    """The 365 days ending today (53 columns, like a contribution graph)."""
    return today - timedelta(days=364), today


_YEAR = re.compile(r"(\d{4})")


class BadYear(ValueError):
    """/stats was given something that is not a year we can show."""


def stats_year(arg: str, today: date) -> int | None:
    """`/stats` → None (everything, the last 12 months drawn); `/stats 2021` → 2021."""
    cleaned = arg.strip()
    if not cleaned:
        return None
    match = _YEAR.fullmatch(cleaned)
    if match is None or not FIRST_YEAR <= int(match.group(1)) <= today.year:
        raise BadYear(cleaned)
    return int(match.group(1))


def month_days(today: date) -> list[tuple[int, int]]:
    """The (month, day) pairs /onthisday looks for in earlier years.

    29 February exists one year in four: in other years its notes come back on 28 February
    (so they are seen every year); in a leap year they come back on the 29th itself, and
    28 February shows only 28 Februaries.
    """
    pairs = [(today.month, today.day)]
    if (today.month, today.day) == (2, 28) and not calendar.isleap(today.year):
        pairs.append((2, 29))
    return pairs

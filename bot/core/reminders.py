"""Reminder and digest decisions: pure functions of (preferences, now, what was sent)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import texts
from bot.core.days import WEEKDAYS, journal_day


class BadTime(ValueError):
    """A time of day the user typed that is not one."""


# applied to stripped text; one possessive gap (two `\s*` around an optional group backtracked)
_TIME = re.compile(r"(\d{1,2})(?:[:.h](\d{2}))?\s*+(am|pm|a\.m\.|p\.m\.)?", re.IGNORECASE)
_COMPACT = re.compile(r"^\s*(\d{3,4})\s*$")


def parse_time_of_day(text: str) -> time:
    """'21:30', '9:30pm', '2130', '9pm', '21' → a time; anything else → BadTime."""
    raw = text.strip().lower()
    compact = _COMPACT.match(raw)
    if compact:
        digits = compact.group(1).zfill(4)
        hour, minute, suffix = int(digits[:2]), int(digits[2:]), None
    else:
        m = _TIME.fullmatch(raw)
        if not m:
            raise BadTime(texts.TIME_BAD.format(text=text.strip()))
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        suffix = (m.group(3) or "").replace(".", "") or None
    if suffix is not None:
        if not 1 <= hour <= 12:
            raise BadTime(texts.TIME_BAD_HOUR.format(text=text.strip()))
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        raise BadTime(texts.TIME_BAD_RANGE.format(text=text.strip()))
    return time(hour, minute)


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The instant `at` happens on `day` in `tz`.

    A time skipped by a spring-forward gap happens that much later (02:30 → 03:30, as
    APScheduler runs it); a time that happens twice at fall-back is its first occurrence.
    """
    naive = datetime.combine(day, at)
    return naive.replace(tzinfo=tz, fold=0)


@dataclass(frozen=True)
class Due:
    """A scheduled message that is due now: for which journal day, planned for when."""

    day: date
    scheduled: datetime


def due_daily(
    at: time,
    tz: ZoneInfo,
    day_start: time,
    now: datetime,
    grace: timedelta,
    weekday: int | None = None,
) -> Due | None:
    """The daily (or weekly, with weekday 0=Monday) message due at `now`, within `grace`."""
    local_today = now.astimezone(tz).date()
    for day in (local_today, local_today - timedelta(days=1)):
        if weekday is not None and day.weekday() != weekday:
            continue
        scheduled = local_moment(day, at, tz)
        if scheduled <= now < scheduled + grace:
            return Due(journal_day(scheduled, tz, day_start), scheduled)
    return None


def due_snooze(until: datetime | None, now: datetime, grace: timedelta) -> bool:
    """A snoozed reminder is due from its time until the grace runs out."""
    return until is not None and until <= now < until + grace


def should_skip(mode: str, notes_today: int) -> bool:
    """Mode 'skip' leaves the reminder out on days that already have notes."""
    return mode == "skip" and notes_today > 0


def reminder_text(notes_today: int) -> str:
    """What the reminder says, given how much was logged today."""
    if notes_today == 0:
        return texts.REMINDER_NONE
    if notes_today == 1:
        return texts.REMINDER_ONE
    return texts.REMINDER_MANY.format(count=notes_today)


def parse_weekday(text: str) -> int:
    """'sun', 'Sunday', '周日' → 0..6 with Monday = 0."""
    raw = text.strip().lower()
    chinese = {"周一": 0, "周二": 1, "周三": 2, "周四": 3, "周五": 4, "周六": 5, "周日": 6}
    if raw in chinese:
        return chinese[raw]
    for i, name in enumerate(WEEKDAYS):
        if raw.startswith(name[:3].lower()) and len(raw) >= 3:
            return i
    raise BadTime(texts.WEEKDAY_BAD.format(text=text.strip()))


@dataclass(frozen=True)
class DigestRequest:
    """`/digest sun 20:00 chart`: the day, the time, and whether the heatmap comes along."""

    weekday: int
    at: time
    chart: bool


CHART_WORDS = frozenset({"chart", "heatmap", "picture"})


def parse_digest(args: list[str]) -> DigestRequest:
    """`sun`, `sun 20:00`, `sun 20:00 chart`, `chart sun` (the time defaults to 20:00)."""
    chart = any(a.lower() in CHART_WORDS for a in args)
    rest = [a for a in args if a.lower() not in CHART_WORDS]
    if not rest:
        raise BadTime(texts.DIGEST_NO_DAY)
    if len(rest) > 2:
        raise BadTime(texts.DIGEST_EXTRA.format(text=" ".join(rest[2:])))
    weekday = parse_weekday(rest[0])
    at = parse_time_of_day(rest[1]) if len(rest) > 1 else time(20, 0)
    return DigestRequest(weekday, at, chart)


def ptb_days(weekday: int) -> tuple[int]:
    """PTB's run_daily counts 0 = Sunday; ours counts 0 = Monday."""
    return ((weekday + 1) % 7,)

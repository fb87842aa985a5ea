"""Day arithmetic: which journal day a moment belongs to, and date parsing/formatting."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
"""Day names as date.weekday() counts them (0 = Monday); the first three letters abbreviate."""


class BadZone(ValueError):
    """An unknown IANA time zone name."""


def zone(name: str) -> ZoneInfo:
    """Return the ZoneInfo for an IANA name, or raise BadZone with a clear message."""
    cleaned = name.strip()
    if not cleaned or cleaned.startswith("/") or ".." in cleaned:
        raise BadZone(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise BadZone(f"unknown time zone {name!r}") from exc


def find_zones(text: str) -> list[str]:
    """IANA names the user may mean: `Asia/Shanghai` as is, or a city (`berlin`, `new york`).

    One name is an answer; several are a question back; none is an error.
    """
    cleaned = text.strip()
    try:
        return [zone(cleaned).key]
    except BadZone:
        pass
    import zoneinfo  # the list is read from disk: only when a city is asked for

    key = "_".join(cleaned.split()).casefold()
    if not key:
        return []
    names = sorted(
        n for n in zoneinfo.available_timezones() if not n.startswith(("Etc/", "SystemV/"))
    )
    full = [n for n in names if n.casefold() == key]
    if full:
        return full
    city = key.rsplit("/", 1)[-1]
    exact = [n for n in names if "/" in n and n.rsplit("/", 1)[1].casefold() == city]
    if exact:
        return exact
    return [n for n in names if "/" in n and n.rsplit("/", 1)[1].casefold().startswith(city)][:8]


def journal_day(moment: datetime, tz: ZoneInfo, day_starts_at: time) -> date:
    """The journal day a moment belongs to: local date, minus one before the day-start hour."""
    if moment.tzinfo is None:
        raise ValueError("journal_day needs an aware datetime")
    local = moment.astimezone(tz)
    if local.time().replace(tzinfo=None) < day_starts_at:
        return local.date() - timedelta(days=1)
    return local.date()


_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def parse_hhmm(text: str) -> time:
    """Parse a strict 'HH:MM' (00:00..23:59)."""
    m = _HHMM.match(text)
    if not m:
        raise ValueError(f"expected HH:MM, got {text!r}")
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day (00:00 to 23:59)")
    return time(hour, minute)


@dataclass(frozen=True, order=True)
class DayRange:
    """A journal day or an inclusive range of days (the sample's `2021-3-31 ~ 2021-4-4`)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"range ends before it starts: {self.start} ~ {self.end}")

    @classmethod
    def single(cls, day: date) -> DayRange:
        return cls(day, day)

    @property
    def is_single(self) -> bool:
        return self.start == self.end

    @property
    def key(self) -> str:
        """Stable storage key: '2021-04-08' or '2021-03-31~2021-04-04'."""
        if self.is_single:
            return self.start.isoformat()
        return f"{self.start.isoformat()}~{self.end.isoformat()}"

    def label(self, style: str = "unpadded") -> str:
        """Heading text in the journal's style."""
        if self.is_single:
            return format_date(self.start, style)
        return f"{format_date(self.start, style)} ~ {format_date(self.end, style)}"


def same_day_in(day: date, year: int) -> date:
    """The same month and day in another year; 29 February becomes the 28th in a common year."""
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return day.replace(year=year, day=28)


def format_date(day: date, style: str = "unpadded") -> str:
    """'2021-4-8' (the sample's unpadded style) or '2021-04-08' (iso)."""
    if style == "iso":
        return day.isoformat()
    return f"{day.year}-{day.month}-{day.day}"


_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def parse_date(text: str) -> date:
    """Parse '2021-4-8' or '2021-04-08'; raise ValueError with a readable message."""
    m = _DATE.match(text.strip())
    if not m:
        raise ValueError(f"expected a date like 2021-4-8, got {text!r}")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a real date") from exc


def parse_day_argument(text: str, today: date) -> date:
    """A user's day argument: a date, 'today', 'yesterday', or a negative offset like -2."""
    word = text.strip().lower()
    if word in {"", "today", "今天"}:
        return today
    if word in {"yesterday", "昨天"}:
        return today - timedelta(days=1)
    if re.fullmatch(r"-\d{1,4}", word):
        return today - timedelta(days=int(word[1:]))
    return parse_date(word)

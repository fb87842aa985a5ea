"""Periods users type: a year, a month, a range of days, an ISO week."""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.core.days import parse_date


def parse_period(text: str) -> tuple[date | None, date | None, str]:
    """'' (everything), '2021', '2021-03', '2021-3-1..2021-3-31' → (start, end, label)."""
    arg = text.strip()
    if not arg or arg.lower() == "all":
        return None, None, "all"
    if re.fullmatch(r"\d{4}", arg):
        year = int(arg)
        return date(year, 1, 1), date(year, 12, 31), arg
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", arg)
    if m:
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"{arg!r}: there is no month {month}")
        first = date(year, month, 1)
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return first, last, f"{year}-{month:02d}"
    m = re.fullmatch(r"(\S+?)\s*(?:\.\.|~)\s*(\S+)", arg)
    if m:
        a, b = parse_date(m.group(1)), parse_date(m.group(2))
        if b < a:
            a, b = b, a
        return a, b, f"{a.isoformat()}..{b.isoformat()}"
    day = parse_date(arg)
    return day, day, day.isoformat()


def parse_iso_week(text: str) -> date:
    """'2021-W14' → the Monday of that ISO week."""
    m = re.fullmatch(r"(\d{4})-?W(\d{1,2})", text.strip(), re.IGNORECASE)
    if not m:
        raise ValueError(f"expected a week like 2021-W14, got {text!r}")
    try:
        return date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a real week") from exc

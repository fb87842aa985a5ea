"""Reminder and digest decisions: times, DST days in five zones, exactly once per day."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.core.days import BadZone, zone
from bot.core.digest import (
    is_open_todo,
    one_message,
    render_digest,
    streaks,
    week_bounds,
    week_stats,
    weekly_digest,
)
from bot.core.notes import NoteDraft
from bot.core.periods import parse_iso_week, parse_period
from bot.core.reminders import (
    BadTime,
    DigestRequest,
    due_daily,
    due_snooze,
    local_moment,
    parse_digest,
    parse_time_of_day,
    parse_weekday,
    ptb_days,
    reminder_text,
    should_skip,
)

FOUR = time(4, 0)
GRACE = timedelta(hours=2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21:30", time(21, 30)),
        ("9:30pm", time(21, 30)),
        ("9:30 PM", time(21, 30)),
        ("2130", time(21, 30)),
        ("930", time(9, 30)),
        ("9pm", time(21, 0)),
        ("12am", time(0, 0)),
        ("12pm", time(12, 0)),
        ("21", time(21, 0)),
        ("7.15", time(7, 15)),
    ],
)
def test_times_people_type(text: str, expected: time) -> None:
    assert parse_time_of_day(text) == expected


@pytest.mark.parametrize(
    "bad", ["25:00", "24:00", "-1", "13pm", "0am", "21:60", "soon", "", "2400"]
)
def test_bad_times_get_a_clear_answer(bad: str) -> None:
    with pytest.raises(BadTime, match=r"time|hour"):
        parse_time_of_day(bad)


def test_bad_zone() -> None:
    with pytest.raises(BadZone, match="Mars/Base"):
        zone("Mars/Base")


def test_due_window() -> None:
    tz = zone("Asia/Shanghai")
    at = time(21, 30)
    on_time = datetime(2021, 4, 8, 13, 30, tzinfo=UTC)  # 21:30 CST
    assert due_daily(at, tz, FOUR, on_time - timedelta(seconds=1), GRACE) is None
    due = due_daily(at, tz, FOUR, on_time, GRACE)
    assert due is not None and due.day == date(2021, 4, 8)
    assert due_daily(at, tz, FOUR, on_time + GRACE - timedelta(seconds=1), GRACE) is not None
    assert due_daily(at, tz, FOUR, on_time + GRACE, GRACE) is None


def test_half_hour_offset_zone() -> None:
    tz = zone("Asia/Kolkata")
    due = due_daily(time(21, 30), tz, FOUR, datetime(2021, 4, 8, 16, 0, tzinfo=UTC), GRACE)
    assert due is not None and due.scheduled == datetime(2021, 4, 8, 16, 0, tzinfo=UTC)


def test_spring_forward_gap_runs_an_hour_later() -> None:
    tz = zone("Europe/Berlin")
    moment = local_moment(date(2021, 3, 28), time(2, 30), tz)
    assert moment.astimezone(UTC) == datetime(2021, 3, 28, 1, 30, tzinfo=UTC)  # 03:30 CEST


def test_fall_back_picks_the_first_occurrence() -> None:
    tz = zone("Europe/Berlin")
    moment = local_moment(date(2021, 10, 31), time(2, 30), tz)
    assert moment.astimezone(UTC) == datetime(2021, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 CEST


DST_CASES = [
    ("Europe/Berlin", date(2021, 3, 28)),
    ("Europe/Berlin", date(2021, 10, 31)),
    ("America/New_York", date(2021, 3, 14)),
    ("America/New_York", date(2021, 11, 7)),
    ("Australia/Sydney", date(2021, 4, 4)),
    ("Australia/Sydney", date(2021, 10, 3)),
    ("Asia/Shanghai", date(2021, 4, 8)),
    ("Asia/Kolkata", date(2021, 4, 8)),
]


@pytest.mark.parametrize(("name", "around"), DST_CASES)
@pytest.mark.parametrize("at", [time(2, 30), time(1, 30), time(21, 30), time(0, 0)])
def test_exactly_once_per_day_across_dst(name: str, around: date, at: time) -> None:
    """Wake up every minute for four days (as a scheduler that double-fires would, and
    more): with the ledger, each day's reminder is sent exactly once, near its time."""
    tz = zone(name)
    ledger: dict[date, datetime] = {}
    start = datetime.combine(around - timedelta(days=2), time(0, 0), tzinfo=tz).astimezone(UTC)
    for minute in range(4 * 24 * 60):
        now = start + timedelta(minutes=minute)
        due = due_daily(at, tz, FOUR, now, GRACE)
        if due is not None and due.day not in ledger:
            ledger[due.day] = now
    for day, sent in ledger.items():
        scheduled = local_moment(sent.astimezone(tz).date(), at, tz)
        assert timedelta(0) <= sent - scheduled < timedelta(minutes=1), (day, sent, scheduled)
    days = sorted(ledger)
    assert len(days) == len(set(days)) and len(days) >= 3
    assert all((b - a).days == 1 for a, b in itertools.pairwise(days))


def test_weekly_due_only_on_its_weekday() -> None:
    tz = zone("UTC")
    sunday = datetime(2021, 4, 11, 20, 0, tzinfo=UTC)
    assert due_daily(time(20, 0), tz, FOUR, sunday, GRACE, weekday=6) is not None
    assert due_daily(time(20, 0), tz, FOUR, sunday + timedelta(days=1), GRACE, weekday=6) is None
    assert ptb_days(6) == (0,) and ptb_days(0) == (1,)  # PTB counts 0 = Sunday
    assert parse_weekday("Sunday") == 6 and parse_weekday("mon") == 0 and parse_weekday("周日") == 6
    with pytest.raises(BadTime):
        parse_weekday("someday")


def test_snooze_and_texts() -> None:
    now = datetime(2021, 4, 8, 22, 0, tzinfo=UTC)
    assert due_snooze(now, now, GRACE) and not due_snooze(now + timedelta(seconds=1), now, GRACE)
    assert not due_snooze(None, now, GRACE)
    assert reminder_text(0).startswith("What did you learn today?")
    assert reminder_text(3) == "3 notes today — anything else?"
    assert should_skip("skip", 1) and not should_skip("skip", 0) and not should_skip("always", 5)


def test_streaks() -> None:
    today = date(2021, 4, 8)
    logged = [today - timedelta(days=i) for i in (1, 2, 3, 10, 11, 12, 13, 14)]
    assert streaks(logged, today) == (3, 5)  # today not logged yet: the streak still counts
    assert streaks([*logged, today], today) == (4, 5)
    assert streaks([], today) == (0, 0)


def test_digest_contents() -> None:
    today = date(2021, 4, 8)
    start, end = week_bounds(today)
    assert (start, end) == (date(2021, 4, 2), today)
    assert week_bounds(today, 2) == (date(2021, 3, 26), date(2021, 4, 1))
    week = {
        today: [
            NoteDraft(
                "read #paper on ScanNet", children=[NoteDraft("mapping"), NoteDraft("labels")]
            ),
            NoteDraft("finish draft", done=True),
            NoteDraft("TODO rerun the baseline"),
        ],
        date(2021, 4, 5): [NoteDraft("\\#paper two")],
    }
    stats = week_stats(week, [today, date(2021, 4, 5)], today)
    assert stats.days_logged == 2 and stats.notes == 6
    assert stats.todos_done == 1 and stats.todos_open == 1
    assert stats.tags == [("paper", 2)]
    text = render_digest(
        start, end, week, [today, date(2021, 4, 5)], today,
        {date(2020, 4, 8): [NoteDraft("a year-old note")]},
    )  # fmt: skip
    assert "2021-4-8 (Thu)\n• read #paper on ScanNet (+2)\n• ✓ finish draft" in text
    assert "2/7 days logged · 6 notes · streak 1 (longest 1)" in text
    assert "TODOs: 1 done, 1 open" in text and "#paper ×2" in text
    assert "A year ago:\n• 2020-4-8: a year-old note" in text
    assert "• #paper two" in text  # plain text: the stored escape is not shown
    empty = render_digest(start, end, {}, [], today)
    assert "Nothing logged this week." in empty


class ReadsFrom:
    """Journal reads over a fixed dict of days: what the digest asks for is recorded."""

    def __init__(self, days: dict[date, list[NoteDraft]]) -> None:
        self.days = days
        self.asked: list[tuple[date, date]] = []

    def days_between(self, user_id: int, start: date, end: date) -> dict[date, list[NoteDraft]]:
        self.asked.append((start, end))
        return {d: notes for d, notes in self.days.items() if start <= d <= end}

    def logged_dates(self, user_id: int) -> set[date]:
        return {d for d, notes in self.days.items() if notes}


def test_the_digest_reads_its_week_and_the_same_days_a_year_earlier() -> None:
    reads = ReadsFrom(
        {date(2024, 2, 29): [NoteDraft("leap")], date(2023, 2, 28): [NoteDraft("old")]}
    )
    text = weekly_digest(reads, 1, date(2024, 3, 1), "unpadded")
    # 29 February a year earlier is the 28th
    assert reads.asked == [
        (date(2024, 2, 24), date(2024, 3, 1)),
        (date(2023, 2, 24), date(2023, 3, 1)),
    ]
    assert "2024-2-29 (Thu)\n• leap" in text
    assert "1/7 days logged · 1 notes" in text
    assert "A year ago:\n• 2023-2-28: old" in text


def test_a_scheduled_digest_fits_one_message() -> None:
    short = "Week\n• one\n"
    assert one_message(short) == short
    long = "".join(f"• note {n}\n" for n in range(1000))
    cut = one_message(long)
    assert len(cut) <= 4096 and cut.endswith("\n… (/week shows it all)")
    assert long.startswith(cut.rsplit("\n", 1)[0] + "\n")  # whole lines only


def test_periods() -> None:
    assert parse_iso_week("2021-W14") == date(2021, 4, 5)
    with pytest.raises(ValueError):
        parse_iso_week("2021-W60")
    assert parse_period("2021-03") == (date(2021, 3, 1), date(2021, 3, 31), "2021-03")
    assert parse_period("2021")[1] == date(2021, 12, 31)
    assert parse_period("2021-3-5..2021-3-1")[:2] == (date(2021, 3, 1), date(2021, 3, 5))
    with pytest.raises(ValueError):
        parse_period("2021-13")


@pytest.mark.parametrize(
    ("text", "open_"),
    [
        ("TODO read the paper", True),
        ("TODO: read", True),
        ("todo read", True),
        ("[ ] fix it", True),
        ("\\[ \\] fix it", True),  # as captured from Telegram
        ("\\[ ] fix it", True),
        (":warning: check", True),
        ("todo-list app", False),
        ("TODOs are nice", False),
        ("[x] done already", False),
        ("plain", False),
    ],
)
def test_what_reads_as_an_open_todo(text: str, open_: bool) -> None:
    assert is_open_todo(text) is open_


def test_digest_arguments() -> None:
    assert parse_digest(["sun"]) == DigestRequest(6, time(20, 0), chart=False)
    assert parse_digest(["sun", "9pm", "chart"]) == DigestRequest(6, time(21, 0), chart=True)
    assert parse_digest(["chart", "mon"]) == DigestRequest(0, time(20, 0), chart=True)
    for bad in (["chart"], ["sun", "20:00", "chrat"], ["funday"], ["sun", "25:00"]):
        with pytest.raises(BadTime):
            parse_digest(bad)

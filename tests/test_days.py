"""Day arithmetic: time zones, DST days and the day-start hour."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.core.days import (
    BadZone,
    DayRange,
    find_zones,
    format_date,
    journal_day,
    parse_date,
    parse_day_argument,
    parse_hhmm,
    same_day_in,
    zone,
)

FOUR = time(4, 0)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_day_follows_the_user_zone() -> None:
    # 2021-04-08 20:00 UTC is already 04:00 on the 9th in Shanghai
    assert journal_day(utc(2021, 4, 8, 20, 0), zone("Asia/Shanghai"), FOUR) == date(2021, 4, 9)
    assert journal_day(utc(2021, 4, 8, 19, 59), zone("Asia/Shanghai"), FOUR) == date(2021, 4, 8)


def test_late_night_note_belongs_to_previous_day() -> None:
    tz = zone("Europe/Berlin")
    assert journal_day(datetime(2021, 4, 9, 2, 30, tzinfo=tz), tz, FOUR) == date(2021, 4, 8)
    assert journal_day(datetime(2021, 4, 9, 4, 0, tzinfo=tz), tz, FOUR) == date(2021, 4, 9)
    assert journal_day(datetime(2021, 4, 9, 0, 5, tzinfo=tz), tz, time(0, 0)) == date(2021, 4, 9)


@pytest.mark.parametrize(
    ("name", "moment", "expected"),
    [
        # spring forward: 02:00→03:00 local; 03:30 CEST is still before the day start
        ("Europe/Berlin", utc(2021, 3, 28, 1, 30), date(2021, 3, 27)),
        ("Europe/Berlin", utc(2021, 3, 28, 2, 0), date(2021, 3, 28)),  # 04:00 CEST
        ("Europe/Berlin", utc(2021, 3, 28, 0, 59), date(2021, 3, 27)),  # 01:59 CET
        # fall back: 02:30 happens twice; both are before 04:00
        ("Europe/Berlin", utc(2021, 10, 31, 0, 30), date(2021, 10, 30)),
        ("Europe/Berlin", utc(2021, 10, 31, 1, 30), date(2021, 10, 30)),
        ("Europe/Berlin", utc(2021, 10, 31, 3, 0), date(2021, 10, 31)),  # 04:00 CET
        ("America/New_York", utc(2021, 11, 7, 8, 59), date(2021, 11, 6)),  # 03:59 EST
        ("America/New_York", utc(2021, 11, 7, 9, 0), date(2021, 11, 7)),
        (
            "Australia/Sydney",
            utc(2021, 4, 3, 17, 59),
            date(2021, 4, 3),
        ),  # 03:59 AEST, after fall back
        ("Australia/Sydney", utc(2021, 4, 3, 18, 0), date(2021, 4, 4)),  # 04:00 AEST
        ("Australia/Sydney", utc(2021, 10, 2, 16, 59), date(2021, 10, 2)),  # 02:59 AEST → spring
        ("Asia/Shanghai", utc(2021, 4, 7, 19, 59), date(2021, 4, 7)),
        ("Asia/Kolkata", utc(2021, 4, 7, 22, 29), date(2021, 4, 7)),  # 03:59 IST
        ("Asia/Kolkata", utc(2021, 4, 7, 22, 30), date(2021, 4, 8)),
    ],
)
def test_dst_and_odd_offsets(name: str, moment: datetime, expected: date) -> None:
    assert journal_day(moment, zone(name), FOUR) == expected


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        journal_day(datetime(2021, 4, 8), zone("UTC"), FOUR)


@pytest.mark.parametrize("bad", ["Mars/Base", "", "../etc/passwd", "/etc/localtime", "UTC+8"])
def test_bad_zones(bad: str) -> None:
    with pytest.raises(BadZone):
        zone(bad)


def test_hhmm() -> None:
    assert parse_hhmm("04:00") == time(4, 0)
    assert parse_hhmm("9:05") == time(9, 5)
    for bad in ["25:00", "24:00", "-1", "12:60", "noon", ""]:
        with pytest.raises(ValueError):
            parse_hhmm(bad)


def test_dates_and_ranges() -> None:
    assert parse_date("2021-4-8") == date(2021, 4, 8)
    assert parse_date("2021-04-08") == date(2021, 4, 8)
    with pytest.raises(ValueError, match="real date"):
        parse_date("2021-2-30")
    r = DayRange(date(2021, 3, 31), date(2021, 4, 4))
    assert r.label() == "2021-3-31 ~ 2021-4-4"
    assert r.label("iso") == "2021-03-31 ~ 2021-04-04"
    assert r.key == "2021-03-31~2021-04-04"
    assert DayRange.single(date(2021, 4, 8)).key == "2021-04-08"
    assert format_date(date(2021, 4, 8)) == "2021-4-8"
    with pytest.raises(ValueError):
        DayRange(date(2021, 4, 4), date(2021, 3, 31))


def test_day_arguments() -> None:
    today = date(2021, 4, 8)
    assert parse_day_argument("", today) == today
    assert parse_day_argument("yesterday", today) == date(2021, 4, 7)
    assert parse_day_argument("-3", today) == date(2021, 4, 5)
    assert parse_day_argument("2021-3-1", today) == date(2021, 3, 1)
    with pytest.raises(ValueError):
        parse_day_argument("someday", today)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Asia/Shanghai", ["Asia/Shanghai"]),
        ("asia/shanghai", ["Asia/Shanghai"]),
        ("berlin", ["Europe/Berlin"]),
        ("New York", ["America/New_York"]),
        ("utc", ["UTC"]),
        ("Mars/Base", []),
        ("   ", []),
        ("../etc/passwd", []),
    ],
)
def test_find_zones(text: str, found: list[str]) -> None:
    assert find_zones(text) == found


def test_find_zones_asks_back_when_a_city_is_ambiguous() -> None:
    several = find_zones("san")
    assert 1 < len(several) <= 8 and all("/San" in z for z in several)


@pytest.mark.parametrize(
    ("day", "year", "expected"),
    [
        (date(2024, 2, 29), 2023, date(2023, 2, 28)),  # no 29th in a common year
        (date(2024, 2, 29), 2020, date(2020, 2, 29)),
        (date(2024, 2, 28), 2023, date(2023, 2, 28)),
        (date(2023, 3, 1), 2024, date(2024, 3, 1)),
        (date(2021, 12, 31), 2020, date(2020, 12, 31)),
    ],
)
def test_same_day_in_another_year(day: date, year: int, expected: date) -> None:
    assert same_day_in(day, year) == expected

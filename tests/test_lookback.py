"""Looking back, pure: notes per day, streaks, weekdays, the heatmap grid and its PNG."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta

import pytest
from PIL import Image

from bot.core.heatmap import COLUMNS, HEIGHT, PALETTE, WIDTH, cell_box, render_heatmap
from bot.core.lookback import (
    BadYear,
    heatmap_grid,
    last_year,
    level,
    month_days,
    per_day,
    scale,
    stats_year,
    summarize,
)

TODAY = date(2021, 4, 8)  # a Thursday


def test_per_day_counts_a_range_on_its_first_day_and_logs_the_rest() -> None:
    counts = per_day(
        [
            (date(2021, 4, 8), date(2021, 4, 8), 3),
            (date(2021, 3, 31), date(2021, 4, 2), 2),
            (date(2021, 4, 1), date(2021, 4, 1), 4),  # a day inside a range keeps its own notes
            (date(2021, 4, 5), None, 1),
        ]
    )
    assert counts == {
        date(2021, 3, 31): 2,
        date(2021, 4, 1): 4,
        date(2021, 4, 2): 0,
        date(2021, 4, 5): 1,
        date(2021, 4, 8): 3,
    }


def test_summary_of_a_period() -> None:
    counts = {TODAY - timedelta(days=i): i + 1 for i in (1, 2, 3, 10, 11, 12, 13, 14)}
    counts[date(2020, 12, 31)] = 7  # outside 2021
    year = summarize(counts, date(2021, 1, 1), date(2021, 12, 31), TODAY)
    assert year.days_logged == 8 and year.notes == sum(i + 1 for i in (1, 2, 3, 10, 11, 12, 13, 14))
    assert (year.current_streak, year.longest_streak) == (3, 5)
    # 4-7 Wed 2, 4-6 Tue 3, 4-5 Mon 4, 3-29 Mon 11, 3-28 Sun 12, 3-27 Sat 13, 3-26 Fri 14, 3-25 Thu 15
    assert year.weekday_notes == (4 + 11, 3, 2, 15, 14, 13, 12)
    assert year.busiest_weekday == 0  # Monday and Thursday tie: the earlier one
    past = summarize(counts, date(2020, 1, 1), date(2020, 12, 31), TODAY)
    assert (past.days_logged, past.notes, past.current_streak, past.longest_streak) == (
        1,
        7,
        None,
        1,
    )
    assert past.busiest_weekday == 3  # 2020-12-31 was a Thursday
    empty = summarize({}, date(2021, 1, 1), date(2021, 12, 31), TODAY)
    assert (empty.days_logged, empty.notes, empty.current_streak, empty.busiest_weekday) == (
        0, 0, 0, None,
    )  # fmt: skip


def test_busiest_weekday_tie_goes_to_the_earlier_day() -> None:
    counts = {date(2021, 4, 7): 2, date(2021, 4, 5): 2}  # Wednesday, Monday
    assert summarize(counts, date(2021, 1, 1), TODAY, TODAY).busiest_weekday == 0


def test_levels_scale_to_the_90th_percentile() -> None:
    assert scale([]) == 4 and scale([1, 1, 2]) == 4  # small counts: a shade each
    assert scale(list(range(1, 101))) == 90  # one outlier day does not wash out the rest
    assert [level(n, 4) for n in (None, 0, 1, 2, 3, 4, 50)] == [0, 1, 1, 2, 3, 4, 4]
    assert [level(n, 10) for n in (1, 3, 4, 6, 7, 9, 10)] == [1, 1, 2, 2, 3, 3, 4]


def test_heatmap_grid_of_a_year() -> None:
    counts = {date(2021, 1, 1): 1, date(2021, 1, 4): 2, date(2021, 12, 31): 40, date(2022, 1, 1): 9}
    grid = heatmap_grid(counts, date(2021, 1, 1), date(2021, 12, 31))
    assert grid.monday == date(2020, 12, 28)  # 2021-1-1 was a Friday
    assert len(grid.weeks) == 53
    assert grid.weeks[0] == (-1, -1, -1, -1, 1, 0, 0)  # Mon–Thu belong to 2020
    assert grid.weeks[1][0] == 2  # 2021-1-4, a Monday, 2 notes
    assert grid.weeks[-1] == (0, 0, 0, 0, 4, -1, -1)  # 2021-12-31, a Friday; 2022 is outside
    assert grid.cell(date(2021, 1, 4)) == (1, 0)
    assert grid.months[:3] == ((0, 1), (5, 2), (9, 3))
    assert len(grid.months) == 12
    with pytest.raises(ValueError):
        heatmap_grid(counts, TODAY, TODAY - timedelta(days=1))


def test_widest_year_fits_and_last_year_is_365_days() -> None:
    first, last = last_year(TODAY)
    assert (last - first).days == 364 and last == TODAY
    # 2012 was a leap year that began on a Sunday: it touches 54 week columns
    assert len(heatmap_grid({}, date(2012, 1, 1), date(2012, 12, 31)).weeks) == COLUMNS


def test_stats_year() -> None:
    assert stats_year("", TODAY) is None
    assert stats_year(" 2021 ", TODAY) == 2021
    for bad in ("2022", "21", "1899", "2021-4", "last"):
        with pytest.raises(BadYear):
            stats_year(bad, TODAY)


def test_on_this_day_and_29_february() -> None:
    assert month_days(TODAY) == [(4, 8)]
    assert month_days(date(2021, 2, 28)) == [(2, 28), (2, 29)]  # leap days come back here
    assert month_days(date(2024, 2, 28)) == [(2, 28)]  # … except in a leap year
    assert month_days(date(2024, 2, 29)) == [(2, 29)]
    assert month_days(date(2021, 3, 1)) == [(3, 1)]


# ---------------------------------------------------------------------- the PNG

# A fixed calendar: every shade, on known days of 2021 (1–10 notes on 1–10 January).
GOLDEN = {date(2021, 1, d): d for d in range(1, 11)} | {date(2021, 12, 31): 40}
GOLDEN_LEVELS = "43858d89c3fd1770ec8c6114cdd7144180db5dc4f369d269eb86e046da5c82dc"


def _png(grid_counts: dict[date, int]) -> tuple[Image.Image, bytes]:
    grid = heatmap_grid(grid_counts, date(2021, 1, 1), date(2021, 12, 31))
    data = render_heatmap(grid, "2021 · 11 days · 95 notes")
    return Image.open(io.BytesIO(data)), data


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def test_heatmap_png_has_the_right_size_and_is_not_blank() -> None:
    image, data = _png(GOLDEN)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
    rgb = image.convert("RGB")
    colours = rgb.getcolors(maxcolors=WIDTH * HEIGHT)
    assert colours is not None and len(colours) > 5  # squares, text, background
    assert rgb.getpixel((1, 1)) == (255, 255, 255)


def test_heatmap_png_golden_calendar() -> None:
    """Every day's square is one flat colour of its level, exact to the pixel; text is not
    compared (its antialiasing may differ between FreeType builds)."""
    grid = heatmap_grid(GOLDEN, date(2021, 1, 1), date(2021, 12, 31))
    levels = "".join("." if s < 0 else str(s) for week in grid.weeks for s in week)
    assert hashlib.sha256(levels.encode()).hexdigest() == GOLDEN_LEVELS
    shades = [grid.weeks[c][r] for c, r in map(grid.cell, sorted(GOLDEN))]
    assert shades == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4]  # 10 notes (the 90th percentile) and up: 4
    image, _ = _png(GOLDEN)
    rgb = image.convert("RGB")
    for col, week in enumerate(grid.weeks):
        for row, shade in enumerate(week):
            x0, y0, x1, y1 = cell_box(col, row)
            want = (255, 255, 255) if shade < 0 else _rgb(PALETTE[shade])
            for x, y in ((x0, y0), (x1 - 1, y1 - 1), ((x0 + x1) // 2, (y0 + y1) // 2)):
                assert rgb.getpixel((x, y)) == want, (col, row, x, y)
            assert rgb.getpixel((x1, y1)) == (255, 255, 255)  # the gap between squares


def test_heatmap_png_is_deterministic() -> None:
    assert _png(GOLDEN)[1] == _png(GOLDEN)[1]

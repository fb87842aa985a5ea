"""The year heatmap as a picture, for /stats and the scheduled digest's `chart`."""

from __future__ import annotations

import asyncio
from datetime import date

from bot import texts
from bot.core.heatmap import render_heatmap
from bot.core.lookback import heatmap_grid, last_year, per_day, summarize
from bot.telegram.services import Services, db
from storage.lookback import Lookback


async def render(counts: dict[date, int], start: date, end: date, title: str) -> bytes:
    """A heatmap of the days from start to end as a PNG."""
    # matplotlib is CPU-bound for a few tenths of a second: not on the event loop
    return await asyncio.to_thread(render_heatmap, heatmap_grid(counts, start, end), title)


async def last_year_picture(counts: dict[date, int], today: date) -> bytes:
    """The heatmap of the last 12 months as a PNG: /stats, and the digest's `chart`."""
    start, end = last_year(today)
    drawn = summarize(counts, start, end, today)
    title = texts.STATS_PICTURE_LAST.format(days=drawn.days_logged, notes=drawn.notes)
    return await render(counts, start, end, title)


async def user_counts(svc: Services, user_id: int) -> dict[date, int]:
    """Notes per logged day."""
    return per_day(await db(Lookback(svc.engine).entry_counts, user_id))

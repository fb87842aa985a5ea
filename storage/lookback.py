"""Looking back: tagged notes, the same date in earlier years, and notes per day (Core selects)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, Engine, and_, extract, func, or_, select

from bot.core.days import DayRange
from bot.core.tags import has_tag
from storage.reader import Hit
from storage.tables import entries as E
from storage.tables import notes as N

_LIVE = N.c.deleted_at.is_(None)
# newest day first, sections (no date) last; in the day, in journal order
_NEWEST_FIRST = (E.c.start_date.is_(None), E.c.start_date.desc(), N.c.position, N.c.id)


class Lookback:
    """Read-only queries for /tags, /tag, /onthisday and /stats; one connection per call."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _narrow(self, user_id: int, name: str = "") -> list[ColumnElement[bool]]:
        """Notes that may carry a tag: the database narrows, the core's extractor decides.

        ASCII pieces of the name narrow further; SQLite's lower() only folds ASCII, and a
        `_` may be stored escaped (`\\_`), so the name is split there.
        """
        cond = [N.c.user_id == user_id, _LIVE, N.c.text.contains("#", autoescape=True)]
        for piece in re.split(r"[_\W]+", name):
            if piece and piece.isascii():
                cond.append(N.c.text.icontains(piece, autoescape=True))
        return cond

    def tagged_texts(self, user_id: int) -> list[str]:
        """The text of every live note with a '#' in it (what /tags counts)."""
        with self._engine.connect() as conn:
            return list(conn.scalars(select(N.c.text).where(*self._narrow(user_id))))

    def tagged(self, user_id: int, name: str, offset: int, limit: int) -> tuple[list[Hit], int]:
        """One page of the live notes tagged #name (any case), newest day first; and how many."""
        query = (
            select(N.c.id, E.c.start_date, E.c.end_date, E.c.title, N.c.text)
            .join(E, E.c.id == N.c.entry_id)
            .where(*self._narrow(user_id, name))
            .order_by(*_NEWEST_FIRST)
        )
        with self._engine.connect() as conn:
            rows = [r for r in conn.execute(query) if has_tag(r.text, name)]
        page = rows[offset : offset + limit]
        hits = [
            Hit(nid, DayRange(a, b or a) if a is not None else None, title, text)
            for nid, a, b, title, text in page
        ]
        return hits, len(rows)

    def dates_on(
        self, user_id: int, month_days: Sequence[tuple[int, int]], before: date
    ) -> list[date]:
        """Days before `before` that fall on one of the (month, day) pairs and have live
        notes, newest first."""
        if not month_days:
            return []
        on = [
            and_(extract("month", E.c.start_date) == m, extract("day", E.c.start_date) == d)
            for m, d in month_days
        ]
        has_notes = select(N.c.id).where(N.c.entry_id == E.c.id, _LIVE).exists()
        query = (
            select(E.c.start_date)
            .where(
                E.c.user_id == user_id,
                E.c.kind == "day",
                E.c.start_date < before,
                or_(*on),
                has_notes,
            )
            .distinct()
            .order_by(E.c.start_date.desc())
        )
        with self._engine.connect() as conn:
            return [d for d in conn.scalars(query) if d is not None]

    def entry_counts(self, user_id: int) -> list[tuple[date, date | None, int]]:
        """(start, end, live notes) of every day entry that has notes: what per_day reads.

        All of them, not a year's: the current streak may reach back further.
        """
        query = (
            select(E.c.start_date, E.c.end_date, func.count(N.c.id))
            .join(N, N.c.entry_id == E.c.id)
            .where(E.c.user_id == user_id, E.c.kind == "day", E.c.start_date.is_not(None), _LIVE)
            .group_by(E.c.id, E.c.start_date, E.c.end_date)
            .order_by(E.c.start_date)
        )
        with self._engine.connect() as conn:
            return [(a, b, int(n)) for a, b, n in conn.execute(query)]

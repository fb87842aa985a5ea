"""The reader: days, search and TODOs, read back from the journal."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from bot.core.days import DayRange
from bot.core.digest import TODO_PREFIXES, is_open_todo
from bot.core.notes import NoteDraft, build_tree
from storage.engine import json_rows, json_tuples
from storage.models import Entry, Note
from storage.tables import entries as E
from storage.trees import tree_rows, trees

# SQLite: the (user, day) pairs of a reminder fan-out as one JSON array (json_tuples), each
# day looked up by its unique key, where a tuple IN list scanned the whole index
_DAYS, _USER, _KEY = json_tuples("days", 2)
_COUNTS = (
    select(E.c.user_id, E.c.key, func.count())
    .select_from(_DAYS)
    .join(E, and_(E.c.user_id == _USER, E.c.key == _KEY))
    .join(Note, Note.entry_id == E.c.id)
    .where(Note.deleted_at.is_(None))
    .group_by(E.c.user_id, E.c.key)
)


@dataclass(frozen=True)
class Hit:
    """A note that matched a search, with where it lives (a day, or a named section)."""

    note_id: int
    days: DayRange | None
    section: str | None
    text: str


class Reader:
    """Reads the journal; every method runs in its own read-only session."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def day_notes(self, user_id: int, day: date) -> list[NoteDraft]:
        """The note tree of one day (entries that are exactly that day)."""
        with self._sessions() as s:
            rows = s.execute(tree_rows(E.c.user_id == user_id, E.c.key == day.isoformat()))
            return build_tree(rows)

    def notes_on(self, user_id: int, day: date) -> int:
        """How many live notes the day's entry has (for the reminder's wording)."""
        with self._sessions() as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(Note)
                    .join(Entry, Entry.id == Note.entry_id)
                    .where(
                        Entry.user_id == user_id,
                        Entry.key == day.isoformat(),
                        Note.deleted_at.is_(None),
                    )
                )
                or 0
            )

    def notes_on_many(self, days: Iterable[tuple[int, date]]) -> dict[tuple[int, date], int]:
        """notes_on for several (user, day) pairs in one read; a day without notes is absent."""
        wanted = {(user_id, day.isoformat()): (user_id, day) for user_id, day in days}
        if not wanted:
            return {}
        with self._sessions() as s:
            if s.get_bind().dialect.name == "sqlite":
                rows = s.execute(_COUNTS, {"days": json_rows(wanted)}).all()
                return {wanted[(user_id, key)]: int(count) for user_id, key, count in rows}
            rows = s.execute(
                select(Entry.user_id, Entry.key, func.count())
                .select_from(Note)
                .join(Entry, Entry.id == Note.entry_id)
                .where(
                    tuple_(Entry.user_id, Entry.key).in_(list(wanted)), Note.deleted_at.is_(None)
                )
                .group_by(Entry.user_id, Entry.key)
            ).all()
        return {wanted[(user_id, key)]: int(count) for user_id, key, count in rows}

    def days_between(self, user_id: int, start: date, end: date) -> dict[date, list[NoteDraft]]:
        """Note trees of the days (and ranges) that start between start and end."""
        with self._sessions() as s:
            rows = s.execute(
                tree_rows(
                    E.c.user_id == user_id,
                    E.c.kind == "day",
                    E.c.start_date >= start,
                    E.c.start_date <= end,
                )
            )
            return {day: tree for day, _, tree in trees(rows) if day is not None}

    def logged_dates(self, user_id: int) -> set[date]:
        """Every day that has at least one live note (a range counts each of its days)."""
        with self._sessions() as s:
            rows = s.execute(
                select(Entry.start_date, Entry.end_date)
                .where(Entry.user_id == user_id, Entry.kind == "day")
                .where(
                    select(Note.id)
                    .where(Note.entry_id == Entry.id, Note.deleted_at.is_(None))
                    .exists()
                )
            ).all()
        days: set[date] = set()
        for start, end in rows:
            if start is None:
                continue
            cursor = start
            while cursor <= (end or start) and len(days) < 100_000:
                days.add(cursor)
                cursor += timedelta(days=1)
        return days

    def linked_media(self, user_id: int, media_url: str) -> list[str]:
        """The texts of a user's notes that link to MEDIA_URL (images and files)."""
        with self._sessions() as s:
            rows = s.execute(
                select(Note.text).where(
                    Note.user_id == user_id,
                    Note.deleted_at.is_(None),
                    Note.text.contains("](" + media_url, autoescape=True),
                )
            )
            return [text for (text,) in rows]

    def count_notes(self, user_id: int, *, include_deleted: bool = False) -> int:
        with self._sessions() as s:
            q = select(func.count()).select_from(Note).where(Note.user_id == user_id)
            if not include_deleted:
                q = q.where(Note.deleted_at.is_(None))
            return int(s.scalar(q) or 0)

    def search(
        self, user_id: int, words: list[str], limit: int, offset: int = 0
    ) -> tuple[list[Hit], int]:
        """Live notes that contain every word (case-insensitive), newest day first, `limit`
        of them from `offset`; and how many there are.

        The words are bound parameters with LIKE's wildcards escaped: `50%` finds "50%".
        """
        cond: list[ColumnElement[bool]] = [Note.user_id == user_id, Note.deleted_at.is_(None)]
        cond += [Note.text.icontains(w, autoescape=True) for w in words]
        with self._sessions() as s:
            total = int(s.scalar(select(func.count()).select_from(Note).where(*cond)) or 0)
            hits = self._hits(s, cond, limit, offset)
        return hits, total

    def open_todos(self, user_id: int) -> list[Hit]:
        """Every note that reads as an unfinished TODO, newest day first."""
        cond = [
            Note.user_id == user_id,
            Note.deleted_at.is_(None),
            Note.done.is_(False),
            or_(*(Note.text.startswith(p, autoescape=True) for p in TODO_PREFIXES)),
        ]
        with self._sessions() as s:
            return [h for h in self._hits(s, cond, None) if is_open_todo(h.text)]

    @staticmethod
    def _hits(
        s: Session, cond: list[ColumnElement[bool]], limit: int | None, offset: int = 0
    ) -> list[Hit]:
        rows = s.execute(
            select(Note.id, Entry.start_date, Entry.end_date, Entry.title, Note.text)
            .join(Entry, Entry.id == Note.entry_id)
            .where(*cond)
            .order_by(Entry.start_date.is_(None), Entry.start_date.desc(), Note.position, Note.id)
            .limit(limit)
            .offset(offset)
        ).all()
        return [
            Hit(nid, DayRange(a, b or a) if a is not None else None, title, text)
            for nid, a, b, title, text in rows
        ]

"""Bulk export (SQLAlchemy Core): a user's journal streamed out a day at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, func, select

from bot.core.days import DayRange
from bot.core.export import SectionOut
from bot.core.notes import NoteDraft, build_tree
from storage.tables import entries as E
from storage.tables import notes as N
from storage.tables import users as U
from storage.trees import tree_rows, trees


@dataclass(frozen=True)
class JournalMeta:
    """A user's export metadata."""

    user_id: int
    title: str | None
    front_matter: str | None
    newest: date | None


def only_user(engine: Engine) -> int | None:
    """The single user of a personal deployment, if there is exactly one."""
    with engine.connect() as c:
        ids = c.execute(select(U.c.id).limit(2)).scalars().all()
    return ids[0] if len(ids) == 1 else None


def journal_meta(engine: Engine, user_id: int) -> JournalMeta | None:
    with engine.connect() as c:
        row = c.execute(select(U.c.title, U.c.front_matter).where(U.c.id == user_id)).first()
        if row is None:
            return None
        newest = c.execute(
            select(func.max(E.c.end_date)).where(E.c.user_id == user_id, E.c.kind == "day")
        ).scalar()
    return JournalMeta(user_id, row[0], row[1], newest)


def sections(engine: Engine, user_id: int) -> list[SectionOut]:
    with engine.connect() as c:
        entries = c.execute(
            select(E.c.id, E.c.title, E.c.level)
            .where(E.c.user_id == user_id, E.c.kind == "section")
            .order_by(E.c.position, E.c.id)
        ).all()
        out = []
        for eid, title, level in entries:
            rows = c.execute(tree_rows(N.c.entry_id == eid))
            out.append(SectionOut(title, level, build_tree(rows)))
    return out


def iter_days(
    engine: Engine,
    user_id: int,
    *,
    start: date | None = None,
    end: date | None = None,
    newest_first: bool = True,
) -> Iterator[tuple[DayRange, list[NoteDraft]]]:
    """Every day with live notes, as trees, streamed a day at a time."""
    cond = [E.c.user_id == user_id, E.c.kind == "day"]
    if start is not None:
        cond.append(E.c.end_date >= start)
    if end is not None:
        cond.append(E.c.start_date <= end)
    order = (
        (E.c.start_date.desc(), E.c.end_date.desc())
        if newest_first
        else (E.c.start_date, E.c.end_date)
    )
    with engine.connect() as c:
        stmt = tree_rows(*cond, entries_by=order)
        result = c.execution_options(stream_results=True, yield_per=1000).execute(stmt)
        for a, b, tree in trees(result):
            if a is not None:
                yield DayRange(a, b or a), tree

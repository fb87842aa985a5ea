"""The one query that reads note trees, for the reader (ORM sessions) and the export (Core)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Select, select

from bot.core.notes import NoteDraft, build_tree
from storage.tables import entries as E
from storage.tables import notes as N

# what build_tree reads, then which entry a row belongs to and the entry's dates
TREE_COLUMNS = (
    N.c.id, N.c.parent_id, N.c.kind, N.c.ordered, N.c.done, N.c.text, N.c.paren,
    N.c.entry_id, E.c.start_date, E.c.end_date,
)  # fmt: skip


def tree_rows(
    *where: ColumnElement[bool], entries_by: Sequence[ColumnElement[Any]] = ()
) -> Select[Any]:
    """Live notes (TREE_COLUMNS) of the entries that match `where`, an entry at a time, in
    sibling order; `entries_by` orders the entries (then their ids)."""
    return (
        select(*TREE_COLUMNS)
        .join(E, E.c.id == N.c.entry_id)
        .where(N.c.deleted_at.is_(None), *where)
        .order_by(*entries_by, N.c.entry_id, N.c.position, N.c.id)
    )


def trees(
    rows: Iterable[Sequence[Any]],
) -> Iterator[tuple[date | None, date | None, list[NoteDraft]]]:
    """(start, end, tree) per entry, from tree_rows' rows; entries whose notes are all hidden
    (under a deleted parent) are skipped."""
    for _, group in groupby(rows, key=itemgetter(7)):
        entry = list(group)
        tree = build_tree(entry)
        if tree:
            yield entry[0][8], entry[0][9], tree

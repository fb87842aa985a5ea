"""Bulk import (SQLAlchemy Core): a whole parsed journal stored at once, idempotently."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)

from bot.core.gcpause import gc_paused
from bot.core.journal_doc import ParsedJournal
from bot.core.notes import NoteDraft
from storage.engine import upsert_insert
from storage.tables import entries as E
from storage.tables import new_user
from storage.tables import notes as N
from storage.tables import users as U

KEY_LENGTH = 64  # entries.key is VARCHAR(64): PostgreSQL refuses a longer one


def section_key(title: str) -> str:
    """A section's entry key: its title, or for a long title its start and a stable hash."""
    key = f"s:{title}"
    if len(key) <= KEY_LENGTH:
        return key
    digest = hashlib.sha256(title.encode("utf-8")).hexdigest()[:20]
    return f"s:{title[:40]}~{digest}"


@dataclass
class ImportReport:
    """What an import did (or, with --dry-run, would do)."""

    days: int = 0
    sections: int = 0
    notes: int = 0
    new_notes: int = 0
    new_days: int = 0
    moved_notes: int = 0
    anomalies: list[str] = field(default_factory=list)


def _key(*parts: str) -> str:
    return hashlib.sha1("\x00".join(parts).encode(), usedforsecurity=False).hexdigest()[:32]


@dataclass(slots=True)
class _Row:
    key: str
    parent_key: str | None
    entry_key: str
    depth: int
    position: int
    draft: NoteDraft


def _flatten(source: str, entry_key: str, notes: list[NoteDraft], first: int = 0) -> list[_Row]:
    """Every note with a stable key: same file → same keys, so a second import adds nothing.

    Keys come from where the file wrote a note (`source`), not where it is stored, so a day
    imported under a corrected date is the same notes, not new ones. A key is
    _key(source, parent key or "", kind, text, nth same note among its siblings), hashed
    here without the call (100,000 notes).
    """
    rows: list[_Row] = []
    sha1 = hashlib.sha1

    def walk(items: list[NoteDraft], parent: str | None, depth: int) -> None:
        seen: dict[tuple[str, str], int] = {}
        prefix = f"{source}\x00{parent or ''}\x00"
        for pos, note in enumerate(items):
            same = (note.kind, note.text)
            nth = seen.get(same, 0)
            seen[same] = nth + 1
            text = f"{prefix}{note.kind}\x00{note.text}\x00{nth}"
            key = sha1(text.encode(), usedforsecurity=False).hexdigest()[:32]
            position = pos + (first if parent is None else 0)
            rows.append(_Row(key, parent, entry_key, depth, position, note))
            if note.children:
                walk(note.children, key, depth + 1)

    walk(notes, None, 0)
    return rows


def _ensure_user(s: Connection, user_id: int, timezone: str, now: datetime) -> None:
    ins = upsert_insert(s.dialect.name)
    s.execute(
        ins(U)
        .values(new_user(user_id, None, "", timezone, None, now))
        .on_conflict_do_nothing(index_elements=["id"])
    )


def import_journal(
    engine: Engine,
    user_id: int,
    parsed: ParsedJournal,
    now: datetime,
    timezone: str,
    *,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    batch: int | None = None,
) -> ImportReport:
    """Store a parsed journal for a user; idempotent (importing twice changes nothing).

    batch: commit every `batch` notes, so that the bot's other writers (a note, a reminder's
    ledger) wait for one batch at most, not for the whole file. An import stopped between
    batches keeps what it committed; importing the file again adds the rest.
    """
    with gc_paused():
        return _import(engine, user_id, parsed, now, timezone, dry_run, progress, batch)


@contextmanager
def _big_cache(s: Connection) -> Iterator[None]:
    """On SQLite, a page cache that holds an import's work: with the default 2 MiB a big
    insert writes pages out and reads them back mid-transaction (100,000 notes: 0.1 s of CPU
    more). The connection is closed afterwards, not pooled with that cache (so not for an
    in-memory database, which would go with it)."""
    if s.dialect.name != "sqlite" or s.engine.url.database in (None, "", ":memory:"):
        yield
        return
    s.exec_driver_sql("PRAGMA cache_size = -65536")  # in KiB
    try:
        yield
    finally:
        s.invalidate()


def _import(
    engine: Engine,
    user_id: int,
    parsed: ParsedJournal,
    now: datetime,
    timezone: str,
    dry_run: bool,
    progress: Callable[[int, int], None] | None,
    batch: int | None,
) -> ImportReport:
    report = ImportReport(
        days=len({d.days.key for d in parsed.days}),
        sections=sum(1 for s in parsed.sections if s.title is not None),
        notes=0,  # counted below: every note is one row (parsed.note_count walked them again)
        anomalies=[str(a) for a in parsed.anomalies],
    )
    entries: dict[str, dict[str, object]] = {}
    rows: list[_Row] = []
    for pos, section in enumerate(parsed.sections):
        key = section_key(section.title or "")
        entries[key] = dict(kind="section", key=key, start_date=None, end_date=None,
                            title=section.title, level=section.level, position=pos)  # fmt: skip
        rows.extend(_flatten(key, key, section.notes))
    tops: dict[str, int] = {}  # top-level notes so far per day: a moved day joins after them
    for day in parsed.days:
        key = day.days.key
        entries.setdefault(key, dict(kind="day", key=key, start_date=day.days.start,
                           end_date=day.days.end, title=None, level=2, position=0))  # fmt: skip
        rows.extend(_flatten(day.source.key, key, day.notes, tops.get(key, 0)))
        tops[key] = tops.get(key, 0) + len(day.notes)
    report.notes = len(rows)
    with engine.connect() as s, _big_cache(s):  # left without commit(): rolled back
        existing_entries = dict(
            s.execute(select(E.c.key, E.c.id).where(E.c.user_id == user_id)).all()
        )
        existing_notes = {
            key: (nid, eid)
            for key, nid, eid in s.execute(
                select(N.c.source_key, N.c.id, N.c.entry_id).where(
                    N.c.user_id == user_id, N.c.source_key.is_not(None)
                )
            )
        }
        report.new_days = sum(
            1
            for key, values in entries.items()
            if values["kind"] == "day" and key not in existing_entries
        )
        new_rows = [r for r in rows if r.key not in existing_notes]
        moving = _moving(rows, existing_notes, existing_entries)
        report.new_notes = len(new_rows)
        report.moved_notes = len(moving)
        if dry_run:
            return report  # nothing was written
        _ensure_user(s, user_id, timezone, now)
        s.execute(
            update(U)
            .where(U.c.id == user_id)
            .values(front_matter=parsed.front_matter, title=parsed.title, updated_at=now)
        )
        missing = [
            {**values, "user_id": user_id, "created_at": now}
            for key, values in entries.items()
            if key not in existing_entries
        ]
        if missing:
            s.execute(insert(E), missing)
            existing_entries = dict(
                s.execute(select(E.c.key, E.c.id).where(E.c.user_id == user_id)).all()
            )
        # top-level notes merged into a day that already has notes go after them
        offsets: dict[int, int] = {}
        arriving = [*new_rows, *moving]
        touched = {existing_entries[r.entry_key] for r in arriving if r.parent_key is None}
        if touched:
            offsets = {
                eid: (top + 1)
                for eid, top in s.execute(
                    select(N.c.entry_id, func.max(N.c.position))
                    .where(N.c.entry_id.in_(touched), N.c.parent_id.is_(None))
                    .group_by(N.c.entry_id)
                )
                if top is not None
            }
        if moving:
            _move(s, moving, existing_notes, existing_entries, offsets)
        ids = {key: nid for key, (nid, _) in existing_notes.items()}
        _insert_notes(s, new_rows, ids, existing_entries, offsets, user_id, now, progress, batch)
        s.commit()
    return report


_CHUNK = 5000


def _note_row(
    r: _Row, eid: int, parent: int | None, offsets: dict[int, int], user_id: int, now: datetime
) -> dict[str, object]:
    pos = r.position + (offsets.get(eid, 0) if r.parent_key is None else 0)
    return {"user_id": user_id, "entry_id": eid, "parent_id": parent, "position": pos,
            "kind": r.draft.kind, "ordered": r.draft.ordered, "paren": r.draft.paren,
            "done": r.draft.done,
            "text": r.draft.text, "part": 0, "source_key": r.key, "created_at": now}  # fmt: skip


def _insert_notes(
    s: Connection,
    new_rows: list[_Row],
    ids: dict[str, int],
    entries: dict[str, int],
    offsets: dict[int, int],
    user_id: int,
    now: datetime,
    progress: Callable[[int, int], None] | None,
    batch: int | None,
) -> None:
    """Insert the new notes, a parent's id known before its children are written.

    SQLite answers an INSERT … RETURNING one row per statement (100,000 statements for
    100,000 notes), so there the ids are numbered here and each chunk is one executemany,
    under SQLite's write lock (taken by a write before max(id) is read) so that no other
    writer takes an id in between. Other databases insert a level of the trees at a time
    and read the ids back with RETURNING. With `batch`, each chunk commits (before
    `progress` hears of it).
    """

    def row(r: _Row) -> dict[str, object]:
        return _note_row(
            r, entries[r.entry_key], ids[r.parent_key] if r.parent_key else None,
            offsets, user_id, now,
        )  # fmt: skip

    size = batch or _CHUNK
    total = len(new_rows)
    if s.dialect.name == "sqlite":
        with _indexes_after(s, total, batch is None):
            store = _PlainRows(
                s, N,
                ("id", "user_id", "entry_id", "parent_id", "position", "kind", "ordered", "paren",
                 "done", "text", "part", "source_key", "created_at"),
                {"user_id": user_id, "part": 0, "created_at": now},
                looked_up=("ordered", "paren", "done"),
            )  # fmt: skip
            uid, part, created = (store.fixed[n] for n in ("user_id", "part", "created_at"))
            is_ordered, is_paren, is_done = (
                store.lookup(n, (False, True)) for n in ("ordered", "paren", "done")
            )
            for start in range(0, total, size):
                if batch and start:  # the write lock again, before max(id)
                    s.execute(update(U).where(U.c.id == user_id).values(updated_at=now))
                next_id = int(s.execute(select(func.max(N.c.id))).scalar() or 0) + 1
                values: list[tuple[object, ...]] = []
                for r in new_rows[start : start + size]:  # in file order: parents first
                    ids[r.key] = next_id
                    eid = entries[r.entry_key]
                    d = r.draft
                    values.append((
                        next_id, uid, eid, ids[r.parent_key] if r.parent_key else None,
                        r.position + (offsets.get(eid, 0) if r.parent_key is None else 0),
                        d.kind, is_ordered[d.ordered], is_paren[d.paren], is_done[d.done],
                        d.text, part, r.key, created,
                    ))  # fmt: skip
                    next_id += 1
                store.insert(values)
                if batch:
                    s.commit()
                if progress:
                    progress(min(start + size, total), total)
        return
    done = 0
    depth = 0
    while level := [r for r in new_rows if r.depth == depth]:
        for start in range(0, len(level), size):
            chunk = level[start : start + size]
            result = s.execute(
                insert(N).returning(N.c.id, N.c.source_key, sort_by_parameter_order=True),
                [row(r) for r in chunk],
            )
            for nid, note_key in result:
                ids[str(note_key)] = nid
            if batch:
                s.commit()
            done += len(chunk)
            if progress:
                progress(done, total)
        depth += 1


_REBUILD_AT = 10_000  # new notes from which an empty notes table's indexes are built after


@contextmanager
def _indexes_after(s: Connection, total: int, whole: bool) -> Iterator[None]:
    """Into an empty notes table in one transaction (`whole`), its secondary indexes built
    once after the rows, not row by row (100,000 notes: about 0.1 s of CPU less). They are
    dropped and made again inside the import's transaction: SQLite's DDL is transactional,
    so other connections see the old table or the new one, indexed, never one without."""
    rebuild = (
        whole
        and total >= _REBUILD_AT
        and bool(getattr(s.connection.dbapi_connection, "in_transaction", False))
        and s.execute(select(N.c.id).limit(1)).first() is None
    )
    if rebuild:
        for index in N.indexes:
            index.drop(s)
    yield
    if rebuild:
        for index in N.indexes:
            index.create(s)


class _PlainRows:
    """An executemany of a Core INSERT whose rows are tuples already in the driver's form.

    SQLAlchemy's executemany builds a dict of parameters per row and runs each column's
    bind processor on each value (for 100,000 notes of 13 columns, about 1 s of CPU). Here
    the statement is still SQLAlchemy's own (insert(table) compiled for the connection's
    dialect, with exactly `columns` as its parameters, in the table's order) and runs on the
    Connection, in its transaction; only the processing moves out of the loop: a value the
    same in every row goes through its column's processor once (`fixed`), a column with a
    few possible values has each looked up once (`lookup`), and any other column must need
    no processing (ints and strings: SQLite takes Python's own), or this refuses. For
    positional paramstyles (SQLite's).
    """

    def __init__(
        self,
        s: Connection,
        table: Table,
        columns: tuple[str, ...],
        fixed: dict[str, object],
        looked_up: tuple[str, ...] = (),
    ) -> None:
        self._s, self._table = s, table
        compiled = insert(table).compile(dialect=s.dialect, column_keys=list(columns))
        if not s.dialect.positional or tuple(compiled.positiontup or ()) != columns:
            raise ValueError(f"not a positional INSERT of exactly {columns}, in that order")
        for name in columns:
            if name not in fixed and name not in looked_up and self._processor(name):
                raise ValueError(f"{table.name}.{name} needs processing per row")
        self._sql = compiled.string
        self.fixed = {name: self._bound(name, value) for name, value in fixed.items()}

    def _processor(self, name: str) -> Callable[[Any], Any] | None:
        dialect = self._s.dialect
        processor: Callable[[Any], Any] | None = (
            self._table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        )
        return processor

    def _bound(self, name: str, value: object) -> object:
        process = self._processor(name)
        return value if process is None else process(value)

    def lookup(self, name: str, values: tuple[object, ...]) -> dict[object, object]:
        """Each of a column's possible values → what the driver gets for it."""
        return {v: self._bound(name, v) for v in values}

    def insert(self, rows: list[tuple[object, ...]]) -> None:
        """Rows of the columns' values, in the columns' order."""
        if rows:
            self._s.exec_driver_sql(self._sql, rows)


def _moving(
    rows: list[_Row], existing: dict[str, tuple[int, int]], entries: dict[str, int]
) -> list[_Row]:
    """Stored notes the file now puts under another day (--fix-dates, or undoing it)."""
    moved: set[str] = set()
    out = []
    for r in rows:  # parents come before their children
        if r.key not in existing:
            continue
        if r.parent_key is None:
            target = entries.get(r.entry_key)
            if target != existing[r.key][1]:
                moved.add(r.key)
                out.append(r)
        elif r.parent_key in moved:
            moved.add(r.key)
            out.append(r)
    return out


def _move(
    s: Connection,
    moving: list[_Row],
    existing: dict[str, tuple[int, int]],
    entries: dict[str, int],
    offsets: dict[int, int],
) -> None:
    """Move stored notes (with their subtrees) to the day the file now names; drop emptied days."""
    left = {existing[r.key][1] for r in moving}
    tops: list[dict[str, int]] = []  # a top-level note also takes its place in the new day
    below: list[dict[str, int]] = []
    for r in moving:
        eid = entries[r.entry_key]
        if r.parent_key is None:
            tops.append(
                {"nid": existing[r.key][0], "eid": eid, "pos": r.position + offsets.get(eid, 0)}
            )
        else:
            below.append({"nid": existing[r.key][0], "eid": eid})
    if tops:
        s.execute(
            update(N)
            .where(N.c.id == bindparam("nid"))
            .values(entry_id=bindparam("eid"), position=bindparam("pos")),
            tops,
        )
    if below:
        s.execute(
            update(N).where(N.c.id == bindparam("nid")).values(entry_id=bindparam("eid")), below
        )
    s.execute(
        delete(E).where(
            E.c.id.in_(left),
            E.c.kind == "day",
            ~exists().where(N.c.entry_id == E.c.id),
        )
    )

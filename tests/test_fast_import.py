"""The import's fast paths store what the plain ones did: rows, schema, the command's output."""

from __future__ import annotations

import itertools
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, event, func, insert, select

from bot.core.journal_doc import parse_journal
from bot.core.notes import NoteDraft
from storage import bulk_import
from storage.bulk_import import _PlainRows
from storage.tables import entries as E
from storage.tables import new_user
from storage.tables import notes as N
from tests.conftest import Journals, migrated_engine
from tests.test_export_import import NOW, export, sample_text

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ("id", "user_id", "entry_id", "parent_id", "position", "kind", "ordered", "paren",
           "done", "text", "part", "source_key", "created_at")  # fmt: skip
FLAGS = ("ordered", "paren", "done")

NOTE = st.tuples(
    st.booleans(),  # a child of the note before it
    st.integers(-(2**31), 2**31),
    st.sampled_from(["item", "block"]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.text(max_size=40),
    st.one_of(st.none(), st.text(max_size=64)),
)
WHEN = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3, minutes=-30))]
    ),
)  # fmt: skip


def _user_and_day(s: Connection) -> int:
    s.execute(insert(N.metadata.tables["users"]).values(new_user(1, None, "", "UTC", None, NOW)))
    s.execute(insert(E).values(user_id=1, kind="day", key="2021-04-08", created_at=NOW))
    return int(s.execute(select(E.c.id)).scalar_one())


def _stored(s: Connection) -> list[tuple[Any, ...]]:
    """Each row's values as read back and the storage class SQLite gave each of them."""
    columns = [N.c[name] for name in COLUMNS]
    query = select(*columns, *(func.typeof(c) for c in columns)).order_by(N.c.id)
    return [tuple(row) for row in s.execute(query)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(NOTE, max_size=30), WHEN)
def test_plain_rows_store_what_sqlalchemy_stores(
    journals: Journals, notes: list[Any], now: datetime
) -> None:
    """Tuples through _PlainRows and dicts through SQLAlchemy's executemany: the same rows,
    the same values read back, the same SQLite storage classes."""
    stored = []
    for way in ("plain", "sqlalchemy"):
        engine = journals.fresh(f"{way}.db")
        with engine.begin() as s:
            eid = _user_and_day(s)
            dicts = [
                {"id": n + 1, "user_id": 1, "entry_id": eid,
                 "parent_id": n if child and n else None, "position": pos, "kind": kind,
                 "ordered": o, "paren": p, "done": d, "text": text, "part": 0,
                 "source_key": None if key is None else f"{n}{key}", "created_at": now}
                for n, (child, pos, kind, o, p, d, text, key) in enumerate(notes)
            ]  # fmt: skip
            if way == "sqlalchemy":
                if dicts:
                    s.execute(insert(N), dicts)
            else:
                rows = _PlainRows(
                    s, N, COLUMNS, {"user_id": 1, "part": 0, "created_at": now}, FLAGS
                )
                flags = [rows.lookup(name, (False, True)) for name in FLAGS]
                fixed = rows.fixed
                rows.insert(
                    [
                        tuple(
                            fixed[c] if c in fixed
                            else flags[FLAGS.index(c)][v] if c in FLAGS
                            else v
                            for c, v in ((c, row[c]) for c in COLUMNS)
                        )
                        for row in dicts
                    ]
                )  # fmt: skip
            stored.append(_stored(s))
    assert stored[0] == stored[1]


def test_plain_rows_refuse_what_they_cannot_store_as_given(tmp_path: Path) -> None:
    engine = migrated_engine(f"sqlite:///{tmp_path / 'j.db'}")
    with engine.begin() as s:
        with pytest.raises(ValueError, match="created_at needs processing"):
            _PlainRows(s, N, COLUMNS, {"user_id": 1, "part": 0}, FLAGS)
        with pytest.raises(ValueError, match="done needs processing"):
            _PlainRows(s, N, COLUMNS, {"user_id": 1, "part": 0, "created_at": NOW}, FLAGS[:2])
        with pytest.raises(ValueError, match="in that order"):  # not the table's order
            _PlainRows(s, N, COLUMNS[::-1], {}, ())
        with pytest.raises(ValueError, match="in that order"):  # `kind` has a default
            _PlainRows(s, N, ("id", "text"), {}, ())
    engine.dispose()


def test_rizhilu_import_in_its_own_process(tmp_path: Path) -> None:
    """The command as a person runs it (one thread: it forks itself for the bounded parse
    and the store): the same journal as an import in this process, in a private file, in
    a schema made without Alembic."""
    src = tmp_path / "sample.md"
    src.write_text(sample_text(), encoding="utf-8")
    db = tmp_path / "new" / "j.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "import", str(src),
         "--user", "1"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "imported 59 days (59 new)" in done.stdout and "line 193" in done.stdout
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    here = migrated_engine(f"sqlite:///{tmp_path / 'here.db'}")
    bulk_import.import_journal(here, 1, parse_journal(sample_text()), NOW, "UTC")
    there = migrated_engine(f"sqlite:///{db}")
    assert export(there) == export(here)
    here.dispose()
    there.dispose()


# A forest of notes drawn as strings, a character a note: its text, its kind, and whether it
# goes under the note before it, beside it, or one or two levels out. A string is one draw,
# where st.recursive() of builds() took dozens per tree: nine tenths of this test's time.
# Four strings, as one averages five characters: forests of about twenty notes, as before.
_NOTE_CODES = {
    chr(0x41 + n): spec
    for n, spec in enumerate(
        itertools.product(["a", "b", "日知录", ""], ["item", "block"], [1, 1, 0, -1, -2])
    )
}


def _forest(code: str) -> list[NoteDraft]:
    top: list[NoteDraft] = []
    levels = [top]  # the sibling lists from the top down to where the next note goes
    for char in code:
        text, kind, step = _NOTE_CODES[char]
        if step > 0 and levels[-1]:
            levels.append(levels[-1][-1].children)
        elif step < 0:
            del levels[max(1, len(levels) + step) :]
        levels[-1].append(NoteDraft(text=text, kind=kind))  # type: ignore[arg-type]
    return top


_CODE = st.text("".join(_NOTE_CODES), max_size=40)
FORESTS = st.tuples(_CODE, _CODE, _CODE, _CODE).map(lambda codes: _forest("".join(codes)))


@settings(max_examples=200, deadline=None)
@given(FORESTS, st.sampled_from(["2021-04-08", "s:TODO"]), st.integers(0, 3))
def test_flatten_gives_the_keys_it_always_gave(
    notes: list[NoteDraft], source: str, first: int
) -> None:
    """A note's key is _key(source, parent's key, kind, text, nth such sibling): a second
    import of the same file finds every note by it, so the faster hashing must not move it."""
    expected: list[tuple[str, str | None, int, int]] = []

    def walk(items: list[NoteDraft], parent: str | None, depth: int) -> None:
        seen: dict[tuple[str, str], int] = {}
        for pos, note in enumerate(items):
            nth = seen.get((note.kind, note.text), 0)
            seen[(note.kind, note.text)] = nth + 1
            key = bulk_import._key(source, parent or "", note.kind, note.text, str(nth))
            expected.append((key, parent, depth, pos + (first if parent is None else 0)))
            walk(note.children, key, depth + 1)

    walk(notes, None, 0)
    rows = bulk_import._flatten(source, "entry", notes, first)
    assert [(r.key, r.parent_key, r.depth, r.position) for r in rows] == expected


def _big_journal(days: int, per_day: int) -> str:
    lines = ["# 日知录", ""]
    for day in range(days, 0, -1):
        lines += [f"## 2021-3-{day}", ""]
        lines += [("  " if n % 3 else "") + f"* note {day} {n}" for n in range(per_day)]
        lines.append("")
    return "\n".join(lines)


def test_a_big_import_into_an_empty_journal_builds_its_indexes_after(tmp_path: Path) -> None:
    """From _REBUILD_AT notes the notes' indexes are dropped and made again in the import's
    transaction: afterwards they are all there; an import that fails halfway leaves the
    table as it was, indexes and all."""
    from tests.test_migrations import _schema

    parsed = parse_journal(_big_journal(12, bulk_import._REBUILD_AT // 10))
    assert parsed.note_count > bulk_import._REBUILD_AT
    engine = migrated_engine(f"sqlite:///{tmp_path / 'j.db'}")
    schema = _schema(engine)

    class Stopped(Exception):
        pass

    def stop(done: int, total: int) -> None:
        raise Stopped

    with pytest.raises(Stopped):
        bulk_import.import_journal(engine, 1, parsed, NOW, "UTC", progress=stop)
    assert _schema(engine) == schema
    with engine.connect() as s:
        assert s.execute(select(func.count()).select_from(N)).scalar() == 0
    said: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: said.append(a[2]))
    report = bulk_import.import_journal(engine, 1, parsed, NOW, "UTC")
    assert report.new_notes == parsed.note_count
    assert sum(sql.strip().startswith(("DROP INDEX", "CREATE INDEX")) for sql in said) == 6
    assert _schema(engine) == schema
    with engine.connect() as s:
        assert s.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        used = s.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM notes WHERE entry_id = 1 AND parent_id IS NULL"
        ).all()
        assert "ix_notes_entry_parent_position" in str(used)
    again = migrated_engine(f"sqlite:///{tmp_path / 'again.db'}")
    bulk_import.import_journal(again, 1, parsed, NOW, "UTC", batch=1000)  # commits per batch
    assert export(again) == export(engine)
    engine.dispose()
    again.dispose()


def test_an_in_memory_journal_keeps_its_import() -> None:
    """The import's connection with the big page cache is closed afterwards, except for an
    in-memory database, whose one connection is the database."""
    from storage.engine import ensure_schema, make_engine

    engine = make_engine("sqlite://")
    ensure_schema(engine)
    report = bulk_import.import_journal(engine, 1, parse_journal(sample_text()), NOW, "UTC")
    with engine.connect() as s:
        assert s.execute(select(func.count()).select_from(N)).scalar() == report.new_notes > 500
    engine.dispose()


def test_an_import_into_a_database_it_cannot_open_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The worker child opens the database; what it cannot open comes back as one line and
    exit 1, as `rizhilu run` says it, not as the child's traceback."""
    from tests.test_export_import import run_cli

    src = tmp_path / "sample.md"
    src.write_text(sample_text(), encoding="utf-8")
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    assert (
        run_cli(["import", str(src), "--user", "1"], monkeypatch, tmp_path / "a-file" / "j.db") == 1
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "error: cannot open the database SQLite " in err

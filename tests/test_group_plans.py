"""The group commit's and the reminder fan-out's reads on SQLite search an index, never scan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import text

from storage import ledger, reader
from storage import notes as stored_notes
from tests.conftest import migrated_engine

TABLES = ("notes", "entries", "sent")


def plan(engine: Any, statement: Any, params: dict[str, Any]) -> list[str]:
    """SQLite's query plan of a statement, one line a step."""
    compiled = statement.compile(engine)
    values = compiled.construct_params(params)  # with the statement's own literals
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled),
            tuple(values[name] for name in compiled.positiontup or ()),
        ).all()
    return [str(row[-1]) for row in rows]


def test_the_groups_notes_and_days_are_looked_up_not_scanned(tmp_path: Path) -> None:
    engine = migrated_engine(f"sqlite:///{tmp_path / 'journal.db'}")
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    refs = json.dumps([[7000 + n, 100 + n] for n in range(50)])
    keys = json.dumps([[7000 + n, "2026-11-30"] for n in range(50)])
    sent = json.dumps([[7000 + n, "2026-11-30", "reminder"] for n in range(50)])
    existing = plan(engine, stored_notes._EXISTING, {"refs": refs})
    days = plan(engine, stored_notes._DAYS, {"keys": keys})
    # the reminder and digest fan-out: which were sent or done, each day's notes, releases
    present = plan(engine, ledger._PRESENT, {"keys": sent})
    released = plan(engine, ledger._RELEASE, {"keys": sent})
    counts = plan(engine, reader._COUNTS, {"days": keys})
    engine.dispose()
    for steps in (existing, days, present, released, counts):
        tables = [step for step in steps if any(f" {t} " in step for t in TABLES)]
        assert tables, steps
        assert all(step.startswith("SEARCH") for step in tables), steps

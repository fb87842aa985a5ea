"""The group commit's reads on SQLite look each note and day up by index, never scan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import text

from storage import notes as stored_notes
from tests.conftest import migrated_engine


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
    existing = plan(engine, stored_notes._EXISTING, {"refs": refs})
    days = plan(engine, stored_notes._DAYS, {"keys": keys})
    engine.dispose()
    for steps in (existing, days):
        tables = [step for step in steps if " notes" in step or " entries" in step]
        assert tables, steps
        assert all(step.startswith("SEARCH") for step in tables), steps

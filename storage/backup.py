"""A consistent copy of a live SQLite journal (the backup API, not `cp`: WAL keeps data aside)."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select

from storage.engine import make_engine
from storage.tables import notes


class BackupError(Exception):
    """The backup could not be made; the message says why."""


@dataclass(frozen=True)
class BackupReport:
    """What was written."""

    path: Path
    size: int
    notes: int


def backup(engine: Engine, target: Path) -> BackupReport:
    """Copy the database to `target` while the bot may be writing; verify the copy."""
    if engine.dialect.name != "sqlite":
        raise BackupError("backup copies SQLite databases; for PostgreSQL use pg_dump")
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    raw = engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # pages copied under SQLite's own locking: a consistent snapshot
        finally:
            copy.close()
    finally:
        raw.close()
    with partial.open("rb") as fh:
        os.fsync(fh.fileno())
    checked = make_engine(f"sqlite:///{partial}")
    try:
        with checked.connect() as c:
            verdict = c.exec_driver_sql("PRAGMA integrity_check").scalar()
            count = int(c.execute(select(func.count()).select_from(notes)).scalar() or 0)
            c.exec_driver_sql("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        checked.dispose()
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed SQLite's integrity check: {verdict}")
    os.replace(partial, target)
    return BackupReport(target, target.stat().st_size, count)

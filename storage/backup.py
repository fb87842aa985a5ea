"""Consistent copies of a live SQLite journal (the backup API, not `cp`), rotation, restore."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from storage.engine import MIGRATIONS, SCHEMA_HEAD, make_engine
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


# ---------------------------------------------------------------- scheduled backups

NAME = re.compile(r"rizhilu-(\d{8}-\d{6})\.db")  # what rotation may delete: nothing else
STAMP = "%Y%m%d-%H%M%S"


def backups_in(folder: Path) -> list[Path]:
    """The scheduled backups in `folder`, oldest first (their names sort by time)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if NAME.fullmatch(p.name) and p.is_file())


def last_backup_at(folder: Path) -> datetime | None:
    """When the newest scheduled backup in `folder` was made (UTC), or None."""
    found = backups_in(folder)
    if not found:
        return None
    match = NAME.fullmatch(found[-1].name)
    assert match is not None
    return datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC)


def backup_into(engine: Engine, folder: Path, now: datetime, keep: int) -> BackupReport:
    """A verified backup named by the time, then only the newest `keep` backups are kept.

    Rotation runs only after the new copy passed its check: a failing backup never costs
    an old one.
    """
    report = backup(engine, folder / f"rizhilu-{now.astimezone(UTC):{STAMP}}.db")
    for old in backups_in(folder)[:-keep]:
        old.unlink(missing_ok=True)
    return report


# ---------------------------------------------------------------- restore


class RestoreError(Exception):
    """The journal was not replaced; the message says why."""


@dataclass(frozen=True)
class RestoreReport:
    """What was restored, and where the journal it replaced was kept."""

    notes: int
    revision: str
    safety_copy: Path | None


def known_revisions() -> set[str]:
    """The Alembic revisions this version of rizhilu can read (or upgrade from)."""
    return {p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py")}


def check_backup(path: Path) -> tuple[int, str]:
    """(notes, schema revision) of a backup file, or a RestoreError saying what is wrong."""
    if not path.is_file():
        raise RestoreError(f"{path} is not a file")
    try:
        # read-only, and immutable: the check never writes to the backup or makes a -wal
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            verdict = con.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise RestoreError(f"{path} fails SQLite's integrity check: {verdict}")
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            if not {"alembic_version", "notes"} <= tables:
                raise RestoreError(f"{path} is an SQLite file but not a rizhilu journal")
            revision = str(con.execute("SELECT version_num FROM alembic_version").fetchone()[0])
            count = int(con.execute("SELECT count(*) FROM notes").fetchone()[0])
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise RestoreError(f"{path} is not a readable SQLite journal ({exc})") from None
    if revision not in known_revisions():
        raise RestoreError(
            f"{path} has schema {revision}, which this rizhilu does not know (it reads up to "
            f"{SCHEMA_HEAD}): restore it with the rizhilu that made it, or upgrade"
        )
    return count, revision


@contextlib.contextmanager
def journal_lock(database: Path, *, exclusive: bool) -> Iterator[bool]:
    """A lock beside the journal: the bot holds it shared while it runs, restore exclusively.

    Yields False when it is held the other way (the bot runs; a restore is under way).
    Without fcntl (Windows) it yields True: stop the bot yourself before a restore.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield True
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(database.with_name(database.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy(source: sqlite3.Connection, target: Path) -> None:
    """SQLite's backup API into a new self-contained file (no -wal), fsynced."""
    target.unlink(missing_ok=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
    with target.open("rb") as fh:
        os.fsync(fh.fileno())


def _free_name(path: Path) -> Path:
    for n in itertools.count(2):
        if not path.exists():
            break
        path = path.with_name(f"{path.name.rsplit('~', 1)[0]}~{n}")
    return path


def _keep_current(database: Path, now: datetime) -> Path:
    """Fold the journal's -wal into it (a stale -wal must never meet the new file) and keep
    a checked copy of it beside it; returns the copy's path."""
    current = sqlite3.connect(database, timeout=2)
    try:
        current.execute("PRAGMA journal_mode=DELETE")
        safety = _free_name(database.with_name(f"{database.name}.before-restore-{now:{STAMP}}"))
        _copy(current, safety)
    except sqlite3.OperationalError as exc:  # another program has it open
        raise RestoreError(
            f"{database} is in use by another program ({exc}); close it and try again"
        ) from None
    finally:
        current.close()
    check_backup(safety)
    for extra in ("-wal", "-shm"):
        database.with_name(database.name + extra).unlink(missing_ok=True)
    return safety


def restore(database: Path, source: Path, now: datetime) -> RestoreReport:
    """Replace the SQLite journal at `database` with the backup `source`, atomically.

    The backup is checked first (integrity, a rizhilu schema this version knows) and
    copied beside the journal; the journal is made self-contained (its -wal folded in and
    removed, so no stale -wal can meet the new file) and kept as a checked safety copy;
    then the new file takes its name with one os.replace. Refused while a bot runs on it.
    """
    count, revision = check_backup(source)
    with journal_lock(database, exclusive=True) as mine:
        if not mine:
            raise RestoreError(
                f"a bot is running on {database}: stop it (e.g. systemctl stop rizhilu) first"
            )
        incoming = database.with_name(database.name + ".restoring")
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            _copy(src, incoming)
        finally:
            src.close()
        try:
            safety = _keep_current(database, now) if database.exists() else None
        except BaseException:
            incoming.unlink(missing_ok=True)  # nothing changed: leave nothing behind
            raise
        os.replace(incoming, database)
        _fsync_dir(database.parent)
    return RestoreReport(count, revision, safety)

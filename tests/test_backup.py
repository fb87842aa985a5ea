"""`rizhilu backup`: a verified copy of the live SQLite journal."""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.core.capture import message_notes
from bot.core.clock import FixedClock
from bot.emulator import FakeBotAPI
from storage.backup import RestoreError, backup_into, journal_lock, restore
from storage.engine import MIGRATIONS, SCHEMA_HEAD, make_engine, migrate, session_factory
from storage.notes import MessageRef
from storage.tables import notes
from tests.conftest import USER, Repos, repositories
from tests.test_e2e_reminders import fire


def test_backup_while_the_journal_is_open(
    repos: Repos, clock: FixedClock, db_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    repos.users.ensure(1, 1, "Ada", "UTC", None)
    for i in range(1, 6):
        ref = MessageRef(1, 1, i, clock.now())
        repos.notes.add_message(ref, date(2021, 4, 8), message_notes(f"note {i}\n- child"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    target = tmp_path / "backups" / "copy.db"
    args = ["--env-file", str(tmp_path / "absent.env"), "backup", str(target)]
    if not db_url.startswith("sqlite"):
        assert main(args) == 2
        assert "pg_dump" in capsys.readouterr().err
        return
    assert main(args) == 0
    assert "10 notes, integrity ok" in capsys.readouterr().out
    assert target.read_bytes()[18] == 1  # a rollback-journal file: self-contained, no -wal
    copy = make_engine(f"sqlite:///{target}")
    with copy.connect() as c:
        assert c.execute(select(func.count()).select_from(notes)).scalar() == 10
    copy.dispose()
    assert main(args) == 2  # never overwrites
    assert "exists" in capsys.readouterr().err


def note_numbers(url: str) -> set[int]:
    """The n of every 'note n' in a journal."""
    engine = make_engine(url)
    with engine.connect() as c:
        texts = c.execute(select(notes.c.text)).scalars().all()
    engine.dispose()
    return {int(t.split()[1]) for t in texts if t.startswith("note ")}


def test_backup_while_notes_are_written_then_restore_loses_nothing(
    sqlite_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    database = tmp_path / "journal.db"
    engine = make_engine(sqlite_url)
    migrate(engine)
    repos = repositories(session_factory(engine), clock)
    repos.users.ensure(1, 1, "Ada", "UTC", None)
    committed: list[int] = []
    stop = threading.Event()
    # held from a note's write until it is listed: a note committed by the end of the backup
    # is listed by then (else the writer, paused between the two on a busy machine, left
    # a saved note out of `after`)
    listing = threading.Lock()

    def write() -> None:  # the bot storing notes while the backup runs
        for i in itertools.count(1):
            if stop.is_set():
                return
            ref = MessageRef(1, 1, i, clock.now())
            with listing:
                repos.notes.add_message(ref, date(2021, 4, 8), message_notes(f"note {i}"))
                committed.append(i)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(committed) < 30:
            time.sleep(0.005)
        before = set(committed)
        report = backup_into(engine, tmp_path / "backups", clock.now(), keep=3)
        with listing:
            after = set(committed)
        while len(committed) < len(after) + 30:  # and the bot goes on writing
            time.sleep(0.005)
    finally:
        stop.set()
        writer.join()
    engine.dispose()
    written = set(committed)
    saved = note_numbers(f"sqlite:///{report.path}")
    # a consistent snapshot: everything committed before the backup began, nothing half-done
    assert before <= saved <= after
    assert report.notes == len(saved)
    assert len(written) > len(saved)

    restored = restore(database, report.path, clock.now())
    assert restored.notes == len(saved) and restored.safety_copy is not None
    assert note_numbers(sqlite_url) == saved  # the journal is the backup again
    assert note_numbers(f"sqlite:///{restored.safety_copy}") == written  # nothing lost
    assert not database.with_name("journal.db-wal").exists() or note_numbers(sqlite_url) == saved
    check = make_engine(sqlite_url)
    with check.connect() as c:
        assert c.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    check.dispose()


def test_restore_on_the_command_line(
    clock: FixedClock, db_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", db_url)
    cli = ["--env-file", str(tmp_path / "absent.env")]
    if not db_url.startswith("sqlite"):
        assert main([*cli, "restore", str(tmp_path / "any.db")]) == 2
        assert "pg_restore" in capsys.readouterr().err
        return
    engine = make_engine(db_url)
    migrate(engine)
    repos = repositories(session_factory(engine), clock)
    repos.users.ensure(1, 1, "Ada", "UTC", None)
    for i in (1, 2):
        repos.notes.add_message(MessageRef(1, 1, i, clock.now()), date(2021, 4, 8),
                                message_notes(f"note {i}"))  # fmt: skip
    copy = tmp_path / "copy.db"
    assert main([*cli, "backup", str(copy)]) == 0
    repos.notes.add_message(MessageRef(1, 1, 3, clock.now()), date(2021, 4, 9),
                            message_notes("note 3"))  # fmt: skip
    capsys.readouterr()

    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello " * 1000)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE t (x)")
    newer = tmp_path / "newer.db"
    newer.write_bytes(copy.read_bytes())
    with sqlite3.connect(newer) as con:
        con.execute("UPDATE alembic_version SET version_num = '9999'")
    for bad, why in [
        (tmp_path / "absent.db", "is not a file"),
        (not_sqlite, "is not a readable SQLite journal"),
        (other, "not a rizhilu journal"),
        (newer, "schema 9999, which this rizhilu does not know"),
    ]:
        assert main([*cli, "restore", str(bad)]) == 2
        assert why in capsys.readouterr().err
    assert note_numbers(db_url) == {1, 2, 3}  # refused: untouched

    database = tmp_path / "journal.db"
    assert main([*cli, "restore", str(copy)]) == 2  # our engine still has it open
    assert "is in use by another program" in capsys.readouterr().err
    engine.dispose()
    assert note_numbers(db_url) == {1, 2, 3} and not list(tmp_path.glob("*.restoring"))
    with journal_lock(database, exclusive=False):  # what a running bot holds
        assert main([*cli, "restore", str(copy)]) == 2
        assert "a bot is running" in capsys.readouterr().err
    assert main([*cli, "restore", str(copy)]) == 0
    out = capsys.readouterr().out
    assert "restored" in out and "2 notes" in out
    assert note_numbers(db_url) == {1, 2}
    (kept,) = tmp_path.glob("journal.db.before-restore-*")
    assert f"kept as {kept}" in out
    assert note_numbers(f"sqlite:///{kept}") == {1, 2, 3}
    assert not list(tmp_path.glob("*.restoring"))


async def test_the_bot_backs_up_every_day_and_keeps_the_newest(
    fake: FakeBotAPI, start_bot: Any, tmp_path: Path, db_url: str
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a backup: never rotated away")
    old = folder / "rizhilu-20210101-033000.db"  # a day's backup from long ago
    old.write_bytes(b"old")
    clock = FixedClock(datetime(2021, 4, 8, 3, 30, tzinfo=UTC))
    bot = await start_bot(clock=clock, backup_dir=str(folder), backup_keep=2)
    jobs = bot.exposed["app"].job_queue.get_jobs_by_name("backup")
    if not db_url.startswith("sqlite"):
        assert not jobs  # PostgreSQL: pg_dump's job, said in the log
        return
    (job,) = jobs
    assert job.job.trigger.interval == timedelta(days=1)
    fake.send(USER, "note 1")
    await bot.reacted(1)
    made = []
    for day in (8, 9, 10):
        clock.set(datetime(2021, 4, day, 3, 30, tzinfo=UTC))
        name = f"rizhilu-202104{day:02d}-033000.db"
        await fire(bot, "backup")
        made.append(name)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt", *made[1:]]
    assert note_numbers(f"sqlite:///{folder / made[-1]}") == {1}
    with pytest.raises(RestoreError, match="a bot is running"):
        restore(tmp_path / "journal.db", folder / made[-1], clock.now())
    await bot.stop()
    # started again, the next backup is due a day after the newest one, not at once
    bot = await start_bot(clock=clock, backup_dir=str(folder), backup_keep=2)
    (job,) = bot.exposed["app"].job_queue.get_jobs_by_name("backup")
    assert job.next_t - datetime.now(UTC) > timedelta(hours=23)


def test_restore_brings_an_older_backup_up_to_date_into_a_new_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from alembic import command
    from alembic.config import Config

    old = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{old}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")  # a journal from the first release
    engine.dispose()
    fresh = tmp_path / "new" / "journal.db"  # a new machine: no journal yet
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{fresh}")
    assert main(["--env-file", str(tmp_path / "absent.env"), "restore", str(old)]) == 0
    out = capsys.readouterr().out
    assert "restored" in out and "kept as" not in out
    check = make_engine(f"sqlite:///{fresh}")
    with check.connect() as c:
        assert c.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == SCHEMA_HEAD
    check.dispose()

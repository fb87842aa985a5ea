"""Migrations: the models match the newest revision; the same code runs on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, text

from bot.core.capture import message_notes
from bot.core.clock import FixedClock
from bot.core.journal_doc import fix_dates, parse_journal
from storage import bulk_import
from storage.engine import make_engine, migrate, normalize_url, session_factory
from storage.ledger import Ledger
from storage.models import Base
from storage.notes import MessageRef
from tests.conftest import repositories
from tests.test_export_import import NOW, export, sample_text


def test_models_match_migrations(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    migrate(engine)
    migrate(engine)  # running again on start is harmless
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    engine.dispose()


def test_driver_choice() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


@pytest.mark.postgres
def test_postgres_journal(pg_url: str) -> None:
    engine = make_engine(pg_url)
    migrate(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    clock = FixedClock(datetime(2021, 4, 8, 12, tzinfo=UTC))
    repos = repositories(session_factory(engine), clock)
    repos.users.ensure(1, 1, "Ada", "UTC", None)
    ref = MessageRef(1, 1, 1, clock.now())
    assert (
        repos.notes.add_message(ref, date(2021, 4, 8), message_notes("a\n- b")).status == "stored"
    )
    assert repos.notes.add_message(ref, date(2021, 4, 8), message_notes("a")).status == "duplicate"
    notes = repos.reader.day_notes(1, date(2021, 4, 8))
    assert notes[0].text == "a" and notes[0].children[0].text == "b"
    todo = MessageRef(1, 1, 2, clock.now())
    repos.notes.add_message(todo, date(2021, 4, 8), message_notes("[ ] 50% of TODO"))
    hits, total = repos.reader.search(1, ["50%"], 10)
    assert total == 1 and hits[0].text.endswith("50% of TODO")
    assert repos.reader.search(1, ["5_"], 10)[1] == 0
    (open_todo,) = repos.reader.open_todos(1)
    assert repos.notes.set_done_by_id(2, open_todo.note_id, True) is None  # not theirs
    assert repos.notes.set_done_by_id(1, open_todo.note_id, True) is not None
    assert repos.reader.open_todos(1) == []
    ledger = Ledger(session_factory(engine), clock)
    assert ledger.claim(1, date(2021, 4, 8), "reminder")
    assert not ledger.claim(1, date(2021, 4, 8), "reminder")
    engine.dispose()


@pytest.mark.postgres
def test_postgres_import_export_matches_sqlite(pg_url: str, tmp_path: Any) -> None:
    parsed = parse_journal(sample_text())
    exports = []
    for url in (pg_url, f"sqlite:///{tmp_path / 'j.db'}"):
        engine = make_engine(url)
        migrate(engine)
        bulk_import.import_journal(engine, 1, parsed, NOW, "UTC")
        moved = bulk_import.import_journal(engine, 1, fix_dates(parsed), NOW, "UTC")
        assert moved.new_notes == 0 and moved.moved_notes > 0
        exports.append(export(engine))
        engine.dispose()
    assert exports[0] == exports[1] and "## 2021-3-7" in exports[0]


def test_schema_head_is_the_newest_revision() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from storage.engine import MIGRATIONS, SCHEMA_HEAD

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_HEAD


def test_upgrade_from_the_first_revision_keeps_the_journal(empty_db_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from storage.engine import MIGRATIONS, SCHEMA_HEAD, ensure_schema

    engine = make_engine(empty_db_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")
    with engine.begin() as conn:  # a journal written by the first release
        conn.execute(text("INSERT INTO users (id, chat_id, name, timezone, reminder_mode, "
                          "blocked, created_at, updated_at) VALUES (1, 1, 'Ada', 'UTC', "
                          "'always', false, '2021-04-08 12:00:00', '2021-04-08 12:00:00')"))  # fmt: skip
    ensure_schema(engine)  # what `rizhilu run` does on start
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_HEAD
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    clock = FixedClock(datetime(2021, 4, 8, 12, tzinfo=UTC))
    repos = repositories(session_factory(engine), clock)
    user = repos.users.get(1)
    assert user is not None and user.timezone == "UTC"
    ref = MessageRef(1, 1, 1, clock.now())
    assert repos.notes.add_message(ref, date(2021, 4, 8), message_notes("a"), album="x").status == (
        "stored"
    )
    engine.dispose()


def _schema(engine: Any) -> dict[str, Any]:
    """Every table's columns (by name), keys, indexes and checks, as the database reports them."""
    from sqlalchemy import inspect

    found = inspect(engine)
    out: dict[str, Any] = {}
    for table in found.get_table_names():
        columns = {
            c["name"]: (str(c["type"]), c["nullable"], c["default"], c.get("autoincrement"))
            for c in found.get_columns(table)
        }
        out[table] = {
            "columns": columns,
            "pk": found.get_pk_constraint(table),
            "fks": sorted(repr(sorted(fk.items())) for fk in found.get_foreign_keys(table)),
            "indexes": sorted(repr(sorted(ix.items())) for ix in found.get_indexes(table)),
            "unique": sorted(repr(sorted(u.items())) for u in found.get_unique_constraints(table)),
            "checks": sorted(repr(sorted(c.items())) for c in found.get_check_constraints(table)),
        }
    return out


def test_a_fresh_schema_is_the_migrated_schema(tmp_path: Any, empty_db_url: str) -> None:
    """ensure_schema builds an empty database from the tables and stamps it: the same schema
    as every migration run in turn (only the columns' order differs, which no query sees)."""
    from storage.engine import SCHEMA_HEAD, ensure_schema

    fresh = make_engine(empty_db_url)
    ensure_schema(fresh)
    with fresh.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_HEAD
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    if fresh.dialect.name == "sqlite":
        migrated = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
        migrate(migrated)
        assert _schema(fresh) == _schema(migrated)
        migrated.dispose()
    else:
        from storage.scratch import scratch_schema
        from tests.conftest import POSTGRES

        with scratch_schema(POSTGRES) as url:
            assert url is not None
            migrated = make_engine(url)
            migrate(migrated)
            assert _schema(fresh) == _schema(migrated)
            migrated.dispose()
    ensure_schema(fresh)  # at the head: nothing to do
    migrate(fresh)  # and Alembic agrees
    fresh.dispose()


def test_a_fresh_schema_stopped_halfway_is_migrated_next_time(sqlite_url: str) -> None:
    """On SQLite the tables are created in the stamp's transaction: a stop before its commit
    leaves only an empty version table, and the next start migrates from the beginning."""
    from sqlalchemy import inspect

    from storage import tables
    from storage.engine import SCHEMA_HEAD, create_schema, ensure_schema

    engine = make_engine(sqlite_url)

    class Stopped(Exception):
        pass

    class Halfway(MetaData):
        """Creates every table, then stops (as a kill before the commit would)."""

        def create_all(self, bind: Any, *args: Any, **kwargs: Any) -> None:
            tables.metadata.create_all(bind)
            raise Stopped

    with pytest.raises(Stopped):
        create_schema(engine, Halfway())
    assert inspect(engine).get_table_names() == ["alembic_version"]
    ensure_schema(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_HEAD
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    assert not create_schema(engine)  # not empty: left alone
    engine.dispose()

"""Migrations: the models match the newest revision; the same code runs on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from bot.core.capture import message_notes
from bot.core.clock import FixedClock
from storage.engine import make_engine, migrate, normalize_url, session_factory
from storage.journal import Journal, MessageRef
from storage.models import Base


def test_models_match_migrations(db_url: str) -> None:
    engine = make_engine(db_url)
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


@pytest.fixture
def pg_url() -> Any:
    url = os.environ.get("RIZHILU_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception:
        engine.dispose()
        pytest.skip("PostgreSQL is not available")
    schema = f"t_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in url else "?"
    yield f"{url}{sep}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.mark.postgres
def test_postgres_journal(pg_url: str) -> None:
    engine = make_engine(pg_url)
    migrate(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    clock = FixedClock(datetime(2021, 4, 8, 12, tzinfo=UTC))
    journal = Journal(session_factory(engine), clock)
    journal.ensure_user(1, 1, "Ada", "UTC", None)
    ref = MessageRef(1, 1, 1, clock.now())
    assert journal.add_message(ref, date(2021, 4, 8), message_notes("a\n- b")).status == "stored"
    assert journal.add_message(ref, date(2021, 4, 8), message_notes("a")).status == "duplicate"
    notes = journal.day_notes(1, date(2021, 4, 8))
    assert notes[0].text == "a" and notes[0].children[0].text == "b"
    engine.dispose()

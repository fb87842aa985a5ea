"""PostgreSQL connections back from the pool: pinged when they sat idle, not at every use."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import DBAPIError

from storage.engine import is_transient, make_engine

pytestmark = pytest.mark.postgres


def backend(conn: Connection) -> int:
    return int(conn.execute(select(func.pg_backend_pid())).scalar_one())


def kill_pooled(engine: Engine, pg_url: str) -> int:
    """Use a connection, give it back to the pool, then have the server end it."""
    with engine.connect() as conn:
        pid = backend(conn)
    other = make_engine(pg_url)
    try:
        with other.connect() as admin:
            assert admin.execute(select(func.pg_terminate_backend(pid))).scalar_one()
    finally:
        other.dispose()
    return pid


def test_a_connection_the_server_dropped_while_idle_is_replaced(pg_url: str) -> None:
    engine = make_engine(pg_url, ping_after=0.0)  # every connection counts as idle
    try:
        dead = kill_pooled(engine, pg_url)
        with engine.connect() as conn:  # the ping fails: a new connection, no error
            assert backend(conn) != dead
            assert conn.execute(select(1)).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(pg_url: str) -> None:
    engine = make_engine(pg_url, ping_after=3600.0)
    try:
        kill_pooled(engine, pg_url)
        # no ping: the statement itself meets the dropped connection, as the callers'
        # transient errors do (and the pool then replaces its older connections)
        with pytest.raises(DBAPIError) as failed, engine.connect() as conn:
            conn.execute(select(1))
        assert is_transient(failed.value)
        with engine.connect() as conn:
            assert conn.execute(select(1)).scalar_one() == 1
    finally:
        engine.dispose()

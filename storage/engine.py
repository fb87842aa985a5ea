"""Engine and session factories; SQLite pragmas; migrations applied on start."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ARRAY,
    Column,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    Select,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

if TYPE_CHECKING:  # the ORM is imported only by code that uses sessions
    from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 7_246_153_101  # the advisory lock held while migrating (PostgreSQL)
SCHEMA_HEAD = "0006"  # newest Alembic revision; a test keeps it in step with versions/
# a PostgreSQL connection back from the pool after this long idle is pinged first
PING_AFTER = 2.0


def normalize_url(url: str) -> str:
    """Pick the driver: plain `postgresql://` uses psycopg 3; SQLite paths get their folder made."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL points to (absolute), or None for PostgreSQL and `:memory:`."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser().absolute()


def describe(url: str) -> str:
    """The database as a person should see it: a SQLite file's full path, or the URL
    without its password."""
    path = sqlite_file(url)
    if path is not None:
        return f"SQLite {path}"
    return make_url(normalize_url(url)).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, *, echo: bool = False, ping_after: float = PING_AFTER) -> Engine:
    """An engine for SQLite (WAL, FULL sync, foreign keys, busy timeout) or PostgreSQL
    (a connection idle `ping_after` seconds in the pool is pinged before use)."""
    url = normalize_url(url)
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine, ping_after)
    return engine


def _ping_when_idle(engine: Engine, after: float) -> None:
    """Ping a connection taken from the pool only when it sat there `after` seconds or more.

    SQLAlchemy's pool_pre_ping pings at every checkout: a round trip before each
    transaction, which under a stream of notes was a sixth of PostgreSQL's rate
    (bench/ingest.py: 700 notes/s with it, 796-811 without). A connection that a server
    restart or an idle timeout killed has sat in the pool (it fails the ping, and the pool
    connects anew, as with pre_ping); one used a moment ago that the server dropped since
    fails its statement as a disconnect, which invalidates the pool's older connections and
    reaches the callers as the transient error they already retry.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _idle_from(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since < after:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:  # gone: the pool drops it and connects anew
            raise DisconnectionError(str(exc)) from exc


class DatabaseUnavailable(Exception):
    """The database cannot be opened or brought up to date (the message is one line)."""


def one_line(exc: BaseException) -> str:
    """The driver's own first line for a database error (SQLAlchemy adds SQL and a link)."""
    inner = getattr(exc, "orig", None) or exc
    lines = str(inner).strip().splitlines()
    return lines[0] if lines else type(inner).__name__


def open_database(url: str) -> Engine:
    """An engine on an up-to-date schema, or DatabaseUnavailable saying why in one line."""
    from sqlalchemy.exc import SQLAlchemyError

    shown = describe(url)
    try:
        engine = make_engine(url)
    except OSError as exc:  # the SQLite file's folder cannot be made
        raise DatabaseUnavailable(f"{shown}: {exc.strerror or exc}") from exc
    try:
        ensure_schema(engine)  # Alembic (11 MB, a tenth of a second) only when behind
    except (OSError, SQLAlchemyError) as exc:
        engine.dispose()
        raise DatabaseUnavailable(f"{shown}: {one_line(exc)}") from exc
    return engine


def upsert_insert(dialect: str) -> Any:
    """The dialect's INSERT that supports ON CONFLICT DO NOTHING (imported only when used)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def unnested(table: Table, columns: Sequence[str]) -> Select[Any]:
    """PostgreSQL: rows sent as one array per column (by_column), unnested back into rows.

    One short statement whatever the number of rows: psycopg turns placeholders into $n with
    a regex and keeps the result only for statements of at most 50 parameters, so a
    100-row INSERT … VALUES took ~1-1.4 ms of a database thread to convert, at every batch.
    """
    return select(*(func.unnest(bindparam(c, type_=ARRAY(table.c[c].type))) for c in columns))


def json_tuples(name: str, width: int) -> tuple[Any, ...]:
    """SQLite: a parameter holding a JSON array of `width`-long arrays (json.dumps of the
    tuples), as a table (json_each) and each tuple's values: rows, then value 0, 1, ...

    SQLite plans a tuple IN list as a scan of a whole index (33 ms a group commit on
    200,000 notes); a join from these rows is an index lookup a tuple, and the statement is
    fixed whatever the number of tuples (one parameter).
    """
    rows = func.json_each(bindparam(name)).table_valued("value")
    return (rows, *(func.json_extract(rows.c.value, f"$[{n}]") for n in range(width)))


def json_rows(rows: Iterable[Sequence[Any]]) -> str:
    """The parameter json_tuples() reads: the tuples as one JSON array (a date as its ISO
    date, as SQLite stores it)."""
    return json.dumps(list(rows), default=_json_date)


def _json_date(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def by_column(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> dict[str, list[Any]]:
    """The parameters of unnested(): each column's values, in the rows' order."""
    return {c: [row[c] for row in rows] for c in columns}


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


def ensure_schema(engine: Engine) -> None:
    """Migrate only when the schema is behind (spares short commands Alembic's import);
    an empty database gets the newest schema at once (create_schema)."""
    from sqlalchemy import inspect, text

    try:
        tables = inspect(engine).get_table_names()
        if "alembic_version" in tables:
            with engine.connect() as c:
                if c.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
                    SCHEMA_HEAD
                ):
                    return
        elif not tables and create_schema(engine):
            return
    except Exception:  # noqa: S110 - any doubt: let Alembic decide
        pass
    migrate(engine)


def _version_table() -> Table:
    """Alembic's own version table, as `alembic upgrade` creates it."""
    return Table(
        "alembic_version",
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )


def create_schema(engine: Engine, schema: MetaData | None = None) -> bool:
    """An empty database made the newest schema straight from storage.tables, stamped with
    SCHEMA_HEAD; False (nothing done) if the database is not empty.

    The same tables, columns, keys and indexes as running every migration
    (tests/test_migrations.py compares the two), without Alembic's import and its six
    migrations' table rebuilds: a fresh journal's first `rizhilu import` or start is 0.3 to
    0.7 s shorter. Only the order of columns differs (a migration appends its column; every
    query names its columns). `schema`: storage.tables' metadata unless a test gives another.
    """
    from sqlalchemy import func, insert, inspect, select

    from storage.tables import metadata

    schema = metadata if schema is None else schema

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # replicas starting together: one creates, the others wait and find it done
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        if inspect(connection).get_table_names():
            return False
        version = _version_table()
        version.create(connection)
        # on SQLite this INSERT opens the transaction (the driver begins one before DML, not
        # DDL): the tables are then created inside it, all or none; a stop before the commit
        # leaves the version table empty, which Alembic migrates from the start
        connection.execute(insert(version).values(version_num=SCHEMA_HEAD))
        schema.create_all(connection)
    return True


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (safe to run on every start)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            from sqlalchemy import func, select

            # replicas starting together: one migrates, the others wait and find it done
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def is_transient(exc: BaseException) -> bool:
    """The database was unreachable or busy: the same write is worth trying again later.

    (A constraint or data error is not: trying again gives the same answer.)
    """
    from sqlalchemy.exc import DBAPIError, OperationalError

    return isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)
    )

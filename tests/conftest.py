"""Fixtures: a temporary SQLite journal, a fixed clock, the fake Bot API and a running bot."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import gc
import logging
import os
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from bot.core.clock import FixedClock, SystemClock
from bot.core.render import render_body
from bot.emulator import FakeBotAPI
from bot.settings import Settings, load_settings

# SQLAlchemy, the storage layer and python-telegram-bot (0.4 s of CPU) are imported where
# they are used: the process that hands the tests out loads this file too, and uses none
# of it (the tests' own processes start once it has)
if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session, sessionmaker

    from bot.telegram.ratelimit import Pace
    from storage.actions import Actions
    from storage.notes import Notes
    from storage.reader import Reader
    from storage.users import Users

USER = 1001


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis without the plugins other packages register; full garbage collections
    rarer; temporary files in memory (/dev/shm) when it has room and TMPDIR is not set.

    Trio (there for selenium) registers one: importing hypothesis imported trio and ran a
    full garbage collection, in each test process and in the one that prints the summary
    (0.2 s of its CPU); no test runs trio.
    A test process's heap is big and lives as long as it does (every test module, hypothesis,
    the app), and each full collection walked all of it: 6-12 of them, 1.0-1.9 s of each
    process's CPU. With the oldest generation considered after 100 collections of the middle
    one instead of 10, none came in a whole run, for 30-70 MB more memory a process.
    Every SQLite commit fsyncs (synchronous=FULL), about 2.5 ms each on this machine's disk
    and far more when it is busy; the tests commit thousands of times and test no power loss.
    """
    os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")  # before any test module imports it
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 100)
    shm = "/dev/shm"
    if "TMPDIR" in os.environ or not os.path.isdir(shm) or not os.access(shm, os.W_OK):
        return
    room = os.statvfs(shm)
    if room.f_bavail * room.f_frsize >= 1 << 30:
        os.environ["TMPDIR"] = shm  # for rizhilu processes the tests start too
        tempfile.tempdir = shm


# The tests that take longest (a second or more of wall each: hundreds of hypothesis examples,
# or waiting on processes, sockets and the database), longest first, as measured by
# scripts/check. They start first: scripts/check hands tests out in collection
# order to whichever process is free (xdist's loadgroup), so none is left running alone at
# the end while the other processes have nothing to do. Everything else keeps its order.
LONG_FIRST = (
    "test_journal_shortcut.py::test_shortcut_reads_what_markdown_it_reads",
    "test_e2e_reminders.py::test_the_catch_up_at_start_does_not_hold_capture",
    "test_markdown.py::test_render_then_parse_gives_the_same_tree",
    "test_capture.py::test_plain_notes_are_the_parsed_notes",
    "test_replicas.py::test_two_replicas_handle_each_update_once_in_order_and_a_killed_one_loses_nothing",
    "test_site_browser.py::",
    "test_fuzz_parsing.py::test_repeated_markdown_up_to_a_megabyte",
    "test_intake.py::test_run_command_stops_cleanly_and_never_logs_the_token",
    "test_e2e_reminders.py::test_stop_with_a_big_backlog_is_prompt_and_the_restart_sends_the_rest_once",
    "test_fuzz_parsing.py::test_a_megabyte_of_journal_is_handled_or_refused",
    "test_deep_nesting.py::test_a_deep_reply_chain_exports_auto_exports_and_shows_in_today",
    "test_export_import.py::test_any_journal_exports_and_imports_back",
    "test_export_import.py::test_fix_dates_moves_misdated_days_and_merges_collisions",
    "test_e2e_import.py::test_a_big_import_shows_its_progress",
    "test_intake.py::test_an_outage_is_one_log_line_then_one_when_it_is_over",
    "test_run_safety.py::test_run_keeps_the_webhook_secret_out_of_the_log_and_its_files_private",
    "test_intake.py::test_a_database_outage_keeps_the_note_for_later",
    "test_health.py::test_health_and_metrics_in_polling_mode",
    "test_fast_import.py::test_plain_rows_store_what_sqlalchemy_stores",
    "test_e2e_reminders.py::test_a_stop_mid_batch_gives_the_unsent_back_and_the_restart_sends_them_once",
    "test_fast_import.py::test_a_big_import_into_an_empty_journal_builds_its_indexes_after",
    "test_demo.py::test_a_piped_session_shows_the_day_with_the_note",
    "test_lean_start.py::",
    "test_e2e_import.py::test_import_a_journal_file",
    "test_e2e_export.py::test_cli_and_bot_export_the_same_bytes",
    "test_export_import.py::test_hostile_notes_cannot_break_the_document",
    "test_export_media.py::test_a_jekyll_site_built_from_the_export_shows_its_images",
    "test_intake.py::test_an_inbox_refusing_writes_is_told_once_and_logged_once",
    "test_export_media.py::test_media_out_copies_exactly_the_linked_files",
    "test_hostile_export.py::test_a_jekyll_site_builds_and_publishes_nothing_live",
    "test_fast_import.py::test_flatten_gives_the_keys_it_always_gave",
    "test_ledger_batches.py::test_the_day_is_part_of_the_key",
    "test_e2e_lookback.py::test_stats_with_a_heatmap",
)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The test process is about to exit: what the tests left is frozen out of the collector.

    Python's exit runs one last full collection over every object still alive (all the test
    modules, hypothesis, the app): 0.3 s of CPU or more in each test process, at the very
    end of the run, for memory the exit gives back anyway.
    """
    gc.freeze()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The LONG_FIRST tests first, in that order (a stable sort: the rest keep theirs)."""

    def rank(item: pytest.Item) -> int:
        name = f"{item.path.name}::{getattr(item, 'originalname', item.name)}"
        for n, prefix in enumerate(LONG_FIRST):
            if name.startswith(prefix) and (prefix.endswith("::") or name == prefix):
                return n
        return len(LONG_FIRST)

    items.sort(key=rank)


@pytest.fixture(autouse=True)
def _umask() -> Iterator[None]:
    """`rizhilu` commands run in-process make the umask private: the next test gets it back."""
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


@pytest.fixture(autouse=True)
def _root_logging() -> Iterator[None]:
    """`rizhilu run` in-process sets up logging on that test's captured stderr: the next test
    gets the root logger back (a stale handler writes "Logging error" into its stderr)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session", autouse=True)
def no_certificate_bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """httpx trusts an empty certificate folder instead of loading certifi's bundle.

    Every test talks plain HTTP to a loopback fake, so no certificate is ever checked,
    but each HTTP client loads the bundle (about 50 ms, two clients per bot start).
    """
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SSL_CERT_FILE", "")  # it would win over the folder
        env.setenv("SSL_CERT_DIR", str(tmp_path_factory.mktemp("no-certificates")))
        yield


NOON = datetime(2021, 4, 8, 12, 0, tzinfo=UTC)  # the tests' fixed day


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOON)


def on_a_fixed_day(fake: FakeBotAPI) -> FixedClock:
    """A clock fixed on 2021-4-8 at noon, and the fake Bot API dating its messages by it: for
    a test whose expectations hold the day (media folders are named by year and month, so
    the wall clock's day made such a test fail once its month had passed)."""
    fake.now = lambda: int(NOON.timestamp())
    return FixedClock(NOON)


POSTGRES = os.environ.get("RIZHILU_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def postgres_schema_url() -> Iterator[str]:
    """A new empty schema on the local PostgreSQL (dropped afterwards), or a clean skip."""
    from storage.scratch import scratch_schema

    with scratch_schema(POSTGRES) as url:
        if url is None:
            pytest.skip("PostgreSQL is not available")
        yield url


class WorkerSchema:
    """One schema per test process at the newest revision, emptied for each test.

    A new schema costs its migrations (about 0.1-0.3 s against a busy server) and a
    DROP ... CASCADE. Emptying the tables is a DELETE from each and its sequences set back
    to 1, about 5 ms for the few rows a test leaves (a TRUNCATE ... RESTART IDENTITY makes new
    files for every table: about 90 ms, before each of some 250 PostgreSQL tests). A test
    that changed the schema itself (or left its tables locked) gets a new one.
    """

    def __init__(self, schemas: contextlib.ExitStack) -> None:
        self._schemas = schemas
        self.url: str | None = None
        self._engine: Engine | None = None

    def _new(self) -> str:
        from storage.engine import make_engine, migrate
        from storage.scratch import scratch_schema

        url = self._schemas.enter_context(scratch_schema(POSTGRES, "w_"))
        if url is None:
            pytest.skip("PostgreSQL is not available")
        self._engine = make_engine(url)
        self._schemas.callback(self._engine.dispose)
        migrate(self._engine)
        self.url = url
        return url

    def clean(self) -> str:
        """The schema's URL, every table empty and every sequence restarted."""
        from sqlalchemy import inspect, text
        from sqlalchemy.exc import SQLAlchemyError

        from storage.engine import SCHEMA_HEAD
        from storage.models import Base

        if self.url is None or self._engine is None:
            return self._new()
        tables = list(Base.metadata.sorted_tables)
        try:
            with self._engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '2s'"))
                conn.execute(text("SET LOCAL synchronous_commit = off"))  # nothing to keep
                present = set(inspect(conn).get_table_names())
                version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                if version != SCHEMA_HEAD or present != {t.name for t in tables} | {
                    "alembic_version"
                }:
                    raise LookupError(f"schema changed: {version}, {sorted(present)}")
                empty_tables(conn)
                sequences = conn.execute(
                    text(
                        "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"
                    )
                ).scalars()
                for sequence in sequences.all():
                    conn.execute(text("SELECT setval(:s, 1, false)"), {"s": sequence})
        except (LookupError, SQLAlchemyError):
            return self._new()
        return self.url


def empty_tables(conn: Connection) -> None:
    """Every row of the journal's tables deleted (each table before the ones it refers to)."""
    from storage.models import Base

    for table in reversed(Base.metadata.sorted_tables):
        conn.execute(table.delete())


@pytest.fixture(scope="session")
def worker_schema() -> Iterator[WorkerSchema]:
    with contextlib.ExitStack() as schemas:
        yield WorkerSchema(schemas)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'journal.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from postgres_schema_url()


BOTH = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BOTH)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, worker_schema: WorkerSchema) -> str:
    """Every test that takes a database runs on SQLite, and on PostgreSQL when it is there.

    The SQLite file does not exist yet; the PostgreSQL schema is at the newest revision with
    empty tables (what the bot's start makes of an empty one).
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'journal.db'}"
    return worker_schema.clean()


@pytest.fixture(params=BOTH)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """db_url with nothing in it on PostgreSQL too: a new schema without tables."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'journal.db'}"
    else:
        yield from postgres_schema_url()


@functools.cache
def _empty_journal() -> bytes:
    """A new SQLite journal at the newest schema, migrated once per test process."""
    from storage.engine import make_engine, migrate

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "journal.db"
        engine = make_engine(f"sqlite:///{path}")
        migrate(engine)
        engine.dispose()  # the last connection folds the WAL into the file
        return path.read_bytes()


def migrated_engine(url: str) -> Engine:
    """An engine on a database at the newest schema.

    A new SQLite file starts as a copy of one migrated once (Alembic takes about 50 ms a
    run, and hundreds of tests and examples start from an empty journal); anything else
    is migrated.
    """
    from storage.engine import make_engine, migrate

    engine = make_engine(url)
    db = engine.url.database
    if engine.dialect.name == "sqlite" and db and db != ":memory:" and not Path(db).exists():
        Path(db).write_bytes(_empty_journal())
    else:
        migrate(engine)
    return engine


class Journals:
    """New SQLite journals for the examples of a hypothesis test: one engine a name, kept
    and emptied for each example (rowids start at 1 again: no table is AUTOINCREMENT).

    A new engine a journal made each example compile its statements again (SQLAlchemy's
    statement cache is the engine's): about a quarter of such an example's CPU.
    """

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._engines: dict[str, Engine] = {}

    def fresh(self, name: str) -> Engine:
        """The journal `name`, at the newest schema and empty."""
        engine = self._engines.get(name)
        if engine is None:
            engine = self._engines[name] = migrated_engine(f"sqlite:///{self._folder / name}")
        else:
            with engine.begin() as conn:
                empty_tables(conn)
        return engine

    def close(self) -> None:
        for engine in self._engines.values():
            engine.dispose()


@pytest.fixture(scope="module")
def journals(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journals]:
    """Journals a module's hypothesis tests empty and use again (module scope: hypothesis
    runs a test's examples within one call of its function-scoped fixtures)."""
    kept = Journals(tmp_path_factory.mktemp("journals"))
    yield kept
    kept.close()


class Cli:
    """`rizhilu` run in this process on the test's database, reading no .env file."""

    def __init__(
        self, folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.env_file = ["--env-file", str(folder / "absent.env")]
        self.setenv = monkeypatch.setenv
        self.output = capsys.readouterr  # what the commands printed since the last call

    async def __call__(self, *args: str) -> int:
        """The exit code; the command runs on a thread, so a bot in this loop goes on."""
        from bot.cli import main

        return await asyncio.to_thread(main, [*self.env_file, *args])


@pytest.fixture
def cli(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return Cli(tmp_path, monkeypatch, capsys)


@dataclass(frozen=True)
class Repos:
    """The journal's repositories over one database, as the bot's Services hold them."""

    users: Users
    notes: Notes
    reader: Reader
    actions: Actions


def repositories(sessions: sessionmaker[Session], clock: Any) -> Repos:
    from storage.actions import Actions
    from storage.notes import Notes
    from storage.reader import Reader
    from storage.users import Users

    return Repos(Users(sessions, clock), Notes(sessions, clock), Reader(sessions),
                 Actions(sessions, clock))  # fmt: skip


@pytest.fixture
def repos(db_url: str, clock: FixedClock) -> Iterator[Repos]:
    from storage.engine import session_factory

    engine = migrated_engine(db_url)
    yield repositories(session_factory(engine), clock)
    engine.dispose()


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    api = FakeBotAPI().start()
    yield api
    # on a thread of its own: the server's loop notices the stop within its poll interval
    # (20 ms), which the next test need not wait for
    threading.Thread(target=api.stop, daemon=True).start()


@pytest.fixture
def make_settings(tmp_path: Path, fake: FakeBotAPI, db_url: str) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "telegram_bot_token": fake.token,
            "database_url": db_url,
            "telegram_base_url": fake.base_url,
            "telegram_base_file_url": fake.base_file_url,
            "allowed_user_ids": str(USER),
            "timezone": "UTC",
            "media_dir": tmp_path / "media",
            "rate_limit": 0,
            "poll_timeout": 1,
            "reminder_time": "",
        }
        values.update(overrides)
        return load_settings(None, **values)

    return build


class RunningBot:
    """A bot served in the test's event loop, stopped at the end of the test."""

    def __init__(self, fake: FakeBotAPI) -> None:
        self.fake = fake
        self.task: asyncio.Task[None] | None = None
        self.stop_event = asyncio.Event()
        self.exposed: dict[str, Any] = {}

    async def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait for predicate() to hold: looked at whenever the fake Bot API is called or
        answers, and every 20 ms for what it does not see (the database, the bot's state)."""
        loop = asyncio.get_running_loop()
        moved = asyncio.Event()

        def wake() -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(moved.set)

        deadline = time.monotonic() + timeout
        self.fake.watchers.append(wake)
        try:
            while time.monotonic() < deadline:
                moved.clear()
                if predicate():
                    return
                if self.task is not None and self.task.done():
                    self.task.result()
                    raise AssertionError("the bot stopped")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(moved.wait(), 0.02)
        finally:
            self.fake.watchers.remove(wake)
        raise AssertionError("timed out")

    async def reacted(self, count: int, timeout: float = 10.0) -> None:
        await self.until(lambda: len(self.fake.calls_to("setMessageReaction")) >= count, timeout)

    def _answered(self) -> int:
        """sendMessage calls the fake has answered (a call is listed as soon as it comes)."""
        return sum(c.done for c in self.fake.calls_to("sendMessage"))

    async def replies(self, count: int, timeout: float = 10.0) -> list[str]:
        await self.until(lambda: self._answered() >= count, timeout)
        return self.fake.sent_texts()

    async def ask(self, user: int, command: str) -> str:
        """Send a command and return the bot's next text, once the fake has answered it."""
        before = len(self.fake.sent_texts())
        self.fake.command(user, command)
        await self.until(lambda: self._answered() > before)
        return self.fake.sent_texts()[-1]

    async def markdown(self, user: int, day: date | None = None) -> str:
        """A day's stored notes as markdown, once every update sent so far is handled.

        /today (or /day) goes through the same queue, so its answer is the barrier; the
        chat shows the day as HTML, the export as this markdown.
        """
        await self.ask(user, "/today" if day is None else f"/day {day.isoformat()}")
        svc = self.exposed["services"]
        info = svc.users.get(user)
        notes = svc.reader.day_notes(user, day or svc.today(info))
        return "\n".join(render_body(notes))

    async def stop(self) -> None:
        self.stop_event.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, timeout=15)


@pytest.fixture
async def start_bot(
    fake: FakeBotAPI, make_settings: Callable[..., Settings]
) -> AsyncIterator[Callable[..., Any]]:
    from bot.telegram.runner import run_bot
    from storage.engine import sqlite_file

    bots: list[RunningBot] = []

    async def start(clock: Any = None, pace: Pace | None = None, **overrides: Any) -> RunningBot:
        settings = make_settings(**overrides)
        # a new SQLite journal is a copy of the one migrated once, as migrated_engine makes
        # it (the bot made every table at each test's start: 5-8 ms of CPU); starting on a
        # new journal is `rizhilu run`'s test in test_intake.py (and test_lean_start.py's)
        journal = sqlite_file(settings.database_url)
        if journal is not None and journal.parent.is_dir() and not journal.exists():
            journal.write_bytes(_empty_journal())
        running = RunningBot(fake)
        running.task = asyncio.create_task(
            run_bot(
                settings,
                clock or SystemClock(),
                running.stop_event,
                expose=running.exposed,
                pace=pace,
            )
        )
        # started = polling or the webhook set: the jobs are rebuilt and the intake is in
        # place by then (the app is exposed before either)
        listening = lambda: fake.polls + len(fake.calls_to("setWebhook"))  # noqa: E731
        before = listening()
        await running.until(lambda: "app" in running.exposed and listening() > before)
        bots.append(running)
        return running

    yield start
    for running in bots:
        with contextlib.suppress(Exception):
            await running.stop()


def add_users(engine: Engine, people: Iterable[int], now: datetime) -> None:
    """Users with a 21:30 reminder, the rows their first contact makes (as users.ensure
    writes them), in one INSERT: a crowd of 200, one ensure() each, was 200 transactions
    and most of the CPU of the tests that need one."""
    from sqlalchemy import insert

    from storage.tables import new_user, users

    rows = [new_user(u, u, f"user {u}", "UTC", "21:30", now) for u in people]
    with engine.begin() as conn:
        conn.execute(insert(users), rows)


R = TypeVar("R")


def away(repo: R, method: str, times: int = 1) -> R:
    """A copy of a repository whose `method` finds the database away for its first `times`
    calls (a fake for outages: PostgreSQL restarting, a dropped connection)."""
    from sqlalchemy.exc import OperationalError

    fake = copy.copy(repo)
    real = getattr(repo, method)
    left = [times]

    def gone(*args: Any, **kwargs: Any) -> Any:
        if left[0] > 0:
            left[0] -= 1
            raise OperationalError(method, {}, Exception("server closed the connection"))
        return real(*args, **kwargs)

    setattr(fake, method, gone)
    return fake

"""Untrusted files parsed in a child process with a time and memory limit, killed past either.

Python's `re` and markdown-it hold the GIL for as long as they run, so a thread cannot keep a
hostile file from freezing the bot: only another process can, and only a process can be
stopped. The child forks from a forkserver (not from the bot, whose threads may hold locks)
that has the parser imported already, so a parse costs one fork, not an interpreter start.

The bot's imports run whole in the child (parse, then preview or store, in batches that each
commit): 100,000 notes are seconds of Python that would otherwise hold the bot's GIL.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING, TypeVar

from bot.core.gcpause import gc_paused
from bot.core.journal_doc import ParsedJournal, fix_dates, parse_journal
from bot.limits import BOT_LIMITS as BOT_LIMITS
from bot.limits import CLI_LIMITS as CLI_LIMITS
from bot.limits import IMPORT_TURN, Limits

if TYPE_CHECKING:
    from storage.bulk_import import ImportReport

A = TypeVar("A")
R = TypeVar("R")


class Refused(Exception):
    """The child ran out of time or memory (or died) and was stopped; there is no result."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "time" or "memory"


@cache
def _fork() -> BaseContext | None:
    return multiprocessing.get_context("fork") if "fork" in _methods() else None


def _methods() -> list[str]:
    return multiprocessing.get_all_start_methods()


@cache
def _context() -> BaseContext:
    if "forkserver" in _methods():
        ctx = multiprocessing.get_context("forkserver")
        # an import runs whole in the child: with storage preloaded it does not import
        # SQLAlchemy again in each child (about 0.3 s of CPU a file)
        ctx.set_forkserver_preload(
            ["bot.core.journal_doc", "storage.bulk_import", "storage.engine"]
        )
        return ctx
    return multiprocessing.get_context("spawn")


_parent: Connection | None = None  # in a child: the pipe to the parent


def tell(kind: str, value: object = None) -> None:
    """From a child, a word to the parent before the result: "progress" with (done, total),
    or "trusted" once the untrusted part is done (the time limit then no longer applies).
    Outside a child (fn called directly) nothing happens."""
    if _parent is not None:
        _parent.send((kind, value))


def _child(conn: Connection, fn: Callable[[A], R], arg: A, memory: int) -> None:
    global _parent
    _parent = conn
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    gc.disable()  # a short-lived process: what it allocates is freed when it exits
    try:
        outcome: tuple[str, object] = ("ok", fn(arg))
    except MemoryError:
        outcome = ("memory", None)
    except Exception as exc:  # a bug in the parser: raised again in the parent
        outcome = ("error", exc)
    try:
        conn.send(outcome)
    except MemoryError:  # pickling a huge result
        conn.send(("memory", None))
    conn.close()


def run_bounded(
    fn: Callable[[A], R],
    arg: A,
    limits: Limits,
    progress: Callable[[int, int], None] | None = None,
    *,
    inherit: bool = False,
) -> R:
    """fn(arg) in a child process; Refused if it runs past the limits (the child is killed).

    fn and arg must pickle (fn a module-level function). Blocks the calling thread, which
    waits in poll() without the GIL: call it through asyncio.to_thread on the event loop.
    `progress` hears the child's tell("progress", …), in the calling thread.

    inherit: a process with one thread (the CLI) forks itself: the child has its modules
    imported already and gets fn and arg without pickling (a 100,000-note journal's text,
    0.3 s of a forkserver's interpreter start and imports saved). A process with threads
    (the bot, a test) still uses the forkserver: a thread may hold a lock the child needs.
    """
    fork = _fork() if inherit and threading.active_count() == 1 else None
    ctx = fork or _context()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(  # type: ignore[attr-defined]
        target=_child, args=(send, fn, arg, limits.memory), daemon=True
    )
    child.start()
    send.close()
    deadline: float | None = time.monotonic() + limits.seconds
    try:
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not receive.poll(left):
                raise Refused("time")
            try:
                with gc_paused():
                    status, value = receive.recv()
            except EOFError:  # killed by the kernel, or crashed, before it could answer
                raise Refused("memory") from None
            if status == "trusted":
                deadline = None
            elif status == "progress":
                if progress is not None:
                    progress(*value)
            else:
                break
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    if status == "memory":
        raise Refused("memory")
    if status == "error":
        raise value
    return value  # type: ignore[no-any-return]


def _parse(job: tuple[str, bool]) -> ParsedJournal:
    text, fix = job
    parsed = parse_journal(text)
    return fix_dates(parsed) if fix else parsed


def parse_journal_file(text: str, limits: Limits, *, fix: bool = False) -> ParsedJournal:
    """A journal file's text parsed (and its dates fixed) in a bounded child; or Refused."""
    return run_bounded(_parse, (text, fix), limits)


IMPORT_BATCH = 1000  # notes per commit: what a note arriving meanwhile may wait for


class _Turns:
    """After each committed batch, a pause as long as the batch took (at most `longest`).

    SQLite's other writers wait for the write lock by polling (1, 2, 5 … then every 100 ms):
    an import that takes the lock again the moment it commits is never seen free, and a
    note arriving meanwhile would wait for the whole import. Half the time free, it is.
    """

    def __init__(self, longest: float) -> None:
        self._longest = longest
        self._since = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        tell("progress", (done, total))
        time.sleep(min(time.monotonic() - self._since, self._longest))
        self._since = time.monotonic()


@dataclass(frozen=True)
class ImportJob:
    """A journal file to preview (dry_run) or import for a user, from start to end in a child."""

    text: str
    fix: bool
    database_url: str
    user_id: int
    now: datetime
    timezone: str
    dry_run: bool
    batch: int = IMPORT_BATCH
    turn: float = IMPORT_TURN  # the longest pause after each batch (_Turns)
    umask: int | None = None  # for the files the child makes (a forkserver has its own)


@dataclass(frozen=True)
class ImportOutcome:
    """The import's report (None: the file has no date headings) and the dates it could fix."""

    report: ImportReport | None
    fixes: int


def _import_file(job: ImportJob) -> ImportOutcome:
    from storage.bulk_import import import_journal
    from storage.engine import make_engine

    parsed = _parse((job.text, job.fix))
    tell("trusted")  # what is left is our own code on parsed notes: no time limit
    if not parsed.days:
        return ImportOutcome(None, 0)
    engine = make_engine(job.database_url)
    try:
        report = import_journal(
            engine, job.user_id, parsed, job.now, job.timezone, dry_run=job.dry_run,
            progress=_Turns(job.turn), batch=job.batch,
        )  # fmt: skip
    finally:
        engine.dispose()
    return ImportOutcome(report, sum(1 for a in parsed.anomalies if a.fix is not None))


def import_journal_file(
    job: ImportJob, limits: Limits, progress: Callable[[int, int], None] | None = None
) -> ImportOutcome:
    """Parse in a bounded child (Refused past the limits), then preview or store there too;
    `progress` hears (notes stored, notes to store) after each batch, in the calling thread."""
    return run_bounded(_import_file, job, limits, progress)


def _told(done: int, total: int) -> None:
    tell("progress", (done, total))


def _import_whole(job: ImportJob) -> ImportReport:
    """The CLI's import: parse, then store the whole file in one transaction (all or none),
    the schema made or brought up to date first; progress told after each chunk."""
    from storage.bulk_import import import_journal
    from storage.engine import open_database

    if job.umask is not None:
        os.umask(job.umask)
    parsed = _parse((job.text, job.fix))
    tell("trusted")
    engine = open_database(job.database_url)  # DatabaseUnavailable: one line for the CLI
    try:
        return import_journal(
            engine, job.user_id, parsed, job.now, job.timezone, dry_run=job.dry_run,
            progress=_told,
        )  # fmt: skip
    finally:
        engine.dispose()


def import_whole_file(
    job: ImportJob, limits: Limits, progress: Callable[[int, int], None] | None = None
) -> ImportReport:
    """`rizhilu import`: the file parsed in a bounded child (Refused past the limits), which
    then stores it whole, so the parsed notes never cross a pipe; `progress` hears
    (notes stored, notes to store). The CLI forks itself for it (run_bounded's inherit)."""
    return run_bounded(_import_whole, job, limits, progress, inherit=True)

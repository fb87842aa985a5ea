"""Untrusted files parsed in a child process with a time and memory limit, killed past either.

Python's `re` and markdown-it hold the GIL for as long as they run, so a thread cannot keep a
hostile file from freezing the bot: only another process can, and only a process can be
stopped. The child forks from a forkserver (not from the bot, whose threads may hold locks)
that has the parser imported already, so a parse costs one fork, not an interpreter start.
"""

from __future__ import annotations

import gc
import multiprocessing
import resource
from collections.abc import Callable
from functools import cache
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import TypeVar

from bot.core.gcpause import gc_paused
from bot.core.journal_doc import ParsedJournal, fix_dates, parse_journal
from bot.limits import BOT_LIMITS as BOT_LIMITS
from bot.limits import CLI_LIMITS as CLI_LIMITS
from bot.limits import Limits

A = TypeVar("A")
R = TypeVar("R")


class Refused(Exception):
    """The child ran out of time or memory (or died) and was stopped; there is no result."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "time" or "memory"


@cache
def _context() -> BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["bot.core.journal_doc"])
        return ctx
    return multiprocessing.get_context("spawn")


def _child(conn: Connection, fn: Callable[[A], R], arg: A, memory: int) -> None:
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


def run_bounded(fn: Callable[[A], R], arg: A, limits: Limits) -> R:
    """fn(arg) in a child process; Refused if it runs past the limits (the child is killed).

    fn and arg must pickle (fn a module-level function). Blocks the calling thread, which
    waits in poll() without the GIL: call it through asyncio.to_thread on the event loop.
    """
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(  # type: ignore[attr-defined]
        target=_child, args=(send, fn, arg, limits.memory), daemon=True
    )
    child.start()
    send.close()
    try:
        if not receive.poll(limits.seconds):
            raise Refused("time")
        try:
            with gc_paused():
                status, value = receive.recv()
        except EOFError:  # killed by the kernel, or crashed, before it could answer
            raise Refused("memory") from None
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

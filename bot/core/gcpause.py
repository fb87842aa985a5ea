"""The cyclic garbage collector paused around allocation-heavy bulk work (parse, store)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection inside the block; reference counting still frees what it can.

    Reading or storing 100,000 notes allocates hundreds of thousands of objects that all
    survive the block: the collector would walk them again and again (unpickling a parsed
    100k-note journal took 2.1 s of CPU with it, 0.2 s without). Re-enabled on leaving, and
    left disabled if it was disabled before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def freeze_long_lived() -> None:
    """Leave what exists now out of every later collection (gc.freeze), after the young
    garbage is collected.

    Called once the bot has started: 10,000 users' reminder jobs and the libraries live as
    long as the process, and a full collection walked them all (half a second of a held
    event loop, now and then, while notes waited for their ✍). Undone by thaw().
    """
    gc.collect(1)
    gc.freeze()


def thaw() -> None:
    """Put the frozen objects back in the collector's care (at stop: a process that starts
    another bot, as the tests do, gets its garbage collected again)."""
    gc.unfreeze()

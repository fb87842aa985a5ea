"""Group commit: new notes arriving together are stored in one transaction.

The first note commits at once; notes that arrive while that commit is under way wait
for it and then share the next one, with the next notes of the chats it released (they
are given a couple of loop turns to arrive). Each caller gets its own result only after the
commit that holds its note, so "✍ means durably stored" is kept. The inbox row an
update came from (set by the intake while its handler runs) is marked processed in
that same commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

from bot.telegram.services import db
from storage.notes import NewMessage, Notes, Stored

MAX_GROUP = 200  # notes in one transaction at most
# loop turns given, after a commit, to the handlers it released before the next group is
# taken: their chats' next notes join it. Without them a note queued during the commit went
# alone (the lanes fell into a group of one and a group of the rest, in turn): on
# bench/ingest.py 134 commits of 15 notes on average, with two turns 69 of 29
SETTLE_TURNS = 2


@dataclass
class InboxMark:
    """The inbox row whose update is being handled; `done` once a commit marked it."""

    row_id: int
    done: bool = False


IN_HAND: ContextVar[InboxMark | None] = ContextVar("rizhilu_inbox_row", default=None)


@dataclass
class _Waiting:
    message: NewMessage
    mark: InboxMark | None
    result: asyncio.Future[Stored] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class NoteWriter:
    """Stores new messages through Notes.add_many, many per commit when they pile up."""

    def __init__(self, notes: Callable[[], Notes], *, max_group: int = MAX_GROUP) -> None:
        self._notes = notes  # read at each commit: a test may swap the repository for a fake
        self._max = max_group
        self._queue: list[_Waiting] = []
        self._committing: asyncio.Task[None] | None = None
        self.commits = 0  # transactions so far (for tests and the bench)
        # the hot path's writes take turns, first come first served: SQLite lets one writer
        # in at a time and makes a waiting one sleep in growing steps, so the inbox's write
        # of a fetched batch, waiting on back-to-back group commits, waited up to 1.5 s while
        # the lanes ran dry (Intake.accept takes this turn too)
        self.turn = asyncio.Lock()

    async def add(self, message: NewMessage) -> Stored:
        """Store a message's notes; returns once they are committed (or raises)."""
        waiting = _Waiting(message, IN_HAND.get())
        self._queue.append(waiting)
        if self._committing is None or self._committing.done():
            self._committing = asyncio.create_task(self._commit_all(), name="group-commit")
        return await waiting.result

    async def _commit_all(self) -> None:
        while self._queue:
            group, self._queue = self._queue[: self._max], self._queue[self._max :]
            marks = [w.mark for w in group if w.mark is not None]
            try:
                async with self.turn:
                    results = await db(
                        self._notes().add_many,
                        [w.message for w in group],
                        [m.row_id for m in marks],
                    )
            except Exception as exc:  # nothing of the group is stored: each caller hears why
                for w in group:
                    if not w.result.done():
                        w.result.set_exception(exc)
                continue
            self.commits += 1
            for mark in marks:
                mark.done = True
            for w, result in zip(group, results, strict=True):
                if w.result.done():  # its caller went away (cancelled)
                    continue
                if isinstance(result, Exception):
                    w.result.set_exception(result)
                else:
                    w.result.set_result(result)
            for _ in range(SETTLE_TURNS):
                await asyncio.sleep(0)

"""Per-chat lanes: one chat's updates strictly in arrival order, different chats side by side."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")

# updates handled at the same time (each waits mostly on the database or Telegram; the
# database calls themselves share the default thread pool's few workers). The width also
# bounds a group commit: every chat in hand can have one new note in it, and 64 chats' notes
# in a group cost 3-8% less CPU a note than 32 chats' on bench/ingest.py (50 users)
WIDTH = 64


class Lanes(Generic[K, T]):
    """A queue per key, drained by its own task while it has items; at most `width`
    items are being handled at once across all keys.

    An item is handled only after every earlier item of its key has been handled
    (returned); items of different keys never wait for each other, except for a slot.
    `handle` is expected not to raise: what it raises is logged and the lane goes on.
    """

    def __init__(
        self,
        handle: Callable[[T], Awaitable[None]],
        *,
        width: int = WIDTH,
        ended: Callable[[K], None] | None = None,
    ) -> None:
        self._handle = handle
        self._ended = ended  # told when a lane has run dry (or stopped) and is gone
        self._slots = asyncio.Semaphore(width)
        self._queues: dict[K, deque[T]] = {}
        self._tasks: dict[K, asyncio.Task[None]] = {}
        self._changed = asyncio.Event()
        self._closing = False
        self.queued = 0  # submitted and not handled yet (including those in hand)

    def __len__(self) -> int:
        """How many lanes are active (keys with items)."""
        return len(self._queues)

    def has(self, key: K) -> bool:
        """Whether `key` has a lane now (items queued or in hand)."""
        return key in self._queues

    def submit(self, key: K, item: T) -> None:
        """Queue `item` behind the earlier items of `key`; returns at once."""
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
            self._tasks[key] = asyncio.create_task(self._drain(key, queue), name="lane")
        queue.append(item)
        self.queued += 1

    async def _drain(self, key: K, queue: deque[T]) -> None:
        try:
            while queue and not self._closing:
                async with self._slots:
                    try:
                        await self._handle(queue[0])
                    except Exception:
                        log.exception("an update's lane failed; it is replayed at the next start")
                queue.popleft()
                self.queued -= 1
                self._changed.set()
        finally:
            # no await between the last look at the queue and here: nothing is lost
            self.queued -= len(queue)
            del self._queues[key]
            del self._tasks[key]
            self._changed.set()
            if self._ended is not None:
                self._ended(key)

    async def changed(self) -> None:
        """Wait until an item has been handled (or a lane ended)."""
        self._changed.clear()
        await self._changed.wait()

    async def close(self) -> None:
        """Let each lane finish the item in hand, drop the rest, and wait for that."""
        self._closing = True
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

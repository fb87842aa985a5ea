"""A pace for tests: monotonic time that moves only when someone sleeps, so nothing waits."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable


class FakePace:
    """Sleeping moves the clock by the time asked for and only yields to the event loop.

    Concurrent sleepers each move it, so time can run ahead of a real schedule but never
    behind it: a test that asserts a send waited at least so long still means it. The fake
    Bot API reads it from its server thread, hence the lock.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    async def sleep(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)
            self.slept.append(seconds)
        await asyncio.sleep(0)


class QuickPace:
    """Real time, `speed` times faster: each sleep is that much shorter and the monotonic
    clock runs that much faster, so a paced schedule keeps its order and its shape.

    For a test that needs sends to go on for a while (something else must happen meanwhile)
    but not for the seconds the real pace would take. Raising `speed` once that has
    happened lets the rest go out at once (the clock only jumps ahead).
    """

    def __init__(self, speed: float) -> None:
        self.speed = speed

    def monotonic(self) -> float:
        return time.monotonic() * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)


class HeldPace:
    """Real time until `hold()` holds; from then on every wait lasts until it is cancelled.

    For a test that stops the bot while sends wait for their turn: none is left on the
    wire by chance (a send waits on the pace before it goes), however slow the machine.
    """

    def __init__(self, hold: Callable[[], bool]) -> None:
        self.hold = hold

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        if self.hold():
            await asyncio.Event().wait()  # until the stop cancels it
        await asyncio.sleep(seconds)

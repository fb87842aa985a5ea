"""Telegram's limits: about 30 messages a second overall and about one a second per chat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from datetime import timedelta
from typing import Any, Protocol

from telegram._utils.types import JSONDict
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

# Telegram: about 20 messages a minute in one group
GROUP_PER_MINUTE = 20
# Reactions are not broadcast messages and Telegram states no overall limit for them: their
# own window, so a note's ✍ never queues behind a reminder fan-out (and none is unbounded)
REACTIONS_PER_SECOND = 1000
REACTION = "setMessageReaction"
# set by a send's caller, written by the rate limiter: "paced" while the request waits its
# turn (surely not sent yet), "wire" once it is handed to the HTTP client
SEND_STAGE: ContextVar[list[str] | None] = ContextVar("send_stage", default=None)


class Pace(Protocol):
    """The monotonic time and the sleep that pacing runs on (tests pass one that never waits)."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopPace:
    """The event loop's own clock and real sleeps."""

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class SendWindow:
    """At most `count` sends start in any `period` seconds, first come first served.

    Counted from when sends really started: a leaky bucket loses the slot whenever the
    event loop wakes a waiter late (about 3% of the rate under load), a window only shifts
    that one send. A flood pause holds everyone, and the queue then goes out paced, not
    at once.
    """

    def __init__(
        self, count: int, period: float, *, min_gap: float = 0.0, pace: Pace | None = None
    ) -> None:
        if count < 1 or period <= 0:
            raise ValueError("a window needs count >= 1 and period > 0")
        self.count = count
        self.period = period
        self.min_gap = min_gap
        self.pace = pace or LoopPace()
        self._starts: deque[float] = deque(maxlen=count)
        self._lock = asyncio.Lock()  # FIFO: nobody overtakes a waiting send
        self._pause_until = 0.0

    def pause(self, seconds: float) -> None:
        """Flood control: no send starts for `seconds` from now."""
        now = self.pace.monotonic()
        self._pause_until = max(self._pause_until, now + seconds)

    def _wait(self, now: float) -> float:
        wait = self._pause_until - now
        if self._starts:
            wait = max(wait, self._starts[-1] + self.min_gap - now)
            if len(self._starts) == self.count:
                wait = max(wait, self._starts[0] + self.period - now)
        return wait

    async def acquire(self) -> None:
        async with self._lock:
            # a pause may begin while we sleep, so look again after every sleep
            while (wait := self._wait(self.pace.monotonic())) > 0:
                await self.pace.sleep(wait)
            self._starts.append(self.pace.monotonic())


class Bucket:
    """A leaky bucket: a burst of `count`, then `count` per `period` seconds, in turn.

    A chat's pace: unlike the window, a group that sent its 20 may send again after
    three seconds rather than after a minute.
    """

    def __init__(self, count: int, period: float, pace: Pace) -> None:
        self.count = count
        self.per_second = count / period
        self.pace = pace
        self._level = 0.0
        self._checked = pace.monotonic()
        self._lock = asyncio.Lock()  # FIFO

    def _leak(self) -> float:
        now = self.pace.monotonic()
        self._level = max(0.0, self._level - (now - self._checked) * self.per_second)
        self._checked = now
        return self._level

    def idle(self) -> bool:
        return self._leak() == 0.0

    async def acquire(self) -> None:
        async with self._lock:
            while (over := self._leak() + 1 - self.count) > 0:
                await self.pace.sleep(over / self.per_second)
            self._level += 1


def window_for(per_second: float, *, slack: float = 0.025, pace: Pace | None = None) -> SendWindow:
    """A window that keeps `slack` seconds clear of a strict per-second limit.

    The slack absorbs the jitter between our clock and the server's; a 429 costs a
    one-second pause, so a little slack is cheaper than none.
    """
    count = max(1, round(per_second))
    period = count / per_second + slack
    return SendWindow(count, period, min_gap=period / count / 4, pace=pace)


class JournalRateLimiter(BaseRateLimiter[int]):
    """Overall pace, one send a second per private chat, 20 a minute per group, 429 retries.

    Reactions are not paced per chat: they are how every note is acknowledged, and a burst
    of notes must not queue behind each other. Nor do they share the overall window with
    sends: they have their own, and a 429 on a reaction pauses only reactions.
    """

    def __init__(
        self, overall_per_second: float, *, max_retries: int = 3, pace: Pace | None = None
    ) -> None:
        self._pace = pace or LoopPace()
        self._window = window_for(overall_per_second, pace=self._pace)
        # no min_gap: Acks already spreads reactions over a few connections, and at ~1,000/s
        # the gap (0.26 ms) put most of them through a sleep of a fraction of a millisecond,
        # ~0.1 ms of the event loop's time each (bench/ingest.py's burst)
        self._reactions = SendWindow(REACTIONS_PER_SECOND, 1.0, pace=self._pace)
        self._retries = max_retries
        self._chats: dict[int | str, Bucket] = {}
        self.flood_waits = 0  # 429 answers, for the metrics

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def reaction_turn(self) -> None:
        """Wait for a place in the reactions' window (Acks sending them itself)."""
        await self._reactions.acquire()

    def reaction_refused(self, seconds: float) -> None:
        """A reaction got a 429: reactions pause as told, as process_request pauses them."""
        self.flood_waits += 1
        self._reactions.pause(seconds + 0.1)

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _chat_limiter(self, endpoint: str, data: dict[str, Any]) -> Bucket | None:
        chat = data.get("chat_id")
        with contextlib.suppress(ValueError, TypeError):
            chat = int(chat)  # type: ignore[arg-type]
        if isinstance(chat, int) and chat > 0:
            if not endpoint.startswith("send"):
                return None
            rate, period = 1, 1.0
        elif isinstance(chat, int | str) and chat:
            rate, period = GROUP_PER_MINUTE, 60.0
        else:
            return None
        if len(self._chats) > 4096:
            # forget chats whose limiter is idle, so the map cannot grow without bound
            for key, limiter in list(self._chats.items()):
                if limiter.idle():
                    del self._chats[key]
        if chat not in self._chats:
            self._chats[chat] = Bucket(rate, period, self._pace)
        return self._chats[chat]

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        retries = self._retries if rate_limit_args is None else rate_limit_args
        chat_limiter = self._chat_limiter(endpoint, data)
        counted = "chat_id" in data  # like Telegram: getMe, getUpdates and files are free
        window = self._reactions if endpoint == REACTION else self._window
        stage = SEND_STAGE.get()  # a reminder's sender asks whether it got this far
        for attempt in range(retries + 1):
            try:
                if stage is not None:
                    stage[0] = "paced"
                # the chat's pace first, so a chat that must wait does not hold up the queue
                if chat_limiter is not None:
                    await chat_limiter.acquire()
                if counted:
                    await window.acquire()
                if stage is not None:
                    stage[0] = "wire"
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if stage is not None:
                    stage[0] = "paced"  # refused: it did not go out
                self.flood_waits += 1
                seconds = retry_after_seconds(exc)
                # paused even when giving up: whoever sends next must wait as told too
                window.pause(seconds + 0.1)
                if attempt == retries:
                    raise
                log.warning("flood control: pausing sends for %.0f s, then retrying", seconds)
        raise AssertionError("unreachable")


# The longest flood-control wait taken as told. Telegram's are seconds to minutes; a longer
# one (or a crafted 10**9) is waited out this long, and a send that is still too early gets
# another 429 with the rest: a few requests more, where trusting it could stop every send
# (or every ✍) for years.
MAX_FLOOD_WAIT = 300.0


def flood_wait(seconds: float) -> float:
    """A 429's wait as it is waited out: at most MAX_FLOOD_WAIT, never negative."""
    return min(max(seconds, 0.0), MAX_FLOOD_WAIT)


def retry_after_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked us to wait, whether PTB gives an int or a timedelta (at most
    MAX_FLOOD_WAIT)."""
    # PTB 22 warns on reading `retry_after` while it moves from int to timedelta;
    # the private field already holds the timedelta
    delay = exc._retry_after if hasattr(exc, "_retry_after") else exc.retry_after
    return flood_wait(delay.total_seconds() if isinstance(delay, timedelta) else float(delay))

"""The outgoing rate limiter: a strict window, FIFO, flood pauses, per-chat and group pace."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.telegram.ratelimit import (
    MAX_FLOOD_WAIT,
    REACTIONS_PER_SECOND,
    JournalRateLimiter,
    SendWindow,
    retry_after_seconds,
    window_for,
)
from tests.fakepace import FakePace


async def _starts(window: SendWindow, n: int) -> list[tuple[int, float]]:
    out: list[tuple[int, float]] = []

    async def one(i: int) -> None:
        await window.acquire()
        out.append((i, window.pace.monotonic()))

    await asyncio.gather(*(one(i) for i in range(n)))
    return out


async def test_no_window_ever_holds_more_than_count() -> None:
    window = SendWindow(5, 0.1, pace=FakePace())
    starts = await _starts(window, 23)
    times = [t for _, t in starts]
    for a, b in zip(times, times[5:], strict=False):
        assert b - a >= 0.1 - 1e-6


async def test_first_come_first_served() -> None:
    starts = await _starts(SendWindow(3, 0.05, pace=FakePace()), 12)
    assert [i for i, _ in starts] == list(range(12))


async def test_min_gap_spaces_a_burst() -> None:
    starts = await _starts(SendWindow(10, 1.0, min_gap=0.02, pace=FakePace()), 4)
    times = [t for _, t in starts]
    assert all(b - a >= 0.02 - 1e-6 for a, b in itertools.pairwise(times))


async def test_a_late_start_costs_only_its_own_slot() -> None:
    # a leaky bucket would push every later send back by the lateness; the window only
    # moves the send that was late (and the one a full window after it)
    window = SendWindow(3, 1.0)
    window._starts.extend([0.0, 0.4, 0.9])  # the 0.4 one was meant for 0.33: late
    assert window._wait(0.95) == pytest.approx(0.05)  # the next is due at 1.0, not 1.07
    window._starts.append(1.0)
    assert window._wait(1.0) == pytest.approx(0.4)


async def test_a_flood_pause_holds_everyone() -> None:
    pace = FakePace()
    window = SendWindow(30, 1.0, pace=pace)
    window.pause(5)
    before = pace.monotonic()
    await asyncio.gather(window.acquire(), window.acquire())
    assert pace.monotonic() - before >= 5


async def test_the_default_pace_is_the_event_loop_clock() -> None:
    window = SendWindow(1, 0.05)
    loop = asyncio.get_running_loop()
    before = loop.time()
    await window.acquire()
    await window.acquire()
    assert loop.time() - before >= 0.05 - 1e-3


def test_window_for_keeps_clear_of_the_limit() -> None:
    w = window_for(30)
    assert w.count == 30 and 1.0 < w.period < 1.05
    slow = window_for(0.5)
    assert slow.count == 1 and slow.period > 2.0
    with pytest.raises(ValueError):
        SendWindow(0, 1.0)


class _Calls:
    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.calls = 0

    async def __call__(self) -> bool:
        self.calls += 1
        if self.calls <= self.fail_first:
            raise RetryAfter(0)
        return True


async def _send(
    limiter: JournalRateLimiter, cb: Any, chat: Any, endpoint: str = "sendMessage"
) -> Any:
    return await limiter.process_request(cb, (), {}, endpoint, {"chat_id": chat}, None)


async def test_retry_after_is_waited_out_then_retried() -> None:
    pace = FakePace()
    limiter = JournalRateLimiter(30, max_retries=2, pace=pace)
    cb = _Calls(fail_first=2)
    before = pace.monotonic()
    assert await _send(limiter, cb, 7) is True
    assert cb.calls == 3
    assert pace.monotonic() - before >= 2 * 0.1  # each 429 paused everyone


async def test_retries_run_out() -> None:
    limiter = JournalRateLimiter(30, max_retries=1, pace=FakePace())
    with pytest.raises(RetryAfter):
        await _send(limiter, _Calls(fail_first=5), 7)


async def test_one_send_a_second_per_private_chat_but_reactions_are_free() -> None:
    limiter = JournalRateLimiter(1000, pace=FakePace())
    assert limiter._chat_limiter("sendMessage", {"chat_id": 7}) is not None
    assert limiter._chat_limiter("setMessageReaction", {"chat_id": 7}) is None
    group = limiter._chat_limiter("sendMessage", {"chat_id": -100})
    assert group is not None and group.count == 20
    assert limiter._chat_limiter("sendMessage", {"chat_id": "@channel"}) is not None
    assert limiter._chat_limiter("getMe", {}) is None


def test_retry_after_in_either_shape() -> None:
    assert retry_after_seconds(RetryAfter(5)) == 5.0
    assert retry_after_seconds(RetryAfter(timedelta(seconds=2.5))) == 2.5
    # a crafted or absurd wait is waited out for at most MAX_FLOOD_WAIT, then asked again
    assert retry_after_seconds(RetryAfter(10**9)) == MAX_FLOOD_WAIT == 300.0


async def test_a_chat_bucket_lets_a_burst_through_then_paces() -> None:
    # a group may send 20 at once, then one every 3 s (20 a minute), in arrival order
    pace = FakePace()
    limiter = JournalRateLimiter(1000, pace=pace)
    bucket = limiter._chat_limiter("sendMessage", {"chat_id": -100})
    assert bucket is not None and bucket.idle()
    start = pace.monotonic()
    order: list[tuple[int, float]] = []

    async def one(i: int) -> None:
        await bucket.acquire()
        order.append((i, pace.monotonic() - start))

    await asyncio.gather(*(one(i) for i in range(22)))
    assert [i for i, _ in order] == list(range(22))
    assert all(t == 0 for _, t in order[:20])
    assert order[20][1] == pytest.approx(3.0) and order[21][1] == pytest.approx(6.0)
    assert not bucket.idle()
    pace._now += 60
    assert bucket.idle()


async def test_a_private_chat_waits_a_second_between_sends() -> None:
    pace = FakePace()
    limiter = JournalRateLimiter(1000, pace=pace)
    starts: list[float] = []

    async def send() -> bool:
        starts.append(pace.monotonic())
        return True

    for _ in range(3):
        await _send(limiter, send, 7)
    assert all(b - a >= 1.0 - 1e-9 for a, b in itertools.pairwise(starts))


async def test_reactions_do_not_wait_in_the_broadcast_window() -> None:
    pace = FakePace()
    limiter = JournalRateLimiter(1, pace=pace)
    await _send(limiter, _Calls(), 7)  # this second's one broadcast send
    before = pace.monotonic()
    assert await _send(limiter, _Calls(), 8, "setMessageReaction") is True
    assert pace.monotonic() == before
    await _send(limiter, _Calls(), 9)
    assert pace.monotonic() - before >= 0.9  # sends still keep to theirs


async def test_reactions_go_back_to_back_until_their_window_is_full() -> None:
    # no gap between them (Acks spreads them over its connections); the window still bounds
    pace = FakePace()
    limiter = JournalRateLimiter(30, pace=pace)
    before = pace.monotonic()
    for message in range(REACTIONS_PER_SECOND):
        assert await _send(limiter, _Calls(), 7 + message % 3, "setMessageReaction") is True
    assert pace.monotonic() == before
    assert await _send(limiter, _Calls(), 7, "setMessageReaction") is True
    assert pace.monotonic() - before >= 1.0

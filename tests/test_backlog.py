"""The backlog of due reminders: a few pieces at a time; batched pieces taken together."""

from __future__ import annotations

import asyncio

from bot.telegram.services import Backlog, Batched


async def test_batched_pieces_next_to_each_other_are_taken_together() -> None:
    batches: list[list[int]] = []
    plain_ran_after: list[int] = []
    last = asyncio.Event()

    async def remind(items: list[int]) -> None:
        batches.append(items)
        if 7 in items:
            last.set()

    async def other(items: list[int]) -> None:
        batches.append([-i for i in items])

    async def plain() -> None:
        plain_ran_after.append(len(batches))

    backlog = Backlog(width=1, batch=3)
    for i in range(5):
        backlog.put(Batched(remind, i))
    backlog.put(plain)  # a piece of another kind ends a batch
    backlog.put(Batched(remind, 5))
    backlog.put(Batched(other, 6))  # so does a batched piece of another run
    backlog.put(Batched(remind, 7))
    await asyncio.wait_for(last.wait(), 5)
    assert batches == [[0, 1, 2], [3, 4], [5], [-6], [7]]
    assert plain_ran_after == [2]


async def test_a_closed_backlog_drops_the_waiting_batched_pieces() -> None:
    taken: list[int] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def remind(items: list[int]) -> None:
        taken.extend(items)
        started.set()
        await release.wait()

    backlog = Backlog(width=1, batch=2)
    for i in range(6):
        backlog.put(Batched(remind, i))
    await asyncio.wait_for(started.wait(), 5)
    closing = asyncio.create_task(backlog.close())
    await asyncio.sleep(0)
    release.set()
    assert await closing == 4  # the pieces still waiting: nothing of them was claimed
    assert taken == [0, 1]

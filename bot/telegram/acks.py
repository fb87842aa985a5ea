"""The ✍ reaction on a stored note, sent in the background so capture never waits on it."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import deque

from telegram import ReactionTypeEmoji
from telegram.error import RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.telegram.ratelimit import (
    JournalRateLimiter,
    LoopPace,
    Pace,
    flood_wait,
    retry_after_seconds,
)
from bot.telegram.wire import ReactionWire, WireError

log = logging.getLogger(__name__)

ACK = "✍"
MAX_RETRIES = 3  # 429s on one reaction before it is given up
DRAIN_SECONDS = 5.0  # how long a clean stop waits for reactions still on their way
# reactions on the wire at once: a group commit acknowledges hundreds of notes together,
# and hundreds of simultaneous requests cost more (a connection each) than a few connections
# kept busy. On PTB's way httpcore's pool also checks every open connection at each step:
# 2,000 reactions on loopback cost 0.67 ms of CPU each over 1, 2 or 4 connections and 0.93
# ms over 8, while 4 already carry as many a second as 8
IN_FLIGHT = 4


class Acks:
    """Reactions on their way: a queue of (chat, message) that IN_FLIGHT tasks send in turn.

    Plain entries, not a task each: a group commit acknowledges hundreds of notes at once,
    and a task per reaction (created, scheduled, waiting on a semaphore, collected) cost
    the event loop ~0.07 ms a note on bench/ingest.py.

    The bot is typed for our JournalRateLimiter, whose per-call argument is the retries.
    A flood-control wait sleeps on `pace` (the event loop's by default), like the limiter's.
    The reactions go on wire.ReactionWire's connections when it can reach the bot's URL,
    paced by the limiter's reaction window as PTB's way would be; else PTB's way.
    """

    def __init__(
        self,
        bot: ExtBot[int],
        *,
        max_retries: int = MAX_RETRIES,
        pace: Pace | None = None,
        tls: ssl.SSLContext | None = None,
        own_wire: bool = True,
    ) -> None:
        """`tls`: the wire's TLS context (PTB's); `own_wire=False`: always PTB's way."""
        self._bot = bot
        self._max_retries = max_retries
        self._pace = pace or LoopPace()
        self._waiting: deque[tuple[int, int]] = deque()
        self._workers: set[asyncio.Task[None]] = set()
        self._reaction = ReactionTypeEmoji(ACK)  # immutable: one for every request
        limiter = bot.rate_limiter
        self._limiter = limiter if isinstance(limiter, JournalRateLimiter) else None
        self._wire = (
            ReactionWire(bot.base_url, [self._reaction.to_dict()], tls)
            if own_wire
            and (limiter is None or self._limiter is not None)
            and ReactionWire.usable(bot.base_url)
            else None
        )

    def react(self, chat_id: int, message_id: int) -> None:
        """Acknowledge a message whose note is committed; returns at once."""
        self._waiting.append((chat_id, message_id))
        if len(self._workers) < IN_FLIGHT:
            task = asyncio.create_task(self._work(), name="acks")
            self._workers.add(task)
            task.add_done_callback(self._workers.discard)

    async def _work(self) -> None:
        while self._waiting:
            chat_id, message_id = self._waiting.popleft()
            try:
                await self._send_now(chat_id, message_id)
            except Exception:  # one reaction's failure must not strand those queued behind it
                log.exception("reaction on %s/%s failed", chat_id, message_id)

    async def _send_now(self, chat_id: int, message_id: int) -> None:
        for attempt in range(self._max_retries + 1):
            if self._wire is not None:
                wait = await self._on_wire(self._wire, chat_id, message_id)
            else:
                wait = await self._through_ptb(chat_id, message_id)
            if wait is None:
                return
            # a 429 means "not applied": retrying cannot set it twice
            if attempt == self._max_retries:
                log.info("reaction on %s/%s given up after flood control", chat_id, message_id)
                return
            await self._pace.sleep(wait)

    async def _on_wire(self, wire: ReactionWire, chat_id: int, message_id: int) -> float | None:
        """One try; the wait a 429 asked for (None: set, or not to be retried)."""
        if self._limiter is not None:
            await self._limiter.reaction_turn()
        try:
            answer = await wire.react(chat_id, message_id)
        except WireError as exc:  # as a timeout on PTB's way: it may have been applied
            log.debug("reaction on %s/%s not set: %s", chat_id, message_id, exc)
            return None
        wait = answer.retry_after
        if wait is not None:
            wait = flood_wait(wait)
            if self._limiter is not None:
                self._limiter.reaction_refused(wait)
            return wait
        if answer.status != 200:
            log.debug("reaction on %s/%s not set: %s", chat_id, message_id, answer.description)
        return None

    async def _through_ptb(self, chat_id: int, message_id: int) -> float | None:
        """One try through PTB's bot; the wait a 429 asked for (None: set, or not to be
        retried). The rate limiter would retry a 429 too: here it only paces, so a reaction
        is retried in one place."""
        try:
            if self._bot.rate_limiter is not None:
                await self._bot.set_message_reaction(
                    chat_id, message_id, self._reaction, rate_limit_args=0
                )
            else:
                await self._bot.set_message_reaction(chat_id, message_id, self._reaction)
        except RetryAfter as exc:
            return retry_after_seconds(exc)
        except TelegramError as exc:
            # reactions off in the chat, message gone, or a timeout (which may have
            # been applied, so it is not retried)
            log.debug("reaction on %s/%s not set: %s", chat_id, message_id, exc)
        return None

    async def drain(self, grace: float = DRAIN_SECONDS) -> None:
        """On a clean stop: let reactions on their way finish, for at most `grace` s."""
        if self._workers:
            await self._finish(grace)
        if self._wire is not None:
            self._wire.close()

    async def _finish(self, grace: float) -> None:
        _, late = await asyncio.wait(set(self._workers), timeout=grace)
        unsent = len(late) + len(self._waiting)
        self._waiting.clear()
        for task in late:
            task.cancel()
        if unsent:
            log.info("stopped with %d reactions not sent", unsent)

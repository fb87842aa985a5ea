"""Telegram's limits: about 30 messages a second overall and about one a second per chat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram._utils.types import JSONDict
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)


class JournalRateLimiter(AIORateLimiter):
    """PTB's limiter (overall pace, 429 handling) plus one send per second per private chat.

    Reactions are not paced per chat: they are how every note is acknowledged, and a burst
    of notes must not queue behind each other.
    """

    def __init__(self, overall_per_second: float, *, max_retries: int = 3) -> None:
        # one request per 1/rate seconds, no bursts: a bucket that bursts 30 at once and
        # then drips 30/s crosses a strict per-second limit and earns 429s that pause
        # everything; 2% under the limit keeps clear of it. Retries are ours (below): PTB's
        # own wait for a flood pause comes after a request has taken its pacing slot, so
        # everything queued during the pause goes out at once and earns the next 429.
        super().__init__(
            overall_max_rate=1,
            overall_time_period=1.02 / overall_per_second,
            max_retries=0,
        )
        self._retries = max_retries
        self._pause_until = 0.0
        self._chats: dict[int, AsyncLimiter] = {}

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        loop = asyncio.get_running_loop()
        for attempt in range(self._retries + 1):
            # the pause may be extended while we sleep, so look again after each sleep
            while (wait := self._pause_until - loop.time()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
            try:
                return await self._paced(callback, args, kwargs, endpoint, data, rate_limit_args)
            except RetryAfter as exc:
                if attempt == self._retries:
                    raise
                delay = exc.retry_after
                seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
                self._pause_until = max(self._pause_until, loop.time() + seconds + 0.1)
                log.warning("flood control: pausing sends for %.0f s, then retrying", seconds)
        raise AssertionError("unreachable")

    async def _paced(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        chat = data.get("chat_id")
        paced_per_chat = endpoint.startswith("send") and isinstance(chat, int) and chat > 0
        limiter: AsyncLimiter | contextlib.nullcontext[None] = contextlib.nullcontext()
        if paced_per_chat:
            assert isinstance(chat, int)
            limiter = self._chats.setdefault(chat, AsyncLimiter(1, 1))
        async with limiter:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )

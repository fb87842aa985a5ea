"""Lossless intake: confirm an update to Telegram only after it is stored in the inbox.

PTB's own updater confirms updates (asks for the next offset) before the handlers have
run, so a hard kill loses what was in flight. Here a fetcher stores each batch durably
and only then moves the offset; a worker feeds stored updates to the Application in
order and marks them done. Rows left unprocessed by a crash are replayed at start; the
handlers are idempotent, so a replay never duplicates a note.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.telegram.ratelimit import retry_after_seconds
from bot.telegram.services import db
from storage.inbox import Inbox

log = logging.getLogger(__name__)


READ_MARGIN = 10  # seconds allowed beyond the long-poll timeout for the answer to arrive


def chat_of(raw: dict[str, Any]) -> int | None:
    """The chat of a raw update, for the inbox's chat_id column (None when there is none)."""
    for value in raw.values():
        if isinstance(value, dict):
            holder = value.get("message") if "chat" not in value else value
            chat = holder.get("chat") if isinstance(holder, dict) else None
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
    return None


def readable(payload: str, bot: Any) -> Update | None:
    """The stored update as PTB's object, or None when PTB cannot read it."""
    try:
        return Update.de_json(json.loads(payload), bot)
    except Exception:  # PTB raises TypeError, KeyError, ValueError... for what it cannot read
        return None


class IntakeStopped(Exception):
    """The intake cannot go on (a bad token)."""


class Intake:
    """Fetch → store → confirm, and a worker that processes the stored updates in order."""

    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        inbox: Inbox,
        *,
        allowed_updates: list[str],
        poll_timeout: int = 30,
        batch: int = 100,
    ) -> None:
        self._app = app
        self._inbox = inbox
        self._allowed = allowed_updates
        self._timeout = poll_timeout
        self._batch = batch
        self._wake = asyncio.Event()
        self._stopping = False
        self._retry: set[int] = set()
        self._told: set[int] = set()
        self.retry_pause = 2.0  # after a database or inbox error
        self.fatal: BaseException | None = None
        self.processed = 0

    async def accept(self, raw: list[dict[str, Any]]) -> int:
        """Store raw updates durably (polling, and a webhook before it answers 200).

        Each update is kept as Telegram sent it, whether or not PTB can read it: one it
        cannot read is skipped later by the worker, instead of failing its whole batch.
        """
        rows = [(u["update_id"], chat_of(u), json.dumps(u, ensure_ascii=False)) for u in raw]
        new = await db(self._inbox.store, rows)
        self._wake.set()
        return new

    async def run(self, stop: asyncio.Event, *, poll: bool = True) -> None:
        """Run until `stop` is set (or a fatal error); then finish in-flight rows and return.

        With poll=False updates arrive only through accept() (a webhook).
        """
        await db(self._inbox.purge)
        tasks: set[asyncio.Task[None]] = set()
        fetcher: asyncio.Task[None] | None = None
        if poll:
            await self._app.bot.delete_webhook(drop_pending_updates=False)
            fetcher = asyncio.create_task(self._fetch_loop(stop), name="intake-fetch")
            tasks.add(fetcher)
        worker = asyncio.create_task(self._work_loop(), name="intake-work")
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({stopper, worker, *tasks}, return_when=asyncio.FIRST_COMPLETED)
        self._stopping = True
        stopper.cancel()
        if fetcher is not None:
            fetcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fetcher
        self._wake.set()
        try:
            await asyncio.wait_for(worker, timeout=20)
        except TimeoutError:
            log.warning("stopped with updates still queued; they are replayed at the next start")
        if self.fatal is not None:
            raise IntakeStopped(str(self.fatal)) from self.fatal

    def retry_later(self, update_id: int) -> bool:
        """A handler failed because the database was away: keep the update, try it again.

        Returns True the first time for this update (the caller tells the user once).
        """
        self._retry.add(update_id)
        first = update_id not in self._told
        self._told.add(update_id)
        return first

    async def _get_updates(self, offset: int | None) -> list[dict[str, Any]]:
        """getUpdates, unparsed: PTB's get_updates raises for a whole batch when one update
        does not fit its classes (e.g. a poll from an older Bot API server)."""
        data = {
            "offset": offset,
            "timeout": self._timeout,
            "limit": self._batch,
            "allowed_updates": self._allowed,
        }
        # same request object, URL, rate limiter and error mapping as Bot.get_updates
        result = await self._app.bot._post(
            "getUpdates", data, read_timeout=self._timeout + READ_MARGIN
        )
        updates = []
        for item in result if isinstance(result, list) else []:
            if isinstance(item, dict) and isinstance(item.get("update_id"), int):
                updates.append(item)
            else:
                log.warning("skipping an update without an update_id")
        return updates

    async def _fetch_loop(self, stop: asyncio.Event) -> None:
        offset: int | None = None
        backoff = 1.0
        while not stop.is_set():
            try:
                updates = await self._get_updates(offset)
            except TimedOut:
                continue
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc) or 1.0)
                continue
            except InvalidToken as exc:
                log.error("Telegram rejected the bot token (InvalidToken); stopping")
                self.fatal = exc
                return
            except Conflict:
                log.warning("another instance is polling this bot (409 Conflict); retrying")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30)
                continue
            except NetworkError as exc:
                log.warning("network error while polling: %s; retrying in %.0f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30)
                continue
            backoff = 1.0
            if not updates:
                continue
            try:
                await self.accept(updates)
            except Exception:
                # not stored, so not confirmed: the same updates come again next time
                log.exception("could not store updates; fetching them again shortly")
                await asyncio.sleep(self.retry_pause)
                continue
            # only now, with the batch committed, does the next request confirm it
            offset = max(u["update_id"] for u in updates) + 1

    async def _work_loop(self) -> None:
        bot = self._app.bot
        while True:
            try:
                rows = await db(self._inbox.pending, self._batch)
            except Exception:
                log.exception("could not read the inbox; trying again shortly")
                await asyncio.sleep(self.retry_pause)
                continue
            if not rows:
                if self._stopping:
                    return
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=5)
                continue
            done: list[int] = []
            again = False
            try:
                for row in rows:
                    update = readable(row.payload, bot)
                    if update is None:
                        log.warning(
                            "skipping update %s: python-telegram-bot cannot read it", row.update_id
                        )
                        done.append(row.id)
                        continue
                    await self._app.process_update(update)
                    if update.update_id in self._retry:
                        # stays in the inbox, and so does everything after it: order holds
                        self._retry.discard(update.update_id)
                        again = True
                        break
                    self._told.discard(update.update_id)
                    done.append(row.id)
                    self.processed += 1
            finally:
                # handlers are idempotent: a crash before this line only causes a replay
                try:
                    await db(self._inbox.mark_done, done)
                except Exception:
                    log.exception("could not mark updates done; they will be replayed")
            if self._stopping:
                return
            if again:
                log.warning("the database is not answering; retrying in %.0f s", self.retry_pause)
                await asyncio.sleep(self.retry_pause)

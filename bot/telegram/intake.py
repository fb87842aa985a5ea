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

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.telegram.ratelimit import retry_after_seconds
from bot.telegram.services import db
from storage.inbox import Inbox

log = logging.getLogger(__name__)


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

    async def accept(self, updates: list[Update]) -> int:
        """Store updates durably (used by polling, and by a webhook before it answers 200)."""
        rows = [
            (u.update_id, u.effective_chat.id if u.effective_chat else None, u.to_json())
            for u in updates
        ]
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

    async def _fetch_loop(self, stop: asyncio.Event) -> None:
        offset: int | None = None
        backoff = 1.0
        while not stop.is_set():
            try:
                updates = await self._app.bot.get_updates(
                    offset=offset,
                    timeout=self._timeout,
                    limit=self._batch,
                    allowed_updates=self._allowed,
                )
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
                await self.accept(list(updates))
            except Exception:
                # not stored, so not confirmed: the same updates come again next time
                log.exception("could not store updates; fetching them again shortly")
                await asyncio.sleep(self.retry_pause)
                continue
            # only now, with the batch committed, does the next request confirm it
            offset = max(u.update_id for u in updates) + 1

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
                    try:
                        update = Update.de_json(json.loads(row.payload), bot)
                    except (ValueError, TypeError, KeyError):
                        log.exception("dropping an update that cannot be read (id %s)", row.id)
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

"""Lossless intake: confirm an update to Telegram only after it is stored in the inbox.

PTB's own updater confirms updates (asks for the next offset) before the handlers have
run, so a hard kill loses what was in flight. Here a fetcher stores each batch durably
and only then moves the offset; a worker hands stored updates to per-chat lanes (one
chat's updates strictly in arrival order, different chats side by side) and marks them
done, many in one commit. Rows left unprocessed by a crash are replayed at start; the
handlers are idempotent, so a replay never duplicates a note.

Nothing is replayed forever: an update PTB cannot read, one that was started MAX_STARTS
times without finishing (it crashed or froze the bot), or one that hit database errors
more than `max_retries` times is set aside (a dead letter: one log line, one message to
its user). While the database is away the log says so once, and once when it is back.

An update whose media download failed (its text is stored already) waits in the inbox for
a later try, with pauses that double, while the updates after it go on, in its chat too;
after MAX_MEDIA_RETRIES it is set aside too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.error import (
    Conflict,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot import texts
from bot.telegram.groupcommit import IN_HAND, InboxMark
from bot.telegram.lanes import WIDTH, Lanes
from bot.telegram.ratelimit import retry_after_seconds
from bot.telegram.services import KEY, App, Services, db
from bot.telegram.shortcut import plain_text, process
from storage.engine import is_transient, one_line
from storage.inbox import ChatLocks, Inbox, Pending

log = logging.getLogger(__name__)


READ_MARGIN = 10  # seconds allowed beyond the long-poll timeout for the answer to arrive
MAX_STARTS = 3  # starts of a replayed update that never finished before it is set aside
MAX_RETRIES = 30  # database errors for one update (pauses double up to MAX_PAUSE)
MAX_PAUSE = 60.0
BUFFER = 5000  # stored updates read ahead into the lanes
MEDIA_RETRY = 30.0  # seconds before the first new try of a failed media download (doubles)
MAX_MEDIA_RETRIES = 8  # about two hours of tries
MAX_MEDIA_PAUSE = 3600.0


ROW_LOCKS = 1 << 62  # lock keys of updates without a chat: their row id plus this
# a chat another replica holds is looked at again this soon, then twice as late each time
# it is still held (up to idle_wait): that replica gives it back after its batch without
# looking for the rows stored meanwhile by others, which waited for the idle look (5 s)
HELD_PAUSE = 0.025


@dataclass
class HeldElsewhere:
    """A chat another replica held at the last try: when to look at its rows again."""

    chat: int | None  # None: an update without a chat (its row is its lane)
    row: int
    pause: float  # since that try
    due: float  # the event loop's time of the next look


def lock_key(row: Pending) -> int:
    """The advisory lock of a row's lane (replicas on PostgreSQL)."""
    return row.chat_id if row.chat_id is not None else ROW_LOCKS + row.id


def lane_of(row: Pending) -> tuple[str, int]:
    """Updates of one chat share a lane; an update without a chat has its own."""
    return ("chat", row.chat_id) if row.chat_id is not None else ("row", row.id)


class Outage:
    """One log line when the database goes away, none while it stays away, one when back."""

    def __init__(self) -> None:
        self.trouble: str | None = None
        self.tries = 0

    def failed(self, exc: BaseException, doing: str) -> None:
        self.tries += 1
        transient = is_transient(exc)
        trouble = "database" if transient else f"{type(exc).__name__}: {one_line(exc)}"
        if trouble == self.trouble:
            log.debug("still failing while %s: %s", doing, one_line(exc))
            return
        self.trouble = trouble
        if transient:
            log.warning(
                "database unavailable while %s (%s); retrying quietly until it is back",
                doing,
                one_line(exc),
            )
        else:
            log.error("failed while %s; retrying quietly", doing, exc_info=exc)

    def ok(self) -> None:
        if self.trouble is not None:
            log.info("working again after %d failed tries (%s)", self.tries, self.trouble)
        self.trouble = None
        self.tries = 0


def chat_of(raw: dict[str, Any]) -> int | None:
    """The chat of a raw update, for the inbox's chat_id column (None when there is none)."""
    for value in raw.values():
        if isinstance(value, dict):
            holder = value.get("message") if "chat" not in value else value
            chat = holder.get("chat") if isinstance(holder, dict) else None
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
    return None


def private_sender(raw: dict[str, Any]) -> int | None:
    """The user who sent a raw update in their private chat with the bot (else None)."""
    for value in raw.values():
        if isinstance(value, dict) and isinstance(value.get("chat"), dict):
            sender = value.get("from")
            chat_id = value["chat"].get("id")
            if isinstance(sender, dict) and sender.get("id") == chat_id:
                return int(chat_id)
    return None


def decoded(payload: str) -> dict[str, Any] | None:
    """The stored update as Telegram sent it (None if it is not a JSON object)."""
    try:
        raw = json.loads(payload)
    except ValueError:
        return None
    return raw if isinstance(raw, dict) else None


def readable(raw: dict[str, Any] | None, bot: Any) -> Update | None:
    """The stored update as PTB's object, or None when PTB cannot read it."""
    if raw is None:
        return None
    try:
        return Update.de_json(raw, bot)
    except Exception:  # PTB raises TypeError, KeyError, ValueError... for what it cannot read
        return None


class IntakeStopped(Exception):
    """The intake cannot go on (a bad token)."""


class Intake:
    """Fetch → store → confirm, and a worker that processes the stored updates in order."""

    def __init__(
        self,
        app: App,
        inbox: Inbox,
        *,
        allowed_updates: list[str],
        poll_timeout: int = 30,
        batch: int = 100,
        locks: ChatLocks | None = None,
    ) -> None:
        self._app = app
        self.inbox = inbox
        self._allowed = allowed_updates
        self._timeout = poll_timeout
        self._batch = batch
        self._wake = asyncio.Event()
        self._stopping = False
        self._retry: set[int] = set()
        self._told: set[int] = set()
        self._retries: dict[int, int] = {}  # update_id → database errors so far
        self._replay_until = 0  # rows up to this id were left unfinished by the last run
        self.outage = Outage()
        self._away_told: set[int] = set()  # users told that the inbox refuses writes
        self.retry_pause = 2.0  # after a database or inbox error (doubles while it lasts)
        self.max_retries = MAX_RETRIES
        self.idle_wait = 5.0  # the worker looks at an idle inbox this often, woken or not
        self.fatal: BaseException | None = None
        self.processed = 0
        self.flood_waits = 0  # 429 answers to getUpdates
        self.on_handled: Callable[[float], None] | None = None  # seconds per update (metrics)
        self._tasks: list[asyncio.Task[None]] = []
        self.width = WIDTH  # updates handled at once, each chat's in order
        self.buffer = BUFFER  # updates read ahead into the lanes
        self._lanes: Lanes[tuple[str, int], Pending] | None = None
        self._inflight: set[int] = set()  # rows in a lane or waiting for their done mark
        self._done: list[int] = []
        self._dead: dict[int, str] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._halt = asyncio.Event()  # set on stop: cuts pauses short
        self._media: set[int] = set()  # updates whose media download failed this time
        self._media_tries: dict[int, int] = {}  # update_id → failed downloads before this try
        self._waiting = 0  # updates in the inbox waiting for a new try of their media
        self.media_deferred = 0  # new tries of media put off so far (the tests wait on it)
        self.media_retry = MEDIA_RETRY
        self.max_media_retries = MAX_MEDIA_RETRIES
        self.locks = locks  # PostgreSQL: per-chat locks shared with other replicas
        self._giver: asyncio.Task[None] | None = None
        self._to_give: list[int] = []  # chats whose lanes ended, to give back
        self._look_again = False  # read the inbox from its start next time
        self.held_pause = HELD_PAUSE
        self._elsewhere: dict[int, HeldElsewhere] = {}  # chats another replica holds
        self._looking: dict[int, HeldElsewhere] = {}  # those being looked at again now

    @property
    def alive(self) -> bool:
        """Running, and neither the fetcher nor the worker has stopped (for /healthz)."""
        return bool(self._tasks) and not self._stopping and not any(t.done() for t in self._tasks)

    async def accept(self, raw: list[dict[str, Any]]) -> int:
        """Store raw updates durably (polling, and a webhook before it answers 200).

        Each update is kept as Telegram sent it, whether or not PTB can read it: one it
        cannot read is skipped later by the worker, instead of failing its whole batch.
        """
        rows = [(u["update_id"], chat_of(u), json.dumps(u, ensure_ascii=False)) for u in raw]
        svc = self._app.bot_data.get(KEY)
        writer = svc.writer if isinstance(svc, Services) else None
        # in turn with the group commits (see NoteWriter.turn)
        async with writer.turn if writer is not None else contextlib.nullcontext():
            new = await db(self.inbox.store, rows)
        self._wake.set()
        return new

    async def run(self, stop: asyncio.Event, *, poll: bool = True) -> None:
        """Run until `stop` is set (or a fatal error); then finish in-flight rows and return.

        With poll=False updates arrive only through accept() (a webhook).
        """
        await db(self.inbox.purge)
        self._replay_until = await db(self.inbox.newest_pending)
        self._waiting = await db(self.inbox.waiting)
        tasks: set[asyncio.Task[None]] = set()
        fetcher: asyncio.Task[None] | None = None
        if poll:
            await self._app.bot.delete_webhook(drop_pending_updates=False)
            fetcher = asyncio.create_task(self._fetch_loop(stop), name="intake-fetch")
            tasks.add(fetcher)
        worker = asyncio.create_task(self._work_loop(), name="intake-work")
        self._tasks = [*tasks, worker]
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({stopper, worker, *tasks}, return_when=asyncio.FIRST_COMPLETED)
        self._stopping = True
        self._halt.set()
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

    def retry_later(self, update_id: int, error: BaseException | None = None) -> bool:
        """A handler failed because the database was away: keep the update, try it again.

        Returns True the first time for this update (the caller tells the user once).
        """
        if error is not None:
            self.outage.failed(error, f"handling update {update_id}")
        self._retry.add(update_id)
        first = update_id not in self._told
        self._told.add(update_id)
        return first

    def media_later(self, update_id: int) -> bool:
        """A handler could not download the update's media: try the update again later,
        without holding up the updates after it.

        Returns True at the first failure of this update (the caller tells the user once).
        """
        self._media.add(update_id)
        return self._media_tries.get(update_id, 0) == 0

    def retrying(self, update_id: int) -> bool:
        """Whether this update is a new try after a failed media download."""
        return self._media_tries.get(update_id, 0) > 0

    async def _tell_away(self, updates: list[dict[str, Any]]) -> None:
        """The inbox refuses writes: tell each sender once per outage (Telegram keeps the
        unconfirmed updates, and they are fetched again when the database is back)."""
        svc = self._app.bot_data.get(KEY)
        if not isinstance(svc, Services):
            return
        for raw in updates:
            user = private_sender(raw)
            if user is None or user in self._away_told:
                continue
            if not svc.settings.allowed_user_ids.allows(user):
                continue
            self._away_told.add(user)
            with contextlib.suppress(TelegramError):
                await self._app.bot.send_message(user, texts.DB_AWAY)

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
        storing_failed = False
        while not stop.is_set():
            try:
                updates = await self._get_updates(offset)
            except TimedOut:
                continue
            except RetryAfter as exc:
                self.flood_waits += 1
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
            except Exception as exc:
                # not stored, so not confirmed: the same updates come again next time
                self.outage.failed(exc, "storing updates")
                storing_failed = True
                if is_transient(exc):
                    await self._tell_away(updates)
                await asyncio.sleep(self._pause())
                continue
            if storing_failed:
                storing_failed = False
                self._away_told.clear()
                self.outage.ok()
            # only now, with the batch committed, does the next request confirm it
            offset = max(u["update_id"] for u in updates) + 1

    async def _work_loop(self) -> None:
        """Read stored updates in arrival order and hand each to its chat's lane."""
        lanes: Lanes[tuple[str, int], Pending] = Lanes(
            self._handle, width=self.width, ended=self._lane_ended
        )
        self._lanes = lanes
        cursor = 0  # the newest row handed to a lane (rows after it are read next)
        loop = asyncio.get_running_loop()
        looked = loop.time()  # the last look at the whole inbox
        try:
            while not self._stopping:
                if self._look_again or loop.time() - looked > self.idle_wait:
                    self._look_again = False
                    # the whole inbox again now and then: a row whose transaction committed
                    # after a newer one's, or one of a chat another replica held until now
                    cursor, looked = 0, loop.time()
                if lanes.queued >= self.buffer:
                    await lanes.changed()
                    continue
                # cleared before the read: an update stored while the read is under way wakes
                # the next wait instead of sitting in the inbox until idle_wait runs out
                self._wake.clear()
                # in hand before the read: a row finished (and let go) while the read was
                # under way may come back in it, unfinished
                before = set(self._inflight)
                try:
                    # updates whose media download is due a new try go first: they are older
                    due = (
                        await db(self.inbox.pending, self._batch, due=True) if self._waiting else []
                    )
                    # the chats another replica held, due a new look: their rows, as the
                    # read after the cursor will not show them again (older)
                    chats, row_ids = self._look_elsewhere(loop.time())
                    again = (
                        await db(self.inbox.pending_in, chats, row_ids) if chats or row_ids else []
                    )
                    rows = await db(self.inbox.pending, self._batch, after=cursor)
                except Exception as exc:
                    self.outage.failed(exc, "reading the inbox")
                    self._elsewhere.update(self._looking)  # still due
                    self._looking.clear()
                    await self._rest()
                    continue
                fresh: dict[int, Pending] = {}  # due retries first: they are older
                for row in [*due, *again, *rows]:
                    if row.id not in before and row.id not in self._inflight:
                        fresh.setdefault(row.id, row)
                taking = list(fresh.values())
                if self.locks is not None and taking:
                    taking = await self._claim(taking, lanes)
                # those looked at again and not refused once more: taken, or done elsewhere
                self._looking.clear()
                for row in taking:
                    self._inflight.add(row.id)
                    lanes.submit(lane_of(row), row)
                if rows:
                    cursor = rows[-1].id
                    continue
                wait = self.idle_wait
                if self._elsewhere:
                    soonest = min(held.due for held in self._elsewhere.values())
                    wait = min(wait, max(soonest - loop.time(), 0.0))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)
        finally:
            await lanes.close()  # each lane finishes the update in hand; the rest are replayed
            await self._flush()
            if self.locks is not None:
                await db(self.locks.close)  # gives back every chat this process held

    async def _claim(
        self, rows: list[Pending], lanes: Lanes[tuple[str, int], Pending]
    ) -> list[Pending]:
        """With replicas: the rows whose chat this process holds (or now takes), still
        unprocessed once taken; another process handles the others."""
        assert self.locks is not None
        ours = [row for row in rows if lanes.has(lane_of(row))]  # a lane holds its chat
        new = [row for row in rows if not lanes.has(lane_of(row))]
        keys = sorted({lock_key(row) for row in new})
        if not keys:
            return ours
        held: set[int] = set()
        before = set(self._inflight)  # as in the dispatcher: what the read may show unfinished
        try:
            held = await db(self.locks.take, keys)
            # read after taking: the replica that held a chat may have done some of its
            # updates, or left older ones than these (it stopped): the chat starts from
            # its oldest unprocessed update
            taken = await db(
                self.inbox.pending_in,
                [row.chat_id for row in new if row.chat_id is not None and row.chat_id in held],
                [row.id for row in new if row.chat_id is None and lock_key(row) in held],
            )
        except Exception as exc:
            self.outage.failed(exc, "taking chats")
            for key in held:
                self._give_later(key)
            return ours
        self._held_elsewhere(new, held)
        taken = [row for row in taken if row.id not in before and row.id not in self._inflight]
        for key in held - {lock_key(row) for row in taken}:
            self._give_later(key)  # nothing left to do in that chat
        # a lane that ran dry during those awaits gave its chat back: its rows wait for
        # the next look (from the start of the inbox, at once)
        kept = [row for row in ours if lanes.has(lane_of(row))]
        if len(kept) < len(ours):
            self._look_again = True
        return sorted(kept + taken, key=lambda row: row.id)

    def _held_elsewhere(self, rows: list[Pending], held: set[int]) -> None:
        """Note the chats of these rows that another replica holds (looked at again soon),
        and forget those now taken."""
        now = asyncio.get_running_loop().time()
        for row in rows:
            key = lock_key(row)
            if key in held:
                self._elsewhere.pop(key, None)
                self._looking.pop(key, None)
                continue
            if key in self._elsewhere:  # not due yet: the same pause
                continue
            looked = self._looking.pop(key, None)
            # held still at a look again: twice as long before the next (no busy loop on
            # a chat held by a connection that is dead but not yet timed out)
            pause = min(looked.pause * 2, self.idle_wait) if looked else self.held_pause
            self._elsewhere[key] = HeldElsewhere(row.chat_id, row.id, pause, now + pause)

    def _look_elsewhere(self, now: float) -> tuple[list[int], list[int]]:
        """The chats held elsewhere due a new look (and rows without a chat), moved to
        _looking until the look is over."""
        chats: list[int] = []
        row_ids: list[int] = []
        for key, held in list(self._elsewhere.items()):
            if held.due <= now:
                del self._elsewhere[key]
                self._looking[key] = held
                if held.chat is not None:
                    chats.append(held.chat)
                else:
                    row_ids.append(held.row)
        return chats, row_ids

    def _lane_ended(self, lane: tuple[str, int]) -> None:
        if self.locks is not None:
            kind, value = lane
            self._give_later(value if kind == "chat" else ROW_LOCKS + value)

    def _give_later(self, key: int) -> None:
        """Give a chat back once its done marks are committed (another replica may take
        it next, and must not see them as unprocessed). The chats ending meanwhile go
        back together, in one statement."""
        self._to_give.append(key)
        if self._giver is None or self._giver.done():
            self._giver = asyncio.create_task(self._give(), name="intake-give")

    async def _give(self) -> None:
        assert self.locks is not None
        while self._to_give:
            # after the wait, with no await before the list is taken: every chat in it
            # ended before the marks in flight were committed
            while self._flusher is not None and not self._flusher.done():
                await asyncio.wait({self._flusher})
            keys, self._to_give = self._to_give, []
            try:
                await db(self.locks.give, keys)
            except Exception as exc:
                self.outage.failed(exc, "giving a chat back")

    async def _handle(self, row: Pending) -> None:
        """One stored update, in its lane: handled, retried while the database is away,
        or set aside; then marked done (in the batch of marks, or by its note's commit)."""
        bot = self._app.bot
        counted = False
        while not self._stopping:
            if row.id <= self._replay_until and not counted:
                # left unfinished by the last run: count each start, so that an update
                # that crashes or freezes the bot is set aside, not replayed forever
                try:
                    started = await db(self.inbox.begin, row.id, [])
                except Exception as exc:
                    self.outage.failed(exc, "counting a replay")
                    await self._rest()
                    continue
                counted = True
                if started > MAX_STARTS:
                    self._mark(row.id, f"started {started - 1} times without finishing")
                    await self._set_aside(row, readable(decoded(row.payload), bot))
                    return
            raw = decoded(row.payload)
            # the common update (a new text from its sender's own chat) the short way
            note = plain_text(raw) if raw is not None and row.retries == 0 else None
            update = readable(raw, bot) if note is None else None
            if raw is None or (note is None and update is None):
                log.warning("skipping update %s: python-telegram-bot cannot read it", row.update_id)
                self._mark(row.id, "python-telegram-bot cannot read it")
                return
            mark = InboxMark(row.id)
            token = IN_HAND.set(mark)
            self._media_tries[row.update_id] = row.retries
            try:
                handling = time.perf_counter()
                if update is not None:
                    await self._app.process_update(update)
                elif note is not None:
                    await process(self._app, raw, note)
                if self.on_handled is not None:
                    self.on_handled(time.perf_counter() - handling)
            finally:
                IN_HAND.reset(token)
                self._media_tries.pop(row.update_id, None)
            if row.update_id in self._retry:
                self._retry.discard(row.update_id)
                if await self._give_up(row, update or readable(raw, bot)):
                    self._inflight.discard(row.id)
                    return
                # stays in hand, and so does everything after it in this chat: order holds
                await self._rest()
                continue
            if row.update_id in self._media:
                self._media.discard(row.update_id)
                await self._media_later(row, update or readable(raw, bot))
                self._inflight.discard(row.id)
                return
            self._waiting -= row.retries > 0  # its media came at last
            self._told.discard(row.update_id)
            self._retries.pop(row.update_id, None)
            self.processed += 1
            self.outage.ok()
            if mark.done:
                self._inflight.discard(row.id)  # committed with its note
            else:
                self._mark(row.id)
            return

    def _mark(self, row_id: int, dead: str | None = None) -> None:
        """Queue a row's done mark; marks that pile up during a commit share the next one."""
        if dead is None:
            self._done.append(row_id)
        else:
            self._dead[row_id] = dead
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="intake-marks")

    async def _flush(self) -> None:
        while self._done or self._dead:
            done, dead = self._done, self._dead
            self._done, self._dead = [], {}
            # handlers are idempotent: a crash before this commit only causes a replay
            try:
                await db(self.inbox.finish, done, dead)
            except Exception as exc:
                self.outage.failed(exc, "marking updates done (they will be replayed)")
            self._inflight.difference_update(done)
            self._inflight.difference_update(dead)

    async def _rest(self) -> None:
        """The pause before the next try (cut short by a stop)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._halt.wait(), timeout=self._pause())

    async def _give_up(self, row: Pending, update: Update | None) -> bool:
        """After too many transient failures, set the update aside (True) — only if the
        database takes that write, which shows it is answering and the update is the trouble."""
        count = self._retries.get(row.update_id, 0) + 1
        self._retries[row.update_id] = count
        if count <= self.max_retries:
            return False
        try:
            await db(self.inbox.finish, [], {row.id: f"failed {count} times (database errors)"})
        except Exception as exc:
            self.outage.failed(exc, "setting an update aside")
            return False
        self._retries.pop(row.update_id, None)
        self._told.discard(row.update_id)
        await self._set_aside(row, update)
        return True

    async def _media_later(self, row: Pending, update: Update | None) -> None:
        """The update's media could not be downloaded: it waits for a later try (the
        updates after it go on), or is set aside after MAX_MEDIA_RETRIES."""
        tries = row.retries + 1
        try:
            if tries > self.max_media_retries:
                await db(self.inbox.finish, [], {row.id: f"media download failed {tries} times"})
            else:
                pause = min(self.media_retry * 2 ** (tries - 1), MAX_MEDIA_PAUSE)
                await db(self.inbox.defer, row.id, timedelta(seconds=pause))
                self._waiting += tries == 1
                self.media_deferred += 1
                log.info("update %s: a download failed; next try in %.0f s", row.update_id, pause)
                return
        except Exception as exc:
            # left as it was: tried again once the inbox is read from the start (idempotent)
            self.outage.failed(exc, "deferring an update")
            return
        self._waiting -= row.retries > 0
        await self._set_aside(row, update, texts.MEDIA_GAVE_UP)

    async def _set_aside(
        self, row: Pending, update: Update | None, text: str = texts.SET_ASIDE
    ) -> None:
        """One log line, and one message to the user whose update it was."""
        log.error("update %s set aside after repeated failures; not retried again", row.update_id)
        user = update.effective_user if update is not None else None
        chat = update.effective_chat if update is not None else None
        svc = self._app.bot_data.get(KEY)
        if user is None or chat is None or not isinstance(svc, Services):
            return
        if not svc.settings.allowed_user_ids.allows(user.id):
            return
        with contextlib.suppress(TelegramError):
            await self._app.bot.send_message(chat.id, text)

    def _pause(self) -> float:
        """The pause before the next try: doubles while the database stays away."""
        return float(min(self.retry_pause * 2 ** min(self.outage.tries, 10), MAX_PAUSE))

"""What every handler needs, built once in main() and reached through the context."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ParamSpec, TypeAlias, TypeVar, cast

from sqlalchemy import Engine
from telegram.ext import Application, CallbackContext, ExtBot

from bot.core.clock import Clock
from bot.core.days import journal_day, zone
from bot.limits import BOT_LIMITS, IMPORT_TURN, Limits
from bot.settings import Settings
from bot.telegram.acks import Acks
from storage.actions import Actions
from storage.ledger import Ledger
from storage.notes import Notes
from storage.reader import Reader
from storage.users import UserInfo, Users

if TYPE_CHECKING:  # these import this module
    from bot.telegram.groupcommit import NoteWriter
    from bot.telegram.intake import Intake
    from bot.telegram.scheduling import Scheduled

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
JOBS_IN_FLIGHT = 4  # reminders and digests worked on at once (30/s needs no more)
# reminders taken together by one of those: one database trip reads and claims them all, so
# a 30/s fan-out takes SQLite's write lock 3 times a second, not 30 (a kill -9 mid-fan-out
# can leave up to JOBS_IN_FLIGHT batches claimed and unsent: at most once, never twice)
BATCH = 10
STOP_GRACE = 5.0  # seconds the reminders being sent get to finish when the bot stops
# seconds a piece cancelled at a stop gets to give back what it claimed and did not send (one
# short transaction): apart from the grace, which a test may shorten, so that a loaded
# database is not cut off mid-give-back (those reminders would read "sent", never sent)
GIVE_BACK_GRACE = 5.0


@dataclass(frozen=True)
class Batched:
    """A piece of work that may be done together with the pieces of the same `run` that
    wait right behind it: `run` gets all their items at once."""

    run: Callable[[list[Any]], Awaitable[None]]
    item: Any


class Backlog:
    """Work that waits its turn: at most `width` pieces run at once, the rest wait as plain
    entries in a queue. (As waiting tasks, 10,000 reminders due in one minute cost the event
    loop whole seconds: a garbage collection walks every one of them, again and again.)
    Batched pieces next to each other in the queue are taken `batch` at a time."""

    def __init__(self, width: int, batch: int = BATCH) -> None:
        self._width = width
        self._batch = batch
        self.grace = STOP_GRACE  # what runs gets this long to finish at a stop
        self._waiting: deque[Callable[[], Awaitable[None]] | Batched] = deque()
        self._workers: set[asyncio.Task[None]] = set()
        self._closed = False

    def idle(self) -> bool:
        """Nothing waiting and nothing running."""
        return not self._waiting and not self._workers

    def put(self, work: Callable[[], Awaitable[None]] | Batched) -> None:
        """Queue a piece of work (dropped once the backlog is closed)."""
        if self._closed:
            return
        self._waiting.append(work)
        if len(self._workers) < self._width:
            task = asyncio.create_task(self._work(), name="backlog")
            self._workers.add(task)
            task.add_done_callback(self._workers.discard)

    async def close(self) -> int:
        """Stop: take no more work, drop what waits, give what runs `self.grace` seconds,
        then cancel it. Returns how many waiting pieces were dropped.

        A waiting piece has claimed nothing in the ledger, so the catch-up after a restart
        finds it still due (10,000 reminders at 30/s would otherwise hold the stop 5 min).
        """
        self._closed = True
        dropped = len(self._waiting)
        self._waiting.clear()
        if self._workers:
            _, late = await asyncio.wait(set(self._workers), timeout=self.grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=GIVE_BACK_GRACE)
        return dropped

    async def _work(self) -> None:
        while self._waiting and not self._closed:
            work = self._waiting.popleft()
            try:
                if isinstance(work, Batched):
                    await work.run(self._take_batch(work))
                else:
                    await work()
            except Exception:  # one user's failure is logged; the others' work goes on
                log.exception("background work failed")

    def _take_batch(self, first: Batched) -> list[Any]:
        """The items of `first` and of the pieces of the same run right behind it."""
        items = [first.item]
        waiting = self._waiting
        while (
            len(items) < self._batch
            and waiting
            and isinstance(waiting[0], Batched)
            and waiting[0].run == first.run
        ):
            items.append(cast(Batched, waiting.popleft()).item)
        return items


@dataclass
class Services:
    """Settings, clock and repositories shared by the handlers and jobs."""

    settings: Settings
    clock: Clock
    users: Users
    notes: Notes
    reader: Reader
    actions: Actions
    ledger: Ledger
    engine: Engine
    app: App | None = None  # built from these services, so set right after
    intake: Intake | None = None  # with INTAKE=inbox: where a handler's failed update waits
    acks: Acks | None = None  # the ✍ reactions on their way (set with the app)
    writer: NoteWriter | None = None  # new notes, committed in groups (set with the app)
    jobs: dict[int, Scheduled] = field(default_factory=dict)  # each user's reminder jobs
    # thousands of reminders due in one minute wait here, not as thousands of tasks in
    # the thread pool and the limiter: a congested loop lets paced requests out in
    # bunches, and a bunch crosses Telegram's per-second limit
    due: Backlog = field(default_factory=lambda: Backlog(JOBS_IN_FLIGHT))
    parse_limits: Limits = BOT_LIMITS  # for files parsed in a worker process (bot.worker)
    import_turn: float = IMPORT_TURN  # an import's longest pause after each batch
    git_told: set[int] = field(default_factory=set)  # owners told EXPORT_GIT is failing

    def today(self, user: UserInfo) -> date:
        return journal_day(self.clock.now(), zone(user.timezone), self.settings.day_starts_at)


Context: TypeAlias = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
# PTB types an Application by six parameters that its builder and the callback contexts
# each narrow differently; one alias for all of them
App: TypeAlias = Application[Any, Any, Any, Any, Any, Any]

KEY = "rizhilu.services"


def services(context: Context) -> Services:
    """The Services object the application was built with."""
    svc = context.application.bot_data[KEY]
    assert isinstance(svc, Services)
    return svc


def acks(svc: Services) -> Acks:
    """The reactions in flight (set up with the Application)."""
    assert svc.acks is not None
    return svc.acks


def writer(svc: Services) -> NoteWriter:
    """The group committer of new notes (set up with the Application)."""
    assert svc.writer is not None
    return svc.writer


async def db(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a blocking repository call off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)

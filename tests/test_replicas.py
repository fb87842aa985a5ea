"""Replicas: two `rizhilu run` processes in webhook mode share one PostgreSQL database;
each update is handled once, each chat in order, and a killed process loses nothing.

One test shows both on the same two processes (the kill comes last, with chats of its
own): each `rizhilu run` costs about a second of CPU to start and stop."""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core.clock import SystemClock
from bot.core.days import journal_day, zone
from bot.core.render import render_body
from bot.emulator import FakeBotAPI
from bot.settings import Settings
from storage.engine import make_engine, session_factory
from storage.inbox import ChatLocks
from storage.models import InboxUpdate, Note
from storage.reader import Reader
from tests.conftest import USER, WorkerSchema
from tests.test_run_safety import cli_env, free_port, rizhilu
from tests.test_webhook import post

pytestmark = pytest.mark.postgres

CHATS = [USER + i for i in range(6)]
LATER = [USER + 6 + i for i in range(6)]  # the chats of the kill
SECRET = "replica-secret-" + "r" * 30


class Replicas:
    """`rizhilu run` processes on one database, each with its own webhook port."""

    def __init__(self, fake: FakeBotAPI, tmp_path: Path, db_url: str) -> None:
        self.fake, self.tmp_path, self.db_url = fake, tmp_path, db_url
        self.procs: list[subprocess.Popen[str]] = []
        self.ports: list[int] = []
        self.next_update = 1

    def start(self, count: int) -> list[int]:
        """Start `count` replicas side by side; their indexes, once each set its webhook."""
        before = len(self.fake.calls_to("setWebhook"))
        for _ in range(count):
            port = free_port()
            env = cli_env(
                self.fake, self.tmp_path, self.db_url,
                ALLOWED_USER_IDS=",".join(map(str, CHATS + LATER)), WEBHOOK_URL="https://j.example/hook",
                WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port), WEBHOOK_SECRET=SECRET,
            )  # fmt: skip
            self.procs.append(rizhilu(self.tmp_path, env, "run"))
            self.ports.append(port)
        started = lambda: len(self.fake.calls_to("setWebhook")) >= before + count  # noqa: E731
        self.fake.wait_for(started, 60, "start")
        return list(range(len(self.procs) - count, len(self.procs)))

    def deliver(self, replica: int, update: dict[str, Any]) -> None:
        """POST one update to a replica, as Telegram would (200 = stored)."""
        update = {"update_id": self.next_update, **update}
        self.next_update += 1
        body = json.dumps(update).encode()
        assert post(self.ports[replica], "/hook", body, SECRET) == 200

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()


@pytest.fixture
def replicas(fake: FakeBotAPI, tmp_path: Path, pg_url: str) -> Iterator[Replicas]:
    group = Replicas(fake, tmp_path, pg_url)
    yield group
    group.stop()


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def conversation(fake: FakeBotAPI, chat: int) -> tuple[list[dict[str, Any]], str]:
    """A chat's updates (a note, a reply to it, a second note and its edit) and the day
    they must leave."""
    first = fake.message(chat, f"first of {chat}")
    reply = fake.message(chat, f"reply in {chat}", reply_to=first["message_id"])
    second = fake.message(chat, f"second of {chat}")
    edited = dict(second, text=f"second of {chat} (edited)", edit_date=second["date"] + 1)
    updates = [{"message": first}, {"message": reply}, {"message": second},
               {"edited_message": edited}]  # fmt: skip
    day = f"* first of {chat}\n  * reply in {chat}\n* second of {chat} (edited)"
    return updates, day


def journal_state(db_url: str, chats: list[int] = CHATS) -> tuple[int, int, dict[int, str]]:
    """(pending inbox rows, notes, each of those chats' day as markdown)."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as c:
            pending = c.execute(
                select(func.count()).select_from(InboxUpdate).where(InboxUpdate.done_at.is_(None))
            ).scalar_one()
            notes = c.execute(select(func.count()).select_from(Note)).scalar_one()
        reader = Reader(session_factory(engine))
        # the journal's day, not the UTC date: a note before the day start (04:00 by
        # default) belongs to the day before, so the UTC date was wrong after midnight
        defaults = Settings()
        today = journal_day(SystemClock().now(), zone(defaults.timezone), defaults.day_starts_at)
        days = {chat: "\n".join(render_body(reader.day_notes(chat, today))) for chat in chats}
    finally:
        engine.dispose()
    return int(pending), int(notes), days


def test_two_replicas_handle_each_update_once_in_order_and_a_killed_one_loses_nothing(
    fake: FakeBotAPI, replicas: Replicas, pg_url: str
) -> None:
    doomed, survivor = replicas.start(2)
    talks = {chat: conversation(fake, chat) for chat in CHATS}
    # interleaved chats, and each chat's updates alternate between the two replicas
    for step in range(4):
        for n, chat in enumerate(CHATS):
            replicas.deliver((step + n) % 2, talks[chat][0][step])
    wait_until(lambda: len(fake.calls_to("setMessageReaction")) >= 3 * len(CHATS), "the acks")
    wait_until(lambda: journal_state(pg_url)[0] == 0, "the inbox to empty")
    _, notes, days = journal_state(pg_url)
    assert notes == 3 * len(CHATS)  # each note once
    assert days == {chat: talks[chat][1] for chat in CHATS}
    reacted = [(c.params["chat_id"], c.params["message_id"]) for c in fake.calls_to(
        "setMessageReaction")]  # fmt: skip
    assert len(reacted) == len(set(reacted)) == 3 * len(CHATS)  # each handled by one replica

    # a replica killed mid-batch loses nothing: new chats, all sent to the doomed one
    talks = {chat: conversation(fake, chat) for chat in LATER}
    for step in range(4):
        for chat in LATER:
            replicas.deliver(doomed, talks[chat][0][step])
    replicas.procs[doomed].send_signal(signal.SIGKILL)  # stored, some handled, some not
    replicas.procs[doomed].communicate(timeout=30)
    # the survivor takes the dead replica's chats once its connection (and locks) are gone
    replicas.deliver(survivor, {"message": fake.message(LATER[0], "after the kill")})
    wait_until(lambda: journal_state(pg_url, LATER)[0] == 0, "the inbox to empty")
    _, notes, days = journal_state(pg_url, LATER)
    assert notes == 3 * len(CHATS) + 3 * len(LATER) + 1  # the first part's, and these once
    days[LATER[0]] = days[LATER[0]].removesuffix("\n* after the kill")
    assert days == {chat: talks[chat][1] for chat in LATER}


@pytest.fixture
def db_url(worker_schema: WorkerSchema) -> str:
    """The bots of start_bot on PostgreSQL only: replicas share it."""
    return worker_schema.clean()


class WatchedLocks(ChatLocks):
    """The real chat locks; each take that left keys to another holder is noted, with the
    time it started."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.refusals: list[tuple[float, set[int]]] = []
        self._noted = threading.Lock()

    def take(self, keys: list[int]) -> set[int]:
        started = time.monotonic()
        won = super().take(keys)
        if set(keys) - won:
            with self._noted:
                self.refusals.append((started, set(keys) - won))
        return won


async def test_a_chat_another_replica_holds_is_taken_soon_after_it_is_given_back(
    fake: FakeBotAPI, start_bot: Any, db_url: str
) -> None:
    bot = await start_bot()
    svc = bot.exposed["services"]
    intake = svc.intake
    # the idle look would find the chat at last; a note must not wait for it
    intake.idle_wait = 600
    await asyncio.to_thread(intake.locks.close)
    intake.locks = watched = WatchedLocks(svc.engine)
    other = ChatLocks(make_engine(db_url))  # the replica that holds the chat for now
    try:
        assert await asyncio.to_thread(other.take, [USER]) == {USER}
        texts = ["stored while the chat is held elsewhere", "and the next one"]
        await intake.accept(
            [
                {"update_id": 10_000 + n, "message": fake.message(USER, text)}
                for n, text in enumerate(texts)
            ]
        )
        # held: looked at again after 25 ms, then twice as late each time (no busy loop)
        await bot.until(lambda: len(watched.refusals) >= 4)
        tries = [at for at, _ in watched.refusals]
        for n, (before, after) in enumerate(itertools.pairwise(tries)):
            assert after - before >= intake.held_pause * 2**n
        assert {USER} == set().union(*(keys for _, keys in watched.refusals))
        await asyncio.to_thread(other.give, [USER])  # its batch is done
        await bot.reacted(2)
    finally:
        await asyncio.to_thread(other.close)
    assert (
        await bot.markdown(USER) == "* stored while the chat is held elsewhere\n* and the next one"
    )
    assert len(fake.calls_to("setMessageReaction")) == 2  # each once

"""Per-chat lanes and group commit: chats in parallel, each in arrival order, notes committed
together and acknowledged only after the commit that holds them."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import random
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from bot.core.capture import message_notes
from bot.core.clock import SystemClock
from bot.emulator import FakeBotAPI
from bot.telegram.groupcommit import IN_HAND, InboxMark, NoteWriter
from bot.telegram.lanes import Lanes
from storage.engine import session_factory
from storage.inbox import Inbox
from storage.models import Entry, InboxUpdate, Note
from storage.notes import MessageRef, NewMessage, Notes
from storage.users import Users
from tests.conftest import USER, migrated_engine

CHATS = [USER + i for i in range(8)]


async def test_a_lane_keeps_its_order_while_lanes_interleave() -> None:
    seen: dict[str, list[int]] = {}
    in_hand: set[str] = set()
    overlapped = False

    async def handle(item: tuple[str, int]) -> None:
        nonlocal overlapped
        key, n = item
        assert key not in in_hand  # never two items of one lane at once
        in_hand.add(key)
        overlapped = overlapped or len(in_hand) > 1
        for _ in range(random.Random(n).randrange(4)):
            await asyncio.sleep(0)
        in_hand.discard(key)
        seen.setdefault(key, []).append(n)

    lanes: Lanes[str, tuple[str, int]] = Lanes(handle, width=4)
    for n in range(200):
        key = "abcde"[n * 7 % 5]
        lanes.submit(key, (key, n))
    while lanes.queued:
        await lanes.changed()
    assert overlapped
    for key, numbers in seen.items():
        assert numbers == sorted(numbers), key
    assert sum(len(n) for n in seen.values()) == 200 and len(lanes) == 0


async def test_many_chats_interleaved_each_in_arrival_order(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    # queued before the bot starts, so that the lanes get them all at once
    expected: dict[int, str] = {}
    parents: dict[int, dict[str, Any]] = {}
    for i in range(6):
        for chat in CHATS:
            if i % 3 == 2:  # a reply to the previous note, right behind it
                fake.send(chat, f"reply {i}", reply_to=parents[chat]["message_id"])
            else:
                parents[chat] = fake.send(chat, f"note {i}")
                if i % 3 == 1:  # an edit of the note just sent, right behind it
                    fake.edit(parents[chat], f"note {i} (edited)")
    for chat in CHATS:
        expected[chat] = (
            "* note 0\n* note 1 (edited)\n  * reply 2\n* note 3\n* note 4 (edited)\n  * reply 5"
        )
    bot = await start_bot(allowed_user_ids=",".join(map(str, CHATS)))
    await bot.reacted(len(CHATS) * 6)
    for chat in CHATS:
        assert await bot.markdown(chat) == expected[chat], chat


class SlowFor:
    """The users repository, except that looking up `user` waits until `go` is set
    (an injected slow path for one chat: a slow lookup, a slow download...)."""

    def __init__(self, users: Any, user: int) -> None:
        self.fake = copy.copy(users)
        self.reached = threading.Event()
        self.go = threading.Event()
        real = users.ensure

        def ensure(user_id: int, *args: Any) -> Any:
            if user_id == user:
                self.reached.set()
                self.go.wait(30)
            return real(user_id, *args)

        self.fake.ensure = ensure


async def test_one_chats_slow_handler_does_not_hold_another_chat(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    slow, quick = CHATS[0], CHATS[1]
    bot = await start_bot(allowed_user_ids=f"{slow},{quick}")
    svc = bot.exposed["services"]
    slowed = SlowFor(svc.users, slow)
    svc.users = slowed.fake
    try:
        fake.send(slow, "stuck behind a slow path")
        fake.send(slow, "waits its turn in the same chat")
        await bot.until(slowed.reached.is_set)
        fake.send(quick, "not held by the other chat")
        await bot.reacted(1)
        reacted = [int(c.params["chat_id"]) for c in fake.calls_to("setMessageReaction")]
        assert reacted == [quick] and not slowed.go.is_set()
    finally:
        slowed.go.set()
    await bot.reacted(3)
    assert await bot.markdown(slow) == (
        "* stuck behind a slow path\n* waits its turn in the same chat"
    )


def journal(db_url: str) -> tuple[Any, Any]:
    """An engine and its sessions on a journal that has the user USER."""
    engine = migrated_engine(db_url)
    sessions = session_factory(engine)
    Users(sessions, SystemClock()).ensure(USER, USER, "Ann", "UTC", None)
    return engine, sessions


def new_message(message_id: int, text: str, days_ago: int = 0) -> NewMessage:
    at = SystemClock().now()
    day = at.date() - timedelta(days=days_ago)
    return NewMessage(MessageRef(USER, USER, message_id, at), day, message_notes(text))


class HeldNotes(Notes):
    """Real notes, except that the first add_many waits for `go` (a slow first commit)."""

    def __init__(self, notes: Notes) -> None:
        super().__init__(notes._sessions, notes._clock)
        self.reached = threading.Event()
        self.go = threading.Event()
        self.groups: list[int] = []

    def add_many(self, messages: list[NewMessage], inbox_done: list[int] | None = None) -> Any:
        self.groups.append(len(messages))
        if len(self.groups) == 1:
            self.reached.set()
            self.go.wait(30)
        return super().add_many(messages, inbox_done)


async def test_notes_arriving_during_a_commit_share_the_next_one(db_url: str) -> None:
    engine, sessions = journal(db_url)
    held = HeldNotes(Notes(sessions, SystemClock()))
    inbox = Inbox(sessions, SystemClock())
    inbox.store([(i, USER, json.dumps({"update_id": i})) for i in range(1, 7)])
    rows = [p.id for p in inbox.pending()]
    commits = []
    event.listen(engine, "commit", lambda conn: commits.append(1))
    writer = NoteWriter(lambda: held)

    async def add(n: int) -> Any:
        mark = InboxMark(rows[n])
        IN_HAND.set(mark)  # each task has its own context: the update it is handling
        stored = await writer.add(new_message(n + 1, f"note {n}"))
        return stored.status, mark.done

    first = asyncio.create_task(add(0))
    await asyncio.to_thread(held.reached.wait, 30)
    rest = [asyncio.create_task(add(n)) for n in range(1, 6)]
    await asyncio.sleep(0)  # all five are queued behind the commit under way
    assert not any(t.done() for t in rest)  # none acknowledged before its commit
    held.go.set()
    results = [await first] + [await t for t in rest]
    assert results == [("stored", True)] * 6
    assert held.groups == [1, 5] and writer.commits == 2
    assert len(commits) == 2  # six notes, two transactions
    assert inbox.pending() == []  # their inbox rows were marked in those commits
    engine.dispose()


async def test_a_commit_is_joined_by_the_next_notes_of_the_chats_it_released(
    db_url: str,
) -> None:
    """A note queued during a commit does not go alone: the next notes of the chats that
    commit released join it (else the lanes split into a group of one and one of the rest)."""
    engine, sessions = journal(db_url)
    held = HeldNotes(Notes(sessions, SystemClock()))
    writer = NoteWriter(lambda: held)

    async def chat(first: int, then: int) -> None:
        await writer.add(new_message(first, f"note {first}"))
        await writer.add(new_message(then, f"note {then}"))  # this chat's next note

    one = asyncio.create_task(chat(1, 2))
    await asyncio.to_thread(held.reached.wait, 30)
    other = asyncio.create_task(writer.add(new_message(3, "note 3")))  # during the commit
    await asyncio.sleep(0)
    held.go.set()
    await asyncio.gather(one, other)
    assert held.groups == [1, 2]  # notes 3 and 2 together, not a commit each
    engine.dispose()


async def test_an_inbox_write_waits_for_the_commit_under_way_not_for_the_next(
    db_url: str,
) -> None:
    """The fetcher's inbox write takes its turn between group commits (NoteWriter.turn):
    behind the commit under way, ahead of the notes that queued after it asked."""
    engine, sessions = journal(db_url)
    held = HeldNotes(Notes(sessions, SystemClock()))
    inbox = Inbox(sessions, SystemClock())
    writer = NoteWriter(lambda: held)
    order: list[str] = []
    event.listen(engine, "commit", lambda conn: order.append("commit"))

    async def store() -> None:
        async with writer.turn:  # as Intake.accept does
            await asyncio.to_thread(inbox.store, [(1, USER, json.dumps({"update_id": 1}))])
            order.append("stored")

    first = asyncio.create_task(writer.add(new_message(1, "note 1")))
    await asyncio.to_thread(held.reached.wait, 30)
    storing = asyncio.create_task(store())
    await asyncio.sleep(0)  # waiting for its turn
    rest = [asyncio.create_task(writer.add(new_message(n, f"note {n}"))) for n in range(2, 5)]
    held.go.set()
    await asyncio.gather(first, storing, *rest)
    assert order == ["commit", "commit", "stored", "commit"]  # notes, inbox, notes
    assert held.groups == [1, 3]
    engine.dispose()


async def test_a_crash_before_the_group_commit_loses_nothing(
    fake: FakeBotAPI, start_bot: Any, db_url: str
) -> None:
    engine, sessions = journal(db_url)
    inbox = Inbox(sessions, SystemClock())
    updates = [fake.message(USER, f"note {n}") for n in range(5)]
    inbox.store(
        [(9200 + n, USER, json.dumps({"update_id": 9200 + n, "message": m}))
         for n, m in enumerate(updates)]
    )  # fmt: skip

    class Crash(BaseException):
        """The process dies here (kill -9 between the inserts and the commit)."""

    def die(session: Session) -> None:
        raise Crash

    event.listen(sessions, "before_commit", die)
    with contextlib.suppress(Crash):
        Notes(sessions, SystemClock()).add_many(
            [new_message(m["message_id"], m["text"]) for m in updates],
            [p.id for p in inbox.pending()],
        )
    event.remove(sessions, "before_commit", die)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Note)).scalar_one() == 0
        assert c.execute(
            select(func.count()).select_from(InboxUpdate).where(InboxUpdate.done_at.is_(None))
        ).scalar_one() == 5  # fmt: skip
    bot = await start_bot()  # the next start replays the inbox: every note, once
    await bot.reacted(5)
    assert await bot.markdown(USER) == "\n".join(f"* note {n}" for n in range(5))
    await bot.until(lambda: not inbox.pending())
    engine.dispose()


def test_a_group_is_stored_as_one_message_at_a_time_would_be(tmp_path: Any, db_url: str) -> None:
    texts = ["plain", "- a\n- b\n  - b1\n    - b2\n  - b3\n- c", "[ ] a todo", "two\n\nparagraphs"]
    messages = [new_message(n + 1, texts[n % len(texts)]) for n in range(12)]
    messages.append(new_message(1, "the same message again"))  # a redelivery: a duplicate
    one_by_one, grouped = journal(f"sqlite:///{tmp_path / 'one.db'}"), journal(db_url)
    singles = [Notes(one_by_one[1], SystemClock()).add_message(m.ref, m.day, m.drafts)
               for m in messages]  # fmt: skip
    together = Notes(grouped[1], SystemClock()).add_many(messages)
    assert [r.status for r in together] == [r.status for r in singles]  # type: ignore[union-attr]
    assert tree(grouped[0]) == tree(one_by_one[0])
    for engine, _ in (one_by_one, grouped):
        engine.dispose()


def tree(engine: Any) -> list[Any]:
    """Every note with its place: text, position, part, kind, day and parent (as its message
    and part), in message order."""
    columns = (Note.text, Note.position, Note.part, Note.kind, Note.done, Note.message_id,
               Note.ordered, Note.paren, Note.sent_at, Note.user_id, Note.chat_id)  # fmt: skip
    parent = aliased(Note)
    with engine.connect() as c:
        rows = c.execute(
            select(*columns, Entry.key, parent.message_id, parent.part)
            .join(Entry, Note.entry_id == Entry.id)
            .outerjoin(parent, Note.parent_id == parent.id)
            .order_by(Note.message_id, Note.part)
        ).all()
    return [tuple(row) for row in rows]


def test_a_group_without_repeats_is_one_insert_a_level_and_the_same_notes(
    tmp_path: Any, db_url: str
) -> None:
    """The group's fast path (no message twice in the group): the notes one message at a time
    would store, on two days, with a redelivery of a message an earlier commit stored, in
    one INSERT per level of the notes' trees."""
    texts = ["plain", "- a\n- b\n  - b1\n    - b2\n  - b3\n- c", "[ ] a todo", "two\n\nparagraphs",
             "1) first\n2) second", "1. one\n   - under it"]  # fmt: skip
    earlier = [new_message(n + 1, texts[n % len(texts)]) for n in range(3)]
    messages = [new_message(n + 1, texts[n % len(texts)], days_ago=n % 2) for n in range(2, 14)]
    one_by_one, grouped = journal(f"sqlite:///{tmp_path / 'one.db'}"), journal(db_url)
    for m in earlier:
        Notes(one_by_one[1], SystemClock()).add_message(m.ref, m.day, m.drafts)
    Notes(grouped[1], SystemClock()).add_many(earlier)
    singles = [Notes(one_by_one[1], SystemClock()).add_message(m.ref, m.day, m.drafts)
               for m in messages]  # fmt: skip
    inserts: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO NOTES"):
            inserts.append(statement)

    event.listen(grouped[0], "before_cursor_execute", count)
    together = Notes(grouped[1], SystemClock()).add_many(messages)
    event.remove(grouped[0], "before_cursor_execute", count)
    assert [r.status for r in together] == [r.status for r in singles]  # type: ignore[union-attr]
    assert [r.status for r in together][:1] == ["duplicate"]  # type: ignore[union-attr]
    assert [r.note_id is not None for r in together] == [True] * len(messages)  # type: ignore[union-attr]
    assert len(inserts) == 3  # the deepest tree has three levels (b2 under b1 under b)
    assert tree(grouped[0]) == tree(one_by_one[0])
    for engine, _ in (one_by_one, grouped):
        engine.dispose()


class RacedNotes(Notes):
    """Real notes, except that the first group's fast path, its rows written, fails as the
    database fails it when another writer's row got there first."""

    def _add_fast(self, s: Session, messages: list[NewMessage], now: Any) -> Any:
        stored = super()._add_fast(s, messages, now)
        if not getattr(self, "raced", False):
            self.raced = True
            raise IntegrityError("INSERT INTO notes", {}, Exception("another writer's row"))
        return stored


def test_a_group_whose_fast_path_fails_is_stored_anew_one_at_a_time(
    tmp_path: Any, db_url: str
) -> None:
    """Nothing of the failed fast path stays (it has no savepoint of its own): each message's
    notes once, as one message at a time stores them, and the inbox rows marked done."""
    texts = ["plain", "- a\n- b\n  - b1\n    - b2\n  - b3\n- c", "[ ] a todo"]
    messages = [new_message(n + 1, texts[n % len(texts)], days_ago=n % 2) for n in range(6)]
    one_by_one, grouped = journal(f"sqlite:///{tmp_path / 'one.db'}"), journal(db_url)
    singles = [Notes(one_by_one[1], SystemClock()).add_message(m.ref, m.day, m.drafts)
               for m in messages]  # fmt: skip
    inbox = Inbox(grouped[1], SystemClock())
    inbox.store([(n, USER, json.dumps({"update_id": n})) for n in range(1, 4)])
    rows = [row.id for row in inbox.pending()]
    notes = RacedNotes(grouped[1], SystemClock())
    together = notes.add_many(messages, rows)
    assert notes.raced
    assert [r.status for r in together] == [r.status for r in singles]  # type: ignore[union-attr]
    assert tree(grouped[0]) == tree(one_by_one[0])
    assert inbox.pending() == []
    for engine, _ in (one_by_one, grouped):
        engine.dispose()

"""Lossless intake: confirm only what is stored, replay what was not processed, keep order."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import texts
from bot.core.clock import SystemClock
from bot.emulator import FakeBotAPI
from bot.telegram.intake import MAX_STARTS
from storage.engine import describe, session_factory
from storage.inbox import Inbox
from storage.models import InboxUpdate, Note
from tests.conftest import USER, away, migrated_engine


def inbox_for(db_url: str) -> tuple[Inbox, Any]:
    engine = migrated_engine(db_url)
    return Inbox(session_factory(engine), SystemClock()), engine


class RacingInbox(Inbox):
    """The real inbox, except that the first time the worker finds it empty, an update
    arrives (stored, worker woken) before the empty answer gets back to the worker."""

    def __init__(self, inner: Inbox, intake: Any, raw: dict[str, Any]) -> None:
        super().__init__(inner._sessions, inner._clock)
        self.intake = intake
        self.raw: dict[str, Any] | None = raw
        self.loop = asyncio.get_running_loop()

    def pending(self, limit: int = 100, after: int = 0) -> list[Any]:
        rows = super().pending(limit, after)
        if not rows and self.raw is not None:
            raw, self.raw = self.raw, None
            asyncio.run_coroutine_threadsafe(self.intake.accept([raw]), self.loop).result(10)
        return rows


def note_count(engine: Any) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(Note)).scalar_one())


async def test_unprocessed_rows_are_replayed_once(
    fake: FakeBotAPI, start_bot: Any, db_url: str
) -> None:
    inbox, engine = inbox_for(db_url)
    m1 = fake.message(USER, "left in the inbox by a crash")
    m2 = fake.message(USER, "undo target")
    undo = fake.message(USER, "/undo", entities=[{"type": "bot_command", "offset": 0, "length": 5}])
    rows = [
        (9001, USER, json.dumps({"update_id": 9001, "message": m1})),
        (9002, USER, json.dumps({"update_id": 9002, "message": m2})),
        (9003, USER, json.dumps({"update_id": 9003, "message": undo})),
    ]
    assert inbox.store(rows) == 3
    assert inbox.store(rows) == 0  # idempotent on update_id
    bot = await start_bot()
    await bot.until(lambda: not inbox.pending())
    await bot.stop()
    assert note_count(engine) == 2
    # a crash after the work committed but before the rows were marked done: replay all
    with engine.begin() as c:
        c.execute(InboxUpdate.__table__.update().values(done_at=None))
    bot = await start_bot()
    await bot.until(lambda: not inbox.pending())
    await bot.stop()
    with engine.connect() as c:
        live = (
            c.execute(select(Note.text).where(Note.deleted_at.is_(None)).order_by(Note.id))
            .scalars()
            .all()
        )
    # /undo replayed removed one note, not two; no note was duplicated
    assert live == ["left in the inbox by a crash"]
    assert note_count(engine) == 2
    engine.dispose()


async def test_confirmed_updates_are_all_in_the_inbox(
    fake: FakeBotAPI, start_bot: Any, db_url: str
) -> None:
    bot = await start_bot()
    for i in range(30):
        fake.send(USER, f"note {i}")
    await bot.reacted(30)
    fake.send(USER, "one more")
    await bot.reacted(31)
    await bot.stop()
    _inbox, engine = inbox_for(db_url)
    with engine.connect() as c:
        stored = set(c.execute(select(InboxUpdate.update_id)).scalars())
    assert fake.confirmed >= 30
    assert set(range(1, fake.confirmed + 1)) <= stored
    engine.dispose()


async def test_order_within_a_batch(fake: FakeBotAPI, start_bot: Any, db_url: str) -> None:
    # original, reply and edit are all queued before the bot starts: one batch
    msg = fake.send(USER, "parent")
    fake.send(USER, "child", reply_to=msg["message_id"])
    fake.edit(msg, "parent (edited)")
    bot = await start_bot()
    await bot.reacted(2)
    assert await bot.markdown(USER) == "* parent (edited)\n  * child"
    assert fake.sent_texts()[-1].endswith("\n• parent (edited)\n    ◦ child")  # the chat's view


def test_run_command_stops_cleanly_and_never_logs_the_token(
    fake: FakeBotAPI, tmp_path: Path, db_url: str
) -> None:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "DATABASE_URL": db_url,
        "TELEGRAM_BASE_URL": fake.base_url,
        "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
        "ALLOWED_USER_IDS": str(USER),
        "LOG_LEVEL": "DEBUG",
        "POLL_TIMEOUT": "1",
        "MEDIA_DIR": str(tmp_path / "media"),
    }
    fake.add_file("ph1", b"\xff\xd8\xffimg")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--env-file", str(tmp_path / "none.env"), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        fake.wait_for(lambda: bool(fake.calls_to("setMyCommands")), 30, "start-up")
        fake.command(USER, "/start")
        photo = [{"file_id": "ph1", "file_unique_id": "u1", "width": 9, "height": 9}]
        fake.send(USER, None, extra={"photo": photo})
        fake.wait_for(lambda: len(fake.calls_to("setMessageReaction")) >= 1, 30, "the photo")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert time.monotonic() - started < 10
    assert "rizhilu stopped" in err
    assert f"database: {describe(db_url)}" in err  # which journal it opened, password hidden
    secret = fake.token.split(":", 1)[1]
    assert secret not in err and secret not in out
    assert "Bot API endpoint" in err  # DEBUG logging was really on


async def test_a_database_outage_keeps_the_note_for_later(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    svc, _ = await fast_retries(bot)
    svc.notes = away(svc.notes, "add_many", times=2)
    fake.send(USER, "written while the database restarts")
    fake.send(USER, "and the next one waits its turn")
    await bot.reacted(2)
    assert await bot.markdown(USER) == (
        "* written while the database restarts\n* and the next one waits its turn"
    )
    assert fake.sent_texts().count(texts.DB_AWAY) == 1  # told once, not at every retry
    assert texts.ERROR not in fake.sent_texts()


async def test_an_update_ptb_cannot_read_is_stored_and_skipped_once(
    fake: FakeBotAPI, start_bot: Any, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # one batch: PTB's own get_updates would raise TypeError for all three, every time
    fake.send(USER, "before the poll")
    poll = fake.push({"message": fake.legacy_poll(USER)})
    fake.send(USER, "after the poll")
    bot = await start_bot()
    await bot.reacted(2)
    assert await bot.markdown(USER) == "* before the poll\n* after the poll"
    await bot.stop()
    assert fake.confirmed >= poll["update_id"]  # confirmed: Telegram does not send it again
    inbox, engine = inbox_for(db_url)
    with engine.connect() as c:
        stored = c.execute(
            select(InboxUpdate.payload).where(InboxUpdate.update_id == poll["update_id"])
        ).scalar_one()
    assert json.loads(stored) == poll  # kept as Telegram sent it
    skipped = [r for r in caplog.records if "cannot read" in r.getMessage()]
    assert len(skipped) == 1 and skipped[0].exc_info is None  # one line, no traceback
    bot = await start_bot()  # not replayed at the next start
    await bot.until(lambda: not inbox.pending())
    await bot.stop()
    assert len([r for r in caplog.records if "cannot read" in r.getMessage()]) == 1
    engine.dispose()


async def test_an_update_that_never_finishes_is_set_aside(
    fake: FakeBotAPI, start_bot: Any, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    inbox, engine = inbox_for(db_url)
    poison = fake.message(USER, "froze the bot at every start")
    fine = fake.message(USER, "stored as usual")
    inbox.store(
        [
            (9101, USER, json.dumps({"update_id": 9101, "message": poison})),
            (9102, USER, json.dumps({"update_id": 9102, "message": fine})),
        ]
    )
    first = inbox.pending()[0]
    for _ in range(MAX_STARTS):  # as if three runs started it and died (kill -9, OOM, freeze)
        inbox.begin(first.id, [])
    bot = await start_bot()
    await bot.reacted(1)
    assert await bot.markdown(USER) == "* stored as usual"
    await bot.stop()
    assert inbox.dead() == [(9101, f"started {MAX_STARTS} times without finishing")]
    with engine.connect() as c:  # the bot counts the starts of what it replays itself
        assert (
            c.execute(
                select(InboxUpdate.attempts).where(InboxUpdate.update_id == 9102)
            ).scalar_one()
            == 1
        )
    bot = await start_bot()  # not replayed again
    await bot.until(lambda: not inbox.pending())
    await bot.stop()
    assert fake.sent_texts().count(texts.SET_ASIDE) == 1
    assert len([r for r in caplog.records if "set aside" in r.getMessage()]) == 1
    engine.dispose()


async def fast_retries(bot: Any) -> tuple[Any, Any]:
    """The services and the intake of a started bot, retrying after 1 ms instead of 2 s.

    The pause doubles at each failed try: six tries after 2 s, 4 s … 64 s in production are
    0.126 s here (at 10 ms they were 1.26 s of the test waiting)."""
    svc = bot.exposed["services"]
    intake = svc.intake
    intake.retry_pause = 0.001
    return svc, intake


async def outage(
    start_bot: Any, caplog: pytest.LogCaptureFixture, take_away: Any, *notes: str
) -> dict[str, list[Any]]:
    """A bot whose database goes away (take_away(services, intake)) while notes arrive: our
    log records once the outage is over, its 'down' and 'back' lines and the rest."""
    caplog.set_level(logging.INFO)
    bot = await start_bot()
    take_away(*await fast_retries(bot))
    for note in notes:
        bot.fake.send(USER, note)
    await bot.reacted(len(notes))
    await bot.until(lambda: any("working again" in r.getMessage() for r in caplog.records))
    ours = [r for r in caplog.records if r.name.startswith("bot.")]
    return {
        "down": [r for r in ours if "database unavailable" in r.getMessage()],
        "back": [r for r in ours if "working again" in r.getMessage()],
        "loud": [r for r in ours if r.levelno >= logging.WARNING],
        "traced": [r for r in ours if r.exc_info or r.exc_text],
    }


async def test_an_update_the_database_keeps_refusing_is_set_aside(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    bot = await start_bot()
    svc, intake = await fast_retries(bot)
    intake.max_retries = 3
    svc.notes = away(svc.notes, "add_many", times=4)
    fake.send(USER, "refused at every try")
    fake.send(USER, "stored once the database answers")
    await bot.reacted(1)
    assert await bot.markdown(USER) == "* stored once the database answers"
    assert fake.sent_texts().count(texts.DB_AWAY) == 1
    assert fake.sent_texts().count(texts.SET_ASIDE) == 1


async def test_an_outage_is_one_log_line_then_one_when_it_is_over(
    fake: FakeBotAPI, start_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def notes_away(svc: Any, _intake: Any) -> None:
        svc.notes = away(svc.notes, "add_many", times=6)

    lines = await outage(start_bot, caplog, notes_away, "written while the database restarts")
    assert len(lines["down"]) == 1 and len(lines["back"]) == 1
    assert lines["loud"] == lines["down"] and not lines["traced"]  # nothing else, no traces
    assert fake.sent_texts().count(texts.DB_AWAY) == 1


def test_a_reused_update_id_with_new_content_is_kept_and_logged(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    inbox, engine = inbox_for(db_url)
    first = json.dumps({"update_id": 5, "message": {"message_id": 1, "text": "a week ago"}})
    again = json.dumps({"update_id": 5, "message": {"message_id": 9, "text": "today"}})
    assert inbox.store([(5, USER, first)]) == 1
    inbox.finish([inbox.pending()[0].id])  # handled, still kept in the inbox for a week
    assert inbox.store([(5, USER, first)]) == 0  # the same update delivered again: once
    assert not [r for r in caplog.records if "different content" in r.getMessage()]
    assert inbox.store([(5, USER, again)]) == 1  # Telegram reused the id: not dropped
    assert [p.payload for p in inbox.pending()] == [again]
    assert len([r for r in caplog.records if "different content" in r.getMessage()]) == 1
    engine.dispose()


async def test_an_inbox_refusing_writes_is_told_once_and_logged_once(
    fake: FakeBotAPI, start_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def inbox_away(_svc: Any, intake: Any) -> None:
        intake.inbox = away(intake.inbox, "store", times=5)

    notes = ["sent while the database restarts", "and another one"]
    lines = await outage(start_bot, caplog, inbox_away, *notes)
    assert fake.sent_texts().count(texts.DB_AWAY) == 1  # Telegram keeps them meanwhile
    assert len(lines["down"]) == 1 and len(lines["back"]) == 1 and not lines["traced"]


async def test_an_update_stored_while_the_worker_reads_is_not_left_waiting(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    bot = await start_bot()
    intake = bot.exposed["services"].intake
    intake.idle_wait = 600  # a missed wake-up would now stall the note past any timeout
    late = {"update_id": 777, "message": fake.message(USER, "stored during the read")}
    intake.inbox = RacingInbox(intake.inbox, intake, late)
    fake.send(USER, "first")  # wakes the worker; its next read finds the inbox empty
    await bot.reacted(2)
    assert await bot.markdown(USER) == "* first\n* stored during the read"

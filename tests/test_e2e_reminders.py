"""End to end: reminders, snooze, restarts, blocked users, /week and /digest."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import threading
import time
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
)
from PIL import Image

from bot import texts
from bot.core.clock import FixedClock
from bot.core.reminders import reminder_text
from bot.emulator import FakeBotAPI
from bot.telegram.scheduling import (
    _check,
    _prepare_reminders,
    buttons,
    check_reminder,
    deliver,
    remind_batch,
    schedule_user,
)
from bot.telegram.services import Batched, db
from storage.ledger import Ledger
from tests.conftest import USER, add_users, away
from tests.fakepace import HeldPace, QuickPace

EVENING = datetime(2021, 4, 8, 21, 0, tzinfo=UTC)
RUN_ENDS = EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES


def at(hour: int, minute: int, second: int = 0, day: int = 8) -> datetime:
    return datetime(2021, 4, day, hour, minute, second, tzinfo=UTC)


def reminders(fake: FakeBotAPI) -> list[dict[str, Any]]:
    return [m for m in fake.sent_messages if "reply_markup" in m]


async def fire(bot: Any, name: str) -> None:
    """Make the scheduler run a job now (time travel for APScheduler), and wait until that
    run has finished and the work it queued (svc.due) is done: whatever it was going to
    send is sent by then."""
    jq = bot.exposed["app"].job_queue
    jobs = jq.get_jobs_by_name(name)
    assert jobs, f"no job {name}"
    job = jobs[0].job
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[int] = loop.create_future()

    def listen(event: Any) -> None:
        if event.job_id == job.id:
            loop.call_soon_threadsafe(lambda: outcome.done() or outcome.set_result(event.code))

    jq.scheduler.add_listener(listen, RUN_ENDS)
    try:
        job.modify(next_run_time=datetime.now(UTC))
        assert await asyncio.wait_for(outcome, 10) == EVENT_JOB_EXECUTED, f"{name} did not run"
    finally:
        jq.scheduler.remove_listener(listen)
    await bot.until(bot.exposed["services"].due.idle)


def stamp(clock: FixedClock) -> int:
    return int(clock.now().timestamp())


async def evening(start_bot: Any, fake: FakeBotAPI, text: str = "hello") -> tuple[FixedClock, Any]:
    """A bot at 21:00 on 2021-4-8 with a 21:30 reminder and one note in today."""
    clock = FixedClock(EVENING)
    bot = await start_bot(clock=clock, reminder_time="21:30")
    fake.send(USER, text, date=stamp(clock))
    await bot.reacted(1)
    return clock, bot


async def due_crowd(
    start_bot: Any, count: int, **overrides: Any
) -> tuple[Any, FixedClock, list[int], str]:
    """A bot with `count` more users whose 21:30 reminder is due now (21:30:05); returns
    the bot, its clock, those users and the ALLOWED_USER_IDS that lets them all in."""
    people = list(range(USER + 1, USER + 1 + count))
    allowed = ",".join(str(u) for u in [USER, *people])
    clock = FixedClock(at(21, 0))
    bot = await start_bot(clock=clock, allowed_user_ids=allowed, **overrides)
    add_users(bot.exposed["services"].engine, people, clock.now())
    clock.set(at(21, 30, 5))
    return bot, clock, people, allowed


async def test_reminder_snooze_and_done(fake: FakeBotAPI, start_bot: Any) -> None:
    clock, bot = await evening(start_bot, fake, "first note")
    clock.set(at(21, 30, 5))
    await fire(bot, f"reminder:{USER}")
    await bot.until(lambda: len(reminders(fake)) == 1)
    first = reminders(fake)[0]
    assert first["text"] == "1 note today — anything else?"
    labels = [b["text"] for row in first["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Snooze 30 min", "Snooze 1 h", "Done for today"]
    await fire(bot, f"reminder:{USER}")  # a second run the same day (as on a DST fall-back day)
    assert len(reminders(fake)) == 1
    fake.press(USER, first, "rz:snooze:30:2021-04-08")
    await bot.until(lambda: bool(fake.calls_to("editMessageText")))
    assert fake.calls_to("editMessageText")[0].params["text"] == "Snoozed until 22:00."
    assert fake.calls_to("answerCallbackQuery")
    clock.set(at(22, 0, 5))
    await fire(bot, f"snooze:{USER}")
    await bot.until(lambda: len(reminders(fake)) == 2)
    fake.press(USER, reminders(fake)[1], "rz:done:2021-04-08")
    await bot.until(lambda: len(fake.calls_to("editMessageText")) == 2)
    assert fake.calls_to("editMessageText")[1].params["text"] == texts.DONE_FOR_TODAY
    # a second tap: Telegram refuses the unchanged edit, and that is no error to apologise for
    fake.press(USER, reminders(fake)[1], "rz:done:2021-04-08")
    await bot.until(lambda: len(fake.calls_to("editMessageText")) == 3)
    # a reply to the reminder is a note like any other
    fake.send(USER, "reply to the nudge", reply_to=first["message_id"], date=stamp(clock))
    await bot.reacted(2)
    assert texts.ERROR not in fake.sent_texts()


async def test_restart_around_reminder_time_sends_once(fake: FakeBotAPI, start_bot: Any) -> None:
    clock, bot = await evening(start_bot, fake)
    await bot.stop()
    clock.set(at(21, 31))  # down over reminder time, back within the grace
    bot = await start_bot(clock=clock, reminder_time="21:30")
    await bot.until(lambda: len(reminders(fake)) == 1)
    await bot.stop()
    bot = await start_bot(clock=clock, reminder_time="21:30")  # and again: no duplicate
    fake.command(USER, "/settings")
    await bot.until(lambda: any("Reminder: 21:30" in t for t in fake.sent_texts()))
    assert len(reminders(fake)) == 1
    await bot.stop()
    clock.set(at(23, 45, day=9))  # past the 2-hour grace of the 9th: skipped, not sent late
    bot = await start_bot(clock=clock, reminder_time="21:30")
    fake.command(USER, "/remind")
    await bot.until(lambda: any("Evening reminder: 21:30" in t for t in fake.sent_texts()))
    assert len(reminders(fake)) == 1


async def test_blocked_user_is_disabled_until_they_write(fake: FakeBotAPI, start_bot: Any) -> None:
    clock, bot = await evening(start_bot, fake)
    await bot.stop()
    fake.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=USER)
    clock.set(at(21, 31))
    bot = await start_bot(clock=clock, reminder_time="21:30")
    svc = bot.exposed["services"]
    jq = bot.exposed["app"].job_queue
    await bot.until(
        lambda: svc.users.get(USER).blocked and not jq.get_jobs_by_name(f"reminder:{USER}")
    )
    assert svc.ledger.status(USER, at(0, 0).date(), "reminder") == "blocked"
    fake.send(USER, "back again", date=stamp(clock))
    await bot.reacted(2)
    assert not svc.users.get(USER).blocked
    await bot.until(lambda: bool(bot.exposed["app"].job_queue.get_jobs_by_name(f"reminder:{USER}")))


async def test_remind_week_and_digest_commands(fake: FakeBotAPI, start_bot: Any) -> None:
    clock = FixedClock(at(12, 0))
    bot = await start_bot(clock=clock)
    for text in ["read #paper", "finish draft"]:
        fake.send(USER, text, date=stamp(clock))
    await bot.reacted(2)

    assert "off" in await bot.ask(USER, "/remind")
    assert "not a time of day" in await bot.ask(USER, "/remind 25:00")
    assert "not a time of day" in await bot.ask(USER, "/remind 24:00")
    assert "not a time" in await bot.ask(USER, "/remind -1")
    assert "21:30 (UTC)" in await bot.ask(USER, "/remind 9:30pm")
    assert bot.exposed["app"].job_queue.get_jobs_by_name(f"reminder:{USER}")
    assert "skip the reminder" in await bot.ask(USER, "/remind skip")
    assert "Reminders are off" in await bot.ask(USER, "/remind off")
    assert not bot.exposed["app"].job_queue.get_jobs_by_name(f"reminder:{USER}")
    assert "set to Europe/Berlin" in await bot.ask(USER, "/tz berlin")
    assert "could be several" in await bot.ask(USER, "/tz san")
    assert "not a time zone I know" in await bot.ask(USER, "/tz Mars/Base")
    assert "Asia/Shanghai" in await bot.ask(USER, "/tz Asia/Shanghai")
    week = await bot.ask(USER, "/week")
    assert week.startswith("Week 2021-4-2 – 2021-4-8") and "• read #paper" in week
    assert "2/7" not in week and "1/7 days logged · 2 notes" in week
    assert (await bot.ask(USER, "/week 2021-W14")).startswith("Week 2021-4-5 – 2021-4-11")
    assert (await bot.ask(USER, "/week 2")).startswith("Week 2021-3-26 – 2021-4-1")
    assert "could not read" in await bot.ask(USER, "/week someday")
    assert "not a day of the week" in await bot.ask(USER, "/digest funday 20:00")
    assert "every Sunday at 20:00 (Asia/Shanghai)" in await bot.ask(USER, "/digest sun 20:00")
    assert "Sunday 20:00" in await bot.ask(USER, "/digest")
    clock.set(datetime(2021, 4, 11, 12, 0, 30, tzinfo=UTC))  # Sunday 20:00:30 in Shanghai
    await fire(bot, f"digest:{USER}")
    await bot.until(lambda: any(t.startswith("Week 2021-4-5") for t in fake.sent_texts()))
    await fire(bot, f"digest:{USER}")
    assert sum(t.startswith("Week 2021-4-5") for t in fake.sent_texts()) == 2  # /week + 1 digest
    assert "off" in await bot.ask(USER, "/digest off")


async def test_skip_mode_stays_quiet_on_a_day_with_notes(fake: FakeBotAPI, start_bot: Any) -> None:
    clock = FixedClock(EVENING)
    bot = await start_bot(clock=clock, reminder_time="21:30")
    fake.command(USER, "/remind skip")
    await bot.until(lambda: any("skip the reminder" in t for t in fake.sent_texts()))
    fake.send(USER, "already wrote today", date=stamp(clock))
    await bot.reacted(1)
    clock.set(at(21, 30, 5))
    await fire(bot, f"reminder:{USER}")
    svc = bot.exposed["services"]
    day = at(0, 0).date()
    await bot.until(lambda: svc.ledger.status(USER, day, "reminder") == "skipped")
    await fire(bot, f"reminder:{USER}")  # a second run changes nothing
    assert reminders(fake) == []
    # the next day has no notes: the reminder comes
    clock.set(at(21, 30, 5, day=9))
    await fire(bot, f"reminder:{USER}")
    await bot.until(lambda: len(reminders(fake)) == 1)
    assert reminders(fake)[0]["text"].startswith("What did you learn today?")


async def test_a_database_outage_at_reminder_time_retries(fake: FakeBotAPI, start_bot: Any) -> None:
    clock, bot = await evening(start_bot, fake)
    svc = bot.exposed["services"]
    svc.users = away(svc.users, "get_many")  # the job reads its batch's users
    clock.set(at(21, 30, 5))
    await fire(bot, f"reminder:{USER}")
    jq = bot.exposed["app"].job_queue
    await bot.until(lambda: bool(jq.get_jobs_by_name(f"retry:{USER}")))
    assert reminders(fake) == []
    await fire(bot, f"retry:{USER}")
    await bot.until(lambda: len(reminders(fake)) == 1)


async def test_the_scheduled_digest_can_bring_the_heatmap(fake: FakeBotAPI, start_bot: Any) -> None:
    clock = FixedClock(at(12, 0))
    bot = await start_bot(clock=clock)
    fake.send(USER, "read #paper", date=stamp(clock))
    await bot.reacted(1)
    answer = await bot.ask(USER, "/digest sun 20:00 chart")
    assert answer == texts.DIGEST_ON.format(
        day="Sunday", time="20:00", tz="UTC", chart=texts.DIGEST_WITH_CHART
    )
    assert "with your year's heatmap" in await bot.ask(USER, "/digest")
    assert "not part of a digest time" in await bot.ask(USER, "/digest sun 20:00 chrat")
    clock.set(datetime(2021, 4, 11, 20, 0, 30, tzinfo=UTC))  # Sunday 20:00:30
    await fire(bot, f"digest:{USER}")
    await bot.until(lambda: bool(fake.calls_to("sendPhoto")))
    await fire(bot, f"digest:{USER}")  # a second run sends neither again
    (call,) = fake.calls_to("sendPhoto")
    assert call.params["caption"] == texts.DIGEST_CHART_CAPTION
    image = Image.open(io.BytesIO(call.params["photo"]["data"]))
    assert image.format == "PNG" and image.width > 300
    assert sum(t.startswith("Week 2021-4-5") for t in fake.sent_texts()) == 1
    digest_at = next(
        i for i, c in enumerate(fake.calls) if c.params.get("text", "").startswith("Week")
    )
    assert fake.calls.index(call) > digest_at  # the picture follows its digest
    # without `chart` the digest comes alone
    assert "heatmap" not in await bot.ask(USER, "/digest sun 20:00")


async def test_stop_with_a_big_backlog_is_prompt_and_the_restart_sends_the_rest_once(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    """Stopping while 200 reminders wait in svc.due (paced at 30/s: 7 s of sends) leaves
    the waiting ones to the catch-up after the restart: each user gets exactly one."""
    bot, clock, people, allowed = await due_crowd(start_bot, 200, rate_limit=30)
    svc, app = bot.exposed["services"], bot.exposed["app"]
    for u in people:  # as the jobs would queue them when they go off
        schedule_user(app, svc, svc.users.get(u))
        svc.due.put(lambda u=u: _check(app, svc, u, check_reminder))
    await bot.until(lambda: len(reminders(fake)) >= 10)
    await asyncio.wait_for(bot.stop(), 10)  # completes, well before the backlog would drain
    assert len(reminders(fake)) < len(people)
    bot = await start_bot(clock=clock, allowed_user_ids=allowed)  # no pace: a quick catch-up
    svc, day = bot.exposed["services"], at(0, 0).date()
    await bot.until(svc.due.idle)  # the catch-up runs in the background, after the start
    assert all(svc.ledger.status(u, day, "reminder") == "sent" for u in people)
    chats = sorted(m["chat"]["id"] for m in reminders(fake))
    assert chats == sorted(people)  # every one, once


async def test_the_catch_up_at_start_does_not_hold_capture(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    """200 reminders fell due while the bot was down (paced at 30/s: 7 s of sends, here run
    four times faster): a note sent at start is stored and acknowledged while they go out,
    and each goes out once."""
    people = range(USER + 1, USER + 201)
    allowed = ",".join(str(u) for u in [USER, *people])
    clock = FixedClock(at(21, 0))
    bot = await start_bot(clock=clock, allowed_user_ids=allowed)
    add_users(bot.exposed["services"].engine, people, clock.now())
    await bot.stop()
    clock.set(at(21, 30, 5))
    pace = QuickPace(4)
    bot = await start_bot(clock=clock, allowed_user_ids=allowed, rate_limit=30, pace=pace)
    fake.send(USER, "written while the reminders go out", date=stamp(clock))
    await bot.reacted(1)
    assert len(reminders(fake)) < len(people)  # before: every one was sent before the poll
    # the note is in (within ~0.05 s, some 20 sent): the rest need not take the 1.6 s their
    # pace would, only go out, each once
    pace.speed = 1000
    await bot.until(bot.exposed["services"].due.idle, 30)
    assert sorted(m["chat"]["id"] for m in reminders(fake)) == sorted(people)


async def test_a_stop_mid_batch_gives_the_unsent_back_and_the_restart_sends_them_once(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    """Reminders go out a batch at a time (remind_batch claims each batch in one INSERT).
    Stopping while 4 claimed batches wait for a slow pace (2 sends/s): what a batch had not
    sent is given back in one transaction, and the restart sends each of those once. (The
    stop gives them half a second, not 5 s: they cannot finish at this pace either way.)
    Once two are out, every later send waits for its turn until the stop (HeldPace): at 2
    sends/s one could otherwise be on the wire as the stop came, on a loaded machine, and
    rightly read "unknown" (at most once), failing this test by chance. The give-back itself
    is not cut short by the grace: on a loaded machine it once took longer, and the
    reminders it was giving back read "sent" without being sent."""
    pace = HeldPace(lambda: len(reminders(fake)) >= 2)
    bot, clock, people, allowed = await due_crowd(start_bot, 60, rate_limit=2, pace=pace)
    svc, app = bot.exposed["services"], bot.exposed["app"]
    svc.due.grace = 0.5
    svc.ledger = slow_give_back(svc.ledger, 0.7)  # a loaded database: longer than the grace
    for u in people:  # as their jobs queue them when they go off
        svc.due.put(Batched(remind_batch, (app, svc, u)))
    await bot.until(lambda: len(reminders(fake)) >= 2)
    day = at(0, 0).date()
    claimed = sum(svc.ledger.status(u, day, "reminder") is not None for u in people)
    assert claimed > len(reminders(fake))  # batches are claimed ahead of their sends
    await asyncio.wait_for(bot.stop(), 20)
    assert len(reminders(fake)) < claimed
    bot = await start_bot(clock=clock, allowed_user_ids=allowed)  # no pace: a quick catch-up
    svc = bot.exposed["services"]
    await bot.until(svc.due.idle)
    assert all(svc.ledger.status(u, day, "reminder") == "sent" for u in people)
    assert sorted(m["chat"]["id"] for m in reminders(fake)) == people  # each once


def slow_give_back(ledger: Ledger, seconds: float) -> Ledger:
    """A copy of the ledger whose give-back of claims takes `seconds` more (in its thread)."""
    slow = copy.copy(ledger)

    def release_many(*args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        return ledger.release_many(*args, **kwargs)

    slow.release_many = release_many  # type: ignore[method-assign]
    return slow


async def test_a_crash_mid_batch_sends_nothing_twice(fake: FakeBotAPI, start_bot: Any) -> None:
    """A process killed after claiming a batch and sending part of it gives nothing back:
    after the restart, the batch's unsent reminders stay claimed ("sent": at most once, as
    for a single claim), the sent ones are not sent again, and everyone else gets theirs."""
    bot, clock, people, allowed = await due_crowd(start_bot, 20)
    svc, app = bot.exposed["services"], bot.exposed["app"]
    batch = await db(_prepare_reminders, svc, people[:10])
    assert [n.user.id for n in batch] == people[:10]
    for nudge in batch[:3]:
        text, markup = reminder_text(nudge.notes), buttons(nudge.day)
        await deliver(app, svc, nudge.user, nudge.day, "reminder", text, markup, claimed=True)
    await bot.stop()  # as if killed here: the other 7 claims are not given back
    bot = await start_bot(clock=clock, allowed_user_ids=allowed)
    svc = bot.exposed["services"]
    await bot.until(svc.due.idle)
    day = at(0, 0).date()
    assert all(svc.ledger.status(u, day, "reminder") == "sent" for u in people)
    assert sorted(m["chat"]["id"] for m in reminders(fake)) == people[:3] + people[10:]


async def test_a_stop_while_a_batch_is_being_claimed_gives_its_claims_back(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    """The stop cancels a batch whose claiming trip is still under way in its thread: the
    trip completes, and what it claimed is given back, so none reads "sent" unsent."""
    bot, _, people, _ = await due_crowd(start_bot, 10)
    svc, app = bot.exposed["services"], bot.exposed["app"]
    claiming, go_on, claimed = threading.Event(), threading.Event(), threading.Event()
    ledger = copy.copy(svc.ledger)
    real = ledger.claim_many

    def slow_claim(claims: Any) -> Any:
        claiming.set()
        go_on.wait(10)
        try:
            return real(claims)
        finally:
            claimed.set()

    ledger.claim_many = slow_claim
    svc.ledger = ledger
    batch = asyncio.create_task(remind_batch([(app, svc, u) for u in people]))
    await asyncio.to_thread(claiming.wait, 10)
    batch.cancel()
    go_on.set()
    with contextlib.suppress(asyncio.CancelledError):
        await batch
    await asyncio.to_thread(claimed.wait, 10)  # the trip's INSERT is committed by now
    day = at(0, 0).date()
    assert all(svc.ledger.status(u, day, "reminder") is None for u in people)
    assert reminders(fake) == []

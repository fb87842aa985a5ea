"""A picture whose download fails: its text is kept now, the picture is fetched later, and the
updates after it are not held up (end to end against the fake Bot API)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot import texts
from bot.core.clock import FixedClock
from bot.emulator import FakeBotAPI
from tests.conftest import USER

NOW = datetime(2021, 4, 8, 12, 0, tzinfo=UTC)
OTHER = 1002
IMAGE = "![](media/2021/04/uph1.jpg)"


def _photo(caption: str | None = None) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "photo": [{"file_id": "ph1", "file_unique_id": "uph1", "width": 9, "height": 9}]
    }
    if caption is not None:
        extra["caption"] = caption
    return extra


async def _started(fake: FakeBotAPI, start_bot: Any) -> tuple[Any, FixedClock]:
    clock = FixedClock(NOW)
    fake.now = lambda: int(NOW.timestamp())
    bot = await start_bot(clock=clock, allowed_user_ids=f"{USER},{OTHER}")
    return bot, clock


async def deferred(bot: Any, count: int) -> None:
    """Until the intake has put off `count` new tries of media. The user is told before the
    try is put off, a clock moved on in between would date it a minute later (and a test
    that moves the clock only a minute saw no new try, by chance, on a loaded machine)."""
    intake = bot.exposed["services"].intake
    await bot.until(lambda: intake.media_deferred >= count)


async def test_failed_photo_download_keeps_caption_and_retries_without_blocking(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    bot, clock = await _started(fake, start_bot)
    fake.add_file("ph1", b"\xff\xd8jpegdata")
    fake.break_file("ph1")  # the download answers 404 until the test mends it
    photo = fake.send(USER, None, extra=_photo("whiteboard"))
    await bot.until(lambda: texts.MEDIA_LATER_TEXT in fake.sent_texts(USER))
    await deferred(bot, 1)
    assert texts.ERROR not in fake.sent_texts()
    # the updates after it, in this chat and in another one, go on meanwhile
    fake.send(USER, "after")
    fake.send(OTHER, "someone else")
    await bot.reacted(3)
    assert await bot.markdown(USER) == "* whiteboard\n* after"
    assert await bot.markdown(OTHER) == "* someone else"
    # the first new try fails too: the user is not told again
    clock.advance(timedelta(minutes=1))
    failed = sum(c.params.get("_failed") is None for c in fake.calls_to("getFile"))
    assert await bot.markdown(USER) == "* whiteboard\n* after"
    assert len(fake.calls_to("getFile")) > failed
    await deferred(bot, 2)
    fake.broken_files.clear()
    clock.advance(timedelta(minutes=2))
    assert await bot.markdown(USER) == f"* whiteboard\n  * {IMAGE}\n* after"
    assert fake.sent_texts(USER).count(texts.MEDIA_LATER_TEXT) == 1
    # Telegram delivering the same message again adds nothing
    fake.push({"message": photo})
    assert await bot.markdown(USER) == f"* whiteboard\n  * {IMAGE}\n* after"
    inbox = bot.exposed["services"].intake.inbox
    await bot.until(lambda: not inbox.pending())
    assert not inbox.dead()


async def test_photo_without_caption_is_stored_once_its_download_works(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    bot, clock = await _started(fake, start_bot)
    fake.add_file("ph1", b"\xff\xd8jpegdata")
    fake.break_file("ph1", times=1)
    fake.send(USER, None, extra=_photo())
    await bot.until(lambda: texts.MEDIA_LATER in fake.sent_texts(USER))
    await deferred(bot, 1)
    fake.send(USER, "after")
    await bot.reacted(1)
    assert await bot.markdown(USER) == "* after"
    clock.advance(timedelta(minutes=1))
    assert await bot.markdown(USER) == f"* after\n* {IMAGE}"
    await bot.reacted(2)


async def test_a_download_that_never_works_is_set_aside_and_said_so(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    bot, clock = await _started(fake, start_bot)
    intake = bot.exposed["services"].intake
    intake.max_media_retries = 2
    fake.add_file("ph1", b"\xff\xd8jpegdata")
    fake.break_file("ph1")
    fake.send(USER, None, extra=_photo("whiteboard"))
    await bot.until(lambda: texts.MEDIA_LATER_TEXT in fake.sent_texts(USER))
    for tries in (1, 2):  # the third try gives up
        await deferred(bot, tries)
        clock.advance(timedelta(hours=1))
        await bot.markdown(USER)
    await bot.until(lambda: texts.MEDIA_GAVE_UP in fake.sent_texts(USER))
    assert await bot.markdown(USER) == "* whiteboard"  # the caption stays
    assert [why for _, why in intake.inbox.dead()] == ["media download failed 3 times"]


async def test_the_stock_intake_keeps_the_caption_and_says_the_photo_is_missing(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    bot, _ = await _started(fake, start_bot)
    await bot.stop()
    bot = await start_bot(clock=FixedClock(NOW), allowed_user_ids=str(USER), intake="stock")
    fake.add_file("ph1", b"\xff\xd8jpegdata")
    fake.break_file("ph1")
    fake.send(USER, None, extra=_photo("whiteboard"))
    await bot.until(lambda: texts.MEDIA_FAILED in fake.sent_texts(USER))
    assert await bot.markdown(USER) == "* whiteboard"


async def test_a_voice_note_whose_download_fails_is_completed_later(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    bot, clock = await _started(fake, start_bot)
    voice = fake.file_fields("v1", b"OggS" + b"\0" * 40, duration=3, mime_type="audio/ogg")
    fake.break_file("v1", times=1)
    fake.send(USER, None, extra={"voice": voice, "caption": "standup"})
    await bot.until(lambda: texts.MEDIA_LATER_TEXT in fake.sent_texts(USER))
    await deferred(bot, 1)
    assert await bot.markdown(USER) == "* standup"
    clock.advance(timedelta(minutes=1))
    shown = await bot.markdown(USER)
    assert shown.startswith("* standup\n  * ") and "media/2021/04/uv1" in shown

"""End to end: the real Application over HTTP against the fake Bot API."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import pytest

from bot import texts
from bot.core.view import plain
from bot.emulator import FakeBotAPI
from tests.conftest import USER, on_a_fixed_day
from tests.fakepace import FakePace

STRANGER_ID = 2002


async def today(bot: Any, fake: FakeBotAPI) -> str:
    """Today's stored markdown (what the export will hold), after every update so far."""
    return str(await bot.markdown(USER))


async def test_conversation(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    await bot.until(lambda: bool(fake.calls_to("setMyCommands")))  # sent beside the first poll
    commands = fake.calls_to("setMyCommands")[0].params["commands"]
    assert {"today", "day", "undo", "tz", "settings", "help"} <= {c["command"] for c in commands}
    fake.command(USER, "/start")
    assert "日知录" in (await bot.replies(1))[0]
    assert fake.calls_to("getMe") and fake.calls_to("deleteWebhook")
    first = fake.send(
        USER, "Read the ScanNet paper", entities=[{"type": "bold", "offset": 9, "length": 7}]
    )
    await bot.reacted(1)
    fake.send(USER, "the label mapping is off", reply_to=first["message_id"])
    await bot.reacted(2)
    shown = await today(bot, fake)
    assert shown.endswith("* Read the **ScanNet** paper\n  * the label mapping is off")
    reaction = fake.calls_to("setMessageReaction")[0].params
    assert reaction["reaction"] == [{"type": "emoji", "emoji": "✍"}]


async def test_the_command_menu_neither_holds_nor_stops_capture(
    fake: FakeBotAPI, start_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail("setMyCommands", 500, "Internal Server Error")
    fake.send(USER, "written before the bot started")
    bot = await start_bot()
    await bot.reacted(1)
    await bot.until(lambda: "could not set the command menu" in caplog.text)
    assert len(fake.calls_to("setMyCommands")) == 1  # a warning; the bot goes on capturing
    fake.send(USER, "and after")
    await bot.reacted(2)


async def test_edit_changes_the_bullet_not_adds_one(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    msg = fake.send(USER, "frist draft")
    await bot.reacted(1)
    fake.edit(msg, "first draft")
    fake.send(USER, "second")
    await bot.reacted(2)
    assert (await today(bot, fake)).endswith("* first draft\n* second")


async def test_same_message_twice_is_stored_once(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    msg = fake.message(USER, "only once")
    fake.push({"message": msg})
    fake.push({"message": msg})
    await bot.reacted(2)
    assert (await today(bot, fake)).endswith("* only once")


async def test_list_message_nests(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    fake.send(USER, "Meeting\n- budget\n  - Q3\n- hiring")
    await bot.reacted(1)
    assert (await today(bot, fake)).endswith("* Meeting\n  * budget\n    * Q3\n  * hiring")


async def test_backdating(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    fake.send(USER, "2021-4-8: fixed the loader")
    await bot.reacted(1)
    fake.command(USER, "/day 2021-4-8")
    replies = await bot.replies(1)
    assert replies[-1] == "<b>2021-4-8 (Thursday)</b>\n\n• fixed the loader"  # HTML in the chat
    fake.send(USER, "2021-2-30: nope")
    replies = await bot.replies(2)
    assert "not a real date" in replies[-1]


async def test_groups_are_left_and_nothing_stored(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    fake.send(USER, "hello group", chat_type="group", chat_id=-100)
    await bot.until(lambda: bool(fake.calls_to("leaveChat")))
    assert int(fake.calls_to("leaveChat")[0].params["chat_id"]) == -100
    assert not fake.calls_to("setMessageReaction")
    assert "no text" not in " ".join(fake.sent_texts())
    assert await today(bot, fake) == ""


async def test_strangers_get_their_id_and_nothing_is_stored(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    bot = await start_bot()
    fake.send(STRANGER_ID, "let me in")
    replies = await bot.replies(1)
    assert str(STRANGER_ID) in replies[0] and "ALLOWED_USER_IDS" in replies[0]
    assert not fake.calls_to("setMessageReaction")


async def test_empty_allow_list_lets_nobody_in(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot(allowed_user_ids="")
    fake.send(USER, "hello")
    replies = await bot.replies(1)
    assert str(USER) in replies[0]
    assert not fake.calls_to("setMessageReaction")


async def test_unsupported_messages_get_a_polite_reply(fake: FakeBotAPI, start_bot: Any) -> None:
    # stickers, voice and the like are notes now (tests/test_e2e_kinds.py); a story is not
    bot = await start_bot()
    story = {"chat": {"id": -100, "type": "channel", "title": "A channel"}, "id": 5}
    fake.send(USER, None, extra={"story": story})
    assert (await bot.replies(1))[0] == texts.UNSUPPORTED


async def test_photo_becomes_an_image(fake: FakeBotAPI, start_bot: Any, tmp_path: Path) -> None:
    bot = await start_bot(clock=on_a_fixed_day(fake))
    fake.add_file("ph1", b"\xff\xd8jpegdata")
    photo = [
        {"file_id": "ph0", "file_unique_id": "small", "width": 90, "height": 90, "file_size": 10},
        {
            "file_id": "ph1",
            "file_unique_id": "AgADbig",
            "width": 900,
            "height": 900,
            "file_size": 11,
        },
    ]
    fake.send(USER, None, extra={"photo": photo, "caption": "whiteboard"})
    await bot.reacted(1)
    shown = await today(bot, fake)
    assert shown == "* whiteboard\n  * ![](media/2021/04/AgADbig.jpg)"
    saved = list((tmp_path / "media").rglob("AgADbig.jpg"))
    assert saved and saved[0].read_bytes() == b"\xff\xd8jpegdata"


def _photo(name: str) -> list[dict[str, Any]]:
    return [{"file_id": name, "file_unique_id": f"u{name}", "width": 9, "height": 9}]


async def test_an_album_nests_under_its_caption(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot(clock=on_a_fixed_day(fake))
    for name in ["a1", "a2", "a3", "b1", "b2"]:
        fake.add_file(name, b"\xff\xd8" + name.encode())
    first = fake.send(USER, None, extra={"photo": _photo("a1"), "caption": "whiteboard",
                                         "media_group_id": "A"})  # fmt: skip
    fake.send(USER, None, extra={"photo": _photo("a2"), "media_group_id": "A"})
    fake.send(USER, None, extra={"photo": _photo("a3"), "caption": "the proof",
                                 "media_group_id": "A"})  # fmt: skip
    # an album without a caption: each photo is a bullet of its own
    fake.send(USER, None, extra={"photo": _photo("b1"), "media_group_id": "B"})
    fake.send(USER, None, extra={"photo": _photo("b2"), "media_group_id": "B"})
    await bot.reacted(5)
    img = "![](media/2021/04/u{}.jpg)"
    album = (
        f"* whiteboard\n  * {img.format('a1')}\n  * {img.format('a2')}\n"
        f"  * the proof\n    * {img.format('a3')}\n"
        f"* {img.format('b1')}\n* {img.format('b2')}"
    )
    assert (await today(bot, fake)).endswith(album)
    # editing the caption keeps the album's photos under it
    fake.push(
        {"edited_message": dict(first, caption="whiteboard, day 2", edit_date=fake.now() + 1)}
    )
    fake.send(USER, "after")  # updates are handled in order: once this is in, so is the edit
    await bot.reacted(6)
    shown = await today(bot, fake)
    assert f"* whiteboard, day 2\n  * {img.format('a1')}\n  * {img.format('a2')}\n" in shown


async def test_handler_error_apologises(fake: FakeBotAPI, start_bot: Any, tmp_path: Path) -> None:
    # MEDIA_DIR is a file: saving the photo fails (a photo whose download fails is not an
    # error any more: see tests/test_media_retry.py)
    (tmp_path / "not-a-folder").write_text("x")
    bot = await start_bot(media_dir=str(tmp_path / "not-a-folder"))
    fake.add_file("ph1", b"\xff\xd8jpeg")
    photo = [{"file_id": "ph1", "file_unique_id": "m", "width": 9, "height": 9}]
    fake.send(USER, None, extra={"photo": photo})
    assert (await bot.replies(1))[0] == texts.ERROR
    fake.send(USER, "still alive")
    await bot.reacted(1)


async def test_undo_tz_settings(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    fake.send(USER, "keep")
    fake.send(USER, "oops")
    await bot.reacted(2)
    fake.command(USER, "/undo")
    assert (await bot.replies(1))[-1] == "Removed: oops"
    assert (await today(bot, fake)).endswith("* keep")
    fake.command(USER, "/tz Mars/Base")
    assert "not a time zone" in (await bot.replies(3))[-1]
    fake.command(USER, "/tz Asia/Shanghai")
    assert "Asia/Shanghai" in (await bot.replies(4))[-1]
    fake.command(USER, "/tz")
    assert "Asia/Shanghai" in (await bot.replies(5))[-1]
    fake.command(USER, "/settings")
    assert "Notes kept: 1" in (await bot.replies(6))[-1]
    fake.command(USER, "/day someday")
    assert "could not read" in (await bot.replies(7))[-1]


async def test_hostile_inputs_are_kept_safely(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    hostile = [
        "x" * 4096,
        "👩‍💻 emoji ZWJ and שלום RTL",
        "nul\x00 and \x07bell",
        "windows\r\nline",
        "## 2021-01-01",
        "```\nunterminated fence",
        "",
    ]
    for text in hostile[:-1]:
        fake.send(USER, text)
    await bot.reacted(len(hostile) - 1)
    fake.send(USER, "   ")
    assert texts.EMPTY in await bot.replies(1)
    fake.command(USER, "/today")
    # /today comes in several pieces: wait for the one with the last note
    await bot.until(lambda: "unterminated fence" in "\n".join(fake.sent_texts()))
    shown = "\n".join(fake.sent_texts()[1:])
    assert "## 2021-01-01" in shown and "nul and bell" in shown and "windows\n  line" in shown
    assert all(len(t) <= 4096 for t in fake.sent_texts())
    # formatted pieces, never raw escaped markdown (issue 10): the 4,096 x's whole
    day = [c.params for c in fake.calls_to("sendMessage")][1:]
    assert all(p.get("parse_mode") == "HTML" for p in day)
    assert "\\#" not in shown and "x" * 4096 in "".join(plain(str(p["text"])) for p in day)


async def test_long_day_is_split_or_sent_as_file(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    for i in range(3):
        fake.send(USER, f"{i} " + "y" * 3000)
    await bot.reacted(3)
    fake.command(USER, "/today")
    await bot.until(lambda: "".join(fake.sent_texts()).count("y" * 3000) == 3)
    assert all(len(t) <= 4096 for t in fake.sent_texts())
    for i in range(3, 12):
        fake.send(USER, f"{i} " + "z" * 3000)
    await bot.reacted(12)
    fake.command(USER, "/today")
    await bot.until(lambda: bool(fake.calls_to("sendDocument")))
    doc = fake.calls_to("sendDocument")[0].params["document"]
    assert doc["filename"].endswith(".md") and b"11 zzz" in doc["data"]


async def test_photos_over_the_download_limit_keep_their_caption(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    # issue #13 asks for the caption to be kept and the bullet to say so (it was refused)
    bot = await start_bot()
    photo = [{"file_id": "huge", "file_unique_id": "h", "width": 9, "height": 9,
              "file_size": 21 * 1024 * 1024}]  # fmt: skip
    fake.send(USER, None, extra={"photo": photo, "caption": "the poster"})
    await bot.reacted(1)
    too_large = texts.FILE_TOO_LARGE.format(size=" 21.0 MB")
    assert (await today(bot, fake)).endswith(f"* the poster\n  * 🖼 a photo ({too_large})")
    assert not fake.calls_to("getFile")


async def test_messages_to_one_chat_are_paced(fake: FakeBotAPI, start_bot: Any) -> None:
    pace = FakePace()
    fake.monotonic = pace.monotonic
    bot = await start_bot(rate_limit=30, pace=pace)
    for i in range(3):
        fake.send(USER, f"{i} " + "y" * 3000)
    await bot.reacted(3)  # reactions are not held back per chat
    fake.command(USER, "/today")
    await bot.until(lambda: len(fake.sent_texts()) >= 3)
    times = [c.at for c in fake.calls_to("sendMessage")]
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(times))


async def test_flood_control_is_waited_out_and_retried(fake: FakeBotAPI, start_bot: Any) -> None:
    pace = FakePace()
    fake.monotonic = pace.monotonic
    bot = await start_bot(rate_limit=30, pace=pace)
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    fake.command(USER, "/help")
    await bot.until(lambda: fake.delivered[USER] >= 1)
    attempts = fake.calls_to("sendMessage")
    assert attempts[0].params.get("_failed") == 429 and "_failed" not in attempts[-1].params
    assert attempts[-1].at - attempts[0].at >= 1.0  # waited as told before retrying
    assert texts.ERROR not in fake.sent_texts()


async def test_a_reaction_does_not_queue_behind_a_fan_out(fake: FakeBotAPI, start_bot: Any) -> None:
    # reminders going out to 150 chats fill the 30/s window for five seconds; a note's ✍
    # has its own budget and goes out among the first of them, not after them all
    bot = await start_bot(rate_limit=30)
    app = bot.exposed["app"]
    fan_out = [asyncio.create_task(app.bot.send_message(5000 + i, "reminder")) for i in range(150)]
    try:
        await bot.until(lambda: len(fake.calls_to("sendMessage")) >= 1)
        fake.send(USER, "written during the fan-out")
        await bot.reacted(1)
        reaction = next(i for i, c in enumerate(fake.calls) if c.method == "setMessageReaction")
        sent_before = sum(c.method == "sendMessage" for c in fake.calls[:reaction])
        assert sent_before <= 60  # two seconds' worth: it did not wait for the other 90
    finally:
        for task in fan_out:
            task.cancel()
        await asyncio.gather(*fan_out, return_exceptions=True)


@pytest.mark.parametrize("rate_limit", [0, 30])
async def test_a_429_on_a_reaction_is_retried_and_set_once(
    fake: FakeBotAPI, start_bot: Any, rate_limit: int
) -> None:
    pace = FakePace()  # the retry waits its second on it
    fake.monotonic = pace.monotonic
    bot = await start_bot(rate_limit=rate_limit, pace=pace)
    fake.fail("setMessageReaction", 429, "Too Many Requests: retry after 1", retry_after=1)
    first = fake.send(USER, "first")
    second = fake.send(USER, "second")  # not held up by the first one's pause
    await bot.until(lambda: sum("_failed" not in c.params for c in reactions(fake)) >= 2)
    await bot.stop()
    calls = reactions(fake)
    assert [c.params.get("_failed") for c in calls].count(429) == 1
    set_on = [int(c.params["message_id"]) for c in calls if "_failed" not in c.params]
    assert sorted(set_on) == sorted([first["message_id"], second["message_id"]])
    failed = next(c for c in calls if "_failed" in c.params)
    retried = next(
        c
        for c in calls
        if "_failed" not in c.params and c.params["message_id"] == failed.params["message_id"]
    )
    assert retried.at - failed.at >= 1.0  # waited as told


def reactions(fake: FakeBotAPI) -> list[Any]:
    return fake.calls_to("setMessageReaction")


async def test_an_edit_can_move_a_note_to_another_day(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    msg = fake.send(USER, "meeting notes")
    fake.send(USER, "today proper")
    await bot.reacted(2)
    fake.edit(msg, "2021-4-8: meeting notes")
    fake.send(USER, "after")  # handled in order: once this is in, so is the edit
    await bot.reacted(3)
    assert (await bot.ask(USER, "/day 2021-4-8")).endswith("\n\n• meeting notes")
    assert "meeting" not in await today(bot, fake)


async def test_today_falls_back_to_plain_text_if_telegram_refuses_the_html(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    bot = await start_bot()
    fake.send(USER, "bold claim", entities=[{"type": "bold", "offset": 0, "length": 4}])
    await bot.reacted(1)
    fake.fail("sendMessage", 400, "Bad Request: can't parse entities: unexpected end tag")
    fake.command(USER, "/today")
    await bot.until(lambda: any(t.endswith("• bold claim") for t in fake.sent_texts()))
    sent = fake.calls_to("sendMessage")[-1].params
    assert "parse_mode" not in sent and texts.ERROR not in fake.sent_texts()

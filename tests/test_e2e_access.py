"""Strangers and buttons: who may reach what, and every button press answered."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot import texts
from bot.emulator import FakeBotAPI
from bot.telegram.handlers.access import StrangerReplies
from tests.conftest import USER
from tests.test_e2e_import import preview, send_file
from tests.test_export_import import sample_text

STRANGER = 2002
OTHER = 3003


def press_without_message(fake: FakeBotAPI, user_id: int, data: str) -> None:
    """A press on a button of an inline message (or one Telegram no longer shows): no chat."""
    fake.push(
        {
            "callback_query": {
                "id": f"nomsg-{user_id}-{data}",
                "from": {"id": user_id, "is_bot": False, "first_name": "Eve"},
                "chat_instance": "ci",
                "inline_message_id": "inl1",
                "data": data,
            }
        }
    )


def answers(fake: FakeBotAPI) -> int:
    return len(fake.calls_to("answerCallbackQuery"))


async def open_todo(bot: Any, fake: FakeBotAPI) -> tuple[dict[str, Any], str]:
    """The /todo listing with one open TODO, and its button's data."""
    fake.send(USER, "TODO read the DETR paper")
    await bot.reacted(1)
    await bot.ask(USER, "/todo")
    sent = [m for m in fake.sent_messages if "reply_markup" in m][-1]
    return sent, sent["reply_markup"]["inline_keyboard"][0][0]["callback_data"]


async def test_a_stranger_is_told_once_a_day(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    for n in range(3):
        fake.send(STRANGER, f"let me in {n}")
    stranger_chat = fake.message(STRANGER, "old")
    fake.press(STRANGER, stranger_chat, "td:1")
    await bot.until(lambda: answers(fake) == 1 and len(fake.sent_texts(STRANGER)) >= 1)
    fake.send(USER, "mine")
    await bot.reacted(1)
    await bot.ask(USER, "/today")  # every update so far handled
    told = fake.sent_texts(STRANGER)
    assert told == [texts.STRANGER.format(user_id=STRANGER)]


def test_strangers_remembered_are_bounded() -> None:
    seen = StrangerReplies(cap=2)
    day = date(2026, 1, 1)
    assert seen.first_today(1, day) and not seen.first_today(1, day)
    assert seen.first_today(1, date(2026, 1, 2))  # a new day, a new reply
    assert seen.first_today(2, day) and seen.first_today(3, day)
    assert len(seen._told) == 2
    assert seen.first_today(1, day)  # forgotten: told again rather than remembered forever


async def test_a_button_without_its_chat_reaches_nothing(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    _, data = await open_todo(bot, fake)
    press_without_message(fake, STRANGER, data)
    press_without_message(fake, USER, data)  # even the owner's: no chat, no journal
    await bot.until(lambda: answers(fake) == 2)
    listing = await bot.ask(USER, "/todo")
    assert "DETR" in listing  # still open: nobody reached todos.tick
    assert not fake.calls_to("editMessageText")
    assert texts.ERROR not in fake.sent_texts()


async def test_every_button_is_answered_and_its_data_read_strictly(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    bot = await start_bot()
    sent, _ = await open_todo(bot, fake)
    garbage = [
        "zz",
        "td:²",
        "td:" + "9" * 40,
        "td:٣",
        "rz:snooze:²:2026-01-01",
        "im:zzz",
        "pg:s:٣",
    ]
    for junk in garbage:
        fake.press(USER, sent, junk)
    await bot.until(lambda: answers(fake) == len(garbage))
    assert "DETR" in await bot.ask(USER, "/todo")
    assert texts.ERROR not in fake.sent_texts()
    assert not fake.calls_to("editMessageText")


async def test_the_import_button_acts_only_for_its_chat(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot(allowed_user_ids=f"{USER},{OTHER}")
    send_file(fake, "j1", "journal.md", sample_text().encode())
    await bot.until(lambda: any("reply_markup" in m for m in fake.sent_messages))
    shown = preview(fake)
    fake.press(OTHER, shown, "im:go")  # someone else's press on the owner's preview
    await bot.until(lambda: answers(fake) == 1)
    assert not fake.calls_to("editMessageText")
    assert "Nothing logged" in await bot.ask(OTHER, "/day 2021-4-8")
    assert "Nothing logged" in await bot.ask(USER, "/day 2021-4-8")

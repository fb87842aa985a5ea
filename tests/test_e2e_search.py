"""/search in Telegram: every word must match, wildcards are literal, newest day first."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.emulator import FakeBotAPI
from bot.telegram.handlers.search import search_terms
from tests.conftest import USER


def test_search_terms() -> None:
    assert search_terms('ScanNet "ply label"  #paper') == ["ScanNet", "ply label", "#paper"]
    assert search_terms("   ") == []
    assert len(search_terms(" ".join(["w"] * 30))) == 10


async def test_search_finds_notes_across_days(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    fake.send(USER, "2021-3-2: ScanNet labels look wrong #paper")
    fake.send(USER, "2021-4-8: scannet ply has class 50\n- checked the tsv mapping")
    fake.send(USER, "2021-4-8: 精度 reached 50% on val")
    fake.send(USER, "2021-4-9: unrelated")
    await bot.reacted(4)

    found = await bot.ask(USER, "/search scannet")
    assert found.startswith("2 notes contain “scannet”:")
    lines = found.splitlines()
    assert lines[2].startswith("2021-4-8 · scannet ply has class 50")
    assert lines[3] == "2021-3-2 · ScanNet labels look wrong #paper"
    assert (await bot.ask(USER, "/search tsv mapping")).startswith("1 note contains")
    assert "No notes contain “scannet 精度”" in await bot.ask(USER, "/search scannet 精度")
    assert "精度 reached 50% on val" in await bot.ask(USER, "/search 50%")
    assert "No notes contain “5_%”" in await bot.ask(
        USER, "/search 5_%"
    )  # LIKE wildcards are literal
    assert "Search your notes" in await bot.ask(USER, "/search")
    for n in range(25):
        fake.send(USER, f"2021-4-1: many {n}")
    await bot.reacted(29)
    many = await bot.ask(USER, "/search many")
    assert many.startswith("25 notes contain") and "… and 5 more" in many


async def test_todo_lists_open_todos_and_ticks_them_off(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    assert "No open TODOs" in await bot.ask(USER, "/todo")
    notes = [
        "2021-4-7: TODO read the DETR paper",
        "2021-4-8: [ ] fix the label mapping",
        "2021-4-8: todo-list app is not a TODO",
        "2021-4-8: plain note",
    ]
    for text in notes:
        fake.send(USER, text)
    await bot.reacted(len(notes))
    listing = await bot.ask(USER, "/todo")
    assert listing.splitlines()[2:] == [
        "1. 2021-4-8 · [ ] fix the label mapping",
        "2. 2021-4-7 · TODO read the DETR paper",
    ]
    sent = [m for m in fake.sent_messages if "reply_markup" in m][-1]
    buttons = [b for row in sent["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["text"] for b in buttons] == ["✓ 1", "✓ 2"]
    fake.press(USER, sent, buttons[1]["callback_data"])
    await bot.until(lambda: bool(fake.calls_to("editMessageText")))
    edited = fake.calls_to("editMessageText")[-1].params["text"]
    assert "DETR" not in edited and "fix the label mapping" in edited
    answer = fake.calls_to("answerCallbackQuery")[-1].params
    assert answer["text"] == "Done: TODO read the DETR paper"
    assert await bot.markdown(USER, date(2021, 4, 7)) == "* ~~TODO read the DETR paper~~"
    fake.press(USER, sent, buttons[1]["callback_data"])  # a stale second tap
    await bot.until(lambda: len(fake.calls_to("answerCallbackQuery")) == 2)
    fake.press(USER, sent, "td:999999")  # not a note of theirs
    await bot.until(lambda: len(fake.calls_to("answerCallbackQuery")) == 3)
    assert (
        fake.calls_to("answerCallbackQuery")[-1].params["text"] == "That TODO is no longer there."
    )

"""/search in Telegram: every word must match, wildcards are literal, newest day first."""

from __future__ import annotations

from typing import Any

from bot.telegram.handlers.search import search_terms
from tests.conftest import USER
from tests.fakebot import FakeBotAPI


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

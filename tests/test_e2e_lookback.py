"""Looking back in Telegram: /tags, /tag and /search paged with "More", /onthisday, /stats."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from bot import texts
from bot.core.clock import FixedClock
from bot.core.heatmap import HEIGHT, WIDTH
from bot.emulator import FakeBotAPI
from tests.conftest import USER

NOW = datetime(2021, 4, 8, 12, 0, tzinfo=UTC)  # a Thursday


def stamp() -> int:
    return int(NOW.timestamp())


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in message["reply_markup"]["inline_keyboard"] for b in row]


def last_with_buttons(fake: FakeBotAPI) -> dict[str, Any]:
    return [m for m in fake.sent_messages if "reply_markup" in m][-1]


async def write(bot: Any, fake: FakeBotAPI, notes: list[str]) -> None:
    before = len(fake.calls_to("setMessageReaction"))
    for text in notes:
        fake.send(USER, text, date=stamp())
    await bot.reacted(before + len(notes))


async def test_tags_and_a_tag_by_day(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot(clock=FixedClock(NOW))
    assert (await bot.ask(USER, "/tags")) == texts.TAGS_NONE
    await write(
        bot,
        fake,
        [
            "2021-4-8: #ScanNet labels look wrong, see https://x.org/a#frag",
            "2021-4-8: #日知录 read a chapter",
            "2021-4-7: issue #1 is not a tag, #scannet is",
            "2020-4-8: first look at #ScanNet",
        ],
    )
    listing = await bot.ask(USER, "/tags")
    assert listing.splitlines() == [
        "Your tags (2) — /tag NAME shows a tag's notes:",
        "",
        "#ScanNet ×3",
        "#日知录 ×1",
    ]
    shown = await bot.ask(USER, "/tag scannet")
    assert shown.splitlines() == [
        "#scannet · 3 notes, newest first:",
        "",
        "2021-4-8",
        "• #ScanNet labels look wrong, see https://x.org/a#frag",
        "",
        "2021-4-7",
        "• issue #1 is not a tag, #scannet is",
        "",
        "2020-4-8",
        "• first look at #ScanNet",
    ]
    assert "reply_markup" not in fake.sent_messages[-1]  # one page: no "More"
    assert (await bot.ask(USER, "/tag #日知录")).startswith("#日知录 · 1 note:")
    assert await bot.ask(USER, "/tag frag") == texts.TAG_NONE.format(tag="frag")
    assert await bot.ask(USER, "/tag") == texts.TAG_USAGE
    assert await bot.ask(USER, "/tag 2021") == texts.TAG_USAGE  # not a tag: digits alone


async def test_more_pages_a_tag_and_a_search(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot(clock=FixedClock(NOW))
    await write(bot, fake, [f"2021-3-{day}: #many note {day}" for day in range(1, 26)])
    first = await bot.ask(USER, "/tag many")
    assert first.startswith("#many · 25 notes, newest first:\n\n2021-3-25\n• #many note 25")
    assert "2021-3-11" in first and "2021-3-10" not in first  # 15 a page
    page = last_with_buttons(fake)
    (more,) = buttons(page)
    assert more["text"] == "More" and more["callback_data"] == "pg:t:15"

    fake.press(USER, page, more["callback_data"])
    await bot.until(lambda: len(fake.sent_texts()) == 2)
    second = fake.sent_texts()[-1]
    assert second.startswith("#many · 16–25 of 25:\n\n2021-3-10\n• #many note 10")
    assert second.endswith("2021-3-1\n• #many note 1")
    assert "reply_markup" not in fake.sent_messages[-1]  # the last page
    assert fake.calls_to("answerCallbackQuery")[-1].params.get("text") is None
    removed = fake.calls_to("editMessageReplyMarkup")[-1].params
    assert int(removed["message_id"]) == page["message_id"] and not removed.get("reply_markup")

    fake.press(USER, page, more["callback_data"])  # a second tap on a page already turned
    await bot.until(lambda: len(fake.calls_to("answerCallbackQuery")) == 2)
    assert fake.calls_to("answerCallbackQuery")[-1].params["text"] == texts.PAGE_GONE
    for bad in ("pg:t:abc", "pg:x:1", "pg:t:15:extra", "pg:t:-1"):  # strict, and answered
        fake.press(USER, page, bad)
    await bot.until(lambda: len(fake.calls_to("answerCallbackQuery")) == 6)
    assert len(fake.sent_texts()) == 2

    found = await bot.ask(USER, "/search many note")
    assert found.startswith("25 notes contain “many note”:")
    assert found.endswith("… and 5 more. Add a word to narrow it down.")
    search_page = last_with_buttons(fake)
    assert buttons(search_page)[0]["callback_data"] == "pg:s:20"
    fake.press(USER, search_page, "pg:s:20")
    await bot.until(lambda: len(fake.sent_texts()) == 4)
    assert fake.sent_texts()[-1].splitlines() == [
        "“many note” · 21–25 of 25:",
        "",
        *[f"2021-3-{day} · #many note {day}" for day in range(5, 0, -1)],
    ]
    fake.press(USER, search_page, "pg:t:20")  # a search's page is not a tag's
    await bot.until(lambda: len(fake.calls_to("answerCallbackQuery")) == 8)
    assert fake.calls_to("answerCallbackQuery")[-1].params["text"] == texts.PAGE_GONE


async def test_on_this_day_in_earlier_years(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot(clock=FixedClock(NOW))
    assert await bot.ask(USER, "/onthisday") == texts.ONTHISDAY_NONE.format(day="8 April")
    await write(
        bot,
        fake,
        [
            "2021-4-8: today is not looked back on",
            "2020-4-8: a year ago\n- with a detail",
            "2019-4-8: two years ago",
            "2019-4-9: the day after",
        ],
    )
    answer = await bot.ask(USER, "/onthisday")
    assert answer.splitlines() == [
        "<b>On this day, 8 April</b>",
        "",
        "<b>2020-4-8 (Wednesday) · a year ago</b>",
        "• a year ago",
        "    ◦ with a detail",
        "",
        "<b>2019-4-8 (Monday) · 2 years ago</b>",
        "• two years ago",
    ]
    assert fake.calls_to("sendMessage")[-1].params["parse_mode"] == "HTML"


async def test_stats_with_a_heatmap(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot(clock=FixedClock(NOW))
    assert await bot.ask(USER, "/stats") == texts.STATS_EMPTY
    await write(
        bot,
        fake,
        [
            "2021-4-8: today",
            "2021-4-7: yesterday\n- and a detail",
            "2021-4-6: the day before",
            "2021-4-1: a Thursday",
            "2020-12-30: last year",
            "2020-12-31: last day of last year",
        ],
    )
    fake.command(USER, "/stats")
    await bot.until(lambda: len(fake.calls_to("sendPhoto")) == 1)
    call = fake.calls_to("sendPhoto")[0].params
    assert call["caption"] == (
        "Your journal since 2020-12-30\n"
        "Days logged: 6\n"
        "Notes: 7\n"
        "Streak: 3 days (longest 3)\n"
        "Busiest weekday: Wednesday (3 notes)"
    )
    image = Image.open(io.BytesIO(call["photo"]["data"]))
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
    assert len(image.convert("RGB").getcolors(WIDTH * HEIGHT) or []) > 5

    fake.command(USER, "/stats 2020")
    await bot.until(lambda: len(fake.calls_to("sendPhoto")) == 2)
    assert fake.calls_to("sendPhoto")[1].params["caption"] == (
        "Your journal in 2020\n"
        "Days logged: 2\n"
        "Notes: 2\n"
        "Longest streak: 2 days\n"
        "Busiest weekday: Wednesday (1 note)"
    )
    assert await bot.ask(USER, "/stats 2019") == texts.STATS_EMPTY_YEAR.format(year=2019)
    assert await bot.ask(USER, "/stats 2022") == texts.STATS_BAD.format(arg="2022")
    assert await bot.ask(USER, "/stats soon") == texts.STATS_BAD.format(arg="soon")

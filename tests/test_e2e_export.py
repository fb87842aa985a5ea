"""/export in Telegram sends the journal as a markdown document."""

from __future__ import annotations

from typing import Any

from bot.core.markdown import parser
from tests.conftest import USER
from tests.fakebot import FakeBotAPI


async def test_export_sends_a_document(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    fake.send(USER, "2021-3-2: march note")
    fake.send(USER, "2021-4-8: april note\n- detail")
    await bot.reacted(2)
    fake.command(USER, "/export")
    await bot.until(lambda: len(fake.calls_to("sendDocument")) == 1)
    doc = fake.calls_to("sendDocument")[0].params
    text = doc["document"]["data"].decode()
    assert doc["document"]["filename"] == "rizhilu-all.md"
    assert text.startswith("---\nlayout:     post\ntitle:      日知录")
    assert "## 2021-4-8\n\n* april note\n  * detail\n\n## 2021-3-2\n\n* march note\n" in text
    tokens = parser().parse(text)
    assert [t.tag for t in tokens if t.type == "heading_open"] == ["h1", "h2", "h2"]
    fake.command(USER, "/export 2021-03")
    await bot.until(lambda: len(fake.calls_to("sendDocument")) == 2)
    march = fake.calls_to("sendDocument")[1].params["document"]
    assert march["filename"] == "rizhilu-2021-03.md"
    assert b"march note" in march["data"] and b"april" not in march["data"]
    fake.command(USER, "/export 1999")
    assert "Nothing to export" in (await bot.replies(1))[-1]
    fake.command(USER, "/export someday")
    assert "could not read" in (await bot.replies(2))[-1]

"""End to end: the real Application over HTTP against the fake Bot API."""

from __future__ import annotations

from typing import Any

from tests.conftest import USER
from tests.fakebot import FakeBotAPI


async def test_conversation(fake: FakeBotAPI, start_bot: Any, make_settings: Any) -> None:
    bot = await start_bot()
    assert fake.calls_to("getMe")
    assert [c["command"] for c in fake.calls_to("setMyCommands")[0].params["commands"]][0] == "today"
    fake.send(USER, "/start", entities=[{"type": "bot_command", "offset": 0, "length": 6}])
    await bot.replies(1)
    first = fake.send(USER, "Read the ScanNet paper", entities=[{"type": "bold", "offset": 9, "length": 7}])
    await bot.reacted(1)
    fake.send(USER, "the label mapping is off", reply_to=first["message_id"])
    await bot.reacted(2)
    fake.send(USER, "/today", entities=[{"type": "bot_command", "offset": 0, "length": 6}])
    texts = await bot.replies(2)
    assert "* Read the **ScanNet** paper\n  * the label mapping is off" in texts[-1]
    reaction = fake.calls_to("setMessageReaction")[0].params
    assert reaction["reaction"] == [{"type": "emoji", "emoji": "✍"}]
    await bot.stop()

"""Webhook mode: Telegram hears 200 only once the update is in the inbox."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import urllib.error
import urllib.request
from typing import Any

import pytest

from bot.emulator import FakeBotAPI
from tests.conftest import USER


def post(port: int, path: str, body: bytes, secret: str | None) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, method="POST",
        headers={"Content-Type": "application/json",
                 **({"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {})},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


async def test_webhook_stores_before_answering(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot(
        webhook_url="https://journal.example/hook", webhook_listen="127.0.0.1", webhook_port=0
    )
    await bot.until(lambda: "webhook" in bot.exposed and bool(fake.calls_to("setWebhook")))
    hook = fake.calls_to("setWebhook")[0].params
    secret = bot.exposed["webhook_secret"]
    assert hook["url"] == "https://journal.example/hook" and hook["secret_token"] == secret
    assert not fake.calls_to("getUpdates") and not fake.calls_to("deleteWebhook")
    port = bot.exposed["webhook"].port
    update = {"update_id": 77, "message": fake.message(USER, "sent by webhook")}
    body = json.dumps(update).encode()
    assert await asyncio.to_thread(post, port, "/hook", body, "wrong") == 403
    assert await asyncio.to_thread(post, port, "/elsewhere", body, secret) == 404
    assert await asyncio.to_thread(post, port, "/hook", b"{not json", secret) == 400
    assert await asyncio.to_thread(post, port, "/hook", body, secret) == 200
    assert await asyncio.to_thread(post, port, "/hook", body, secret) == 200  # a retry
    await bot.reacted(1)
    # polling is off: commands come through the webhook too
    today = {"update_id": 78, "message": fake.message(
        USER, "/today", entities=[{"type": "bot_command", "offset": 0, "length": 6}])}  # fmt: skip
    assert await asyncio.to_thread(post, port, "/hook", json.dumps(today).encode(), secret) == 200
    replies = await bot.replies(1)
    assert replies[-1].endswith("\n• sent by webhook")  # once, despite the retry


async def test_webhook_takes_what_ptb_cannot_read_and_refuses_huge_headers(
    fake: FakeBotAPI, start_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await start_bot(
        webhook_url="https://journal.example/hook", webhook_listen="127.0.0.1", webhook_port=0
    )
    await bot.until(lambda: "webhook" in bot.exposed)
    port, secret = bot.exposed["webhook"].port, bot.exposed["webhook_secret"]
    poll = json.dumps({"update_id": 90, "message": fake.legacy_poll(USER)}).encode()
    # 200, not 500: Telegram would deliver it again forever
    assert await asyncio.to_thread(post, port, "/hook", poll, secret) == 200
    assert await asyncio.to_thread(post, port, "/hook", b"[1, 2]", secret) == 400
    note = {"update_id": 91, "message": fake.message(USER, "after the poll")}
    assert await asyncio.to_thread(post, port, "/hook", json.dumps(note).encode(), secret) == 200
    await bot.reacted(1)
    huge = await asyncio.to_thread(huge_headers, port)
    assert huge.startswith(b"HTTP/1.1 400")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def huge_headers(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST /hook HTTP/1.1\r\nX-Padding: " + b"a" * 100_000 + b"\r\n\r\n")
        return s.recv(100)


async def test_a_reused_update_id_is_not_lost(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot(
        webhook_url="https://journal.example/hook", webhook_listen="127.0.0.1", webhook_port=0
    )
    await bot.until(lambda: "webhook" in bot.exposed)
    port, secret = bot.exposed["webhook"].port, bot.exposed["webhook_secret"]
    week_ago, today = fake.message(USER, "last week"), fake.message(USER, "today")
    first = json.dumps({"update_id": 500, "message": week_ago}).encode()
    assert await asyncio.to_thread(post, port, "/hook", first, secret) == 200
    await bot.reacted(1)
    # after a quiet week Telegram may hand out an id that is still in the inbox
    reused = json.dumps({"update_id": 500, "message": today}).encode()
    assert await asyncio.to_thread(post, port, "/hook", reused, secret) == 200
    await bot.reacted(2)  # ✍ under both: both stored
    reacted = {int(c.params["message_id"]) for c in fake.calls_to("setMessageReaction")}
    assert reacted == {week_ago["message_id"], today["message_id"]}

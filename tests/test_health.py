"""/healthz and /metrics over real HTTP on loopback, in polling and webhook modes."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from typing import Any

from telegram.ext import Application

from bot.core.clock import SystemClock
from bot.emulator import FakeBotAPI
from bot.telegram.httpd import HttpServer
from bot.telegram.ops import Health
from storage import stats
from storage.engine import make_engine
from tests.conftest import USER
from tests.fakepace import FakePace


def request(port: int, path: str, method: str = "GET") -> tuple[int, str, str]:
    """(status, content type, body) of one HTTP request to 127.0.0.1."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


async def get(port: int, path: str, method: str = "GET") -> tuple[int, str, str]:
    return await asyncio.to_thread(request, port, path, method)


def sample(metrics: str, name: str) -> float:
    """The value of one sample line (`name{labels} value`) of the Prometheus text format."""
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in the metrics")


async def test_health_and_metrics_in_polling_mode(fake: FakeBotAPI, start_bot: Any) -> None:
    pace = FakePace()  # the 429's retry waits its second on it, not in real time
    fake.monotonic = pace.monotonic
    bot = await start_bot(health_port=0, metrics_port=0, rate_limit=30, pace=pace)
    await bot.until(lambda: "ops" in bot.exposed and bot.exposed["services"].intake.alive)
    ops = bot.exposed["ops"]
    status, ctype, body = await get(ops.health.port, "/healthz")
    assert (status, ctype) == (200, "application/json")
    report = json.loads(body)
    assert report["status"] == "ok" and report["intake"]["alive"] is True
    assert report["database"] == {"reachable": True}
    assert report["inbox"] == {"backlog": 0, "oldest_waiting_seconds": None}
    assert (await get(ops.health.port, "/healthz", "POST"))[0] == 405
    assert (await get(ops.health.port, "/metrics"))[0] == 404  # each port serves its own

    fake.send(USER, "first")
    fake.send(USER, "second")
    await bot.reacted(2)
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    assert "first" in await bot.ask(USER, "/today")  # answered after one 429 and a retry
    logging.getLogger("rizhilu.probe").error("an error for the metrics to count")
    engine = bot.exposed["services"].engine
    await bot.until(lambda: stats.inbox_backlog(engine).pending == 0)  # marked done

    status, ctype, text = await get(ops.metrics.port, "/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=")
    assert sample(text, "rizhilu_notes") == 2
    assert sample(text, "rizhilu_inbox_backlog") == 0
    assert sample(text, "rizhilu_update_seconds_count") >= 3
    assert sample(text, "rizhilu_flood_waits_total") == 1
    assert sample(text, 'rizhilu_scheduled_sent_total{kind="reminder"}') == 0
    assert sample(text, 'rizhilu_errors_total{logger="rizhilu.probe"}') == 1
    report = json.loads((await get(ops.health.port, "/healthz"))[2])
    assert report["intake"]["processed"] >= 3

    await bot.stop()
    logging.getLogger("rizhilu.probe").error("after the stop: no longer counted")
    after = bot.exposed["metrics"].render().decode()
    assert sample(after, 'rizhilu_errors_total{logger="rizhilu.probe"}') == 1


async def test_the_webhook_port_answers_healthz(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot(
        webhook_url="https://journal.example/hook", webhook_listen="127.0.0.1", webhook_port=0
    )
    await bot.until(lambda: "webhook" in bot.exposed and bot.exposed["services"].intake.alive)
    assert bot.exposed["ops"].health is None and bot.exposed["ops"].metrics is None  # opt-in
    status, _, body = await get(bot.exposed["webhook"].port, "/healthz")
    assert status == 200 and json.loads(body)["intake"]["alive"] is True
    assert (await get(bot.exposed["webhook"].port, "/hook"))[0] == 404  # GET on the hook


async def test_unhealthy_is_503(fake: FakeBotAPI) -> None:
    """No intake running and a database that does not answer."""
    app = Application.builder().token(fake.token).updater(None).build()
    nowhere = make_engine("postgresql://rizhilu@127.0.0.1:9/none?connect_timeout=2")
    server = HttpServer(
        {"/healthz": Health(nowhere, SystemClock(), app, None).handle}, host="127.0.0.1", port=0
    )
    await server.start()
    try:
        status, ctype, body = await get(server.port, "/healthz")
    finally:
        await server.stop()
        nowhere.dispose()
    assert (status, ctype) == (503, "application/json")
    report = json.loads(body)
    assert report["status"] == "unhealthy"
    assert report["intake"]["alive"] is False and report["database"]["reachable"] is False
    assert report["inbox"]["backlog"] is None

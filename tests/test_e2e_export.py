"""/export in Telegram sends the journal as a markdown document."""

from __future__ import annotations

import asyncio
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core.mdparser import parser
from bot.telegram.autoexport import refresh
from bot.telegram.handlers.export import ExportRequest, parse_request
from tests.conftest import USER
from tests.fakebot import FakeBotAPI

OTHER = 1002


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


def test_export_words() -> None:
    assert parse_request(["2021-03", "plain", "Oldest"]) == ExportRequest(
        "2021-03", "plain", "none", "oldest"
    )
    assert parse_request(["monthly"]) == ExportRequest("", "jekyll", "month")
    assert parse_request(["obsidian", "2021"]).format == "obsidian"
    assert parse_request(["someday", "soon"]).period == "someday soon"


async def test_export_shapes(fake: FakeBotAPI, start_bot: Any) -> None:
    bot = await start_bot()
    for text in ["2021-3-2: march note", "2021-4-8: april note", "2021-4-9: next day"]:
        fake.send(USER, text)
    await bot.reacted(3)

    async def document(command: str) -> dict[str, Any]:
        before = len(fake.calls_to("sendDocument"))
        fake.command(USER, command)
        await bot.until(lambda: len(fake.calls_to("sendDocument")) > before)
        doc = fake.calls_to("sendDocument")[-1].params["document"]
        assert isinstance(doc, dict)
        return doc

    plain = await document("/export plain oldest")
    text = plain["data"].decode()
    assert not text.startswith("---") and text.index("march") < text.index("april")
    monthly = await document("/export monthly")
    assert monthly["filename"] == "rizhilu-all-posts-by-month.zip"
    with zipfile.ZipFile(io.BytesIO(monthly["data"])) as zf:
        assert zf.namelist() == ["2021-03-01-rizhilu-2021-03.md", "2021-04-01-rizhilu-2021-04.md"]
        april = zf.read("2021-04-01-rizhilu-2021-04.md").decode()
    assert april.startswith("---\n") and "## 2021-4-9" in april and "march" not in april
    daily = await document("/export 2021-04 obsidian")
    assert daily["filename"] == "rizhilu-2021-04-obsidian.zip"
    with zipfile.ZipFile(io.BytesIO(daily["data"])) as zf:
        assert zf.namelist() == ["2021-04-08.md", "2021-04-09.md"]
        assert zf.read("2021-04-08.md").decode() == "* april note\n"
    fake.command(USER, "/export 1999 obsidian")
    assert "Nothing to export" in (await bot.replies(1))[-1]


def run_now(bot: Any, name: str) -> None:
    """Make the scheduler run a job now."""
    (job,) = bot.exposed["app"].job_queue.get_jobs_by_name(name)
    job.job.modify(next_run_time=datetime.now(UTC))


async def test_export_path_keeps_the_post_up_to_date(
    fake: FakeBotAPI, start_bot: Any, tmp_path: Path
) -> None:
    post = tmp_path / "blog" / "_posts" / "2048-01-01-rizhilu.md"
    bot = await start_bot(export_path=str(post), export_every_minutes=60)
    fake.send(USER, "2021-4-8: first note")
    await bot.reacted(1)
    run_now(bot, "autoexport")
    await bot.until(lambda: post.exists())
    text = post.read_text(encoding="utf-8")
    assert text.startswith("---\n") and "## 2021-4-8\n\n* first note\n" in text
    assert [p.name for p in post.parent.iterdir()] == [post.name]  # no temporary files left
    stamp = post.stat().st_mtime_ns
    svc = bot.exposed["services"]
    assert await asyncio.to_thread(refresh, svc) == 0  # unchanged: the file is left alone
    assert post.stat().st_mtime_ns == stamp
    fake.send(USER, "2021-4-8: second note")
    await bot.reacted(2)
    assert await asyncio.to_thread(refresh, svc) == 1
    assert "* first note\n* second note\n" in post.read_text(encoding="utf-8")


async def test_export_path_per_user(fake: FakeBotAPI, start_bot: Any, tmp_path: Path) -> None:
    template = str(tmp_path / "posts" / "journal-{user}.md")
    bot = await start_bot(export_path=template, allowed_user_ids=f"{USER},{OTHER}")
    fake.send(USER, "2021-4-8: mine")
    fake.send(OTHER, "2021-4-8: theirs")
    await bot.reacted(2)
    svc = bot.exposed["services"]
    assert await asyncio.to_thread(refresh, svc) == 2
    mine = (tmp_path / "posts" / f"journal-{USER}.md").read_text(encoding="utf-8")
    assert "mine" in mine and "theirs" not in mine
    # without {user}, several users' journals are not mixed into one file
    svc.settings = svc.settings.model_copy(update={"export_path": str(tmp_path / "one.md")})
    assert await asyncio.to_thread(refresh, svc) == 0 and not (tmp_path / "one.md").exists()

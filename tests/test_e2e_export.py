"""/export in Telegram sends the journal as a markdown document."""

from __future__ import annotations

import asyncio
import io
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot import texts
from bot.core.mdparser import parser
from bot.emulator import FakeBotAPI
from bot.exporting import ExportRequest, FrontMatterUnreadable
from bot.telegram.autoexport import refresh
from bot.telegram.handlers.export import BadPeriod, parse_request
from storage.engine import describe
from tests.conftest import USER, Cli

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
    march = ExportRequest(USER, date(2021, 3, 1), date(2021, 3, 31), "oldest", "none", "plain")
    assert parse_request(USER, ["2021-03", "plain", "Oldest"]) == (march, "2021-03")
    assert parse_request(USER, ["monthly"]) == (ExportRequest(USER, split="month"), "all")
    assert parse_request(USER, ["obsidian", "2021"])[0].format == "obsidian"
    with pytest.raises(BadPeriod) as bad:
        parse_request(USER, ["someday", "monthly", "soon"])
    assert bad.value.text == "someday soon"


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
    svc.settings = replace(svc.settings, export_path=str(tmp_path / "one.md"))
    assert await asyncio.to_thread(refresh, svc) == 0 and not (tmp_path / "one.md").exists()


JOURNAL = """\
# 测试日志

A preamble under the title.

### TODO

* todo one

## 2021-4-8

* april note
  * detail

## 2021-3-31 ~ 2021-4-2

* a long weekend

## 2021-3-2

* march note

## 2020-12-31

* last year
"""

# the same request, as the bot's words and as the CLI's flags (.zip: many files)
SAME_REQUESTS = [
    ("/export", [], ".md"),
    ("/export 2021", ["--from", "2021-1-1", "--to", "2021-12-31"], ".md"),
    ("/export 2021-4-1..2021-4-30 oldest plain",
     ["--from", "2021-4-1", "--to", "2021-4-30", "--order", "oldest", "--format", "plain"], ".md"),
    ("/export 2021-4-8", ["--from", "2021-4-8", "--to", "2021-4-8"], ".md"),
    ("/export monthly", ["--split", "month"], ".zip"),
    ("/export 2021 weekly oldest",
     ["--from", "2021-1-1", "--to", "2021-12-31", "--split", "week", "--order", "oldest"], ".zip"),
    ("/export daily", ["--split", "day"], ".zip"),
    ("/export obsidian", ["--format", "obsidian"], ".zip"),
]  # fmt: skip


async def test_cli_and_bot_export_the_same_bytes(
    fake: FakeBotAPI, start_bot: Any, cli: Cli, tmp_path: Path
) -> None:
    template = tmp_path / "front.yml"
    template.write_text("layout: post\ntitle: {title}\ndate: {date}\n", encoding="utf-8")
    bot = await start_bot(export_front_matter=template, export_date_style="iso")
    cli.setenv("EXPORT_FRONT_MATTER", str(template))
    cli.setenv("EXPORT_DATE_STYLE", "iso")
    source = tmp_path / "journal.md"
    source.write_text(JOURNAL, encoding="utf-8")
    assert await cli("import", str(source), "--user", str(USER)) == 0
    fake.send(USER, "2021-4-9: sent to the bot")
    await bot.reacted(1)

    async def from_bot(command: str) -> bytes:
        before = len(fake.calls_to("sendDocument"))
        fake.command(USER, command)
        await bot.until(lambda: len(fake.calls_to("sendDocument")) > before)
        data = fake.calls_to("sendDocument")[-1].params["document"]["data"]
        assert isinstance(data, bytes)
        return data

    async def from_cli(flags: list[str], out: Path) -> bytes:
        assert await cli("export", "--user", str(USER), *flags, "--out", str(out)) == 0
        return await asyncio.to_thread(out.read_bytes)

    for i, (command, flags, suffix) in enumerate(SAME_REQUESTS):
        bot_bytes = await from_bot(command)
        assert bot_bytes == await from_cli(flags, tmp_path / f"cli-{i}{suffix}"), command
        if suffix == ".zip":
            with zipfile.ZipFile(io.BytesIO(bot_bytes)) as zf:
                assert len(zf.namelist()) > 1 and "A preamble" not in str(zf.read(zf.namelist()[0]))
                assert {i.external_attr >> 16 for i in zf.infolist()} == {0o600}
    cli.output()
    assert await cli("export", "--user", str(USER)) == 0
    whole = cli.output().out.encode("utf-8")
    assert whole == await from_bot("/export")
    # named sections belong to the whole journal, not to a period of it
    assert b"A preamble under the title.\n\n### TODO\n\n* todo one\n" in whole
    year = (tmp_path / "cli-1.md").read_text(encoding="utf-8")
    # the body is one Liquid raw block after the front matter (bot.core.liquid)
    assert year.startswith(
        '---\nlayout: post\ntitle: 测试日志\ndate: 2021-04-09\nexcerpt_separator: ""\n---\n'
        "{% raw %}\n\n# 测试日志\n"
    )
    assert year.endswith("\n\n{% endraw %}\n")
    assert "preamble" not in year and "TODO" not in year and "last year" not in year
    assert "## 2021-03-31 ~ 2021-04-02" in year


async def test_an_unreadable_front_matter_template_stops_the_export(
    fake: FakeBotAPI, start_bot: Any, cli: Cli, db_url: str, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-template.yml"
    post = tmp_path / "post.md"
    bot = await start_bot(export_front_matter=missing, export_path=str(post))
    fake.send(USER, "2021-4-8: a note")
    await bot.reacted(1)
    assert await bot.ask(USER, "/export") == texts.EXPORT_FRONT_MATTER
    assert "\n" not in texts.EXPORT_FRONT_MATTER and not fake.calls_to("sendDocument")
    with pytest.raises(FrontMatterUnreadable):  # EXPORT_PATH keeps the post as it was
        await asyncio.to_thread(refresh, bot.exposed["services"])
    assert not post.exists()
    cli.setenv("EXPORT_FRONT_MATTER", str(missing))
    assert await cli("export", "--out", str(tmp_path / "a.md")) == 2
    opened, error = cli.output().err.splitlines()  # which journal, then the one error
    assert opened == f"database: {describe(db_url)}"
    assert error.startswith(f"error: EXPORT_FRONT_MATTER: cannot read {missing}")
    assert not (tmp_path / "a.md").exists()

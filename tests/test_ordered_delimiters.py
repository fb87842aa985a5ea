"""`1) item`: the delimiter is kept where the target reads it (the chat, plain CommonMark,
Obsidian) and written `1.` only in a Jekyll post (kramdown has no `1)` lists: there it
would be a paragraph reading "1) item")."""

from __future__ import annotations

import io
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.core.capture import message_notes
from bot.core.days import DayRange
from bot.core.export import ExportOptions, render_document
from bot.core.journal_doc import parse_journal
from bot.core.render import render_body
from bot.core.view import day_html
from bot.emulator import FakeBotAPI
from bot.exporting import ExportRequest, write_export
from storage.notes import MessageRef
from tests.conftest import USER, Repos

DAY = date(2021, 4, 8)
MESSAGE = "plan:\n1) read\n2) write\n\n1. other list"


def _post(fmt: Any, text: str = MESSAGE) -> str:
    chunks = render_document(
        ExportOptions(format=fmt),
        title="J",
        stored_front_matter=None,
        newest=DAY,
        sections=[],
        days=[(DayRange.single(DAY), message_notes(text))],
    )
    return "".join(chunks)


def test_a_message_keeps_its_delimiter_in_the_chat_and_plain_markdown() -> None:
    drafts = message_notes(MESSAGE)
    assert [(c.text, c.paren) for c in drafts[0].children] == [
        ("read", True), ("write", True), ("other list", False)
    ]  # fmt: skip
    assert render_body(drafts) == ["* plan:", "  1) read", "  2) write", "", "  1. other list"]
    assert day_html(drafts) == ["• plan:\n    1) read\n    2) write\n    1. other list"]
    assert "  1) read\n  2) write\n\n  1. other list" in _post("plain")


def test_a_jekyll_post_writes_dots_for_kramdown() -> None:
    post = _post("jekyll")
    assert "  1. read\n  2. write\n  3. other list" in post
    assert "1)" not in post


def test_the_delimiter_survives_the_database_and_an_import(repos: Repos) -> None:
    repos.users.ensure(USER, USER, "Ada", "UTC", "21:30")
    at = datetime(2021, 4, 8, 12, 0, tzinfo=UTC)
    repos.notes.add_message(MessageRef(USER, USER, 1, at), DAY, message_notes("1) a\n2) b"))
    stored = repos.reader.day_notes(USER, DAY)
    assert render_body(stored) == ["1) a", "2) b"]
    parsed = parse_journal(_post("plain", "1) a\n2) b"))
    assert [(n.text, n.paren) for n in parsed.days[0].notes] == [("a", True), ("b", True)]


async def test_obsidian_and_plain_exports_keep_it_jekyll_does_not(
    fake: FakeBotAPI, start_bot: Any, tmp_path: Path
) -> None:
    bot = await start_bot()
    fake.send(USER, "1) first\n2) second")
    await bot.reacted(1)
    assert "1) first" in (await bot.ask(USER, "/today"))
    svc = bot.exposed["services"]
    exports = {}
    for fmt in ["jekyll", "plain"]:
        out = io.StringIO()
        write_export(svc.engine, svc.settings, ExportRequest(USER, format=fmt), out)
        exports[fmt] = out.getvalue()
    folder = tmp_path / "daily"
    write_export(svc.engine, svc.settings, ExportRequest(USER, format="obsidian"), folder)
    [daily] = list(os.scandir(folder))
    assert "1) first\n2) second" in exports["plain"]
    assert "1) first\n2) second" in Path(daily.path).read_text(encoding="utf-8")  # noqa: ASYNC240
    assert "1. first\n2. second" in exports["jekyll"]

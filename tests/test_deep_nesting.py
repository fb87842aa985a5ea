"""Replies nested hundreds or thousands deep: rendered without recursion per level, written
at most MAX_DEPTH levels deep (reported), and read back by markdown-it; an import reports
the list items it cannot nest."""

from __future__ import annotations

import io
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, bindparam, insert, select, update

from bot import texts
from bot.core.journal_doc import parse_journal
from bot.core.mdparser import parser
from bot.core.notes import LIST_LEVELS, MAX_DEPTH, NoteDraft, capped, too_deep
from bot.core.render import render_body
from bot.core.site import Markdown, Rendered
from bot.core.view import day_html
from bot.emulator import FakeBotAPI
from bot.exporting import ExportRequest, write_export
from bot.telegram.autoexport import refresh
from storage.tables import notes as N
from tests.conftest import USER


def chain(depth: int) -> list[NoteDraft]:
    """`depth` notes, each the only child of the one before."""
    root = NoteDraft(text="level 0")
    node = root
    for level in range(1, depth):
        child = NoteDraft(text=f"level {level}")
        node.children.append(child)
        node = child
    return [root]


def deepest(notes: list[NoteDraft]) -> int:
    stack = [(n, 1) for n in notes]
    most = 0
    while stack:
        note, level = stack.pop()
        most = max(most, level)
        stack.extend((c, level + 1) for c in note.children)
    return most


def test_max_depth_is_what_markdown_it_reads() -> None:
    # two tokens (list, item) a level: deeper items would be markdown-it's paragraph text
    assert parser().options["maxNesting"] == 2 * LIST_LEVELS


@pytest.mark.parametrize("depth", [500, 5000])
def test_deep_chain_renders_capped_and_reads_back_whole(depth: int) -> None:
    notes = chain(depth)
    assert too_deep(notes) == depth - MAX_DEPTH
    flat = capped(notes)
    assert deepest(flat) == MAX_DEPTH
    assert [n.text for n in flat[0].walk()] == [f"level {i}" for i in range(depth)]
    body = render_body(notes)
    assert len(body) == depth
    assert body[-1] == " " * 2 * (MAX_DEPTH - 1) + f"* level {depth - 1}"
    back = parse_journal("## 2021-4-8\n\n" + "\n".join(body) + "\n")
    assert not back.anomalies
    [day] = back.days
    assert [n.text for n in day.notes[0].walk()] == [f"level {i}" for i in range(depth)]
    assert deepest(day.notes) == MAX_DEPTH
    pieces = day_html(notes)
    assert len(pieces) == 1 and pieces[0].count("\n") == depth - 1
    site = Markdown("media/").notes(notes, "", Rendered())  # `rizhilu site`
    assert site.count("<li>") == depth and site.count("<ul>") == MAX_DEPTH


def test_a_bare_note_is_the_note_without_its_children() -> None:
    note = NoteDraft("t", "block", ordered=True, done=True, paren=True, children=[NoteDraft("c")])
    assert note.bare() == replace(note, children=[])
    # bare() names every field but the children: one added must be added there too
    assert [f.name for f in fields(NoteDraft)] == [
        "text", "kind", "ordered", "done", "paren", "children",
    ]  # fmt: skip


def test_import_reports_nesting_beyond_the_limit() -> None:
    lines = ["## 2021-4-8", ""] + ["  " * i + f"* level {i}" for i in range(15)]
    lines += ["", "## 2021-4-9", "", "* next"]
    parsed = parse_journal("\n".join(lines))
    [anomaly] = parsed.anomalies
    assert anomaly.line == 3 + LIST_LEVELS  # `* level 10`
    assert anomaly.message.startswith("5 list items are nested deeper than 10 levels")
    assert len(parsed.days[0].notes[0].walk()) == LIST_LEVELS  # the five: text of level 9
    shallow = "\n".join(["## 2021-4-8", ""] + ["  " * i + f"* {i}" for i in range(LIST_LEVELS)])
    assert not parse_journal(shallow).anomalies


def _reply_chain(engine: Engine, depth: int) -> None:
    """`depth` replies, each to the one before, under the day's one note (one transaction).

    Two statements of many rows, not `depth` INSERTs one by one (5,000 were most of this
    test's CPU): the rows go in as the root's replies, RETURNING their ids in order, then
    each is made the reply of the one before it.
    """
    now = datetime(2021, 4, 8, 12, 0, tzinfo=UTC)
    with engine.begin() as conn:
        root = conn.execute(select(N.c.id, N.c.entry_id).where(N.c.user_id == USER)).one()
        rows = [
            {
                "user_id": USER,
                "entry_id": root.entry_id,
                "parent_id": root.id,
                "position": 0,
                "kind": "item",
                "ordered": False,
                "done": False,
                "text": f"level {level}",
                "part": 0,
                "created_at": now,
            }
            for level in range(1, depth)
        ]
        ids = conn.execute(insert(N).returning(N.c.id, sort_by_parameter_order=True), rows)
        replies = ids.scalars().all()
        conn.execute(
            update(N).where(N.c.id == bindparam("reply")).values(parent_id=bindparam("parent")),
            [
                {"reply": r, "parent": p}
                for p, r in zip([root.id, *replies[:-1]], replies, strict=True)
            ],
        )


@pytest.mark.parametrize("depth", [500, 5000])
async def test_a_deep_reply_chain_exports_auto_exports_and_shows_in_today(
    fake: FakeBotAPI, start_bot: Any, tmp_path: Path, depth: int
) -> None:
    target = tmp_path / "site" / "_posts" / "journal.md"
    bot = await start_bot(export_path=str(target))
    fake.send(USER, "level 0")
    await bot.reacted(1)
    svc = bot.exposed["services"]
    _reply_chain(svc.engine, depth)
    # /today: formatted pieces, or the day as a file when it is this long
    fake.command(USER, "/today")
    await bot.until(lambda: bool(fake.calls_to("sendDocument")), timeout=30)
    sent = fake.calls_to("sendDocument")[0].params["document"]["data"].decode()
    assert f"* level {depth - 1}" in sent
    # the export, and EXPORT_PATH's
    out = io.StringIO()
    result = write_export(svc.engine, svc.settings, ExportRequest(USER), out)
    assert result.too_deep == depth - MAX_DEPTH
    refresh(svc)  # 0 files when the EXPORT_PATH job got there first
    assert target.read_text(encoding="utf-8") == out.getvalue()
    back = parse_journal(out.getvalue())
    [day] = back.days
    assert [n.text for n in day.notes[0].walk()] == [f"level {i}" for i in range(depth)]
    assert deepest(day.notes) == MAX_DEPTH
    # /export says so too
    told = texts.EXPORT_TOO_DEEP.format(count=depth - MAX_DEPTH, depth=MAX_DEPTH)
    fake.command(USER, "/export")
    await bot.until(lambda: told in fake.sent_texts(USER), timeout=30)

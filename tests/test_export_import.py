"""Export and import in the journal's own style; every export is re-parsed with markdown-it."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.core.capture import message_notes
from bot.core.export import ExportOptions, render_document
from bot.core.journal_doc import fix_dates, parse_journal
from bot.core.mdparser import parser
from bot.core.notes import NoteDraft
from bot.core.sanitize import neutralize
from storage import bulk_export, bulk_import
from storage.engine import make_engine, session_factory
from storage.notes import MessageRef
from tests.conftest import Journals, Repos, migrated_engine, repositories

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "journal-sample.md"
NOW = datetime(2021, 4, 9, 12, tzinfo=UTC)


def sample_text() -> str:
    if SAMPLE.exists():
        return SAMPLE.read_text(encoding="utf-8")
    from bot.demo import SAMPLE as PACKAGED  # the copy `rizhilu demo --import sample` loads

    return PACKAGED.read_text(encoding="utf-8")


def fresh_engine(folder: Path, name: str) -> Any:
    return migrated_engine(f"sqlite:///{folder / name}")


def export(engine: Any, user: int = 1, **kw: Any) -> str:
    meta = bulk_export.journal_meta(engine, user)
    assert meta is not None
    opts = ExportOptions(**kw)
    return "".join(
        render_document(
            opts,
            title=meta.title or opts.title,
            stored_front_matter=meta.front_matter,
            newest=meta.newest,
            sections=bulk_export.sections(engine, user),
            days=bulk_export.iter_days(engine, user, newest_first=opts.order == "newest"),
        )
    )


def list_items(text: str) -> Counter[tuple[int, bool, str]]:
    """(depth, ordered, first line of the item's inline content) for every list item."""
    out: Counter[tuple[int, bool, str]] = Counter()
    stack: list[bool] = []
    tokens = parser().parse(text)
    for i, tok in enumerate(tokens):
        if tok.type in {"bullet_list_open", "ordered_list_open"}:
            stack.append(tok.type == "ordered_list_open")
        elif tok.type in {"bullet_list_close", "ordered_list_close"}:
            stack.pop()
        elif tok.type == "list_item_open":
            content = ""
            if i + 2 < len(tokens) and tokens[i + 2].type == "inline":
                content = tokens[i + 2].content.split("\n")[0].strip()
            out[(len(stack), stack[-1], content)] += 1
    return out


def headings(text: str) -> list[tuple[str, str]]:
    tokens = parser().parse(text)
    return [
        (t.tag, tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"
    ]


def test_sample_round_trip_is_byte_identical(tmp_path: Path) -> None:
    a = fresh_engine(tmp_path, "a.db")
    parsed = parse_journal(sample_text())
    report = bulk_import.import_journal(a, 1, parsed, NOW, "UTC")
    assert report.days == 59 and report.new_notes == report.notes > 500
    first = export(a)
    b = fresh_engine(tmp_path, "b.db")
    bulk_import.import_journal(b, 1, parse_journal(first), NOW, "UTC")
    second = export(b)
    assert first == second
    assert first.endswith("\n") and not first.endswith("\n\n")
    # every list item of the sample is in the export, at its depth, ordered or not
    assert list_items(sample_text()) == list_items(first)
    # front matter and title are kept; days come as level-2 headings, newest first
    assert first.startswith("---\nlayout:     post")
    hs = headings(first)
    assert hs[0] == ("h1", "日知录") and hs[1] == ("h3", "TODO")
    day_heads = [h for tag, h in hs if tag == "h2"]
    assert day_heads[0] == "2021-4-8" and "2021-3-31 ~ 2021-4-4" in day_heads
    assert len(day_heads) == 59
    assert "2020-2-11 ~ 2020-2-16" in day_heads  # the 20201 typo, read as 2020
    a.dispose()
    b.dispose()


def test_import_twice_changes_nothing_and_dry_run_writes_nothing(tmp_path: Path) -> None:
    a = fresh_engine(tmp_path, "a.db")
    parsed = parse_journal(sample_text())
    dry = bulk_import.import_journal(a, 1, parsed, NOW, "UTC", dry_run=True)
    assert dry.new_notes > 500 and bulk_export.journal_meta(a, 1) is None
    bulk_import.import_journal(a, 1, parsed, NOW, "UTC")
    once = export(a)
    again = bulk_import.import_journal(a, 1, parse_journal(sample_text()), NOW, "UTC")
    assert again.new_notes == 0 and again.new_days == 0
    assert export(a) == once
    a.dispose()


def test_anomalies_have_line_numbers_and_suggestions() -> None:
    text = "\n".join(
        [
            "# Journal",  # 1
            "",
            "## 2021-3-9",  # 3
            "* a",
            "## 2020-3-7",  # 5: out of order
            "* b",
            "## 2021-2-19",  # 7
            "* c",
            "##\u30002021-2-18",  # 9: full-width space after ##
            "* d",
            "### 20221-2-17 - 2021-2-17",  # 11: typo year, ' - ' range
            "* e",
            "## 2021-2-16~2021-2-16",  # 13
            "* f",
            "## 2021-2-19",  # 15: duplicate, merged
            "* g",
            "## 2021-2-30",  # 17: not a real date
            "* h",
        ]
    )
    parsed = parse_journal(text)
    found: dict[int, str] = {}
    for a in parsed.anomalies:
        found[a.line] = found.get(a.line, "") + str(a)
    assert "out of the file's order" in found[5] and "(suggested: 2021-3-7)" in found[5]
    assert "typo" in found[11] and "2021-2-17" in found[11]
    assert "merged into line 7" in found[15]
    assert "not a real date" in found[17]
    labels = [d.days.label() for d in parsed.days]
    assert labels == ["2021-3-9", "2020-3-7", "2021-2-19", "2021-2-18", "2021-2-17", "2021-2-16"]
    merged = next(d for d in parsed.days if d.days.label() == "2021-2-19")
    assert [n.text for n in merged.notes] == ["c", "g"]


def test_hostile_notes_cannot_break_the_document(repos: Repos, db_url: str) -> None:
    hostile = [
        "## 2021-01-01",
        "---",
        "===",
        "> quote",
        "1. one",
        "+ plus",
        "<script>alert(1)</script>",
        "[x](javascript:alert(1))",
        "```\nunterminated",
        "~~",
        "a | b\n--- | ---",
        "# front\n---\ntitle: x\n---",
    ]
    repos.users.ensure(1, 1, "Ada", "UTC", None)
    for i, text in enumerate(hostile, start=1):
        repos.notes.add_message(
            MessageRef(1, 1, i, NOW), date(2021, 4, 8), [NoteDraft(text=neutralize(text))]
        )
    repos.notes.add_message(
        MessageRef(1, 1, 99, NOW), date(2021, 4, 7), message_notes("## 2021-01-01")
    )
    engine = make_engine(db_url)
    out = export(engine)
    assert [h for _, h in headings(out)] == ["日知录", "2021-4-8", "2021-4-7"]
    html = parser().render(out)
    assert "<script>" not in html and 'href="javascript' not in html
    # safe for Jekyll's kramdown too, which would pass raw HTML and script links through
    assert "](javascript:" not in out and not re.search(r"(?<!\\)<script", out)
    day = next(d for d in parse_journal(out).days if d.days.label() == "2021-4-8")
    assert [n.text for n in day.notes] == [neutralize(t) for t in hostile]
    engine.dispose()


# ---------------------------------------------------------------- property: any journal round-trips

NOTE_TEXT = st.text(
    st.sampled_from([*"ab #>-+*=_`~[]()<>|\\!:1.", "\n", "日", "😀"]), min_size=1, max_size=25
)


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> NoteDraft:
    text = neutralize(draw(NOTE_TEXT)) or "x"
    kids = draw(KIDS[depth]) if depth < 2 else []
    return NoteDraft(
        text=text, ordered=draw(st.booleans()), done=draw(st.booleans()), children=kids
    )


# built once, not at every draw: hypothesis validates every new strategy object it meets
KIDS = [st.lists(trees(depth + 1), max_size=2) for depth in range(2)]  # type: ignore[call-arg]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.integers(0, 400), st.lists(trees(), min_size=1, max_size=3), min_size=1, max_size=4
    )
)
def test_any_journal_exports_and_imports_back(
    journals: Journals, days: dict[int, list[NoteDraft]]
) -> None:
    engine = journals.fresh("a.db")
    repos = repositories(session_factory(engine), _Clock())
    repos.users.ensure(1, 1, "Ada", "UTC", None)
    for mid, (offset, notes) in enumerate(days.items(), start=1):
        repos.notes.add_message(
            MessageRef(1, 1, mid, NOW), date(2020, 1, 1) + timedelta(days=offset), notes
        )
    first = export(engine)
    parsed = parse_journal(first)
    assert [d.days.start for d in parsed.days] == sorted(
        (date(2020, 1, 1) + timedelta(days=o) for o in days), reverse=True
    )
    other = journals.fresh("b.db")
    bulk_import.import_journal(other, 1, parsed, NOW, "UTC")
    assert export(other) == first


class _Clock:
    def now(self) -> datetime:
        return NOW


# ---------------------------------------------------------------- the CLI


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch, db: Path) -> int:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    return main(["--env-file", str(db.parent / "absent.env"), *args])


def test_cli_import_and_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "j.db"
    src = tmp_path / "sample.md"
    src.write_text(sample_text(), encoding="utf-8")
    assert run_cli(["import", str(src), "--user", "1", "--dry-run"], monkeypatch, db) == 0
    assert "would import 59 days" in capsys.readouterr().out
    assert run_cli(["import", str(src), "--user", "1"], monkeypatch, db) == 0
    out = capsys.readouterr().out
    assert "imported 59 days (59 new)" in out and "line 193" in out and "2021-3-7" in out
    assert run_cli(["export", "--out", str(tmp_path / "a.md")], monkeypatch, db) == 0
    assert run_cli(["export", "--out", str(tmp_path / "b.md")], monkeypatch, db) == 0
    assert (tmp_path / "a.md").read_bytes() == (tmp_path / "b.md").read_bytes()
    assert run_cli(["export", "--from", "2021-3-1", "--to", "2021-3-31", "--order", "oldest",
                    "--format", "plain", "--out", str(tmp_path / "m.md")], monkeypatch, db) == 0  # fmt: skip
    march = (tmp_path / "m.md").read_text(encoding="utf-8")
    assert not march.startswith("---")
    heads = [h for tag, h in headings(march) if tag == "h2"]
    assert heads[0] == "2021-3-9" and heads[-1].startswith("2021-3-31") and "2021-4-8" not in heads
    assert (
        run_cli(["export", "--split", "month", "--out", str(tmp_path / "_posts")], monkeypatch, db)
        == 0
    )
    posts = sorted(p.name for p in (tmp_path / "_posts").iterdir())
    assert "2021-04-01-rizhilu-2021-04.md" in posts and "2020-12-01-rizhilu-2020-12.md" in posts
    post = (tmp_path / "_posts" / "2021-04-01-rizhilu-2021-04.md").read_text(encoding="utf-8")
    assert post.startswith("---\n") and "## 2021-4-8" in post
    assert (
        run_cli(
            ["export", "--format", "obsidian", "--out", str(tmp_path / "daily")], monkeypatch, db
        )
        == 0
    )
    assert (
        (tmp_path / "daily" / "2021-04-08.md").read_text(encoding="utf-8").startswith("1. ScanNet")
    )
    assert run_cli(["export", "--user", "5"], monkeypatch, db) == 2
    capsys.readouterr()
    assert run_cli(["import", str(tmp_path / "missing.md"), "--user", "1"], monkeypatch, db) == 2
    assert "cannot read" in capsys.readouterr().err


def test_fix_dates_moves_misdated_days_and_merges_collisions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    parsed = parse_journal(sample_text())
    fixed = fix_dates(parsed)
    moved = [a for a in parsed.anomalies if a.fix is not None]
    assert moved and any(a.line == 193 and a.fix.label() == "2021-3-7" for a in moved)
    starts = [d.days.start for d in fixed.days]
    assert date(2021, 3, 7) in starts and date(2020, 3, 7) not in starts
    day = next(d for d in fixed.days if d.days.start == date(2021, 3, 7))
    assert day.written is not None and day.source.start == date(2020, 3, 7)
    assert fixed.note_count == parsed.note_count  # nothing lost, nothing doubled
    assert parse_journal(sample_text()).days == parsed.days  # the original is untouched
    assert any("imported as 2021-3-7" in str(a) for a in fixed.anomalies)

    # a misdated day that lands on a day the file already has joins it on import
    days = ["2021-4-9", "2021-4-8", "2020-4-8", "2021-4-7", "2021-4-6"]
    text = "".join(f"## {d}\n\n* {'moved' if d.startswith('2020') else d}\n\n" for d in days)
    joined = fix_dates(parse_journal(text))
    assert any("joins the day at line 5" in str(a) for a in joined.anomalies)
    engine = fresh_engine(tmp_path, "joined.db")
    report = bulk_import.import_journal(engine, 1, joined, NOW, "UTC")
    assert report.days == 4 and report.notes == 5
    out = export(engine)
    assert [h for tag, h in headings(out) if tag == "h2"] == days[:2] + days[3:]
    assert "## 2021-4-8\n\n* 2021-4-8\n* moved\n" in out

    # the same file imported as written, then with --fix-dates, then as written again:
    # the misdated notes move each time and are never doubled
    db = tmp_path / "j.db"
    src = tmp_path / "sample.md"
    src.write_text(sample_text(), encoding="utf-8")

    def exported() -> tuple[list[str], int]:
        assert run_cli(["export", "--out", str(tmp_path / "a.md")], monkeypatch, db) == 0
        text = (tmp_path / "a.md").read_text(encoding="utf-8")
        return [h for tag, h in headings(text) if tag == "h2"], sum(list_items(text).values())

    assert run_cli(["import", str(src), "--user", "1"], monkeypatch, db) == 0
    as_written, items = exported()
    assert "2020-3-7" in as_written and "2021-3-7" not in as_written
    capsys.readouterr()
    assert run_cli(["import", str(src), "--user", "1", "--fix-dates"], monkeypatch, db) == 0
    out = capsys.readouterr().out
    assert "imported as 2021-3-7" in out and "(0 new, " in out and "moved to another day" in out
    heads, fixed_items = exported()
    assert "2021-3-7" in heads and not any(h.startswith("2020-3-") for h in heads)
    assert fixed_items == items
    assert run_cli(["import", str(src), "--user", "1", "--fix-dates"], monkeypatch, db) == 0
    assert "(0 new)" in capsys.readouterr().out
    assert run_cli(["import", str(src), "--user", "1"], monkeypatch, db) == 0
    assert exported() == (as_written, items)

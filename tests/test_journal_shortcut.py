"""The import's shortcut (days of one-line bullets read without markdown-it) reads what
markdown-it reads: the same days, notes, nesting, done flags and anomalies."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.core import journal_doc
from bot.core.journal_doc import parse_journal
from bot.core.sanitize import neutralize, neutralize_line
from tests.pieces import pieces

# pieces that start blocks, break lines, open fences, tables and references, or strike
PIECES = [
    "a", "note", "日知录", " ", "  ", "\t", "\u3000", "#", "## ", "#tag", ">", "* ", "- ",
    "+ ", "*", "-", "_", "***", "---", "___", "1. ", "2) ", "1.5", "```", "~~~", "~~",
    "`x*y`", "[a]: http://x", "[^1]: f", "[ ] ", "|", "a | b", "![](https://e.com/i.png)",
    "<b>", "{:", "=", "==", "\\", "**", "[x](javascript:y)", "{{ x }}", ":", "$$",
]  # fmt: skip
TEXT = pieces(PIECES, max_size=5)
WORDS = pieces(["a", "note", "日知录", " ", "#tag", "~~", "`x`"], min_size=1)
BULLET = st.tuples(
    st.sampled_from([0, 0, 2, 2, 4, 6, 1, 3, 5, 8]), st.sampled_from("**-+"), WORDS | TEXT
).map(lambda t: " " * t[0] + t[1] + " " + t[2])
OTHER = st.sampled_from(["", "  ", "text", "    code", "1. x", "===", "---", "| a |", "> q"])
LINE = st.one_of(BULLET, BULLET, BULLET, OTHER)
PLAIN = st.tuples(
    st.sampled_from([0, 0, 2, 2, 4, 1, 3]),
    st.sampled_from("*-+"),
    WORDS.filter(lambda t: t[0] != " " and "~~~" not in t),
)
DAY = st.lists(LINE, max_size=8) | st.lists(  # the second: mostly the shortcut's case
    PLAIN.map(lambda t: " " * t[0] + t[1] + " " + t[2]), max_size=12
)


def _equal_both_ways(text: str) -> None:
    assert parse_journal(text) == parse_journal(text, shortcut=False)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(DAY, min_size=1, max_size=4), TEXT)
@example([["* a", "  * b", "    * c", "* d"]], "")
@example([["  * a", "* b", "    * c", "   * d", "* e"]], "")
@example([["* a", "      * b"]], "")
@example([["* ~~done~~", "* ~~`x*y`~~", "* **"]], "")
@example([[], ["* a", "* ** "]], "")  # a thematic break that looks like a bullet
@example([["- a", "  - --", "* * *"]], "")
def test_shortcut_reads_what_markdown_it_reads(days: list[list[str]], title: str) -> None:
    parts = ["---", "title: t", "---", ""]
    for n, lines in enumerate(days):
        parts += [f"## 2021-4-{n + 1}" if n % 2 else f"## 2021-4-{n + 1} {title}", "", *lines]
    _equal_both_ways("\n".join(parts) + "\n")


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_neutralize_line_is_neutralize(line: str) -> None:
    assert neutralize_line(line) == neutralize(line)


def test_a_day_of_plain_bullets_takes_the_shortcut() -> None:
    lines = ["## 2021-4-8", "", "* read ScanNet", "  * ~~TODO x~~", "* ![](https://e.com/a.png)"]
    unit = journal_doc._plain_unit(lines, 0)
    assert unit is not None
    assert [(d.text, d.done, [c.text for c in d.children]) for d in unit.drafts] == [
        ("read ScanNet", False, ["TODO x"]),
        ("![](https://e.com/a.png)", False, []),
    ]
    assert unit.drafts[0].children[0].done is True
    _equal_both_ways("\n".join(lines))


def test_a_list_opening_on_its_items_line_is_one_note() -> None:
    def texts(body: str) -> list[tuple[str, list[str]]]:
        notes = parse_journal("## 2021-4-2\n\n" + body).days[0].notes
        return [(n.text, [c.text for c in n.children]) for n in notes]

    assert texts("* * x\n") == [("\\* x", [])]  # was the note and a child copy of it
    assert texts("* 1. x\n") == [("1\\. x", [])]
    assert texts("* a\n* [ ] * \n") == [("a", []), ("[ ] *", [])]
    assert texts("* - x\n  * y\n") == [("\\- x", ["y"])]

"""Note texts stay inside their bullet; note trees render and parse back unchanged."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.blocks import markdown_to_drafts
from bot.core.capture import (
    find_backdate,
    is_bare_image,
    message_notes,
    photo_notes,
    strip_prefix,
)
from bot.core.entities import Entity
from bot.core.mdparser import can_strike, parser
from bot.core.notes import NoteDraft
from bot.core.render import render_body
from bot.core.sanitize import defang_line, defang_lines, neutralize
from tests.test_view import shows_every_word

HOSTILE = [
    "## 2021-01-01",
    "# heading",
    "---",
    "===",
    "text\n---",
    "text\n===",
    "> quoted",
    "1. numbered",
    "+ plus",
    "- minus",
    "* star",
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "```\nunterminated fence",
    "~~~\nunterminated tilde fence",
    "~~ strike ~~",
    "a | b\n--- | ---\nc | d",
    "[ref]: https://example.com",
    "    indented code",
    "\t tab start",
    "line one\n\n\n\nline two",
    "trailing spaces   \nnext",
]


def tree(text: str) -> list[NoteDraft]:
    return markdown_to_drafts("\n".join(render_body([NoteDraft(text=text)])))


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_texts_stay_one_bullet(text: str) -> None:
    safe = neutralize(text)
    drafts = tree(safe)
    assert len(drafts) == 1 and drafts[0].kind == "item" and not drafts[0].children
    assert drafts[0].text == safe
    tokens = parser(front_matter=False).parse("\n".join(render_body([NoteDraft(text=safe)])))
    assert not [t for t in tokens if t.type in {"heading_open", "hr", "html_block"}]


@given(st.lists(st.sampled_from(["\n", "<b", "](", "{:", "[a]:", "x", " "]), max_size=30))
def test_defang_lines_are_the_lines_defang_line_changes(pieces: list[str]) -> None:
    text = "".join(pieces)
    lines = text.split("\n")
    assert defang_lines(text) >= {n for n, line in enumerate(lines) if defang_line(line) != line}
    for n in defang_lines(text):
        assert any(mark in lines[n] for mark in ("<", "](", "{:", "]:"))


def test_script_links_are_defanged() -> None:
    assert "](javascript" not in neutralize("[x](javascript:alert(1))")
    html = parser(front_matter=False).render("* " + neutralize("<b>x</b> <https://ok.example>"))
    assert "<b>" not in html and 'href="https://ok.example"' in html


def test_message_with_a_list_nests() -> None:
    notes = message_notes("Meeting with Bob\n- budget\n  - Q3\n- hiring\n\n1. first\n2. second")
    assert len(notes) == 1
    root = notes[0]
    assert root.text == "Meeting with Bob"
    assert [c.text for c in root.children] == ["budget", "hiring", "first", "second"]
    assert [c.text for c in root.children[0].children] == ["Q3"]
    assert [c.ordered for c in root.children] == [False, False, True, True]


def test_message_starting_with_a_list_gives_siblings() -> None:
    notes = message_notes("- a\n- b")
    assert [n.text for n in notes] == ["a", "b"]


def test_plain_message_is_one_bullet() -> None:
    notes = message_notes("## 2021-01-01 is not a heading")
    assert len(notes) == 1 and notes[0].text == "\\## 2021-01-01 is not a heading"


def test_backdating_shifts_entities() -> None:
    from datetime import date

    today = date(2021, 4, 9)
    bd = find_backdate("yesterday: fixed **it**", today)
    assert bd is not None and bd.day == date(2021, 4, 8)
    bd = find_backdate("2021-4-1: note", today)
    assert bd is not None and bd.day == date(2021, 4, 1)
    bd = find_backdate("2021-04-01：note", today)
    assert bd is not None
    text, ents = strip_prefix("2021-04-01：bold", [Entity("bold", 11, 4)], bd)
    assert text == "bold" and ents == [Entity("bold", 0, 4)]
    assert find_backdate("no date here", today) is None


def test_sample_style_body() -> None:
    body = "1. ScanNet:\n   * mapping\n     * ![](https://x/img.png)\n\n* Pytorch illegal memory"
    drafts = markdown_to_drafts(body)
    assert [d.text for d in drafts] == ["ScanNet:", "Pytorch illegal memory"]
    assert drafts[0].ordered and not drafts[1].ordered
    assert drafts[0].children[0].children[0].text == "![](https://x/img.png)"
    assert "\n".join(render_body(drafts)) == body


def test_done_items_strike_through() -> None:
    drafts = markdown_to_drafts("* ~~finish the paper~~\n* open")
    assert drafts[0].done and drafts[0].text == "finish the paper"
    assert "\n".join(render_body(drafts)) == "* ~~finish the paper~~\n* open"


# ---------------------------------------------------------------- property: render ∘ parse = id

TEXT = st.text(
    st.sampled_from([*list("ab 1.#>-+*=_`~[]()<>|\\!:"), "\n", "日", "😀", "\t"]),
    min_size=1,
    max_size=30,
)


@st.composite
def note_trees(draw: st.DrawFn, depth: int = 0) -> NoteDraft:
    text = neutralize(draw(TEXT))
    if not text.strip():
        text = "x"
    children = draw(CHILDREN[depth]) if depth < 3 else []
    ordered, done = draw(FLAGS)
    return NoteDraft(text=text, ordered=ordered, done=done and "\n" not in text, children=children)


# ordered and done in one draw, not two booleans: drawing is most of the tests' time
FLAGS = st.sampled_from([(False, False), (False, True), (True, False), (True, True)])


# built once, not at every draw: hypothesis validates every new strategy object it meets
CHILDREN = [st.lists(note_trees(depth + 1), max_size=3) for depth in range(3)]  # type: ignore[call-arg]


def strip_done(notes: list[NoteDraft]) -> list[NoteDraft]:
    return notes


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(note_trees(), min_size=1, max_size=4))
def test_render_then_parse_gives_the_same_tree(notes: list[NoteDraft]) -> None:
    """…and the same day in the chat is well formed HTML with every word."""
    rendered = "\n".join(render_body(notes))
    parsed = markdown_to_drafts(rendered)
    assert shape(parsed) == shape(notes), rendered
    # and rendering again is byte-identical
    assert "\n".join(render_body(parsed)) == rendered
    shows_every_word(notes)


def shape(notes: list[NoteDraft]) -> list[tuple[str, bool, bool, list[object]]]:
    out: list[tuple[str, bool, bool, list[object]]] = []
    for n in notes:
        done = n.done and can_strike(n.text)
        out.append((n.text, n.ordered, done, shape(n.children)))  # type: ignore[arg-type]
    return out


def test_a_photo_nests_under_its_caption() -> None:
    assert photo_notes("media/a b(1).jpg", []) == [NoteDraft("![](media/a%20b%281%29.jpg)")]
    (note,) = photo_notes("m/x.jpg", message_notes("whiteboard\n- detail"))
    assert note.text == "whiteboard"
    assert [c.text for c in note.children] == ["![](m/x.jpg)", "detail"]
    assert is_bare_image("![](m/x.jpg)") and not is_bare_image("see ![](m/x.jpg)")
    assert not is_bare_image(note.text)

"""One code-fence tracker for the sanitizer, the importer's chunking and entity conversion."""

from __future__ import annotations

from hypothesis import given, settings

from bot.core.journal_doc import parse_journal
from bot.core.mdparser import in_fences, parser
from bot.core.sanitize import neutralize
from tests.pieces import pieces


def test_fence_lines_and_body_are_inside() -> None:
    lines = ["before", "```python", "<b>code</b>", "```", "after"]
    assert in_fences(lines) == [False, True, True, True, False]


def test_a_fence_closes_only_on_its_own_character_and_length() -> None:
    lines = ["````", "```", "~~~~", "`````", "out"]
    assert in_fences(lines) == [True, True, True, True, False]
    assert in_fences(["~~~", "```", "~~~", "x"]) == [True, True, True, False]


def test_up_to_three_spaces_of_indent_and_an_open_fence_runs_to_the_end() -> None:
    assert in_fences(["   ```", "x", "   ```", "y"]) == [True, True, True, False]
    assert in_fences(["    ```", "x"]) == [False, False]  # indented code, not a fence
    assert in_fences(["```", "never closed", "# not a heading"]) == [True, True, True]
    assert in_fences([]) == []


def test_backticks_in_the_info_string_make_inline_code_not_a_fence() -> None:
    assert in_fences(["```a`b", "<b>x</b>"]) == [False, False]
    assert in_fences(["~~~a`b", "x"]) == [True, True]  # tilde fences may have them


def test_a_closing_fence_has_nothing_after_it_but_spaces() -> None:
    assert in_fences(["```", "```py", "still code", "```  \t", "out"]) == [
        *[True] * 4,
        False,
    ]


LINES = ["```", "````", "~~~", "~~~~", "```py", "```a`b", "~~~a`b", "``` \t", "```x y",
         "   ```", "    ```", " ~~~~ ", "text", "", "# heading", "<b>x</b>"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(pieces([line + "\n" for line in LINES], max_size=12).map(lambda t: t.split("\n")[:-1]))
def test_agrees_with_markdown_it(lines: list[str]) -> None:
    want = [False] * len(lines)
    text = "".join(line + "\n" for line in lines)  # so a last empty line is a line too
    for tok in parser(front_matter=False, inline=False).parse(text):
        if tok.type == "fence" and tok.level == 0 and tok.map:
            for n in range(tok.map[0], min(tok.map[1], len(lines))):
                want[n] = True
    assert in_fences(lines) == want


def test_the_sanitizer_defangs_html_after_a_line_of_inline_code() -> None:
    # "```a`b" is a paragraph, so the tag after it is live HTML in the blog unless escaped
    assert neutralize("```a`b\n<b>x</b>") == "```a`b\n\\<b>x\\</b>"


def test_an_info_string_does_not_close_a_fence_so_no_day_is_read_from_inside_code() -> None:
    text = "# T\n\n## 2021-1-2\n\n```\ncode\n```py\n## 2021-1-1\n```\n"
    days = parse_journal(text).days
    assert [d.heading for d in days] == ["2021-1-2"]
    assert [n.text for n in days[0].notes] == ["```\ncode\n```py\n## 2021-1-1\n```"]

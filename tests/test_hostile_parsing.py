"""No input freezes the bot: regexes without backtracking blow-ups, bounded parsing of files."""

from __future__ import annotations

import pytest

from bot.core.journal_doc import parse_heading, parse_journal
from bot.core.reminders import BadTime, parse_time_of_day
from bot.core.sanitize import neutralize
from bot.core.tags import find_tags
from bot.core.view import note_html, plain

N = 60_000  # the size that held the event loop 39.7 s on a regex that backtracked

# Inputs that made a regex backtrack quadratically (or worse); each must now be read in one pass.
REGEX_KILLERS = {
    "link target of spaces": "* ](" + " " * N + "x",
    "link target of spaces and tabs": "](<" + " \t" * N + "y",
    "heading of spaces": "## 2021-1-1" + " " * N + "x",
    "heading range of spaces": "## 2021-1-1" + " " * N + "-" + " " * N + "x",
    "backtick run": "`" * N,
    "backtick runs on an HTML line": "<a " + "` " * N,
    "unclosed tags": "<b " * N,
    "time of day": "1" + " " * N + "x",
}


@pytest.mark.parametrize("name", sorted(REGEX_KILLERS))
def test_regex_killers_are_read_in_one_pass(name: str) -> None:
    text = REGEX_KILLERS[name]
    assert neutralize(text)
    parse_journal(text)
    parse_heading(text.removeprefix("## "), None)
    find_tags(text)
    plain(text)
    note_html(text)
    with pytest.raises(BadTime):
        parse_time_of_day(text)


def test_rewritten_regexes_read_as_before() -> None:
    assert neutralize("[x]( < JavaScript:alert(1))") == "[x]\\( < JavaScript:alert(1))"
    assert neutralize("[x](  https://a.example)") == "[x](  https://a.example)"
    assert str(parse_heading("  2021-1-1 ~ 2021-1-3 ", None)[0]) == str(
        parse_heading("2021-1-1~2021-1-3", None)[0]
    )
    assert parse_heading("2021-1-1 x", None) == (None, None)
    assert parse_time_of_day(" 9:30 pm ").hour == 21
    assert find_tags("`#code` #tag ``#two ``") == ["tag"]
    assert find_tags("``a` #code `b` #tag") == ["tag"]
    assert plain("<b>bold</b> <a href='https://a'>x</a> &lt;b") == "bold x <b"

"""No input freezes the bot: regexes without backtracking blow-ups, bounded parsing of files."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.capture import message_notes
from bot.core.entities import MAX_ENTITIES, MAX_STYLED_TEXT, Entity, to_markdown
from bot.core.journal_doc import parse_heading, parse_journal
from bot.core.mdparser import unescape
from bot.core.reminders import BadTime, parse_time_of_day
from bot.core.sanitize import neutralize
from bot.core.tags import find_tags
from bot.core.view import MAX_PARSED_NOTE, note_html, plain
from bot.emulator import FakeBotAPI
from bot.worker import BOT_LIMITS, Limits, Refused, parse_journal_file, run_bounded
from tests.conftest import USER
from tests.test_e2e_import import send_file
from tests.test_export_import import sample_text
from tests.worker_jobs import spin

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


def test_a_parse_that_runs_too_long_is_stopped() -> None:
    with pytest.raises(Refused) as refused:
        run_bounded(spin, None, Limits(seconds=0.1, memory=BOT_LIMITS.memory))
    assert refused.value.reason == "time"


def test_a_parse_that_needs_too_much_memory_is_stopped() -> None:
    with pytest.raises(Refused) as refused:
        run_bounded(bytearray, 3 << 30, Limits(seconds=60, memory=1 << 30))
    assert refused.value.reason == "memory"


def test_the_worker_gives_the_parse_or_its_error() -> None:
    text = sample_text()
    parsed = parse_journal_file(text, BOT_LIMITS, fix=True)
    assert parsed.days and parsed.note_count == parse_journal(text).note_count
    assert any("imported as" in a.message for a in parsed.anomalies)  # dates fixed
    with pytest.raises(ValueError, match="invalid literal"):
        run_bounded(int, "not a number", BOT_LIMITS)


async def test_a_file_past_the_limits_is_refused_and_the_bot_goes_on(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    bot = await start_bot()
    bot.exposed["services"].parse_limits = Limits(seconds=0, memory=BOT_LIMITS.memory)
    send_file(fake, "slow", "slow.md", sample_text().encode())
    assert "slow.md took too long or too much memory" in (await bot.replies(1))[-1]
    assert not any("reply_markup" in m for m in fake.sent_messages)  # no import offered
    fake.send(USER, "still capturing")
    await bot.reacted(1)


def test_many_styles_that_cannot_survive_give_way_to_plain_text() -> None:
    # bold on `(b)` between letters cannot close in CommonMark; 400 of them took 40 s
    piece = "x(b)y "
    text = piece * 150
    bold = [Entity("bold", i * len(piece) + 1, 3) for i in range(150)]
    md = to_markdown(text, bold)
    assert "**" not in md and unescape(md).split() == text.split()
    # a list keeps its items when its styles cannot be kept
    listed = "- " + "\n- ".join(["x(b)y"] * 150)
    md = to_markdown(listed, [Entity("bold", i * 8 + 3, 3) for i in range(150)])
    assert md.count("\n- ") == 149 and "**" not in md


def test_past_the_caps_a_message_is_plain_text() -> None:
    text = "a b " * (MAX_ENTITIES + 1)
    bold = [Entity("bold", i * 4, 1) for i in range(MAX_ENTITIES + 1)]
    assert to_markdown(text, bold) == text.strip()  # styles dropped, words kept
    assert "**a**" in to_markdown(text, bold[:MAX_ENTITIES])
    long = "- [a](javascript:x) <b>\n# b\n" * (MAX_STYLED_TEXT // 20)
    (note,) = message_notes(long, [Entity("bold", 0, 3)])
    assert note.text.startswith("\\- \\[a\\]\\(javascript\\:x\\) \\<b\\>\n\\# b\n")
    assert unescape(note.text).split() == long.split() and not note.children
    assert note_html("*a* <b>\n" * MAX_PARSED_NOTE).startswith("*a* &lt;b&gt;\n*a*")
    assert note_html("*a* <b>") == "<i>a</i> &lt;b&gt;"


def test_a_long_list_in_one_note_is_escaped_to_its_end() -> None:
    # one item per pass, eight passes: the ninth item on stayed a list (found by the fuzz test)
    text = neutralize("\n".join(f"* a{i}" for i in range(12)))
    assert text.split("\n")[-1] == "\\* a11"
    spaced = neutralize("x\n\n" + "\n\n".join(f"{i}. b" for i in range(1, 12)))
    assert spaced.endswith("11\\. b") and "\n1\\. b" in spaced

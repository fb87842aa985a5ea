"""/today never sends raw escaped markdown: a long day is several HTML messages, each with
its tags balanced, cut at line breaks or between words, never inside a tag or an entity."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from bot.core.notes import NoteDraft
from bot.core.view import day_html, plain, split_html
from bot.emulator import FakeBotAPI
from tests.conftest import USER


class Balanced(HTMLParser):
    """Fails on a tag closed out of order; `open` holds what is left open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open.pop() == tag

    def handle_entityref(self, name: str) -> None:
        assert name in {"amp", "lt", "gt", "quot"}


def balanced(text: str) -> bool:
    parser = Balanced()
    parser.feed(text)
    parser.close()
    return not parser.open and "&" not in text.replace("&amp;", "").replace("&lt;", "").replace(
        "&gt;", ""
    ).replace("&quot;", "")


NOTES = [
    "x" * 4096,
    "**bold " + "word " * 900 + "end** and [a link](https://example.org/" + "p" * 50 + ")",
    "a & b < c > d " * 400,
    "```python\n" + "print('line')\n" * 400 + "```",
    "> quoted " + "text " * 1000,
    "line\n" * 1200,
]


@pytest.mark.parametrize("text", NOTES, ids=["word", "bold", "entities", "code", "quote", "lines"])
def test_a_long_piece_is_cut_into_valid_messages(text: str) -> None:
    [piece] = day_html([NoteDraft(text=text)])
    parts = split_html(piece, 4000)
    assert len(parts) > 1
    assert all(len(p) <= 4000 and balanced(p) for p in parts)
    squeeze = lambda t: "".join(t.split())  # noqa: E731
    assert squeeze("".join(plain(p) for p in parts)) == squeeze(plain(piece))


def test_cuts_fall_on_line_breaks_when_there_are_any() -> None:
    [piece] = day_html(
        [NoteDraft(text="first line\n" + "\n".join(f"line {i}" for i in range(800)))]
    )
    parts = split_html(piece, 1000)
    assert all(p.rstrip().endswith(tuple("0123456789")) for p in parts)


async def test_today_with_one_4000_character_note_is_formatted_messages(
    fake: FakeBotAPI, start_bot: Any
) -> None:
    bot = await start_bot()
    bold = "the paper " * 399
    text = f"Read {bold}then #slept [1]"
    fake.send(USER, text, entities=[{"type": "bold", "offset": 5, "length": len(bold) - 1}])
    await bot.reacted(1)
    fake.command(USER, "/today")
    await bot.until(lambda: "slept" in "".join(fake.sent_texts()))
    day = [c.params for c in fake.calls_to("sendMessage")]
    assert len(day) >= 2
    assert all(p.get("parse_mode") == "HTML" for p in day)
    assert all(len(str(p["text"])) <= 4096 and balanced(str(p["text"])) for p in day)
    shown = "".join(plain(str(p["text"])) for p in day)
    assert "\\" not in shown and "**" not in shown and "then #slept [1]" in shown
    assert all(str(p["text"]).count("<b>") == 1 for p in day[1:])  # bold on both sides of a cut
    assert "".join(shown.split()).count("thepaper") == 399

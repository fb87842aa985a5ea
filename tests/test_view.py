"""The chat view of a day: Telegram HTML that is always well formed and keeps every word."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core.mdparser import unescape
from bot.core.notes import NoteDraft
from bot.core.view import day_html, note_html, pack, parsed_note_html, plain
from tests.pieces import pieces

ALLOWED = {"b", "i", "s", "code", "pre", "a", "blockquote"}


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ALLOWED, tag
        if tag == "a":
            assert [k for k, _ in attrs] == ["href"]
            assert str(dict(attrs)["href"]).startswith(("http://", "https://"))
        elif tag == "code" and attrs:
            # a code block's language, which Telegram shows as the block's label
            [(name, value)] = attrs
            assert name == "class" and value is not None and value.startswith("language-")
            assert self.stack[-1:] == ["pre"]
            self.text.append(value.removeprefix("language-") + "\n")
        else:
            assert attrs == [], (tag, attrs)
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, tag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check(html_text: str) -> str:
    """Well formed, only Telegram's tags; returns the visible text."""
    checker = _Checker()
    checker.feed(html_text)
    checker.close()
    assert checker.stack == []
    return "".join(checker.text)


def test_styles_links_and_images() -> None:
    notes = [
        NoteDraft(
            "**Read** `a<b` [paper](https://arxiv.org/abs/1) & *em* ~~old~~\nnext line",
            children=[NoteDraft("one", ordered=True), NoteDraft("two", ordered=True)],
        ),
        NoteDraft("![](media/2021/04/x.jpg) and [local](media/a.pdf)"),
        NoteDraft("TODO rerun", done=True),
        NoteDraft("> a quote", kind="block"),
        NoteDraft("code:\n\n```py\nx < 1\n```"),
    ]
    pieces = day_html(notes)
    assert pieces[0] == (
        '• <b>Read</b> <code>a&lt;b</code> <a href="https://arxiv.org/abs/1">paper</a> &amp; '
        "<i>em</i> <s>old</s>\n  next line\n    1. one\n    2. two"
    )
    assert pieces[1] == "• 🖼 x.jpg and local"  # relative links are not links in Telegram
    assert pieces[2] == "• <s>TODO rerun</s>"
    assert pieces[3] == "<blockquote>a quote</blockquote>"
    assert pieces[4] == '• code:\n  <pre><code class="language-py">x &lt; 1</code></pre>'
    for piece in pieces:
        check(piece)


def test_pack_keeps_pieces_whole() -> None:
    assert pack(["aa", "bb", "cc"], 5) == ["aa\nbb", "cc"]
    assert pack(["a" * 6], 5) is None
    assert plain('<b>a &amp; b</b> <a href="https://x">c</a>') == "a & b c"


def shows_every_word(notes: list[NoteDraft]) -> None:
    """Any day is well formed HTML with every word: test_render_then_parse_gives_the_same_tree
    checks it of the trees it draws (drawing them is most of either check's time)."""
    shown = check("\n".join(day_html(notes)))
    for note in notes:
        for word in unescape(note.text).split():
            stripped = word.strip("*_`~[]()<>!\\#|=+-.:")
            if stripped.isalnum():
                assert stripped in shown


# words and the marks around them, which note_html() reads without a full parse, and the
# marks and constructs that a short path must leave to it
PIECES = (
    ["a", "Zé", "中ж", "٣7", "😀", "w", "word"] * 12
    + [" ", ",", ".", ":", "()", "/", "%41"] * 6
    + [
        *"\t\u00a0\u3000\u2028\r\x00_*`~[]<>&|\\#=+-!@:",
        *["**b**", "[l](https://x.org)", "![i](m.png)", "<https://x.org>", "`c`", "~~s~~", "\\*"],
        *["www.a.org", "https://x.org/a", "mailto:a@b.co", "a@b.co", "&amp;", "[^1]", "1. ", "2) "],
        *["\n- ", "\n# ", "\n> ", "\n    ", "\n```", "\n~~~", "\n---", "\n===", "\n| -- |"],
        *["\n[a]: /u", "\n[^1]: f", "\n1. ", "\n2) ", "\n10.", "\n\n", "\n", "  \n", " "],
    ]
)
NOTE_TEXTS = pieces(PIECES, max_size=10)


@settings(max_examples=300, deadline=None)
@given(NOTE_TEXTS, st.sampled_from(["\n", "\n    ◦ "]))
@example("a\r- b", "\n")  # a carriage return is a line break: the list interrupts
@example("a\u00a0", "\n")  # a paragraph's trailing white space is any Unicode space
@example("a\n1.\nb", "\n")
def test_the_short_paths_are_the_full_parse(text: str, newline: str) -> None:
    """A note of one paragraph skips markdown-it's block pass, one of plain words its parse:
    either gives exactly what the full parse gives."""
    assert note_html(text, newline) == parsed_note_html(text, newline)


def test_a_code_blocks_whole_info_string_is_its_label() -> None:
    assert note_html("~~~1\n~~~") == '<pre><code class="language-1"></code></pre>'
    assert note_html('```c++ "main"\nx\n```') == (
        '<pre><code class="language-c++ &quot;main&quot;">x</code></pre>'
    )
    assert check(note_html("~~~py  title\n~~~")) == "py title\n"


def test_note_html_of_plain_text_is_escaped() -> None:
    assert note_html("1 < 2 & 3 > 2") == "1 &lt; 2 &amp; 3 &gt; 2"

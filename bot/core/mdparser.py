"""Markdown as markdown-it reads it: the one parser factory, text clean-up, escapes."""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported lazily: the export path never needs the parser
    from markdown_it import MarkdownIt


@cache
def parser(*, front_matter: bool = True, inline: bool = True) -> MarkdownIt:
    """The journal's parser: CommonMark, raw HTML off, GFM extras.

    front_matter: a leading `---` block is a post's front matter (off for a single note).
    inline=False reads structure only: inline tokens keep their source but are not parsed.
    Import and sanitising read block structure and source lines, never inline markup, and
    inline parsing is a third of markdown-it's time on a long journal.
    """
    from markdown_it import MarkdownIt
    from mdit_py_plugins.gfm import gfm_plugin

    md = MarkdownIt("commonmark", {"html": False}).use(gfm_plugin, front_matter=front_matter)
    if not inline:
        md.core.ruler.disable(["inline", "text_join"], ignoreInvalid=True)
    return md


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")


def clean_text(text: str) -> str:
    """Normalise line endings and drop control characters (keeps \\n and \\t)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    return _CONTROL.sub("", text)


def expand_indent(line: str) -> str:
    """Expand tabs in the leading whitespace to 4-column tab stops."""
    i = 0
    col = 0
    while i < len(line) and line[i] in " \t":
        col = col + 4 - (col % 4) if line[i] == "\t" else col + 1
        i += 1
    return " " * col + line[i:]


def can_strike(text: str) -> bool:
    """Whether `~~text~~` reads back as exactly this text struck through (a done TODO)."""
    if not text or "\n" in text or "~~" in text or text != text.strip():
        return False
    if text[0] == "~" or text[-1] in "~\\":
        return False
    if not any(ch in text for ch in "`<[\\*_&"):
        return True  # nothing inline could swallow or split the delimiters: skip the parser
    tokens = parser(front_matter=False).parse(f"~~{text}~~")
    if len(tokens) != 3 or tokens[1].children is None:
        return False
    kids = tokens[1].children
    return (
        kids[0].type == "s_open"
        and kids[-1].type == "s_close"
        and (sum(1 for k in kids if k.type == "s_open") == 1)
    )


_FIRST_GROUP = operator.itemgetter(1)
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark's backslash escapes


def unescape(text: str) -> str:
    """A stored note's text as a person reads it in a plain-text reply: `\\*` becomes `*`."""
    # a C-level callable: a template ("\\1") is expanded in Python for each match, seconds
    # over a megabyte of escaped text
    return _ESCAPED.sub(_FIRST_GROUP, text)


_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")


def in_fences(lines: Iterable[str]) -> list[bool]:
    """For each line, whether it belongs to a top-level code fence (its fence lines too).

    markdown-it's rules: at most three spaces before the fence; a backtick fence's info
    string has no backtick (else the line is inline code); the closing fence uses the same
    character, is at least as long and has only spaces after it; an open fence runs to the end.
    """
    out: list[bool] = []
    fence: str | None = None
    for line in lines:
        m = _FENCE.match(line)
        if fence is None:
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                fence = m.group(1)
            out.append(fence is not None)
            continue
        out.append(True)
        if (
            m
            and m.group(1)[0] == fence[0]
            and len(m.group(1)) >= len(fence)
            and not m.group(2).strip(" \t")
        ):
            fence = None
    return out

"""The sanitizer, the blog's safety boundary: a note's markdown made safe inside a list item.

Every note that reaches the journal passes neutralize(): typed, forwarded or imported.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.core.mdparser import clean_text, expand_indent, in_fences, parser

if TYPE_CHECKING:
    from markdown_it.token import Token


def _tidy_lines(text: str) -> list[str]:
    # leading tabs become spaces: a tab's width depends on the column it lands in
    lines = [expand_indent(line.rstrip()) for line in clean_text(text).split("\n")]
    out: list[str] = []
    for line in lines:
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return out


# Lines that could change a document's structure when they start a line; anything else is
# known safe without parsing (the fast path keeps bulk import fast).
_RISKY_START = re.compile(r"^(?:\s|[#>\-+*=_`~|\[\d<:\\!]|$)")


def _fence_closed(tok: Token, lines: list[str]) -> bool:
    if tok.map is None:
        return True
    end = tok.map[1] - 1
    if end <= tok.map[0] or end >= len(lines):
        return False
    last = lines[end].strip()
    return last.startswith(tok.markup[0] * len(tok.markup)) and set(last) <= {tok.markup[0]}


def _escape_at(line: str) -> str:
    stripped = line.lstrip(" ")
    pad = len(line) - len(stripped)
    return line[:pad] + "\\" + stripped if stripped else line


# Possessive quantifiers: `\s*<?\s*` backtracked quadratically over a long run of spaces
# (`* ](` + 60,000 spaces held the event loop 40 s); each run of spaces is read once here.
_SCRIPT_TARGET = r"\s*+(?:<\s*+)?(?:javascript|vbscript|data|file):"
_TAG_OR_SCHEME = re.compile(rf"<[A-Za-z/!?]|\]\({_SCRIPT_TARGET}", re.I)
_SCRIPT_LINK = re.compile(_SCRIPT_TARGET, re.I)
_TICKS = re.compile(r"`+")
_AUTOLINK = re.compile(
    r"<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>|<[\w.!#$%&'*+/=?^`{|}~-]+@[\w.-]+>"
)


def _defang_line(line: str) -> str:
    """Escape raw HTML tags and script links outside code spans (Jekyll's kramdown renders both)."""
    out: list[str] = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\":
            out.append(line[i : i + 2])
            i += 2
            continue
        if ch == "`":
            ticks = _TICKS.match(line, i)  # not a slice of the rest: that was quadratic
            assert ticks is not None
            run = ticks.end() - i
            close = line.find("`" * run, i + run)
            while close != -1 and close + run < len(line) and line[close + run] == "`":
                close = line.find("`" * run, close + run + 1)
            if close == -1:
                out.append(line[i : i + run])
                i += run
                continue
            out.append(line[i : close + run])
            i = close + run
            continue
        if ch == "<":
            auto = _AUTOLINK.match(line, i)
            if auto:
                out.append(auto.group(0))
                i = auto.end()
                continue
            if i + 1 < len(line) and (line[i + 1].isalpha() or line[i + 1] in "/!?"):
                out.append("\\<")
                i += 1
                continue
        # matched in place: slicing the rest of the line at every `](` was quadratic
        if ch == "]" and line.startswith("(", i + 1) and _SCRIPT_LINK.match(line, i + 2):
            out.append("]\\(")
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _defang(lines: list[str]) -> list[str]:
    return [
        line if fenced or not _TAG_OR_SCHEME.search(line) else _defang_line(line)
        for line, fenced in zip(lines, in_fences(lines), strict=True)
    ]


def neutralize(text: str, *, allow_rule: bool = False) -> str:  # allow_rule: a day-level block
    """Make a note's markdown safe to place inside a list item of the journal.

    The result never opens a heading, thematic break, setext underline, top-level list or
    link reference definition, never leaves a code fence open, and has no raw HTML tag or
    script link; otherwise the text is kept as written.
    """
    lines = _tidy_lines(text)
    if lines:
        lines[0] = lines[0].lstrip()
        # after the export's "* " marker, a first line of stars would make a thematic break
        if lines[0].count("*") >= 2 and not lines[0].replace("*", "").strip():
            lines[0] = "\\" + lines[0]
    if any(_TAG_OR_SCHEME.search(line) for line in lines):
        lines = _defang(lines)
    if not any(_RISKY_START.match(line) for line in lines):
        return "\n".join(lines)
    md = parser(front_matter=False, inline=False)
    for _ in range(8):
        env: dict[str, object] = {}
        tokens = md.parse("\n".join(lines), env)
        changed = False
        for tok in tokens:
            if tok.level != 0 or tok.map is None:
                continue
            first, end = tok.map
            if tok.type == "heading_open":
                if tok.markup.startswith("#"):
                    lines[first] = _escape_at(lines[first])
                else:  # setext underline sits on the block's last line
                    lines[end - 1] = _escape_at(lines[end - 1])
                changed = True
            elif tok.type == "hr" and not (allow_rule and len(lines) == 1):
                lines[first] = _escape_at(lines[first])
                changed = True
            elif tok.type in {"bullet_list_open", "ordered_list_open"}:
                lines[first] = _escape_marker(lines[first])
                changed = True
            elif tok.type == "fence" and not _fence_closed(tok, lines):
                lines.append(" " * (len(lines[first]) - len(lines[first].lstrip())) + tok.markup)
                changed = True
            elif tok.type == "table_open" and not allow_rule:
                # a bullet's first line can open a GFM table; break the delimiter row
                row = first + 1
                if row < len(lines):
                    lines[row] = (
                        lines[row].replace("|", "\\|")
                        if "|" in lines[row]
                        else (_escape_at(lines[row]))
                    )
                    changed = True
            elif tok.type == "front_matter":
                lines[first] = _escape_at(lines[first])
                changed = True
        if env.get("references"):
            for i, line in enumerate(lines):
                if re.match(r"^ {0,3}\[[^\]]*\]:", line):
                    lines[i] = _escape_at(line)
                    changed = True
        if not changed:
            break
    return "\n".join(lines)


_MARKER = re.compile(r"^(\s*)([-+*]|\d{1,9}[.)])(?=\s|$)")


def _escape_marker(line: str) -> str:
    m = _MARKER.match(line)
    if not m:
        return _escape_at(line)
    marker = m.group(2)
    if marker[-1] in ".)":
        return line[: m.end() - 1] + "\\" + line[m.end() - 1 :]
    return m.group(1) + "\\" + line[len(m.group(1)) :]

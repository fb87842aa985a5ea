"""The sanitizer, the blog's safety boundary: a note's markdown made safe inside a list item.

Every note that reaches the journal passes neutralize(): typed, forwarded or imported.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING
from urllib.parse import unquote

from bot.core.mdparser import clean_text, expand_indent, in_fences, parser, unescape

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


# What Jekyll's kramdown would turn into markup that CommonMark leaves alone: raw HTML tags,
# links (their targets are checked), `{:` attribute lists and `{::` extensions, and link
# reference definitions (kramdown accepts targets markdown-it rejects, so every one is escaped).
# possessive and line-bound, like the rest of this module: no backtracking over long runs
_SUSPECT = re.compile(r"<[A-Za-z/!?]|\]\(|\{:|^[ \t]*+\[[^\]\n]*+\]:", re.M)
_REF_DEF = re.compile(r"^( {0,3})\[[^\]]*+\]:")
_AUTOLINK = re.compile(r"<(?:https?|mailto):[^\s<>]*>|<[\w.!#$%&'*+/=?^`{|}~-]+@[\w.-]+>", re.I)
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
# what a browser ignores inside a URL: ASCII whitespace and controls, and Unicode spaces
_URL_IGNORED = re.compile(r"[\x00-\x20\x7f\s\u200b-\u200d\u2060\ufeff]")
_TICKS = re.compile(r"`+")
_DEFANG_STOP = re.compile(r"[\\`<{\]]")  # the characters defang_line() looks at
# how much of a link target is judged: a longer one is refused (read once, never rescanned)
_TARGET_MAX = 2048


def unsafe_target(rest: str) -> bool:
    """Whether a link target (the text after `](` or `]:`) could run script in a browser.

    The target is read the way the most lenient renderer reads it: backslash escapes and
    HTML entities decoded (kramdown links `&#106;avascript:` and `javascript&colon;`),
    percent-encoding decoded, whitespace and control characters dropped. Only http(s),
    mailto, relative targets (an empty one too) and Windows drive paths are safe.
    """
    target = unescape(rest.strip().lstrip("<"))
    for _ in range(3):  # entities inside percent-encoding inside entities
        decoded = unquote(html.unescape(target))
        if decoded == target:
            break
        target = decoded
    target = _URL_IGNORED.sub("", target).lower()
    m = _SCHEME.match(target)
    if m is None:
        return False
    # a colon after a path, query or fragment character is not a scheme's
    if any(ch in target[: m.start(1) + len(m.group(1))] for ch in "/?#"):
        return False
    # a one-letter scheme is a Windows drive (`C:\\Users\\…png`, pasted by Typora): inert
    return len(m.group(1)) > 1 and m.group(1) not in _SAFE_SCHEMES


def _target_at(line: str, start: int) -> str | None:
    """The link target that starts at line[start], up to the first `)`; None (so unsafe)
    when no `)` follows within _TARGET_MAX characters."""
    end = line.find(")", start, start + _TARGET_MAX)
    return line[start:end] if end != -1 else None


def _unsafe_at(line: str, start: int) -> bool:
    target = _target_at(line, start)
    return target is None or unsafe_target(target)


def defang_line(line: str) -> str:
    r"""Escape raw HTML tags, script links and kramdown's `{:` syntax outside code spans.

    Jekyll's kramdown renders raw HTML, `{::nomarkdown}` and `{: onclick=…}` attribute lists;
    every escape used here (`\<`, `\{`, `]\(`, `\[`) is one both kramdown and CommonMark
    honour, so the text reads the same.
    """
    ref = _REF_DEF.match(line)
    if ref:
        line = ref.group(1) + "\\" + line[len(ref.group(1)) :]
    out: list[str] = []
    i = 0
    while i < len(line):
        # the characters between the marks that can need an escape are kept as they are, in
        # one piece: a step per character was most of an export's time on linked notes
        stop = _DEFANG_STOP.search(line, i)
        if stop is None:
            out.append(line[i:])
            break
        if stop.start() > i:
            out.append(line[i : stop.start()])
            i = stop.start()
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
        if ch == "{" and line.startswith(":", i + 1):
            out.append("\\{")
            i += 1
            continue
        if ch == "]" and line.startswith("(", i + 1) and _unsafe_at(line, i + 2):
            out.append("]\\(")
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


_FENCE_LINE = re.compile(r"( {0,3}(`{3,}|~{3,})[ \t]*+)(.*)")


def _kramdown_fences(lines: list[str]) -> list[str]:
    """Each fence's info string cut to its first word, as kramdown requires.

    markdown-it opens a fence at "~~~a b"; kramdown does not, and reads its body as markdown:
    a body the sanitizer skipped as code would be live there.
    """
    out = list(lines)
    fence: str | None = None
    for i, (line, fenced) in enumerate(zip(lines, in_fences(lines), strict=True)):
        m = _FENCE_LINE.fullmatch(line)
        if not fenced or m is None:
            continue
        if fence is None:
            fence = m.group(2)
            words = m.group(3).split()
            if len(words) > 1:
                out[i] = m.group(1) + words[0]
        elif m.group(2)[0] == fence[0] and len(m.group(2)) >= len(fence) and not m.group(3).strip():
            fence = None
    return out


def _defang(lines: list[str]) -> list[str]:
    lines = _kramdown_fences(lines)
    return [
        line if fenced or not _SUSPECT.search(line) else defang_line(line)
        for line, fenced in zip(lines, in_fences(lines), strict=True)
    ]


def defang(text: str) -> str:
    """The kramdown-safety part of neutralize() alone: export runs it over every stored text
    (cheap when there is nothing to escape), so notes stored before it existed are safe too."""
    if not _SUSPECT.search(text):
        return text
    return "\n".join(_defang(text.split("\n")))


def safe_heading(text: str) -> str:
    """A heading's or title's text, one line, with nothing kramdown would turn into markup."""
    line = " ".join(clean_text(text).split("\n")).strip()
    return defang_line(line) if _SUSPECT.search(line) else line


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
    if any(_SUSPECT.search(line) for line in lines):
        lines = _defang(lines)
    if len(lines) == 1 and not opens_block(lines[0]):
        return lines[0]  # one paragraph line: nothing below can apply
    if not any(_RISKY_START.match(line) for line in lines):
        return "\n".join(lines)
    md = parser(front_matter=False, inline=False)
    for _ in range(8):
        env: dict[str, object] = {}
        tokens = md.parse("\n".join(lines), env)
        changed = False
        for tok in tokens:
            if tok.type == "list_item_open" and tok.level == 1 and tok.map is not None:
                # every item of a top-level list in one pass: a pass per item (of at most
                # eight) left the ninth item and those after it a list
                lines[tok.map[0]] = _escape_marker(lines[tok.map[0]])
                changed = True
                continue
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
        # markdown-it reads a table inside a list item where it reads none at the top
        # level (`|` then `:-`): look at the lines as the export writes them, under `* `
        if not allow_rule and any("|" in line for line in lines):
            for tok in md.parse("* " + "\n  ".join(lines)):
                if tok.type == "table_open" and tok.map is not None:
                    row = tok.map[0] + 1
                    if row < len(lines) and lines[row].lstrip()[:1] not in ("\\", ""):
                        lines[row] = _escape_at(lines[row])
                        changed = True
        if env.get("references"):
            for i, line in enumerate(lines):
                if re.match(r"^ {0,3}\[[^\]]*\]:", line):
                    lines[i] = _escape_at(line)
                    changed = True
        if not changed:
            break
    return "\n".join(lines)


# What a line can open in the journal's parser besides a paragraph (a superset: a line that
# does not match is one paragraph line, whatever follows it in a list item; any white space
# after a marker, as neutralize() also escapes `#` before a full-width space)
def rule_pattern(group: str) -> str:
    """A thematic break's regex source (at its first marker), the marker a group `group`:
    patterns that combine several of these need each its own name."""
    return rf"(?P<{group}>[-*_])(?:[ \t]*(?P={group})){{2,}}[ \t]*$"


def opens_block_pattern(group: str) -> str:
    """The regex source of opens_block() (its thematic break's group called `group`)."""
    return r"\s|$|>|#{1,6}(?:\s|$)|[-+*](?:\s|$)|\d{1,9}[.)](?:\s|$)|```|~~~|\[.*\]:|" + (
        rule_pattern(group)
    )


_OPENS_BLOCK = re.compile(opens_block_pattern("rule"))
_RULE_LINE = re.compile(r" *" + rule_pattern("rule"))


def is_rule(line: str) -> bool:
    """Whether the whole line is a thematic break (`* ** ` too, which looks like a bullet)."""
    return _RULE_LINE.match(line) is not None


def opens_block(line: str) -> bool:
    """Whether markdown-it might read this line as more than a paragraph line."""
    return _OPENS_BLOCK.match(line) is not None


def defang_lines(text: str) -> set[int]:
    """The (0-based) lines of the text that hold something defang_line() escapes: neutralize()
    leaves the characters of every other line as they are."""
    found: set[int] = set()
    line = at = 0
    for m in _SUSPECT.finditer(text):
        # the line breaks since the last match only: counting from the start each time made
        # a day of 50,000 linked bullets cost 18 s of CPU
        line += text.count("\n", at, m.start())
        at = m.start()
        found.add(line)
    return found


def neutralize_line(line: str) -> str:
    """neutralize() of one line that clean_text() has seen: the same text, found faster when
    there is nothing to do (bulk import calls it for every bullet)."""
    kept = line.rstrip()  # judged as neutralize() will see it: "#\u3000" is "#", a heading
    if _SUSPECT.search(kept) or kept.startswith("*") or opens_block(kept):
        return neutralize(line)
    return kept


_MARKER = re.compile(r"^(\s*)([-+*]|\d{1,9}[.)])(?=\s|$)")


def _escape_marker(line: str) -> str:
    m = _MARKER.match(line)
    if not m:
        return _escape_at(line)
    marker = m.group(2)
    if marker[-1] in ".)":
        return line[: m.end() - 1] + "\\" + line[m.end() - 1 :]
    return m.group(1) + "\\" + line[len(m.group(1)) :]

"""The markdown engine: one parser configuration, note-text sanitising, and block → note trees."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # imported lazily: the export path never needs the parser
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

NoteKind = Literal["item", "block"]


@cache
def parser() -> MarkdownIt:
    """The journal parser: CommonMark, raw HTML off, GFM extras, front matter."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.gfm import gfm_plugin

    return MarkdownIt("commonmark", {"html": False}).use(gfm_plugin, front_matter=True)


@cache
def block_parser(front_matter: bool = True) -> MarkdownIt:
    """parser() for structure only: inline tokens keep their source but are not parsed.

    Import and sanitising read block structure and source lines, never inline markup, and
    inline parsing is a third of markdown-it's time on a long journal.
    """
    from markdown_it import MarkdownIt
    from mdit_py_plugins.gfm import gfm_plugin

    md = MarkdownIt("commonmark", {"html": False}).use(gfm_plugin, front_matter=front_matter)
    md.core.ruler.disable(["inline", "text_join"], ignoreInvalid=True)
    return md


@cache
def note_parser() -> MarkdownIt:
    """Parser for a single note's text: like parser() but without front matter."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.gfm import gfm_plugin

    return MarkdownIt("commonmark", {"html": False}).use(gfm_plugin, front_matter=False)


@dataclass
class NoteDraft:
    """A note not yet stored: text (markdown), its kind and its children."""

    text: str
    kind: NoteKind = "item"
    ordered: bool = False
    done: bool = False
    children: list[NoteDraft] = field(default_factory=list)

    def walk(self) -> list[NoteDraft]:
        """This draft and all its descendants, depth first."""
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")


def clean_text(text: str) -> str:
    """Normalise line endings and drop control characters (keeps \\n and \\t)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    return _CONTROL.sub("", text)


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


_TAG_OR_SCHEME = re.compile(r"<[A-Za-z/!?]|\]\(\s*<?\s*(?:javascript|vbscript|data|file):", re.I)
_AUTOLINK = re.compile(
    r"<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>|<[\w.!#$%&'*+/=?^`{|}~-]+@[\w.-]+>"
)
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


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
            run = len(line[i:]) - len(line[i:].lstrip("`"))
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
        if ch == "]" and line.startswith("(", i + 1):
            rest = line[i + 2 :].lstrip().lstrip("<").lstrip().lower()
            if rest.startswith(("javascript:", "vbscript:", "data:", "file:")):
                out.append("]\\(")
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _defang(lines: list[str]) -> list[str]:
    out: list[str] = []
    fence: str | None = None
    for line in lines:
        m = _FENCE_LINE.match(line)
        if fence is None and m:
            fence = m.group(1)
            out.append(line)
            continue
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            out.append(line)
            continue
        out.append(_defang_line(line) if _TAG_OR_SCHEME.search(line) else line)
    return out


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
    md = block_parser(front_matter=False)
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


# ---------------------------------------------------------------- blocks → notes


def expand_indent(line: str) -> str:
    """Expand tabs in the leading whitespace to 4-column tab stops."""
    i = 0
    col = 0
    while i < len(line) and line[i] in " \t":
        col = col + 4 - (col % 4) if line[i] == "\t" else col + 1
        i += 1
    return " " * col + line[i:]


def _dedent(line: str, cols: int) -> str:
    line = expand_indent(line)
    strip = min(cols, len(line) - len(line.lstrip(" ")))
    return line[strip:]


_ITEM_START = re.compile(r"^( *)([-+*]|\d{1,9}[.)])( {0,4}|\t)?")


def _item_lines(lines: list[str], first: int, end: int, skip: list[tuple[int, int]]) -> list[str]:
    head = expand_indent(lines[first]) if first < len(lines) else ""
    m = _ITEM_START.match(head)
    if m:
        after = head[m.end(2) :]
        gap = len(after) - len(after.lstrip(" "))
        if gap == 0 or gap > 4 or not after.strip():
            gap = 1
        col = m.end(2) + gap
        first_text = head[col:] if len(head) > col else head[m.end(2) :].lstrip()
    else:  # not expected; keep the line as it is
        col = 0
        first_text = head.strip()
    out = [first_text]
    for i in range(first + 1, min(end, len(lines))):
        if any(a <= i < b for a, b in skip):
            continue
        out.append(_dedent(lines[i], col))
    return out


def can_strike(text: str) -> bool:
    """Whether `~~text~~` reads back as exactly this text struck through (a done TODO)."""
    if not text or "\n" in text or "~~" in text or text != text.strip():
        return False
    if text[0] == "~" or text[-1] in "~\\":
        return False
    if not any(ch in text for ch in "`<[\\*_&"):
        return True  # nothing inline could swallow or split the delimiters: skip the parser
    tokens = note_parser().parse(f"~~{text}~~")
    if len(tokens) != 3 or tokens[1].children is None:
        return False
    kids = tokens[1].children
    return (
        kids[0].type == "s_open"
        and kids[-1].type == "s_close"
        and (sum(1 for k in kids if k.type == "s_open") == 1)
    )


def _strip_done(text: str) -> tuple[str, bool]:
    if len(text) < 5 or not (text.startswith("~~") and text.endswith("~~")):
        return text, False
    inner = text[2:-2]
    return (inner, True) if can_strike(inner) else (text, False)


def _collect_list(tokens: list[Token], i: int, lines: list[str]) -> tuple[list[NoteDraft], int]:
    """Read a list starting at tokens[i]; return its item drafts and the index after it."""
    open_tok = tokens[i]
    ordered = open_tok.type == "ordered_list_open"
    close_type = open_tok.type.replace("_open", "_close")
    level = open_tok.level
    drafts: list[NoteDraft] = []
    i += 1
    while i < len(tokens) and not (tokens[i].type == close_type and tokens[i].level == level):
        tok = tokens[i]
        if tok.type == "list_item_open" and tok.level == level + 1:
            item_map = tok.map or [0, 0]
            children: list[NoteDraft] = []
            skip: list[tuple[int, int]] = []
            j = i + 1
            while not (tokens[j].type == "list_item_close" and tokens[j].level == tok.level):
                sub = tokens[j]
                if (
                    sub.type in {"bullet_list_open", "ordered_list_open"}
                    and sub.level == tok.level + 1
                ):
                    if sub.map:
                        skip.append((sub.map[0], sub.map[1]))
                    sub_drafts, j = _collect_list(tokens, j, lines)
                    children.extend(sub_drafts)
                    continue
                j += 1
            text_lines = _item_lines(lines, item_map[0], item_map[1], skip)
            text = neutralize("\n".join(text_lines))
            text, done = _strip_done(text)
            drafts.append(NoteDraft(text=text, ordered=ordered, done=done, children=children))
            i = j + 1
            continue
        i += 1
    return drafts, i + 1


def _close_index(tokens: list[Token], i: int) -> int:
    """Index just past the block that starts at tokens[i]."""
    tok = tokens[i]
    if tok.nesting != 1:
        return i + 1
    close = tok.type.replace("_open", "_close")
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].type == tok.type and tokens[j].level == tok.level:
            depth += 1
        elif tokens[j].type == close and tokens[j].level == tok.level:
            depth -= 1
            if depth == 0:
                return j + 1
    return len(tokens)


def blocks_to_drafts(
    tokens: list[Token], lines: list[str], start: int = 0, stop: int | None = None
) -> list[NoteDraft]:
    """Turn top-level block tokens into notes: lists → item trees, other blocks → block notes."""
    stop = len(tokens) if stop is None else stop
    drafts: list[NoteDraft] = []
    i = start
    while i < stop:
        tok = tokens[i]
        if tok.level != 0:
            i += 1
            continue
        if tok.type in {"bullet_list_open", "ordered_list_open"}:
            items, i = _collect_list(tokens, i, lines)
            drafts.extend(items)
            continue
        nxt = _close_index(tokens, i)
        if tok.type == "front_matter":
            i = nxt
            continue
        if tok.type == "code_block" and tok.map is not None:
            # an indented code block would join a list item above it: write it fenced
            fence = "```" if "```" not in tok.content else "~~~~"
            drafts.append(NoteDraft(text=f"{fence}\n{tok.content.rstrip()}\n{fence}", kind="block"))
            i = nxt
            continue
        if tok.map is not None:
            a, b = tok.map
            raw = "\n".join(lines[a:b])
            text = neutralize(raw, allow_rule=tok.type in {"hr", "table_open"})
            if text.strip():
                drafts.append(NoteDraft(text=text, kind="block"))
        i = nxt
    return drafts


def markdown_to_drafts(text: str) -> list[NoteDraft]:
    """Parse a markdown fragment (a message, a day's body) into note drafts."""
    cleaned = clean_text(text)
    lines = cleaned.split("\n")
    tokens = block_parser(front_matter=False).parse(cleaned)
    return blocks_to_drafts(tokens, lines)


_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark's backslash escapes


def unescape(text: str) -> str:
    """A stored note's text as a person reads it in a plain-text reply: `\\*` becomes `*`."""
    return _ESCAPED.sub(r"\1", text)


def clip(line: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut."""
    return line if len(line) <= limit else line[: limit - 1] + "…"

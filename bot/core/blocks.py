"""Markdown blocks → note drafts: lists become item trees, other blocks block notes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.core.mdparser import can_strike, clean_text, expand_indent, parser
from bot.core.notes import LIST_LEVELS, NoteDraft
from bot.core.sanitize import neutralize

if TYPE_CHECKING:
    from markdown_it.token import Token


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


def strip_done(text: str) -> tuple[str, bool]:
    """`~~text~~` as (text, True) when it reads back as exactly that text struck through."""
    if len(text) < 5 or not (text.startswith("~~") and text.endswith("~~")):
        return text, False
    inner = text[2:-2]
    return (inner, True) if can_strike(inner) else (text, False)


def _collect_list(
    tokens: list[Token], i: int, lines: list[str], too_deep: list[int] | None = None
) -> tuple[list[NoteDraft], int]:
    """Read a list starting at tokens[i]; return its item drafts and the index after it.

    markdown-it reads LIST_LEVELS levels of list: an item at the last level keeps anything
    nested under it as its text, and the (0-based) lines of those items go into `too_deep`.
    """
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
                    and sub.map is not None
                    and sub.map[0] == item_map[0]
                ):
                    # `* * x`: a list opening on its item's own line is that item's text
                    # (read as a child too, the line became two notes)
                    j = _close_index(tokens, j)
                    continue
                if (
                    sub.type in {"bullet_list_open", "ordered_list_open"}
                    and sub.level == tok.level + 1
                ):
                    if sub.map:
                        skip.append((sub.map[0], sub.map[1]))
                    sub_drafts, j = _collect_list(tokens, j, lines, too_deep)
                    children.extend(sub_drafts)
                    continue
                j += 1
            text_lines = _item_lines(lines, item_map[0], item_map[1], skip)
            if too_deep is not None and tok.level + 1 >= 2 * LIST_LEVELS:  # two tokens a level
                too_deep.extend(
                    item_map[0] + n
                    for n, line in enumerate(text_lines[1:], start=1)
                    if _ITEM_START.match(line.lstrip(" "))
                )
            text = neutralize("\n".join(text_lines))
            text, done = strip_done(text)
            paren = ordered and tok.markup == ")"  # `1)`: CommonMark's other delimiter
            drafts.append(
                NoteDraft(text=text, ordered=ordered, done=done, children=children, paren=paren)
            )
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
    tokens: list[Token],
    lines: list[str],
    start: int = 0,
    stop: int | None = None,
    too_deep: list[int] | None = None,
) -> list[NoteDraft]:
    """Turn top-level block tokens into notes: lists → item trees, other blocks → block notes.

    `too_deep` collects the lines of list items nested past LIST_LEVELS (kept as text).
    """
    stop = len(tokens) if stop is None else stop
    drafts: list[NoteDraft] = []
    i = start
    while i < stop:
        tok = tokens[i]
        if tok.level != 0:
            i += 1
            continue
        if tok.type in {"bullet_list_open", "ordered_list_open"}:
            items, i = _collect_list(tokens, i, lines, too_deep)
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
    tokens = parser(front_matter=False, inline=False).parse(cleaned)
    return blocks_to_drafts(tokens, lines)

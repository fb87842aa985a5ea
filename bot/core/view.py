"""A day's notes as Telegram HTML for reading in the chat: bullets as lines, styles as tags.

Telegram's HTML knows <b> <i> <s> <code> <pre> <a> <blockquote> but no lists, so a bullet
becomes a `•` line indented by its depth. Only absolute http(s) links become <a>: a relative
image path (`media/…`) is shown as its name.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from bot.core.mdparser import parser, unescape
from bot.core.notes import NoteDraft, capped

if TYPE_CHECKING:
    from markdown_it.token import Token

_TAGS = {"strong": "b", "em": "i", "s": "s"}
# attributes stop at `<`: `[^>]*` rescanned the rest of the text after every unclosed tag
_TAG = re.compile(r"</?(?:b|i|s|code|pre|a|blockquote)(?:\s[^<>]*+)?>")
INDENT = "    "


def _href(url: str) -> str | None:
    return url if url.lower().startswith(("http://", "https://")) else None


def _inline(children: list[Token], newline: str) -> str:
    out: list[str] = []
    links: list[bool] = []
    for tok in children:
        kind = tok.type
        if kind == "text":
            out.append(html.escape(tok.content, quote=False))
        elif kind in {"softbreak", "hardbreak"}:
            out.append(newline)
        elif kind.endswith("_open") and kind[:-5] in _TAGS:
            out.append(f"<{_TAGS[kind[:-5]]}>")
        elif kind.endswith("_close") and kind[:-6] in _TAGS:
            out.append(f"</{_TAGS[kind[:-6]]}>")
        elif kind == "code_inline":
            out.append(f"<code>{html.escape(tok.content, quote=False)}</code>")
        elif kind == "link_open":
            href = _href(str(tok.attrs.get("href", "")))
            links.append(href is not None)
            if href is not None:
                out.append(f'<a href="{html.escape(href)}">')
        elif kind == "link_close":
            if links.pop():
                out.append("</a>")
        elif kind == "image":
            src = str(tok.attrs.get("src", ""))
            name = tok.content or src.rsplit("/", 1)[-1] or "image"
            label = f"🖼 {html.escape(name, quote=False)}"
            href = _href(src)
            out.append(f'<a href="{html.escape(href)}">{label}</a>' if href else label)
    return "".join(out)


# Longer notes (an imported file can hold one of any size) are shown as plain text: parsing
# a megabyte with inline markup costs markdown-it seconds on the event loop, and a chat
# shows at most 4,096 characters of it anyway.
MAX_PARSED_NOTE = 16_384


# A note whose every line starts with a letter or a digit (not a list's `1.`) and does not
# end in a space is one paragraph: no block construct starts with a word, and a paragraph's
# trailing white space is stripped before its inline markup is read. Such a note needs only
# markdown-it's inline pass, and one that also holds nothing an inline rule acts on (escapes,
# code, emphasis, strikethrough, links, images, autolinks, entities, a bare link's `www.`,
# `https:` or `@`) needs no parse at all: a long imported day is mostly such notes.
# test_the_short_paths_are_the_full_parse holds both to parsed_note_html().
_LINE = r"(?!\d+[.)](?:[ \t\n]|\Z))[^\W_][^\n\r]*(?<!\s)"
_PARAGRAPH = re.compile(rf"{_LINE}(?:\n{_LINE})*")
_INLINE_MARK = re.compile(r"[\\`*_~\[<&@\r\x00]|www\.|(?:https?|mailto|xmpp):")


def note_html(text: str, newline: str = "\n") -> str:
    """One note's markdown as Telegram HTML; `newline` continues a line inside the bullet."""
    if len(text) > MAX_PARSED_NOTE:
        return html.escape(unescape(text), quote=False).replace("\n", newline)
    if _PARAGRAPH.fullmatch(text):
        if not _INLINE_MARK.search(text):
            return html.escape(text, quote=False).replace("\n", newline)
        tokens = parser(front_matter=False).parseInline(text)
        return _inline(tokens[0].children or [], newline)
    return parsed_note_html(text, newline)


def parsed_note_html(text: str, newline: str = "\n") -> str:
    """note_html() by markdown-it's full parse, block structure and all."""
    parts: list[str] = []
    quote = 0
    for tok in parser(front_matter=False).parse(text):
        if tok.type == "inline" and tok.children is not None:
            parts.append(_inline(tok.children, newline))
        elif tok.type in {"fence", "code_block"}:
            # the whole info string, not only a name-like first word: Telegram shows it as the
            # block's label, and anything dropped here (`~~~1`, `c++`, `py title`) is lost
            lang = " ".join(tok.info.split()) if tok.type == "fence" else ""
            attr = f' class="language-{html.escape(lang)}"' if lang else ""
            code = html.escape(tok.content.rstrip("\n"), quote=False)
            parts.append(f"<pre><code{attr}>{code}</code></pre>")
        elif tok.type == "blockquote_open":
            quote += 1
            if quote == 1:
                parts.append("<blockquote>")
        elif tok.type == "blockquote_close":
            quote -= 1
            if quote == 0:
                parts.append("</blockquote>")
        elif tok.type == "hr":
            parts.append("———")
    joined = newline.join(p for p in parts if p)
    return joined.replace("<blockquote>" + newline, "<blockquote>").replace(
        newline + "</blockquote>", "</blockquote>"
    )


def pack(pieces: list[str], limit: int) -> list[str] | None:
    """Pieces joined into messages of at most `limit` characters; None if one is too long."""
    messages: list[str] = []
    current = ""
    for piece in pieces:
        if len(piece) > limit:
            return None  # a tag cannot be cut in half: the caller falls back to plain text
        candidate = f"{current}\n{piece}" if current else piece
        if len(candidate) > limit:
            messages.append(current)
            current = piece
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages


# the atoms an HTML message is never cut inside: a tag, an entity, a line break, a run of
# spaces, or up to 64 other characters (a word, or a piece of a very long one)
_ATOM = re.compile(r"<[^<>]*+>|&#?\w{1,8};|\n|[^\S\n]++|[^\s<&]{1,64}|.", re.S)
_NAME = re.compile(r"</?(\w+)")


def split_html(text: str, limit: int) -> list[str]:
    """An HTML piece as messages of at most `limit` characters, each valid on its own: cut
    at a line break when there is one, else between words (a tag or an entity is never
    cut), every tag open at a cut closed before it and opened again after it."""
    if len(text) <= limit:
        return [text]
    out: list[str] = []
    stack: list[tuple[str, str]] = []  # (name, opening tag) of the tags open so far
    cur: list[str] = []  # the atoms of the message being filled
    size = 0
    newline: tuple[int, list[tuple[str, str]]] | None = None  # the last break, its open tags

    def closers(tags: list[tuple[str, str]]) -> str:
        return "".join(f"</{name}>" for name, _ in reversed(tags))

    def openers(tags: list[tuple[str, str]]) -> list[str]:
        return [opening for _, opening in tags]

    def emit(atoms: list[str], tags: list[tuple[str, str]]) -> None:
        body = "".join(atoms)
        if _TAG.sub("", body).strip():
            out.append(body + closers(tags))

    for atom in _ATOM.findall(text):
        after = stack
        if atom.startswith("</"):
            after = stack[:-1]
        elif atom.startswith("<"):
            name = _NAME.match(atom)
            after = [*stack, (name.group(1) if name else "", atom)]
        if size + len(atom) + len(closers(after)) > limit and newline is not None:
            index, tags = newline
            emit(cur[: index - 1], tags)  # the line break itself is the cut
            cur = openers(tags) + cur[index:]
            size = sum(map(len, cur))
            newline = None
        if size + len(atom) + len(closers(after)) > limit:
            emit(cur, stack)
            cur = openers(stack)
            size = sum(map(len, cur))
        cur.append(atom)
        size += len(atom)
        stack = after
        if atom == "\n":
            newline = (len(cur), list(stack))
    emit(cur, stack)
    return out


def plain(html_text: str) -> str:
    """The same message without tags (if Telegram refuses the HTML)."""
    return html.unescape(_TAG.sub("", html_text))


def _markers(notes: list[NoteDraft], bullet: str) -> Iterator[tuple[NoteDraft, str]]:
    """Each note with its marker: `1.`, `2.` (or `1)`, `2)`, as written) … through a run of
    ordered items, else `bullet`."""
    number = 0
    delimiter = ""
    for note in notes:
        was, delimiter = delimiter, (")" if note.paren else ".") if note.ordered else ""
        number = number + 1 if delimiter and delimiter == was else 1 if delimiter else 0
        yield note, f"{number}{delimiter}" if delimiter else bullet


def _item(note: NoteDraft, depth: int, marker: str, out: list[str]) -> None:
    pad = INDENT * depth
    body = note_html(note.text, "\n" + pad + "  ")
    if note.done and "<pre>" not in body and body:
        body = f"<s>{body}</s>"
    out.append(f"{pad}{marker} {body}" if body else f"{pad}{marker}")
    for child, child_marker in _markers(note.children, "◦"):
        _item(child, depth + 1, child_marker, out)


def day_html(notes: list[NoteDraft]) -> list[str]:
    """A day as HTML pieces, one per top-level note (each closes every tag it opens); at
    most MAX_DEPTH levels, as in the export."""
    pieces: list[str] = []
    for note, marker in _markers(capped(notes), "•"):
        lines: list[str] = []
        if note.kind == "block":  # a paragraph, quote or code block: no bullet of its own
            lines.append(note_html(note.text))
            for child, child_marker in _markers(note.children, "◦"):
                _item(child, 1, child_marker, lines)
        else:
            _item(note, 0, marker, lines)
        pieces.append("\n".join(lines))
    return pieces

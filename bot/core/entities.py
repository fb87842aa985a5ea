"""Telegram message entities → CommonMark, verified by re-parsing with markdown-it.

Telegram counts entity offsets in UTF-16 code units; PTB's text_markdown_v2/text_html are
Telegram dialects, not CommonMark, so this module writes CommonMark itself. Every result is
re-parsed: if a span's formatting would not survive CommonMark's delimiter rules, that span
is written as plain text instead, so the words always survive even when a style cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

from bot.core.mdparser import clean_text, in_fences, parser

if TYPE_CHECKING:  # markdown-it loads at the first note that needs parsing, not at start
    from markdown_it.token import Token

FORMATTING = {"bold", "italic", "strikethrough", "code", "pre", "text_link", "text_mention", "url"}
_STYLE = {"bold": "strong", "italic": "em", "strikethrough": "s", "code": "code", "pre": "code"}
_LINKS = {"text_link", "text_mention", "url"}
_SAFE_SCHEMES = ("http://", "https://", "mailto:", "tg://", "ftp://")


@dataclass(frozen=True)
class Entity:
    """A Telegram message entity, offsets in UTF-16 code units (as Telegram sends them)."""

    type: str
    offset: int
    length: int
    url: str | None = None
    user_id: int | None = None
    language: str | None = None


@dataclass
class _Span:
    kind: str
    start: int
    end: int
    url: str | None = None
    language: str | None = None
    children: list[_Span] = field(default_factory=list)


def utf16_to_index(text: str) -> list[int]:
    """Map each UTF-16 offset (0..len16) to a Python string index."""
    table: list[int] = []
    for i, ch in enumerate(text):
        table.append(i)
        if ord(ch) > 0xFFFF:
            table.append(i)
    table.append(len(text))
    return table


def _spans(text: str, entities: list[Entity]) -> list[_Span]:
    table = utf16_to_index(text)
    last = len(table) - 1
    flat: list[_Span] = []
    for ent in entities:
        if ent.type not in FORMATTING or ent.length <= 0:
            continue
        a = table[min(max(ent.offset, 0), last)]
        b = table[min(max(ent.offset + ent.length, 0), last)]
        if b <= a:
            continue
        url = ent.url
        if ent.type == "text_mention" and ent.user_id is not None:
            url = f"tg://user?id={ent.user_id}"
        flat.append(_Span(ent.type, a, b, url, ent.language))
    flat.sort(key=lambda s: (s.start, -s.end))
    roots: list[_Span] = []
    stack: list[_Span] = []
    for span in flat:
        while stack and span.start >= stack[-1].end:
            stack.pop()
        if stack:
            parent = stack[-1]
            if parent.kind in {"code", "pre"}:
                continue  # nothing is formatted inside code
            if span.kind == "pre":
                continue  # a code block cannot sit inside an inline style
            if span.kind in _LINKS and any(s.kind in _LINKS for s in stack):
                continue  # links cannot nest
            span.end = min(span.end, parent.end)
            parent.children.append(span)
        else:
            roots.append(span)
        stack.append(span)
    return roots


_INLINE_SPECIAL = set("\\`*[]<|~")
_ENTITY_REF = re.compile(r"&(#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def escape_inline(text: str) -> str:
    """Backslash-escape what CommonMark could read as inline markup."""
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in _INLINE_SPECIAL:
            out.append("\\" + ch)
        elif ch == "_":
            before = text[i - 1] if i > 0 else " "
            after = text[i + 1] if i + 1 < len(text) else " "
            # intraword underscores never emphasise: leave snake_case readable
            out.append("_" if before.isalnum() and after.isalnum() else "\\_")
        elif ch == "&" and _ENTITY_REF.match(text, i):
            out.append("\\&")
        elif ch == "!" and i + 1 < len(text) and text[i + 1] == "[":
            out.append("\\!")
        else:
            out.append(ch)
    return "".join(out)


_THEMATIC = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_LIST_MARK = re.compile(r"^( {0,3})([-+*]|\d{1,9}[.)])([ \t]|$)")
_BULLET_LINE = re.compile(r"^(\s*)([-+*•◦▪‣]|\d{1,9}[.)])[ \t]+(?=\S)")


def _escape_line_start(line: str, keep_list_marker: bool) -> str:
    stripped = line.lstrip(" \t")
    pad = line[: len(line) - len(stripped)]
    if not stripped:
        return ""
    if _THEMATIC.match(line) or _SETEXT.match(line):
        return pad + "\\" + stripped
    if stripped[0] in "#>":
        return pad + "\\" + stripped
    m = _LIST_MARK.match(line)
    if m and not keep_list_marker:
        mark = m.group(2)
        if mark[-1] in ".)":
            cut = len(m.group(1)) + len(mark) - 1
            return line[:cut] + "\\" + line[cut:]
        return m.group(1) + "\\" + line[len(m.group(1)) :]
    return line


def _code_span(code: str) -> str:
    code = code.replace("\n", " ")
    longest = max((len(r) for r in re.findall(r"`+", code)), default=0)
    ticks = "`" * (longest + 1)
    pad = (
        " "
        if code.startswith("`")
        or code.endswith("`")
        or (code.startswith(" ") and code.endswith(" ") and code.strip())
        else ""
    )
    return f"{ticks}{pad}{code}{pad}{ticks}"


def _fence(code: str, language: str | None) -> str:
    longest = max((len(r) for r in re.findall(r"`+", code)), default=0)
    ticks = "`" * max(3, longest + 1)
    lang = re.sub(r"[^\w+#.-]", "", language or "")[:32]
    body = code.rstrip("\n")
    return f"{ticks}{lang}\n{body}\n{ticks}"


def _link_target(url: str | None) -> str | None:
    if not url:
        return None
    url = url.strip()
    if not url.lower().startswith(_SAFE_SCHEMES):
        if re.match(r"^[\w.-]+\.[A-Za-z]{2,}(/|$)", url):
            url = "http://" + url
        else:
            return None
    url = quote(url, safe="/:?#[]@!$&'*+,;=%~.-_")
    return url.replace("(", "%28").replace(")", "%29")


_AUTOLINKABLE = re.compile(r"^(?:https?|ftp)://[^\s<>`\\]+$", re.IGNORECASE)


class _Writer:
    """Renders spans over the text; `dropped` lists spans written as plain text."""

    def __init__(self, text: str, dropped: set[int], markers: set[int]) -> None:
        self.text = text
        self.dropped = dropped
        self.markers = markers

    def plain(self, a: int, b: int) -> str:
        # list markers chosen by the user stay structural (not escaped) in list mode
        out: list[str] = []
        i = a
        while i < b:
            if i in self.markers:
                j = i
                while j < b and self.text[j] not in " \t":
                    j += 1
                mark = self.text[i:j]
                out.append("-" if mark in "•◦▪‣" else mark)
                i = j
                continue
            j = i
            while j < b and j not in self.markers:
                j += 1
            out.append(escape_inline(self.text[i:j]))
            i = j
        return "".join(out)

    def render(self, spans: list[_Span], a: int, b: int) -> str:
        out: list[str] = []
        pos = a
        for span in spans:
            out.append(self.plain(pos, span.start))
            out.append(self.span(span))
            pos = span.end
        out.append(self.plain(pos, b))
        return "".join(out)

    def span(self, span: _Span) -> str:
        inner_text = self.text[span.start : span.end]
        if id(span) in self.dropped:
            return self.render(span.children, span.start, span.end)
        if span.kind == "code":
            return (
                _code_span(inner_text) if inner_text.strip() else self.plain(span.start, span.end)
            )
        if span.kind == "pre":
            return "\n" + _fence(inner_text, span.language) + "\n"
        if span.kind == "url" and not span.children and _AUTOLINKABLE.match(inner_text):
            return f"<{inner_text}>"
        if span.kind in _LINKS:
            target = _link_target(span.url if span.kind != "url" else inner_text)
            inner = self.render(span.children, span.start, span.end)
            if target is None or not inner.strip():
                return inner
            return f"[{inner}]({target})"
        # emphasis: keep surrounding whitespace outside the delimiters
        lead = len(inner_text) - len(inner_text.lstrip())
        trail = len(inner_text) - len(inner_text.rstrip())
        if lead == len(inner_text):
            return self.plain(span.start, span.end)
        a, b = span.start + lead, span.end - trail
        inner_spans = list(span.children)
        delim = {"bold": "**", "italic": "*", "strikethrough": "~~"}[span.kind]
        body = self.render_clipped(inner_spans, a, b)
        return self.plain(span.start, a) + delim + body + delim + self.plain(b, span.end)

    def render_clipped(self, spans: list[_Span], a: int, b: int) -> str:
        clipped = []
        for s in spans:
            if s.end <= a or s.start >= b:
                continue
            s.start, s.end = max(s.start, a), min(s.end, b)
            clipped.append(s)
        return self.render(clipped, a, b)


def _fix_lines(md: str, keep_list_markers: bool) -> str:
    out: list[str] = []
    lines = md.split("\n")
    for line, fenced in zip(lines, in_fences(lines), strict=True):
        if fenced:
            out.append(line)
            continue
        if not keep_list_markers:
            line = line.lstrip(" \t")
        out.append(_escape_line_start(line, keep_list_markers).rstrip())
    text = "\n".join(out)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n")


def _expected(text: str, spans: list[_Span], markers: set[int]) -> list[tuple[str, frozenset[str]]]:
    styles: list[set[str]] = [set() for _ in text]

    def mark(span: _Span, inherited: frozenset[str]) -> None:
        style: set[str] = set(inherited)
        if span.kind in _STYLE:
            style.add(_STYLE[span.kind])
        elif (
            span.kind in _LINKS
            and _link_target(span.url if span.kind != "url" else text[span.start : span.end])
            and not _written_as_autolink(text, span)
        ):
            style.add("link")
        for i in range(span.start, span.end):
            styles[i] |= style
        for child in span.children:
            mark(child, frozenset(style))

    for span in spans:
        mark(span, frozenset())
    skip: set[int] = set()
    for m in markers:
        j = m
        while j < len(text) and text[j] not in " \t":
            skip.add(j)
            j += 1
    return [
        (ch, frozenset(styles[i]))
        for i, ch in enumerate(text)
        if not ch.isspace() and i not in skip
    ]


def parsed_styles(md: str) -> list[tuple[str, frozenset[str]]]:
    """Visible characters of a markdown text with the inline styles markdown-it gives them."""
    out: list[tuple[str, frozenset[str]]] = []

    def emit(text: str, styles: frozenset[str]) -> None:
        # autolinks (`<https://…>` and GFM's bare URLs) do not count: a URL is a link in
        # any renderer whether or not Telegram marked it, and its text is unchanged
        shown = styles - {"autolink"}
        out.extend((ch, shown) for ch in text if not ch.isspace())

    def walk(children: list[Token]) -> None:
        active: list[str] = []
        for tok in children:
            if tok.type in {"strong_open", "em_open", "s_open"}:
                active.append(tok.type[:-5])
            elif tok.type in {"strong_close", "em_close", "s_close"}:
                name = tok.type[:-6]
                if name in active:
                    active.reverse()
                    active.remove(name)
                    active.reverse()
            elif tok.type == "link_open":
                active.append("autolink" if tok.markup == "autolink" else "link")
            elif tok.type == "link_close":
                for name in ("autolink", "link")[:: 1 if tok.markup == "autolink" else -1]:
                    if name in active:
                        active.reverse()
                        active.remove(name)
                        active.reverse()
                        break
            elif tok.type == "code_inline":
                emit(tok.content, frozenset([*active, "code"]))
            elif tok.type == "text" or tok.type == "image":
                emit(tok.content, frozenset(active))

    for tok in parser(front_matter=False).parse(md):
        if tok.type == "inline" and tok.children is not None:
            walk(tok.children)
        elif tok.type in {"fence", "code_block"}:
            emit(tok.content, frozenset(["code"]))
    return out


def _all_spans(spans: list[_Span]) -> list[_Span]:
    out: list[_Span] = []
    for s in spans:
        out.append(s)
        out.extend(_all_spans(s.children))
    return out


def _list_markers(text: str) -> set[int]:
    markers: set[int] = set()
    pos = 0
    for line in text.split("\n"):
        m = _BULLET_LINE.match(line)
        if m and not _THEMATIC.match(line):
            markers.add(pos + m.start(2))
        pos += len(line) + 1
    return markers


# What one message may cost on the event loop. Each try renders and re-parses the whole text,
# and dropping one span per try made a message of many spans that CommonMark cannot close
# (`x(b)y` bold on `(b)`, 400 times) cost 40 s. Past a few tries the styles give way to plain
# text; past the sizes below (beyond what Telegram sends) the text is escaped once, unparsed.
MAX_TRIES = 4  # spans dropped one at a time before the attempt gives up
MAX_ENTITIES = 200  # more: the styles are dropped, the words kept
MAX_STYLED_TEXT = 16_384  # characters; more (or one longer line), escaped as plain text
MAX_STYLED_LINE = 4_096


def _attempt(text: str, entities: list[Entity], markers: set[int]) -> str:
    """Render, re-parse and compare; drop one style at a time until the parse matches."""
    dropped: set[int] = set()  # indexes into the depth-first list of spans
    for _ in range(min(len(entities), MAX_TRIES) + 1):
        spans = _spans(text, entities)  # fresh each try: rendering clips span bounds
        flat = _all_spans(spans)
        writer = _Writer(text, {id(flat[i]) for i in dropped}, markers)
        md = _fix_lines(writer.render(spans, 0, len(text)), keep_list_markers=bool(markers))
        fresh = _spans(text, entities)
        for i, span in enumerate(_all_spans(fresh)):
            if i in dropped:
                span.kind = "dropped"
        want = _expected(text, fresh, markers)
        got = parsed_styles(md)
        if want == got:
            return md
        candidates = [i for i in range(len(flat)) if i not in dropped]
        if not candidates:
            break
        bad = next((k for k, (w, g) in enumerate(zip(want, got, strict=False)) if w != g), None)
        if bad is None:
            dropped.add(candidates[-1])
            continue
        visible = [i for i, ch in enumerate(text) if not ch.isspace() and i not in markers]
        at = visible[min(bad, len(visible) - 1)] if visible else 0
        fresh_flat = _all_spans(_spans(text, entities))
        covering = [i for i in candidates if fresh_flat[i].start <= at < fresh_flat[i].end]
        dropped.add(covering[0] if covering else candidates[0])
    raise _Unrenderable


class _Unrenderable(Exception):
    pass


def to_markdown(text: str, entities: list[Entity] | None = None, *, lists: bool = True) -> str:
    """Convert a Telegram text and its entities to CommonMark.

    With `lists`, lines that start with a list marker (-, *, +, •, 1.) stay list items so the
    message's own lists nest; everything else that could change structure is escaped.
    """
    if len(text) > MAX_STYLED_TEXT:
        return _escape_all(clean_text(text))
    entities = entities or []
    # Clean after mapping offsets: control characters count in Telegram's offsets too.
    if "\r" in text or clean_text(text) != text:
        text, entities = _clean_with_entities(text, entities, utf16_to_index(text))
    if max(map(len, text.split("\n"))) > MAX_STYLED_LINE:
        return _escape_all(text)
    if len(entities) > MAX_ENTITIES:
        entities = []
    markers = _list_markers(text) if lists else set()
    # styles and list kept; styles without the list; the list without the styles; neither
    for styled, listed in ((True, True), (True, False), (False, True), (False, False)):
        if (styled and not entities) or (listed and not markers):
            continue
        try:
            return _attempt(text, entities if styled else [], markers if listed else set())
        except _Unrenderable:
            pass
    return _escape_all(text)


def _escape_all(text: str) -> str:
    """Never lose a note over styling: every punctuation mark escaped is always literal."""
    # what _fix_lines would do, less its checks: no escaped line can start a block
    lines = (line.lstrip(" \t").rstrip() for line in text.translate(_ESCAPE_ALL).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


# every ASCII punctuation mark backslash-escaped (a table: one pass, no match objects)
_ESCAPE_ALL = {ord(ch): "\\" + ch for ch in map(chr, range(33, 127)) if not ch.isalnum()}


def _written_as_autolink(text: str, span: _Span) -> bool:
    """A url entity the writer emits as `<url>` (see _Writer.span)."""
    return (
        span.kind == "url"
        and not span.children
        and bool(_AUTOLINKABLE.match(text[span.start : span.end]))
    )


def _clean_with_entities(
    text: str, entities: list[Entity], table: list[int]
) -> tuple[str, list[Entity]]:
    """Drop control characters and CR while keeping entity offsets pointing at the same text."""
    new_chars: list[str] = []
    new16: list[int] = []  # python index in old text -> utf16 offset in new text
    pos16 = 0
    for i, ch in enumerate(text):
        new16.append(pos16)
        if ch == "\r":
            if i + 1 < len(text) and text[i + 1] == "\n":
                continue
            ch = "\n"
        if ch != "\n" and ch != "\t" and clean_text(ch) != ch:
            continue
        new_chars.append(ch)
        pos16 += 2 if ord(ch) > 0xFFFF else 1
    new16.append(pos16)
    moved = []
    for e in entities:
        a = table[min(max(e.offset, 0), len(table) - 1)]
        b = table[min(max(e.offset + e.length, 0), len(table) - 1)]
        na, nb = new16[a], new16[b]
        if nb > na:
            moved.append(Entity(e.type, na, nb - na, e.url, e.user_id, e.language))
    return "".join(new_chars), moved

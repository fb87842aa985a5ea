"""#tags in a note's markdown: the one extractor for the digest, /tags and /tag."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator

from bot.core.mdparser import unescape

MAX_TAG = 64
# Spans whose '#' is never a tag: code spans, URLs (scheme or www.), link destinations.
# Each is a single pass without nested quantifiers (see the field notes on backtracking).
_NOT_PROSE = re.compile(
    r"(?<!`)(`++)[^`\n]*+\1"  # possessive: a long run of backticks was quadratic
    r"|(?:[A-Za-z][A-Za-z0-9+.-]{0,20}://|www\.|mailto:)[^\s<>]*"
    r"|\]\([^)\s]*"
)
# a '#' glued to these is part of a word, an entity (&#38;), a path or a heading (##)
_GLUE = frozenset("_&/#\\")


def _tag_char(ch: str) -> bool:
    return ch in "_-" or unicodedata.category(ch)[0] in "LNM"


def _glued(prev: str) -> bool:
    """Whether the character before a '#' makes it part of a word (`C#`, `a#b`).

    Chinese and Japanese are written without spaces, so `今天#论文` is still a tag.
    """
    if prev in _GLUE:
        return True
    return prev.isalnum() and unicodedata.east_asian_width(prev) not in ("W", "F")


def hash_runs(text: str) -> Iterator[tuple[int, str]]:
    """Each '#' of `text` with the run of tag characters after it (trailing '-' left out),
    in order: what could be a tag, before the rules of find_tags."""
    start = text.find("#")
    while start != -1:
        end = start + 1
        while end < len(text) and _tag_char(text[end]):
            end += 1
        yield start, text[start + 1 : end].rstrip("-")
        start = text.find("#", end)


def find_tags(text: str) -> list[str]:
    """The #tags of a note's markdown, in order, as written (duplicates kept).

    A tag is `#` and a run of Unicode letters, digits, marks, `_` or `-` with at least one
    letter (`#日知录`, `#ScanNet`, `#3D`; not `#1` or `#2021`), not glued to a word before it,
    and outside code spans, URLs (`https://x.org/a#frag`) and link destinations.
    """
    prose = unescape(_NOT_PROSE.sub(" ", text))
    return [
        name
        for start, name in hash_runs(prose)
        if name
        and len(name) <= MAX_TAG
        and not _glued(prose[start - 1] if start else " ")
        and any(unicodedata.category(ch)[0] == "L" for ch in name)
    ]


def tag_key(name: str) -> str:
    """What makes two spellings the same tag (`#ScanNet` and `#scannet`)."""
    return unicodedata.normalize("NFKC", name).casefold()


def has_tag(text: str, name: str) -> bool:
    key = tag_key(name.removeprefix("#"))
    return any(tag_key(t) == key for t in find_tags(text))


def count_tags(texts: Iterable[str]) -> list[tuple[str, int]]:
    """Every tag with the number of notes that carry it, most used first (then by name).

    Spellings that differ only in case count as one tag, shown as its most common spelling.
    """
    notes: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for text in texts:
        seen: set[str] = set()
        for tag in find_tags(text):
            key = tag_key(tag)
            spellings.setdefault(key, Counter())[tag] += 1
            if key not in seen:
                seen.add(key)
                notes[key] += 1
    shown = {
        key: min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        for key, counts in spellings.items()
    }
    return sorted(
        ((shown[k], n) for k, n in notes.items()), key=lambda tn: (-tn[1], tag_key(tn[0]))
    )

"""What changed between two versions of an exported post, said in one commit subject line."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_HEADING = re.compile(r"#{1,6} (.+)")
_ITEM = re.compile(r" *(?:[*+-]|\d{1,9}[.)])(?: .*)?")
_SHOWN_DAYS = 3


def _items(text: str) -> dict[str, Counter[str]]:
    """Each heading's list items (whole marker lines, indentation kept), counted; the front
    matter's lines (its `- tag` lists) are not notes."""
    lines = text.split("\n")
    if lines[0] == "---" and "---" in lines[1:]:
        lines = lines[lines.index("---", 1) + 1 :]
    out: dict[str, Counter[str]] = {}
    current = out.setdefault("", Counter())
    for line in lines:
        heading = _HEADING.fullmatch(line)
        if heading is not None:
            current = out.setdefault(heading.group(1).strip(), Counter())
        elif _ITEM.fullmatch(line):
            current[line] += 1
    return out


@dataclass
class _Tally:
    count: int = 0
    where: list[str] | None = None

    def add(self, n: int, heading: str) -> None:
        self.count += n
        if self.where is None:
            self.where = []
        if heading:
            self.where.append(heading)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _on(where: list[str] | None) -> str:
    days = where or []
    if not days:
        return ""
    shown = ", ".join(days[:_SHOWN_DAYS])
    more = len(days) - _SHOWN_DAYS
    return f" on {shown}" + (f" and {_plural(more, 'more day')}" if more > 0 else "")


def commit_subject(old: str, new: str, media: int = 0) -> str:
    """`journal: 3 new notes on 2026-11-29`: what a post's new version adds, changes and
    removes, by day heading in the post's order; then how many media files came with it."""
    before, after = _items(old), _items(new)
    added, changed, removed = _Tally(), _Tally(), _Tally()
    for heading in list(after) + [h for h in before if h not in after]:
        was, now = before.get(heading, Counter()), after.get(heading, Counter())
        plus, minus = sum((now - was).values()), sum((was - now).values())
        edits = min(plus, minus)
        for tally, n in ((added, plus - edits), (changed, edits), (removed, minus - edits)):
            if n:
                tally.add(n, heading)
    parts = []
    if added.count:
        parts.append(f"{_plural(added.count, 'new note')}{_on(added.where)}")
    if changed.count:
        parts.append(f"{_plural(changed.count, 'note')} changed{_on(changed.where)}")
    if removed.count:
        parts.append(f"{_plural(removed.count, 'note')} removed{_on(removed.where)}")
    if media:
        parts.append(_plural(media, "media file"))
    return "journal: " + ("; ".join(parts) if parts else "updated")

"""A message becomes notes: backdating prefixes, lists that nest, photos as images."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from bot.core.blocks import markdown_to_drafts
from bot.core.entities import Entity, to_markdown
from bot.core.notes import NoteDraft

_BACKDATE = re.compile(
    r"^\s*(yesterday|昨天|(\d{4})-(\d{1,2})-(\d{1,2}))\s*[:：]\s*", re.IGNORECASE
)


@dataclass(frozen=True)
class Backdate:
    """A day named at the start of a message, and how many UTF-16 units the prefix took."""

    day: date
    prefix_utf16: int
    prefix_chars: int


class BadBackdate(ValueError):
    """The message starts like a date prefix but names no real day."""


def find_backdate(text: str, today: date) -> Backdate | None:
    """`yesterday: …` or `2021-4-8: …` at the start of a message names the day it belongs to."""
    m = _BACKDATE.match(text)
    if not m:
        return None
    if m.group(2) is None:
        day = today - timedelta(days=1)
    else:
        try:
            day = date(int(m.group(2)), int(m.group(3)), int(m.group(4)))
        except ValueError as exc:
            raise BadBackdate(m.group(1)) from exc
    prefix = m.group(0)
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in prefix)
    return Backdate(day=day, prefix_utf16=units, prefix_chars=len(prefix))


def strip_prefix(text: str, entities: list[Entity], bd: Backdate) -> tuple[str, list[Entity]]:
    """Remove a backdate prefix and shift entity offsets to match."""
    shifted: list[Entity] = []
    for e in entities:
        start = max(e.offset - bd.prefix_utf16, 0)
        end = e.offset + e.length - bd.prefix_utf16
        if end > start:
            shifted.append(Entity(e.type, start, end - start, e.url, e.user_id, e.language))
    return text[bd.prefix_chars :], shifted


def message_notes(text: str, entities: list[Entity] | None = None) -> list[NoteDraft]:
    """Notes for one message: the first paragraph is the bullet, its list items nest under it.

    A message that starts with a list gives one bullet per top-level item.
    """
    md = to_markdown(text, entities or [], lists=True)
    if not md.strip():
        return []
    drafts = markdown_to_drafts(md)
    lead: list[str] = []
    rest: list[NoteDraft] = []
    for d in drafts:
        if d.kind == "block" and not rest:
            lead.append(d.text)
        else:
            if d.kind == "block":
                d = NoteDraft(text=d.text)
            rest.append(d)
    if lead:
        return [NoteDraft(text="\n\n".join(lead), children=rest)]
    return rest


def image_markdown(url: str) -> str:
    """`![](url)`, as the sample writes images; the URL made safe for CommonMark."""
    safe_url = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"![]({safe_url})"


_BARE_IMAGE = re.compile(r"!\[\]\([^()\s]*\)")


def is_bare_image(text: str) -> bool:
    """A note that is only an image (a photo sent without a caption)."""
    return bool(_BARE_IMAGE.fullmatch(text))


def photo_notes(url: str, caption: list[NoteDraft]) -> list[NoteDraft]:
    """A photo: its image as a bullet of its own, under the caption when there is one.

    The sample nests images under the bullet that talks about them; an album's other
    photos later join the same caption (see Journal.add_message).
    """
    image = NoteDraft(text=image_markdown(url))
    if not caption:
        return [image]
    head, *rest = caption
    return [replace(head, children=[image, *head.children]), *rest]

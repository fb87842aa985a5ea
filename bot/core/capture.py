"""A message becomes notes: one pure plan decides the day, the notes, the image and refusals."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Literal

from bot import texts
from bot.core.blocks import markdown_to_drafts
from bot.core.days import journal_day, zone
from bot.core.entities import FORMATTING, MAX_STYLED_LINE, MAX_STYLED_TEXT, Entity, to_markdown
from bot.core.kinds import (
    MAX_DOWNLOAD,
    SNIFF_BYTES,
    Extra,
    FileFacts,
    Origin,
    extra_line,
    file_line,
    file_path,
    image_extension,
    origin_text,
    safe_url,
    size_text,
    thumbnail_path,
)
from bot.core.notes import NoteDraft
from bot.core.sanitize import neutralize

__all__ = ["MAX_DOWNLOAD", "SNIFF_BYTES", "image_extension"]  # the media adapter's imports

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
    return plain_notes(text, entities) or parsed_notes(text, entities)


# A line markdown-it reads as its own words and nothing else: it starts with a letter, a digit
# or an emoji (a digit not as a list's `1.` or `1)`), does not end in a space, and holds no
# mark that could open an inline construct (escapes, code, emphasis, strikethrough, links,
# images, HTML, entities, tables) or a block. test_plain_notes_are_the_parsed_notes holds it
# to the parsing path.
_WORD = r"[^\W_]|[\u2600-\u27bf\U0001f000-\U0001faff]"
_MARK = r"[ ,.;:?!'\"()/%$@=+#\-—–…‘’“”«»，。！？：；（）、\ufe0f]"
_PLAIN_LINE = re.compile(rf"(?!\d+[.)](?: |$))(?:{_WORD})(?:{_WORD}|{_MARK})*(?<! )")
# a percent escape: where linkify finds a bare link around it (`www.a.org/%41`), markdown-it
# shows it decoded, so the converter escapes the link's words; the parsing path decides
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def plain_notes(text: str, entities: list[Entity] | None = None) -> list[NoteDraft] | None:
    """A message of plain words (no styles, no markdown marks, no blank line): its one note,
    as parsed_notes() gives it but without markdown-it's two parses; None for any other."""
    if len(text) > MAX_STYLED_LINE or any(e.type in FORMATTING for e in entities or ()):
        return None
    if not all(_PLAIN_LINE.fullmatch(line) for line in text.split("\n")):
        return None
    if _PERCENT_ESCAPE.search(text):
        return None
    return [NoteDraft(text=neutralize(text))]


def parsed_notes(text: str, entities: list[Entity] | None = None) -> list[NoteDraft]:
    """message_notes() by the full path: the entities rendered as markdown, checked by a
    parse, then read into notes by markdown-it."""
    md = to_markdown(text, entities or [], lists=True)
    if not md.strip():
        return []
    if len(text) > MAX_STYLED_TEXT:
        # escaped as plain text (inert: no structure to read), and not parsed: markdown-it
        # takes seconds over a long paragraph, and Telegram never sends a text this long
        return [NoteDraft(text=md)]
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
    return f"![]({safe_url(url)})"


_BARE_IMAGE = re.compile(r"!\[\]\([^()\s]*\)")


def is_bare_image(text: str) -> bool:
    """A note that is only an image (a photo sent without a caption)."""
    return bool(_BARE_IMAGE.fullmatch(text))


def photo_notes(url: str, caption: list[NoteDraft]) -> list[NoteDraft]:
    """A photo: its image as a bullet of its own, under the caption when there is one.

    The sample nests images under the bullet that talks about them; an album's other
    photos later join the same caption (see Journal.add_message).
    """
    return under_caption(NoteDraft(text=image_markdown(url)), caption)


def under_caption(item: NoteDraft, caption: list[NoteDraft]) -> list[NoteDraft]:
    """An image, file or place nests under the caption that talks about it (or stands alone)."""
    if not caption:
        return [item]
    head, *rest = caption
    return [replace(head, children=[item, *head.children]), *rest]


_PLAIN_START = re.compile(r"[^\s`~>|<]")


def with_origin(drafts: list[NoteDraft], origin: str) -> list[NoteDraft]:
    """A forward's first bullet starts with where it came from; a bullet that starts with
    markup of its own (a code block, a quote, an image) gets the origin as a bullet above it."""
    head, *rest = drafts
    if head.kind == "item" and _PLAIN_START.match(head.text):
        return [replace(head, text=f"{origin}: {head.text}"), *rest]
    return [NoteDraft(text=origin, children=drafts)]


@dataclass(frozen=True)
class Image:
    """A photo (its largest size) or an image document, as the message names it."""

    file_id: str
    unique_id: str
    size: int | None = None
    document: bool = False
    file_name: str | None = None
    mime_type: str | None = None
    extension: str | None = None  # canonical, from the file's own bytes (image_extension)


@dataclass(frozen=True)
class MessageFacts:
    """What capture needs to know of a new message or an edit, free of Telegram's types."""

    sent_at: datetime
    text: str = ""
    entities: tuple[Entity, ...] = ()
    edit: bool = False
    edited_at: datetime | None = None
    image: Image | None = None
    reply_to: int | None = None
    album: str | None = None
    file: FileFacts | None = None
    extra: Extra | None = None
    origin: Origin | None = None
    over_quota: bool = False  # the file would pass the user's MEDIA_QUOTA_MB: not saved


@dataclass(frozen=True)
class Prefs:
    """The settings capture depends on: the user's zone, the day start, where images are served."""

    timezone: str
    day_starts_at: time
    media_url: str


@dataclass(frozen=True)
class Download:
    """An image to fetch once into MEDIA_DIR, to `path` relative to it."""

    file_id: str
    path: str


@dataclass(frozen=True)
class Capture:
    """Notes to store for a message: added as new, or replacing an earlier version of it."""

    day: date
    drafts: list[NoteDraft]
    edit: bool
    at: datetime
    reply_to: int | None = None
    album: str | None = None
    download: Download | None = None
    file_download: Download | None = None  # a voice note, audio, video or document
    thumb_download: Download | None = None  # a video's preview picture


Reason = Literal["bad_backdate", "future", "empty"]


@dataclass(frozen=True)
class Refusal:
    """Nothing is stored; `quiet` when the user is not told (an edit keeps its last version)."""

    reason: Reason
    quiet: bool
    prefix: str = ""
    day: date | None = None


def media_path(image: Image, day: date) -> str:
    """Where an image lives under MEDIA_DIR: by month, named by Telegram's unique id."""
    safe_unique = re.sub(r"[^A-Za-z0-9_-]", "", image.unique_id) or "image"
    return f"{day:%Y}/{day:%m}/{safe_unique}{_extension(image)}"


def _extension(image: Image) -> str:
    if image.extension is not None:
        return image.extension
    if not image.document:
        return ".jpg"
    if image.file_name and "." in image.file_name:
        ext = "." + image.file_name.rsplit(".", 1)[1].lower()
        if re.fullmatch(r"\.[a-z0-9]{1,5}", ext):
            return ext
    subtype = (image.mime_type or "image/jpeg").split("/")[-1].lower()
    return "." + (re.sub(r"[^a-z0-9]", "", subtype)[:5] or "img")


# nothing a reader can see: whitespace, zero-width space/joiners, word joiner, BOM and
# variation selectors (a message of them alone would be stored as an invisible bullet)
_INVISIBLE = re.compile(r"[\s\u200b-\u200d\u2060\ufeff\ufe00-\ufe0f\U000e0100-\U000e01ef]*+")


def visible(text: str) -> bool:
    """Whether the text shows anything at all."""
    return _INVISIBLE.fullmatch(text) is None


def plan(facts: MessageFacts, prefs: Prefs) -> Capture | Refusal:
    """Everything capture decides, in one place: the day, the notes, and whether to store at all.

    The day is the journal day the message was sent on (an edit keeps its message's day),
    unless a prefix names an earlier one; a later one is refused.
    """
    quiet = facts.edit  # a refused edit leaves the stored version alone, without a word
    sent_day = journal_day(facts.sent_at, zone(prefs.timezone), prefs.day_starts_at)
    text, ents = facts.text, list(facts.entities)
    day = sent_day
    try:
        backdate = find_backdate(text, sent_day)
    except BadBackdate as exc:
        return Refusal("bad_backdate", quiet, prefix=exc.args[0])
    if backdate is not None:
        if backdate.day > sent_day:
            return Refusal("future", quiet, day=backdate.day)
        day = backdate.day
        text, ents = strip_prefix(text, ents, backdate)
    drafts = message_notes(text, ents) if visible(text) else []
    download = None
    if facts.image is not None:
        size = facts.image.size
        if size is not None and size > MAX_DOWNLOAD:  # never fetched: the caption stays
            why = texts.FILE_TOO_LARGE.format(size=f" {size_text(size)}")
            drafts = under_caption(NoteDraft(text=f"{texts.PHOTO} ({why})"), drafts)
        elif facts.over_quota:
            why = texts.FILE_OVER_QUOTA.format(size="")
            drafts = under_caption(NoteDraft(text=f"{texts.PHOTO} ({why})"), drafts)
        else:
            download = Download(facts.image.file_id, media_path(facts.image, day))
            drafts = photo_notes(prefs.media_url + download.path, drafts)
    file_download = thumb_download = None
    if facts.file is not None:
        file_download, thumb_download, item = _file_item(facts, prefs, day)
        drafts = under_caption(item, drafts)
    if facts.extra is not None:
        drafts = under_caption(NoteDraft(text=extra_line(facts.extra)), drafts)
    if not drafts:
        return Refusal("empty", quiet)
    if facts.origin is not None:
        drafts = with_origin(drafts, origin_text(facts.origin, prefs.timezone))
    at = facts.edited_at if facts.edit and facts.edited_at else facts.sent_at
    # only a new photo joins its album's caption; forwards sent together stay apart
    album = None if facts.edit or facts.origin is not None else facts.album
    return Capture(
        day, drafts, facts.edit, at, facts.reply_to, album, download, file_download, thumb_download
    )


def _file_item(
    facts: MessageFacts, prefs: Prefs, day: date
) -> tuple[Download | None, Download | None, NoteDraft]:
    """A file's bullet, and what to fetch for it: nothing when it is over the download limit
    or the user's quota (the bullet says which)."""
    f = facts.file
    assert f is not None
    thumbs: list[NoteDraft] = []
    thumb_download = download = None
    if f.thumbnail is not None and f.thumbnail.extension is not None and not facts.over_quota:
        thumb_download = Download(f.thumbnail.file_id, thumbnail_path(f.thumbnail, day))
        thumbs.append(NoteDraft(text=image_markdown(prefs.media_url + thumb_download.path)))
    if f.too_large or facts.over_quota:
        why = texts.FILE_TOO_LARGE if f.too_large else texts.FILE_OVER_QUOTA
        line = file_line(f, None, why)
    else:
        download = Download(f.file_id, file_path(f, day))
        line = file_line(f, prefs.media_url + download.path)
    return download, thumb_download, NoteDraft(text=line, children=thumbs)

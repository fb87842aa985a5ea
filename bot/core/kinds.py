"""Every other kind of message as a bullet: files, places, contacts, stickers, polls, forwards."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from bot import texts
from bot.core.entities import escape_inline

MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile's limit
SNIFF_BYTES = 64  # enough of a file's head for image_extension and file_extension

FileKind = Literal["voice", "audio", "video", "video_note", "animation", "document"]


@dataclass(frozen=True)
class Thumbnail:
    """A video's preview picture, as Telegram sends it; `extension` from its own bytes."""

    file_id: str
    unique_id: str
    size: int | None = None
    extension: str | None = None


@dataclass(frozen=True)
class FileFacts:
    """A voice note, audio, video, video note, animation or document a message carries."""

    kind: FileKind
    file_id: str
    unique_id: str
    size: int | None = None
    duration: int | None = None
    file_name: str | None = None
    mime_type: str | None = None
    title: str | None = None  # audio: "Performer – Title" when the file names them
    thumbnail: Thumbnail | None = None
    extension: str | None = None  # judged from the fetched bytes (file_extension)

    @property
    def too_large(self) -> bool:
        """Over getFile's limit: never fetched, the bullet says so."""
        return self.size is not None and self.size > MAX_DOWNLOAD


@dataclass(frozen=True)
class Place:
    """A location, or a venue (a location with a name and an address)."""

    latitude: float
    longitude: float
    title: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class Contact:
    """A shared contact: only the name is kept."""

    first_name: str
    last_name: str | None = None


@dataclass(frozen=True)
class Sticker:
    """A sticker: its emoji is the note."""

    emoji: str | None = None


@dataclass(frozen=True)
class Poll:
    """A poll or quiz: the question and its options."""

    question: str
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dice:
    """A dice throw (🎲 🎯 🏀 ⚽ 🎳 🎰) and what it showed."""

    emoji: str
    value: int


Extra = Place | Contact | Sticker | Poll | Dice

OriginKind = Literal["user", "hidden", "chat", "channel"]


@dataclass(frozen=True)
class Origin:
    """Where a forwarded message came from, and when it was first sent."""

    kind: OriginKind
    date: datetime
    name: str = ""
    username: str | None = None  # a public chat or channel
    message_id: int | None = None  # the post in that channel


# ------------------------------------------------------------------ files on disk

_HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"heif"})


def image_extension(head: bytes) -> str | None:
    """The canonical extension of an image judged by its first bytes, or None if not one.

    The sender's name and MIME type are only claims: an SVG or an HTML page declared as an
    image must not land in MEDIA_DIR (which the site serves) as something a browser runs.
    """
    if head.startswith(b"\xff\xd8"):
        return ".jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if head[:6] in {b"GIF87a", b"GIF89a"}:
        return ".gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    if head[4:8] == b"ftyp":
        if head[8:12] in _HEIC_BRANDS:
            return ".heic"
        if head[8:12] in _HEIF_BRANDS:
            return ".heif"
    return None


_MARKUP = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<", re.IGNORECASE)
_ZIP_KINDS = frozenset({".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".epub", ".zip"})
# names whose content is shown as text or downloaded, never run, by a static web server
_TEXT_KINDS = frozenset(
    {".csv", ".tsv", ".json", ".log", ".tex", ".bib", ".yaml", ".yml", ".toml", ".ini",
     ".py", ".ipynb", ".c", ".h", ".cpp", ".rs", ".go", ".java", ".diff", ".patch", ".srt"}
)  # fmt: skip


def _claimed(file_name: str | None) -> str | None:
    if not file_name or "." not in file_name:
        return None
    ext = "." + file_name.rsplit(".", 1)[1].lower()
    return ext if re.fullmatch(r"\.[a-z0-9]{1,5}", ext) else None


def file_extension(head: bytes, file_name: str | None = None) -> str:
    """The extension a fetched file is saved with, judged by its first bytes.

    Only formats a web server serves as something inert keep a real extension; markup
    (HTML, SVG, XML) is never saved under a name a browser would render, and anything
    unrecognised is `.bin` (a download).
    """
    image = image_extension(head)
    if image is not None:
        return image
    claimed = _claimed(file_name)
    if head.startswith(b"%PDF-"):
        return ".pdf"
    if head.startswith(b"OggS"):
        return ".ogg"
    if head.startswith(b"fLaC"):
        return ".flac"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return ".mp3"
    if head[:4] == b"RIFF" and head[8:12] in {b"WAVE", b"AVI "}:
        return ".wav" if head[8:12] == b"WAVE" else ".avi"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in {b"M4A ", b"M4B "}:
            return ".m4a"
        return ".mov" if brand == b"qt  " else ".mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return ".mkv" if claimed == ".mkv" else ".webm"
    if head.startswith(b"PK\x03\x04"):
        return claimed if claimed in _ZIP_KINDS else ".zip"
    if head.startswith((b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!")):
        return {b"\x1f": ".gz", b"7": ".7z", b"R": ".rar"}[head[:1]]
    if claimed in _TEXT_KINDS:
        return ".txt" if _MARKUP.match(head) else claimed
    return ".bin"


def _slug(file_name: str | None) -> str:
    stem = (file_name or "").rsplit(".", 1)[0] if "." in (file_name or "") else file_name or ""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-")[:40]
    return f"-{slug}" if slug else ""


def file_path(f: FileFacts, day: date) -> str:
    """Where a file lives under MEDIA_DIR: by month, named by Telegram's unique id (so a
    redelivery lands on the same file), with an ASCII hint of the document's name."""
    safe_unique = re.sub(r"[^A-Za-z0-9_-]", "", f.unique_id) or "file"
    hint = _slug(f.file_name) if f.kind in {"document", "audio"} else ""
    return f"{day:%Y}/{day:%m}/{safe_unique}{hint}{f.extension or '.bin'}"


def thumbnail_path(t: Thumbnail, day: date) -> str:
    """Where a video's preview picture lives under MEDIA_DIR."""
    safe_unique = re.sub(r"[^A-Za-z0-9_-]", "", t.unique_id) or "thumb"
    return f"{day:%Y}/{day:%m}/{safe_unique}{t.extension or '.jpg'}"


# ------------------------------------------------------------------ the bullet's text


def duration(seconds: int) -> str:
    """0:42, 3:05, 1:02:03."""
    h, rest = divmod(max(seconds, 0), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02}:{s:02}" if h else f"{m}:{s:02}"


def size_text(size: int) -> str:
    """512 B, 340 KB, 1.2 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def safe_url(url: str) -> str:
    """A link target CommonMark reads whole: no space or parenthesis left bare."""
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def link(label: str, url: str) -> str:
    """`[label](url)` with the label already markdown."""
    return f"[{label}]({safe_url(url)})"


def _file_label(f: FileFacts) -> str:
    length = duration(f.duration or 0)
    if f.kind in {"voice", "video_note"}:
        return length
    if f.kind == "document":
        return escape_inline(f.file_name or texts.THE_FILE)
    name = escape_inline(f.title or f.file_name or "")
    if f.kind == "animation":
        return name or texts.KIND_GIF
    return f"{name} {length}" if name else length


def file_line(f: FileFacts, url: str | None, why_not: str | None = None) -> str:
    """The bullet for a file: an icon, its link (or why it was not saved), and its size
    when that says something (documents, and files that were not saved)."""
    label = _file_label(f)
    line = f"{texts.FILE_ICONS[f.kind]} {link(label, url) if url is not None else label}"
    if why_not is not None:
        size = f" {size_text(f.size)}" if f.size is not None else ""
        return f"{line} ({why_not.format(size=size)})"
    if f.kind == "document" and f.size is not None:
        line += f" ({size_text(f.size)})"
    return line


def osm_url(latitude: float, longitude: float) -> str:
    """An OpenStreetMap link with a marker at the place."""
    lat, lon = f"{latitude:.5f}", f"{longitude:.5f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"


def extra_line(extra: Extra) -> str:
    """The bullet for a place, contact, sticker, poll or dice (markdown)."""
    if isinstance(extra, Place):
        url = osm_url(extra.latitude, extra.longitude)
        if extra.title:
            line = texts.KIND_PLACE.format(place=link(escape_inline(extra.title), url))
            return f"{line}, {escape_inline(extra.address)}" if extra.address else line
        coords = f"{extra.latitude:.5f}, {extra.longitude:.5f}"
        return texts.KIND_PLACE.format(place=link(coords, url))
    if isinstance(extra, Contact):
        name = " ".join(p for p in (extra.first_name, extra.last_name) if p)
        return texts.KIND_CONTACT.format(name=escape_inline(name))
    if isinstance(extra, Sticker):
        return extra.emoji or texts.KIND_STICKER
    if isinstance(extra, Poll):
        options = " / ".join(escape_inline(o) for o in extra.options)
        return texts.KIND_POLL.format(question=escape_inline(extra.question), options=options)
    return texts.KIND_DICE.format(emoji=extra.emoji, value=extra.value)


def origin_text(origin: Origin, timezone: str) -> str:
    """`↪ Name, 2021-04-08`: who first sent a forwarded message (a link to a public
    channel's post), and the day, in the user's zone."""
    if origin.kind == "hidden":
        who = texts.FORWARD_HIDDEN
    else:
        who = escape_inline(" ".join(origin.name.split()) or texts.FORWARD_HIDDEN)
        if origin.username and re.fullmatch(r"[A-Za-z0-9_]{4,32}", origin.username):
            post = f"/{origin.message_id}" if origin.message_id else ""
            who = link(who, f"https://t.me/{origin.username}{post}")
    day = origin.date.astimezone(ZoneInfo(timezone)).date().isoformat()
    return texts.FORWARD.format(who=who, day=day)


def media_paths(note_texts: list[str], media_url: str) -> set[str]:
    """The files under MEDIA_DIR that notes link to (paths relative to it): what a user's
    media quota counts."""
    found: set[str] = set()
    pattern = re.compile(r"\]\(" + re.escape(media_url) + r"([A-Za-z0-9_./-]+)\)")
    for text in note_texts:
        for m in pattern.finditer(text):
            path = m.group(1)
            if ".." not in path.split("/") and not path.startswith("/"):
                found.add(path)
    return found

"""Media a note links to under MEDIA_DIR, and its links pointed at where an export puts them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote

from bot.core.mdparser import parser

# one path segment of a media file: what capture writes (2021/04/AgADbig.jpg) and nothing a
# file system or a shell reads specially (no dot first, so no `..`, `.incoming` or dotfile)
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")
_MAX_DEPTH = 8


def path_under_media(url: str, media_url: str) -> str | None:
    """The path under MEDIA_DIR a link's URL names, or None: elsewhere, or not a safe name."""
    if not url.startswith(media_url):
        return None
    rel = unquote(url[len(media_url) :])
    parts = rel.split("/")
    if len(parts) > _MAX_DEPTH or not all(_SEGMENT.fullmatch(part) for part in parts):
        return None
    return rel


def _targets(text: str) -> Iterator[str]:
    """Each image source and link target of a note, as markdown-it reads them."""
    for token in parser(front_matter=False).parse(text):
        for child in token.children or ():
            if child.type == "image":
                yield str(child.attrGet("src") or "")
            elif child.type == "link_open":
                yield str(child.attrGet("href") or "")


def references(text: str, media_url: str) -> list[str]:
    """The media files (paths under MEDIA_DIR) a note links to or shows, in order, once each.

    Only real links and images count: a path in inline code or in plain text is not one.
    """
    if media_url not in text or "](" not in text:
        return []  # no parse for the (many) notes without a link into MEDIA_DIR
    found: list[str] = []
    for url in _targets(text):
        rel = path_under_media(url, media_url)
        if rel is not None and rel not in found:
            found.append(rel)
    return found


_TITLE = r"""(?:\s+(?:"[^"\n]*"|'[^'\n]*'|\([^)\n]*\)))?"""


def relink(text: str, media_url: str, rel: str, new_url: str) -> str:
    """`text` with every link target `media_url + rel` replaced by `new_url`."""
    old = re.escape(media_url + rel)
    return re.sub(rf"(\]\(\s*<?){old}(?=[\s)>])", lambda m: m.group(1) + new_url, text)


def embed(text: str, media_url: str, rel: str, name: str) -> str:
    """Obsidian: each image of `media_url + rel` as the embed `![[name]]`; links to it by name."""
    old = re.escape(media_url + rel)
    image = re.compile(rf"!\[[^\]\n]*\]\(\s*<?{old}>?{_TITLE}\s*\)")
    return relink(image.sub(lambda _m: f"![[{name}]]", text), media_url, rel, name)


def flat_name(rel: str) -> str:
    """One file name for a media path (2021/04/x.jpg → 2021-04-x.jpg): attachments side by side."""
    return rel.replace("/", "-")


def site_url(prefix: str, rel: str) -> str:
    """The link to a copied file: the site's prefix (`/assets/journal`) and its path."""
    prefix = prefix.rstrip("/")
    return f"{prefix}/{rel}" if prefix else rel

"""Photos and image documents: downloaded once into MEDIA_DIR, named by Telegram's unique id."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

from telegram import Message
from telegram.ext import ExtBot

MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile's limit


class TooBig(Exception):
    """The file is larger than the Bot API lets a bot download."""


def _extension(message: Message) -> str:
    doc = message.document
    if doc is None:
        return ".jpg"
    if doc.file_name and "." in doc.file_name:
        ext = "." + doc.file_name.rsplit(".", 1)[1].lower()
        if re.fullmatch(r"\.[a-z0-9]{1,5}", ext):
            return ext
    subtype = (doc.mime_type or "image/jpeg").split("/")[-1].lower()
    return "." + re.sub(r"[^a-z0-9]", "", subtype)[:5] or ".img"


async def save_image(bot: ExtBot[None], message: Message, media_dir: Path, day: date) -> str:
    """Download the image (unless already there); return its path relative to MEDIA_DIR."""
    if message.photo:
        item = message.photo[-1]
        file_id, unique, size = item.file_id, item.file_unique_id, item.file_size
    elif message.document is not None:
        doc = message.document
        file_id, unique, size = doc.file_id, doc.file_unique_id, doc.file_size
    else:
        raise ValueError("message has no image")
    if size is not None and size > MAX_DOWNLOAD:
        raise TooBig
    safe_unique = re.sub(r"[^A-Za-z0-9_-]", "", unique) or "image"
    rel = f"{day:%Y}/{day:%m}/{safe_unique}{_extension(message)}"
    path = media_dir / rel
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tg_file = await bot.get_file(file_id)  # its file_path embeds the token: never log it
        partial = path.with_name(path.name + ".part")
        await tg_file.download_to_drive(partial)
        with partial.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, path)
    return rel

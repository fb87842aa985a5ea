"""Photos and image documents: fetched, judged by their bytes, then placed in MEDIA_DIR."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from telegram.ext import ExtBot

from bot.core.capture import SNIFF_BYTES, image_extension

INCOMING = ".incoming"  # downloads not yet judged: never linked from a note


async def fetch(bot: ExtBot[None], file_id: str, media_dir: Path) -> Path:
    """Download a file to a fresh name under MEDIA_DIR/.incoming (fsynced); the caller places it."""
    incoming = media_dir / INCOMING
    incoming.mkdir(parents=True, exist_ok=True)
    tg_file = await bot.get_file(file_id)  # its file_path embeds the token: never log it
    partial = incoming / f"{uuid.uuid4().hex}.part"
    await tg_file.download_to_drive(partial)
    with partial.open("rb") as fh:
        os.fsync(fh.fileno())
    return partial


def sniff(path: Path) -> str | None:
    """The image's canonical extension from its bytes, or None when it is no image we keep."""
    with path.open("rb") as fh:
        return image_extension(fh.read(SNIFF_BYTES))


def place(partial: Path, path: Path) -> None:
    """Move a fetched file to its place, whole or not at all; a copy already there stays."""
    if path.exists():
        partial.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(partial, path)

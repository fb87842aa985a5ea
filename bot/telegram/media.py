"""Photos and other files: fetched, judged by their bytes, then placed in MEDIA_DIR."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from telegram.ext import ExtBot

from bot.core.capture import SNIFF_BYTES, image_extension
from bot.core.kinds import file_extension

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


def sniff_file(path: Path, file_name: str | None) -> str:
    """The extension a fetched voice note, video or document is saved with (by its bytes)."""
    with path.open("rb") as fh:
        return file_extension(fh.read(SNIFF_BYTES), file_name)


def used_bytes(media_dir: Path, paths: set[str]) -> int:
    """How many bytes the files under MEDIA_DIR at these relative paths take."""
    total = 0
    for rel in paths:
        try:
            total += (media_dir / rel).stat().st_size
        except OSError:
            continue  # linked but gone (moved, or never placed)
    return total


def place(partial: Path, path: Path) -> None:
    """Move a fetched file to its place, whole or not at all; a copy already there stays."""
    if path.exists():
        partial.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(partial, path)

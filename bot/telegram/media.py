"""Photos and image documents: downloaded once into MEDIA_DIR, where the capture plan says."""

from __future__ import annotations

import os
from pathlib import Path

from telegram.ext import ExtBot

from bot.core.capture import Download


async def download(bot: ExtBot[None], image: Download, media_dir: Path) -> None:
    """Fetch the image into MEDIA_DIR unless it is already there (written whole or not at all)."""
    path = media_dir / image.path
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tg_file = await bot.get_file(image.file_id)  # its file_path embeds the token: never log it
    partial = path.with_name(path.name + ".part")
    await tg_file.download_to_drive(partial)
    with partial.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(partial, path)

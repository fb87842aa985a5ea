"""Sending long texts: split under Telegram's limit on line boundaries, or as a file."""

from __future__ import annotations

import io

from telegram import Message

from bot import texts
from bot.core.chunks import split_message

MAX_PIECES = 4


async def send_long(message: Message, text: str, filename: str) -> None:
    """Reply with text split into pieces, or with a .md document when it is very long."""
    pieces = split_message(text)
    if len(pieces) <= MAX_PIECES:
        for piece in pieces:
            await message.reply_text(piece, do_quote=False)
        return
    data = io.BytesIO(text.encode("utf-8"))
    await message.reply_document(
        document=data, filename=filename, caption=texts.SENT_AS_FILE, do_quote=False
    )

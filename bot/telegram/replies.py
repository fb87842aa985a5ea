"""Sending long texts: split under Telegram's limit on line boundaries, or as a file."""

from __future__ import annotations

import html
import io
import logging

from telegram import LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot import texts
from bot.core.chunks import TELEGRAM_LIMIT, split_message
from bot.core.view import pack, plain, split_html

MAX_PIECES = 4
log = logging.getLogger(__name__)


async def send_long(message: Message, text: str, filename: str) -> None:
    """Reply with text split into pieces, or with a .md document when it is very long."""
    pieces = split_message(text)
    if len(pieces) <= MAX_PIECES:
        for piece in pieces:
            await message.reply_text(piece, do_quote=False)
        return
    await send_file(message, text, filename)


async def send_file(message: Message, text: str, filename: str) -> None:
    """Reply with the text as a .md document."""
    data = io.BytesIO(text.encode("utf-8"))
    await message.reply_document(
        document=data, filename=filename, caption=texts.SENT_AS_FILE, do_quote=False
    )


async def send_rich(
    message: Message, header: str, pieces: list[str], markdown: str, filename: str
) -> None:
    """Reply with HTML pieces (a day as bullets); the markdown as a file when very long.

    A piece too long for one message is cut at line breaks (or between words), each
    message closing the tags it opens: the chat never shows escaped markdown or half a tag.
    A piece Telegram refuses to parse goes out as plain text: the reader still gets it.
    """
    first = f"<b>{html.escape(header, quote=False)}</b>\n"  # a blank line after it
    limit = TELEGRAM_LIMIT - 96
    messages = pack([part for p in [first, *pieces] for part in split_html(p, limit)], limit)
    if messages is None or len(messages) > MAX_PIECES:
        await send_file(message, markdown, filename)
        return
    quiet = LinkPreviewOptions(is_disabled=True)
    for text in messages:
        try:
            await message.reply_text(
                text, parse_mode=ParseMode.HTML, link_preview_options=quiet, do_quote=False
            )
        except BadRequest as exc:
            log.warning("Telegram refused the day's HTML (%s); sent as plain text", exc)
            await message.reply_text(plain(text), link_preview_options=quiet, do_quote=False)

"""Long listings (/tag, /search) a page at a time, with a "More" button under each page."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackQueryHandler

from bot import texts
from bot.core.chunks import TELEGRAM_LIMIT
from bot.telegram.services import App, Context, Services, db, services

KIND = "page"  # what the actions table remembers for a page's button
USED = "page-used"
_DATA = re.compile(r"pg:([a-z]):([0-9]{1,7})")
ROOM = TELEGRAM_LIMIT - 500  # a page's items; the rest is for its head (a search's words) and tail


@dataclass(frozen=True)
class Page:
    """One page of a listing, and where the next one starts (None: this is the last)."""

    text: str
    next_offset: int | None


# (services, user id, query, offset) → the page at offset
Builder = Callable[[Services, int, str, int], Awaitable[Page]]


def fit(items: list[list[str]]) -> int:
    """How many items (each some lines) fit in one message, leaving room for a head and a
    tail; at least one (its lines are clipped long before they get this long)."""
    used = count = 0
    for item in items:
        used += sum(len(line) + 1 for line in item)
        if count and used > ROOM:
            break
        count += 1
    return count


async def send_page(
    message: Message, svc: Services, kind: str, query: str, page: Page, reply: bool = True
) -> None:
    """Send a page; with a next page, a "More" button, and the query remembered for it.

    The query stays in the database, not in the button: 64 bytes are too few for a tag in
    Chinese or a search for several words.
    """
    markup = None
    if page.next_offset is not None:
        data = f"pg:{kind}:{page.next_offset}"
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(texts.PAGE_MORE, callback_data=data)]])
    if reply:
        sent = await message.reply_text(page.text, reply_markup=markup, do_quote=False)
    else:
        sent = await message.get_bot().send_message(message.chat_id, page.text, reply_markup=markup)
    if markup is not None:
        remembered = json.dumps({"kind": kind, "query": query}, ensure_ascii=False)
        await db(svc.actions.remember, sent.chat_id, sent.message_id, KIND, remembered)


def register(app: App, builders: dict[str, Builder]) -> None:
    """Answer every "More" press: the next page as a new message, the button taken off."""

    async def more(update: Update, context: Context) -> None:
        press = update.callback_query
        assert press is not None and press.data is not None
        svc = services(context)
        match = _DATA.fullmatch(press.data)
        shown = press.message
        if match is None or match.group(1) not in builders or not isinstance(shown, Message):
            await press.answer()
            return
        kind, offset = match.group(1), int(match.group(2))
        raw = await db(svc.actions.recall, shown.chat_id, shown.message_id, KIND)
        stored = _stored(raw)
        if stored is None or stored[0] != kind:
            await press.answer(texts.PAGE_GONE)
            return
        await press.answer()
        page = await builders[kind](svc, press.from_user.id, stored[1], offset)
        # one press, one page: the button goes, and a second tap (sent before it went) is told
        await press.edit_message_reply_markup(None)
        await send_page(shown, svc, kind, stored[1], page, reply=False)
        await db(svc.actions.remember, shown.chat_id, shown.message_id, USED, "")

    app.add_handler(CallbackQueryHandler(more, pattern=r"^pg:"))


def _stored(raw: str | None) -> tuple[str, str] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    kind, query = value.get("kind"), value.get("query")
    return (kind, query) if isinstance(kind, str) and isinstance(query, str) else None

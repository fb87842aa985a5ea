"""/search: the notes that contain every word, newest day first."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot import texts
from bot.core.chunks import clip
from bot.core.mdparser import unescape
from bot.telegram.handlers.common import sender
from bot.telegram.paging import Page, fit, send_page
from bot.telegram.services import App, Context, Services, db
from storage.reader import Hit

SHOWN = 20
SEARCH = "s"  # the paging kind of /search
_TERM = re.compile(r'"([^"]+)"|(\S+)')


def search_terms(arg: str) -> list[str]:
    """Words, or "quoted phrases", at most ten of them."""
    terms = [(a or b).strip()[:100] for a, b in _TERM.findall(arg)]
    return [t for t in terms if t][:10]


def hit_line(hit: Hit, date_style: str) -> str:
    where = hit.days.label(date_style) if hit.days is not None else (hit.section or "preamble")
    first = next((line.strip() for line in hit.text.splitlines() if line.strip()), "")
    # shown as plain text: `\[ \]` reads as `[ ]`
    return f"{where} · {clip(unescape(first), 160)}"


async def page(svc: Services, user_id: int, arg: str, offset: int) -> Page:
    """A page of the notes that contain every word of `arg`, from `offset`."""
    terms = search_terms(arg)
    hits, total = await db(svc.reader.search, user_id, terms, SHOWN, offset)
    shown = " ".join(terms)[:200]
    if not hits:
        return Page(texts.SEARCH_NONE.format(words=shown), None)
    style = svc.settings.export_date_style
    lines = [hit_line(h, style) for h in hits]
    count = fit([[line] for line in lines])
    after = offset + count
    if offset == 0:
        head = (texts.SEARCH_ONE if total == 1 else texts.SEARCH_HEAD).format(
            total=total, words=shown
        )
    else:
        what = f"“{shown}”"
        head = texts.PAGE_HEAD.format(what=what, first=offset + 1, last=after, total=total)
    text = [head, "", *lines[:count]]
    if offset == 0 and total > after:
        text += ["", texts.SEARCH_MORE.format(more=total - after)]
    return Page("\n".join(text), after if after < total else None)


async def search(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    arg = " ".join(context.args or [])
    if not search_terms(arg):
        await message.reply_text(texts.SEARCH_USAGE)
        return
    await send_page(message, svc, SEARCH, arg, await page(svc, user.id, arg, 0))


def register(app: App) -> None:
    app.add_handler(CommandHandler("search", search, filters=filters.UpdateType.MESSAGE))

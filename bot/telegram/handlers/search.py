"""/search: the notes that contain every word, newest day first."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot import texts
from bot.core.chunks import clip
from bot.core.mdparser import unescape
from bot.telegram.handlers.common import sender
from bot.telegram.replies import send_long
from bot.telegram.services import Context, db
from storage.journal import Hit

SHOWN = 20
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


async def search(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    terms = search_terms(" ".join(context.args or []))
    if not terms:
        await message.reply_text(texts.SEARCH_USAGE)
        return
    hits, total = await db(svc.journal.search, user.id, terms, SHOWN)
    shown = " ".join(terms)[:200]
    if not hits:
        await message.reply_text(texts.SEARCH_NONE.format(words=shown))
        return
    head = texts.SEARCH_ONE if total == 1 else texts.SEARCH_HEAD
    lines = [head.format(total=total, words=shown), ""]
    lines += [hit_line(h, svc.settings.export_date_style) for h in hits]
    if total > len(hits):
        lines += ["", texts.SEARCH_MORE.format(more=total - len(hits))]
    await send_long(message, "\n".join(lines), filename="search.md")


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("search", search, filters=filters.UpdateType.MESSAGE))

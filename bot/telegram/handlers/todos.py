"""/todo: the open TODOs across the journal, ticked off with a button."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import texts
from bot.telegram.handlers.common import button_number, sender
from bot.telegram.handlers.search import hit_line
from bot.telegram.services import App, Context, Services, db, services

SHOWN = 10
PER_ROW = 5


def register(app: App) -> None:
    app.add_handler(CommandHandler("todo", todo, filters=filters.UpdateType.MESSAGE))
    app.add_handler(CallbackQueryHandler(tick, pattern=r"^td:"))


async def listing(svc: Services, user_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """The list's text and its buttons (one per TODO shown)."""
    todos = await db(svc.reader.open_todos, user_id)
    if not todos:
        return texts.TODO_NONE, None
    shown = todos[:SHOWN]
    style = svc.settings.export_date_style
    lines = [texts.TODO_HEAD.format(total=len(todos)), ""]
    lines += [f"{n}. {hit_line(hit, style)}" for n, hit in enumerate(shown, 1)]
    if len(todos) > SHOWN:
        lines += ["", texts.TODO_MORE.format(more=len(todos) - SHOWN)]
    buttons = [
        InlineKeyboardButton(f"✓ {n}", callback_data=f"td:{hit.note_id}")
        for n, hit in enumerate(shown, 1)
    ]
    rows = [buttons[i : i + PER_ROW] for i in range(0, len(buttons), PER_ROW)]
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def todo(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    text, markup = await listing(svc, user.id)
    await message.reply_text(text, reply_markup=markup)


async def tick(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    svc = services(context)
    note_id = button_number(query.data.removeprefix("td:"))
    if note_id is None:
        await query.answer()
        return
    # only the presser's own notes: set_done_by_id checks the owner
    done = await db(svc.notes.set_done_by_id, query.from_user.id, note_id, True)
    await query.answer(texts.TODO_TICKED.format(text=done[:150]) if done else texts.TODO_GONE)
    text, markup = await listing(svc, query.from_user.id)
    await query.edit_message_text(text, reply_markup=markup)  # unchanged: see errors.py

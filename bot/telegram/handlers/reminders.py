"""/remind, /digest, /week and the reminder's buttons."""

from __future__ import annotations

from datetime import date, timedelta

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import texts
from bot.core.days import WEEKDAYS, parse_date
from bot.core.digest import digest_for, weekly_digest
from bot.core.periods import parse_iso_week
from bot.core.reminders import BadTime, parse_digest, parse_time_of_day
from bot.telegram.handlers.common import button_number, sender
from bot.telegram.replies import send_long
from bot.telegram.scheduling import (
    local_hhmm,
    schedule_user,
    snooze_until,
)
from bot.telegram.services import App, Context, db, services


def register(app: App) -> None:
    new = filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler("remind", remind, filters=new))
    app.add_handler(CommandHandler("digest", digest, filters=new))
    app.add_handler(CommandHandler("week", week, filters=new))
    app.add_handler(CallbackQueryHandler(button, pattern=r"^rz:"))


async def remind(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    arg = " ".join(context.args or []).strip().lower()
    if not arg:
        if user.reminder_time:
            mode = texts.REMIND_STATE_SKIP if user.reminder_mode == "skip" else ""
            state = f"{user.reminder_time} ({user.timezone}){mode}"
        else:
            state = texts.OFF
        await message.reply_text(texts.REMIND_STATE.format(state=state))
        return
    if arg in {"off", "none", "stop", "no"}:
        user = await db(svc.users.set_reminder, user.id, None)
        reply = texts.REMIND_OFF
    elif arg in {"skip", "always"}:
        user = await db(svc.users.set_reminder_mode, user.id, arg)
        reply = texts.REMIND_SKIP if arg == "skip" else texts.REMIND_ALWAYS
    else:
        try:
            at = parse_time_of_day(arg)
        except BadTime as exc:
            await message.reply_text(texts.REMIND_BAD.format(problem=str(exc)))
            return
        user = await db(svc.users.set_reminder, user.id, at.strftime("%H:%M"))
        mode = texts.REMIND_ON_SKIP if user.reminder_mode == "skip" else ""
        reply = texts.REMIND_ON.format(time=user.reminder_time, tz=user.timezone, mode=mode)
    schedule_user(context.application, svc, user)
    await message.reply_text(reply)


async def digest(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    args = [a.lower() for a in context.args or []]
    if not args:
        state = texts.OFF
        if user.digest_weekday is not None and user.digest_time:
            state = f"{WEEKDAYS[user.digest_weekday]} {user.digest_time} ({user.timezone})"
            state += texts.DIGEST_WITH_CHART if user.digest_chart else ""
        await message.reply_text(texts.DIGEST_STATE.format(state=state))
        return
    if args[0] in {"off", "none", "stop", "no"}:
        user = await db(svc.users.set_digest, user.id, None, None)
        schedule_user(context.application, svc, user)
        await message.reply_text(texts.DIGEST_OFF)
        return
    try:
        asked = parse_digest(args)
    except BadTime as exc:
        await message.reply_text(texts.DIGEST_BAD.format(problem=str(exc)))
        return
    at = asked.at.strftime("%H:%M")
    user = await db(svc.users.set_digest, user.id, asked.weekday, at, asked.chart)
    schedule_user(context.application, svc, user)
    chart = texts.DIGEST_WITH_CHART if asked.chart else ""
    day = WEEKDAYS[asked.weekday]
    await message.reply_text(
        texts.DIGEST_ON.format(day=day, time=user.digest_time, tz=user.timezone, chart=chart)
    )


async def week(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    arg = " ".join(context.args or []).strip()
    today = svc.today(user)
    style = svc.settings.export_date_style
    try:
        if not arg:
            text = await db(weekly_digest, svc.reader, user.id, today, style)
        elif arg.isdigit() and 1 <= int(arg) <= 520:
            text = await db(weekly_digest, svc.reader, user.id, today, style, int(arg))
        else:
            monday = parse_iso_week(arg)
            sunday = monday + timedelta(days=6)
            text = await db(digest_for, svc.reader, user.id, monday, sunday, today, style)
    except ValueError:
        await message.reply_text(texts.WEEK_BAD.format(arg=arg[:100]))
        return
    await send_long(message, text, filename=f"week-{today.isoformat()}.md")


async def button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    svc = services(context)
    user = await db(svc.users.get, query.from_user.id)
    parts = query.data.split(":")
    if user is None or len(parts) < 3:
        await query.answer()
        return
    asked = button_number(parts[2])
    if parts[1] == "snooze" and len(parts) == 4 and asked is not None:
        minutes = max(1, min(asked, 12 * 60))
        until = snooze_until(svc.clock.now(), minutes)
        user = await db(svc.users.snooze, user.id, until)
        schedule_user(context.application, svc, user)
        shown = texts.SNOOZED.format(time=local_hhmm(until, user.timezone))
        await query.answer(shown)
        await query.edit_message_text(shown)
        return
    if parts[1] == "done":
        try:
            day: date = parse_date(parts[2])
        except ValueError:
            await query.answer()
            return
        await db(svc.ledger.claim, user.id, day, "done", "done")
        user = await db(svc.users.snooze, user.id, None)
        schedule_user(context.application, svc, user)
        await query.answer(texts.DONE_FOR_TODAY)
        await query.edit_message_text(texts.DONE_FOR_TODAY)
        return
    await query.answer()

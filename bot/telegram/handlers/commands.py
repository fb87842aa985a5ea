"""Journal commands: /start /help /today /day /undo /done /tz /settings."""

from __future__ import annotations

from datetime import date

from telegram import Update

from bot import texts
from bot.core.days import WEEKDAYS, find_zones, format_date, parse_day_argument, zone
from bot.core.render import render_body
from bot.core.view import day_html
from bot.telegram.handlers.common import sender, user_of
from bot.telegram.replies import send_rich
from bot.telegram.scheduling import schedule_user
from bot.telegram.services import Context, Services, db, services
from storage.users import UserInfo


def _arg(context: Context) -> str:
    return " ".join(context.args or []).strip()


async def start(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    await message.reply_text(
        texts.WELCOME.format(
            tz=user.timezone, day_start=svc.settings.day_starts_at.strftime("%H:%M")
        )
    )


async def help_(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(texts.HELP)


async def _show_day(update: Update, svc: Services, user: UserInfo, day: date) -> None:
    message = update.effective_message
    assert message is not None
    notes = await db(svc.reader.day_notes, user.id, day)
    label = f"{format_date(day, svc.settings.export_date_style)} ({WEEKDAYS[day.weekday()]})"
    if not notes:
        await message.reply_text(texts.DAY_EMPTY.format(day=label))
        return
    body = "\n".join(render_body(notes))
    await send_rich(
        message, label, day_html(notes), f"{label}\n\n{body}", filename=f"{day.isoformat()}.md"
    )


async def today(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    svc = services(context)
    user = await user_of(svc, update.effective_message)
    await _show_day(update, svc, user, svc.today(user))


async def day(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    arg = _arg(context)
    try:
        wanted = parse_day_argument(arg or "today", svc.today(user))
    except ValueError:
        await message.reply_text(texts.BAD_DAY.format(arg=arg[:100]))
        return
    await _show_day(update, svc, user, wanted)


async def undo(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    removed = await db(svc.notes.undo_last, user.id, message.chat_id, message.message_id)
    if removed is None:
        await message.reply_text(texts.UNDO_NOTHING)
    else:
        await message.reply_text(texts.UNDO_DONE.format(text=removed[:3500]))


async def done(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None
    svc = services(context)
    await user_of(svc, message)
    target = message.reply_to_message
    if target is None:
        await message.reply_text(texts.DONE_NEEDS_REPLY)
        return
    reopen = _arg(context).lower() in {"off", "no", "undo", "open"}
    text = await db(svc.notes.set_done, message.chat_id, target.message_id, not reopen)
    if text is None:
        await message.reply_text(texts.DONE_NOT_FOUND)
        return
    template = texts.DONE_REOPENED if reopen else texts.DONE_MARKED
    await message.reply_text(template.format(text=text[:3500]))


async def tz(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    arg = _arg(context)
    now = svc.clock.now()
    if not arg:
        local = now.astimezone(zone(user.timezone)).strftime("%H:%M")
        await message.reply_text(texts.TZ_SHOW.format(tz=user.timezone, local=local))
        return
    found = find_zones(arg)
    if not found:
        await message.reply_text(texts.TZ_BAD.format(arg=arg[:100]))
        return
    if len(found) > 1:
        await message.reply_text(texts.TZ_WHICH.format(arg=arg[:100], zones="\n".join(found)))
        return
    new_zone = zone(found[0])
    user = await db(svc.users.set_timezone, user.id, new_zone.key)
    schedule_user(context.application, svc, user)
    local = now.astimezone(new_zone).strftime("%H:%M")
    await message.reply_text(texts.TZ_SET.format(tz=new_zone.key, local=local))


async def settings_(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    reminder = texts.OFF
    if user.reminder_time:
        mode = texts.SETTINGS_SKIP if user.reminder_mode == "skip" else ""
        reminder = f"{user.reminder_time}{mode}"
    digest = texts.OFF
    if user.digest_weekday is not None and user.digest_time:
        digest = f"{WEEKDAYS[user.digest_weekday][:3]} {user.digest_time}"
    notes = await db(svc.reader.count_notes, user.id)
    await message.reply_text(
        texts.SETTINGS.format(
            tz=user.timezone,
            day_start=svc.settings.day_starts_at.strftime("%H:%M"),
            reminder=reminder,
            digest=digest,
            notes=notes,
        )
    )

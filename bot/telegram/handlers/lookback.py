"""Looking back: /tags, /tag NAME (paged), /onthisday and /stats with its year heatmap."""

from __future__ import annotations

import asyncio
import calendar
import html
from datetime import date

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot import texts
from bot.core.days import WEEKDAYS, format_date
from bot.core.digest import one_line
from bot.core.lookback import (
    BadYear,
    Summary,
    month_days,
    stats_year,
    summarize,
)
from bot.core.render import render_body
from bot.core.tags import count_tags, find_tags
from bot.core.view import day_html
from bot.telegram.handlers.common import sender
from bot.telegram.paging import Page, fit, send_page
from bot.telegram.pictures import last_year_picture, render, user_counts
from bot.telegram.replies import send_long, send_rich
from bot.telegram.services import App, Context, Services, db
from storage.lookback import Lookback

TAG_PAGE = 15  # notes per page of /tag
TAG = "t"  # the paging kind of /tag


def register(app: App) -> None:
    for name, callback in (
        ("tags", tags),
        ("tag", tag),
        ("onthisday", onthisday),
        ("stats", stats),
    ):
        app.add_handler(CommandHandler(name, callback, filters=filters.UpdateType.MESSAGE))


def _arg(context: Context) -> str:
    return " ".join(context.args or []).strip()


async def tags(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    texts_ = await db(Lookback(svc.engine).tagged_texts, user.id)
    counted = await asyncio.to_thread(count_tags, texts_)
    if not counted:
        await message.reply_text(texts.TAGS_NONE)
        return
    lines = [texts.TAGS_HEAD.format(count=len(counted)), ""]
    lines += [f"#{name} ×{n}" for name, n in counted]
    await send_long(message, "\n".join(lines), filename="tags.md")


async def tag_page(svc: Services, user_id: int, name: str, offset: int) -> Page:
    """A page of a tag's notes, grouped under their days, newest first."""
    hits, total = await db(Lookback(svc.engine).tagged, user_id, name, offset, TAG_PAGE)
    if not hits:
        return Page(texts.TAG_NONE.format(tag=name), None)
    style = svc.settings.export_date_style
    items: list[list[str]] = []
    heading = None
    for hit in hits:
        where = hit.days.label(style) if hit.days is not None else (hit.section or "preamble")
        item = [] if where == heading else ["", where]
        heading = where
        items.append([*item, f"• {one_line(hit.text)}"])
    count = fit(items)
    after = offset + count
    if offset == 0:
        head = (texts.TAG_ONE if total == 1 else texts.TAG_HEAD).format(tag=name, total=total)
    else:
        head = texts.PAGE_HEAD.format(what=f"#{name}", first=offset + 1, last=after, total=total)
    lines = [head] + [line for item in items[:count] for line in item]
    return Page("\n".join(lines), after if after < total else None)


async def tag(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    arg = _arg(context)
    # `/tag #日知录`, `/tag 日知录` and `/tag ScanNet,` all mean the tag
    found = find_tags(arg if arg.startswith("#") else f"#{arg}")
    if not found:
        await message.reply_text(texts.TAG_USAGE)
        return
    name = found[0]
    await send_page(message, svc, TAG, name, await tag_page(svc, user.id, name, 0))


def _years_ago(years: int) -> str:
    return texts.YEAR_AGO if years == 1 else texts.YEARS_AGO.format(years=years)


def _day_month(day: date) -> str:
    return f"{day.day} {calendar.month_name[day.month]}"


async def onthisday(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    today = svc.today(user)
    look = Lookback(svc.engine)
    dates = await db(look.dates_on, user.id, month_days(today), today)
    style = svc.settings.export_date_style
    pieces: list[str] = []
    markdown: list[str] = []
    for day in dates:
        notes = (await db(svc.reader.days_between, user.id, day, day)).get(day)
        if not notes:
            continue
        ago = _years_ago(today.year - day.year)
        label = f"{format_date(day, style)} ({WEEKDAYS[day.weekday()]}) · {ago}"
        pieces += ["", f"<b>{html.escape(label, quote=False)}</b>", *day_html(notes)]
        markdown += ["", f"## {label}", "", *render_body(notes)]
    if not pieces:
        await message.reply_text(texts.ONTHISDAY_NONE.format(day=_day_month(today)))
        return
    header = texts.ONTHISDAY_HEAD.format(day=_day_month(today))
    await send_rich(
        message, header, pieces[1:], "\n".join([header, *markdown]), filename="onthisday.md"
    )


def _caption(summary: Summary, period: str) -> str:
    if summary.current_streak is None:
        streak = texts.STATS_LONGEST.format(longest=summary.longest_streak)
    else:
        streak = texts.STATS_STREAK.format(
            current=summary.current_streak, longest=summary.longest_streak
        )
    busiest = summary.busiest_weekday
    most = summary.weekday_notes[busiest] if busiest is not None else 0
    return texts.STATS.format(
        period=period,
        days=summary.days_logged,
        notes=summary.notes,
        streak=streak,
        weekday=WEEKDAYS[busiest] if busiest is not None else "–",
        weekday_notes=texts.NOTES_ONE if most == 1 else texts.NOTES_MANY.format(count=most),
    )


async def stats(update: Update, context: Context) -> None:
    message, svc, user = await sender(update, context)
    today = svc.today(user)
    arg = _arg(context)
    try:
        year = stats_year(arg, today)
    except BadYear:
        await message.reply_text(texts.STATS_BAD.format(arg=arg[:50]))
        return
    counts = await user_counts(svc, user.id)
    style = svc.settings.export_date_style
    if year is None:
        if not counts:
            await message.reply_text(texts.STATS_EMPTY)
            return
        first = min(counts)
        summary = summarize(counts, first, max(today, max(counts)), today)
        period = texts.STATS_SINCE.format(first=format_date(first, style))
        png = await last_year_picture(counts, today)
    else:
        start, end = date(year, 1, 1), date(year, 12, 31)
        summary = summarize(counts, start, end, today)
        if not summary.days_logged:
            await message.reply_text(texts.STATS_EMPTY_YEAR.format(year=year))
            return
        period = texts.STATS_YEAR.format(year=year)
        title = texts.STATS_PICTURE_YEAR.format(
            year=year, days=summary.days_logged, notes=summary.notes
        )
        png = await render(counts, start, end, title)
    await message.reply_photo(
        png, caption=_caption(summary, period), filename="heatmap.png", do_quote=False
    )

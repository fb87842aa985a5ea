"""Every user-facing text in one place (pure: it imports nothing, so the core may use it)."""

from __future__ import annotations

WELCOME = """\
日知录 · a record of what you learn each day

Send me anything and it becomes a bullet in today's entry.
• Reply to one of your notes to nest under it.
• A message with a list (- item) keeps its nesting.
• Bold, italic, code, links survive as markdown. Photos become images.
• Edit a message and the bullet changes with it.
• Start with "yesterday:" or "2021-4-8:" to file a note on another day.
• Notes sent before {day_start} count for the previous day.

Your time zone is {tz}. /help lists the commands."""

HELP = """\
Commands
/today — today's entry
/day DATE — another day (2021-4-8, yesterday, -3)
/undo — remove the last note you sent
/done — reply to a note to mark it done (/done off to reopen)
/tz Area/City (or a city) — show or set your time zone
/remind 21:30 | off — the evening reminder
/week [N | 2021-W14] — the weekly digest
/digest sun 20:00 [chart] | off — get the digest every week
  (chart: with your year's heatmap)
/export [2021 | 2021-03 | 2021-03-01..2021-03-31] — the journal as markdown
  (add plain, oldest, monthly/weekly/daily posts or obsidian notes)
/search WORDS — notes that contain all the words (#tags too)
/tags — your tags; /tag NAME — a tag's notes, newest first
/onthisday — this date in earlier years
/stats [2021] — days, notes, streaks and a year's heatmap
/todo — open TODOs, with buttons to tick them off
/settings — your settings

Send a journal as a .md file to import it (you see a preview first)."""

# the menu Telegram shows for "/" (setMyCommands), in this order
COMMANDS = (
    ("today", "Today's entry"),
    ("day", "Another day: /day 2021-4-8"),
    ("undo", "Remove the last note"),
    ("done", "Reply to a note to mark it done"),
    ("week", "Weekly digest"),
    ("remind", "Evening reminder: /remind 21:30 | off"),
    ("digest", "Scheduled digest: /digest sun 20:00 [chart] | off"),
    ("export", "The journal as markdown"),
    ("search", "Find notes: /search WORDS"),
    ("tags", "Your #tags with their counts"),
    ("tag", "A tag's notes: /tag NAME"),
    ("onthisday", "This date in earlier years"),
    ("stats", "Days, streaks and a heatmap: /stats 2021"),
    ("todo", "Open TODOs, to tick off"),
    ("tz", "Time zone: /tz Asia/Shanghai"),
    ("settings", "Your settings"),
    ("help", "How it works"),
)

STRANGER = """\
This is a private journal bot. Your Telegram user id is {user_id}.
To use it, its owner adds that id to ALLOWED_USER_IDS."""

GROUP_LEAVE = "I keep private journals only, so I'm leaving this group."
UNSUPPORTED = "I cannot keep this kind of message as a note, so nothing was stored."
EMPTY = "That message has no text to keep. Nothing was stored."
NOT_AN_IMAGE = (
    "That file is not a picture I can keep (JPEG, PNG, GIF, WebP or HEIC), so nothing was stored."
)
# what other kinds of message become in the journal (markdown; the names come escaped)
FILE_ICONS = {
    "voice": "🎤", "video_note": "📹", "audio": "🎵", "video": "🎬", "animation": "🎞",
    "document": "📎",
}  # fmt: skip
KIND_GIF = "GIF"
KIND_PLACE = "📍 {place}"
KIND_CONTACT = "👤 {name}"
KIND_STICKER = "(a sticker)"
KIND_POLL = "📊 {question} — {options}"
KIND_DICE = "{emoji} {value}"
FILE_TOO_LARGE = "too large to download:{size}, over Telegram's 20 MB limit"
FILE_OVER_QUOTA = "not saved:{size}, the media quota is full"
PHOTO = "🖼 a photo"
FORWARD = "↪ {who}, {day}"
FORWARD_HIDDEN = "hidden"
QUOTA_FULL = (
    "Your media quota ({quota} MB) is full, so I kept the note but not its file. "
    "The server's owner can raise MEDIA_QUOTA_MB."
)
TOO_BIG = "That file is over Telegram's 20 MB download limit, so nothing was stored."
ERROR = "Sorry — something went wrong and I could not do that. Nothing was lost; try again?"
DB_AWAY = (
    "The journal's database is not answering right now. I kept your message and will store "
    "it as soon as the database is back (you'll see the ✍ then)."
)
SET_ASIDE = (
    "I could not handle one of your messages, even after several tries, so I set it aside "
    "instead of trying forever. Please send it again (shorter, or in parts, may help)."
)
MEDIA_LATER_TEXT = (
    "Your text is saved (✍), but I could not fetch its attachment from Telegram yet. I will "
    "keep trying in the background and add it under the text when it arrives."
)
MEDIA_LATER = (
    "I could not fetch this attachment from Telegram yet, so it is not in the journal yet. "
    "I will keep trying in the background and add it when it arrives (you'll see the ✍ then)."
)
MEDIA_EDIT_LATER = (
    "I could not fetch the attachment of this edit from Telegram yet, so the earlier version "
    "stays for now. I will keep trying in the background and apply the edit when I can."
)
MEDIA_FAILED = (
    "I could not fetch this attachment from Telegram, so it is not in the journal (any text "
    "with it is saved). Please send it again."
)
MEDIA_GAVE_UP = (
    "I could not fetch an attachment from Telegram even after trying for a couple of hours, "
    "so I stopped trying. Any text sent with it is kept; please send it again."
)
EXPORT_TOO_DEEP = (
    "{count} notes are nested deeper than {depth} levels (replies to replies…): they are "
    "written at the {depth}th level, right after the note above them."
)
BAD_BACKDATE = "“{prefix}” is not a real date, so nothing was stored. Use a date like 2021-4-8."
FUTURE_BACKDATE = "{day} is in the future, so nothing was stored."

DAY_EMPTY = "Nothing logged for {day} yet."
BAD_DAY = "I could not read “{arg}” as a day. Try 2021-4-8, yesterday or -2."

UNDO_DONE = "Removed: {text}"
UNDO_NOTHING = "There is nothing to undo."

DONE_NEEDS_REPLY = "Reply to one of your notes with /done to mark it done."
DONE_MARKED = "Done: {text}"
DONE_REOPENED = "Reopened: {text}"
DONE_NOT_FOUND = "That message is not one of your notes."

TZ_SHOW = "Your time zone is {tz} (it is {local} there now). Change it with /tz Area/City."
TZ_SET = "Time zone set to {tz}. It is {local} there now."
TZ_BAD = (
    "“{arg}” is not a time zone I know. Use a name like Asia/Shanghai or Europe/Berlin, "
    "or a city: /tz berlin."
)
TZ_WHICH = "“{arg}” could be several time zones; send the one you mean:\n{zones}"

OFF = "off"
SETTINGS_SKIP = " (skipped on days with notes)"
SETTINGS = """\
Settings
Time zone: {tz}
Day starts at: {day_start}
Reminder: {reminder}
Digest: {digest}
Notes kept: {notes}"""


SENT_AS_FILE = "That is long, so here it is as a file."

EXPORT_BAD = (
    "I could not read “{arg}” as a period. Try /export, /export 2021, /export 2021-03 "
    "or /export 2021-3-1..2021-3-31; add plain (no front matter), oldest (oldest first), "
    "monthly, weekly or daily (a .zip of posts) or obsidian (a .zip of daily notes)."
)
EXPORT_EMPTY = "Nothing to export for that period."
EXPORT_FRONT_MATTER = (
    "No export: I cannot read the front-matter template EXPORT_FRONT_MATTER names "
    "(the bot's log says why)."
)
EXPORT_CAPTION = "Your journal: {days} days, ready for the blog."
EXPORT_GIT_TROUBLE = (
    "Your blog post is up to date on disk, but git could not publish it: {why}. "
    "I keep trying at every export and won't tell you again until it works."
)

REMINDER_NONE = "What did you learn today? Reply here or just send it."
REMINDER_ONE = "1 note today — anything else?"
REMINDER_MANY = "{count} notes today — anything else?"
BUTTON_SNOOZE_30 = "Snooze 30 min"
BUTTON_SNOOZE_60 = "Snooze 1 h"
BUTTON_DONE_TODAY = "Done for today"

TIME_BAD = "“{text}” is not a time; try 21:30, 9:30pm or 2130"
TIME_BAD_HOUR = "“{text}”: with am/pm the hour is 1 to 12"
TIME_BAD_RANGE = "“{text}” is not a time of day (00:00 to 23:59)"
WEEKDAY_BAD = "“{text}” is not a day of the week (mon … sun)"

REMIND_STATE_SKIP = ", skipped on days with notes"
REMIND_ON_SKIP = ", unless the day already has notes"
REMIND_STATE = (
    "Evening reminder: {state}. "
    "Change it with /remind 21:30, /remind off, /remind skip or /remind always."
)
REMIND_ON = "I'll remind you at {time} ({tz}) every day{mode}."
REMIND_OFF = "Reminders are off. Turn them on with /remind 21:30."
REMIND_SKIP = "From now on I skip the reminder on days that already have notes."
REMIND_ALWAYS = "From now on I remind you every day, notes or not."
REMIND_BAD = "{problem}. Try /remind 21:30, /remind 9:30pm, /remind 2130 or /remind off."
SNOOZED = "Snoozed until {time}."
DONE_FOR_TODAY = "Done for today ✓"
DIGEST_STATE = (
    "Weekly digest: {state}. Change it with /digest sun 20:00, /digest sun 20:00 chart "
    "(with your year's heatmap) or /digest off."
)
DIGEST_ON = "I'll send the weekly digest every {day} at {time} ({tz}){chart}."
DIGEST_WITH_CHART = ", with your year's heatmap"
DIGEST_NO_DAY = "Which day of the week?"
DIGEST_EXTRA = "“{text}” is not part of a digest time"
DIGEST_CHART_CAPTION = "Your last 12 months (/stats for more)"
DIGEST_OFF = "The weekly digest is off. /week shows it any time."
DIGEST_BAD = "{problem}. Try /digest sun 20:00, /digest sun 20:00 chart or /digest off."
DIGEST_HEAD = "Week {start} – {end}"
DIGEST_DAY = "{day} ({weekday})"
DIGEST_NOTHING = "Nothing logged this week."
DIGEST_STATS = "{days}/{span} days logged · {notes} notes · streak {current} (longest {longest})"
DIGEST_TODOS = "TODOs: {done} done, {open} open"
DIGEST_TAGS = "Tags: {tags}"
DIGEST_YEAR_AGO = "A year ago:"
DIGEST_CUT = "… (/week shows it all)"
WEEK_BAD = "I could not read “{arg}”. Try /week, /week 2 (the week before) or /week 2021-W14."

SEARCH_USAGE = "Search your notes: /search WORDS, e.g. /search ScanNet label or /search #paper"
SEARCH_NONE = "No notes contain “{words}”."
SEARCH_HEAD = "{total} notes contain “{words}”:"
SEARCH_ONE = "1 note contains “{words}”:"
SEARCH_MORE = "… and {more} more. Add a word to narrow it down."

TODO_NONE = "No open TODOs. A note that starts with TODO or [ ] is one; /todo lists them."
TODO_HEAD = "Open TODOs ({total}) — tap a number when one is done:"
TODO_MORE = "… and {more} older ones."
TODO_TICKED = "Done: {text}"
TODO_GONE = "That TODO is no longer there."

THE_FILE = "the file"  # an upload without a name
IMPORT_NOT_TEXT = "I could not read {name} as UTF-8 text, so nothing was imported."
IMPORT_NOT_TEXT_KEPT = (
    "I could not read {name} as UTF-8 text, so it was not imported: it is kept in today's "
    "notes as a file."
)
IMPORT_REFUSED = (
    "{name} took too long or too much memory to read, so nothing was imported. "
    "Split it into smaller files, or import it on the server with rizhilu import."
)
IMPORT_NOT_JOURNAL = (
    "{name} has no date headings (like ## 2021-4-8), so there is nothing to import. "
    "Send text and photos to keep notes; /help says more."
)
IMPORT_NOT_JOURNAL_KEPT = (
    "{name} has no date headings (like ## 2021-4-8), so it was not imported as a journal: "
    "it is kept in today's notes as a file."
)
IMPORT_PREVIEW = """{name}: {days} days, {notes} notes ({new_notes} new).
Importing it again later changes nothing."""
IMPORT_CHECK = "{count} things to check:"
IMPORT_CHECK_MORE = "… and {more} more (rizhilu import --dry-run lists them all)."
IMPORT_GO = "Import"
IMPORT_GO_FIXED = "Import, fixing {count} dates"
IMPORT_CANCEL = "Cancel"
IMPORT_DONE = (
    "Imported {name}: {new_days} new days, {new_notes} new notes{moved}. /export shows the journal."
)
IMPORT_MOVED = ", {moved} notes moved to their fixed date"
IMPORT_CANCELLED = "Nothing was imported."
IMPORT_EXPIRED = "That import is no longer pending; send the file again."
IMPORT_WORKING = "Importing…"
IMPORT_PROGRESS = "Importing {name}: {done:,} of {total:,} notes stored…"

PAGE_MORE = "More"
PAGE_GONE = "That list is no longer there; ask again."
PAGE_HEAD = "{what} · {first}–{last} of {total}:"

TAGS_NONE = "No #tags yet. Write #word in a note (any letters: #paper, #日知录) and /tags lists it."
TAGS_HEAD = "Your tags ({count}) — /tag NAME shows a tag's notes:"
TAG_USAGE = "Show a tag's notes: /tag NAME, e.g. /tag paper. /tags lists your tags."
TAG_NONE = "No notes are tagged #{tag}. /tags lists your tags."
TAG_HEAD = "#{tag} · {total} notes, newest first:"
TAG_ONE = "#{tag} · 1 note:"

ONTHISDAY_NONE = "Nothing from {day} in earlier years yet."
ONTHISDAY_HEAD = "On this day, {day}"
YEAR_AGO = "a year ago"
YEARS_AGO = "{years} years ago"

STATS_EMPTY = "Nothing logged yet, so no stats. Send a note and it starts."
STATS_EMPTY_YEAR = "Nothing logged in {year}."
STATS_BAD = "I could not read “{arg}” as a year. Try /stats or /stats 2021."
STATS_SINCE = "Your journal since {first}"
STATS_YEAR = "Your journal in {year}"
STATS = """{period}
Days logged: {days}
Notes: {notes}
{streak}
Busiest weekday: {weekday} ({weekday_notes})"""
NOTES_ONE = "1 note"
NOTES_MANY = "{count} notes"
STATS_STREAK = "Streak: {current} days (longest {longest})"
STATS_LONGEST = "Longest streak: {longest} days"
STATS_PICTURE_LAST = "Last 12 months · {days} days · {notes} notes"
STATS_PICTURE_YEAR = "{year} · {days} days · {notes} notes"

# `rizhilu site`: the static journal's labels (the search page's script reads its own from
# data- attributes, so every word a reader sees is here)
SITE_SEARCH = "Search"
SITE_SEARCH_LABEL = "Search every note"
SITE_SEARCH_HINT = "Type words in any language; every word must appear in the note."
SITE_SEARCH_NONE = "No note contains that."
SITE_SEARCH_COUNT = "{count} notes found"
SITE_SEARCH_MORE = "…and {count} more; add a word to narrow it."
SITE_SEARCH_NOSCRIPT = "Search needs JavaScript; the calendar and the tags work without it."
SITE_TAGS = "Tags"
SITE_CALENDAR = "Calendar"
SITE_OLDER = "← {month}"
SITE_NEWER = "{month} →"
SITE_YEAR = "{year} · {days} days · {notes} notes"
SITE_MONTH = "{days} days · {notes} notes"
SITE_TAG_HEAD = "#{tag} · {notes} notes"
SITE_NO_TAGS = "No #tags yet."
SITE_EMPTY = "Nothing logged yet."
SITE_IMAGE_ELSEWHERE = "[image on another computer: {name}]"
SITE_FOOTER = "Kept with rizhilu"

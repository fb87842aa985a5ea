"""The common update the short way: a new text message from an allowed user in their chat.

Nearly every update is one, and PTB's way cost most of the event loop's time per note on
bench/ingest.py: Update.de_json builds some 200 attributes of objects of which the capture
reads a handful (~0.1 ms), then ~20 handlers are asked in turn. Here the stored update is
read as it is, and goes where the gatekeeper and the handlers would send it: to the
capture (register() in app.py: no handler before notes.capture claims a text without a
command, a file, a reply or a forward; tests/test_shortcut.py asks the handlers). Anything
else, anything not quite the shape Telegram sends, and a text that must be refused (with
a reply), takes PTB's way, as does an error (to the error handler, with PTB's Update).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from telegram import Update

from bot.core.entities import Entity
from bot.telegram.handlers import notes
from bot.telegram.services import KEY, App, Services

# all that a new text message may hold here (anything more takes PTB's way)
MESSAGE_KEYS = frozenset({"message_id", "date", "chat", "from", "text", "entities"})
ENTITY_KEYS = frozenset({"type", "offset", "length", "url", "language"})


def _entities(raw: Any) -> tuple[Entity, ...] | None:
    """Formatting, links and tags as convert.entities makes them from PTB's; None when
    one is a command or of a shape left to PTB (a mention carries a user)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        return None
    found = []
    for e in raw:
        if not isinstance(e, dict) or not ENTITY_KEYS.issuperset(e):
            return None
        kind, offset, length = e.get("type"), e.get("offset"), e.get("length")
        url, language = e.get("url"), e.get("language")
        if not (isinstance(kind, str) and type(offset) is int and type(length) is int):
            return None
        if kind == "bot_command" or not all(isinstance(v, str | None) for v in (url, language)):
            return None
        found.append(Entity(type=kind, offset=offset, length=length, url=url, language=language))
    return tuple(found)


def plain_text(raw: dict[str, Any]) -> notes.PlainText | None:
    """The update as a new text message in its sender's private chat, or None."""
    message = raw.get("message")
    if len(raw) != 2 or type(raw.get("update_id")) is not int or not isinstance(message, dict):
        return None
    if not MESSAGE_KEYS.issuperset(message):
        return None
    chat, sender, text = message.get("chat"), message.get("from"), message.get("text")
    if not (isinstance(chat, dict) and isinstance(sender, dict) and isinstance(text, str)):
        return None
    user_id, first, last = sender.get("id"), sender.get("first_name"), sender.get("last_name")
    message_id, date = message.get("message_id"), message.get("date")
    if not (
        text
        and type(user_id) is int
        and chat.get("id") == user_id
        and chat.get("type") == "private"
        and type(message_id) is int
        and type(date) is int
        and isinstance(sender.get("is_bot"), bool)
        and isinstance(first, str)
        and isinstance(last, str | None)
    ):
        return None
    entities = _entities(message.get("entities"))
    if entities is None:
        return None
    try:
        sent_at = datetime.fromtimestamp(date, tz=UTC)  # as PTB reads it (no Defaults)
    except (OverflowError, OSError, ValueError):  # a crafted date: PTB cannot read it either
        return None
    return notes.PlainText(
        update_id=raw["update_id"],
        user_id=user_id,
        message_id=message_id,
        sent_at=sent_at,
        text=text,
        entities=entities,
        full_name=f"{first} {last}" if last else first,  # PTB's User.full_name
    )


async def process(app: App, raw: dict[str, Any], note: notes.PlainText) -> None:
    """One stored update that plain_text read as `note`: the short way when its sender is
    allowed, else (the gatekeeper's business) PTB's Update through the handlers."""
    svc = app.bot_data.get(KEY)
    if isinstance(svc, Services) and svc.settings.allowed_user_ids.allows(note.user_id):
        try:
            if await notes.capture_plain(svc, note):
                return
        except Exception as exc:  # to the error handler, as PTB does with a handler's error
            await app.process_error(Update.de_json(raw, app.bot), exc)
            return
    await app.process_update(Update.de_json(raw, app.bot))

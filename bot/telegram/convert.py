"""PTB objects → core values (entities, files, places, forwards): no Telegram in the core."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import (
    Animation,
    Audio,
    Document,
    Message,
    MessageEntity,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
    TelegramObject,
    Video,
    VideoNote,
)

from bot.core.entities import Entity
from bot.core.kinds import (
    Contact,
    Dice,
    Extra,
    FileFacts,
    Origin,
    Place,
    Poll,
    Sticker,
    Thumbnail,
)


def entities(raw: Sequence[MessageEntity] | None) -> list[Entity]:
    """Core entities from PTB's, keeping Telegram's UTF-16 offsets."""
    return [
        Entity(
            type=str(e.type),
            offset=e.offset,
            length=e.length,
            url=e.url,
            user_id=e.user.id if e.user else None,
            language=e.language,
        )
        for e in raw or ()
    ]


def _seconds(obj: TelegramObject) -> int | None:
    # from the wire form: PTB 22 warns on `.duration` (it becomes a timedelta in 23)
    value = obj.to_dict().get("duration")
    return int(value) if isinstance(value, int | float) else None


def _thumbnail(obj: Audio | Video | VideoNote | Animation | Document) -> Thumbnail | None:
    t = obj.thumbnail
    return None if t is None else Thumbnail(t.file_id, t.file_unique_id, t.file_size)


def file_of(message: Message) -> FileFacts | None:
    """The voice note, audio, video, video note, animation or (non-image) document, if any."""
    if message.voice is not None:
        v = message.voice
        return FileFacts("voice", v.file_id, v.file_unique_id, v.file_size, _seconds(v))
    if message.video_note is not None:
        n = message.video_note
        return FileFacts(
            "video_note", n.file_id, n.file_unique_id, n.file_size, _seconds(n),
            thumbnail=_thumbnail(n),
        )  # fmt: skip
    if message.audio is not None:
        a = message.audio
        title = " – ".join(p for p in (a.performer, a.title) if p) or None
        return FileFacts(
            "audio", a.file_id, a.file_unique_id, a.file_size, _seconds(a), a.file_name,
            a.mime_type, title, _thumbnail(a),
        )  # fmt: skip
    if message.animation is not None:  # before document: a GIF comes with both
        g = message.animation
        return FileFacts(
            "animation", g.file_id, g.file_unique_id, g.file_size, _seconds(g), g.file_name,
            g.mime_type, thumbnail=_thumbnail(g),
        )  # fmt: skip
    if message.video is not None:
        w = message.video
        return FileFacts(
            "video", w.file_id, w.file_unique_id, w.file_size, _seconds(w), w.file_name,
            w.mime_type, thumbnail=_thumbnail(w),
        )  # fmt: skip
    d = message.document
    if d is not None and not (d.mime_type or "").startswith("image/"):
        return FileFacts(
            "document", d.file_id, d.file_unique_id, d.file_size, None, d.file_name, d.mime_type
        )
    return None


def extra_of(message: Message) -> Extra | None:
    """A place, contact, sticker, poll or dice, if the message is one."""
    if message.venue is not None:
        v = message.venue
        return Place(v.location.latitude, v.location.longitude, v.title, v.address or None)
    if message.location is not None:
        return Place(message.location.latitude, message.location.longitude)
    if message.contact is not None:
        return Contact(message.contact.first_name, message.contact.last_name)
    if message.sticker is not None:
        return Sticker(message.sticker.emoji)
    if message.poll is not None:
        return Poll(message.poll.question, tuple(o.text for o in message.poll.options))
    if message.dice is not None:
        return Dice(message.dice.emoji, message.dice.value)
    return None


def origin_of(message: Message) -> Origin | None:
    """Who first sent a forwarded message (PTB 22's forward_origin), if it is a forward."""
    o = message.forward_origin
    if isinstance(o, MessageOriginUser):
        return Origin("user", o.date, o.sender_user.full_name, o.sender_user.username)
    if isinstance(o, MessageOriginHiddenUser):
        return Origin("hidden", o.date, o.sender_user_name)
    if isinstance(o, MessageOriginChannel):
        return Origin("channel", o.date, o.chat.title or "", o.chat.username, o.message_id)
    if isinstance(o, MessageOriginChat):
        chat = o.sender_chat
        return Origin("chat", o.date, chat.title or chat.full_name or "", chat.username)
    return None

"""PTB objects → core values (entities), so the core never imports Telegram."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import MessageEntity

from bot.core.entities import Entity


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

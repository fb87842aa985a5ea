"""Fitting texts into Telegram messages: long texts split, long lines clipped."""

from __future__ import annotations

TELEGRAM_LIMIT = 4096


def split_message(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split on line boundaries into pieces of at most `limit` characters (long lines are cut)."""
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = line if not current else current + "\n" + line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        pieces.append(current)
    return [p for p in pieces if p.strip()] or ([text[:limit]] if text.strip() else [])


def clip(line: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut."""
    return line if len(line) <= limit else line[: limit - 1] + "…"

"""/remind, /week, /digest and the scheduled jobs (filled in by the reminder feature)."""

from __future__ import annotations

from telegram.ext import Application


def register(app: Application) -> None:  # type: ignore[type-arg]
    return None

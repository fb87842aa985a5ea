"""/export: the journal as a markdown document (filled in by the export feature)."""

from __future__ import annotations

from telegram.ext import Application


def register(app: Application) -> None:  # type: ignore[type-arg]
    return None

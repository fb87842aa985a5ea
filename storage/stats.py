"""Counts for the health check, the metrics and `rizhilu doctor`: small aggregate queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, inspect, select, text

from storage.tables import inbox, notes, sent, users


@dataclass(frozen=True)
class Backlog:
    """Updates stored in the inbox and not yet handled."""

    pending: int
    oldest: datetime | None


def ping(engine: Engine) -> None:
    """One round trip; raises when the database does not answer."""
    with engine.connect() as c:
        c.execute(text("SELECT 1"))


def inbox_backlog(engine: Engine) -> Backlog:
    with engine.connect() as c:
        count, oldest = c.execute(
            select(func.count(), func.min(inbox.c.received_at)).where(inbox.c.done_at.is_(None))
        ).one()
    # min() keeps the column's type, so the value comes back aware (UTC)
    return Backlog(int(count), oldest)


def note_count(engine: Engine) -> int:
    """Notes in all journals (deleted ones not counted)."""
    with engine.connect() as c:
        return int(
            c.execute(
                select(func.count()).select_from(notes).where(notes.c.deleted_at.is_(None))
            ).scalar_one()
        )


def sent_counts(engine: Engine) -> dict[str, int]:
    """Scheduled messages (reminders, digests) that went out, by kind, since the start."""
    with engine.connect() as c:
        rows = c.execute(
            select(sent.c.kind, func.count()).where(sent.c.status == "sent").group_by(sent.c.kind)
        ).all()
    return {str(kind): int(count) for kind, count in rows}


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at (None: never migrated)."""
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as c:
        value = c.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if value is None else str(value)


def user_zones(engine: Engine) -> set[str]:
    """Every time zone a user has chosen."""
    with engine.connect() as c:
        return {str(z) for z in c.execute(select(users.c.timezone).distinct()).scalars()}

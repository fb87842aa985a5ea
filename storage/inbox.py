"""The inbox: raw updates stored before Telegram is told they arrived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import Clock
from storage.engine import upsert_insert
from storage.models import InboxUpdate


@dataclass(frozen=True)
class Pending:
    """An update waiting to be processed."""

    id: int
    update_id: int
    payload: str


class Inbox:
    """Durable queue of updates; idempotent on update_id."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def store(self, updates: list[tuple[int, int | None, str]]) -> int:
        """Insert (update_id, chat_id, json) rows in one transaction; returns how many were new."""
        if not updates:
            return 0
        now = self._clock.now()
        rows = [
            {"update_id": uid, "chat_id": chat, "payload": payload, "received_at": now}
            for uid, chat, payload in updates
        ]
        with self._sessions.begin() as s:
            ins = upsert_insert(s.get_bind().dialect.name)
            stmt = (
                ins(InboxUpdate)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["update_id"])
                .returning(InboxUpdate.update_id)
            )
            # RETURNING, not rowcount: an ORM-session INSERT reports rowcount -1 on PostgreSQL
            return len(s.execute(stmt).all())

    def pending(self, limit: int = 100) -> list[Pending]:
        """The oldest unprocessed updates, in arrival order."""
        with self._sessions() as s:
            rows = s.execute(
                select(InboxUpdate.id, InboxUpdate.update_id, InboxUpdate.payload)
                .where(InboxUpdate.done_at.is_(None))
                .order_by(InboxUpdate.id)
                .limit(limit)
            ).all()
        return [Pending(r[0], r[1], r[2]) for r in rows]

    def mark_done(self, ids: list[int]) -> None:
        if not ids:
            return
        with self._sessions.begin() as s:
            s.execute(
                update(InboxUpdate).where(InboxUpdate.id.in_(ids)).values(done_at=self._clock.now())
            )

    def purge(self, older_than: timedelta = timedelta(days=7)) -> int:
        """Forget processed updates (Telegram redelivers only unconfirmed ones, for 24 h)."""
        cutoff = self._clock.now() - older_than
        with self._sessions.begin() as s:
            result = s.execute(
                delete(InboxUpdate).where(
                    InboxUpdate.done_at.is_not(None), InboxUpdate.done_at < cutoff
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)

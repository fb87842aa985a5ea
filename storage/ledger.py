"""The sent-ledger: every scheduled message goes out at most once per (user, day, kind)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import Clock
from storage.engine import upsert_insert
from storage.models import Sent

# "sent" from the claim on; the others say why a claimed message did not (surely) go out
SentStatus = Literal["sent", "skipped", "done", "blocked", "unknown", "failed"]


class Ledger:
    """Claim before sending; the database's primary key makes the claim exclusive."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def claim(self, user_id: int, day: date, kind: str, status: SentStatus = "sent") -> bool:
        """True for exactly one caller, across restarts and processes.

        The row reads "sent" from the start; a send that fails is marked otherwise (or
        released), so a success costs a single write.
        """
        with self._sessions.begin() as s:
            ins = upsert_insert(s.get_bind().dialect.name)
            # RETURNING, not rowcount: an ORM-session INSERT reports rowcount -1 on PostgreSQL
            inserted = s.execute(
                ins(Sent)
                .values(user_id=user_id, day=day, kind=kind, status=status, at=self._clock.now())
                .on_conflict_do_nothing()
                .returning(Sent.user_id)
            ).first()
            return inserted is not None

    def mark(
        self, user_id: int, day: date, kind: str, status: SentStatus, message_id: int | None = None
    ) -> None:
        with self._sessions.begin() as s:
            s.execute(
                update(Sent)
                .where(Sent.user_id == user_id, Sent.day == day, Sent.kind == kind)
                .values(status=status, message_id=message_id, at=self._clock.now())
            )

    def release(self, user_id: int, day: date, kind: str) -> None:
        """Give a claim back (the send surely failed), so a retry may claim it again."""
        with self._sessions.begin() as s:
            s.execute(
                delete(Sent).where(Sent.user_id == user_id, Sent.day == day, Sent.kind == kind)
            )

    def status(self, user_id: int, day: date, kind: str) -> str | None:
        with self._sessions() as s:
            return s.scalar(
                select(Sent.status).where(
                    Sent.user_id == user_id, Sent.day == day, Sent.kind == kind
                )
            )

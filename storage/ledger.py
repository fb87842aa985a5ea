"""The sent-ledger: every scheduled message goes out at most once per (user, day, kind)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import and_, delete, select, tuple_, update
from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import Clock
from storage.engine import json_rows, json_tuples, upsert_insert
from storage.models import Sent
from storage.tables import sent as SENT

# "sent" from the claim on; the others say why a claimed message did not (surely) go out
SentStatus = Literal["sent", "skipped", "done", "blocked", "unknown", "failed"]
Key = tuple[int, date, str]  # (user, local day, kind): one ledger row

# SQLite: a fan-out's keys as one JSON array (json_tuples), looked up by the primary key one
# by one, where a tuple IN list scanned the whole table's index
_KEYS, _USER, _DAY, _KIND = json_tuples("keys", 3)
_PRESENT = (
    select(SENT.c.user_id, SENT.c.day, SENT.c.kind)
    .select_from(_KEYS)
    .join(SENT, and_(SENT.c.user_id == _USER, SENT.c.day == _DAY, SENT.c.kind == _KIND))
)
# a DELETE has no join: SQLite searches the IN of a subquery by (user, day), each listed
# user with each listed day (a fan-out's keys share a day or two)
_RELEASE = delete(SENT).where(
    tuple_(SENT.c.user_id, SENT.c.day, SENT.c.kind).in_(
        select(_USER, _DAY, _KIND).select_from(_KEYS)
    )
)


@dataclass(frozen=True)
class Claim:
    """One row to claim: a (user, day, kind) and what it reads once claimed."""

    user_id: int
    day: date
    kind: str
    status: SentStatus = "sent"

    @property
    def key(self) -> Key:
        return (self.user_id, self.day, self.kind)


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

    def claim_many(self, claims: Sequence[Claim]) -> set[Key]:
        """The keys this caller won, each won by exactly one caller (as claim()), in one
        short transaction and one INSERT for the whole batch: a fan-out takes SQLite's
        write lock once per batch, not once per message. A key listed twice is claimed once.
        """
        first: dict[Key, Claim] = {}
        # in key order: two claimers inserting overlapping batches on PostgreSQL then wait
        # for each other in one direction, never in a circle (a deadlock)
        for c in sorted(claims, key=lambda c: c.key):
            first.setdefault(c.key, c)
        if not first:
            return set()
        at = self._clock.now()
        rows = [
            dict(user_id=u, day=d, kind=k, status=c.status, at=at) for (u, d, k), c in first.items()
        ]
        with self._sessions.begin() as s:
            ins = upsert_insert(s.get_bind().dialect.name)
            won = s.execute(
                ins(SENT)
                .values(rows)
                .on_conflict_do_nothing()
                .returning(SENT.c.user_id, SENT.c.day, SENT.c.kind)
            ).all()
        return {(user_id, day, kind) for user_id, day, kind in won}

    def present(self, keys: Iterable[Key]) -> set[Key]:
        """Which of the keys have a row (of any status), in one read."""
        wanted = list(set(keys))
        if not wanted:
            return set()
        with self._sessions() as s:
            if s.get_bind().dialect.name == "sqlite":
                found = s.execute(_PRESENT, {"keys": json_rows(wanted)}).all()
            else:
                found = s.execute(
                    select(SENT.c.user_id, SENT.c.day, SENT.c.kind).where(
                        tuple_(SENT.c.user_id, SENT.c.day, SENT.c.kind).in_(wanted)
                    )
                ).all()
        return {(user_id, day, kind) for user_id, day, kind in found}

    def release_many(self, keys: Iterable[Key]) -> None:
        """Give several claims back in one transaction (their sends surely did not go out)."""
        gone = list(set(keys))
        if not gone:
            return
        with self._sessions.begin() as s:
            if s.get_bind().dialect.name == "sqlite":
                s.execute(_RELEASE, {"keys": json_rows(gone)})
            else:
                key = tuple_(SENT.c.user_id, SENT.c.day, SENT.c.kind)
                s.execute(delete(SENT).where(key.in_(gone)))

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

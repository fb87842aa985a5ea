"""The inbox: raw updates stored before Telegram is told they arrived."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Connection,
    Engine,
    all_,
    any_,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import Clock
from storage.engine import by_column, unnested, upsert_insert
from storage.models import InboxUpdate
from storage.tables import inbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pending:
    """An update waiting to be processed."""

    id: int
    update_id: int
    chat_id: int | None
    payload: str
    retries: int = 0  # times its media download failed so far


# a Pending's fields, in order, as the inbox's columns
_PENDING = (
    InboxUpdate.id,
    InboxUpdate.update_id,
    InboxUpdate.chat_id,
    InboxUpdate.payload,
    InboxUpdate.retries,
)


def digest(payload: str) -> str:
    """The content key: the same update delivered twice is stored once, a different update
    that reuses an id (Telegram picks ids at random after a quiet week) is stored too."""
    return hashlib.sha256(payload.encode()).hexdigest()


# built once (the IN list an expanding parameter): every group commit runs it
_MARK_DONE = update(inbox).where(inbox.c.id.in_(bindparam("rows", expanding=True)))


def mark_done(s: Session, row_ids: list[int], now: datetime) -> None:
    """Mark inbox rows processed inside an open transaction (a note's, or the inbox's own)."""
    if row_ids:
        s.execute(_MARK_DONE, {"rows": row_ids, "done_at": now})


_STORED = ("update_id", "chat_id", "payload", "digest", "received_at")
_REUSED = (
    select(inbox.c.update_id)
    .where(
        inbox.c.update_id.in_(bindparam("update_ids", expanding=True)),
        inbox.c.id.not_in(bindparam("ids", expanding=True)),
    )
    .distinct()
)
_REUSED_PG = (
    select(inbox.c.update_id)
    .where(
        inbox.c.update_id == any_(bindparam("update_ids", type_=ARRAY(BigInteger()))),
        inbox.c.id != all_(bindparam("ids", type_=ARRAY(BigInteger()))),
    )
    .distinct()
)


@cache
def _store_statement(dialect: str) -> Any:
    """The batch's INSERT … ON CONFLICT DO NOTHING RETURNING, built once per dialect (whose
    INSERT is imported only when used).

    SQLite gets the rows as parameters (an executemany SQLAlchemy sends as multi-row
    INSERTs): compiled once and cached, where rows in .values() made a new 500-parameter
    statement to compile for every batch. PostgreSQL gets them as one array per column
    (engine.unnested: a statement of five parameters, which psycopg converts once).
    """
    ins = upsert_insert(dialect)
    if dialect == "postgresql":
        stmt = ins(inbox).from_select(_STORED, unnested(inbox, _STORED))
    else:
        stmt = ins(inbox)
    return stmt.on_conflict_do_nothing(index_elements=["update_id", "digest"]).returning(
        inbox.c.id, inbox.c.update_id
    )


class Inbox:
    """Durable queue of updates; idempotent on (update_id, content)."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def store(self, updates: list[tuple[int, int | None, str]]) -> int:
        """Insert (update_id, chat_id, json) rows in one transaction; returns how many were new."""
        if not updates:
            return 0
        now = self._clock.now()
        rows = [
            {
                "update_id": uid,
                "chat_id": chat,
                "payload": payload,
                "digest": digest(payload),
                "received_at": now,
            }
            for uid, chat, payload in updates
        ]
        with self._sessions.begin() as s:
            dialect = s.get_bind().dialect.name
            pg = dialect == "postgresql"
            # RETURNING, not rowcount: an INSERT reports rowcount -1 on PostgreSQL
            params = by_column(rows, _STORED) if pg else rows
            new = s.execute(_store_statement(dialect), params).all()
            if new:
                ids, update_ids = [r[0] for r in new], [r[1] for r in new]
                reused = s.execute(
                    _REUSED_PG if pg else _REUSED, {"ids": ids, "update_ids": update_ids}
                ).scalars()
                for uid in reused:
                    log.warning(
                        "update id %s arrived again with different content; both are kept", uid
                    )
        return len(new)

    def pending(self, limit: int = 100, after: int = 0, *, due: bool = False) -> list[Pending]:
        """The oldest unprocessed updates (stored after row `after`), in arrival order; one
        waiting to retry its media download only once its time has come (`due`: only those)."""
        now = self._clock.now()
        waiting = InboxUpdate.retry_at.is_not(None)
        with self._sessions() as s:
            rows = s.execute(
                select(*_PENDING)
                .where(InboxUpdate.done_at.is_(None), InboxUpdate.id > after)
                .where(
                    waiting & (InboxUpdate.retry_at <= now)
                    if due
                    else ~waiting | (InboxUpdate.retry_at <= now)
                )
                .order_by(InboxUpdate.id)
                .limit(limit)
            ).all()
        return [Pending(*r) for r in rows]

    def waiting(self) -> int:
        """How many updates wait for a new try of their media download."""
        with self._sessions() as s:
            count = s.scalar(
                select(func.count())
                .select_from(InboxUpdate)
                .where(InboxUpdate.done_at.is_(None), InboxUpdate.retry_at.is_not(None))
            )
        return int(count or 0)

    def defer(self, row_id: int, pause: timedelta) -> None:
        """Try an update again after `pause` (its media download failed); later updates pass
        it meanwhile. Not done (its text's commit may have marked it), and its replay count
        starts again: it finished this start."""
        with self._sessions.begin() as s:
            s.execute(
                update(InboxUpdate)
                .where(InboxUpdate.id == row_id)
                .values(
                    done_at=None,
                    retry_at=self._clock.now() + pause,
                    retries=InboxUpdate.retries + 1,
                    attempts=0,
                )
            )

    def pending_in(self, chats: list[int], row_ids: list[int]) -> list[Pending]:
        """Every unprocessed update of these chats, and these rows if still unprocessed, in
        arrival order (a replica that takes a chat starts from its oldest update)."""
        if not chats and not row_ids:
            return []
        now = self._clock.now()
        with self._sessions() as s:
            rows = s.execute(
                select(*_PENDING)
                .where(
                    InboxUpdate.done_at.is_(None),
                    InboxUpdate.chat_id.in_(chats) | InboxUpdate.id.in_(row_ids),
                    InboxUpdate.retry_at.is_(None) | (InboxUpdate.retry_at <= now),
                )
                .order_by(InboxUpdate.id)
            ).all()
        return [Pending(*r) for r in rows]

    def newest_pending(self) -> int:
        """The id of the newest unprocessed row (0 when there is none)."""
        with self._sessions() as s:
            newest = s.execute(
                select(InboxUpdate.id)
                .where(InboxUpdate.done_at.is_(None))
                .order_by(InboxUpdate.id.desc())
                .limit(1)
            ).scalar()
        return int(newest or 0)

    def begin(self, row_id: int, done: list[int]) -> int:
        """Mark `done` processed and count one more start of `row_id`, in one commit;
        returns how many times `row_id` has been started."""
        with self._sessions.begin() as s:
            mark_done(s, done, self._clock.now())
            attempts = s.execute(
                update(InboxUpdate)
                .where(InboxUpdate.id == row_id)
                .values(attempts=InboxUpdate.attempts + 1)
                .returning(InboxUpdate.attempts)
            ).scalar_one()
        return int(attempts)

    def finish(self, done: list[int], dead: dict[int, str] | None = None) -> None:
        """Mark rows processed, and set aside `dead` ones (row id → why), never replayed."""
        if not done and not dead:
            return
        now = self._clock.now()
        with self._sessions.begin() as s:
            mark_done(s, done, now)
            for row_id, why in (dead or {}).items():
                s.execute(
                    update(InboxUpdate)
                    .where(InboxUpdate.id == row_id)
                    .values(done_at=now, dead_at=now, error=why[:200])
                )

    def dead(self) -> list[tuple[int, str]]:
        """Updates set aside (update_id, why), oldest first."""
        with self._sessions() as s:
            rows = s.execute(
                select(InboxUpdate.update_id, InboxUpdate.error)
                .where(InboxUpdate.dead_at.is_not(None))
                .order_by(InboxUpdate.id)
            ).all()
        return [(r[0], r[1] or "") for r in rows]

    def purge(
        self, older_than: timedelta = timedelta(days=7), dead_for: timedelta = timedelta(days=30)
    ) -> int:
        """Forget processed updates (Telegram redelivers only unconfirmed ones, for 24 h);
        updates set aside are kept longer, for a look at what went wrong."""
        now = self._clock.now()
        with self._sessions.begin() as s:
            result = s.execute(
                delete(InboxUpdate).where(
                    InboxUpdate.done_at.is_not(None),
                    InboxUpdate.done_at < now - older_than,
                    InboxUpdate.dead_at.is_(None) | (InboxUpdate.dead_at < now - dead_for),
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)


_LOCKS = (
    func.unnest(bindparam("locks", type_=ARRAY(BigInteger()))).table_valued("lock").render_derived()
)
# the locks won, each tried once (a function in WHERE runs once for each row)
_TAKE = select(_LOCKS.c.lock).where(func.pg_try_advisory_lock(_LOCKS.c.lock))
_GIVE = select(func.pg_advisory_unlock(_LOCKS.c.lock))


class ChatLocks:
    """Per-chat advisory locks on PostgreSQL, so that replicas sharing one database handle
    each chat in one process at a time (its order holds across processes).

    The locks belong to one dedicated connection: a process that dies drops it, and
    with it every chat it held. Taking a lock this process holds already succeeds
    (PostgreSQL counts them); each take is paired with a give.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None
        self._guard = threading.Lock()
        self._schema = ""

    def take(self, keys: list[int]) -> set[int]:
        """Try each key without waiting; the ones now held. One statement for them all:
        a batch touches dozens of chats, and a round trip each cost both processes."""
        if not keys:
            return set()
        with self._guard:
            conn = self._connection()
            by_lock = {self._lock(key): key for key in keys}
            won = conn.execute(_TAKE, {"locks": list(by_lock)}).scalars()
            return {by_lock[lock] for lock in won}

    def give(self, keys: list[int]) -> None:
        """Give these keys back, in one statement."""
        if not keys:
            return
        with self._guard:
            if self._conn is None:
                return
            try:
                self._conn.execute(_GIVE, {"locks": [self._lock(key) for key in keys]})
            except Exception:
                # the connection is gone, and the locks went with it
                self._drop()
                raise

    def close(self) -> None:
        with self._guard:
            self._drop()

    def _lock(self, key: int) -> int:
        """The advisory lock of a key: PostgreSQL's locks are per database, not per schema,
        so the key is hashed with the schema (two keys sharing a lock only wait for each
        other)."""
        name = f"{self._schema}:{key}".encode()
        return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._drop()
            self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._schema = str(self._conn.execute(select(func.current_schema())).scalar())
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None

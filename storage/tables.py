"""The schema as SQLAlchemy Core tables: the one source of truth for models and bulk paths.

The bulk export path uses these directly, so it never imports the ORM.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite drops tzinfo)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("chat_id", BigInteger, nullable=True),
    Column("name", String(200), nullable=False, default=""),
    Column("timezone", String(64), nullable=False),
    Column("reminder_time", String(5), nullable=True),
    Column("reminder_mode", String(16), nullable=False, default="always"),
    Column("snoozed_until", UTCDateTime(), nullable=True),
    Column("digest_weekday", Integer, nullable=True),  # 0 = Monday
    Column("digest_time", String(5), nullable=True),
    Column("digest_chart", Boolean, nullable=False, default=False, server_default=false()),
    Column("blocked", Boolean, nullable=False, default=False),
    Column("front_matter", Text, nullable=True),
    Column("title", String(200), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

entries = Table(
    "entries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),  # day | section
    Column("key", String(64), nullable=False),  # 2021-04-08, 2021-03-31~2021-04-04, s:TODO
    Column("start_date", Date, nullable=True),
    Column("end_date", Date, nullable=True),
    Column("title", String(200), nullable=True),
    Column("level", Integer, nullable=False, default=2),
    Column("position", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("user_id", "key"),
)

notes = Table(
    "notes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("entry_id", ForeignKey("entries.id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", ForeignKey("notes.id", ondelete="CASCADE"), nullable=True),
    Column("position", Integer, nullable=False),
    Column("kind", String(8), nullable=False, default="item"),  # item | block
    Column("ordered", Boolean, nullable=False, default=False),
    # an ordered item written `1)` (CommonMark's other delimiter; kramdown knows only `1.`)
    Column("paren", Boolean, nullable=False, default=False, server_default=false()),
    Column("done", Boolean, nullable=False, default=False),
    Column("text", Text, nullable=False),
    Column("chat_id", BigInteger, nullable=True),
    Column("message_id", BigInteger, nullable=True),
    Column("part", Integer, nullable=False, default=0),  # 0 = the message's own bullet
    Column("source_key", String(64), nullable=True),  # imported notes
    Column("media_group", String(64), nullable=True),  # the album a photo came in
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("edited_at", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("deleted_at", UTCDateTime(), nullable=True),
    UniqueConstraint("chat_id", "message_id", "part"),
    UniqueConstraint("user_id", "source_key"),
    Index("ix_notes_entry_parent_position", "entry_id", "parent_id", "position"),
    Index("ix_notes_user_created", "user_id", "created_at"),
    Index("ix_notes_chat_media_group", "chat_id", "media_group"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("update_id", BigInteger, nullable=False),
    Column("chat_id", BigInteger, nullable=True),
    Column("payload", Text, nullable=False),
    # sha256 of the payload: a redelivery is the same row, a reused update_id a new one
    Column("digest", String(64), nullable=False, server_default=""),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("done_at", UTCDateTime(), nullable=True, index=True),
    # starts counted for rows replayed after a crash; dead_at set = set aside, never replayed
    Column("attempts", Integer, nullable=False, default=0, server_default="0"),
    Column("dead_at", UTCDateTime(), nullable=True),
    Column("error", String(200), nullable=True),
    # an update whose media download failed: tried again at retry_at (later ones pass it)
    Column("retry_at", UTCDateTime(), nullable=True),
    Column("retries", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("update_id", "digest"),
)

actions = Table(
    "actions",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("message_id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),
    Column("result", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime(), nullable=False),
)

sent = Table(
    "sent",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("status", String(16), nullable=False, default="claimed"),
    Column("message_id", BigInteger, nullable=True),
    Column("at", UTCDateTime(), nullable=False),
)


def new_user(
    user_id: int,
    chat_id: int | None,
    name: str,
    timezone: str,
    reminder_time: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Column values of a user on first contact (from Telegram or an import)."""
    return {
        "id": user_id,
        "chat_id": chat_id,
        "name": name[:200],
        "timezone": timezone,
        "reminder_time": reminder_time,
        "reminder_mode": "always",
        "blocked": False,
        "digest_chart": False,
        "created_at": now,
        "updated_at": now,
    }

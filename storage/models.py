"""SQLAlchemy 2 typed ORM models for the whole journal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

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


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), date: Date()}


class User(Base):
    """A Telegram user who keeps a journal, with their preferences."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    reminder_time: Mapped[str | None] = mapped_column(String(5))
    reminder_mode: Mapped[str] = mapped_column(String(16), default="always")
    snoozed_until: Mapped[datetime | None]
    digest_weekday: Mapped[int | None] = mapped_column(Integer)  # 0 = Monday
    digest_time: Mapped[str | None] = mapped_column(String(5))
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    front_matter: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Entry(Base):
    """A day, a range of days (`2021-3-31 ~ 2021-4-4`), or a named section (TODO, 自省…)."""

    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # day | section
    key: Mapped[str] = mapped_column(String(64))  # 2021-04-08, 2021-03-31~2021-04-04, s:TODO
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    title: Mapped[str | None] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer, default=2)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class Note(Base):
    """A bullet (or a block of a day) in the journal tree."""

    __tablename__ = "notes"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id", "part"),
        UniqueConstraint("user_id", "source_key"),
        Index("ix_notes_entry_parent_position", "entry_id", "parent_id", "position"),
        Index("ix_notes_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8), default="item")  # item | block
    ordered: Mapped[bool] = mapped_column(Boolean, default=False)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    part: Mapped[int] = mapped_column(Integer, default=0)  # 0 = the message's own bullet
    source_key: Mapped[str | None] = mapped_column(String(64))  # imported notes
    sent_at: Mapped[datetime | None]
    edited_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class InboxUpdate(Base):
    """A raw Telegram update, stored before it is confirmed to Telegram."""

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    update_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    done_at: Mapped[datetime | None] = mapped_column(index=True)


class Action(Base):
    """A command with a side effect, remembered so that a replay does not repeat it."""

    __tablename__ = "actions"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    result: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class Sent(Base):
    """Ledger of scheduled messages: at most one (user, local day, kind)."""

    __tablename__ = "sent"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime]

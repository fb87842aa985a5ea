"""SQLAlchemy 2 typed ORM models, mapped over the Core tables in storage.tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import DeclarativeBase, Mapped

from storage import tables


class Base(DeclarativeBase):
    metadata = tables.metadata


class User(Base):
    """A Telegram user who keeps a journal, with their preferences."""

    __table__ = tables.users

    id: Mapped[int]
    chat_id: Mapped[int | None]
    name: Mapped[str]
    timezone: Mapped[str]
    reminder_time: Mapped[str | None]
    reminder_mode: Mapped[str]
    snoozed_until: Mapped[datetime | None]
    digest_weekday: Mapped[int | None]
    digest_time: Mapped[str | None]
    digest_chart: Mapped[bool]
    blocked: Mapped[bool]
    front_matter: Mapped[str | None]
    title: Mapped[str | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Entry(Base):
    """A day, a range of days (`2021-3-31 ~ 2021-4-4`), or a named section (TODO, 自省…)."""

    __table__ = tables.entries

    id: Mapped[int]
    user_id: Mapped[int]
    kind: Mapped[str]
    key: Mapped[str]
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    title: Mapped[str | None]
    level: Mapped[int]
    position: Mapped[int]
    created_at: Mapped[datetime]


class Note(Base):
    """A bullet (or a block of a day) in the journal tree."""

    __table__ = tables.notes

    id: Mapped[int]
    user_id: Mapped[int]
    entry_id: Mapped[int]
    parent_id: Mapped[int | None]
    position: Mapped[int]
    kind: Mapped[str]
    ordered: Mapped[bool]
    paren: Mapped[bool]
    done: Mapped[bool]
    text: Mapped[str]
    chat_id: Mapped[int | None]
    message_id: Mapped[int | None]
    part: Mapped[int]
    source_key: Mapped[str | None]
    media_group: Mapped[str | None]
    sent_at: Mapped[datetime | None]
    edited_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class InboxUpdate(Base):
    """A raw Telegram update, stored before it is confirmed to Telegram."""

    __table__ = tables.inbox

    id: Mapped[int]
    update_id: Mapped[int]
    chat_id: Mapped[int | None]
    payload: Mapped[str]
    digest: Mapped[str]
    received_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    attempts: Mapped[int]
    dead_at: Mapped[datetime | None]
    error: Mapped[str | None]
    retry_at: Mapped[datetime | None]
    retries: Mapped[int]


class Action(Base):
    """A command with a side effect, remembered so that a replay does not repeat it."""

    __table__ = tables.actions

    chat_id: Mapped[int]
    message_id: Mapped[int]
    kind: Mapped[str]
    result: Mapped[str]
    created_at: Mapped[datetime]


class Sent(Base):
    """Ledger of scheduled messages: at most one (user, local day, kind)."""

    __table__ = tables.sent

    user_id: Mapped[int]
    day: Mapped[date]
    kind: Mapped[str]
    status: Mapped[str]
    message_id: Mapped[int | None]
    at: Mapped[datetime]

"""Note writes: a message's notes stored, edited, refiled, undone or marked done, once each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import (
    ARRAY,
    BigInteger,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.core.capture import is_bare_image
from bot.core.clock import Clock
from bot.core.days import DayRange
from bot.core.notes import NoteDraft
from storage.engine import by_column, is_transient, json_rows, json_tuples, unnested
from storage.inbox import mark_done
from storage.models import Action, Entry, Note
from storage.tables import entries, notes

StoreStatus = Literal["stored", "duplicate", "updated", "created", "stale", "missing", "empty"]


@dataclass(frozen=True)
class Stored:
    """What happened to a message: stored (new), duplicate, updated, stale or missing."""

    status: StoreStatus
    day: date | None = None
    note_id: int | None = None
    parent_text: str | None = None


@dataclass(frozen=True)
class MessageRef:
    """Where a message came from."""

    user_id: int
    chat_id: int
    message_id: int
    at: datetime


@dataclass(frozen=True)
class NewMessage:
    """A new message's notes, to store (see Notes.add_message)."""

    ref: MessageRef
    day: date
    drafts: list[NoteDraft]
    reply_to: int | None = None
    album: str | None = None


# The group commit's statements, built once: each list is one parameter (an expanding IN
# list, a JSON array, an array), so each group's statement is this one, not a new one for
# SQLAlchemy to key and look up.
_REFS, _CHAT, _MESSAGE = json_tuples("refs", 2)
_EXISTING = (
    select(notes.c.chat_id, notes.c.message_id, notes.c.id)
    .select_from(_REFS)
    .join(notes, and_(notes.c.chat_id == _CHAT, notes.c.message_id == _MESSAGE, notes.c.part == 0))
)
# each day with the last position of its top-level notes (read with it: a round trip less a
# group; an index lookup each, on ix_notes_entry_parent_position)
_TOP = (
    select(func.max(notes.c.position))
    .where(notes.c.entry_id == entries.c.id, notes.c.parent_id.is_(None))
    .scalar_subquery()
)
_DAY_COLUMNS = (entries.c.user_id, entries.c.key, entries.c.id, entries.c.start_date, _TOP)
_DAYS_PG = select(*_DAY_COLUMNS).where(
    tuple_(entries.c.user_id, entries.c.key).in_(bindparam("keys", expanding=True))
)
_KEYS, _USER, _KEY = json_tuples("keys", 2)
_DAYS = (
    select(*_DAY_COLUMNS)
    .select_from(_KEYS)
    .join(entries, and_(entries.c.user_id == _USER, entries.c.key == _KEY))
)
# matched back by (chat, message, part), which is unique: rows may come back in any order
_INSERT_NOTES = insert(notes).returning(
    notes.c.id, notes.c.chat_id, notes.c.message_id, notes.c.part
)
_INSERT_DAYS = insert(entries).returning(
    entries.c.user_id, entries.c.key, entries.c.id, entries.c.start_date
)
# PostgreSQL gets a group's rows and refs as one array per column, unnested (engine.unnested):
# one short statement whatever the group's size (a 28-note INSERT … VALUES had 400 parameters)
_COLUMNS = (
    "user_id", "entry_id", "parent_id", "position", "kind", "ordered", "paren", "done",
    "text", "chat_id", "message_id", "part", "sent_at", "created_at",
)  # fmt: skip
_INSERT_NOTES_PG = (
    insert(notes)
    .from_select(_COLUMNS, unnested(notes, _COLUMNS))
    .returning(notes.c.id, notes.c.chat_id, notes.c.message_id, notes.c.part)
)
_EXISTING_PG = select(notes.c.chat_id, notes.c.message_id, notes.c.id).where(
    notes.c.part == 0,
    tuple_(notes.c.chat_id, notes.c.message_id).in_(
        select(
            func.unnest(bindparam("chats", type_=ARRAY(BigInteger()))),
            func.unnest(bindparam("messages", type_=ARRAY(BigInteger()))),
        )
    ),
)


class Notes:
    """Writes a message's notes; idempotent per (chat, message); one transaction per call."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    @staticmethod
    def _entry_for(s: Session, user_id: int, days: DayRange, now: datetime) -> Entry:
        """Get or create the entry of a day (or range) inside an open transaction."""
        found = s.scalar(select(Entry).where(Entry.user_id == user_id, Entry.key == days.key))
        if found is not None:
            return found
        entry = Entry(
            user_id=user_id,
            kind="day",
            key=days.key,
            start_date=days.start,
            end_date=days.end,
            level=2,
            position=0,
            created_at=now,
        )
        try:
            with s.begin_nested():
                s.add(entry)
        except IntegrityError:
            found = s.scalar(select(Entry).where(Entry.user_id == user_id, Entry.key == days.key))
            assert found is not None
            return found
        return entry

    @staticmethod
    def _next_position(s: Session, entry_id: int, parent_id: int | None) -> int:
        parent_clause = (
            Note.parent_id.is_(None) if parent_id is None else Note.parent_id == parent_id
        )
        top = s.scalar(
            select(func.max(Note.position)).where(Note.entry_id == entry_id, parent_clause)
        )
        return 0 if top is None else top + 1

    @staticmethod
    def _shift(s: Session, entry_id: int, parent_id: int | None, after: int, by: int) -> None:
        if by <= 0:
            return
        parent_clause = (
            Note.parent_id.is_(None) if parent_id is None else Note.parent_id == parent_id
        )
        s.execute(
            update(Note)
            .where(Note.entry_id == entry_id, parent_clause, Note.position > after)
            .values(position=Note.position + by)
        )

    def _insert_tree(
        self,
        s: Session,
        ref: MessageRef,
        entry_id: int,
        parent_id: int | None,
        position: int,
        draft: NoteDraft,
        part: int,
        now: datetime,
    ) -> tuple[Note, int]:
        note = Note(**_row(ref, (entry_id, parent_id, position), draft, part, now))
        s.add(note)
        s.flush()
        part += 1
        for i, child in enumerate(draft.children):
            _, part = self._insert_tree(s, ref, entry_id, note.id, i, child, part, now)
        return note, part

    def _refile(
        self, s: Session, ref: MessageRef, root: Note, day: date, now: datetime
    ) -> Entry | None:
        """An edit that names another day (`2021-4-1: …`) moves the message's bullets there.

        Replies nested under them move along; a reply itself stays under its parent.
        """
        entry = s.get(Entry, root.entry_id)
        if entry is None or root.parent_id is not None or entry.start_date == day:
            return entry
        if entry.kind != "day" or entry.start_date != entry.end_date:
            return entry  # an imported range or a section: not a message's own day
        target = self._entry_for(s, ref.user_id, DayRange.single(day), now)
        tops = s.scalars(
            select(Note)
            .where(
                Note.chat_id == ref.chat_id,
                Note.message_id == ref.message_id,
                Note.parent_id.is_(None),
            )
            .order_by(Note.position, Note.id)
        ).all()
        start = self._next_position(s, target.id, None)
        level = [n.id for n in tops]
        for i, top in enumerate(tops):
            top.position = start + i
        while level:
            s.execute(update(Note).where(Note.id.in_(level)).values(entry_id=target.id))
            level = list(s.scalars(select(Note.id).where(Note.parent_id.in_(level))))
        return target

    @staticmethod
    def _album_head(s: Session, chat_id: int, album: str) -> Note | None:
        """The captioned first photo of an album, if the album has one and it is still there."""
        first = s.scalar(
            select(Note)
            .where(Note.chat_id == chat_id, Note.media_group == album, Note.part == 0)
            .order_by(Note.message_id)
            .limit(1)
        )
        if first is None or first.deleted_at is not None or is_bare_image(first.text):
            return None
        return first

    def _root(self, s: Session, chat_id: int, message_id: int) -> Note | None:
        return s.scalar(
            select(Note).where(
                Note.chat_id == chat_id, Note.message_id == message_id, Note.part == 0
            )
        )

    def add_message(
        self,
        ref: MessageRef,
        day: date,
        drafts: list[NoteDraft],
        reply_to: int | None = None,
        album: str | None = None,
    ) -> Stored:
        """Store a message's notes once; a reply nests under the note it answers.

        The photos of an album (one message each, sharing `album`, with no end marker)
        nest under the album's first photo when that one has a caption.
        """
        new = NewMessage(ref, day, drafts, reply_to, album)
        now = self._clock.now()
        try:
            with self._sessions.begin() as s:
                return self._add(s, new, now)
        except IntegrityError:
            return Stored("duplicate")  # another delivery of the same message won the race

    def add_many(
        self, messages: list[NewMessage], inbox_done: list[int] | None = None
    ) -> list[Stored | Exception]:
        """Store several messages in one transaction (a group commit), in order, and mark
        the inbox rows they came from processed in the same commit.

        A group of plain new messages goes in a few statements for them all (_add_fast);
        otherwise, or when that meets another writer's row, each message has its own
        savepoint: one that fails is rolled back alone and its slot holds the error. A
        database that is away fails the whole call, and then nothing of it is stored.
        """
        now = self._clock.now()
        try:
            # no savepoint around the fast path (two round trips a group on PostgreSQL): on
            # its IntegrityError the whole transaction is rolled back, nothing of it stored
            with self._sessions.begin() as s:
                self._write_lock(s)
                fast = self._add_fast(s, messages, now)
                if fast is not None:
                    mark_done(s, inbox_done or [], now)
                    return fast
                return self._one_by_one(s, messages, inbox_done or [], now)
        except IntegrityError:
            pass  # another writer got there first: one message at a time, anew
        with self._sessions.begin() as s:
            self._write_lock(s)
            return self._one_by_one(s, messages, inbox_done or [], now)

    @staticmethod
    def _write_lock(s: Session) -> None:
        if s.get_bind().dialect.name == "sqlite":
            # the write lock first (waiting for it up to busy_timeout): a transaction
            # opened by the first SAVEPOINT would read first, and SQLite refuses at
            # once to turn a read into a write when another writer committed meanwhile
            s.connection().exec_driver_sql("BEGIN IMMEDIATE")

    def _one_by_one(
        self, s: Session, messages: list[NewMessage], inbox_done: list[int], now: datetime
    ) -> list[Stored | Exception]:
        """Each message in its own savepoint, in an open transaction; then the inbox's marks."""
        results: list[Stored | Exception] = []
        for new in messages:
            try:
                with s.begin_nested():
                    results.append(self._add(s, new, now))
            except IntegrityError:
                results.append(Stored("duplicate"))
            except Exception as exc:
                if is_transient(exc):
                    raise
                results.append(exc)
        mark_done(s, inbox_done, now)
        return results

    def _add_fast(
        self, s: Session, messages: list[NewMessage], now: datetime
    ) -> list[Stored | Exception] | None:
        """A group of plain new messages (no reply, no album, each once) in a few statements
        for the whole group instead of a few per note; None when the group is not that.

        Core statements on the tables, not ORM objects: a multi-row INSERT … RETURNING per
        tree level whose rows are matched back by (chat, message, part), which is unique,
        so the database may return them in any order (asking SQLAlchemy for the parameters'
        order made it insert one row per statement on SQLite).
        """
        if any(m.reply_to is not None or m.album is not None or not m.drafts for m in messages):
            return None
        refs = [(m.ref.chat_id, m.ref.message_id) for m in messages]
        if len(set(refs)) < len(refs):
            return None
        pg = s.get_bind().dialect.name == "postgresql"
        if pg:
            chats, message_ids = [chat for chat, _ in refs], [message for _, message in refs]
            found = s.execute(_EXISTING_PG, {"chats": chats, "messages": message_ids}).all()
        else:
            found = s.execute(_EXISTING, {"refs": json_rows(refs)}).all()
        existing = {(chat, message): note_id for chat, message, note_id in found}
        new = [m for m in messages if (m.ref.chat_id, m.ref.message_id) not in existing]
        tops: dict[int, int | None] = {}
        days = self._days_for(s, {(m.ref.user_id, DayRange.single(m.day)) for m in new}, now, tops)
        following = {entry_id: top + 1 for entry_id, top in tops.items() if top is not None}
        # the notes level by level (a level's ids are their children's parent_id)
        level: list[tuple[dict[str, Any], NoteDraft]] = []
        for m in new:
            entry_id, _ = days[(m.ref.user_id, DayRange.single(m.day).key)]
            start = following.get(entry_id, 0)
            following[entry_id] = start + len(m.drafts)
            part = 0
            for i, draft in enumerate(m.drafts):
                level.append((_row(m.ref, (entry_id, None, start + i), draft, part, now), draft))
                part += _size(draft)
        roots: dict[tuple[int, int], int] = {}  # each new message's first note
        while level:
            rows = [row for row, _ in level]
            inserted = (
                s.execute(_INSERT_NOTES_PG, by_column(rows, _COLUMNS))
                if pg
                else s.execute(_INSERT_NOTES, rows)
            )
            ids = {(chat, message, part): note_id for note_id, chat, message, part in inserted}
            below: list[tuple[dict[str, Any], NoteDraft]] = []
            for row, draft in level:
                note_id = ids[(row["chat_id"], row["message_id"], row["part"])]
                if row["part"] == 0:
                    roots[(row["chat_id"], row["message_id"])] = note_id
                part = row["part"] + 1
                ref = MessageRef(row["user_id"], row["chat_id"], row["message_id"], row["sent_at"])
                for i, child in enumerate(draft.children):
                    below.append(
                        (_row(ref, (row["entry_id"], note_id, i), child, part, now), child)
                    )
                    part += _size(child)
            level = below
        stored = {
            (m.ref.chat_id, m.ref.message_id): Stored(
                "stored",
                day=days[(m.ref.user_id, DayRange.single(m.day).key)][1],
                note_id=roots[(m.ref.chat_id, m.ref.message_id)],
            )
            for m in new
        }
        return [stored.get(ref) or Stored("duplicate", note_id=existing[ref]) for ref in refs]

    @staticmethod
    def _days_for(
        s: Session, wanted: set[tuple[int, DayRange]], now: datetime, tops: dict[int, int | None]
    ) -> dict[tuple[int, str], tuple[int, date | None]]:
        """The day entries of a group of notes, (id, start date) by (user, key), made where
        missing (one query, one insert); `tops` gets the last top-level position of each
        day found (a day made here has no notes)."""
        if not wanted:
            return {}
        keys = sorted({(user_id, days.key) for user_id, days in wanted})
        if s.get_bind().dialect.name == "postgresql":
            found = s.execute(_DAYS_PG, {"keys": keys}).all()
        else:
            found = s.execute(_DAYS, {"keys": json_rows(keys)}).all()
        days = {(user_id, key): (entry_id, start) for user_id, key, entry_id, start, _ in found}
        tops.update((entry_id, top) for _, _, entry_id, _, top in found)
        missing = {(u, d.key): d for u, d in wanted if (u, d.key) not in days}
        if missing:
            # a concurrent writer that made one first: IntegrityError, one at a time
            made = s.execute(
                _INSERT_DAYS,
                [
                    {
                        "user_id": user_id,
                        "kind": "day",
                        "key": key,
                        "start_date": d.start,
                        "end_date": d.end,
                        "level": 2,
                        "position": 0,
                        "created_at": now,
                    }
                    for (user_id, key), d in sorted(missing.items(), key=lambda item: item[0])
                ],
            ).all()
            days.update({(u, key): (entry_id, start) for u, key, entry_id, start in made})
        return days

    def _add(self, s: Session, new: NewMessage, now: datetime) -> Stored:
        """One message's notes, inside an open transaction."""
        ref, album = new.ref, new.album
        if not new.drafts:
            raise ValueError("a message with nothing to store")
        existing = self._root(s, ref.chat_id, ref.message_id)
        if existing is not None:
            return Stored("duplicate", note_id=existing.id)
        parent = self._album_head(s, ref.chat_id, album) if album else None
        if parent is None and new.reply_to is not None:
            parent = self._root(s, ref.chat_id, new.reply_to)
            if parent is not None and parent.deleted_at is not None:
                parent = None
        if parent is not None:
            entry = s.get(Entry, parent.entry_id)
            assert entry is not None
            parent_id: int | None = parent.id
        else:
            entry = self._entry_for(s, ref.user_id, DayRange.single(new.day), now)
            parent_id = None
        position = self._next_position(s, entry.id, parent_id)
        part = 0
        root: Note | None = None
        for i, draft in enumerate(new.drafts):
            note, part = self._insert_tree(
                s, ref, entry.id, parent_id, position + i, draft, part, now
            )
            root = root or note
        assert root is not None
        root.media_group = album
        return Stored(
            "stored",
            day=entry.start_date,
            note_id=root.id,
            parent_text=parent.text if parent else None,
        )

    def edit_message(
        self, ref: MessageRef, drafts: list[NoteDraft], day: date, reply_to: int | None = None
    ) -> Stored:
        """Replace a message's notes in place if the edit is newer; store it if never seen."""
        now = self._clock.now()
        with self._sessions.begin() as s:
            root = self._root(s, ref.chat_id, ref.message_id)
            if root is None:
                pass
            elif root.deleted_at is not None:
                return Stored("missing")
            elif (root.edited_at or root.sent_at or root.created_at) > ref.at:
                # equal times (Telegram's dates are whole seconds): updates arrive in order,
                # so the later arrival is the later edit and wins
                return Stored("stale", note_id=root.id)
            elif not drafts:
                return Stored("empty", note_id=root.id)
            else:
                s.execute(
                    delete(Note).where(
                        Note.chat_id == ref.chat_id,
                        Note.message_id == ref.message_id,
                        Note.part > 0,
                    )
                )
                first, *siblings = drafts
                root.text = first.text
                root.ordered = first.ordered
                root.paren = first.paren
                root.done = first.done or root.done
                root.kind = first.kind
                root.edited_at = ref.at
                others = s.scalars(
                    select(Note)
                    .where(Note.parent_id == root.id, Note.part == 0)
                    .order_by(Note.position, Note.id)
                ).all()
                for i, other in enumerate(others):  # replies keep their order after the parts
                    other.position = len(first.children) + i
                part = 1
                for i, child in enumerate(first.children):
                    _, part = self._insert_tree(s, ref, root.entry_id, root.id, i, child, part, now)
                self._shift(s, root.entry_id, root.parent_id, root.position, len(siblings))
                for i, sib in enumerate(siblings, start=1):
                    note, part = self._insert_tree(
                        s, ref, root.entry_id, root.parent_id, root.position + i, sib, part, now
                    )
                    note.edited_at = ref.at
                s.flush()
                entry = self._refile(s, ref, root, day, now)
                return Stored("updated", day=entry.start_date if entry else None, note_id=root.id)
        if not drafts:
            return Stored("empty")
        result = self.add_message(ref, day, drafts, reply_to)
        return Stored("created", day=result.day, note_id=result.note_id)

    def undo_last(self, user_id: int, chat_id: int, command_message_id: int) -> str | None:
        """Soft-delete the newest note the user sent; replaying the same /undo does no more."""
        now = self._clock.now()
        with self._sessions.begin() as s:
            done = s.get(Action, (chat_id, command_message_id))
            if done is not None:
                return done.result or None
            root = s.scalar(
                select(Note)
                .where(
                    Note.user_id == user_id,
                    Note.part == 0,
                    Note.message_id.is_not(None),
                    Note.deleted_at.is_(None),
                )
                .order_by(Note.created_at.desc(), Note.id.desc())
                .limit(1)
            )
            removed = ""
            if root is not None:
                s.execute(
                    update(Note)
                    .where(Note.chat_id == root.chat_id, Note.message_id == root.message_id)
                    .values(deleted_at=now)
                )
                removed = root.text
            s.add(
                Action(
                    chat_id=chat_id,
                    message_id=command_message_id,
                    kind="undo",
                    result=removed,
                    created_at=now,
                )
            )
            return removed or None

    def set_done(self, chat_id: int, message_id: int, done: bool) -> str | None:
        """Mark the note of a message as a done (or open) TODO; returns its text."""
        with self._sessions.begin() as s:
            root = self._root(s, chat_id, message_id)
            if root is None or root.deleted_at is not None:
                return None
            root.done = done
            return root.text

    def set_done_by_id(self, user_id: int, note_id: int, done: bool) -> str | None:
        """Mark one of the user's notes done (or open); its text, or None if it is not theirs."""
        with self._sessions.begin() as s:
            note = s.get(Note, note_id)
            if note is None or note.user_id != user_id or note.deleted_at is not None:
                return None
            note.done = done
            return note.text


def _size(draft: NoteDraft) -> int:
    """How many notes a draft becomes (itself and its children, all the way down)."""
    return 1 + sum(_size(child) for child in draft.children)


def _row(
    ref: MessageRef, place: tuple[int, int | None, int], draft: NoteDraft, part: int, now: datetime
) -> dict[str, Any]:
    """A note's columns, `place` being (entry_id, parent_id, position)."""
    entry_id, parent_id, position = place
    return {
        "user_id": ref.user_id,
        "entry_id": entry_id,
        "parent_id": parent_id,
        "position": position,
        "kind": draft.kind,
        "ordered": draft.ordered,
        "paren": draft.paren,
        "done": draft.done,
        "text": draft.text,
        "chat_id": ref.chat_id,
        "message_id": ref.message_id,
        "part": part,
        "sent_at": ref.at,
        "created_at": now,
    }

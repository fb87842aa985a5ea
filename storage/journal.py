"""Journal repository: users, days and notes, with idempotent writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.core.capture import is_bare_image
from bot.core.clock import Clock
from bot.core.days import DayRange
from bot.core.digest import TODO_PREFIXES, is_open_todo
from bot.core.notes import NoteDraft, build_tree
from storage.models import Action, Entry, Note, User
from storage.tables import new_user


@dataclass(frozen=True)
class UserInfo:
    """A snapshot of a user's preferences, detached from the database."""

    id: int
    chat_id: int | None
    timezone: str
    reminder_time: str | None
    reminder_mode: str
    snoozed_until: datetime | None
    digest_weekday: int | None
    digest_time: str | None
    blocked: bool
    created_at: datetime


def _info(u: User) -> UserInfo:
    return UserInfo(
        id=u.id,
        chat_id=u.chat_id,
        timezone=u.timezone,
        reminder_time=u.reminder_time,
        reminder_mode=u.reminder_mode,
        snoozed_until=u.snoozed_until,
        digest_weekday=u.digest_weekday,
        digest_time=u.digest_time,
        blocked=u.blocked,
        created_at=u.created_at,
    )


@dataclass(frozen=True)
class Stored:
    """What happened to a message: stored (new), duplicate, updated, stale or missing."""

    status: str
    day: date | None = None
    note_id: int | None = None
    parent_text: str | None = None


@dataclass(frozen=True)
class Hit:
    """A note that matched a search, with where it lives (a day, or a named section)."""

    note_id: int
    days: DayRange | None
    section: str | None
    text: str


@dataclass(frozen=True)
class MessageRef:
    """Where a message came from."""

    user_id: int
    chat_id: int
    message_id: int
    at: datetime


class Journal:
    """Reads and writes the journal; every method runs in its own transaction."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    # ------------------------------------------------------------------ users

    def ensure_user(
        self, user_id: int, chat_id: int, name: str, timezone: str, reminder_time: str | None
    ) -> UserInfo:
        """Get a user, creating them with defaults; writing again un-blocks them."""
        now = self._clock.now()
        with self._sessions.begin() as s:
            user = s.get(User, user_id)
            if user is None:
                user = User(**new_user(user_id, chat_id, name, timezone, reminder_time, now))
                s.add(user)
                try:
                    s.flush()
                except IntegrityError:
                    s.rollback()
                    return self.ensure_user(user_id, chat_id, name, timezone, reminder_time)
            elif user.blocked or user.chat_id != chat_id:
                user.blocked = False
                user.chat_id = chat_id
                user.updated_at = now
            return _info(user)

    def get_user(self, user_id: int) -> UserInfo | None:
        with self._sessions() as s:
            user = s.get(User, user_id)
            return _info(user) if user else None

    def update_user(self, user_id: int, **fields: object) -> UserInfo:
        """Change preferences (timezone, reminder_time, reminder_mode, digest_*, blocked…)."""
        allowed = {
            "timezone", "reminder_time", "reminder_mode", "snoozed_until",
            "digest_weekday", "digest_time", "blocked", "front_matter", "title",
        }  # fmt: skip
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown user fields: {sorted(unknown)}")
        with self._sessions.begin() as s:
            user = s.get(User, user_id)
            if user is None:
                raise LookupError(f"no user {user_id}")
            for key, value in fields.items():
                setattr(user, key, value)
            user.updated_at = self._clock.now()
            return _info(user)

    def all_users(self) -> list[UserInfo]:
        with self._sessions() as s:
            return [_info(u) for u in s.scalars(select(User).order_by(User.id))]

    # ------------------------------------------------------------------ entries

    @staticmethod
    def entry_for(s: Session, user_id: int, days: DayRange, now: datetime) -> Entry:
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

    # ------------------------------------------------------------------ notes

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
        note = Note(
            user_id=ref.user_id,
            entry_id=entry_id,
            parent_id=parent_id,
            position=position,
            kind=draft.kind,
            ordered=draft.ordered,
            done=draft.done,
            text=draft.text,
            chat_id=ref.chat_id,
            message_id=ref.message_id,
            part=part,
            sent_at=ref.at,
            created_at=now,
        )
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
        target = self.entry_for(s, ref.user_id, DayRange.single(day), now)
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
        if not drafts:
            raise ValueError("a message with nothing to store")
        now = self._clock.now()
        try:
            with self._sessions.begin() as s:
                existing = self._root(s, ref.chat_id, ref.message_id)
                if existing is not None:
                    return Stored("duplicate", note_id=existing.id)
                parent = self._album_head(s, ref.chat_id, album) if album else None
                if parent is None and reply_to is not None:
                    parent = self._root(s, ref.chat_id, reply_to)
                    if parent is not None and parent.deleted_at is not None:
                        parent = None
                if parent is not None:
                    entry = s.get(Entry, parent.entry_id)
                    assert entry is not None
                    parent_id: int | None = parent.id
                else:
                    entry = self.entry_for(s, ref.user_id, DayRange.single(day), now)
                    parent_id = None
                position = self._next_position(s, entry.id, parent_id)
                part = 0
                root: Note | None = None
                for i, draft in enumerate(drafts):
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
        except IntegrityError:
            return Stored("duplicate")  # another delivery of the same message won the race

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
            elif (root.edited_at or root.sent_at or root.created_at) >= ref.at:
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

    def remember(self, chat_id: int, message_id: int, kind: str, result: str) -> None:
        """Keep something a later button press on that message needs (survives restarts)."""
        with self._sessions.begin() as s:
            s.merge(
                Action(chat_id=chat_id, message_id=message_id, kind=kind, result=result,
                       created_at=self._clock.now())
            )  # fmt: skip

    def recall(self, chat_id: int, message_id: int, kind: str) -> str | None:
        with self._sessions() as s:
            action = s.get(Action, (chat_id, message_id))
            return action.result if action is not None and action.kind == kind else None

    def set_done(self, chat_id: int, message_id: int, done: bool) -> str | None:
        """Mark the note of a message as a done (or open) TODO; returns its text."""
        with self._sessions.begin() as s:
            root = self._root(s, chat_id, message_id)
            if root is None or root.deleted_at is not None:
                return None
            root.done = done
            return root.text

    # ------------------------------------------------------------------ reading

    def day_notes(self, user_id: int, day: date) -> list[NoteDraft]:
        """The note tree of one day (entries that are exactly that day)."""
        with self._sessions() as s:
            entry = s.scalar(
                select(Entry).where(Entry.user_id == user_id, Entry.key == day.isoformat())
            )
            return [] if entry is None else self._entry_tree(s, entry.id)

    @staticmethod
    def _entry_tree(s: Session, entry_id: int) -> list[NoteDraft]:
        """The live notes of one entry as a tree."""
        rows = s.execute(
            select(Note.id, Note.parent_id, Note.kind, Note.ordered, Note.done, Note.text)
            .where(Note.entry_id == entry_id, Note.deleted_at.is_(None))
            .order_by(Note.position, Note.id)
        ).all()
        return build_tree(rows)

    def notes_on(self, user_id: int, day: date) -> int:
        """How many live notes the day's entry has (for the reminder's wording)."""
        with self._sessions() as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(Note)
                    .join(Entry, Entry.id == Note.entry_id)
                    .where(
                        Entry.user_id == user_id,
                        Entry.key == day.isoformat(),
                        Note.deleted_at.is_(None),
                    )
                )
                or 0
            )

    def days_between(self, user_id: int, start: date, end: date) -> dict[date, list[NoteDraft]]:
        """Note trees of the days (and ranges) that start between start and end."""
        with self._sessions() as s:
            entries = s.execute(
                select(Entry.id, Entry.start_date).where(
                    Entry.user_id == user_id,
                    Entry.kind == "day",
                    Entry.start_date >= start,
                    Entry.start_date <= end,
                )
            ).all()
            out: dict[date, list[NoteDraft]] = {}
            for eid, day in entries:
                tree = self._entry_tree(s, eid)
                if tree and day is not None:
                    out[day] = tree
        return out

    def logged_dates(self, user_id: int) -> set[date]:
        """Every day that has at least one live note (a range counts each of its days)."""
        with self._sessions() as s:
            rows = s.execute(
                select(Entry.start_date, Entry.end_date)
                .where(Entry.user_id == user_id, Entry.kind == "day")
                .where(
                    select(Note.id)
                    .where(Note.entry_id == Entry.id, Note.deleted_at.is_(None))
                    .exists()
                )
            ).all()
        days: set[date] = set()
        for start, end in rows:
            if start is None:
                continue
            cursor = start
            while cursor <= (end or start) and len(days) < 100_000:
                days.add(cursor)
                cursor += timedelta(days=1)
        return days

    def count_notes(self, user_id: int, *, include_deleted: bool = False) -> int:
        with self._sessions() as s:
            q = select(func.count()).select_from(Note).where(Note.user_id == user_id)
            if not include_deleted:
                q = q.where(Note.deleted_at.is_(None))
            return int(s.scalar(q) or 0)

    def search(
        self, user_id: int, words: list[str], limit: int, offset: int = 0
    ) -> tuple[list[Hit], int]:
        """Live notes that contain every word (case-insensitive), newest day first, `limit`
        of them from `offset`; and how many there are.

        The words are bound parameters with LIKE's wildcards escaped: `50%` finds "50%".
        """
        cond: list[ColumnElement[bool]] = [Note.user_id == user_id, Note.deleted_at.is_(None)]
        cond += [Note.text.icontains(w, autoescape=True) for w in words]
        with self._sessions() as s:
            total = int(s.scalar(select(func.count()).select_from(Note).where(*cond)) or 0)
            hits = self._hits(s, cond, limit, offset)
        return hits, total

    def open_todos(self, user_id: int) -> list[Hit]:
        """Every note that reads as an unfinished TODO, newest day first."""
        cond = [
            Note.user_id == user_id,
            Note.deleted_at.is_(None),
            Note.done.is_(False),
            or_(*(Note.text.startswith(p, autoescape=True) for p in TODO_PREFIXES)),
        ]
        with self._sessions() as s:
            return [h for h in self._hits(s, cond, None) if is_open_todo(h.text)]

    @staticmethod
    def _hits(
        s: Session, cond: list[ColumnElement[bool]], limit: int | None, offset: int = 0
    ) -> list[Hit]:
        rows = s.execute(
            select(Note.id, Entry.start_date, Entry.end_date, Entry.title, Note.text)
            .join(Entry, Entry.id == Note.entry_id)
            .where(*cond)
            .order_by(Entry.start_date.is_(None), Entry.start_date.desc(), Note.position, Note.id)
            .limit(limit)
            .offset(offset)
        ).all()
        return [
            Hit(nid, DayRange(a, b or a) if a is not None else None, title, text)
            for nid, a, b, title, text in rows
        ]

    def set_done_by_id(self, user_id: int, note_id: int, done: bool) -> str | None:
        """Mark one of the user's notes done (or open); its text, or None if it is not theirs."""
        with self._sessions.begin() as s:
            note = s.get(Note, note_id)
            if note is None or note.user_id != user_id or note.deleted_at is not None:
                return None
            note.done = done
            return note.text

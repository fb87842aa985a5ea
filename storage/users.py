"""Users: who keeps a journal here, and their preferences (one typed setter per preference)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import Clock
from storage.models import User
from storage.tables import new_user

REMEMBER = timedelta(seconds=5)  # how long a user read for a note is trusted


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
    digest_chart: bool
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
        digest_chart=u.digest_chart,
        created_at=u.created_at,
    )


class Users:
    """Reads and changes users; every method runs in its own transaction."""

    def __init__(
        self, sessions: sessionmaker[Session], clock: Clock, *, remember: timedelta = REMEMBER
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._remember = remember
        # each update's sender, without a read per update: what this process changed it
        # knows; another replica's change is seen once `remember` has passed
        self._known: dict[int, tuple[UserInfo, datetime]] = {}

    def _keep(self, info: UserInfo) -> UserInfo:
        self._known[info.id] = (info, self._clock.now())
        return info

    def ensure(
        self, user_id: int, chat_id: int, name: str, timezone: str, reminder_time: str | None
    ) -> UserInfo:
        """Get a user, creating them with defaults; writing again un-blocks them."""
        now = self._clock.now()
        return self.known(user_id, chat_id) or self._keep(
            self._ensure(user_id, chat_id, name, timezone, reminder_time, now)
        )

    def known(self, user_id: int, chat_id: int) -> UserInfo | None:
        """The user as read lately, if nothing ensure() would change (no database call)."""
        known = self._known.get(user_id)
        if known is None:
            return None
        info, seen = known
        if info.chat_id != chat_id or info.blocked or self._clock.now() - seen >= self._remember:
            return None
        return info

    def _ensure(
        self,
        user_id: int,
        chat_id: int,
        name: str,
        timezone: str,
        reminder_time: str | None,
        now: datetime,
    ) -> UserInfo:
        with self._sessions.begin() as s:
            user = s.get(User, user_id)
            if user is None:
                user = User(**new_user(user_id, chat_id, name, timezone, reminder_time, now))
                s.add(user)
                try:
                    s.flush()
                except IntegrityError:
                    s.rollback()
                    return self._ensure(user_id, chat_id, name, timezone, reminder_time, now)
            elif user.blocked or user.chat_id != chat_id:
                user.blocked = False
                user.chat_id = chat_id
                user.updated_at = now
            return _info(user)

    def get(self, user_id: int) -> UserInfo | None:
        with self._sessions() as s:
            user = s.get(User, user_id)
            return _info(user) if user else None

    def get_many(self, user_ids: Iterable[int]) -> list[UserInfo]:
        """The users among user_ids that exist, in one read (in id order)."""
        wanted = sorted(set(user_ids))
        if not wanted:
            return []
        with self._sessions() as s:
            found = s.scalars(select(User).where(User.id.in_(wanted)).order_by(User.id))
            return [_info(u) for u in found]

    def all(self) -> list[UserInfo]:
        with self._sessions() as s:
            return [_info(u) for u in s.scalars(select(User).order_by(User.id))]

    def set_timezone(self, user_id: int, timezone: str) -> UserInfo:
        def apply(u: User) -> None:
            u.timezone = timezone

        return self._change(user_id, apply)

    def set_reminder(self, user_id: int, at: str | None) -> UserInfo:
        """Remind at `at` (HH:MM, the user's time); None turns reminders off and drops a snooze."""

        def apply(u: User) -> None:
            u.reminder_time = at
            if at is None:
                u.snoozed_until = None

        return self._change(user_id, apply)

    def set_reminder_mode(self, user_id: int, mode: str) -> UserInfo:
        """ "always", or "skip" on days that already have notes."""

        def apply(u: User) -> None:
            u.reminder_mode = mode

        return self._change(user_id, apply)

    def set_digest(
        self, user_id: int, weekday: int | None, at: str | None, chart: bool = False
    ) -> UserInfo:
        """The weekly digest's day (0 = Monday), time, and whether the year's heatmap comes
        with it; None, None turns it off."""

        def apply(u: User) -> None:
            u.digest_weekday = weekday
            u.digest_time = at
            u.digest_chart = chart

        return self._change(user_id, apply)

    def snooze(self, user_id: int, until: datetime | None) -> UserInfo:
        """Hold today's reminder until `until`; None clears the snooze."""

        def apply(u: User) -> None:
            u.snoozed_until = until

        return self._change(user_id, apply)

    def mark_blocked(self, user_id: int) -> UserInfo:
        """The user blocked the bot: nothing more is sent until they write again."""

        def apply(u: User) -> None:
            u.blocked = True

        return self._change(user_id, apply)

    def _change(self, user_id: int, apply: Callable[[User], None]) -> UserInfo:
        with self._sessions.begin() as s:
            user = s.get(User, user_id)
            if user is None:
                raise LookupError(f"no user {user_id}")
            apply(user)
            user.updated_at = self._clock.now()
            info = _info(user)
        return self._keep(info)

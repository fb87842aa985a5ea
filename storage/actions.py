"""Actions: what a later button press on a bot message needs, kept across restarts."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import Clock
from storage.models import Action


class Actions:
    """One row per (chat, message): the kind of action and what it carries."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

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

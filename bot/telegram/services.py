"""What every handler needs, built once in main() and reached through the context."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine
from telegram.ext import CallbackContext, ExtBot

from bot.core.clock import Clock
from bot.core.days import journal_day, zone
from bot.settings import Settings
from bot.worker import BOT_LIMITS, Limits
from storage.actions import Actions
from storage.ledger import Ledger
from storage.notes import Notes
from storage.reader import Reader
from storage.users import UserInfo, Users

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Services:
    """Settings, clock and repositories shared by the handlers and jobs."""

    settings: Settings
    clock: Clock
    users: Users
    notes: Notes
    reader: Reader
    actions: Actions
    ledger: Ledger
    engine: Engine
    extras: dict[str, Any]
    parse_limits: Limits = BOT_LIMITS  # for files parsed in a worker process (bot.worker)

    def today(self, user: UserInfo) -> date:
        return journal_day(self.clock.now(), zone(user.timezone), self.settings.day_starts_at)


Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]

KEY = "rizhilu.services"


def services(context: Context) -> Services:
    """The Services object the application was built with."""
    svc = context.application.bot_data[KEY]
    assert isinstance(svc, Services)
    return svc


async def db(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a blocking repository call off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)

"""The CLI's one way to open the journal: say which database, never invent one to read."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from bot.cli import CliError
from bot.settings import Settings

if TYPE_CHECKING:  # `rizhilu --help` and `--version` need no database code
    from sqlalchemy import Engine


def database_url(settings: Settings, *, create: bool = True) -> str:
    """DATABASE_URL, announced on stderr in one line.

    With create=False a missing SQLite file is an error instead of a new empty journal
    (an export run in the wrong folder would otherwise "succeed" with nothing in it).
    """
    from storage.engine import describe, sqlite_file

    path = sqlite_file(settings.database_url)
    if not create and path is not None and not path.exists():
        raise CliError(
            f"DATABASE_URL: there is no journal at {path}; run the command where the bot "
            "runs, or set DATABASE_URL (or --env-file)"
        )
    print(f"database: {describe(settings.database_url)}", file=sys.stderr)
    return settings.database_url


def open_database(settings: Settings, *, create: bool = True) -> Engine:
    """An engine for DATABASE_URL, announced on stderr in one line (see database_url)."""
    from storage.engine import make_engine

    return make_engine(database_url(settings, create=create))


def journal_user(engine: Engine, user_id: int | None) -> int:
    """The user whose journal a command reads: --user, or the only user of a personal bot."""
    from storage import bulk_export

    found = user_id if user_id is not None else bulk_export.only_user(engine)
    if found is None:
        raise CliError("several users (or none) in the database: pass --user ID")
    return found

"""The `rizhilu` command: run the bot, export and import journals."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
import textwrap
from collections.abc import Sequence
from typing import Literal

from bot import __version__
from bot.core.clock import SystemClock
from bot.settings import Settings, SettingsError, load_settings, setting_names

log = logging.getLogger("rizhilu")

Failure = Literal["usage", "unavailable"]

# The one table of exit codes: 2 = the user can fix the command, its files or its settings;
# 1 = something outside (Telegram, the network) refused; 0 = done (or stdout went away).
EXIT_CODES: dict[Failure, int] = {"usage": 2, "unavailable": 1}


class CliError(Exception):
    """Why a command stopped: the one line for stderr and the kind (which picks the exit code)."""

    def __init__(self, message: str, kind: Failure = "usage") -> None:
        super().__init__(message)
        self.kind: Failure = kind


def _cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from bot.logs import setup_logging
    from bot.telegram.intake import IntakeStopped
    from bot.telegram.runner import run_bot

    token = settings.token()
    hook = settings.webhook_secret
    setup_logging(
        settings.log_level,
        token,
        [hook.get_secret_value()] if hook else [],
        fmt=settings.log_format,
    )
    from telegram.error import InvalidToken, NetworkError

    from storage.engine import DatabaseUnavailable

    try:
        asyncio.run(run_bot(settings, SystemClock(), handle_signals=True))
    except (IntakeStopped, InvalidToken):
        raise CliError(
            "Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather", "unavailable"
        ) from None
    except NetworkError as exc:
        raise CliError(
            f"cannot reach the Bot API ({exc}); check the network", "unavailable"
        ) from None
    except DatabaseUnavailable as exc:
        raise CliError(f"cannot open the database {exc}", "unavailable") from None
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        raise CliError(
            f"cannot listen: {exc.strerror}; choose another WEBHOOK_PORT or WEBHOOK_LISTEN "
            "(or METRICS_PORT), or stop what holds it",
            "unavailable",
        ) from None
    except KeyboardInterrupt:
        pass
    return 0


def _cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli_db import open_database
    from storage.engine import migrate

    migrate(open_database(settings))
    print("database is up to date")
    return 0


def _cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.cli_db import open_database
    from storage.backup import BackupError, backup

    engine = open_database(settings, create=False)
    try:
        report = backup(engine, Path(args.path))
    except BackupError as exc:
        raise CliError(str(exc)) from None
    finally:
        engine.dispose()
    print(f"wrote {report.path} ({report.size:,} bytes, {report.notes:,} notes, integrity ok)")
    return 0


def _cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from storage.backup import RestoreError, restore
    from storage.engine import ensure_schema, make_engine, sqlite_file

    database = sqlite_file(settings.database_url)
    if database is None:
        raise CliError(
            "restore replaces a SQLite journal; for PostgreSQL restore a pg_dump with "
            "pg_restore (or psql)"
        )
    try:
        report = restore(database, Path(args.path), SystemClock().now())
    except RestoreError as exc:
        raise CliError(str(exc)) from None
    engine = make_engine(settings.database_url)
    try:
        ensure_schema(engine)  # a backup from an older rizhilu is brought up to date
    finally:
        engine.dispose()
    print(f"restored {args.path} into {database} ({report.notes:,} notes, integrity ok)")
    if report.safety_copy is not None:
        print(f"the journal it replaced is kept as {report.safety_copy}")
    return 0


def examples(*lines: str) -> str:
    """An argparse epilog: 'examples:' and the command lines, indented as --help shows them."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def _settings_sources() -> str:
    names = ", ".join(name.upper() for name in setting_names())
    return (
        "settings come from, first match wins:\n"
        "  1. the environment (e.g. TELEGRAM_BOT_TOKEN=... rizhilu run)\n"
        "  2. the settings file: .env in the current folder, or the one --env-file names\n"
        "     (rizhilu --env-file /etc/rizhilu.env run); .env.example documents each\n"
        "  3. the defaults\n\n"
        "settings:\n" + textwrap.fill(names, width=78, initial_indent="  ", subsequent_indent="  ")
    )


def _cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    from bot.doctor import run_checks

    failed = total = 0
    for check in run_checks(settings):
        print(check.line(), flush=True)
        total += 1
        failed += not check.ok
    if failed:
        raise CliError(f"{failed} of {total} checks failed", "unavailable")
    print(f"all {total} checks passed")
    return 0


def build_parser() -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="rizhilu",
        description="日知录: a Telegram bot that keeps a daily work journal.",
        formatter_class=raw,
        epilog=examples("rizhilu run", "rizhilu --env-file prod.env export --out journal.md")
        + "\n\nrun `rizhilu COMMAND --help` for a command's options and examples",
    )
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    parser.add_argument("--version", action="version", version=f"rizhilu {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="run the bot (long polling, or a webhook when WEBHOOK_URL is set)",
        description="Run the bot until Ctrl-C or SIGTERM.",
        formatter_class=raw,
        epilog=_settings_sources()
        + "\n\n"
        + examples("rizhilu run", "rizhilu --env-file /etc/rizhilu.env run"),
    )
    run.set_defaults(func=_cmd_run)
    mig = sub.add_parser(
        "migrate",
        help="apply database migrations and exit",
        formatter_class=raw,
        epilog=examples(
            "rizhilu migrate", "DATABASE_URL=postgresql://me@db/rizhilu rizhilu migrate"
        ),
    )
    mig.set_defaults(func=_cmd_migrate)
    bak = sub.add_parser(
        "backup",
        help="copy the SQLite journal safely while the bot runs",
        formatter_class=raw,
        epilog=examples("rizhilu backup backups/rizhilu-$(date +%F).db"),
    )
    bak.add_argument("path", help="the new file, e.g. backups/rizhilu-2021-04-08.db")
    bak.set_defaults(func=_cmd_backup)
    res = sub.add_parser(
        "restore",
        help="replace the SQLite journal with a backup (stop the bot first)",
        description="Check a backup (SQLite integrity, a schema this rizhilu knows), keep the "
        "current journal beside it as DB.before-restore-TIME, and swap the backup in "
        "atomically. Refused while the bot runs on the journal. PostgreSQL: use pg_restore.",
        formatter_class=raw,
        epilog=examples(
            "rizhilu restore backups/rizhilu-20210408-033000.db",
            "rizhilu --env-file /etc/rizhilu.env restore /srv/backups/rizhilu-20210408-033000.db",
        ),
    )
    res.add_argument("path", help="a backup made by `rizhilu backup` or BACKUP_DIR")
    res.set_defaults(func=_cmd_restore)
    doc = sub.add_parser(
        "doctor",
        help="check the settings, the token, the database and the folders; exit 1 if not",
        formatter_class=raw,
        epilog=examples("rizhilu doctor", "rizhilu --env-file /etc/rizhilu/rizhilu.env doctor"),
    )
    doc.set_defaults(func=_cmd_doctor)
    from bot import cli_journal, cli_site, demo

    cli_journal.add_commands(sub)
    cli_site.add_command(sub)
    demo.add_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # the journal, media, backups and exports are private: 0600 files, 0700 folders
    os.umask(0o077)
    try:
        try:
            settings = load_settings(args.env_file)
            result: int = args.func(settings, args)
            return result
        except SettingsError as exc:
            raise CliError(str(exc)) from None
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CODES[exc.kind]
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    # `python -m bot.cli` runs this file as __main__, a second copy of the module: the
    # subcommands raise bot.cli.CliError, which only the real module's main() catches
    from bot.cli import main as real_main

    sys.exit(real_main())

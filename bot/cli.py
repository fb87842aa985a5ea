"""The `rizhilu` command: run the bot, export and import journals."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot.core.clock import SystemClock
from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("rizhilu")


def _cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from bot.logs import setup_logging
    from bot.telegram.intake import IntakeStopped
    from bot.telegram.runner import run_bot

    token = settings.token()
    setup_logging(settings.log_level, token)
    from telegram.error import InvalidToken, NetworkError

    try:
        asyncio.run(run_bot(settings, SystemClock(), handle_signals=True))
    except (IntakeStopped, InvalidToken):
        print(
            "error: Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather", file=sys.stderr
        )
        return 1
    except NetworkError as exc:
        print(f"error: cannot reach the Bot API ({exc}); check the network", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def _cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from storage.engine import make_engine, migrate

    migrate(make_engine(settings.database_url))
    print("database is up to date")
    return 0


def _cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from storage.backup import BackupError, backup
    from storage.engine import make_engine

    engine = make_engine(settings.database_url)
    try:
        report = backup(engine, Path(args.path))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"wrote {report.path} ({report.size:,} bytes, {report.notes:,} notes, integrity ok)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rizhilu", description="日知录: a Telegram bot that keeps a daily work journal."
    )
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot (long polling)")
    run.set_defaults(func=_cmd_run)
    mig = sub.add_parser("migrate", help="apply database migrations and exit")
    mig.set_defaults(func=_cmd_migrate)
    bak = sub.add_parser("backup", help="copy the SQLite journal safely while the bot runs")
    bak.add_argument("path", help="the new file, e.g. backups/rizhilu-2021-04-08.db")
    bak.set_defaults(func=_cmd_backup)
    from bot import cli_journal

    cli_journal.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.env_file)
        result: int = args.func(settings, args)
        return result
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())

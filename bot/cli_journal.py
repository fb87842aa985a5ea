"""`rizhilu export` and `rizhilu import`: the same core and storage as the bot, no Telegram."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, get_args

from bot import texts
from bot.cli import CliError, Failure, examples
from bot.cli_db import journal_user, open_database
from bot.core.clock import SystemClock
from bot.core.days import parse_date
from bot.core.export import Format, Order, Split
from bot.core.notes import MAX_DEPTH
from bot.settings import Settings

if TYPE_CHECKING:  # the export code loads when a command runs: `rizhilu run` never needs it
    from bot.exporting import ExportResult


def _date_arg(text: str) -> date:
    try:
        return parse_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_commands(sub: Any) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    exp = sub.add_parser(
        "export",
        help="write the journal as markdown (a Jekyll post)",
        formatter_class=raw,
        epilog=examples(
            "rizhilu export --out _posts/2021-04-08-rizhilu.md",
            "rizhilu export --from 2021-3-1 --to 2021-3-31 --order oldest --format plain",
            "rizhilu export --split month --out _posts",
            "rizhilu export --from 2021-1-1 --to 2021-12-31 --split month --out 2021.zip",
            "rizhilu export --format obsidian --out vault/daily",
            "rizhilu export --out site/_posts/2021-01-01-log.md --media-out site/assets/journal",
            "rizhilu export --out site/_posts/2021-01-01-log.md --git push",
        ),
    )
    exp.add_argument("--user", type=int, help="Telegram user id (default: the only user)")
    exp.add_argument(
        "--out",
        default="-",
        help="file or - (stdout); with --split or obsidian a folder or a .zip",
    )
    exp.add_argument("--from", dest="start", type=_date_arg, help="first day, e.g. 2021-3-1")
    exp.add_argument("--to", dest="end", type=_date_arg, help="last day, e.g. 2021-3-31")
    exp.add_argument("--order", choices=get_args(Order), default="newest")
    exp.add_argument(
        "--split", choices=get_args(Split), default="none", help="one Jekyll post per period"
    )
    exp.add_argument("--format", choices=get_args(Format), default="jekyll")
    exp.add_argument(
        "--media-out",
        type=Path,
        metavar="DIR",
        help="copy the images the export links to into DIR (only those that changed) and link"
        " them as EXPORT_MEDIA_URL + path (obsidian: always beside the notes)",
    )
    exp.add_argument(
        "--git",
        choices=["commit", "push"],
        help="then commit the post (--out FILE) and its media in the blog's git repository,"
        " and push it",
    )
    exp.set_defaults(func=cmd_export)
    imp = sub.add_parser(
        "import",
        help="import a journal post in the sample's markdown style",
        formatter_class=raw,
        epilog=examples(
            "rizhilu import journal.md --user 123456789 --dry-run",
            "rizhilu import journal.md --user 123456789 --fix-dates",
        ),
    )
    imp.add_argument("path", type=Path)
    imp.add_argument("--user", type=int, required=True, help="Telegram user id to import for")
    imp.add_argument("--dry-run", action="store_true", help="report only; write nothing")
    imp.add_argument(
        "--fix-dates",
        action="store_true",
        help="import days that are out of the file's order under the suggested date",
    )
    imp.set_defaults(func=cmd_import)


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.blog_git import publish
    from bot.exporting import ExportError, ExportRequest, write_export
    from storage.engine import ensure_schema

    if args.git and (args.out == "-" or args.split != "none" or args.format == "obsidian"):
        raise CliError("--git commits one post: give --out FILE (no --split, no obsidian)")
    engine = open_database(settings, create=False)
    try:
        ensure_schema(engine)
        user_id = journal_user(engine, args.user)
        if args.media_out is not None and args.format == "obsidian":
            raise CliError(
                "--media-out is for jekyll and plain: obsidian keeps images beside notes"
            )
        request = ExportRequest(
            user_id,
            args.start,
            args.end,
            order=args.order,
            split=args.split,
            format=args.format,
            media_out=args.media_out,
        )
        target: Path | IO[str] = sys.stdout
        if request.many_files:
            default = "daily" if request.format == "obsidian" else "_posts"
            target = Path(default if args.out == "-" else args.out)
        elif args.out != "-":
            target = Path(args.out)
        result = write_export(engine, settings, request, target)
    except ExportError as exc:
        raise CliError(str(exc)) from None
    finally:
        engine.dispose()
    if request.many_files:
        kind = "daily notes" if request.format == "obsidian" else "posts"
        print(f"wrote {result.files} {kind} to {target}", file=sys.stderr)
    if result.media or result.media_missing:
        print(media_line(result), file=sys.stderr)
    if result.too_deep:
        print(texts.EXPORT_TOO_DEEP.format(count=result.too_deep, depth=MAX_DEPTH), file=sys.stderr)
    if args.git and isinstance(target, Path):
        outcome = publish(target, result.media, args.git)
        if outcome.trouble:  # not a repository: fix the command; refused or failed: outside
            failure: Failure = "usage" if outcome.kind == "not_repository" else "unavailable"
            raise CliError(f"git: {outcome}", failure)
        print(f"git: {outcome}", file=sys.stderr)
    return 0


def media_line(result: ExportResult) -> str:
    """`media: 3 files linked, 1 copied, 2 missing from MEDIA_DIR` for stderr."""
    line = f"media: {len(result.media)} files linked, {result.media_copied} copied"
    if result.media_missing:
        line += f", {result.media_missing} missing from MEDIA_DIR (links left as they were)"
    return line


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    import os

    from bot.cli_db import database_url
    from bot.worker import CLI_LIMITS, ImportJob, Refused, import_whole_file
    from storage.engine import DatabaseUnavailable

    try:
        text = args.path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {args.path}: {exc}") from None
    show = sys.stderr.isatty()
    drawn = False

    def progress(done: int, total: int) -> None:
        nonlocal drawn
        if show and total > 2000:
            drawn = True
            width = 30
            filled = width * done // max(total, 1)
            bar = "#" * filled + "-" * (width - filled)
            print(f"\rimporting [{bar}] {done}/{total} notes", end="", file=sys.stderr)

    umask = os.umask(0o077)
    os.umask(umask)
    job = ImportJob(
        text, args.fix_dates, database_url(settings), args.user, SystemClock().now(),
        settings.timezone, args.dry_run, umask=umask,
    )  # fmt: skip
    try:  # bounded like the bot's import, with room for a long journal; stored all at once
        report = import_whole_file(job, CLI_LIMITS, progress)
    except Refused as exc:
        raise CliError(
            f"gave up reading {args.path}: it needed too much {exc.reason}"
            f" (limits: {CLI_LIMITS.seconds:.0f} s, {CLI_LIMITS.memory >> 20} MiB)"
        ) from None
    except DatabaseUnavailable as exc:
        raise CliError(f"cannot open the database {exc}", "unavailable") from None
    if drawn:
        print(file=sys.stderr)
    verb = "would import" if args.dry_run else "imported"
    print(
        f"{verb} {report.days} days ({report.new_days} new), {report.sections} sections, "
        f"{report.notes} notes ({report.new_notes} new"
        + (f", {report.moved_notes} moved to another day)" if report.moved_notes else ")")
    )
    if report.anomalies:
        print(f"{len(report.anomalies)} things to check:")
        for line in report.anomalies:
            print(f"  {line}")
    return 0

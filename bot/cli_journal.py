"""`rizhilu export` and `rizhilu import`: the same core and storage as the bot, no Telegram."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any

from bot.cli import CliError, examples
from bot.core.clock import SystemClock
from bot.core.days import parse_date
from bot.core.export import ExportOptions, render_document
from bot.export_files import write_daily_notes, write_posts
from bot.settings import Settings


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
            "rizhilu export --format obsidian --out vault/daily",
        ),
    )
    exp.add_argument("--user", type=int, help="Telegram user id (default: the only user)")
    exp.add_argument(
        "--out", default="-", help="file, folder (with --split/obsidian) or - (stdout)"
    )
    exp.add_argument("--from", dest="start", type=_date_arg, help="first day, e.g. 2021-3-1")
    exp.add_argument("--to", dest="end", type=_date_arg, help="last day, e.g. 2021-3-31")
    exp.add_argument("--order", choices=["newest", "oldest"], default="newest")
    exp.add_argument("--split", choices=["none", "day", "week", "month"], default="none")
    exp.add_argument("--format", choices=["jekyll", "plain", "obsidian"], default="jekyll")
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


def export_options(settings: Settings, args: argparse.Namespace) -> ExportOptions:
    template = None
    if settings.export_front_matter is not None:
        try:
            template = settings.export_front_matter.read_text(encoding="utf-8")
        except OSError as exc:
            raise CliError(f"EXPORT_FRONT_MATTER: cannot read {exc.filename}") from None
    return ExportOptions(
        title=settings.export_title,
        author=settings.export_author,
        front_matter_template=template,
        heading_level=settings.export_heading_level,
        date_style=settings.export_date_style,
        order=args.order,
        format=args.format,
    )


@contextlib.contextmanager
def _output(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="\n") as fh:
        yield fh


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from storage import bulk
    from storage.engine import ensure_schema, make_engine

    opts = export_options(settings, args)
    engine = make_engine(settings.database_url)
    try:
        ensure_schema(engine)
        user_id = args.user if args.user is not None else bulk.only_user(engine)
        if user_id is None:
            raise CliError("several users (or none) in the database: pass --user ID")
        meta = bulk.journal_meta(engine, user_id)
        if meta is None:
            raise CliError(f"no journal for user {user_id}")
        days = bulk.iter_days(
            engine, user_id, start=args.start, end=args.end, newest_first=opts.order == "newest"
        )
        title = meta.title or opts.title
        if args.format == "obsidian":
            written = write_daily_notes(days, Path("daily" if args.out == "-" else args.out), opts)
            print(f"wrote {written} daily notes", file=sys.stderr)
        elif args.split != "none":
            folder = Path("_posts" if args.out == "-" else args.out)
            written = write_posts(days, folder, opts, args.split, title)
            print(f"wrote {written} posts to {folder}/", file=sys.stderr)
        else:
            with _output(args.out) as out:
                for chunk in render_document(
                    opts,
                    title=title,
                    stored_front_matter=meta.front_matter,
                    newest=meta.newest,
                    sections=bulk.sections(engine, user_id),
                    days=days,
                ):
                    out.write(chunk)
    finally:
        engine.dispose()
    return 0


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from bot.core.journal_doc import fix_dates, parse_journal
    from storage import bulk
    from storage.engine import ensure_schema, make_engine

    try:
        text = args.path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {args.path}: {exc}") from None
    parsed = parse_journal(text)
    if args.fix_dates:
        parsed = fix_dates(parsed)
    engine = make_engine(settings.database_url)
    ensure_schema(engine)
    show = sys.stderr.isatty() and parsed.note_count > 2000

    def progress(done: int, total: int) -> None:
        if show:
            width = 30
            filled = width * done // max(total, 1)
            bar = "#" * filled + "-" * (width - filled)
            print(f"\rimporting [{bar}] {done}/{total} notes", end="", file=sys.stderr)

    report = bulk.import_journal(
        engine,
        args.user,
        parsed,
        SystemClock().now(),
        settings.timezone,
        dry_run=args.dry_run,
        progress=progress,
    )
    if show:
        print(file=sys.stderr)
    engine.dispose()
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

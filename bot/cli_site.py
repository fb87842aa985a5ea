"""`rizhilu site OUT`: the journal as a static HTML site (no Telegram, like export)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli import CliError, examples
from bot.cli_db import journal_user, open_database
from bot.settings import Settings


def add_command(sub: Any) -> None:
    site = sub.add_parser(
        "site",
        help="write the journal as a static HTML site (calendar, months, tags, search)",
        description="Write the journal as static HTML pages into OUT: a calendar with a "
        "heatmap a year, a page a month, a page a tag and a search over every note. Open "
        "OUT/index.html from disk or serve the folder. Images the notes link to under "
        "MEDIA_DIR are copied into OUT/media. Run it again to update the site.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=examples(
            "rizhilu site public/journal",
            "rizhilu --env-file /etc/rizhilu.env site /srv/www/journal --user 123456789",
        ),
    )
    site.add_argument("out", type=Path, help="the site's folder (new, empty, or an older site)")
    site.add_argument("--user", type=int, help="Telegram user id (default: the only user)")
    site.set_defaults(func=cmd_site)


def cmd_site(settings: Settings, args: argparse.Namespace) -> int:
    from bot.site import SiteError, build_site
    from storage.engine import ensure_schema

    engine = open_database(settings, create=False)
    try:
        ensure_schema(engine)
        result = build_site(engine, settings, journal_user(engine, args.user), args.out)
    except (SiteError, OSError) as exc:
        raise CliError(str(exc)) from None
    finally:
        engine.dispose()
    print(
        f"wrote {result.pages} pages ({result.days} days, {result.notes} notes) to {args.out};"
        f" media: {result.media_copied} copied, {result.media_kept} unchanged",
        file=sys.stderr,
    )
    for rel in result.media_missing:
        print(f"warning: {rel} is linked from a note but not in MEDIA_DIR", file=sys.stderr)
    print(f"open {args.out / 'index.html'}", file=sys.stderr)
    return 0

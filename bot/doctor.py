"""`rizhilu doctor`: check the configuration and its surroundings, one line per check."""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.core.days import BadZone, zone
from bot.settings import Settings

TOKEN_SHAPE = re.compile(r"[0-9]{5,12}:[A-Za-z0-9_-]{30,}")
# the ports Telegram delivers webhooks to
WEBHOOK_PORTS = {443, 80, 88, 8443}


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok' if self.ok else 'FAIL':<5} {self.name}: {self.detail}"


def check_token(settings: Settings) -> Check:
    """The token's shape, then getMe through TELEGRAM_BASE_URL (never printing the token)."""
    raw = settings.telegram_bot_token
    token = "" if raw is None else raw.get_secret_value().strip()
    if not token:
        return Check("token", False, "TELEGRAM_BOT_TOKEN is not set (get one from @BotFather)")
    if not TOKEN_SHAPE.fullmatch(token):
        return Check("token", False, "TELEGRAM_BOT_TOKEN is not shaped like 123456:ABC-def…")
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError

    async def get_me() -> str:
        async with Bot(
            token,
            base_url=settings.telegram_base_url,
            base_file_url=settings.telegram_base_file_url,
        ) as bot:
            return f"@{bot.username} (id {bot.id})"  # initialize() called getMe

    try:
        who = asyncio.run(get_me())
    except InvalidToken:
        return Check(
            "token", False, "Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather"
        )
    except TelegramError as exc:
        host = urlsplit(settings.telegram_base_url).netloc
        return Check("token", False, f"cannot reach the Bot API at {host} ({type(exc).__name__})")
    return Check("token", True, f"getMe answered: {who}")


def check_database(settings: Settings) -> Iterator[Check]:
    """Reachable and migrated; a missing SQLite file is reported, never created."""
    from storage import stats
    from storage.engine import SCHEMA_HEAD, describe, make_engine, sqlite_file

    where = describe(settings.database_url)
    path = sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        yield Check("database", False, f"no journal at {path} (`rizhilu migrate` creates it)")
        return
    engine = make_engine(settings.database_url)
    try:
        try:
            stats.ping(engine)
            revision = stats.schema_revision(engine)
        except Exception as exc:
            yield Check("database", False, f"{where} does not answer ({type(exc).__name__})")
            return
        if revision != SCHEMA_HEAD:
            yield Check(
                "database",
                False,
                f"{where} is at schema {revision or 'none'}, this version needs {SCHEMA_HEAD}: "
                "run `rizhilu migrate`",
            )
            return
        yield Check("database", True, f"{where} answers, schema {SCHEMA_HEAD}")
        bad = sorted(z for z in stats.user_zones(engine) if not _zone_ok(z))
        if bad:
            yield Check("zones", False, "users with unknown time zones: " + ", ".join(bad))
    finally:
        engine.dispose()


def _zone_ok(name: str) -> bool:
    try:
        zone(name)
    except BadZone:
        return False
    return True


def check_zones(settings: Settings) -> Check:
    # Asia/Shanghai too: a slim container without zone data fails here, not at the first /tz
    missing = [z for z in (settings.timezone, "Asia/Shanghai") if not _zone_ok(z)]
    if missing:
        return Check("zones", False, "no zone data for " + ", ".join(missing) + " (install tzdata)")
    return Check("zones", True, f"TIMEZONE={settings.timezone}; zone data present")


def check_media(settings: Settings) -> Check:
    """MEDIA_DIR can be written (or created: then its nearest existing parent is tried)."""
    folder = settings.media_dir.expanduser().absolute()
    probe: Path = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return Check("media", False, f"MEDIA_DIR {folder}: {probe} is not a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=probe, prefix=".rizhilu-doctor-"):
            pass
    except OSError as exc:
        return Check("media", False, f"MEDIA_DIR {folder} is not writable ({exc.strerror})")
    note = "writable" if probe == folder else f"will be created (in writable {probe})"
    return Check("media", True, f"{folder} {note}")


def check_webhook(settings: Settings) -> Check:
    if not settings.webhook_url:
        return Check("webhook", True, "off: long polling (WEBHOOK_URL is empty)")
    parts = urlsplit(settings.webhook_url)
    if parts.scheme != "https":
        return Check("webhook", False, "WEBHOOK_URL must be https:// (Telegram posts only there)")
    port = parts.port or 443
    if port not in WEBHOOK_PORTS:
        return Check("webhook", False, f"WEBHOOK_URL port {port}: Telegram uses 443, 80, 88, 8443")
    secret = "set" if settings.webhook_secret is not None else "random at each start"
    return Check(
        "webhook",
        True,
        f"{parts.netloc}{parts.path or '/'} → {settings.webhook_listen}:{settings.webhook_port}"
        f" (secret {secret})",
    )


def check_git(settings: Settings) -> Check:
    """EXPORT_GIT: EXPORT_PATH's folder is in a git repository (with a remote, for push)."""
    from bot.blog_git import GitFailed, describe_repository

    if settings.export_git == "off":
        return Check("git", True, "off (EXPORT_GIT)")
    if not settings.export_path:
        return Check("git", False, "EXPORT_GIT is set but EXPORT_PATH is empty: nothing to commit")
    folder = Path(settings.export_path.replace("{user}", "0")).expanduser().absolute().parent
    try:
        return Check("git", True, describe_repository(folder, settings.export_git))
    except (GitFailed, OSError) as exc:
        return Check("git", False, f"EXPORT_GIT={settings.export_git}: {exc}")


def run_checks(settings: Settings) -> Iterator[Check]:
    """Every check, in order, as each finishes."""
    yield check_token(settings)
    yield from check_database(settings)
    yield check_media(settings)
    yield check_zones(settings)
    yield check_webhook(settings)
    if settings.export_git != "off":
        yield check_git(settings)

"""Typed settings, built once in main() from the environment and `.env`."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import time
from pathlib import Path
from typing import Any, Literal

from bot.core.days import BadZone, parse_hhmm, zone

DEFAULT_DATABASE_URL = "sqlite:///data/rizhilu.db"


class SettingsError(Exception):
    """A setting is missing or invalid; the message names it."""


class Secret:
    """A secret string (the token, the webhook secret) that never shows in a repr or a log."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __repr__(self) -> str:
        return f"Secret('{self}')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class AllowList:
    """Who may use the bot: everyone, nobody, or a set of numeric Telegram user ids."""

    anyone: bool
    ids: frozenset[int]

    def allows(self, user_id: int) -> bool:
        return self.anyone or user_id in self.ids

    @property
    def is_empty(self) -> bool:
        return not self.anyone and not self.ids


def _parse_allow_list(raw: object) -> AllowList:
    if isinstance(raw, AllowList):
        return raw
    text = "" if raw is None else str(raw).strip()
    if text == "*":
        return AllowList(anyone=True, ids=frozenset())
    ids: set[int] = set()
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise ValueError(f"{part!r} is not a numeric Telegram user id (use '*' for anyone)")
        ids.add(int(part))
    return AllowList(anyone=False, ids=frozenset(ids))


# Parsers: each turns a raw value (a string from the environment or `.env`, or a typed value
# passed to load_settings) into the setting's value, or raises ValueError with the message
# shown after the setting's name. The wording is the one rizhilu has always printed.

Parse = Callable[[object], object]

# the whitespace an integer may carry around it (Unicode White_Space)
_BLANK = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    map(chr, range(0x2000, 0x200B))
)
_INTEGER = re.compile(r"([+-]?[0-9]+(?:_[0-9]+)*)(?:\.0+)?")


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("Input should be a valid string")
    return value


def _to_int(value: object) -> int:
    if isinstance(value, int):  # bool too, as True is 1
        return int(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("Input should be a valid integer, got a number with a fractional part")
        return int(value)
    if isinstance(value, str):
        m = _INTEGER.fullmatch(value.strip(_BLANK))
        if m is None:
            raise ValueError(
                "Input should be a valid integer, unable to parse string as an integer"
            )
        return int(m.group(1))
    raise ValueError("Input should be a valid integer")


def _integer(lowest: int, highest: int, *, optional: bool = False) -> Parse:
    """An integer in lowest..highest; optional: empty or `off` is None."""

    def parse(value: object) -> int | None:
        if optional and (value is None or str(value).strip() in ("", "off")):
            return None
        number = _to_int(value)
        if number < lowest:
            raise ValueError(f"Input should be greater than or equal to {lowest}")
        if number > highest:
            raise ValueError(f"Input should be less than or equal to {highest}")
        return number

    return parse


def _choice(*options: str, prepare: Callable[[object], object] | None = None) -> Parse:
    """One of the options, exactly (after prepare, if given)."""
    quoted = [repr(option) for option in options]
    expected = f"{', '.join(quoted[:-1])} or {quoted[-1]}"

    def parse(value: object) -> str:
        if prepare is not None:
            value = prepare(value)
        if not isinstance(value, str) or value not in options:
            raise ValueError(f"Input should be {expected}")
        return value

    return parse


def _path(value: object) -> Path:
    if isinstance(value, str | os.PathLike):
        return Path(value)
    raise ValueError("Input is not a valid path for <class 'pathlib.Path'>")


def _optional_path(value: object) -> Path | None:
    return None if value is None or str(value).strip() == "" else _path(value)


def _token(value: object) -> Secret | None:
    if value is None or isinstance(value, Secret):
        return value
    return Secret(_text(value))


def _webhook_secret(value: object) -> Secret | None:
    if isinstance(value, Secret):
        value = value.get_secret_value()
    if value is None or str(value).strip() == "":
        return None
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(value).strip()):
        raise ValueError("use 1-256 characters A-Z, a-z, 0-9, _ and - (Telegram's rule)")
    return Secret(str(value).strip())


def _timezone(value: object) -> str:
    text = _text(value)
    try:
        zone(text)
    except BadZone as exc:
        raise ValueError(f"{exc} (use an IANA name like Asia/Shanghai)") from exc
    return text.strip()


def _day_start(value: object) -> time:
    if isinstance(value, time):
        return value
    return parse_hhmm(str(value))


def _reminder(value: object) -> time | None:
    if value is None or isinstance(value, time):
        return value
    text = str(value).strip()
    if text == "" or text.lower() == "off":
        return None
    return parse_hhmm(text)


def _export_git(value: object) -> object:
    text = str(value).strip().lower()
    return "off" if text in ("", "no", "false", "0") else text


def _export_media_url(value: object) -> str:
    text = _text(value).strip()
    if any(ch in text for ch in ' ()<>"\\') or text.startswith(("javascript:", "data:")):
        raise ValueError("must be a URL prefix like /assets/journal or https://x.org/img")
    return text


def _database_url(value: object) -> str:
    text = _text(value).strip()
    if not text.startswith(("sqlite", "postgresql", "postgres")):
        raise ValueError("must start with sqlite:/// or postgresql://")
    return text


def _webhook_url(value: object) -> str:
    text = _text(value).strip()
    if text and not text.startswith(("https://", "http://")):
        raise ValueError("must be the public https:// URL Telegram posts updates to")
    return text


def _api_url(value: object) -> str:
    text = _text(value)
    if not text.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return text


@dataclass(frozen=True)
class Settings:
    """Every setting of rizhilu; see .env.example for documentation.

    Each field: its default (used as is) and, in its metadata, the parser of a given value.
    """

    telegram_bot_token: Secret | None = field(default=None, metadata={"parse": _token})
    database_url: str = field(default=DEFAULT_DATABASE_URL, metadata={"parse": _database_url})
    telegram_base_url: str = field(
        default="https://api.telegram.org/bot", metadata={"parse": _api_url}
    )
    telegram_base_file_url: str = field(
        default="https://api.telegram.org/file/bot", metadata={"parse": _api_url}
    )
    allowed_user_ids: AllowList = field(
        default=AllowList(anyone=False, ids=frozenset()), metadata={"parse": _parse_allow_list}
    )
    timezone: str = field(default="UTC", metadata={"parse": _timezone})
    day_starts_at: time = field(default=time(4, 0), metadata={"parse": _day_start})
    media_dir: Path = field(default=Path("data/media"), metadata={"parse": _path})
    media_url: str = field(default="media/", metadata={"parse": _text})
    # megabytes of saved files (photos, voice, video, documents) per user; None: no limit
    media_quota_mb: int | None = field(
        default=None, metadata={"parse": _integer(1, 10_000_000, optional=True)}
    )
    rate_limit: int = field(default=30, metadata={"parse": _integer(0, 1000)})
    # the ✍ reactions: on rizhilu's own kept-alive connections (bot/telegram/wire.py), or
    # through python-telegram-bot's HTTP stack as every other request
    reactions_via: Literal["own", "ptb"] = field(
        default="own",
        metadata={"parse": _choice("own", "ptb", prepare=lambda v: str(v).strip().lower())},
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = field(
        default="INFO", metadata={"parse": _choice("DEBUG", "INFO", "WARNING", "ERROR")}
    )
    log_format: Literal["text", "json"] = field(
        default="text",
        metadata={"parse": _choice("text", "json", prepare=lambda v: str(v).strip().lower())},
    )
    reminder_time: time | None = field(default=time(21, 30), metadata={"parse": _reminder})
    reminder_grace_minutes: int = field(default=120, metadata={"parse": _integer(1, 24 * 60)})
    intake: Literal["inbox", "stock"] = field(
        default="inbox", metadata={"parse": _choice("inbox", "stock")}
    )
    webhook_url: str = field(default="", metadata={"parse": _webhook_url})
    webhook_listen: str = field(default="127.0.0.1", metadata={"parse": _text})
    webhook_port: int = field(default=8443, metadata={"parse": _integer(0, 65535)})
    webhook_secret: Secret | None = field(default=None, metadata={"parse": _webhook_secret})
    poll_timeout: int = field(default=30, metadata={"parse": _integer(0, 50)})
    export_title: str = field(default="日知录", metadata={"parse": _text})
    export_author: str = field(default="", metadata={"parse": _text})
    export_front_matter: Path | None = field(default=None, metadata={"parse": _optional_path})
    export_heading_level: int = field(default=2, metadata={"parse": _integer(1, 4)})
    export_date_style: Literal["unpadded", "iso"] = field(
        default="unpadded", metadata={"parse": _choice("unpadded", "iso")}
    )
    export_path: str = field(default="", metadata={"parse": _text})
    export_every_minutes: int = field(default=60, metadata={"parse": _integer(1, 7 * 24 * 60)})
    # the media EXPORT_PATH links to are copied here (None: links stay MEDIA_URL + path),
    # and linked as EXPORT_MEDIA_URL + path
    export_media_dir: Path | None = field(default=None, metadata={"parse": _optional_path})
    export_media_url: str = field(default="/assets/journal", metadata={"parse": _export_media_url})
    # after a changed EXPORT_PATH: commit the post and its media in the blog's repository,
    # and push it
    export_git: Literal["off", "commit", "push"] = field(
        default="off", metadata={"parse": _choice("off", "commit", "push", prepare=_export_git)}
    )
    # a verified copy of the SQLite journal every day into this folder (None: off); the
    # newest backup_keep are kept. PostgreSQL: schedule pg_dump instead
    backup_dir: Path | None = field(default=None, metadata={"parse": _optional_path})
    backup_keep: int = field(default=7, metadata={"parse": _integer(1, 10_000)})
    health_listen: str = field(default="127.0.0.1", metadata={"parse": _text})
    health_port: int | None = field(
        default=None, metadata={"parse": _integer(0, 65535, optional=True)}
    )
    metrics_listen: str = field(default="127.0.0.1", metadata={"parse": _text})
    metrics_port: int | None = field(
        default=None, metadata={"parse": _integer(0, 65535, optional=True)}
    )

    def token(self) -> str:
        """The bot token, or a SettingsError naming the variable."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and put it in .env"
            )
        return self.telegram_bot_token.get_secret_value().strip()


def setting_names() -> tuple[str, ...]:
    """Every setting's name, lower case, in the order Settings declares them."""
    return tuple(f.name for f in fields(Settings))


def _read_env_file(env_file: str | Path | None) -> dict[str, str]:
    """The settings file's variables (names lower-cased); none when it is not a file."""
    if env_file is None:
        return {}
    path = Path(env_file).expanduser()
    if not (path.is_file() or path.is_fifo()):
        return {}
    from dotenv import dotenv_values  # only when there is a file to read

    values = dotenv_values(path, encoding="utf-8")
    return {name.lower(): value for name, value in values.items() if value is not None}


def load_settings(
    env_file: str | Path | None = ".env",
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build Settings, first match wins: overrides, the environment (os.environ unless given;
    names in any case), the settings file (its ${VAR}s read os.environ), the defaults. Every
    invalid value is named in one SettingsError."""
    names = setting_names()
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise TypeError(f"not a setting: {', '.join(unknown)}")
    given = _read_env_file(env_file)
    given.update(
        (name.lower(), value)
        for name, value in (os.environ if environ is None else environ).items()
    )
    given.update(overrides)
    values: dict[str, Any] = {}
    problems = []
    for f in fields(Settings):
        if f.name not in given:
            continue
        try:
            values[f.name] = f.metadata["parse"](given[f.name])
        except ValueError as exc:
            problems.append(f"{f.name.upper()}: {exc}")
    if problems:
        raise SettingsError("invalid setting " + "; ".join(problems))
    return Settings(**values)

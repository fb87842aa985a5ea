"""Typed settings, built once in main() from the environment and `.env`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.days import BadZone, parse_hhmm, zone

DEFAULT_DATABASE_URL = "sqlite:///data/rizhilu.db"


class SettingsError(Exception):
    """A setting is missing or invalid; the message names it."""


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


class Settings(BaseSettings):
    """Every setting of rizhilu; see .env.example for documentation."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    allowed_user_ids: Annotated[AllowList, NoDecode] = Field(
        default=AllowList(anyone=False, ids=frozenset())
    )
    timezone: str = "UTC"
    day_starts_at: Annotated[time, NoDecode] = time(4, 0)
    media_dir: Path = Path("data/media")
    media_url: str = "media/"
    # megabytes of saved files (photos, voice, video, documents) per user; None: no limit
    media_quota_mb: int | None = Field(default=None, ge=1, le=10_000_000)
    rate_limit: int = Field(default=30, ge=0, le=1000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    reminder_time: Annotated[time | None, NoDecode] = time(21, 30)
    reminder_grace_minutes: int = Field(default=120, ge=1, le=24 * 60)
    intake: Literal["inbox", "stock"] = "inbox"
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=0, le=65535)
    webhook_secret: SecretStr | None = None
    poll_timeout: int = Field(default=30, ge=0, le=50)
    export_title: str = "日知录"
    export_author: str = ""
    export_front_matter: Path | None = None
    export_heading_level: int = Field(default=2, ge=1, le=4)
    export_date_style: Literal["unpadded", "iso"] = "unpadded"
    export_path: str = ""
    export_every_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    # the media EXPORT_PATH links to are copied here (None: links stay MEDIA_URL + path),
    # and linked as EXPORT_MEDIA_URL + path
    export_media_dir: Path | None = None
    export_media_url: str = "/assets/journal"
    # after a changed EXPORT_PATH: commit the post and its media in the blog's repository,
    # and push it
    export_git: Literal["off", "commit", "push"] = "off"
    # a verified copy of the SQLite journal every day into this folder (None: off); the
    # newest backup_keep are kept. PostgreSQL: schedule pg_dump instead
    backup_dir: Path | None = None
    backup_keep: int = Field(default=7, ge=1, le=10_000)
    health_listen: str = "127.0.0.1"
    health_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_listen: str = "127.0.0.1"
    metrics_port: int | None = Field(default=None, ge=0, le=65535)

    @field_validator("allowed_user_ids", mode="before")
    @classmethod
    def _allow(cls, value: object) -> AllowList:
        return _parse_allow_list(value)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            zone(value)
        except BadZone as exc:
            raise ValueError(f"{exc} (use an IANA name like Asia/Shanghai)") from exc
        return value.strip()

    @field_validator("day_starts_at", mode="before")
    @classmethod
    def _day_start(cls, value: object) -> time:
        if isinstance(value, time):
            return value
        return parse_hhmm(str(value))

    @field_validator("reminder_time", mode="before")
    @classmethod
    def _reminder(cls, value: object) -> time | None:
        if value is None or isinstance(value, time):
            return value
        text = str(value).strip()
        if text == "" or text.lower() == "off":
            return None
        return parse_hhmm(text)

    @field_validator("export_front_matter", "backup_dir", "export_media_dir", mode="before")
    @classmethod
    def _front_matter(cls, value: object) -> object:
        return None if value is None or str(value).strip() == "" else value

    @field_validator("health_port", "metrics_port", "media_quota_mb", mode="before")
    @classmethod
    def _optional_port(cls, value: object) -> object:
        return None if value is None or str(value).strip() in ("", "off") else value

    @field_validator("export_git", mode="before")
    @classmethod
    def _export_git(cls, value: object) -> object:
        text = str(value).strip().lower()
        return "off" if text in ("", "no", "false", "0") else text

    @field_validator("export_media_url")
    @classmethod
    def _export_media_url(cls, value: str) -> str:
        value = value.strip()
        if any(ch in value for ch in ' ()<>"\\') or value.startswith(("javascript:", "data:")):
            raise ValueError("must be a URL prefix like /assets/journal or https://x.org/img")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        return str(value).strip().lower()

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be the public https:// URL Telegram posts updates to")
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _secret(cls, value: object) -> object:
        if value is None or str(value).strip() == "":
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(value).strip()):
            raise ValueError("use 1-256 characters A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return str(value).strip()

    @field_validator("telegram_base_url", "telegram_base_file_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    def token(self) -> str:
        """The bot token, or a SettingsError naming the variable."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and put it in .env"
            )
        return self.telegram_bot_token.get_secret_value().strip()


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Build Settings from the environment (and `.env`), turning errors into SettingsError."""
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]).upper() or "settings"
            msg = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}: {msg}")
        raise SettingsError("invalid setting " + "; ".join(problems)) from None

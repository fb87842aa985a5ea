"""Settings from the environment, and log lines that never carry the token."""

from __future__ import annotations

import logging
from datetime import time
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.emulator import FakeBotAPI
from bot.logs import RedactToken, redact
from bot.settings import SettingsError, load_settings
from bot.telegram.services import KEY
from tests.conftest import USER

TOKEN = "123456789:" + "FAKE-not-a-real-token-00000000000000"  # token-shaped, made up


def test_defaults() -> None:
    s = load_settings(None)
    assert s.database_url.startswith("sqlite:///")
    assert s.day_starts_at == time(4, 0) and s.timezone == "UTC"
    assert s.reminder_time == time(21, 30)
    assert s.allowed_user_ids.is_empty
    assert s.reactions_via == "own"


def test_env_file_and_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ALLOWED_USER_IDS", "TIMEZONE", "DAY_STARTS_AT", "REMINDER_TIME"):
        monkeypatch.delenv(name, raising=False)
    env = tmp_path / ".env"
    env.write_text(
        "ALLOWED_USER_IDS=1, 2\nTIMEZONE=Asia/Shanghai\nDAY_STARTS_AT=05:30\nREMINDER_TIME=\n"
    )
    s = load_settings(env)
    assert s.allowed_user_ids.allows(2) and not s.allowed_user_ids.allows(3)
    assert s.timezone == "Asia/Shanghai" and s.day_starts_at == time(5, 30)
    assert s.reminder_time is None
    assert load_settings(None, allowed_user_ids="*").allowed_user_ids.allows(42)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timezone", "Mars/Base"),
        ("day_starts_at", "25:00"),
        ("reminder_time", "24:00"),
        ("allowed_user_ids", "12,abc"),
        ("database_url", "mysql://x"),
        ("telegram_base_url", "ftp://x"),
        ("log_level", "LOUD"),
        ("reactions_via", "httpx"),
    ],
)
def test_invalid_values_name_the_setting(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name.upper()):
        load_settings(None, **{name: value})


def test_missing_token_is_one_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["--env-file", str(tmp_path / "absent"), "run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: TELEGRAM_BOT_TOKEN is not set") and err.count("\n") == 1


def test_invalid_setting_exits_non_zero(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TIMEZONE", "Mars/Base")
    assert main(["--env-file", str(tmp_path / "absent"), "run"]) == 2
    assert "TIMEZONE" in capsys.readouterr().err


def test_redaction_filter() -> None:
    f = RedactToken(TOKEN)
    url = f"POST https://api.telegram.org/bot{TOKEN}/getUpdates"
    rec = logging.LogRecord("httpx", logging.INFO, __file__, 1, "HTTP Request: %s", (url,), None)
    f.filter(rec)
    assert TOKEN not in rec.getMessage() and "<token>" in rec.getMessage()
    quoted = TOKEN.replace(":", "%3A")
    rec = logging.LogRecord("x", logging.INFO, __file__, 1, f"file/bot{quoted}/a.jpg", None, None)
    f.filter(rec)
    assert quoted not in rec.getMessage()
    # anything token-shaped is redacted even without knowing the token
    rec = logging.LogRecord("x", logging.INFO, __file__, 1, "bot987654321:" + "x" * 35, None, None)
    RedactToken(None).filter(rec)
    assert "x" * 35 not in rec.getMessage()
    try:
        raise RuntimeError(f"failed calling {url}")
    except RuntimeError:
        import sys

        rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    f.filter(rec)
    assert rec.exc_text is not None and TOKEN not in rec.exc_text


def test_wrong_token_is_one_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from bot.emulator import FakeBotAPI

    fake = FakeBotAPI().start()
    try:
        monkeypatch.setenv(
            "TELEGRAM_BOT_TOKEN", "987654321:" + "WRONG-token-for-this-fake-server-xx"
        )
        monkeypatch.setenv("TELEGRAM_BASE_URL", fake.base_url)
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
        assert main(["--env-file", str(tmp_path / "absent"), "run"]) == 1
    finally:
        fake.stop()
    err = capsys.readouterr().err
    assert "Telegram rejected TELEGRAM_BOT_TOKEN" in err and "WRONG-token" not in err


def test_unreachable_api_is_one_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_BASE_URL", "http://127.0.0.1:9/bot")  # nothing listens
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert main(["--env-file", str(tmp_path / "absent"), "run"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the Bot API" in err and TOKEN not in err


def test_webhook_secrets_are_redacted() -> None:
    made_at_start = "generated-" + "z" * 30
    redact(made_at_start)
    f = RedactToken(TOKEN)
    rec = logging.LogRecord(
        "telegram.ext.ExtBot", logging.DEBUG, __file__, 1,
        "Calling Bot API endpoint `setWebhook` with parameters `%s`",
        ({"url": "https://x.org/hook", "secret_token": "unknown-secret-1234"},), None,
    )  # fmt: skip
    f.filter(rec)
    assert (
        "unknown-secret-1234" not in rec.getMessage() and "https://x.org/hook" in rec.getMessage()
    )
    rec = logging.LogRecord("x", logging.INFO, __file__, 1, f"got {made_at_start}", None, None)
    f.filter(rec)
    assert made_at_start not in rec.getMessage() and "<secret>" in rec.getMessage()


@pytest.mark.parametrize("via", ["own", "ptb"])
async def test_reactions_go_the_way_the_setting_says(
    via: str, fake: FakeBotAPI, start_bot: Any
) -> None:
    bot = await start_bot(reactions_via=via)
    acks = bot.exposed["app"].bot_data[KEY].acks
    assert (acks._wire is not None) == (via == "own")
    fake.send(USER, "a note")
    await bot.reacted(1)
    assert "a note" in await bot.markdown(USER)

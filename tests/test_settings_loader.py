"""The settings loader: its messages for bad values, `.env` and the environment, hidden secrets."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.settings import AllowList, SettingsError, load_settings, setting_names

# each message as rizhilu printed it when pydantic-settings read the settings
BAD_VALUES = [
    (
        "timezone",
        "Mars/Base",
        "unknown time zone 'Mars/Base' (use an IANA name like Asia/Shanghai)",
    ),
    ("timezone", "", "unknown time zone '' (use an IANA name like Asia/Shanghai)"),
    ("day_starts_at", "25:00", "'25:00' is not a time of day (00:00 to 23:59)"),
    ("day_starts_at", "", "expected HH:MM, got ''"),
    ("reminder_time", "9:5", "expected HH:MM, got '9:5'"),
    ("reminder_time", "24:00", "'24:00' is not a time of day (00:00 to 23:59)"),
    ("allowed_user_ids", "12,abc", "'abc' is not a numeric Telegram user id (use '*' for anyone)"),
    ("allowed_user_ids", "²", "invalid literal for int() with base 10: '²'"),
    ("database_url", "mysql://x", "must start with sqlite:/// or postgresql://"),
    ("telegram_base_url", "ftp://x", "must be an http:// or https:// URL"),
    ("telegram_base_file_url", " https://x", "must be an http:// or https:// URL"),
    (
        "webhook_url",
        "example.org/hook",
        "must be the public https:// URL Telegram posts updates to",
    ),
    ("webhook_secret", "a b", "use 1-256 characters A-Z, a-z, 0-9, _ and - (Telegram's rule)"),
    ("webhook_secret", "a" * 257, "use 1-256 characters A-Z, a-z, 0-9, _ and - (Telegram's rule)"),
    (
        "export_media_url",
        "javascript:x",
        "must be a URL prefix like /assets/journal or https://x.org/img",
    ),
    ("export_media_url", "/a b", "must be a URL prefix like /assets/journal or https://x.org/img"),
    ("log_level", "LOUD", "Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
    ("log_level", "debug", "Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
    ("log_format", "xml", "Input should be 'text' or 'json'"),
    ("intake", "Stock", "Input should be 'inbox' or 'stock'"),
    ("export_date_style", "long", "Input should be 'unpadded' or 'iso'"),
    ("export_git", "yes", "Input should be 'off', 'commit' or 'push'"),
    ("rate_limit", "x", "Input should be a valid integer, unable to parse string as an integer"),
    ("rate_limit", "", "Input should be a valid integer, unable to parse string as an integer"),
    ("rate_limit", "1.5", "Input should be a valid integer, unable to parse string as an integer"),
    ("rate_limit", "1e3", "Input should be a valid integer, unable to parse string as an integer"),
    ("rate_limit", "0x10", "Input should be a valid integer, unable to parse string as an integer"),
    ("rate_limit", "١", "Input should be a valid integer, unable to parse string as an integer"),
    ("rate_limit", "1__0", "Input should be a valid integer, unable to parse string as an integer"),
    ("rate_limit", "-1", "Input should be greater than or equal to 0"),
    ("rate_limit", "1001", "Input should be less than or equal to 1000"),
    ("rate_limit", 1.5, "Input should be a valid integer, got a number with a fractional part"),
    ("poll_timeout", "51", "Input should be less than or equal to 50"),
    ("webhook_port", "65536", "Input should be less than or equal to 65535"),
    ("reminder_grace_minutes", "0", "Input should be greater than or equal to 1"),
    ("reminder_grace_minutes", "1441", "Input should be less than or equal to 1440"),
    ("export_heading_level", "5", "Input should be less than or equal to 4"),
    ("export_every_minutes", "10081", "Input should be less than or equal to 10080"),
    ("backup_keep", "10001", "Input should be less than or equal to 10000"),
    ("media_quota_mb", "0", "Input should be greater than or equal to 1"),
    ("media_quota_mb", "10000001", "Input should be less than or equal to 10000000"),
    (
        "media_quota_mb",
        "OFF",
        "Input should be a valid integer, unable to parse string as an integer",
    ),
    ("health_port", "-1", "Input should be greater than or equal to 0"),
    (
        "metrics_port",
        "http",
        "Input should be a valid integer, unable to parse string as an integer",
    ),
    ("media_url", 5, "Input should be a valid string"),
    ("media_dir", 5, "Input is not a valid path for <class 'pathlib.Path'>"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_VALUES)
def test_a_bad_value_keeps_its_message(name: str, value: object, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(None, environ={}, **{name: value})
    assert str(caught.value) == f"invalid setting {name.upper()}: {message}"


def test_every_bad_value_is_named_in_one_error_in_the_settings_order() -> None:
    environ = {"LOG_LEVEL": "loud", "TIMEZONE": "Mars/Base", "RATE_LIMIT": "x"}
    with pytest.raises(SettingsError) as caught:
        load_settings(None, environ=environ)
    assert str(caught.value) == (
        "invalid setting TIMEZONE: unknown time zone 'Mars/Base' (use an IANA name like "
        "Asia/Shanghai); RATE_LIMIT: Input should be a valid integer, unable to parse string "
        "as an integer; LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"
    )


@pytest.mark.parametrize(
    ("name", "value", "parsed"),
    [
        ("rate_limit", " 5 ", 5),
        ("rate_limit", "+5", 5),
        ("rate_limit", "1_000", 1000),
        ("rate_limit", "1.0", 1),
        ("rate_limit", "007", 7),
        ("rate_limit", "\t7\n", 7),
        ("media_quota_mb", "", None),
        ("media_quota_mb", "off", None),
        ("health_port", " ", None),
        ("export_git", "PUSH", "push"),
        ("export_git", "no", "off"),
        ("export_git", "0", "off"),
        ("log_format", " JSON ", "json"),
        ("reminder_time", "OFF", None),
        ("reminder_time", " 05:30 ", time(5, 30)),
        ("day_starts_at", " 05:30 ", time(5, 30)),
        ("timezone", " Asia/Shanghai ", "Asia/Shanghai"),
        ("database_url", " postgresql://a ", "postgresql://a"),
        ("webhook_url", " ", ""),
        ("export_media_url", " /img ", "/img"),
        ("export_title", " x ", " x "),
        ("media_dir", "", Path(".")),
        ("backup_dir", " ", None),
        ("export_front_matter", "fm.yml", Path("fm.yml")),
        ("allowed_user_ids", " 1 ; -2 ", AllowList(anyone=False, ids=frozenset({1, -2}))),
        ("allowed_user_ids", "*", AllowList(anyone=True, ids=frozenset())),
    ],
)
def test_values_read_as_before(name: str, value: str, parsed: object) -> None:
    assert getattr(load_settings(None, environ={}, **{name: value}), name) == parsed


def test_environment_over_settings_file_over_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHO", "me")  # ${VAR} in the file reads the process's environment
    env = tmp_path / "rizhilu.env"
    env.write_text(
        "# a comment\n"
        'export TIMEZONE="Asia/Shanghai"\n'
        "rate_limit = 12  # lower case and an inline comment\n"
        "EXPORT_TITLE='single $HOME'\n"
        'EXPORT_AUTHOR="${WHO} \\"quoted\\""\n'
        "MEDIA_URL=${UNSET:-fallback}/m/\n"
        "LOG_LEVEL\n"  # no value: the default
        'EXPORT_PATH="two\nlines"\n'
        "NOT_A_SETTING=1\n",
        encoding="utf-8",
    )
    s = load_settings(env, environ={})
    assert (s.timezone, s.rate_limit, s.log_level) == ("Asia/Shanghai", 12, "INFO")
    assert (s.export_title, s.export_author) == ("single $HOME", 'me "quoted"')
    assert (s.media_url, s.export_path) == ("fallback/m/", "two\nlines")
    s = load_settings(str(env), environ={"RATE_LIMIT": "7", "timezone": "UTC"})
    assert (s.rate_limit, s.timezone) == (7, "UTC")  # the environment, in any case, wins
    assert load_settings(env, environ={"RATE_LIMIT": "7"}, rate_limit=3).rate_limit == 3
    for absent in (tmp_path / "absent.env", tmp_path, Path("/dev/null")):
        assert load_settings(absent, environ={}).rate_limit == 30  # the default


def test_secrets_never_show() -> None:
    token, secret = "123456789:" + "FAKE-not-a-real-token-00000000000000", "hook-secret_42"
    s = load_settings(None, environ={"TELEGRAM_BOT_TOKEN": f" {token} ", "WEBHOOK_SECRET": secret})
    assert token not in repr(s) and secret not in repr(s) and token not in str(s)
    assert s.token() == token and s.webhook_secret is not None
    assert s.webhook_secret.get_secret_value() == secret
    assert load_settings(None, environ={"WEBHOOK_SECRET": " "}).webhook_secret is None


def test_every_setting_has_a_default() -> None:
    s = load_settings(None, environ={})
    assert [getattr(s, name) for name in setting_names()]  # all set, none read from outside
    assert s.telegram_bot_token is None and s.reminder_time == time(21, 30)


def test_an_unknown_override_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="rate_limits"):
        load_settings(None, rate_limits=3)

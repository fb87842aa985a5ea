"""`rizhilu doctor`: one line per check against the fake Bot API and a real database."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.doctor import run_checks
from bot.emulator import BOT_ID, FakeBotAPI
from bot.settings import Settings
from storage.engine import SCHEMA_HEAD, make_engine, migrate


def lines(settings: Settings) -> dict[str, str]:
    return {check.name: check.line() for check in run_checks(settings)}


def test_a_good_setup_passes(
    fake: FakeBotAPI, make_settings: Callable[..., Settings], db_url: str
) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    engine.dispose()
    report = lines(make_settings())
    assert list(report) == ["token", "database", "media", "zones", "webhook"]
    assert all(line.startswith("ok ") for line in report.values()), report
    assert report["token"] == f"ok    token: getMe answered: @rizhilu_test_bot (id {BOT_ID})"
    assert f"schema {SCHEMA_HEAD}" in report["database"]
    assert "will be created" in report["media"]
    assert report["webhook"] == "ok    webhook: off: long polling (WEBHOOK_URL is empty)"
    assert fake.calls_to("getMe")


def env_for(monkeypatch: pytest.MonkeyPatch, fake: FakeBotAPI, **values: str) -> None:
    base = {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_BASE_URL": fake.base_url,
        "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
        "WEBHOOK_URL": "",
        "WEBHOOK_SECRET": "",
    }
    for name, value in {**base, **values}.items():
        monkeypatch.setenv(name, value)


def test_the_cli_exits_0_when_all_is_well(
    fake: FakeBotAPI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "j.db"
    migrate(make_engine(f"sqlite:///{db}"))
    (tmp_path / "media").mkdir()
    env_for(
        monkeypatch,
        fake,
        DATABASE_URL=f"sqlite:///{db}",
        MEDIA_DIR=str(tmp_path / "media"),
        WEBHOOK_URL="https://journal.example/hook",
    )
    assert main(["--env-file", str(tmp_path / "absent.env"), "doctor"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 6 and out[-1] == "all 5 checks passed"
    assert out[2] == f"ok    media: {tmp_path / 'media'} writable"
    assert out[4].startswith("ok    webhook: journal.example/hook → 127.0.0.1:8443")
    assert fake.token.split(":")[1] not in "\n".join(out)


def test_each_problem_is_one_failing_line(
    fake: FakeBotAPI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrong = "987654321:" + "WRONG-token-for-this-fake-server-xx"
    (tmp_path / "media").write_text("a file where the folder should be")
    env_for(
        monkeypatch,
        fake,
        TELEGRAM_BOT_TOKEN=wrong,
        DATABASE_URL=f"sqlite:///{tmp_path / 'missing.db'}",
        MEDIA_DIR=str(tmp_path / "media" / "photos"),
        WEBHOOK_URL="http://journal.example:8080/hook",
    )
    assert main(["--env-file", str(tmp_path / "absent.env"), "doctor"]) == 1
    out, err = capsys.readouterr()
    assert "FAIL  token: Telegram rejected TELEGRAM_BOT_TOKEN" in out
    assert f"FAIL  database: no journal at {tmp_path / 'missing.db'}" in out
    assert "FAIL  media: " in out and "is not a folder" in out
    assert "FAIL  webhook: WEBHOOK_URL must be https://" in out
    assert err == "error: 4 of 5 checks failed\n"
    assert "WRONG-token" not in out
    assert not (tmp_path / "missing.db").exists()  # reported, not created


def test_token_shape_unmigrated_database_and_unreachable_api(
    fake: FakeBotAPI, tmp_path: Path, make_settings: Callable[..., Settings], sqlite_url: str
) -> None:
    sqlite3.connect(tmp_path / "journal.db").close()  # a file, but never migrated
    report = lines(make_settings(telegram_bot_token="not-a-token", database_url=sqlite_url))
    assert report["token"] == "FAIL  token: TELEGRAM_BOT_TOKEN is not shaped like 123456:ABC-def…"
    assert not fake.calls_to("getMe")  # no request with a token that cannot be right
    assert report["database"].startswith("FAIL  database: SQLite ")
    assert (
        f"schema none, this version needs {SCHEMA_HEAD}: run `rizhilu migrate`"
        in report["database"]
    )
    offline: dict[str, Any] = {"telegram_base_url": "http://127.0.0.1:9/bot"}
    report = lines(make_settings(database_url=sqlite_url, **offline))
    assert report["token"].startswith("FAIL  token: cannot reach the Bot API at 127.0.0.1:9")


def test_webhook_port_telegram_does_not_use(make_settings: Callable[..., Settings]) -> None:
    report = lines(make_settings(webhook_url="https://journal.example:9000/hook"))
    assert report["webhook"] == (
        "FAIL  webhook: WEBHOOK_URL port 9000: Telegram uses 443, 80, 88, 8443"
    )

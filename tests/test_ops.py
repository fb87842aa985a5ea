"""Operator polish: --version, JSON logs that stay redacted, the CLI's database line."""

from __future__ import annotations

import json
import logging
import os
from importlib.metadata import version
from pathlib import Path

import pytest

from bot.cli import main
from bot.logs import setup_logging
from storage.engine import describe

TOKEN = "123456789:" + "FAKE-not-a-real-token-00000000000000"  # token-shaped, made up


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"rizhilu {version('rizhilu')}"


def test_json_logs_are_one_object_per_line_and_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        setup_logging("INFO", TOKEN, fmt="json")
        log = logging.getLogger("rizhilu.test")
        log.info("calling %s", f"https://api.telegram.org/bot{TOKEN}/getMe")
        log.debug("not at INFO")
        try:
            raise RuntimeError(f"failed: /file/bot{TOKEN.replace(':', '%3A')}/a.jpg")
        except RuntimeError:
            log.exception("download failed")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO" and first["logger"] == "rizhilu.test"
    assert first["message"] == "calling https://api.telegram.org/bot<token>/getMe"
    assert first["time"].endswith("+00:00")
    assert second["message"] == "download failed" and "RuntimeError" in second["exception"]
    secret = TOKEN.split(":", 1)[1]
    assert secret not in err


def test_log_format_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bot.settings import SettingsError, load_settings

    monkeypatch.setenv("LOG_FORMAT", "JSON")
    assert load_settings(None).log_format == "json"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        load_settings(None)


def cli(args: list[str], monkeypatch: pytest.MonkeyPatch, url: str, tmp_path: Path) -> int:
    monkeypatch.setenv("DATABASE_URL", url)
    return main(["--env-file", str(tmp_path / "absent.env"), *args])


def test_the_cli_says_which_database_it_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli(["migrate"], monkeypatch, "sqlite:///data/j.db", tmp_path) == 0
    err = capsys.readouterr().err
    assert err == f"database: SQLite {tmp_path / 'data' / 'j.db'}\n"


def test_export_refuses_to_create_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code = cli(["export", "--out", "post.md"], monkeypatch, "sqlite:///data/rizhilu.db", tmp_path)
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: DATABASE_URL: there is no journal at ")
    assert str(tmp_path / "data" / "rizhilu.db") in err and err.count("\n") == 1
    assert os.listdir(tmp_path) == []  # no database, no data/ folder, no post


def test_backup_refuses_to_copy_a_missing_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli(["backup", "b.db"], monkeypatch, "sqlite:///nothing.db", tmp_path) == 2
    assert "there is no journal at" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_a_postgres_url_is_shown_without_its_password() -> None:
    shown = describe("postgres://me:s3cret@db.example:5432/journal")
    assert "s3cret" not in shown and "db.example:5432/journal" in shown

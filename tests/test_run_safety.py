"""`rizhilu run` as a process: secrets stay out of the log, files stay private, and a
database that cannot be opened is one line on stderr."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.emulator import FakeBotAPI
from tests.conftest import USER
from tests.test_settings_and_logs import TOKEN
from tests.test_webhook import post


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_with_webhook(
    fake: FakeBotAPI, tmp_path: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[str], int]:
    """`rizhilu run` serving its webhook on a free port, once it has set the webhook.

    The port is free when asked for, but another test process can take it before rizhilu
    binds it (rizhilu binds before it calls setWebhook, and stops): then it runs again on
    another port.
    """
    for _ in range(5):
        port = free_port()
        proc = rizhilu(tmp_path, {**env, "WEBHOOK_PORT": str(port)}, "run")
        started = lambda p=proc: bool(fake.calls_to("setWebhook")) or p.poll() is not None  # noqa: E731
        fake.wait_for(started, 30, "start-up")
        if proc.poll() is None:
            return proc, port
        err = proc.communicate()[1]
        assert "in use" in err.lower(), err
    raise AssertionError("no free port in five tries")


def cli_env(fake: FakeBotAPI, tmp_path: Path, db_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "DATABASE_URL": db_url,
        "TELEGRAM_BASE_URL": fake.base_url,
        "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
        "ALLOWED_USER_IDS": str(USER),
        "POLL_TIMEOUT": "1",
        "MEDIA_DIR": str(tmp_path / "media"),
        **extra,
    }


def rizhilu(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--env-file", str(tmp_path / "none.env"), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_run_keeps_the_webhook_secret_out_of_the_log_and_its_files_private(
    fake: FakeBotAPI, tmp_path: Path, db_url: str
) -> None:
    secret = "hook-secret-" + "q" * 30
    env = cli_env(
        fake, tmp_path, db_url,
        LOG_LEVEL="DEBUG", WEBHOOK_URL="https://journal.example/hook",
        WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_SECRET=secret,
    )  # fmt: skip
    fake.add_file("ph1", b"\xff\xd8\xffimg")
    proc, port = run_with_webhook(fake, tmp_path, env)
    try:
        photo = [{"file_id": "ph1", "file_unique_id": "u1", "width": 9, "height": 9}]
        updates: list[dict[str, Any]] = [
            {"update_id": 1, "message": fake.message(USER, None, extra={"photo": photo})},
            {"update_id": 2, "message": fake.message(USER, "a **bold** [link](https://x.org)")},
        ]
        for update in updates:
            assert post(port, "/hook", json.dumps(update).encode(), secret) == 200
        fake.wait_for(lambda: len(fake.calls_to("setMessageReaction")) >= 2, 30, "the notes")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert fake.calls_to("setWebhook")[0].params["secret_token"] == secret
    assert "setWebhook" in err and "secret_token" in err  # DEBUG was on: redacted, not absent
    assert secret not in err and secret not in out
    for noisy in ("markdown_it", "alembic.runtime.plugins", "httpcore"):
        assert noisy not in err
    media = tmp_path / "media"
    files = [p for p in media.rglob("*") if p.is_file()]
    assert files and all(mode(p) == 0o600 for p in files)
    assert all(mode(p) == 0o700 for p in [media, *media.rglob("*")] if p.is_dir())
    if db_url.startswith("sqlite"):
        database = Path(db_url.removeprefix("sqlite:///"))
        assert mode(database) == 0o600


def test_backup_is_private(
    fake: FakeBotAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_url = f"sqlite:///{tmp_path / 'data' / 'journal.db'}"
    for name, value in cli_env(fake, tmp_path, db_url).items():
        monkeypatch.setenv(name, value)
    cli = ["--env-file", str(tmp_path / "none.env")]  # in this process: main() sets the umask
    assert main([*cli, "migrate"]) == 0
    assert main([*cli, "backup", str(tmp_path / "backups" / "copy.db")]) == 0
    assert mode(tmp_path / "backups" / "copy.db") == 0o600
    assert mode(tmp_path / "backups") == 0o700
    assert mode(tmp_path / "data" / "journal.db") == 0o600


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp}/a-file/journal.db",  # its folder cannot be made: a file is in the way
        "postgresql://rizhilu:pw-never-shown@127.0.0.1:9/journal",  # nothing listens
    ],
)
def test_a_database_that_cannot_be_opened_is_one_line(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("in the way")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_BASE_URL", "http://127.0.0.1:9/bot")
    monkeypatch.setenv("DATABASE_URL", url.format(tmp=tmp_path))
    assert main(["--env-file", str(tmp_path / "absent"), "run"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot open the database ") and err.count("\n") == 1, err
    assert "pw-never-shown" not in err and "Traceback" not in err


def test_a_webhook_port_in_use_is_one_line(
    fake: FakeBotAPI,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        env = cli_env(
            fake, tmp_path, f"sqlite:///{tmp_path / 'journal.db'}",
            WEBHOOK_URL="https://journal.example/hook", WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(taken.getsockname()[1]), LOG_LEVEL="WARNING",
        )  # fmt: skip
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        assert main(["--env-file", str(tmp_path / "none.env"), "run"]) == 1
    finally:
        taken.close()
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    assert err.startswith("error: ") and "in use" in err and err.count("\n") == 1, err

"""`rizhilu backup`: a verified copy of the live SQLite journal."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.core.capture import message_notes
from bot.core.clock import FixedClock
from storage.engine import make_engine
from storage.notes import MessageRef
from storage.tables import notes
from tests.conftest import Repos


def test_backup_while_the_journal_is_open(
    repos: Repos, clock: FixedClock, db_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    repos.users.ensure(1, 1, "Ada", "UTC", None)
    for i in range(1, 6):
        ref = MessageRef(1, 1, i, clock.now())
        repos.notes.add_message(ref, date(2021, 4, 8), message_notes(f"note {i}\n- child"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    target = tmp_path / "backups" / "copy.db"
    args = ["--env-file", str(tmp_path / "absent.env"), "backup", str(target)]
    if not db_url.startswith("sqlite"):
        assert main(args) == 2
        assert "pg_dump" in capsys.readouterr().err
        return
    assert main(args) == 0
    assert "10 notes, integrity ok" in capsys.readouterr().out
    assert target.read_bytes()[18] == 1  # a rollback-journal file: self-contained, no -wal
    copy = make_engine(f"sqlite:///{target}")
    with copy.connect() as c:
        assert c.execute(select(func.count()).select_from(notes)).scalar() == 10
    copy.dispose()
    assert main(args) == 2  # never overwrites
    assert "exists" in capsys.readouterr().err

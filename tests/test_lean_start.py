"""A lean start: what only migrations, imports and exports need is imported when they run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from storage.engine import open_database

ROOT = Path(__file__).resolve().parents[1]


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code` (no test's imports in it)."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sys.modules))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_the_bot_imports_no_migration_import_or_export_code(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    open_database(url).dispose()  # a journal at the newest schema, as on every restart
    loaded = loaded_after(
        "import bot.cli, bot.telegram.runner\n"
        f"from storage.engine import open_database\nopen_database({url!r}).dispose()"
    )
    for heavy in ("alembic", "matplotlib", "bot.worker", "prometheus_client"):
        assert heavy not in loaded, heavy


def test_a_journal_behind_the_newest_schema_is_still_migrated(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from storage.engine import MIGRATIONS, make_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:  # a journal of the first release
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")
    engine.dispose()
    loaded = loaded_after(f"from storage.engine import open_database\nopen_database({url!r})")
    assert "alembic" in loaded  # a journal behind: Alembic brought it up to date
    # a new journal is made from the tables at once (storage.engine.create_schema)
    new = f"sqlite:///{tmp_path / 'new.db'}"
    loaded = loaded_after(f"from storage.engine import open_database\nopen_database({new!r})")
    assert "alembic" not in loaded and "sqlalchemy.orm" not in loaded

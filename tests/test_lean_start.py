"""A lean start: what only migrations, imports and exports need is imported when they run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from bot.emulator import FakeBotAPI
from storage.engine import open_database
from tests.conftest import USER

ROOT = Path(__file__).resolve().parents[1]

# what `rizhilu run` must not load to start and take notes: settings' pydantic, migrations,
# the export, site and git code, the file parser, the heatmap's plotting, metrics, the demo,
# and markdown-it until a note has markdown to read (a note of plain words never does)
HEAVY = (
    "markdown_it",
    "pydantic",
    "pydantic_settings",
    "alembic",
    "matplotlib",
    "prometheus_client",
    "bot.worker",
    "bot.exporting",
    "bot.export_media",
    "bot.site",
    "bot.blog_git",
    "bot.emulator",
    "bot.terminal",
    "storage.bulk_export",
    "storage.bulk_import",
)


def loaded_after(*codes: str) -> list[set[str]]:
    """The modules a fresh interpreter holds after running each piece of `code` in turn (no
    test's imports in it): one interpreter for them all, as starting one costs more than
    most of what a piece runs."""
    listing = "import sys\nprint('\\nloaded:', ' '.join(sys.modules))"  # after what code prints
    out = subprocess.run(
        [sys.executable, "-c", "\n".join(f"{code}\n{listing}" for code in codes)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = out.stdout.splitlines()
    return [set(line.split()[1:]) for line in lines if line.startswith("loaded: ")]


def test_the_bot_imports_none_of_it_to_start_nor_after_its_first_note(tmp_path: Path) -> None:
    """What the bot imports and opening the journal load, then what a running bot has loaded
    after its first note: one interpreter (its start is most of the test's cost) notes the
    first before it runs the bot."""
    url = f"sqlite:///{tmp_path / 'j.db'}"
    open_database(url).dispose()  # a journal at the newest schema, as on every restart
    before, listing = tmp_path / "before-run.txt", tmp_path / "modules.txt"
    code = (
        "import sys\nimport bot.cli, bot.telegram.runner\n"
        f"from storage.engine import open_database\nopen_database({url!r}).dispose()\n"
        f"open({str(before)!r}, 'w').write(' '.join(sys.modules))\n"
        "import atexit\n"
        f"atexit.register(lambda: open({str(listing)!r}, 'w').write(' '.join(sys.modules)))\n"
        "from bot.cli import main\n"
        f"sys.exit(main(['--env-file', {str(tmp_path / 'absent.env')!r}, 'run']))"
    )
    fake = FakeBotAPI().start()
    try:
        fake.send(USER, "the first note")
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_BASE_URL": fake.base_url,
            "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
            "DATABASE_URL": url,
            "ALLOWED_USER_IDS": str(USER),
            "POLL_TIMEOUT": "1",
            "MEDIA_DIR": str(tmp_path / "media"),
        }
        bot = subprocess.Popen(
            [sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
        )
        try:
            fake.wait_for(lambda: bool(fake.calls_to("setMessageReaction")), 60, "the first ack")
        finally:
            bot.send_signal(signal.SIGTERM)
            _, err = bot.communicate(timeout=60)
    finally:
        fake.stop()
    assert bot.returncode == 0, err
    for heavy in HEAVY:  # the bot's code imported and its journal opened
        assert heavy not in set(before.read_text().split()), heavy
    loaded = set(listing.read_text().split())
    assert "bot.telegram.runner" in loaded and "bot.core.capture" in loaded
    for heavy in (*HEAVY, "dotenv"):  # no settings file: nothing to parse it with
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
    new = f"sqlite:///{tmp_path / 'new.db'}"
    # the new journal first, in the same interpreter: the other one loads Alembic
    made, migrated = loaded_after(
        f"from storage.engine import open_database\nopen_database({new!r})",
        f"open_database({url!r})",
    )
    assert "alembic" in migrated  # a journal behind: Alembic brought it up to date
    # a new journal is made from the tables at once (storage.engine.create_schema)
    assert "alembic" not in made and "sqlalchemy.orm" not in made


def test_an_import_loads_neither_telegram_nor_alembic(tmp_path: Path) -> None:
    """`rizhilu import` into a new journal, the command and its worker's job run in one
    interpreter: no Telegram client, no Alembic (the schema comes from the tables), no ORM."""
    from tests.test_export_import import sample_text

    src = tmp_path / "journal.md"
    src.write_text(sample_text(), encoding="utf-8")
    env = f"import os\nos.environ['DATABASE_URL'] = {'sqlite:///' + str(tmp_path / 'a.db')!r}\n"
    (loaded,) = loaded_after(
        env + "from bot.cli import main\n"
        f"main(['--env-file', os.devnull, 'import', {str(src)!r}, '--user', '1'])\n"
        "from datetime import UTC, datetime\nfrom bot.worker import ImportJob, _import_whole\n"
        f"_import_whole(ImportJob(open({str(src)!r}).read(), False, "
        f"{'sqlite:///' + str(tmp_path / 'b.db')!r}, 1, datetime.now(UTC), 'UTC', False))"
    )
    assert (tmp_path / "a.db").exists() and (tmp_path / "b.db").exists()
    for heavy in ("telegram", "httpx", "alembic", "sqlalchemy.orm", "apscheduler"):
        assert heavy not in loaded, heavy

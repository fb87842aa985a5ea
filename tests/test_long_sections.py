"""A section title longer than entries.key holds is stored under a stable hashed key."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.journal_doc import parse_journal
from storage import bulk_import
from storage.bulk_import import section_key
from storage.engine import make_engine, migrate
from tests.test_export_import import export

NOW = datetime(2021, 4, 9, 12, tzinfo=UTC)
TITLE = "Reading list: papers on 3D scene understanding I keep meaning to finish " * 2


def test_long_section_titles_get_a_stable_short_key(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    text = f"## {TITLE.strip()}\n\n* ScanNet\n\n## 2021-4-8\n\n* a day\n"
    first = bulk_import.import_journal(engine, 1, parse_journal(text), NOW, "UTC")
    again = bulk_import.import_journal(engine, 1, parse_journal(text), NOW, "UTC")
    assert first.new_notes == 2 and again.new_notes == 0  # the same key both times
    out = export(engine)
    assert TITLE.strip() in out and "* ScanNet" in out
    engine.dispose()
    key = section_key(TITLE)
    assert len(key) <= 64 and key == section_key(TITLE) and key != section_key(TITLE + "x")
    assert section_key("Ideas") == "s:Ideas"  # short titles keep the key they always had

"""Looking back in the database (SQLite and PostgreSQL): tags, notes by tag, on this day,
notes per day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from bot.core.capture import message_notes
from bot.core.clock import FixedClock
from bot.core.journal_doc import parse_journal
from bot.core.lookback import month_days, per_day
from bot.core.tags import count_tags
from storage import bulk_import
from storage.engine import make_engine, migrate, session_factory
from storage.lookback import Lookback
from storage.notes import MessageRef, Notes

NOW = datetime(2021, 4, 8, 12, 0, tzinfo=UTC)
JOURNAL = """\
## TODO

- read the #ScanNet paper again

## 2021-4-8

- #ScanNet labels look wrong, see https://x.org/a#frag
  - checked the #scannet_v2 tsv
- 今天#日知录

## 2021-3-31 ~ 2021-4-2

- a trip #travel

## 2020-4-8

- a year ago: #ScanNet first look
- #1 is not a tag

## 2020-2-29

- a leap day #travel

## 2019-4-8

- two years ago

## 2016-2-29

- an older leap day
"""


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    migrate(engine)
    bulk_import.import_journal(engine, 1, parse_journal(JOURNAL), NOW, "UTC")
    bulk_import.import_journal(
        engine, 2, parse_journal("## 2021-4-8\n\n- #ScanNet elsewhere\n"), NOW, "UTC"
    )
    yield engine
    engine.dispose()


def test_tags_are_counted_from_live_notes(engine: Engine) -> None:
    notes = Notes(session_factory(engine), FixedClock(NOW))
    ref = MessageRef(user_id=1, chat_id=1, message_id=7, at=NOW)
    notes.add_message(ref, date(2021, 4, 8), message_notes("soon undone #gone"))
    assert ("gone", 1) in count_tags(Lookback(engine).tagged_texts(1))
    notes.undo_last(1, 1, 99)
    counted = count_tags(Lookback(engine).tagged_texts(1))
    assert counted == [("ScanNet", 3), ("travel", 2), ("scannet_v2", 1), ("日知录", 1)]


def test_notes_by_tag_newest_first_in_pages(engine: Engine) -> None:
    look = Lookback(engine)
    hits, total = look.tagged(1, "scannet", 0, 2)
    assert total == 3
    assert [h.text for h in hits] == [
        "#ScanNet labels look wrong, see https://x.org/a#frag",  # inside a list item: as written
        "a year ago: #ScanNet first look",
    ]
    assert [h.days.start if h.days else None for h in hits] == [date(2021, 4, 8), date(2020, 4, 8)]
    rest, total = look.tagged(1, "#SCANNET", 2, 2)
    assert total == 3 and [(h.days, h.section, h.text) for h in rest] == [
        (None, "TODO", "read the #ScanNet paper again")  # sections come last
    ]
    assert look.tagged(1, "scannet_v2", 0, 10)[1] == 1
    assert look.tagged(1, "日知录", 0, 10)[0][0].text == "今天#日知录"
    assert look.tagged(1, "frag", 0, 10) == ([], 0)  # a URL fragment
    assert look.tagged(1, "nothing", 0, 10) == ([], 0)
    assert look.tagged(2, "ScanNet", 0, 10)[1] == 1  # only the user's own notes


def test_dates_on_this_day_in_earlier_years(engine: Engine) -> None:
    look = Lookback(engine)
    assert look.dates_on(1, month_days(date(2021, 4, 8)), date(2021, 4, 8)) == [
        date(2020, 4, 8),
        date(2019, 4, 8),
    ]
    # 28 February of a common year also brings back the leap days
    assert look.dates_on(1, month_days(date(2021, 2, 28)), date(2021, 2, 28)) == [
        date(2020, 2, 29),
        date(2016, 2, 29),
    ]
    assert look.dates_on(1, month_days(date(2024, 2, 29)), date(2024, 2, 29)) == [
        date(2020, 2, 29),
        date(2016, 2, 29),
    ]
    assert look.dates_on(1, month_days(date(2024, 2, 28)), date(2024, 2, 28)) == []
    assert look.dates_on(1, [], date(2024, 2, 28)) == []


def test_entry_counts_per_day(engine: Engine) -> None:
    counts = per_day(Lookback(engine).entry_counts(1))
    assert counts[date(2021, 4, 8)] == 3  # children count too
    assert counts[date(2021, 3, 31)] == 1 and counts[date(2021, 4, 2)] == 0
    assert date(2021, 4, 3) not in counts
    assert sum(counts.values()) == 3 + 1 + 2 + 1 + 1 + 1
    assert len(counts) == 1 + 3 + 1 + 1 + 1 + 1
    assert per_day(Lookback(engine).entry_counts(3)) == {}

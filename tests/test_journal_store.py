"""The journal repository on a real SQLite file: idempotent, ordered, soft deletes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.core.capture import message_notes
from bot.core.clock import FixedClock
from bot.core.render import render_body
from storage.journal import Journal, MessageRef

DAY = date(2021, 4, 8)
T0 = datetime(2021, 4, 8, 12, 0, tzinfo=UTC)


def ref(mid: int, at: datetime = T0) -> MessageRef:
    return MessageRef(user_id=1, chat_id=1, message_id=mid, at=at)


def body(journal: Journal, day: date = DAY) -> str:
    return "\n".join(render_body(journal.day_notes(1, day)))


def setup_user(journal: Journal) -> None:
    journal.ensure_user(1, 1, "Ada", "UTC", "21:30")


def test_message_stored_once(journal: Journal) -> None:
    setup_user(journal)
    first = journal.add_message(ref(1), DAY, message_notes("hello"))
    again = journal.add_message(ref(1), DAY, message_notes("hello"))
    assert first.status == "stored" and again.status == "duplicate"
    assert body(journal) == "* hello"


def test_reply_nests_at_any_depth(journal: Journal) -> None:
    setup_user(journal)
    journal.add_message(ref(1), DAY, message_notes("a"))
    journal.add_message(ref(2), DAY, message_notes("b"), reply_to=1)
    journal.add_message(ref(3), DAY + timedelta(days=1), message_notes("c"), reply_to=2)
    journal.add_message(ref(4), DAY, message_notes("d"))
    # the reply sent next day still nests under its parent, in the parent's day
    assert body(journal) == "* a\n  * b\n    * c\n* d"


def test_edit_replaces_in_place_when_newer(journal: Journal) -> None:
    setup_user(journal)
    journal.add_message(ref(1), DAY, message_notes("one"))
    journal.add_message(ref(2), DAY, message_notes("two"))
    res = journal.edit_message(ref(1, T0 + timedelta(minutes=1)), message_notes("ONE"), DAY)
    assert res.status == "updated"
    assert body(journal) == "* ONE\n* two"
    stale = journal.edit_message(ref(1, T0), message_notes("old"), DAY)
    assert stale.status == "stale"
    assert body(journal) == "* ONE\n* two"


def test_edit_that_adds_a_list_and_siblings(journal: Journal) -> None:
    setup_user(journal)
    journal.add_message(ref(1), DAY, message_notes("a"))
    journal.add_message(ref(2), DAY, message_notes("reply"), reply_to=1)
    journal.add_message(ref(3), DAY, message_notes("z"))
    later = T0 + timedelta(minutes=5)
    journal.edit_message(ref(1, later), message_notes("a\n- a1\n- a2"), DAY)
    assert body(journal) == "* a\n  * a1\n  * a2\n  * reply\n* z"
    journal.edit_message(ref(1, later + timedelta(minutes=1)), message_notes("- x\n- y"), DAY)
    assert body(journal) == "* x\n  * reply\n* y\n* z"


def test_edit_naming_another_day_moves_the_message_there(journal: Journal) -> None:
    setup_user(journal)
    other = date(2021, 4, 1)
    journal.add_message(ref(1), other, message_notes("already there"))
    journal.add_message(ref(2), DAY, message_notes("- a\n- b"))  # two bullets
    journal.add_message(ref(3), DAY, message_notes("reply"), reply_to=2)
    journal.add_message(ref(4), DAY, message_notes("stays"))
    journal.add_message(ref(5), DAY, message_notes("reply to stays"), reply_to=4)
    later = T0 + timedelta(minutes=1)
    moved = journal.edit_message(ref(2, later), message_notes("- a\n- b2"), other)
    assert moved.status == "updated" and moved.day == other
    assert body(journal, other) == "* already there\n* a\n  * reply\n* b2"
    assert body(journal) == "* stays\n  * reply to stays"
    # a reply keeps its place under its parent, whatever day its edit names
    journal.edit_message(ref(5, later), message_notes("reply, edited"), other)
    assert body(journal) == "* stays\n  * reply, edited"
    assert journal.notes_on(1, other) == 4 and journal.notes_on(1, DAY) == 2


def test_edit_of_unknown_message_is_stored_on_its_day(journal: Journal) -> None:
    setup_user(journal)
    res = journal.edit_message(ref(9), message_notes("late"), date(2021, 4, 1))
    assert res.status == "created" and res.day == date(2021, 4, 1)
    assert body(journal, date(2021, 4, 1)) == "* late"


def test_undo_is_idempotent_per_command(journal: Journal) -> None:
    setup_user(journal)
    journal.add_message(ref(1), DAY, message_notes("keep"))
    journal.add_message(ref(2), DAY, message_notes("drop\n- child"))
    assert journal.undo_last(1, 1, command_message_id=3) == "drop"
    assert journal.undo_last(1, 1, command_message_id=3) == "drop"  # a replay
    assert body(journal) == "* keep"
    assert journal.undo_last(1, 1, command_message_id=4) == "keep"
    assert journal.undo_last(1, 1, command_message_id=5) is None
    assert body(journal) == ""


def test_reply_to_deleted_note_goes_top_level(journal: Journal) -> None:
    setup_user(journal)
    journal.add_message(ref(1), DAY, message_notes("a"))
    journal.undo_last(1, 1, 2)
    journal.add_message(ref(3), DAY, message_notes("b"), reply_to=1)
    assert body(journal) == "* b"


def test_done_marks(journal: Journal) -> None:
    setup_user(journal)
    journal.add_message(ref(1), DAY, message_notes("finish draft"))
    assert journal.set_done(1, 1, True) == "finish draft"
    assert body(journal) == "* ~~finish draft~~"
    assert journal.set_done(1, 99, True) is None


def test_users_and_preferences(journal: Journal, clock: FixedClock) -> None:
    u = journal.ensure_user(7, 7, "Bob", "Asia/Shanghai", None)
    assert u.timezone == "Asia/Shanghai" and u.reminder_time is None
    journal.update_user(7, blocked=True)
    assert journal.ensure_user(7, 7, "Bob", "UTC", None).blocked is False  # writing again unblocks
    assert journal.get_user(7) is not None and journal.get_user(8) is None
    assert journal.get_user(7).created_at.tzinfo is not None  # type: ignore[union-attr]

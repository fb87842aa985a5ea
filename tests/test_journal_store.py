"""The note, user and reader repositories on a real database: idempotent, ordered, soft deletes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.core.capture import message_notes
from bot.core.clock import FixedClock
from bot.core.render import render_body
from storage.notes import MessageRef
from tests.conftest import Repos

DAY = date(2021, 4, 8)
T0 = datetime(2021, 4, 8, 12, 0, tzinfo=UTC)


def ref(mid: int, at: datetime = T0) -> MessageRef:
    return MessageRef(user_id=1, chat_id=1, message_id=mid, at=at)


def body(repos: Repos, day: date = DAY) -> str:
    return "\n".join(render_body(repos.reader.day_notes(1, day)))


def setup_user(repos: Repos) -> None:
    repos.users.ensure(1, 1, "Ada", "UTC", "21:30")


def test_message_stored_once(repos: Repos) -> None:
    setup_user(repos)
    first = repos.notes.add_message(ref(1), DAY, message_notes("hello"))
    again = repos.notes.add_message(ref(1), DAY, message_notes("hello"))
    assert first.status == "stored" and again.status == "duplicate"
    assert body(repos) == "* hello"


def test_reply_nests_at_any_depth(repos: Repos) -> None:
    setup_user(repos)
    repos.notes.add_message(ref(1), DAY, message_notes("a"))
    repos.notes.add_message(ref(2), DAY, message_notes("b"), reply_to=1)
    repos.notes.add_message(ref(3), DAY + timedelta(days=1), message_notes("c"), reply_to=2)
    repos.notes.add_message(ref(4), DAY, message_notes("d"))
    # the reply sent next day still nests under its parent, in the parent's day
    assert body(repos) == "* a\n  * b\n    * c\n* d"


def test_edit_replaces_in_place_when_newer(repos: Repos) -> None:
    setup_user(repos)
    repos.notes.add_message(ref(1), DAY, message_notes("one"))
    repos.notes.add_message(ref(2), DAY, message_notes("two"))
    res = repos.notes.edit_message(ref(1, T0 + timedelta(minutes=1)), message_notes("ONE"), DAY)
    assert res.status == "updated"
    assert body(repos) == "* ONE\n* two"
    stale = repos.notes.edit_message(ref(1, T0), message_notes("old"), DAY)
    assert stale.status == "stale"
    assert body(repos) == "* ONE\n* two"


def test_edit_that_adds_a_list_and_siblings(repos: Repos) -> None:
    setup_user(repos)
    repos.notes.add_message(ref(1), DAY, message_notes("a"))
    repos.notes.add_message(ref(2), DAY, message_notes("reply"), reply_to=1)
    repos.notes.add_message(ref(3), DAY, message_notes("z"))
    later = T0 + timedelta(minutes=5)
    repos.notes.edit_message(ref(1, later), message_notes("a\n- a1\n- a2"), DAY)
    assert body(repos) == "* a\n  * a1\n  * a2\n  * reply\n* z"
    repos.notes.edit_message(ref(1, later + timedelta(minutes=1)), message_notes("- x\n- y"), DAY)
    assert body(repos) == "* x\n  * reply\n* y\n* z"


def test_edit_naming_another_day_moves_the_message_there(repos: Repos) -> None:
    setup_user(repos)
    other = date(2021, 4, 1)
    repos.notes.add_message(ref(1), other, message_notes("already there"))
    repos.notes.add_message(ref(2), DAY, message_notes("- a\n- b"))  # two bullets
    repos.notes.add_message(ref(3), DAY, message_notes("reply"), reply_to=2)
    repos.notes.add_message(ref(4), DAY, message_notes("stays"))
    repos.notes.add_message(ref(5), DAY, message_notes("reply to stays"), reply_to=4)
    later = T0 + timedelta(minutes=1)
    moved = repos.notes.edit_message(ref(2, later), message_notes("- a\n- b2"), other)
    assert moved.status == "updated" and moved.day == other
    assert body(repos, other) == "* already there\n* a\n  * reply\n* b2"
    assert body(repos) == "* stays\n  * reply to stays"
    # a reply keeps its place under its parent, whatever day its edit names
    repos.notes.edit_message(ref(5, later), message_notes("reply, edited"), other)
    assert body(repos) == "* stays\n  * reply, edited"
    assert repos.reader.notes_on(1, other) == 4 and repos.reader.notes_on(1, DAY) == 2


def test_edit_of_unknown_message_is_stored_on_its_day(repos: Repos) -> None:
    setup_user(repos)
    res = repos.notes.edit_message(ref(9), message_notes("late"), date(2021, 4, 1))
    assert res.status == "created" and res.day == date(2021, 4, 1)
    assert body(repos, date(2021, 4, 1)) == "* late"


def test_undo_is_idempotent_per_command(repos: Repos) -> None:
    setup_user(repos)
    repos.notes.add_message(ref(1), DAY, message_notes("keep"))
    repos.notes.add_message(ref(2), DAY, message_notes("drop\n- child"))
    assert repos.notes.undo_last(1, 1, command_message_id=3) == "drop"
    assert repos.notes.undo_last(1, 1, command_message_id=3) == "drop"  # a replay
    assert body(repos) == "* keep"
    assert repos.notes.undo_last(1, 1, command_message_id=4) == "keep"
    assert repos.notes.undo_last(1, 1, command_message_id=5) is None
    assert body(repos) == ""


def test_reply_to_deleted_note_goes_top_level(repos: Repos) -> None:
    setup_user(repos)
    repos.notes.add_message(ref(1), DAY, message_notes("a"))
    repos.notes.undo_last(1, 1, 2)
    repos.notes.add_message(ref(3), DAY, message_notes("b"), reply_to=1)
    assert body(repos) == "* b"


def test_done_marks(repos: Repos) -> None:
    setup_user(repos)
    repos.notes.add_message(ref(1), DAY, message_notes("finish draft"))
    assert repos.notes.set_done(1, 1, True) == "finish draft"
    assert body(repos) == "* ~~finish draft~~"
    assert repos.notes.set_done(1, 99, True) is None


def test_users_and_preferences(repos: Repos, clock: FixedClock) -> None:
    u = repos.users.ensure(7, 7, "Bob", "Asia/Shanghai", None)
    assert u.timezone == "Asia/Shanghai" and u.reminder_time is None
    repos.users.mark_blocked(7)
    assert repos.users.ensure(7, 7, "Bob", "UTC", None).blocked is False  # writing again unblocks
    assert repos.users.get(7) is not None and repos.users.get(8) is None
    assert repos.users.get(7).created_at.tzinfo is not None  # type: ignore[union-attr]

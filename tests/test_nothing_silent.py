"""Nothing lost, nothing silent: invisible text refused like empty text, edits in arrival order."""

from __future__ import annotations

import pytest

from bot.core.capture import Refusal, message_notes, plan
from tests.conftest import Repos
from tests.test_capture import PREFS, facts
from tests.test_journal_store import DAY, T0, body, ref, setup_user

INVISIBLE = ["\u200b", "\u200c\u200d", "\u2060", "\ufeff", " \ufe0f\n\t", "\u200b \U000e0100"]


@pytest.mark.parametrize("text", INVISIBLE)
def test_invisible_only_text_is_refused_like_empty_text(text: str) -> None:
    assert plan(facts(text), PREFS) == Refusal("empty", False)
    assert plan(facts(text, edit=True), PREFS) == Refusal("empty", True)


def test_text_with_something_visible_is_kept() -> None:
    assert not isinstance(plan(facts("\u200bx"), PREFS), Refusal)
    assert not isinstance(plan(facts("❤\ufe0f"), PREFS), Refusal)


def test_two_edits_in_the_same_second_the_second_wins(repos: Repos) -> None:
    setup_user(repos)
    repos.notes.add_message(ref(1), DAY, message_notes("frist"))
    later = T0.replace(second=5)
    assert repos.notes.edit_message(ref(1, later), message_notes("first"), DAY).status == "updated"
    again = repos.notes.edit_message(ref(1, later), message_notes("first!"), DAY)
    assert again.status == "updated"
    assert body(repos) == "* first!"

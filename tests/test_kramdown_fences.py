"""A fence markdown-it opens but kramdown does not must not hide live HTML from the sanitizer."""

from __future__ import annotations

import pytest

from bot.core.sanitize import defang, neutralize
from tests.kramdown import kramdown
from tests.test_hostile_export import assert_inert

FENCES = [
    '~~~a b\n<img src="x" onerror="alert(1)">\n~~~',
    '```py extra words\n<img src="x" onerror="alert(1)">\n```',
    '  ~~~~ a\tb\n<img src="x" onerror="alert(1)">\n  ~~~~',
    '```a\n<b>fine</b>\n```\n~~~x y\n<img src="x" onerror="alert(1)">\n~~~',
]


@pytest.mark.parametrize("text", FENCES)
def test_a_fence_kramdown_would_not_open_is_made_one_it_opens(text: str) -> None:
    safe = neutralize(text)
    assert neutralize(safe) == safe
    assert_inert(kramdown("* " + safe.replace("\n", "\n  ") + "\n"))
    assert_inert(kramdown(defang(text)))  # a note stored before this, on export


def test_a_fence_keeps_its_first_word_and_its_body() -> None:
    assert neutralize("~~~py a b\n<b>x</b>\n~~~") == "~~~py\n<b>x</b>\n~~~"
    assert neutralize("~~~py\n<b>x</b>\n~~~") == "~~~py\n<b>x</b>\n~~~"

"""#tags: Unicode letters, never digits alone, URL fragments, code or a word's inside."""

from __future__ import annotations

import pytest

from bot.core.capture import message_notes
from bot.core.tags import count_tags, find_tags, has_tag


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("#日知录 today", ["日知录"]),
        ("reading #ScanNet labels", ["ScanNet"]),
        ("\\#paper at the start (escaped by capture)", ["paper"]),
        ("#1 and #2021 and #1-2 are numbers", []),
        ("#3D and #2021年 have letters", ["3D", "2021年"]),
        ("https://x.org/a#frag and http://x.org/#top", []),
        ("[see](https://x.org/a.html#docker) and [back](#2019-10-16) #real", ["real"]),
        ("<https://x.org/a#frag> www.x.org/p#q", []),
        ("`#include <x>` is code, ``#define`` too", []),
        ("C# and F# and a#b are not tags", []),
        ("&#38; is an entity", []),
        ("## heading-like ##x", []),
        ("今天读了#论文，#日知录#", ["论文", "日知录"]),
        ("#foo_bar, #foo-bar- and #ScanNet's", ["foo_bar", "foo-bar", "ScanNet"]),
        ("#हिन्दी keeps its vowel signs", ["हिन्दी"]),
        ('(#paren) [#bracket] "#quoted"', ["paren", "bracket", "quoted"]),
        ("#" + "a" * 65 + " is too long", []),
        ("#tag🎉 #emoji", ["tag", "emoji"]),
        ("", []),
    ],
)
def test_find_tags(text: str, tags: list[str]) -> None:
    assert find_tags(text) == tags


def test_tags_as_capture_stores_them() -> None:
    # what the database holds is markdown: a leading '#' is escaped, the rest as typed
    (note,) = message_notes("#日知录 read #ScanNet_v2, see https://x.org/a#frag", [])
    assert find_tags(note.text) == ["日知录", "ScanNet_v2"]


def test_has_tag_ignores_case_and_prefixes() -> None:
    assert has_tag("read #ScanNet", "scannet")
    assert has_tag("read #ScanNet", "#SCANNET")
    assert not has_tag("read #ScanNetV2", "scannet")
    assert not has_tag("https://x.org/#scannet", "scannet")


def test_count_tags_counts_notes_and_keeps_the_common_spelling() -> None:
    counted = count_tags(
        ["#ScanNet #scannet twice in one note", "#ScanNet again", "#paper", "#Paper", "#日知录"]
    )
    assert counted == [("Paper", 2), ("ScanNet", 2), ("日知录", 1)]  # ties: by name
    assert count_tags([]) == []

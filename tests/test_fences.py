"""One code-fence tracker for the sanitizer, the importer's chunking and entity conversion."""

from __future__ import annotations

from bot.core.mdparser import in_fences


def test_fence_lines_and_body_are_inside() -> None:
    lines = ["before", "```python", "<b>code</b>", "```", "after"]
    assert in_fences(lines) == [False, True, True, True, False]


def test_a_fence_closes_only_on_its_own_character_and_length() -> None:
    lines = ["````", "```", "~~~~", "`````", "out"]
    assert in_fences(lines) == [True, True, True, True, False]
    assert in_fences(["~~~", "```", "~~~", "x"]) == [True, True, True, False]


def test_up_to_three_spaces_of_indent_and_an_open_fence_runs_to_the_end() -> None:
    assert in_fences(["   ```", "x", "   ```", "y"]) == [True, True, True, False]
    assert in_fences(["    ```", "x"]) == [False, False]  # indented code, not a fence
    assert in_fences(["```", "never closed", "# not a heading"]) == [True, True, True]
    assert in_fences([]) == []

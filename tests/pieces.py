"""Hypothesis strategies for texts made of given pieces, drawn cheaply."""

from __future__ import annotations

from hypothesis import strategies as st


def pieces(
    choices: list[str], *, min_size: int = 0, max_size: int | None = None
) -> st.SearchStrategy[str]:
    """Texts of min_size to max_size pieces, each one of `choices` (a piece listed twice comes
    twice as often), drawn as one string of stand-ins: characters of Unicode's private use
    area, one a choice. A string is one draw; a list of sampled_from() or one_of() pieces
    takes one or more a piece, and was most of the time of the tests that used it."""
    stand_ins = {0xE000 + n: piece for n, piece in enumerate(choices)}
    alphabet = "".join(map(chr, stand_ins))
    return st.text(alphabet, min_size=min_size, max_size=max_size).map(
        lambda code: code.translate(stand_ins)
    )

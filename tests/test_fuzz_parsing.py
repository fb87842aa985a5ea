"""Fuzz: any input up to 1 MB is parsed, converted, sanitized and rendered in bounded time.

The bounds are far below what a backtracking regex or a re-parse per span costs at these
sizes (minutes to hours). A message is converted on the event loop, so it must always finish;
a journal file is parsed in the worker, so it may also be refused. What must finish is bounded
by the child's own CPU time (the worker measures it, no clock is read here): on a busy machine
a child's wall time is mostly other processes' turns (a 0.16 s parse took 1.2 s here).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.entities import FORMATTING, Entity
from bot.core.sanitize import neutralize
from bot.worker import BOT_LIMITS, Limits, Refused, run_bounded
from tests.worker_jobs import cpu_seconds, handle_file, handle_message

MB = 1_000_000
FILE_LIMITS = Limits(seconds=2.0, memory=BOT_LIMITS.memory)  # the bound for a file
MESSAGE_CPU = 20.0  # a message is never refused: this only has to be far from minutes
# the wall time a child that must finish may take: only a hang (a regex backtracking for
# minutes) reaches it; its cost is bounded by its CPU time, which a busy machine does not inflate
FINISH = Limits(seconds=120.0, memory=BOT_LIMITS.memory)


def finishes(fn: Callable[[Any], object], arg: Any, cpu: float) -> None:
    """fn(arg) in the worker's child, not refused, within `cpu` seconds of its CPU time."""
    spent = run_bounded(cpu_seconds, (fn, arg), FINISH)
    assert spent < cpu, f"{spent:.2f} s of CPU, the bound is {cpu} s"


def check(text: str, entities: list[Entity] | None = None) -> None:
    finishes(handle_message, (text, entities or []), MESSAGE_CPU)  # never refused
    with contextlib.suppress(Refused):  # refused in time is an answer: the user is told
        run_bounded(handle_file, text, FILE_LIMITS)


K = 60_000  # the size of the reported killers: each must be handled, not refused
KILLERS: dict[str, tuple[str, list[Entity]]] = {
    "link target of spaces": ("* ](" + " " * K + "x", []),
    "heading of spaces": ("## 2021-1-1" + " " * K + "x", []),
    "heading range of spaces": ("## 2021-1-1" + " " * K + "-" + " " * K + "x", []),
    "backtick run": ("`" * K, []),
    "backtick runs of growing length": (" ".join("`" * n for n in range(1, 340)), []),
    "unclosed tags": ("<b " * K, []),
    "link openers": ("](" * K, []),
    "brackets": ("[" * K + "]" * K, []),
    "reference definitions": ("\n[a]: " * (K // 5), []),
    "kramdown attribute lists": ("{:" * K, []),
    "nested quotes": ("> " * K, []),
    "nested lists": ("".join(" " * (2 * n) + "- a\n" for n in range(400)), []),
    "emphasis delimiters": ("*a _b " * (K // 6), []),
    "one long line of words": ("word " * K, []),
    "bold spans that cannot close": (
        "x(b)y " * 680,  # Telegram's 4,096 characters
        [Entity("bold", i * 6 + 1, 3) for i in range(680)],
    ),
    "entities past the cap": ("ab" * 2000, [Entity("italic", i * 2, 1) for i in range(2000)]),
    "liquid and raw": ("{% raw %}{{ x }}{% endraw %}\n" * (K // 30), []),
}


@pytest.mark.parametrize("name", sorted(KILLERS))
def test_known_killers_are_handled(name: str) -> None:
    text, entities = KILLERS[name]
    finishes(handle_message, (text, entities), MESSAGE_CPU)
    finishes(handle_file, text, FILE_LIMITS.seconds)  # handled, not refused


def test_a_megabyte_of_journal_is_handled_or_refused() -> None:
    sample = "## 2021-4-8\n\n* a note with **bold** and a [link](https://a.example)\n  * a child\n"
    check((sample * (MB // len(sample) + 1))[:MB])


# Markdown's special characters, repeated: the shape of every reported blow-up
PIECES = st.text(alphabet="*_`[]()<>!#{}:|~-+=\\&;. \t\n>ab1", min_size=1, max_size=6)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(piece=PIECES, size=st.sampled_from([2_000, 60_000, MB]))
def test_repeated_markdown_up_to_a_megabyte(piece: str, size: int) -> None:
    check((piece * (size // len(piece) + 1))[:size])


ENTITY = st.builds(
    Entity,
    type=st.sampled_from(sorted(FORMATTING)),
    offset=st.integers(0, 300),
    length=st.integers(0, 300),
    url=st.sampled_from([None, "https://a.example", "javascript:x", "a.example/x"]),
)


@settings(max_examples=25, deadline=None)
@given(text=st.text(max_size=300), entities=st.lists(ENTITY, max_size=12))
def test_any_message_is_converted(text: str, entities: list[Entity]) -> None:
    handle_message((text, entities))  # small: run in process, as capture does
    handle_file(text)
    neutralize(text)

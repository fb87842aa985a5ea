"""Jobs the tests run in bot.worker's child: here, not in a test module, because the child
imports the module a job lives in, and a test module brings pytest, hypothesis and the app."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any

from bot.core.capture import message_notes
from bot.core.days import DayRange
from bot.core.entities import Entity
from bot.core.export import ExportOptions, SectionOut, render_document
from bot.core.journal_doc import parse_journal
from bot.core.notes import NoteDraft
from bot.core.sanitize import defang
from bot.core.tags import find_tags
from bot.core.view import day_html

DAY = DayRange(date(2021, 4, 8), date(2021, 4, 8))


def _render(sections: list[SectionOut], days: list[tuple[DayRange, list[NoteDraft]]]) -> int:
    post = "".join(
        render_document(
            ExportOptions(),
            title="t",
            stored_front_matter=None,
            newest=None,
            sections=sections,
            days=days,
        )
    )
    shown = sum(len(h) for _, notes in days for h in day_html(notes))
    notes = [n for s in sections for n in s.notes] + [n for _, ns in days for n in ns]
    tags = sum(len(find_tags(n.text)) for note in notes for n in note.walk())
    return len(defang(post)) + shown + tags


def handle_message(job: tuple[str, list[Entity]]) -> int:
    """What capture, /today and export do with one message."""
    text, entities = job
    notes = message_notes(text, entities)
    return _render([], [(DAY, notes)])


def handle_file(text: str) -> int:
    """What import, /today and export do with one journal file."""
    parsed = parse_journal(text)
    sections = [SectionOut(s.title, s.level, s.notes) for s in parsed.sections]
    return _render(sections, [(d.days, d.notes) for d in parsed.days])


def spin(_: None) -> None:
    """A parse that never ends."""
    while True:
        pass


def cpu_seconds(job: tuple[Callable[[Any], object], Any]) -> float:
    """fn(arg)'s CPU time in this process: what the work costs, whoever else has the CPU
    meanwhile (on a busy machine the wall time is mostly other processes' turns)."""
    fn, arg = job
    start = time.process_time()
    fn(arg)
    return time.process_time() - start

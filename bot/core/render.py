"""Note trees → markdown in the journal's style (nested `*` bullets, `~~done~~` TODOs)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bot.core.mdparser import can_strike
from bot.core.notes import NoteDraft, capped
from bot.core.sanitize import defang


def item_text(note: NoteDraft) -> str:
    """The text as it appears after the marker: done TODOs are struck through.

    defang() again: a note stored before the sanitizer knew kramdown is made safe here.
    """
    text = defang(note.text)
    if note.done and can_strike(text):
        return f"~~{text}~~"
    return text


def _item_lines(
    note: NoteDraft, indent: int, marker: str, bullet: str, parens: bool, out: list[str]
) -> None:
    # appends to one list instead of nesting generators: export renders every note
    first, *rest = item_text(note).split("\n")
    pad = " " * indent
    out.append(f"{pad}{marker} {first}".rstrip() if first else f"{pad}{marker}")
    col = indent + len(marker) + 1
    if rest:
        cont = " " * col
        out.extend(cont + line if line else "" for line in rest)
    if note.children:
        _list_lines(note.children, col, bullet, parens, out)


def _runs(
    notes: Iterable[NoteDraft], parens: bool = False
) -> Iterator[tuple[str, list[NoteDraft]]]:
    """Group consecutive siblings into runs: ordered items ("ordered", or "ordered)" for
    items written `1)` when `parens`), bullet items, or single blocks."""
    run: list[NoteDraft] = []
    kind = ""
    for note in notes:
        if note.kind == "block":
            k = "block"
        elif note.ordered:
            k = "ordered)" if note.paren and parens else "ordered"
        else:
            k = "bullet"
        if run and (k != kind or k == "block"):
            yield kind, run
            run = []
        kind = k
        run.append(note)
    if run:
        yield kind, run


def _list_lines(
    notes: list[NoteDraft], indent: int, bullet: str, parens: bool, out: list[str]
) -> None:
    first = True
    for kind, run in _runs(notes, parens):
        if not first:
            out.append("")  # a new run must not merge into the previous list
        first = False
        if kind == "block":  # only at the top level; nested blocks are written as items
            for note in run:
                _item_lines(note, indent, bullet, bullet, parens, out)
            continue
        for n, note in enumerate(run, start=1):
            marker = f"{n}{kind[7:] or '.'}" if kind.startswith("ordered") else bullet
            _item_lines(note, indent, marker, bullet, parens, out)


def render_body(notes: list[NoteDraft], bullet: str = "*", *, parens: bool = True) -> list[str]:
    """Lines of a day's (or section's) body: blocks as written, items as nested bullets
    (at most MAX_DEPTH levels: deeper notes follow their ancestor at the last level).

    parens: an item written `1)` keeps its delimiter (CommonMark, Obsidian); kramdown (a
    Jekyll post) knows only `1.`, where `1)` would be a paragraph, so there it is `1.`.
    """
    notes = capped(notes)
    out: list[str] = []
    first = True
    for kind, run in _runs(notes, parens):
        if not first:
            out.append("")
        first = False
        if kind == "block":
            for note in run:
                out.extend(defang(note.text).split("\n"))
            continue
        for n, note in enumerate(run, start=1):
            marker = f"{n}{kind[7:] or '.'}" if kind.startswith("ordered") else bullet
            _item_lines(note, 0, marker, bullet, parens, out)
    return out

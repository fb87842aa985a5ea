"""The note model: a note not yet stored (NoteDraft), and note rows → note trees."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

NoteKind = Literal["item", "block"]


@dataclass
class NoteDraft:
    """A note not yet stored: text (markdown), its kind and its children."""

    text: str
    kind: NoteKind = "item"
    ordered: bool = False
    done: bool = False
    paren: bool = False  # an ordered item written `1)`, not `1.`
    children: list[NoteDraft] = field(default_factory=list)

    def bare(self) -> NoteDraft:
        """This note without its children: dataclasses.replace(self, children=[]), written
        out (replace() takes 20 times as long, most of capping a chain of 5,000 replies)."""
        return NoteDraft(self.text, self.kind, self.ordered, self.done, self.paren)

    def walk(self) -> list[NoteDraft]:
        """This draft and all its descendants, depth first (a loop: a chain of replies can
        be thousands deep, past Python's recursion limit)."""
        out: list[NoteDraft] = []
        stack = [self]
        while stack:
            note = stack.pop()
            out.append(note)
            stack.extend(reversed(note.children))
        return out


# List levels markdown-it reads (its maxNesting of 20 tokens, two a level). An item at the
# last of them gets no content parsed: it swallows its siblings after it as its own text.
LIST_LEVELS = 10
# so the levels an export writes (and an import reads back as they were) is one fewer
MAX_DEPTH = LIST_LEVELS - 1


def too_deep(notes: list[NoteDraft], depth: int = MAX_DEPTH) -> int:
    """How many notes sit deeper than `depth` levels (0 for almost every journal)."""
    count = 0
    stack = [(note, 0) for note in notes]
    while stack:
        note, level = stack.pop()
        count += level >= depth
        stack.extend((child, level + 1) for child in note.children)
    return count


def capped(notes: list[NoteDraft], depth: int = MAX_DEPTH) -> list[NoteDraft]:
    """The tree with every note deeper than `depth` levels moved up to the last level, right
    after its ancestor there, in reading order; nothing is dropped.

    Renderers recurse at most `depth` levels on the result, however deep the replies go
    (a chain of 5,000 replies would pass Python's recursion limit, and its indentation
    alone would grow the export quadratically).
    """
    if not too_deep(notes, depth):
        return notes
    top: list[NoteDraft] = []
    todo = [(notes, top, 0)]  # (notes, the list their copies go into, their level)
    while todo:
        source, target, level = todo.pop()
        for note in source:
            copy = note.bare()
            target.append(copy)
            if level + 1 < depth:
                todo.append((note.children, copy.children, level + 1))
            else:  # the last level: the descendants follow it as its siblings
                target.extend(n.bare() for n in note.walk()[1:])
    return top


def build_tree(rows: Iterable[Sequence[Any]]) -> list[NoteDraft]:
    """Rows starting (id, parent_id, kind, ordered, done, text, paren, …), in sibling order.

    Extra trailing columns are ignored; parents may come before or after children.
    """
    nodes: dict[int, NoteDraft] = {}
    parents: list[tuple[int, int | None]] = []
    for nid, parent_id, kind, ordered, done, text, paren, *_ in rows:
        nodes[nid] = NoteDraft(
            text=text,
            kind="block" if kind == "block" else "item",
            ordered=ordered,
            done=done,
            paren=bool(paren and ordered),
        )
        parents.append((nid, parent_id))
    roots: list[NoteDraft] = []
    for nid, parent_id in parents:
        if parent_id is None:
            roots.append(nodes[nid])
        elif parent_id in nodes:
            nodes[parent_id].children.append(nodes[nid])
        # else: the parent was deleted, so this subtree is hidden too
    return roots

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
    children: list[NoteDraft] = field(default_factory=list)

    def walk(self) -> list[NoteDraft]:
        """This draft and all its descendants, depth first."""
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


def build_tree(rows: Iterable[Sequence[Any]]) -> list[NoteDraft]:
    """Rows starting (id, parent_id, kind, ordered, done, text, …), in sibling order.

    Extra trailing columns are ignored; parents may come before or after children.
    """
    nodes: dict[int, NoteDraft] = {}
    parents: list[tuple[int, int | None]] = []
    for nid, parent_id, kind, ordered, done, text, *_ in rows:
        nodes[nid] = NoteDraft(
            text=text, kind="block" if kind == "block" else "item", ordered=ordered, done=done
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

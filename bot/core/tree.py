"""Note rows → note trees."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bot.core.markdown import NoteDraft


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

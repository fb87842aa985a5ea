"""Layers point one way: the core imports neither Telegram nor the database; storage no Telegram."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

RULES = {
    # package → what it must never import
    "bot/core": ("telegram", "sqlalchemy", "alembic", "storage", "bot.telegram", "bot.settings"),
    "storage": ("telegram", "bot.telegram", "bot.settings"),
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(RULES))
def test_layers(package: str) -> None:
    forbidden = RULES[package]
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    for path in files:
        for name in imports(path):
            bad = [f for f in forbidden if name == f or name.startswith(f + ".")]
            assert not bad, f"{path.relative_to(ROOT)} imports {name}"


def test_cli_export_path_stays_off_telegram() -> None:
    # `rizhilu export` reuses core and storage, like sqlite-utils' CLI reuses its library
    for name in ("bot/cli_journal.py", "bot/exporting.py"):
        assert not any(m.startswith("telegram") or m.startswith("bot.telegram")
                       for m in imports(ROOT / name)), name  # fmt: skip


# the note model, the parser and the sanitizer (the blog's safety boundary) lean on nothing
# else of ours: what they import is all there is to review
OWN_IMPORTS = {
    "bot/core/notes.py": set(),
    "bot/core/mdparser.py": set(),
    "bot/core/sanitize.py": {"bot.core.mdparser"},
}


@pytest.mark.parametrize("name", sorted(OWN_IMPORTS))
def test_leaf_modules(name: str) -> None:
    ours = {m for m in imports(ROOT / name) if m.split(".")[0] in {"bot", "storage"}}
    assert ours <= OWN_IMPORTS[name], name


def test_bulk_paths_stay_off_the_orm() -> None:
    # one ORM object per row costs far more than Core tuples: bulk import/export use the tables
    for name in ("storage/bulk_import.py", "storage/bulk_export.py", "storage/trees.py"):
        assert not any(m.startswith("storage.models") or m.startswith("sqlalchemy.orm")
                       for m in imports(ROOT / name)), name  # fmt: skip

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
    for name in (
        "bot/cli_journal.py",
        "bot/exporting.py",
        "bot/cli_db.py",
        "bot/cli_site.py",
        "bot/site.py",
    ):
        assert not any(m.startswith("telegram") or m.startswith("bot.telegram")
                       for m in imports(ROOT / name)), name  # fmt: skip


# the note model, the parser and the sanitizer (the blog's safety boundary) lean on nothing
# else of ours: what they import is all there is to review
OWN_IMPORTS = {
    "bot/core/notes.py": set(),
    "bot/core/mdparser.py": set(),
    "bot/core/sanitize.py": {"bot.core.mdparser"},
    # the Bot API emulator (tests and `rizhilu demo`) is the standard library only: it
    # must not agree with the bot because it shares the bot's code
    "bot/emulator.py": set(),
}


@pytest.mark.parametrize("name", sorted(OWN_IMPORTS))
def test_leaf_modules(name: str) -> None:
    ours = {m for m in imports(ROOT / name) if m.split(".")[0] in {"bot", "storage"}}
    assert ours <= OWN_IMPORTS[name], name
    assert not any(m.split(".")[0] in {"telegram", "sqlalchemy"} for m in imports(ROOT / name))


def test_bulk_paths_stay_off_the_orm() -> None:
    # one ORM object per row costs far more than Core tuples: bulk import/export use the tables
    for name in ("storage/bulk_import.py", "storage/bulk_export.py", "storage/trees.py"):
        assert not any(m.startswith("storage.models") or m.startswith("sqlalchemy.orm")
                       for m in imports(ROOT / name)), name  # fmt: skip


def bot_modules(path: Path) -> set[str]:
    """Our modules a file imports, `from bot import texts` read as bot.texts."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "bot" and node.level == 0:
            found.update(f"bot.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m == "bot" or m.startswith("bot.")}


def test_the_core_imports_only_itself_and_the_texts() -> None:
    # user-facing words live in bot/texts.py; the core may word its messages with them
    for path in sorted((ROOT / "bot/core").rglob("*.py")):
        for name in bot_modules(path):
            assert name.startswith("bot.core.") or name == "bot.texts", (
                f"{path.relative_to(ROOT)} imports {name}"
            )


def test_the_texts_import_nothing() -> None:
    # so that importing them can never pull Telegram or the database into the core
    assert imports(ROOT / "bot/texts.py") <= {"__future__"}

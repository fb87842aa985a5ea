"""The `rizhilu` command's surface: help with examples, and one error type with one exit-code table."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.cli import EXIT_CODES, main
from bot.settings import setting_names

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ["run", "migrate", "backup", "export", "import", "doctor"]


def help_of(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as stop:
        main([*args, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_shows_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_of([command], capsys)
    lines = text.split("examples:\n", 1)[1].splitlines()
    assert lines and all(line.startswith("  ") and "rizhilu" in line for line in lines)
    assert all(f" {command}" in line for line in lines)
    assert "%%" not in text  # argparse leaves an epilog's % alone unless it names %(prog)s


def test_top_level_help_points_to_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of([], capsys)
    assert "examples:\n  rizhilu run" in text and "rizhilu COMMAND --help" in text


def test_run_help_lists_where_settings_come_from(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of(["run"], capsys)
    assert "the environment" in text and ".env" in text and "--env-file" in text
    listed = text.split("settings:\n", 1)[1].split("\n\n", 1)[0]
    names = {name.strip() for name in listed.replace("\n", " ").split(",")}
    assert names == {name.upper() for name in setting_names()}


def test_a_failing_command_prints_one_line_and_the_mapped_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'j.db'}")
    env = ["--env-file", str(tmp_path / "absent.env")]
    assert main([*env, "migrate"]) == 0  # export reads a journal; it never creates one
    capsys.readouterr()
    assert main([*env, "export", "--user", "5"]) == EXIT_CODES["usage"] == 2
    err = capsys.readouterr().err
    # the database line (which journal was opened), then the one error line
    assert err == f"database: SQLite {tmp_path / 'j.db'}\nerror: no journal for user 5\n"
    monkeypatch.setenv("TIMEZONE", "Mars/Base")  # a settings error goes the same way
    assert main([*env, "migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: invalid setting TIMEZONE") and err.count("\n") == 1
    assert EXIT_CODES["unavailable"] == 1


def test_exit_codes_are_decided_in_one_place() -> None:
    # commands raise CliError; only main() turns a failure into a number
    for name in ("bot/cli.py", "bot/cli_journal.py"):
        tree = ast.parse((ROOT / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant):
                assert node.value.value == 0, f"{name}:{node.lineno} returns {node.value.value}"

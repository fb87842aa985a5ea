"""The docs stay true: every setting and command is documented, CI runs the README's command."""

from __future__ import annotations

import re
from pathlib import Path

from bot import texts
from bot.settings import setting_names
from bot.telegram.app import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    for name in setting_names():
        var = name.upper()
        assert re.search(rf"^{var}=", ENV_EXAMPLE, re.M), f"{var} missing from .env.example"
        assert f"`{var}`" in README, f"{var} missing from the README's settings table"


def test_every_documented_setting_exists() -> None:
    for var in re.findall(r"^([A-Z_]+)=", ENV_EXAMPLE, re.M):
        assert var.lower() in setting_names(), f"{var} in .env.example is not a setting"


def test_every_command_is_documented() -> None:
    for command in [c.command for c in COMMANDS] + ["start"]:
        assert f"`/{command}" in README, f"/{command} missing from the README"
    for command in [c.command for c in COMMANDS if c.command != "help"]:
        assert f"/{command}" in texts.HELP, f"/{command} missing from /help"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    quick = re.search(r"\*\*Run the tests\*\*.*?```sh\n(.+?)\n```", README, re.S)
    assert quick is not None
    for step in quick.group(1).split(" && "):
        assert step in ci, f"CI does not run the README's step {step!r}"

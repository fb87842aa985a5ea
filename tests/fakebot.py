"""Moved to bot/emulator.py (the demo shares it); kept only so in-flight branches rebase."""

from bot.emulator import *  # noqa: F403

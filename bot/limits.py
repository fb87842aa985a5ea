"""How long and how large a child process parsing an untrusted file may get (bot.worker)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """How long a child may run (wall clock) and how much address space it may map."""

    seconds: float
    memory: int  # bytes of address space (RLIMIT_AS), the interpreter's own included


# A 1 MB journal parses in about 3 s on a busy machine; a 20 MB one (Telegram's download
# limit) in about a minute, which the bot refuses and `rizhilu import` accepts.
BOT_LIMITS = Limits(seconds=30.0, memory=1536 << 20)
CLI_LIMITS = Limits(seconds=600.0, memory=4096 << 20)
# the longest pause a bot's import takes after each batch it commits (bot.worker._Turns)
IMPORT_TURN = 0.25

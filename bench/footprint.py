"""Benchmark: idle memory and time to the first ✍, rizhilu beside a bare react-only PTB bot.

    python bench/footprint.py [--repeat 3] [--idle 3] [--python PATH]

Each bot starts as its own process against the same in-process fake Bot API with one note
already waiting. Time to first ack runs from the process's start to its setMessageReaction
for that note; idle RSS is the process's resident set (VmRSS) after it has then sat idle
for --idle seconds. rizhilu runs `rizhilu run` with default settings on a fresh SQLite
file; the bare bot is bench/ingest.py's (stock updater, one handler, no database).

CPU to first ack is the process's user + system time when its ack arrives: on a shared
machine it moves far less with the load than the wall time does. The checkout's modules
are compiled to bytecode first, as installing rizhilu does (PTB's are, by pip): with
PYTHONDONTWRITEBYTECODE set, each start would otherwise compile ~90 modules (~0.12 s).

--python runs both bots under another interpreter, such as a user's install without the
dev extras: `python -m venv /tmp/prod && /tmp/prod/bin/pip install .`, then
`--python /tmp/prod/bin/python` (the checkout's code, that install's packages). The dev
extras bring selenium, whose trio httpcore imports at the first request when it is
installed: about 0.09 s of either bot's start that a user's install does not have.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import stop
from bench.ingest import FIRST_USER, REACTION, ROOT, bare_command, environment, rizhilu_command
from bot.emulator import FakeBotAPI


@dataclass(frozen=True)
class Footprint:
    first_ack_s: float
    first_ack_cpu_s: float
    idle_rss_mb: float


def cpu_s(pid: int) -> float:
    """User + system seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def measure(name: str, cmd: list[str], url: str, idle: float, message_id: int) -> Footprint:
    fake = FakeBotAPI().start()
    # a new message each start: the same one again would be a duplicate (no note written)
    fake.send(FIRST_USER, "the first note", message_id=message_id)
    started = time.monotonic()
    bot = subprocess.Popen(
        cmd, env=environment(fake, 1, url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        fake.wait_for(lambda: bool(fake.calls_to(REACTION)), 60, f"{name}'s first ack")
        cpu = cpu_s(bot.pid)
        first = fake.calls_to(REACTION)[0].at - started
        time.sleep(idle)  # a bench, not a test: idle means nothing happening for a while
        rss = rss_mb(bot.pid)
    finally:
        stop(bot, name)
        fake.stop()
    return Footprint(first, cpu, rss)


def median(runs: list[Footprint]) -> Footprint:
    return Footprint(
        statistics.median(r.first_ack_s for r in runs),
        statistics.median(r.first_ack_cpu_s for r in runs),
        statistics.median(r.idle_rss_mb for r in runs),
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--idle", type=float, default=3.0, help="seconds idle before reading RSS")
    ap.add_argument("--python", default=sys.executable, help="the bots' interpreter")
    args = ap.parse_args()
    mine_cmd, bare_cmd = rizhilu_command(python=args.python), bare_command(args.python)
    for package in ("bot", "storage"):
        compileall.compile_dir(ROOT / package, quiet=1)
    bare_runs: list[Footprint] = []
    ours: list[Footprint] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'footprint.db'}"
        new = measure("rizhilu", mine_cmd, url, args.idle, 1)  # creates the journal
        for n in range(2, args.repeat + 2):  # interleaved: both see the same machine
            bare_runs.append(measure("bare PTB bot", bare_cmd, "", args.idle, n))
            ours.append(measure("rizhilu", mine_cmd, url, args.idle, n))
    bare, mine = median(bare_runs), median(ours)
    print(
        f"rizhilu's first start (creates the journal): first ack {new.first_ack_s:.2f} s, "
        f"idle RSS {new.idle_rss_mb:.1f} MB"
    )
    has_trio = subprocess.run(
        [args.python, "-c", "import importlib.util as u; print(bool(u.find_spec('trio')))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"interpreter {args.python} (trio installed: {has_trio})")
    print(
        f"then median of {args.repeat} starts each on that journal, a new note waiting at each start"
    )
    print(f"{'':<14}{'first ack':>12}{'its CPU':>10}{'idle RSS':>12}")
    for name, f in (("bare PTB bot", bare), ("rizhilu", mine)):
        print(
            f"{name:<14}{f.first_ack_s:>10.2f} s{f.first_ack_cpu_s:>8.2f} s{f.idle_rss_mb:>9.1f} MB"
        )
    print(
        f"rizhilu/bare: first ack {mine.first_ack_s / bare.first_ack_s:.2f}x (target <= 0.5 s), "
        f"its CPU {mine.first_ack_cpu_s / bare.first_ack_cpu_s:.2f}x, "
        f"idle RSS {mine.idle_rss_mb / bare.idle_rss_mb:.2f}x (target <= 1.5x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

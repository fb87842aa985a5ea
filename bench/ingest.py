"""Benchmark: a burst of notes from many users, rizhilu beside a bare react-only PTB bot.

    python bench/ingest.py [--notes 2000] [--users 50] [--rounds 3] [--no-postgres]
                           [--profile FILE] [--probe]

Both bots run as their own process against the same in-process fake Bot API, one after the
other on the same machine. Each round runs the bare bot, rizhilu on SQLite, then rizhilu on
PostgreSQL, so a slow phase of the machine falls on all three alike; after the rounds, one
line a bot gives the median rate and CPU per note over the rounds, the ratio of the medians
to the bare bot's median rate, and the range of the per-round ratios. The bare bot is python-telegram-bot's stock updater and one
handler that awaits set_reaction: no database, nothing else. rizhilu runs as `rizhilu run`
with default settings (rate limit, inbox intake) on a fresh SQLite file, and on a fresh
PostgreSQL schema when RIZHILU_TEST_POSTGRES_URL answers. Once a bot polls, every note is
queued at once; a note's ack latency runs from then to its setMessageReaction call. CPU is
the bot process's CPU time per note during the burst (Linux), and its event loop's share:
on a busy machine the rate moves with the neighbours' load, the CPU per note much less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import stop
from bot.emulator import FakeBotAPI

ROOT = Path(__file__).resolve().parents[1]
FIRST_USER = 7000
REACTION = "setMessageReaction"


@dataclass(frozen=True)
class Result:
    name: str
    notes_per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float | None  # the bot process's CPU time per note during the burst
    loop_ms: float | None  # of which its main thread's (the event loop's)


def cpu_seconds(pid: int) -> tuple[float, float] | None:
    """A process's user + system CPU time so far, and its main thread's (Linux; else None)."""
    tick = os.sysconf("SC_CLK_TCK")

    def read(stat: Path) -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    try:
        return read(Path(f"/proc/{pid}/stat")), read(Path(f"/proc/{pid}/task/{pid}/stat"))
    except OSError:
        return None


def bare_bot() -> None:
    """The baseline: the least a PTB bot can do per note (run in a child process)."""
    from telegram import ReactionTypeEmoji, Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    async def react(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.set_reaction(ReactionTypeEmoji("✍"))

    app = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_BASE_URL"])
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, react))
    app.run_polling(timeout=1)


def bare_command(python: str = sys.executable) -> list[str]:
    return [python, str(Path(__file__).resolve()), "--bare-bot"]


def rizhilu_command(profile: str | None = None, python: str = sys.executable) -> list[str]:
    run = ["-m", "bot.cli", "--env-file", os.devnull, "run"]
    if profile:  # every thread: database calls run in to_thread workers
        return [python, str(ROOT / "bench" / "profile_threads.py"), profile, *run]
    return [python, *run]


def environment(fake: FakeBotAPI, users: int, url: str) -> dict[str, str]:
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_BASE_URL": fake.base_url,
        "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
        "DATABASE_URL": url,
        "ALLOWED_USER_IDS": ",".join(str(FIRST_USER + u) for u in range(users)),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def burst(name: str, cmd: list[str], notes: int, users: int, url: str) -> Result:
    """Start the bot, wait until it polls, queue every note at once, time the reactions."""
    fake = FakeBotAPI().start()
    bot = subprocess.Popen(
        cmd, env=environment(fake, users, url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        fake.wait_for(lambda: fake.polls > 0, 60, f"{name} to poll")
        time.sleep(0.5)  # let start-up work (jobs, first long poll) settle
        cpu_before = cpu_seconds(bot.pid)
        queued: dict[tuple[int, int], float] = {}
        for i in range(notes):
            user = FIRST_USER + i % users
            msg = fake.send(user, f"note {i:05d} from {user}")
            queued[(user, msg["message_id"])] = time.monotonic()
        start = min(queued.values())

        def acked() -> list[tuple[tuple[int, int], float]]:
            return [
                ((int(c.params["chat_id"]), int(c.params["message_id"])), c.at)
                for c in fake.calls_to(REACTION)
                if "_failed" not in c.params
            ]

        fake.wait_for(lambda: len(acked()) >= notes, 900, f"{name}'s {notes} reactions")
        cpu_after = cpu_seconds(bot.pid)
    finally:
        stop(bot, name)
        fake.stop()
    first: dict[tuple[int, int], float] = {}
    for key, at in acked():
        first.setdefault(key, at)
    if len(first) != notes:
        raise RuntimeError(f"{name}: {len(first)} of {notes} acked")
    latencies = sorted((at - queued[key]) * 1000 for key, at in first.items())
    elapsed = max(first.values()) - start
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    cpu = loop = None
    if cpu_before is not None and cpu_after is not None:
        cpu = (cpu_after[0] - cpu_before[0]) * 1000 / notes
        loop = (cpu_after[1] - cpu_before[1]) * 1000 / notes
    return Result(name, notes / elapsed, statistics.median(latencies), p99, cpu, loop)


def postgres_url() -> str | None:
    """RIZHILU_TEST_POSTGRES_URL when it is set and its server answers, else None."""
    from storage.scratch import scratch_schema

    url = os.environ.get("RIZHILU_TEST_POSTGRES_URL")
    if not url:
        return None
    with scratch_schema(url, "bench_") as probe:
        return url if probe is not None else None


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL at url (dropped afterwards)."""
    from storage.scratch import scratch_schema

    with scratch_schema(url, "bench_") as schema_url:
        if schema_url is None:
            raise RuntimeError("PostgreSQL stopped answering")
        yield schema_url


def show(result: Result, bare: Result) -> None:
    print(
        f"{result.name:<20} {result.notes_per_second:8.0f} notes/s  "
        f"ack p50 {result.p50_ms:7.0f} ms  p99 {result.p99_ms:7.0f} ms  "
        + (
            f"CPU {result.cpu_ms:4.2f} ms/note ({result.loop_ms:4.2f} in the event loop)  "
            if result.cpu_ms is not None and result.loop_ms is not None
            else ""
        )
        + f"({result.notes_per_second / bare.notes_per_second:.0%} of the bare bot's rate)"
    )


def summary(name: str, results: list[Result], bares: list[Result]) -> None:
    """Medians over the rounds beside the bare bot's, and the range of the rounds' ratios."""
    rate = statistics.median(r.notes_per_second for r in results)
    bare_rate = statistics.median(b.notes_per_second for b in bares)
    ratios = [r.notes_per_second / b.notes_per_second for r, b in zip(results, bares, strict=True)]
    cpus = [r.cpu_ms for r in results if r.cpu_ms is not None]
    cpu = f"CPU {statistics.median(cpus):4.2f} ms/note  " if cpus else ""
    print(
        f"{name:<20} median {rate:8.0f} notes/s  {cpu}"
        f"({rate / bare_rate:.0%} of the bare bot's median; "
        f"rounds {min(ratios):.0%}-{max(ratios):.0%}, n={len(results)})"
    )


def one_round(args: argparse.Namespace, pg: str | None, results: dict[str, list[Result]]) -> None:
    """The bare bot, rizhilu on SQLite, then on PostgreSQL (when given), each line shown."""
    bare = burst("bare PTB bot", bare_command(), args.notes, args.users, "")
    show(bare, bare)
    results.setdefault(bare.name, []).append(bare)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'ingest.db'}"
        runs.append(
            burst("rizhilu (SQLite)", rizhilu_command(args.profile), args.notes, args.users, url)
        )
        show(runs[-1], bare)
    if pg is not None:
        with fresh_schema(pg) as schema_url:
            runs.append(
                burst("rizhilu (PostgreSQL)", rizhilu_command(), args.notes, args.users, schema_url)
            )
        show(runs[-1], bare)
    for run in runs:
        results.setdefault(run.name, []).append(run)


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--notes", type=int, default=2000)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3, help="bare, SQLite, PostgreSQL in turn")
    ap.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    ap.add_argument(
        "--profile",
        metavar="FILE",
        help="cProfile rizhilu's SQLite run into FILE (the last round's)",
    )
    ap.add_argument("--probe", action="store_true", help="then bench/probe.py's scenarios")
    ap.add_argument("--bare-bot", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bare_bot:
        bare_bot()
        return 0
    print(f"{args.notes} notes from {args.users} users, queued at once, {args.rounds} rounds")
    pg = None if args.no_postgres else postgres_url()
    if not args.no_postgres and pg is None:
        print("PostgreSQL: not reachable (set RIZHILU_TEST_POSTGRES_URL); skipped")
    results: dict[str, list[Result]] = {}
    for n in range(args.rounds):
        print(f"round {n + 1}")
        one_round(args, pg, results)
    if args.rounds > 1:
        bares = results["bare PTB bot"]
        for name, runs in results.items():
            summary(name, runs, bares)
    if args.probe:
        from bench.probe import run_probes

        return run_probes(["import", "reminders", "strangers"], 100_000)
    return 0


if __name__ == "__main__":
    sys.exit(main())

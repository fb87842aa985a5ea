"""Benchmark: SIGTERM while 10,000 reminders are being sent at 30/s, then a restart.

    python bench/stop.py [--users 10000] [--patience 120]

Prints how long the bot took to exit after SIGTERM (killed after `patience` s), how many
reminders went out before the stop, and after a restart (no pace) and its catch-up (in the
background once the bot polls: waited for until nothing is sent for 5 s) how many users
got none, one or more than one: each should get exactly one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest import rizhilu_command
from bench.probe import environment, seed_reminders
from bot.emulator import FakeBotAPI


def settle(fake: FakeBotAPI, *, quiet: float, patience: float) -> str:
    """Wait until no message has been sent for `quiet` seconds (at most `patience`)."""
    began = last_change = time.monotonic()
    seen = len(fake.sent_messages)
    while time.monotonic() - last_change < quiet:
        if time.monotonic() - began > patience:
            return f"still sending after {patience:.0f} s"
        time.sleep(0.5)  # a bench: polling the fake is the point
        if len(fake.sent_messages) != seen:
            seen, last_change = len(fake.sent_messages), time.monotonic()
    return f"catch-up done {last_change - began:.1f} s after the first poll"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--patience", type=float, default=120.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'stop.db'}"
        fire_at = (datetime.now(UTC) + timedelta(seconds=40)).replace(second=0, microsecond=0)
        if (fire_at - datetime.now(UTC)).total_seconds() < 15:
            fire_at += timedelta(minutes=1)
        seed_reminders(url, args.users, fire_at.strftime("%H:%M"))
        fake = FakeBotAPI(rate_limit=30).start()
        try:
            env = environment(fake, url, "*")
            bot = subprocess.Popen(rizhilu_command(), env=env, stderr=subprocess.DEVNULL)
            # past the minute's last user second, the backlog is full and draining
            time.sleep(max(0.0, (fire_at - datetime.now(UTC)).total_seconds()) + 65)
            before = len(fake.sent_messages)
            began = time.monotonic()
            bot.terminate()
            try:
                bot.wait(args.patience)
                stopped = f"exited {bot.returncode} after {time.monotonic() - began:.1f} s"
            except subprocess.TimeoutExpired:
                bot.kill()
                bot.wait()
                stopped = f"still running after {args.patience:.0f} s: killed"
            print(f"SIGTERM with {before} of {args.users} reminders sent: {stopped}")
            fake.rate_limit = None
            polls = fake.polls
            again = subprocess.Popen(
                rizhilu_command(), env={**env, "RATE_LIMIT": "0"}, stderr=subprocess.DEVNULL
            )
            fake.wait_for(lambda: fake.polls > polls, 300, "the restart to poll")
            # the catch-up goes on in the background after the first poll: until it is quiet
            caught_up = settle(fake, quiet=5.0, patience=300.0)
            again.terminate()
            again.wait(60)
            per_chat = Counter(int(m["chat"]["id"]) for m in fake.sent_messages)
            counts = Counter(per_chat.get(10_000 + i, 0) for i in range(args.users))
            print(
                f"after the restart ({caught_up}): {counts[1]} users got one reminder, "
                f"{counts[0]} none, {sum(n for k, n in counts.items() if k > 1)} more than one"
            )
        finally:
            fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: a probe user's ack latency while heavy work goes on, rizhilu beside a bare bot.

    python bench/probe.py [--only import,reminders,strangers] [--notes 100000]
    python bench/ingest.py --probe   (the same, after the burst figures)

A probe user sends a note every 200 ms while (a) another user sends a 100,000-note journal
as a document and presses Import, (b) 10,000 users' reminders fall due in the same minute
(the fake enforces Telegram's 30 messages/s), or (c) 60 strangers write 5 messages each.
Each bot runs as its own process against an in-process fake Bot API; the bare bot
(bench/ingest.py's: stock updater, react to every text) meets the same traffic and has no
work to do for it beyond reacting to strangers. Reported: the probe's p50/p99/max ack
latency, from the note's arrival in the fake to its setMessageReaction call.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import stop
from bench.ingest import REACTION, bare_command, rizhilu_command
from bot.emulator import FakeBotAPI

ROOT = Path(__file__).resolve().parents[1]
PROBE = 7000
IMPORTER = 7001
STRANGERS = range(8000, 8060)
EVERY = 0.2  # seconds between the probe's notes
TARGET_MS = 250


@dataclass(frozen=True)
class Probe:
    p50_ms: float
    p99_ms: float
    max_ms: float
    notes: int
    load: str  # what the heavy work itself did, for the record


Load = Callable[[FakeBotAPI, threading.Event], str]


def environment(fake: FakeBotAPI, url: str, allowed: str, rate_limit: str = "30") -> dict[str, str]:
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_BASE_URL": fake.base_url,
        "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
        "DATABASE_URL": url,
        "ALLOWED_USER_IDS": allowed,
        "RATE_LIMIT": rate_limit,
        "REMINDER_TIME": "",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def run(
    name: str,
    cmd: list[str],
    fake: FakeBotAPI,
    env: dict[str, str],
    load: Load,
    *,
    busy_at_stop: bool = False,
) -> Probe:
    """Start the bot, then probe it every 200 ms while `load` runs (and 2 s after).

    busy_at_stop: the bot still has work queued when the probe ends (reminders at 30/s):
    it is given 10 s to stop, then killed, and that is not counted as a failure here.
    """
    bot = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sent: dict[int, float] = {}  # the probe's message id → when it reached the fake
    done = threading.Event()
    halt = threading.Event()

    def probe() -> None:
        while not halt.is_set():
            msg = fake.send(PROBE, f"probe note {len(sent)}")
            sent[msg["message_id"]] = time.monotonic()
            halt.wait(EVERY)

    try:
        fake.wait_for(lambda: fake.polls > 0, 120, f"{name} to poll")
        time.sleep(1.0)  # start-up work settles (a bench: sleeping is the point)
        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        outcome = load(fake, done)
        time.sleep(2.0)
        halt.set()
        prober.join()
        fake.wait_for(lambda: len(acks(fake)) >= len(sent), 60, f"{name}'s probe acks")
    finally:
        try:
            stop(bot, name, patience=10 if busy_at_stop else 120)
        except RuntimeError:
            if not busy_at_stop:
                raise
    got = acks(fake)
    latencies = sorted((got[mid] - at) * 1000 for mid, at in sent.items())
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Probe(statistics.median(latencies), p99, latencies[-1], len(latencies), outcome)


def acks(fake: FakeBotAPI) -> dict[int, float]:
    """The probe's message id → when its first reaction reached the fake."""
    first: dict[int, float] = {}
    for c in fake.calls_to(REACTION):
        if int(c.params["chat_id"]) == PROBE and "_failed" not in c.params:
            first.setdefault(int(c.params["message_id"]), c.at)
    return first


# ---------------------------------------------------------------- (a) an import from the phone


def import_load(data: bytes, handles_files: bool) -> Load:
    def load(fake: FakeBotAPI, done: threading.Event) -> str:
        started = time.monotonic()
        fake.add_file("big", data)
        doc = {"file_id": "big", "file_unique_id": "ubig", "file_name": "journal.md",
               "mime_type": "text/markdown", "file_size": len(data)}  # fmt: skip
        fake.send(IMPORTER, None, extra={"document": doc})
        if not handles_files:  # the bare bot ignores documents: the same traffic, no work
            time.sleep(3.0)
            return "ignored"

        def preview() -> dict[str, Any] | None:
            shown = [m for m in fake.sent_messages if m["chat"]["id"] == IMPORTER]
            return shown[-1] if shown and "reply_markup" in shown[-1] else None

        fake.wait_for(lambda: preview() is not None, 300, "the import's preview")
        shown = preview()
        assert shown is not None
        previewed = time.monotonic() - started
        fake.press(IMPORTER, shown, "im:go")

        def finished() -> bool:
            return any(
                str(c.params.get("text", "")).startswith("Imported")
                for c in fake.calls_to("editMessageText")
            )

        fake.wait_for(finished, 600, "the import to finish")
        edits = len(fake.calls_to("editMessageText"))
        return (
            f"preview after {previewed:.1f} s, imported after "
            f"{time.monotonic() - started:.1f} s, {edits} message edits"
        )

    return load


# ---------------------------------------------------------------- (b) reminders fall due


def seed_reminders(url: str, users: int, at: str) -> None:
    from bench.reminders import seed

    seed(url, users, at)


def reminder_load(fire_at: datetime, users: int, watch: float) -> Load:
    def load(fake: FakeBotAPI, done: threading.Event) -> str:
        wait = (fire_at - datetime.now(UTC)).total_seconds()
        time.sleep(max(0.0, wait) + watch)  # probe across the due time and the fan-out
        return f"{len(fake.delivered)} of {users} reminders sent in the first {watch:.0f} s"

    return load


# ---------------------------------------------------------------- (c) strangers


def stranger_load(fake: FakeBotAPI, done: threading.Event) -> str:
    for i in range(5):
        for user in STRANGERS:
            fake.send(user, f"hello {i} from a stranger")
        time.sleep(0.5)
    time.sleep(2.0)
    return f"{len(STRANGERS) * 5} messages from {len(STRANGERS)} strangers"


# ---------------------------------------------------------------- the runs


def scenario(name: str, notes: int, tmp: Path) -> tuple[Probe, Probe]:
    """The bare bot's probe and rizhilu's, on the same traffic."""
    allowed = f"{PROBE},{IMPORTER}"
    if name == "import":
        from bench.export_import import generate

        data = generate(notes)[0].encode()
        fake = FakeBotAPI().start()
        try:
            bare = run("bare", bare_command(), fake, environment(fake, "", allowed),
                       import_load(data, handles_files=False))  # fmt: skip
        finally:
            fake.stop()
        fake = FakeBotAPI().start()
        try:
            url = f"sqlite:///{tmp / 'import.db'}"
            ours = run("rizhilu", rizhilu_command(), fake, environment(fake, url, allowed),
                       import_load(data, handles_files=True))  # fmt: skip
        finally:
            fake.stop()
        return bare, ours
    if name == "reminders":
        users = 10_000
        results: list[Probe] = []
        for who, cmd in (("bare", bare_command()), ("rizhilu", rizhilu_command())):
            fire_at = (datetime.now(UTC) + timedelta(seconds=40)).replace(second=0, microsecond=0)
            if (fire_at - datetime.now(UTC)).total_seconds() < 15:
                fire_at += timedelta(minutes=1)
            url = f"sqlite:///{tmp / f'reminders-{who}.db'}"
            seed_reminders(url, users, fire_at.strftime("%H:%M"))
            fake = FakeBotAPI(rate_limit=30).start()
            try:
                env = environment(fake, url if who == "rizhilu" else "", "*")
                load = reminder_load(fire_at, users, 65.0)
                results.append(run(who, cmd, fake, env, load, busy_at_stop=True))
            finally:
                fake.stop()
        return results[0], results[1]
    if name == "strangers":
        results = []
        for who, cmd in (("bare", bare_command()), ("rizhilu", rizhilu_command())):
            fake = FakeBotAPI().start()
            try:
                url = f"sqlite:///{tmp / f'strangers-{who}.db'}"
                results.append(run(who, cmd, fake, environment(fake, url, allowed), stranger_load))
            finally:
                fake.stop()
        return results[0], results[1]
    raise ValueError(name)


TITLES = {
    "import": "(a) another user imports a 100k-note file from the phone",
    "reminders": "(b) 10,000 reminders fall due",
    "strangers": "(c) 60 strangers write",
}


def run_probes(only: list[str], notes: int) -> int:
    print(f"probe: a note every {EVERY * 1000:.0f} ms; ack latency p50 / p99 / max")
    missed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in only:
            bare, ours = scenario(name, notes, Path(tmp))
            print(TITLES[name])
            for who, p in (("bare PTB bot", bare), ("rizhilu", ours)):
                print(
                    f"  {who:<13} {p.p50_ms:6.0f} / {p.p99_ms:6.0f} / {p.max_ms:6.0f} ms"
                    f"  ({p.notes} probe notes; {p.load})"
                )
            verdict = "met" if ours.p99_ms <= TARGET_MS else "MISSED"
            print(f"  target p99 <= {TARGET_MS} ms: {verdict}")
            missed += ours.p99_ms > TARGET_MS
    return 1 if missed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--only", default="import,reminders,strangers")
    ap.add_argument("--notes", type=int, default=100_000, help="notes in the imported file")
    args = ap.parse_args()
    return run_probes(args.only.split(","), args.notes)


if __name__ == "__main__":
    sys.exit(main())

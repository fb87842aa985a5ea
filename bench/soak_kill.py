"""Soak: stream messages through the fake Bot API while the bot is kill -9'd and restarted.

    python bench/soak_kill.py [--messages 10000] [--kills 20] [--runs 1] [--throughput 3000]

Counts lost and duplicated notes in the database after every run (target: 0 and 0), then
measures steady-state notes/s of the same bot with the inbox intake and with PTB's stock
updater (INTAKE=stock), and how many notes the stock updater loses under the same kills.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from bot.emulator import FakeBotAPI
from storage.engine import make_engine
from storage.models import Note

ROOT = Path(__file__).resolve().parents[1]
USER = 4242


def bot_env(fake: FakeBotAPI, url: str, intake: str) -> dict[str, str]:
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "DATABASE_URL": url,
        "TELEGRAM_BASE_URL": fake.base_url,
        "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
        "ALLOWED_USER_IDS": str(USER),
        "RATE_LIMIT": "0",
        "POLL_TIMEOUT": "1",
        "REMINDER_TIME": "",
        "LOG_LEVEL": "ERROR",
        "INTAKE": intake,
        "PYTHONPATH": str(ROOT),
    }


def start_bot(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def note_texts(url: str) -> Counter[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execute(select(Note.text).where(Note.deleted_at.is_(None))).scalars().all()
    except Exception:
        rows = []
    engine.dispose()
    return Counter(rows)


def soak(messages: int, kills: int, intake: str, seed: int) -> tuple[int, int, int]:
    """One run: returns (lost, duplicated, kills done)."""
    rng = random.Random(seed)
    fake = FakeBotAPI().start()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'soak.db'}"
        env = bot_env(fake, url, intake)
        done_sending = threading.Event()

        def produce() -> None:
            for i in range(messages):
                fake.send(USER, f"note {i:06d}")
                if i % 50 == 49:
                    time.sleep(0.05)  # about 1,000 messages a second, in bursts
            done_sending.set()

        producer = threading.Thread(target=produce, daemon=True)
        bot = start_bot(env)
        producer.start()
        killed = 0
        while killed < kills:
            time.sleep(rng.uniform(0.8, 3.0))
            bot.send_signal(signal.SIGKILL)
            bot.wait()
            killed += 1
            bot = start_bot(env)
        producer.join()
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if fake.pending_updates() == 0 and sum(note_texts(url).values()) >= messages:
                break
            if fake.pending_updates() == 0 and intake == "stock":
                time.sleep(3)  # the stock updater may have dropped some: nothing more comes
                break
            time.sleep(0.5)
        bot.send_signal(signal.SIGTERM)
        try:
            bot.wait(timeout=600)  # the stock updater drains its whole queue on a clean stop
        except subprocess.TimeoutExpired:
            bot.kill()
            bot.wait()
        texts = note_texts(url)
    fake.stop()
    wanted = {f"note {i:06d}" for i in range(messages)}
    lost = len(wanted - set(texts))
    duplicated = sum(n - 1 for t, n in texts.items() if n > 1)
    return lost, duplicated, killed


def throughput(messages: int, intake: str) -> float:
    """Notes per second with everything already queued (the bot catching up)."""
    fake = FakeBotAPI().start()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'tp.db'}"
        for i in range(messages):
            fake.send(USER, f"note {i:06d}")
        bot = start_bot(bot_env(fake, url, intake))
        fake.wait_for(lambda: bool(fake.calls_to("setMessageReaction")), 120, "first note")
        started = time.monotonic()
        first = len(fake.calls_to("setMessageReaction"))
        fake.wait_for(
            lambda: len(fake.calls_to("setMessageReaction")) >= messages, 600, "all notes"
        )
        elapsed = time.monotonic() - started
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=60)
    fake.stop()
    return (messages - first) / elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--throughput", type=int, default=3000, help="messages for the notes/s test")
    ap.add_argument("--stock-kills", action="store_true", help="also soak the stock updater")
    args = ap.parse_args()
    failed = False
    for run in range(args.runs):
        started = time.monotonic()
        lost, dup, killed = soak(args.messages, args.kills, "inbox", seed=run)
        print(
            f"inbox run {run + 1}: {args.messages} messages, {killed} kill -9s: "
            f"lost {lost}, duplicated {dup} ({time.monotonic() - started:.0f} s)"
        )
        failed |= lost > 0 or dup > 0
    if args.stock_kills:
        lost, dup, killed = soak(args.messages, args.kills, "stock", seed=99)
        print(f"stock updater, same soak: lost {lost}, duplicated {dup} over {killed} kills")
    if args.throughput:
        inbox = throughput(args.throughput, "inbox")
        stock = throughput(args.throughput, "stock")
        print(
            f"steady state: inbox {inbox:.0f} notes/s, stock {stock:.0f} notes/s "
            f"(inbox costs {1 - inbox / stock:.0%})"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

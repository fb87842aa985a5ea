"""Benchmark: N users whose reminders are due in the same minute, against a rate-limited fake.

    python bench/reminders.py [--users 10000]

The fake Bot API enforces Telegram's ~30 messages/s (429 + retry_after beyond it). The bot
runs as in production (JobQueue jobs, ledger, AIORateLimiter). Reports: delivered,
duplicates, 429s seen, and the achieved send rate as a fraction of the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from bot.emulator import FakeBotAPI
from storage.engine import make_engine, migrate
from storage.models import User

LIMIT = 30
ROOT = Path(__file__).resolve().parents[1]


def seed(url: str, users: int, at: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    now = datetime.now(UTC)
    rows = [
        dict(
            id=10_000 + i,
            chat_id=10_000 + i,
            name="",
            timezone="UTC",
            reminder_time=at,
            reminder_mode="always",
            blocked=False,
            created_at=now,
            updated_at=now,
        )  # fmt: skip
        for i in range(users)
    ]
    with engine.begin() as c:
        c.execute(insert(User), rows)
    engine.dispose()


async def main_async(users: int) -> int:
    fake = FakeBotAPI(rate_limit=LIMIT).start()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'r.db'}"
        # due at the start of the next minute that leaves time to start up
        fire_at = (datetime.now(UTC) + timedelta(seconds=75)).replace(second=0, microsecond=0)
        seed(url, users, fire_at.strftime("%H:%M"))
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "DATABASE_URL": url,
            "TELEGRAM_BASE_URL": fake.base_url,
            "TELEGRAM_BASE_FILE_URL": fake.base_file_url,
            "ALLOWED_USER_IDS": "*",
            "RATE_LIMIT": str(LIMIT),
            "POLL_TIMEOUT": "1",
            "REMINDER_TIME": "",
            "LOG_LEVEL": "ERROR",
            "PYTHONPATH": str(ROOT),
        }
        # the bot runs as its own process, as in production; the fake stays here
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "run"], env=env
        )
        wait = (fire_at - datetime.now(UTC)).total_seconds()
        print(f"{users} users due at {fire_at:%H:%M} UTC (in {wait:.0f} s)")
        started = time.monotonic()
        deadline = started + wait + users / LIMIT * 2 + 120
        while time.monotonic() < deadline:
            # a cheap counter: copying the call log under the fake's lock would stall its
            # request threads and release requests in bunches (false 429s)
            if len(fake.delivered) >= users:
                break
            await asyncio.sleep(2)
        await asyncio.sleep(2)  # let stragglers (duplicates, if any) arrive
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=60)
    fake.stop()
    ok = [c for c in fake.calls_to("sendMessage") if "_failed" not in c.params]
    per_chat = Counter(int(c.params["chat_id"]) for c in ok)
    delivered = len(per_chat)
    duplicates = sum(n - 1 for n in per_chat.values())
    times = sorted(c.at for c in ok)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = (len(times) - 1) / span if span else 0.0
    print(f"delivered: {delivered}/{users}")
    print(f"duplicates: {duplicates}")
    print(f"429 answers from the fake: {fake.limited}")
    print(
        f"first to last delivery: {span:.1f} s; rate {rate:.1f} msg/s = {rate / LIMIT:.1%} of {LIMIT}/s"
    )
    return 0 if delivered == users and duplicates == 0 else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=10_000)
    args = ap.parse_args()
    return asyncio.run(main_async(args.users))


if __name__ == "__main__":
    sys.exit(main())

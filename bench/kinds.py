"""Benchmark: what a file costs beside a text note, and what MEDIA_QUOTA_MB's check costs.

    python bench/kinds.py [--notes 300] [--size 65536] [--linked 10000]

1. `rizhilu run` (SQLite, default settings) takes a burst of text notes, then (a fresh bot)
   the same number of voice notes of --size bytes each (getFile, download, judged by its
   bytes, placed in MEDIA_DIR), then documents; with MEDIA_QUOTA_MB set the voice burst
   runs again (every file is counted against the quota first). Figures: notes/s and
   p50/p99 ack latency, text being the baseline, all in the same run.
2. The quota check alone, in process: a journal whose user has --linked notes linking
   files in MEDIA_DIR; the time to find and add up what they take (what each new file
   costs when MEDIA_QUOTA_MB is set).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest import Result, environment, rizhilu_command
from bot.emulator import FakeBotAPI

USERS = 10
FIRST_USER = 7000


def burst(
    name: str, notes: int, make: Callable[[FakeBotAPI, int, int], dict[str, Any]], **env: str
) -> Result:
    import signal
    import subprocess

    fake = FakeBotAPI().start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = environment(fake, USERS, f"sqlite:///{tmp}/bench.db")
        settings.update(MEDIA_DIR=f"{tmp}/media", **env)
        bot = subprocess.Popen(
            rizhilu_command(), env=settings, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            fake.wait_for(lambda: fake.polls > 0, 60, f"{name} to poll")
            time.sleep(0.5)  # start-up settles
            queued: dict[tuple[int, int], float] = {}
            for i in range(notes):
                user = FIRST_USER + i % USERS
                msg = fake.send(user, None, extra=make(fake, user, i))
                queued[(user, msg["message_id"])] = time.monotonic()
            start = min(queued.values())

            def acked() -> dict[tuple[int, int], float]:
                first: dict[tuple[int, int], float] = {}
                for c in fake.calls_to("setMessageReaction"):
                    if "_failed" not in c.params:
                        key = (int(c.params["chat_id"]), int(c.params["message_id"]))
                        first.setdefault(key, c.at)
                return first

            fake.wait_for(lambda: len(acked()) >= notes, 900, f"{name}'s reactions")
            saved = sum(1 for p in Path(tmp, "media").rglob("*") if p.is_file())
        finally:
            bot.send_signal(signal.SIGTERM)
            bot.communicate(timeout=120)
            fake.stop()
    first = acked()
    latencies = sorted((at - queued[key]) * 1000 for key, at in first.items())
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    result = Result(name, notes / (max(first.values()) - start), statistics.median(latencies), p99)
    print(f"  {name}: {saved} files saved", file=sys.stderr)
    return result


def quota_check(linked: int) -> tuple[float, float]:
    """Seconds to count a user's linked files: (query + parse, stat), median of 5."""
    from datetime import UTC, date, datetime

    from bot.core.clock import FixedClock
    from bot.core.kinds import media_paths
    from bot.core.notes import NoteDraft
    from bot.telegram.media import used_bytes
    from storage.engine import open_database, session_factory
    from storage.notes import MessageRef, Notes
    from storage.reader import Reader
    from storage.users import Users

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/q.db"
        engine = open_database(url)
        sessions = session_factory(engine)
        clock = FixedClock(datetime(2021, 4, 8, 12, tzinfo=UTC))
        Users(sessions, clock).ensure(1, 1, "Ada", "UTC", None)
        notes = Notes(sessions, clock)
        media = Path(tmp, "media", "2021", "04")
        media.mkdir(parents=True)
        for i in range(linked):
            (media / f"f{i}.ogg").write_bytes(b"OggS" + b"\0" * 60)
            ref = MessageRef(user_id=1, chat_id=1, message_id=i + 1, at=clock.now())
            text = f"🎤 [0:{i % 60:02}](media/2021/04/f{i}.ogg)"
            notes.add_message(
                ref, date(2021, 4, 8), [NoteDraft(f"voice {i}", children=[NoteDraft(text)])]
            )
        reader = Reader(sessions)
        query, stat = [], []
        for _ in range(5):
            t0 = time.perf_counter()
            paths = media_paths(reader.linked_media(1, "media/"), "media/")
            t1 = time.perf_counter()
            used_bytes(Path(tmp, "media"), paths)
            t2 = time.perf_counter()
            query.append(t1 - t0)
            stat.append(t2 - t1)
        engine.dispose()
    assert len(paths) == linked
    return statistics.median(query), statistics.median(stat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=300)
    parser.add_argument("--size", type=int, default=64 * 1024)
    parser.add_argument("--linked", type=int, default=10_000)
    args = parser.parse_args()
    ogg = b"OggS" + b"\0" * (args.size - 4)
    pdf = b"%PDF-1.7" + b"\0" * (args.size - 8)

    def text(fake: FakeBotAPI, user: int, i: int) -> dict[str, Any]:
        return {"text": f"note {i:05d} from {user}"}

    def voice(fake: FakeBotAPI, user: int, i: int) -> dict[str, Any]:
        return {"voice": fake.file_fields(f"v{i}", ogg, duration=42), "caption": f"v {i}"}

    def document(fake: FakeBotAPI, user: int, i: int) -> dict[str, Any]:
        return {"document": fake.file_fields(f"d{i}", pdf, file_name=f"paper {i}.pdf")}

    results = [
        burst("text notes (baseline)", args.notes, text),
        burst(f"voice notes, {args.size // 1024} KB each", args.notes, voice),
        burst(f"documents, {args.size // 1024} KB each", args.notes, document),
        burst("voice notes, MEDIA_QUOTA_MB=1000", args.notes, voice, MEDIA_QUOTA_MB="1000"),
    ]
    print(f"{args.notes} messages from {USERS} users, SQLite, one burst each:")
    for r in results:
        print(
            f"  {r.name:36} {r.notes_per_second:7.1f} notes/s"
            f"  p50 {r.p50_ms:7.0f} ms  p99 {r.p99_ms:7.0f} ms"
        )
    query, stat = quota_check(args.linked)
    print(
        f"quota check with {args.linked:,} linked files: find them {query * 1000:.1f} ms, "
        f"add up their sizes {stat * 1000:.1f} ms (per new file, with MEDIA_QUOTA_MB set)"
    )


if __name__ == "__main__":
    main()

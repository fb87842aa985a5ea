"""Run a module under cProfile in every thread (the event loop's and the database workers').

    python bench/profile_threads.py OUT -m bot.cli run ...

`python -m cProfile` sees the main thread only, where rizhilu's database calls are a wait:
they run in asyncio.to_thread workers. Here each new thread gets a profiler of its own, and
all of them are merged into OUT when the process exits (SIGTERM included). Times are wall
times: in a worker thread they include waits for the GIL (and on a busy machine, for a core);
a CPU-time clock (time.thread_time) is a system call per event and distorts far more.
"""

from __future__ import annotations

import atexit
import cProfile
import pstats
import runpy
import signal
import sys
import threading
from types import FrameType
from typing import Any

_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()


def _start_in_thread(frame: FrameType, event: str, arg: Any) -> None:
    """The first profile event of a new thread: give it a profiler of its own."""
    profile = cProfile.Profile()
    with _lock:
        _profiles.append(profile)
    sys.setprofile(None)
    profile.enable()


def _dump(out: str) -> None:
    with _lock:
        profiles = list(_profiles)
    stats: pstats.Stats | None = None
    for profile in profiles:
        profile.snapshot_stats()  # still enabled in its thread: read, not disabled
        one = pstats.Stats()
        one.stats = profile.stats  # type: ignore[attr-defined]
        if stats is None:
            stats = one
        else:
            stats.add(one)
    if stats is not None:
        stats.dump_stats(out)


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[2] != "-m":
        raise SystemExit(__doc__)
    out, module = sys.argv[1], sys.argv[3]
    sys.argv = [module, *sys.argv[4:]]
    main_profile = cProfile.Profile()
    _profiles.append(main_profile)
    threading.setprofile(_start_in_thread)
    atexit.register(_dump, out)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # replaced by the bot's own
    main_profile.enable()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        main_profile.disable()


if __name__ == "__main__":
    main()

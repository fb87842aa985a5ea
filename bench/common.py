"""Helpers for benchmarks: timing whole processes with their peak RSS."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_kb: int
    cpu: float = 0.0  # user + system seconds, the process's children it waited for included


def run_process(
    cmd: Sequence[str], env: dict[str, str] | None = None, stdout: int | None = None
) -> Run:
    """Run a command to completion; wall time, peak resident set size and CPU time."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdout=stdout or subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {err[-2000:]}")
    return Run(elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)


def median_run(cmd: Sequence[str], repeat: int, env: dict[str, str] | None = None) -> Run:
    return median_of([run_process(cmd, env) for _ in range(repeat)])


def median_of(runs: Sequence[Run]) -> Run:
    """The median wall and CPU time of the runs, and the largest peak RSS."""
    return Run(
        statistics.median(r.seconds for r in runs),
        max(r.peak_kb for r in runs),
        statistics.median(r.cpu for r in runs),
    )


def stop(bot: subprocess.Popen[bytes], name: str, patience: float = 120) -> None:
    """SIGTERM a bot started by a benchmark and wait; RuntimeError with its stderr if it failed
    (a bot still stopping after `patience` seconds is killed, and that is a failure too)."""
    bot.send_signal(signal.SIGTERM)
    try:
        _, err = bot.communicate(timeout=patience)
    except subprocess.TimeoutExpired:
        bot.kill()
        _, err = bot.communicate()
    if bot.returncode not in (0, -signal.SIGTERM):
        tail = (err or b"").decode(errors="replace")[-2000:]
        raise RuntimeError(f"{name}: exit {bot.returncode}\n{tail}")

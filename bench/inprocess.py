"""In-process timing of the sample import (parse with markdown-it + bulk write)."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from pathlib import Path


def time_sample_import(sample: Path, folder: Path, repeat: int) -> float:
    from bot.core.journal_doc import parse_journal
    from storage.bulk_import import import_journal
    from storage.engine import make_engine, migrate

    text = sample.read_text(encoding="utf-8")
    times = []
    for i in range(repeat):
        engine = make_engine(f"sqlite:///{folder / f'inproc{i}.db'}")
        migrate(engine)
        started = time.perf_counter()
        import_journal(engine, 1, parse_journal(text), datetime.now(UTC), "UTC")
        times.append(time.perf_counter() - started)
        engine.dispose()
    return statistics.median(times)

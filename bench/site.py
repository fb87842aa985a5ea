"""Benchmark: `rizhilu site` on the sample journal and on a 100,000-note journal.

    python bench/site.py [--notes 100000] [--repeat 3]

Imports each journal into a fresh SQLite database, then times whole processes (wall time
and peak RSS): `rizhilu site` into a new folder, again into the same folder (an update),
and `rizhilu export` of the same journal as the baseline beside it (the markdown the
site's pages are rendered from). The big journal is bench/export_import.py's generator
(ten years in the sample's style), made in a child process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Run, median_run, run_process

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "bot" / "data" / "journal-sample.md"


def fmt(run: Run) -> str:
    return f"{run.seconds:.3f} s, peak RSS {run.peak_kb / 1024:.0f} MB"


def folder_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def measure(name: str, journal: Path, work: Path, repeat: int) -> None:
    rizhilu = [sys.executable, "-m", "bot.cli", "--env-file", os.devnull]
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / (name + '.db')}",
        "MEDIA_DIR": str(work / "media"),
        "PYTHONPATH": str(ROOT),
    }
    imp = run_process([*rizhilu, "import", str(journal), "--user", "1"], env)
    print(f"[{name}] journal {journal.stat().st_size / 1e6:.2f} MB, import {fmt(imp)}")
    out = work / f"{name}-site"
    fresh = []
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        fresh.append(run_process([*rizhilu, "site", str(out)], env))
    new = sorted(fresh, key=lambda r: r.seconds)[len(fresh) // 2]
    files, size = folder_size(out)
    print(f"[{name}] rizhilu site, new folder (median of {repeat}): {fmt(new)}")
    print(f"[{name}]   wrote {files} files, {size / 1e6:.1f} MB", end="")
    index = out / "assets" / "search-index.js"
    print(f" (search index {index.stat().st_size / 1e6:.1f} MB)")
    again = median_run([*rizhilu, "site", str(out)], repeat, env)
    print(f"[{name}] rizhilu site, updating it (median of {repeat}): {fmt(again)}")
    inproc = [
        float(
            subprocess.run(
                [sys.executable, __file__, "--in-process", env["DATABASE_URL"], str(work / "ip")],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            ).stdout
        )
        for _ in range(repeat)
    ]
    print(f"[{name}] build_site alone, in-process (median of {repeat}): {median(inproc):.3f} s")
    base = median_run([*rizhilu, "export", "--out", str(work / f"{name}.md")], repeat, env)
    print(
        f"[{name}] baseline: rizhilu export of the same journal (median of {repeat}): {fmt(base)}"
    )
    print(f"[{name}] site / export: {new.seconds / base.seconds:.1f}x the time")


def in_process(url: str, out: Path) -> None:
    """Print the seconds build_site takes, without the interpreter's start and imports."""
    from bot.settings import load_settings
    from bot.site import build_site
    from storage.engine import make_engine

    settings = load_settings(None, database_url=url)
    engine = make_engine(url)
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    build_site(engine, settings, 1, out)
    print(f"{time.perf_counter() - started:.4f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--notes", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--in-process", nargs=2, metavar=("URL", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.in_process:
        in_process(args.in_process[0], Path(args.in_process[1]))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        measure("sample", SAMPLE, work, args.repeat)
        big = work / "big"
        big.mkdir()
        # generated in a child: a child's peak RSS counts the parent's pages until it execs
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "export_import.py"),
                "--generate-into",
                str(big),
                "--notes",
                str(args.notes),
            ],
            check=True,
        )
        measure(f"{args.notes}-notes", big / "journal.md", work, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())

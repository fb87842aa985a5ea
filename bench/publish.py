"""Benchmark: what publishing adds to `rizhilu export` — media copied, the post committed.

    python bench/publish.py [--notes 100000] [--repeat 3]

The 100,000-note journal of bench/export_import.py, its pictures (3% of the notes) turned
into links to files under MEDIA_DIR. Times, as whole processes in the same run: the plain
export (the baseline), `--media-out` the first time (every file copied) and again (nothing
changed: size and time compared), then `--git commit` into a fresh repository the first
time and again (nothing to commit).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Run, median_run, run_process
from bench.export_import import fmt, generate

ROOT = Path(__file__).resolve().parents[1]
_PICTURE = re.compile(r"https://example\.com/img/(\d+)\.png")


def prepare(folder: Path, notes: int) -> int:
    """The journal with its pictures under MEDIA_DIR; returns how many files."""
    text, _flat = generate(notes)
    ids = sorted(set(_PICTURE.findall(text)))
    text = _PICTURE.sub(r"media/2021/01/\1.png", text)
    (folder / "journal.md").write_text(text, encoding="utf-8")
    pictures = folder / "media" / "2021" / "01"
    pictures.mkdir(parents=True)
    for n in ids:
        (pictures / f"{n}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(4096))
    return len(ids)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--notes", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--prepare-into", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.prepare_into is not None:
        print(prepare(args.prepare_into, args.notes))
        return 0
    rizhilu = [sys.executable, "-m", "bot.cli", "--env-file", os.devnull]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        made = subprocess.run(  # a child: this process's RSS stays out of the figures
            [sys.executable, __file__, "--prepare-into", str(folder), "--notes", str(args.notes)],
            check=True,
            capture_output=True,
            text=True,
        )
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{folder / 'j.db'}",
            "MEDIA_DIR": str(folder / "media"),
            "PYTHONPATH": str(ROOT),
            "GIT_CONFIG_GLOBAL": os.devnull,
        }
        run_process([*rizhilu, "import", str(folder / "journal.md"), "--user", "1"], env)
        print(f"journal: {args.notes} notes, {made.stdout.strip()} pictures under MEDIA_DIR")
        blog = folder / "blog"
        subprocess.run(["git", "init", "-q", str(blog)], check=True)
        post = blog / "_posts" / "2021-01-01-journal.md"
        export = [*rizhilu, "export", "--out", str(post)]
        media = ["--media-out", str(blog / "assets" / "journal")]
        rows: list[tuple[str, Run]] = [
            ("export (baseline)", median_run(export, args.repeat, env)),
            ("export --media-out, first (copies all)", run_process([*export, *media], env)),
            ("export --media-out, again (unchanged)", median_run([*export, *media], args.repeat, env)),
            ("export --media-out --git commit, first", run_process([*export, *media, "--git", "commit"], env)),
            ("export --media-out --git commit, again", median_run([*export, *media, "--git", "commit"], args.repeat, env)),
        ]  # fmt: skip
        base = rows[0][1].seconds
        for name, run in rows:
            print(f"{name:42} {fmt(run)}  ({run.seconds / base:.2f}x the baseline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

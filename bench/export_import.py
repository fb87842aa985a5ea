"""Benchmark: import and export a 100,000-note journal; compare export with jrnl's.

    python bench/export_import.py [--notes 100000] [--repeat 5] [--no-jrnl]

Generates a 10-year journal in the sample's style, imports it into new SQLite journals
(`rizhilu import`, --repeat times), exports it (`rizhilu export`) several times and reports
the median wall time, CPU time (user + system, its worker child included) and peak RSS of
the whole process, beside what every command costs before its work (python, the command
line, the settings). jrnl (from PyPI) is installed into a throw-away virtualenv and runs
`--export markdown` on the same entries in the same run. Also times the import of the real
sample journal.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Run, median_of, median_run, run_process

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "fixtures" / "journal-sample.md"
if not SAMPLE.exists():
    SAMPLE = ROOT / "bot" / "data" / "journal-sample.md"
WORDS = (
    "ScanNet PointNet transformer voxel 读代码 理解 实验 数据集 loss 复习 开会 BNN NAS "
    "attention 点云 baseline 论文 debug 服务器 cuda torch 整理 report"
).split()


def generate(notes: int, seed: int = 7) -> tuple[str, list[tuple[date, str]]]:
    """A journal in the sample's style with exactly `notes` notes over ten years."""
    rng = random.Random(seed)
    days = 3650
    first = date(2016, 1, 1)
    per_day = [0] * days
    for i in range(notes):
        per_day[rng.randrange(days) if i >= days else i] += 1
    lines = ["---", "layout:     post", "title:      日知录", "---", "", "# 日知录", ""]
    flat: list[tuple[date, str]] = []
    for offset in range(days - 1, -1, -1):
        count = per_day[offset]
        if not count:
            continue
        day = first + timedelta(days=offset)
        lines += [f"## {day.year}-{day.month}-{day.day}", ""]
        depth = 0
        for _ in range(count):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9)))
            roll = rng.random()
            if roll < 0.05:
                text = f"~~{text}~~"
            elif roll < 0.08:
                text = f"![](https://example.com/img/{rng.randrange(10**6)}.png)"
            elif roll < 0.12:
                text = f"{text} `x*y`"
            depth = max(0, min(depth + rng.choice((-1, 0, 0, 1)), 3))
            lines.append("  " * depth + "* " + text)
            flat.append((day, text))
        lines.append("")
    return "\n".join(lines) + "\n", flat


# what any markdown-it-based import costs at least: the interpreter, the parser's import and
# one block-level parse of the file (the journal's parser, inline markup not read, no storing)
MDIT_BLOCKS = """
import sys
from markdown_it import MarkdownIt
from mdit_py_plugins.gfm import gfm_plugin
md = MarkdownIt("commonmark", {"html": False}).use(gfm_plugin, front_matter=True)
md.core.ruler.disable(["inline", "text_join"], ignoreInvalid=True)
md.parse(open(sys.argv[1], encoding="utf-8").read())
"""


# what every `rizhilu` command costs before its own work: the interpreter, the command line
# (every subcommand's parser) and the settings
CLI_START = """
import os
from bot.cli import build_parser
from bot.settings import load_settings
build_parser().parse_args(["--env-file", os.devnull, "import", "x", "--user", "1"])
load_settings(os.devnull)
"""


def jrnl_journal(flat: list[tuple[date, str]]) -> str:
    out = []
    for day, text in sorted(flat, key=lambda x: x[0]):
        out.append(f"[{day.isoformat()} 09:00:00 AM] {text}\n")
    return "\n".join(out)


def install_jrnl(folder: Path) -> Path | None:
    venv = folder / "jrnl-venv"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "jrnl==4.6"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except subprocess.CalledProcessError:
        return None
    return venv / "bin" / "jrnl"


def fmt(run: Run) -> str:
    return f"{run.seconds:.3f} s (CPU {run.cpu:.2f} s), peak RSS {run.peak_kb / 1024:.0f} MB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--notes", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-jrnl", action="store_true")
    ap.add_argument("--generate-into", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.generate_into is not None:
        text, flat = generate(args.notes)
        (args.generate_into / "journal.md").write_text(text, encoding="utf-8")
        (args.generate_into / "jrnl.txt").write_text(jrnl_journal(flat), encoding="utf-8")
        return 0
    rizhilu = [sys.executable, "-m", "bot.cli", "--env-file", os.devnull]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # generated in a child process: a child's peak RSS (wait4) includes the parent's
        # pages until it execs, so this process stays small
        subprocess.run(
            [sys.executable, __file__, "--generate-into", str(folder), "--notes", str(args.notes)],
            check=True,
        )
        src = folder / "journal.md"
        size = src.stat().st_size
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{folder / 'j.db'}",
            "PYTHONPATH": str(ROOT),
        }
        print(f"journal: {args.notes} notes, {size / 1e6:.1f} MB")
        imports = [run_process([*rizhilu, "import", str(src), "--user", "1"], env)]
        for n in range(1, args.repeat):  # each into a new journal, as the first
            fresh = {**env, "DATABASE_URL": f"sqlite:///{folder / f'j{n}.db'}"}
            imports.append(run_process([*rizhilu, "import", str(src), "--user", "1"], fresh))
        imp = median_of(imports)
        print(
            f"rizhilu import into a new journal (whole process: parse + store, median of "
            f"{args.repeat}): {fmt(imp)} (target <= 2 s)"
        )
        # the import reads plain day blocks with its own shortcut parser (markdown-it-py only
        # where a block needs it): this is what markdown-it-py alone would cost, block level only
        mdit = run_process([sys.executable, "-c", MDIT_BLOCKS, str(src)], env)
        print(f"  for comparison, markdown-it-py alone, block rules only, same file: {fmt(mdit)}")
        start = median_run([sys.executable, "-c", CLI_START], args.repeat, env)
        print(
            f"  baseline, python starting, reading rizhilu's command line and settings: {fmt(start)}"
        )
        out = folder / "out.md"
        exp = median_run([*rizhilu, "export", "--out", str(out)], args.repeat, env)
        print(f"rizhilu export (median of {args.repeat}, whole process): {fmt(exp)}")
        sample_env = {**env, "DATABASE_URL": f"sqlite:///{folder / 's.db'}"}
        first = run_process([*rizhilu, "import", str(SAMPLE), "--user", "1"], sample_env)
        sample = median_run(
            [*rizhilu, "import", str(SAMPLE), "--user", "1"], args.repeat, sample_env
        )
        print(f"sample import, first (whole process): {fmt(first)}")
        print(f"sample import, again: median {fmt(sample)}")
        if not args.no_jrnl:
            compare_jrnl(folder, exp, args.repeat)
        from bench.inprocess import time_sample_import

        inproc = time_sample_import(SAMPLE, folder, args.repeat)
        print(f"sample import in-process (parse + write, median of {args.repeat}): {inproc:.3f} s")
    return 0


def compare_jrnl(folder: Path, exp: Run, repeat: int) -> None:
    """jrnl's --export markdown on the same entries, in the same run."""
    jrnl = install_jrnl(folder)
    if jrnl is None:
        print("jrnl could not be installed; no comparison")
        return
    home = folder / "home"
    (home / ".config" / "jrnl").mkdir(parents=True)
    jfile = folder / "jrnl.txt"
    (home / ".config" / "jrnl" / "jrnl.yaml").write_text(
        "colors: {body: none, date: none, tags: none, title: none}\n"
        "default_hour: 9\ndefault_minute: 0\neditor: ''\nencrypt: false\nhighlight: false\n"
        "indent_character: '|'\n"
        f"journals:\n  default:\n    journal: {jfile}\n"
        "linewrap: 79\ntagsymbols: '#@'\ntemplate: false\ntimeformat: '%F %r'\nversion: v4.6\n",
        encoding="utf-8",
    )
    jenv = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    j = median_run([str(jrnl), "--export", "markdown"], repeat, jenv)
    print(f"jrnl 4.6 --export markdown (median of {repeat}): {fmt(j)}")
    print(f"speed: rizhilu export is {j.seconds / exp.seconds:.2f}x jrnl's (target >= 5x)")
    print(f"memory: rizhilu peak RSS is {exp.peak_kb / j.peak_kb:.2f} of jrnl's (target <= 0.5)")


if __name__ == "__main__":
    sys.exit(main())

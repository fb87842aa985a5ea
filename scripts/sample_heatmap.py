"""Draws docs/heatmap.png: the sample journal's last 12 months, as /stats sends them."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.heatmap import render_heatmap  # noqa: E402
from bot.core.journal_doc import fix_dates, parse_journal  # noqa: E402
from bot.core.lookback import heatmap_grid, last_year, per_day, summarize  # noqa: E402

TODAY = date(2021, 4, 8)  # the sample's last day


def main() -> None:
    # imported as the bot offers it: "Import, fixing N dates" (2020-2-19 ~ 2021-2-28 was a typo)
    text = (ROOT / "bot/data/journal-sample.md").read_text(encoding="utf-8")
    parsed = fix_dates(parse_journal(text))
    counts = per_day(
        (d.days.start, d.days.end, sum(len(n.walk()) for n in d.notes)) for d in parsed.days
    )
    first, last = last_year(TODAY)
    summary = summarize(counts, first, last, TODAY)
    title = f"Last 12 months · {summary.days_logged} days · {summary.notes} notes"
    out = ROOT / "docs/heatmap.png"
    out.write_bytes(render_heatmap(heatmap_grid(counts, first, last), title))
    sys.stdout.write(f"wrote {out.relative_to(ROOT)}\n")


if __name__ == "__main__":
    main()

"""The year heatmap as a PNG (matplotlib's Agg, imported only when a picture is drawn)."""

from __future__ import annotations

import calendar
import io
from typing import Any

from bot.core.days import WEEKDAYS
from bot.core.lookback import LEVELS, Grid

# level 0 (no notes) … LEVELS, a contribution graph's greens
PALETTE = ("#ebedf0", "#9be9a8", "#40c463", "#30a14e", "#216e39")
COLUMNS = 54  # the most week columns a year can touch (a leap year from a Sunday)
CELL = 13  # px from one day's square to the next
GAP = 2  # px between squares
LEFT, TOP, RIGHT, BOTTOM = 40, 48, 12, 30
WIDTH = LEFT + COLUMNS * CELL + RIGHT
HEIGHT = TOP + 7 * CELL + BOTTOM
DPI = 100
FONT = "DejaVu Sans"  # shipped with matplotlib: the same glyphs on every machine
INK = "#57606a"

assert len(PALETTE) == LEVELS + 1


def cell_box(column: int, row: int) -> tuple[int, int, int, int]:
    """The pixels (x0, y0, x1, y1), end exclusive, of a day's square; row 0 is Monday."""
    x0 = LEFT + column * CELL
    y0 = TOP + row * CELL
    return x0, y0, x0 + CELL - GAP, y0 + CELL - GAP


def render_heatmap(grid: Grid, title: str) -> bytes:
    """The grid as a WIDTH × HEIGHT PNG: title, month and weekday labels, squares, a legend.

    Blocking and CPU-bound (about 0.1 s): call it off the event loop.
    """
    # lazily: the bot's start-up and memory only pay for matplotlib once a picture is asked for
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    if len(grid.weeks) > COLUMNS:
        raise ValueError(f"a heatmap of at most {COLUMNS} weeks")
    fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, WIDTH)
    ax.set_ylim(HEIGHT, 0)  # pixel coordinates, y down, like the PNG
    ax.set_axis_off()
    text: dict[str, Any] = {"fontfamily": FONT, "color": INK, "fontsize": 8}

    def square(x: float, y: float, shade: int) -> None:
        # no antialiasing: every square is one flat colour, exact to the pixel. add_artist, not
        # add_patch: the limits are fixed above, and add_patch's data-limit update for each of
        # ~370 squares was half the drawing time (the PNG is byte-identical)
        ax.add_artist(
            Rectangle(
                (x, y), CELL - GAP, CELL - GAP, facecolor=PALETTE[shade], edgecolor="none",
                antialiased=False,
            )
        )  # fmt: skip

    for col, week in enumerate(grid.weeks):
        for row, shade in enumerate(week):
            if shade >= 0:
                x0, y0, _, _ = cell_box(col, row)
                square(x0, y0, shade)
    ax.text(LEFT, 14, title, fontsize=10, fontweight="bold", fontfamily=FONT, color="#24292f",
            va="center", ha="left")  # fmt: skip
    shown = -3
    for col, month in grid.months:
        if col - shown >= 3:  # a month starting late in a column would overprint its neighbour
            ax.text(LEFT + col * CELL, TOP - 8, calendar.month_abbr[month], va="bottom", **text)
            shown = col
    for row in (0, 2, 4):
        ax.text(LEFT - 6, TOP + row * CELL + (CELL - GAP) / 2, WEEKDAYS[row][:3],
                va="center", ha="right", **text)  # fmt: skip
    legend_y = TOP + 7 * CELL + 10
    legend_x = WIDTH - RIGHT - (LEVELS + 1) * CELL - 30
    ax.text(legend_x - 6, legend_y + (CELL - GAP) / 2, "Less", va="center", ha="right", **text)
    for shade in range(LEVELS + 1):
        square(legend_x + shade * CELL, legend_y, shade)
    ax.text(legend_x + (LEVELS + 1) * CELL + 4, legend_y + (CELL - GAP) / 2, "More",
            va="center", ha="left", **text)  # fmt: skip
    out = io.BytesIO()
    # no Software/date chunks: the same grid gives the same bytes
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()

"""The progress picture: a PNG heat map of units (rows) x main tasks (columns), by matplotlib.

Drawn on an Agg canvas of its own (no pyplot, no display, no global rcParams), so renders may
run in worker threads. The Chinese is set in Noto Sans SC from the pylopdf-fonts-zh-cn wheel,
named by file path, so no system font is needed and none can be picked instead.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Mapping, Set
from dataclasses import dataclass
from pathlib import Path

import pylopdf_fonts_zh_cn
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.patches import Patch, Rectangle

from bot.documents.plan import Plan
from bot.office.status import Status, task_status
from bot.offload import offload
from bot.store import Store

FONT_FILE: Path = pylopdf_fonts_zh_cn.sans_path()
COLOURS = {
    Status.ALL: "#2E7D32",
    Status.SOME: "#FBC02D",
    Status.NONE: "#D32F2F",
    Status.NOT_ITS_TASK: "#E0E0E0",
}
TEXT_PT = 9  # the smallest text drawn: legible on a phone
TITLE_PT = 13
DPI = 160
# Geometry in inches: fixed, so that a cell's place in pixels is known (see `cell_centre`).
WIDTH = 8.0  # x DPI = 1280 px, the widest Telegram shows a photo
LABELS = 2.0  # the unit names' column
RIGHT = 0.2
GRID_TOP = 1.2
ROW = 0.22
LEGEND = 0.5
KEY_LINE = 0.2
BOTTOM = 0.2


# Registered once, at import (imports are serialised, so threads never race to register it);
# every text names the file itself, so no other font can stand in.
fontManager.addfont(str(FONT_FILE))


def _font_at(size: float) -> FontProperties:
    return FontProperties(fname=FONT_FILE, size=size)


@dataclass(frozen=True)
class Grid:
    """Where the cells are: rows x columns below GRID_TOP, right of the labels."""

    rows: int
    columns: int

    @property
    def column(self) -> float:
        """Return a cell's width in inches."""
        return (WIDTH - LABELS - RIGHT) / self.columns

    @property
    def height(self) -> float:
        """Return the figure's height in inches."""
        key_lines = (self.columns + 1) // 2 + 1
        inches = GRID_TOP + self.rows * ROW + LEGEND + key_lines * KEY_LINE + BOTTOM
        # A whole number of pixels, so that the image is exactly this tall.
        return math.ceil(inches * DPI) / DPI

    def cell_centre(self, row: int, column: int) -> tuple[int, int]:
        """Return the pixel (x, y from the top) at the centre of a cell."""
        x = LABELS + (column + 0.5) * self.column
        y = GRID_TOP + (row + 0.5) * ROW
        return round(x * DPI), round(y * DPI)


def grid_of(plan: Plan) -> Grid:
    """Return the picture's grid for the plan."""
    return Grid(len(plan.units), len(plan.tasks))


def draw_heatmap(
    plan: Plan, reported: Mapping[str, Set[str]], year: int, as_of: dt.date
) -> Figure:
    """Return the figure: one coloured cell per unit and main task, legend, year and date."""
    grid = grid_of(plan)
    height = grid.height
    fig = Figure(figsize=(WIDTH, height), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    text, title = _font_at(TEXT_PT), _font_at(TITLE_PT)
    fig.text(
        0.5,
        1 - 0.3 / height,
        f"{year} 年各单位举措报送情况",
        ha="center",
        va="center",
        fontproperties=title,
    )
    fig.text(
        0.5,
        1 - 0.62 / height,
        f"截至 {as_of:%Y-%m-%d}　每格为该单位在该项主要任务下负责的举措",
        ha="center",
        va="center",
        fontproperties=text,
        color="#444444",
    )
    ax = fig.add_axes(
        (
            LABELS / WIDTH,
            1 - (GRID_TOP + grid.rows * ROW) / height,
            grid.columns * grid.column / WIDTH,
            grid.rows * ROW / height,
        )
    )
    ax.set_xlim(0, grid.columns)
    ax.set_ylim(grid.rows, 0)
    ax.set_axis_off()
    cells, colours = [], []
    for r, unit in enumerate(plan.units):
        # Drawn as written (parse_math=False): matplotlib would read "$…$" as mathtext, and
        # one unbalanced "$" in a unit's name or a task's title would fail every picture.
        ax.text(
            -0.15,
            r + 0.5,
            unit.name,
            ha="right",
            va="center",
            fontproperties=text,
            parse_math=False,
        )
        for c, task in enumerate(plan.tasks):
            status, _, _ = task_status(plan, reported, unit.name, task)
            cells.append(Rectangle((c, r), 1, 1))
            colours.append(COLOURS[status])
    # One collection, not a patch per cell: add_patch recomputes the data limits each time.
    ax.add_collection(
        PatchCollection(cells, facecolors=colours, edgecolors="white", linewidths=1),
        autolim=False,
    )
    for c, task in enumerate(plan.tasks):
        ax.text(c + 0.5, -0.35, str(task.number), ha="center", va="bottom", fontproperties=text)
    legend_y = 1 - (GRID_TOP + grid.rows * ROW + LEGEND / 2) / height
    fig.legend(
        handles=[Patch(facecolor=COLOURS[s], label=s.value) for s in Status],
        loc="center",
        bbox_to_anchor=(0.5, legend_y),
        ncol=len(Status),
        prop=text,
        frameon=False,
    )
    _key(fig, plan, height, 1 - (GRID_TOP + grid.rows * ROW + LEGEND) / height)
    return fig


def _key(fig: Figure, plan: Plan, height: float, top: float) -> None:
    """List the main tasks under the grid, in two columns: the column numbers' meaning."""
    text = _font_at(TEXT_PT)
    fig.text(0.2 / WIDTH, top, "主要任务：", va="top", fontproperties=text)
    per_column = (len(plan.tasks) + 1) // 2
    for i, task in enumerate(plan.tasks):
        column, line = divmod(i, per_column)
        x = (0.2 + column * (WIDTH - 0.4) / 2) / WIDTH
        y = top - (line + 1) * KEY_LINE / height
        fig.text(x, y, str(task.number), va="top", fontproperties=text)
        fig.text(x + 0.3 / WIDTH, y, task.title, va="top", fontproperties=text, parse_math=False)


def heatmap_png(plan: Plan, reported: Mapping[str, Set[str]], year: int, as_of: dt.date) -> bytes:
    """Return the picture as PNG bytes (pure: safe to run in a worker thread)."""
    out = io.BytesIO()
    draw_heatmap(plan, reported, year, as_of).savefig(out, format="png", dpi=DPI)
    return out.getvalue()


async def progress_picture(store: Store, plan: Plan, year: int, as_of: dt.date) -> bytes:
    """Read which measures each unit reported in `year`; render in the worker process."""
    reported = await store.notes.reported_measures(year)
    return await offload(heatmap_png, plan.as_of(year), reported, year, as_of)

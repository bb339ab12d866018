"""Tests for bot.office.heatmap: the PNG decoded with PIL, cells read back at their pixels."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from matplotlib.colors import to_rgb
from matplotlib.text import Text
from PIL import Image

from bot.ask.assistant import Assistant
from bot.clock import TZ
from bot.documents.plan import Plan, load_plan
from bot.office.heatmap import (
    COLOURS,
    DPI,
    FONT_FILE,
    TEXT_PT,
    WIDTH,
    _font_at,
    draw_heatmap,
    grid_of,
    heatmap_png,
    progress_picture,
)
from bot.office.status import Status
from bot.store import Store
from tests.fakes.clock import FakeClock
from tests.test_cli import edit
from tests.test_office import idle_unit_data

HRSS = "人力资源社会保障厅"
EDU = "教育厅"
BIANBAN = "省委编办"
AS_OF = dt.date(2024, 12, 1)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return Assistant.load().plan


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2024, 6, 1, 9, 0, tzinfo=TZ))


@pytest.fixture(scope="module")
def cmap() -> set[int]:
    with TTFont(FONT_FILE, lazy=True) as font:
        return set(font.getBestCmap())


def rgb(hex_colour: str) -> tuple[int, int, int]:
    r, g, b = to_rgb(hex_colour)
    return round(r * 255), round(g * 255), round(b * 255)


def row(plan: Plan, unit: str) -> int:
    return [u.name for u in plan.units].index(unit)


async def test_cells_are_coloured_by_the_notes_filed(store: Store, plan: Plan) -> None:
    for mid in ("1.1", "1.2", "1.3", "5.1"):
        await store.notes.add(HRSS, mid, 2024, "u1", "张三", "进展")
    for m in plan.duties_of(EDU):
        await store.notes.add(EDU, m.id, 2024, "u2", "李四", "进展")
    await store.notes.add(BIANBAN, "1.1", 2023, "u3", "王五", "去年的")
    gone = await store.notes.add(BIANBAN, "1.2", 2024, "u3", "王五", "删掉的")
    await store.notes.delete(gone.id, "u3")

    image = Image.open(io.BytesIO(await progress_picture(store, plan, 2024, AS_OF)))

    assert image.format == "PNG"
    grid = grid_of(plan)
    assert image.size == (round(WIDTH * DPI), round(grid.height * DPI))
    assert image.width <= 1280
    pixels = image.convert("RGB")
    expected = {
        (HRSS, 1): Status.ALL,  # 1.1-1.3 all reported
        (HRSS, 5): Status.SOME,  # 5.1 of 5.1, 5.2
        (HRSS, 3): Status.NONE,
        (EDU, 7): Status.ALL,
        (EDU, 16): Status.ALL,
        (BIANBAN, 1): Status.NONE,  # last year's note and a deleted one do not count
        (BIANBAN, 2): Status.NOT_ITS_TASK,
        ("省残联", 1): Status.NONE,
    }
    for (unit, task), status in expected.items():
        centre = grid.cell_centre(row(plan, unit), task - 1)
        assert pixels.getpixel(centre) == rgb(COLOURS[status]), (unit, task, status)


def test_text_is_chinese_in_the_pinned_font_and_large_enough(plan: Plan, cmap: set[int]) -> None:
    fig = draw_heatmap(plan, {}, 2024, AS_OF)
    texts = [t for t in fig.findobj(Text) if t.get_text()]
    drawn = "".join(t.get_text() for t in texts)

    assert "2024 年" in drawn
    assert "2024-12-01" in drawn
    for unit in plan.units:
        assert unit.name in drawn
    for task in plan.tasks:
        assert task.title in drawn
    for status in Status:
        assert status.value in drawn
    for t in texts:
        assert t.get_fontsize() >= TEXT_PT, t.get_text()
        assert t.get_fontproperties().get_file() == str(FONT_FILE), t.get_text()
    missing = sorted({c for c in drawn if ord(c) not in cmap})
    assert missing == []


def test_a_character_the_font_lacks_is_an_error(plan: Plan) -> None:
    # What the suite relies on: a box instead of a character would fail the render.
    fig = draw_heatmap(plan, {}, 2024, AS_OF)
    fig.text(0.5, 0.5, "\U0001f600", fontproperties=_font_at(TEXT_PT))
    with pytest.warns(UserWarning, match="missing from font"):
        fig.savefig(io.BytesIO(), format="png")


async def test_renders_in_worker_threads_at_once_agree(plan: Plan) -> None:
    reported = {HRSS: {"5.1"}}
    pictures = await asyncio.gather(
        *(asyncio.to_thread(heatmap_png, plan, reported, 2024, AS_OF) for _ in range(3))
    )
    assert len(set(pictures)) == 1


def test_names_and_titles_are_drawn_as_written(tmp_path: Path) -> None:
    data = idle_unit_data(tmp_path / "data")
    title = "  title: 实施国有企业安排残疾人就业行动"
    edit(data / "plan.yaml", title, "  title: 国企$x^$就业行动 $")
    with (data / "units.yaml").open("a", encoding="utf-8") as units:
        units.write("  - name: 省$\\frac{1}$局\n    full_name: 四川省某局\n")
    plan = load_plan(data)

    fig = draw_heatmap(plan, {}, 2024, AS_OF)
    png = heatmap_png(plan, {}, 2024, AS_OF)

    drawn = {t.get_text() for t in fig.findobj(Text)}
    assert {"国企$x^$就业行动 $", "省$\\frac{1}$局"} <= drawn
    assert Image.open(io.BytesIO(png)).format == "PNG"

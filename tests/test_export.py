"""Tests for bot.office.export: the year's workbook, read back with openpyxl, cell by cell."""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

import bot.office.export
from bot.ask.assistant import Assistant
from bot.clock import TZ
from bot.documents.plan import Plan, load_plan
from bot.office.export import NOT_RESPONSIBLE, build_workbook, export_year
from bot.offload import offload
from bot.store import Store
from tests.fakes.clock import FakeClock
from tests.test_office import IDLE, idle_unit_data

HRSS = "人力资源社会保障厅"
TOBACCO = "省烟草专卖局"
POST = "省邮政分公司"
MEASURE_IDS = [
    *("1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "3.1", "4.1", "4.2", "4.3", "5.1", "5.2"),
    *("6.1", "6.2", "6.3", "7.1", "7.2", "7.3", "7.4", "8.1", "8.2", "9.1", "10.1", "10.2"),
    *("10.3", "11.1", "12.1", "13.1", "14.1", "15.1", "16.1"),
]
NOTES_HEADER = [
    "编号",
    "单位",
    "举措",
    "主要任务",
    "进展内容",
    "报送人",
    "报送时间",
    "修改时间",
    "已删除",
]


@pytest.fixture(scope="module")
def plan() -> Plan:
    return Assistant.load().plan


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2024, 6, 1, 9, 0, tzinfo=TZ))


async def workbook(store: Store, plan: Plan, year: int) -> Workbook:
    data = await export_year(store, plan, year)
    return load_workbook(io.BytesIO(data))


def rows(wb: Workbook, sheet: str) -> list[list[object]]:
    return [list(row) for row in wb[sheet].iter_rows(values_only=True)]


def matrix(wb: Workbook, units: int = 29) -> dict[tuple[str, str], object]:
    """The 单位×举措 sheet as {(unit, measure id): cell value}."""
    header, *body = rows(wb, "单位×举措")
    return {
        (str(row[0]), str(mid)): value
        for row in body[:units]
        for mid, value in zip(header[1:], row[1:], strict=True)
    }


@pytest.fixture
async def reported(store: Store, clock: FakeClock) -> dict[str, int]:
    """A year of notes: some live, some deleted, one edited, and one of another year."""

    async def add(unit: str, measure_id: str, text: str, author: str, year: int = 2024) -> int:
        note = await store.notes.add(unit, measure_id, year, author, f"报送人{author}", text)
        clock.now += dt.timedelta(minutes=30)
        return note.id

    ids = {
        "first": await add(HRSS, "5.1", "新建残疾人之家12个", "u1"),
        "second": await add(HRSS, "5.1", "同一举措的第二条", "u2"),
        "deleted": await add(HRSS, "6.2", "后来删掉的", "u1"),
        "education": await add("教育厅", "11.1", "教育厅的共同职责", "u3"),
        "post_deleted": await add(POST, "16.1", "邮政分公司唯一一条，已删除", "u4"),
        "old": await add("省残联", "1.1", "2023 年的进展", "u5", year=2023),
    }
    await store.notes.delete(ids["deleted"], "u1")
    await store.notes.delete(ids["post_deleted"], "u4")
    await store.notes.edit(ids["first"], "u1", "新建残疾人之家12个（已核实）")
    return ids


async def test_sheets(store: Store, plan: Plan, reported: dict[str, int]) -> None:
    wb = await workbook(store, plan, 2024)

    assert wb.sheetnames == ["进展记录", "单位×举措", "未报送单位", "操作记录"]


async def test_audit_sheet_lists_the_years_changes_without_note_text(
    store: Store, plan: Plan, clock: FakeClock, reported: dict[str, int]
) -> None:
    clock.now = dt.datetime(2025, 1, 2, 9, 0, tzinfo=TZ)
    await store.notes.edit(reported["second"], "u2", "下一年才修改")
    await store.audit.record("=cmd", "=HYPERLINK(1)", "export", "", "2024 年进展汇总")

    wb = await workbook(store, plan, 2024)

    header, *body = rows(wb, "操作记录")
    assert header == ["时间", "操作人", "操作人 ID", "操作", "单位", "对象"]
    # Oldest first: five notes of 2024 filed, two deleted, one edited, and the 2025 edit of a
    # 2024 note: an entry goes where its note counts (the 2023 note's filing is 2023's).
    assert [row[3] for row in body] == ["新增进展"] * 5 + ["删除进展"] * 2 + ["修改进展"] * 2
    assert body[-1][0].startswith("2025-01-02")
    assert body[0] == [
        "2024-06-01 09:00:00",
        "报送人u1",
        "u1",
        "新增进展",
        HRSS,
        f"记录 #{reported['first']}，举措 5.1（2024 年）",
    ]
    texts = {"新建残疾人之家12个", "新建残疾人之家12个（已核实）", "后来删掉的", "下一年才修改"}
    assert not texts & {str(cell) for row in body for cell in row}
    later = await workbook(store, plan, 2025)
    assert [(row[1], row[2], row[3]) for row in rows(later, "操作记录")[1:]] == [
        ("=HYPERLINK(1)", "=cmd", "导出汇总"),
    ]
    assert "f" not in {cell.data_type for cell in later["操作记录"][2]}  # text, not formulas
    earlier = await workbook(store, plan, 2023)
    assert [row[3] for row in rows(earlier, "操作记录")[1:]] == ["新增进展"]


async def test_notes_sheet_lists_every_note_of_the_year_deleted_ones_marked(
    store: Store, plan: Plan, reported: dict[str, int]
) -> None:
    wb = await workbook(store, plan, 2024)

    header, *body = rows(wb, "进展记录")
    assert header == NOTES_HEADER
    assert body == [
        [
            reported["first"],
            HRSS,
            "5.1",
            "5. 实施就业困难残疾人就业帮扶行动",
            "新建残疾人之家12个（已核实）",
            "报送人u1",
            "2024-06-01 09:00",
            "2024-06-01 12:00",  # edited after the six notes were filed, 30 minutes apart
            "否",
        ],
        [
            reported["second"],
            HRSS,
            "5.1",
            "5. 实施就业困难残疾人就业帮扶行动",
            "同一举措的第二条",
            "报送人u2",
            "2024-06-01 09:30",
            None,
            "否",
        ],
        [
            reported["deleted"],
            HRSS,
            "6.2",
            "6. 实施农村残疾人就业帮扶行动",
            "后来删掉的",
            "报送人u1",
            "2024-06-01 10:00",
            None,
            "是",
        ],
        [
            reported["education"],
            "教育厅",
            "11.1",
            "11. 组织保障",
            "教育厅的共同职责",
            "报送人u3",
            "2024-06-01 10:30",
            None,
            "否",
        ],
        [
            reported["post_deleted"],
            POST,
            "16.1",
            "16. 监督落实",
            "邮政分公司唯一一条，已删除",
            "报送人u4",
            "2024-06-01 11:00",
            None,
            "是",
        ],
    ]
    # The 2023 note is in the 2023 workbook only.
    old = rows(await workbook(store, plan, 2023), "进展记录")
    assert [row[1:3] + row[4:5] for row in old[1:]] == [["省残联", "1.1", "2023 年的进展"]]


async def test_matrix_sheet(store: Store, plan: Plan, reported: dict[str, int]) -> None:
    wb = await workbook(store, plan, 2024)

    header, *body = rows(wb, "单位×举措")
    assert header == ["单位", *MEASURE_IDS]
    units = [row[0] for row in body[:29]]
    assert units == [u.name for u in plan.units]
    assert len(units) == 29
    # Then a blank row and the legend.
    assert body[29] == [None] * 32
    assert str(body[30][0]).startswith("数字为已报送条数")
    assert len(body) == 31
    cells = matrix(wb)
    assert len(cells) == 29 * 31
    # Counts of live notes where the unit reported.
    assert cells[(HRSS, "5.1")] == 2
    assert cells[("教育厅", "11.1")] == 1
    # Responsible, but nothing (live) reported: empty.
    assert cells[(HRSS, "6.2")] is None  # its only note was deleted
    assert cells[(POST, "16.1")] is None  # likewise
    assert cells[(HRSS, "7.1")] is None
    assert cells[(TOBACCO, "2.3")] is None
    assert cells[("省残联", "1.1")] is None  # reported in 2023, not in 2024
    # Not responsible: a dash.
    assert cells[(TOBACCO, "1.1")] == "—"
    assert cells[(HRSS, "2.3")] == "—"
    assert [mid for mid in MEASURE_IDS if cells[(TOBACCO, mid)] != "—"] == ["2.3", "11.1", "16.1"]
    # Every unit must report on the shared duties.
    for unit in plan.units:
        assert cells[(unit.name, "11.1")] != "—"
        assert cells[(unit.name, "16.1")] != "—"
    # And in general: a dash exactly where the unit is not responsible, a count where it
    # reported, empty everywhere else.
    live = {(HRSS, "5.1"): 2, ("教育厅", "11.1"): 1}
    for unit in plan.units:
        for measure in plan.measures:
            expected = live.get((unit.name, measure.id))
            if not plan.is_responsible(unit.name, measure):
                expected = "—"
            assert cells[(unit.name, measure.id)] == expected, (unit.name, measure.id)


async def test_silent_units_sheet(store: Store, plan: Plan, reported: dict[str, int]) -> None:
    wb = await workbook(store, plan, 2024)

    header, *body = rows(wb, "未报送单位")
    assert header == ["单位", "负责举措数"]
    silent = [u.name for u in plan.units if u.name not in {HRSS, "教育厅"}]
    assert [row[0] for row in body] == silent
    # Only deleted notes, or notes of another year, do not count as reporting.
    assert POST in silent
    assert "省残联" in silent
    counts = {row[0]: row[1] for row in body}
    assert counts[TOBACCO] == 3
    assert counts["省残联"] == 28
    assert all(counts[name] == len(plan.duties_of(name)) for name in silent)


async def test_a_year_without_notes(store: Store, plan: Plan) -> None:
    wb = await workbook(store, plan, 2025)

    assert rows(wb, "进展记录") == [NOTES_HEADER]
    cells = matrix(wb)
    assert set(cells.values()) == {None, "—"}
    silent = [row[0] for row in rows(wb, "未报送单位")[1:]]
    assert silent == [u.name for u in plan.units]


@pytest.mark.parametrize(
    "typed",
    [
        "'); DROP TABLE notes;--",
        "<b>&</b><i",
        "🎉👍🏽",
        "第一行\n第二行",
        '他说："好"',
        "=1+1",
        '=HYPERLINK("http://example.com","点我")',
    ],
)
async def test_text_is_exported_as_typed_and_never_as_a_formula(
    store: Store, plan: Plan, typed: str
) -> None:
    await store.notes.add(HRSS, "5.1", 2024, "u1", "=张三", typed)

    wb = await workbook(store, plan, 2024)

    text, author = wb["进展记录"]["E2"], wb["进展记录"]["F2"]
    assert (text.value, text.data_type) == (typed, "s")
    assert (author.value, author.data_type) == ("=张三", "s")


async def test_control_characters_do_not_break_the_export(store: Store, plan: Plan) -> None:
    # Word pastes a vertical tab for a manual line break; openpyxl refuses such characters.
    await store.notes.add(HRSS, "5.1", 2024, "u1", "张\x07三", "第一行\x0b第二行\x00")

    wb = await workbook(store, plan, 2024)

    assert wb["进展记录"]["E2"].value == "第一行\n第二行"
    assert wb["进展记录"]["F2"].value == "张三"
    assert matrix(wb)[(HRSS, "5.1")] == 1


async def test_characters_xml_cannot_hold_or_that_reverse_text_are_left_out(
    store: Store, plan: Plan
) -> None:
    # U+FFFE/U+FFFF are forbidden in XML; an RLO shows the rest of a cell reversed.
    await store.notes.add(HRSS, "5.1", 2024, "u1", "张\u202e三\uffff", "今年完成\ufffe培训\u2066")
    # A display name sent once with /bind stays in the audit trail.
    await store.audit.record("tg:1", "李\ufffe四\u202e", "bind", HRSS, "申请绑定\uffff")

    wb = await workbook(store, plan, 2024)

    assert (wb["进展记录"]["E2"].value, wb["进展记录"]["F2"].value) == ("今年完成培训", "张三")
    audit = rows(wb, "操作记录")
    assert ("李四", "tg:1", "申请绑定") in {(r[1], r[2], r[5]) for r in audit}


async def test_the_workbook_is_built_in_the_worker_process_not_on_the_event_loop(
    store: Store, plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[object, int]] = []

    async def watched(work: Callable[..., bytes], *args: object) -> bytes:
        sent.append((work, await offload(os.getpid)))
        return await offload(work, *args)

    monkeypatch.setattr(bot.office.export, "offload", watched)
    await store.notes.add(HRSS, "5.1", 2024, "u1", "张三", "新建残疾人之家12个")

    wb = await workbook(store, plan, 2024)

    assert [work for work, _ in sent] == [build_workbook]
    assert sent[0][1] != os.getpid()  # the worker is another process
    assert wb["进展记录"]["E2"].value == "新建残疾人之家12个"


async def test_a_unit_no_measure_names_is_not_silent(tmp_path: Path, store: Store) -> None:
    plan = load_plan(idle_unit_data(tmp_path / "data"))

    wb = await workbook(store, plan, 2024)

    silent = [row[0] for row in rows(wb, "未报送单位")[1:]]
    assert IDLE not in silent
    assert len(silent) == len(plan.units) - 1
    assert set(matrix(wb, len(plan.units)).items()) >= {((IDLE, "1.1"), NOT_RESPONSIBLE)}

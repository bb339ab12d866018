"""The year-end summary as an Excel workbook (openpyxl)."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from bot.audit import label
from bot.plan import Plan
from bot.store import AuditEntry, Note, Store

NOT_RESPONSIBLE = "—"
_HEAD = Font(bold=True)
_GREY = PatternFill("solid", fgColor="DDDDDD")
_MISSING = PatternFill("solid", fgColor="FFE699")


def _cell_text(text: str) -> str:
    """Return text a worksheet can hold: control characters become U+FFFD."""
    # openpyxl refuses e.g. the vertical tab Word pastes for a line break; one such note
    # must not make the whole year's export fail.
    return str(ILLEGAL_CHARACTERS_RE.sub("\ufffd", text))


def _sheet_notes(wb: Workbook, plan: Plan, notes: list[Note]) -> None:
    ws = wb.active
    ws.title = "进展记录"
    ws.append(
        [
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
    )
    for note in sorted(notes, key=lambda n: (n.created_at, n.id)):
        measure = plan.measure(note.measure_id)
        task = plan.task(measure.task) if measure else None
        ws.append(
            [
                note.id,
                note.unit,
                note.measure_id,
                f"{task.number}. {task.title}" if task else "",
                _cell_text(note.text),
                _cell_text(note.author_name),
                note.created_at.strftime("%Y-%m-%d %H:%M"),
                note.updated_at.strftime("%Y-%m-%d %H:%M") if note.updated_at else "",
                "是" if note.deleted else "否",
            ]
        )
    for col, width in zip("ABCDEFGHI", (8, 22, 8, 36, 60, 12, 18, 18, 8), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2, min_col=5, max_col=6):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
        for cell in row:
            # What people typed is text: openpyxl would store "=…" as a live formula.
            cell.data_type = "s"


def _sheet_matrix(wb: Workbook, plan: Plan, counts: Counter[tuple[str, str]]) -> None:
    ws = wb.create_sheet("单位×举措")
    ws.append(["单位", *(m.id for m in plan.measures)])
    for unit in plan.units:
        row: list[object] = [unit.name]
        for m in plan.measures:
            if not plan.is_responsible(unit.name, m):
                row.append(NOT_RESPONSIBLE)
            else:
                # Responsible but nothing reported: left empty, as the office asked.
                row.append(counts[(unit.name, m.id)] or None)
        ws.append(row)
    for cells in ws.iter_rows(min_row=2, min_col=2):
        for cell in cells:
            if cell.value == NOT_RESPONSIBLE:
                cell.fill = _GREY
            elif cell.value is None:
                cell.fill = _MISSING
    ws.column_dimensions["A"].width = 22
    ws.freeze_panes = "B2"
    ws.cell(
        row=len(plan.units) + 3, column=1
    ).value = f"数字为已报送条数；空白（黄色）为负责但未报送；{NOT_RESPONSIBLE} 为非责任单位。"


def _sheet_silent(wb: Workbook, plan: Plan, counts: Counter[tuple[str, str]]) -> None:
    ws = wb.create_sheet("未报送单位")
    ws.append(["单位", "负责举措数"])
    reported = {unit for unit, _ in counts}
    for unit in plan.units:
        if unit.name not in reported:
            ws.append([unit.name, len(plan.duties_of(unit.name))])
    ws.column_dimensions["A"].width = 22


def _sheet_audit(wb: Workbook, entries: Sequence[AuditEntry]) -> None:
    ws = wb.create_sheet("操作记录")
    ws.append(["时间", "操作人", "操作人 ID", "操作", "单位", "对象"])
    for e in sorted(entries, key=lambda e: (e.at, e.id)):
        ws.append(
            [
                e.at.strftime("%Y-%m-%d %H:%M:%S"),
                *(_cell_text(t) for t in (e.actor_name, e.actor_id)),
                label(e.action),
                e.unit,
                _cell_text(e.subject),
            ]
        )
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            # Names and ids are text as typed: "=…" must not become a live formula.
            cell.data_type = "s"
    for col, width in zip("ABCDEF", (20, 14, 14, 16, 22, 40), strict=True):
        ws.column_dimensions[col].width = width


def build_workbook(
    plan: Plan, notes: list[Note], year: int, audit: Sequence[AuditEntry] = ()
) -> bytes:
    """Return the .xlsx bytes: notes, unit x measure matrix, silent units, the audit trail."""
    wb = Workbook()
    _sheet_notes(wb, plan, notes)
    counts = Counter((n.unit, n.measure_id) for n in notes if not n.deleted)
    _sheet_matrix(wb, plan, counts)
    _sheet_silent(wb, plan, counts)
    _sheet_audit(wb, audit)
    for ws in wb.worksheets:
        for cell in ws[1]:
            cell.font = _HEAD
    notes_sheet = wb.worksheets[0]
    notes_sheet.auto_filter.ref = f"A1:{get_column_letter(notes_sheet.max_column)}1"
    wb.properties.title = f"{plan.document.number} {year} 年进展汇总"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def export_year(store: Store, plan: Plan, year: int) -> bytes:
    """Read a year's notes (deleted ones included, marked) and audit trail; build the workbook."""
    notes = await store.notes(year=year, include_deleted=True)
    return build_workbook(plan, notes, year, await store.audit_entries(year=year))

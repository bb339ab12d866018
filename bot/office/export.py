"""The year-end summary as an Excel workbook (openpyxl)."""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.charset import for_file
from bot.documents.plan import Plan
from bot.office.audit import label
from bot.offload import offload
from bot.store import AuditEntry, Note, Store

NOT_RESPONSIBLE = "—"
_HEAD = Font(bold=True)
_GREY = PatternFill("solid", fgColor="DDDDDD")
_MISSING = PatternFill("solid", fgColor="FFE699")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _append(ws: Worksheet, values: Sequence[object]) -> None:
    """Append a row, each text as the file can hold it (see bot.charset.for_file)."""
    # One U+FFFE in one note or name must not make the whole year's export fail.
    ws.append([for_file(v) if isinstance(v, str) else v for v in values])


def _sheet(wb: Workbook, title: str) -> Worksheet:
    """Add a worksheet titled as Excel allows: no []:*?/\\, at most 31 characters."""
    return wb.create_sheet(_SHEET_FORBIDDEN.sub("_", for_file(title))[:31])


def _sheet_notes(wb: Workbook, plan: Plan, notes: list[Note]) -> None:
    ws = _sheet(wb, "进展记录")
    _append(
        ws,
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
        ],
    )
    for note in sorted(notes, key=lambda n: (n.created_at, n.id)):
        measure = plan.measure(note.measure_id)
        task = plan.task(measure.task) if measure else None
        _append(
            ws,
            [
                note.id,
                note.unit,
                note.measure_id,
                f"{task.number}. {task.title}" if task else "",
                note.text,
                note.author_name,
                note.created_at.strftime("%Y-%m-%d %H:%M"),
                note.updated_at.strftime("%Y-%m-%d %H:%M") if note.updated_at else "",
                "是" if note.deleted else "否",
            ],
        )
    for col, width in zip("ABCDEFGHI", (8, 22, 8, 36, 60, 12, 18, 18, 8), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2, min_col=5, max_col=6):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
        for cell in row:
            # What people typed is text: openpyxl would store "=…" as a live formula.
            cell.data_type = "s"


def _sheet_matrix(wb: Workbook, plan: Plan, counts: Counter[tuple[str, str]]) -> None:
    ws = _sheet(wb, "单位×举措")
    _append(ws, ["单位", *(m.id for m in plan.measures)])
    for unit in plan.units:
        row: list[object] = [unit.name]
        for m in plan.measures:
            if not plan.is_responsible(unit.name, m):
                row.append(NOT_RESPONSIBLE)
            else:
                # Responsible but nothing reported: left empty, as the office asked.
                row.append(counts[(unit.name, m.id)] or None)
        _append(ws, row)
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
    ws = _sheet(wb, "未报送单位")
    _append(ws, ["单位", "负责举措数"])
    reported = {unit for unit, _ in counts}
    for unit in plan.units:
        duties = len(plan.duties_of(unit.name))
        if unit.name not in reported and duties:  # a unit no measure names owes nothing
            _append(ws, [unit.name, duties])
    ws.column_dimensions["A"].width = 22


def _sheet_apart(wb: Workbook, plan: Plan, notes: Sequence[Note]) -> None:
    """List notes that belong to no measure of this document, apart from its tasks."""
    ws = _sheet(wb, "不在当前文件中的记录")
    _append(ws, ["编号", "所属文件", "单位", "举措", "进展内容", "报送人", "报送时间", "已删除"])
    for note in sorted(notes, key=lambda n: (n.created_at, n.id)):
        current = note.edition in ("", plan.document.number)
        edition = f"{plan.document.number}（已无此举措）" if current else note.edition
        _append(
            ws,
            [
                note.id,
                edition,
                note.unit,
                note.measure_id,
                note.text,
                note.author_name,
                note.created_at.strftime("%Y-%m-%d %H:%M"),
                "是" if note.deleted else "否",
            ],
        )
    for row in ws.iter_rows(min_row=2):
        for cell in row[1:7]:
            cell.data_type = "s"  # typed text, never a live formula
    for col, width in zip("ABCDEFGH", (8, 24, 22, 8, 60, 12, 18, 8), strict=True):
        ws.column_dimensions[col].width = width


def _sheet_audit(wb: Workbook, entries: Sequence[AuditEntry]) -> None:
    ws = _sheet(wb, "操作记录")
    _append(ws, ["时间", "操作人", "操作人 ID", "操作", "单位", "对象"])
    for e in sorted(entries, key=lambda e: (e.at, e.id)):
        _append(
            ws,
            [
                e.at.strftime("%Y-%m-%d %H:%M:%S"),
                e.actor_name,
                e.actor_id,
                label(e.action),
                e.unit,
                e.subject,
            ],
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
    """Return the .xlsx bytes: notes, unit x measure matrix, silent units, the audit trail.

    Notes of another document (an earlier one of the folder), or of a measure this document
    no longer has, are listed on a sheet of their own, never under this document's tasks.
    """
    wb = Workbook()
    wb.remove(wb.active)
    apart = [
        n
        for n in notes
        if n.edition not in ("", plan.document.number) or plan.measure(n.measure_id) is None
    ]
    apart_ids = {n.id for n in apart}
    notes = [n for n in notes if n.id not in apart_ids]
    _sheet_notes(wb, plan, notes)
    # A note a unit filed before it changed that year counts for its successor.
    counts = Counter(
        (plan.holder(n.unit, n.measure_id), n.measure_id) for n in notes if not n.deleted
    )
    _sheet_matrix(wb, plan, counts)
    _sheet_silent(wb, plan, counts)
    if apart:
        _sheet_apart(wb, plan, apart)
    _sheet_audit(wb, audit)
    for ws in wb.worksheets:
        for cell in ws[1]:
            cell.font = _HEAD
    notes_sheet = wb.worksheets[0]
    notes_sheet.auto_filter.ref = f"A1:{get_column_letter(notes_sheet.max_column)}1"
    wb.properties.title = for_file(f"{plan.document.number} {year} 年进展汇总")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def export_year(store: Store, plan: Plan, year: int) -> bytes:
    """Read a year's notes (deleted ones included, marked) and audit trail; build the workbook.

    Built in the worker process (bot/offload.py): a year of notes takes openpyxl about a
    second, which the event loop would otherwise spend away from every other chat.
    """
    notes = await store.notes.find(year=year, include_deleted=True)
    notes += await store.notes.earlier(year=year, include_deleted=True)
    audit = await store.audit.entries(year=year)
    return await offload(build_workbook, plan.as_of(year), notes, year, audit)

"""The year-end report as a Word draft (python-docx): one unit's, or the committee's (全部).

`build_report` is pure (plan and notes in, .docx bytes out) so it can run in the worker
process (bot/offload.py); `year_report` reads the notes and does exactly that.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

import docx
from docx.document import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.oxml import serialize_part_xml
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from bot.charset import for_file
from bot.documents.plan import Document as Notice
from bot.documents.plan import Measure, Plan
from bot.office.status import Status, task_status
from bot.offload import offload
from bot.store import Note, Store

ALL_UNITS = "全部"
NOT_YET = "（本年度尚未报送进展）"
REPORTED, UNREPORTED = "已报送", "未报送"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
QUOTE_FONT = "楷体_GB2312"
# What Word uses where the GB2312-era fonts of the 公文 standard are not installed (most
# Windows since Vista have only 仿宋 and 楷体); 86 is the GB2312 character set.
ALT_FONTS = {BODY_FONT: "仿宋", QUOTE_FONT: "楷体", HEADING_FONT: "SimHei"}
# Paragraph styles the report adds; tests and readers find the parts by them.
QUOTE, NOTE, MISSING, UNIT = "举措原文", "进展", "未报送提示", "责任单位"
RED = RGBColor(0xC0, 0x00, 0x00)
SHADES = {
    Status.ALL: "C6EFCE",
    Status.SOME: "FFE699",
    Status.NONE: "F8CBAD",
    Status.NOT_ITS_TASK: "EDEDED",
}
_CHINESE_DIGITS = "零一二三四五六七八九"


def plan_name(notice: Notice) -> str:
    """Return the plan's short name from the notice title (促进残疾人就业三年行动方案责任分工)."""
    # The title cites 《四川省〈促进…方案（2022—2024年）〉责任分工》: the inner name without its
    # period, then what follows it.
    m = re.search(r"〈(.+?)(?:（[^）]*）)?〉([^》]*)》", notice.title)
    return f"{m.group(1)}{m.group(2)}" if m else notice.title


def _subject(notice: Notice, year: int) -> str:
    """Return what the report is about: 2024年度…方案落实情况, or 2019年度贯彻落实《…》情况."""
    if "〈" in notice.title:  # a notice issuing a plan: the plan's own name
        return f"{year}年度{plan_name(notice)}落实情况"
    # A document of its own ("国务院关于…的若干意见"): cited whole, in 《》.
    return f"{year}年度贯彻落实{_cited(notice, numbered=False)}情况"


def report_title(plan: Plan, year: int, unit: str | None) -> str:
    """Return the report's title: the unit's official name (or the committee's) 关于…的报告.

    The committee's report names its author only where the document has units report to
    its issuer (a reporting clause); otherwise whoever compiles it adds their name.
    """
    found = plan.unit(unit) if unit else None
    doc = plan.document
    who = found.full_name if found else (unit or (doc.issuer if doc.report_rule else ""))
    return f"{who}关于{_subject(doc, year)}的报告"


def _cited(notice: Notice, numbered: bool = True) -> str:
    """Return the notice's title as cited in running text: 《…》 outside, nested marks swapped."""
    swap = str.maketrans("《》〈〉", "〈〉《》")
    cited = f"《{notice.title.translate(swap)}》"
    # A document without a number of its own has its title in the number's place.
    if numbered and notice.number and notice.number != notice.title:
        cited += f"（{notice.number}）"
    return cited


def _grounds(notice: Notice) -> str:
    """Return the opening's first words: the document's reporting clause, else the document."""
    if notice.report_rule:
        return f"根据{_cited(notice)}“{notice.report_rule}”的要求，"
    return f"为贯彻落实{_cited(notice)}，"


def _ordinal(n: int) -> str:
    """Return 1-99 in Chinese numerals, for section numbers (一、十二、)."""
    tens, ones = divmod(n, 10)
    if not tens:
        return _CHINESE_DIGITS[ones]
    head = "" if tens == 1 else _CHINESE_DIGITS[tens]
    return f"{head}十{_CHINESE_DIGITS[ones] if ones else ''}"


# -- styles ------------------------------------------------------------------------------------


def _set_font(element: BaseOxmlElement, name: str) -> None:
    """Name the font for Latin and East Asian text alike, dropping theme fonts that win."""
    rpr = element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), name)


def _style(doc: Document, name: str, font: str, size: float, base: str = "Normal") -> None:
    styles = doc.styles
    style = (
        styles[name]
        if name in [s.name for s in styles]
        else styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    )
    if style.name != base and name not in ("Title", "Heading 1", "Heading 2", "Heading 3"):
        style.base_style = styles[base]
    _set_font(style.element, font)
    style.font.size = Pt(size)
    style.font.color.rgb = RGBColor(0, 0, 0)
    style.font.bold = False
    style.font.italic = False
    # Word's built-in headings keep the next paragraph on their page; spacing is set here.
    style.paragraph_format.space_before = Pt(6)
    style.paragraph_format.space_after = Pt(6)
    style.paragraph_format.line_spacing = 1.25


def _new_document(title: str) -> Document:
    """Return an empty A4 document with the report's styles, title and page numbers."""
    doc = docx.Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    # The margins of GB/T 9704 (党政机关公文格式).
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    _style(doc, "Normal", BODY_FONT, 16)
    _style(doc, "Title", HEADING_FONT, 22)
    title_style = doc.styles["Title"]
    title_style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # The template underlines the title with a border; an official report has none.
    ppr = title_style.element.pPr
    if ppr is not None:
        for border in ppr.findall(qn("w:pBdr")):
            ppr.remove(border)
    _style(doc, "Heading 1", HEADING_FONT, 16)
    _style(doc, "Heading 2", QUOTE_FONT, 16)
    _style(doc, "Heading 3", BODY_FONT, 16)
    doc.styles["Heading 3"].font.bold = True
    _style(doc, QUOTE, QUOTE_FONT, 14)
    doc.styles[QUOTE].paragraph_format.left_indent = Pt(28)
    _style(doc, UNIT, BODY_FONT, 16)
    doc.styles[UNIT].font.bold = True
    _style(doc, NOTE, BODY_FONT, 16)
    doc.styles[NOTE].paragraph_format.first_line_indent = Pt(32)
    _style(doc, MISSING, BODY_FONT, 16)
    doc.styles[MISSING].font.color.rgb = RED
    doc.styles[MISSING].font.bold = True
    doc.styles[MISSING].paragraph_format.first_line_indent = Pt(32)
    doc.core_properties.title = for_file(title)
    _declare_fonts(doc)
    _page_numbers(section.footer.paragraphs[0])
    _add(doc, "Title", title)
    return doc


_style_ids: dict[str, str] = {}


def _add(doc: Document, style: str, text: str = "") -> Paragraph:
    """Add a paragraph in `style` (by id: python-docx's lookup by name scans every style)."""
    paragraph = doc.add_paragraph(for_file(text))
    if style not in _style_ids:
        _style_ids[style] = doc.styles[style].style_id
    paragraph._p.style = _style_ids[style]
    return paragraph


def _declare_fonts(doc: Document) -> None:
    """List the fonts in the font table with their stand-ins (w:altName), for Word."""
    part = next(r.target_part for r in doc.part.rels.values() if r.reltype == RT.FONT_TABLE)
    table = parse_xml(part.blob)
    for name, alt in ALT_FONTS.items():
        font = OxmlElement("w:font", {qn("w:name"): name})
        for tag, value in (("altName", alt), ("charset", "86"), ("family", "modern")):
            font.append(OxmlElement(f"w:{tag}", {qn("w:val"): value}))
        table.append(font)
    # The template's font table is a plain part: its bytes are all there is to change.
    part._blob = serialize_part_xml(table)


def _page_numbers(paragraph: Paragraph) -> None:
    """Put "— N —" in the footer, N being Word's PAGE field."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("— ")
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1")):
        run = paragraph.add_run()
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            run.text = text or ""
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    paragraph.add_run()._r.append(end)
    paragraph.add_run(" —")


# -- content -----------------------------------------------------------------------------------


def _by_measure(notes: Iterable[Note]) -> dict[tuple[str, str], list[Note]]:
    """Group live notes by (unit, measure), each group in date order."""
    groups: dict[tuple[str, str], list[Note]] = defaultdict(list)
    for note in sorted(notes, key=lambda n: (n.created_at, n.id)):
        if not note.deleted:
            groups[(note.unit, note.measure_id)].append(note)
    return groups


def _opening(doc: Document, text: str) -> None:
    """Add a body paragraph indented by two characters, as official documents are."""
    doc.add_paragraph(for_file(text)).paragraph_format.first_line_indent = Pt(32)


def _notes(doc: Document, notes: list[Note]) -> None:
    """Add each note (author, date, text) or the visible "nothing yet" line."""
    if not notes:
        _add(doc, MISSING, NOT_YET)
    for note in notes:
        p = _add(doc, NOTE)
        day = f"{note.created_at.year}年{note.created_at.month}月{note.created_at.day}日"
        p.add_run(for_file(f"{note.author_name}（{day}）：")).bold = True
        p.add_run(for_file(note.text))


def _measure_head(doc: Document, position: int, measure: Measure) -> None:
    _add(doc, "Heading 2", f"（{_ordinal(position)}）举措{measure.id}")
    _add(doc, QUOTE, measure.text)


def _header_row(cells: Sequence[_Cell], texts: Iterable[str]) -> None:
    for cell, text in zip(cells, texts, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(for_file(text))
        run.bold = True
        run.font.size = Pt(10.5)
    # Repeat the header row on every page the table spans.
    row = cells[0]._tc.getparent()
    trpr = row.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    trpr.append(header)


def _shade(cell: _Cell, colour: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:fill"), colour)
    cell._tc.get_or_add_tcPr().append(shading)


def _widths(table: Table, millimetres: Sequence[float]) -> None:
    """Fix the columns' widths (Word reads them per cell; autofit would squeeze the names)."""
    table.autofit = False
    for column, width in zip(table.columns, millimetres, strict=True):
        column.width = Mm(width)  # the grid, which LibreOffice reads
    for row in table.rows:
        # A row is not split across pages (its remainder would look like an empty row).
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        for cell, width in zip(row.cells, millimetres, strict=True):
            cell.width = Mm(width)


def _small(cell: _Cell, text: str, colour: RGBColor | None = None) -> None:
    cell.text = ""
    run = cell.paragraphs[0].add_run(for_file(text))
    run.font.size = Pt(10.5)
    if colour is not None:
        run.font.color.rgb = colour


def _unit_report(plan: Plan, unit: str, notes: list[Note], year: int) -> Document:
    doc = _new_document(report_title(plan, year, unit))
    _opening(
        doc,
        f"{_grounds(plan.document)}现将{unit}{year}年度责任分工落实情况报告如下。",
    )
    groups = _by_measure(notes)
    duties = sorted(plan.duties_of(unit), key=lambda m: (m.task, m.index))
    for position, task in enumerate(
        (t for t in plan.tasks if any(m.task == t.number for m in duties)), start=1
    ):
        _add(doc, "Heading 1", f"{_ordinal(position)}、{task.title}（主要任务{task.number}）")
        for k, measure in enumerate((m for m in duties if m.task == task.number), start=1):
            _measure_head(doc, k, measure)
            _notes(doc, groups.get((unit, measure.id), []))
    _add(doc, "Heading 1", "附表　举措报送情况")
    table = doc.add_table(rows=1, cols=4)
    table.style = doc.styles["Table Grid"]
    _header_row(table.rows[0].cells, ("举措", "主要任务", "报送情况", "进展条数"))
    for measure in duties:
        count = len(groups.get((unit, measure.id), []))
        task = plan.tasks[measure.task - 1]
        cells = table.add_row().cells
        _small(cells[0], measure.id)
        _small(cells[1], f"{task.number}. {task.title}")
        _small(cells[2], REPORTED if count else UNREPORTED, None if count else RED)
        _small(cells[3], str(count))
    _widths(table, (18, 90, 24, 24))
    return doc


def _responsible(plan: Plan, measure: Measure) -> list[str]:
    """Return the measure's units: those the document names, then (if shared) every other."""
    named = list(dict.fromkeys(plan.holder(u, measure.id) for u in measure.units))
    return named + [u.name for u in plan.units if measure.all_provincial and u.name not in named]


def _committee_report(plan: Plan, notes: list[Note], year: int) -> Document:
    doc = _new_document(report_title(plan, year, None))
    groups = _by_measure(notes)
    reported: dict[str, set[str]] = defaultdict(set)
    for unit, measure_id in groups:
        reported[unit].add(measure_id)
    # A unit no measure names (listed in units.yaml only) is no responsible unit.
    responsible = [u.name for u in plan.units if plan.duties_of(u.name)]
    silent = sum(1 for u in responsible if u not in reported)
    _opening(
        doc,
        f"{_grounds(plan.document)}现将{year}年度"
        f"各责任单位责任分工落实情况汇总报告如下。{len(responsible)}个责任单位中，"
        f"{len(responsible) - silent}个已报送进展，共{sum(map(len, groups.values()))}条；"
        f"{silent}个尚未报送。",
    )
    for task in plan.tasks:
        _add(doc, "Heading 1", f"{_ordinal(task.number)}、{task.title}")
        for k, measure in enumerate(task.measures, start=1):
            _measure_head(doc, k, measure)
            for unit in _responsible(plan, measure):
                _add(doc, UNIT, unit)
                _notes(doc, groups.get((unit, measure.id), []))
    _status_table(doc, plan, reported)
    return doc


def _status_table(doc: Document, plan: Plan, reported: dict[str, set[str]]) -> None:
    """Add, on landscape pages, the units x main tasks table of reported/responsible counts."""
    section = doc.add_section()
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin = section.bottom_margin = Mm(20)
    _add(doc, "Heading 1", "附表　各单位主要任务报送情况")
    doc.add_paragraph(
        "表中“已报送/负责”为该单位在该项主要任务下已报送进展的举措数与负责的举措数；"
        "“—”为非该单位的任务。"
    )
    table = doc.add_table(rows=1, cols=len(plan.tasks) + 1)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _header_row(table.rows[0].cells, ("单位", *(str(t.number) for t in plan.tasks)))
    for unit in plan.units:
        cells = table.add_row().cells
        _small(cells[0], unit.name)
        for cell, task in zip(cells[1:], plan.tasks, strict=True):
            status, done, total = task_status(plan, reported, unit.name, task)
            _small(cell, "—" if status is Status.NOT_ITS_TASK else f"{done}/{total}")
            _shade(cell, SHADES[status])
    _widths(table, (41, *([13] * len(plan.tasks))))


def build_report(plan: Plan, notes: list[Note], year: int, unit: str | None) -> bytes:
    """Return the .docx bytes: `unit`'s report, or the committee's when `unit` is None."""
    if unit is None:
        doc = _committee_report(plan, notes, year)
    else:
        doc = _unit_report(plan, unit, [n for n in notes if n.unit == unit], year)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


async def year_report(store: Store, plan: Plan, year: int, unit: str | None) -> bytes:
    """Read the year's live notes (of `unit`, or all); build the report in the worker process."""
    plan = plan.as_of(year)
    # A note a unit filed before it changed that year is its successor's.
    notes = [
        dataclasses.replace(n, unit=plan.holder(n.unit, n.measure_id))
        for n in await store.notes.find(None if plan.succession else unit, year)
    ]
    if unit is not None:
        notes = [n for n in notes if n.unit == unit]
    return await offload(build_report, plan, notes, year, unit)

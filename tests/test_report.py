"""Tests for bot.office.report: the .docx is saved, re-opened with python-docx and read back."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import docx
import pytest
from docx.document import Document
from docx.oxml.ns import qn
from lxml import etree
from PIL import Image

from bot.ask.assistant import Assistant
from bot.cli import main
from bot.clock import TZ
from bot.documents.plan import Plan, load_plan
from bot.office.report import (
    MISSING,
    NOT_YET,
    NOTE,
    QUOTE,
    UNIT,
    build_report,
    plan_name,
    report_title,
    year_report,
)
from bot.store import Store
from tests.fakes.clock import FakeClock
from tests.shared import shared_documents
from tests.test_cli import run_bot
from tests.test_office import idle_unit_data

HRSS = "人力资源社会保障厅"
EDU = "教育厅"
BIANBAN = "省委编办"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return Assistant.load().plan


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2024, 3, 5, 9, 0, tzinfo=TZ))


async def open_report(store: Store, plan: Plan, year: int, unit: str | None) -> Document:
    return docx.Document(io.BytesIO(await year_report(store, plan, year, unit)))


@dataclass
class Measure:
    """What the report says under one measure heading."""

    quote: list[str] = field(default_factory=list)
    # (unit or "", style, text) of every paragraph after the quote
    body: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Outline:
    title: str
    opening: str
    sections: list[str]
    measures: dict[str, Measure]
    order: list[str]


def outline(doc: Document) -> Outline:
    """Read the body back: sections, and what follows each measure heading."""
    paragraphs = doc.paragraphs
    sections: list[str] = []
    measures: dict[str, Measure] = {}
    order: list[str] = []
    current: Measure | None = None
    unit = ""
    for p in paragraphs[2:]:
        style = p.style.name if p.style is not None else ""
        if style == "Heading 1":
            sections.append(p.text)
            current = None
        elif style == "Heading 2":
            m = re.fullmatch(r"（[一二三四五六七八九十]+）举措(\d+\.\d+)", p.text)
            assert m, p.text
            current = measures.setdefault(m.group(1), Measure())
            order.append(m.group(1))
            unit = ""
        elif current is not None and style == QUOTE:
            current.quote.append(p.text)
        elif current is not None and style == UNIT:
            unit = p.text
        elif current is not None:
            current.body.append((unit, style, p.text))
    assert paragraphs[0].style is not None
    assert paragraphs[0].style.name == "Title"
    return Outline(paragraphs[0].text, paragraphs[1].text, sections, measures, order)


def table_rows(doc: Document, index: int) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in doc.tables[index].rows]


def note_line(author: str, day: dt.date, text: str) -> str:
    return f"{author}（{day.year}年{day.month}月{day.day}日）：{text}"


# -- a unit's report ---------------------------------------------------------------------------


def test_the_plan_name_and_title_come_from_the_notice(plan: Plan) -> None:
    assert plan_name(plan.document) == "促进残疾人就业三年行动方案责任分工"
    assert report_title(plan, 2024, HRSS) == (
        "四川省人力资源和社会保障厅关于2024年度促进残疾人就业三年行动方案责任分工落实情况的报告"
    )


async def test_a_unit_with_no_notes_has_every_measure_marked_unreported(
    store: Store, plan: Plan
) -> None:
    await store.notes.add(HRSS, "1.1", 2024, "u1", "张三", "别的单位的记录")
    await store.notes.add(BIANBAN, "1.1", 2023, "u2", "李四", "去年的记录")

    doc = await open_report(store, plan, 2024, BIANBAN)
    out = outline(doc)

    assert out.title == report_title(plan, 2024, BIANBAN)
    assert "川残工委〔2022〕4号" in out.opening
    assert plan.document.report_rule in out.opening
    duties = sorted(plan.duties_of(BIANBAN), key=lambda m: (m.task, m.index))
    assert out.order == [m.id for m in duties]
    tasks = sorted({m.task for m in duties})
    assert [re.sub(r"^[一二三四五六七八九十]+、", "", s) for s in out.sections[:-1]] == [
        f"{plan.tasks[t - 1].title}（主要任务{t}）" for t in tasks
    ]
    for m in duties:
        assert out.measures[m.id].quote == [m.text]
        assert out.measures[m.id].body == [("", MISSING, NOT_YET)]
    assert table_rows(doc, 0) == [
        ["举措", "主要任务", "报送情况", "进展条数"],
        *([m.id, f"{m.task}. {plan.tasks[m.task - 1].title}", "未报送", "0"] for m in duties),
    ]


async def test_notes_stand_under_their_measure_in_date_order(
    store: Store, plan: Plan, clock: FakeClock
) -> None:
    await store.notes.add(HRSS, "5.1", 2024, "u1", "张三", "新建残疾人之家12个")
    clock.advance(days=40)
    await store.notes.add(HRSS, "1.1", 2024, "u2", "李四", "建立统计制度\n第二行")
    clock.advance(days=1)
    gone = await store.notes.add(HRSS, "5.1", 2024, "u2", "李四", "删掉的")
    await store.notes.delete(gone.id, "u2")
    clock.advance(days=1)
    await store.notes.add(HRSS, "5.1", 2024, "u1", "张三", "第二条")
    await store.notes.add(EDU, "5.1", 2024, "u3", "王五", "教育厅的")

    doc = await open_report(store, plan, 2024, HRSS)
    out = outline(doc)

    duties = sorted(plan.duties_of(HRSS), key=lambda m: (m.task, m.index))
    assert out.order == [m.id for m in duties]
    assert out.measures["5.1"].body == [
        ("", NOTE, note_line("张三", dt.date(2024, 3, 5), "新建残疾人之家12个")),
        ("", NOTE, note_line("张三", dt.date(2024, 4, 16), "第二条")),
    ]
    assert out.measures["1.1"].body == [
        ("", NOTE, note_line("李四", dt.date(2024, 4, 14), "建立统计制度\n第二行"))
    ]
    unreported = [m.id for m in duties if m.id not in ("1.1", "5.1")]
    for mid in unreported:
        assert out.measures[mid].body == [("", MISSING, NOT_YET)]
    statuses = {row[0]: (row[2], row[3]) for row in table_rows(doc, 0)[1:]}
    assert statuses == {
        m.id: (("已报送", "2") if m.id == "5.1" else ("已报送", "1"))
        if m.id in ("1.1", "5.1")
        else ("未报送", "0")
        for m in duties
    }


async def test_a_unit_that_reported_everything_has_no_gap(store: Store, plan: Plan) -> None:
    duties = plan.duties_of(EDU)
    for m in duties:
        await store.notes.add(EDU, m.id, 2024, "u3", "王五", f"{m.id} 的进展")

    doc = await open_report(store, plan, 2024, EDU)
    out = outline(doc)

    assert all(style != MISSING for m in out.measures.values() for _, style, _ in m.body)
    for m in duties:
        assert out.measures[m.id].body == [
            ("", NOTE, note_line("王五", dt.date(2024, 3, 5), f"{m.id} 的进展"))
        ]
    assert {row[2] for row in table_rows(doc, 0)[1:]} == {"已报送"}
    assert len(table_rows(doc, 0)) == len(duties) + 1


async def test_long_notes_emoji_markup_and_control_characters_survive(
    store: Store, plan: Plan
) -> None:
    long = "就业" * 499 + "。😀"  # 1,000 characters
    odd = "含控制符\x01\x08与换行\x0b及<b>标记</b> & *星号* 🎉\u200d"
    await store.notes.add(HRSS, "5.1", 2024, "u1", "张三\x02", long)
    await store.notes.add(HRSS, "5.2", 2024, "u1", "张三", odd)

    data = await year_report(store, plan, 2024, HRSS)
    out = outline(docx.Document(io.BytesIO(data)))

    assert len(long) == 1000
    assert out.measures["5.1"].body == [("", NOTE, note_line("张三", dt.date(2024, 3, 5), long))]
    assert out.measures["5.2"].body == [
        (
            "",
            NOTE,
            note_line(
                "张三", dt.date(2024, 3, 5), "含控制符与换行\n及<b>标记</b> & *星号* 🎉\u200d"
            ),
        )
    ]
    # The committee's report carries the same notes and opens as well.
    whole = outline(await open_report(store, plan, 2024, None))
    assert (HRSS, NOTE, note_line("张三", dt.date(2024, 3, 5), long)) in whole.measures["5.1"].body


async def test_characters_xml_cannot_hold_or_that_reverse_text_are_left_out(
    store: Store, plan: Plan
) -> None:
    await store.notes.add(HRSS, "5.1", 2024, "u1", "张\u202e三\uffff", "今年完成\ufffe培训\u200f")

    for unit in (HRSS, None):
        out = outline(await open_report(store, plan, 2024, unit))

        shown = note_line("张三", dt.date(2024, 3, 5), "今年完成培训")
        assert ("" if unit else HRSS, NOTE, shown) in out.measures["5.1"].body


async def test_the_page_is_a4_with_named_fonts_and_page_numbers(store: Store, plan: Plan) -> None:
    doc = await open_report(store, plan, 2024, HRSS)

    section = doc.sections[0]
    assert section.page_width is not None
    assert section.page_height is not None
    assert (section.page_width.mm, section.page_height.mm) == pytest.approx((210, 297), abs=0.1)

    def east_asian(style: str) -> str | None:
        fonts = doc.styles[style].element.rPr.rFonts
        assert fonts.get(qn("w:eastAsiaTheme")) is None
        return fonts.get(qn("w:eastAsia"))

    assert east_asian("Normal") in ("仿宋_GB2312", "仿宋")
    assert east_asian(NOTE) in ("仿宋_GB2312", "仿宋")
    assert east_asian("Title") == "黑体"
    assert east_asian("Heading 1") == "黑体"
    footer = section.footer.paragraphs[0]._p.xml
    assert re.search(r"<w:instrText[^>]*> PAGE </w:instrText>", footer)
    assert 'fldCharType="begin"' in footer
    assert doc.styles[MISSING].font.color.rgb is not None
    # Word's stand-ins where the GB2312-era fonts are not installed.
    fonts = next(r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable"))
    table = etree.fromstring(fonts.blob)
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    alt = {f.get(f"{w}name"): f.find(f"{w}altName") for f in table.iter(f"{w}font")}
    assert alt["仿宋_GB2312"] is not None
    assert alt["仿宋_GB2312"].get(f"{w}val") == "仿宋"


# -- the committee's report --------------------------------------------------------------------


async def test_the_committee_report_covers_every_measure_and_unit(
    store: Store, plan: Plan, clock: FakeClock
) -> None:
    await store.notes.add(HRSS, "5.1", 2024, "u1", "张三", "人社厅的进展")
    clock.advance(days=1)
    await store.notes.add("省残联", "5.1", 2024, "u4", "赵六", "残联的进展")
    await store.notes.add(EDU, "11.1", 2024, "u3", "王五", "共同举措")
    for m in plan.duties_of(EDU):
        await store.notes.add(EDU, m.id, 2024, "u3", "王五", "全部")

    doc = await open_report(store, plan, 2024, None)
    out = outline(doc)

    assert out.title == report_title(plan, 2024, None)
    assert out.title.startswith(plan.document.issuer)
    assert f"{len(plan.units)}个责任单位中，3个已报送进展" in out.opening
    assert "川残工委〔2022〕4号" in out.opening
    assert out.sections[:-1] == [
        f"{n}、{t.title}" for n, t in zip("一二三四五六七八九十", plan.tasks, strict=False)
    ] + [f"十{d}、{t.title}" for d, t in zip("一二三四五六", plan.tasks[10:], strict=True)]
    assert out.order == [m.id for m in plan.measures]
    for m in plan.measures:
        assert out.measures[m.id].quote == [m.text]
        units = list(dict.fromkeys(u for u, _, _ in out.measures[m.id].body))
        expected = [u.name for u in plan.units if plan.is_responsible(u.name, m)]
        assert sorted(units) == sorted(expected)
        assert units[: len(m.units)] == list(m.units)
    assert [b for b in out.measures["5.1"].body if b[1] == NOTE] == [
        (HRSS, NOTE, note_line("张三", dt.date(2024, 3, 5), "人社厅的进展")),
        ("省残联", NOTE, note_line("赵六", dt.date(2024, 3, 6), "残联的进展")),
    ]
    assert (EDU, MISSING, NOT_YET) not in out.measures["11.1"].body
    assert (HRSS, MISSING, NOT_YET) in out.measures["11.1"].body

    rows = table_rows(doc, 0)
    assert rows[0] == ["单位", *(str(t.number) for t in plan.tasks)]
    table = {row[0]: row[1:] for row in rows[1:]}
    assert list(table) == [u.name for u in plan.units]
    assert table[HRSS][5 - 1] == "1/2"
    assert table[BIANBAN][1 - 1] == "0/2"
    assert table[BIANBAN][2 - 1] == "—"
    assert all(cell == "—" or cell.split("/")[0] == cell.split("/")[1] for cell in table[EDU])


# -- the command line --------------------------------------------------------------------------


async def _file_notes(db: Path) -> None:
    clock = FakeClock(dt.datetime(2024, 11, 2, 10, 0, tzinfo=TZ))
    async with await Store.open(db, clock) as store:
        await store.notes.add(HRSS, "5.1", 2024, "u1", "张三", "新建残疾人之家12个")


@pytest.mark.parametrize(("name", "unit"), [("人社厅", HRSS), ("人设厅", HRSS), ("全部", None)])
def test_cli_writes_the_report_of_a_unit_by_any_name_or_of_all(
    tmp_path: Path, plan: Plan, name: str, unit: str | None
) -> None:
    asyncio.run(_file_notes(tmp_path / "bot.sqlite3"))
    out = tmp_path / "out.docx"

    result = run_bot("report", "--year", "2024", "--unit", name, out, tmp=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "已生成" in result.stdout
    doc = outline(docx.Document(str(out)))
    assert doc.title == report_title(plan, 2024, unit)
    assert (
        HRSS if unit is None else "",
        NOTE,
        note_line("张三", dt.date(2024, 11, 2), "新建残疾人之家12个"),
    ) in doc.measures["5.1"].body


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--unit", "火星局"), ("找不到单位", "火星局")),
        (("--unit", "人社厅 教育厅"), ("多个单位", "人力资源社会保障厅、教育厅")),
        ((), ("数据库", "不存在")),
    ],
)
def test_cli_report_refuses_in_chinese(
    tmp_path: Path, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    if args:
        asyncio.run(_file_notes(tmp_path / "bot.sqlite3"))
    out = tmp_path / "out.docx"

    result = run_bot("report", "--year", "2024", *args, out, tmp=tmp_path)

    assert result.returncode == 2
    assert result.stderr.startswith("错误：")
    for word in words:
        assert word in result.stderr
    assert not out.exists()


def test_cli_writes_the_progress_picture(tmp_path: Path) -> None:
    asyncio.run(_file_notes(tmp_path / "bot.sqlite3"))
    out = tmp_path / "out.png"

    result = run_bot("progress-image", "--year", "2024", out, tmp=tmp_path)

    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        assert image.format == "PNG"
        assert image.width <= 1280


async def test_a_unit_no_measure_names_is_not_counted_as_responsible(
    tmp_path: Path, store: Store
) -> None:
    plan = load_plan(idle_unit_data(tmp_path / "data"))
    await store.notes.add(HRSS, "5.1", 2024, "u1", "张三", "新建残疾人之家12个")

    out = outline(await open_report(store, plan, 2024, None))

    units = len(plan.units) - 1
    assert f"{units}个责任单位中，1个已报送进展，共1条；{units - 1}个尚未报送。" in out.opening


# -- every document reads right ----------------------------------------------------------------


@pytest.mark.parametrize("source", shared_documents())
def test_the_report_opens_right_for_every_shared_document(
    tmp_path: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Title and opening of a unit's and the committee's report, for any imported document."""
    out = tmp_path / "doc"
    assert main(["import-doc", str(source), "--out", str(out)]) == 0
    plan = load_plan(out)
    doc, year = plan.document, plan.document.period[1]
    cited = doc.title.translate(str.maketrans("《》〈〉", "〈〉《》"))
    for unit in (plan.units[0].name, None):
        paragraphs = docx.Document(io.BytesIO(build_report(plan, [], year, unit))).paragraphs
        title, opening = paragraphs[0].text, paragraphs[1].text
        # 关于 once in the title's own words: the document is cited whole, in 《》.
        assert re.sub(r"《[^》]*》", "", title).count("关于") == 1, title
        assert f"《{cited}》" in title
        assert title.startswith(plan.unit(unit).full_name if unit else "关于"), title
        assert title.endswith(f"{year}年度贯彻落实《{cited}》情况的报告")
        assert f"《{cited}》" in opening
        # No empty quotation or brackets where the document has no reporting clause or number.
        for empty in ("“”", "（）", "：。", f"（{doc.title}）"):
            assert empty not in opening, opening
        if doc.number != doc.title:
            assert f"《{cited}》（{doc.number}）" in opening
        assert opening.startswith("为贯彻落实")
        assert (unit or "各责任单位") in opening


def test_the_notice_report_still_cites_its_reporting_clause(plan: Plan) -> None:
    paragraphs = docx.Document(io.BytesIO(build_report(plan, [], 2024, None))).paragraphs
    assert paragraphs[0].text == (
        "四川省人民政府残疾人工作委员会关于2024年度促进残疾人就业三年行动方案责任分工落实情况的报告"
    )
    assert f"“{plan.document.report_rule}”的要求" in paragraphs[1].text
    assert f"（{plan.document.number}）" in paragraphs[1].text

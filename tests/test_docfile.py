"""Hostile files handed to `import-doc`: refused early, in Chinese, with exit code 2 (#17).

Each file is built here: an oversized text, a .docx whose document.xml unpacks to far more
than the file weighs (a zip bomb), Word tables of too many rows or of cells spanning
thousands of columns, a workbook of too many rows, one declaring 16384 columns, files that
break off midway. The tests assert the refusal and its message, never how long anything took.
"""

from __future__ import annotations

import copy
import time
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from bot.cli import main
from bot.documents import docfile, importer
from bot.documents.importer import import_file
from bot.documents.plan import PlanError

LIMIT = "超出导入的上限，已拒绝导入"
MB = 2**20

TABLE = [
    ["序号", "重点任务", "工作措施", "责任单位"],
    ["1", "稳就业", "开展招聘活动", "省人力资源社会保障厅、省财政厅"],
    ["2", "强保障", "完善统计制度", "省统计局"],
]


def word(path: Path, rows: list[list[str]] = TABLE) -> docx.document.Document:
    """A small real .docx holding a responsibility table; returned for further editing."""
    document = docx.Document()
    document.add_paragraph("某省关于印发重点任务分工方案的通知")
    document.add_paragraph("某办发〔2032〕5号")
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    document.add_paragraph("2032年4月1日")
    document.save(str(path))
    return document


def refused(capsys: pytest.CaptureFixture[str], source: Path, out: Path) -> str:
    """Run `import-doc`, assert exit 2 with nothing written; return what it said."""
    code = main(["import-doc", str(source), "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 2, err
    assert err.startswith("错误：")
    assert "Traceback" not in err
    assert not out.exists()
    return err


def test_a_real_docx_and_xlsx_still_import(tmp_path: Path) -> None:
    word(tmp_path / "plan.docx")
    assert len(import_file(tmp_path / "plan.docx").plan["tasks"]) == 2
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["某市关于印发民生实事分工的通知"])
    sheet.append(["2033年1月5日"])
    for row in TABLE:
        sheet.append(row)
    book.save(tmp_path / "plan.xlsx")
    assert len(import_file(tmp_path / "plan.xlsx").plan["tasks"]) == 2


def test_an_oversized_text_file_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "big.txt"
    line = "（一）开展招聘活动。（省人力资源社会保障厅负责）\n"
    source.write_text(line * (docfile.MAX_TEXT_BYTES // len(line.encode()) + 10), "utf-8")
    err = refused(capsys, source, tmp_path / "doc")
    assert "文本文件大于 2.0 MB" in err
    assert LIMIT in err


def test_a_text_of_too_many_lines_or_too_long_a_line_is_refused(tmp_path: Path) -> None:
    many = tmp_path / "many.txt"
    many.write_text("某省关于分工的通知\n" + "一句\n" * docfile.MAX_PARAGRAPHS, "utf-8")
    with pytest.raises(PlanError, match=f"多于 {docfile.MAX_PARAGRAPHS} 段"):
        import_file(many)
    long = tmp_path / "long.txt"
    long.write_text("某省关于分工的通知\n" + "长" * (docfile.MAX_PARAGRAPH_CHARS + 1), "utf-8")
    with pytest.raises(PlanError, match=f"长于 {docfile.MAX_PARAGRAPH_CHARS} 字"):
        import_file(long)


def repacked(source: Path, target: Path, extra: dict[str, bytes]) -> None:
    """Copy a .docx/.xlsx, members in `extra` replaced or added (deflated)."""
    with (
        zipfile.ZipFile(source) as old,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as new,
    ):
        for item in old.infolist():
            if item.filename not in extra:
                new.writestr(item, old.read(item))
        for name, data in extra.items():
            new.writestr(name, data)


def test_a_docx_zip_bomb_is_refused_before_it_is_parsed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    word(tmp_path / "plan.docx")
    with zipfile.ZipFile(tmp_path / "plan.docx") as z:
        xml = z.read("word/document.xml")
    # Valid XML, padded with blanks: kilobytes as stored, 9 MB unpacked.
    head, _, tail = xml.partition(b"<w:body>")
    padded = head + b"<w:body>" + b" " * (docfile.MAX_PART + MB) + tail
    bomb = tmp_path / "bomb.docx"
    repacked(tmp_path / "plan.docx", bomb, {"word/document.xml": padded})
    assert bomb.stat().st_size < MB
    err = refused(capsys, bomb, tmp_path / "doc")
    assert "word/document.xml 解压后 9.0 MB" in err
    assert "压缩炸弹" in err


def test_an_xlsx_whose_members_unpack_to_too_much_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book = openpyxl.Workbook()
    book.save(tmp_path / "plan.xlsx")
    parts = docfile.MAX_UNPACKED // docfile.MAX_PART + 1
    extra = {f"xl/media/image{i}.png": b"\0" * docfile.MAX_PART for i in range(parts)}
    bomb = tmp_path / "bomb.xlsx"
    repacked(tmp_path / "plan.xlsx", bomb, extra)
    err = refused(capsys, bomb, tmp_path / "doc")
    assert "解压后共" in err
    assert "压缩炸弹" in err


def test_xml_members_unpacking_to_too_much_together_are_refused(tmp_path: Path) -> None:
    word(tmp_path / "plan.docx")
    # Each under the one-member limit, together over the XML limit (python-docx parses all).
    size = docfile.MAX_PART - MB
    count = docfile.MAX_XML // size + 1
    blank = b'<?xml version="1.0"?><x>' + b" " * size + b"</x>"
    # Named like pictures: what a part holds counts, not its name.
    extra = {f"word/media/image{i}.png": blank for i in range(count)}
    repacked(tmp_path / "plan.docx", tmp_path / "xml.docx", extra)
    with pytest.raises(PlanError, match="其中 XML 解压后共"):
        import_file(tmp_path / "xml.docx")


def test_pictures_are_not_counted_as_xml(tmp_path: Path) -> None:
    word(tmp_path / "plan.docx")
    picture = b"\x89PNG\r\n\x1a\n" + b"\0" * (docfile.MAX_PART - MB)
    count = docfile.MAX_XML // len(picture) + 1
    extra = {f"word/media/image{i}.png": picture for i in range(count)}
    repacked(tmp_path / "plan.docx", tmp_path / "pictures.docx", extra)
    assert len(import_file(tmp_path / "pictures.docx").plan["tasks"]) == 2


def test_an_overlong_table_cell_is_refused(tmp_path: Path) -> None:
    rows = [*TABLE, ["3", "强保障", "长" * (docfile.MAX_PARAGRAPH_CHARS + 1), "省统计局"]]
    word(tmp_path / "cell.docx", rows)
    with pytest.raises(PlanError, match=f"长于 {docfile.MAX_PARAGRAPH_CHARS} 字"):
        import_file(tmp_path / "cell.docx")


def test_an_oversized_docx_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    word(tmp_path / "plan.docx")
    big = tmp_path / "big.docx"
    with zipfile.ZipFile(tmp_path / "plan.docx") as old, zipfile.ZipFile(big, "w") as new:
        for item in old.infolist():
            new.writestr(item, old.read(item))
        # A picture stored as it is: the file itself is too big.
        new.writestr("word/media/image1.png", b"\0" * (docfile.MAX_FILE_BYTES + MB))
    assert big.stat().st_size > docfile.MAX_FILE_BYTES
    err = refused(capsys, big, tmp_path / "doc")
    assert "大于 20.0 MB" in err


def grown(document: docx.document.Document, rows: int, path: Path) -> None:
    """Save the document with its table's last row repeated up to `rows` rows."""
    tbl = document.tables[0]._tbl
    last = tbl.findall(qn("w:tr"))[-1]
    for _ in range(rows - len(tbl.findall(qn("w:tr")))):
        tbl.append(copy.deepcopy(last))
    document.save(str(path))


def test_a_word_table_of_too_many_rows_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "rows.docx"
    grown(word(tmp_path / "plan.docx"), docfile.MAX_ROWS + 1, source)
    err = refused(capsys, source, tmp_path / "doc")
    assert f"表格共 {docfile.MAX_ROWS + 1} 行，多于 {docfile.MAX_ROWS} 行" in err


def test_word_cells_spanning_thousands_of_columns_are_refused(tmp_path: Path) -> None:
    document = word(tmp_path / "plan.docx")
    # python-docx repeats a merged cell once per grid column it spans: three rows of cells
    # spanning 30,000 columns are 90,000 cells to build.
    for tr in document.tables[0]._tbl.findall(qn("w:tr")):
        tc = tr.find(qn("w:tc"))
        assert tc is not None
        tc.grid_span = 30000
    document.save(str(tmp_path / "span.docx"))
    with pytest.raises(PlanError, match="合并单元格按所跨列数计"):
        import_file(tmp_path / "span.docx")


def test_a_docx_of_too_many_paragraphs_is_refused(tmp_path: Path) -> None:
    document = word(tmp_path / "plan.docx")
    body = document.element.body
    paragraph = body.findall(qn("w:p"))[0]
    for _ in range(docfile.MAX_PARAGRAPHS):
        body.insert(0, copy.deepcopy(paragraph))
    document.save(str(tmp_path / "long.docx"))
    with pytest.raises(PlanError, match=f"正文有 {docfile.MAX_PARAGRAPHS + 3} 段"):
        import_file(tmp_path / "long.docx")


def test_a_workbook_of_too_many_rows_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in TABLE:
        sheet.append(row)
    for i in range(docfile.MAX_ROWS):
        sheet.append([str(i + 3), "强保障", f"措施{i}", "省统计局"])
    book.save(tmp_path / "rows.xlsx")
    err = refused(capsys, tmp_path / "rows.xlsx", tmp_path / "doc")
    assert f"工作簿共有多于 {docfile.MAX_ROWS} 行" in err


def test_a_sheet_declaring_16384_columns_is_read_within_the_column_cap(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["某市关于印发民生实事分工的通知"])
    sheet.append(["2033年1月5日"])
    for row in TABLE:
        sheet.append(row)
    book.save(tmp_path / "plan.xlsx")
    with zipfile.ZipFile(tmp_path / "plan.xlsx") as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    assert b'<dimension ref="A1:D5"/>' in xml
    wide = xml.replace(b'<dimension ref="A1:D5"/>', b'<dimension ref="A1:XFD1048576"/>')
    repacked(tmp_path / "plan.xlsx", tmp_path / "wide.xlsx", {"xl/worksheets/sheet1.xml": wide})
    book = openpyxl.load_workbook(tmp_path / "wide.xlsx", read_only=True)
    rows = next(docfile.sheet_rows(tmp_path / "wide.xlsx", book))
    book.close()
    assert {len(r) for r in rows} == {docfile.MAX_COLUMNS}
    assert len(import_file(tmp_path / "wide.xlsx").plan["tasks"]) == 2


def test_too_many_measures_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    word(tmp_path / "plan.docx")
    monkeypatch.setattr(docfile, "MAX_MEASURES", 1)
    err = refused(capsys, tmp_path / "plan.docx", tmp_path / "doc")
    assert "读出 2 项举措，多于 1 项" in err


def test_an_import_still_reading_after_the_time_limit_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def endless(*args: object) -> None:
        # A reading that would not end within the test's minute: a slow path nobody foresaw.
        for _ in range(600):
            time.sleep(0.1)

    monkeypatch.setattr(importer, "import_file", endless)
    monkeypatch.setattr(docfile, "MAX_SECONDS", 0.5)
    word(tmp_path / "plan.docx")
    err = refused(capsys, tmp_path / "plan.docx", tmp_path / "doc")
    assert "读取超过 0.5 秒仍未完成" in err


def test_a_sheet_broken_midway_is_refused_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in TABLE:
        sheet.append(row)
    book.save(tmp_path / "plan.xlsx")
    with zipfile.ZipFile(tmp_path / "plan.xlsx") as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    broken = xml.replace(b"</sheetData>", b"<row><c><v>1</v></c>")  # cut off mid-sheet
    repacked(
        tmp_path / "plan.xlsx", tmp_path / "broken.xlsx", {"xl/worksheets/sheet1.xml": broken}
    )
    err = refused(capsys, tmp_path / "broken.xlsx", tmp_path / "doc")
    assert "无法作为 Excel 文件（.xlsx）读取" in err


def test_a_malformed_word_table_is_refused_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    document = word(tmp_path / "plan.docx")
    tc = document.tables[0]._tbl.findall(qn("w:tr"))[1].find(qn("w:tc"))
    assert tc is not None
    span = OxmlElement("w:gridSpan")
    span.set(qn("w:val"), "abc")  # python-docx reads it as a number only when asked
    tc.get_or_add_tcPr().append(span)
    document.save(str(tmp_path / "bad.docx"))
    err = refused(capsys, tmp_path / "bad.docx", tmp_path / "doc")
    assert "无法作为 Word 文件（.docx）读取" in err


BARRED = (
    "某县2024年民生实事分工表\n序号 | 项目内容 | 牵头单位\n1 | 新建公办幼儿园2所。 | 县教育局\n"
)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk", "gb18030"])
def test_a_text_saved_by_windows_is_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "table.txt"
    path.write_bytes(BARRED.encode(encoding))
    imported = import_file(path)
    assert imported.plan["document"]["title"] == "某县2024年民生实事分工表"  # no BOM kept in it
    assert imported.plan["tasks"][0]["measures"][0]["units"] == ["县教育局"]


@pytest.mark.parametrize(
    ("head", "said"),
    [
        (b"%PDF-1.7\n\xe2\xe3\xcf\xd3\n", "这是一个 PDF 文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "旧版 Word/Excel/WPS 文件"),
        (b"\x00\x01\x02\xff\xfe binary", "不是 UTF-8 或 GBK 文本"),
    ],
)
def test_a_file_that_is_no_text_is_named_and_refused(
    tmp_path: Path, head: bytes, said: str
) -> None:
    path = tmp_path / "document.txt"
    path.write_bytes(head + bytes(range(256)))
    with pytest.raises(PlanError, match=said) as refused:
        import_file(path)
    assert "另存为" in str(refused.value)

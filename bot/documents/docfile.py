"""Reading a document to import within bounds: bytes, unpacked size, rows, cells, paragraphs.

Whoever runs `import-doc` may be handed any file. A responsibility document is small (the
real ones are 10–50 KB, a few hundred table rows at most), so the limits below are generous
for them and refuse early, before parsing, what would take minutes or gigabytes: an oversized
file, a .docx/.xlsx whose members unpack to far more than it weighs (a zip bomb), a sheet of a
million rows, a Word table whose cells span thousands of columns. Python's zipfile never
unpacks more of a member than its header declares, so checking the declared sizes bounds what
python-docx and openpyxl can unpack; the row, cell and paragraph caps bound the time spent
on what they read.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bot.documents.plan import PlanError

MB = 2**20
MAX_FILE_BYTES = 20 * MB  # a .docx/.xlsx as stored (embedded pictures included)
MAX_TEXT_BYTES = 2 * MB  # a .txt
MAX_UNPACKED = 64 * MB  # all members of a .docx/.xlsx together, unpacked (pictures too)
# XML is parsed into trees about ten times its size (python-docx parses every part at once).
MAX_PART = 8 * MB  # one member unpacked (document.xml, a sheet, the shared strings)
MAX_XML = 12 * MB  # all XML members together, unpacked
MAX_MEMBERS = 2000
MAX_PARAGRAPHS = 20_000  # lines of a .txt, paragraphs of a .docx outside tables
# The longest paragraph of the real documents has under 2,000 characters; reading a measure
# takes time growing faster than its length.
MAX_PARAGRAPH_CHARS = 10_000
MAX_ROWS = 3000  # table rows of a .docx, or rows of a workbook, all tables together
MAX_CELLS = 30_000  # table cells of a .docx (a merged cell counts each column it spans)
MAX_COLUMNS = 64  # columns of a sheet read (a responsibility table has about five)
MAX_SHEETS = 100
MAX_MEASURES = 1000
MAX_UNITS = 500
# Within the limits above an import takes seconds (the worst file they admit, about 20 s);
# this stops one that takes longer all the same (a slow path nobody foresaw).
MAX_SECONDS = 60

_ADVICE = "责任分工文件通常不足 1 MB、几百行；请确认选对了文件，或只保留责任分工表后再导入。"


def _too_big(source: Path, what: str) -> PlanError:
    return PlanError(f"{source}: {what}，超出导入的上限，已拒绝导入。{_ADVICE}")


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB"


def read_bytes(source: Path) -> bytes:
    """Return a .txt file's bytes; refuse one over MAX_TEXT_BYTES (read no further)."""
    try:
        with source.open("rb") as f:
            data = f.read(MAX_TEXT_BYTES + 1)
    except OSError as e:
        raise PlanError(f"{source}: 无法读取（{e.strerror}）") from None
    if len(data) > MAX_TEXT_BYTES:
        raise _too_big(source, f"文本文件大于 {_mb(MAX_TEXT_BYTES)}")
    return data


# A file's first bytes say what it is, whatever its name says.
_FORMATS = (
    (b"%PDF", "一个 PDF 文件"),
    (b"\xd0\xcf\x11\xe0", "一个旧版 Word/Excel/WPS 文件（.doc、.xls、.wps）"),
    (b"PK\x03\x04", "一个压缩包（或扩展名不对的 .docx/.xlsx）"),
    (b"{\\rtf", "一个 RTF 文件"),
)
# A text's own characters: anything else decoded from GB18030 means the bytes were no text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode_text(source: Path, data: bytes) -> str:
    """Decode a .txt file: UTF-8 (with or without a BOM), else GB18030 as Windows saves it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    kind = next((name for magic, name in _FORMATS if data.startswith(magic)), None)
    if kind is None:
        try:  # "ANSI" on a Chinese Windows: GBK, of which GB18030 is the superset
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            text = ""
        if text and not _CONTROL.search(text):
            return text
    if kind is None:
        raise PlanError(
            f"{source}: 不是 UTF-8 或 GBK 文本，也不是 .docx/.xlsx 文件；"
            "请另存为 UTF-8 文本或 Word/Excel"
        )
    raise PlanError(
        f"{source}: 这是{kind}，不是文本，无法直接读取；请用 WPS 或 Word 打开，另存为 .docx"
        "（表格另存为 .xlsx），或把全文复制到记事本存为 .txt 后再导入"
    )


def check_lines(source: Path, lines: Sequence[str]) -> None:
    """Refuse text with more lines, or longer lines, than a document has."""
    if len(lines) > MAX_PARAGRAPHS:
        raise _too_big(source, f"共 {len(lines)} 段（行），多于 {MAX_PARAGRAPHS} 段")
    check_length(source, lines)


def check_length(source: Path, texts: Iterable[str]) -> None:
    """Refuse a paragraph or table cell longer than MAX_PARAGRAPH_CHARS."""
    longest = max((len(t) for t in texts), default=0)
    if longest > MAX_PARAGRAPH_CHARS:
        raise _too_big(source, f"有一段长 {longest} 字，长于 {MAX_PARAGRAPH_CHARS} 字")


def check_package(source: Path) -> None:
    """Refuse a .docx/.xlsx too big as stored or as its members' declared sizes unpack."""
    try:
        size = source.stat().st_size
    except OSError as e:
        raise PlanError(f"{source}: 无法读取（{e.strerror}）") from None
    if size > MAX_FILE_BYTES:
        raise _too_big(source, f"文件大小 {_mb(size)}，大于 {_mb(MAX_FILE_BYTES)}")
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip at all: python-docx/openpyxl refuse it with their own reason
    with archive:
        members = archive.infolist()
        _check_members(source, members)
        # Parts are parsed by their declared content type, whatever their name: what does
        # not start like a picture counts as XML.
        xml = sum(m.file_size for m in members if _is_xml(archive, m))
    if xml > MAX_XML:
        raise _too_big(source, f"其中 XML 解压后共 {_mb(xml)}，大于 {_mb(MAX_XML)}")


def _check_members(source: Path, members: Sequence[zipfile.ZipInfo]) -> None:
    """Refuse too many members, one too big, or all too big together (as declared)."""
    if len(members) > MAX_MEMBERS:
        raise _too_big(source, f"压缩包内有 {len(members)} 个文件，多于 {MAX_MEMBERS} 个")
    largest = max(members, key=lambda m: m.file_size, default=None)
    if largest is not None and largest.file_size > MAX_PART:
        raise _too_big(
            source,
            f"其中 {largest.filename[:60]} 解压后 {_mb(largest.file_size)}，"
            f"大于 {_mb(MAX_PART)}（可能是“压缩炸弹”）",
        )
    total = sum(m.file_size for m in members)
    if total > MAX_UNPACKED:
        raise _too_big(
            source, f"解压后共 {_mb(total)}，大于 {_mb(MAX_UNPACKED)}（可能是“压缩炸弹”）"
        )


def _is_xml(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """Tell whether a member may be XML: its first bytes, blanks and byte-order marks aside."""
    try:
        with archive.open(member) as f:
            head = f.read(256)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError, zlib.error):
        return True  # unreadable here: counted, to be safe
    head = head.replace(b"\0", b"").lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n")
    return not head or head.startswith(b"<")


def check_word(source: Path, body: Any) -> None:
    """Refuse a Word body (python-docx's `document.element.body`) with too many parts."""
    from docx.oxml.ns import qn

    # Counted by XPath, in C: a body of a million empty paragraphs is counted, not walked.
    paragraphs = int(body.xpath("count(w:p)"))
    if paragraphs > MAX_PARAGRAPHS:
        raise _too_big(source, f"正文有 {paragraphs} 段，多于 {MAX_PARAGRAPHS} 段")
    rows = int(body.xpath("count(.//w:tr)"))
    if rows > MAX_ROWS:
        raise _too_big(source, f"表格共 {rows} 行，多于 {MAX_ROWS} 行")
    many = f"表格单元格多于 {MAX_CELLS} 个（合并单元格按所跨列数计）"
    if int(body.xpath("count(.//w:tc)")) > MAX_CELLS:
        raise _too_big(source, many)
    span, val, cells = f"{qn('w:tcPr')}/{qn('w:gridSpan')}", qn("w:val"), 0
    for cell in body.iter(qn("w:tc")):
        spanned = cell.find(span)
        width = spanned.get(val, "1") if spanned is not None else "1"
        # python-docx repeats a merged cell once per column it spans.
        cells += min(int(width), MAX_CELLS + 1) if width.isdecimal() else 1
        if cells > MAX_CELLS:
            raise _too_big(source, many)


def sheet_rows(source: Path, book: Any) -> Iterator[list[tuple[Any, ...]]]:
    """Yield each worksheet's rows of values (openpyxl, read-only), within the caps.

    At most MAX_COLUMNS columns are read: a sheet declaring 16384 columns would otherwise
    be padded to that width, row by row.
    """
    if len(book.worksheets) > MAX_SHEETS:
        raise _too_big(source, f"工作簿有 {len(book.worksheets)} 张工作表，多于 {MAX_SHEETS} 张")
    budget = MAX_ROWS
    for sheet in book.worksheets:
        declared = sheet.max_column if isinstance(sheet.max_column, int) else None
        columns = min(declared or MAX_COLUMNS, MAX_COLUMNS)
        rows = []
        for row in sheet.iter_rows(max_row=budget + 1, max_col=columns, values_only=True):
            rows.append(row if declared else _trimmed(row))
            if len(rows) > budget:
                raise _too_big(source, f"工作簿共有多于 {MAX_ROWS} 行")
        budget -= len(rows)
        yield rows


def _trimmed(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Return a row without the empty cells padded after its last value."""
    end = len(row)
    while end and row[end - 1] is None:
        end -= 1
    return row[:end]


@contextlib.contextmanager
def deadline(source: Path) -> Iterator[None]:
    """Refuse an import still being read after MAX_SECONDS (SIGALRM, in the main thread)."""
    if threading.current_thread() is not threading.main_thread() or os.name != "posix":
        # Signals reach the main thread only (an import run from a test's thread); Windows
        # has no SIGALRM.
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _too_big(source, f"读取超过 {MAX_SECONDS} 秒仍未完成")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, MAX_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_counts(source: Path, measures: int, units: int) -> None:
    """Refuse an import with more measures or units than a document has."""
    if measures > MAX_MEASURES:
        raise _too_big(source, f"读出 {measures} 项举措，多于 {MAX_MEASURES} 项")
    if units > MAX_UNITS:
        raise _too_big(source, f"读出 {units} 个责任单位，多于 {MAX_UNITS} 个")

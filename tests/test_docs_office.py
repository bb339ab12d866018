"""Members, notes, progress, exports and reminders per document, two documents loaded (#13).

The data folder holds the seed's document as its own (id "") and a small one imported by the
test into `jiuye/` (川办发〔2024〕7号, reporting year 2024), whose units 人社厅 and 财政厅 are
the seed's too. Driven through the terminal chat and the Telegram adapter.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.catalog import Catalog, load_catalog
from bot.cli import main
from bot.clock import TZ
from bot.config import Config
from bot.core import Core
from bot.plan import DATA_DIR
from bot.reply import Reply, render_plain
from bot.store import MIGRATIONS, Store
from handlers.console import LOCAL_USER, Console
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.clock import FakeClock
from tests.harness import (
    COORDINATOR,
    ZHANG,
    Users,
    data_of,
    rows,
    running,
    shanghai,
    text,
)

HRSS, FINANCE = "人力资源社会保障厅", "财政厅"
JIUYE = "jiuye"
JIUYE_TEXT = """\
四川省人民政府办公厅关于促进就业创业的若干措施
川办发〔2024〕7号
各市（州）人民政府，省政府各部门：
为促进就业创业，现提出以下措施。
一、扩大就业岗位
（一）支持企业吸纳就业。对吸纳就业的企业给予一次性补贴。（人力资源社会保障厅、财政厅负责）
（二）开发公益性岗位。统筹开发乡村公益性岗位。（人力资源社会保障厅负责）
二、优化创业服务
（三）加强创业培训。面向高校毕业生开展创业培训。（教育厅、人力资源社会保障厅负责）
四川省人民政府办公厅
2024年3月1日
"""
JIUYE_LABEL = "川办发〔2024〕7号《促进就业创业的若干措施》"
START = dt.datetime(2024, 3, 2, 9, 0, tzinfo=TZ)
REMINDER_AT = dt.datetime(2024, 12, 1, 9, 0, tzinfo=TZ)  # reminder:2024:30 of both documents
HEADER = "2024 年度进展报送提醒"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed's data folder plus one document imported with `python -m bot import-doc`."""
    root = tmp_path_factory.mktemp("docs") / "data"
    root.mkdir()
    for name in ("plan.yaml", "units.yaml", "lexicon.yaml"):
        shutil.copy(DATA_DIR / name, root / name)
    source = root.parent / "jiuye.txt"
    source.write_text(JIUYE_TEXT, encoding="utf-8")
    assert main(["import-doc", str(source), "--out", str(root / JIUYE)]) == 0
    return root


@pytest.fixture(scope="module")
def catalog(data: Path) -> Catalog:
    return load_catalog(data)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def core(catalog: Catalog, store: Store, clock: FakeClock, data: Path) -> Core:
    config = Config(coordinators=frozenset({LOCAL_USER.id}), data_dir=data)
    return Core(config, catalog, store, clock)


@pytest.fixture
def console(core: Core, tmp_path: Path) -> Console:
    return Console(core, out_dir=tmp_path)


async def bind(console: Console, unit: str) -> str:
    """Ask to join `unit` in the chat's document and approve it (the user coordinates)."""
    asked = await console.handle(f"/bind {unit}")
    assert "已提交绑定" in asked
    approved = await console.handle("[批准]")
    assert "已批准" in approved
    return asked


async def bound_in_both(console: Console) -> None:
    """人社厅 in the seed's document, 财政厅 in 7号文; the chat ends in the seed's."""
    await bind(console, "人社厅")
    assert "已切换到" in await console.handle(f"/doc {JIUYE}")
    asked = await bind(console, "财政厅")
    assert f"文件：{JIUYE_LABEL}" in asked  # the coordinator's card names the document
    await console.handle("/doc 川残工委〔2022〕4号")


# -- the terminal chat -------------------------------------------------------------------------


async def test_a_person_is_a_member_in_each_document(console: Console, core: Core) -> None:
    await bound_in_both(console)

    root, jiuye = core.store.document(""), core.store.document(JIUYE)
    assert (await root.member("console")).unit == HRSS  # type: ignore[union-attr]
    assert (await jiuye.member("console")).unit == FINANCE  # type: ignore[union-attr]
    whoami = await console.handle("/whoami")
    assert f"所属单位：{HRSS}（川残工委〔2022〕4号" in whoami
    assert f"所属单位：{FINANCE}（{JIUYE_LABEL}，2024-03-02 绑定）" in whoami
    # /members lists the chat's document's members only.
    assert FINANCE not in await console.handle("/members")
    await console.handle(f"/doc {JIUYE}")
    members = await console.handle("/members")
    assert FINANCE in members
    assert HRSS not in members
    # Leaving one document's unit leaves the other's binding alone.
    assert f"已解除与「{FINANCE}」的绑定" in await console.handle("/unbind")
    assert await jiuye.member("console") is None
    assert (await root.member("console")).unit == HRSS  # type: ignore[union-attr]


async def test_notes_are_kept_per_document(console: Console, core: Core) -> None:
    await bound_in_both(console)
    # 1.1 is a measure of both documents, and a duty of the unit in each.
    assert "已记录" in await console.handle("/note 1.1 省里的进展")
    await console.handle(f"/doc {JIUYE}")
    assert "已记录" in await console.handle("/note 1.1 就业补贴已发放")

    jiuye_notes = await console.handle("/notes")
    assert "就业补贴已发放" in jiuye_notes
    assert "省里的进展" not in jiuye_notes
    await console.handle("/doc 川残工委〔2022〕4号")
    root_notes = await console.handle("/notes")
    assert "省里的进展" in root_notes
    assert "就业补贴已发放" not in root_notes
    [root_note] = await core.store.document("").notes()
    [jiuye_note] = await core.store.document(JIUYE).notes()
    assert (root_note.unit, jiuye_note.unit) == (HRSS, FINANCE)
    assert f"[删除 #{root_note.id}]" in root_notes

    # A note's buttons act on its own document's row, whichever document the chat reads now.
    await console.handle(f"/doc {JIUYE}")
    asked = await console.press(f"nd:{root_note.id}")
    assert asked is not None
    assert "省里的进展" in render_plain(asked.reply)
    deleted = await console.press(f"nD:{root_note.id}")
    assert deleted is not None
    assert render_plain(deleted.reply) == f"已删除第 {root_note.id} 条记录。"
    assert await core.store.document("").notes() == []
    assert await core.store.document(JIUYE).notes() == [jiuye_note]


async def test_a_started_note_is_filed_in_its_own_document(
    console: Console, core: Core
) -> None:
    await bound_in_both(console)
    await console.handle(f"/doc {JIUYE}")
    listing = await console.handle("/note")
    assert "报送 1.1" in listing
    assert "举措 1.1 的进展" in await console.handle("[报送 1.1]")
    # Switching documents before typing the note does not move it.
    await console.handle("/doc 川残工委〔2022〕4号")
    assert "已记录" in await console.handle("补贴发放 120 万元")

    [note] = await core.store.document(JIUYE).notes()
    assert (note.unit, note.measure_id, note.text) == (FINANCE, "1.1", "补贴发放 120 万元")
    assert await core.store.document("").notes() == []


async def test_progress_and_export_are_per_document(
    console: Console, core: Core, tmp_path: Path
) -> None:
    await bound_in_both(console)
    await console.handle("/note 7.2 省里的进展")
    await console.handle(f"/doc {JIUYE}")
    await console.handle("/note 1.1 就业补贴已发放")

    progress = await console.handle("/progress")
    assert f"{FINANCE}：1/1 项举措已报送" in progress
    assert f"{HRSS}：0/3 项举措已报送" in progress
    assert "3 个单位" in progress
    saved = await console.handle("/export")
    assert "进展汇总-2024.xlsx" in saved
    sheet = load_workbook(tmp_path / "进展汇总-2024.xlsx").worksheets[0]
    cells = {str(c.value) for row in sheet.iter_rows() for c in row if c.value}
    assert "就业补贴已发放" in cells
    assert "省里的进展" not in cells

    await console.handle("/doc 川残工委〔2022〕4号")
    root = await console.handle("/progress")
    assert "3 个单位" not in root
    assert f"{FINANCE}：0/" in root
    await console.handle("/export")
    sheet = load_workbook(tmp_path / "进展汇总-2024.xlsx").worksheets[0]
    cells = {str(c.value) for row in sheet.iter_rows() for c in row if c.value}
    assert "省里的进展" in cells
    assert "就业补贴已发放" not in cells


async def test_a_unit_of_two_documents_is_reminded_of_each(
    console: Console, core: Core, clock: FakeClock
) -> None:
    # The same unit (人社厅) in both documents.
    await bind(console, "人社厅")
    await console.handle(f"/doc {JIUYE}")
    await bind(console, "人社厅")
    await core.seen(LOCAL_USER)  # a private chat: reminders reach the user
    clock.set(REMINDER_AT)
    sent: list[tuple[str, Reply]] = []

    async def send(user_id: str, reply: Reply) -> str:
        sent.append((user_id, reply))
        return "sent"

    for reminders in core.reminders_of.values():
        await reminders.tick(send)

    shown = [render_plain(r) for u, r in sent if u == "console"]
    root_text, jiuye_text = [t for t in shown if HEADER in t]
    assert "还有 26 项举措未报送" in root_text
    assert "还有 3 项举措未报送" in jiuye_text
    assert await core.store.get_state("done:reminder:2024:30") == "sent"
    assert await core.store.get_state(f"{JIUYE}/done:reminder:2024:30") == "sent"
    # Ticking again sends nothing: each document's key is its own.
    sent.clear()
    for reminders in core.reminders_of.values():
        await reminders.tick(send)
    assert sent == []

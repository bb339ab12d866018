"""Members, notes, progress, exports and reminders per document, two documents loaded (#13).

The data folder holds the seed's document as its own (id "") and a small one imported by the
test into `jiuye/` (川办发〔2024〕7号, reporting year 2024), whose units 人社厅 and 财政厅 are
the seed's too. Driven through the terminal chat and the Telegram adapter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import shutil
import sqlite3
from pathlib import Path

import docx
import pytest
from openpyxl import load_workbook

from bot.ask.assistant import Assistant
from bot.ask.catalog import Catalog, load_catalog
from bot.cli import main
from bot.clock import TZ
from bot.config import Config
from bot.core import Core
from bot.documents.plan import DATA_DIR
from bot.outcome import Person
from bot.reply import Reply, render_plain
from bot.store import Store
from bot.store.migration import BY_DOCUMENT, MIGRATIONS
from handlers.console import LOCAL_USER, Console
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.clock import FakeClock
from tests.harness import (
    COORDINATOR,
    ZHANG,
    Users,
    buttons,
    data_of,
    rows,
    running,
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
ROOT_LABEL = "川残工委〔2022〕4号《四川省促进残疾人就业三年行动方案（2022—2024年）责任分工》"
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
    assert (await root.members.get("console")).unit == HRSS  # type: ignore[union-attr]
    assert (await jiuye.members.get("console")).unit == FINANCE  # type: ignore[union-attr]
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
    assert await jiuye.members.get("console") is None
    assert (await root.members.get("console")).unit == HRSS  # type: ignore[union-attr]


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
    [root_note] = await core.store.document("").notes.find()
    [jiuye_note] = await core.store.document(JIUYE).notes.find()
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
    assert await core.store.document("").notes.find() == []
    assert await core.store.document(JIUYE).notes.find() == [jiuye_note]


async def test_a_started_note_is_filed_in_its_own_document(console: Console, core: Core) -> None:
    await bound_in_both(console)
    await console.handle(f"/doc {JIUYE}")
    listing = await console.handle("/note")
    assert "报送 1.1" in listing
    assert "举措 1.1 的进展" in await console.handle("[报送 1.1]")
    # Switching documents before typing the note does not move it.
    await console.handle("/doc 川残工委〔2022〕4号")
    assert "已记录" in await console.handle("补贴发放 120 万元")

    [note] = await core.store.document(JIUYE).notes.find()
    assert (note.unit, note.measure_id, note.text) == (FINANCE, "1.1", "补贴发放 120 万元")
    assert await core.store.document("").notes.find() == []


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

    # The unit's report is made of the document's own notes, under its own title.
    assert "已生成" in await console.handle("/report")
    report = docx.Document(str(tmp_path / f"落实情况报告-{FINANCE}-2024.docx"))
    written = "\n".join(p.text for p in report.paragraphs)
    assert "就业补贴已发放" in written
    assert "省里的进展" not in written
    assert "就业创业" in written

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
    assert await core.store.state.get("done:reminder:2024:30") == "sent"
    assert await core.store.state.get(f"{JIUYE}/done:reminder:2024:30") == "sent"
    # Ticking again sends nothing: each document's key is its own.
    sent.clear()
    for reminders in core.reminders_of.values():
        await reminders.tick(send)
    assert sent == []


async def test_requests_and_invites_bind_in_their_own_document(
    console: Console, core: Core
) -> None:
    await console.handle(f"/doc {JIUYE}")
    await console.handle("/bind 财政厅")
    [request] = await core.store.document(JIUYE).members.pending_requests()
    invited = await console.handle("/invite 教育厅")
    code = invited.split("/join ")[1].split()[0]
    # The coordinator decides, and the member joins, while the chat reads the other document.
    await console.handle("/doc 川残工委〔2022〕4号")
    decided = await console.press(f"ap:{request.id}")
    assert decided is not None
    assert render_plain(decided.reply) == f"已批准：本机用户 绑定到「{FINANCE}」。"
    assert (await core.store.document(JIUYE).members.get("console")).unit == FINANCE  # type: ignore[union-attr]
    assert await core.store.members.get("console") is None
    other = Console(core, Person("u2", "李四"))
    assert "已绑定到「教育厅」" in await other.handle(f"/join {code}")
    assert (await core.store.document(JIUYE).members.get("u2")).unit == "教育厅"  # type: ignore[union-attr]
    assert await core.store.members.get("u2") is None


async def test_a_page_turn_stays_in_the_document_of_the_command(
    console: Console, core: Core
) -> None:
    await console.handle(f"/doc {JIUYE}")
    await bind(console, "人社厅")
    for i in range(12):  # more than one page of notes
        await console.handle(f"/note 1.{i % 3 + 1} 第 {i} 条")
    response = await core.command(LOCAL_USER, "console", "notes", "")
    assert response.query is not None
    await console.handle("/doc 川残工委〔2022〕4号")
    again = await core.query(LOCAL_USER, *response.query)
    assert again is not None
    assert render_plain(again.reply) == render_plain(response.outcome.reply)


async def test_the_migration_keeps_rows_in_the_data_folders_own_document(tmp_path: Path) -> None:
    path, before = tmp_path / "old.db", [m.sqlite for m in MIGRATIONS].index(BY_DOCUMENT)
    at = "2024-03-02T09:00:00+08:00"
    with sqlite3.connect(path) as conn:
        for step in MIGRATIONS[:before]:
            conn.executescript(step.sqlite)
        conn.execute(f"PRAGMA user_version = {before}")
        conn.execute("INSERT INTO users VALUES ('tg:1', '张三', 1, 1, 1, ?, ?)", (at, at))
        conn.execute("INSERT INTO members VALUES ('tg:1', '张三', ?, ?, 'tg:9')", (HRSS, at))
        conn.execute(
            "INSERT INTO bind_requests (user_id, name, unit, created_at) "
            "VALUES ('tg:1', '张三', '财政厅', ?)",
            (at,),
        )
        conn.execute(
            "INSERT INTO notes (unit, measure_id, year, author_id, author_name, text, "
            "created_at) VALUES (?, '1.1', 2024, 'tg:1', '张三', '进展', ?)",
            (HRSS, at),
        )
        conn.execute("INSERT INTO flows VALUES ('tg:1', 'note', '1.2', ?, ?)", (HRSS, at))
        conn.execute(
            "INSERT INTO invites VALUES ('c0de', ?, 'tg:9', ?, ?, NULL, NULL)", (HRSS, at, at)
        )
        conn.execute(
            "INSERT INTO audit (at, actor_id, actor_name, action) "
            "VALUES (?, 'tg:1', '张三', 'bind')",
            (at,),
        )

    async with await Store.open(path, FakeClock(START)) as store:
        assert await store.schema_version() == len(MIGRATIONS)
        member = await store.members.get("tg:1")
        assert member is not None
        assert (member.unit, member.doc) == (HRSS, "")
        assert [n.text for n in await store.notes.find()] == ["进展"]
        assert [r.unit for r in await store.members.pending_requests()] == [FINANCE]
        assert (await store.flows.get("tg:1")) is not None
        assert len(await store.audit.entries()) == 1
        # Another document sees none of them, and takes the same person as its own member.
        other = store.document(JIUYE)
        assert await other.members.get("tg:1") is None
        assert await other.notes.find() == []
        assert await other.members.pending_requests() == []
        assert await other.flows.get("tg:1") is None
        assert await other.audit.entries() == []
        await other.members.request_binding("tg:1", "张三", FINANCE)  # one pending per document
        await other.members.bind("tg:1", "张三", FINANCE, "tg:9")
        assert [(b.doc, b.unit) for b in await store.members.bindings("tg:1")] == [
            ("", HRSS),
            (JIUYE, FINANCE),
        ]
        assert await store.doc_of("invite", "c0de") == ""


# -- Telegram --------------------------------------------------------------------------------


async def approve_on_telegram(bot: Users, api: FakeBotApi, user: int, unit: str) -> str:
    """`user` asks for `unit` in their chat's document; the coordinator approves the card."""
    before, told = len(api.sent_messages(COORDINATOR)), len(api.sent_messages(user))
    await bot.say(user, f"/bind {unit}")
    card = (await api.wait_for_messages(COORDINATOR, before + 1))[before]
    decided = await bot.edit(card, data_of(card, "批准"))
    assert text(decided).startswith("已批准")
    notice = (await api.wait_for_messages(user, told + 2))[told + 1]
    assert "已获批准" in text(notice)
    return text(card)


async def test_two_documents_on_telegram(
    api: FakeBotApi, assistant: Assistant, db_path: Path, data: Path
) -> None:
    clock = FakeClock(START)
    async with running(api, assistant, db_path, clock, data_dir=data):
        bot = Users(api)
        await approve_on_telegram(bot, api, ZHANG, "人社厅")
        assert "已切换到" in text(await bot.say(ZHANG, f"/doc {JIUYE}"))
        card = await approve_on_telegram(bot, api, ZHANG, "财政厅")
        assert card.endswith(f"申请绑定到「{FINANCE}」。\n文件：{JIUYE_LABEL}")
        told = text(api.sent_messages(ZHANG)[-1])
        assert told.startswith(f"您绑定到「{FINANCE}」（{JIUYE_LABEL}）的申请已获批准")
        whoami = text(await bot.say(ZHANG, "/whoami")).split("\n")
        assert whoami[1:3] == [
            f"所属单位：{HRSS}（{ROOT_LABEL}，2024-03-02 绑定）",
            f"所属单位：{FINANCE}（{JIUYE_LABEL}，2024-03-02 绑定）",
        ]

        filed = text(await bot.say(ZHANG, "/note 1.1 就业补贴已发放"))
        assert filed.startswith(f"已记录「{FINANCE}」举措 1.1 的 2024 年进展")
        await bot.say(ZHANG, "/doc 川残工委〔2022〕4号")
        filed = text(await bot.say(ZHANG, "/note 1.1 省里的进展"))
        assert filed.startswith(f"已记录「{HRSS}」举措 1.1 的 2024 年进展")
        assert rows(db_path, "SELECT doc, unit, text FROM notes ORDER BY id") == [
            (JIUYE, FINANCE, "就业补贴已发放"),
            ("", HRSS, "省里的进展"),
        ]

        await bot.say(COORDINATOR, f"/doc {JIUYE}")
        shown, _picture = await bot.says(COORDINATOR, "/progress", 2)
        progress = text(shown).split("\n")
        assert progress[:2] == ["2024 年报送进度", "3 个单位，2 个尚未报送任何举措（排在最前）。"]
        assert f"{FINANCE}：1/1 项举措已报送" in progress
        before = len(api.calls_of("sendDocument"))
        assert text(await bot.say(COORDINATOR, "/export 2024")) == "2024 年进展汇总已导出。"
        [call] = (await api.wait_for("sendDocument", count=before + 1))[before:]
        sheet = load_workbook(io.BytesIO(call.params["document"].content)).worksheets[0]
        table = list(sheet.iter_rows(values_only=True))
        assert [(r[1], r[2], r[4]) for r in table[1:]] == [(FINANCE, "1.1", "就业补贴已发放")]


async def test_a_unit_of_two_documents_is_reminded_of_each_on_telegram(
    api: FakeBotApi, assistant: Assistant, db_path: Path, data: Path
) -> None:
    clock = FakeClock(REMINDER_AT)
    async with await Store.open(db_path, clock) as store:
        for doc in ("", JIUYE):
            await store.document(doc).members.bind(
                f"tg:{ZHANG}", "张三", HRSS, f"tg:{COORDINATOR}"
            )
        await store.users.upsert(f"tg:{ZHANG}", "张三", private_chat=True)
    async with running(api, assistant, db_path, clock, data_dir=data, reminder_interval=0.2):
        bot = Users(api)
        first, second = await api.wait_for_messages(ZHANG, 2)
        root = next(m for m in (first, second) if "还有 26 项举措未报送" in text(m))
        jiuye = next(m for m in (first, second) if "还有 3 项举措未报送" in text(m))
        assert {first["message_id"], second["message_id"]} == {
            root["message_id"],
            jiuye["message_id"],
        }
        assert buttons(jiuye) == [f"nm:{m}@{JIUYE}" for m in ("1.1", "1.2", "2.1")]
        assert buttons(root)[0] == "nm:1.1@"
        # Each document's reminder is done under its own key.
        keys = {"done:reminder:2024:30", f"{JIUYE}/done:reminder:2024:30"}
        for _ in range(200):
            sent = {k for (k,) in rows(db_path, "SELECT key FROM state WHERE value = 'sent'")}
            if sent == keys:
                break
            await asyncio.sleep(0.05)
        assert sent == keys
        # The reminder's button starts a note in its own document.
        asked = await bot.open(jiuye, f"nm:1.2@{JIUYE}")
        assert text(asked).startswith("请发送举措 1.2 的进展")
        await bot.say(ZHANG, "公益性岗位已开发 300 个")
        assert rows(db_path, "SELECT doc, unit, measure_id FROM notes") == [(JIUYE, HRSS, "1.2")]


# -- the command line ------------------------------------------------------------------------


async def noted_in_each(db: Path) -> None:
    async with await Store.open(db, FakeClock(START)) as store:
        await store.notes.add(HRSS, "1.1", 2024, "tg:1", "张三", "省里的进展")
        await store.document(JIUYE).notes.add(FINANCE, "1.1", 2024, "tg:1", "张三", "就业补贴")


def test_the_command_line_exports_the_document_named(
    tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "bot.sqlite3"
    asyncio.run(noted_in_each(db))
    monkeypatch.setenv("FENGONG_DB", str(db))

    def noted(path: Path) -> list[str]:
        sheet = load_workbook(path).worksheets[0]
        return [str(r[4]) for r in list(sheet.iter_rows(values_only=True))[1:]]

    args = ["--data", str(data), "export", "--year", "2024"]
    assert main([*args, str(tmp_path / "root.xlsx")]) == 0
    assert main([*args, "--doc", "7号文", str(tmp_path / "jiuye.xlsx")]) == 0
    assert noted(tmp_path / "root.xlsx") == ["省里的进展"]
    assert noted(tmp_path / "jiuye.xlsx") == ["就业补贴"]
    assert main([*args, "--doc", "没有这份", str(tmp_path / "x.xlsx")]) == 2
    assert "找不到文件「没有这份」" in capsys.readouterr().err

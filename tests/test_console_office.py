"""Tests for the terminal chat driving the office: binding, notes, progress, export, invites."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.ask.assistant import Assistant
from bot.clock import TZ
from bot.core import Core
from bot.outcome import Person
from bot.store import Store, origin
from handlers.console import LOCAL_USER, Console
from tests.cores import make_core
from tests.fakes.clock import FakeClock

HRSS = "人力资源社会保障厅"
START = dt.datetime(2024, 3, 2, 9, 0, tzinfo=TZ)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def core(assistant: Assistant, store: Store, clock: FakeClock) -> Core:
    return make_core(assistant, store, {LOCAL_USER.id, "c2"}, clock)


@pytest.fixture
def console(core: Core, tmp_path: Path) -> Console:
    return Console(core, out_dir=tmp_path)


async def bound(console: Console) -> None:
    """Bind the local user to 人社厅 by approving their own request."""
    await console.handle("/bind 人社厅")
    assert "已批准" in await console.handle("[批准]")


async def test_bind_then_approve_by_typing_the_buttons_label(
    console: Console, store: Store
) -> None:
    asked = await console.handle("/bind 人社厅")

    assert f"已提交绑定「{HRSS}」的申请" in asked
    assert "【通知 → 本机用户（你）】" in asked
    assert "【通知 → c2】" in asked
    assert "可输入编号或按钮文字：1 [批准]  2 [拒绝]" in asked
    assert "可输入编号或按钮文字：3 [批准]  4 [拒绝]" in asked  # c2's copy, numbered on
    assert await store.members.get("console") is None

    approved = await console.handle("[批准]")

    assert f"已批准：本机用户 绑定到「{HRSS}」" in approved
    assert "已获批准" in approved  # the notice to the requester (the local user)
    member = await store.members.get("console")
    assert member is not None
    assert (member.unit, member.bound_by) == (HRSS, "console")
    whoami = await console.handle("/whoami")
    assert f"所属单位：{HRSS}" in whoami
    assert "协调人" in whoami
    # The card stays, but a decided request is not decided again.
    assert "这条申请已批准，无需再次处理" in await console.handle("[拒绝]")
    assert (await store.members.get("console")) == member


async def test_a_notices_buttons_are_pressed_by_their_number(
    console: Console, store: Store
) -> None:
    asked = await console.handle("/bind 人社厅")
    assert "2 [拒绝]" in asked

    rejected = await console.handle("2")

    assert "没有找到" not in rejected
    assert "已拒绝" in rejected
    assert await store.members.get("console") is None
    assert await store.members.pending_requests() == []


async def test_reject_by_typing_the_label(console: Console, store: Store) -> None:
    await console.handle("/bind 教育厅")

    rejected = await console.handle("拒绝")

    assert "已拒绝" in rejected
    assert "未获批准" in rejected
    assert await store.members.get("console") is None


async def test_note_with_measure_and_text(console: Console, store: Store) -> None:
    await bound(console)

    out = await console.handle("/note 5.1 今年新建残疾人之家12个")

    assert f"已记录「{HRSS}」举措 5.1 的 2024 年进展" in out
    assert "今年新建残疾人之家12个" in out
    (note,) = await store.notes.find()
    assert (note.unit, note.measure_id, note.year, note.author_id, note.text) == (
        HRSS,
        "5.1",
        2024,
        "console",
        "今年新建残疾人之家12个",
    )


async def test_note_by_choosing_a_measure_then_typing(console: Console, store: Store) -> None:
    await bound(console)

    menu = await console.handle("/note")
    assert f"请选择「{HRSS}」要报送进展的举措" in menu
    assert "[报送 6.2]" in menu
    prompt = await console.handle("[报送 6.2]")
    assert "请发送举措 6.2 的进展" in prompt
    saved = await console.handle("开展职业技能培训3000人次")

    assert "已记录" in saved
    assert "举措 6.2" in saved
    assert [(n.measure_id, n.text) for n in await store.notes.find()] == [
        ("6.2", "开展职业技能培训3000人次")
    ]
    # The flow is over: the same text is now a question for the assistant.
    assert "已记录" not in await console.handle("开展职业技能培训3000人次")
    assert len(await store.notes.find()) == 1


async def test_a_note_text_handled_again_after_a_crash_is_acknowledged_not_asked(
    console: Console, store: Store
) -> None:
    """A stored message handled twice (the crash came after its note's commit): one note,
    and the second handling answers with that note, not with the text read as a question."""
    await bound(console)
    await console.handle("/note 6.2")
    token = origin.set("inbox:41")  # the message as the inbox hands it on, twice
    try:
        saved = await console.handle("开展职业技能培训3000人次")
        again = await console.handle("开展职业技能培训3000人次")
    finally:
        origin.reset(token)
    assert "已记录" in saved
    assert again == saved
    assert len(await store.notes.find()) == 1


async def test_notes_progress_and_export(
    console: Console, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    await bound(console)
    await console.handle("/note 5.1 第一条")
    clock.advance(minutes=5)
    await console.handle("/note 11.1 第二条")

    notes = await console.handle("/notes")
    assert f"{HRSS} 2024 年进展" in notes
    assert notes.index("第二条") < notes.index("第一条")
    assert "1 [修改 #2]  2 [删除 #2]  3 [修改 #1]  4 [删除 #1]" in notes

    progress = await console.handle("/progress")
    assert "2024 年报送进度" in progress
    assert "28 个尚未报送任何举措" in progress
    assert f"{HRSS}：2/26 项举措已报送" in progress
    missing = await console.handle(f"[{HRSS} 缺报]")
    assert f"「{HRSS}」2024 年尚未报送的举措（24 项）" in missing

    exported = await console.handle("/export 2024")

    path = tmp_path / "进展汇总-2024.xlsx"
    assert f"文件已保存：{path}" in exported
    wb = load_workbook(path)
    texts = [row[4] for row in wb["进展记录"].iter_rows(min_row=2, values_only=True)]
    assert texts == ["第一条", "第二条"]


async def test_delete_through_the_buttons(console: Console, store: Store) -> None:
    await bound(console)
    await console.handle("/note 5.1 要删除的")
    await console.handle("/notes")

    asked = await console.handle("[删除 #1]")
    assert "确定删除第 1 条记录" in asked
    done = await console.handle("[确认删除]")

    assert "已删除第 1 条记录" in done
    assert await store.notes.find() == []
    assert "还没有报送进展" in await console.handle("/notes")


async def test_invite_then_redeem_in_another_console(
    console: Console, core: Core, store: Store, tmp_path: Path
) -> None:
    out = await console.handle("/invite 教育厅")

    assert "「教育厅」的一次性邀请" in out
    match = re.search(r"/join ([A-Za-z0-9_-]{1,64})(?![A-Za-z0-9_-])", out)
    assert match, out
    newcomer = Console(core, Person("u7", "赵六"), out_dir=tmp_path)
    assert "已绑定到「教育厅」" in await newcomer.handle(match.group(0))
    member = await store.members.get("u7")
    assert member is not None
    assert member.unit == "教育厅"
    assert "已经被使用过" in await Console(core, Person("u8", "钱七")).handle(match.group(0))


async def test_a_member_who_is_no_coordinator_is_refused(
    core: Core, store: Store, tmp_path: Path
) -> None:
    await store.members.bind("u7", "赵六", HRSS, by="console")
    member = Console(core, Person("u7", "赵六"), out_dir=tmp_path)

    assert "只有协调人" in await member.handle("/progress")
    exported = await member.handle("/export 2024")
    assert "只有协调人" in exported
    assert "文件已保存" not in exported
    assert "只有协调人" in await member.handle("/invite 教育厅")


async def test_cancel(console: Console, store: Store) -> None:
    assert "当前没有进行中的操作" in await console.handle("/cancel")
    await bound(console)
    await console.handle("/note 5.1")

    assert "已取消" in await console.handle("/cancel")
    assert "已记录" not in await console.handle("这段话不再是进展")
    assert await store.notes.find() == []


async def test_unknown_command(console: Console) -> None:
    assert "没有这个命令：/frobnicate" in await console.handle("/frobnicate")


async def test_undecodable_input_is_stored_as_replacement_characters(
    console: Console, store: Store
) -> None:
    await bound(console)

    # What sys.stdin (surrogateescape) makes of the bytes b"\xff\xfe" in a line.
    out = await console.handle("/note 5.1 坏\udcff\udcfe字")

    assert "已记录" in out
    (note,) = await store.notes.find()
    assert note.text == "坏\ufffd\ufffd字"


async def test_asking_again_sends_no_second_card(
    console: Console, store: Store, clock: FakeClock
) -> None:
    await console.handle("/bind 人社厅")

    again = await console.handle("/bind 人社厅")

    assert again.startswith("已提交，等待审批")
    assert "【通知 →" not in again
    assert len(await store.members.pending_requests()) == 1
    soon = await console.handle("/bind 教育厅")  # another unit at once: not filed
    assert "10 分钟内只能提交一次申请" in soon
    assert "【通知 →" not in soon
    clock.advance(minutes=10)
    moved = await console.handle("/bind 教育厅")
    assert f"您之前绑定「{HRSS}」的申请已作废" in moved
    assert "【通知 → c2】" in moved


async def test_the_approval_shown_here_is_marked_sent(console: Console, store: Store) -> None:
    await console.handle("/bind 人社厅")

    approved = await console.handle("[批准]")

    assert "【通知 → 本机用户（你）】\n您绑定到「人力资源社会保障厅」的申请已获批准" in approved
    assert await store.notices.pending() == []
    assert [n.status for n in [await store.notices.get(1)] if n] == ["sent"]


async def test_an_invisible_note_is_refused_here_too(console: Console, store: Store) -> None:
    await bound(console)
    await console.handle("/note 5.1")

    assert "进展内容不能为空" in await console.handle("\u200b\ufeff\u2060")
    assert "已记录" in await console.handle("\u200b有内容\x07")
    assert [n.text for n in await store.notes.find()] == ["有内容"]


async def test_a_pending_note_outlives_the_terminal_session(
    console: Console, assistant: Assistant, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    await bound(console)
    assert "请发送举措 5.1 的进展" in await console.handle("/note 5.1")
    await store.close()

    async with await Store.open(tmp_path / "t.db", clock) as reopened:
        core = make_core(assistant, reopened, {LOCAL_USER.id}, clock)
        saved = await Console(core, out_dir=tmp_path).handle("下次打开终端时发送")
        assert "已记录" in saved
        assert [n.text for n in await reopened.notes.find()] == ["下次打开终端时发送"]


SESSION = [
    "/bind 人社厅",
    "[批准]",
    "/whoami",
    "/note 5.1 今年新建残疾人之家12个",
    "/note",
    "[报送 6.2]",
    "开展职业技能培训3000人次",
    "/notes",
    "/progress",
    "/export 2024",
    "/invite 教育厅",
    "/cancel",
]


def test_python_m_bot_runs_the_session_on_stdin(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FENGONG_"))}
    db = tmp_path / "var" / "bot.db"
    env |= {"FENGONG_DB": str(db), "PYTHONUTF8": "1"}

    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        input="\n".join(SESSION) + "\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    out = done.stdout
    for expected in (
        f"已提交绑定「{HRSS}」的申请",
        f"已批准：本机用户 绑定到「{HRSS}」",
        f"所属单位：{HRSS}",
        f"已记录「{HRSS}」举措 5.1",
        "请发送举措 6.2 的进展",
        f"已记录「{HRSS}」举措 6.2",
        "年进展（共 2 条，最新在前）",
        "年报送进度",
        "文件已保存：",
        "「教育厅」的一次性邀请",
        "当前没有进行中的操作",
    ):
        assert expected in out, f"{expected!r} missing from:\n{out}"
    assert "Traceback" not in done.stderr
    # The log goes to a file beside the database, not between the answers.
    assert done.stderr == ""
    assert (db.parent / "fengong.log").is_file()
    assert f"文件已保存：{db.parent.resolve()}" in out
    assert not list(tmp_path.glob("*.xlsx"))
    exported = db.parent / "进展汇总-2024.xlsx"  # beside the database, never the clone
    assert load_workbook(exported).sheetnames == [
        "进展记录",
        "单位×举措",
        "未报送单位",
        "操作记录",
    ]
    with contextlib.closing(sqlite3.connect(db)) as conn:
        saved = conn.execute("SELECT unit, measure_id, text FROM notes ORDER BY id").fetchall()
    assert saved == [
        (HRSS, "5.1", "今年新建残疾人之家12个"),
        (HRSS, "6.2", "开展职业技能培训3000人次"),
    ]


@pytest.mark.parametrize("command", ["/remind", "/remind_test", "/join"])
async def test_the_terminal_chat_has_the_reminder_and_join_commands(
    console: Console, command: str
) -> None:
    assert "没有这个命令" not in await console.handle(command)


async def test_what_others_typed_cannot_drive_the_terminal(console: Console, store: Store) -> None:
    await bound(console)
    # A colleague's note stored as sent (before notes were cleaned), under an odd name.
    await store.notes.add(HRSS, "5.1", 2024, "tg:1", "\x1b]0;标题\x07李四", "完成\x1b[2J培训")

    shown = await console.handle("/notes")

    assert "\x1b" not in shown
    assert "\x07" not in shown
    assert "]0;标题李四" in shown
    assert "完成[2J培训" in shown


def test_a_refused_database_leaves_no_log_file_beside_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    plan = data / "plan.yaml"
    plan.write_text("document: {}\n", encoding="utf-8")  # not a database
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FENGONG_"))}
    env |= {"FENGONG_DB": str(plan), "PYTHONUTF8": "1"}

    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        input="",
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2, done.stderr
    assert "plan.yaml" in done.stderr
    assert sorted(p.name for p in data.iterdir()) == ["plan.yaml"]
    assert plan.read_text(encoding="utf-8") == "document: {}\n"


async def test_unit_change_on_the_shipped_data_folder_is_refused(
    assistant: Assistant, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    from bot.documents.plan import SHIPPED_DATA

    assert assistant.data_dir is not None
    assert assistant.data_dir.resolve() == SHIPPED_DATA.resolve()
    before = (SHIPPED_DATA / "units.yaml").read_bytes()
    console = Console(make_core(assistant, store, {LOCAL_USER.id}, clock), out_dir=tmp_path)

    refused = await console.handle("/unit_change 乡村振兴局 并入 农业农村厅 2024-01-01")

    assert "程序自带的数据文件夹" in refused
    assert "FENGONG_DATA=var/data" in refused
    assert "[确认]" not in refused
    assert (SHIPPED_DATA / "units.yaml").read_bytes() == before

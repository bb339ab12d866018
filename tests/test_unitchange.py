"""Unit changes (机构改革) in the terminal chat: /unit_change, answers, members, year views."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import docx
import pytest
from openpyxl import load_workbook

from bot.ask.assistant import Assistant
from bot.channel import Result
from bot.clock import TZ
from bot.config import Config
from bot.core import Core
from bot.outcome import Person
from bot.reply import Reply, render_plain
from bot.store import Store
from handlers.console import LOCAL_USER, Console
from tests.cores import make_core
from tests.fakes.clock import FakeClock
from tests.unitdata import AGRI, RURAL, copy_data, merge_by_hand

FIN, FIN_NEW = "省地方金融监管局", "省地方金融管理局"
START = dt.datetime(2024, 3, 2, 9, 0, tzinfo=TZ)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return copy_data(tmp_path)


@pytest.fixture
def core(data: Path, store: Store, clock: FakeClock) -> Core:
    return make_core(Assistant.load(data, clock=clock), store, {LOCAL_USER.id}, clock)


@pytest.fixture
def console(core: Core, tmp_path: Path) -> Console:
    return Console(core, out_dir=tmp_path)


async def record(console: Console, command: str) -> str:
    """Type the command, check the confirmation, press 确认; return what the bot said."""
    asked = await console.handle(command)
    assert "请确认单位变更" in asked
    assert "1 [确认]  2 [取消]" in asked
    return await console.handle("[确认]")


async def test_merger_is_confirmed_written_answered_and_undone(
    console: Console, core: Core, store: Store, data: Path
) -> None:
    before = (data / "units.yaml").read_text(encoding="utf-8")
    plan_text = (data / "plan.yaml").read_text(encoding="utf-8")
    await store.members.bind("u1", "李四", RURAL, "console")
    await store.members.bind("u2", "王五", AGRI, "console")

    asked = await console.handle("/unit_change 乡村振兴局 并入 农业厅 2024-01-01")
    # Nothing is written before the confirmation.
    assert (data / "units.yaml").read_text(encoding="utf-8") == before
    assert "6.1、6.3" in asked
    assert "1 名成员" in asked
    done = await console.handle("[确认]")
    undo = console._buttons["撤销"]  # the button under the record, pressed after the answers

    assert f"已记录：「{RURAL}」自 2024-01-01 起并入「{AGRI}」。" in done
    assert done.split("\n")[0].count("2024") == 1  # the date said once
    assert "【通知 → 李四】" in done
    assert f"您已转为「{AGRI}」的成员" in done
    assert "u2" not in done
    assert (await store.members.get("u1")).unit == AGRI  # type: ignore[union-attr]
    written = (data / "units.yaml").read_text(encoding="utf-8")
    assert "merged_into: 农业农村厅\n    since: 2024-01-01\n" in written
    assert written.startswith(before.split("units:")[0])  # the comments are kept
    assert (data / "plan.yaml").read_text(encoding="utf-8") == plan_text  # the document's text
    # The engine answers from the change at once.
    old = await console.handle("乡村振兴局负责什么")
    assert f"原{RURAL}（2024年起并入{AGRI}）" in old
    assert f"现由{AGRI}" in old
    assert "6.3" in old
    own = await console.handle("农业农村厅负责哪些")
    assert "6.3 【" in own
    assert f"（原{RURAL}）" in own
    assert "6.2" in own  # its own measures are still there, unmarked
    assert own.count(f"（原{RURAL}）") == 1  # 6.1 names 农业农村厅 itself
    detail = await console.handle("6.3")
    assert f"{RURAL}已于2024年起并入{AGRI}，本举措现由{AGRI}负责" in detail
    actions = [e.action for e in await store.audit.entries()]
    assert "unit.change" in actions
    assert "unit.move" in actions
    trail = await console.handle("/audit 5")
    assert f"记录单位变更 · {RURAL} · {RURAL}2024年起并入{AGRI}（自 2024-01-01）" in trail
    assert f"随单位变更转入 · {AGRI} · 李四（ID u1）：原{RURAL}" in trail

    outcome = await console.press(undo)
    assert outcome is not None
    undone = await console._render(outcome)

    said = f"已撤销：「{RURAL}」自 2024-01-01 起并入「{AGRI}」。1 名成员已转回「{RURAL}」。"
    assert said in undone
    assert "【通知 → 李四】" in undone
    assert (data / "units.yaml").read_text(encoding="utf-8") == before
    assert (await store.members.get("u1")).unit == RURAL  # type: ignore[union-attr]
    assert (await store.members.get("u2")).unit == AGRI  # type: ignore[union-attr]
    assert "原" not in (await console.handle("乡村振兴局负责什么")).splitlines()[0]
    assert "unit.change.undo" in [e.action for e in await store.audit.entries()]


async def test_rename_adds_the_new_name_and_the_old_name_points_to_it(
    console: Console, core: Core, data: Path
) -> None:
    asked = await console.handle(f"/unit_change 金融局 更名为 {FIN_NEW} 2024-02-01")
    assert "该单位没有需要转入的成员。" in asked
    assert "0 名" not in asked
    done = await console.handle("[确认]")

    assert f"已记录：「{FIN}」自 2024-02-01 起更名为「{FIN_NEW}」。" in done
    assert "该单位没有需要转入的成员。" in done
    written = (data / "units.yaml").read_text(encoding="utf-8")
    assert f"renamed_to: {FIN_NEW}" in written
    assert f"- name: {FIN_NEW}" in written
    assert "full_name: 四川省地方金融管理局" in written
    answer = await console.handle("省地方金融管理局负责什么")
    assert f"（原{FIN}）" in answer
    assert "6.1" in answer
    assert f"原{FIN}（2024年起更名为{FIN_NEW}）" in await console.handle("金融局负责什么")


async def test_undoing_a_change_that_moved_nobody_says_no_count(console: Console) -> None:
    await record(console, f"/unit_change 金融局 更名为 {FIN_NEW} 2024-02-01")

    undone = await console.handle("[撤销]")

    assert undone.startswith(f"已撤销：「{FIN}」自 2024-02-01 起更名为「{FIN_NEW}」。")
    assert "名成员" not in undone


async def test_the_command_refuses_what_it_cannot_record(console: Console, core: Core) -> None:
    usage = await console.handle("/unit_change 乡村振兴局")
    assert "用法：/unit_change 旧单位 并入|更名为 新单位" in usage
    assert "不能晚于今天" in await console.handle(
        "/unit_change 乡村振兴局 并入 农业农村厅 2099-01-01"
    )
    assert "日期" in await console.handle("/unit_change 乡村振兴局 并入 农业农村厅 2024-13-01")
    assert "没有找到单位" in await console.handle("/unit_change 乡村振兴局 并入 火星局 2024-01-01")
    assert "相同" in await console.handle("/unit_change 乡村振兴局 并入 乡村振兴局 2024-01-01")
    await record(console, "/unit_change 乡村振兴局 并入 农业农村厅 2024-01-01")
    again = await console.handle("/unit_change 乡村振兴局 并入 民政厅 2024-01-01")
    assert "已记录为2024年起并入农业农村厅" in again
    # 取消 writes nothing.
    await console.handle("/unit_change 金融局 并入 财政厅 2024-01-01")
    assert "已取消，未作变更" in await console.handle("[取消]")
    assert "原" not in (await console.handle("金融局负责什么")).splitlines()[0]


async def test_only_coordinators_record_changes(core: Core, store: Store) -> None:
    member = Console(core, person=Person("m1", "成员"))
    assert "只有协调人" in await member.handle(
        "/unit_change 乡村振兴局 并入 农业农村厅 2024-01-01"
    )


async def test_year_views_show_the_old_unit_before_the_change_and_the_successor_after(
    console: Console, core: Core, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    # Filed by the bureau in 2023 and in January 2024, before it merged (March 2024).
    await store.members.bind("u1", "李四", RURAL, "console")
    clock.set(dt.datetime(2023, 6, 1, 9, tzinfo=TZ))
    await store.notes.add(RURAL, "6.3", 2023, "u1", "李四", "二〇二三年帮扶")
    clock.set(dt.datetime(2024, 1, 10, 9, tzinfo=TZ))
    await store.notes.add(RURAL, "6.3", 2024, "u1", "李四", "二〇二四年帮扶")
    clock.set(START)
    await record(console, "/unit_change 乡村振兴局 并入 农业农村厅 2024-01-01")

    before = await console.handle("/progress 2023")
    after = await console.handle("/progress 2024")
    assert f"{RURAL}：" in before
    assert f"{RURAL}：" not in after
    assert f"{AGRI}：1/5 项举措已报送" in after  # 6.1, 6.2, 6.3 and the two shared ones
    assert f"{AGRI}：0/4 项举措已报送" in before

    await console.handle("/export 2024")
    sheet = load_workbook(tmp_path / "进展汇总-2024.xlsx")["单位×举措"]
    header = [c.value for c in sheet[1]]
    units = {row[0].value: row for row in sheet.iter_rows(min_row=2) if row[0].value}
    assert RURAL not in units
    assert units[AGRI][header.index("6.3")].value == 1
    await console.handle("/export 2023")
    old_sheet = load_workbook(tmp_path / "进展汇总-2023.xlsx")["单位×举措"]
    old_units = {row[0].value: row for row in old_sheet.iter_rows(min_row=2) if row[0].value}
    assert old_units[RURAL][header.index("6.3")].value == 1
    assert old_units[AGRI][header.index("6.3")].value == "—"

    await console.handle(f"/report {AGRI} 2024")
    path = tmp_path / f"落实情况报告-{AGRI}-2024.docx"
    body = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "二〇二四年帮扶" in body
    assert "举措6.3" in body.replace("（", "").replace(" ", "")


async def test_reminders_of_inherited_measures_go_to_the_successors_members(
    console: Console, core: Core, store: Store, clock: FakeClock
) -> None:
    await store.members.bind("u2", "王五", AGRI, "console")
    await store.users.upsert("u2", "王五", private_chat=True)
    await record(console, "/unit_change 乡村振兴局 并入 农业农村厅 2024-01-01")
    sent: dict[str, str] = {}

    async def send(to: str, reply: Reply) -> Result:
        sent[to] = sent.get(to, "") + render_plain(reply)
        return "sent"

    clock.set(dt.datetime(2024, 12, 1, 9, 0, tzinfo=TZ))  # 30 days before the deadline
    assert await core.reminders.tick(send)

    assert "6.3" in sent["u2"]
    assert "6.2" in sent["u2"]
    assert RURAL not in sent["u2"]


async def test_a_change_written_by_hand_moves_members_at_the_next_start(
    data: Path, tmp_path: Path, clock: FakeClock
) -> None:
    db = tmp_path / "hand.db"
    async with await Store.open(db, clock) as store:
        await store.members.bind("u1", "李四", RURAL, "console")
        await store.members.request_binding("u3", "赵六", RURAL)
        invite = await store.members.create_invite(RURAL, "console")
    merge_by_hand(data)
    config = Config(coordinators=frozenset({"console"}), db_path=db, data_dir=data)
    core = await Core.open(config, Assistant.load(data, clock=clock), clock)
    try:
        assert (await core.store.members.get("u1")).unit == AGRI  # type: ignore[union-attr]
        # What was asked or offered for the bureau is for the department now.
        assert (await core.store.members.pending_request("u3")).unit == AGRI  # type: ignore[union-attr]
        assert (await core.store.members.invite(invite.code)).unit == AGRI  # type: ignore[union-attr]
        assert [m.unit for m in await core.store.members.bound()] == [AGRI]
        shown: list[str] = []

        async def send(to: str, reply: Reply) -> Result:
            shown.append(f"{to}:{render_plain(reply)}")
            return "sent"

        await core.office.membership.send_pending_notices(send)
        assert any(s.startswith("u1:") and f"您已转为「{AGRI}」的成员" in s for s in shown)
        entries = await core.store.audit.entries()
        assert any(e.action == "unit.change" and e.actor_id == "units.yaml" for e in entries)
    finally:
        await core.close()
    # Started again: nobody left to move, nothing recorded twice.
    core = await Core.open(config, Assistant.load(data, clock=clock), clock)
    try:
        changes = [e for e in await core.store.audit.entries() if e.action == "unit.change"]
        assert len(changes) == 1
    finally:
        await core.close()


async def test_binding_to_the_old_name_binds_the_successor(console: Console, store: Store) -> None:
    await record(console, "/unit_change 乡村振兴局 并入 农业农村厅 2024-01-01")
    asked = await console.handle("/bind 乡村振兴局")
    assert f"已提交绑定「{AGRI}」的申请" in asked


def test_picture_of_the_change_year_has_the_successor_only(data: Path) -> None:
    from bot.documents.plan import load_plan
    from bot.office.heatmap import draw_heatmap

    merge_by_hand(data)
    plan = load_plan(data)
    reported = {RURAL: {"6.3"}}
    labels_2024 = _row_labels(draw_heatmap(plan.as_of(2024), reported, 2024, dt.date(2024, 3, 1)))
    labels_2023 = _row_labels(draw_heatmap(plan.as_of(2023), reported, 2023, dt.date(2023, 3, 1)))
    assert RURAL in labels_2023
    assert RURAL not in labels_2024
    assert AGRI in labels_2024
    assert len(labels_2024) == len(labels_2023) - 1


def _row_labels(fig: object) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]  # type: ignore[attr-defined]


async def test_a_split_unit_points_to_each_successor_and_its_members_choose_again(
    data: Path, tmp_path: Path, clock: FakeClock
) -> None:
    db = tmp_path / "split.db"
    async with await Store.open(db, clock) as store:
        await store.members.bind("u1", "李四", "省工商联", "console")
    units = data / "units.yaml"
    units.write_text(
        units.read_text(encoding="utf-8").replace(
            "    aliases: [工商联, 工商业联合会]\n",
            "    aliases: [工商联, 工商业联合会]\n    split_into:\n"
            "      经济和信息化厅: [3.1]\n      民政厅: [7.3, 15.1]\n    since: 2023-07-01\n",
        ),
        encoding="utf-8",
    )
    config = Config(coordinators=frozenset({"console"}), db_path=db, data_dir=data)
    core = await Core.open(config, Assistant.load(data, clock=clock), clock)
    try:
        assert await core.store.members.get("u1") is None
        [owed] = await core.store.notices.pending("u1")
        assert owed.kind == "moved"
        console = Console(core, out_dir=tmp_path)
        answer = await console.handle("工商联负责什么")
        assert "原省工商联（2023年起分设为经济和信息化厅、民政厅）" in answer
        assert "（现由经济和信息化厅负责）" in answer
        assert "（现由民政厅负责）" in answer
        civil = await console.handle("民政厅负责哪些")
        assert "7.3 【" in civil
        assert "（原省工商联）" in civil
        refused = await console.handle("/bind 工商联")
        assert "已于2023年起分设为经济和信息化厅、民政厅，请写明其中一个单位" in refused
    finally:
        await core.close()


async def test_a_change_the_data_check_refuses_leaves_units_yaml_as_it_was(
    console: Console, store: Store, data: Path
) -> None:
    before = (data / "units.yaml").read_text(encoding="utf-8")
    await console.handle("/unit_change 乡村振兴局 并入 农业农村厅 2024-01-01")
    # Meanwhile someone breaks plan.yaml by hand: the reload fails, nothing is recorded.
    plan = data / "plan.yaml"
    plan.write_text(
        plan.read_text(encoding="utf-8").replace("省烟草专卖局", "省火星局", 1), "utf-8"
    )

    refused = await console.handle("[确认]")

    assert "数据文件校验未通过，未作变更" in refused
    assert (data / "units.yaml").read_text(encoding="utf-8") == before
    assert "原" not in (await console.handle("乡村振兴局负责什么")).splitlines()[0]
    assert [e.action for e in await store.audit.entries()] == []


async def test_a_new_name_holding_an_existing_one_is_a_new_unit(console: Console) -> None:
    asked = await console.handle("/unit_change 金融局 更名为 省财政厅金融处 2024-02-01")
    assert "「省地方金融监管局」自 2024-02-01 起更名为「省财政厅金融处」" in asked
    assert "「省财政厅金融处」是新名称，将作为新单位加入 units.yaml" in asked
    # A whole name of a unit is that unit.
    asked = await console.handle("/unit_change 金融局 更名为 财政厅 2024-02-01")
    assert "起更名为「财政厅」" in asked
    assert "是新名称" not in asked


async def test_notes_of_the_successor_include_what_the_old_unit_filed_that_year(
    core: Core, store: Store, clock: FakeClock
) -> None:
    await store.members.bind("u1", "李四", RURAL, "console")
    clock.set(dt.datetime(2024, 1, 10, 9, tzinfo=TZ))
    await store.notes.add(RURAL, "6.3", 2024, "u1", "李四", "一月的帮扶")
    await store.notes.add(RURAL, "6.3", 2023, "u1", "李四", "去年的帮扶")
    clock.set(START)
    coordinator = Console(core)
    await record(coordinator, "/unit_change 乡村振兴局 并入 农业农村厅 2024-01-01")
    member = Console(core, person=Person("u1", "李四"))

    listed = await member.handle("/notes")

    assert f"{AGRI} 2024 年进展（共 1 条" in listed
    assert "一月的帮扶" in listed
    assert f"（原{RURAL}报送）" in listed
    assert "去年的帮扶" not in listed
    assert "[修改 #1]" in listed

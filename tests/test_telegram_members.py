"""End to end: members and progress notes on Telegram (issue "Members and progress notes").

The real Application polls the fake Bot API; the database is a real SQLite file; coordinators
come from Config.coordinators; the clock is the test's. Every assertion is on what the fake
server recorded (raw HTML, rendered text, keyboards, uploaded files) or on the database file.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import docx
import pytest
from openpyxl import load_workbook
from PIL import Image

from bot.ask.assistant import Assistant
from bot.core import EXPIRED, JOIN_IN_PRIVATE, PRIVATE_ONLY
from bot.office.notes import EMPTY_NOTE
from bot.office.report import report_title
from bot.outcome import NOT_COORDINATOR, NOT_MEMBER
from bot.store import Store
from tests.fakes.bot_api import BOT_USERNAME, FakeBotApi
from tests.harness import (
    COORDINATOR,
    COORDINATOR_2,
    HRSS,
    LI,
    NAMES,
    QIAN,
    WANG,
    ZHANG,
    ZHAO,
    FakeClock,
    Users,
    bind_directly,
    buttons,
    data_of,
    keyboard,
    labels,
    nav,
    rows,
    shanghai,
    snapshot,
    text,
)

START = shanghai(2024, 3, 2, 9, 0)
YEAR = 2024
GROUP = -1005555
TRICKY = "他说\"完成'率'\"；'; DROP TABLE notes; -- <b>&</b><i 😀👨‍👩‍👧\n第二行  两个空格"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def duties(assistant: Assistant, unit: str) -> list[str]:
    return [m.id for m in assistant.plan.duties_of(unit)]


def note_ids(message: dict[str, Any]) -> list[int]:
    return [int(n) for n in re.findall(r"^#(\d+) 举措", text(message), re.MULTILINE)]


async def member_of(db_path: Path, user: int) -> str | None:
    found = rows(db_path, "SELECT unit FROM members WHERE user_id = ?", (f"tg:{user}",))
    return found[0][0] if found else None


def live_notes(db_path: Path) -> list[tuple[Any, ...]]:
    return rows(
        db_path,
        "SELECT id, unit, measure_id, year, author_id, text FROM notes "
        "WHERE deleted_at IS NULL ORDER BY id",
    )


# --------------------------------------------------------------------------------------------
# Binding
# --------------------------------------------------------------------------------------------


async def test_bind_is_approved_once_by_a_coordinator(
    bot: Users, api: FakeBotApi, db_path: Path
) -> None:
    assert "尚未绑定单位" in text(await bot.say(ZHANG, "/whoami"))

    asked = await bot.say(ZHANG, "/bind 人社厅")
    assert text(asked) == f"已提交绑定「{HRSS}」的申请，协调人审批后会通知您。"
    [card] = await api.wait_for_messages(COORDINATOR)
    [other_card] = await api.wait_for_messages(COORDINATOR_2)
    [(request_id,)] = rows(db_path, "SELECT id FROM bind_requests WHERE user_id = 'tg:101'")
    for shown in (card, other_card):
        assert text(shown) == f"绑定申请\n张三（ID tg:101）申请绑定到「{HRSS}」。"
        assert labels(shown) == ["批准", "拒绝"]
        assert buttons(shown) == [f"ap:{request_id}", f"rj:{request_id}"]
    assert await member_of(db_path, ZHANG) is None  # nothing until a coordinator decides

    told_before = len(api.sent_messages(ZHANG))
    decided = await bot.edit(card, f"ap:{request_id}")
    assert decided["message_id"] == card["message_id"]
    assert text(decided) == f"已批准：张三 绑定到「{HRSS}」。"
    assert keyboard(decided) == []
    told = (await api.wait_for_messages(ZHANG, told_before + 1))[told_before]
    assert text(told) == f"您绑定到「{HRSS}」的申请已获批准，现在可以用 /note 报送进展。"
    assert await member_of(db_path, ZHANG) == HRSS

    whoami = await bot.say(ZHANG, "/whoami")
    assert text(whoami).split("\n") == [
        "张三（ID tg:101）",
        f"所属单位：{HRSS}（2024-03-02 绑定）",
        "角色：单位联络员（可报送和查看本单位进展）",
    ]

    # Pressing again, here or on the other coordinator's card, changes nothing.
    before = snapshot(db_path)
    told_before = len(api.sent_messages(ZHANG))
    again = await bot.open(decided, f"ap:{request_id}", strict=False)
    assert text(again) == "这条申请已批准，无需再次处理。"
    late = await bot.open(other_card, f"rj:{request_id}")
    assert text(late) == "这条申请已批准，无需再次处理。"
    await bot.settle()
    assert snapshot(db_path) == before
    assert len(api.sent_messages(ZHANG)) == told_before
    assert api.message(COORDINATOR, card["message_id"]) == decided
    assert api.message(COORDINATOR_2, other_card["message_id"]) == other_card

    # Asking for one's own unit again files nothing.
    cards = len(api.sent_messages(COORDINATOR))
    assert text(await bot.say(ZHANG, "/bind 人社厅")) == f"您已是「{HRSS}」的成员。"
    await bot.settle()
    assert len(api.sent_messages(COORDINATOR)) == cards


async def test_a_second_bind_replaces_the_first_and_unbind(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock
) -> None:
    await bot.say(ZHANG, "/bind 教育厅")
    clock.advance(minutes=10)  # the earliest a request may replace a pending one
    await bot.say(ZHANG, "/bind 民政厅")
    first, second = await api.wait_for_messages(COORDINATOR, 2)
    assert "申请绑定到「教育厅」" in text(first)
    assert "申请绑定到「民政厅」" in text(second)

    before = snapshot(db_path)
    stale = await bot.open(first, data_of(first, "批准"))
    assert text(stale) == "这条申请已被新的申请取代，无需再次处理。"
    await bot.settle()
    assert snapshot(db_path) == before
    assert await member_of(db_path, ZHANG) is None

    decided = await bot.edit(second, data_of(second, "批准"))
    assert text(decided) == "已批准：张三 绑定到「民政厅」。"
    await bot.settle()  # the member is told after the card is edited
    assert "所属单位：民政厅" in text(await bot.say(ZHANG, "/whoami"))

    # A later request, approved, moves the member to the new unit.
    cards = len(api.sent_messages(COORDINATOR))
    await bot.say(ZHANG, "/bind 教育厅")
    card = (await api.wait_for_messages(COORDINATOR, cards + 1))[cards]
    await bot.edit(card, data_of(card, "批准"))
    await bot.settle()
    assert await member_of(db_path, ZHANG) == "教育厅"

    assert text(await bot.say(ZHANG, "/unbind")) == "已解除与「教育厅」的绑定。"
    assert await member_of(db_path, ZHANG) is None
    assert "尚未绑定单位" in text(await bot.say(ZHANG, "/whoami"))
    assert text(await bot.say(ZHANG, "/unbind")) == "您尚未绑定单位。"


async def test_a_rejected_request_binds_nobody(bot: Users, api: FakeBotApi, db_path: Path) -> None:
    await bot.say(LI, "/bind 教育厅")
    [card] = await api.wait_for_messages(COORDINATOR)
    before = len(api.sent_messages(LI))
    decided = await bot.edit(card, data_of(card, "拒绝"))
    assert text(decided) == "已拒绝：李四 绑定到「教育厅」。"
    told = (await api.wait_for_messages(LI, before + 1))[before]
    assert text(told) == "您绑定到「教育厅」的申请未获批准。如有疑问请联系协调人。"
    assert await member_of(db_path, LI) is None
    approve = await bot.open(decided, data_of(card, "批准"), strict=False)
    assert text(approve) == "这条申请已拒绝，无需再次处理。"
    assert await member_of(db_path, LI) is None


# --------------------------------------------------------------------------------------------
# Invites
# --------------------------------------------------------------------------------------------

LINK = re.compile(rf"https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]+)")


async def invite(bot: Users, unit: str) -> str:
    reply = await bot.say(COORDINATOR, f"/invite {unit}")
    match = LINK.search(text(reply))
    assert match is not None, text(reply)
    return match.group(1)


async def test_join_with_the_code_binds_like_the_link(bot: Users, db_path: Path) -> None:
    code = await invite(bot, "教育厅")

    joined = await bot.say(LI, f"/join {code}")

    assert text(joined) == "已绑定到「教育厅」。发送 /note 报送进展，/notes 查看本单位进展。"
    assert rows(db_path, "SELECT unit FROM members WHERE user_id = 'tg:102'") == [("教育厅",)]


async def test_an_invite_binds_at_once_and_only_once(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock
) -> None:
    reply = await bot.say(COORDINATOR, "/invite 教育厅")
    lines = text(reply).split("\n")
    assert lines[0] == "「教育厅」的一次性邀请（2024-03-09 09:00 前有效）："
    code = LINK.fullmatch(lines[4])
    assert code is not None
    assert lines[1] == f"/join {code.group(1)}"
    offset = sum(len(ln) + 1 for ln in lines[:4])
    assert {"type": "code", "offset": offset, "length": len(lines[4])} in reply["entities"]

    joined = await bot.say(LI, f"/start {code.group(1)}")
    assert text(joined) == "已绑定到「教育厅」。发送 /note 报送进展，/notes 查看本单位进展。"
    assert rows(db_path, "SELECT unit, bound_by FROM members WHERE user_id = 'tg:102'") == [
        ("教育厅", f"tg:{COORDINATOR}")
    ]
    assert api.sent_messages(COORDINATOR)[-1] == reply  # no approval needed

    used = await bot.say(WANG, f"/start {code.group(1)}")
    assert "已经被使用过" in text(used)
    assert await member_of(db_path, WANG) is None

    late = await invite(bot, "民政厅")
    clock.advance(days=8)
    expired = await bot.say(WANG, f"/start {late}")
    assert text(expired) == "这个邀请码已过期，请向协调人索取新的邀请链接。"
    unknown = await bot.say(WANG, "/start nosuchcode")
    assert text(unknown) == "邀请码无效，请向协调人索取新的邀请链接。"
    assert await member_of(db_path, WANG) is None
    # Without a code /start still greets.
    assert text(await bot.say(WANG, "/start")).startswith("您好，我是分工助手。")


async def test_only_coordinators_invite(bot: Users, db_path: Path) -> None:
    await bind_directly(db_path, FakeClock(START), [(ZHANG, HRSS)])
    reply = await bot.say(ZHANG, "/invite 教育厅")
    assert text(reply) == NOT_COORDINATOR
    assert "t.me" not in reply["text"]
    assert rows(db_path, "SELECT COUNT(*) FROM invites") == [(0,)]


# --------------------------------------------------------------------------------------------
# Notes
# --------------------------------------------------------------------------------------------


class DbAtSend:
    """Reads the database whenever the fake receives a "已记录" confirmation, before storing it:
    proof that the note was committed before the author was told."""

    def __init__(self, api: FakeBotApi, db_path: Path) -> None:
        self.seen: list[tuple[int, list[tuple[Any, ...]]]] = []
        original = api._handlers["sendmessage"]

        def send_message(params: dict[str, Any]) -> Any:
            match = re.search(r"已记录.*（编号 (\d+)）", str(params.get("text", "")))
            if match:
                number = int(match.group(1))
                found = rows(db_path, "SELECT text FROM notes WHERE id = ?", (number,))
                self.seen.append((number, found))
            return original(params)

        api._handlers["sendmessage"] = send_message


async def test_a_note_is_confirmed_only_once_stored(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS)])
    at_send = DbAtSend(api, db_path)

    reply = await bot.say(ZHANG, "/note 5.1 今年新建残疾人之家12个")
    lines = text(reply).split("\n")
    [(note_id, unit, measure, year, author, stored)] = live_notes(db_path)
    assert lines == [f"已记录「{HRSS}」举措 5.1 的 2024 年进展（编号 {note_id}）：", stored]
    assert (unit, measure, year, author, stored) == (
        HRSS,
        "5.1",
        YEAR,
        "tg:101",
        "今年新建残疾人之家12个",
    )
    assert at_send.seen == [(note_id, [("今年新建残疾人之家12个",)])]
    assert "<blockquote>今年新建残疾人之家12个</blockquote>" in reply["text"]
    async with await Store.open(db_path, clock) as store:  # the API a second process would use
        note = await store.notes.get(note_id)
        assert note is not None
        assert (note.text, note.author_name, note.created_at) == (stored, "张三", START)


async def test_note_without_a_measure_offers_paged_buttons(
    bot: Users, api: FakeBotApi, db_path: Path, assistant: Assistant
) -> None:
    await bind_directly(db_path, FakeClock(START), [(ZHANG, HRSS)])
    ours = duties(assistant, HRSS)
    assert len(ours) > 12  # more than one page

    menu = await bot.say(ZHANG, "/note")
    assert text(menu).startswith(f"请选择「{HRSS}」要报送进展的举措：")
    shown = nav(menu)
    assert shown is not None
    token, page, count = shown
    assert (page, count) == (1, 3)
    assert keyboard(menu)[-1][-2:] == [
        {"text": "1/3", "callback_data": "noop"},
        {"text": "下一页 ›", "callback_data": f"pg:{token}:1"},
    ]
    offered = [d for d in buttons(menu) if d.startswith("nm:")]
    second = await bot.edit(menu, f"pg:{token}:1")
    assert nav(second) == (token, 2, 3)
    assert [b["text"] for b in keyboard(second)[-1]] == ["‹ 上一页", "2/3", "下一页 ›"]
    offered += [d for d in buttons(second) if d.startswith("nm:")]
    third = await bot.edit(second, f"pg:{token}:2")
    offered += [d for d in buttons(third) if d.startswith("nm:")]
    assert offered == [f"nm:{m}" for m in ours]
    assert "报送 6.2" not in labels(third)
    assert [b["text"] for b in keyboard(third)[-1]] == ["‹ 上一页", "3/3"]
    second = await bot.edit(third, f"pg:{token}:1")
    first = await bot.edit(second, f"pg:{token}:0")
    assert nav(first) == (token, 1, 3)
    assert first["text"] == menu["text"]

    asked = await bot.open(first, data_of(first, "报送 6.2"))
    assert text(asked) == "请发送举措 6.2 的进展（1–1000 字）。10 分钟内有效，发送 /cancel 取消。"
    assert buttons(asked) == ["nc"]
    done = await bot.say(ZHANG, "农村残疾人帮扶 3 万人")
    assert text(done).startswith(f"已记录「{HRSS}」举措 6.2 的 2024 年进展")
    filed = ("6.2", YEAR, "tg:101", "农村残疾人帮扶 3 万人")
    assert [n[2:] for n in live_notes(db_path)] == [filed]
    # The flow is over: the next text is a question again.
    assert text(await bot.say(ZHANG, "7.2")).startswith("举措 7.2")
    assert len(live_notes(db_path)) == 1


async def test_cancel_and_timeout_store_nothing(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS)])
    asked = await bot.say(ZHANG, "/note 5.1")
    assert text(asked).startswith("请发送举措 5.1 的进展")
    assert text(await bot.say(ZHANG, "/cancel")) == "已取消。"
    assert text(await bot.say(ZHANG, "7.2")).startswith("举措 7.2")  # answered, not stored
    assert text(await bot.say(ZHANG, "/cancel")) == "当前没有进行中的操作。"

    asked = await bot.say(ZHANG, "/note 5.1")
    cancelled = await bot.open(asked, "nc")
    assert text(cancelled) == "已取消。"

    # Nine minutes is fine …
    await bot.say(ZHANG, "/note 5.1")
    clock.advance(minutes=9)
    assert text(await bot.say(ZHANG, "九分钟后")).startswith("已记录")
    # … over ten is not: the text is given back, not stored.
    await bot.say(ZHANG, "/note 5.1")
    clock.advance(minutes=10, seconds=1)
    late = await bot.say(ZHANG, "超时的<b>进展</b>")
    assert text(late).split("\n") == [
        "上一次报送已超时（10 分钟），内容未保存。",
        "您刚才发送的内容如下，如需报送请重新发送 /note：",
        "超时的<b>进展</b>",
    ]
    assert "<blockquote>超时的&lt;b&gt;进展&lt;/b&gt;</blockquote>" in late["text"]
    assert [n[-1] for n in live_notes(db_path)] == ["九分钟后"]


async def test_every_note_rule_has_its_message(
    bot: Users, api: FakeBotApi, db_path: Path, assistant: Assistant
) -> None:
    assert text(await bot.say(QIAN, "/note 5.1 我不是成员")) == NOT_MEMBER
    assert text(await bot.say(QIAN, "/note")) == NOT_MEMBER
    await bind_directly(db_path, FakeClock(START), [(ZHANG, HRSS)])

    ours = duties(assistant, HRSS)
    pages = await bot.says(ZHANG, "/note 2.3 烟草的事", 3)
    assert text(pages[0]).split("\n")[:2] == [
        f"「{HRSS}」不是举措 2.3 的责任单位。",
        f"请选择「{HRSS}」要报送进展的举措：",
    ]
    # Not a pageable query: every page of the unit's measures is sent, each with its buttons.
    assert [d for p in pages for d in buttons(p)] == [f"nm:{m}" for m in ours]

    unknown = await bot.says(ZHANG, "/note 9.9 不存在", 3)
    assert text(unknown[0]).startswith("没有编号为 9.9 的举措。")
    assert text(await bot.say(ZHANG, "/note 今年很好")) == (
        "请先写举措编号，再写进展，例如：/note 1.1 今年已召开专题会议部署，完成年度工作计划"
    )

    too_long = "字" * 1001
    refused = await bot.say(ZHANG, f"/note 5.1 {too_long}")
    assert text(refused) == "进展内容最多 1000 字，您发送了 1001 字，请精简后重新发送。"
    await bot.say(ZHANG, "/note 5.1")
    assert text(await bot.say(ZHANG, "\u3000 ")) == EMPTY_NOTE
    assert "您发送了 1001 字" in text(await bot.say(ZHANG, too_long))
    # The flow stays open after a refused text: a right one is taken.
    assert text(await bot.say(ZHANG, "字" * 1000)).startswith("已记录")
    assert [len(n[-1]) for n in live_notes(db_path)] == [1000]


@pytest.mark.parametrize("how", ["command", "flow"])
async def test_any_text_is_stored_exactly_and_shown_escaped(
    bot: Users, api: FakeBotApi, db_path: Path, how: str
) -> None:
    await bind_directly(db_path, FakeClock(START), [(ZHANG, HRSS)])
    if how == "command":
        reply = await bot.say(ZHANG, f"/note 5.1 {TRICKY}")
    else:
        await bot.say(ZHANG, "/note 5.1")
        reply = await bot.say(ZHANG, TRICKY)
    [(_, _, _, _, _, stored)] = live_notes(db_path)
    assert stored == TRICKY
    assert "&lt;b&gt;&amp;&lt;/b&gt;&lt;i" in reply["text"]
    assert text(reply).endswith(TRICKY)
    listed = await bot.say(ZHANG, "/notes")
    assert TRICKY in text(listed)
    assert "&lt;b&gt;&amp;&lt;/b&gt;&lt;i" in listed["text"]


# --------------------------------------------------------------------------------------------
# /notes: listing, editing, deleting
# --------------------------------------------------------------------------------------------


async def file(bot: Users, user: int, measure: str, note: str, clock: FakeClock) -> int:
    clock.advance(minutes=1)  # distinct times, so "newest first" is visible
    reply = await bot.say(user, f"/note {measure} {note}")
    match = re.search(r"（编号 (\d+)）", text(reply))
    assert match is not None, text(reply)
    return int(match.group(1))


async def test_notes_newest_first_with_buttons_on_ones_own(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS), (ZHAO, HRSS), (LI, "教育厅")])
    a = await file(bot, ZHANG, "5.1", "第一条", clock)
    b = await file(bot, ZHANG, "6.2", "第二条", clock)
    c = await file(bot, ZHAO, "7.1", "赵六写的", clock)
    await file(bot, LI, "7.1", "教育厅的", clock)

    mine = await bot.say(ZHANG, "/notes")
    assert text(mine).startswith(f"{HRSS} 2024 年进展（共 3 条，最新在前）")
    assert note_ids(mine) == [c, b, a]
    assert "赵六 · 2024-03-02 09:03" in text(mine)
    assert buttons(mine) == [f"ne:{b}", f"nd:{b}", f"ne:{a}", f"nd:{a}"]
    assert labels(mine) == [f"修改 #{b}", f"删除 #{b}", f"修改 #{a}", f"删除 #{a}"]

    theirs = await bot.say(ZHAO, "/notes")
    assert note_ids(theirs) == [c, b, a]
    assert buttons(theirs) == [f"ne:{c}", f"nd:{c}"]

    assert text(await bot.say(QIAN, "/notes")) == NOT_MEMBER


async def test_notes_page_by_five(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS)])
    ids = [await file(bot, ZHANG, "5.1", f"第{i}条", clock) for i in range(7)]
    first = await bot.say(ZHANG, "/notes")
    shown = nav(first)
    assert shown is not None
    assert note_ids(first) == ids[::-1][:5]
    second = await bot.edit(first, f"pg:{shown[0]}:1")
    assert note_ids(second) == ids[::-1][5:]
    assert buttons(second)[:2] == [f"ne:{ids[1]}", f"nd:{ids[1]}"]


async def test_edit_ones_own_note(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS)])
    a = await file(bot, ZHANG, "5.1", "旧内容", clock)
    listed = await bot.say(ZHANG, "/notes")

    asked = await bot.open(listed, f"ne:{a}")
    assert text(asked).split("\n") == [
        f"请发送第 {a} 条记录的新内容（1–1000 字）。10 分钟内有效，发送 /cancel 取消。",
        "原内容：",
        "旧内容",
    ]
    done = await bot.say(ZHANG, "新内容 <i>")
    assert text(done).split("\n") == [f"已修改第 {a} 条记录：", "新内容 <i>"]
    assert rows(db_path, "SELECT text, updated_at IS NOT NULL FROM notes") == [("新内容 <i>", 1)]
    relisted = await bot.say(ZHANG, "/notes")
    assert "（已修改）" in text(relisted)
    assert "新内容 <i>" in text(relisted)


async def test_delete_asks_first_and_keeps_the_note_for_the_record(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS)])
    a = await file(bot, ZHANG, "5.1", "保留的", clock)
    b = await file(bot, ZHANG, "6.2", "删除的", clock)
    listed = await bot.say(ZHANG, "/notes")

    confirm = await bot.open(listed, f"nd:{b}")
    assert text(confirm).split("\n") == [f"确定删除第 {b} 条记录（举措 6.2）吗？", "删除的"]
    assert labels(confirm) == ["确认删除", "取消"]
    kept = await bot.edit(confirm, f"nk:{b}")
    assert text(kept) == f"已取消删除，第 {b} 条记录保留。"
    assert keyboard(kept) == []
    assert note_ids(await bot.say(ZHANG, "/notes")) == [b, a]

    confirm = await bot.open(listed, f"nd:{b}")
    deleted = await bot.edit(confirm, data_of(confirm, "确认删除"))
    assert text(deleted) == f"已删除第 {b} 条记录。"
    assert note_ids(await bot.say(ZHANG, "/notes")) == [a]
    assert rows(db_path, "SELECT id, deleted_by FROM notes WHERE deleted_at IS NOT NULL") == [
        (b, "tg:101")
    ]
    # A second confirmation (the old button) finds nothing to delete.
    again = await bot.open(confirm, data_of(confirm, "确认删除"), strict=False)
    assert text(again) == "找不到这条记录，它可能已被删除。"


# --------------------------------------------------------------------------------------------
# The coordinator's view
# --------------------------------------------------------------------------------------------


async def test_progress_lists_silent_units_first_and_their_gaps(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock, assistant: Assistant
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS), (LI, "民政厅")])
    for measure in ("5.1", "11.1"):
        await file(bot, LI, measure, "民政厅进展", clock)
    await file(bot, ZHANG, "5.1", "人社厅进展", clock)

    first = await bot.say(COORDINATOR, "/progress")
    units = assistant.plan.units
    assert text(first).split("\n")[:2] == [
        "2024 年报送进度",
        f"{len(units)} 个单位，{len(units) - 2} 个尚未报送任何举措（排在最前）。",
    ]
    shown = nav(first)
    assert shown is not None
    token, _, count = shown
    pages = [first]
    for index in range(1, count):
        pages.append(await bot.edit(first, f"pg:{token}:{index}"))
        first = pages[-1]
    listed = [ln for p in pages for ln in text(p).split("\n") if ln.endswith("项举措已报送")]
    assert len(listed) == len(units)
    assert all(ln.endswith("：0/" + ln.split("/")[-1]) for ln in listed[: len(units) - 2])
    assert listed[-2:] == [f"{HRSS}：1/26 项举措已报送", "民政厅：2/3 项举措已报送"]

    # A silent unit's button lists all of its measures as missing.
    silent = units[[u.name for u in units].index("省烟草专卖局")]
    index = units.index(silent)
    gaps = await bot.open(pages[-1], f"pu:{YEAR}:{index}", strict=False)
    assert text(gaps).split("\n")[0] == "「省烟草专卖局」2024 年尚未报送的举措（3 项）："
    assert re.findall(r"^(\d+\.\d+) ", text(gaps), re.MULTILINE) == ["2.3", "11.1", "16.1"]
    # The last page holds 民政厅, with its one gap.
    civil = await bot.open(pages[-1], data_of(pages[-1], "民政厅 缺报"))
    assert re.findall(r"^(\d+\.\d+) ", text(civil), re.MULTILINE) == ["16.1"]
    # 人社厅's 25 gaps are paginated and the pages turn.
    hrss = await bot.open(pages[-1], data_of(pages[-1], f"{HRSS} 缺报"))
    hrss_nav = nav(hrss)
    assert hrss_nav is not None
    assert hrss_nav[1:] == (1, 3)
    missing = re.findall(r"^(\d+\.\d+) ", text(hrss), re.MULTILINE)
    for index in (1, 2):
        hrss = await bot.edit(hrss, f"pg:{hrss_nav[0]}:{index}")
        assert nav(hrss) == (hrss_nav[0], index + 1, 3)
        missing += re.findall(r"^(\d+\.\d+) ", text(hrss), re.MULTILINE)
    assert missing == [m for m in duties(assistant, HRSS) if m != "5.1"]


async def test_export_is_an_excel_workbook_of_the_year(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock, assistant: Assistant
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS), (LI, "民政厅")], names=NAMES)
    a = await file(bot, ZHANG, "5.1", "=1+1 不是公式", clock)
    b = await file(bot, ZHANG, "5.1", "第二条 5.1", clock)
    c = await file(bot, LI, "5.1", "民政厅进展", clock)
    listed = await bot.say(ZHANG, "/notes")
    confirm = await bot.open(listed, f"nd:{a}")
    await bot.edit(confirm, data_of(confirm, "确认删除"))

    before = len(api.calls_of("sendDocument"))
    reply = await bot.say(COORDINATOR, "/export 2024")
    assert text(reply) == "2024 年进展汇总已导出。"
    [call] = (await api.wait_for("sendDocument", count=before + 1))[before:]
    assert call.ok
    assert call.params["chat_id"] == COORDINATOR
    assert call.params["caption"] == "2024 年进展汇总"
    upload = call.params["document"]
    assert upload.filename == "进展汇总-2024.xlsx"

    workbook = load_workbook(io.BytesIO(upload.content))
    notes, matrix, silent, trail = workbook.worksheets
    assert [notes.title, matrix.title, silent.title, trail.title] == [
        "进展记录", "单位×举措", "未报送单位", "操作记录",
    ]  # fmt: skip
    table = [list(r) for r in notes.iter_rows(values_only=True)]
    assert table[0] == [
        "编号", "单位", "举措", "主要任务", "进展内容", "报送人", "报送时间", "修改时间", "已删除",
    ]  # fmt: skip
    assert [(r[0], r[1], r[2], r[4], r[5], r[6], r[8]) for r in table[1:]] == [
        (a, HRSS, "5.1", "=1+1 不是公式", "张三", "2024-03-02 09:01", "是"),
        (b, HRSS, "5.1", "第二条 5.1", "张三", "2024-03-02 09:02", "否"),
        (c, "民政厅", "5.1", "民政厅进展", "李四", "2024-03-02 09:03", "否"),
    ]
    assert str(table[1][3]).startswith("5. ")

    grid = [list(r) for r in matrix.iter_rows(values_only=True)]
    header = grid[0]
    plan = assistant.plan
    by_unit = {
        r[0]: dict(zip(header[1:], r[1:], strict=True)) for r in grid[1 : 1 + len(plan.units)]
    }
    assert header[1:] == [m.id for m in plan.measures]
    assert by_unit[HRSS]["5.1"] == 1  # the deleted note does not count
    assert by_unit["民政厅"]["5.1"] == 1
    assert by_unit[HRSS]["6.2"] is None  # responsible, nothing reported
    assert by_unit["省烟草专卖局"]["5.1"] == "—"  # not responsible

    silent_rows = [list(r) for r in silent.iter_rows(values_only=True)]
    assert silent_rows[0] == ["单位", "负责举措数"]
    expected = [[u.name, len(plan.duties_of(u.name))] for u in plan.units]
    assert silent_rows[1:] == [r for r in expected if r[0] not in (HRSS, "民政厅")]

    # /members lists who is bound.
    members = await bot.say(COORDINATOR, "/members")
    assert [ln for ln in text(members).split("\n") if ln] == [
        "成员 2 人：",
        f"{HRSS}：张三（ID tg:101，2024-03-02）",
        "民政厅：李四（ID tg:102，2024-03-02）",
    ]
    assert text(await bot.say(COORDINATOR, "/members 民政厅")).split("\n")[0] == "成员 1 人："


# --------------------------------------------------------------------------------------------
# Forbidden actions: each refused, nothing changed
# --------------------------------------------------------------------------------------------


async def sent_file(api: FakeBotApi, method: str, before: int, chat: int) -> Any:
    """Return the one upload sent by `method` after the first `before` such calls."""
    [call] = (await api.wait_for(method, count=before + 1))[before:]
    assert call.ok
    assert call.params["chat_id"] == chat
    return call


async def test_report_is_the_units_word_document(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock, assistant: Assistant
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS)], names=NAMES)
    await file(bot, ZHANG, "5.1", "今年新建残疾人之家12个", clock)
    plan = assistant.plan

    before = len(api.calls_of("sendDocument"))
    reply = await bot.say(ZHANG, "/report")
    assert text(reply) == f"「{HRSS}」2024 年度落实情况报告已生成。"
    call = await sent_file(api, "sendDocument", before, ZHANG)
    upload = call.params["document"]
    assert upload.filename == f"落实情况报告-{HRSS}-2024.docx"
    assert call.params["caption"] == report_title(plan, 2024, HRSS)
    document = docx.Document(io.BytesIO(upload.content))
    assert document.paragraphs[0].text == report_title(plan, 2024, HRSS)
    body = "\n".join(p.text for p in document.paragraphs)
    assert "今年新建残疾人之家12个" in body
    assert rows(db_path, "SELECT actor_id, action, unit FROM audit WHERE action = 'report'") == [
        (f"tg:{ZHANG}", "report", HRSS)
    ]

    # Naming one's own unit and an earlier year: that year's report, without the note.
    await bot.say(ZHANG, "/report 人社厅 2023")
    upload = (await sent_file(api, "sendDocument", before + 1, ZHANG)).params["document"]
    assert upload.filename == f"落实情况报告-{HRSS}-2023.docx"
    document = docx.Document(io.BytesIO(upload.content))
    assert document.paragraphs[0].text == report_title(plan, 2023, HRSS)
    assert "今年新建残疾人之家12个" not in "\n".join(p.text for p in document.paragraphs)


async def test_coordinators_report_any_unit_and_the_committees(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock, assistant: Assistant
) -> None:
    await bind_directly(db_path, clock, [(LI, "民政厅")], names=NAMES)
    await file(bot, LI, "5.1", "民政厅进展", clock)
    plan = assistant.plan

    before = len(api.calls_of("sendDocument"))
    await bot.say(COORDINATOR, "/report 民政厅 2024")
    upload = (await sent_file(api, "sendDocument", before, COORDINATOR)).params["document"]
    document = docx.Document(io.BytesIO(upload.content))
    assert document.paragraphs[0].text == report_title(plan, 2024, "民政厅")

    reply = await bot.say(COORDINATOR, "/report 全部")
    assert text(reply) == "「各单位汇总」2024 年度落实情况报告已生成。"
    upload = (await sent_file(api, "sendDocument", before + 1, COORDINATOR)).params["document"]
    assert upload.filename == "落实情况报告-各单位汇总-2024.docx"
    document = docx.Document(io.BytesIO(upload.content))
    assert document.paragraphs[0].text == report_title(plan, 2024, None)
    assert "民政厅进展" in "\n".join(p.text for p in document.paragraphs)

    # A coordinator bound to no unit must say which.
    reply = await bot.say(COORDINATOR, "/report")
    assert text(reply).startswith("请写明单位，例如：/report 人社厅 2024")
    assert len(api.calls_of("sendDocument")) == before + 2


async def test_progress_sends_the_picture_too(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock
) -> None:
    await bind_directly(db_path, clock, [(LI, "民政厅")], names=NAMES)
    await file(bot, LI, "5.1", "民政厅进展", clock)

    first = await bot.say(COORDINATOR, "/progress")
    assert text(first).startswith("2024 年报送进度")
    call = await sent_file(api, "sendPhoto", 0, COORDINATOR)
    assert call.params["caption"] == "2024 年报送进度（截至 2024-03-02）"
    upload = call.params["photo"]
    assert upload.content.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(upload.content))
    image.load()
    assert image.format == "PNG"
    assert image.width <= 1280

    # Turning the list's pages redraws the text only: no second picture.
    shown = nav(first)
    assert shown is not None
    await bot.edit(first, f"pg:{shown[0]}:1")
    await bot.settle()
    assert len(api.calls_of("sendPhoto")) == 1


async def test_reports_are_refused_to_whom_they_are_not_for(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS)], names=NAMES)
    before = snapshot(db_path)
    documents = len(api.calls_of("sendDocument"))

    assert text(await bot.say(QIAN, "/report")) == NOT_MEMBER
    assert text(await bot.say(QIAN, "/report 人社厅")) == NOT_MEMBER
    assert text(await bot.say(QIAN, "/report 全部")) == NOT_MEMBER
    assert text(await bot.say(ZHANG, "/report 全部")) == NOT_COORDINATOR
    assert text(await bot.say(ZHANG, "/report 民政厅 2024")) == (
        f"您只能生成本单位（{HRSS}）的报告。发送 /report 即可。"
    )
    assert text(await bot.say(ZHANG, "/report 2024年 3000")) == "年份格式不对，例如：/report 2024"
    assert text(await bot.say(ZHANG, "/report", chat=GROUP)) == PRIVATE_ONLY

    await bot.settle()
    assert snapshot(db_path) == before
    assert len(api.calls_of("sendDocument")) == documents
    assert api.calls_of("sendPhoto") == []


async def test_forbidden_actions_are_refused_and_change_nothing(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS), (ZHAO, HRSS), (LI, "教育厅")])
    mine = await file(bot, ZHANG, "5.1", "张三的记录", clock)
    await bot.say(QIAN, "/bind 教育厅")  # a pending request, for the approve attempts
    [(request_id,)] = rows(db_path, "SELECT id FROM bind_requests WHERE status = 'pending'")
    await api.wait_for_messages(COORDINATOR)
    before = snapshot(db_path)
    documents = len(api.calls_of("sendDocument"))
    cards = len(api.sent_messages(COORDINATOR))

    async def refused(user: int, command: str, expected: str) -> None:
        assert text(await bot.say(user, command)) == expected, command

    await refused(QIAN, "/note 5.1 不是成员", NOT_MEMBER)
    assert text((await bot.says(ZHANG, "/note 2.3 别人的举措", 3))[0]).startswith(
        f"「{HRSS}」不是举措 2.3 的责任单位。"
    )
    for command in ("/progress", "/export 2024", "/members", "/invite 教育厅", "/remind_test"):
        await refused(ZHANG, command, NOT_COORDINATOR)
        await refused(QIAN, command, NOT_COORDINATOR)

    # Buttons forged on one's own messages (callback data is client-controlled).
    prompt = await bot.say(ZHAO, "/whoami")
    someone_elses = "只有填写人本人可以修改或删除这条记录。"
    for data, expected in [
        (f"ne:{mine}", someone_elses),
        (f"nd:{mine}", someone_elses),
        (f"nD:{mine}", someone_elses),
        ("ne:99999", "找不到这条记录，它可能已被删除。"),
        ("nD:abc", "找不到这条记录，它可能已被删除。"),
        (f"nk:{mine}", someone_elses),
        ("nk:<b>随便写</b>", "找不到这条记录，它可能已被删除。"),
        (f"ap:{request_id}", NOT_COORDINATOR),
        (f"rj:{request_id}", NOT_COORDINATOR),
        (f"pu:{YEAR}:0", NOT_COORDINATOR),
        (f"chase:{YEAR}", NOT_COORDINATOR),
    ]:
        clock.advance(seconds=1)  # one press a second: within the per-person rate
        answer = await bot.open(prompt, data, strict=False)
        assert text(answer) == expected, data
    # A non-member trying someone's note gets the same refusal.
    stranger = await bot.say(QIAN, "/whoami")
    assert text(await bot.open(stranger, f"nD:{mine}", strict=False)) == someone_elses
    # Forged approvals, even by a coordinator.
    desk = await bot.say(COORDINATOR, "/whoami")
    assert text(await bot.open(desk, "ap:99999", strict=False)) == "找不到这条绑定申请。"
    assert text(await bot.open(desk, "ap:abc", strict=False)) == "按钮已过期，请重新提问"
    # An unknown button kind is merely expired.
    answer = await bot.press(desk, "zz:1", strict=False)
    assert answer.get("show_alert") is True

    await bot.settle()
    assert snapshot(db_path) == before
    assert len(api.calls_of("sendDocument")) == documents
    # Only the answers above: /whoami and two refusals.
    assert len(api.sent_messages(COORDINATOR)) == cards + 3


async def test_a_button_without_its_message_is_expired_before_it_acts(
    bot: Users, api: FakeBotApi, db_path: Path
) -> None:
    await bot.say(QIAN, "/bind 教育厅")
    [card] = await api.wait_for_messages(COORDINATOR)
    before = snapshot(db_path)
    # A query with no message to answer under (an inline message): nothing is done.
    query = api.press_button(
        card["chat_id"], card["message_id"], data_of(card, "批准"), inline=True
    )
    await api.wait_for(
        lambda c: c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query
    )
    [answer] = [a for a in api.answered_callbacks if a["callback_query_id"] == query]
    assert answer.get("text") == EXPIRED
    await bot.settle()
    assert snapshot(db_path) == before  # not approved
    assert await member_of(db_path, QIAN) is None
    assert len(api.sent_messages(QIAN)) == 1  # the request's receipt, and no approval


async def test_member_commands_in_a_group_point_to_the_private_chat(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS)])
    before = snapshot(db_path)
    for command in (
        "/bind 人社厅",
        "/unbind",
        "/note 5.1 群里写的",
        f"/note@{BOT_USERNAME} 5.1 群里写的",
        "/notes",
        "/cancel",
        "/export 2024",
    ):
        reply = await bot.say(ZHANG, command, chat=GROUP)
        assert text(reply) == PRIVATE_ONLY, command
    for command in ("/invite 教育厅", "/progress", "/members"):
        reply = await bot.say(COORDINATOR, command, chat=GROUP)
        assert text(reply) == PRIVATE_ONLY, command
    assert snapshot(db_path) == before

    # Who is who, and invites, are private: in a group only the pointer to the private chat.
    whoami = text(await bot.say(ZHANG, "/whoami", chat=GROUP))
    assert whoami == PRIVATE_ONLY
    assert HRSS not in whoami
    invite = await bot.say(COORDINATOR, "/invite 教育厅")
    code = LINK.search(text(invite))
    assert code is not None
    refused = text(await bot.say(ZHAO, f"/start {code.group(1)}", chat=GROUP))
    assert refused == JOIN_IN_PRIVATE
    assert rows(db_path, "SELECT 1 FROM members WHERE user_id = ?", (f"tg:{ZHAO}",)) == []
    # The code was not used up: opened in private, it binds.
    joined = text(await bot.say(ZHAO, f"/start {code.group(1)}"))
    assert "教育厅" in joined
    assert rows(db_path, "SELECT unit FROM members WHERE user_id = ?", (f"tg:{ZHAO}",)) == [
        ("教育厅",)
    ]
    assert text(await bot.say(ZHANG, "/remind", chat=GROUP)).startswith("年度报送提醒：开启。")


async def test_note_buttons_forged_in_a_group_post_nothing_private_there(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS)])
    note = await file(bot, ZHANG, "5.1", "只给本单位看的进展", clock)
    listed = await bot.say(ZHANG, "/notes")
    before = snapshot(db_path)
    in_group = await bot.say(ZHANG, "/help", chat=GROUP)  # a bot message to press on

    forged = [(ZHANG, f"{a}:{note}") for a in ("ne", "nd", "nD", "nk")]
    for user, data in [*forged, (ZHANG, "nm:5.1"), (COORDINATOR, "pu:2024:0")]:
        await bot.press(in_group, data, user, strict=False)
    await bot.settle()

    shown = [text(m) for m in api.sent_messages(GROUP)]
    assert not [t for t in shown if "只给本单位看的进展" in t or "尚未报送的举措" in t]
    assert PRIVATE_ONLY in shown
    assert snapshot(db_path) == before  # not deleted
    assert rows(db_path, "SELECT * FROM flows") == []  # no note started from the group
    # In the private chat the same buttons work.
    assert "只给本单位看的进展" in text(await bot.open(listed, f"nd:{note}", ZHANG))


# --------------------------------------------------------------------------------------------
# The audit trail
# --------------------------------------------------------------------------------------------


async def test_audit_for_coordinators_page_by_page(
    bot: Users, api: FakeBotApi, db_path: Path, clock: FakeClock
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS)])
    ids = [await file(bot, ZHANG, "5.1", f"第{i}条", clock) for i in range(12)]

    assert text(await bot.say(ZHANG, "/audit")) == NOT_COORDINATOR
    first = await bot.say(COORDINATOR, "/audit 12")
    shown = nav(first)
    assert shown is not None
    token, page, count = shown
    assert (page, count) == (1, 2)  # shown from 1
    second = await bot.edit(first, f"pg:{token}:1")

    listed = re.findall(r"新增进展 · 人力资源社会保障厅 · 记录 #(\d+)", text(first) + text(second))
    assert [int(n) for n in listed] == ids[::-1]
    assert "张三（ID tg:101）" in text(first)
    assert "第1条" not in text(first) + text(second)

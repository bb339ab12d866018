"""Tests for bot.office.office: members, invites, notes and the coordinators' view, stored."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
from openpyxl import load_workbook

from bot.ask.assistant import Assistant
from bot.clock import TZ
from bot.config import ReminderConfig
from bot.documents.plan import DATA_DIR
from bot.office.notes import EMPTY_NOTE, NOTE_MAX
from bot.office.office import Office
from bot.office.reminders import Reminders
from bot.outcome import Outcome, Person
from bot.reply import Item, Reply, all_buttons, render_plain
from bot.store import Store
from tests.fakes.clock import FakeClock

# The store fixture's backends (tests/conftest.py): members, requests, notes on both.
BACKENDS = ("sqlite", "postgres")
START = dt.datetime(2024, 3, 2, 9, 0, tzinfo=TZ)
HRSS = "人力资源社会保障厅"  # 人社厅: responsible for most measures, not for 2.3
TOBACCO = "省烟草专卖局"  # responsible for 2.3 and the shared 11.1 and 16.1 only

C1, C2 = Person("c1", "协调人甲"), Person("c2", "协调人乙")
ZHANG, LI, WANG = Person("u1", "张三"), Person("u2", "李四"), Person("u3", "王五")

NOT_COORDINATOR = "只有协调人"
NOT_MEMBER = "只有已绑定单位的成员"
EXPIRED_BUTTON = "按钮已过期"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def office(assistant: Assistant, store: Store, clock: FakeClock) -> Office:
    return Office(assistant, store, frozenset({"c1", "c2"}), clock=clock)


# --- helpers ----------------------------------------------------------------------------------


def text(outcome: Outcome | None) -> str:
    """The whole reply as plain text (header, items, button labels)."""
    assert outcome is not None
    return render_plain(outcome.reply)


def actions(outcome: Outcome | None) -> list[str]:
    assert outcome is not None
    return [b.action for b in all_buttons(outcome.reply)]


def quotes(outcome: Outcome | None) -> list[str]:
    """The quoted spans of a reply: the notes as shown back to people."""
    assert outcome is not None
    reply = outcome.reply
    lines = [*reply.header, *(ln for item in reply.items for ln in item.lines), *reply.footer]
    return [span.text for ln in lines for span in ln if span.style == "quote"]


def item_quote(item: Item) -> str:
    (quoted,) = [s.text for ln in item.lines for s in ln if s.style == "quote"]
    return quoted


def button(outcome: Outcome | None, label: str) -> str:
    """The action of the reply's button with this label."""
    assert outcome is not None
    found = [b.action for b in all_buttons(outcome.reply) if b.label == label]
    assert len(found) == 1, f"no single button {label!r} in {all_buttons(outcome.reply)}"
    return found[0]


def card(outcome: Outcome, label: str, to: str = "c1") -> str:
    """The action of a button on the request card a bind sent to coordinator `to`."""
    (notice,) = [n for n in outcome.notices if n.to == to]
    return button(Outcome(notice.reply), label)


async def press(office: Office, person: Person, action: str) -> Outcome:
    outcome = await office.action(person, action)
    assert outcome is not None, f"{action!r} is an office action"
    return outcome


async def join(office: Office, person: Person, unit: str = "人社厅") -> None:
    """Bind a person the way it happens in the chat: request, then a coordinator approves."""
    request = await office.membership.bind(person, unit)
    approved = await press(office, C1, card(request, "批准"))
    assert "已批准" in text(approved)
    await office.membership.send_notices(approved.notices, Outbox())  # as the channel does


async def file_note(office: Office, person: Person, measure_id: str, note: str) -> int:
    """File a note with /note and return its id."""
    outcome = await office.notes.note(person, f"{measure_id} {note}")
    match = re.search(r"（编号 (\d+)）", text(outcome))
    assert match, text(outcome)
    return int(match.group(1))


# --- binding requests -------------------------------------------------------------------------


async def test_bind_request_goes_to_every_coordinator_with_buttons(
    office: Office, store: Store
) -> None:
    outcome = await office.membership.bind(ZHANG, "人社厅")

    assert "已提交绑定「人力资源社会保障厅」的申请" in text(outcome)
    (request,) = await store.members.pending_requests()
    assert (request.user_id, request.name, request.unit) == ("u1", "张三", HRSS)
    assert [n.to for n in outcome.notices] == ["c1", "c2"]
    for notice in outcome.notices:
        card = render_plain(notice.reply)
        assert "张三" in card
        assert HRSS in card
        assert [(b.label, b.action) for b in all_buttons(notice.reply)] == [
            ("批准", f"ap:{request.id}"),
            ("拒绝", f"rj:{request.id}"),
        ]
    # Nothing is bound before a coordinator decides.
    assert await store.members.get("u1") is None
    assert not actions(outcome)


@pytest.mark.parametrize("written", ["人社厅", "四川省人力资源和社会保障厅", "人设厅"])
async def test_bind_understands_aliases_full_names_and_typos(
    office: Office, store: Store, written: str
) -> None:
    outcome = await office.membership.bind(ZHANG, written)

    assert len(outcome.notices) == 2
    (request,) = await store.members.pending_requests()
    assert request.unit == HRSS


async def test_bind_unknown_unit_suggests_close_names(office: Office, store: Store) -> None:
    outcome = await office.membership.bind(ZHANG, "火星局")

    assert "没有找到名为「火星局」的单位" in text(outcome)
    assert "您是不是要找" in text(outcome)
    assert outcome.notices == ()
    assert await store.members.pending_requests() == []


@pytest.mark.parametrize(
    ("written", "expected"),
    [("", "请在命令后写单位名称"), ("人社厅 教育厅", "请只写一个单位")],
)
async def test_bind_needs_exactly_one_unit(
    office: Office, store: Store, written: str, expected: str
) -> None:
    outcome = await office.membership.bind(ZHANG, written)

    assert expected in text(outcome)
    assert outcome.notices == ()
    assert await store.members.pending_requests() == []


async def test_bind_without_coordinators_says_so(assistant: Assistant, store: Store) -> None:
    office = Office(assistant, store, frozenset())

    outcome = await office.membership.bind(ZHANG, "人社厅")

    assert "尚未配置协调人" in text(outcome)
    assert outcome.notices == ()
    assert await store.members.pending_requests() == []


async def test_a_second_request_replaces_the_first(
    office: Office, store: Store, clock: FakeClock
) -> None:
    first = await office.membership.bind(ZHANG, "人社厅")
    clock.advance(minutes=10)  # the earliest a request may replace a pending one
    second = await office.membership.bind(ZHANG, "教育厅")

    (pending,) = await store.members.pending_requests()
    assert pending.unit == "教育厅"
    old = await press(office, C1, card(first, "批准"))
    assert "已被新的申请取代" in text(old)
    assert "无需再次处理" in text(old)
    assert old.notices == ()
    assert await store.members.get("u1") is None

    new = await press(office, C2, card(second, "批准", to="c2"))
    assert "已批准" in text(new)
    member = await store.members.get("u1")
    assert member is not None
    assert member.unit == "教育厅"


async def test_bind_to_ones_own_unit_again_is_not_a_request(office: Office, store: Store) -> None:
    await join(office, ZHANG)

    outcome = await office.membership.bind(ZHANG, "人力资源社会保障厅")

    assert f"您已是「{HRSS}」的成员" in text(outcome)
    assert outcome.notices == ()
    assert await store.members.pending_requests() == []


# --- deciding ---------------------------------------------------------------------------------


async def test_approve_binds_and_tells_the_requester(office: Office, store: Store) -> None:
    request = await office.membership.bind(ZHANG, "人社厅")

    outcome = await press(office, C1, card(request, "批准"))

    assert outcome.replace is True
    assert "已批准：张三 绑定到「人力资源社会保障厅」" in text(outcome)
    (notice,) = outcome.notices
    assert notice.to == "u1"
    assert "已获批准" in render_plain(notice.reply)
    member = await store.members.get("u1")
    assert member is not None
    assert (member.unit, member.bound_by) == (HRSS, "c1")
    assert await store.members.pending_requests() == []


async def test_reject_does_not_bind(office: Office, store: Store) -> None:
    request = await office.membership.bind(ZHANG, "人社厅")

    outcome = await press(office, C2, card(request, "拒绝"))

    assert outcome.replace is True
    assert "已拒绝" in text(outcome)
    (notice,) = outcome.notices
    assert notice.to == "u1"
    assert "未获批准" in render_plain(notice.reply)
    assert await store.members.get("u1") is None


@pytest.mark.parametrize(
    ("first", "then", "said"), [("批准", "拒绝", "已批准"), ("拒绝", "批准", "已拒绝")]
)
async def test_a_request_is_decided_only_once(
    office: Office, store: Store, first: str, then: str, said: str
) -> None:
    request = await office.membership.bind(ZHANG, "人社厅")
    await press(office, C1, card(request, first))

    again = await press(office, C2, card(request, then, to="c2"))

    assert f"这条申请{said}，无需再次处理" in text(again)
    assert again.notices == ()
    member = await store.members.get("u1")
    assert (member.unit if member else None) == (HRSS if first == "批准" else None)


async def test_a_non_coordinator_cannot_approve(office: Office, store: Store) -> None:
    request = await office.membership.bind(ZHANG, "人社厅")

    # The requester forges the coordinators' button.
    forged = await press(office, ZHANG, card(request, "批准"))

    assert NOT_COORDINATOR in text(forged)
    assert forged.notices == ()
    assert await store.members.get("u1") is None
    assert len(await store.members.pending_requests()) == 1
    # The request is still there for a real coordinator.
    assert "已批准" in text(await press(office, C1, card(request, "批准")))


@pytest.mark.parametrize(
    ("action", "said"),
    [
        ("ap:abc", EXPIRED_BUTTON),
        ("ap:", EXPIRED_BUTTON),
        ("rj:-1", EXPIRED_BUTTON),
        ("ap:²", EXPIRED_BUTTON),
        ("ap:99999999999999999999999", EXPIRED_BUTTON),
        ("ap:99999", "找不到这条绑定申请"),
        ("rj:99999", "找不到这条绑定申请"),
    ],
)
async def test_forged_request_ids_get_a_message(
    office: Office, store: Store, action: str, said: str
) -> None:
    await office.membership.bind(ZHANG, "人社厅")

    outcome = await press(office, C1, action)

    assert said in text(outcome)
    assert outcome.notices == ()
    assert await store.members.get("u1") is None
    assert len(await store.members.pending_requests()) == 1


# --- invites ----------------------------------------------------------------------------------


class Links:
    """The link function given to Office.invite: records the codes it is handed."""

    def __init__(self) -> None:
        self.codes: list[str] = []

    def __call__(self, code: str) -> str:
        self.codes.append(code)
        return f"https://t.me/fengong_bot?start={code}"


async def test_invite_binds_whoever_redeems_it(office: Office, store: Store) -> None:
    links = Links()

    created = await office.membership.invite(C1, "教育厅", links)

    (code,) = links.codes
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", code)
    assert f"https://t.me/fengong_bot?start={code}" in text(created)
    assert "「教育厅」的一次性邀请" in text(created)
    assert f"/join {code}" in text(created)
    assert await store.members.get("u1") is None

    redeemed = await office.membership.redeem(ZHANG, code)

    assert "已绑定到「教育厅」" in text(redeemed)
    member = await store.members.get("u1")
    assert member is not None
    assert (member.unit, member.bound_by) == ("教育厅", "c1")


async def test_an_invite_works_once(office: Office, store: Store) -> None:
    links = Links()
    await office.membership.invite(C1, "教育厅", links)
    await office.membership.redeem(ZHANG, links.codes[0])

    reused = await office.membership.redeem(LI, links.codes[0])

    assert "已经被使用过" in text(reused)
    assert await store.members.get("u2") is None


async def test_an_invite_expires_after_seven_days(
    office: Office, store: Store, clock: FakeClock
) -> None:
    links = Links()
    await office.membership.invite(C1, "教育厅", links)
    await office.membership.invite(C1, "民政厅", links)
    education, civil = links.codes

    clock.advance(days=6, hours=23)
    assert "已绑定到「教育厅」" in text(await office.membership.redeem(ZHANG, education))
    clock.advance(hours=1, minutes=1)
    expired = await office.membership.redeem(LI, civil)

    assert "已过期" in text(expired)
    assert await store.members.get("u2") is None


@pytest.mark.parametrize("code", ["nosuchcode", "bad code!", "", "x" * 65])
async def test_an_unknown_invite_is_refused(office: Office, store: Store, code: str) -> None:
    outcome = await office.membership.redeem(ZHANG, code)

    assert "邀请码无效" in text(outcome)
    assert await store.members.get("u1") is None


async def test_only_coordinators_create_invites(office: Office) -> None:
    links = Links()
    await join(office, ZHANG)

    outcome = await office.membership.invite(ZHANG, "教育厅", links)

    assert NOT_COORDINATOR in text(outcome)
    assert links.codes == []


async def test_invite_for_an_unknown_unit_creates_nothing(office: Office) -> None:
    links = Links()

    outcome = await office.membership.invite(C1, "火星局", links)

    assert "没有找到名为「火星局」的单位" in text(outcome)
    assert links.codes == []


# --- whoami, unbind, members ------------------------------------------------------------------


async def test_whoami(office: Office) -> None:
    assert "尚未绑定单位" in text(await office.membership.whoami(ZHANG))
    await join(office, ZHANG)

    mine = text(await office.membership.whoami(ZHANG))

    assert "张三" in mine
    assert "所属单位：人力资源社会保障厅（2024-03-02 绑定）" in mine
    assert "单位联络员" in mine
    assert "协调人" in text(await office.membership.whoami(C1))


async def test_unbind(office: Office, store: Store) -> None:
    await join(office, ZHANG)
    await office.notes.note(ZHANG, "5.1")  # a note flow is waiting for text

    outcome = await office.membership.unbind(ZHANG)

    assert f"已解除与「{HRSS}」的绑定" in text(outcome)
    assert await store.members.get("u1") is None
    assert not await office.notes.pending(ZHANG)
    assert await office.notes.text(ZHANG, "迟到的进展") is None
    assert "尚未绑定单位" in text(await office.membership.whoami(ZHANG))
    assert "您尚未绑定单位" in text(await office.membership.unbind(ZHANG))


async def test_members_is_for_coordinators_and_filters_by_unit(office: Office) -> None:
    assert "还没有任何成员" in text(await office.membership.members(C1))
    await join(office, ZHANG, "人社厅")
    await join(office, LI, "教育厅")

    assert NOT_COORDINATOR in text(await office.membership.members(ZHANG))
    everyone = text(await office.membership.members(C1))
    assert "成员 2 人" in everyone
    assert "张三" in everyone
    assert "李四" in everyone
    hrss = text(await office.membership.members(C1, "人社厅"))
    assert "成员 1 人" in hrss
    assert "张三" in hrss
    assert "李四" not in hrss
    assert f"「{TOBACCO}」还没有成员" in text(await office.membership.members(C1, "烟草专卖局"))


# --- filing notes -----------------------------------------------------------------------------


async def test_note_is_stored_with_unit_measure_year_and_author(
    office: Office, store: Store
) -> None:
    await join(office, ZHANG)

    outcome = await office.notes.note(ZHANG, "5.1 今年新建残疾人之家12个")

    assert f"已记录「{HRSS}」举措 5.1 的 2024 年进展" in text(outcome)
    assert quotes(outcome) == ["今年新建残疾人之家12个"]
    (note,) = await store.notes.find()
    assert (note.unit, note.measure_id, note.year) == (HRSS, "5.1", 2024)
    assert (note.author_id, note.author_name) == ("u1", "张三")
    assert note.text == "今年新建残疾人之家12个"
    assert note.created_at == START


@pytest.mark.parametrize(
    ("utc", "shanghai_day", "year"),
    [
        (dt.datetime(2022, 12, 31, 15, 30, tzinfo=dt.UTC), (2022, 12, 31, 23), 2022),
        (dt.datetime(2022, 12, 31, 16, 30, tzinfo=dt.UTC), (2023, 1, 1, 0), 2023),
    ],
)
@pytest.mark.parametrize("zone", [dt.UTC, TZ], ids=["clock-in-utc", "clock-in-shanghai"])
async def test_the_year_is_shanghais(
    office: Office,
    store: Store,
    clock: FakeClock,
    utc: dt.datetime,
    shanghai_day: tuple[int, int, int, int],
    year: int,
    zone: dt.tzinfo,
) -> None:
    local = utc.astimezone(TZ)
    assert (local.year, local.month, local.day, local.hour) == shanghai_day
    clock.now = utc.astimezone(zone)
    await join(office, ZHANG)

    outcome = await office.notes.note(ZHANG, "5.1 年末报送")

    assert f"的 {year} 年进展" in text(outcome)
    (note,) = await store.notes.find()
    assert note.year == year
    assert note.created_at == utc
    listed = await office.notes.notes(ZHANG)
    assert f"{HRSS} {year} 年进展" in text(listed)
    assert quotes(listed) == ["年末报送"]


async def test_a_non_member_cannot_file(office: Office, store: Store) -> None:
    outcome = await office.notes.note(WANG, "5.1 我不是成员")

    assert NOT_MEMBER in text(outcome)
    assert await store.notes.find(include_deleted=True) == []
    assert not await office.notes.pending(WANG)


async def test_a_measure_of_another_unit_is_refused_with_the_units_measures(
    office: Office, store: Store
) -> None:
    await join(office, ZHANG)

    outcome = await office.notes.note(ZHANG, "2.3 不是我们的举措")

    assert f"「{HRSS}」不是举措 2.3 的责任单位" in text(outcome)
    duties = office.membership.plan.duties_of(HRSS)
    assert actions(outcome) == [f"nm:{m.id}" for m in duties]
    assert "nm:2.3" not in actions(outcome)
    assert await store.notes.find(include_deleted=True) == []
    assert not await office.notes.pending(ZHANG)


async def test_an_unknown_measure_is_refused(office: Office, store: Store) -> None:
    await join(office, ZHANG)

    outcome = await office.notes.note(ZHANG, "9.9 没有这条")

    assert "没有编号为 9.9 的举措" in text(outcome)
    assert "nm:5.1" in actions(outcome)
    assert await store.notes.find(include_deleted=True) == []


async def test_a_note_without_a_measure_id_is_explained(office: Office, store: Store) -> None:
    await join(office, ZHANG)

    outcome = await office.notes.note(ZHANG, "今年新建残疾人之家")

    assert "请先写举措编号" in text(outcome)
    assert await store.notes.find(include_deleted=True) == []


@pytest.mark.parametrize("measure_id", ["11.1", "16.1"])
async def test_shared_duties_are_open_to_every_unit(
    office: Office, store: Store, measure_id: str
) -> None:
    await join(office, ZHANG, "人社厅")
    await join(office, WANG, "烟草专卖局")

    await file_note(office, ZHANG, measure_id, "人社厅的共同职责")
    await file_note(office, WANG, measure_id, "烟草局的共同职责")

    notes = await store.notes.find()
    assert sorted((n.unit, n.measure_id) for n in notes) == [
        (HRSS, measure_id),
        (TOBACCO, measure_id),
    ]
    # …whereas the tobacco bureau has nothing to do with 1.1.
    assert "不是举措 1.1 的责任单位" in text(await office.notes.note(WANG, "1.1 越权"))


async def test_note_length_limits(office: Office, store: Store) -> None:
    await join(office, ZHANG)

    too_long = await office.notes.note(ZHANG, "5.1 " + "长" * (NOTE_MAX + 1))
    assert "1001" in text(too_long)
    assert await store.notes.find() == []

    await file_note(office, ZHANG, "5.1", "满" * NOTE_MAX)
    (note,) = await store.notes.find()
    assert note.text == "满" * NOTE_MAX


async def test_in_the_flow_a_refused_text_can_simply_be_sent_again(
    office: Office, store: Store
) -> None:
    await join(office, ZHANG)
    started = await office.notes.note(ZHANG, "5.1")
    assert "请发送举措 5.1 的进展" in text(started)

    too_long = await office.notes.text(ZHANG, "长" * 1001)
    assert "1001" in text(too_long)
    assert await office.notes.pending(ZHANG)
    empty = await office.notes.text(ZHANG, "  \n ")
    assert "不能为空" in text(empty)
    assert await office.notes.pending(ZHANG)
    assert await store.notes.find() == []

    saved = await office.notes.text(ZHANG, "精简后的进展")

    assert "已记录" in text(saved)
    assert [(n.measure_id, n.text) for n in await store.notes.find()] == [("5.1", "精简后的进展")]
    assert not await office.notes.pending(ZHANG)


async def test_note_without_id_offers_the_units_measures_as_buttons(
    office: Office, store: Store
) -> None:
    await join(office, ZHANG)

    menu = await office.notes.note(ZHANG, "")

    assert f"请选择「{HRSS}」要报送进展的举措" in text(menu)
    assert actions(menu) == [f"nm:{m.id}" for m in office.membership.plan.duties_of(HRSS)]
    assert not await office.notes.pending(ZHANG)

    chosen = await press(office, ZHANG, button(menu, "报送 6.2"))
    assert "请发送举措 6.2 的进展" in text(chosen)
    assert await office.notes.pending(ZHANG)

    saved = await office.notes.text(ZHANG, "开展职业技能培训3000人次")
    assert "举措 6.2" in text(saved)
    assert quotes(saved) == ["开展职业技能培训3000人次"]
    assert [(n.measure_id, n.text) for n in await store.notes.find()] == [
        ("6.2", "开展职业技能培训3000人次")
    ]
    # The flow is over: the next text is not the office's.
    assert await office.notes.text(ZHANG, "随便问问") is None


async def test_measure_buttons_check_membership_and_responsibility(office: Office) -> None:
    assert NOT_MEMBER in text(await press(office, WANG, "nm:6.2"))
    assert not await office.notes.pending(WANG)
    await join(office, ZHANG)
    assert "不是举措 2.3 的责任单位" in text(await press(office, ZHANG, "nm:2.3"))
    assert "没有编号为 abc 的举措" in text(await press(office, ZHANG, "nm:abc"))
    assert not await office.notes.pending(ZHANG)


async def test_text_without_a_flow_is_not_the_offices(office: Office) -> None:
    await join(office, ZHANG)

    assert await office.notes.text(ZHANG, "人社厅负责什么") is None


@pytest.mark.parametrize("how", ["command", "button"])
async def test_cancel_aborts_the_flow(office: Office, store: Store, how: str) -> None:
    await join(office, ZHANG)
    await office.notes.note(ZHANG, "5.1")

    notes = office.notes
    outcome = await notes.cancel(ZHANG) if how == "command" else await press(office, ZHANG, "nc")

    assert "已取消" in text(outcome)
    assert await office.notes.text(ZHANG, "本来要报送的内容") is None
    assert await store.notes.find() == []
    assert "当前没有进行中的操作" in text(await office.notes.cancel(ZHANG))


async def test_the_flow_times_out_and_gives_the_text_back(
    office: Office, store: Store, clock: FakeClock
) -> None:
    await join(office, ZHANG)
    await office.notes.note(ZHANG, "5.1")
    clock.advance(minutes=11)
    typed = "写了很久的进展\n第二段"

    outcome = await office.notes.text(ZHANG, typed)

    assert "超时" in text(outcome)
    assert "未保存" in text(outcome)
    assert quotes(outcome) == [typed]
    assert await store.notes.find() == []
    assert not await office.notes.pending(ZHANG)
    assert await office.notes.text(ZHANG, typed) is None


async def test_a_note_abandoned_long_ago_lets_the_next_text_be_a_question(
    office: Office, store: Store, clock: FakeClock
) -> None:
    await join(office, ZHANG)
    await office.notes.note(ZHANG, "5.1")
    clock.advance(hours=3)
    # Not a late note: the member has moved on, and the text is answered as a question.
    assert await office.notes.text(ZHANG, "人社厅负责什么") is None
    assert not await office.notes.pending(ZHANG)
    assert await store.notes.find() == []


async def test_the_flow_waits_nine_minutes(office: Office, store: Store, clock: FakeClock) -> None:
    await join(office, ZHANG)
    await office.notes.note(ZHANG, "5.1")
    clock.advance(minutes=9)

    outcome = await office.notes.text(ZHANG, "九分钟后")

    assert "已记录" in text(outcome)
    assert [n.text for n in await store.notes.find()] == ["九分钟后"]


TRICKY = [
    "他说：\"好\"，又说 'OK'，还有「引号」",
    "'); DROP TABLE notes;--",
    "<b>&</b><i",
    "🎉👍🏽 完成",
    "第一行\n第二行\n\n  第四行（行首空格）",
    "%s %(name)s {0} \\n \\x00 $1 *粗* _斜_ `代码`",
    '=HYPERLINK("http://example.com","点我")',
]


@pytest.mark.parametrize("typed", TRICKY)
@pytest.mark.parametrize("how", ["command", "flow"])
async def test_tricky_text_round_trips_exactly(
    office: Office, store: Store, typed: str, how: str
) -> None:
    await join(office, ZHANG)

    if how == "command":
        outcome = await office.notes.note(ZHANG, f"5.1 {typed}")
    else:
        await office.notes.note(ZHANG, "5.1")
        outcome = await office.notes.text(ZHANG, typed)

    assert quotes(outcome) == [typed]
    (note,) = await store.notes.find()
    assert note.text == typed
    assert quotes(await office.notes.notes(ZHANG)) == [typed]


# --- listing, editing, deleting ---------------------------------------------------------------


async def test_notes_lists_this_years_notes_newest_first_with_buttons_on_ones_own(
    office: Office, clock: FakeClock
) -> None:
    await join(office, ZHANG)
    await join(office, LI)
    clock.now = dt.datetime(2023, 12, 30, 10, 0, tzinfo=TZ)
    await file_note(office, ZHANG, "7.1", "去年的进展")
    clock.now = START
    first = await file_note(office, ZHANG, "5.1", "甲")
    clock.advance(minutes=1)
    second = await file_note(office, LI, "6.2", "乙")
    clock.advance(minutes=1)
    third = await file_note(office, ZHANG, "7.1", "丙")

    mine = await office.notes.notes(ZHANG)

    assert f"{HRSS} 2024 年进展" in text(mine)
    assert "共 3 条" in text(mine)
    assert [item_quote(i) for i in mine.reply.items] == ["丙", "乙", "甲"]
    assert "去年的进展" not in text(mine)
    assert [[b.action for b in i.buttons] for i in mine.reply.items] == [
        [f"ne:{third}", f"nd:{third}"],
        [],
        [f"ne:{first}", f"nd:{first}"],
    ]
    theirs = await office.notes.notes(LI)
    assert [[b.action for b in i.buttons] for i in theirs.reply.items] == [
        [],
        [f"ne:{second}", f"nd:{second}"],
        [],
    ]


async def test_notes_are_per_unit_and_for_members(office: Office) -> None:
    await join(office, ZHANG, "人社厅")
    await join(office, LI, "教育厅")
    await file_note(office, ZHANG, "5.1", "人社厅的进展")

    assert NOT_MEMBER in text(await office.notes.notes(WANG))
    others = await office.notes.notes(LI)
    assert "「教育厅」2024 年还没有报送进展" in text(others)
    assert quotes(others) == []
    # A coordinator may look at any unit, but has no buttons on others' notes.
    seen = await office.notes.notes(C1, "人社厅")
    assert quotes(seen) == ["人社厅的进展"]
    assert actions(seen) == []


async def test_a_delete_confirmed_on_an_older_text_asks_again(
    office: Office, store: Store
) -> None:
    """The confirmation confirms the text it showed: edited since, it is shown anew."""
    await join(office, ZHANG)
    note_id = await file_note(office, ZHANG, "5.1", "原来的内容")
    asked = await press(office, ZHANG, f"nd:{note_id}")
    await office.notes.edit(ZHANG, str(note_id))
    await office.notes.text(ZHANG, "修改后的内容")

    again = await press(office, ZHANG, button(asked, "确认删除"))  # the old card

    assert "已被修改" in text(again)
    assert quotes(again) == ["修改后的内容"]
    (note,) = await store.notes.find()
    assert (note.id, note.text, note.deleted) == (note_id, "修改后的内容", False)
    done = await press(office, ZHANG, button(again, "确认删除"))
    assert f"已删除第 {note_id} 条记录" in text(done)
    assert await store.notes.find() == []


async def test_an_edit_started_on_an_older_text_overwrites_nothing(
    office: Office, store: Store
) -> None:
    await join(office, ZHANG)
    note_id = await file_note(office, ZHANG, "5.1", "原来的内容")
    await office.notes.edit(ZHANG, str(note_id))
    # Meanwhile the note is changed elsewhere (the web console's form).
    await office.notes.rewrite(ZHANG, str(note_id), "网页上改的内容")

    late = await office.notes.text(ZHANG, "聊天里改的内容")

    assert "已被改动" in text(late)
    assert quotes(late) == ["聊天里改的内容", "网页上改的内容"]  # nothing typed is lost
    (note,) = await store.notes.find()
    assert note.text == "网页上改的内容"
    assert await store.flows.get(ZHANG.id) is None


async def test_edit_ones_own_note(office: Office, store: Store) -> None:
    await join(office, ZHANG)
    note_id = await file_note(office, ZHANG, "5.1", "原来的内容")

    started = await press(office, ZHANG, f"ne:{note_id}")
    assert f"第 {note_id} 条记录的新内容" in text(started)
    assert quotes(started) == ["原来的内容"]
    edited = await office.notes.text(ZHANG, "修改后的内容")

    assert f"已修改第 {note_id} 条记录" in text(edited)
    assert quotes(edited) == ["修改后的内容"]
    note = await store.notes.get(note_id)
    assert note is not None
    assert note.text == "修改后的内容"
    assert note.updated_at is not None
    listed = await office.notes.notes(ZHANG)
    assert quotes(listed) == ["修改后的内容"]
    assert "（已修改）" in text(listed)


async def test_editing_someone_elses_note_is_refused(office: Office, store: Store) -> None:
    await join(office, ZHANG)
    await join(office, LI)
    note_id = await file_note(office, ZHANG, "5.1", "张三的内容")

    outcome = await press(office, LI, f"ne:{note_id}")

    assert "只有填写人本人可以修改或删除这条记录" in text(outcome)
    assert not await office.notes.pending(LI)
    assert await office.notes.text(LI, "李四的篡改") is None
    note = await store.notes.get(note_id)
    assert note is not None
    assert note.text == "张三的内容"


async def test_delete_can_be_called_off(office: Office, store: Store) -> None:
    await join(office, ZHANG)
    note_id = await file_note(office, ZHANG, "5.1", "留着的内容")

    asked = await press(office, ZHANG, f"nd:{note_id}")
    kept = await press(office, ZHANG, button(asked, "取消"))

    assert "保留" in text(kept)
    assert kept.replace is True
    (note,) = await store.notes.find()
    assert (note.id, note.deleted) == (note_id, False)


async def test_delete_asks_then_soft_deletes(office: Office, store: Store) -> None:
    await join(office, ZHANG)
    note_id = await file_note(office, ZHANG, "5.1", "要删除的内容")

    asked = await press(office, ZHANG, f"nd:{note_id}")

    assert f"确定删除第 {note_id} 条记录" in text(asked)
    assert quotes(asked) == ["要删除的内容"]
    (shown,) = await store.notes.find()
    assert actions(asked) == [f"nD:{note_id}:{shown.version}", f"nk:{note_id}"]
    still = await store.notes.get(note_id)
    assert still is not None
    assert not still.deleted

    done = await press(office, ZHANG, button(asked, "确认删除"))

    assert f"已删除第 {note_id} 条记录" in text(done)
    assert done.replace is True
    assert "还没有报送进展" in text(await office.notes.notes(ZHANG))
    assert await store.notes.find() == []
    (kept,) = await store.notes.find(include_deleted=True)
    assert (kept.id, kept.text, kept.deleted, kept.deleted_by) == (
        note_id,
        "要删除的内容",
        True,
        "u1",
    )
    again = await press(office, ZHANG, f"nD:{note_id}")
    assert "找不到这条记录" in text(again)
    assert "找不到这条记录" in text(await press(office, ZHANG, f"ne:{note_id}"))


@pytest.mark.parametrize("action", ["nd", "nD"])
async def test_deleting_someone_elses_note_is_refused(
    office: Office, store: Store, action: str
) -> None:
    await join(office, ZHANG)
    await join(office, LI)
    note_id = await file_note(office, ZHANG, "5.1", "张三的内容")

    outcome = await press(office, LI, f"{action}:{note_id}")

    assert "只有填写人本人可以修改或删除这条记录" in text(outcome)
    assert actions(outcome) == []
    note = await store.notes.get(note_id)
    assert note is not None
    assert not note.deleted


@pytest.mark.parametrize("action", ["ne", "nd", "nD"])
@pytest.mark.parametrize("forged", ["", "abc", "-1", "²", "99999", "99999999999999999999999"])
async def test_forged_note_ids_get_a_message(office: Office, action: str, forged: str) -> None:
    await join(office, ZHANG)

    outcome = await press(office, ZHANG, f"{action}:{forged}")

    assert "找不到这条记录" in text(outcome)
    assert not await office.notes.pending(ZHANG)


# --- progress ---------------------------------------------------------------------------------


def item_units(outcome: Outcome) -> list[str]:
    """The unit named (in bold) at the start of each item."""
    return [item.lines[0][0].text for item in outcome.reply.items]


async def test_progress_is_for_coordinators(office: Office) -> None:
    await join(office, ZHANG)

    assert NOT_COORDINATOR in text(await office.overview.progress(ZHANG))
    assert NOT_COORDINATOR in text(await press(office, ZHANG, "pu:2024:9"))


async def test_progress_puts_silent_units_first_and_counts_live_notes(
    office: Office, store: Store
) -> None:
    plan = office.membership.plan
    await join(office, ZHANG, "人社厅")
    await join(office, WANG, "烟草专卖局")
    before = await office.overview.progress(C1)
    assert "29 个单位，29 个尚未报送任何举措" in text(before)

    await file_note(office, ZHANG, "5.1", "一")
    await file_note(office, ZHANG, "5.1", "同一举措的第二条")
    await file_note(office, ZHANG, "11.1", "二")
    deleted = await file_note(office, ZHANG, "6.2", "删掉的")
    await store.notes.delete(deleted, "u1")
    await file_note(office, WANG, "2.3", "烟草")

    outcome = await office.overview.progress(C1)

    assert "2024 年报送进度" in text(outcome)
    assert "29 个单位，27 个尚未报送任何举措" in text(outcome)
    units = item_units(outcome)
    assert len(units) == 29
    assert set(units[:27]) == {u.name for u in plan.units} - {HRSS, TOBACCO}
    # 2 of 26 is less done than 1 of 3.
    assert units[27:] == [HRSS, TOBACCO]
    assert f"{HRSS}：2/26 项举措已报送" in text(outcome)
    assert f"{TOBACCO}：1/3 项举措已报送" in text(outcome)
    assert "教育厅：0/9 项举措已报送" in text(outcome)
    index = [u.name for u in plan.units].index(HRSS)
    assert button(outcome, f"{HRSS} 缺报") == f"pu:2024:{index}"

    missing = await press(office, C1, f"pu:2024:{index}")

    assert f"「{HRSS}」2024 年尚未报送的举措（24 项）" in text(missing)
    listed = [item.lines[0][0].text for item in missing.reply.items]
    assert listed == [m.id for m in plan.duties_of(HRSS) if m.id not in {"5.1", "11.1"}]
    assert "6.2" in listed  # its only note was deleted


IDLE = "省测试局"


def idle_unit_data(target: Path) -> Path:
    """The notice's data, plus a unit in units.yaml that no measure names (check-data passes)."""
    target.mkdir()
    for name in ("plan.yaml", "units.yaml", "lexicon.yaml"):
        (target / name).write_text((DATA_DIR / name).read_text(encoding="utf-8"), "utf-8")
    plan = (target / "plan.yaml").read_text(encoding="utf-8")
    # Shared measures would bind it too: without them it has nothing to report.
    (target / "plan.yaml").write_text(plan.replace("    all_provincial: true\n", ""), "utf-8")
    with (target / "units.yaml").open("a", encoding="utf-8") as units:
        units.write(f"  - name: {IDLE}\n    full_name: 四川省测试局\n")
    return target


async def test_progress_with_a_unit_that_has_no_measures(
    tmp_path: Path, store: Store, clock: FakeClock
) -> None:
    assistant = Assistant.load(idle_unit_data(tmp_path / "data"))
    office = Office(assistant, store, frozenset({"c1"}), clock)
    assert office.membership.plan.duties_of(IDLE) == ()

    outcome = await office.overview.progress(C1, picture=True)

    assert "29 个单位，29 个尚未报送任何举措" in text(outcome)
    assert f"另有 1 个单位没有负责的举措，不计入进度：{IDLE}。" in text(outcome)
    assert f"{IDLE} 缺报" not in text(outcome)
    assert outcome.picture is not None
    assert outcome.picture.data.startswith(b"\x89PNG")


async def test_progress_unit_when_everything_is_reported(office: Office) -> None:
    await join(office, WANG, "烟草专卖局")
    for measure_id in ("2.3", "11.1", "16.1"):
        await file_note(office, WANG, measure_id, "已完成")
    progress = await office.overview.progress(C1)

    outcome = await press(office, C1, button(progress, f"{TOBACCO} 缺报"))

    assert f"「{TOBACCO}」2024 年的举措已全部报送" in text(outcome)
    assert f"{TOBACCO}：3/3 项举措已报送" in text(progress)
    assert item_units(progress)[-1] == TOBACCO


async def test_progress_of_another_year(office: Office, clock: FakeClock) -> None:
    await join(office, ZHANG)
    clock.now = dt.datetime(2023, 6, 1, 12, 0, tzinfo=TZ)
    await file_note(office, ZHANG, "5.1", "2023 年的进展")
    clock.now = START

    assert "29 个尚未报送" in text(await office.overview.progress(C1))
    for arg in ("2023", "2023年", " 2023 "):
        outcome = await office.overview.progress(C1, arg)
        assert "2023 年报送进度" in text(outcome)
        assert "28 个尚未报送" in text(outcome)
    for bad in ("abc", "1999", "²", "99999999999999999999"):
        assert "年份格式不对" in text(await office.overview.progress(C1, bad))


@pytest.mark.parametrize(
    ("now", "shown"),
    [
        (dt.datetime(2026, 12, 1, 9, 0, tzinfo=TZ), 2024),  # the plan is over: its last year
        (dt.datetime(2023, 6, 1, 9, 0, tzinfo=TZ), 2023),  # within the plan: this year
        (dt.datetime(2021, 6, 1, 9, 0, tzinfo=TZ), 2022),  # before it: its first year
    ],
)
async def test_the_default_year_is_within_the_plans_years(
    office: Office, clock: FakeClock, now: dt.datetime, shown: int
) -> None:
    await join(office, ZHANG)
    clock.now = now

    assert text(await office.overview.progress(C1)).startswith(f"{shown} 年报送进度")
    export = await office.overview.export(C1)
    assert export.attachment is not None
    assert export.attachment.filename == f"进展汇总-{shown}.xlsx"
    report = await office.overview.report(ZHANG)
    assert report.attachment is not None
    assert report.attachment.filename == f"落实情况报告-{HRSS}-{shown}.docx"
    assert f"「{HRSS}」{shown} 年还没有报送进展" in text(await office.notes.notes(ZHANG))


async def test_a_note_after_the_plan_counts_for_its_last_year(
    office: Office, store: Store, clock: FakeClock
) -> None:
    await join(office, ZHANG)
    clock.now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ)

    outcome = await office.notes.note(ZHANG, "5.1 补报：全年新建残疾人之家12个")

    assert text(outcome).splitlines() == [
        f"已记录「{HRSS}」举措 5.1 的 2024 年进展（编号 1）：",
        "补报：全年新建残疾人之家12个",
        "2026 年不在本文件的报送年度内，这条进展计入 2024 年度。",
    ]
    (note,) = await store.notes.find()
    assert note.year == 2024
    # Where the coordinators look by default: the last year's progress and its gaps.
    assert f"{HRSS}：1/26 项举措已报送" in text(await office.overview.progress(C1))
    # Within the plan the acknowledgement is the usual one.
    clock.now = START
    filed = await office.notes.note(ZHANG, "6.2 今年的进展")
    assert len(text(filed).splitlines()) == 2


@pytest.mark.parametrize(
    "forged",
    [
        "pu:",
        "pu:abc",
        "pu:2024",
        "pu:2024:",
        "pu:2024:29",
        "pu:2024:999",
        "pu:2024:-1",
        "pu:2024:x",
        "pu:²:0",
        "pu:2024:²",
        "pu:99999999999999999999:0",
    ],
)
async def test_forged_progress_buttons_get_a_message(office: Office, forged: str) -> None:
    outcome = await press(office, C1, forged)

    assert EXPIRED_BUTTON in text(outcome)
    assert outcome.reply.items == ()


# --- export -----------------------------------------------------------------------------------


async def test_export_is_for_coordinators(office: Office) -> None:
    await join(office, ZHANG)

    outcome = await office.overview.export(ZHANG)

    assert NOT_COORDINATOR in text(outcome)
    assert outcome.attachment is None


async def test_export_attaches_a_workbook(office: Office) -> None:
    await join(office, ZHANG)
    await file_note(office, ZHANG, "5.1", "导出的进展")

    outcome = await office.overview.export(C1)

    assert outcome.attachment is not None
    assert outcome.attachment.filename == "进展汇总-2024.xlsx"
    assert "2024 年进展汇总已导出" in text(outcome)
    workbook = load_workbook(io.BytesIO(outcome.attachment.data))
    assert workbook.sheetnames == ["进展记录", "单位×举措", "未报送单位", "操作记录"]
    assert workbook["进展记录"]["E2"].value == "导出的进展"

    other = await office.overview.export(C1, "2023")
    assert other.attachment is not None
    assert other.attachment.filename == "进展汇总-2023.xlsx"
    assert load_workbook(io.BytesIO(other.attachment.data))["进展记录"].max_row == 1

    bad = await office.overview.export(C1, "1999")
    assert "年份格式不对" in text(bad)
    assert bad.attachment is None


# --- buttons that are not the office's --------------------------------------------------------


@pytest.mark.parametrize("action", ["m:7.2", "ex:0", "", "zz:1", "apx:1"])
async def test_other_actions_are_not_the_offices(office: Office, action: str) -> None:
    assert await office.action(C1, action) is None


# --- hardening: a note goes to the unit it was meant for, survives restarts, is visible -------


class ProcessDied(BaseException):
    """The process dies in the middle of a send (no handler of the bot's catches it)."""


@dataclass
class Outbox:
    """A channel that records what it was asked to send; `crash` dies before sending."""

    crash: bool = False
    sent: list[tuple[str, str]] = field(default_factory=list)

    async def __call__(self, to: str, reply: Reply) -> Literal["sent"]:
        if self.crash:
            raise ProcessDied
        self.sent.append((to, render_plain(reply)))
        return "sent"


async def reopened(assistant: Assistant, database: str | Path, clock: FakeClock) -> Office:
    """The office of a restarted bot, on the same database as the `store` fixture."""
    store = await Store.open(database, clock)
    return Office(assistant, store, frozenset({"c1", "c2"}), clock=clock)


async def test_an_approval_to_another_unit_ends_the_pending_note(
    office: Office, store: Store
) -> None:
    await join(office, ZHANG)
    await office.notes.note(ZHANG, "5.1")  # 5.1 is 人社厅's, not the tobacco bureau's
    asked = await office.membership.bind(ZHANG, "烟草专卖局")

    approved = await press(office, C1, card(asked, "批准"))

    (notice,) = approved.notices
    told = render_plain(notice.reply)
    assert notice.to == "u1"
    assert f"「{TOBACCO}」的申请已获批准" in told
    assert "您正在填写的举措 5.1 的进展已取消（所属单位已变更）" in told
    assert not await office.notes.pending(ZHANG)
    assert await office.notes.text(ZHANG, "本是人社厅的进展") is None
    assert await store.notes.find(include_deleted=True) == []


async def test_an_approval_to_the_same_unit_keeps_the_pending_note(
    office: Office, store: Store
) -> None:
    asked = await office.membership.bind(ZHANG, "人社厅")
    await store.members.bind("u1", "张三", HRSS, "c1")  # e.g. by an invite, meanwhile
    await office.notes.note(ZHANG, "5.1")

    approved = await press(office, C1, card(asked, "批准"))

    assert "已取消" not in render_plain(approved.notices[0].reply)
    assert "已记录" in text(await office.notes.text(ZHANG, "照常报送"))


async def test_an_invite_and_unbind_end_the_pending_note_and_say_so(
    office: Office, store: Store
) -> None:
    await join(office, ZHANG)
    await office.notes.note(ZHANG, "5.1")
    invite = await store.members.create_invite(TOBACCO, "c1")

    joined = text(await office.membership.redeem(ZHANG, invite.code))

    assert f"已从「{HRSS}」转到「{TOBACCO}」" in joined
    assert "您正在填写的举措 5.1 的进展已取消" in joined
    assert await office.notes.text(ZHANG, "迟到的进展") is None
    await office.notes.note(ZHANG, "2.3")
    assert text(await office.membership.unbind(ZHANG)).splitlines() == [
        f"已解除与「{TOBACCO}」的绑定。",
        "您正在填写的举措 2.3 的进展已取消（已解除单位绑定），未保存任何内容。",
    ]
    assert await office.notes.text(ZHANG, "迟到的进展") is None
    assert await store.notes.find(include_deleted=True) == []


async def test_the_measure_is_checked_again_when_the_text_arrives(
    office: Office, store: Store
) -> None:
    await join(office, ZHANG)
    # A flow started under another unit (bound meanwhile by another process), and one on a
    # measure the unit does not own (the plan changed across a restart).
    await store.flows.start("u1", "note", "2.3", TOBACCO)

    moved = await office.notes.text(ZHANG, "烟草局的进展")

    assert "您正在填写的举措 2.3 的进展已取消（所属单位已变更）" in text(moved)
    assert quotes(moved) == ["烟草局的进展"]
    await store.flows.start("u1", "note", "2.3", HRSS)
    refused = await office.notes.text(ZHANG, "不属于本单位")
    assert f"「{HRSS}」不是举措 2.3 的责任单位" in text(refused)
    assert quotes(refused) == ["不属于本单位"]
    assert not await office.notes.pending(ZHANG)
    assert await store.notes.find(include_deleted=True) == []


@pytest.mark.parametrize("kind", ["note", "edit"])
async def test_a_pending_note_or_edit_survives_a_restart(
    assistant: Assistant,
    office: Office,
    store: Store,
    clock: FakeClock,
    database: str | Path,
    kind: str,
) -> None:
    await join(office, ZHANG)
    old = await file_note(office, ZHANG, "5.1", "旧内容")
    notes = office.notes
    await (notes.note(ZHANG, "6.2") if kind == "note" else notes.edit(ZHANG, str(old)))
    await store.close()
    clock.advance(minutes=9)

    restarted = await reopened(assistant, database, clock)
    try:
        assert await restarted.notes.pending(ZHANG)
        done = text(await restarted.notes.text(ZHANG, "重启后发送"))
        assert ("已记录" if kind == "note" else "已修改") in done
        stored = [(n.measure_id, n.text) for n in await restarted.membership.store.notes.find()]
        expected = [("6.2", "重启后发送"), ("5.1", "旧内容")]
        assert stored == (expected if kind == "note" else [("5.1", "重启后发送")])
        assert not await restarted.notes.pending(ZHANG)
    finally:
        await restarted.membership.store.close()


async def test_a_pending_note_expires_across_a_restart_and_says_so(
    assistant: Assistant, office: Office, store: Store, clock: FakeClock, database: str | Path
) -> None:
    await join(office, ZHANG)
    await office.notes.note(ZHANG, "5.1")
    await office.notes.note(LI, "5.1")  # not a member: no flow
    await store.close()
    clock.advance(minutes=10, seconds=1)

    restarted = await reopened(assistant, database, clock)
    try:
        late = await restarted.notes.text(ZHANG, "重启后才到")
        assert "上一次报送已超时（10 分钟），内容未保存" in text(late)
        assert "如需报送请重新发送 /note" in text(late)
        assert quotes(late) == ["重启后才到"]
        assert await restarted.notes.text(ZHANG, "重启后才到") is None  # now a question again
        assert await restarted.membership.store.notes.find() == []
        await restarted.notes.note(ZHANG, "5.1")
        assert "已取消" in text(await restarted.notes.cancel(ZHANG))
        assert await restarted.notes.text(ZHANG, "取消之后") is None
    finally:
        await restarted.membership.store.close()


INVISIBLE_NOTE = " \u200b\ufeff\u2060\u3000\x07\r\n"


async def test_an_invisible_note_is_refused_and_the_flow_stays_open(
    office: Office, store: Store
) -> None:
    await join(office, ZHANG)
    await office.notes.note(ZHANG, "5.1")

    refused = await office.notes.text(ZHANG, INVISIBLE_NOTE)

    assert text(refused) == EMPTY_NOTE
    assert await office.notes.pending(ZHANG)
    saved = await office.notes.text(ZHANG, "\ufeff第一行\r\n第\x00二\x1b行\t末\u200b ")
    assert quotes(saved) == ["第一行\n第二行\t末"]
    assert [n.text for n in await store.notes.find()] == ["第一行\n第二行\t末"]


async def test_an_invisible_note_in_the_command_asks_for_the_text(
    office: Office, store: Store
) -> None:
    await join(office, ZHANG)

    asked = text(await office.notes.note(ZHANG, f"5.1 {INVISIBLE_NOTE}"))

    assert asked.startswith(EMPTY_NOTE)
    assert "请发送举措 5.1 的进展" in asked
    assert await office.notes.pending(ZHANG)
    assert await store.notes.find(include_deleted=True) == []
    assert "已记录" in text(await office.notes.text(ZHANG, "补上的文字"))


async def test_an_edit_is_cleaned_and_an_invisible_one_refused(
    office: Office, store: Store
) -> None:
    await join(office, ZHANG)
    old = await file_note(office, ZHANG, "5.1", "旧内容")
    await office.notes.edit(ZHANG, str(old))

    assert text(await office.notes.text(ZHANG, "\u2060\u200b")) == EMPTY_NOTE
    assert [n.text for n in await store.notes.find()] == ["旧内容"]
    assert await office.notes.pending(ZHANG)
    edited = await office.notes.text(ZHANG, "新的\r\n内容\x7f\ufeff")
    assert quotes(edited) == ["新的\n内容"]
    assert [n.text for n in await store.notes.find()] == ["新的\n内容"]


async def test_asking_twice_for_the_same_unit_sends_no_second_card(
    office: Office, store: Store, clock: FakeClock
) -> None:
    first = await office.membership.bind(ZHANG, "人社厅")
    assert len(first.notices) == 2

    for _ in range(19):
        again = await office.membership.bind(ZHANG, "人力资源社会保障厅")
        assert text(again).startswith("已提交，等待审批")
        assert again.notices == ()
    assert len(await store.members.pending_requests()) == 1

    clock.advance(minutes=10)
    other = await office.membership.bind(ZHANG, "教育厅")
    assert "已提交绑定「教育厅」的申请" in text(other)
    assert f"您之前绑定「{HRSS}」的申请已作废" in text(other)
    assert len(other.notices) == 2
    assert [r.unit for r in await store.members.pending_requests()] == ["教育厅"]


async def test_bind_sent_every_second_for_alternating_units_gives_coordinators_one_card(
    office: Office, store: Store, clock: FakeClock
) -> None:
    cards: list[str] = []
    answers = []
    for n in range(30):
        outcome = await office.membership.bind(ZHANG, "人社厅" if n % 2 == 0 else "教育厅")
        cards.extend(notice.to for notice in outcome.notices)
        answers.append(text(outcome))
        clock.advance(seconds=1)

    # One card for each coordinator, for the first request, which stands unchanged.
    assert sorted(cards) == ["c1", "c2"]
    [request] = await store.members.pending_requests()
    assert request.unit == HRSS
    # Asking for the other unit too soon is answered, with the time from which one may.
    assert answers[1] == (
        f"您 09:00 提交的绑定「{HRSS}」的申请正在等待审批，未作更改。\n"
        "为免协调人收到大量审批卡片，10 分钟内只能提交一次申请；"
        "如需改为「教育厅」，请在 09:10 之后重新发送 /bind 教育厅。"
    )
    assert all(a.startswith("已提交，等待审批") for a in answers[2::2])
    assert all("未作更改" in a for a in answers[1::2])

    # Ten minutes on, the newer request replaces the older, with one new card each; the old
    # card says so when pressed.
    clock.set(START + dt.timedelta(minutes=10))
    moved = await office.membership.bind(ZHANG, "教育厅")
    assert f"您之前绑定「{HRSS}」的申请已作废" in text(moved)
    assert sorted(notice.to for notice in moved.notices) == ["c1", "c2"]
    assert [r.unit for r in await store.members.pending_requests()] == ["教育厅"]
    old = await office.membership.decide(C1, str(request.id), True)
    assert "已被新的申请取代" in text(old)
    assert await store.members.get(ZHANG.id) is None


@pytest.mark.parametrize("approve", [True, False])
async def test_the_decisions_notice_is_recorded_with_it_and_sent_after_a_crash(
    assistant: Assistant,
    office: Office,
    store: Store,
    clock: FakeClock,
    database: str | Path,
    approve: bool,
) -> None:
    asked = await office.membership.bind(ZHANG, "人社厅")
    decided = await press(office, C1, card(asked, "批准" if approve else "拒绝"))
    (notice,) = decided.notices
    with pytest.raises(ProcessDied):  # the bot dies before the member is told
        await office.membership.send_notices(decided.notices, Outbox(crash=True))
    assert [n.user_id for n in await store.notices.pending()] == ["u1"]
    await store.close()

    restarted = await reopened(assistant, database, clock)
    try:
        # Pressing again tells the coordinator it is done and sends nobody anything …
        again = await press(restarted, C2, card(asked, "批准", "c2"))
        assert again.notices == ()
        # … and the start-up sends what was owed, once.
        outbox = Outbox()
        assert await restarted.membership.send_pending_notices(outbox) == []
        assert await restarted.membership.send_pending_notices(outbox) == []
        assert await restarted.membership.send_notices(decided.notices, outbox) == []
        verdict = "已获批准" if approve else "未获批准"
        assert [(to, verdict in told) for to, told in outbox.sent] == [("u1", True)]
        assert outbox.sent[0][1] == render_plain(notice.reply)
        assert await restarted.membership.store.notices.pending() == []
    finally:
        await restarted.membership.store.close()


# --- one rule for years (#19) ------------------------------------------------------------------


async def test_a_late_notes_audit_rows_go_where_the_note_goes(
    office: Office, store: Store, clock: FakeClock
) -> None:
    """Filed in 2026 for 2024: in 2024's 进展记录 and 操作记录 alike, and dated with its year."""
    await join(office, ZHANG)
    clock.now = dt.datetime(2026, 12, 7, 9, 0, tzinfo=TZ)
    note_id = await file_note(office, ZHANG, "5.1", "补报的进展")
    await office.notes.notes(ZHANG)

    export = await office.overview.export(C1, "2024")
    assert export.attachment is not None
    book = load_workbook(io.BytesIO(export.attachment.data))
    assert book["进展记录"]["E2"].value == "补报的进展"
    logged = list(book["操作记录"].iter_rows(min_row=2, values_only=True))
    assert any(f"记录 #{note_id}" in " ".join(map(str, row)) for row in logged), logged
    # The export itself, made in 2026 of 2024, is 2024's too.
    assert (await store.audit.entries(year=2024))[0].action == "export"
    assert [e.action for e in await store.audit.entries(year=2026)] == []
    listed = text(await office.notes.notes(ZHANG))
    assert "2026-12-07 09:00" in listed


@pytest.mark.parametrize("command", ["export", "progress", "report"])
async def test_a_year_outside_the_reporting_years_is_said(office: Office, command: str) -> None:
    await join(office, ZHANG)
    overview = office.overview
    run = {"export": overview.export, "progress": overview.progress, "report": overview.report}
    outcome = await run[command](C1, "2030" if command != "report" else "人社厅 2030")
    assert text(outcome) == (
        f"2030 年不在本文件的报送年度（2022–2024 年）内，没有这一年的进展。例如：/{command} 2024"
    )
    assert outcome.attachment is None
    assert outcome.picture is None
    assert "不在本文件的报送年度" in text(await run[command](C1, "2021"))


async def test_a_note_before_the_first_reporting_year_says_where_it_counts(
    office: Office, store: Store, clock: FakeClock
) -> None:
    await join(office, ZHANG)
    clock.now = dt.datetime(2021, 6, 1, 9, 0, tzinfo=TZ)
    outcome = await office.notes.note(ZHANG, "5.1 提前开展的工作")
    assert text(outcome).splitlines()[-1] == (
        "本文件从 2022 年开始报送，2021 年还不是报送年度；"
        "这条进展计入 2022 年度，在第一次报送时汇总。"
    )
    (note,) = await store.notes.find()
    assert note.year == 2022


async def test_remind_tells_a_person_of_no_unit_that_none_will_come(office: Office) -> None:
    reminders = Reminders(office.membership, ReminderConfig())
    said = text(await reminders.remind(WANG, ""))
    assert said.startswith("您还不是本文件中任何单位的成员，不会收到年度报送提醒。")
    assert "开启" not in said
    await join(office, ZHANG)
    assert text(await reminders.remind(ZHANG, "")).startswith("年度报送提醒：开启。")


async def test_joining_another_unit_says_the_member_left_the_first(
    office: Office, store: Store
) -> None:
    await join(office, ZHANG)  # 人社厅
    links = Links()
    await office.membership.invite(C1, "教育厅", links)
    moved = text(await office.membership.redeem(ZHANG, links.codes[0]))
    assert moved.startswith(f"已从「{HRSS}」转到「教育厅」，不再是「{HRSS}」的成员。")
    member = await store.members.get("u1")
    assert member is not None
    assert member.unit == "教育厅"

"""Tests for bot.office.audit: /audit for coordinators, on a real store, in the terminal chat."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from bot.ask.assistant import Assistant
from bot.clock import TZ
from bot.office.audit import LABELS, MAX_COUNT, audit
from bot.office.office import Office
from bot.outcome import Person
from bot.reply import render_plain
from bot.store import Store
from handlers.console import LOCAL_USER, Console
from tests.cores import make_core
from tests.fakes.clock import FakeClock

START = dt.datetime(2024, 3, 2, 9, 0, tzinfo=TZ)
BOSS, ZHANG = Person("c1", "王主任"), Person("u1", "张三")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def office(assistant: Assistant, store: Store, clock: FakeClock) -> Office:
    return Office(assistant, store, frozenset({BOSS.id, LOCAL_USER.id}), clock=clock)


async def shown(office: Office, person: Person, arg: str = "") -> str:
    return render_plain((await audit(office.membership, person, arg)).reply)


async def test_audit_shows_who_did_what_newest_first(office: Office, clock: FakeClock) -> None:
    await office.membership.seen(BOSS)
    await office.membership.seen(ZHANG)
    await office.membership.bind(ZHANG, "教育厅")
    clock.advance(minutes=5)
    [request] = await office.membership.store.members.pending_requests()
    await office.membership.decide(BOSS, str(request.id), True)
    clock.advance(minutes=5)
    await office.notes.note(ZHANG, "7.1 今年培训盲人按摩师30名")
    clock.advance(minutes=5)
    await office.overview.export(BOSS, "2024")

    text = await shown(office, BOSS)

    assert "最近 4 条操作记录（最新在前）" in text
    lines = [ln for ln in text.splitlines() if ln.startswith("2024-")]
    assert lines == [
        "2024-03-02 09:15 王主任（ID c1）",
        "2024-03-02 09:10 张三（ID u1）",
        "2024-03-02 09:05 王主任（ID c1）",
        "2024-03-02 09:00 张三（ID u1）",
    ]
    assert "导出汇总 · 2024 年进展汇总" in text
    assert "新增进展 · 教育厅 · 记录 #1，举措 7.1（2024 年）" in text
    assert "批准绑定 · 教育厅 · 申请 #1：张三（ID u1）" in text
    assert "申请绑定 · 教育厅 · 申请 #1" in text
    assert "盲人按摩师" not in text  # what a note says is not the trail's business


async def test_audit_is_for_coordinators_only(office: Office) -> None:
    await office.membership.store.audit.record("c1", "王主任", "export", "", "2024 年进展汇总")

    text = await shown(office, ZHANG)

    assert "只有协调人" in text
    assert "导出" not in text


async def test_audit_count_default_bound_and_bad(office: Office) -> None:
    for n in range(MAX_COUNT + 5):
        await office.membership.store.audit.record("c1", "王主任", "export", "", f"第 {n} 次")

    assert "最近 20 条操作记录" in await shown(office, BOSS)
    assert "最近 3 条操作记录" in await shown(office, BOSS, " 3 ")
    most = await shown(office, BOSS, "100000")
    assert f"最近 {MAX_COUNT} 条操作记录" in most
    assert f"一次最多显示 {MAX_COUNT} 条" in most
    for bad in ("abc", "0", "-5", "²", "9" * 30):
        assert "请写要查看的条数" in await shown(office, BOSS, bad), bad


async def test_audit_when_nothing_happened_yet(office: Office) -> None:
    assert "还没有操作记录" in await shown(office, BOSS)


async def test_audit_pages_its_long_list(office: Office) -> None:
    for n in range(25):
        await office.membership.store.audit.record("c1", "王主任", "export", "", f"第 {n} 次")

    reply = (await audit(office.membership, BOSS, "25")).reply

    assert len(reply.items) == 25
    assert reply.per_page < 25  # the channel shows it page by page


async def test_audit_in_the_terminal_chat(
    assistant: Assistant, store: Store, clock: FakeClock
) -> None:
    core = make_core(assistant, store, {BOSS.id, LOCAL_USER.id}, clock)
    console = Console(core)
    await core.office.membership.seen(LOCAL_USER)
    await console.handle("/bind 教育厅")

    text = await console.handle("/audit")

    assert "本机用户（ID console）" in text
    assert "申请绑定 · 教育厅" in text


async def test_every_action_has_its_chinese_name(office: Office) -> None:
    """A report is named 生成报告 in /audit, as every action the code records is."""
    await office.membership.seen(BOSS)
    await office.overview.report(BOSS, "全部 2024")
    text = await shown(office, BOSS)
    assert "生成报告 · 2024 年度落实情况报告（各单位汇总）" in text
    core = Path(__file__).parent.parent / "bot"
    source = "\n".join(p.read_text(encoding="utf-8") for p in core.rglob("*.py"))
    recorded = set(re.findall(r'\.record\(\s*[^,]+,\s*[^,]+,\s*"([a-z.]+)"', source))
    recorded |= set(re.findall(r'\blog(?:_note)?\([^"]*?"([a-z.]+)"', source))
    assert recorded, "the pattern no longer finds the recorded actions"
    assert recorded <= set(LABELS), recorded - set(LABELS)

"""Tests for bot.ask.reporting and Reminders.reporting: questions about the year-end reporting.

The deadline comes from the reminder configuration and the clock is injected, so each answer is
checked before, on and after the deadline; a member learns what their unit still owes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.ask.assistant import Assistant
from bot.ask.reporting import current_period, default_year, is_reporting, reporting_lines
from bot.cli import main
from bot.clock import TZ
from bot.config import ReminderConfig
from bot.office.notes import NOTE_ON
from bot.office.office import Office
from bot.office.reminders import Reminders
from bot.outcome import Person
from bot.reply import all_buttons, render_plain, text_of
from bot.store import Store
from tests.fakes.clock import FakeClock
from tests.test_import_layouts import SHARED

TWO_YEARS = ReminderConfig(years=(2024, 2025))
MEMBER = Person("u1", "张三")
CIVIL = "民政厅"  # duties 5.1, 11.1, 16.1


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


@pytest.mark.parametrize(
    "question",
    [
        "什么时候报送工作进度",
        "年底进展报给谁",
        "怎么报送进展",
        "报送截止日期是哪天",
        "还有几天截止",
        "我们单位还差哪些没报",
        "进展材料交给哪个部门",
        "落实情况交给谁",
        "总结交给残工委办公室吗",
        "工作进度多久报一次",
        "年度报告向谁报送？",
        "報送截止日期是哪天",  # Traditional
        # where, whether at all, and whether it goes on higher, as people ask (#18)
        "年底的工作进度我们往哪报",
        "进展材料上哪交",
        "我们单位年底要不要交个总结",
        "年终需要写个总结吗",
        "工作总结必须交吗",
        "落实情况还要报到上面吗",
        "完成情况还要往上报吗",
        "省残工委还要向国务院报送吗",
        "我们要给残工委报什么",
        "年底要交啥",
        "是不是每年都要报",
        "我们单位的进展写好了发给谁",
        "每年要报几回",
        # reporting onward with 往, and the 落实/完成/执行 情况 reported
        "残工委往国务院报落实情况是啥时候",
        "残工委往国务院报执行情况是哪天",
        "我们往残工委报完成情况要啥格式",
        "往哪报落实情况",
        # a deadline with a verb of reporting is this bot's, whatever else it says
        "进展报送申请延期到哪天截止",
        # whom to turn to (找谁)
        "年底报送找谁",
        # 几时: when, said plainly
        "工作进展几时报",
    ],
)
def test_reporting_questions(question: str) -> None:
    assert is_reporting(question)


@pytest.mark.parametrize(
    "question",
    [
        "年底报送工作进度",  # the document's words: measure 16.1, not a question about it
        "人社厅负责哪些任务",
        "报刊亭岗位归谁管",
        "怎么申请烟草专卖零售许可证",
        "企业社会责任报告怎么写",
        "盲人按摩归谁管",
        "第16项任务",
        "残疾人就业创业扶持政策落实情况评估",
        "按比例安排残疾人就业吗",
        "企业社会责任报告要写吗",
        # money paid is no report (保障金)
        "残疾人就业保障金要交多少",
        "每年要交保障金吗",
        "企业要交什么钱",
        "给残疾人报销什么",
        "重要报刊亭归谁管",
        # checking in somewhere, and a sign-up's deadline, are no reporting
        "新调来的干部要去单位报到吗",
        "技能大赛报名什么时候截止",
        "残疾人往社区报到吗",
        # a thing handed over to be run is no report handed in (#18)
        "老厂房闲着 能交给企业运营吗",
        "能把地交给别人代种代管吗",
        "社区养老院能交给社会组织来办吗",
        "农机作业能交给合作社托管吗",
        "垃圾处理厂能交给企业经营吗",
        "健康小屋能交给社会力量运营吗",
        # an application's deadline, a claim, a sign-up or an exam: no reporting either
        "农机补贴申请啥时候截止",
        "试点城市申报截止到哪天",
        "住院费用怎么报销",
        "盲人按摩师资格考试啥时候报考",
        "招聘会什么时候报名",
        "家庭医生签约几号截止",
        "见习岗位最晚什么时候交申请",
        "求职补贴申领截至哪天",
    ],
)
def test_other_questions_are_not_about_reporting(question: str) -> None:
    assert not is_reporting(question)


# -- when, to whom, how ------------------------------------------------------------------------


def lines_at(assistant: Assistant, moment: dt.datetime, config: ReminderConfig) -> str:
    return text_of(reporting_lines(assistant.plan, config, moment))


def test_before_the_deadline(assistant: Assistant) -> None:
    text = lines_at(assistant, at(2024, 12, 1, 9, 0), TWO_YEARS)
    assert "2024 年度进展请于 2024 年 12 月 31 日前报送，还有 30 天。" in text
    assert "报送对象：省政府残疾人工作委员会" in text
    assert "/note 1.1 " in text  # a measure of 人社厅, the notice's example unit
    assert "川残工委〔2022〕4号" in text
    assert "已于" not in text


def test_on_the_deadline(assistant: Assistant) -> None:
    text = lines_at(assistant, at(2024, 12, 31, 23, 59), TWO_YEARS)
    assert "2024 年度进展请于 2024 年 12 月 31 日前报送，今天截止。" in text


def test_after_the_deadline_the_next_year(assistant: Assistant) -> None:
    text = lines_at(assistant, at(2025, 1, 2, 8, 0), TWO_YEARS)
    assert "2024 年的报送已于 2024 年 12 月 31 日截止。" in text
    assert "2025 年度进展请于 2025 年 12 月 31 日前报送，还有 363 天。" in text


def test_after_the_last_reporting_year(assistant: Assistant) -> None:
    text = lines_at(assistant, at(2026, 1, 5, 8, 0), TWO_YEARS)
    assert "已于" not in text  # one line says it all
    assert "各年度（2024–2025 年）的报送均已截止。" in text
    # Where a note filed now goes, as /note does it.
    counted = default_year(TWO_YEARS, assistant.plan, dt.date(2026, 1, 5))
    assert counted == 2025
    assert "现在用 /note 报送的进展计入 2025 年度（本文件最后一个报送年度）" in text


def test_after_a_years_deadline_in_that_year_notes_still_count_for_it(
    assistant: Assistant,
) -> None:
    config = ReminderConfig(deadline=(12, 15), years=(2024, 2025))
    text = lines_at(assistant, at(2024, 12, 20, 9, 0), config)
    assert "2025 年度进展请于 2025 年 12 月 15 日前报送" in text
    assert "现在用 /note 报送的进展计入 2024 年度，" in text
    assert "计入" not in lines_at(assistant, at(2025, 3, 1, 9, 0), config)


def test_a_configured_deadline_is_used(assistant: Assistant) -> None:
    config = ReminderConfig(deadline=(12, 15), years=(2024,))
    text = lines_at(assistant, at(2024, 12, 10, 9, 0), config)
    assert "2024 年 12 月 15 日前报送，还有 5 天" in text


def test_the_period_follows_the_plan_without_configured_years(assistant: Assistant) -> None:
    # The plan covers 2022–2024.
    period = current_period(ReminderConfig(), assistant.plan, dt.date(2023, 3, 1))
    assert period is not None
    assert (period.year, period.deadline) == (2023, dt.date(2023, 12, 31))


def test_the_answer_says_where_it_goes_next(assistant: Assistant) -> None:
    # 16.1: the units report to 省政府残疾人工作委员会, which reports on to 国务院残工委.
    text = lines_at(assistant, at(2024, 12, 1, 9, 0), TWO_YEARS)
    assert "再往上报：省政府残疾人工作委员会每年年底向国务院残疾人工作委员会报送落实情况" in text
    assert "（见举措 16.1）" in text


@pytest.mark.parametrize(
    "question",
    ["年底的工作进度我们往哪报", "我们单位年底要不要交个总结", "落实情况还要报到上面吗"],
)
async def test_a_reporting_question_is_answered_as_one(
    assistant: Assistant, tmp_path: Path, question: str
) -> None:
    kind, arg = await assistant.converse(question)
    assert assistant.to_json(kind, arg, question)["about"] == "reporting"
    assert "报送对象：" in render_plain(await assistant.reply(kind, arg))
    # an imported document without a reporting clause: still answered as reporting, said so
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the clone")
    out = tmp_path / "doc"
    assert (
        main(["import-doc", str(SHARED / "guofa2019-3_zonghe_baoshuiqu.txt"), "--out", str(out)])
        == 0
    )
    other = Assistant.load(out)
    kind, arg = await other.converse(question)
    assert other.to_json(kind, arg, question)["about"] == "reporting"
    text = render_plain(await other.reply(kind, arg))
    assert "没有关于报送工作进度的条款" in text
    assert "再往上报" not in text


async def test_the_cli_answer_says_it_is_about_reporting(assistant: Assistant) -> None:
    kind, arg = await assistant.converse("什么时候报送工作进度")
    data = assistant.to_json(kind, arg, "什么时候报送工作进度")
    assert data["about"] == "reporting"
    assert data["measures"] == [m.id for m in assistant.plan.tasks[15].measures]
    other = await assistant.converse("人社厅负责什么")
    assert "about" not in assistant.to_json(*other, "人社厅负责什么")


# -- what a member still owes -----------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at(2024, 12, 1, 9, 0))


@pytest.fixture
async def reminders(
    assistant: Assistant, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Reminders]:
    async with await Store.open(tmp_path / "r.db", clock) as store:
        office = Office(assistant, store, frozenset({"c1"}), clock=clock)
        yield Reminders(office.membership, TWO_YEARS)


async def test_a_member_sees_what_is_missing_with_buttons(reminders: Reminders) -> None:
    store = reminders.membership.store
    await store.members.bind(MEMBER.id, MEMBER.name, CIVIL, "c1")
    await store.notes.add(CIVIL, "11.1", 2024, MEMBER.id, MEMBER.name, "已落实")
    reply = (await reminders.reporting(MEMBER)).reply
    text = render_plain(reply)
    assert "还有 30 天" in text
    assert f"「{CIVIL}」2024 年还有 2 项举措未报送：" in text
    assert [b.action for b in all_buttons(reply)] == [f"{NOTE_ON}:5.1", f"{NOTE_ON}:16.1"]


async def test_a_member_whose_unit_reported_everything(reminders: Reminders) -> None:
    store = reminders.membership.store
    await store.members.bind(MEMBER.id, MEMBER.name, CIVIL, "c1")
    for measure in ("5.1", "11.1", "16.1"):
        await store.notes.add(CIVIL, measure, 2024, MEMBER.id, MEMBER.name, "已完成")
    reply = (await reminders.reporting(MEMBER)).reply
    assert f"「{CIVIL}」2024 年的举措进展已全部报送。" in render_plain(reply)
    assert not list(all_buttons(reply))


async def test_last_years_notes_do_not_count(reminders: Reminders, clock: FakeClock) -> None:
    store = reminders.membership.store
    await store.members.bind(MEMBER.id, MEMBER.name, CIVIL, "c1")
    for measure in ("5.1", "11.1", "16.1"):
        await store.notes.add(CIVIL, measure, 2024, MEMBER.id, MEMBER.name, "已完成")
    clock.set(at(2025, 1, 3, 9, 0))
    text = render_plain((await reminders.reporting(MEMBER)).reply)
    assert f"「{CIVIL}」2025 年还有 3 项举措未报送：" in text


async def test_someone_not_bound_learns_how_to_bind(reminders: Reminders) -> None:
    text = render_plain((await reminders.reporting(Person("x", "路人"))).reply)
    assert "报送对象：省政府残疾人工作委员会" in text
    assert "/bind 单位名称" in text


@pytest.mark.parametrize(
    ("today", "config", "year"),
    [
        (dt.date(2026, 3, 2), ReminderConfig(), 2024),  # after the plan: its last year
        (dt.date(2024, 12, 31), ReminderConfig(), 2024),
        (dt.date(2023, 1, 1), ReminderConfig(), 2023),
        (dt.date(2021, 12, 31), ReminderConfig(), 2022),  # before it: its first year
        (dt.date(2026, 3, 2), TWO_YEARS, 2025),  # configured reporting years rule
        (dt.date(2026, 3, 2), ReminderConfig(years=(2025, 2026, 2027)), 2026),
    ],
)
def test_default_year_is_this_year_within_the_reporting_years(
    assistant: Assistant, today: dt.date, config: ReminderConfig, year: int
) -> None:
    assert default_year(config, assistant.plan, today) == year


def test_a_document_without_a_number_or_reporting_clause_is_named_by_its_title(
    assistant: Assistant,
) -> None:
    plain = dataclasses.replace(
        assistant.plan.document,
        number="关于某事的意见",
        title="关于某事的意见",
        report_rule="",
        report_to="",
    )
    plan = dataclasses.replace(assistant.plan, document=plain)
    text = text_of(reporting_lines(plan, ReminderConfig(), dt.datetime(2024, 6, 1, tzinfo=TZ)))
    assert "《关于某事的意见》没有关于报送工作进度的条款" in text
    assert "报送对象：文件未写明" in text

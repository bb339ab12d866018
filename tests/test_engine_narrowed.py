"""A question narrowed or widened by a few words (#18): a unit said not to be meant, a city's or
county's bureau for the province's department, the middle item of a task, levels listed one
character each said together, which item of the list just shown, where a company also has
staff, a thing the document leaves out held in a description of what it does cover, and cases
told in everyday words. Wordings are this module's own, on the notice and other documents;
expected measures come from the plans' text."""

from __future__ import annotations

import datetime as dt
import tempfile
from functools import cache
from pathlib import Path

import pytest

from bot.ask.assistant import Assistant
from bot.ask.dialog import Dialog
from bot.ask.engine import Engine
from bot.cli import main
from bot.clock import TZ
from bot.documents.plan import Plan
from tests.fakes.clock import FakeClock
from tests.test_dialog import talk
from tests.test_engine_concepts import holding, top
from tests.test_engine_described import _document, _imported_shared
from tests.test_import_layouts import SHARED


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2024, 6, 3, 10, 0, tzinfo=TZ))


@cache
def _assistant(name: str) -> Assistant:
    """A document of ../shared/docs imported as a user would, with its assistant (once)."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the clone")
    out = Path(tempfile.mkdtemp(prefix="narrowed-")) / "doc"
    assert main(["import-doc", str(SHARED / name), "--out", str(out)]) == 0
    return Assistant.load(out)


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("残联（不是人社厅）负责哪些", "省残联"),
        ("我问的是税务局，不是市场监管局的，要干什么", "四川省税务局"),
        ("不是问组织部，是编办，要干啥", "省委编办"),
        ("工商联那边，别跟企业联合会搞混了，有啥任务", "省工商联"),
    ],
)
def test_a_unit_said_not_to_be_meant_is_not_asked_about(
    engine: Engine, question: str, unit: str
) -> None:
    assert engine.answer(question).units == (unit,)


def test_a_unit_named_in_a_question_of_whether_is_asked_about(engine: Engine) -> None:
    # 是不是 asks; it negates nothing.
    assert engine.answer("是不是人社厅负责盲人按摩").units == ("人力资源社会保障厅",)


def test_a_unit_said_not_to_be_meant_in_an_imported_document() -> None:
    _, engine = _imported_shared("guofa2018-39_cujin_jiuye.txt")
    got = engine.answer("人力资源社会保障部（不是教育部）负责哪些").units
    assert got == ("人力资源社会保障部",)


def test_a_city_s_or_county_s_bureau_is_the_province_s_department(engine: Engine) -> None:
    assert engine.answer("市民政局要做啥").units == ("民政厅",)
    # No typo is read against those forms: 文物局 is no 文旅局.
    assert engine.answer("文物局负责什么").units == ()
    _, other = _document("zj2026_rengongzhineng_renwu.txt")
    assert other.answer("县公安局负责哪些").units == ("省公安厅",)


async def test_we_after_saying_one_is_of_a_county_bureau(
    assistant: Assistant, clock: FakeClock
) -> None:
    got = await talk(assistant, Dialog(clock), "我是县教育局的，新来的", "我们这边要做啥")
    assert got["units"] == ["教育厅"]


def test_the_middle_item_of_a_task(engine: Engine, plan: Plan) -> None:
    assert top(engine, "第一项任务中间那条", 1) == [plan.tasks[0].measures[1].id]
    # Of an even number of items there is no middle one: the task's items, all of them.
    even = [m.id for m in plan.tasks[6].measures]
    assert len(even) % 2 == 0
    assert [m.id for m in engine.answer("第七项任务中间那条").measures] == even


async def test_a_place_said_with_that_after_a_task(assistant: Assistant, clock: FakeClock) -> None:
    # 那条 of 最后那条 is part of the place, not a word pointing back.
    got = await talk(assistant, Dialog(clock), "第八项任务最后那条讲啥")
    assert got["measures"] == [assistant.plan.tasks[7].measures[-1].id]
    got = await talk(assistant, Dialog(clock), "第一项任务", "中间那条是哪个单位负责")
    assert got["measures"] == [assistant.plan.tasks[0].measures[1].id]


def test_levels_listed_one_character_each_are_said_together(engine: Engine, plan: Plan) -> None:
    # The notice writes 县、乡两级.
    assert set(top(engine, "组织部 县乡的")) <= holding(plan, "县、乡")


async def test_which_item_of_a_unit_s_list(assistant: Assistant, clock: FakeClock) -> None:
    got = await talk(assistant, Dialog(clock), "组织部负责哪些", "县乡的是哪条")
    assert set(got["measures"]) == holding(assistant.plan, "县、乡")
    other = _assistant("guofa2018-42_nongye_jixiehua.txt")
    lines = ("工业和信息化部负责哪些", "跟专精特新有关的是哪条")
    got = await talk(other, Dialog(clock), *lines)
    assert got["measures"] == sorted(holding(other.plan, "专、精、特"))


def test_where_a_company_also_has_staff_is_no_other_place_s_rule(
    engine: Engine, plan: Plan
) -> None:
    question = "我们在重庆也有工厂，没按比例招残疾人要交的保障金谁来收"
    assert set(top(engine, question)) & holding(plan, "残疾人就业保障金")
    for other in ("在重庆有没有这种补贴", "重庆的残疾人就业补贴谁管", "在北京也能领吗"):
        assert engine.answer(other).no_match


def test_a_thing_left_out_held_in_a_description_of_another(engine: Engine, plan: Plan) -> None:
    # 残疾证 is no topic of the notice; lending one out is its 虚假安排.
    assert set(top(engine, "企业借残疾证凑人数谁查")) & holding(plan, "虚假安排")
    assert engine.answer("残疾证怎么办").no_match


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("帮刚入职的残疾员工适应岗位的人谁来安排", "就业辅导员"),
        ("户口不在本地的残疾人能在这边登记找工作吗", "常住地"),
        ("残疾人办的合作社做得不错，想做大做强带更多人，有没有支持", "带动辐射"),
        ("每年年审的时候在外地的残疾员工算不算", "跨省通办"),
        ("学校辅导员问一下，听不见的学生快毕业了要不要专门建个档", "台账"),
        ("儿子脑子不太灵光，能不能白天去个地方干点简单的", "辅助性就业"),
        ("手艺比塞谁组织", "职业技能竞赛"),
        ("残疾人的技能大塞归哪个部门办", "职业技能竞赛"),
    ],
)
def test_a_case_in_everyday_words_finds_its_measure(
    engine: Engine, plan: Plan, question: str, term: str
) -> None:
    expected = holding(plan, term)
    assert expected
    assert set(top(engine, question)) & expected


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("托养这块不归我们税务局管吧？归哪个单位", ("托养",)),
        ("残疾人托养不属于我们税务局吧，那是谁管", ("托养",)),
    ],
)
def test_not_ours_then_who_asks_who_else(
    engine: Engine, plan: Plan, question: str, words: tuple[str, ...]
) -> None:
    # The unit said not to be in charge is not asked about; the matter is.
    got = engine.answer(question)
    assert got.units == ()
    assert {m.id for m in got.measures} == holding(plan, *words)


def test_not_ours_asked_alone_is_still_the_unit(engine: Engine) -> None:
    assert engine.answer("不是我们人社厅的事吗").units == ("人力资源社会保障厅",)
    assert engine.answer("这事归不归教育厅管").units == ("教育厅",)


@pytest.mark.parametrize(
    ("question", "task", "words"),
    [
        ("第五项里讲托养的那条", 5, ("托养",)),
        ("第十项里关于竞赛的", 10, ("竞赛",)),
    ],
)
async def test_an_item_described_within_a_task(
    assistant: Assistant, clock: FakeClock, question: str, task: int, words: tuple[str, ...]
) -> None:
    plan = assistant.plan
    inside = {m.id for m in plan.tasks[task - 1].measures}
    got = await talk(assistant, Dialog(clock), question)
    assert set(got["measures"]) == holding(plan, *words) & inside
    # Said without a description, the task is the whole of it.
    got = await talk(assistant, Dialog(clock), f"第{task}项讲的啥")
    assert set(got["measures"]) == inside


def test_task_said_by_its_pinyin_initials(engine: Engine, plan: Plan) -> None:
    assert top(engine, "rw2第3条", 3) == [plan.tasks[1].measures[2].id]

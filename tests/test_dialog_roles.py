"""Follow-ups about units and places in a list (#18): "X有份吗" after a topic, "X在里头管哪几条"
after a task, the next item, a bare task number, "就这一条？", what two units share, "那条"
after a unit's list, a topic after saying one's unit. Through the Assistant, as a chat goes;
expected measures come from the plan, never from the engine."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.ask.assistant import Assistant
from bot.ask.dialog import Dialog
from bot.cli import main
from bot.clock import TZ
from bot.documents.plan import Plan
from bot.reply import render_plain
from tests.fakes.clock import FakeClock
from tests.test_import_layouts import SHARED


@pytest.fixture
def dialog() -> Dialog:
    return Dialog(FakeClock(dt.datetime(2024, 6, 3, 10, 0, tzinfo=TZ)))


async def talk(assistant: Assistant, dialog: Dialog, *lines: str) -> dict[str, Any]:
    """Say each line in one chat; return the scorer's JSON for the last one."""
    data: dict[str, Any] = {}
    for text in lines:
        kind, arg = await assistant.converse(text, dialog, "c")
        data = assistant.to_json(kind, arg, text)
    return data


def own(plan: Plan, unit: str) -> list[str]:
    return [m.id for m in plan.duties_of(unit) if m.units and not m.all_provincial]


async def test_a_unit_s_share_in_a_topic_s_list(assistant: Assistant, dialog: Dialog) -> None:
    # The unit is not in the best match of the topic, but in another item listed with it.
    listed = (await talk(assistant, dialog, "盲人按摩归谁管"))["measures"]
    unit = "省市场监管局"
    holding = [i for i in listed if i in own(assistant.plan, unit)]
    assert holding
    assert listed[0] not in holding
    got = await talk(assistant, dialog, "市场监管局有没有份")
    assert got["units"] == [unit]
    assert got["measures"] == holding
    again = Dialog(FakeClock(dt.datetime(2024, 6, 3, 10, 0, tzinfo=TZ)))
    await talk(assistant, again, "盲人按摩归谁管")
    kind, arg = await assistant.converse("市场监管局有没有份", again, "c")
    text = render_plain(await assistant.reply(kind, arg))
    assert f"{unit}不在举措 {listed[0]} 的责任单位中" in text


async def test_whether_we_are_in_it_carries_our_unit(assistant: Assistant, dialog: Dialog) -> None:
    got = await talk(assistant, dialog, "我是卫健委的", "8.1", "有没有我们")
    assert got["units"] == ["省卫生健康委"]
    assert got["measures"] == ["8.1"]


@pytest.mark.parametrize(("unit", "task"), [("教育厅", 7), ("省残联", 10)])
async def test_a_unit_in_the_task_shown(
    assistant: Assistant, dialog: Dialog, unit: str, task: int
) -> None:
    shown = assistant.plan.task(task)
    assert shown is not None
    holding = [m.id for m in shown.measures if unit in m.units]
    assert holding
    said = "教育厅" if unit == "教育厅" else "残联"
    got = await talk(assistant, dialog, f"任务{task}", f"{said}在里面负责哪几条")
    assert got["units"] == [unit]
    assert got["measures"] == holding


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["6.1", "下一条"], "6.2"),
        (["6.3", "下一条呢"], "7.1"),  # the last of a task: the next task's first
        (["6.2", "上一条"], "6.1"),
        (["7.1", "上一条是啥"], "6.3"),
        (["盲人按摩归谁管", "第一条", "下一条"], "8.2"),
    ],
)
async def test_the_next_or_the_one_before(
    assistant: Assistant, dialog: Dialog, lines: list[str], expected: str
) -> None:
    got = await talk(assistant, dialog, *lines)
    assert got["measures"] == [expected]


@pytest.mark.parametrize(
    ("lines", "task"),
    [
        (["第四项任务讲什么", "那五呢"], 5),
        (["任务9", "11呢"], 11),
        (["第二项任务", "下一项"], 3),
        (["第二项任务", "上一项"], 1),
        (["7.2", "下一项任务"], 8),
    ],
)
async def test_a_task_after_a_task(
    assistant: Assistant, dialog: Dialog, lines: list[str], task: int
) -> None:
    shown = assistant.plan.task(task)
    assert shown is not None
    got = await talk(assistant, dialog, *lines)
    assert got["measures"] == [m.id for m in shown.measures]


async def test_only_this_one_asks_for_the_unit_s_list(
    assistant: Assistant, dialog: Dialog
) -> None:
    unit = "省邮政管理局"
    first = await talk(assistant, dialog, "邮政管理局干啥")
    got = await talk(assistant, dialog, "就这一项？别的还有没")
    assert got["units"] == [unit]
    assert got["measures"] == first["measures"]
    me = await talk(assistant, Dialog(), "我是卫健委的", "我们就这一项吗")
    assert me["units"] == ["省卫生健康委"]


async def test_who_else_after_a_unit_s_one_item(assistant: Assistant, dialog: Dialog) -> None:
    # 经信厅 has one item of its own beside the two every unit shares: "这条" is that one.
    (item,) = own(assistant.plan, "经济和信息化厅")
    got = await talk(assistant, dialog, "我在经信厅", "我们负责什么", "这一条还有谁参与")
    assert got["measures"] == [item]


@pytest.mark.parametrize(
    ("lines", "units"),
    [
        (["我是农业农村厅的", "跟人社一起的是哪些"], ("农业农村厅", "人力资源社会保障厅")),
        (["教育厅负责哪些", "和财政厅一起负责的呢"], ("教育厅", "财政厅")),
    ],
)
async def test_what_we_share_with_another_unit(
    assistant: Assistant, dialog: Dialog, lines: list[str], units: tuple[str, str]
) -> None:
    plan = assistant.plan
    shared = {m.id for m in plan.measures if all(plan.is_responsible(u, m) for u in units)}
    got = await talk(assistant, dialog, *lines)
    assert got["units"][0] == units[0]
    assert set(got["measures"]) == shared
    assert set(got["measures"]) <= {m.id for m in plan.duties_of(units[0])}


async def test_that_item_after_a_unit_s_list_is_the_unit_s(
    assistant: Assistant, dialog: Dialog
) -> None:
    unit = "省发展改革委"
    ours = [m for m in assistant.plan.duties_of(unit) if "按摩" in m.text]
    assert len(ours) == 1
    got = await talk(assistant, dialog, "我是发改委的", "我们有哪些", "按摩那条咋说的")
    assert got["units"] == [unit]
    assert got["measures"] == [ours[0].id]


async def test_a_topic_after_saying_one_s_unit_is_its_part_when_it_holds_the_best(
    assistant: Assistant, dialog: Dialog
) -> None:
    alone = await talk(assistant, Dialog(), "残疾人公务员考试有啥照顾")
    best = alone["measures"][0]
    unit = "省委组织部"
    assert best in own(assistant.plan, unit)
    got = await talk(assistant, dialog, "我是组织部的", "残疾人公务员考试有啥照顾")
    assert got["units"] == [unit]
    assert got["measures"][0] == best
    assert set(got["measures"]) <= {m.id for m in assistant.plan.duties_of(unit)}


async def test_a_follow_up_that_finds_nothing_alone_narrows_the_topic(
    assistant: Assistant, dialog: Dialog
) -> None:
    assert (await talk(assistant, Dialog(), "县城乡镇的"))["no_match"]
    await talk(assistant, dialog, "机关招残疾人")
    got = await talk(assistant, dialog, "那县城乡镇的呢")
    assert got["measures"]
    first = assistant.plan.measure(got["measures"][0])
    assert first is not None
    assert "县" in first.text
    assert "乡" in first.text


@pytest.fixture(scope="module")
def jiuye(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    # Roles stated: "列第一位者为牵头单位，下同".
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the clone")
    out = tmp_path_factory.mktemp("jiuye")
    assert (
        main(["import-doc", str(SHARED / "guofa2018-39_cujin_jiuye.txt"), "--out", str(out)]) == 0
    )
    return Assistant.load(out)


@pytest.mark.parametrize(
    ("lines", "role"),
    [
        (["我是财政部的", "我们牵头的是哪些"], "牵头"),
        (["财政部负责哪些", "其中牵头的"], "牵头"),
        (["财政部负责哪些", "它配合的呢"], "配合"),
    ],
)
async def test_a_role_asked_of_the_unit_in_the_context(
    jiuye: Assistant, dialog: Dialog, lines: list[str], role: str
) -> None:
    unit = "财政部"
    expected = [m.id for m in jiuye.plan.duties_of(unit) if m.role_of(unit) == role]
    assert expected
    assert len(expected) < len(jiuye.plan.duties_of(unit))
    got = await talk(jiuye, dialog, *lines)
    assert got["units"] == [unit]
    assert got["measures"] == expected


@pytest.mark.parametrize("follow_up", ["卫健委管不管", "卫健委也负责吗"])
async def test_whether_a_unit_also_takes_part_in_the_item_shown(
    assistant: Assistant, dialog: Dialog, follow_up: str
) -> None:
    listed = (await talk(assistant, dialog, "盲人按摩归谁管"))["measures"]
    holding = [m.id for m in assistant.plan.duties_of("省卫生健康委") if m.id in listed]
    got = await talk(assistant, dialog, follow_up)
    assert got["units"] == ["省卫生健康委"]
    assert got["measures"] == holding[:1]


async def test_who_else_besides_a_unit(assistant: Assistant, dialog: Dialog) -> None:
    got = await talk(assistant, dialog, "8.2", "除了市场监管局还有谁")
    assert got["measures"] == ["8.2"]
    assert got["units"] == []


async def test_which_units_after_a_task(assistant: Assistant, dialog: Dialog) -> None:
    task = assistant.plan.task(5)
    assert task is not None
    got = await talk(assistant, dialog, "第五项任务", "都是哪些单位")
    assert got["measures"] == [m.id for m in task.measures]


async def test_a_topic_among_the_unit_s_items_just_listed(
    assistant: Assistant, dialog: Dialog
) -> None:
    unit = "教育厅"
    got = await talk(assistant, dialog, "教育厅负责哪些", "这几条里跟职业教育有关的")
    assert got["units"] == [unit]
    assert got["measures"]
    assert set(got["measures"]) <= {m.id for m in assistant.plan.duties_of(unit)}


async def test_what_we_share_said_with_we(assistant: Assistant, dialog: Dialog) -> None:
    plan = assistant.plan
    units = ("人力资源社会保障厅", "省残联")
    shared = {m.id for m in plan.measures if all(plan.is_responsible(u, m) for u in units)}
    got = await talk(assistant, dialog, "我是人社厅的", "我们跟残联一起管的是哪些")
    assert got["units"] == list(units)
    assert set(got["measures"]) == shared


async def test_a_topic_asked_of_us_is_our_part_in_it(assistant: Assistant, dialog: Dialog) -> None:
    unit = "财政厅"
    got = await talk(assistant, dialog, "我是财政厅的", "职业教育那块我们管不管")
    assert got["units"] == [unit]
    assert got["measures"]
    assert set(got["measures"]) < {m.id for m in assistant.plan.duties_of(unit)}


async def test_asking_who_after_saying_one_s_unit_lists_every_unit_s(
    assistant: Assistant, dialog: Dialog
) -> None:
    alone = await talk(assistant, Dialog(), "盲人按摩归谁管")
    got = await talk(assistant, dialog, "我是卫健委的", "盲人按摩归谁管")
    assert got["measures"] == alone["measures"]
    assert got["units"] == []


@pytest.mark.parametrize(
    ("lines", "unit", "word"),
    [
        (("我是教育厅的", "我们负责哪些", "其中跟职业学校有关的"), "教育厅", "职业"),
        (("人社厅负责什么", "其中跟职业学校有关的"), "人力资源社会保障厅", "职业"),
        (("我是财政厅的", "其中和职业学校相关的"), "财政厅", "职业"),
        (("我是教育厅的", "特殊教育那块我们干啥"), "教育厅", "残疾人学生"),
        (("我是残联的", "职业学校那块我们干什么"), "省残联", "职业"),
    ],
)
async def test_a_topic_within_the_unit_s_list_though_it_finds_nothing_alone(
    assistant: Assistant, dialog: Dialog, lines: tuple[str, ...], unit: str, word: str
) -> None:
    # "其中跟职业学校有关的": the unit's items on it, not the unit's whole list again.
    got = await talk(assistant, dialog, *lines)
    assert got["units"] == [unit]
    assert got["measures"]
    assert set(got["measures"]) < set(own(assistant.plan, unit))
    first = assistant.plan.measure(got["measures"][0])
    assert first is not None
    assert word in first.text


@pytest.mark.parametrize(
    ("lines", "unit", "left_out"),
    [
        (("我是农业农村厅的", "我们有几条", "除了培训还有别的吗"), "农业农村厅", "培训"),
        (("教育厅负责什么", "除了大学生以外还有别的吗"), "教育厅", "大学生"),
        (("我是财政厅的", "除了资金之外还有其他吗"), "财政厅", "资金"),
        (("残联负责哪些", "除了按摩还有其他的吗"), "省残联", "按摩"),
        (("我是人社厅的", "除了就业培训，我们还有哪些任务"), "人力资源社会保障厅", "就业培训"),
        (("教育厅负责哪些", "除开大学生那几条还有啥"), "教育厅", "大学生"),
        # what is left out said last: "……还有别的吗 除了交钱那个"
        (("税务局负责啥", "我们单位还有别的吗 除了交钱那个"), "四川省税务局", "交钱"),
    ],
)
async def test_besides_a_topic_the_unit_s_other_items(
    assistant: Assistant, dialog: Dialog, lines: tuple[str, ...], unit: str, left_out: str
) -> None:
    got = await talk(assistant, dialog, *lines)
    within = await talk(assistant, Dialog(), f"{unit} {left_out}")
    assert got["units"] == [unit]
    assert got["measures"]
    every = {m.id for m in assistant.plan.measures if m.all_provincial}  # bind every unit
    assert set(got["measures"]) - every == set(own(assistant.plan, unit)) - set(within["measures"])


async def test_besides_the_one_topic_a_unit_has_says_so(
    assistant: Assistant, dialog: Dialog
) -> None:
    await talk(assistant, dialog, "我是民政厅的", "我们负责啥")
    kind, arg = await assistant.converse("除了托养以外我们还管啥", dialog, "c")
    text = render_plain(await assistant.reply(kind, arg))
    assert "民政厅除「托养」以外没有别的举措" in text

"""Units and roles as people ask about them (#18): a body's short name inside a sentence,
units asked together, who leads where a document states no roles, a unit's word that is the
topic of a question asking who. Expected measures come from the plan, never the engine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from bot.ask.assistant import Assistant
from bot.ask.dialog import Context, Dialog
from bot.ask.engine import Engine
from bot.ask.lexicon import load_lexicon
from bot.documents.importer import Dates, dump_lexicon, dump_plan, dump_units, import_file
from bot.documents.plan import Measure, Plan, load_plan
from bot.documents.shortname import acronyms, short_forms
from tests.test_engine_reading import _imported

TEXTS = Path(__file__).parent / "data" / "blind" / "texts"


def _undated(out: Path, name: str) -> tuple[Plan, Engine]:
    """Import a text of tests/data/blind/texts that gives no date of issue."""
    imported = import_file(TEXTS / name, dates=Dates(issued=dt.date(2012, 1, 1)))
    (out / "plan.yaml").write_text(dump_plan(imported.plan), encoding="utf-8")
    (out / "units.yaml").write_text(dump_units(imported.units), encoding="utf-8")
    (out / "lexicon.yaml").write_text(dump_lexicon(imported.plan), encoding="utf-8")
    plan = load_plan(out)
    return plan, Engine(plan, load_lexicon(out))


def ids(engine: Engine, question: str) -> list[str]:
    return [m.id for m in engine.answer(question).measures]


def own(plan: Plan, unit: str) -> set[str]:
    return {m.id for m in plan.duties_of(unit) if m.units}


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("残联今年分了哪些事", "省残联"),
        ("残联这回要干的都列一下", "省残联"),
        ("民政这次摊上什么活", "民政厅"),
    ],
)
def test_a_body_s_short_name_before_other_words(
    engine: Engine, plan: Plan, question: str, unit: str
) -> None:
    answer = engine.answer(question)
    assert answer.units == (unit,)
    assert set(ids(engine, question)) == own(plan, unit)


@pytest.mark.parametrize("question", ["医保住院能报多少", "看病医保咋报"])
def test_a_short_name_that_is_also_a_thing_still_needs_edges(
    engine: Engine, question: str
) -> None:
    # 医保 is the insurance as often as the bureau: beside other words it is the thing.
    assert engine.answer(question).units == ()


def test_units_asked_together_by_the_start_of_a_name(engine: Engine, plan: Plan) -> None:
    answer = engine.answer("财政厅和烟草分别管什么")
    assert answer.units == ("财政厅", "省烟草专卖局")
    assert set(ids(engine, "财政厅和烟草分别管什么")) >= own(plan, "省烟草专卖局")


@pytest.mark.parametrize(
    "question",
    ["人社厅和残联都涉及的有哪些", "教育厅和财政厅都有份的", "财政厅跟教育厅哪些是一块儿抓的"],
)
def test_both_have_a_share_asks_what_they_share(engine: Engine, plan: Plan, question: str) -> None:
    answer = engine.answer(question)
    assert len(answer.units) == 2
    shared = {m.id for m in plan.measures if all(plan.is_responsible(u, m) for u in answer.units)}
    assert set(ids(engine, question)) == shared
    assert shared < own(plan, answer.units[0]) | {m.id for m in plan.measures if m.all_provincial}


def test_each_of_them_lists_both_units_duties(engine: Engine, plan: Plan) -> None:
    got = set(ids(engine, "教育厅和财政厅都有哪些"))
    assert got >= own(plan, "教育厅") | own(plan, "财政厅")


@pytest.mark.parametrize(
    ("question", "at"),
    [
        ("整张表最后一条", -1),
        ("全文第2条是什么", 1),
        ("所有举措倒数第三条", -3),
        ("这个表里倒数第二条", -2),
        ("表格里第一条说的啥", 0),
    ],
)
def test_a_place_counted_over_the_whole_document(
    engine: Engine, plan: Plan, question: str, at: int
) -> None:
    answer = engine.answer(question)
    assert answer.kind == "measure"
    assert ids(engine, question) == [plan.measures[at].id]


def test_a_two_character_typo_is_no_half_of_a_document_word(engine: Engine) -> None:
    # 个人 is a word: 人交 is no 人社 mistyped.
    assert engine.answer("这个人交多少").units == ()
    assert engine.answer("一个人交几块").units == ()
    assert engine.answer("人设厅负责啥").units == ("人力资源社会保障厅",)


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("团市委", "团委"),
        ("团省委", "团委"),
        ("粮食和储备局", "粮食局"),
        ("区自然资源和规划局", "自然资源局"),
    ],
)
def test_short_forms_people_say(name: str, form: str) -> None:
    assert form in short_forms(name)


def test_the_first_of_joined_words_gives_no_bare_stem() -> None:
    # 工业部 for 工业和信息化部, never 工业 alone: a topic word.
    forms = short_forms("工业和信息化部")
    assert "工业部" in forms
    assert "工业" not in forms


@pytest.fixture(scope="module")
def shigan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Engine]:
    # Brackets such as （科技部、财政部负责） with no role stated, and a few "X会同…负责".
    return _imported(tmp_path_factory.mktemp("shigan"), "guobanfa2018-117_zhenzhua_shigan.txt")


@pytest.mark.parametrize("unit", ["财政部", "国家发展改革委"])
def test_where_no_role_is_stated_the_unit_listed_first_leads(
    shigan: tuple[Plan, Engine], unit: str
) -> None:
    plan, engine = shigan
    stated = any(m.lead for m in plan.measures)
    assert stated  # the document states a lead somewhere: 牵头 is answered by roles
    leads = {
        m.id
        for m in plan.duties_of(unit)
        if unit in m.lead or (not (m.lead or m.guide) and m.units[0] == unit)
    }
    supports = {m.id for m in plan.duties_of(unit) if m.units} - leads
    assert leads
    assert supports
    assert set(ids(engine, f"{unit}牵头哪些")) == leads
    assert set(ids(engine, f"{unit}配合的是哪些")) == supports


@pytest.fixture(scope="module")
def fupin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Engine]:
    # 消费扶贫: the document's own subject, in its title.
    return _imported(tmp_path_factory.mktemp("fupin"), "guobanfa2018-129_xiaofei_fupin.txt")


def test_the_document_s_own_subject_asked_of_a_unit_is_all_its_duties(
    fupin: tuple[Plan, Engine],
) -> None:
    plan, engine = fupin
    unit = "商务部"
    assert "消费扶贫" in plan.document.title
    answer = engine.answer(f"{unit}在消费扶贫方面做什么")
    assert answer.kind == "unit"
    assert set(ids(engine, f"{unit}在消费扶贫方面做什么")) == own(plan, unit)


def test_the_unit_s_short_name_in_a_question_asking_who(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    plan, engine = _undated(tmp_path_factory.mktemp("minzhu"), "gz2012_minzhu_fazhi.txt")
    court = "市法院"
    assert court in {u.name for u in plan.units}
    # Going to court is a place one goes, asked who is in charge of it: no unit asked.
    assert court not in engine.answer("打官司要去法院，这是谁负责的").units
    assert engine.answer("法院负责什么").units == (court,)
    assert engine.answer("法院和谁一起负责").units == (court,)


def test_a_level_that_ends_the_word_before_is_no_unit_s(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    plan, engine = _undated(tmp_path_factory.mktemp("minsheng"), "gz2012_minsheng_xingfu.txt")
    planning = "市规划局"
    assert planning in {u.name for u in plan.units}
    # 城市规划: 市 ends 城市, and 规划 asked with 哪个部门 is the topic.
    assert engine.answer("城市规划这件事找哪个部门").units == ()
    assert engine.answer("规划局负责哪些").units == (planning,)
    assert engine.answer("市规划局有哪些任务").units == (planning,)
    # The document's own city before the name is part of it, no topic.
    whole = engine.answer("广州市规划局负责哪些")
    assert (whole.kind, whole.units) == ("unit", (planning,))
    assert set(ids(engine, "广州市规划局负责哪些")) == own(plan, planning)


@pytest.mark.parametrize("question", ["技能", "技能那块", "教育厅 技能那块"])
def test_a_word_holding_a_one_character_scaffolding_word(
    engine: Engine, plan: Plan, question: str
) -> None:
    # 能 alone is scaffolding (能不能); in 技能 it is part of the document's word.
    got = ids(engine, question)
    assert got
    first = plan.measure(got[0])
    assert first is not None
    assert "技能" in first.text
    if "教育厅" in question:
        assert engine.answer(question).kind == "unit_topic"
        assert set(got) <= {m.id for m in plan.duties_of("教育厅")}


@pytest.mark.parametrize(
    ("question", "unit", "at"),
    [
        ("人社厅负责的第三条是啥", "人力资源社会保障厅", 2),
        ("教育厅的最后一条", "教育厅", -1),
        ("残联管的倒数第二条", "省残联", -2),
    ],
)
def test_a_place_in_a_unit_s_own_list(
    engine: Engine, plan: Plan, question: str, unit: str, at: int
) -> None:
    listed = [m.id for m in plan.duties_of(unit) if m.units and unit in m.units]
    answer = engine.answer(question)
    assert answer.units == (unit,)
    assert ids(engine, question) == [listed[at]]


@pytest.fixture(scope="module")
def jiating(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Engine]:
    # A city's table: a group (各区政府) and the offices (处室) of 市卫生健康委 in columns.
    return _imported(tmp_path_factory.mktemp("gz2023"), "gz2023_jiatingyisheng_fengongbiao.docx")


def test_a_group_of_local_governments_said_as_people_say_it(
    jiating: tuple[Plan, Engine],
) -> None:
    assert "区里" in short_forms("各区政府")
    assert "县里" in short_forms("各县人民政府")
    plan, engine = jiating
    group = "各区政府"
    assert group in {u.name for u in plan.units}
    assert engine.answer("区里这次要干啥").units == (group,)
    assert group not in engine.answer("社区里的家庭医生谁管").units


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("共青团中央", "团中央"),
        ("中央宣传部", "宣传部"),
        ("中央宣传部", "中宣部"),
        ("中共中央组织部", "中组部"),
        ("农业农村部", "农业部"),
        ("省生态环境厅", "环境保护厅"),
        ("国家卫生健康委", "卫生计生委"),
        ("自然资源部", "国土资源部"),
    ],
)
def test_short_and_former_names_people_still_say(name: str, form: str) -> None:
    # 团 for 共青团, 中央 dropped as a level, a name before the 2018 reform.
    assert form in short_forms(name)


def test_a_former_name_gives_no_bare_stem() -> None:
    # 农业部, never 农业 (a topic); no 中统部 (统战部 is said without 中).
    assert "农业" not in short_forms("农业农村部")
    assert "中统部" not in short_forms("中央统战部")


@pytest.mark.parametrize(
    ("question", "unit"), [("团中央有什么任务", "共青团中央"), ("中宣部负责哪些", "中央宣传部")]
)
def test_a_central_body_by_its_short_name(
    fupin: tuple[Plan, Engine], question: str, unit: str
) -> None:
    plan, engine = fupin
    assert engine.answer(question).units == (unit,)
    assert set(ids(engine, question)) == own(plan, unit)


def test_taking_part_is_every_role(shigan: tuple[Plan, Engine]) -> None:
    # 参与 asks what the unit has a hand in, leading or not (牵头 and 配合 stay apart).
    plan, engine = shigan
    unit = "财政部"
    assert set(ids(engine, f"{unit}都参与了哪些")) == own(plan, unit)
    assert set(ids(engine, f"{unit}牵头或参与的有哪些")) == own(plan, unit)
    assert set(ids(engine, f"{unit}牵头哪些")) < own(plan, unit)


@pytest.mark.parametrize(
    ("name", "form"),
    [
        # A national or central prefix dropped (全国, 中华全国, 中国).
        ("全国总工会", "总工会"),
        ("全国妇联", "妇联"),
        ("中华全国供销合作总社", "供销社"),
        ("中国科协", "科协"),
        ("国务院办公厅", "国办"),
        # A place's government or committee said by the place, 人民政府 as 政府.
        ("番禺区政府", "番禺区"),
        ("洪山区人民政府", "洪山区政府"),
        ("东湖高新区管委会", "东湖高新区"),
        ("杭州市政府", "杭州"),
        # A body's office by the body; a branch by its body and place; the joined last word.
        ("空管委办公室", "空管委"),
        ("市疫情防控指挥部办公室", "疫情防控指挥部"),
        ("市生态环境局咸安分局", "环保分局"),
        ("市生态环境局咸安分局", "咸安分局"),
        ("省政务和数据局", "数据局"),
        ("区自然资源和规划局", "规划局"),
        # A two-word stem by its second word; 管理办 as 办; a contraction written out.
        ("市人口计生局", "计生局"),
        ("市公安消防局", "消防局"),
        ("市卫健委", "卫生健康委"),
        # 人大常委会 as 人大, 食品药品监管局 as 药监局, a regulator's or a bank's office.
        ("市人大常委会法工委", "人大法工委"),
        ("市食品药品监管局", "药监局"),
        ("中国证监会广东监管局", "证监局"),
        ("人民银行广东省分行", "人行广东分行"),
    ],
)
def test_more_short_forms_people_say(name: str, form: str) -> None:
    assert form in short_forms(name)


@pytest.mark.parametrize(
    ("name", "form"), [("国际发展合作署", "国合署"), ("食品药品监管局", "食药监局")]
)
def test_three_words_by_their_first_characters(name: str, form: str) -> None:
    # Three words of a stem by the first character of each, or of the first and last.
    assert form in acronyms(name)


def test_no_short_form_of_a_generic_word_or_a_group() -> None:
    # 应急管理部 is no 管理部; 试点城市政府 is no 试点城; a level's office no 市委.
    assert "管理部" not in short_forms("应急管理部")
    assert "监管局" not in short_forms("市场监管局")
    assert not {"试点城", "试点城市"} & set(short_forms("试点城市政府"))
    assert "市委" not in short_forms("市委办公室")


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("总工会要干啥", "全国总工会"),
        ("妇联负责什么", "全国妇联"),
        ("工商联有哪些任务", "全国工商联"),
    ],
)
def test_a_national_body_without_its_prefix(
    fupin: tuple[Plan, Engine], question: str, unit: str
) -> None:
    plan, engine = fupin
    assert engine.answer(question).units == (unit,)
    assert set(ids(engine, question)) == own(plan, unit)


@pytest.mark.parametrize(
    ("said", "role"),
    [
        ("主要负责哪些", "lead"),
        ("带头负责的", "lead"),
        ("挑头的有哪些", "lead"),
        ("作为牵头单位要做什么", "lead"),
        ("打下手的有哪些", "support"),
        ("协助做哪些", "support"),
        ("作为配合单位要做什么", "support"),
    ],
)
def test_roles_in_everyday_words(shigan: tuple[Plan, Engine], said: str, role: str) -> None:
    plan, engine = shigan
    unit = "财政部"
    leads = {
        m.id
        for m in plan.duties_of(unit)
        if unit in m.lead or (not (m.lead or m.guide) and m.units[0] == unit)
    }
    want = leads if role == "lead" else {m.id for m in plan.duties_of(unit) if m.units} - leads
    assert set(ids(engine, f"{unit}{said}")) == want
    assert engine.answer(f"{unit}{said}").units == (unit,)


async def _talk(assistant: Assistant, dialog: Dialog, *lines: str) -> dict[str, Any]:
    """Say each line in one chat; return the scorer's JSON for the last one."""
    data: dict[str, Any] = {}
    for text in lines:
        kind, arg = await assistant.converse(text, dialog, "c")
        data = assistant.to_json(kind, arg, text)
    return data


@pytest.mark.parametrize(
    ("first", "then", "role"),
    [
        ("财政部牵头的有哪些", "那国家发展改革委呢", "牵头"),
        ("财政部配合的有哪些", "那发改委呢", "配合"),
        ("发改委牵头哪些", "财政部呢", "牵头"),
    ],
)
async def test_another_unit_asked_after_a_role_keeps_the_role(
    shigan: tuple[Plan, Engine], first: str, then: str, role: str
) -> None:
    plan, engine = shigan
    assistant, dialog = Assistant(plan, engine.lexicon, engine), Dialog()
    got = await _talk(assistant, dialog, first, then)
    unit = got["units"][0]
    alone = await _talk(assistant, Dialog(), f"{unit}{role}的有哪些")
    assert got["measures"] == alone["measures"]
    assert set(alone["measures"]) < own(plan, unit)
    # A whole question of its own is no follow-up of the role; the role crosses instances.
    assert (await _talk(assistant, dialog, f"那{unit}负责哪些"))["measures"] != alone["measures"]
    context, _ = dialog.state("c")
    assert context is not None
    assert Context.parse(context.dump(), context.at) == context


@pytest.mark.parametrize(
    ("said", "office"), [("卫健委医政处", "医政处"), ("市卫健委基层处", "基层处")]
)
async def test_one_s_unit_said_with_its_office_is_the_office(
    jiating: tuple[Plan, Engine], said: str, office: str
) -> None:
    # "我是卫健委医政处的": one works in the office (处室), and "我们" is the office.
    plan, engine = jiating
    assistant = Assistant(plan, engine.lexicon, engine)
    got = await _talk(assistant, Dialog(), f"我是{said}的", "我们负责啥")
    assert got["units"] == [office]
    assert set(got["measures"]) == own(plan, office)


def test_a_body_s_office_said_after_it_is_the_office(jiating: tuple[Plan, Engine]) -> None:
    plan, engine = jiating
    assert engine.answer("卫健委医政处负责哪些").units == ("医政处",)
    assert set(ids(engine, "市卫健委的医政处负责哪些")) == own(plan, "医政处")
    # named together, both are asked
    assert engine.answer("卫健委和医政处一起负责的").units == ("市卫生健康委", "医政处")


@pytest.mark.parametrize(
    ("role", "then", "topic"),
    [("牵头", "其中跟资金有关的", "资金"), ("配合", "里面跟奖励有关的呢", "奖励")],
)
async def test_a_topic_after_a_role_s_list_is_within_that_role(
    shigan: tuple[Plan, Engine], role: str, then: str, topic: str
) -> None:
    plan, engine = shigan
    assistant, dialog = Assistant(plan, engine.lexicon, engine), Dialog()
    listed = await _talk(assistant, dialog, f"财政部{role}的有哪些")
    got = await _talk(assistant, dialog, then)
    assert got["units"] == ["财政部"]
    assert got["measures"]
    assert set(got["measures"]) <= set(listed["measures"])
    # without the role, the topic reaches the unit's other items too
    assert not set(ids(engine, f"财政部 {topic}")) <= set(listed["measures"])


@pytest.mark.parametrize(
    "question", ["国家发展改革委牵头、财政部配合的有哪些", "哪些是财政部配合发改委牵头的"]
)
def test_two_units_each_in_its_own_role(shigan: tuple[Plan, Engine], question: str) -> None:
    plan, engine = shigan

    def leads(m: Measure, unit: str) -> bool:
        return unit in m.lead or (not (m.lead or m.guide) and m.units[0] == unit)

    lead, support = "国家发展改革委", "财政部"
    want = [
        m.id
        for m in plan.measures
        if leads(m, lead) and support in m.units and not leads(m, support)
    ]
    assert want
    assert ids(engine, question) == want
    assert set(want) < set(ids(engine, f"{lead}牵头的有哪些"))

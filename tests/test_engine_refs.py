"""The engine reads references as people type them (#18): a place in a task, a spoken number,
a unit's short form in a sentence. Expected measures come from the plan, never the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.ask.engine import Engine
from bot.ask.reporting import is_reporting
from bot.documents.plan import Plan
from bot.documents.shortname import acronyms, spoken_aliases
from tests.test_engine_described import _document
from tests.test_engine_reading import _imported, engine_of


@pytest.fixture(scope="module")
def nongye(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Engine]:
    # Tasks numbered 二…八 by the document, items （三）…（二十）.
    return _imported(tmp_path_factory.mktemp("nongye"), "guofa2018-42_nongye_jixiehua.txt")


def ids(engine: Engine, question: str) -> list[str]:
    return [m.id for m in engine.answer(question).measures]


def nth(plan: Plan, task: int, place: int) -> str:
    """The id of the measure at `place` in task `task` (negative: from the end)."""
    found = plan.task(task)
    assert found is not None
    return found.measures[place - 1 if place > 0 else place].id


@pytest.mark.parametrize(
    ("question", "task", "place"),
    [
        ("第七项倒数第二条", 7, -2),
        ("第七项任务倒数第一条是啥", 7, -1),
        ("任务十最后一条", 10, -1),
        ("任务2最后一项讲什么", 2, -1),
        ("第1项任务里的最后那个", 1, -1),
        ("任务5的头一个举措", 5, 1),
        ("第三大项的最后那个", 3, -1),
        ("第十项任务开头那条谁负责", 10, 1),
        ("第五大项的第二条", 5, 2),
        ("第4项任务倒数第3条", 4, -3),
        ("第2个任务最后1条", 2, -1),
        ("第七部分倒数第二条", 7, -2),
        ("主要任务第八项的第二条", 8, 2),
        ("倒数第二项任务最后一条", 15, -1),
        ("最后一项任务的第一条", 16, 1),
        ("任务七里头第三个说的啥", 7, 3),
        ("第二项任务下面第一条", 2, 1),
        ("任务十里面最后一条", 10, -1),
        ("第六项行动第二条是啥", 6, 2),
        ("第三项行动最后一条", 3, -1),
        ("（6）第二个措施", 6, 2),  # the task's number in brackets
        ("(6)第2条", 6, 2),
    ],
)
def test_a_place_inside_a_task_is_that_one_measure(
    engine: Engine, plan: Plan, question: str, task: int, place: int
) -> None:
    answer = engine.answer(question)
    assert answer.kind == "measure"
    assert ids(engine, question) == [nth(plan, task, place)]


def test_a_place_past_the_task_s_end_is_no_measure(engine: Engine, plan: Plan) -> None:
    task = plan.task(8)
    assert task is not None
    assert len(task.measures) < 5
    assert engine.answer("第八项倒数第五条").kind != "measure"


@pytest.mark.parametrize(
    ("question", "measure"),
    [
        ("四点三", "4.3"),
        ("4点3是什么", "4.3"),
        ("举措十点一谁负责", "10.1"),
        ("六点二讲的啥", "6.2"),
        ("四之三", "4.3"),
        ("四.三", "4.3"),
    ],
)
def test_a_spoken_measure_number(engine: Engine, question: str, measure: str) -> None:
    assert ids(engine, question) == [measure]


@pytest.mark.parametrize(
    ("question", "measure"),
    [("7-3", "7.3"), ("举措5-2谁负责", "5.2"), ("10—1里人社厅干啥", "10.1")],
)
def test_a_measure_number_written_with_a_dash(engine: Engine, question: str, measure: str) -> None:
    assert ids(engine, question) == [measure]


@pytest.mark.parametrize(("question", "tasks"), [("任务3-5", (3, 4, 5)), ("第3-5项", (3, 4, 5))])
def test_a_dash_after_task_words_is_still_a_span_of_tasks(
    engine: Engine, question: str, tasks: tuple[int, ...]
) -> None:
    answer = engine.answer(question)
    assert (answer.kind, answer.tasks) == ("task", tasks)


@pytest.mark.parametrize(
    "question", ["四分之三的残疾人", "下午三点一刻开会", "一点一滴做起", "九点五十到", "十之八九"]
)
def test_numbers_that_are_no_measure_stay_so(engine: Engine, question: str) -> None:
    assert engine.answer(question).kind != "measure"


@pytest.mark.parametrize(("question", "task"), [("第九大项讲的什么", 9), ("第十二大项", 12)])
def test_a_big_item_is_a_task(engine: Engine, plan: Plan, question: str, task: int) -> None:
    answer = engine.answer(question)
    assert answer.kind == "task"
    assert answer.tasks == (task,)


@pytest.mark.parametrize(
    ("question", "back"),
    [("倒数第二项任务", 2), ("最后一项任务", 1), ("最后那个大项", 1), ("倒数第3个任务", 3)],
)
def test_a_task_counted_from_the_end(engine: Engine, plan: Plan, question: str, back: int) -> None:
    answer = engine.answer(question)
    assert answer.kind == "task"
    assert answer.tasks == (plan.tasks[-back].number,)


def test_places_and_big_items_in_an_imported_document(nongye: tuple[Plan, Engine]) -> None:
    plan, engine = nongye
    # The document numbers its tasks 二…八: 第三大项 is its task 三, the bot's task 2.
    second = next(t for t in plan.tasks if t.doc_number == "三")
    assert engine.answer("第三大项讲的什么").tasks == (second.number,)
    assert ids(engine, "第三大项的最后一条") == [second.measures[-1].id]
    assert ids(engine, "第三大项头一条") == [second.measures[0].id]
    fourth = next(t for t in plan.tasks if t.doc_number == "四")
    assert ids(engine, "第四项倒数第二条") == [fourth.measures[-2].id]
    # a spoken id is the bot's own id
    assert ids(engine, "三点二") == ["3.2"]
    # counted from the end: tasks and places
    assert ids(engine, "倒数第二大项的最后一条") == [plan.tasks[-2].measures[-1].id]
    assert ids(engine, "最后一项任务倒数第二条") == [plan.tasks[-1].measures[-2].id]
    assert engine.answer("最后一个大项").tasks == (plan.tasks[-1].number,)


# -- a unit's short form inside a sentence ------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("税务这边分到啥了", "四川省税务局"),
        ("税务那边有什么活", "四川省税务局"),
        ("乡振局负责啥", "省乡村振兴局"),
        ("乡振那儿有啥任务", "省乡村振兴局"),
        ("省发改的活", "省发展改革委"),
        ("发改这块要干什么", "省发展改革委"),
        ("民政口子管啥", "民政厅"),
        ("卫健这块负责什么", "省卫生健康委"),
        ("文旅口子的事", "文化和旅游厅"),
        ("人社系统负责哪些", "人力资源社会保障厅"),
    ],
)
def test_a_short_form_in_a_sentence_names_the_unit(
    engine: Engine, plan: Plan, question: str, unit: str
) -> None:
    answer = engine.answer(question)
    assert answer.units == (unit,)
    assert {m.id for m in answer.measures} == {m.id for m in plan.duties_of(unit)}


@pytest.mark.parametrize("question", ["教育方面有哪些措施", "职业教育", "金融支持残疾人创业"])
def test_a_word_the_document_writes_is_no_short_form(engine: Engine, question: str) -> None:
    # 教育 and 金融 are topics here (职业教育, 继续教育), not 教育厅 or a 金融监管局
    assert engine.answer(question).units == ()


def test_a_short_form_after_a_unit_narrows_a_topic(engine: Engine, plan: Plan) -> None:
    answer = engine.answer("卫健这块在盲人按摩方面做啥")
    assert answer.units == ("省卫生健康委",)
    assert answer.kind == "unit_topic"
    assert all(plan.is_responsible("省卫生健康委", m) for m in answer.measures)


def test_short_forms_of_an_imported_document(tmp_path_factory: pytest.TempPathFactory) -> None:
    plan, engine = _imported(
        tmp_path_factory.mktemp("zhenzhua"), "guobanfa2018-117_zhenzhua_shigan.txt"
    )
    for question, unit in [
        ("交运这边负责啥", "交通运输部"),
        ("自资部有哪些任务", "自然资源部"),
        ("生环那块的事", "生态环境部"),
    ]:
        answer = engine.answer(question)
        assert answer.units == (unit,), question
        assert {m.id for m in answer.measures} == {m.id for m in plan.duties_of(unit)}


_LEVELS = """\
某州人民政府关于印发民生工作分工方案的通知
2024年3月1日
一、重点任务
1.加快发展老龄事业。(州民政局、州国土资源局负责)
2.完善妇女儿童关爱服务。(全国妇联)
3.地区生产总值增长7%以上。(州发展改革委,各县〔市、区〕政府)
4.落实减税降费政策。(州财政局牵头,州商务局、税务局、交通运输局按职责分工负责)
"""


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("民政局负责哪些", "州民政局"),  # the level dropped
        ("凉山州民政局负责哪些", "州民政局"),  # a place and the level added
        ("国土局有什么任务", "州国土资源局"),  # 国土资源 said 国土
        ("妇联负责啥", "全国妇联"),
        ("各县区政府要负责哪些", "各县〔市、区〕政府"),  # its bracket typed plainly
        ("县市区政府负责什么", "各县〔市、区〕政府"),
        ("州税务局负责啥", "税务局"),  # a national line's body: the list's 州 is not its own
        ("交通运输局负责啥", "州交通运输局"),
        ("州交通局负责啥", "州交通运输局"),
    ],
)
def test_a_unit_with_its_level_dropped_or_added(tmp_path: Path, question: str, unit: str) -> None:
    source = tmp_path / "levels.txt"
    source.write_text(_LEVELS, encoding="utf-8")
    plan, engine = engine_of(tmp_path, source)
    answer = engine.answer(question)
    assert answer.units == (unit,), question
    assert {m.id for m in answer.measures} == {m.id for m in plan.duties_of(unit)}


@pytest.mark.parametrize(
    ("name", "forms"),
    [
        ("乡村振兴局", ["乡振局", "乡振"]),
        ("发展和改革委员会", ["发改委", "发改"]),
        ("文化和旅游部", ["文旅部", "文旅"]),
        ("市住房保障办", ["住保办", "住保"]),
        ("教育厅", []),  # one word: nothing shorter
        ("残疾人工作委员会", []),  # 残疾人 is a word of three: no pairs to read
        ("人力资源和社会保障厅", []),  # four words: people say 人社, not a rule's 人资社保
    ],
)
def test_acronyms_take_each_word_s_first_character(name: str, forms: list[str]) -> None:
    assert acronyms(name) == forms


def test_a_form_two_units_could_own_or_the_text_writes_is_dropped() -> None:
    units = {"乡村振兴局": ("乡村振兴局",), "乡镇振兴办": ("乡镇振兴办",), "教育厅": ("教育厅",)}
    found = spoken_aliases(units, "加强职业教育。乡村振兴局负责。")
    assert "乡振局" in found  # only 乡村振兴局 makes it
    assert "乡振" not in found  # 乡振 and 乡振办: both
    assert "教育" not in found  # the text writes 职业教育


# -- how an individual gets a benefit: answered only by a measure naming that benefit ----------


@pytest.mark.parametrize(
    "question",
    [
        "残疾人创业补贴怎么领",  # 13.1 says 就业创业 and 补贴, apart
        "盲人按摩补贴怎么申请",  # 8.1 and 8.2 give no subsidy
        "残疾人大学生求职补贴要带什么材料",
        "一次性创业补贴去哪领",
        "个体工商户税收优惠怎么申报",  # 3.1 names 个体工商户, no tax relief
        "创业补贴哪里领",
        "盲人按摩补贴找谁办",
        "残疾人职业资格证怎么考取",
        "盲人按摩师证怎么变更",
    ],
)
def test_how_to_get_a_benefit_the_document_never_names(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.no_match
    assert answer.measures == ()


def clause_holds(plan: Plan, measure: str, *words: str) -> bool:
    found = plan.measure(measure)
    assert found is not None
    clauses = found.text.replace("。", "，").replace("；", "，").split("，")
    return any(all(w in c for w in words) for c in clauses)


@pytest.mark.parametrize(
    ("question", "measure", "words"),
    [
        ("残疾人就业补贴怎么申报", "13.1", ("就业补贴",)),
        ("超比例奖励怎么领", "13.1", ("超比例", "奖励")),
        ("培训费补贴怎么申请", "10.1", ("培训费", "补贴")),
        ("超比例奖励找谁领", "13.1", ("超比例", "奖励")),
        ("残疾人就业补贴在哪儿申请", "13.1", ("就业补贴",)),
        ("开办医疗按摩所怎么申请", "8.1", ("开办医疗按摩所",)),
    ],
)
def test_how_to_get_a_benefit_a_measure_names(
    engine: Engine, plan: Plan, question: str, measure: str, words: tuple[str, ...]
) -> None:
    assert clause_holds(plan, measure, *words)
    assert measure in ids(engine, question)[:3]


@pytest.mark.parametrize(
    "question",
    [
        "我的社保缴费记录在哪查",  # a service to a person, not a duty
        "电子残疾证怎么开通",
        "开盲人按摩店要不要申请卫生许可",
        "残疾人事业单位招聘啥时候考",
        "残疾人买车能减免不",
        "就业补贴去哪个网站申请",
        "职业技能大赛报名什么时候截止",
        "残疾人就业服务中心在哪",
    ],
)
def test_a_service_to_a_person_the_document_never_gives(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.no_match
    assert answer.measures == ()


@pytest.mark.parametrize(
    ("question", "measure", "words"),
    [
        ("开办医疗按摩所要不要申请", "8.1", ("开办医疗按摩所",)),
        ("培训费补贴需要申请吗", "10.1", ("培训费", "补贴")),
    ],
)
def test_a_service_a_measure_names_is_still_answered(
    engine: Engine, plan: Plan, question: str, measure: str, words: tuple[str, ...]
) -> None:
    assert clause_holds(plan, measure, *words)
    assert measure in ids(engine, question)[:3]


@pytest.fixture(scope="module")
def shuzi(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Engine]:
    # A table of 2025 work points, one of whose items offers a look-up (信息查询).
    path = Path(__file__).parent / "data" / "blind" / "texts" / "gd2025_shuzi_guangdong.txt"
    return _imported(tmp_path_factory.mktemp("shuzi"), str(path))


def test_where_to_look_something_up(shuzi: tuple[Plan, Engine]) -> None:
    plan, engine = shuzi
    offering = {m.id for m in plan.measures if "查询" in m.text and "养老机构" in m.text}
    assert offering
    for question in ["养老机构信息到哪里查询", "养老院的信息怎么查"]:
        found = {m.id for m in engine.answer(question).measures}
        assert found, question
        assert found <= offering, question
    # A measure naming the thing but offering no look-up does not say where to look it up.
    assert any("数字人民币" in m.text for m in plan.measures)
    for question in ["数字人民币钱包余额在哪查", "5G基站信号怎么查"]:
        answer = engine.answer(question)
        assert answer.no_match, question
        assert answer.measures == (), question


def test_how_to_questions_in_an_imported_document(nongye: tuple[Plan, Engine]) -> None:
    plan, engine = nongye
    holding = {m.id for m in plan.measures if "农机购置补贴" in m.text}
    answer = engine.answer("农机购置补贴怎么申请")
    assert answer.measures
    assert {m.id for m in answer.measures} <= holding
    insured = {m.id for m in plan.measures if "农机保险" in m.text}
    assert {m.id for m in engine.answer("农机保险怎么办理").measures} <= insured
    for question in ["农机报废补贴去哪领", "买拖拉机的补贴要带什么材料", "农机作业补助怎么领"]:
        assert engine.answer(question).measures == (), question
    # "咋办" asks what to do, not how to get something: still answered
    assert engine.answer("农机作业服务组织少咋办").measures


def test_a_measure_asked_with_a_unit_carries_the_unit(engine: Engine) -> None:
    answer = engine.answer("6.3 发改委要干啥")
    assert answer.kind == "measure"
    assert [m.id for m in answer.measures] == ["6.3"]
    assert answer.units == ("省发展改革委",)
    assert engine.answer("第六项最后一条里人社厅干啥").units == ("人力资源社会保障厅",)
    assert engine.answer("6.3").units == ()


def test_a_word_and_a_particle_is_no_typo_of_a_name(engine: Engine) -> None:
    # 宣传的 is 宣传 + 的, not 宣传部 typed wrong; 人设厅 still is 人社厅
    assert engine.answer("关于宣传的").units == ()
    assert engine.answer("关于宣传的").measures
    assert engine.answer("人设厅的任务").units == ("人力资源社会保障厅",)


@pytest.mark.parametrize(
    ("question", "measure"),
    [
        ("盲人按摩那一大项都有哪些", "8.1"),
        ("农村残疾人就业那项行动包括什么", "6.1"),
        ("职业技能提升那一项的全部内容", "10.1"),
        ("国企安排残疾人那项行动", "2.1"),
    ],
)
def test_a_task_described_as_a_whole(
    engine: Engine, plan: Plan, question: str, measure: str
) -> None:
    # the task of the measure the words describe, all of it
    found = plan.measure(measure)
    assert found is not None
    answer = engine.answer(question)
    assert answer.kind == "task"
    assert answer.tasks == (found.task,)


def test_that_subsidy_is_no_task(engine: Engine) -> None:
    assert engine.answer("那项补贴怎么领").kind != "task"
    assert engine.answer("盲人按摩").kind == "topic"


def test_a_task_described_as_a_whole_in_an_imported_document(
    nongye: tuple[Plan, Engine],
) -> None:
    plan, engine = nongye
    serving = next(t for t in plan.tasks if "社会化服务" in t.title)
    assert engine.answer("农机社会化服务那一大项有哪些").tasks == (serving.number,)
    subsidy = {m.task for m in plan.measures if "农机购置补贴" in m.text}
    answer = engine.answer("农机购置补贴那项行动包括什么")
    assert answer.kind == "task"
    assert set(answer.tasks) <= subsidy


def test_an_item_given_to_no_unit_by_name_is_no_unit_s_own(shuzi: tuple[Plan, Engine]) -> None:
    plan, engine = shuzi
    unnamed = [m for m in plan.measures if not m.units and m.catch_all]
    assert unnamed  # "省有关部门按职责分工负责"
    unit = "省发展改革委"
    assert plan.measures_of(unit)
    answer = engine.answer(f"{unit}有哪些任务")
    assert {m.id for m in answer.measures} == {m.id for m in plan.measures_of(unit)}
    term = unnamed[0].catch_all[0]
    assert unnamed[0] in engine.answer(f"{term}负责什么").measures


@pytest.mark.parametrize(
    "question",
    ["邮政管理局招快递员啥时候考", "税务局的个税App怎么开通", "残联办的残疾人证在哪查"],
)
def test_a_service_asked_of_a_unit_none_of_its_items_names(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.no_match
    assert answer.measures == ()


def test_a_service_asked_of_a_unit_that_names_it(engine: Engine, plan: Plan) -> None:
    assert clause_holds(plan, "13.1", "就业补贴")
    answer = engine.answer("人社厅的就业补贴怎么领")
    assert answer.kind == "unit_topic"
    assert "13.1" in [m.id for m in answer.measures][:3]


def test_a_place_aid_goes_to_is_the_document_s_own_work(
    engine: Engine, plan: Plan, shuzi: tuple[Plan, Engine]
) -> None:
    # 6.3 names 东西部协作: helping a western province is the notice's work, not its rules.
    assert clause_holds(plan, "6.3", "东西部协作")
    assert "6.3" in ids(engine, "东西部协作帮扶贵州的残疾人就业")[:3]
    doc, reader = shuzi
    helping = {m.id for m in doc.measures if "援疆" in m.text}
    assert helping
    assert {m.id for m in reader.answer("支援新疆的数字化工作谁负责").measures[:3]} & helping
    # Another place's own work is still not the document's.
    assert reader.answer("新疆的数字化工作谁负责").no_match


@pytest.mark.parametrize(
    "question",
    [
        "助听器买哪个牌子的好",  # a product to buy
        "盲人按摩床哪款性价比高",
        "电商平台卖假货找谁投诉",  # a personal complaint
        "外卖送错了跟哪个部门投诉",
        "个体户的税收减免咋算",  # a relief worked out: the notice states no sum
    ],
)
def test_a_purchase_a_complaint_or_a_relief_sharing_words_with_a_measure(
    engine: Engine, question: str
) -> None:
    answer = engine.answer(question)
    assert answer.no_match
    assert answer.measures == ()
    # The measures sharing its words are offered as the nearest, not as the answer.
    assert answer.nearest


@pytest.mark.parametrize("question", ["税务局明年招不招人", "邮管局考不考驾照"])
def test_a_yes_or_no_thing_asked_of_a_unit_is_not_its_list(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.no_match
    assert answer.measures == ()


def test_whether_a_unit_is_in_charge_is_still_its_part(engine: Engine) -> None:
    answer = engine.answer("残联管不管盲人按摩")
    assert answer.kind == "unit_topic"
    assert {"8.1", "8.2"} & set(ids(engine, "残联管不管盲人按摩"))
    # A proportion worked out is still the document's topic (按比例安排).
    assert not engine.answer("招残疾人的比例怎么算").no_match


@pytest.mark.parametrize("question", ["灵活就业的社保咋交", "残疾学生学费怎么交", "医保费在哪交"])
def test_money_paid_in_is_no_report_handed_in(question: str) -> None:
    assert not is_reporting(question)
    assert is_reporting("年底材料怎么交")


def test_whether_a_thing_is_free_needs_a_measure_naming_it_free(engine: Engine) -> None:
    # 2.2 frees stalls and shop rents: a bus ride or a doctor's visit is not what it frees.
    for question in ["盲人看病是不是免费的", "残疾人坐地铁是否免费"]:
        answer = engine.answer(question)
        assert answer.no_match, question
        assert answer.measures == (), question
    assert "2.2" in ids(engine, "摊位费是不是减免的")
    assert "2.2" in ids(engine, "残疾人开店能不能减免摊位费")


# -- round 9's references by general rules (#18, branch topic9) ---------------------------


@pytest.mark.parametrize(("question", "task"), [("叁 那一项有哪些", 3), ("5这项任务都有啥", 5)])
def test_a_lone_number_pointed_at_is_a_task(engine: Engine, question: str, task: int) -> None:
    # 贰 那一项: no 第 and no 任务, but a number pointed at with 那/这…项 names a task.
    found = plan_task(engine, task)
    assert ids(engine, question) == found


def plan_task(engine: Engine, number: int) -> list[str]:
    task = engine.plan.task(number)
    assert task is not None
    return [m.id for m in task.measures]


def test_an_item_number_said_without_di(nongye: tuple[Plan, Engine]) -> None:
    # The document numbers its items (三)…(二十) across its tasks: 十二条 is its item 12.
    plan, engine = nongye
    twelfth = [m.id for m in plan.measures if m.doc_number.strip("（）") == "十二"]
    assert twelfth
    assert ids(engine, "十二条说的啥")[:1] == twelfth
    assert ids(engine, "十二条是谁的事")[:1] == twelfth


@pytest.mark.parametrize(
    ("name", "question", "count"),
    [
        ("henan2023_yuzheng5_zhongdian_gongzuo.txt", "那九十条措施谁来抓落实", "90条"),
    ],
)
def test_a_count_in_words_names_the_measure_writing_it(
    name: str, question: str, count: str
) -> None:
    # 九十条 where one measure writes 90条 (and nothing else of the question): that measure.
    plan, engine = _document(name)
    expected = [m.id for m in plan.measures if count in m.text]
    assert len(expected) == 1
    assert ids(engine, question)[:1] == expected


def test_a_task_named_by_its_title_s_words_in_another_order(
    nongye: tuple[Plan, Engine],
) -> None:
    plan, engine = nongye
    task = next(t for t in plan.tasks if "全程机械化" in t.title)
    answer = engine.answer("机械化全程生产那一大项")
    assert answer.kind == "task"
    assert [m.id for m in answer.measures] == [m.id for m in task.measures]


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("jyt负责什么", "教育厅"),
        ("mz厅有哪些任务", "民政厅"),
        ("rs厅在盲人按摩这块有啥职责", "人力资源社会保障厅"),
        ("GZW负责哪些", "省国资委"),
        ("rs这边要干啥", "人力资源社会保障厅"),
    ],
)
def test_a_unit_by_pinyin_initials(engine: Engine, question: str, unit: str) -> None:
    assert unit in engine.answer(question).units


def test_a_unit_s_duties_in_another_place_are_not_found(engine: Engine) -> None:
    answer = engine.answer("国资委在广东有啥任务")
    assert answer.kind == "none"
    assert not answer.measures


@pytest.mark.parametrize(
    ("question", "at"),
    [
        ("倒数第二条是啥", -2),
        ("最后一条说的什么", -1),
        ("头一条是什么", 0),
        ("倒数第二条谁负责", -2),
    ],
)
def test_a_place_asked_alone_counts_over_the_whole_document(
    engine: Engine, question: str, at: int
) -> None:
    # No list was shown before: the place is counted over all of the document's measures.
    assert ids(engine, question) == [engine.plan.measures[at].id]


def test_a_place_with_more_asked_is_not_counted_over_the_document(engine: Engine) -> None:
    # Within a unit's list, or a span of time, not the document's last item.
    last = engine.plan.measures[-1].id
    assert ids(engine, "人社厅的最后一条") != [last]
    assert ids(engine, "最后一个月的补贴") != [last]


def test_a_small_point_inside_a_task(engine: Engine) -> None:
    assert ids(engine, "第4个任务的第三小点说的什么") == ["4.3"]

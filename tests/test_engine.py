"""The question engine against the real plan: units, tasks, measures, topics and honest misses.

Expected answers are derived from data/*.yaml (duties_of, task measures, the words of a
measure), so that the tests follow the document rather than a copy of it. The questions are
written the way liaisons in provincial departments type them; none is taken from the scoring
set.
"""

from __future__ import annotations

import json
import random

import pytest

from bot.ask.assistant import Assistant
from bot.ask.engine import MAX_TOPIC, Answer, Engine
from bot.ask.lexicon import Lexicon, load_lexicon
from bot.documents.plan import Plan, load_plan
from bot.reply import render_plain

# Loaded at import for parametrisation only; the tests use the fixtures below.
PLAN = load_plan()
LEXICON = load_lexicon()

_CN_DIGITS = "零一二三四五六七八九"
_FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


def cn(n: int) -> str:
    """Write 1-99 in Chinese numerals, as people type them (八, 十, 十六, 二十三)."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    head = "十" if tens == 1 else _CN_DIGITS[tens] + "十"
    return head + (_CN_DIGITS[ones] if ones else "")


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon()


@pytest.fixture(scope="module")
def engine(plan: Plan, lexicon: Lexicon) -> Engine:
    return Engine(plan, lexicon)


def ids(answer: Answer) -> list[str]:
    return [m.id for m in answer.measures]


def duties(plan: Plan, unit: str) -> list[str]:
    return [m.id for m in plan.duties_of(unit)]


def shared_for(plan: Plan, unit: str) -> frozenset[str]:
    return frozenset(m.id for m in plan.shared_measures() if unit not in m.units)


def with_word(plan: Plan, word: str) -> set[str]:
    """Ids of the measures whose text uses `word`."""
    return {m.id for m in plan.measures if word in m.text}


def assert_unit_answer(plan: Plan, answer: Answer, unit: str) -> None:
    assert answer.kind == "unit", answer
    assert answer.units == (unit,)
    assert ids(answer) == duties(plan, unit)
    assert answer.shared == shared_for(plan, unit)
    assert not answer.no_match


def assert_no_match(answer: Answer, lexicon: Lexicon) -> None:
    assert answer.kind == "none", answer
    assert answer.no_match
    assert answer.measures == ()
    assert answer.units == ()
    assert answer.tasks == ()
    assert answer.suggestions
    assert answer.suggestions == lexicon.examples


# -- data sanity: the expectations below rely on these facts of the document ---------------


def test_plan_has_the_shared_measures_the_tests_rely_on(plan: Plan) -> None:
    assert [m.id for m in plan.shared_measures()] == ["11.1", "16.1"]
    assert len(plan.tasks) == 16
    assert len(plan.measures) == 31


# -- units -----------------------------------------------------------------------------------

UNIT_NAMES = [(u.name, name) for u in PLAN.units for name in dict.fromkeys(u.names())]


@pytest.mark.parametrize(("unit", "name"), UNIT_NAMES)
def test_unit_by_any_of_its_names(engine: Engine, plan: Plan, unit: str, name: str) -> None:
    answer = engine.answer(name)
    assert_unit_answer(plan, answer, unit)
    assert answer.corrections == ()
    assert answer.missed_topic == ""


UNIT_TEMPLATES = (
    "{}负责哪些工作？",
    "请问{}有哪几项举措",
    "{}的职责有哪些",
    "帮我查一下{}",
    "{}要落实什么",
    "想问一下{}的分工",
    "{}承担哪些任务啊",
)


@pytest.mark.parametrize(("unit", "name"), UNIT_NAMES)
def test_unit_name_in_a_question(engine: Engine, plan: Plan, unit: str, name: str) -> None:
    for template in UNIT_TEMPLATES:
        question = template.format(name)
        answer = engine.answer(question)
        assert_unit_answer(plan, answer, unit)
        assert answer.missed_topic == "", question


def test_unit_own_measures_come_first_in_document_order_then_shared(
    engine: Engine, plan: Plan
) -> None:
    order = {m.id: i for i, m in enumerate(plan.measures)}
    for unit in plan.units:
        answer = engine.answer(unit.name)
        got = ids(answer)
        own = [i for i in got if i not in answer.shared]
        assert own == sorted(own, key=order.__getitem__)
        assert got == own + sorted(answer.shared, key=order.__getitem__)
        # Every unit is bound by both shared measures, named in them or not.
        assert {"11.1", "16.1"} <= set(got)


def test_unit_named_in_a_shared_measure_is_not_marked_shared(engine: Engine) -> None:
    # 人社厅 is named in 11.1 but not in 16.1; 省残联 is named in both.
    assert engine.answer("人社厅").shared == {"16.1"}
    assert engine.answer("省残联").shared == frozenset()
    assert engine.answer("民政厅").shared == {"11.1", "16.1"}


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("我们是省卫健委的，想看看我们的分工", "省卫生健康委"),
        ("领导让我问问经信厅在这个方案里牵头了什么", "经济和信息化厅"),
        ("【文旅厅】要做哪些事情", "文化和旅游厅"),
        ("《四川省教育厅》", "教育厅"),
        ("退役军人事务厅这次有任务吗？", "退役军人厅"),
        ("省医保局今年要落实哪些事情？", "省医疗保障局"),
        ("烟草局有没有相关职责", "省烟草专卖局"),
    ],
)
def test_unit_embedded_in_a_sentence(engine: Engine, plan: Plan, question: str, unit: str) -> None:
    assert_unit_answer(plan, engine.answer(question), unit)


def test_two_units_in_one_question(engine: Engine, plan: Plan) -> None:
    answer = engine.answer("发改委和财政厅各负责什么")
    assert answer.kind == "unit"
    assert answer.units == ("省发展改革委", "财政厅")
    expected = set(duties(plan, "省发展改革委")) | set(duties(plan, "财政厅"))
    assert set(ids(answer)) == expected
    assert len(ids(answer)) == len(expected)


@pytest.mark.parametrize(
    ("question", "typed", "unit"),
    [
        ("人设厅负责什么", "人设厅", "人力资源社会保障厅"),
        ("残连的任务有哪些", "残连", "省残联"),
        ("卫建委要做什么", "卫建委", "省卫生健康委"),
        ("教育停有哪些工作", "教育停", "教育厅"),
        ("财政听的职责", "财政听", "财政厅"),
        ("发该委负责啥", "发该委", "省发展改革委"),
        ("税物局", "税物局", "四川省税务局"),
        ("市场监官局负责哪几项", "市场监官局", "省市场监管局"),
        ("组织布的分工", "组织布", "省委组织部"),
        ("医宝局", "医宝局", "省医疗保障局"),
    ],
)
def test_unit_with_a_one_character_typo(
    engine: Engine, plan: Plan, question: str, typed: str, unit: str
) -> None:
    answer = engine.answer(question)
    assert_unit_answer(plan, answer, unit)
    assert answer.corrections == ((typed, unit),)


@pytest.mark.parametrize(
    "question",
    [
        "残疾人找工作",
        "残疾人网店创业",
        "残疾人开网店创业",
        "我想找工作",
        "残疾人求职",
        "企业招聘残疾人",
        "组织残疾人招聘会",
        "财政补贴",
        "残疾人社区就业",
        "农村残疾人社会保障",
        "残疾人社会组织有什么作用",
        "职业技能比赛谁来办",
    ],
)
def test_no_false_unit_from_ordinary_words(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.units == ()
    assert answer.corrections == ()
    assert answer.kind not in ("unit", "unit_topic")


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("广东省残联负责什么", "广东省残联"),
        ("北京市人社局有哪些任务", "北京市人社局"),
        ("浙江的教育厅管什么", "浙江的教育厅"),
        ("内蒙古自治区民政厅在残疾人就业方面做什么", "内蒙古自治区民政厅"),
        ("中共广东省委组织部的职责", "广东省委组织部"),
        ("广东省税务局负责哪些任务", "广东省税务局"),
    ],
)
def test_another_places_unit_is_not_in_the_document(
    engine: Engine, lexicon: Lexicon, question: str, named: str
) -> None:
    """The table binds Sichuan's provincial units: another province's is honestly none."""
    answer = engine.answer(question)
    assert answer.kind == "none"
    assert answer.measures == ()
    assert answer.elsewhere == (named,)
    assert answer.suggestions == lexicon.examples


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("四川省残联负责什么", "省残联"),
        ("四川的教育厅管什么", "教育厅"),
        ("广东省残联和四川省财政厅各负责什么", "财政厅"),
    ],
)
def test_sichuan_units_beside_other_places(
    engine: Engine, plan: Plan, question: str, unit: str
) -> None:
    answer = engine.answer(question)
    assert_unit_answer(plan, answer, unit)
    assert answer.elsewhere == ()


@pytest.mark.parametrize("question", ["医保报销比例", "财政补贴"])
def test_a_short_unit_name_inside_a_word_is_no_unit(engine: Engine, question: str) -> None:
    """医保 and 财政 name units only standing alone: 医保报销 is a topic, not 医保局's."""
    assert engine.answer(question).units == ()


def test_a_place_without_a_unit_is_just_a_word(engine: Engine) -> None:
    answer = engine.answer("去浙江做盲人按摩")
    assert answer.kind == "topic"
    assert answer.measures[0].task == 8  # 盲人按摩就业促进行动


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("人社那边要做什么", "人力资源社会保障厅"),
        ("残联这边负责哪些", "省残联"),
        ("人社那边的任务", "人力资源社会保障厅"),
        ("民政厅在这个方案里有啥任务", "民政厅"),
        ("财政厅在本方案中的职责", "财政厅"),
        ("教育厅的任务清单", "教育厅"),
        ("咱们财政这边要做什么", "财政厅"),
        ("文旅这块有啥任务", "文化和旅游厅"),
        ("医保那边负责什么", "省医疗保障局"),
        ("我在残联上班，想了解一下我们的任务", "省残联"),
        ("教育厅负则什么", "教育厅"),  # a slip in the scaffolding (负责)
        ("残联负则哪些", "省残联"),  # … right after a two-character short name
    ],
)
def test_unit_among_colloquial_words(engine: Engine, plan: Plan, question: str, unit: str) -> None:
    answer = engine.answer(question)
    assert_unit_answer(plan, answer, unit)
    assert not answer.missed_topic  # nothing of it is read as a topic the unit lacks


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("教育部门负责啥", "教育厅"),
        ("民政部门要做哪些工作", "民政厅"),
        ("卫生健康部门有什么任务", "省卫生健康委"),
        ("人力资源社会保障部门", "人力资源社会保障厅"),
    ],
)
def test_department_as_people_say_it(engine: Engine, plan: Plan, question: str, unit: str) -> None:
    assert_unit_answer(plan, engine.answer(question), unit)


def test_department_name_is_not_corrected_into_another_unit(engine: Engine) -> None:
    answer = engine.answer("商务部门在电商方面负责什么")
    assert "四川省税务局" not in answer.units
    assert answer.units in ((), ("商务厅",))


@pytest.mark.parametrize(
    "unit",
    [
        "人力资源社会保障厅",
        "教育厅",
        "省残联",
        "省委宣传部",
        "省工商联",
        "省企业联合会",
    ],
)
def test_liaison_introducing_themselves(engine: Engine, plan: Plan, unit: str) -> None:
    question = f"我是{unit}的联络员，我们单位有哪些任务"
    assert_unit_answer(plan, engine.answer(question), unit)


@pytest.mark.parametrize(
    "question",
    [
        "请问人社厅在这个分工里要做什么",
        "麻烦查一下医保局的职责，谢谢",
        "请问一下四川省教育厅在这个文件里负责哪几条",
    ],
)
def test_filler_words_are_not_a_missed_topic(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.kind == "unit"
    assert answer.missed_topic == ""


# -- topics ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "word"),
    [
        # (colloquial question, the document's word for it)
        ("视障人员就业有什么政策", "盲人"),
        ("视力残疾的人就业", "盲人"),
        ("盲人开按摩店", "按摩"),
        ("残疾大学生毕业了怎么帮扶", "残疾人大学生"),
        ("残疾大学生就业服务台账", "台账"),
        ("民企招残疾人有什么要求", "民营企业"),
        ("国企要安排多少残疾人", "国有企业"),
        ("残疾人开网店", "电商"),
        ("残疾人网上开店有扶持吗", "电商"),
        ("残疾人考公务员有什么便利", "招录"),
        ("农民残疾人怎么扶持", "农村"),
        ("智障人士就业", "辅助性就业"),
        ("精神残疾人托养", "托养"),
        ("技校招残疾学生", "职业院校"),
        ("残疾人读职高", "职业教育"),
        ("卖烟许可证", "烟草专卖零售许可证"),
        ("残疾人开报刊亭", "报刊零售亭"),
        ("残疾人摆摊能减免费用吗", "摊位费"),
        ("外卖骑手残疾人", "新就业形态"),
        ("个体户残疾人有什么扶持", "个体工商户"),
        ("残保金", "残疾人就业保障金"),
        ("残疾人技能大赛", "职业技能竞赛"),
        ("公益岗", "公益性岗位"),
        ("挂靠残疾人", "虚假安排"),
        ("年末要上报什么", "报送"),
        ("搬迁户残疾人就业", "易地搬迁"),
        ("对口帮扶", "定点帮扶"),
        ("助学金", "学生资助"),
        ("残疾人培训有交通补贴吗", "交通费"),
        ("残疾人就业数据怎么共享", "互联互通"),
        ("工伤职工", "工伤伤残职工"),
        ("编制50人以上的机关要招几个残疾人", "编制50人"),
        ("机关安排残疾人就业要公示吗", "公示"),
        ("残疾人职业培训基地", "职业培训基地"),
        ("盲人就业归哪个部门", "盲人"),
        ("残疾人可以申请哪些补贴", "补贴"),
        ("请详细介绍一下盲人按摩", "盲人"),
        ("盲人按摩，请详细说明相关的政策", "盲人"),
        ("用人单位没按比例安排残疾人咋办", "未按比例"),
        ("残疾人打算开个烟酒店", "烟草制品零售点"),
        ("评先进的事谁管", "突出贡献"),
        ("技能竞赛多久办一次", "职业技能竞赛"),
        # a situation told in everyday words
        ("家里老人是盲人，以后想做按摩有支持吗", "按摩"),
        ("单位招了个员工是残疾人，有没有什么奖励", "奖励"),
        ("村里的残疾人想学养殖", "养殖"),
    ],
)
def test_topic_in_everyday_words(engine: Engine, plan: Plan, question: str, word: str) -> None:
    expected = with_word(plan, word)
    assert expected, f"the document no longer says {word}"
    answer = engine.answer(question)
    assert answer.kind == "topic", answer
    assert answer.units == ()
    assert 1 <= len(answer.measures) <= MAX_TOPIC
    assert expected & set(ids(answer)[:3]), (ids(answer), sorted(expected))


@pytest.mark.parametrize(
    "question", ["残疾人就业", "残疾人", "就业", "残疾人就业工作", "促进残疾人就业"]
)
def test_common_words_alone_do_not_list_the_whole_document(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert len(answer.measures) <= MAX_TOPIC
    assert len(answer.measures) < len(PLAN.measures)


@pytest.mark.parametrize(
    ("question", "word"),
    [
        ("残疾人就业服务里的美丽工坊", "美丽工坊"),
        ("残疾人就业服务 防止返贫", "返贫"),
        ("安排残疾人就业 学生资助", "学生资助"),
    ],
)
def test_rare_word_outweighs_common_words(
    engine: Engine, plan: Plan, question: str, word: str
) -> None:
    # The rare word occurs in one measure; 残疾人, 就业, 服务, 安排 occur everywhere and
    # would put a long measure full of them first without IDF weighting.
    (rare,) = with_word(plan, word)
    assert ids(engine.answer(question))[0] == rare


def test_disability_certificate_application_is_not_in_the_document(
    engine: Engine, lexicon: Lexicon
) -> None:
    assert_no_match(engine.answer("怎么申请残疾证"), lexicon)


# -- tasks -----------------------------------------------------------------------------------

TASK_TEMPLATES = (
    "第{n}项任务是什么",
    "第{c}项主要任务",
    "任务{c}有哪些举措",
    "主要任务第{n}项",
    "看看第{n}个任务",
    "第{c}大任务",
    "任务{n}",
    "第 {n} 项任务谁负责",
    "{n}号任务",
    "{n} 号主要任务有哪些举措",
)


@pytest.mark.parametrize("number", range(1, len(PLAN.tasks) + 1))
def test_task_by_number(engine: Engine, plan: Plan, number: int) -> None:
    expected = [m.id for m in plan.tasks[number - 1].measures]
    for template in TASK_TEMPLATES:
        question = template.format(n=number, c=cn(number))
        answer = engine.answer(question)
        assert answer.kind == "task", question
        assert answer.tasks == (number,), question
        assert ids(answer) == expected, question


@pytest.mark.parametrize("number", range(1, len(PLAN.tasks) + 1))
def test_task_by_title(engine: Engine, plan: Plan, number: int) -> None:
    task = plan.tasks[number - 1]
    expected = [m.id for m in task.measures]
    questions = [task.title, f"{task.title}有哪些内容", f"{task.title}这部分讲了什么"]
    core = task.title.removeprefix("实施").removesuffix("行动")
    if core != task.title:
        questions.append(f"{core}由谁负责")
    for question in questions:
        answer = engine.answer(question)
        assert answer.kind == "task", question
        assert answer.tasks == (number,), question
        assert ids(answer) == expected, question


def test_two_tasks_in_one_question(engine: Engine, plan: Plan) -> None:
    answer = engine.answer("第8项任务和第9项任务")
    assert answer.tasks == (8, 9)
    assert ids(answer) == [m.id for t in plan.tasks[7:9] for m in t.measures]


def test_two_task_numbers_sharing_one_phrase(engine: Engine) -> None:
    assert engine.answer("第8、9项任务").tasks == (8, 9)


@pytest.mark.parametrize(
    ("question", "tasks"),
    [
        ("第8、第9项任务", (8, 9)),
        ("8、第9项任务", (9,)),  # the list begins at 第
        ("第8、9号任务", (8, 9)),
        ("任务3至5", (3, 4, 5)),
        ("任务 第 3 到 五", (3, 4, 5)),
        ("第1 、 2 、 3项", (1, 2, 3)),
        ("第8项主要任务和第九项任务", (8, 9)),
        ("8 号 主要任务", (8,)),
        ("任务123", ()),
        ("110号任务", ()),  # no task 10 read from inside 110
        ("第十二三四项任务", ()),
    ],
)
def test_task_number_lists(engine: Engine, question: str, tasks: tuple[int, ...]) -> None:
    assert engine.answer(question).tasks == tasks


@pytest.mark.parametrize(
    "question", ["第17项任务", f"任务{cn(17)}", "第0项任务", f"第{cn(20)}项任务"]
)
def test_task_number_out_of_range(engine: Engine, lexicon: Lexicon, question: str) -> None:
    answer = engine.answer(question)
    assert answer.kind != "task"
    assert answer.tasks == ()
    assert_no_match(answer, lexicon)


# -- measures by id --------------------------------------------------------------------------

MEASURE_TEMPLATES = (
    "{id}？",
    "举措{id}讲的是什么",
    "{id}是什么",
    "第{id}条",
    "请问{id}由谁负责",
    "{fw}",
    "举措{fw}",
    " {id} ",
)


@pytest.mark.parametrize("measure_id", [m.id for m in PLAN.measures])
def test_measure_by_id(engine: Engine, plan: Plan, measure_id: str) -> None:
    measure = plan.measure(measure_id)
    assert measure is not None
    for template in MEASURE_TEMPLATES:
        question = template.format(id=measure_id, fw=measure_id.translate(_FULL_WIDTH))
        answer = engine.answer(question)
        assert answer.kind == "measure", question
        assert ids(answer) == [measure_id], question
        assert answer.tasks == (measure.task,), question


def test_measure_id_with_ideographic_full_stop(engine: Engine) -> None:
    assert ids(engine.answer("7。2")) == ["7.2"]


def test_several_measure_ids_in_order(engine: Engine) -> None:
    answer = engine.answer("1.1和2.3有什么区别")
    assert answer.kind == "measure"
    assert ids(answer) == ["1.1", "2.3"]
    assert answer.tasks == (1, 2)


@pytest.mark.parametrize("question", ["9.9", "举措9.9", "99.9是什么", "0.1", "7.20", "3.14159"])
def test_nonexistent_measure_id(engine: Engine, plan: Plan, question: str) -> None:
    answer = engine.answer(question)
    assert answer.kind != "measure"
    assert answer.measures == ()
    assert all(plan.measure(i) is None for i in ("9.9", "99.9", "0.1", "7.20"))


# -- unit and topic together -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "unit", "word"),
    [
        ("人社厅在盲人按摩方面有哪些任务", "人力资源社会保障厅", "盲人"),
        ("人社厅 公益岗", "人力资源社会保障厅", "公益性岗位"),
        ("教育厅 残疾学生上职校", "教育厅", "职业院校"),
        ("教育厅关于大学生就业的职责", "教育厅", "高校毕业生"),
        ("财政厅在资金保障上的职责", "财政厅", "资金"),
        ("残联负责的辅助性就业", "省残联", "辅助性就业"),
        ("省残联在福利基金会方面做什么", "省残联", "福利基金会"),
        ("国资委 国企招聘", "省国资委", "国有企业"),
        ("税务局在残保金方面的职责", "四川省税务局", "残疾人就业保障金"),
        ("市场监管局 盲人按摩标准", "省市场监管局", "标准"),
        ("邮政管理局 报刊亭", "省邮政管理局", "报刊零售亭"),
        ("农业农村厅 实用技术培训", "农业农村厅", "实用技术"),
        ("乡村振兴局 易地搬迁", "省乡村振兴局", "易地搬迁"),
        ("卫健委 盲人按摩医院", "省卫生健康委", "盲人按摩医院"),
        ("文旅厅 美丽工坊", "文化和旅游厅", "美丽工坊"),
        ("大数据中心 数据互通", "省大数据中心", "互联互通"),
        ("工商联 民企", "省工商联", "民营企业"),
    ],
)
def test_unit_with_topic(engine: Engine, plan: Plan, question: str, unit: str, word: str) -> None:
    answer = engine.answer(question)
    assert answer.kind == "unit_topic", answer
    assert answer.units == (unit,)
    allowed = set(duties(plan, unit))
    assert set(ids(answer)) <= allowed
    expected = with_word(plan, word) & allowed
    assert expected, f"{unit} has no measure about {word}"
    assert ids(answer)[0] in expected, (ids(answer), sorted(expected))
    assert answer.shared == shared_for(plan, unit)


def test_unit_with_a_topic_it_does_not_cover(engine: Engine, plan: Plan) -> None:
    answer = engine.answer("教育厅 盲人按摩")
    assert_unit_answer(plan, answer, "教育厅")
    assert answer.missed_topic == "盲人按摩"


@pytest.mark.parametrize(
    ("question", "typed"),
    [
        ("医保局 残疾大学生", "残疾大学生"),
        ("民政厅 烟草 许可证", "烟草许可证"),
    ],
)
def test_missed_topic_echoes_what_was_typed(engine: Engine, question: str, typed: str) -> None:
    answer = engine.answer(question)
    assert answer.kind == "unit"
    assert answer.missed_topic.replace(" ", "") == typed


# -- Traditional Chinese ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("人社廳", "人力资源社会保障厅"),
        ("教育廳負責什麼", "教育厅"),
        ("四川省財政廳", "财政厅"),
        ("殘疾人聯合會負責哪些", "省残联"),
        ("衛健委的職責", "省卫生健康委"),
    ],
)
def test_traditional_unit(engine: Engine, plan: Plan, question: str, unit: str) -> None:
    assert_unit_answer(plan, engine.answer(question), unit)


@pytest.mark.parametrize(
    ("question", "word"),
    [
        ("視障人士可以做什麼工作", "盲人"),
        ("國有企業專場招聘", "国有企业"),
        ("農村殘疾人怎麼幫扶", "农村"),
        ("殘疾人職業技能競賽", "职业技能竞赛"),
    ],
)
def test_traditional_topic(engine: Engine, plan: Plan, question: str, word: str) -> None:
    answer = engine.answer(question)
    assert answer.kind == "topic"
    assert with_word(plan, word) & set(ids(answer)[:3])


def test_traditional_task_and_measure(engine: Engine, plan: Plan) -> None:
    assert engine.answer("第八項任務").tasks == (8,)
    assert engine.answer("組織保障").tasks == (11,)
    assert ids(engine.answer("舉措7.2")) == ["7.2"]
    answer = engine.answer("人社廳 盲人按摩")
    assert answer.kind == "unit_topic"
    assert set(ids(answer)) <= set(duties(plan, "人力资源社会保障厅"))
    assert ids(answer)[0] in with_word(plan, "盲人")


# -- honest no match -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "重度残疾人护理补贴怎么申请",
        "困难残疾人生活补贴标准",
        "两项补贴什么时候发放",
        "低保户有什么政策",
        "辅助器具去哪里领",
    ],
)
def test_what_the_document_does_not_cover_is_no_match(
    engine: Engine, lexicon: Lexicon, question: str
) -> None:
    """护理补贴 shares 补贴 with the document, but the document says nothing of it."""
    assert_no_match(engine.answer(question), lexicon)


def test_a_unit_asked_about_an_uncovered_thing_says_so(engine: Engine, plan: Plan) -> None:
    answer = engine.answer("民政厅 生活补贴")
    assert_unit_answer(plan, answer, "民政厅")
    assert answer.missed_topic == "生活补贴"


@pytest.mark.parametrize(
    ("question", "word"),
    [
        ("盲人按磨", "按摩"),
        ("残疾人拖养机构", "托养"),
        ("辅助性就叶", "辅助性就业"),
        ("残疾人电伤创业", "电商"),
        ("公益性杠位", "公益性岗位"),
        ("职业技能竟赛", "职业技能竞赛"),
    ],
)
def test_topic_typed_with_a_same_sounding_character(
    engine: Engine, plan: Plan, question: str, word: str
) -> None:
    """Pinyin keyboards offer every character of a sound: a slip still finds the topic."""
    expected = with_word(plan, word)
    answer = engine.answer(question)
    assert answer.kind == "topic", answer
    assert expected & set(ids(answer)[:3]), (ids(answer), sorted(expected))


@pytest.mark.parametrize(
    "question",
    [
        "明天成都会下雨吗",
        "今天天汽怎么样",  # a slip that sounds like no word of the document
        "今天气温多少度",
        "护照过期了怎么换新的",
        "去哪里办港澳通行证",
        "残疾证怎么办理",
        "残疾证在哪里办",
        "养老金什么时候涨",
        "高考志愿怎么填",
        "请假流程怎么走",
        "帮我写一份工作总结",
        "残疾人婚姻登记在哪办",
        "你是谁",
        "你是谁开发的",  # 开发 is a word of the document (开发岗位)
        "你是机器人吗",
        "😀👍🎉",
        "",
        "   ",
        "\n\t",
        "？！。，……",
        "!!!???",
        "qwzx plmk",
        "lorem ipsum dolor sit amet",
        "\x00",
    ],
)
def test_no_match(engine: Engine, lexicon: Lexicon, question: str) -> None:
    answer = engine.answer(question)
    assert_no_match(answer, lexicon)
    assert answer.query == question


@pytest.mark.parametrize(
    "alphabet",
    [
        "cjk",
        "latin",
        "mixed",
    ],
)
def test_very_long_random_input(engine: Engine, lexicon: Lexicon, alphabet: str) -> None:
    rng = random.Random(f"fengong-{alphabet}")
    cjk = [chr(c) for c in range(0x4E00, 0x9FA6)]
    chars = {
        "cjk": cjk,
        "latin": list("abcdefghijklmnopqrstuvwxyz    "),
        "mixed": cjk + list("abcxyz 0123456789，。！？"),
    }[alphabet]
    question = "".join(rng.choice(chars) for _ in range(5000))
    answer = engine.answer(question)
    assert_no_match(answer, lexicon)
    assert answer.truncated


def test_lone_surrogate_does_not_crash(engine: Engine, lexicon: Lexicon) -> None:
    # Undecodable bytes on a pipe reach Python as lone surrogates (surrogateescape).
    assert_no_match(engine.answer("\udcff\udcfe"), lexicon)
    assert_unit_answer(PLAN, engine.answer("\udcff人社厅负责什么"), "人力资源社会保障厅")


# -- the JSON shape --------------------------------------------------------------------------


def test_to_json_shape(engine: Engine, plan: Plan) -> None:
    for question, kind in [
        ("人社厅负责什么", "unit"),
        ("第八项任务", "task"),
        ("举措10.3", "measure"),
        ("视障人员就业有什么政策", "topic"),
        ("明天成都会下雨吗", "none"),
    ]:
        answer = engine.answer(question)
        assert answer.kind == kind
        data = answer.to_json()
        assert json.loads(json.dumps(data, ensure_ascii=False)) == data
        assert set(data) == {"query", "units", "tasks", "measures", "no_match"}
        assert data["query"] == question
        assert data["units"] == list(answer.units)
        assert data["tasks"] == list(answer.tasks)
        assert data["measures"] == ids(answer)
        assert all(isinstance(i, str) and plan.measure(i) for i in data["measures"])
        assert all(isinstance(t, int) for t in data["tasks"])
        assert data["no_match"] is (kind == "none")


# -- property: a measure's own text finds it -------------------------------------------------


@pytest.mark.parametrize(
    "measure_id",
    [m.id for m in PLAN.measures],
)
def test_measure_text_finds_itself_first(engine: Engine, plan: Plan, measure_id: str) -> None:
    measure = plan.measure(measure_id)
    assert measure is not None
    answer = engine.answer(measure.text)
    assert answer.measures, answer.kind
    assert answer.measures[0].id == measure_id


# -- documents that say who leads and number their items ---------------------------------------


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """A national document with lead units and its own item numbers, imported as a user would."""
    from bot.cli import main
    from tests.test_import_layouts import NATIONAL

    folder = tmp_path_factory.mktemp("national")
    source = folder / "national.txt"
    source.write_text(NATIONAL, encoding="utf-8")
    assert main(["import-doc", str(source), "--out", str(folder)]) == 0
    return Assistant.load(folder)


def by_number(assistant: Assistant) -> dict[str, str]:
    return {m.doc_number: m.id for m in assistant.plan.measures}


@pytest.mark.parametrize(
    ("question", "number"),
    [
        ("第（十）条", "（十）"),
        ("第(十)条谁负责", "（十）"),
        ("第十条", "（十）"),
        ("第10项", "（十）"),
        ("（十一）是什么", "（十一）"),
        ("第３条", "（三）"),
    ],
)
def test_items_by_the_documents_own_numbers(
    national: Assistant, question: str, number: str
) -> None:
    answer = national.answer(question)
    assert answer.kind == "measure"
    assert [m.id for m in answer.measures] == [by_number(national)[number]]


def test_headings_by_the_documents_own_numbers(national: Assistant) -> None:
    # 三、强化保障 is the document's third heading, the plan's second task.
    answer = national.answer("第三项任务")
    assert answer.kind == "task"
    assert answer.tasks == (2,)


def test_the_seed_keeps_reading_task_numbers(assistant: Assistant) -> None:
    assert assistant.answer("第10项").tasks == (10,)
    assert assistant.answer("序号5是什么任务").tasks == (5,)  # the table's row numbers
    assert assistant.answer("第十条").kind != "measure"


def test_who_leads_and_who_supports(national: Assistant) -> None:
    plan = national.plan
    hrss = "人力资源社会保障部"
    led = national.answer(f"{hrss}牵头的有哪些")
    assert led.role == "lead"
    assert [m.id for m in led.measures] == [m.id for m in plan.measures if hrss in m.lead]
    supported = national.answer("财政部配合哪些工作")
    assert supported.role == "support"
    assert supported.measures
    assert all("财政部" in m.supporting for m in supported.measures)
    text = render_plain(national.ask(f"{hrss}牵头的有哪些"))
    assert f"牵头 {len(led.measures)} 项举措" in text


def test_answers_show_lead_and_supporting_units(national: Assistant) -> None:
    measure = next(m for m in national.plan.measures if m.lead and m.supporting)
    text = render_plain(national.ask(measure.id))
    assert f"牵头：{'、'.join(measure.lead)}；配合：{'、'.join(measure.supporting)}" in text


def test_who_leads_in_a_document_that_does_not_say(assistant: Assistant) -> None:
    answer = assistant.answer("省残联牵头的有哪些")
    assert answer.role == "unstated"
    assert [m.id for m in answer.measures] == [m.id for m in assistant.plan.duties_of("省残联")]
    assert "本文件没有区分牵头单位和配合单位" in render_plain(assistant.ask("省残联牵头的有哪些"))


@pytest.mark.parametrize(
    "question", ["各省级人民政府负责什么", "省级政府要做什么", "省政府要干啥", "各省政府负责啥"]
)
def test_a_catch_all_asked_like_a_unit(national: Assistant, question: str) -> None:
    answer = national.answer(question)
    assert answer.units == ("各省级人民政府",)
    bound = [m.id for m in national.plan.measures if "各省级人民政府" in m.catch_all]
    assert bound
    assert [m.id for m in answer.measures] == bound

"""A concrete case told in everyday words (#18): a person (a family role, an age, a disability
said by what they cannot do) and a need; the need finds its measure on the notice and on
imported documents, spoken words are read as plain ones, and what no measure states stays
"not found". Wordings are this module's own; expected measures come from the plan's text."""

from __future__ import annotations

import pytest

from bot.ask.engine import Engine
from bot.ask.reporting import is_reporting
from bot.ask.text import plain
from bot.documents.plan import Plan
from tests.test_engine_concepts import holding, top
from tests.test_engine_described import _document, _imported_shared, assert_among_first


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("我邻居家儿子腿脚不好，二十出头了，想学门手艺，哪个部门管培训", "技能培训"),
        ("我儿子脑子反应慢，二十出头了，能不能去残疾人之家干点活", "辅助性就业"),
        ("我们村有个娃儿精神上有点问题，一直找不到事做，哪个能帮一下", "公益性岗位"),
        (
            "我们厂有个工人干活时压断了腿，评了残疾，以后找工作能享受残疾人的服务不",
            "工伤伤残职工",
        ),
        ("我姑妈耳朵听不到，天生的，二十几岁了还没工作，谁能帮她找份事", "就业"),
    ],
)
def test_a_case_on_the_notice_finds_its_measure(
    engine: Engine, plan: Plan, question: str, term: str
) -> None:
    expected = holding(plan, term)
    assert expected
    assert engine.answer(question).kind == "topic"
    assert set(top(engine, question)) & expected


@pytest.mark.parametrize(
    ("name", "question", "term"),
    [
        (
            "guofa2018-39_cujin_jiuye.txt",
            "我们厂效益不好，老板说不裁员，国家有没有啥子补贴",
            "稳岗",
        ),
        (
            "guofa2018-42_nongye_jixiehua.txt",
            "我们组上有个大哥开收割机开得巴适得很，有没有啥子培养农机手的政策",
            "实用型人才",
        ),
        (
            "guobanfa2018-129_xiaofei_fupin.txt",
            "我们村几个大姐种的茶叶想做成一个有名气的牌子，哪个能帮",
            "品牌",
        ),
        (
            "guobanfa2018-128_wufei_chengshi.txt",
            "我家隔壁装修拆下来的砖头渣子乱倒，归谁管",
            "建筑垃圾",
        ),
        (
            "gz2023_jiatingyisheng_fengongbiao.docx",
            "我姐在社区医院开的药，拿着单子能不能去外面药店买",
            "外配处方",
        ),
        (
            # 大爷 is scaffolding on the notice, the 老年人 of a document that writes it.
            "gz2023_jiatingyisheng_fengongbiao.docx",
            "小区里有个大爷一个人住，腿脚不好出不了门，社区医生能不能上门看",
            "上门巡诊",
        ),
    ],
)
def test_a_case_in_an_imported_document_finds_its_measure(
    name: str, question: str, term: str
) -> None:
    assert_among_first(name, question, term)


def test_a_case_in_a_city_plan_finds_its_measure() -> None:
    # A document of tests/data/blind/texts: 外地来…打工 is its 异地务工人员, 孩子上学 their
    # 子女教育.
    plan, engine = _document("gz2012_minsheng_xingfu.txt")
    expected = holding(plan, "异地务工人员", "子女教育")
    assert expected
    assert set(top(engine, "我大姐一家从外地来广州打工，娃儿上学咋个办")) & expected


@pytest.mark.parametrize(
    ("name", "question"),
    [
        ("guofa2018-39_cujin_jiuye.txt", "我表哥下岗了，失业保险金要带些啥子资料去领"),
        ("guofa2018-39_cujin_jiuye.txt", "我爸六十多岁了，退休金一个月能领好多"),
        ("guobanfa2018-129_xiaofei_fupin.txt", "我表哥在村里种猕猴桃，收购价一斤好多"),
    ],
)
def test_what_a_case_asks_and_no_measure_states_is_not_found(name: str, question: str) -> None:
    _, engine = _imported_shared(name)
    assert engine.answer(question).no_match


@pytest.mark.parametrize(
    "question",
    ["我爸是一级残疾，养老金能不能多领点", "我妈耳朵听不到，买助听器能报销好多"],
)
def test_a_case_on_the_notice_the_notice_does_not_answer(engine: Engine, question: str) -> None:
    assert engine.answer(question).no_match


def test_spoken_words_are_read_as_plain_ones() -> None:
    assert plain("要带些啥子资料") == "要带些什么资料"
    assert plain("贴息能贴好多") == "贴息能贴多少"
    # 好多 is "a lot" where it does not close the question after a verb.
    assert plain("好多人都想学") == "好多人都想学"
    assert plain("娃儿咋个办") == "孩子怎么办"
    assert plain("没得活路干") == "没有活路干"
    assert plain("没得到补贴") == "没得到补贴"


def test_a_call_someone_made_is_no_phone_number_asked(engine: Engine, plan: Plan) -> None:
    question = "社区的人打电话来核对我表哥的信息，还问他想不想出去上班，这是哪一条"
    assert engine.answer(question).kind != "none"
    assert set(top(engine, question)) & holding(plan, "信息核对")
    assert engine.answer("残联的电话是多少").no_match


@pytest.mark.parametrize(
    ("question", "reporting"),
    [
        ("公司每年那个社会责任报告要写些什么", False),
        ("把在校学生名单报给哪个部门", False),
        ("每年年底报给哪个部门", True),
        ("工作进度每年要报几次", True),
    ],
)
def test_a_list_or_a_company_s_report_is_no_year_end_reporting(
    question: str, reporting: bool
) -> None:
    assert is_reporting(question) is reporting


def test_a_particle_holds_no_word_of_the_document(engine: Engine, plan: Plan) -> None:
    # 的事 is only a seam in "以上的事业单位": "要做的事" asks for the unit's whole list.
    answer = engine.answer("人社厅要做的事列一下")
    assert answer.kind == "unit"
    assert len(answer.measures) > 3

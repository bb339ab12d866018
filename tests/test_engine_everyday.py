"""Real documents asked in other words (#18): economic targets, things described, details no
measure states, a unit and a matter. Wordings are this module's own, on documents and measures
other than the question sets' (round 10's misses gave the categories only); expected measures
come from the plan's text, never from the engine."""

from __future__ import annotations

from functools import cache

import pytest

from bot.ask.engine import Engine, stated, states
from bot.documents.plan import Measure, Plan
from tests.test_engine_concepts import holding, top
from tests.test_engine_described import _document, _imported_shared


@cache
def _doc(name: str) -> tuple[Plan, Engine]:
    # A document of tests/data/blind/texts/ (.txt) or of ../shared/docs/ (with its suffix).
    return _imported_shared(name) if "." in name else _document(f"{name}.txt")


@pytest.mark.parametrize(
    ("name", "question", "term"),
    [
        # Economic and fiscal targets said in other words.
        (
            "jinxiang2025_zhongyao_gongzuo_fengong",
            "上了规模的企业产出增长谁负责",
            "规上工业增加值",
        ),
        ("sanmenxia2023_zhongdian_gongzuo_zeren", "收税任务谁负责", "一般公共预算收入"),
        ("jinxiang2025_zhongyao_gongzuo_fengong", "今年经济增长的目标谁负责", "地区生产总值"),
        ("jinxiang2025_zhongyao_gongzuo_fengong", "税收增长目标谁管", "一般公共预算收入"),
        # A deadline asked of a target: the item's 完成时限 states it.
        ("luan2021_zhongdian_gongzuo_zeren", "经济总量那条要求几号前完成", "地区生产总值"),
        # Without one, a year's work document's item is due within its year.
        ("xianan2023_zhengfu_gongzuo_baogao", "固定资产投资那条几号前要完成", "固定资产投资"),
        ("jiayu2021_zhongdian_gongzuo_zeren", "地区生产总值那条哪天前完成", "地区生产总值"),
        # Things described in words no measure writes.
        ("guangzhou2012_rencai_jiju_633.txt", "专家来广州住哪里", "专家公寓"),
        ("guangzhou2012_rencai_jiju_633.txt", "博后站的补贴谁管", "博士后"),
        ("gz2023_jiatingyisheng_fengongbiao.docx", "家庭医生合同到期了要重新签吗", "续约"),
        ("guobanfa2018-129_xiaofei_fupin.txt", "农户跟公司之间咋分钱", "利益联结"),
        # A firm settling (新落户的企业) asks for no household move.
        ("guofa2019-3_zonghe_baoshuiqu.txt", "新落户的企业信用等级怎么定", "信用等级"),
    ],
)
def test_a_document_s_term_said_in_other_words_is_found(
    name: str, question: str, term: str
) -> None:
    plan, engine = _doc(name)
    expected = holding(plan, term)
    assert expected
    assert engine.answer(question).kind == "topic"
    assert set(top(engine, question)) & expected


@pytest.mark.parametrize(
    ("name", "question"),
    [
        # The grade of a standard, a quota, how long a procedure takes, opening hours, a filing.
        ("guobanfa2018-128_wufei_chengshi.txt", "垃圾焚烧厂排放要执行几级标准"),
        ("guofa2019-3_zonghe_baoshuiqu.txt", "区内企业每次能进口多少"),
        ("guobanfa2018-128_wufei_chengshi.txt", "建一个垃圾焚烧厂审批要几个月"),
        ("guofa2018-39_cujin_jiuye.txt", "失业登记一般要几个星期"),
        ("gz2023_jiatingyisheng_fengongbiao.docx", "家庭医生晚上接诊吗"),
        ("gz2023_jiatingyisheng_fengongbiao.docx", "社区卫生服务中心过年开不开门"),
        ("guobanfa2018-128_wufei_chengshi.txt", "垃圾填埋场渗滤液要达到几级标准"),
        ("gz2012_minsheng_xingfu", "社保卡怎么备案"),
        # An age or a schooling asked of a person.
        ("guangzhou2012_rencai_jiju_633.txt", "领军人才申请有年龄要求吗"),
        ("guofa2018-39_cujin_jiuye.txt", "就业见习要什么学历"),
        # The month of an exam, a sign-up or an event.
        ("guobanfa2018-121_tiyu_jingsai.txt", "全国运动会几月份举办"),
    ],
)
def test_what_no_measure_states_is_not_found(name: str, question: str) -> None:
    answer = _doc(name)[1].answer(question)
    assert answer.no_match
    assert not answer.measures


@pytest.mark.parametrize(
    ("name", "question", "term"),
    [
        ("gz2012_minsheng_xingfu", "工资指导线怎么备案", "工资指导线备案"),
        ("zj2026_rengongzhineng_renwu", "大模型怎么备案", "大模型备案"),
        ("guangzhou2012_rencai_jiju_633.txt", "珠江科技新星申请年龄限制多少", "珠江科技新星"),
    ],
)
def test_what_a_measure_states_is_still_found(name: str, question: str, term: str) -> None:
    plan, engine = _doc(name)
    expected = holding(plan, term)
    assert expected
    assert set(top(engine, question)) & expected


def test_a_grade_and_opening_hours_are_answered_where_stated() -> None:
    text = "污水处理厂出水执行一级A标准，社区卫生服务中心周末延时服务。"
    measure = Measure(id="1.1", task=1, units=(), text=text)
    assert states("污水处理厂出水要达到几类标准", stated(measure))
    assert states("社区医院周末上不上班", stated(measure))
    assert not states("新设综保区验收一般要几个月", stated(measure))
    exam = Measure(id="1.4", task=1, units=(), text="每年6月组织资格考试。")
    assert states("资格考试几月份报名", stated(exam))
    assert not states("资格考试几月份报名", stated(measure))
    dated = Measure(
        id="1.2", task=1, units=(), text="地区生产总值增长8%。", deadline="2021年12月31日"
    )
    assert states("GDP那条要求几号前完成", stated(dated))
    assert not states("GDP那条要求几号前完成", dated.text)
    undated = Measure(id="1.3", task=1, units=(), text="固定资产投资增长10%。")
    assert states("固定资产投资那条什么时候要完成", stated(undated, yearly=True))
    assert not states("固定资产投资那条什么时候要完成", stated(undated))
    assert not states("投资博览会几号开幕", stated(undated, yearly=True))


@pytest.mark.parametrize(
    ("name", "question", "unit", "term"),
    [
        (
            "gz2023_jiatingyisheng_fengongbiao.docx",
            "市卫生健康委 医保那块",
            "市卫生健康委",
            "医保",
        ),
        ("guofa2018-39_cujin_jiuye.txt", "人社部 教育那块", "人力资源社会保障部", "教育"),
    ],
)
def test_a_unit_and_a_matter_another_unit_is_named_by(
    name: str, question: str, unit: str, term: str
) -> None:
    # 医保 is also 市医保局's short name, 教育 教育部's: after a unit, not joined to it, it is
    # the matter asked about within that unit.
    engine = _doc(name)[1]
    answer = engine.answer(question)
    assert answer.units == (unit,)
    assert answer.measures
    assert all(unit in m.units and term in m.text for m in answer.measures[:3])
    assert len(engine.answer(question.replace(" ", "和").replace("那块", "一起负责的")).units) == 2


@pytest.mark.parametrize(
    "question", ["人社厅 民政 共同负责哪些", "人社厅 民政负责哪些", "人社厅、民政"]
)
def test_two_units_asked_about_together_stay_two(engine: Engine, question: str) -> None:
    # 民政 is a word of the notice too: said with a verb after it, or joined, it is the unit.
    assert set(engine.answer(question).units) == {"人力资源社会保障厅", "民政厅"}


def test_a_unit_and_a_word_last_is_a_matter_within_it(engine: Engine) -> None:
    # "人社厅 民政" as "教育厅 大学生": the reading of a chat takes 那块 out of "民政那块".
    assert engine.answer("人社厅 民政").units == ("人力资源社会保障厅",)


def test_which_role_a_unit_plays_on_a_matter_keeps_both_roles() -> None:
    # "是牵头还是配合" asks which role: the unit's items on the matter, in either role.
    plan, engine = _doc("guofa2018-39_cujin_jiuye.txt")
    answer = engine.answer("财政部在职业培训方面是牵头还是配合")
    got = {m.id for m in answer.measures}
    assert got & holding(plan, "职业培训")
    assert got <= {m.id for m in plan.measures if "财政部" in m.units}
    assert got != {m.id for m in engine.answer("财政部牵头的有哪些").measures}
    both = engine.answer("财政部牵头和配合的都有哪些").measures
    assert {m.id for m in both} == {m.id for m in plan.measures if "财政部" in m.units}


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("禁止进入的行业清单谁负责", "负面清单"),
        ("企业想暂时停业不注销找谁", "歇业"),
        ("买卖数据的地方谁来建", "交易中心"),
    ],
)
def test_market_rules_in_everyday_words(question: str, term: str) -> None:
    plan, engine = _doc("sichuan2022_xiandai_liutong")
    expected = holding(plan, term)
    assert expected
    assert set(top(engine, question)) & expected

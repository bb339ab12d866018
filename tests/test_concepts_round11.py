"""The concept map, round 11 (#18): the notice's measures as people who never read it describe
a case (who the person is, what happened, what they want), the wrongdoing a measure guards
against said plainly, staff roles in everyday words, and the year-end report in clerks' words;
the same kinds of wording in other policy areas. Wordings are this module's own, written from
the documents; expected measures are those whose text writes the term, never the engine's
answers."""

from __future__ import annotations

import pytest

from bot.ask.engine import Engine
from bot.documents.plan import Plan
from tests.test_concepts_areas import assert_finds_term
from tests.test_engine_concepts import narrowed


@pytest.mark.parametrize(
    ("question", "term"),
    [
        # who the person is, what happened, what they want
        ("从山上搬下来的残疾人找工作", "易地搬迁"),
        ("残疾人想在小区门口摆个书报摊", "报刊零售亭"),
        ("聋人考试要手语翻译", "合理便利"),
        ("政府部门招残疾人有没有硬性指标", "规定比例"),
        ("职康站能不能干活", "辅助性就业"),
        ("干活时手被机器轧断了以后还能找工作吗", "工伤伤残职工"),
        ("残疾人家里的地没人种能帮着种吗", "产业托管"),
        ("想去国有公司上班的残疾人", "国有企业"),
        ("残疾人家里的地租给别人", "土地流转"),
        ("我女儿是视障，今年读大四", "残疾人大学生"),
        ("测一下残疾人能干什么活", "职业能力评估"),
        ("我屋头娃儿脑壳有问题，成年了在屋头耍起", "未就业残疾人"),
        # the wrongdoing, said plainly
        ("单位给残疾人发工资但不让他来上班", "虚假安排"),
        ("拿假残疾证顶数", "虚假安排"),
        ("残疾员工和别人干一样的活工资少", "就业权益"),
        ("残疾人就业的钱不能两头领", "交叉使用"),
        # staff roles, short names and the clerks' report
        ("残疾人自己办的小公司谁给指导", "自主创业"),
        ("残疾人在朋友圈卖货", "电商"),
        ("招了残疾人的单位名单在哪能看到", "公示"),
        ("年底交材料", "报送工作进度"),
        ("就援月搞什么", "就业援助月"),
    ],
)
def test_the_notice_s_cases_in_the_words_of_people_who_never_read_it(
    plan: Plan, engine: Engine, question: str, term: str
) -> None:
    assert_finds_term(plan, engine, question, term)


@pytest.mark.parametrize(
    ("written", "phrase", "term"),
    [
        # cases and roles, for the term of any document
        ("做好退役军人就业创业服务。", "从部队回来", "退役军人"),
        ("做好刑满释放人员安置帮教工作。", "刚出狱", "刑满释放人员"),
        ("实施离校未就业高校毕业生就业服务。", "毕业没找到工作", "离校未就业"),
        ("加快发展保障性租赁住房。", "房租太贵", "保障性租赁住房"),
        ("推进城乡公交一体化。", "村里不通公交", "城乡公交"),
        ("推进既有住宅加装电梯。", "老楼没电梯", "加装电梯"),
        ("开展农资打假专项行动。", "买到假种子", "农资打假"),
        ("推动科技成果转化。", "技术卖给企业", "科技成果转化"),
        ("加强人民调解员队伍建设。", "帮忙调解的", "人民调解员"),
        ("整治形式主义，为基层减负。", "层层填表", "形式主义"),
        ("推行先诊疗后付费。", "住院押金", "先诊疗后付费"),
        ("为独居老人提供探访关爱服务。", "老人一个人住", "独居老人"),
        ("开展农业生产托管服务。", "地没人种", "农业生产托管"),
        ("帮助下岗失业人员再就业。", "工厂倒闭", "失业人员"),
    ],
)
def test_cases_and_roles_reach_the_document_s_term(written: str, phrase: str, term: str) -> None:
    found = narrowed(written)
    assert term in found.get(phrase, ()), (phrase, found.get(phrase))


@pytest.mark.parametrize(
    "question",
    [
        # phrases of this round beside matters the notice does not treat
        "两头领养老金违法吗",
        "陪着上岗的老师一个月多少钱",
        "在外地上班医保怎么报销",
        "公司倒闭了工资谁给",
        "厂里停工了工资怎么算",
        "公务员待遇低",
        "乡镇单位工资什么时候涨",
        "孩子没人带怎么办",
        "房租太贵怎么办",
        "手语翻译多少钱一小时",
        "学费补助有多少",
        "冒领养老金怎么处理",
    ],
)
def test_what_the_notice_does_not_answer_stays_not_found(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.no_match, question
    assert answer.measures == ()

"""Everyday descriptions the engine must carry to a document's terms (#18): a description
outweighs the stray words it shares with another measure, a word written with 零 is one word.
Wordings are this module's own; expected measures come from the plan's text, never from the
engine."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import pytest

from bot.ask.concept import concepts_in
from bot.ask.engine import Engine
from bot.ask.lexicon import load_lexicon
from bot.cli import main
from bot.documents.plan import Plan, load_plan
from tests.test_engine_concepts import BLIND, holding, top
from tests.test_engine_reading import _imported


@pytest.mark.parametrize(
    "question",
    ["想在路口摆个卖报纸的亭子，残疾人能优先吗", "报刊零售点给残疾人留岗位不"],
)
def test_a_word_written_with_zero_is_found(engine: Engine, plan: Plan, question: str) -> None:
    # 报刊零售亭: 零 once split the word in two, and 卖报纸 found nothing to stand for.
    expected = holding(plan, "报刊零售")
    assert expected
    assert set(top(engine, question)) & expected


def test_the_words_typed_answer_when_a_description_s_term_is_held_by_none(
    engine: Engine, plan: Plan
) -> None:
    # 找工作 describes 就业服务, which the measure on 公益性岗位 does not write: the terms
    # weigh against it, and the words typed (兜底岗位) must still be ranked alone.
    expected = holding(plan, "公益性岗位")
    assert expected
    question = "残疾人里找工作特别难的，政府给兜底岗位的说法有吗"
    assert engine.answer(question).kind == "topic"
    assert set(top(engine, question)) & expected


@cache
def _document(name: str) -> tuple[Plan, Engine]:
    """A document of tests/data/blind/texts/ imported as a user would (once per process)."""
    out = Path(tempfile.mkdtemp(prefix="described-")) / "doc"
    assert main(["import-doc", str(BLIND / "texts" / name), "--out", str(out)]) == 0
    plan = load_plan(out)
    return plan, Engine(plan, load_lexicon(out))


@cache
def _imported_shared(name: str) -> tuple[Plan, Engine]:
    """A document of ../shared/docs/ imported (once per process)."""
    return _imported(Path(tempfile.mkdtemp(prefix="described-")), name)


def assert_first_writes(name: str, question: str, term: str) -> None:
    """Assert that the first measure answering `question` on document `name` writes `term`."""
    plan, engine = _imported_shared(name)
    expected = holding(plan, term)
    assert expected
    assert top(engine, question, 1)[0] in expected


def assert_among_first(name: str, question: str, term: str) -> None:
    """Assert that a measure writing `term` is among the first answering `question`."""
    plan, engine = _imported_shared(name)
    expected = holding(plan, term)
    assert expected
    assert set(top(engine, question)) & expected


def test_a_term_is_read_across_quotation_marks() -> None:
    # A 广州 plan writing “三公”经费 with quotation marks.
    plan, engine = _document("gz2012_minzhu_fazhi.txt")
    expected = holding(plan, "“三公”经费")
    assert expected
    # 公款出国, 吃喝 describe 三公经费, which the document writes as “三公”经费.
    assert top(engine, "公款出国吃喝的钱要晒出来吗", 1)[0] in expected


def test_another_phrase_of_a_line_the_document_writes_stands_for_the_thing() -> None:
    # The line says 文山会海 and 少开会 of one thing; a document writing only 文山会海
    # (none of the line's terms) has it as its word for 少开会.
    written = "控制文山会海，腾出时间下基层。"
    found = concepts_in(written, {written[i : i + 2] for i in range(len(written) - 1)})
    assert found["少开会"] == ("文山会海",)
    assert "文山会海" not in found  # written: its own word
    # Where a term of the line is written, it alone is kept.
    written = "推进精文简会，控制文山会海。"
    found = concepts_in(written, {written[i : i + 2] for i in range(len(written) - 1)})
    assert found["少开会"] == ("精文简会",)


@pytest.mark.parametrize("question", ["机关少开会、多干实事这块是哪条", "能不能少开会 谁牵头抓"])
def test_a_phrase_found_through_another_phrase_of_its_line(question: str) -> None:
    plan, engine = _document("gz2012_dangjian_chuangxin.txt")
    assert top(engine, question, 1)[0] in holding(plan, "文山会海")


def test_a_description_with_words_between_its_parts(engine: Engine, plan: Plan) -> None:
    # 从山里搬出来 (易地搬迁) said with 头 between its parts.
    expected = holding(plan, "易地搬迁")
    assert expected
    assert set(top(engine, "从山里头搬出来的残疾人 有人帮着就业吗")) & expected


@pytest.mark.parametrize("question", ["外地的党员由谁来管", "外地过来党员怎么管理"])
def test_a_party_member_from_elsewhere_is_a_mobile_one(question: str) -> None:
    # 外地党员 (流动党员) with 的 or 过来 between its parts.
    plan, engine = _document("gz2012_dangjian_chuangxin.txt")
    assert top(engine, question, 1)[0] in holding(plan, "流动党员")


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("在工地干活受伤成了残疾的工人，就业服务有份吗", ("工伤",)),
        ("招进来的残疾人名单要贴出来给大家看吗", ("公示",)),
        ("残疾人想学种植技术，有人教吗", ("实用技术",)),
        ("上门挨个核对一下没工作残疾人的情况", ("信息核对",)),
        ("我们单位五六十号人一个残疾的都没有，要不要招一个", ("至少安排",)),
        ("假装招残疾人就业的单位谁来查", ("虚假安排",)),
        ("怕又变穷的残疾人家里人找活有人管吗", ("返贫",)),
        ("方案落实得好不好谁来检查", ("评估",)),
        ("帮残疾人就业的钱够不够谁来保", ("资金投入",)),
        ("残疾人跑外卖，平台能多派点单吗", ("派单倾斜",)),
        ("拄拐的人想在街边的便民亭干活", ("公共服务点",)),
        ("山里的残疾人种菜卖菜有没有帮扶", ("种植",)),
        ("残疾人找工作的网站", ("网络服务平台",)),
    ],
)
def test_a_description_leads_the_notice_s_answer(
    engine: Engine, plan: Plan, question: str, words: tuple[str, ...]
) -> None:
    # Each says in everyday words what one measure names (concepts.txt); the measure that
    # shares only a stray word (就业服务, 种植, 信息) must not come first.
    expected = holding(plan, *words)
    assert expected
    assert top(engine, question, 1)[0] in expected


@pytest.mark.parametrize(
    ("question", "term"),
    [("山区的水果卖不掉怎么办", "产销对接"), ("想建个冷库放水果有支持吗", "保鲜库")],
)
def test_a_description_of_farm_produce_in_an_imported_document(question: str, term: str) -> None:
    plan, engine = _imported_shared("guobanfa2018-129_xiaofei_fupin.txt")
    expected = holding(plan, term)
    assert expected
    assert set(top(engine, question)) & expected


def test_a_thing_not_covered_may_say_how_a_described_one_is_done(
    engine: Engine, plan: Plan
) -> None:
    # 残疾证 is no topic of the notice (its lexicon's not_topics), but 挂名 describes its
    # 虚假安排: the question is about that, the certificate only the means.
    expected = holding(plan, "虚假安排")
    assert expected
    assert top(engine, "用残疾证挂名顶比例的公司谁来管", 1)[0] in expected
    # Asked alone, the certificate is still not the notice's topic.
    for question in ["残疾证到期了要换吗", "坐轮椅的人残疾证怎么办"]:
        assert engine.answer(question).no_match, question


@pytest.mark.parametrize(
    ("name", "question", "term"),
    [
        (
            "gz2023_jiatingyisheng_fengongbiao.docx",
            "能不能在家戴个手环医生就能看到血压",
            "穿戴设备",
        ),
        ("gz2023_jiatingyisheng_fengongbiao.docx", "怎么让老百姓知道有家庭医生这回事", "知晓率"),
        ("guofa2018-42_nongye_jixiehua.txt", "田太小拖拉机开不进去", "田块"),
        ("guofa2018-42_nongye_jixiehua.txt", "农机质量不过关谁来管", "可靠性"),
        ("guobanfa2018-128_wufei_chengshi.txt", "偷偷倒危险废物的谁来抓", "非法转移"),
        ("guobanfa2018-128_wufei_chengshi.txt", "煤矿挖出来的废石渣", "矿业固体废物"),
        ("guobanfa2018-121_tiyu_jingsai.txt", "买球票能用信用卡分期吗", "支付产品"),
        ("guobanfa2018-129_xiaofei_fupin.txt", "合作社带着贫困户一起挣钱", "利益联结"),
        ("guobanfa2018-117_zhenzhua_shigan.txt", "修路修得好的省", "交通建设"),
    ],
)
def test_a_description_in_an_imported_document(
    name: str, question: str, term: str
) -> None:
    assert_among_first(name, question, term)


def test_a_revenue_target_in_a_work_report() -> None:
    # A county's work report (texts/): 财政收入 is its 一般公共预算收入.
    plan, engine = _document("xianan2023_zhengfu_gongzuo_baogao.txt")
    expected = holding(plan, "一般公共预算收入")
    assert expected
    assert top(engine, "财政收入的任务谁负责", 1)[0] in expected


def test_what_money_is_spent_on_is_no_place(engine: Engine, plan: Plan) -> None:
    # "用在哪" asks what the money is for, not an address (在哪 said last).
    answer = engine.answer("就业保障金用在哪")
    assert answer.kind == "topic"
    assert set(top(engine, "就业保障金用在哪")) & holding(plan, "保障金")
    assert engine.answer("残疾人就业服务机构在哪").no_match


def test_everyday_words_around_the_topic_count_for_nothing(engine: Engine, plan: Plan) -> None:
    # 那儿, 小伙子, 说法: words of a story that the notice never writes, not its topic.
    question = "那儿有个听不见的小伙子想学按摩，有说法吗"
    assert engine.answer(question).kind == "topic"
    assert set(top(engine, question)) & holding(plan, "按摩")


@pytest.mark.parametrize(
    ("question", "term"),
    [("搞研发的钱占比谁负责", "研发经费"), ("经济总量的目标谁管", "地区生产总值")],
)
def test_a_target_of_a_city_work_plan_in_everyday_words(question: str, term: str) -> None:
    # A city's list of yearly targets (texts/): 经济总量 is its 地区生产总值.
    plan, engine = _document("changshu2018_zhengfu_gongzuo_renwu.txt")
    expected = holding(plan, term)
    assert expected
    assert top(engine, question, 1)[0] in expected


@pytest.mark.parametrize(
    ("name", "question", "term"),
    [
        ("gz2023_jiatingyisheng_fengongbiao.docx", "糖尿病老病号能多开点药吗", "长期处方"),
        ("gz2023_jiatingyisheng_fengongbiao.docx", "慢性病人想让医生开两个月的药", "长期处方"),
        ("guofa2018-42_nongye_jixiehua.txt", "种几亩地 买台农机有补贴吗", "农机购置补贴"),
    ],
)
def test_a_quantity_between_a_verb_and_its_object(name: str, question: str, term: str) -> None:
    # 开药 said as 多开点药, 开两个月的药; 买农机 as 买台农机: a quantity inside the phrase.
    assert_first_writes(name, question, term)


@pytest.mark.parametrize(
    ("name", "question", "term"),
    [
        ("guobanfa2018-121_tiyu_jingsai.txt", "办赛还要财政部的批文吗", "审批"),
        (
            "guobanfa2018-121_tiyu_jingsai.txt",
            "赛事办完了 体育馆还要财政部的批文才能给企业运营吗",
            "体育场馆运营",
        ),
        ("guofa2019-3_zonghe_baoshuiqu.txt", "区里企业做跨境电商还要税务局的批文吗", "跨境电商"),
    ],
)
def test_a_thing_of_a_unit_s_is_asked_about_not_its_duties(
    name: str, question: str, term: str
) -> None:
    # "X的批文": none of X's items names it, but the document does: a topic, not X's list.
    plan, engine = _imported_shared(name)
    answer = engine.answer(question)
    assert answer.kind == "topic"
    assert answer.measures[0].id in holding(plan, term)


def test_a_phrase_written_only_across_two_words_describes_a_term() -> None:
    # 家医 (家庭医生) stands in 居家医疗 only across 居家 and 医疗, each more common: it is
    # not the document's own word, and still describes 家庭医生.
    written = "推进家庭医生签约服务。发展居家医疗和居家护理。落实家庭医生医疗服务。"
    pairs = [written[i : i + 2] for i in range(len(written) - 1)]
    idf = {p: 1.0 / pairs.count(p) for p in pairs}
    assert "家庭医生" in concepts_in(written, idf)["家医"]
    # Written as a word (签家医 has no word before it), it is the document's own.
    written += "鼓励签家医。"
    pairs = [written[i : i + 2] for i in range(len(written) - 1)]
    idf = {p: 1.0 / pairs.count(p) for p in pairs}
    assert "家医" not in concepts_in(written, idf)


@pytest.mark.parametrize(
    ("name", "question", "term"),
    [
        ("guobanfa2018-121_tiyu_jingsai.txt", "体育馆一直空着没人用 能盘活吗", "盘活场馆"),
        ("guofa2018-42_nongye_jixiehua.txt", "能用手机远程看着农机干活吗", "远程调度"),
    ],
)
def test_an_aspect_particle_is_no_topic(name: str, question: str, term: str) -> None:
    # 着 (空着, 看着) only says how a thing stands: it weighs nothing against the measure.
    assert_first_writes(name, question, term)


def test_a_description_lists_the_measures_near_the_best() -> None:
    # Read by its characters, 进口的农机…补贴 is nearest the measure on leased machines'
    # 购置补贴; the one treating 国内外农机产品 alike scores close to it and is listed too,
    # as the word ranking lists measures within RELATIVE_CUTOFF of its best.
    plan, engine = _imported_shared("guofa2018-42_nongye_jixiehua.txt")
    expected = holding(plan, "国内外农机产品")
    assert expected
    assert set(top(engine, "进口的农机买了能享受补贴吗")) & expected


@pytest.mark.parametrize(
    "question",
    ["新批的综合保税区进口自用设备有优惠吗", "区刚批下来 进口的机器设备能享受税收优惠吗"],
)
def test_a_policy_enjoyed_is_a_benefit_offered(question: str) -> None:
    # "可按现行规定享受综合保税区税收政策": a benefit, though no 优惠 or 补贴 is written.
    plan, engine = _imported_shared("guofa2019-3_zonghe_baoshuiqu.txt")
    expected = holding(plan, "享受综合保税区税收政策")
    assert expected
    assert top(engine, question, 1)[0] in expected


@pytest.mark.parametrize(
    ("name", "question", "term"),
    [
        ("guofa2018-42_nongye_jixiehua.txt", "拖拉机厂想把产品卖到海外 国家支持吗", "走出去"),
        ("gz2023_jiatingyisheng_fengongbiao.docx", "有没有咨询热线能问家庭医生的事", "专线"),
        ("gz2023_jiatingyisheng_fengongbiao.docx", "私人诊所也能提供签约服务吗", "社会办医疗机构"),
        ("guobanfa2018-128_wufei_chengshi.txt", "旧冰箱旧电视 厂家负责回收吗", "生产者责任延伸"),
        ("guobanfa2018-128_wufei_chengshi.txt", "报废的车 生产企业回收不", "生产者责任延伸"),
    ],
)
def test_general_descriptions_of_services_and_trade(name: str, question: str, term: str) -> None:
    # concepts.txt: 热线 for a 专线, 私人诊所 for 社会办医, 卖到海外 for 走出去, a maker taking
    # back what it made for 生产者责任延伸.
    assert_first_writes(name, question, term)


def test_suing_the_government_is_an_administrative_lawsuit() -> None:
    # 民告官 is 行政诉讼: the measure on 行政机关负责人出庭应诉 answers it.
    plan, engine = _document("gz2012_minzhu_fazhi.txt")
    expected = holding(plan, "出庭应诉")
    assert expected
    assert top(engine, "官员被老百姓告了 谁推动领导亲自应对", 1)[0] in expected


def test_a_unit_s_part_in_a_thing_described() -> None:
    # Within 生态环境部's items, 厂家回收旧家电 describes 生产者责任延伸 (concepts.txt): its
    # part in that, not its whole list.
    plan, engine = _imported_shared("guobanfa2018-128_wufei_chengshi.txt")
    answer = engine.answer("生态环境部在厂家回收旧家电这事上干啥")
    assert answer.kind == "unit_topic"
    assert answer.measures[0].id in holding(plan, "生产者责任延伸")
    plan, engine = _document("gz2012_dangjian_chuangxin.txt")
    answer = engine.answer("组织部在上班的党员回社区这事上干啥")
    assert answer.measures[0].id in holding(plan, "在职党员")


@pytest.mark.parametrize(
    "question", ["空气、河水都变好的城市有奖励吗", "空气与河水变干净的地方有激励吗"]
)
def test_two_things_joined_share_the_words_after_them(question: str) -> None:
    # 空气和河水变好 says 空气变好 (大气) and 河水变好: the measure rewarding cities whose
    # 大气 and 水环境质量 improved.
    plan, engine = _imported_shared("guobanfa2018-117_zhenzhua_shigan.txt")
    expected = holding(plan, "水环境质量明显改善")
    assert expected
    assert top(engine, question, 1)[0] in expected


@pytest.mark.parametrize("question", ["超比例奖励给多少钱 谁来定", "超比例奖励多久发一次 谁负责"])
def test_who_is_asked_though_a_sum_or_a_time_is_said(
    engine: Engine, plan: Plan, question: str
) -> None:
    # The sum or the time only says what the question is about: who is in charge of it is
    # what it asks, and the measure on 超比例奖励 answers that.
    answer = engine.answer(question)
    assert answer.kind == "topic"
    assert answer.measures[0].id in holding(plan, "超比例")
    # Asked alone, the sum is still one the notice does not state.
    assert engine.answer("超比例奖励给多少钱").no_match


# -- round 9's everyday descriptions by general rules (#18, branch topic9) ---------------


@pytest.mark.parametrize(
    ("name", "question", "term"),
    [
        ("guobanfa2018-128_wufei_chengshi.txt", "麦杆能还田吗", "秸秆"),
        ("guofa2018-39_cujin_jiuye.txt", "培训的钱谁来掏", "教育经费"),
        ("guofa2018-39_cujin_jiuye.txt", "见习生娃娃谁来管", "见习"),
        ("gz2023_jiatingyisheng_fengongbiao.docx", "家庭医生团队奖金能分几成", "分配比例"),
    ],
)
def test_round9_kinds_of_description(name: str, question: str, term: str) -> None:
    # A phrase typed with a character of its sound (麦杆 for 麦秆); a short question whose
    # every character one measure holds (见习…娃娃); concept lines for who pays (谁来掏) and a
    # share (分几成).
    assert_first_writes(name, question, term)


def test_a_phrase_typed_by_sound_in_another_document() -> None:
    # 叫化子 for the map's 叫花子: begging (流浪乞讨), not the culture measure sharing 化.
    plan, engine = _document("gz2012_minsheng_xingfu.txt")
    expected = holding(plan, "流浪乞讨")
    assert expected
    assert top(engine, "叫化子谁来管", 1)[0] in expected


def test_a_quantity_said_as_sa_or_lia() -> None:
    # 仨 and 俩 are quantities like 三个 and 两个: 开俩月的药 is 开药 (a long prescription).
    plan, engine = _imported_shared("gz2023_jiatingyisheng_fengongbiao.docx")
    expected = holding(plan, "长期处方")
    assert expected
    assert top(engine, "老病号开仨月的药找谁", 1)[0] in expected
    assert top(engine, "家庭医生能开俩月的药不", 1)[0] in expected


@pytest.mark.parametrize(
    ("name", "question", "term"),
    [
        ("gd2025_shuzi_guangdong.txt", "外地人不跑回老家办证的事谁管", "跨省通办"),
        ("guofa2018-42_nongye_jixiehua.txt", "种地全包给合作社行不行", "农业生产托管"),
    ],
)
def test_done_elsewhere_and_farming_handed_over(name: str, question: str, term: str) -> None:
    plan, engine = _document(name) if name.startswith("gd") else _imported_shared(name)
    expected = holding(plan, term)
    assert expected
    assert top(engine, question, 1)[0] in expected

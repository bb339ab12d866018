"""Honest "not found" (#18): a question asking for a detail no measure gives (a sum set or
split, a date, what comes after the document, a list of names, conditions to qualify, a repair,
an appointment) is not answered with the measures sharing its words; those are offered as the
nearest. Questions a measure does answer stay answered. Wordings are this module's own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.ask.assistant import Assistant
from bot.ask.dialog import Dialog
from bot.ask.engine import Engine
from bot.clock import TZ
from bot.documents.plan import Plan
from tests.fakes.clock import FakeClock
from tests.test_dialog import talk
from tests.test_engine_reading import _imported


def ids(engine: Engine, question: str) -> list[str]:
    return [m.id for m in engine.answer(question).measures]


def holding(plan: Plan, *words: str) -> set[str]:
    """The measures whose text holds every word (from the plan, never the engine)."""
    return {m.id for m in plan.measures if all(w in m.text for w in words)}


def assert_not_found(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.no_match, question
    assert answer.measures == (), question


@pytest.mark.parametrize(
    "question",
    [
        "就业保障金没交罚多少",  # a fine
        "按摩店的摊位费调到多少了",  # a sum adjusted
        "盲人按摩补贴每人能定多少",  # a sum set
        "超比例奖励是怎么分配的",  # how a benefit is split
        "超比例奖励的补助标准",  # a money standard asked for itself
        "按摩店一年能赚多少",  # what is earned
        "超比例奖励的额度是多少",
        "盲人按摩师工资一般多少",
        "残疾人就业保障金一年收了多少",
    ],
)
def test_a_sum_no_measure_states(engine: Engine, plan: Plan, question: str) -> None:
    # The notice states no sum of money: every measure sharing these words says none.
    assert not any("元" in m.text for m in plan.measures)
    assert_not_found(engine, question)
    assert engine.answer(question).nearest  # offered as the nearest instead


def test_a_standard_asked_to_be_raised_is_a_topic(engine: Engine, plan: Plan) -> None:
    assert set(ids(engine, "谁负责提高残疾人就业补贴标准")) & holding(plan, "就业补贴")


@pytest.mark.parametrize(
    "question",
    [
        "这个行动方案结束以后还会有新的吗",  # what comes after the document
        "下一批盲人医疗按摩机构在哪评",
        "跨省通办什么时候开始实施",  # a date the measure does not state
        "按比例就业联网认证什么时候生效",
        "盲人按摩店营业时间有规定吗",
        "残疾人就业补贴发放时间",
        "明年残疾人就业会有新政策吗",
        "残疾人职业技能大赛在哪里举办",  # where an event is held
        "残疾人专场招聘会几号开幕",  # the day of an event the text never dates
        "盲人按摩体验活动门票啥时候开卖",
    ],
)
def test_what_comes_next_or_when_a_measure_never_says(engine: Engine, question: str) -> None:
    assert_not_found(engine, question)


@pytest.mark.parametrize(
    "question",
    [
        "定向招聘残疾人的国有企业名单有哪些",
        "残疾人人力资源服务机构清单都有哪些",
        "哪些企业被评为助残先进单位",
    ],
)
def test_a_list_of_names_asked_for_itself(engine: Engine, question: str) -> None:
    assert_not_found(engine, question)


def test_a_list_a_measure_is_about_is_still_answered(engine: Engine, plan: Plan) -> None:
    # A measure builds the list (清单): who builds it is its duty; what is on it, it never says.
    built = holding(plan, "人力资源服务机构清单")
    assert built
    assert set(ids(engine, "人力资源服务机构清单谁来建")[:3]) & built


def test_conditions_to_qualify_no_measure_states(engine: Engine, plan: Plan) -> None:
    assert holding(plan, "医疗按摩所")
    assert not holding(plan, "医疗按摩所", "条件")
    assert_not_found(engine, "开办医疗按摩所要具备什么条件")


def test_a_repair_is_no_duty_but_a_revision_is(engine: Engine, plan: Plan) -> None:
    assert_not_found(engine, "盲人按摩床坏了找谁来修")
    assert set(ids(engine, "谁来修订残疾人就业服务的规章制度")) & holding(plan, "规章制度")


def test_ge_shui_is_a_word_not_a_classifier(engine: Engine, plan: Plan) -> None:
    # 个税 (income tax) is not 个 (a classifier) and 税: no measure of the notice relieves it.
    assert holding(plan, "减免")
    for question in ["残疾人的个税减免去哪申报", "残疾人个税能不能减免"]:
        assert_not_found(engine, question)
    # 个体 and a counted 个 read as before.
    assert set(ids(engine, "个体户开店有啥扶持")) & holding(plan, "个体工商户")
    assert "1.1" in ids(engine, "编制五十人的单位是不是至少招一个残疾人")


def test_a_sum_asked_of_a_unit_none_of_its_items_states(engine: Engine) -> None:
    assert_not_found(engine, "税务局一个人收多少钱")
    answer = engine.answer("税务局负责什么")
    assert answer.kind == "unit"
    assert answer.measures


@pytest.fixture(scope="module")
def jiating(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Engine]:
    # A health table: it states shares of a fee (80%), never the fee.
    return _imported(tmp_path_factory.mktemp("jiating"), "gz2023_jiatingyisheng_fengongbiao.docx")


def test_a_sum_of_money_needs_money_stated_not_a_share(jiating: tuple[Plan, Engine]) -> None:
    plan, engine = jiating
    shares = holding(plan, "签约服务费", "%")
    assert shares
    assert not any("元" in m.text for m in plan.measures if m.id in shares)
    assert_not_found(engine, "签约服务费一个人几块钱")
    # A share asked is what the measure states.
    assert set(ids(engine, "签约服务费里多少比例给医生发绩效")[:3]) & shares


@pytest.fixture(scope="module")
def jiuye(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Engine]:
    return _imported(tmp_path_factory.mktemp("jiuye"), "guofa2018-39_cujin_jiuye.txt")


def test_a_date_or_standard_in_an_imported_document(jiuye: tuple[Plan, Engine]) -> None:
    plan, engine = jiuye
    dated = holding(plan, "见习", "2019年")
    assert dated
    # The measure states when it starts: answered; what comes after it, or the sum, is not.
    assert set(ids(engine, "百万青年见习计划从什么时候开始实施")) & dated
    assert_not_found(engine, "下一轮见习计划什么时候开始")
    assert set(ids(engine, "百万青年见习计划哪天开始实施")) & dated
    assert_not_found(engine, "见习补贴的补助标准")
    assert set(ids(engine, "谁负责提高见习补贴标准")) & holding(plan, "补贴标准")


def test_an_amount_is_answered_by_the_measure_that_states_it(
    jiuye: tuple[Plan, Engine],
) -> None:
    # 小微企业 and 贷款 lead to two measures; only the one on 创业担保贷款 states its ceiling
    # (万元): it answers, though ranked below the one that states none.
    plan, engine = jiuye
    stating = holding(plan, "创业担保贷款", "万元")
    assert stating
    assert ids(engine, "小微企业招了人 能贷多少款") == sorted(stating)[:1]


@pytest.mark.parametrize("question", ["下岗了想贷点款做生意 能贷几万", "想开个店，能贷多少款"])
def test_a_word_said_with_a_quantity_inside(jiuye: tuple[Plan, Engine], question: str) -> None:
    # 贷款 said as 贷点款, 贷多少款: the document's word, a quantity inside.
    plan, engine = jiuye
    assert ids(engine, question)[0] in holding(plan, "创业担保贷款", "万元")


@pytest.fixture
def dialog() -> Dialog:
    return Dialog(FakeClock(dt.datetime(2024, 6, 3, 10, 0, tzinfo=TZ)))


async def test_a_sum_asked_of_the_measure_in_focus(assistant: Assistant, dialog: Dialog) -> None:
    data = await talk(assistant, dialog, "超比例奖励归谁管", "那给多少")
    assert data["no_match"]
    assert data["measures"] == []
    # Who is in charge is still asked of the measure in focus.
    data = await talk(assistant, dialog, "超比例奖励归谁管", "那谁负责", chat="other")
    assert data["measures"] == ["13.1"]


@pytest.fixture(scope="module")
def nongji(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Engine]:
    # Farm machinery: its subsidies are for buying machines (农机购置补贴), nothing else.
    return _imported(tmp_path_factory.mktemp("nongji"), "guofa2018-42_nongye_jixiehua.txt")


def test_a_benefit_for_a_thing_no_measure_names(nongji: tuple[Plan, Engine]) -> None:
    plan, engine = nongji
    assert not holding(plan, "饲料")
    assert not holding(plan, "农膜")
    for question in ["饲料涨价有补贴吗", "农膜价格高了有没有补贴"]:
        assert_not_found(engine, question)
        assert engine.answer(question).nearest, question
    # A benefit for what a measure names is answered.
    assert set(ids(engine, "买农机有补贴吗")) & holding(plan, "农机购置补贴")


@pytest.fixture(scope="module")
def jili(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Engine]:
    # Rewards to places for work done well, each for a named kind of work.
    return _imported(tmp_path_factory.mktemp("jili"), "guobanfa2018-117_zhenzhua_shigan.txt")


def test_a_reward_described_in_everyday_words_is_still_answered(
    jili: tuple[Plan, Engine],
) -> None:
    plan, engine = jili
    cleaner = holding(plan, "大气", "水环境")
    assert cleaner
    for question in ["空气变干净的地方有奖励吗", "河水变清的市有什么奖励"]:
        assert set(ids(engine, question)[:3]) & cleaner, question


@pytest.fixture(scope="module")
def zhineng(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Engine]:
    # A table of AI tasks: one item gives a sum for computing power (算力), most give none.
    path = Path(__file__).parent / "data" / "blind" / "texts" / "zj2026_rengongzhineng_renwu.txt"
    return _imported(tmp_path_factory.mktemp("zhineng"), str(path))


def test_a_benefit_asked_needs_a_measure_offering_one(zhineng: tuple[Plan, Engine]) -> None:
    plan, engine = zhineng
    named = holding(plan, "机器人")
    assert named
    texts = [m.text for m in plan.measures if m.id in named]
    assert not any(w in t for t in texts for w in ("补贴", "补助", "奖励"))
    assert_not_found(engine, "机器人展会有补贴吗")
    assert {m.id for m in engine.answer("机器人展会有补贴吗").nearest} & named
    assert set(ids(engine, "企业买算力有补贴吗")) & holding(plan, "算力", "补助")


@pytest.mark.parametrize(
    "question",
    [
        "残疾人坐公交地铁免不免费",
        "大学生招聘会免不免费",
        "残疾人职业培训免不免费",
        "盲人按摩店收不收税",
        "残疾人参加培训生活费补贴一天好多钱",
        "护理补贴每个月好多钱",
    ],
)
def test_free_or_a_sum_asked_in_everyday_words(engine: Engine, plan: Plan, question: str) -> None:
    # 免不免费 asks as 免费吗, 好多钱 as 多少钱: no measure says these things are free or costs.
    assert_not_found(engine, question)


def test_whether_one_must_pay_a_levy_is_still_answered(engine: Engine, plan: Plan) -> None:
    assert set(ids(engine, "国企没按比例招残疾人，要不要交钱")[:3]) & holding(plan, "按比例")


@pytest.mark.parametrize(
    ("question", "word"),
    [
        ("开个盲人按摩店要花好多钱，有没有扶持", "按摩"),
        ("每年招多少残疾人高校毕业生", "高校毕业生"),
    ],
)
def test_a_lot_of_money_or_a_count_is_no_sum_asked(
    engine: Engine, plan: Plan, question: str, word: str
) -> None:
    # 花好多钱 says "a lot", 每年招多少人 asks a count: the topic is still answered.
    assert set(ids(engine, question)[:3]) & holding(plan, word)


# -- details asked and stated (engine._DETAILS): each asked detail, on several documents -------


@pytest.mark.parametrize(
    "question",
    [
        "超比例安排残疾人就业的奖励按百分之几算",  # a share
        "残疾人创业贷款利率是多少",  # a rate
        "盲人按摩店税率是多少",
        "残疾人职业技能大赛啥时候报名",  # a sign-up: 10.2 says 定期, no date
        "残疾人专场招聘会报名截止日期",  # a deadline
        "雇残疾人能抵个税吗",  # a tax relief for a person
        "辅助器具报销比例是多少",  # a share paid back
        "残疾人职业技能竞赛在哪儿办",  # where an event is held
        "日本残疾人就业有配额吗",  # another country
    ],
)
def test_a_detail_the_notice_never_states(engine: Engine, plan: Plan, question: str) -> None:
    assert not any("%" in m.text or "百分之" in m.text for m in plan.measures)
    assert_not_found(engine, question)


def test_a_rate_needs_that_rate_named_and_a_sum_money(jiuye: tuple[Plan, Engine]) -> None:
    plan, engine = jiuye
    loans = holding(plan, "创业担保贷款", "%")
    assert loans
    assert not holding(plan, "利率")
    # 2.1 states a share (25%) and a sum (15万元), not the loan's rate.
    assert_not_found(engine, "创业担保贷款利率多少")
    assert set(ids(engine, "创业担保贷款最多贷几万")) & loans
    # A share stated answers a share asked; a sum a month is no share (1.1: 50%).
    assert set(ids(engine, "失业保险费返还百分之多少")) & holding(plan, "失业保险费", "50%")
    assert_not_found(engine, "就业见习补贴每个月发多少")
    assert_not_found(engine, "招用失业人员能抵扣个人所得税吗")


def test_a_deadline_or_procedure_no_measure_states(nongji: tuple[Plan, Engine]) -> None:
    plan, engine = nongji
    assert holding(plan, "农机购置补贴")
    assert not holding(plan, "流程")
    assert not holding(plan, "截止")
    for question in [
        "购机补贴申请啥时候截止",
        "农机报废更新补贴要走啥流程",
        "日本的农机补贴怎么发的",
    ]:
        assert_not_found(engine, question)


def test_the_measure_stating_a_share_answers_though_another_ranks_first(
    jiating: tuple[Plan, Engine],
) -> None:
    plan, engine = jiating
    answered = set(ids(engine, "签约服务费百分之多少给医生"))
    # The measure ranked first speaks of the fee and states no share: those that do answer.
    assert answered
    assert answered <= holding(plan, "签约服务费", "%")
    assert_not_found(engine, "家庭病床医保报销比例是多少")


@pytest.mark.parametrize(
    "question",
    [
        "盲人按摩店贷款贴息上限是多少",  # a cap
        "残疾人就业补贴申请表在哪下载",  # a form
        "残疾人职业技能大赛报名入口什么时候开",  # an application's opening
        "残疾人大学生毕业能落户吗",  # a benefit for a person no measure names
        "超比例奖励啥时候发",  # when money is paid
        "盲人医疗按摩考试在哪考",  # where an exam is held
        "残疾人职业培训基地什么时候建成",  # a completion no measure dates
        "盲人按摩医院啥时候开业",
    ],
)
def test_a_cap_a_form_an_opening_or_a_personal_benefit(engine: Engine, question: str) -> None:
    assert_not_found(engine, question)


def test_a_cap_or_a_personal_benefit_in_imported_documents(
    nongji: tuple[Plan, Engine], jiuye: tuple[Plan, Engine]
) -> None:
    _, machines = nongji
    assert_not_found(machines, "农机合作社建库棚最多补多少")
    assert_not_found(machines, "购机补贴要填什么表")
    plan, jobs = jiuye
    assert not holding(plan, "配偶")
    assert_not_found(jobs, "创业的人配偶能安排工作吗")
    # A cap the measure states is answered.
    assert set(ids(jobs, "创业担保贷款最多能贷多少")) & holding(plan, "创业担保贷款", "万元")


def test_a_floor_or_working_days_no_measure_states(engine: Engine) -> None:
    assert_not_found(engine, "辅助性就业机构最低要有多少资金")
    assert_not_found(engine, "残疾人就业补贴审批要多少个工作日")
    # A count is no sum: still a topic.
    assert engine.answer("每年最少招多少残疾人高校毕业生").measures


def test_a_procedure_of_the_thing_asked(engine: Engine, plan: Plan) -> None:
    # 9.1 and 15.1 name the 流程 of the employment service; no measure names one for opening.
    stated = {
        m.id for m in plan.measures if "服务流程" in m.text or "服务内容、标准、流程" in m.text
    }
    assert stated
    assert set(ids(engine, "残疾人就业服务要走哪些流程")) <= stated
    assert_not_found(engine, "盲人按摩店开业要走什么流程")


def test_a_thing_of_another_subject_named_by_its_term(
    jiating: tuple[Plan, Engine], zhineng: tuple[Plan, Engine]
) -> None:
    # A term of the concept map none of whose kin the document writes (住房公积金, 学校食堂)
    # names another subject: the measures sharing its characters are only offered.
    for (plan, engine), question in [
        (jiating, "学校食堂的饭菜质量谁来管"),
        (zhineng, "住房公积金政策谁制定"),
    ]:
        assert not holding(plan, "公积金"), question
        assert not holding(plan, "食堂"), question
        assert_not_found(engine, question)
        assert engine.answer(question).nearest, question


def test_a_thing_of_another_subject_beside_the_question_keeps_its_answer(
    jiuye: tuple[Plan, Engine],
) -> None:
    # Named as a detail of a longer question, the rest still finds its measure.
    plan, engine = jiuye
    assert not holding(plan, "公积金")
    question = "企业不裁员的，住房公积金照交，失业保险能返还吗"
    assert ids(engine, question)[0] in holding(plan, "不裁员", "返还")


@pytest.mark.parametrize(
    "question",
    [
        "辅助性就业机构注册资本要多少",  # a sum to put in
        "盲人按摩师考职称能加分吗",  # a personal benefit no measure names
    ],
)
def test_a_sum_to_put_in_or_a_bonus_the_notice_never_gives(engine: Engine, question: str) -> None:
    assert_not_found(engine, question)


def test_a_punishment_a_choosing_a_list_or_what_comes_after(
    nongji: tuple[Plan, Engine], jili: tuple[Plan, Engine], jiating: tuple[Plan, Engine]
) -> None:
    plan, engine = nongji
    assert not holding(plan, "处罚")
    for question in [
        "农机质量不合格的厂家会怎么处罚",  # a punishment no measure states
        "农机化示范县是怎么挑的",  # how a thing is chosen
        "开个农机合作社要多少资金",  # a sum to put in
        "2025年以后农机购置补贴还有吗",  # after the document
    ]:
        assert_not_found(engine, question)
        assert engine.answer(question).nearest, question
    assert_not_found(jili[1], "2020年以后督查激励还继续搞吗")
    # The places or bodies themselves (a list), an appointment made online.
    assert_not_found(jiating[1], "签约的医院都有哪几家")
    assert_not_found(jiating[1], "老人打疫苗怎么在手机上预约")


def test_a_punishment_a_choosing_or_a_sum_a_measure_states_is_answered(
    jiuye: tuple[Plan, Engine], jiating: tuple[Plan, Engine]
) -> None:
    plan, engine = jiuye
    assert ids(engine, "自己创业贷款最多能拿多少资金")[0] in holding(plan, "15万元")
    plan, engine = jiating
    assert set(ids(engine, "家庭医生怎么网上签约")[:3]) & holding(plan, "线上签约")


def test_a_persons_child_at_school_needs_a_measure_on_children(
    jiuye: tuple[Plan, Engine], jiating: tuple[Plan, Engine]
) -> None:
    for (plan, engine), question in [
        (jiuye, "失业人员的孩子上学有补助吗"),
        (jiating, "签约居民的小孩上学能优先吗"),
    ]:
        assert not holding(plan, "子女"), question
        assert_not_found(engine, question)


def test_what_a_person_who_cannot_pay_does(
    engine: Engine, plan: Plan, jiuye: tuple[Plan, Engine]
) -> None:
    # A relief of what is owed, stated beside it, answers; no other relief does.
    assert_not_found(engine, "残疾人开店的贷款到期还不上怎么办")
    assert_not_found(jiuye[1], "小企业失业保险费交不起了怎么办")
    assert ids(engine, "残疾人摊位费交不起怎么办")[0] in holding(plan, "减免摊位费")


def test_who_answers_for_an_accident_needs_a_measure_on_accidents(
    engine: Engine, nongji: tuple[Plan, Engine]
) -> None:
    # Asked who, an accident is still a detail: a measure on safety or rescue answers.
    assert_not_found(engine, "盲人按摩店里客人出了事故谁担责")
    plan, found = nongji
    assert set(ids(found, "农机手出事了谁来救援")[:3]) & holding(plan, "应急救援")


@pytest.mark.parametrize(
    "question",
    ["烟草零售证到期换证要带些啥", "烟草证换证要带什么", "24365那个招聘网站登录密码忘了咋整"],
)
def test_what_to_bring_or_a_lost_password_is_a_procedure(engine: Engine, question: str) -> None:
    # What a person brings to a counter, or how they get back into their account: no
    # responsibility document says, though the licence or the website is named in a measure.
    assert_not_found(engine, question)


def test_bringing_along_is_not_what_to_bring(engine: Engine) -> None:
    assert ids(engine, "带头安排残疾人就业谁负责")

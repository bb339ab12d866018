"""The concept map speaks for every policy area the genre covers (#18, round 9): regional,
spoken, abbreviated and newer words reach the terms documents write, on the real documents
of ../shared/docs as on any text. Wordings are this module's own; expected measures are those
whose text writes the term, never the engine's answers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.ask.engine import Engine
from bot.documents.plan import Plan
from tests.test_engine_concepts import narrowed
from tests.test_engine_reading import _imported


def assert_finds_term(plan: Plan, engine: Engine, question: str, term: str) -> None:
    """Assert that `question` is answered, among its first three, by a measure writing `term`."""
    expected = {m.id for m in plan.measures if term in m.text}
    assert expected
    answer = engine.answer(question)
    assert not answer.no_match, question
    assert {m.id for m in answer.measures[:3]} & expected, question


@pytest.mark.parametrize(
    ("written", "phrase", "term"),
    [
        # regional and spoken words
        ("扶持农村残疾人从事马铃薯种植。", "洋芋", "马铃薯"),
        ("免收跨区作业的联合收割机的通行费。", "麦客", "跨区作业"),
        ("将晒场、烘干等配套设施纳入建设范围。", "晒坝", "晒场"),
        ("打造武术、龙舟等民族特色品牌项目。", "扒龙船", "龙舟"),
        ("推进公共租赁住房建设。", "公屋", "公共租赁住房"),
        ("关爱残疾人就业。", "身心障碍", "残疾人"),
        ("完善城乡最低生活保障制度。", "综援", "最低生活保障"),
        # abbreviations
        ("促进综合保税区高水平开放。", "综保区", "综合保税区"),
        ("复制推广自贸试验区改革经验。", "自贸区", "自贸试验区"),
        ("推进药品集中带量采购。", "集采", "集中带量采购"),
        ("实施企业技术改造。", "技改", "技术改造"),
        ("深化简政放权、放管结合、优化服务改革。", "放管服", "简政放权"),
        ("加快发展保障性租赁住房。", "保租房", "保障性租赁住房"),
        ("完善供销合作社服务网络。", "供销社", "供销合作社"),
        # newer or plainer words for an official term
        ("推进安宁疗护试点。", "临终关怀", "安宁疗护"),
        ("全面推开免申即享。", "直接发到账", "免申即享"),
        ("培育新型职业农民。", "新农人", "新型职业农民"),
        ("落实计划生育特殊家庭扶助制度。", "失独", "计划生育特殊家庭"),
        ("将就业困难人员和零就业家庭成员纳入援助。", "全家没工作", "零就业家庭"),
        ("盘活财政存量资金。", "沉睡的钱", "存量资金"),
        ("依法打击私彩。", "地下彩票", "私彩"),
        ("扩大农机保险覆盖面。", "拖拉机保险", "农机保险"),
        ("深入实施快递下乡工程。", "快递进村", "快递下乡"),
        ("推动外配处方流转。", "拿处方去药店", "外配处方"),
    ],
)
def test_everyday_words_of_each_area(written: str, phrase: str, term: str) -> None:
    assert term in narrowed(written)[phrase]


def test_a_phrase_is_not_read_inside_another_word() -> None:
    # Phrases that also sit inside common words are left out: 省水 (省水利厅), 人防 (个人防护),
    # 村小 (村小组), 后生 (以后生活), 机插 (手机插卡), 支农 (财政支农).
    found = narrowed("推进节水、人民防空、教学点、青年、机插秧、三支一扶工作。")
    for phrase in ["省水", "人防", "村小", "后生", "机插", "支农"]:
        assert phrase not in found, phrase


_DOCUMENTS: dict[str, tuple[Plan, Engine]] = {}


@pytest.fixture
def imported(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], tuple[Plan, Engine]]:
    def get(name: str) -> tuple[Plan, Engine]:
        if name not in _DOCUMENTS:
            out: Path = tmp_path_factory.mktemp(name.split("_")[0])
            _DOCUMENTS[name] = _imported(out, name)
        return _DOCUMENTS[name]

    return get


@pytest.mark.parametrize(
    ("name", "question", "term"),
    [
        ("guofa2019-3_zonghe_baoshuiqu.txt", "补交税能自己来吗", "补缴税款"),
        ("guofa2018-42_nongye_jixiehua.txt", "麦客过路费免不免", "通行费"),
        ("guofa2018-42_nongye_jixiehua.txt", "免耕少耕有支持吗", "保护性耕作"),
        ("guofa2018-42_nongye_jixiehua.txt", "北斗导航用到种地上", "卫星定位"),
        ("guofa2018-39_cujin_jiuye.txt", "全家没工作的有啥照顾", "零就业家庭"),
        ("guobanfa2018-121_tiyu_jingsai.txt", "地下彩票谁来管", "私彩"),
        ("guobanfa2018-121_tiyu_jingsai.txt", "扒龙船归谁管", "龙舟"),
        ("guobanfa2018-121_tiyu_jingsai.txt", "跳伞滑翔伞谁来管", "航空运动"),
        ("guobanfa2018-121_tiyu_jingsai.txt", "功夫比赛怎么办", "武术"),
        ("guobanfa2018-128_wufei_chengshi.txt", "报废车乱拆谁管", "报废汽车"),
        ("guobanfa2018-129_xiaofei_fupin.txt", "快递进村谁牵头", "快递下乡"),
        ("guobanfa2018-129_xiaofei_fupin.txt", "地头仓谁来建", "产地仓"),
        ("guangzhou2012_rencai_jiju_633.txt", "周末工程师谁来管", "柔性"),
    ],
)
def test_an_everyday_word_finds_the_document_s_term(
    imported: Callable[[str], tuple[Plan, Engine]], name: str, question: str, term: str
) -> None:
    plan, engine = imported(name)
    assert_finds_term(plan, engine, question, term)


@pytest.mark.parametrize(
    "question",
    [
        "老赖怎么处理",  # 失信: the notice names no credit rules
        "挂专家号难怎么办",
        "评职称有什么要求",
        "煤改气补贴多少",
        "钟点工算就业吗",
        "残保金交多少",  # an amount the notice never gives
    ],
)
def test_new_words_keep_what_the_notice_does_not_answer_not_found(
    engine: Engine, question: str
) -> None:
    answer = engine.answer(question)
    assert answer.no_match, question
    assert answer.measures == ()

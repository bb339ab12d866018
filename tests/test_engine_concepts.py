"""The engine connects everyday descriptions to a document's terms (#18): the concept map
(bot/ask/concepts.txt), a unit by the tail of its name, how-to questions the document names
without answering. Wordings are this module's own; expected measures come from the plans'
text, never from the engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ask import concept
from bot.ask.concept import CONCEPT_FILE, concepts, concepts_in, parse_concepts
from bot.ask.engine import Engine
from bot.ask.text import normalize
from bot.documents import pattern
from bot.documents.plan import Plan
from bot.documents.shortname import short_forms, tails
from tests.test_engine_reading import _imported

HRSS = "人力资源社会保障厅"
ROOT = Path(__file__).resolve().parents[1]
BLIND = ROOT / "tests" / "data" / "blind"


@pytest.fixture(scope="module")
def wufei(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Engine]:
    return _imported(tmp_path_factory.mktemp("wufei"), "guobanfa2018-128_wufei_chengshi.txt")


def assert_found(document: tuple[Plan, Engine], question: str, term: str) -> None:
    """The question's top answers hold a measure of the document writing `term`."""
    plan, engine = document
    expected = holding(plan, term)
    assert expected
    assert set(top(engine, question)) & expected


def holding(plan: Plan, *words: str) -> set[str]:
    """The measures whose text holds every word."""
    return {m.id for m in plan.measures if all(w in m.text for w in words)}


def top(engine: Engine, question: str, n: int = 3) -> list[str]:
    return [m.id for m in engine.answer(question).measures[:n]]


# -- the map itself ----------------------------------------------------------------------


def test_the_map_covers_many_policy_areas() -> None:
    table = concepts()
    assert len(table) >= 500
    header = CONCEPT_FILE.read_text(encoding="utf-8").split("\n\n")[0]
    assert "How it is used" in header
    assert "Format" in header
    # A phrase never stands for itself, and every term is a word (two characters at least).
    assert all(phrase not in terms for phrase, terms in table.items())
    assert all(len(t) >= 2 for terms in table.values() for t in terms)
    # Some areas, each by an everyday description of one of its terms.
    for said, meant in [
        ("坐轮椅", "肢体残疾"),
        ("要饭", "流浪乞讨"),
        ("渣土", "建筑垃圾"),
        ("违禁药", "兴奋剂"),
        ("退休金", "基本养老金"),
        ("留守娃", "留守儿童"),
        ("退伍军人", "退役军人"),
        ("茎秆", "秸秆"),
    ]:
        assert normalize(meant) in table[normalize(said)], said


def test_a_line_is_phrases_then_terms() -> None:
    table = parse_concepts("# 注释\n看不见 瞎子 = 盲人 视力残疾\n\n瞎子 = 视障  # 又一行\n")
    assert table == {"看不见": ("盲人", "视力残疾"), "瞎子": ("盲人", "视力残疾", "视障")}
    # Traditional characters are read as Simplified.
    assert parse_concepts("聽不見 = 聽力殘疾") == {"听不见": ("听力残疾",)}
    for bad in ["看不见 盲人", "= 盲人", "看不见 =", "瞎 = 盲人", "看不见 = 盲"]:
        with pytest.raises(ValueError, match=r"concepts\.txt"):
            parse_concepts(bad)


def narrowed(written: str) -> dict[str, tuple[str, ...]]:
    """The concept map narrowed to what `written` writes, its bigrams taken as a document's."""
    return concepts_in(written, {written[i : i + 2] for i in range(len(written) - 1)})


def test_a_document_gets_the_terms_it_writes() -> None:
    found = narrowed("支持盲人按摩。推进建筑垃圾资源化利用。")
    assert found["渣土"] == ("建筑垃圾",)
    assert found["瞎子"] == ("盲人",)
    assert "要饭" not in found  # 流浪乞讨 is not written here
    # A phrase the document writes itself is its own word, not a description.
    assert "按摩" not in concepts_in("推拿按摩", {"推拿", "拿按", "按摩"})


@pytest.mark.parametrize(
    ("written", "phrase", "term"),
    [
        ("推进普通高中优质多样化发展。", "普高", "普通高中"),
        ("落实新阶段疫情防控措施。", "新冠", "疫情防控"),
        ("全社会固定资产投资增长8%。", "搞建设的投入", "固定资产投资"),
        ("促进文物及文化艺术品回流。", "古董字画", "文物"),
        ("可采取协商薪酬、轮岗轮休等措施。", "轮着休", "轮岗轮休"),
        ("参保职工取得职业技能等级证书的。", "考了个证", "职业技能等级证书"),
        ("打击假冒品牌行为。", "冒牌", "假冒品牌"),
        ("力争每万常住人口家庭医生数不低于4人。", "家医", "家庭医生"),
    ],
)
def test_short_and_everyday_words_of_any_document(written: str, phrase: str, term: str) -> None:
    # Abbreviations (普高, 家医, 新冠) and plain descriptions, whatever the document.
    assert term in narrowed(written)[phrase]


# -- everyday descriptions on the notice and on an imported document ---------------------


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("双目失明的人想干推拿这行，有什么扶持", ("盲人", "按摩")),
        ("送外卖的残疾人有没有照顾", ("新就业形态",)),
        ("残疾人想搞直播卖货，有人帮吗", ("电商",)),
        ("社区保安这种兜底的岗能不能留给残疾人", ("公益性岗位",)),
        ("残疾人开个小卖部有没有扶持", ("个体工商户",)),
        ("搬到安置区的残疾人找活干", ("易地搬迁",)),
    ],
)
def test_a_description_finds_the_notice_s_term(
    engine: Engine, plan: Plan, question: str, words: tuple[str, ...]
) -> None:
    expected = holding(plan, *words)
    assert expected
    answer = engine.answer(question)
    assert answer.kind == "topic"
    assert set(top(engine, question)) & expected


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("工地上的砖头瓦块怎么处理", "建筑垃圾"),
        ("饭馆的泔水谁来管", "餐厨垃圾"),
        ("稻草麦秆咋利用", "秸秆"),
        ("装修垃圾乱倒归哪个部门", "建筑垃圾"),
    ],
)
def test_a_description_finds_an_imported_document_s_term(
    wufei: tuple[Plan, Engine], question: str, term: str
) -> None:
    assert_found(wufei, question, term)


def test_words_typed_weigh_more_than_a_description(engine: Engine, plan: Plan) -> None:
    # 报刊零售 typed, 盲人 only described: the measure holding what was typed comes first,
    # and the described one is still listed (the expansion adds, it replaces nothing).
    # (Not the whole 报刊零售亭: read as one word since 零 is no numeral, its four bigrams
    # outweigh one described term past the relative cutoff.)
    typed = holding(plan, "报刊零售")
    described = holding(plan, "盲人", "按摩")
    assert typed
    assert described
    assert not typed & described
    got = [m.id for m in engine.answer("报刊零售和双目失明的人").measures]
    assert got[0] in typed
    assert set(got) & described


def test_a_description_within_a_unit(engine: Engine, plan: Plan) -> None:
    answer = engine.answer("人社那边管双目失明的人推拿的是哪条")
    assert answer.kind == "unit_topic"
    assert answer.units == (HRSS,)
    assert all(plan.is_responsible(HRSS, m) for m in answer.measures)
    assert answer.measures[0].id in holding(plan, "盲人", "按摩")


@pytest.mark.parametrize(
    "question",
    [
        "推拿店的营业执照去哪补办",  # the notice names 按摩, never a licence to replace
        "社保卡掉了去哪补办",
        "养老金明年涨多少",
        "盲人按摩补贴能报销多少",
        "残疾人就业保障金滞纳金在哪交",
        "坐轮椅的人考驾照要满足什么条件",
        "盲人按摩店着火了保险赔不赔",
        "被骗的培训费能追回吗",
        "职业培训补贴能报销百分之多少",
        "搬家公司归谁管",  # moving house is no 易地搬迁
    ],
)
def test_what_the_notice_does_not_answer_stays_not_found(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.no_match, question
    assert answer.measures == ()


def test_a_how_to_question_on_a_term_the_document_names_offers_the_nearest(
    engine: Engine, plan: Plan
) -> None:
    answer = engine.answer("推拿店的营业执照去哪补办")
    assert answer.no_match
    assert {m.id for m in answer.nearest} & holding(plan, "按摩")


def test_what_an_imported_document_does_not_answer_stays_not_found(
    wufei: tuple[Plan, Engine],
) -> None:
    plan, engine = wufei
    for question in ["工地渣土清运费每吨多少钱", "装修垃圾乱倒罚多少钱", "泔水桶坏了去哪补办"]:
        answer = engine.answer(question)
        assert answer.no_match, question
        assert answer.measures == ()
    # The nearest measures are offered: those on what the question describes.
    assert {m.id for m in engine.answer("工地渣土清运费每吨多少钱").nearest} & holding(
        plan, "建筑垃圾"
    )


def test_the_same_answers_whatever_the_hash_seed(tmp_path: Path) -> None:
    # Scores are summed in a fixed order: a set's order (each process's hash seed) must not
    # decide a score at a threshold. Questions read by their characters and descriptions.
    rows = (BLIND / "notice-everyday.jsonl", BLIND / "notice-round3.jsonl")
    lines = [line for path in rows for line in path.read_text(encoding="utf-8").splitlines()]
    questions = [json.loads(line)["q"] for line in lines]
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FENGONG_"))}
        env |= {"PYTHONHASHSEED": seed, "FENGONG_DB": str(tmp_path / "bot.sqlite3")}
        done = subprocess.run(
            [sys.executable, "-m", "bot", "ask", "--json"],
            input="\n".join(questions) + "\n",
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=env,
            cwd=ROOT,
            timeout=120,
            check=True,
        )
        assert len(done.stdout.splitlines()) == len(questions)
        outputs.add(done.stdout)
    assert len(outputs) == 1


# -- a unit by the tail of its name --------------------------------------------------------


def test_a_long_name_is_also_said_by_its_tail() -> None:
    forms = tails("市流动人员出租屋管理办")
    assert "出租屋管理办" in forms
    # Too short to name anything:
    assert "理办" not in forms
    assert "管理办" not in forms
    assert "出租屋管理办" in tails("某市流动人员出租屋管理办公室")
    assert "新闻出版局" in tails("市文化广电新闻出版局")
    # Said, not written down: no alias of an imported units.yaml.
    assert "出租屋管理办" not in short_forms("市流动人员出租屋管理办")


def test_a_unit_by_the_tail_of_its_name_in_an_imported_document(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    plan, engine = _imported(
        tmp_path_factory.mktemp("rencai"), "guangzhou2012_rencai_jiju_633.txt"
    )
    unit = "市文化广电新闻出版局"
    for question in ["新闻出版局负责什么", "广电新闻出版局那边有哪些事"]:
        answer = engine.answer(question)
        assert answer.units == (unit,), question
        assert {m.id for m in answer.measures} == {m.id for m in plan.duties_of(unit)}


def test_a_unit_s_question_narrowed_to_a_description(engine: Engine, plan: Plan) -> None:
    answer = engine.answer("人社那边跟学手艺有关的是哪几条")
    assert answer.kind == "unit_topic"
    assert answer.units == (HRSS,)
    assert all(plan.is_responsible(HRSS, m) for m in answer.measures)
    assert "培训" in answer.measures[0].text


def test_a_unit_s_question_narrowed_in_an_imported_document(
    wufei: tuple[Plan, Engine],
) -> None:
    plan, engine = wufei
    unit = "住房城乡建设部"
    answer = engine.answer("住建部管砖头瓦块的是哪条")
    assert answer.kind == "unit_topic"
    assert answer.units == (unit,)
    assert all(plan.is_responsible(unit, m) for m in answer.measures)
    assert answer.measures[0].id in holding(plan, "建筑垃圾")


@pytest.fixture(scope="module")
def dangjian(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Engine]:
    # A party-building plan (tests/data/blind/texts/): 流动党员, 在职党员, 换届.
    path = BLIND / "texts" / "gz2012_dangjian_chuangxin.txt"
    return _imported(tmp_path_factory.mktemp("dangjian"), str(path))


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("外出务工党员的教育由哪个部门负责", "流动党员"),
        ("机关党员回社区报到谁来组织", "在职党员"),
    ],
)
def test_a_description_in_party_building_words(
    dangjian: tuple[Plan, Engine], question: str, term: str
) -> None:
    assert_found(dangjian, question, term)


def test_the_narrowed_map_kept_between_processes_follows_an_edited_map(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m bot ask` reads the narrowed map back (bot/documents/pattern.py) only while
    the document, the map and the code are the ones it was made from."""
    written, words = "残疾人按摩和推拿", {"残疾", "疾人", "按摩", "推拿"}
    with pattern.kept(tmp_path):
        fresh = concepts_in(written, words)
    assert fresh
    assert (tmp_path / "concepts.marshal").exists()
    with pattern.kept(tmp_path):
        assert concepts_in(written, words) == fresh
    # Another developer's edit of the map: a new line for 推拿.
    edited = CONCEPT_FILE.read_text(encoding="utf-8") + "\n揉肩膀 = 推拿\n"
    monkeypatch.setattr(concept, "CONCEPT_FILE", tmp_path / "concepts.txt")
    (tmp_path / "concepts.txt").write_text(edited, encoding="utf-8")
    shipped = (concept._sources, concept._shipped, concept.concepts, concept.kin, concept._phrases)
    try:
        for cached in shipped:
            cached.cache_clear()
        with pattern.kept(tmp_path):
            assert concepts_in(written, words)["揉肩膀"] == ("推拿",)
    finally:
        monkeypatch.undo()
        for cached in shipped:
            cached.cache_clear()


def test_the_map_s_other_subjects_kept_between_processes_are_the_map_s(tmp_path: Path) -> None:
    """A topic question asks whether it names another subject (`other_subjects`): with the
    table kept by an earlier process the map is not read again, and the table is the same."""
    made = concept._subjects_of_map()
    shipped = (concept._subjects, concept._shipped)
    try:
        with pattern.kept(tmp_path):
            for cached in shipped:
                cached.cache_clear()
            assert concept._subjects() == made
        for cached in shipped:
            cached.cache_clear()
        with pattern.kept(tmp_path):
            assert concept._subjects() == made
            assert concept._shipped.cache_info().currsize == 0  # the map was not read
    finally:
        for cached in shipped:
            cached.cache_clear()

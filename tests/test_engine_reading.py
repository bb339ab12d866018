"""The engine reads people's own words (#18): references, roles, everyday descriptions, honesty."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.ask import compose
from bot.ask.engine import Engine
from bot.ask.lexicon import Lexicon, load_lexicon
from bot.documents.importer import dump_lexicon, dump_plan, dump_units, import_file
from bot.documents.plan import Plan, load_plan
from bot.reply import render_plain
from tests.test_import_layouts import SHARED


def ids(engine: Engine, question: str) -> list[str]:
    return [m.id for m in engine.answer(question).measures]


@pytest.mark.parametrize(
    ("question", "measure"),
    [
        ("第7项任务第3条", "7.3"),
        ("任务6的第2项是什么内容", "6.2"),
        ("第十项任务的第三条举措", "10.3"),
        ("第一大项里的第二小条", "1.2"),
        ("任务十第二条有哪些单位", "10.2"),
        # financial numerals and Traditional characters
        ("第捌项任务第壹条", "8.1"),
        ("任务贰第叁条是什么", "2.3"),
        ("第五項任務第二條講什麼", "5.2"),
    ],
)
def test_a_measure_by_task_and_place(engine: Engine, question: str, measure: str) -> None:
    answer = engine.answer(question)
    assert answer.kind == "measure"
    assert ids(engine, question) == [measure]


def test_a_task_in_financial_numerals(engine: Engine, plan: Plan) -> None:
    task = plan.task(5)
    assert task is not None
    assert ids(engine, "第伍项任务") == [m.id for m in task.measures]


def test_a_synonym_adds_to_the_word_typed(engine: Engine, plan: Plan) -> None:
    # 7.1 and 7.2 say 残疾人大学生, 7.3 and 7.4 高校毕业生: 大学生 is both
    assert {"7.1", "7.2", "7.3", "7.4"} <= set(ids(engine, "大学生"))
    # every measure holding the word is listed, a long one too
    holding = {m.id for m in plan.measures if "招聘" in m.text}
    assert "3.1" in holding
    assert holding <= set(ids(engine, "招聘"))


def test_units_together_share_their_measures(engine: Engine, plan: Plan) -> None:
    answer = engine.answer("省委组织部和人社厅一起负责的有哪些")
    assert answer.units == ("省委组织部", "人力资源社会保障厅")
    assert answer.role == "joint"
    both = [
        m.id
        for m in plan.measures
        if plan.is_responsible("省委组织部", m) and plan.is_responsible("人力资源社会保障厅", m)
    ]
    assert sorted(ids(engine, "省委组织部和人社厅一起负责的有哪些")) == sorted(both)
    assert len(ids(engine, "省委组织部和人社厅负责哪些")) > len(both)
    reply = render_plain(compose.answer_reply(plan, answer))
    assert f"共同负责 {len(both)} 项举措" in reply


@pytest.mark.parametrize(
    ("question", "units"),
    [
        ("教育厅和财政厅一起挂名的是哪几条", ("教育厅", "财政厅")),
        ("人社厅和财政厅一起挂名的是哪几条", ("人力资源社会保障厅", "财政厅")),
        ("教育厅和残联一起挂名的有哪些", ("教育厅", "省残联")),
        ("民政厅和残联共同署名的", ("民政厅", "省残联")),
        ("教育厅和人社厅一块挂名的条目", ("教育厅", "人力资源社会保障厅")),
    ],
)
def test_units_named_together_share_their_measures(
    engine: Engine, plan: Plan, question: str, units: tuple[str, ...]
) -> None:
    # 一起挂名 is being named together, not 挂名 (a sham job) as a topic.
    answer = engine.answer(question)
    assert answer.units == units
    both = {m.id for m in plan.measures if all(plan.is_responsible(u, m) for u in units)}
    assert set(ids(engine, question)) == both


def test_a_quoted_phrase_finds_its_measure(engine: Engine) -> None:
    assert ids(engine, "“助残就业专场招聘活动”那一条讲的什么") == ["2.1"]


def test_a_topic_header_quotes_what_was_understood(engine: Engine, plan: Plan) -> None:
    answer = engine.answer("报刊亭招残疾人是哪个部门的事")
    assert answer.kind == "topic"
    head = render_plain(compose.answer_reply(plan, answer)).splitlines()[0]
    assert head.startswith("与「报刊亭招残疾人」最相关")


@pytest.mark.parametrize(
    "question",
    [
        "重庆对残疾人创业补贴多少",  # another place's rules
        "深圳的盲人按摩有什么补贴",
        "残联办公室电话是多少",  # details no such document gives
        "烟草专卖局局长是谁",
        "培训期间的生活费补贴一天给多少钱",  # an amount the document never states
        "工业和信息化部负责什么",  # a body this document does not name
    ],
)
def test_what_the_document_does_not_say_is_not_found(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.no_match
    assert answer.measures == ()


@pytest.mark.parametrize(
    ("question", "measure"),
    [
        ("残疾妇女搞刺绣手工的作坊能得到帮助吗", "4.2"),
        ("乡镇和县里的机关招残疾人怎么统筹安排", "1.2"),
    ],
)
def test_everyday_words_are_read_by_the_document_s_own_weights(
    engine: Engine, question: str, measure: str
) -> None:
    # no term of the measure is typed as the document writes it; its characters are
    answer = engine.answer(question)
    assert answer.kind == "topic"
    assert measure in ids(engine, question)[:3]


def test_unsure_offers_the_nearest_as_suggestions(engine: Engine, plan: Plan) -> None:
    # (A description the concept map knows, 手把手教 → 就业辅导员, is answered: this one is
    # read by its characters alone.)
    question = "残疾人上岗的时候有没有专门的老师在旁边教"
    answer = engine.answer(question)
    assert answer.no_match
    assert answer.measures == ()
    assert 1 <= len(answer.nearest) <= 3
    data = answer.to_json()
    assert data["measures"] == []
    assert data["no_match"] is True
    assert data["suggestions"] == [m.id for m in answer.nearest]
    reply = compose.answer_reply(plan, answer)
    assert "没有找到完全对应的举措，最接近的是：" in render_plain(reply)
    pressed = [b.action for item in reply.items for b in item.buttons]
    assert pressed == [f"{compose.SHOW_MEASURE}:{m.id}" for m in answer.nearest]
    # a question sharing no word with the document gets the plain "not found"
    assert engine.answer("明天成都会下雨吗").nearest == ()
    assert "suggestions" not in engine.answer("明天成都会下雨吗").to_json()


def _imported(out: Path, name: str) -> tuple[Plan, Engine]:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the clone")
    return engine_of(out, SHARED / name)


def engine_of(out: Path, source: Path) -> tuple[Plan, Engine]:
    """Import `source` into `out` as `import-doc` writes it; return its plan and engine."""
    imported = import_file(source)
    (out / "plan.yaml").write_text(dump_plan(imported.plan), encoding="utf-8")
    (out / "units.yaml").write_text(dump_units(imported.units), encoding="utf-8")
    (out / "lexicon.yaml").write_text(dump_lexicon(imported.plan), encoding="utf-8")
    plan = load_plan(out)
    lexicon: Lexicon = load_lexicon(out)
    return plan, Engine(plan, lexicon)


@pytest.fixture(scope="module")
def nongye(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Engine]:
    return _imported(tmp_path_factory.mktemp("nongye"), "guofa2018-42_nongye_jixiehua.txt")


@pytest.fixture(scope="module")
def zonghe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Engine]:
    return _imported(tmp_path_factory.mktemp("zonghe"), "guofa2019-3_zonghe_baoshuiqu.txt")


def test_leads_only_and_none_said_so(nongye: tuple[Plan, Engine]) -> None:
    plan, engine = nongye
    leads = [m.id for m in plan.measures if "农业农村部" in m.lead]
    assert leads
    assert ids(engine, "农业农村部牵头的有哪些") == leads
    # 财政部 supports six measures and leads none
    assert not [m for m in plan.measures if "财政部" in m.lead]
    answer = engine.answer("财政部牵头的有哪些")
    assert answer.kind == "unit"
    assert answer.measures == ()
    text = render_plain(compose.answer_reply(plan, answer))
    assert "财政部没有牵头的举措" in text
    assert "负责 " not in text


def test_every_measure_marked_with_the_unit_s_role(nongye: tuple[Plan, Engine]) -> None:
    plan, engine = nongye
    answer = engine.answer("财政部负责哪些")
    named = [m.id for m in plan.measures if "财政部" in m.units]
    assert [m.id for m in answer.measures] == named
    text = render_plain(compose.answer_reply(plan, answer))
    for measure_id in named:
        assert f"{measure_id}（配合）" in text


def test_a_unit_s_topic_in_everyday_words(zonghe: tuple[Plan, Engine]) -> None:
    plan, engine = zonghe
    # 跨境网购 is the document's 跨境电商; the unit's seven other measures stay out
    answer = engine.answer("商务部在跨境网购方面负责什么")
    assert answer.kind == "unit_topic"
    assert all("商务部" in m.units for m in answer.measures)
    assert "跨境电商" in answer.measures[0].text
    assert len(answer.measures) < len(plan.measures_of("商务部"))


def test_a_time_span_the_document_never_gives(zonghe: tuple[Plan, Engine]) -> None:
    _, engine = zonghe
    answer = engine.answer("出口退税一般多久能到账")
    assert answer.no_match
    assert answer.measures == ()
    # the topic itself is found when no span is asked for
    assert engine.answer("出口退税的政策").measures

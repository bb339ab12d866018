"""Everyday descriptions the engine must carry to a document's terms (#18): a description
outweighs the stray words it shares with another measure, a word written with 零 is one word.
Wordings are this module's own; expected measures come from the plan's text, never from the
engine."""

from __future__ import annotations

import pytest

from bot.ask.engine import Engine
from bot.ask.lexicon import load_lexicon
from bot.cli import main
from bot.documents.plan import Plan, load_plan
from tests.test_engine_concepts import BLIND, holding, top


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


@pytest.fixture(scope="module")
def minzhu(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Engine]:
    # A 广州 plan (tests/data/blind/texts/) writing “三公”经费 with quotation marks.
    out = tmp_path_factory.mktemp("minzhu") / "doc"
    assert (
        main(["import-doc", str(BLIND / "texts" / "gz2012_minzhu_fazhi.txt"), "--out", str(out)])
        == 0
    )
    plan = load_plan(out)
    return plan, Engine(plan, load_lexicon(out))


def test_a_term_is_read_across_quotation_marks(minzhu: tuple[Plan, Engine]) -> None:
    plan, engine = minzhu
    expected = holding(plan, "“三公”经费")
    assert expected
    # 公款出国, 吃喝 describe 三公经费, which the document writes as “三公”经费.
    assert top(engine, "公款出国吃喝的钱要晒出来吗", 1)[0] in expected

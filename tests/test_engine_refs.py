"""The engine reads references as people type them (#18): a place in a task, a spoken number,
a unit's short form in a sentence. Expected measures come from the plan, never the engine."""

from __future__ import annotations

import pytest

from bot.ask.engine import Engine
from bot.ask.lexicon import load_lexicon
from bot.documents.plan import Plan, load_plan
from tests.test_engine_reading import _imported


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan()


@pytest.fixture(scope="module")
def engine(plan: Plan) -> Engine:
    return Engine(plan, load_lexicon())


@pytest.fixture(scope="module")
def nongye(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Engine]:
    # Tasks numbered 二…八 by the document, items （三）…（二十）.
    return _imported(tmp_path_factory.mktemp("nongye"), "guofa2018-42_nongye_jixiehua.txt")


def ids(engine: Engine, question: str) -> list[str]:
    return [m.id for m in engine.answer(question).measures]


def nth(plan: Plan, task: int, place: int) -> str:
    """The id of the measure at `place` in task `task` (negative: from the end)."""
    found = plan.task(task)
    assert found is not None
    return found.measures[place - 1 if place > 0 else place].id


@pytest.mark.parametrize(
    ("question", "task", "place"),
    [
        ("第七项倒数第二条", 7, -2),
        ("第七项任务倒数第一条是啥", 7, -1),
        ("任务十最后一条", 10, -1),
        ("任务2最后一项讲什么", 2, -1),
        ("第1项任务里的最后那个", 1, -1),
        ("任务5的头一个举措", 5, 1),
        ("第三大项的最后那个", 3, -1),
        ("第十项任务开头那条谁负责", 10, 1),
        ("第五大项的第二条", 5, 2),
        ("第4项任务倒数第3条", 4, -3),
    ],
)
def test_a_place_inside_a_task_is_that_one_measure(
    engine: Engine, plan: Plan, question: str, task: int, place: int
) -> None:
    answer = engine.answer(question)
    assert answer.kind == "measure"
    assert ids(engine, question) == [nth(plan, task, place)]


def test_a_place_past_the_task_s_end_is_no_measure(engine: Engine, plan: Plan) -> None:
    task = plan.task(8)
    assert task is not None
    assert len(task.measures) < 5
    assert engine.answer("第八项倒数第五条").kind != "measure"


@pytest.mark.parametrize(
    ("question", "measure"),
    [
        ("四点三", "4.3"),
        ("4点3是什么", "4.3"),
        ("举措十点一谁负责", "10.1"),
        ("六点二讲的啥", "6.2"),
        ("四之三", "4.3"),
    ],
)
def test_a_spoken_measure_number(engine: Engine, question: str, measure: str) -> None:
    assert ids(engine, question) == [measure]


@pytest.mark.parametrize(
    "question", ["四分之三的残疾人", "下午三点一刻开会", "一点一滴做起", "九点五十到", "十之八九"]
)
def test_numbers_that_are_no_measure_stay_so(engine: Engine, question: str) -> None:
    assert engine.answer(question).kind != "measure"


@pytest.mark.parametrize(("question", "task"), [("第九大项讲的什么", 9), ("第十二大项", 12)])
def test_a_big_item_is_a_task(engine: Engine, plan: Plan, question: str, task: int) -> None:
    answer = engine.answer(question)
    assert answer.kind == "task"
    assert answer.tasks == (task,)


def test_places_and_big_items_in_an_imported_document(nongye: tuple[Plan, Engine]) -> None:
    plan, engine = nongye
    # The document numbers its tasks 二…八: 第三大项 is its task 三, the bot's task 2.
    second = next(t for t in plan.tasks if t.doc_number == "三")
    assert engine.answer("第三大项讲的什么").tasks == (second.number,)
    assert ids(engine, "第三大项的最后一条") == [second.measures[-1].id]
    assert ids(engine, "第三大项头一条") == [second.measures[0].id]
    fourth = next(t for t in plan.tasks if t.doc_number == "四")
    assert ids(engine, "第四项倒数第二条") == [fourth.measures[-2].id]
    # a spoken id is the bot's own id
    assert ids(engine, "三点二") == ["3.2"]

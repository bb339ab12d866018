"""Hostile questions: no text may keep the engine busy, and a long one is read from its start.

The engine runs on the bot's event loop, so one slow answer stalls every chat. Issue 9 asks
for every answer within 50 ms, whatever the text: that bound, generous next to the usual
fraction of a millisecond, is the only timing assertion here. A run that exceeds it is timed
again (the fastest of three counts), so that a busy machine preempting one run does not fail
the test, while an answer that is really slow is slow every time.
"""

from __future__ import annotations

import dataclasses
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.ask import compose
from bot.ask import engine as engine_module
from bot.ask.engine import MAX_QUESTION, Answer, Engine, task_phrases
from bot.ask.lexicon import Lexicon, load_lexicon
from bot.documents.plan import Plan, load_plan
from bot.reply import text_of

BOUND = 0.050  # seconds per answer (issue 9)
LONGEST = 4096  # the longest message Telegram delivers

NUMERALS = list("一二三四五六七八九十两零")
SEPARATORS = [*"、，,和与及至到~-", "－", "～", "。", ".", "·"]
# Every kind of blank: NFKC turns the full-width and no-break ones into plain spaces.
SPACES = [" ", "\u3000", "\u00a0", "\t", "\n", "\r", "\x0b", "\x0c", "\u2003", "\u200b"]
WORDS = ["第", "项", "个", "条", "大", "任务", "主要", "号", "举措", "人设", "残连", "的", "盲人"]

number = st.one_of(
    st.integers(0, 120).map(str), st.text(st.sampled_from(NUMERALS), min_size=1, max_size=4)
)
blanks = st.text(st.sampled_from(SPACES), max_size=6)
piece = st.one_of(number, st.sampled_from(SEPARATORS), blanks, st.sampled_from(WORDS))
# A number, blanks, a separator, blanks, perhaps 第: what a list of task numbers is made of.
list_item = st.tuples(
    number, blanks, st.sampled_from(SEPARATORS), blanks, st.sampled_from(["", "第", "第 "])
).map("".join)


def repeated(unit: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Return texts made of a drawn unit repeated, up to the longest message."""
    return st.builds(lambda u, times: (u * times)[:LONGEST], unit, st.integers(1, LONGEST))


question = st.one_of(
    st.lists(piece, max_size=60).map("".join),
    repeated(st.lists(piece, min_size=1, max_size=8).map("".join).filter(bool)),
    repeated(st.lists(list_item, min_size=1, max_size=3).map("".join)),
)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan()


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon()


@pytest.fixture(scope="module")
def engine(plan: Plan, lexicon: Lexicon) -> Engine:
    built = Engine(plan, lexicon)
    built.answer("盲人按摩")  # load what the first answer loads (OpenCC's tables)
    return built


def timed(engine: Engine, text: str, bound: float = BOUND) -> tuple[float, Answer]:
    """Answer `text`; return the fastest of up to three runs (until one is within `bound`)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        answer = engine.answer(text)
        best = min(best, time.perf_counter() - start)
        if best < bound:
            break
    return best, answer


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question)
def test_every_answer_is_quick(engine: Engine, text: str) -> None:
    seconds, answer = timed(engine, text)
    assert seconds < BOUND, (len(text), text[:80])
    assert answer.query == text


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question)
def test_every_whole_reading_is_linear(engine: Engine, text: str) -> None:
    """Without the bound, no text backtracks either: 4,096 characters within 0.5 s."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine_module, "MAX_QUESTION", 10 * LONGEST)
        seconds, _ = timed(engine, text, 10 * BOUND)
    assert seconds < 10 * BOUND, (len(text), text[:80])


# Each family repeated to 4,096 characters. The first ones took the old patterns over ten
# seconds at about 100 characters; "第一、" took seconds at full length (quadratic).
FAMILIES = {
    "digits, spaces, 、": "1 、 ",
    "numerals, spaces, 、": "十二 、 ",
    "digits, full-width spaces, ，": "12\u3000，\u3000",
    "digits and 和": "3 和 ",
    "ranges with 至": "4 至 第 ",
    "numerals and 到": "五 到 ",
    "no-break spaces, tabs, newlines": "1\u00a0\t、\n",
    "ordinal list": "第一、",
    "ordinal list of digits": "第1、",
    "task list with 号": "8号、",
    "task word then numbers": "任务1、",
    "task phrases": "第8项任务",
    "measure ids": "7.2 ",
    "two-character typos": "残连、",
    "typos among scaffolding": "人设的",
    "scaffolding": "的",
    "one long number": "1",
    "one long numeral": "十",
}


@pytest.mark.parametrize("unit", FAMILIES.values(), ids=FAMILIES.keys())
def test_worst_cases_are_quick(engine: Engine, unit: str) -> None:
    text = (unit * LONGEST)[:LONGEST]
    seconds, answer = timed(engine, text)
    assert seconds < BOUND, seconds
    assert answer.truncated


@pytest.mark.parametrize("unit", FAMILIES.values(), ids=FAMILIES.keys())
def test_reading_is_linear_without_the_bound(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, unit: str
) -> None:
    """Read whole, 4,096 characters take about 14 times 300's time, not minutes."""
    monkeypatch.setattr(engine_module, "MAX_QUESTION", 10 * LONGEST)
    seconds, answer = timed(engine, (unit * LONGEST)[:LONGEST], 10 * BOUND)
    assert seconds < 10 * BOUND, seconds
    assert not answer.truncated


def test_task_phrases_in_a_long_list_are_read_once() -> None:
    text = "第" + "、".join(["8"] * 20000) + "项任务"
    start = time.perf_counter()
    phrases = task_phrases(text)
    assert time.perf_counter() - start < 10 * BOUND
    # 第…项任务, then 第…项 over the same characters (the engine keeps the first).
    assert phrases == [(0, len(text), text[1:-3]), (0, len(text) - 2, text[1:-3])]


# -- a long question is answered from its start, and the reply says so ---------------------


def test_a_long_question_is_answered_from_its_start(engine: Engine, plan: Plan) -> None:
    question = "人社厅负责什么" + "，" * MAX_QUESTION + "教育厅"
    answer = engine.answer(question)
    assert answer.truncated
    assert answer.units == ("人力资源社会保障厅",)
    assert answer.query == question  # what was typed is kept whole
    reply = compose.answer_reply(plan, answer)
    assert text_of(reply.header).startswith(f"问题较长，只按前 {MAX_QUESTION} 个字回答。\n")


def test_a_question_within_the_bound_is_read_whole(engine: Engine, plan: Plan) -> None:
    question = "，" * (MAX_QUESTION - 3) + "教育厅"
    assert len(question) == MAX_QUESTION
    answer = engine.answer(question + " \n\u3000")  # blanks after the bound cut nothing
    assert not answer.truncated
    assert answer.units == ("教育厅",)
    assert "问题较长" not in text_of(compose.answer_reply(plan, answer).header)


@pytest.mark.parametrize("question", ["第8项任务", "7.2", "盲人按摩", "明天下雨吗", "广东省残联"])
def test_every_kind_of_reply_says_it_was_cut(
    engine: Engine, lexicon: Lexicon, plan: Plan, question: str
) -> None:
    answer = engine.answer(question + "。" * MAX_QUESTION)
    assert answer.truncated
    # The same answer as to the question alone: only the start was read.
    assert answer == dataclasses.replace(
        engine.answer(question), query=answer.query, truncated=True
    )
    reply = compose.answer_reply(plan, answer, lexicon.examples)
    assert text_of(reply.header).splitlines()[0] == compose.LONG_QUESTION

"""Replies built from the engine's answers: what the user reads for each kind of answer."""

from __future__ import annotations

import dataclasses
import re

import pytest

from bot.ask import compose
from bot.ask.assistant import Assistant
from bot.ask.engine import Answer, Engine
from bot.ask.lexicon import Lexicon, load_lexicon
from bot.commands import COMMANDS
from bot.documents.example import example
from bot.documents.plan import Plan
from bot.reply import Reply, all_buttons, render_plain, text_of


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon()


@pytest.fixture(scope="module")
def engine(plan: Plan, lexicon: Lexicon) -> Engine:
    return Engine(plan, lexicon)


def reply_for(engine: Engine, lexicon: Lexicon, question: str) -> tuple[Answer, Reply]:
    answer = engine.answer(question)
    return answer, compose.answer_reply(engine.plan, answer, lexicon.examples)


def header_text(reply: Reply) -> str:
    return text_of(reply.header)


def item_ids(reply: Reply) -> list[str]:
    """The measure id each item is about, read from its button."""
    return [b.action.removeprefix("m:") for it in reply.items for b in it.buttons]


# -- unit ------------------------------------------------------------------------------------


def test_unit_reply_header_counts_and_shared_duties_last(
    engine: Engine, lexicon: Lexicon, plan: Plan
) -> None:
    answer, reply = reply_for(engine, lexicon, "教育厅负责哪些工作")
    own = plan.measures_of("教育厅")
    shared = [m for m in plan.shared_measures() if m not in own]
    tasks = {m.task for m in [*own, *shared]}
    head = header_text(reply)
    assert "教育厅（四川省教育厅）" in head
    total = len(own) + len(shared)
    counts = (
        f"负责 {total} 项举措，涉及 {len(tasks)} 项主要任务"
        f"（含 {len(shared)} 项全体省级部门共同职责）"
    )
    assert counts in head
    assert item_ids(reply) == [m.id for m in own] + [m.id for m in shared]
    # The shared duties are grouped at the end, under one 共同职责 marker.
    marker = [i for i, it in enumerate(reply.items) if "共同职责" in text_of(it.lines)]
    assert marker == [len(own)]
    assert "省级有关部门（单位）均须落实" in text_of(reply.items[len(own)].lines)
    # Each item names its task and summarises the measure.
    for item, measure in zip(reply.items, [*own, *shared], strict=True):
        text = text_of(item.lines)
        assert measure.id in text
        assert plan.tasks[measure.task - 1].title in text
        assert compose.summary(measure.text) in text
        assert item.buttons[0].label == f"{measure.id} 详情"
    assert answer.shared == {m.id for m in shared}


def test_unit_reply_lists_every_duty_once_with_shared_after_own(
    engine: Engine, lexicon: Lexicon, plan: Plan
) -> None:
    every_unit = {m.id for m in plan.shared_measures()}
    for unit in plan.units:
        answer, reply = reply_for(engine, lexicon, unit.name)
        got = item_ids(reply)
        assert sorted(got) == sorted(m.id for m in plan.duties_of(unit.name)), unit.name
        marker = next(i for i, it in enumerate(reply.items) if "共同职责" in text_of(it.lines))
        # Under 共同职责: every duty the unit has only as a provincial unit, and nothing that
        # binds just some units.
        grouped = set(got[marker:])
        assert answer.shared <= grouped <= every_unit, unit.name
        assert not set(got[:marker]) & answer.shared
        assert unit.name in header_text(reply)


def test_unit_reply_tells_the_typo_correction(engine: Engine, lexicon: Lexicon) -> None:
    _, reply = reply_for(engine, lexicon, "人设厅负责什么")
    assert "已将「人设厅」理解为「人力资源社会保障厅」。" in header_text(reply)


def test_unit_reply_tells_a_missed_topic(engine: Engine, lexicon: Lexicon, plan: Plan) -> None:
    _, reply = reply_for(engine, lexicon, "教育厅 盲人按摩")
    head = header_text(reply)
    assert "没有与「盲人按摩」直接相关的" in head
    assert "以下是全部举措" in head
    assert sorted(item_ids(reply)) == sorted(m.id for m in plan.duties_of("教育厅"))


def test_unit_topic_reply(engine: Engine, lexicon: Lexicon, plan: Plan) -> None:
    answer, reply = reply_for(engine, lexicon, "人社厅在盲人按摩方面有哪些任务")
    assert answer.kind == "unit_topic"
    head = header_text(reply)
    assert "人力资源社会保障厅" in head
    assert f"最相关的 {len(answer.measures)} 项举措" in head
    assert item_ids(reply) == [m.id for m in answer.measures]
    for item, measure in zip(reply.items, answer.measures, strict=True):
        assert compose.units_text(plan, measure) in text_of(item.lines)


# -- measure ---------------------------------------------------------------------------------


def test_measure_reply_has_full_text_task_and_all_units(plan: Plan) -> None:
    for measure in plan.measures:
        text = render_plain(compose.measure_reply(plan, measure))
        task = plan.tasks[measure.task - 1]
        assert f"举措 {measure.id}" in text
        assert f"主要任务{task.number}：{task.title}" in text
        assert measure.text in text
        for unit in measure.units:
            assert unit in text
        assert "责任单位：" + compose.units_text(plan, measure) in text


def test_measure_reply_notes_the_misspelt_unit(plan: Plan) -> None:
    measure = plan.measure("8.2")
    assert measure is not None
    corrections = [(c.written, c.unit) for c in measure.corrections]
    assert corrections == [("省市市场监管局", "省市场监管局")]
    text = render_plain(compose.measure_reply(plan, measure))
    assert "原文写作「省市市场监管局」，应为「省市场监管局」" in text
    assert "责任单位：人力资源社会保障厅、省市场监管局、省残联" in text


def test_measure_reply_explains_every_provincial_unit(plan: Plan) -> None:
    for measure in plan.shared_measures():
        text = render_plain(compose.measure_reply(plan, measure))
        assert "省级有关部门（单位）" in compose.units_text(plan, measure)
        assert "「省级有关部门（单位）」指全体省级部门，各单位均须落实本举措。" in text
    ordinary = plan.measure("7.2")
    assert ordinary is not None
    assert "指全体省级部门" not in render_plain(compose.measure_reply(plan, ordinary))


def test_measure_reply_quotes_the_cell_note(plan: Plan) -> None:
    measure = plan.measure("1.1")
    assert measure is not None
    assert measure.unit_note
    assert f"原文注：{measure.unit_note}" in render_plain(compose.measure_reply(plan, measure))


def test_a_bare_deng_after_the_units_is_explained(plan: Plan) -> None:
    measure = dataclasses.replace(plan.measures[0], unit_note="列第一位者为牵头单位，下同；等")
    text = render_plain(compose.measure_reply(plan, measure))
    assert "原文注：列第一位者为牵头单位，下同" in text
    assert "原文在责任单位后写有「等」：所列单位之外，还有其他单位参与。" in text
    assert "原文注：等" not in text


def test_measure_question_gets_the_detail(engine: Engine, lexicon: Lexicon, plan: Plan) -> None:
    _, reply = reply_for(engine, lexicon, "举措11.1讲的是什么")
    measure = plan.measure("11.1")
    assert measure is not None
    assert reply == compose.measure_reply(plan, measure)


# -- tasks and several measures ----------------------------------------------------------------


def test_task_reply(engine: Engine, lexicon: Lexicon, plan: Plan) -> None:
    _, reply = reply_for(engine, lexicon, "第七项主要任务")
    task = plan.tasks[6]
    assert header_text(reply) == f"主要任务7：{task.title}"
    assert item_ids(reply) == [m.id for m in task.measures]
    for item, measure in zip(reply.items, task.measures, strict=True):
        text = text_of(item.lines)
        assert measure.text in text
        assert "责任单位：" + compose.units_text(plan, measure) in text
    assert reply.per_page == 4


def test_several_measures_reply(engine: Engine, lexicon: Lexicon) -> None:
    _, reply = reply_for(engine, lexicon, "1.1和2.3")
    assert item_ids(reply) == ["1.1", "2.3"]
    head = header_text(reply)
    assert "主要任务1：" in head
    assert "主要任务2：" in head


# -- topic -----------------------------------------------------------------------------------


def test_topic_reply(engine: Engine, lexicon: Lexicon, plan: Plan) -> None:
    answer, reply = reply_for(engine, lexicon, "视障人员就业有什么政策")
    assert answer.kind == "topic"
    # the topic understood is quoted, not the question as typed
    assert answer.topic == "视障人员 政策"
    assert f"与「视障人员 政策」最相关的 {len(answer.measures)} 项举措" in header_text(reply)
    assert item_ids(reply) == [m.id for m in answer.measures]
    for item, measure in zip(reply.items, answer.measures, strict=True):
        assert "责任单位：" + compose.units_text(plan, measure) in text_of(item.lines)


def test_topic_reply_quotes_a_long_question_shortened(engine: Engine, lexicon: Lexicon) -> None:
    question = "盲人按摩的政策\n" * 12
    answer, reply = reply_for(engine, lexicon, question)
    assert answer.kind == "topic"
    quoted = re.search("与「(.*)」最相关", header_text(reply))
    assert quoted is not None
    assert quoted.group(1) == compose.quote(answer.topic)
    assert len(quoted.group(1)) == compose.QUOTE_CHARS
    assert quoted.group(1).endswith("…")
    assert "\n" not in quoted.group(1)


# -- no match --------------------------------------------------------------------------------


def test_no_match_reply_offers_example_buttons(engine: Engine, lexicon: Lexicon) -> None:
    _, reply = reply_for(engine, lexicon, "明天成都会下雨吗")
    head = header_text(reply)
    assert "没有找到与「明天成都会下雨吗」相关的内容" in head
    assert "例如" in head
    buttons = all_buttons(reply)
    assert buttons
    assert [b.label for b in buttons] == list(lexicon.examples[: len(buttons)])
    actions = [f"{compose.ASK_EXAMPLE}:{i}" for i in range(len(buttons))]
    assert [b.action for b in buttons] == actions
    assert reply.items == ()


def test_another_places_unit_is_said_to_be_outside_the_document(
    engine: Engine, lexicon: Lexicon, plan: Plan
) -> None:
    _, reply = reply_for(engine, lexicon, "广东省残联负责哪些任务")
    head = header_text(reply)
    assert "「广东省残联」不在本文件的责任单位之中" in head
    assert plan.document.number in head
    assert "四川省省级部门" in head
    assert [b.label for b in all_buttons(reply)] == list(lexicon.examples[:4])
    assert reply.items == ()


def test_no_match_reply_shortens_a_long_question(engine: Engine, lexicon: Lexicon) -> None:
    question = "明天会下雨吗" * 30
    answer, reply = reply_for(engine, lexicon, question)
    assert answer.kind == "none"
    assert f"没有找到与「{'明天会下雨吗' * 9}明天会下雨…」相关的内容" in header_text(reply)


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_asks_for_one(engine: Engine, lexicon: Lexicon, question: str) -> None:
    _, reply = reply_for(engine, lexicon, question)
    head = header_text(reply)
    assert "请输入要查询的问题。" in head
    assert "没有找到" not in head
    assert all_buttons(reply)


# -- greeting and help -----------------------------------------------------------------------


def test_welcome_reply(plan: Plan, lexicon: Lexicon) -> None:
    reply = compose.welcome_reply(plan, lexicon.examples)
    text = header_text(reply)
    assert plan.document.number in text
    assert f"{len(plan.tasks)} 项主要任务、{len(plan.measures)} 项工作举措" in text
    assert f"{len(plan.units)} 个责任单位" in text
    assert "《四川省〈促进残疾人就业三年行动方案（2022—2024年）〉责任分工》" in text
    assert [b.label for b in all_buttons(reply)] == list(lexicon.examples[:4])


def test_help_reply_lists_every_command(plan: Plan, lexicon: Lexicon) -> None:
    sample = example(plan, lexicon.examples)
    text = render_plain(compose.help_reply(sample))
    for command in COMMANDS:
        assert f"/{command.name} {command.summary}，如 {command.example_of(sample)}" in text
    # The notice's own examples: its unit, a measure of that unit, its topic.
    assert "/unit 人社厅" in text
    assert "/find 盲人按摩" in text
    assert f"/note {plan.duties_of('人力资源社会保障厅')[0].id} " in text


# -- summary and quote -----------------------------------------------------------------------


def test_summary_keeps_the_first_clause() -> None:
    assert compose.summary("第一句。第二句。") == "第一句。"
    assert compose.summary("第一分句；第二分句。") == "第一分句；"
    assert compose.summary("没有标点") == "没有标点"


def test_summary_truncates_a_long_first_clause() -> None:
    text = "字" * 100 + "。后文"
    short = compose.summary(text)
    assert len(short) == compose.SUMMARY_CHARS
    assert short == "字" * (compose.SUMMARY_CHARS - 1) + "…"
    assert compose.summary(text, 10) == "字" * 9 + "…"
    exact = "字" * compose.SUMMARY_CHARS
    assert compose.summary(exact) == exact


def test_summary_of_every_measure_is_a_prefix(plan: Plan) -> None:
    for measure in plan.measures:
        short = compose.summary(measure.text)
        assert len(short) <= compose.SUMMARY_CHARS
        assert measure.text.startswith(short.removesuffix("…"))


def test_quote_flattens_whitespace_and_truncates() -> None:
    assert compose.quote("  人社厅\n\t负责   什么 ") == "人社厅 负责 什么"
    long = "问" * 100
    assert compose.quote(long) == "问" * (compose.QUOTE_CHARS - 1) + "…"
    assert compose.quote(long, 20) == "问" * 19 + "…"
    assert compose.quote("问" * compose.QUOTE_CHARS) == "问" * compose.QUOTE_CHARS
    assert compose.quote("") == ""


@pytest.mark.parametrize("said", ["谢谢", "好的，谢谢！", "嗯嗯", "收到", "OK"])
def test_thanks_are_answered_in_kind(assistant: Assistant, said: str) -> None:
    text = render_plain(assistant.ask(said))
    assert text == "不客气！还有要查的，直接问我就行。"


@pytest.mark.parametrize("said", ["你好", "您好！", "在吗"])
def test_greetings_get_examples(assistant: Assistant, said: str) -> None:
    reply = assistant.ask(said)
    assert render_plain(reply).startswith("您好！可以问某个单位负责什么")
    assert reply.buttons


def test_a_question_is_still_not_small_talk(assistant: Assistant) -> None:
    assert "没有找到与「好好学习」相关的内容" in render_plain(assistant.ask("好好学习"))


def test_a_catch_all_of_another_document_is_named_as_written(plan: Plan) -> None:
    measure = dataclasses.replace(
        plan.measures[0], catch_all=("各有关部门和单位",), all_provincial=True, unit_note=""
    )
    text = render_plain(compose.measure_reply(plan, measure))
    assert "「各有关部门和单位」指全体责任单位，各单位均须落实本举措。" in text
    assert "全体省级部门" not in text

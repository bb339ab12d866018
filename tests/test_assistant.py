"""The channel-neutral assistant: commands and button actions."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

import pytest

from bot.ask import compose
from bot.ask.assistant import REFUSED, Assistant
from bot.ask.dialog import Dialog
from bot.ask.guard import Guard
from bot.clock import TZ
from bot.commands import COMMANDS
from bot.reply import Reply, all_buttons, render_plain, text_of
from tests.fakes.clock import FakeClock


def head(reply: Reply) -> str:
    return text_of(reply.header)


def measure_ids(reply: Reply) -> list[str]:
    return [b.action.removeprefix("m:") for it in reply.items for b in it.buttons]


# -- /unit -----------------------------------------------------------------------------------


def test_unit_command_answers_a_known_unit(assistant: Assistant) -> None:
    reply = assistant.unit("经信厅")
    assert "经济和信息化厅（四川省经济和信息化厅）" in head(reply)
    assert measure_ids(reply) == [m.id for m in assistant.plan.duties_of("经济和信息化厅")]


def test_unit_command_reads_a_typo(assistant: Assistant) -> None:
    reply = assistant.unit("卫建委")
    assert "已将「卫建委」理解为「省卫生健康委」" in head(reply)
    assert measure_ids(reply) == [m.id for m in assistant.plan.duties_of("省卫生健康委")]


@pytest.mark.parametrize(
    ("name", "close"),
    [("卫生局", "省卫生健康委"), ("市场管理局", "省市场监管局"), ("残疾人协会", "省残联")],
)
def test_unit_command_suggests_close_names(assistant: Assistant, name: str, close: str) -> None:
    reply = assistant.unit(name)
    text = head(reply)
    assert f"没有找到名为「{name}」的单位" in text
    assert "您是不是要找：" in text
    suggested = text.split("您是不是要找：")[1].rstrip("？").split("、")
    assert close in suggested
    assert len(suggested) <= 3
    assert all(assistant.plan.unit(s) for s in suggested)
    assert reply.items == ()


def test_unit_command_with_nothing_close(assistant: Assistant) -> None:
    text = head(assistant.unit("xyz"))
    assert "没有找到名为「xyz」的单位" in text
    assert "请检查单位名称" in text


def test_unit_command_shortens_a_long_unknown_name(assistant: Assistant) -> None:
    text = head(assistant.unit("不存在的单位" * 20))
    assert "…" in text
    assert len(text) < 120


@pytest.mark.parametrize("arg", ["", "   "])
def test_unit_command_without_a_name(assistant: Assistant, arg: str) -> None:
    assert "请在命令后写单位名称，例如：/unit 人社厅" in head(assistant.unit(arg))


# -- /task -----------------------------------------------------------------------------------


@pytest.mark.parametrize("arg", ["8", "八", "第8项", "第八项", " 8 "])
def test_task_command(assistant: Assistant, arg: str) -> None:
    reply = assistant.task(arg)
    task = assistant.plan.tasks[7]
    assert f"主要任务8：{task.title}" in head(reply)
    assert measure_ids(reply) == [m.id for m in task.measures]


def test_task_command_by_title(assistant: Assistant) -> None:
    reply = assistant.task("组织保障")
    assert "主要任务11：组织保障" in head(reply)
    assert measure_ids(reply) == ["11.1"]


@pytest.mark.parametrize("arg", ["0", "17", "十七", "99", "第17项"])
def test_task_command_out_of_range(assistant: Assistant, arg: str) -> None:
    reply = assistant.task(arg)
    count = len(assistant.plan.tasks)
    text = head(reply)
    assert "没有第" in text
    assert f"主要任务共 {count} 项（1–{count}）" in text
    assert reply.items == ()


@pytest.mark.parametrize("arg", ["abc", "", "盲人按摩", "?"])
def test_task_command_not_a_number(assistant: Assistant, arg: str) -> None:
    reply = assistant.task(arg)
    count = len(assistant.plan.tasks)
    assert head(reply) == f"请写任务编号 1–{count}，例如：/task 8"
    assert reply.items == ()


# -- /find -----------------------------------------------------------------------------------


@pytest.mark.parametrize("arg", ["", "  "])
def test_find_command_without_keywords(assistant: Assistant, arg: str) -> None:
    reply = assistant.find(arg)
    assert head(reply) == "请在命令后写关键词，例如：/find 盲人按摩"


def test_find_command_is_a_question(assistant: Assistant) -> None:
    reply = assistant.find("报刊亭")
    assert measure_ids(reply)[0] == "2.2"
    assert reply == assistant.ask("报刊亭")


# -- actions ---------------------------------------------------------------------------------


def test_action_shows_a_measure(assistant: Assistant) -> None:
    measure = assistant.plan.measure("7.2")
    assert measure is not None
    reply = assistant.action("m:7.2")
    assert reply == compose.measure_reply(assistant.plan, measure)
    assert measure.text in render_plain(reply)


def test_action_asks_an_example(assistant: Assistant) -> None:
    examples = assistant.lexicon.examples
    for index, example in enumerate(examples):
        assert assistant.action(f"ex:{index}") == assistant.ask(example)


def test_every_button_the_assistant_shows_is_answered(assistant: Assistant) -> None:
    replies = [assistant.welcome(), assistant.ask("人社厅"), assistant.ask("今天刮风吗")]
    for reply in replies:
        for button in all_buttons(reply):
            assert assistant.action(button.action) is not None, button


@pytest.mark.parametrize(
    "action",
    ["m:99.9", "m:", "m:7.2x", "zz:1", "ex:99", "ex:-1", "ex:", "ex:abc", "", ":", "m"],
)
def test_forged_or_foreign_action_is_not_ours(assistant: Assistant, action: str) -> None:
    assert assistant.action(action) is None


# -- greeting and help -----------------------------------------------------------------------


def test_welcome_and_help(assistant: Assistant) -> None:
    assert "您好，我是分工助手。" in head(assistant.welcome())
    help_text = render_plain(assistant.help())
    for command in COMMANDS:
        assert f"/{command.name}" in help_text


# -- messages read again -----------------------------------------------------------------


async def test_a_message_read_before_in_its_context_needs_no_worker(
    assistant: Assistant,
) -> None:
    clock = FakeClock(dt.datetime(2025, 3, 1, 9, 0, tzinfo=TZ))
    guard = Guard(workers=1)
    fresh = Assistant(assistant.plan, assistant.lexicon, assistant.engine, guard=guard)
    dialog = Dialog(clock)
    first = [await fresh.converse(m, dialog, "a") for m in ("盲人按摩归谁管", "那卫健委呢")]
    await fresh.converse("人社厅负责哪些任务", dialog, "d")
    # Every worker taken: a message never read is refused at once ...
    release = threading.Event()
    busy = asyncio.ensure_future(guard.run("busy", release.wait))
    await asyncio.sleep(0)
    try:
        assert (await fresh.converse("托养服务", dialog, "b"))[0] == REFUSED
        # ... one read before in the same context is read again, later, in another chat.
        clock.advance(minutes=3)
        again = [await fresh.converse(m, dialog, "c") for m in ("盲人按摩归谁管", "那卫健委呢")]
        assert again == first
        assert first[1] != await assistant.converse("那卫健委呢")  # read in its context
        # In another context the same words are read anew (refused: no worker is free).
        assert (await fresh.converse("那卫健委呢", dialog, "d"))[0] == REFUSED
    finally:
        release.set()
        await busy

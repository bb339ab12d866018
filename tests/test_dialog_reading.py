"""Follow-ups in people's own words (#18): the next task, the same task's next item, narrowing."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.ask.assistant import Assistant
from bot.ask.dialog import Dialog
from bot.clock import TZ
from tests.fakes.clock import FakeClock
from tests.test_dialog import talk


@pytest.fixture
def dialog() -> Dialog:
    return Dialog(FakeClock(dt.datetime(2024, 6, 3, 10, 0, tzinfo=TZ)))


async def test_the_next_task_after_a_task(assistant: Assistant, dialog: Dialog) -> None:
    data = await talk(assistant, dialog, "第二项任务有哪些", "第三项呢")
    assert data["tasks"] == [3]
    assert data["measures"] == ["3.1"]


async def test_the_same_task_s_next_item_after_a_measure(
    assistant: Assistant, dialog: Dialog
) -> None:
    data = await talk(assistant, dialog, "第6项任务第1条是什么", "第2条呢")
    assert data["measures"] == ["6.2"]


async def test_a_full_reference_after_a_task_is_read_alone(
    assistant: Assistant, dialog: Dialog
) -> None:
    data = await talk(assistant, dialog, "第五项任务有哪些", "第伍项第贰条谁负责")
    assert data["measures"] == ["5.2"]


async def test_only_narrows_a_unit_s_list(assistant: Assistant, dialog: Dialog) -> None:
    data = await talk(assistant, dialog, "人社厅有哪些", "只看农村的")
    assert data["units"] == ["人力资源社会保障厅"]
    assert set(data["measures"]) <= {m.id for m in assistant.plan.duties_of("人力资源社会保障厅")}
    assert data["measures"][0] in {"6.1", "6.2", "6.3"}


async def test_a_complete_question_after_a_unit_is_no_follow_up(
    assistant: Assistant, dialog: Dialog
) -> None:
    data = await talk(assistant, dialog, "教育厅负责什么", "盲人按摩归谁管")
    assert data["units"] == []
    assert data["measures"] == ["8.1", "8.2"]


async def test_we_after_saying_who_we_are(assistant: Assistant, dialog: Dialog) -> None:
    data = await talk(assistant, dialog, "我是工商联的", "我们要做啥")
    assert data["units"] == ["省工商联"]
    assert set(data["measures"]) == {m.id for m in assistant.plan.duties_of("省工商联")}

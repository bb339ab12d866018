"""How far a unit has reported (bot/office/status.py): its unreported measures, a task's status."""

from __future__ import annotations

from bot.ask.assistant import Assistant
from bot.office.status import Status, task_status, unreported

HRSS = "人力资源社会保障厅"


def test_unreported_are_the_units_duties_without_a_note(assistant: Assistant) -> None:
    plan = assistant.plan
    duties = [m.id for m in plan.duties_of(HRSS)]
    reported = {HRSS: {"5.1", "11.1"}, "民政厅": {"6.2"}}

    assert [m.id for m in unreported(plan, reported, HRSS)] == [
        d for d in duties if d not in ("5.1", "11.1")
    ]
    # Another unit's notes count for that unit only; a unit without notes owes everything.
    assert "6.2" in [m.id for m in unreported(plan, reported, HRSS)]
    assert [m.id for m in unreported(plan, {}, HRSS)] == duties


def test_unreported_on_one_task(assistant: Assistant) -> None:
    plan = assistant.plan
    task = next(t for t in plan.tasks if any(m.id == "5.1" for m in t.measures))
    ids = [m.id for m in task.measures if plan.is_responsible(HRSS, m)]
    missing = [m.id for m in unreported(plan, {HRSS: {"5.1"}}, HRSS, task)]

    assert missing == [i for i in ids if i != "5.1"]
    assert task_status(plan, {HRSS: {"5.1"}}, HRSS, task) == (
        Status.SOME if missing else Status.ALL,
        len(ids) - len(missing),
        len(ids),
    )

"""How far a unit has reported on a main task: shared by the report's table and the picture."""

from __future__ import annotations

from collections.abc import Mapping, Set
from enum import Enum

from bot.documents.plan import Measure, Plan, Task


class Status(Enum):
    """A unit's reporting on one main task in one year."""

    ALL = "全部报送"
    SOME = "部分报送"
    NONE = "未报送"
    NOT_ITS_TASK = "非责任任务"


def task_measures(plan: Plan, unit: str, task: Task) -> tuple[Measure, ...]:
    """Return the measures of `task` that `unit` must report on, in document order."""
    return tuple(m for m in task.measures if plan.is_responsible(unit, m))


def unreported(
    plan: Plan, reported: Mapping[str, Set[str]], unit: str, task: Task | None = None
) -> list[Measure]:
    """Return `unit`'s measures (on `task`, or all its duties) without a note in `reported`."""
    measures = plan.duties_of(unit) if task is None else task_measures(plan, unit, task)
    done = plan.reported_by(reported, unit)  # a predecessor's notes count for its successor
    return [m for m in measures if m.id not in done]


def task_status(
    plan: Plan, reported: Mapping[str, Set[str]], unit: str, task: Task
) -> tuple[Status, int, int]:
    """Return the status and (reported, responsible) measure counts of `unit` on `task`."""
    measures = task_measures(plan, unit, task)
    done = len(measures) - len(unreported(plan, reported, unit, task))
    if not measures:
        return Status.NOT_ITS_TASK, 0, 0
    if done == len(measures):
        return Status.ALL, done, len(measures)
    return (Status.SOME if done else Status.NONE), done, len(measures)

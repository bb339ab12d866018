"""Examples in help texts and hints, taken from the loaded document so that every one reads right.

The notice's 人社厅, 5.1 or 盲人按摩 mean nothing in a customs document: each example names a
unit, measure, task or topic of the document the person is talking to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.documents.plan import Plan

# A progress note that fits any document's measure.
NOTE_TEXT = "今年已召开专题会议部署，完成年度工作计划"
_UNIT_QUESTION = re.compile(r"(.+?)负责(?:哪些|什么)")
_TOPIC_QUESTION = re.compile(r"(.+?)(?:归谁管|由谁负责|谁负责)")
_TASK_QUESTION = re.compile(r"第(\d+)项任务")


@dataclass(frozen=True)
class Example:
    """A unit, a measure of it, a task and a topic of one document, for example commands."""

    unit: str
    other: str
    measure: str
    task: int
    topic: str
    year: int

    @property
    def note(self) -> str:
        """Return an example /note command."""
        return f"/note {self.measure} {NOTE_TEXT}"


def example(plan: Plan, questions: tuple[str, ...] = ()) -> Example:
    """Return examples from `plan`, preferring what its example `questions` already name."""
    unit = _unit(plan, questions)
    found = next((u for u in plan.units if unit in u.names()), None)
    own = plan.duties_of(found.name) if found else ()
    measure = own[0].id if own else plan.measures[0].id
    # Another ordinary responsible unit: the one with most duties, never the body the units
    # report to (the coordinating committee is nobody's example of /invite or a merger).
    recipient = plan.document.report_to or ""
    others = [
        u
        for u in plan.units
        if u is not found and plan.duties_of(u.name) and not (recipient and u.name in recipient)
    ]
    others.sort(key=lambda u: len(plan.duties_of(u.name)), reverse=True)
    other = _short(plan, others[0].name) if others else unit
    task = next((int(m[1]) for q in questions if (m := _TASK_QUESTION.search(q))), 0)
    if not 1 <= task <= len(plan.tasks):
        task = min(2, len(plan.tasks))
    asked = (_TOPIC_QUESTION.fullmatch(q.rstrip("？?")) for q in questions)
    topic = next((m[1] for m in asked if m), "")
    topic = topic or plan.tasks[0].title[:8]
    return Example(unit, other, measure, task, topic, plan.document.period[1])


def _unit(plan: Plan, questions: tuple[str, ...]) -> str:
    """Return the unit an example question asks about, else the one with most measures."""
    for question in questions:
        m = _UNIT_QUESTION.match(question)
        if m and any(m[1] in u.names() for u in plan.units):
            return m[1]
    busiest = max(plan.units, key=lambda u: len(plan.measures_of(u.name)))
    return _short(plan, busiest.name)


def _short(plan: Plan, name: str) -> str:
    """Return the unit's first short form (人社厅), else its name."""
    unit = plan.unit(name)
    return unit.aliases[0] if unit and unit.aliases else name

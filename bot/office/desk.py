"""What the web console shows, read from a document's office: channel-neutral data.

Who may see what is decided here (`Viewer`), with the chat's roles: a coordinator sees
everything, a member their own unit, anyone else nothing. The web layer only renders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.ask.reporting import reporting_years
from bot.documents.plan import Measure, Task
from bot.office.audit import describe
from bot.office.office import Office
from bot.office.reminders import Reminder, Reminders, schedule
from bot.office.status import Status, task_status
from bot.outcome import Person
from bot.store import AuditEntry, BindRequest, Member, Note

AUDIT_PAGE = 200


@dataclass(frozen=True)
class Viewer:
    """The person looking, and what they may see in one document."""

    person: Person
    coordinator: bool
    unit: str | None  # the unit they are bound to in this document

    def may_see(self, unit: str) -> bool:
        """Tell whether the viewer may see a unit's notes and members."""
        return self.coordinator or unit == self.unit

    @property
    def anything(self) -> bool:
        """Tell whether the viewer may see anything at all."""
        return self.coordinator or self.unit is not None


async def viewer(office: Office, person: Person) -> Viewer:
    """Return what the person may see in the office's document."""
    return Viewer(
        person,
        office.membership.is_coordinator(person),
        await office.membership.unit_of(person),
    )


@dataclass(frozen=True)
class Cell:
    """A unit's reporting on one main task: status and reported/responsible measures."""

    task: Task
    status: Status
    done: int
    total: int


@dataclass(frozen=True)
class Row:
    """A unit's line of the matrix."""

    index: int
    unit: str
    cells: tuple[Cell, ...]
    done: int
    total: int


def years(office: Office) -> tuple[int, ...]:
    """Return the document's reporting years."""
    m = office.membership
    return reporting_years(m.reminders, m.plan)


async def matrix(office: Office, year: int) -> list[Row]:
    """Return units × main tasks for a year, as the progress picture colours them."""
    plan = office.membership.plan
    reported = await office.membership.store.notes.reported_measures(year)
    rows = []
    for index, unit in enumerate(plan.units):
        cells = tuple(
            Cell(task, *task_status(plan, reported, unit.name, task)) for task in plan.tasks
        )
        rows.append(
            Row(
                index,
                unit.name,
                cells,
                sum(c.done for c in cells),
                sum(c.total for c in cells),
            )
        )
    return rows


@dataclass(frozen=True)
class MeasureNotes:
    """A measure a unit answers for, with its notes of the year (newest first)."""

    measure: Measure
    notes: tuple[Note, ...]


async def unit_notes(
    office: Office, unit: str, year: int, task: Task | None = None
) -> list[MeasureNotes]:
    """Return the unit's measures (of one task, or all) with their notes of the year."""
    plan = office.membership.plan
    notes = await office.membership.store.notes.find(unit, year)
    measures = plan.duties_of(unit)
    if task is not None:
        measures = tuple(m for m in measures if m.task == task.number)
    return [
        MeasureNotes(m, tuple(n for n in notes if n.measure_id == m.id)) for m in measures
    ]


async def members(office: Office, unit: str | None = None) -> list[Member]:
    """Return the members (of one unit, or all)."""
    return await office.membership.store.members.bound(unit)


async def pending(office: Office) -> list[BindRequest]:
    """Return the bind requests awaiting a decision."""
    return await office.membership.store.members.pending_requests()


@dataclass(frozen=True)
class AuditLine:
    """One audit entry as people read it."""

    entry: AuditEntry
    text: str


async def audit_lines(
    office: Office, year: int | None, action: str = "", unit: str = "", who: str = ""
) -> list[AuditLine]:
    """Return the audit trail, newest first, filtered by action, unit and actor's name.

    An entry belongs to the year it counts for, else to its date's, as in Audit.entries.
    """
    entries = await office.membership.store.audit.search(year, action, unit, who, AUDIT_PAGE)
    return [AuditLine(e, describe(e)) for e in entries]


@dataclass(frozen=True)
class Sent:
    """A reminder already due, and how it went per unit: delivered / blocked / failed."""

    reminder: Reminder
    by_unit: dict[str, dict[str, int]]


async def reminder_runs(office: Office, reminders: Reminders, now: dt.datetime) -> list[Sent]:
    """Return the reminders due so far (newest first) with their deliveries per unit."""
    store = office.membership.store
    units = {m.user_id: m.unit for m in await store.members.bound()}
    runs = []
    for reminder in reversed(schedule(reminders.config, reminders.years)):
        if reminder.at > now:
            continue
        by_unit: dict[str, dict[str, int]] = {}
        for user, status in (await store.reminders.deliveries(reminder.key)).items():
            counts = by_unit.setdefault(units.get(user, "（已解绑）"), {})
            counts[status] = counts.get(status, 0) + 1
        runs.append(Sent(reminder, by_unit))
    return runs

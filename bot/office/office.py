"""The office: membership, notes and the overview together, and their buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.ask.assistant import Assistant
from bot.clock import Clock, system_clock
from bot.config import ReminderConfig
from bot.office import membership as ms
from bot.office import notes as ns
from bot.office import unitchange as uc
from bot.office.membership import Membership
from bot.office.notes import Notes
from bot.office.overview import PROGRESS_UNIT, Overview
from bot.outcome import Outcome, Person
from bot.store import Store

OFFICE_ACTIONS = frozenset(
    {
        ms.APPROVE,
        ms.REJECT,
        ns.NOTE_ON,
        ns.EDIT,
        ns.DELETE,
        ns.CONFIRM_DELETE,
        ns.KEEP,
        ns.CANCEL,
        PROGRESS_UNIT,
        *uc.ACTIONS,
    }
)


class Office:
    """The parts that bind people, take their notes and show the coordinators the whole."""

    def __init__(
        self,
        assistant: Assistant,
        store: Store,
        coordinators: frozenset[str],
        clock: Clock = system_clock,
        reminders: ReminderConfig | None = None,
        tag: str | None = None,
        label: str = "",
    ) -> None:
        self.membership = Membership(
            assistant, store, coordinators, clock, reminders or ReminderConfig(), tag, label
        )
        self.notes = Notes(self.membership)
        self.overview = Overview(self.membership)
        self.changes = uc.UnitChanges(self.membership)

    async def action(self, person: Person, action: str) -> Outcome | None:
        """Run an office button action; None when the action is not the office's."""
        kind, _, arg = action.partition(":")
        m, n = self.membership, self.notes
        handlers: dict[str, Callable[[], Awaitable[Outcome]]] = {
            ms.APPROVE: lambda: m.decide(person, arg, True),
            ms.REJECT: lambda: m.decide(person, arg, False),
            ns.NOTE_ON: lambda: n.choose_measure(person, arg),
            ns.EDIT: lambda: n.edit(person, arg),
            ns.DELETE: lambda: n.delete(person, arg),
            ns.CONFIRM_DELETE: lambda: n.confirm_delete(person, arg),
            ns.KEEP: lambda: n.keep(person, arg),
            ns.CANCEL: lambda: n.cancel(person),
            PROGRESS_UNIT: lambda: self.overview.progress_unit(person, arg),
            uc.CONFIRM: lambda: self.changes.confirm(person, arg),
            uc.DROP: lambda: self.changes.drop(person, arg),
            uc.UNDO: lambda: self.changes.undo(person, arg),
        }
        run = handlers.get(kind)
        return await run() if run else None

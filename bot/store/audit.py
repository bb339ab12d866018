"""The audit trail: who changed what, when; written in the transaction of the change it records.

An entry never holds a note's text (the notes table keeps that).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Self

from bot.store.database import Connection, Row
from bot.store.repository import Repository, iso, time

# An entry belongs to the year it counts for (a note's), else to the year of its date.
_OF_YEAR = (
    "(CAST(? AS INTEGER) IS NULL OR COALESCE(year, CAST(substr(at, 1, 4) AS INTEGER)) = ?)"
)


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit trail: who did what to which object, and when."""

    id: int
    at: dt.datetime
    actor_id: str
    actor_name: str
    action: str
    unit: str
    subject: str

    @classmethod
    def from_row(cls, row: Row) -> Self:
        """Build from an `audit` row."""
        return cls(
            id=row["id"],
            at=time(row["at"]),
            actor_id=row["actor_id"],
            actor_name=row["actor_name"],
            action=row["action"],
            unit=row["unit"],
            subject=row["subject"],
        )


async def log(
    tx: Connection,
    doc: str,
    now: str,
    actor_id: str,
    action: str,
    unit: str = "",
    subject: str = "",
    name: str | None = None,
    year: int | None = None,
) -> None:
    """Record an action inside the caller's transaction; no `name`: the name last seen.

    `year`: the reporting year it counts for, when not the year of `now`.
    """
    await tx.execute(
        "INSERT INTO audit (doc, at, actor_id, actor_name, action, unit, subject, year) "
        "VALUES (?, ?, ?, COALESCE(?, (SELECT name FROM users WHERE id = ?), ''), ?, ?, ?, ?)",
        (doc, now, actor_id, name, actor_id, action, unit, subject, year),
    )


async def log_note(tx: Connection, doc: str, now: str, action: str, note: Row) -> None:
    """Record a change to a note: which one, on which measure, never its text."""
    subject = f"记录 #{note['id']}，举措 {note['measure_id']}（{note['year']} 年）"
    await log(
        tx, doc, now, note["author_id"], action, note["unit"], subject, note["author_name"],
        note["year"],
    )  # fmt: skip


class Audit(Repository):
    """The document's audit trail."""

    async def record(
        self,
        actor_id: str,
        actor_name: str,
        action: str,
        unit: str = "",
        subject: str = "",
        year: int | None = None,
    ) -> None:
        """Add an audit entry for an action that changes nothing stored (a chase-up, an export)."""
        now = iso(self.now())
        async with self.db.transaction() as tx:
            await log(tx, self.doc, now, actor_id, action, unit, subject, actor_name, year)

    async def entries(
        self, limit: int | None = None, year: int | None = None
    ) -> list[AuditEntry]:
        """Return the audit trail (of one year, or all), newest first, at most `limit` entries.

        An entry belongs to the year it counts for (a note's), else to the year of its date.
        """
        rows = await self.db.fetch(
            f"SELECT * FROM audit WHERE doc = ? AND {_OF_YEAR} ORDER BY at DESC, id DESC"
            + ("" if limit is None else " LIMIT ?"),
            (self.doc, year, year, *(() if limit is None else (limit,))),
        )
        return [AuditEntry.from_row(row) for row in rows]

    async def search(
        self, year: int | None, action: str, unit: str, who: str, limit: int
    ) -> list[AuditEntry]:
        """Return a page of the trail, newest first: of one year (None: all), action (and its
        sub-actions), unit and actor's name (a part of it); "" filters nothing."""
        # Filtered in SQL, newest first by the (at, id) index: a page reads `limit` rows, not
        # the whole year's trail. A name's part: instr in SQLite, strpos in PostgreSQL.
        contains = "instr" if self.db.dialect == "sqlite" else "strpos"
        rows = await self.db.fetch(
            f"SELECT * FROM audit WHERE doc = ? AND {_OF_YEAR} "
            "AND (? = '' OR action = ? OR action LIKE ? || '.%') AND (? = '' OR unit = ?) "
            f"AND (? = '' OR {contains}(actor_name, ?) > 0) ORDER BY at DESC, id DESC LIMIT ?",
            (
                self.doc, year, year,
                action, action, action, unit, unit, who, who, limit,
            ),
        )  # fmt: skip
        return [AuditEntry.from_row(row) for row in rows]

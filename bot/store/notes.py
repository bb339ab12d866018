"""Notes and note flows of one document: the progress notes units file, and the note (or edit)
awaiting a member's next message.

A note belongs to the document's `edition` (its number), when one is given; notes filed on an
earlier document of the same folder are `earlier`. A note records the delivery it came from
(`origin`), so that handling a delivery again after a crash files no second note.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Literal, Self

from bot.clock import Clock
from bot.store.audit import log_note
from bot.store.chats import tenure
from bot.store.database import Connection, Database, Row
from bot.store.errors import Changed, NotAuthor, NotFound
from bot.store.repository import Repository, iso, maybe_time, time

FlowKind = Literal["note", "edit"]

FLOWLESS_KEPT = 100_000  # people remembered to have no note flow, before starting afresh
# The stored delivery (an inbox row, "inbox:<id>") whose handling is under way: a note it
# files is tied to it, so that handling it again after a crash finds the note, not a new one.
origin: contextvars.ContextVar[str | None] = contextvars.ContextVar("origin", default=None)
# True while the delivery being handled is known to have filed no note (the inbox read that
# when it fetched it): `filed_here` need not ask.
unfiled: contextvars.ContextVar[bool] = contextvars.ContextVar("unfiled", default=False)

# A note of the store's edition (or of any, when the store has none; a note from before
# editions were recorded counts as the folder's current one), or of another: two parameters,
# the edition twice.
_THIS_EDITION = "(? = '' OR edition IN ('', ?))"
_OTHER_EDITION = "(? != '' AND edition NOT IN ('', ?))"


def text_version(text: str) -> str:
    """A note text's version: 8 hex digits of its digest (an edit back to it is the same)."""
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:8]


@dataclass(frozen=True)
class Note:
    """A unit's progress note on one measure for one year."""

    id: int
    unit: str
    measure_id: str
    year: int
    author_id: str
    author_name: str
    text: str
    created_at: dt.datetime
    # None until the note is first edited.
    updated_at: dt.datetime | None
    deleted_at: dt.datetime | None
    deleted_by: str | None
    # The number of the document it was filed on ("" if filed before that was recorded).
    edition: str = ""

    @property
    def deleted(self) -> bool:
        """Return True if the note was (soft-)deleted."""
        return self.deleted_at is not None

    @property
    def version(self) -> str:
        """Return a short digest of the text: what a confirmation shown with it confirms."""
        return text_version(self.text)

    @classmethod
    def from_row(cls, row: Row) -> Self:
        """Build from a `notes` row."""
        return cls(
            id=row["id"],
            unit=row["unit"],
            measure_id=row["measure_id"],
            year=row["year"],
            author_id=row["author_id"],
            author_name=row["author_name"],
            text=row["text"],
            created_at=time(row["created_at"]),
            updated_at=maybe_time(row["updated_at"]),
            deleted_at=maybe_time(row["deleted_at"]),
            deleted_by=row["deleted_by"],
            edition=row["edition"],
        )


@dataclass(frozen=True)
class Flow:
    """A note or edit awaiting the person's next message."""

    user_id: str
    kind: FlowKind
    target: str  # measure id, or note id for an edit
    unit: str  # the person's unit when the flow started
    started_at: dt.datetime

    @classmethod
    def from_row(cls, row: Row) -> Self:
        """Build from a `flows` row."""
        return cls(
            user_id=row["user_id"],
            kind=row["kind"],
            target=row["target"],
            unit=row["unit"],
            started_at=time(row["started_at"]),
        )


async def end_flow(tx: Connection, doc: str, user_id: str) -> Row | None:
    """End the person's flow in document `doc` inside the caller's transaction."""
    return await tx.fetchrow(
        "DELETE FROM flows WHERE user_id = ? AND doc = ? RETURNING *", (user_id, doc)
    )


class Flowless:
    """People (with the document) read to have no note flow, remembered by this process.

    Every private message asks for its sender's flow and only `Flows.start` makes one, so that
    read is not repeated. Valid only while this process is the one writer of flows (SQLite's
    single process, not several instances on one server).
    """

    def __init__(self) -> None:
        self.absent: set[tuple[str, str]] = set()
        self.starts = 0  # flows started or starting: a read they overlap remembers nothing


class Flows(Repository):
    """The note or edit each person's next message is read as (one per person)."""

    def __init__(
        self, db: Database, clock: Clock, doc: str = "", flowless: Flowless | None = None
    ) -> None:
        super().__init__(db, clock, doc)
        self._flowless = flowless if db.dialect == "sqlite" else None

    async def start(self, user_id: str, kind: FlowKind, target: str, unit: str) -> Flow:
        """Await the person's next message as a note or edit, replacing any earlier flow."""
        now = iso(self.now())
        memory = self._flowless
        if memory is not None:
            memory.starts += 1
        held = tenure.get()
        if held is not None:
            held.flowless.discard((user_id, self.doc))
        try:
            async with self.db.transaction() as tx:
                row = await tx.fetchrow(
                    "INSERT INTO flows (doc, user_id, kind, target, unit, started_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
                    "doc = excluded.doc, kind = excluded.kind, target = excluded.target, "
                    "unit = excluded.unit, started_at = excluded.started_at RETURNING *",
                    (self.doc, user_id, kind, target, unit, now),
                )
        finally:
            if memory is not None:
                # Forgotten once the row is committed; a read that began before is not kept
                # (`starts` moved on while it ran).
                memory.absent.discard((user_id, self.doc))
                memory.starts += 1
        assert row is not None
        return Flow.from_row(row)

    async def get(self, user_id: str) -> Flow | None:
        """Return the person's flow, expired or not, or None."""
        key, memory = (user_id, self.doc), self._flowless
        if memory is not None and key in memory.absent:
            return None
        # Under the lease of the person's private chat, only its handling here starts a flow.
        held = tenure.get()
        if held is not None and held.open and key in held.flowless:
            return None
        starts = None if memory is None else memory.starts
        row = await self.db.fetchrow(
            "SELECT * FROM flows WHERE user_id = ? AND doc = ?", (user_id, self.doc)
        )
        if row is not None:
            return Flow.from_row(row)
        if held is not None and held.open:
            held.flowless.add(key)
        if memory is not None and memory.starts == starts:
            if len(memory.absent) >= FLOWLESS_KEPT:
                memory.absent.clear()
            memory.absent.add(key)
        return None

    async def end(self, user_id: str) -> Flow | None:
        """End the person's flow and return it, or None if there was none."""
        async with self.db.transaction() as tx:
            row = await end_flow(tx, self.doc, user_id)
        return None if row is None else Flow.from_row(row)


class Notes(Repository):
    """The document's progress notes (see the module's docstring)."""

    async def add(
        self,
        unit: str,
        measure_id: str,
        year: int,
        author_id: str,
        author_name: str,
        text: str,
        *,
        ends_flow: bool = False,
    ) -> Note:
        """Store a note; it is committed (and synced to disk) when this returns.

        `ends_flow`: the note is the text the author's flow awaited, which ends with it.
        """
        now, source = iso(self.now()), origin.get()
        async with self.db.transaction() as tx:
            if ends_flow:
                await end_flow(tx, self.doc, author_id)
            row = await tx.fetchrow("SELECT * FROM notes WHERE origin = ?", (source,))
            if row is None:  # not filed by an earlier try of the same delivery
                row = await tx.fetchrow(
                    "INSERT INTO notes (doc, edition, unit, measure_id, year, author_id, "
                    "author_name, text, created_at, origin) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                    (
                        self.doc,
                        self.edition,
                        unit,
                        measure_id,
                        year,
                        author_id,
                        author_name,
                        text,
                        now,
                        source,
                    ),
                )
                assert row is not None
                await log_note(tx, self.doc, now, "note.add", row)
        return Note.from_row(row)

    async def filed_here(self) -> Note | None:
        """Return the note the delivery being handled (`origin`) filed already, if any."""
        source = origin.get()
        if source is None or unfiled.get():
            return None
        row = await self.db.fetchrow("SELECT * FROM notes WHERE origin = ?", (source,))
        return None if row is None else Note.from_row(row)

    async def get(self, note_id: int) -> Note | None:
        """Return the note, deleted or not (see `Note.deleted`), or None."""
        row = await self.db.fetchrow(
            "SELECT * FROM notes WHERE id = ? AND doc = ?", (note_id, self.doc)
        )
        return None if row is None else Note.from_row(row)

    async def _own_live_note(
        self, tx: Connection, note_id: int, author_id: str, version: str | None = None
    ) -> None:
        """Raise unless the note exists, is not deleted and was written by `author_id`, and
        (Changed) unless its text is still of `version` when one is given."""
        row = await tx.fetchrow(
            "SELECT author_id, deleted_at, text FROM notes WHERE id = ? AND doc = ?",
            (note_id, self.doc),
        )
        if row is None or row["deleted_at"] is not None:
            raise NotFound("找不到这条记录，它可能已被删除。")
        if row["author_id"] != author_id:
            raise NotAuthor()
        if version is not None and text_version(row["text"]) != version:
            raise Changed()

    async def edit(
        self,
        note_id: int,
        author_id: str,
        text: str,
        *,
        ends_flow: bool = False,
        version: str | None = None,
    ) -> Note:
        """Replace a note's text; only its author may, not once it is deleted, and (Changed)
        not when its text is no longer of `version` (the one the edit was started on)."""
        now = iso(self.now())
        async with self.db.transaction() as tx:
            if ends_flow:
                await end_flow(tx, self.doc, author_id)
            await self._own_live_note(tx, note_id, author_id, version)
            row = await tx.fetchrow(
                "UPDATE notes SET text = ?, updated_at = ? WHERE id = ? RETURNING *",
                (text, now, note_id),
            )
            assert row is not None
            await log_note(tx, self.doc, now, "note.edit", row)
        return Note.from_row(row)

    async def delete(self, note_id: int, author_id: str, version: str | None = None) -> Note:
        """Soft-delete a note (it stays in the table, marked deleted); only its author may,
        and (Changed) not when its text is no longer of `version` (the one confirmed)."""
        now = iso(self.now())
        async with self.db.transaction() as tx:
            await self._own_live_note(tx, note_id, author_id, version)
            row = await tx.fetchrow(
                "UPDATE notes SET deleted_at = ?, deleted_by = ? WHERE id = ? RETURNING *",
                (now, author_id, note_id),
            )
            assert row is not None
            await log_note(tx, self.doc, now, "note.delete", row)
        return Note.from_row(row)

    async def find(
        self, unit: str | None = None, year: int | None = None, include_deleted: bool = False
    ) -> list[Note]:
        """Return notes of this edition (optionally of one unit and/or year), newest first."""
        return await self._find(_THIS_EDITION, unit, year, include_deleted)

    async def earlier(
        self, unit: str | None = None, year: int | None = None, include_deleted: bool = False
    ) -> list[Note]:
        """Return notes filed on an earlier document of this folder, newest first."""
        if not self.edition:
            return []
        return await self._find(_OTHER_EDITION, unit, year, include_deleted)

    async def _find(
        self, which: str, unit: str | None, year: int | None, include_deleted: bool
    ) -> list[Note]:
        rows = await self.db.fetch(
            f"SELECT * FROM notes WHERE doc = ? AND {which} "
            "AND (CAST(? AS TEXT) IS NULL OR unit = ?) "
            "AND (CAST(? AS INTEGER) IS NULL OR year = ?) AND (? OR deleted_at IS NULL) "
            "ORDER BY created_at DESC, id DESC",
            (self.doc, self.edition, self.edition, unit, unit, year, year, include_deleted),
        )
        return [Note.from_row(row) for row in rows]

    async def claim(self, former: str = "") -> int:
        """Record this edition on the folder's notes filed before editions were recorded.

        With `former`, also on the notes of that edition: the same document, renumbered (a
        re-import that found its number where it had taken its title).
        """
        if not self.edition:
            return 0
        async with self.db.transaction() as tx:
            return await tx.execute(
                "UPDATE notes SET edition = ? WHERE doc = ? AND edition IN ('', ?)",
                (self.edition, self.doc, former),
            )

    async def reported_measures(self, year: int) -> dict[str, set[str]]:
        """Map each unit to the measures it has at least one live note on for `year`."""
        rows = await self.db.fetch(
            "SELECT DISTINCT unit, measure_id FROM notes "
            f"WHERE doc = ? AND {_THIS_EDITION} AND year = ? AND deleted_at IS NULL",
            (self.doc, self.edition, self.edition, year),
        )
        reported: dict[str, set[str]] = {}
        for row in rows:
            reported.setdefault(row["unit"], set()).add(row["measure_id"])
        return reported

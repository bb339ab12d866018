"""Reminders' bookkeeping: whom each reminder went to (deliveries and their parts), the notices
owed to people, and small state keys.

A document's reminder and state keys are stored prefixed "<doc>/"; a folder name has no "/",
so no document's key can look like another's. Notices are not per document.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Self

from bot.store.database import Connection, Row
from bot.store.repository import CHUNK, Repository, iso, marks, time

DeliveryStatus = Literal["pending", "sent", "failed", "blocked"]


@dataclass(frozen=True)
class StoredNotice:
    """A message owed to someone: what to say (`kind` and its `payload`), and whether it went."""

    id: int
    user_id: str
    kind: str
    payload: dict[str, Any]
    status: DeliveryStatus
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: Row) -> Self:
        """Build from a `notices` row."""
        return cls(
            id=row["id"],
            user_id=row["user_id"],
            kind=row["kind"],
            payload=json.loads(row["payload"]),
            status=row["status"],
            created_at=time(row["created_at"]),
        )


class Keyed(Repository):
    """A repository whose keys are the document's own."""

    def key(self, key: str) -> str:
        """Return a reminder or state key as stored: a document's own beside the others'."""
        return f"{self.doc}/{key}" if self.doc else key


class Reminders(Keyed):
    """Each reminder's deliveries: who is due, who got which parts, with what outcome."""

    async def plan(self, reminder_key: str, user_ids: Iterable[str]) -> None:
        """Record that a reminder is due to these users (existing rows are left as they are)."""
        now, key = iso(self.now()), self.key(reminder_key)
        users = list(user_ids)
        async with self.db.transaction() as tx:
            for start in range(0, len(users), CHUNK):
                chunk = users[start : start + CHUNK]
                await tx.execute(
                    "INSERT INTO deliveries (reminder_key, user_id, status, updated_at) "
                    f"VALUES {marks(len(chunk), 4)} "
                    "ON CONFLICT (reminder_key, user_id) DO NOTHING",
                    [v for user_id in chunk for v in (key, user_id, "pending", now)],
                )

    async def pending(self, reminder_key: str) -> list[str]:
        """Return the users the reminder has still to be sent to, ordered by id."""
        rows = await self.db.fetch(
            "SELECT user_id FROM deliveries WHERE reminder_key = ? AND status = 'pending' "
            "ORDER BY user_id",
            (self.key(reminder_key),),
        )
        return [row["user_id"] for row in rows]

    async def pending_parts(self, reminder_key: str) -> dict[str, int]:
        """Map each user the reminder has still to be sent to the parts they already got."""
        rows = await self.db.fetch(
            "SELECT user_id, parts FROM deliveries WHERE reminder_key = ? AND status = 'pending' "
            "ORDER BY user_id",
            (self.key(reminder_key),),
        )
        return {row["user_id"]: int(row["parts"]) for row in rows}

    async def record_part(
        self, reminder_key: str, part: int, results: dict[str, DeliveryStatus]
    ) -> None:
        """Record, in one transaction, that part `part` went to the users answered "sent" (and
        that the others are done with their status)."""
        now = iso(self.now())
        key = self.key(reminder_key)
        async with self.db.transaction() as tx:
            for user_id, status in results.items():
                await tx.execute(
                    "INSERT INTO deliveries (reminder_key, user_id, status, attempts, parts, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (reminder_key, user_id) DO UPDATE SET status = excluded.status, "
                    "attempts = deliveries.attempts + excluded.attempts, parts = excluded.parts, "
                    "updated_at = excluded.updated_at",
                    (
                        key,
                        user_id,
                        "pending" if status == "sent" else status,
                        0 if status == "sent" else 1,
                        part + 1 if status == "sent" else part,
                        now,
                    ),
                )

    async def mark(self, reminder_key: str, user_id: str, status: DeliveryStatus) -> None:
        """Record an attempt to deliver the reminder and its outcome."""
        now = iso(self.now())
        async with self.db.transaction() as tx:
            # An upsert, not a bare UPDATE: a message that went out must be recorded even if
            # it was never planned, or it could be sent again.
            await tx.execute(
                "INSERT INTO deliveries (reminder_key, user_id, status, attempts, updated_at) "
                "VALUES (?, ?, ?, 1, ?) ON CONFLICT (reminder_key, user_id) DO UPDATE SET "
                "status = excluded.status, attempts = deliveries.attempts + 1, "
                "updated_at = excluded.updated_at",
                (self.key(reminder_key), user_id, status, now),
            )

    async def deliveries(self, reminder_key: str) -> dict[str, str]:
        """Map each user the reminder concerns to its delivery status."""
        rows = await self.db.fetch(
            "SELECT user_id, status FROM deliveries WHERE reminder_key = ? ORDER BY user_id",
            (self.key(reminder_key),),
        )
        return {row["user_id"]: row["status"] for row in rows}

    async def attempts(self, reminder_key: str, user_id: str) -> int:
        """Return how many delivery attempts were recorded (0 if none)."""
        row = await self.db.fetchrow(
            "SELECT attempts FROM deliveries WHERE reminder_key = ? AND user_id = ?",
            (self.key(reminder_key), user_id),
        )
        return 0 if row is None else int(row["attempts"])

    async def keys(self) -> set[str]:
        """Return the reminders (of this document) that have any delivery rows."""
        rows = await self.db.fetch("SELECT DISTINCT reminder_key FROM deliveries")
        keys = {str(row["reminder_key"]) for row in rows}
        if not self.doc:  # the root's keys have no "/" prefix
            return {k for k in keys if "/" not in k}
        return {k.removeprefix(self.key("")) for k in keys if k.startswith(self.key(""))}


class State(Keyed):
    """Small values kept under a key (the document's own)."""

    async def get(self, key: str) -> str | None:
        """Return a stored value, or None."""
        row = await self.db.fetchrow("SELECT value FROM state WHERE key = ?", (self.key(key),))
        return None if row is None else str(row["value"])

    async def set(self, key: str, value: str) -> None:
        """Store a value under `key`, replacing any previous one."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (self.key(key), value),
            )


async def add_notice(
    tx: Connection, user_id: str, kind: str, payload: dict[str, Any], now: str
) -> None:
    """Record a notice owed to `user_id` inside the caller's transaction."""
    await tx.execute(
        "INSERT INTO notices (user_id, kind, payload, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (user_id, kind, json.dumps(payload, ensure_ascii=False), now, now),
    )


class Notices(Repository):
    """Messages owed to people, marked sent once the channel accepted them."""

    async def pending(self, user_id: str | None = None) -> list[StoredNotice]:
        """Return the notices not yet sent (to one person, or to anyone), oldest first."""
        rows = await self.db.fetch(
            "SELECT * FROM notices WHERE status = 'pending' "
            "AND (CAST(? AS TEXT) IS NULL OR user_id = ?) "
            "ORDER BY id",
            (user_id, user_id),
        )
        return [StoredNotice.from_row(row) for row in rows]

    async def get(self, notice_id: int) -> StoredNotice | None:
        """Return the notice, or None."""
        row = await self.db.fetchrow("SELECT * FROM notices WHERE id = ?", (notice_id,))
        return None if row is None else StoredNotice.from_row(row)

    async def mark(self, notice_id: int, status: DeliveryStatus) -> None:
        """Record an attempt to deliver the notice and its outcome."""
        now = iso(self.now())
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE notices SET status = ?, attempts = attempts + 1, updated_at = ? "
                "WHERE id = ?",
                (status, now, notice_id),
            )

"""Durable intake: what a channel delivered, stored with its de-duplication key before it is
acknowledged, and kept until it is handled (the inbox and callbacks tables, bot/inbox.py).

A key is kept a day, so that a callback WeCom delivers again after a restart is still known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Self

from bot.store.database import Connection, Row
from bot.store.repository import CHUNK, Repository, iso, marks, time

# How long storing a delivered callback waits for another writer's lock: WeCom waits 5 s for
# its answer, so a locked database must be answered 503 (deliver again) well before that.
INTAKE_BUSY_MS = 2000


@dataclass(frozen=True)
class Delivery:
    """What a channel delivered, stored before it was acknowledged and until it is handled."""

    id: int
    channel: str
    member: str  # whose messages are handled in order
    body: str
    arrived: dt.datetime

    @classmethod
    def from_row(cls, row: Row) -> Self:
        """Build from an `inbox` row."""
        return cls(
            id=row["id"],
            channel=row["channel"],
            member=row["member"],
            body=row["body"],
            arrived=time(row["arrived_at"]),
        )


class Callbacks(Repository):
    """The inbox of deliveries not yet handled, and the keys of those already taken."""

    TTL: ClassVar[dt.timedelta] = dt.timedelta(days=1)
    PURGE_EVERY: ClassVar[dt.timedelta] = dt.timedelta(hours=1)
    _purged: dt.datetime | None = None

    async def take(
        self, channel: str, items: Sequence[tuple[str, str, str]], handled: Sequence[int] = ()
    ) -> list[Delivery | None]:
        """Store delivered items (key, member, body) in one transaction, each with its key,
        and forget the deliveries `handled` (by id) in the same one.

        Returns, for each item, its inbox row, or None when its key was already taken (a
        repeat). Committed to disk when this returns: the channel may then be acknowledged.
        """
        now = self.now()
        last = self._purged
        purge = last is None or now - last >= self.PURGE_EVERY
        taken: list[Delivery | None] = []
        async with self.db.transaction(INTAKE_BUSY_MS) as tx:
            if purge:  # in the same transaction: the acknowledgement waits for no other lock
                self._purged = now
                await tx.execute("DELETE FROM callbacks WHERE seen_at < ?", (iso(now - self.TTL),))
            for start in range(0, len(handled), CHUNK):
                chunk = handled[start : start + CHUNK]
                await tx.execute(
                    f"DELETE FROM inbox WHERE id IN ({', '.join('?' for _ in chunk)})", chunk
                )
            # Two statements a chunk, not two an item: the acknowledgement waits for them.
            for start in range(0, len(items), CHUNK):
                taken += await self._take(tx, channel, items[start : start + CHUNK], iso(now))
        return taken

    async def _take(
        self, tx: Connection, channel: str, items: Sequence[tuple[str, str, str]], now: str
    ) -> list[Delivery | None]:
        """Insert the keys of `items`, then those not seen before into the inbox."""
        keys = await tx.fetch(
            f"INSERT INTO callbacks (key, seen_at) VALUES {marks(len(items), 2)} "
            "ON CONFLICT (key) DO NOTHING RETURNING key",
            [value for key, _, _ in items for value in (key, now)],
        )
        new = {row["key"] for row in keys}
        fresh = []
        for index, (key, _, _) in enumerate(items):
            if key in new:  # the first of two equal keys in one batch is the one taken
                new.discard(key)
                fresh.append(index)
        taken: list[Delivery | None] = [None] * len(items)
        if not fresh:
            return taken
        rows = await tx.fetch(
            f"INSERT INTO inbox (channel, member, body, arrived_at) VALUES {marks(len(fresh), 4)}"
            " RETURNING *",
            [v for i in fresh for v in (channel, items[i][1], items[i][2], now)],
        )
        # Ids are given in the order of VALUES (RETURNING's own order is not promised).
        for index, row in zip(fresh, sorted(rows, key=lambda r: int(r["id"])), strict=True):
            taken[index] = Delivery.from_row(row)
        return taken

    async def waiting(self, channel: str) -> list[Delivery]:
        """Return the channel's stored deliveries not handled yet, oldest first."""
        rows = await self.db.fetch("SELECT * FROM inbox WHERE channel = ? ORDER BY id", (channel,))
        return [Delivery.from_row(row) for row in rows]

    async def forget(self, before: dt.datetime) -> int:
        """Delete the callback keys seen before `before`; return how many."""
        async with self.db.transaction() as tx:
            return await tx.execute("DELETE FROM callbacks WHERE seen_at < ?", (iso(before),))

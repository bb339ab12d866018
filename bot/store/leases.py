"""Leases: work that one instance of several on one database does at a time.

A lease is a name held by an owner (an instance's name) until a time. Whoever finds it free,
lapsed (its holder died) or already its own takes it; the holder renews it while it works and
gives it up when done. The reminder fan-outs run under one (bot/scheduler.py, the chase-ups of
bot/office/reminders.py). A pace is a row of the same table whose time is the next free slot of
something all instances share, a channel's rate per app (handlers/telegram/pace.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator

from bot.store.repository import Repository, iso, time


class Leases(Repository):
    """The leases of the database (not per document)."""

    async def claim(self, name: str, owner: str, ttl: dt.timedelta) -> bool:
        """Take or renew lease `name` for `owner` until now + ttl; False while another holds it."""
        now = self.now()
        async with self.db.transaction() as tx:
            row = await tx.fetchrow(
                "INSERT INTO leases (name, owner, until) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until "
                "WHERE leases.owner = excluded.owner OR leases.until <= ? RETURNING owner",
                (name, owner, iso(now + ttl), iso(now)),
            )
        return row is not None

    async def pace(
        self, name: str, gap: dt.timedelta, now: dt.datetime | None = None, count: int = 1
    ) -> dt.datetime:
        """Reserve the next `count` slots of pace `name`, `gap` apart, after the last one
        reserved by anyone (or from `now`, by default the store's clock, when it is past);
        return when the first begins."""
        now = self.now() if now is None else now
        async with self.db.transaction() as tx:
            if self.db.dialect == "postgres":
                # A slot is worthless after a crash: its commit need not wait for the disk
                # (one a message sent).
                await tx.execute("SET LOCAL synchronous_commit = off")
            # Writes are one at a time (BEGIN IMMEDIATE, PostgreSQL's writer lock): no one
            # else reserves between the read and the write.
            last = await tx.fetchval("SELECT until FROM leases WHERE name = ?", (name,))
            start = now if last is None else max(now, time(last))
            await tx.execute(
                "INSERT INTO leases (name, owner, until) VALUES (?, '', ?) "
                "ON CONFLICT (name) DO UPDATE SET until = excluded.until",
                (name, iso(start + count * gap)),
            )
        return start

    async def release(self, name: str, owner: str) -> None:
        """Give lease `name` up, if `owner` holds it."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

    @contextlib.asynccontextmanager
    async def keep(self, name: str, owner: str, ttl: dt.timedelta) -> AsyncIterator[None]:
        """Renew lease `name`, claimed by `owner`, while the block runs; give it up after.

        A block cancelled (a stop, a crash) keeps the lease until it lapses: the work it left
        is resumed by whoever takes the lease next.
        """
        renew = asyncio.create_task(self._renew(name, owner, ttl), name=f"lease {name}")
        ended = False
        try:
            yield
            ended = True
        except Exception:
            ended = True
            raise
        finally:
            # Stopped before the lease is given up: a renewal after it would take it again.
            renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renew
            if ended:
                with contextlib.suppress(Exception):  # lapses by itself otherwise
                    await self.release(name, owner)

    async def _renew(self, name: str, owner: str, ttl: dt.timedelta) -> None:
        """Renew the lease a few times a ttl (a long fan-out outlasts one)."""
        while True:
            await asyncio.sleep(ttl.total_seconds() / 3)
            with contextlib.suppress(Exception):
                await self.claim(name, owner, ttl)

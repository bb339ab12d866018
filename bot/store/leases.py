"""Leases: work that one instance of several on one database does at a time.

A lease is a name held by an owner (an instance's name) until a time. Whoever finds it free,
lapsed (its holder died) or already its own takes it; the holder renews it while it works and
gives it up when done. The reminder checks run under one (bot/scheduler.py).
"""

from __future__ import annotations

import datetime as dt

from bot.store.repository import Repository, iso


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

    async def release(self, name: str, owner: str) -> None:
        """Give lease `name` up, if `owner` holds it."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

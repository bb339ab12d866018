"""The web console's one-time login links and sessions (bot/office/weblogin.py decides them).

Kept by the SHA-256 of each token, never the token: a copy of the database opens nobody's
session. Not per document: a login is the person's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.store.repository import Repository, iso, time


@dataclass(frozen=True)
class SessionRow:
    """A stored session: whose it is, its forms' token, and its last request."""

    user_id: str
    name: str
    csrf: str
    seen_at: dt.datetime


class WebLogins(Repository):
    """Login links and sessions, by their tokens' hashes."""

    async def add_link(
        self, key: str, user_id: str, name: str, ttl: dt.timedelta, most: int
    ) -> bool:
        """Store a link valid for `ttl`, unless the person made `most` within `ttl` (False)."""
        now = self.now()
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM web_links WHERE expires_at < ?", (iso(now - ttl),))
            made = await tx.fetchval(
                "SELECT count(*) FROM web_links WHERE user_id = ? AND created_at > ?",
                (user_id, iso(now - ttl)),
            )
            if made is not None and made >= most:
                return False
            await tx.execute(
                "INSERT INTO web_links (hash, user_id, name, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, user_id, name, iso(now), iso(now + ttl)),
            )
        return True

    async def use_link(self, key: str) -> tuple[str, str] | None:
        """Use a link once: its person (id, name), or None when unknown, used or expired."""
        now = iso(self.now())
        async with self.db.transaction() as tx:
            row = await tx.fetchrow(
                "UPDATE web_links SET used_at = ? WHERE hash = ? AND used_at IS NULL "
                "AND expires_at > ? RETURNING user_id, name",
                (now, key, now),
            )
        return None if row is None else (row["user_id"], row["name"])

    async def add_session(
        self, key: str, user_id: str, name: str, csrf: str, idle: dt.timedelta
    ) -> None:
        """Store a session, forgetting those idle longer than `idle`."""
        now = self.now()
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM web_sessions WHERE seen_at < ?", (iso(now - idle),))
            await tx.execute(
                "INSERT INTO web_sessions (hash, user_id, name, csrf, seen_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, user_id, name, csrf, iso(now)),
            )

    async def session(self, key: str) -> SessionRow | None:
        """Return the stored session, or None."""
        row = await self.db.fetchrow("SELECT * FROM web_sessions WHERE hash = ?", (key,))
        if row is None:
            return None
        return SessionRow(row["user_id"], row["name"], row["csrf"], time(row["seen_at"]))

    async def touch(self, key: str) -> None:
        """Record a request of the session now."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE web_sessions SET seen_at = ? WHERE hash = ?", (iso(self.now()), key)
            )

    async def close_session(self, key: str) -> None:
        """End a session."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM web_sessions WHERE hash = ?", (key,))

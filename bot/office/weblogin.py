"""The web console's logins: one-time links from `/web`, and the sessions they open.

Kept in the database (by the SHA-256 of each token, never the token), so that several
instances can share them. A link is valid 10 minutes, once, for the person it was made for;
a person gets at most 5 links in 10 minutes. A session ends after 8 hours without a request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from bot.outcome import Outcome, Person, say
from bot.store import Store, _iso, _time

LINK_TTL = dt.timedelta(minutes=10)
LINKS_PER_WINDOW = 5
SESSION_IDLE = dt.timedelta(hours=8)
# A session's last request is written at most this often: not every page view costs a write.
TOUCH_EVERY = dt.timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    """A logged-in browser: whose it is, and the token its forms must carry."""

    person: Person
    csrf: str
    seen_at: dt.datetime


class WebLogins:
    """Login links and sessions on the store's connection (see the module's docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def issue(self, person: Person) -> str | None:
        """Make a login link's token for the person; None when they asked too often."""
        store = self.store
        now = store._now()
        async with store._write():
            await store._db.execute(
                "DELETE FROM web_links WHERE expires_at < ?", (_iso(now - LINK_TTL),)
            )
            row = await store._one(
                "SELECT count(*) AS n FROM web_links WHERE user_id = ? AND created_at > ?",
                (person.id, _iso(now - LINK_TTL)),
            )
            if row is not None and row["n"] >= LINKS_PER_WINDOW:
                return None
            # Hex: no character any channel's markup escapes ("_" in WeCom's markdown).
            token = secrets.token_hex(20)
            await store._db.execute(
                "INSERT INTO web_links (hash, user_id, name, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (_hash(token), person.id, person.name, _iso(now), _iso(now + LINK_TTL)),
            )
        return token

    async def redeem(self, token: str) -> Person | None:
        """Use a link once: its person, or None when it is unknown, used or expired."""
        store = self.store
        now = _iso(store._now())
        async with store._write():
            row = await store._one(
                "UPDATE web_links SET used_at = ? WHERE hash = ? AND used_at IS NULL "
                "AND expires_at > ? RETURNING user_id, name",
                (now, _hash(token[:100]), now),
            )
        return None if row is None else Person(row["user_id"], row["name"])

    async def open_session(self, person: Person) -> str:
        """Start a session for the person and return its cookie's token."""
        store = self.store
        now = store._now()
        token = secrets.token_urlsafe(32)
        async with store._write():
            await store._db.execute(
                "DELETE FROM web_sessions WHERE seen_at < ?", (_iso(now - SESSION_IDLE),)
            )
            await store._db.execute(
                "INSERT INTO web_sessions (hash, user_id, name, csrf, seen_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (_hash(token), person.id, person.name, secrets.token_urlsafe(24), _iso(now)),
            )
        return token

    async def session(self, token: str) -> Session | None:
        """Return the live session of a cookie's token (and note the request), else None."""
        store = self.store
        now = store._now()
        key = _hash(token[:100])
        row = await store._read_one("SELECT * FROM web_sessions WHERE hash = ?", (key,))
        if row is None:
            return None
        seen = _time(row["seen_at"])
        if now - seen > SESSION_IDLE:
            await self.close_session(token)
            return None
        if now - seen > TOUCH_EVERY:
            async with store._write():
                await store._db.execute(
                    "UPDATE web_sessions SET seen_at = ? WHERE hash = ?", (_iso(now), key)
                )
        return Session(Person(row["user_id"], row["name"]), row["csrf"], seen)

    async def close_session(self, token: str) -> None:
        """End a session (logout)."""
        async with self.store._write():
            await self.store._db.execute(
                "DELETE FROM web_sessions WHERE hash = ?", (_hash(token[:100]),)
            )


async def web_link(store: Store, base_url: str | None, person: Person) -> Outcome:
    """Answer /web: a one-time login link to the web console for the person."""
    if base_url is None:
        return say("网页工作台未启动（FENGONG_WEB_PORT=off）。如需使用，请联系管理员开启。")
    token = await WebLogins(store).issue(person)
    if token is None:
        return say(
            f"10 分钟内最多申请 {LINKS_PER_WINDOW} 个登录链接。请使用已收到的链接，或稍后再试。"
        )
    return say(
        "网页工作台登录链接（10 分钟内有效，只能使用一次，请勿转发）：",
        f"{base_url.rstrip('/')}/login?t={token}",
    )

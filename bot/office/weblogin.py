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
from bot.store import Store

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
    """Login links and sessions in the store (see the module's docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def issue(self, person: Person) -> str | None:
        """Make a login link's token for the person; None when they asked too often."""
        # Hex: no character any channel's markup escapes ("_" in WeCom's markdown).
        token = secrets.token_hex(20)
        logins = self.store.weblogins
        made = await logins.add_link(
            _hash(token), person.id, person.name, LINK_TTL, LINKS_PER_WINDOW
        )
        return token if made else None

    async def redeem(self, token: str) -> Person | None:
        """Use a link once: its person, or None when it is unknown, used or expired."""
        who = await self.store.weblogins.use_link(_hash(token[:100]))
        return None if who is None else Person(*who)

    async def open_session(self, person: Person) -> str:
        """Start a session for the person and return its cookie's token."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        await self.store.weblogins.add_session(
            _hash(token), person.id, person.name, csrf, SESSION_IDLE
        )
        return token

    async def session(self, token: str) -> Session | None:
        """Return the live session of a cookie's token (and note the request), else None."""
        logins = self.store.weblogins
        key = _hash(token[:100])
        row = await logins.session(key)
        if row is None:
            return None
        since = logins.now() - row.seen_at
        if since > SESSION_IDLE:
            await logins.close_session(key)
            return None
        if since > TOUCH_EVERY:
            await logins.touch(key)
        return Session(Person(row.user_id, row.name), row.csrf, row.seen_at)

    async def close_session(self, token: str) -> None:
        """End a session (logout)."""
        await self.store.weblogins.close_session(_hash(token[:100]))


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

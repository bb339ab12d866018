"""What a chat carries from one message to the next, kept here when several instances share
the database: the queries behind page buttons (token → kind, argument), and per chat its
conversation context (serialised by bot/ask/dialog.py, with its time) and chosen document.

One process on its own database keeps these in memory instead (bot/core.py decides). With
several, the instance holding a member's lease (bot/inbox.py) is the only one handling the
member's chats: while it holds it, its memory is their truth (a `Tenure`). It reads a chat's
state once per tenure and writes what changed behind, in the inbox's commit of the handled
message (`Behind`); page tokens too, so that any instance can redraw a page.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import secrets
from collections.abc import Set
from dataclasses import dataclass, field

from bot.clock import Clock
from bot.store.database import Connection, Database
from bot.store.repository import CHUNK, Repository, iso, marks, maybe_time

# A page button outlives its message's usefulness; older tokens read as expired and are pruned.
QUERY_DAYS = 30
# Tokens are short (Telegram's callback data holds 64 bytes); anything longer was never issued.
TOKEN_BYTES = 6
MAX_TOKEN = 16


@dataclass(frozen=True)
class ChatState:
    """A chat's stored state: its context (JSON) and the context's time, its chosen document."""

    context: str | None = None
    at: dt.datetime | None = None
    doc: str | None = None


Query = tuple[str, str]  # (kind, argument) behind a page token


class Tenure:
    """A member's chats as this instance knows them while it holds the member's lease.

    Made by the inbox's worker of the member and seen by what it handles through `tenure`.
    `open` turns false when the worker ends: what changes after (a background task) is
    written at once, as without a lease, and forgotten here. Reopened by the member's next
    worker when nobody else held the lease meanwhile (bot/inbox.py).
    """

    def __init__(self, states: dict[str, ChatState] | None = None) -> None:
        self.states: dict[str, ChatState] = dict(states or {})  # known: read or changed here
        self.unsaved: dict[str, ChatState] = {}  # changed since the inbox last took them
        self.tokens: dict[str, Query] = {}  # page tokens issued, not yet taken
        # (person, document) read to have no note flow: flows are started only in a person's
        # private chat, whose member this is (bot/store/notes.py `Flows`).
        self.flowless: set[tuple[str, str]] = set()
        self.open = True

    def reopen(self, unwritten: dict[str, ChatState]) -> None:
        """Hold again, with what this instance changed and has not written yet."""
        self.states.update(unwritten)
        self.open = True

    def change(self, chat: str, state: ChatState) -> None:
        """Make the chat's state this, to be written behind."""
        self.states[chat] = self.unsaved[chat] = state


# The tenure of the member whose delivery is being handled (None: not under a lease).
tenure: contextvars.ContextVar[Tenure | None] = contextvars.ContextVar("tenure", default=None)


@dataclass
class Behind:
    """What handled messages changed and the inbox writes in its next commit."""

    states: dict[str, tuple[str, ChatState]] = field(default_factory=dict)  # chat: member, …
    tokens: dict[str, Query] = field(default_factory=dict)

    def __bool__(self) -> bool:
        """Tell whether anything waits to be written."""
        return bool(self.states or self.tokens)

    def take(self, member: str, held: Tenure) -> None:
        """Take what the member's tenure changed since the last time."""
        self.states.update((chat, (member, s)) for chat, s in held.unsaved.items())
        self.tokens.update(held.tokens)
        held.unsaved, held.tokens = {}, {}

    def under(self, newer: Behind) -> Behind:
        """Return this with `newer` over it (what a failed commit leaves, then what came)."""
        return Behind({**self.states, **newer.states}, {**self.tokens, **newer.tokens})

    def of(self, member: str) -> dict[str, ChatState]:
        """Return the member's chats' states waiting to be written."""
        return {chat: s for chat, (m, s) in self.states.items() if m == member}


class Chats(Repository):
    """Page queries and the chats' states (not per document: a chat may switch documents)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        super().__init__(db, clock)
        self._pruned: dt.datetime | None = None  # when this instance last forgot old chats
        # How long a chat's context lasts: the core's (set when it opens, given with `save`).
        self.kept = dt.timedelta(minutes=10)

    async def remember(self, kind: str, arg: str) -> str:
        """Store the query behind a page button and return its new token."""
        now = self.now()
        oldest = iso(now - dt.timedelta(QUERY_DAYS))
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM page_queries WHERE created_at < ?", (oldest,))
            while True:  # a token already issued (2^-48 per pair) is drawn again
                token = new_token()
                if await _add_token(tx, token, (kind, arg), iso(now)):
                    return token

    async def recall(self, token: str) -> tuple[str, str] | None:
        """Return the query behind a token; None when never issued, forged or too old."""
        if len(token) > MAX_TOKEN:
            return None
        row = await self.db.fetchrow(
            "SELECT kind, arg FROM page_queries WHERE token = ? AND created_at >= ?",
            (token, iso(self.now() - dt.timedelta(QUERY_DAYS))),
        )
        return None if row is None else (row["kind"], row["arg"])

    async def load(self, chat: str) -> ChatState:
        """Return the chat's stored state (empty when it has none)."""
        row = await self.db.fetchrow(
            "SELECT context, context_at, doc FROM chats WHERE chat = ?", (chat,)
        )
        if row is None:
            return ChatState()
        return ChatState(row["context"], maybe_time(row["context_at"]), row["doc"])

    async def save(self, chat: str, state: ChatState, kept: dt.timedelta) -> None:
        """Store the chat's state; once every `kept`, forget the chats whose context is older
        than that and that chose no document (the table holds the chats of about `kept`)."""
        self.kept = kept
        async with self.db.transaction() as tx:
            await self._prune(tx)
            await _put(tx, [(chat, state)])

    async def write(self, tx: Connection, behind: Behind, held: Set[str]) -> None:
        """Write what handled messages changed, in the inbox's transaction: the states of
        the chats of members whose lease is `held` (another instance's now is the truth), and
        the page tokens (which another instance may be asked to redraw)."""
        now = iso(self.now())
        tokens = list(behind.tokens.items())  # drawn again (2^-48): that button expires
        for start in range(0, len(tokens), CHUNK):
            chunk = tokens[start : start + CHUNK]
            await tx.execute(
                "INSERT INTO page_queries (token, kind, arg, created_at) VALUES "
                f"{marks(len(chunk), 4)} ON CONFLICT (token) DO NOTHING",
                [v for token, (kind, arg) in chunk for v in (token, kind, arg, now)],
            )
        await self._prune(tx)
        await _put(tx, [(c, s) for c, (m, s) in behind.states.items() if m in held])

    async def _prune(self, tx: Connection) -> None:
        """Once every `kept`, forget the old page tokens, and the chats whose context is
        older than that and that chose no document (the table holds the chats of `kept`)."""
        now = self.now()
        if self._pruned is not None and now - self._pruned < self.kept:
            return  # not with every message: on PostgreSQL a statement is a round trip
        await tx.execute(
            "DELETE FROM chats WHERE doc IS NULL AND context_at < ?", (iso(now - self.kept),)
        )
        oldest = iso(now - dt.timedelta(QUERY_DAYS))
        await tx.execute("DELETE FROM page_queries WHERE created_at < ?", (oldest,))
        self._pruned = now


def new_token() -> str:
    """Return a new page token (short: Telegram's callback data holds 64 bytes)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


async def _add_token(tx: Connection, token: str, query: Query, now: str) -> bool:
    """Store a page token's query; False when the token was issued already."""
    added = await tx.fetchrow(
        "INSERT INTO page_queries (token, kind, arg, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (token) DO NOTHING RETURNING token",
        (token, *query, now),
    )
    return added is not None


async def _put(tx: Connection, states: list[tuple[str, ChatState]]) -> None:
    """Store chats' states, a statement for each CHUNK of them (an empty one: its row deleted)."""
    gone = [chat for chat, state in states if state == ChatState()]
    kept = [(chat, state) for chat, state in states if state != ChatState()]
    for start in range(0, len(gone), CHUNK):
        names = gone[start : start + CHUNK]
        await tx.execute(f"DELETE FROM chats WHERE chat IN ({_list(names)})", names)
    for start in range(0, len(kept), CHUNK):
        part = kept[start : start + CHUNK]
        await tx.execute(
            f"INSERT INTO chats (chat, context, context_at, doc) VALUES {marks(len(part), 4)}"
            " ON CONFLICT (chat) DO UPDATE SET context = excluded.context, "
            "context_at = excluded.context_at, doc = excluded.doc",
            [v for chat, state in part for v in _row(chat, state)],
        )


def _row(chat: str, state: ChatState) -> tuple[str, str | None, str | None, str | None]:
    """Return a chat's row: chat, context, context_at, doc."""
    return (chat, state.context, None if state.at is None else iso(state.at), state.doc)


def _list(values: list[str]) -> str:
    """Return a placeholder for each value, for an IN list."""
    return ", ".join("?" for _ in values)

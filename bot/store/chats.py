"""What a chat carries from one message to the next, kept here when several instances share
the database: the queries behind page buttons (token → kind, argument), and per chat its
conversation context (serialised by bot/ask/dialog.py, with its time) and chosen document.

One process on its own database keeps these in memory instead (bot/core.py decides).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from bot.clock import Clock
from bot.store.database import Database
from bot.store.repository import Repository, iso, maybe_time

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


class Chats(Repository):
    """Page queries and the chats' states (not per document: a chat may switch documents)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        super().__init__(db, clock)
        self._pruned: dt.datetime | None = None  # when this instance last forgot old chats

    async def remember(self, kind: str, arg: str) -> str:
        """Store the query behind a page button and return its new token."""
        now = self.now()
        oldest = iso(now - dt.timedelta(QUERY_DAYS))
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM page_queries WHERE created_at < ?", (oldest,))
            while True:  # a token already issued (2^-48 per pair) is drawn again
                token = secrets.token_urlsafe(TOKEN_BYTES)
                added = await tx.fetchrow(
                    "INSERT INTO page_queries (token, kind, arg, created_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (token) DO NOTHING RETURNING token",
                    (token, kind, arg, iso(now)),
                )
                if added is not None:
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
        now = self.now()
        prune = self._pruned is None or now - self._pruned >= kept
        async with self.db.transaction() as tx:
            if prune:  # not with every message: on PostgreSQL a statement is a round trip
                await tx.execute(
                    "DELETE FROM chats WHERE doc IS NULL AND context_at < ?", (iso(now - kept),)
                )
                self._pruned = now
            if state == ChatState():
                await tx.execute("DELETE FROM chats WHERE chat = ?", (chat,))
                return
            at = None if state.at is None else iso(state.at)
            await tx.execute(
                "INSERT INTO chats (chat, context, context_at, doc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (chat) DO UPDATE SET context = excluded.context, "
                "context_at = excluded.context_at, doc = excluded.doc",
                (chat, state.context, at, state.doc),
            )

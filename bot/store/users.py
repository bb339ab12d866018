"""People the bot has seen, and whether it may reach them (reachable, reminders on)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Self

from bot.clock import Clock
from bot.store.database import Connection, Database, Row
from bot.store.errors import NotFound
from bot.store.repository import Repository, iso


@dataclass(frozen=True)
class User:
    """Someone who has talked to the bot, and how the bot may reach them."""

    id: str
    name: str
    private_chat: bool
    reachable: bool
    reminders_on: bool

    @classmethod
    def from_row(cls, row: Row) -> Self:
        """Build from a `users` row."""
        return cls(
            id=row["id"],
            name=row["name"],
            private_chat=bool(row["private_chat"]),
            reachable=bool(row["reachable"]),
            reminders_on=bool(row["reminders_on"]),
        )


async def ensure_user(tx: Connection, user_id: str, name: str, now: str) -> None:
    """Create a bare user row if there is none (members and requests refer to users)."""
    await tx.execute(
        "INSERT INTO users (id, name, created_at, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (id) DO NOTHING",
        (user_id, name, now, now),
    )


class Users(Repository):
    """The people the bot has seen (not per document)."""

    def __init__(self, db: Database, clock: Clock, blocked: set[str] | None = None) -> None:
        super().__init__(db, clock)
        # People marked unreachable since the process started: their next private message
        # must be recorded again (it marks them reachable), however often they were seen.
        self.blocked: set[str] = set() if blocked is None else blocked

    async def upsert(self, user_id: str, name: str, private_chat: bool | None = None) -> User:
        """Record a user's current name; `private_chat=None` leaves that flag unchanged."""
        now = iso(self.now())
        flag = None if private_chat is None else int(private_chat)
        async with self.db.transaction() as tx:
            row = await tx.fetchrow(
                "INSERT INTO users (id, name, private_chat, created_at, updated_at) "
                "VALUES (?, ?, COALESCE(?, 0), ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
                "private_chat = COALESCE(?, users.private_chat), "
                # Someone writing to the bot privately can be written to again (on Telegram,
                # messaging a bot you blocked unblocks it).
                "reachable = CASE WHEN ? = 1 THEN 1 ELSE users.reachable END, "
                "updated_at = excluded.updated_at RETURNING *",
                (user_id, name, flag, now, now, flag, flag),
            )
        assert row is not None
        return User.from_row(row)

    async def get(self, user_id: str) -> User | None:
        """Return the user, or None if the bot has never seen them."""
        row = await self.db.fetchrow("SELECT * FROM users WHERE id = ?", (user_id,))
        return None if row is None else User.from_row(row)

    async def set_reachable(self, user_id: str, reachable: bool) -> None:
        """Record whether messages to the user can be delivered."""
        await self._set_flag(user_id, "reachable", reachable)
        if not reachable:
            self.blocked.add(user_id)

    async def set_reminders(self, user_id: str, on: bool) -> None:
        """Record whether the user wants reminders."""
        await self._set_flag(user_id, "reminders_on", on)

    async def _set_flag(
        self, user_id: str, column: Literal["reachable", "reminders_on"], value: bool
    ) -> None:
        """Set one boolean column of a user; NotFound if there is no such user."""
        now = iso(self.now())
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE users SET {column} = ?, updated_at = ? WHERE id = ?",
                (int(value), now, user_id),
            )
            if changed == 0:
                raise NotFound("找不到这个用户。")

"""The connection layer: one small interface over the two databases the store runs on.

Repositories write plain SQL with `?` placeholders in the subset both dialects agree on
(ON CONFLICT … DO UPDATE/NOTHING, RETURNING, CTEs); each `Database` runs it on its own
driver: `SQLiteDatabase` (aiosqlite, one connection, WAL) for the embedded default,
`PostgresDatabase` (asyncpg, a pool) when FENGONG_DB is a postgresql:// URL. The few things
the dialects do differently (claiming rows, schema versions, DDL) are asked of `dialect`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgres"]


class Row(Protocol):
    """A row read by column name or position (sqlite3.Row, asyncpg.Record)."""

    def __getitem__(self, key: str | int, /) -> Any:
        """Return a column's value."""

    def keys(self) -> Iterable[str]:
        """Return the column names."""


class Connection(ABC):
    """What a repository runs its statements on: the database, or one open transaction."""

    @abstractmethod
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""

    @abstractmethod
    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a query (or a statement with RETURNING) to completion; return its rows."""

    async def fetchrow(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """Return the first row of `fetch`, or None."""
        # Everything is fetched: a half-stepped UPDATE … RETURNING would be left unfinished.
        rows = await self.fetch(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Return the first column of the first row, or None."""
        row = await self.fetchrow(sql, params)
        return None if row is None else row[0]


class _RolledBack(Exception):
    """Ends a probe's transaction without committing it."""


class Database(Connection):
    """An open database: reads run at once, writes inside `transaction()`."""

    dialect: Dialect

    @abstractmethod
    def transaction(self, wait_ms: int | None = None) -> AbstractAsyncContextManager[Connection]:
        """One write transaction, committed when the block ends, rolled back on an error.

        `wait_ms`: how long to wait for another writer's lock (None: the default).
        """

    async def writable(self, wait_ms: int = 1000) -> None:
        """Raise unless a write can begin within `wait_ms`; nothing is written."""
        try:
            async with self.transaction(wait_ms) as tx:
                await tx.execute(
                    "INSERT INTO state (key, value) VALUES ('write probe', '') "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                )
                raise _RolledBack
        except _RolledBack:
            pass

    @abstractmethod
    async def schema_version(self) -> int:
        """Return the number of migrations applied."""

    @abstractmethod
    async def close(self) -> None:
        """Close the connection or pool (safe to call twice)."""


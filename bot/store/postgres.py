"""PostgreSQL under the store: `PostgresDatabase`, the connection layer over an asyncpg pool.

Repositories write `?` placeholders; PostgreSQL numbers its own ($1, $2 …), so each SQL text is
translated once (cached), leaving a `?` in a string literal, a quoted name or a comment alone.
The schema version lives in a one-row table of its own (`version`). What goes wrong connecting
is told in one Chinese line naming the cause, and the URL's password is masked everywhere:
in that line, in the address shown, and in every log line from the moment the URL is read.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg

from bot import redact
from bot.store.database import Connection, Database, Dialect, Row
from bot.store.errors import StoreError

SCHEMES = ("postgresql", "postgres")
# How long a write waits for another transaction's row lock unless told otherwise.
LOCK_TIMEOUT_MS = 5000
CONNECT_TIMEOUT_S = 10.0
# The advisory lock every write transaction holds (any number, the same for every instance).
WRITER_LOCK = 0x66656E67_77726974
# Tokens of SQL text a `?` is not a placeholder in: strings, quoted names, comments.
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|\?", re.DOTALL)


@lru_cache(maxsize=2048)
def numbered(sql: str) -> str:
    """Return `sql` with its `?` placeholders numbered $1, $2 … (PostgreSQL's own)."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match[0] != "?":
            return match[0]
        count += 1
        return f"${count}"

    return _QUOTED.sub(number, sql)


def changed(status: str) -> int:
    """Return the row count of a command status ("UPDATE 3", "INSERT 0 1"); 0 when it has none."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class DatabaseUnavailable(StoreError):
    """The PostgreSQL database cannot be reached or opened; the message says why, in Chinese."""


def is_url(text: str) -> bool:
    """Tell whether FENGONG_DB's value names a PostgreSQL database (postgresql:// or postgres://)."""
    return text.split("://", 1)[0].lower() in SCHEMES and "://" in text


def password(url: str) -> str:
    """Return the URL's password ("" when it has none)."""
    try:
        return unquote(urlsplit(url).password or "")
    except ValueError:
        return ""


def safe(url: str) -> str:
    """Return the URL with its password masked: fit for a message or the log."""
    return redact.redact(url, password(url), *_raw_password(url))


def _raw_password(url: str) -> tuple[str, ...]:
    """The password as it is written in the URL (percent-encoded), if it differs."""
    try:
        raw = urlsplit(url).password or ""
    except ValueError:
        return ()
    return (raw,) if raw and raw != unquote(raw) else ()


def describe(url: str) -> str:
    """Return "user@host:port/db" (a socket folder as host), without the password."""
    try:
        parts = urlsplit(url)
        host = parse_qs(parts.query).get("host", [parts.hostname or "localhost"])[0]
        port = parts.port or 5432
    except ValueError:
        return safe(url)
    user = unquote(parts.username or "")
    name = unquote(parts.path.lstrip("/")) or user
    return f"{user}@{host}:{port}/{name}" if user else f"{host}:{port}/{name}"


def connect_error(url: str, error: BaseException) -> DatabaseUnavailable:
    """Return the one-line Chinese message for a failed connection, the password masked."""
    where = describe(url)
    parts = urlsplit(url)
    if isinstance(error, asyncpg.InvalidAuthorizationSpecificationError):
        user = unquote(parts.username or "")
        text = f"PostgreSQL 拒绝了用户 {user} 的身份验证（用户名或密码不对）：{where}"
    elif isinstance(error, asyncpg.InvalidCatalogNameError):
        name = unquote(parts.path.lstrip("/"))
        text = f"PostgreSQL 服务器上没有数据库 {name}（请先 CREATE DATABASE {name}）：{where}"
    elif isinstance(error, socket.gaierror):
        text = f"找不到 PostgreSQL 服务器的主机 {parts.hostname}（主机名无法解析）：{where}"
    elif isinstance(error, ConnectionRefusedError | FileNotFoundError):
        text = f"PostgreSQL 服务器拒绝连接（服务器没有运行，或主机、端口不对）：{where}"
    elif isinstance(error, TimeoutError):
        text = f"连接 PostgreSQL 服务器超时（{CONNECT_TIMEOUT_S:.0f} 秒无响应）：{where}"
    elif isinstance(error, OSError):
        text = f"无法连接 PostgreSQL 服务器（{error.strerror or error}）：{where}"
    else:
        text = f"无法打开 PostgreSQL 数据库（{error}）：{where}"
    return DatabaseUnavailable(redact.redact(text, password(url), *_raw_password(url)))


async def _as_left(connection: asyncpg.Connection) -> None:
    """Hand a connection back to the pool as it is (the pool rolls back a transaction left open).

    asyncpg's default sends a reset query (advisory locks, cursors, LISTEN, settings) after
    every use: one more round trip for each statement run on the pool. Nothing here leaves
    session state: settings are SET LOCAL, the writer lock is the transaction's, and nothing
    listens or declares a cursor.
    """


class Statements(Connection):
    """Runs translated statements on an asyncpg pool or connection."""

    def __init__(self, runner: asyncpg.Pool | asyncpg.Connection) -> None:
        self._runner = runner

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        return changed(await self._runner.execute(numbered(sql), *params))

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a query (or a statement with RETURNING) to completion; return its rows."""
        return list(await self._runner.fetch(numbered(sql), *params))

    async def copy_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Append rows to a table with COPY (migrate-db's bulk copy)."""
        await self._runner.copy_records_to_table(table, records=rows, columns=list(columns))


class PostgresDatabase(Statements, Database):
    """A PostgreSQL database behind a pool: reads on any connection, writes in `transaction()`."""

    dialect: Dialect = "postgres"

    def __init__(self, pool: asyncpg.Pool) -> None:
        """Wrap an open pool; use `PostgresDatabase.open` instead."""
        super().__init__(pool)
        self._pool = pool
        self._closed = False

    @classmethod
    async def open(
        cls,
        url: str,
        prepare: Callable[[Database], Awaitable[None]] | None = None,
        min_size: int = 1,
        max_size: int = 10,
    ) -> Self:
        """Connect to the database at `url`, then run `prepare` (the migrations); a failure to
        connect raises DatabaseUnavailable (one line)."""
        # From now on no log line shows the password, whatever logs it.
        redact.add_secret(password(url), *_raw_password(url))
        try:
            pool = await asyncpg.create_pool(
                dsn=url,
                min_size=min_size,
                max_size=max_size,
                timeout=CONNECT_TIMEOUT_S,
                reset=_as_left,
            )
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
            raise connect_error(url, e) from None
        database = cls(pool)
        try:
            if prepare is not None:
                await prepare(database)
        except BaseException:
            await database.close()
            raise
        return database

    @asynccontextmanager
    async def transaction(self, wait_ms: int | None = None) -> AsyncIterator[Statements]:
        """One write transaction on one pooled connection, committed at the end, rolled back on
        an error; write transactions run one at a time, as on SQLite.

        `wait_ms`: how long to wait for another transaction's lock (lock_timeout), else
        asyncpg.LockNotAvailableError.
        """
        wait = LOCK_TIMEOUT_MS if wait_ms is None else int(wait_ms)
        async with self._pool.acquire() as connection, connection.transaction():
            # The repositories read, decide and write in one transaction, written for SQLite's
            # one writer at a time (BEGIN IMMEDIATE): under READ COMMITTED two of them could
            # both decide on what they read (an invite redeemed twice). One lock held until
            # commit keeps that guarantee, for every instance on the database. One round trip
            # (SET takes no parameters; both numbers are ints), the timeout first.
            await connection.execute(
                f"SET LOCAL lock_timeout = {wait}; SELECT pg_advisory_xact_lock({WRITER_LOCK})"
            )
            yield Statements(connection)

    async def schema_version(self) -> int:
        """Return the number of migrations applied (0 for a new database)."""
        if await self.fetchval("SELECT to_regclass('version')") is None:
            return 0
        return int(await self.fetchval("SELECT max(version) FROM version") or 0)

    async def close(self) -> None:
        """Close the pool (safe to call twice)."""
        if not self._closed:
            self._closed = True
            # A connection stuck in a query must not hold the process up at shutdown.
            try:
                await asyncio.wait_for(self._pool.close(), CONNECT_TIMEOUT_S)
            except TimeoutError:
                self._pool.terminate()

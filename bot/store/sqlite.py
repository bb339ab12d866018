"""SQLite, the embedded default: one aiosqlite connection in WAL mode, shared under a lock.

Opening checks the file's folder and says in Chinese what is wrong with a file that cannot
be used; commits are synced to disk (synchronous=FULL) and foreign keys are enforced. Writes
are BEGIN IMMEDIATE transactions: two processes racing for a row queue on the busy timeout.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.store.database import Connection, Database, Dialect, Row
from bot.store.errors import StoreError

# How long a connection waits for another connection's write lock before giving up.
BUSY_TIMEOUT_MS = 5000

# SQLite's errors that come from the database file or its place, not from the program.
_FILE_PROBLEMS = (
    "SQLITE_NOTADB",
    "SQLITE_CORRUPT",
    "SQLITE_READONLY",
    "SQLITE_CANTOPEN",
    "SQLITE_IOERR",
    "SQLITE_PERM",
    "SQLITE_FULL",
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
)
# A write needing no table of the schema; the probe's transaction is rolled back.
_PROBE = "CREATE TABLE write_probe (x INTEGER)"

_T = TypeVar("_T")


def open_error(path: Path, error: sqlite3.Error) -> StoreError:
    """Say, in Chinese, which database file could not be opened and what to do about it."""
    name = getattr(error, "sqlite_errorname", "")
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return StoreError(
            f"数据库文件 {path} 已损坏或不是本程序的数据库。请从备份恢复"
            "（见 README「备份与恢复」），或将该文件移走后重新启动以新建空数据库（FENGONG_DB）。"
        )
    if name.startswith("SQLITE_READONLY"):
        return StoreError(
            f"数据库文件 {path} 是只读的，无法写入。请让运行机器人的用户对该文件及其所在目录"
            "有写权限，并检查磁盘是否以只读方式挂载（FENGONG_DB）。"
        )
    return StoreError(
        f"无法打开数据库文件 {path}（{error}）。请检查 FENGONG_DB 的路径是否正确，"
        "以及运行机器人的用户对该文件和所在目录有没有读写权限。"
    )


async def _settled(step: Awaitable[_T]) -> _T:
    """Await a transaction step to its end, even when the caller is cancelled meanwhile.

    aiosqlite runs statements in its own thread: a task cancelled while its BEGIN, COMMIT or
    ROLLBACK is under way would otherwise leave the connection in a state the next write does
    not expect ("cannot start a transaction within a transaction"). The cancellation is raised
    once the statement is done.
    """

    async def run() -> _T:
        return await step

    future = asyncio.create_task(run())
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait({future})
        raise


class _Open(Connection):
    """The connection as seen inside a transaction (its lock already held)."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        cursor = await self._connection.execute(sql, params)
        return cursor.rowcount

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a statement to completion; return its rows."""
        return list(await self._connection.execute_fetchall(sql, params))


class SQLiteDatabase(Database):
    """One SQLite file (see the module's docstring)."""

    dialect: Dialect = "sqlite"

    def __init__(self, connection: aiosqlite.Connection) -> None:
        """Wrap an open connection; use `SQLiteDatabase.open` instead."""
        # Public for tests and tools that need SQLite itself (traces, raw PRAGMAs).
        self.connection = connection
        self._open = _Open(connection)
        # One connection serves all coroutines: the lock keeps one coroutine's reads out of
        # another's open transaction, and keeps two BEGINs from meeting on one connection.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(
        cls, path: str | Path, prepare: Callable[[Database], Awaitable[None]] | None = None
    ) -> SQLiteDatabase:
        """Open (creating if needed) the file at `path`, then run `prepare` (the migrations).

        The file's problems, at opening or in `prepare`, are StoreErrors saying what to do.
        """
        path = Path(path)
        if path.is_dir():
            # aiosqlite's thread would outlive the failed connect and trip over a closed loop.
            raise StoreError(
                f"FENGONG_DB 应指向数据库文件（如 var/fengong.db），而 {path} 是一个文件夹。"
            )
        try:
            # A fresh machine has no var/ yet: create it rather than refuse.
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(
                f"无法创建数据库所在的目录 {path.parent}（{e.strerror}）。请检查 FENGONG_DB 的路径"
                "（路径中是否有同名文件），或手动创建该目录并给运行机器人的用户写权限。"
            ) from e
        try:
            # isolation_level=None: BEGIN/COMMIT are issued here rather than letting
            # sqlite3 open implicit transactions behind our back.
            connection = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as e:
            raise open_error(path, e) from e
        db = cls(connection)
        try:
            connection.row_factory = aiosqlite.Row
            await db._configure()
            if prepare is not None:
                await prepare(db)
            await db._check_writable()
        except sqlite3.Error as e:
            await connection.close()
            # The file's fault, told to the operator; anything else (a broken migration) is
            # a bug, and keeps its traceback.
            if not getattr(e, "sqlite_errorname", "").startswith(_FILE_PROBLEMS):
                raise
            raise open_error(path, e) from e
        except BaseException:
            await connection.close()
            raise
        return db

    async def _configure(self) -> None:
        """Set the connection's pragmas."""
        db = self.connection
        await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        async with db.execute("PRAGMA journal_mode = WAL") as cursor:
            row = await cursor.fetchone()
        # WAL lets readers proceed while a write is in progress; refuse to run without it
        # rather than silently fall back (e.g. on a file system that cannot share memory).
        mode = "?" if row is None else str(row[0]).lower()
        if mode != "wal":
            raise StoreError(f"数据库无法启用 WAL 模式（当前为 {mode}）。")
        # FULL, not NORMAL: in WAL mode NORMAL skips the fsync at each commit, so a commit
        # survives kill -9 but may be lost on power failure. A note is acknowledged to its
        # author once it is added, so the commit must already be on disk.
        await db.execute("PRAGMA synchronous = FULL")
        await db.execute("PRAGMA foreign_keys = ON")

    async def _check_writable(self) -> None:
        """Raise sqlite3's SQLITE_READONLY now if the database cannot be written."""
        # A read-only file opens and reads fine; without this probe the first note would fail.
        async with self._lock:
            await self.connection.execute("BEGIN IMMEDIATE")
            try:
                await self.connection.execute(_PROBE)
            finally:
                await self.connection.execute("ROLLBACK")

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement under the lock (autocommit); return the rows it changed."""
        async with self._lock:
            return await self._open.execute(sql, params)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a query under the lock and return its rows."""
        async with self._lock:
            return await self._open.fetch(sql, params)

    @asynccontextmanager
    async def transaction(self, wait_ms: int | None = None) -> AsyncIterator[Connection]:
        """One write transaction (BEGIN IMMEDIATE), committed when the block ends."""
        db = self.connection
        wait = BUSY_TIMEOUT_MS if wait_ms is None else int(wait_ms)
        async with self._lock:
            if wait != BUSY_TIMEOUT_MS:
                await _settled(db.execute(f"PRAGMA busy_timeout = {wait}"))
            try:
                # IMMEDIATE takes the write lock up front, so two connections racing for the
                # same row queue on busy_timeout instead of failing with a lock upgrade deadlock.
                await _settled(db.execute("BEGIN IMMEDIATE"))
                yield self._open
                await _settled(db.execute("COMMIT"))
            except BaseException:
                if db.in_transaction:
                    await _settled(db.execute("ROLLBACK"))
                raise
            finally:
                if wait != BUSY_TIMEOUT_MS:
                    await _settled(db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"))

    async def writable(self, wait_ms: int = 1000) -> None:
        """Raise sqlite3.Error unless a write can begin within `wait_ms` (locked, read-only …).

        Nothing is written: the probe's transaction is rolled back.
        """
        db = self.connection
        async with self._lock:
            await _settled(db.execute(f"PRAGMA busy_timeout = {int(wait_ms)}"))
            try:
                await _settled(db.execute("BEGIN IMMEDIATE"))
                try:
                    await _settled(db.execute(_PROBE))
                finally:
                    await _settled(db.execute("ROLLBACK"))
            finally:
                await _settled(db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"))

    async def schema_version(self) -> int:
        """Return the schema version recorded in the file (PRAGMA user_version)."""
        async with self._lock:
            row = await self._open.fetchrow("PRAGMA user_version")
        return 0 if row is None else int(row[0])

    async def close(self) -> None:
        """Close the connection (safe to call twice)."""
        await self.connection.close()

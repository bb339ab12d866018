"""Tests for bot.store.sqlite: the connection layer on a real SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store.database import Database
from bot.store.sqlite import BUSY_TIMEOUT_MS, SQLiteDatabase


async def make_table(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SQLiteDatabase]:
    opened = await SQLiteDatabase.open(tmp_path / "db" / "x.sqlite3", make_table)
    yield opened
    await opened.close()


def locked(path: Path) -> sqlite3.Connection:
    """Another connection holding the file's write lock."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


async def write(db: Database, wait_ms: int | None = None) -> None:
    async with db.transaction(wait_ms) as tx:
        await tx.execute("INSERT INTO state VALUES ('x', '1')")


async def test_statements_report_rows_and_values(db: SQLiteDatabase) -> None:
    assert db.dialect == "sqlite"
    sql = "INSERT INTO state (key, value) VALUES (?, ?), (?, ?)"
    assert await db.execute(sql, ("a", "1", "b", "2")) == 2
    assert await db.fetchval("SELECT value FROM state WHERE key = ?", ("b",)) == "2"
    assert await db.fetchrow("SELECT * FROM state WHERE key = 'none'") is None
    assert await db.fetchval("SELECT value FROM state WHERE key = 'none'") is None
    rows = await db.fetch("UPDATE state SET value = value || '!' RETURNING key, value")
    assert sorted((r["key"], r[1]) for r in rows) == [("a", "1!"), ("b", "2!")]
    assert await db.execute("DELETE FROM state WHERE key = 'zzz'") == 0


async def test_a_transaction_commits_at_its_end_and_rolls_back_on_an_error(
    db: SQLiteDatabase,
) -> None:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO state VALUES ('kept', '1')")

    async def fail() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO state VALUES ('lost', '1')")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        await fail()
    assert not db.connection.in_transaction
    assert [r["key"] for r in await db.fetch("SELECT key FROM state")] == ["kept"]


async def test_a_transaction_gives_up_on_a_lock_after_its_wait(
    db: SQLiteDatabase, tmp_path: Path
) -> None:
    other = locked(tmp_path / "db" / "x.sqlite3")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await write(db, wait_ms=10)
    finally:
        other.close()
    # The default wait is back for the next writer.
    assert await db.fetchval("PRAGMA busy_timeout") == BUSY_TIMEOUT_MS
    await write(db)
    assert await db.fetchval("SELECT count(*) FROM state") == 1


async def test_schema_version_is_the_files_user_version(db: SQLiteDatabase) -> None:
    assert await db.schema_version() == 0
    await db.execute("PRAGMA user_version = 7")
    assert await db.schema_version() == 7


class Generic(SQLiteDatabase):
    """SQLite probed for writing as any database is, by a rolled-back transaction."""

    writable = Database.writable


@pytest.mark.parametrize("kind", [SQLiteDatabase, Generic])
async def test_the_write_probe_writes_nothing_and_fails_on_a_lock(
    kind: type[SQLiteDatabase], tmp_path: Path
) -> None:
    path = tmp_path / "probe.sqlite3"
    db = await kind.open(path, make_table)
    try:
        await db.writable(wait_ms=10)
        assert await db.fetch("SELECT * FROM state") == []
        other = locked(path)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                await db.writable(wait_ms=10)
        finally:
            other.close()
        assert not db.connection.in_transaction
    finally:
        await db.close()

"""PostgresDatabase on a real server (tests/postgres.py): placeholders, counts, transactions,
lock waits, the schema version, and connection errors told in one line without the password."""

from __future__ import annotations

import asyncio
import logging
import socket

import asyncpg
import pytest

from bot.store.errors import SchemaTooNew
from bot.store.migration import MIGRATIONS, upgrade
from bot.store.postgres import (
    DatabaseUnavailable,
    PostgresDatabase,
    changed,
    describe,
    is_url,
    numbered,
    safe,
)
from tests.postgres import Server


def test_placeholders_are_numbered_outside_strings_names_and_comments() -> None:
    sql = "SELECT '?', \"a?\", 'it''s ?' FROM t -- why?\nWHERE a = ? /* or ? */ AND b IN (?, ?)"
    assert numbered(sql) == (
        "SELECT '?', \"a?\", 'it''s ?' FROM t -- why?\nWHERE a = $1 /* or ? */ AND b IN ($2, $3)"
    )


def test_a_text_is_translated_once() -> None:
    sql = "SELECT ? + ? AS translated_once"
    numbered(sql)
    hits = numbered.cache_info().hits
    assert numbered(sql) == "SELECT $1 + $2 AS translated_once"
    assert numbered.cache_info().hits == hits + 1


@pytest.mark.parametrize(
    ("status", "count"),
    [("UPDATE 3", 3), ("INSERT 0 1", 1), ("DELETE 0", 0), ("CREATE TABLE", 0), ("SELECT 7", 7)],
)
def test_changed_reads_the_command_status(status: str, count: int) -> None:
    assert changed(status) == count


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://u:p@h/db", True),
        ("postgres://u:p@h:5433/db", True),
        ("POSTGRESQL://h/db", True),
        ("var/fengong.db", False),
        ("sqlite:///var/fengong.db", False),
        ("postgresql.db", False),
    ],
)
def test_a_url_names_postgresql(text: str, expected: bool) -> None:
    assert is_url(text) is expected


def test_the_password_is_masked_in_what_is_shown() -> None:
    url = "postgresql://bot:s%40cret-9@db.example:5433/fengong"
    assert "s%40cret-9" not in safe(url)
    assert "s@cret-9" not in safe(url)
    assert describe(url) == "bot@db.example:5433/fengong"


async def test_statements_run_with_question_marks_and_count_changed_rows(
    postgres_url: str,
) -> None:
    database = await PostgresDatabase.open(postgres_url)
    try:
        async with database.transaction() as tx:
            for key in ("a", "b", "c"):
                assert await tx.execute("INSERT INTO state (key, value) VALUES (?, ?)", (key, "?"))
        assert await database.execute("UPDATE state SET value = ? WHERE value = '?'", ("x",)) == 3
        assert await database.execute("DELETE FROM state WHERE key = ?", ("zz",)) == 0
        rows = await database.fetch("SELECT key, value FROM state ORDER BY key")
        assert [(row["key"], row[1]) for row in rows] == [("a", "x"), ("b", "x"), ("c", "x")]
        row = await database.fetchrow("SELECT value FROM state WHERE key = ?", ("b",))
        assert row is not None
        assert dict(row) == {"value": "x"}
        assert await database.fetchrow("SELECT value FROM state WHERE key = ?", ("q",)) is None
        assert await database.fetchval("SELECT count(*) FROM state WHERE key > ?", ("a",)) == 2
    finally:
        await database.close()
        await database.close()  # twice is harmless


async def test_a_failed_transaction_leaves_nothing(postgres_url: str) -> None:
    database = await PostgresDatabase.open(postgres_url)
    try:

        async def insert_twice() -> None:
            async with database.transaction() as tx:
                await tx.execute("INSERT INTO state (key, value) VALUES (?, ?)", ("k", "1"))
                await tx.execute("INSERT INTO state (key, value) VALUES (?, ?)", ("k", "2"))

        with pytest.raises(asyncpg.UniqueViolationError):
            await insert_twice()
        assert await database.fetchval("SELECT count(*) FROM state") == 0
    finally:
        await database.close()


async def test_a_statement_on_the_pool_is_one_round_trip_and_leaves_no_state(
    postgres_url: str,
) -> None:
    database = await PostgresDatabase.open(postgres_url, max_size=1)
    try:
        async with database.transaction(wait_ms=50) as tx:  # its settings and lock: its own
            await tx.execute("INSERT INTO state (key, value) VALUES ('k', '0')")
        sent: list[str] = []
        async with database._pool.acquire() as connection:
            connection.add_query_logger(lambda logged: sent.append(logged.query))
        assert await database.fetchval("SELECT value FROM state WHERE key = ?", ("k",)) == "0"
        assert sent == ["SELECT value FROM state WHERE key = $1"]  # no reset query after it
        assert await database.fetchval("SHOW lock_timeout") == "0"
        locks = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
        assert await database.fetchval(locks) == 0
        with pytest.raises(asyncpg.UniqueViolationError):
            async with database.transaction() as tx:
                await tx.execute("INSERT INTO state (key, value) VALUES ('k', '1')")
        assert await database.fetchval("SELECT value FROM state WHERE key = 'k'") == "0"
    finally:
        await database.close()


async def test_a_writer_waits_for_a_lock_no_longer_than_asked(postgres_url: str) -> None:
    database = await PostgresDatabase.open(postgres_url)
    try:
        await database.execute("INSERT INTO state (key, value) VALUES ('k', '0')")
        holding, release = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with database.transaction() as tx:
                await tx.execute("UPDATE state SET value = '1' WHERE key = 'k'")
                holding.set()
                await release.wait()

        holder = asyncio.create_task(hold())
        await holding.wait()
        with pytest.raises(asyncpg.LockNotAvailableError):
            async with database.transaction(wait_ms=50) as tx:
                await tx.execute("UPDATE state SET value = '2' WHERE key = 'k'")
        release.set()
        await holder
        assert await database.fetchval("SELECT value FROM state WHERE key = 'k'") == "1"
    finally:
        await database.close()


async def test_writers_read_decide_and_write_one_at_a_time(postgres_url: str) -> None:
    database = await PostgresDatabase.open(postgres_url, max_size=5)
    try:
        await database.execute("INSERT INTO state (key, value) VALUES ('n', '0')")

        async def increment() -> None:
            async with database.transaction() as tx:
                value = int(await tx.fetchval("SELECT value FROM state WHERE key = 'n'"))
                await asyncio.sleep(0)  # let the others read meanwhile, if they could
                await tx.execute("UPDATE state SET value = ? WHERE key = 'n'", (str(value + 1),))

        await asyncio.gather(*(increment() for _ in range(20)))
        assert await database.fetchval("SELECT value FROM state WHERE key = 'n'") == "20"
    finally:
        await database.close()


async def test_a_blank_database_is_migrated_once_by_instances_starting_together(
    postgres_blank: str,
) -> None:
    databases = [await PostgresDatabase.open(postgres_blank) for _ in range(3)]
    try:
        assert await databases[0].schema_version() == 0
        await asyncio.gather(*(upgrade(database) for database in databases))
        assert [await database.schema_version() for database in databases] == [len(MIGRATIONS)] * 3
        assert await databases[0].fetchval("SELECT count(*) FROM version") == 1
        await upgrade(databases[0])  # up to date: nothing to do
        assert await databases[0].schema_version() == len(MIGRATIONS)
    finally:
        for database in databases:
            await database.close()


async def test_a_database_of_a_newer_bot_is_refused(postgres_url: str) -> None:
    database = await PostgresDatabase.open(postgres_url)
    try:
        await database.execute("UPDATE version SET version = ?", (len(MIGRATIONS) + 1,))
        with pytest.raises(SchemaTooNew):
            await upgrade(database)
    finally:
        await database.close()


def _free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _refusal(url: str, caplog: pytest.LogCaptureFixture, secret: str) -> str:
    """Open `url`, expecting DatabaseUnavailable; check no message or log line shows `secret`."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DatabaseUnavailable) as caught:
        await PostgresDatabase.open(url)
    message = str(caught.value)
    assert "\n" not in message
    assert secret not in message
    assert caught.value.__cause__ is None
    assert secret not in caplog.text
    return message


async def test_a_wrong_password_is_named_and_never_shown(
    postgres_server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "wrong-Pa55word"
    message = await _refusal(postgres_server.url("postgres", secret), caplog, secret)
    assert "身份验证" in message
    assert "fengong@" in message


async def test_a_missing_database_is_named(
    postgres_server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    url = postgres_server.url("no_such_db")
    message = await _refusal(url, caplog, postgres_server.password)
    assert "没有数据库 no_such_db" in message


async def test_a_server_not_running_is_named(caplog: pytest.LogCaptureFixture) -> None:
    secret = "Secret-4-refused"
    url = f"postgresql://bot:{secret}@127.0.0.1:{_free_port()}/fengong"
    message = await _refusal(url, caplog, secret)
    assert "拒绝连接" in message
    assert "127.0.0.1" in message


async def test_an_unknown_host_is_named(caplog: pytest.LogCaptureFixture) -> None:
    secret = "Secret-4-unknown"
    message = await _refusal(f"postgresql://bot:{secret}@nohost.invalid/fengong", caplog, secret)
    assert "找不到" in message
    assert "nohost.invalid" in message

"""Tests for bot.store.migration: numbered steps applied to a Database, one transaction each."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store.database import Dialect
from bot.store.errors import SchemaTooNew
from bot.store.migration import MIGRATIONS, Migration, upgrade
from bot.store.sqlite import SQLiteDatabase


def test_every_migration_says_in_one_line_what_it_does() -> None:
    descriptions = [m.description for m in MIGRATIONS]
    assert all(d.strip() and "\n" not in d and len(d) <= 99 for d in descriptions)
    assert len(set(descriptions)) == len(descriptions)


async def test_migrations_are_applied_in_order_up_to_the_last(tmp_path: Path) -> None:
    db = await SQLiteDatabase.open(tmp_path / "m.sqlite3")
    try:
        await upgrade(db, MIGRATIONS[:2])
        assert await db.schema_version() == 2
        tables = {r["name"] for r in await db.fetch("SELECT name FROM sqlite_master")}
        assert {"users", "audit"} <= tables
        assert "flows" not in tables
        await upgrade(db)
        assert await db.schema_version() == len(MIGRATIONS)
        with pytest.raises(SchemaTooNew):
            await upgrade(db, MIGRATIONS[:3])
    finally:
        await db.close()


class Labelled(SQLiteDatabase):
    """SQLite taking the PostgreSQL path of the migrations (their SQL is common to both)."""

    dialect: Dialect = "postgres"


async def test_another_dialect_runs_its_own_scripts_and_keeps_its_version_in_a_table(
    tmp_path: Path,
) -> None:
    steps = [
        Migration("one", "CREATE TABLE a (x INTEGER);", "CREATE TABLE b (x INTEGER)"),
        Migration("two", "CREATE TABLE c (x INTEGER);"),
    ]
    db = await Labelled.open(tmp_path / "p.sqlite3")
    try:
        with pytest.raises(NotImplementedError):  # "two" has no script for it
            await upgrade(db, steps)
        tables = {r["name"] for r in await db.fetch("SELECT name FROM sqlite_master")}
        assert "b" in tables
        assert not {"a", "c"} & tables
        assert await db.fetchval("SELECT version FROM version") == 1
    finally:
        await db.close()

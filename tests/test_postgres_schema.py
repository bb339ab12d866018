"""A fresh SQLite store and a fresh PostgreSQL one have the same tables, columns, keys and
indexes at the same version: the two schemas never drift apart."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from bot.store import Store
from bot.store.migration import MIGRATIONS, upgrade
from bot.store.postgres import PostgresDatabase
from tests.postgres import Server

Schema = dict[str, Any]
# How each side spells the same stored type.
_TYPES = {"integer": "integer", "bigint": "integer", "text": "text"}


def _default(value: str | None) -> str | None:
    """A column default without PostgreSQL's cast ('pending'::text -> 'pending')."""
    return None if value is None else re.sub(r"::[a-z ]+$", "", value)


def sqlite_schema(path: Path) -> Schema:
    """Tables (columns, primary key, foreign keys) and indexes of a SQLite file."""
    db = sqlite3.connect(path)
    try:
        tables: Schema = {}
        indexes: Schema = {}
        names = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in names:
            columns = db.execute(f"PRAGMA table_info({table})").fetchall()
            tables[table] = {
                "columns": {
                    name: (_TYPES[kind.lower()], bool(notnull) or pk > 0, _default(default))
                    for _, name, kind, notnull, default, pk in columns
                },
                "key": [c[1] for c in sorted(columns, key=lambda c: c[5]) if c[5]],
                "references": sorted(
                    (row[3], row[2], row[4])
                    for row in db.execute(f"PRAGMA foreign_key_list({table})")
                ),
            }
            for _, name, unique, origin, partial in db.execute(f"PRAGMA index_list({table})"):
                if origin == "pk":
                    continue
                cols = [row[2] for row in db.execute(f"PRAGMA index_info({name})")]
                indexes[name] = (table, cols, bool(unique), bool(partial))
        return {"tables": tables, "indexes": indexes}
    finally:
        db.close()


async def postgres_schema(database: PostgresDatabase) -> Schema:
    """The same, read from PostgreSQL's catalogue (the version table left out)."""
    tables: Schema = {}
    for row in await database.fetch(
        "SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity "
        "FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name <> 'version' ORDER BY table_name, ordinal_position"
    ):
        table = tables.setdefault(row[0], {"columns": {}, "key": [], "references": []})
        table["columns"][row[1]] = (
            _TYPES[row[2]],
            row[3] == "NO",
            None if row[5] == "YES" else _default(row[4]),
        )
    indexes: Schema = {}
    for row in await database.fetch(
        "SELECT i.relname, t.relname, x.indisunique, x.indpred IS NOT NULL, x.indisprimary, "
        "ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) "
        "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n) "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "JOIN pg_class t ON t.oid = x.indrelid "
        "WHERE t.relnamespace = current_schema()::regnamespace AND t.relname <> 'version'"
    ):
        if row[4]:
            tables[row[1]]["key"] = list(row[5])
        else:
            indexes[row[0]] = (row[1], list(row[5]), row[2], row[3])
    for row in await database.fetch(
        "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, f.attname "
        "FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "JOIN pg_attribute f ON f.attrelid = c.confrelid AND f.attnum = c.confkey[1] "
        "WHERE c.contype = 'f'"
    ):
        tables[row[0]]["references"].append((row[1], row[2], row[3]))
    for table in tables.values():
        table["references"].sort()
    return {"tables": tables, "indexes": indexes}


async def test_a_fresh_postgresql_store_has_the_sqlite_schema(
    tmp_path: Path, postgres_url: str
) -> None:
    path = tmp_path / "fresh.db"
    async with await Store.open(path) as store:
        assert await store.schema_version() == len(MIGRATIONS)
    database = await PostgresDatabase.open(postgres_url)
    try:
        assert await database.schema_version() == len(MIGRATIONS)
        expected, found = sqlite_schema(path), await postgres_schema(database)
        # Every text column sorts as SQLite does (see the next test), later ones too.
        unordered = await database.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type = 'text' "
            "AND collation_name IS DISTINCT FROM 'C'"
        )
        assert [tuple(row) for row in unordered] == []
    finally:
        await database.close()
    assert sorted(found["tables"]) == sorted(expected["tables"])
    for table, shape in expected["tables"].items():
        assert found["tables"][table] == shape, table
    assert found["indexes"] == expected["indexes"]


async def test_text_is_ordered_byte_by_byte_as_in_sqlite_whatever_the_locale(
    postgres_server: Server,
) -> None:
    # A database made for Chinese users sorts 省 before a; the store's columns must not.
    await postgres_server.admin(
        "CREATE DATABASE ordered_zh TEMPLATE template0 "
        "LOCALE_PROVIDER icu ICU_LOCALE 'zh-CN' LOCALE 'C'"
    )
    words = ["b", "B", "a", "省残联", "市", "_", "Z", "é"]
    database = await PostgresDatabase.open(postgres_server.url("ordered_zh"), upgrade)
    try:
        async with database.transaction() as tx:
            for word in words:
                await tx.execute("INSERT INTO state (key, value) VALUES (?, '')", (word,))
        rows = await database.fetch("SELECT key FROM state ORDER BY key")
    finally:
        await database.close()
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (k TEXT)")
    db.executemany("INSERT INTO t VALUES (?)", [(w,) for w in words])
    assert [row[0] for row in rows] == [row[0] for row in db.execute("SELECT k FROM t ORDER BY k")]

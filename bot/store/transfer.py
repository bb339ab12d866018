"""`python -m bot migrate-db --to postgresql://…`: the SQLite database copied into PostgreSQL.

The target must be empty (no rows in any of the store's tables; its schema is made or brought
up to date first). Everything is copied in one PostgreSQL transaction, table by table in
foreign-key order, from one SQLite read transaction (a consistent snapshot, even while the
bot runs); then each identity sequence is moved past the ids copied (and past ids SQLite's
AUTOINCREMENT already handed out, so that no id is ever reused), and each table's row count is
checked against the source before the commit. Nothing is half copied.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.store import Store, StoreError
from bot.store.migration import upgrade
from bot.store.postgres import PostgresDatabase, Statements, describe


@dataclass(frozen=True)
class Copied:
    """What was copied: the target (no password) and each table's rows, in copy order."""

    target: str
    rows: dict[str, int]


def table_order(db: sqlite3.Connection) -> list[str]:
    """Return the SQLite database's tables, each after the tables its foreign keys name."""
    names = sorted(
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    )
    parents = {
        name: {row[2] for row in db.execute(f"PRAGMA foreign_key_list({name})")} - {name}
        for name in names
    }
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and parents[n] <= set(ordered)]
        if not ready:  # a cycle: the deferrable keys are checked at commit anyway
            ready = [n for n in names if n not in ordered]
        ordered.extend(ready)
    return ordered


async def _columns(target: Statements, table: str) -> dict[str, str]:
    """Return the target table's columns and their types (integer, bigint, text)."""
    rows = await target.fetch(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
        (table,),
    )
    return {str(row[0]): str(row[1]) for row in rows}


def _checker(table: str, column: str, kind: str) -> Callable[[Any], Any]:
    """Return what lets a stored value of the column through, or refuses it by name."""
    # SQLite's affinity already turned numbers typed as text into numbers (and back in TEXT
    # columns); what is still of another type (a text in an INTEGER column, a blob), or a
    # text with a NUL, has no faithful PostgreSQL value: refused, rather than changed.
    want = str if kind == "text" else int

    def check(value: Any) -> Any:
        if value is None or (type(value) is want and "\x00" not in str(value)):
            return value
        # PostgreSQL's text holds no NUL character (SQLite's does).
        kind = "含 NUL 字符的文本" if isinstance(value, str) else f"类型 {type(value).__name__}"
        raise StoreError(f"表 {table} 的 {column} 列有一个无法迁移的值（{kind}）。")

    return check


async def _refuse_rows(target: Statements, tables: list[str], where: str) -> None:
    """Raise StoreError when any of the target's tables holds a row."""
    for table in tables:
        if await target.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):
            raise StoreError(
                f"目标数据库 {where} 不是空的（表 {table} 已有数据）："
                "migrate-db 只复制到空数据库，不会覆盖或合并已有数据。"
                "请换一个新建的数据库，或确认无用后清空它。"
            )


async def _copy_table(
    source: sqlite3.Connection, target: Statements, table: str, seq: dict[str, int]
) -> int:
    """Copy one table's rows; move its identity sequence past them; return how many."""
    columns = await _columns(target, table)
    if not columns:
        raise StoreError(f"目标数据库缺少表 {table}：两边的数据库结构不一致。")
    names = list(columns)
    checks = [_checker(table, name, kind) for name, kind in columns.items()]
    cursor = source.execute(f"SELECT {', '.join(names)} FROM {table}")
    copied = 0
    while batch := cursor.fetchmany(5000):
        records = [tuple(f(v) for f, v in zip(checks, row, strict=True)) for row in batch]
        await target.copy_rows(table, names, records)
        copied += len(records)
    identity = await target.fetchval(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = ? AND is_identity = 'YES'",
        (table,),
    )
    if identity is not None:
        # The next id: past every id copied and every id SQLite handed out and since deleted.
        await target.fetchval(
            f"SELECT setval(pg_get_serial_sequence(?, ?), "
            f"greatest(coalesce(max({identity}), 0), ?) + 1, false) FROM {table}",
            (table, identity, seq.get(table, 0)),
        )
    return copied


async def copy_database(path: Path, url: str) -> Copied:
    """Copy the SQLite database at `path` (an existing file) into the empty PostgreSQL
    database at `url`."""
    # Brought up to the current schema, as the bot would at its start (a newer bot's file
    # is refused there: SchemaTooNew).
    async with await Store.open(path):
        pass
    where = describe(url)
    database = await PostgresDatabase.open(url, upgrade)
    source = sqlite3.connect(path, isolation_level=None)
    try:
        source.execute("BEGIN")  # one snapshot of the file, however long the copy takes
        tables = table_order(source)
        seq = {str(name): int(n) for name, n in source.execute("SELECT * FROM sqlite_sequence")}
        rows: dict[str, int] = {}
        async with database.transaction() as target:
            await _refuse_rows(target, tables, where)
            for table in tables:
                copied = await _copy_table(source, target, table, seq)
                expected = source.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                found = await target.fetchval(f"SELECT count(*) FROM {table}")
                if not copied == found == expected:
                    raise StoreError(
                        f"表 {table} 复制后行数不一致（SQLite {expected} 行，"
                        f"PostgreSQL {found} 行），已全部撤销。"
                    )
                rows[table] = found
        return Copied(where, rows)
    finally:
        source.close()
        await database.close()

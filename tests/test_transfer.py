"""`python -m bot migrate-db --to postgresql://…`: a real SQLite file with rows in every table
copied into a real PostgreSQL server, row for row, or not at all."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bot.cli import EXIT_DATA, main
from bot.store import Store
from bot.store.postgres import PostgresDatabase
from tests.postgres import Server

T0 = "2026-03-01T09:00:00+08:00"
# One row or more for every table, with what a copy could get wrong: Chinese, quotes, "?",
# newlines, NULLs, and ids with gaps (rows deleted) past which SQLite's AUTOINCREMENT went on.
ROWS: dict[str, list[tuple[Any, ...]]] = {
    "users": [
        ("tg:1", "王 芳", 1, 1, 1, T0, T0),
        ("wecom:li", "李四's ?", 0, 0, 1, T0, T0),
    ],
    "members": [
        ("tg:1", "王芳", "省教育厅", T0, "tg:9", ""),
        ("tg:1", "王芳", "省财政厅", T0, "tg:9", "b"),
    ],
    "bind_requests": [(4, "wecom:li", "李四", "省民政厅", "pending", T0, None, None, "")],
    "invites": [("Abc123", "省民政厅", "tg:9", T0, T0, "tg:1", T0, "")],
    "notes": [
        (
            2,
            "省教育厅",
            "5.1",
            2024,
            "tg:1",
            "王芳",
            "第一行\n第二行 '引号' ? $1",
            T0,
            None,
            None,
            None,
            "",
            "川残工委〔2022〕4号",
            None,
        ),
        (
            7,
            "省教育厅",
            "5.2",
            2025,
            "tg:1",
            "王芳",
            "已删除",
            T0,
            T0,
            T0,
            "tg:1",
            "b",
            "",
            "inbox:3",
        ),
    ],
    "deliveries": [("2026-12-01/tg:1", "tg:1", "sent", 1, T0, 2)],
    "state": [("last_run", "2026-12-01")],
    "audit": [(11, T0, "tg:9", "协调员", "bind", "省教育厅", "王芳（ID tg:1）", "", None)],
    "flows": [("tg:1", "note", "5.1", "省教育厅", T0, "")],
    "notices": [(3, "wecom:li", "bind.approved", '{"unit": "省民政厅"}', "pending", 0, T0, T0)],
    "callbacks": [("wecom:msg:1", T0)],
    "inbox": [(5, "wecom", "wecom:li", "<xml>报送</xml>", T0)],
    "web_links": [("h1", "tg:9", "协调员", T0, T0, None)],
    "web_sessions": [("h2", "tg:9", "协调员", "csrf", T0)],
    "unanswered": [("", "残疾人就业补贴", 2, "5.1", T0, T0, "")],
    "leases": [("reminders", "bot-1", T0, "")],
    "page_queries": [("Tok3n_xy", "ask", "盲人按摩归谁管？", T0)],
    "chats": [("tg:1", '{"measure": "5.1"}', T0, None), ("wecom:li", None, None, "b")],
    "generations": [("zongbao", 3)],
}
# AUTOINCREMENT's high-water marks: ids up to these were handed out (some rows since deleted).
SEQUENCES = {"notes": 9, "bind_requests": 4, "audit": 11, "notices": 3, "inbox": 5}


async def _create(path: Path) -> None:
    async with await Store.open(path):
        pass


def filled(path: Path) -> Path:
    """A real SQLite store at `path`, migrated by the bot, with ROWS in every table."""
    asyncio.run(_create(path))
    db = sqlite3.connect(path)
    with db:
        tables = {
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        assert tables == set(ROWS), "every table needs rows here, a new one too"
        for table, rows in ROWS.items():
            marks = ", ".join("?" * len(rows[0]))
            db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        marks = [(seq, name) for name, seq in SEQUENCES.items()]
        db.executemany("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", marks)
    db.close()
    return path


def sqlite_rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    """Every row of a table, in a fixed order."""
    db = sqlite3.connect(path)
    try:
        return sorted(db.execute(f"SELECT * FROM {table}"), key=repr)
    finally:
        db.close()


async def postgres_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of each of the store's tables, in the same order."""
    database = await PostgresDatabase.open(url)
    try:
        return {
            table: sorted(map(tuple, await database.fetch(f"SELECT * FROM {table}")), key=repr)
            for table in ROWS
        }
    finally:
        await database.close()


@pytest.fixture
def sqlite_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The filled SQLite file, named by FENGONG_DB."""
    path = filled(tmp_path / "fengong.db")
    monkeypatch.setenv("FENGONG_DB", str(path))
    return path


@pytest.mark.parametrize("target", ["postgres_url", "postgres_blank"])
def test_every_table_is_copied_row_for_row(
    sqlite_store: Path,
    target: str,
    request: pytest.FixtureRequest,
    postgres_server: Server,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = request.getfixturevalue(target)  # migrated and empty, or without any table

    assert main(["migrate-db", "--to", url]) == 0

    out = capsys.readouterr().out
    assert postgres_server.password not in out
    assert "19 张表、共 23 行，每张表的行数已核对一致" in out
    assert "  notes：2 行" in out
    found = asyncio.run(postgres_rows(url))
    for table in ROWS:
        assert found[table] == sqlite_rows(sqlite_store, table), table


async def _next_ids(url: str) -> list[int]:
    database = await PostgresDatabase.open(url)
    try:
        async with database.transaction() as tx:
            note = await tx.fetchval(
                "INSERT INTO notes (unit, measure_id, year, author_id, author_name, text, "
                "created_at) VALUES ('省教育厅', '5.1', 2026, 'tg:1', '王芳', '新', ?) "
                "RETURNING id",
                (T0,),
            )
            unit = await tx.fetchval(
                "INSERT INTO web_sessions VALUES ('h3', 'tg:1', '王芳', 'c', ?) RETURNING user_id",
                (T0,),
            )
            assert unit == "tg:1"
            other = await tx.fetchval(
                "INSERT INTO inbox (channel, member, body, arrived_at) "
                "VALUES ('wecom', 'wecom:li', 'x', ?) RETURNING id",
                (T0,),
            )
        return [note, other]
    finally:
        await database.close()


def test_new_ids_follow_every_id_sqlite_handed_out(sqlite_store: Path, postgres_url: str) -> None:
    assert main(["migrate-db", "--to", postgres_url]) == 0

    assert asyncio.run(_next_ids(postgres_url)) == [SEQUENCES["notes"] + 1, SEQUENCES["inbox"] + 1]


def test_a_target_with_rows_is_refused_and_left_as_it_was(
    sqlite_store: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate-db", "--to", postgres_url]) == 0
    before = asyncio.run(postgres_rows(postgres_url))
    capsys.readouterr()

    assert main(["migrate-db", "--to", postgres_url]) == EXIT_DATA

    err = capsys.readouterr().err
    assert err.startswith("错误：目标数据库 fengong@")
    assert "不是空的" in err
    assert err.count("\n") == 1
    assert asyncio.run(postgres_rows(postgres_url)) == before


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        # INTEGER affinity keeps a text that is no number as text.
        ("UPDATE notes SET year = '二〇二四' WHERE id = 7", "表 notes 的 year 列"),
        ("UPDATE notes SET text = 'a' || char(0) || 'b' WHERE id = 7", "表 notes 的 text 列"),
    ],
)
def test_a_value_postgresql_cannot_hold_leaves_the_target_empty(
    sqlite_store: Path,
    postgres_url: str,
    capsys: pytest.CaptureFixture[str],
    change: str,
    refusal: str,
) -> None:
    db = sqlite3.connect(sqlite_store)
    with db:
        db.execute(change)
    db.close()

    assert main(["migrate-db", "--to", postgres_url]) == EXIT_DATA

    assert f"{refusal}有一个无法迁移的值" in capsys.readouterr().err
    assert all(rows == [] for rows in asyncio.run(postgres_rows(postgres_url)).values())


def test_a_refused_connection_is_one_line_without_the_password(
    sqlite_store: Path, postgres_server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres_server.url("postgres", "Wr0ng-pass")

    assert main(["migrate-db", "--to", url]) == EXIT_DATA

    captured = capsys.readouterr()
    assert captured.err.startswith("错误：PostgreSQL 拒绝了用户 fengong 的身份验证")
    assert captured.err.count("\n") == 1
    assert "Wr0ng-pass" not in captured.err + captured.out


def test_a_missing_sqlite_file_or_a_target_that_is_no_url_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FENGONG_DB", str(tmp_path / "none.db"))
    assert main(["migrate-db", "--to", "postgresql://u:p@h/db"]) == EXIT_DATA
    assert "none.db 不存在" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()

    assert main(["migrate-db", "--to", str(tmp_path / "other.db")]) == EXIT_DATA
    assert "--to 应为 PostgreSQL 地址" in capsys.readouterr().err


def test_the_copy_is_what_the_bot_reads_from_then(
    sqlite_store: Path,
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["migrate-db", "--to", postgres_url]) == 0
    sqlite_store.unlink()  # nothing is read from the file any more
    monkeypatch.setenv("FENGONG_DB", postgres_url)
    out = tmp_path / "out.xlsx"

    assert main(["export", "--year", "2024", str(out)]) == 0

    book = openpyxl.load_workbook(out)
    notes = list(book["进展记录"].iter_rows(min_row=2, values_only=True))
    assert [(row[2], row[4]) for row in notes] == [("5.1", "第一行\n第二行 '引号' ? $1")]
    capsys.readouterr()
    assert main(["backup", str(tmp_path / "copy.db")]) == EXIT_DATA
    assert "pg_dump" in capsys.readouterr().err
    assert main(["migrate-db", "--to", postgres_url]) == EXIT_DATA
    assert "应为要复制的 SQLite 文件" in capsys.readouterr().err

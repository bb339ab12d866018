"""`python -m bot backup FILE`: a consistent copy of the live database, and its restore."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from bot.clock import TZ
from bot.store import Store
from bot.store.migration import MIGRATIONS
from tests.fakes.clock import FakeClock

ROOT = Path(__file__).resolve().parent.parent


def run_backup(db: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FENGONG_"))}
    env["FENGONG_DB"] = str(db)
    return subprocess.run(
        [sys.executable, "-m", "bot", "backup", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )


async def _create(db: Path) -> None:
    clock = FakeClock(dt.datetime(2024, 11, 2, 10, 0, tzinfo=TZ))
    async with await Store.open(db, clock) as store:
        await store.notes.add("教育厅", "7.1", 2024, "u1", "张三", "已检查点的记录")


async def _notes(db: Path) -> list[str]:
    async with await Store.open(db) as store:
        return sorted(note.text for note in await store.notes.find())


def _add_note(live: sqlite3.Connection, text: str) -> None:
    live.execute(
        "INSERT INTO notes (unit, measure_id, year, author_id, author_name, text, created_at) "
        "VALUES ('教育厅', '7.1', 2024, 'u1', '张三', ?, '2024-11-02T10:00:00.000000+08:00')",
        (text,),
    )


def test_backup_copies_what_is_committed_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    asyncio.run(_create(db))
    with closing(sqlite3.connect(db, isolation_level=None)) as live:
        # As the running bot would: committed writes still in the WAL (no checkpoint), and a
        # write transaction open at the moment of the backup.
        live.execute("PRAGMA wal_autocheckpoint = 0")
        _add_note(live, "只在 WAL 中的记录")
        assert Path(f"{db}-wal").stat().st_size > 0
        live.execute("BEGIN IMMEDIATE")
        _add_note(live, "尚未提交的记录")

        result = run_backup(db, tmp_path / "copy.db")

        live.execute("ROLLBACK")
    assert result.returncode == 0, result.stderr
    assert "已将数据库" in result.stdout
    copy = tmp_path / "copy.db"
    with closing(sqlite3.connect(copy)) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # A self-contained file: nothing of it lives in a -wal beside it.
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not (tmp_path / "copy.db.partial").exists()
    # Restored as the README says (copied over FENGONG_DB), the bot opens it.
    restored = tmp_path / "restored" / "fengong.db"
    restored.parent.mkdir()
    restored.write_bytes(copy.read_bytes())
    assert asyncio.run(_notes(restored)) == ["只在 WAL 中的记录", "已检查点的记录"]


def test_backup_refuses_to_overwrite_the_live_database(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    asyncio.run(_create(db))
    (tmp_path / "link.db").symlink_to(db)
    before = db.read_bytes()

    for target in (db, tmp_path / "link.db", Path(f"{db}-wal"), tmp_path / "." / "live.db"):
        result = run_backup(db, target)
        assert result.returncode == 2, target
        assert "不能是正在使用的数据库" in result.stderr
        assert "Traceback" not in result.stderr

    assert db.read_bytes() == before
    assert asyncio.run(_notes(db)) == ["已检查点的记录"]


def test_backup_explains_a_missing_database_or_directory(tmp_path: Path) -> None:
    missing = run_backup(tmp_path / "none.db", tmp_path / "copy.db")
    assert missing.returncode == 2
    assert "none.db" in missing.stderr
    assert "不存在" in missing.stderr

    db = tmp_path / "live.db"
    asyncio.run(_create(db))
    no_dir = run_backup(db, tmp_path / "no" / "copy.db")
    assert no_dir.returncode == 2
    assert "目录" in no_dir.stderr
    assert "Traceback" not in no_dir.stderr


def test_backup_of_a_corrupt_database_says_so(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    db.write_bytes(b"not a database at all" * 100)
    result = run_backup(db, tmp_path / "copy.db")
    assert result.returncode == 2
    assert "已损坏" in result.stderr
    assert not (tmp_path / "copy.db").exists()


def test_backup_into_an_existing_folder_writes_a_named_file_inside(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    asyncio.run(_create(db))
    folder = tmp_path / "bk"
    folder.mkdir()

    for target in (folder, Path(f"{folder}/")):
        result = run_backup(db, target)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        assert str(folder) in result.stdout
    written = sorted(folder.glob("live-backup-*.db"))
    assert written  # two runs within one second write the same name
    for copy in written:
        assert asyncio.run(_notes(copy)) == ["已检查点的记录"]
    assert not list(folder.glob("*.partial"))


def test_every_readme_section_a_message_names_exists() -> None:
    import re

    headings = [
        line
        for line in (ROOT / "README.md").read_text("utf-8").splitlines()
        if line.startswith("#")
    ]
    named = {
        name
        for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")]
        for name in re.findall(r"README「([^」]+)」", path.read_text("utf-8"))
    }
    assert named
    for name in named:
        assert any(name in heading for heading in headings), name

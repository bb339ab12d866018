"""A consistent copy of the live database, safe to take while the bot runs."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from bot.clock import Clock, system_clock
from bot.store import BUSY_TIMEOUT_MS, StoreError, open_error


def _same_file(a: Path, b: Path) -> bool:
    """Tell whether two paths name one file (links included)."""
    try:
        return a.samefile(b)
    except OSError:  # one of them does not exist
        return a.resolve() == b.resolve()


def _copy(source: sqlite3.Connection, target: Path) -> None:
    """Write the source's current content to `target` as a self-contained database."""
    with closing(sqlite3.connect(target)) as copy:
        # All pages in one step, so one read snapshot: writes committed meanwhile (by the
        # running bot, in WAL mode) are simply not in the copy, and nothing waits for it.
        source.backup(copy)
        # Rollback-journal mode makes the copy one self-contained file, which no stray
        # -wal file lying next to it can alter; the bot switches back to WAL when it opens it.
        copy.execute("PRAGMA journal_mode = DELETE")
        [verdict] = copy.execute("PRAGMA quick_check").fetchone()
    if verdict != "ok":
        raise sqlite3.DatabaseError(f"副本校验失败：{verdict}")


def backup(db_path: Path, target: Path, clock: Clock = system_clock) -> Path:
    """Copy the database at `db_path` to `target` (a file, or a folder to write a dated file in).

    Returns the file written.
    """
    if not db_path.is_file():
        raise StoreError(f"数据库 {db_path} 不存在（FENGONG_DB），没有可备份的内容。")
    if target.is_dir():
        # An existing folder: a dated file inside it, as an operator typing `backup var/` means.
        target = target / f"{db_path.stem}-backup-{clock():%Y%m%d-%H%M%S}.db"
    if any(_same_file(db_path.with_name(db_path.name + s), target) for s in ("", "-wal", "-shm")):
        raise StoreError(
            f"备份文件不能是正在使用的数据库 {db_path} 本身，请换一个文件名，"
            "例如 var/fengong-backup.db。"
        )
    if not target.parent.is_dir():
        raise StoreError(f"备份文件所在的目录 {target.parent} 不存在，请先创建。")
    # Written beside the target and renamed at the end: a failed backup leaves no half file
    # under the name an operator would restore from.
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_MS / 1000)) as source:
            source.execute("SELECT count(*) FROM sqlite_master")  # a corrupt file fails here
            try:
                _copy(source, partial)
            except sqlite3.Error as e:
                raise StoreError(
                    f"无法写入备份文件 {target}（{e}），请检查目录权限和磁盘空间。"
                ) from e
        partial.replace(target)
        return target
    except sqlite3.Error as e:
        raise open_error(db_path, e) from e
    finally:
        partial.unlink(missing_ok=True)

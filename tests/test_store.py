"""Tests for bot.store: real SQLite files in tmp_path, a fake clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

import asyncpg
import pytest

import bot.store as store_module
from bot.clock import TZ, fixed_clock
from bot.store import (
    AlreadyDecided,
    BindRequest,
    InviteInvalid,
    NotAuthor,
    NotFound,
    SchemaTooNew,
    Store,
    StoreError,
    migration,
    origin,
)
from bot.store.database import Dialect
from bot.store.migration import DURABLE_INTAKE, MIGRATIONS, QUALIFY_IDS, Migration
from bot.store.sqlite import SQLiteDatabase
from tests.fakes.clock import FakeClock

# What each backend raises for a row its constraints refuse.
REFUSED = (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)
# The store fixture's backends (tests/conftest.py); what is SQLite's own is marked sqlite_only.
BACKENDS = ("sqlite", "postgres")
START = dt.datetime(2025, 12, 1, 9, 30, tzinfo=TZ)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "bot.sqlite3"


@pytest.fixture
def database(request: pytest.FixtureRequest, db_path: Path) -> str | Path:
    """The store's database: `db_path`, or the PostgreSQL one (tests/conftest.py)."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return db_path


@pytest.fixture
async def store(database: str | Path, clock: FakeClock) -> AsyncIterator[Store]:
    async with await Store.open(database, clock) as opened:
        yield opened


def raw(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection, for checking what is really on disk (the file must exist)."""
    return sqlite3.connect(f"file:{path}?mode=rw", uri=True)


# --- opening and migrations -----------------------------------------------------------------


async def test_open_creates_parent_dirs_and_sets_version(db_path: Path) -> None:
    # db_path's parent directory does not exist yet (see the fixture).
    async with await Store.open(db_path, fixed_clock(START)) as s:
        assert await s.schema_version() == len(MIGRATIONS)
    conn = raw(db_path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
    assert {"users", "members", "bind_requests", "invites", "notes", "deliveries", "state"} <= (
        tables
    )


async def test_reopening_is_idempotent_and_keeps_data(db_path: Path, clock: FakeClock) -> None:
    async with await Store.open(db_path, clock) as s:
        note = await s.notes.add("省发展改革委", "1.1", 2025, "u1", "张三", "first")
    for _ in range(3):
        async with await Store.open(db_path, clock) as s:
            assert await s.schema_version() == len(MIGRATIONS)
            assert await s.notes.get(note.id) == note
            await s.close()  # closing twice (again on leaving the block) is harmless


@pytest.mark.sqlite_only
async def test_pragmas(store: Store, db_path: Path) -> None:
    assert isinstance(store.db, SQLiteDatabase)
    db = store.db.connection
    async with db.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone())[0] == "wal"  # type: ignore[index]
    async with db.execute("PRAGMA foreign_keys") as cur:
        assert (await cur.fetchone())[0] == 1  # type: ignore[index]
    async with db.execute("PRAGMA synchronous") as cur:
        assert (await cur.fetchone())[0] == 2  # type: ignore[index]  # FULL
    async with db.execute("PRAGMA busy_timeout") as cur:
        assert (await cur.fetchone())[0] >= 1000  # type: ignore[index]
    # Foreign keys really are enforced: a member must be a known user.
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute(
            "INSERT INTO members (user_id, name, unit, bound_at, bound_by) "
            "VALUES ('ghost', 'n', 'u', '2025-01-01T00:00:00+08:00', 'x')"
        )


async def test_too_new_schema_is_refused(db_path: Path, clock: FakeClock) -> None:
    async with await Store.open(db_path, clock):
        pass
    conn = raw(db_path)
    try:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
        conn.commit()
    finally:
        conn.close()
    with pytest.raises(SchemaTooNew) as info:
        await Store.open(db_path, clock)
    assert info.value.found == len(MIGRATIONS) + 5
    assert info.value.known == len(MIGRATIONS)
    assert "升级" in info.value.message


async def test_failed_migration_rolls_back(
    db_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with await Store.open(db_path, clock):
        pass
    broken = "CREATE TABLE extra (a TEXT); INSERT INTO no_such_table VALUES (1);"
    monkeypatch.setattr(migration, "MIGRATIONS", [*MIGRATIONS, Migration("broken", broken)])
    with pytest.raises(sqlite3.OperationalError):
        await Store.open(db_path, clock)
    conn = raw(db_path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("SELECT name FROM sqlite_master WHERE name='extra'").fetchone() is None
    finally:
        conn.close()


async def test_new_migration_is_applied_once(
    db_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with await Store.open(db_path, clock):
        pass
    # A semicolon inside a string literal must not split the statement.
    extra = "CREATE TABLE extra (a TEXT); INSERT INTO extra VALUES ('x; y');"
    monkeypatch.setattr(migration, "MIGRATIONS", [*MIGRATIONS, Migration("extra", extra)])
    for _ in range(2):
        async with await Store.open(db_path, clock) as s:
            assert await s.schema_version() == len(MIGRATIONS) + 1
    conn = raw(db_path)
    try:
        assert conn.execute("SELECT a FROM extra").fetchall() == [("x; y",)]
    finally:
        conn.close()


async def test_naive_clock_is_refused(db_path: Path) -> None:
    async with await Store.open(db_path, lambda: dt.datetime(2025, 1, 1)) as s:  # noqa: DTZ001
        with pytest.raises(ValueError, match="timezone-aware"):
            await s.notes.add("省财政厅", "1.1", 2025, "u", "张三", "x")


# --- users ----------------------------------------------------------------------------------


async def test_users(store: Store) -> None:
    assert await store.users.get("1") is None
    user = await store.users.upsert("1", "Alice")
    assert (user.private_chat, user.reachable, user.reminders_on) == (False, True, True)
    await store.users.upsert("1", "Alice", private_chat=True)
    user = await store.users.upsert("1", "Alice B.")  # None leaves private_chat alone
    assert user.name == "Alice B."
    assert user.private_chat is True
    await store.users.set_reachable("1", False)
    await store.users.set_reminders("1", False)
    user = await store.users.get("1")  # type: ignore[assignment]
    assert user is not None
    assert (user.reachable, user.reminders_on) == (False, False)
    # Talking to the bot privately again means it can reach them again.
    user = await store.users.upsert("1", "Alice B.", private_chat=True)
    assert user.reachable is True
    assert user.reminders_on is False
    with pytest.raises(NotFound):
        await store.users.set_reachable("nobody", True)


# --- members --------------------------------------------------------------------------------


async def test_bind_unbind_members(store: Store, clock: FakeClock) -> None:
    a = await store.members.bind("a", "甲", "省财政厅", by="coord")
    clock.advance(minutes=1)
    await store.members.bind("b", "乙", "省教育厅", by="coord")
    clock.advance(minutes=1)
    await store.members.bind("c", "丙", "省财政厅", by="coord")
    assert a.bound_at == START
    assert a.bound_at.tzinfo is not None
    assert [(m.unit, m.user_id) for m in await store.members.bound()] == [
        ("省教育厅", "b"),
        ("省财政厅", "a"),
        ("省财政厅", "c"),
    ]
    assert [m.user_id for m in await store.members.bound("省财政厅")] == ["a", "c"]
    # Binding again moves the person: one unit per person.
    clock.advance(minutes=1)
    moved = await store.members.bind("a", "甲", "省教育厅", by="coord2")
    assert await store.members.get("a") == moved
    assert (moved.unit, moved.bound_by) == ("省教育厅", "coord2")
    assert [m.user_id for m in await store.members.bound("省财政厅")] == ["c"]
    assert [m.user_id for m in await store.members.bound("省教育厅")] == ["b", "a"]
    # bind creates the user row it needs.
    assert (await store.users.get("a")) is not None
    assert await store.members.unbind("a") == moved
    assert await store.members.get("a") is None
    assert await store.members.unbind("a") is None


# --- bind requests --------------------------------------------------------------------------


async def test_request_replacement(store: Store, clock: FakeClock) -> None:
    first = await store.members.request_binding("u", "张三", "省财政厅")
    assert first.status == "pending"
    assert first.decided_at is None
    clock.advance(minutes=5)
    second = await store.members.request_binding("u", "张三", "省教育厅")
    assert second.id != first.id
    old = await store.members.binding_request(first.id)
    assert old is not None
    assert old.status == "replaced"
    assert old.decided_at == START + dt.timedelta(minutes=5)
    assert [r.id for r in await store.members.pending_requests()] == [second.id]
    # Another person's request does not replace anything.
    other = await store.members.request_binding("v", "李四", "省财政厅")
    assert (await store.members.binding_request(second.id)).status == "pending"  # type: ignore[union-attr]
    assert [r.id for r in await store.members.pending_requests()] == [second.id, other.id]
    assert await store.members.binding_request(9999) is None


async def test_decide_approve_binds(store: Store, clock: FakeClock) -> None:
    request = await store.members.request_binding("u", "张三", "省财政厅")
    clock.advance(hours=1)
    decided = await store.members.decide(request.id, approve=True, by="coord")
    assert decided.status == "approved"
    assert decided.decided_by == "coord"
    assert decided.decided_at == START + dt.timedelta(hours=1)
    member = await store.members.get("u")
    assert member is not None
    assert (member.name, member.unit, member.bound_by) == ("张三", "省财政厅", "coord")
    assert await store.members.binding_request(request.id) == decided


async def test_decide_reject_does_not_bind(store: Store) -> None:
    request = await store.members.request_binding("u", "张三", "省财政厅")
    decided = await store.members.decide(request.id, approve=False, by="coord")
    assert decided.status == "rejected"
    assert await store.members.get("u") is None


async def test_deciding_twice_is_refused(store: Store) -> None:
    request = await store.members.request_binding("u", "张三", "省财政厅")
    await store.members.decide(request.id, approve=False, by="c1")
    with pytest.raises(AlreadyDecided) as info:
        await store.members.decide(request.id, approve=True, by="c2")
    assert info.value.request.status == "rejected"
    assert info.value.request.decided_by == "c1"
    assert await store.members.get("u") is None  # the refused approval bound nobody
    with pytest.raises(NotFound):
        await store.members.decide(12345, approve=True, by="c1")


async def test_replaced_request_cannot_be_decided(store: Store) -> None:
    first = await store.members.request_binding("u", "张三", "省财政厅")
    await store.members.request_binding("u", "张三", "省教育厅")
    with pytest.raises(AlreadyDecided):
        await store.members.decide(first.id, approve=True, by="coord")
    assert await store.members.get("u") is None


async def test_concurrent_decide_on_two_connections(db_path: Path, clock: FakeClock) -> None:
    async with (
        await Store.open(db_path, clock) as one,
        await Store.open(db_path, clock) as two,
    ):
        for round_ in range(5):
            request = await one.members.request_binding(f"u{round_}", "张三", "省财政厅")
            results = await asyncio.gather(
                one.members.decide(request.id, approve=True, by="c1"),
                two.members.decide(request.id, approve=False, by="c2"),
                return_exceptions=True,
            )
            wins = [r for r in results if isinstance(r, BindRequest)]
            losses = [r for r in results if isinstance(r, AlreadyDecided)]
            assert len(wins) == 1, results
            assert len(losses) == 1, results
            final = await two.members.binding_request(request.id)
            assert final == wins[0]
            # The loser saw the winner's decision, and the binding matches it.
            assert losses[0].request == wins[0]
            bound = await one.members.get(f"u{round_}")
            assert (bound is not None) == (wins[0].status == "approved")


async def test_concurrent_decide_on_one_connection(store: Store) -> None:
    request = await store.members.request_binding("u", "张三", "省财政厅")
    results = await asyncio.gather(
        *(store.members.decide(request.id, approve=True, by=f"c{i}") for i in range(4)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, BindRequest) for r in results) == 1
    assert sum(isinstance(r, AlreadyDecided) for r in results) == 3


# --- invites --------------------------------------------------------------------------------


async def test_invite_code_is_deep_link_safe(store: Store) -> None:
    codes = {(await store.members.create_invite("省财政厅", "coord")).code for _ in range(100)}
    assert len(codes) == 100
    for code in codes:
        # Letters and digits only: nothing any markup (WeCom's "_") could take for its own.
        assert re.fullmatch(r"[A-Za-z0-9]{16}", code)


async def test_invite_single_use(store: Store, clock: FakeClock) -> None:
    invite = await store.members.create_invite("省财政厅", "coord")
    assert invite.expires_at == START + dt.timedelta(days=7)
    assert invite.used_by is None
    clock.advance(days=1)
    member = await store.members.redeem_invite(invite.code, "u", "张三")
    assert (member.user_id, member.unit, member.bound_by) == ("u", "省财政厅", "coord")
    assert await store.members.get("u") == member
    used = await store.members.invite(invite.code)
    assert used is not None
    assert (used.used_by, used.used_at) == ("u", START + dt.timedelta(days=1))
    with pytest.raises(InviteInvalid) as info:
        await store.members.redeem_invite(invite.code, "v", "李四")
    assert info.value.reason == "used"
    assert await store.members.get("v") is None


async def test_invite_expired(store: Store, clock: FakeClock) -> None:
    invite = await store.members.create_invite("省财政厅", "coord", ttl=dt.timedelta(hours=1))
    clock.advance(minutes=59, seconds=59)
    still_valid = await store.members.create_invite(
        "省财政厅", "coord", ttl=dt.timedelta(seconds=2)
    )
    await store.members.redeem_invite(still_valid.code, "w", "王五")
    clock.advance(seconds=1)  # exactly at expiry: no longer valid
    with pytest.raises(InviteInvalid) as info:
        await store.members.redeem_invite(invite.code, "u", "张三")
    assert info.value.reason == "expired"
    assert "过期" in info.value.message
    assert await store.members.get("u") is None
    assert (await store.members.invite(invite.code)).used_by is None  # type: ignore[union-attr]


@pytest.mark.parametrize("code", ["nope", "", "a b", "x" * 65, "'; DROP TABLE invites; --"])
async def test_invite_unknown(store: Store, code: str) -> None:
    await store.members.create_invite("省财政厅", "coord")
    with pytest.raises(InviteInvalid) as info:
        await store.members.redeem_invite(code, "u", "张三")
    assert info.value.reason == "unknown"
    assert isinstance(info.value, StoreError)
    assert await store.members.get("u") is None


async def test_concurrent_redeem_on_two_connections(db_path: Path, clock: FakeClock) -> None:
    async with (
        await Store.open(db_path, clock) as one,
        await Store.open(db_path, clock) as two,
    ):
        invite = await one.members.create_invite("省财政厅", "coord")
        results = await asyncio.gather(
            one.members.redeem_invite(invite.code, "a", "甲"),
            two.members.redeem_invite(invite.code, "b", "乙"),
            return_exceptions=True,
        )
        assert sum(not isinstance(r, BaseException) for r in results) == 1, results
        assert [r.reason for r in results if isinstance(r, InviteInvalid)] == ["used"]
        assert len(await one.members.bound("省财政厅")) == 1


# --- notes ----------------------------------------------------------------------------------

TRICKY = [
    "'\"; DROP TABLE notes; --",
    "<b>x</b> & <i",
    "🎉👍🏽",
    "第一行\n第二行\r\n\t第三行  \n",
    "",
    "%s ? :name $1 \\ \x00 end",
]


@pytest.mark.parametrize("text", TRICKY)
async def test_note_text_round_trips_exactly(store: Store, text: str) -> None:
    if "\x00" in text and store.db.dialect == "postgres":
        # PostgreSQL's text holds no NUL: refused whole, never cut (what people type reaches
        # the store without it: bot/charset.py drops control characters).
        with pytest.raises(asyncpg.CharacterNotInRepertoireError):
            await store.notes.add("省财政厅", "1.1", 2025, "u", "张三", text)
        assert await store.notes.find() == []
        return
    note = await store.notes.add("省财政厅", "1.1", 2025, "u", "张三", text)
    assert note.text == text
    fetched = await store.notes.get(note.id)
    assert fetched is not None
    assert fetched.text == text
    edited = await store.notes.edit(note.id, "u", text + "!")
    assert edited.text == text + "!"
    assert [n.text for n in await store.notes.find()] == [text + "!"]


async def test_note_lifecycle_and_permissions(store: Store, clock: FakeClock) -> None:
    note = await store.notes.add("省财政厅", "2.3", 2025, "u", "张三", "已完成")
    assert (note.created_at, note.updated_at, note.deleted) == (START, None, False)
    assert await store.notes.get(note.id) == note

    clock.advance(minutes=10)
    with pytest.raises(NotAuthor):
        await store.notes.edit(note.id, "intruder", "hacked")
    edited = await store.notes.edit(note.id, "u", "已完成（修订）")
    assert edited.text == "已完成（修订）"
    assert edited.updated_at == START + dt.timedelta(minutes=10)
    assert edited.created_at == START

    with pytest.raises(NotAuthor):
        await store.notes.delete(note.id, "intruder")
    assert not (await store.notes.get(note.id)).deleted  # type: ignore[union-attr]
    clock.advance(minutes=1)
    deleted = await store.notes.delete(note.id, "u")
    assert deleted.deleted
    assert (deleted.deleted_by, deleted.deleted_at) == ("u", START + dt.timedelta(minutes=11))
    assert deleted.text == "已完成（修订）"

    # Deleted notes can be neither edited nor deleted again (whoever asks).
    with pytest.raises(NotFound):
        await store.notes.edit(note.id, "u", "again")
    with pytest.raises(NotFound):
        await store.notes.delete(note.id, "u")
    with pytest.raises(NotFound):
        await store.notes.edit(note.id, "intruder", "again")
    with pytest.raises(NotFound):
        await store.notes.edit(9999, "u", "x")
    with pytest.raises(NotFound):
        await store.notes.delete(9999, "u")
    # note() still returns it, marked deleted.
    assert await store.notes.get(note.id) == deleted
    assert await store.notes.get(9999) is None


async def test_notes_filters_order_and_soft_delete(store: Store, clock: FakeClock) -> None:
    a = await store.notes.add("省财政厅", "1.1", 2025, "u", "张三", "a")
    b = await store.notes.add("省财政厅", "1.2", 2025, "u", "张三", "b")  # same instant as a
    clock.advance(minutes=1)
    c = await store.notes.add("省教育厅", "1.1", 2025, "v", "李四", "c")
    clock.advance(minutes=1)
    d = await store.notes.add("省财政厅", "1.1", 2026, "u", "张三", "d")

    def ids(notes: list[store_module.Note]) -> list[int]:
        return [n.id for n in notes]

    assert ids(await store.notes.find()) == [d.id, c.id, b.id, a.id]
    assert ids(await store.notes.find(unit="省财政厅")) == [d.id, b.id, a.id]
    assert ids(await store.notes.find(year=2025)) == [c.id, b.id, a.id]
    assert ids(await store.notes.find(unit="省财政厅", year=2025)) == [b.id, a.id]
    assert await store.notes.find(unit="无此单位") == []

    await store.notes.delete(b.id, "u")
    assert ids(await store.notes.find(unit="省财政厅", year=2025)) == [a.id]
    with_deleted = await store.notes.find(unit="省财政厅", year=2025, include_deleted=True)
    assert ids(with_deleted) == [b.id, a.id]
    assert with_deleted[0].deleted


async def test_reported_measures_ignores_deleted(store: Store) -> None:
    await store.notes.add("省财政厅", "1.1", 2025, "u", "张三", "x")
    await store.notes.add("省财政厅", "1.1", 2025, "u", "张三", "again")
    gone = await store.notes.add("省财政厅", "2.1", 2025, "u", "张三", "y")
    await store.notes.add("省教育厅", "3.4", 2025, "v", "李四", "z")
    only_deleted = await store.notes.add("省民政厅", "1.1", 2025, "w", "王五", "w")
    await store.notes.add("省财政厅", "9.9", 2024, "u", "张三", "last year")
    await store.notes.delete(gone.id, "u")
    await store.notes.delete(only_deleted.id, "w")
    assert await store.notes.reported_measures(2025) == {
        "省财政厅": {"1.1"},
        "省教育厅": {"3.4"},
    }
    assert await store.notes.reported_measures(2024) == {"省财政厅": {"9.9"}}
    assert await store.notes.reported_measures(2030) == {}


@pytest.mark.sqlite_only
async def test_note_is_on_disk_when_add_note_returns(store: Store, db_path: Path) -> None:
    note = await store.notes.add("省财政厅", "1.1", 2025, "u", "张三", "committed")
    # A second, independent connection sees it: no transaction was left open.
    conn = raw(db_path)
    try:
        row = conn.execute("SELECT text FROM notes WHERE id = ?", (note.id,)).fetchone()
    finally:
        conn.close()
    assert row == ("committed",)
    assert isinstance(store.db, SQLiteDatabase)
    assert not store.db.connection.in_transaction


# --- deliveries -----------------------------------------------------------------------------


async def test_deliveries(store: Store, clock: FakeClock) -> None:
    assert await store.reminders.keys() == set()
    await store.reminders.plan("year-end-2025", ["3", "1", "2"])
    assert await store.reminders.pending("year-end-2025") == ["1", "2", "3"]
    assert await store.reminders.deliveries("year-end-2025") == {
        "1": "pending",
        "2": "pending",
        "3": "pending",
    }

    await store.reminders.mark("year-end-2025", "1", "sent")
    await store.reminders.mark("year-end-2025", "2", "failed")
    await store.reminders.mark("year-end-2025", "2", "blocked")
    assert await store.reminders.pending("year-end-2025") == ["3"]
    assert await store.reminders.deliveries("year-end-2025") == {
        "1": "sent",
        "2": "blocked",
        "3": "pending",
    }
    assert await store.reminders.attempts("year-end-2025", "2") == 2
    assert await store.reminders.attempts("year-end-2025", "3") == 0

    # Planning again does not reset what already happened.
    await store.reminders.plan("year-end-2025", ["1", "2", "3", "4"])
    assert await store.reminders.deliveries("year-end-2025") == {
        "1": "sent",
        "2": "blocked",
        "3": "pending",
        "4": "pending",
    }
    assert await store.reminders.attempts("year-end-2025", "1") == 1

    # An unplanned delivery is still recorded.
    await store.reminders.mark("other", "9", "sent")
    assert await store.reminders.deliveries("other") == {"9": "sent"}
    await store.reminders.plan("empty", [])
    assert await store.reminders.keys() == {"year-end-2025", "other"}
    assert await store.reminders.pending("nothing") == []

    with pytest.raises(REFUSED):
        await store.reminders.mark("other", "9", "bogus")  # type: ignore[arg-type]
    assert await store.reminders.deliveries("other") == {"9": "sent"}


async def test_deliveries_persist(db_path: Path, clock: FakeClock) -> None:
    async with await Store.open(db_path, clock) as s:
        await s.reminders.plan("k", ["a", "b"])
        await s.reminders.mark("k", "a", "sent")
    async with await Store.open(db_path, clock) as s:
        assert await s.reminders.pending("k") == ["b"]


# --- state ----------------------------------------------------------------------------------


async def test_state(store: Store, database: str | Path, clock: FakeClock) -> None:
    assert await store.state.get("last_import") is None
    await store.state.set("last_import", "v1")
    await store.state.set("last_import", "v2 🎉\n'x'")
    await store.state.set("other", "")
    assert await store.state.get("last_import") == "v2 🎉\n'x'"
    assert await store.state.get("other") == ""
    async with await Store.open(database, clock) as again:
        assert await again.state.get("last_import") == "v2 🎉\n'x'"


# --- errors ---------------------------------------------------------------------------------


def test_error_messages_are_chinese() -> None:
    for error in (NotFound(), NotAuthor(), InviteInvalid("used"), SchemaTooNew(3, 1)):
        assert isinstance(error, StoreError)
        assert re.search(r"[\u4e00-\u9fff]", str(error)), error
        assert str(error) == error.message
    reasons: list[Literal["unknown", "used", "expired"]] = ["unknown", "used", "expired"]
    assert len({InviteInvalid(r).message for r in reasons}) == 3


# --- the audit trail --------------------------------------------------------------------------


def _trail(entries: list[store_module.AuditEntry]) -> list[tuple[str, str, str, str, str]]:
    """Oldest first, as (action, actor id, actor name, unit, subject)."""
    return [(e.action, e.actor_id, e.actor_name, e.unit, e.subject) for e in reversed(entries)]


async def test_every_change_is_in_the_audit_trail(store: Store, clock: FakeClock) -> None:
    await store.users.upsert("boss", "王主任")
    asked = await store.members.request_binding("u1", "张三", "教育厅")
    clock.advance(minutes=1)
    await store.members.decide(asked.id, True, "boss")
    refused = await store.members.request_binding("u2", "李四", "民政厅")
    await store.members.decide(refused.id, False, "boss")
    invite = await store.members.create_invite("财政厅", "boss", ttl=dt.timedelta(days=7))
    await store.members.redeem_invite(invite.code, "u3", "赵五")
    note = await store.notes.add("教育厅", "7.1", 2025, "u1", "张三", "秘密的进展内容")
    await store.notes.edit(note.id, "u1", "修改后的秘密内容")
    await store.notes.delete(note.id, "u1")
    await store.members.unbind("u3")
    await store.members.bind("u4", "钱六", "省残联", "boss")
    await store.audit.record("boss", "王主任", "export", "", "2025 年进展汇总")

    entries = await store.audit.entries()

    on_note = f"记录 #{note.id}，举措 7.1（2025 年）"
    assert _trail(entries) == [
        ("bind.request", "u1", "张三", "教育厅", f"申请 #{asked.id}"),
        ("bind.approved", "boss", "王主任", "教育厅", f"申请 #{asked.id}：张三（ID u1）"),
        ("bind.request", "u2", "李四", "民政厅", f"申请 #{refused.id}"),
        ("bind.rejected", "boss", "王主任", "民政厅", f"申请 #{refused.id}：李四（ID u2）"),
        ("invite.create", "boss", "王主任", "财政厅", "有效期至 2025-12-08 09:31"),
        ("invite.use", "u3", "赵五", "财政厅", "邀请人 ID boss"),
        ("note.add", "u1", "张三", "教育厅", on_note),
        ("note.edit", "u1", "张三", "教育厅", on_note),
        ("note.delete", "u1", "张三", "教育厅", on_note),
        ("unbind", "u3", "赵五", "财政厅", ""),
        ("bind", "boss", "王主任", "省残联", "钱六（ID u4）"),
        ("export", "boss", "王主任", "", "2025 年进展汇总"),
    ]
    assert entries[-1].at == START
    assert entries[0].at == START + dt.timedelta(minutes=1)
    assert entries[0].at.tzinfo is not None
    # Neither a note's text nor an invite's code (which would let a reader bind) is recorded.
    dump = repr([tuple(row) for row in await store.db.fetch("SELECT * FROM audit")])
    assert "秘密" not in dump
    assert invite.code not in dump


async def test_a_refused_change_leaves_no_audit_entry(store: Store) -> None:
    note = await store.notes.add("教育厅", "7.1", 2025, "u1", "张三", "进展")
    asked = await store.members.request_binding("u2", "李四", "民政厅")
    await store.members.decide(asked.id, True, "boss")
    before = len(await store.audit.entries())

    with pytest.raises(NotAuthor):
        await store.notes.edit(note.id, "intruder", "篡改")
    with pytest.raises(AlreadyDecided):
        await store.members.decide(asked.id, False, "boss")
    with pytest.raises(InviteInvalid):
        await store.members.redeem_invite("nosuchcode", "u3", "赵五")
    assert await store.members.unbind("never-bound") is None

    assert len(await store.audit.entries()) == before


@pytest.mark.sqlite_only
async def test_the_audit_entry_commits_with_its_change_or_neither(
    store: Store, db_path: Path
) -> None:
    conn = raw(db_path)
    try:
        conn.execute(
            "CREATE TRIGGER audit_fails BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'x'); END"
        )
        conn.commit()
    finally:
        conn.close()

    with pytest.raises(sqlite3.IntegrityError):
        await store.notes.add("教育厅", "7.1", 2025, "u1", "张三", "进展")

    assert await store.notes.find() == []


async def test_audit_entries_newest_first_limited_and_by_year(
    store: Store, clock: FakeClock
) -> None:
    for year in (2024, 2025):
        clock.set(dt.datetime(year, 12, 31, 23, 59, tzinfo=TZ))
        for n in range(3):
            await store.audit.record("boss", "王主任", "export", "", f"{year}-{n}")

    assert [e.subject for e in await store.audit.entries(2)] == ["2025-2", "2025-1"]
    assert [e.subject for e in await store.audit.entries(year=2024)] == [
        "2024-2",
        "2024-1",
        "2024-0",
    ]


# --- note flows and owed notices --------------------------------------------------------------


async def test_asking_again_for_the_same_unit_files_nothing(store: Store) -> None:
    first = await store.members.request_binding("u", "张三", "省财政厅")

    again = await store.members.request_binding("u", "张三", "省财政厅")

    assert again == first
    assert await store.members.pending_request("u") == first
    assert [r.id for r in await store.members.pending_requests()] == [first.id]


async def test_a_decision_and_its_notice_commit_together(store: Store) -> None:
    request = await store.members.request_binding("u", "张三", "省财政厅")
    await store.members.bind("u", "张三", "省教育厅", "c")
    await store.flows.start("u", "note", "7.1", "省教育厅")

    await store.members.decide(request.id, approve=True, by="c1")

    (notice,) = await store.notices.pending("u")
    assert (notice.kind, notice.payload) == (
        "approved",
        {"unit": "省财政厅", "ended": {"kind": "note", "target": "7.1"}},
    )
    assert await store.flows.get("u") is None  # a note for 省教育厅 cannot become 省财政厅's
    await store.notices.mark(notice.id, "sent")
    assert await store.notices.pending() == []
    rows = await store.db.fetch("SELECT status, attempts FROM notices")
    assert [tuple(row) for row in rows] == [("sent", 1)]


async def test_a_refused_decision_records_no_notice(store: Store) -> None:
    request = await store.members.request_binding("u", "张三", "省财政厅")
    await store.members.decide(request.id, approve=False, by="c1")
    with pytest.raises(AlreadyDecided):
        await store.members.decide(request.id, approve=True, by="c2")
    assert [n.kind for n in await store.notices.pending()] == ["rejected"]


async def test_a_flow_ends_when_the_unit_changes_not_otherwise(store: Store) -> None:
    await store.members.bind("u", "张三", "省财政厅", "c")
    flow = await store.flows.start("u", "edit", "3", "省财政厅")
    assert await store.flows.get("u") == flow
    await store.members.bind("u", "张三", "省财政厅", "c")  # the same unit again
    assert await store.flows.get("u") == flow
    await store.members.bind("u", "张三", "省教育厅", "c")
    assert await store.flows.get("u") is None
    await store.flows.start("u", "note", "7.1", "省教育厅")
    await store.members.unbind("u")
    assert await store.flows.get("u") is None
    assert await store.flows.end("u") is None


async def test_a_note_and_the_end_of_its_flow_commit_together(store: Store) -> None:
    await store.flows.start("u", "note", "1.1", "省发展改革委")
    note = await store.notes.add("省发展改革委", "1.1", 2025, "u", "张三", "x", ends_flow=True)
    assert await store.flows.get("u") is None
    await store.flows.start("u", "edit", str(note.id), "省发展改革委")
    await store.notes.edit(note.id, "u", "y", ends_flow=True)
    assert await store.flows.get("u") is None
    flow = await store.flows.start("u", "edit", str(note.id), "省发展改革委")
    await store.notes.delete(note.id, "u")
    with pytest.raises(NotFound):  # refused: the whole edit rolled back, the flow with it
        await store.notes.edit(note.id, "u", "z", ends_flow=True)
    assert await store.flows.get("u") == flow


@pytest.mark.sqlite_only
async def test_no_flow_is_read_once_and_a_flow_started_later_is_found(store: Store) -> None:
    reads: list[str] = []
    assert isinstance(store.db, SQLiteDatabase)
    await store.db.connection.set_trace_callback(reads.append)
    other = store.document("other")
    for _ in range(3):  # a person's questions: each asks whether a note is awaited
        assert await store.flows.get("u") is None
        assert await other.flows.get("u") is None
    assert sum(r.startswith("SELECT * FROM flows") for r in reads) == 2  # once per document
    flow = await other.flows.start("u", "note", "1.1", "省发展改革委")
    assert await other.flows.get("u") == flow  # the note's text is taken as the note
    assert await store.flows.get("u") is None
    await other.flows.end("u")
    assert await other.flows.get("u") is None
    flow = await store.flows.start("u", "edit", "3", "省财政厅")  # the same person, elsewhere
    assert await store.flows.get("u") == flow
    assert await other.flows.get("u") is None  # one flow per person: it moved


async def test_a_flow_started_while_no_flow_is_read_is_found(store: Store) -> None:
    # A read and a start racing: whichever the lock lets first, the flow is found after.
    read, started = await asyncio.gather(
        store.flows.get("u"), store.flows.start("u", "note", "1.1", "省发展改革委")
    )
    assert read is None
    assert await store.flows.get("u") == started


async def test_the_ids_migration_qualifies_telegram_ids_in_every_column(tmp_path: Path) -> None:
    path, before = tmp_path / "old.db", [m.sqlite for m in MIGRATIONS].index(QUALIFY_IDS)
    with sqlite3.connect(path) as conn:
        for step in MIGRATIONS[:before]:
            conn.executescript(step.sqlite)
        conn.execute(f"PRAGMA user_version = {before}")
        at = "2026-03-02T09:00:00+08:00"
        for user in ("123", "-1001", "console", "wecom:ZhangSan", "12a"):
            conn.execute("INSERT INTO users VALUES (?, 'n', 1, 1, 1, ?, ?)", (user, at, at))
        conn.execute("INSERT INTO members VALUES ('123', '张三', '教育厅', ?, '456')", (at,))
        conn.execute(
            "INSERT INTO members VALUES ('wecom:ZhangSan', '李四', '教育厅', ?, '9')", (at,)
        )
        conn.execute(
            "INSERT INTO bind_requests (user_id, name, unit, status, created_at, decided_at, "
            "decided_by) VALUES ('-1001', '王五', '教育厅', 'approved', ?, ?, 'console')",
            (at, at),
        )
        conn.execute(
            "INSERT INTO invites VALUES ('c0de', '教育厅', '456', ?, ?, '12a', ?)", (at, at, at)
        )
        conn.execute(
            "INSERT INTO notes (unit, measure_id, year, author_id, author_name, text, "
            "created_at, deleted_at, deleted_by) VALUES ('教育厅', '5.1', 2026, '123', '张三', "
            "'x', ?, ?, '123')",
            (at, at),
        )
        conn.execute("INSERT INTO deliveries VALUES ('k', '123', 'sent', 1, ?)", (at,))
        conn.execute(
            "INSERT INTO audit (at, actor_id, actor_name, action) VALUES (?, '7', 'a', 'b')", (at,)
        )
        conn.execute("INSERT INTO flows VALUES ('123', 'note', '5.1', '教育厅', ?)", (at,))
        conn.execute(
            "INSERT INTO notices (user_id, kind, payload, created_at, updated_at) "
            "VALUES ('123', 'approved', '{}', ?, ?)",
            (at, at),
        )

    async with await Store.open(path, fixed_clock(dt.datetime(2026, 3, 2, tzinfo=TZ))):
        pass

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert {r[0] for r in conn.execute("SELECT id FROM users")} == {
            "tg:123",
            "tg:-1001",
            "console",
            "wecom:zhangsan",  # (lower-cased by a later migration: WeCom ignores case)
            "12a",
        }
        assert conn.execute("SELECT user_id, bound_by FROM members ORDER BY name").fetchall() == [
            ("tg:123", "tg:456"),
            ("wecom:zhangsan", "tg:9"),
        ]
        assert conn.execute("SELECT user_id, decided_by FROM bind_requests").fetchall() == [
            ("tg:-1001", "console")
        ]
        assert conn.execute("SELECT created_by, used_by FROM invites").fetchall() == [
            ("tg:456", "12a")
        ]
        assert conn.execute("SELECT author_id, deleted_by FROM notes").fetchall() == [
            ("tg:123", "tg:123")
        ]
        for table, column in (
            ("deliveries", "user_id"),
            ("audit", "actor_id"),
            ("flows", "user_id"),
            ("notices", "user_id"),
        ):
            assert conn.execute(f"SELECT {column} FROM {table}").fetchall() in (
                [("tg:123",)],
                [("tg:7",)],
            ), table


async def test_a_folder_is_no_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="是一个文件夹"):
        await Store.open(tmp_path)


async def test_the_audit_year_migration_takes_a_notes_year_from_its_entry(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    before = next(i for i, m in enumerate(MIGRATIONS) if "audit ADD COLUMN year" in m.sqlite)
    with sqlite3.connect(path) as conn:
        for step in MIGRATIONS[:before]:
            conn.executescript(step.sqlite)
        conn.execute(f"PRAGMA user_version = {before}")
        rows = [
            ("2026-12-07T09:00:00+08:00", "note.add", "记录 #3，举措 5.1（2024 年）"),
            ("2026-12-07T09:05:00+08:00", "export", "2024 年进展汇总"),
        ]
        conn.executemany(
            "INSERT INTO audit (at, actor_id, actor_name, action, subject) "
            "VALUES (?, 'u', 'a', ?, ?)",
            rows,
        )

    async with await Store.open(path, fixed_clock(dt.datetime(2026, 12, 7, tzinfo=TZ))) as store:
        assert [e.action for e in await store.audit.entries(year=2024)] == ["note.add"]
        assert [e.action for e in await store.audit.entries(year=2026)] == ["export"]


async def test_the_intake_migration_lower_cases_wecom_ids_it_can(tmp_path: Path) -> None:
    """WeCom ignores a UserId's case: stored ones become what the adapter now reads."""
    path, before = tmp_path / "old.db", [m.sqlite for m in MIGRATIONS].index(DURABLE_INTAKE)
    with sqlite3.connect(path) as conn:
        for step in MIGRATIONS[:before]:
            conn.executescript(step.sqlite)
        conn.execute(f"PRAGMA user_version = {before}")
        at = "2026-03-02T09:00:00+08:00"
        for user in ("wecom:ZhangSan", "wecom:Li", "wecom:li", "tg:7", "console"):
            conn.execute(
                "INSERT INTO users (id, name, created_at, updated_at) VALUES (?, 'n', ?, ?)",
                (user, at, at),
            )
        conn.execute(
            "INSERT INTO members (user_id, name, unit, bound_at, bound_by) "
            "VALUES ('wecom:ZhangSan', '张三', '教育厅', ?, 'wecom:Boss')",
            (at,),
        )
        conn.execute(
            "INSERT INTO notes (unit, measure_id, year, author_id, author_name, text, "
            "created_at) VALUES ('教育厅', '5.1', 2026, 'wecom:ZhangSan', '张三', 'x', ?)",
            (at,),
        )
        conn.execute(
            "INSERT INTO flows VALUES ('wecom:ZhangSan', 'note', '5.1', '教育厅', ?, '')", (at,)
        )

    async with await Store.open(path, fixed_clock(dt.datetime(2026, 3, 2, tzinfo=TZ))) as store:
        member = await store.members.get("wecom:zhangsan")
        assert member is not None
        assert member.bound_by == "wecom:boss"
        assert [n.author_id for n in await store.notes.find(year=2026)] == ["wecom:zhangsan"]
        assert await store.flows.get("wecom:zhangsan") is not None

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert {r[0] for r in conn.execute("SELECT id FROM users")} == {
            "wecom:zhangsan",
            "wecom:Li",  # "wecom:li" is taken: left as it was, not merged
            "wecom:li",
            "tg:7",
            "console",
        }


async def test_a_note_filed_again_by_the_same_delivery_is_the_same_note(store: Store) -> None:
    """Handling a stored message again after a crash finds its note, not a second one."""
    await store.members.bind("u", "张三", "省发展改革委", "c")
    token = origin.set("inbox:7")
    try:
        first = await store.notes.add("省发展改革委", "5.1", 2026, "u", "张三", "完成")
        again = await store.notes.add("省发展改革委", "5.1", 2026, "u", "张三", "完成")
    finally:
        origin.reset(token)
    other = await store.notes.add("省发展改革委", "5.1", 2026, "u", "张三", "完成")
    assert again == first
    assert other.id != first.id  # typed twice by the member: two notes
    assert len(await store.notes.find(year=2026)) == 2
    assert [e.action for e in await store.audit.entries()].count("note.add") == 2


class SharedServer(SQLiteDatabase):
    """SQLite standing in for a database other instances write to as well."""

    dialect: Dialect = "postgres"


@pytest.mark.parametrize("shared", [False, True])
async def test_no_flow_is_remembered_only_where_this_process_is_the_one_writer(
    db_path: Path, clock: FakeClock, shared: bool
) -> None:
    async with await Store.open(db_path, clock):
        pass  # migrated
    kind = SharedServer if shared else SQLiteDatabase
    async with Store(await kind.open(db_path), clock) as store:
        assert await store.flows.get("u") is None
        with sqlite3.connect(db_path) as other:  # another instance starts a note flow
            other.execute(
                "INSERT INTO flows (doc, user_id, kind, target, unit, started_at) "
                "VALUES ('', 'u', 'note', '1.1', '省发展改革委', ?)",
                (START.isoformat(),),
            )
        found = await store.flows.get("u")
        # One SQLite process is the only writer: it need not ask again. A shared server must.
        assert (found is not None) is shared


async def test_the_document_of_a_row_is_found_by_its_key_as_typed(store: Store) -> None:
    note = await store.document("jiuye").notes.add("省财政厅", "1.1", 2025, "u", "张三", "x")
    request = await store.members.request_binding("u", "张三", "省财政厅")
    assert await store.doc_of("note", str(note.id)) == "jiuye"
    assert await store.doc_of("request", str(request.id)) == ""
    for wrong in ("x1", "", "-1", "1" * 40, "１"):  # typed into a button's key: no such row
        assert await store.doc_of("note", wrong) is None


def test_a_sqlite_store_does_without_the_postgresql_driver(tmp_path: Path) -> None:
    """asyncpg loads only for a postgresql:// database: a bot on SQLite starts without it."""
    code = (
        "import asyncio, sys\nfrom pathlib import Path\nfrom bot.store import Store\n"
        "async def main():\n    async with await Store.open(Path(sys.argv[1])):\n        pass\n"
        "asyncio.run(main())\nprint('asyncpg' in sys.modules, 'bot.store.postgres' in sys.modules)"
    )
    db = tmp_path / "bot.sqlite3"
    done = subprocess.run(
        [sys.executable, "-c", code, str(db)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert db.exists()
    assert done.stdout.split() == ["False", "False"]

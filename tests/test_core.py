"""The core's bookkeeping of who talks to the bot: one write per change, never a change missed."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3

import aiosqlite
import pytest

from bot.ask.assistant import Assistant
from bot.clock import TZ
from bot.config import Config
from bot.core import Core
from bot.outcome import Person
from bot.store import Store, StoreError
from bot.store.postgres import PostgresDatabase
from bot.store.sqlite import SQLiteDatabase
from tests.cores import make_core
from tests.fakes.clock import FakeClock

ZHANG = Person("tg:1", "张三")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2025, 3, 1, 9, 0, tzinfo=TZ))


@pytest.fixture
def core(assistant: Assistant, store: Store, clock: FakeClock) -> Core:
    return make_core(assistant, store, (), clock)


def raw(store: Store) -> aiosqlite.Connection:
    """The store's own SQLite connection."""
    assert isinstance(store.db, SQLiteDatabase)
    return store.db.connection


async def user_writes(store: Store) -> list[str]:
    """Collect every statement that writes the users table, as SQLite runs it."""
    statements: list[str] = []
    await raw(store).set_trace_callback(statements.append)
    return statements


def upserts(statements: list[str]) -> int:
    return sum(s.startswith("INSERT INTO users") for s in statements)


async def test_messages_arriving_together_record_the_person_once(core: Core, store: Store) -> None:
    statements = await user_writes(store)
    # Ten messages of one person, each recording them before its answer.
    await asyncio.gather(*(core.seen(ZHANG) for _ in range(10)))
    assert upserts(statements) == 1
    # Every caller returned after the write: the person is there for each of them.
    user = await store.users.get(ZHANG.id)
    assert user is not None
    assert (user.name, user.private_chat) == ("张三", True)
    assert not core.is_new(ZHANG)


async def test_a_person_being_recorded_is_not_new(core: Core, store: Store) -> None:
    statements = await user_writes(store)
    write = asyncio.ensure_future(core.seen(ZHANG))
    await asyncio.sleep(0)  # the write has begun
    assert not core.is_new(ZHANG)  # the channel starts no second one
    await write
    assert upserts(statements) == 1


async def test_a_new_name_or_chat_kind_is_written_again(core: Core, store: Store) -> None:
    await core.seen(ZHANG)
    statements = await user_writes(store)
    await core.seen(ZHANG)
    assert upserts(statements) == 0  # nothing changed: no write
    renamed = Person(ZHANG.id, "张三丰")
    assert core.is_new(renamed)
    await core.seen(renamed)
    user = await store.users.get(ZHANG.id)
    assert user is not None
    assert user.name == "张三丰"
    await core.seen(Person(ZHANG.id, "张三丰", private=False))  # in a group
    assert upserts(statements) == 1  # recorded privately already: a group changes nothing
    await core.seen(Person(ZHANG.id, "三丰", private=False))
    assert upserts(statements) == 2
    user = await store.users.get(ZHANG.id)
    assert user is not None
    assert (user.name, user.private_chat) == ("三丰", True)


async def test_after_a_restart_only_a_change_is_written(
    assistant: Assistant, store: Store, clock: FakeClock
) -> None:
    await make_core(assistant, store, (), clock).seen(ZHANG)
    statements = await user_writes(store)
    again = make_core(assistant, store, (), clock)  # the bot restarted: it knows nobody
    await again.seen(ZHANG)
    assert upserts(statements) == 0  # read, found as they are
    assert not again.is_new(ZHANG)
    await again.seen(Person(ZHANG.id, ZHANG.name, private=False))
    assert upserts(statements) == 0
    await store.users.set_reachable(ZHANG.id, False)  # a reminder got a 403 meanwhile
    await make_core(assistant, store, (), clock).seen(ZHANG)  # they write privately again
    assert upserts(statements) == 1
    user = await store.users.get(ZHANG.id)
    assert user is not None
    assert user.reachable


async def test_a_failed_write_is_tried_again_with_the_next_message(
    core: Core, store: Store
) -> None:
    await raw(store).execute(
        "CREATE TEMP TRIGGER refuse BEFORE INSERT ON users BEGIN SELECT RAISE(ABORT, 'full'); END"
    )
    with pytest.raises(sqlite3.IntegrityError):
        await asyncio.gather(core.seen(ZHANG), core.seen(ZHANG))
    assert core.is_new(ZHANG)
    await raw(store).execute("DROP TRIGGER refuse")
    await core.seen(ZHANG)
    assert await store.users.get(ZHANG.id) is not None
    assert not core.is_new(ZHANG)


async def test_a_person_who_blocked_the_bot_is_recorded_again_when_they_write(
    core: Core, store: Store
) -> None:
    await core.seen(ZHANG)
    await store.document("other").users.set_reachable(ZHANG.id, False)  # a reminder got a 403
    statements = await user_writes(store)
    in_group = Person(ZHANG.id, ZHANG.name, private=False)
    await core.seen(in_group)  # nothing to change: the name is the same ...
    await core.seen(in_group)
    assert upserts(statements) == 0
    user = await store.users.get(ZHANG.id)
    assert user is not None
    assert not user.reachable  # ... and a group message unblocks nothing
    assert core.is_new(ZHANG)  # seen before, but a private message now unblocks the bot
    await core.seen(ZHANG)
    user = await store.users.get(ZHANG.id)
    assert user is not None
    assert user.reachable
    await core.seen(ZHANG)
    assert upserts(statements) == 1
    assert not core.is_new(ZHANG)


async def test_the_core_runs_on_a_postgresql_database_and_a_restart_finds_its_rows(
    assistant: Assistant, postgres_url: str, clock: FakeClock
) -> None:
    config = Config(db_url=postgres_url, coordinators=frozenset({"tg:9"}))
    core = await Core.open(config, assistant, clock)
    try:
        assert isinstance(core.store.db, PostgresDatabase)
        await core.seen(ZHANG)
        answer = await core.command(ZHANG, ZHANG.id, "bind", "人社厅")
        assert "已提交" in str(answer)
    finally:
        await core.close()

    again = await Core.open(config, assistant, clock)
    try:
        user = await again.store.users.get(ZHANG.id)
        assert user is not None
        assert user.name == "张三"
        [request] = await again.store.members.pending_requests()
        assert request.user_id == ZHANG.id
    finally:
        await again.close()


async def test_an_unreachable_postgresql_database_stops_the_start_in_one_line(
    assistant: Assistant,
) -> None:
    config = Config(db_url="postgresql://bot:Secr3t-x@127.0.0.1:1/fengong")
    with pytest.raises(StoreError, match="拒绝连接") as refused:
        await Core.open(config, assistant)
    assert "Secr3t-x" not in str(refused.value)

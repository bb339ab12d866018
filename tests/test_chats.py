"""Tests for bot.store.chats: page queries by token, and each chat's state, on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.clock import TZ
from bot.store import ChatState, Store
from bot.store.chats import QUERY_DAYS, Behind
from tests.fakes.clock import FakeClock

# The store fixture's backends (tests/conftest.py).
BACKENDS = ("sqlite", "postgres")
KEPT = dt.timedelta(minutes=10)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2025, 3, 1, 9, 0, tzinfo=TZ))


async def rows(store: Store, table: str) -> int:
    return int(await store.db.fetchval(f"SELECT count(*) FROM {table}"))


async def test_a_token_reads_back_its_query_until_it_is_too_old(
    store: Store, clock: FakeClock
) -> None:
    token = await store.chats.remember("ask", "教育厅 职业教育")
    other = await store.chats.remember("unit", "教育厅")
    assert token != other
    assert len(token) <= 16
    assert await store.chats.recall(token) == ("ask", "教育厅 职业教育")
    assert await store.chats.recall("never-issued") is None
    clock.advance(days=QUERY_DAYS, seconds=1)
    assert await store.chats.recall(token) is None  # expired, though not yet pruned
    assert await rows(store, "page_queries") == 2
    fresh = await store.chats.remember("task", "3")  # issuing prunes the old ones
    assert await rows(store, "page_queries") == 1
    assert await store.chats.recall(fresh) == ("task", "3")


async def test_a_chats_state_is_kept_replaced_and_dropped(store: Store, clock: FakeClock) -> None:
    assert await store.chats.load("a") == ChatState()
    state = ChatState('{"units":["教育厅"]}', clock(), "nongji")
    await store.chats.save("a", state, KEPT)
    assert await store.chats.load("a") == state
    await store.chats.save("a", ChatState(doc="nongji"), KEPT)
    assert await store.chats.load("a") == ChatState(doc="nongji")
    await store.chats.save("a", ChatState(), KEPT)  # nothing left to keep: no row
    assert await rows(store, "chats") == 0


async def test_saving_forgets_old_contexts_but_not_a_chosen_document(
    store: Store, clock: FakeClock
) -> None:
    await store.chats.save("talked", ChatState("{}", clock()), KEPT)
    await store.chats.save("chose", ChatState("{}", clock(), "nongji"), KEPT)
    clock.advance(minutes=11)
    await store.chats.save("now", ChatState("{}", clock()), KEPT)
    assert await store.chats.load("talked") == ChatState()
    assert (await store.chats.load("chose")).doc == "nongji"
    assert await rows(store, "chats") == 2


async def test_written_behind_are_the_tokens_and_the_states_of_the_chats_still_held(
    store: Store, clock: FakeClock
) -> None:
    await store.chats.save("gone", ChatState(doc="nongji"), KEPT)
    await store.chats.save("lost", ChatState(doc="nongji"), KEPT)
    at = clock()
    behind = Behind(
        {
            "a:1": ("a", ChatState('{"units": []}', at, None)),
            "a:2": ("a", ChatState(doc="zongbao")),
            "gone": ("a", ChatState()),  # emptied: its row goes
            "lost": ("b", ChatState()),  # a member whose lease is another's now: untouched
        },
        {"t1": ("unit", "教育厅"), "t2": ("find", "托养")},
    )
    async with store.db.transaction() as tx:
        await store.chats.write(tx, behind, {"a"})
    assert await store.chats.load("a:1") == ChatState('{"units": []}', at, None)
    assert await store.chats.load("a:2") == ChatState(doc="zongbao")
    assert await store.chats.load("gone") == ChatState()
    assert await store.chats.load("lost") == ChatState(doc="nongji")
    assert await store.chats.recall("t1") == ("unit", "教育厅")
    assert await store.chats.recall("t2") == ("find", "托养")

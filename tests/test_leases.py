"""Tests for bot/store/leases.py: leases kept while work runs, and paces shared by instances.

Each instance is its own Store (its own connection) on one database, on both backends.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import TZ
from bot.store import Store
from tests.fakes.clock import FakeClock

BACKENDS = ("sqlite", "postgres")
NOW = dt.datetime(2024, 12, 1, 9, 0, tzinfo=TZ)
GAP = dt.timedelta(seconds=1 / 29)
TTL = dt.timedelta(seconds=60)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def other(database: str | Path, clock: FakeClock) -> AsyncIterator[Store]:
    """A second instance's store on the same database."""
    async with await Store.open(database, clock) as opened:
        yield opened


async def test_a_pace_gives_each_instance_the_next_slot_after_anyones_last(
    store: Store, other: Store, clock: FakeClock
) -> None:
    slots = [await s.leases.pace("pace/x", GAP) for s in (store, other, store, other)]
    assert slots == [NOW, NOW + GAP, NOW + 2 * GAP, NOW + 3 * GAP]
    assert await other.leases.pace("pace/y", GAP) == NOW  # another pace: its own slots
    clock.advance(seconds=10)  # the slots reserved are past: the next is now
    later = NOW + dt.timedelta(seconds=10)
    assert await store.leases.pace("pace/x", GAP, count=3) == later  # three at once
    assert await other.leases.pace("pace/x", GAP) == later + 3 * GAP
    assert await other.leases.pace("pace/x", GAP, now=later + 9 * GAP) == later + 9 * GAP


async def test_a_lease_kept_while_work_runs_is_given_up_after_it(
    store: Store, other: Store
) -> None:
    assert await store.leases.claim("work", "a", TTL)
    async with store.leases.keep("work", "a", TTL):
        assert not await other.leases.claim("work", "b", TTL)
    assert await other.leases.claim("work", "b", TTL)


async def test_a_lease_whose_work_failed_is_given_up_and_one_cancelled_is_kept(
    store: Store, other: Store, clock: FakeClock
) -> None:
    assert await store.leases.claim("work", "a", TTL)
    with pytest.raises(ValueError, match="failed"):
        async with store.leases.keep("work", "a", TTL):
            raise ValueError("failed")
    assert await other.leases.claim("work", "b", TTL)

    started = asyncio.Event()

    async def work() -> None:
        async with other.leases.keep("work", "b", TTL):
            started.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(work())
    await started.wait()
    task.cancel()  # a stop, a crash: the work is resumed by whoever takes the lease next
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not await store.leases.claim("work", "a", TTL)
    clock.advance(seconds=61)  # lapsed
    assert await store.leases.claim("work", "a", TTL)

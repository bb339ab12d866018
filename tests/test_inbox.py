"""The durable intake shared by several instances on one database (bot/inbox.py).

Two `Inbox`es on one SQLite file, each with its own connection and name, stand for two
instances behind a load balancer: either may store any member's items; one at a time handles
a member's, in the order stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import TZ
from bot.inbox import LEASE_TTL, Inbox
from bot.store import Delivery, Store
from tests.fakes.clock import FakeClock

CHANNEL = "wecom"


class Log(list[tuple[str, str]]):
    """What the instances handled (instance, body), in order; `settled` waits for a count."""

    def __init__(self) -> None:
        super().__init__()
        self.grew = asyncio.Event()

    def append(self, item: tuple[str, str]) -> None:
        """Record one item handled."""
        super().append(item)
        self.grew.set()

    async def settled(self, count: int) -> None:
        """Wait until `count` items were handled in all."""
        async with asyncio.timeout(10):
            while len(self) < count:
                self.grew.clear()
                await self.grew.wait()


class Handler:
    """Records what an instance handled; holds each item until `gate` is open."""

    def __init__(self, name: str, log: Log) -> None:
        self.name, self.log = name, log
        self.gate = asyncio.Event()
        self.gate.set()
        self.started = asyncio.Event()

    async def __call__(self, delivery: Delivery) -> None:
        self.started.set()
        await self.gate.wait()
        self.log.append((self.name, delivery.body))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2024, 3, 2, 9, 0, tzinfo=TZ))


@pytest.fixture
async def stores(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[Store, Store]]:
    async with (
        await Store.open(tmp_path / "bot.sqlite3", clock) as one,
        await Store.open(tmp_path / "bot.sqlite3", clock) as two,
    ):
        yield one, two


async def test_a_members_items_stored_by_two_instances_are_handled_once_in_order(
    stores: tuple[Store, Store],
) -> None:
    log = Log()
    first, second = Handler("a", log), Handler("b", log)
    first.gate.clear()  # "a" is slow with the first item
    a = Inbox(stores[0], CHANNEL, first, "a")
    b = Inbox(stores[1], CHANNEL, second, "b")
    assert await a.accept("k1", "zhang", "1")
    await asyncio.wait_for(first.started.wait(), 5)
    assert await b.accept("k2", "zhang", "2")
    assert await a.accept("k3", "zhang", "3")
    assert await b.accept("k4", "zhang", "4")
    assert not await b.accept("k2", "zhang", "2")  # delivered again to the other instance
    first.gate.set()
    await log.settled(4)
    assert log == [("a", "1"), ("a", "2"), ("a", "3"), ("a", "4")]
    await a.drain(1)
    await b.drain(1)
    assert await stores[0].callbacks.waiting(CHANNEL) == []


async def test_the_members_of_an_instance_that_died_are_taken_over_when_its_lease_lapses(
    stores: tuple[Store, Store], clock: FakeClock
) -> None:
    log = Log()
    dying, survivor = Handler("a", log), Handler("b", log)
    dying.gate.clear()  # never answers: the instance dies handling it
    a = Inbox(stores[0], CHANNEL, dying, "a")
    b = Inbox(stores[1], CHANNEL, survivor, "b")
    await b.start()
    assert await a.accept("k1", "zhang", "1")
    await asyncio.wait_for(dying.started.wait(), 5)
    assert await b.accept("k2", "zhang", "2")
    assert await a.accept("k3", "li", "3")
    for worker in list(a._workers.values()):  # killed: nothing given up, nothing forgotten
        worker.cancel()
    assert await b.sweep() == set()  # "a"'s leases still hold
    assert log == []
    clock.advance(seconds=LEASE_TTL.total_seconds() + 1)
    assert await b.sweep() == {"zhang", "li"}
    await log.settled(3)
    # The item "a" was handling when it died is handled again, then the rest, in order.
    assert [body for _, body in log if body in "12"] == ["1", "2"]
    assert {name for name, _ in log} == {"b"}
    await b.drain(1)


async def test_a_stop_hands_the_members_over_at_once(stores: tuple[Store, Store]) -> None:
    log = Log()
    stuck, other = Handler("a", log), Handler("b", log)
    stuck.gate.clear()
    a = Inbox(stores[0], CHANNEL, stuck, "a")
    b = Inbox(stores[1], CHANNEL, other, "b")
    for n in range(3):
        assert await a.accept(f"k{n}", "zhang", str(n))
    assert await a.drain(0.05) == 3  # the grace ends with all three left
    assert await b.sweep() == {"zhang"}  # no lapse to wait for
    await log.settled(3)
    assert log == [("b", "0"), ("b", "1"), ("b", "2")]
    await b.drain(1)


async def test_an_instance_restarted_under_its_name_takes_its_members_back_at_once(
    stores: tuple[Store, Store],
) -> None:
    log = Log()
    stuck, again = Handler("a", log), Handler("a again", log)
    stuck.gate.clear()
    a = Inbox(stores[0], CHANNEL, stuck, "a")
    assert await a.accept("k1", "zhang", "1")
    await asyncio.wait_for(stuck.started.wait(), 5)
    for worker in list(a._workers.values()):  # killed
        worker.cancel()
    restarted = Inbox(stores[1], CHANNEL, again, "a")
    assert await restarted.start() == 1
    await log.settled(1)
    assert log == [("a again", "1")]
    await restarted.drain(1)


async def test_a_drain_whose_workers_ended_while_it_counted_waits_for_none(
    stores: tuple[Store, Store],
) -> None:
    inbox = Inbox(stores[0], CHANNEL, Handler("a", Log()), "a")
    counts = iter([1, 0])  # one item counted; its worker ended before the drain looked

    async def pending() -> int:
        return next(counts)

    inbox.pending = pending  # type: ignore[method-assign]
    assert await inbox.drain(1) == 0

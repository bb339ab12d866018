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
from bot.inbox import LEASE_TTL, OPEN_STEP, SEALED, Inbox
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


async def test_a_lease_given_lasts_that_long_unrenewed(
    stores: tuple[Store, Store], clock: FakeClock
) -> None:
    """FENGONG_LEASE_SECONDS: a dead instance's members are taken over once its lease lapses."""
    log = Log()
    dying = Handler("a", log)
    dying.gate.clear()
    lease = dt.timedelta(seconds=10)
    a = Inbox(stores[0], CHANNEL, dying, "a", lease)
    b = Inbox(stores[1], CHANNEL, Handler("b", log), "b", lease)
    assert await a.accept("k1", "zhang", "1")
    await asyncio.wait_for(dying.started.wait(), 5)
    for worker in list(a._workers.values()):  # killed: nothing given up
        worker.cancel()
    clock.advance(seconds=9)
    assert await b.sweep() == set()  # still "a"'s
    clock.advance(seconds=2)
    assert await b.sweep() == {"zhang"}
    await log.settled(1)
    assert log == [("b", "1")]
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


# --- deliveries stored sealed, opened after their acknowledgement ---------------------------


def opened(delivery: Delivery) -> tuple[str, str, str] | None:
    """A sealed body "key member text" opened; "bad …" cannot be (refused, so dropped)."""
    key, member, text = delivery.body.split()
    return None if key == "bad" else (key, member, text)


async def test_sealed_items_stored_by_two_instances_are_opened_and_handled_in_order(
    stores: tuple[Store, Store],
) -> None:
    log = Log()
    a = Inbox(stores[0], CHANNEL, Handler("a", log), "a")
    b = Inbox(stores[1], CHANNEL, Handler("b", log), "b")
    for inbox in (a, b):
        inbox.open_sealed_with(opened)
    # Sealed items of one member come to either instance; the same message twice (another
    # signature, so stored sealed twice), and one that cannot be opened.
    sealed = ["m1 zhang 1", "m2 zhang 2", "m1 zhang 1", "bad zhang x", "m3 zhang 3", "m4 li 4"]
    for n, body in enumerate(sealed):
        assert await (a if n % 2 else b).accept(f"sig{n}", SEALED, body)
    await log.settled(4)
    await a.drain(1)
    await b.drain(1)
    # Each opened and handled once, in the order stored: the repeat and the one refused
    # dropped. Which instance handles which is the leases' business: when "b" has finished
    # "1" and given zhang's lease up before "2" comes, "a" takes it (a loaded machine does).
    assert sorted(body for _, body in log) == ["1", "2", "3", "4"]
    assert [body for _, body in log if body != "4"] == ["1", "2", "3"]  # zhang's in order
    assert await stores[0].callbacks.waiting(CHANNEL) == []


async def test_an_opened_item_keeps_the_time_it_came(
    stores: tuple[Store, Store], clock: FakeClock
) -> None:
    came = clock.now
    arrivals: list[dt.datetime] = []

    async def handle(delivery: Delivery) -> None:
        arrivals.append(delivery.arrived)

    inbox = Inbox(stores[0], CHANNEL, handle, "a")
    assert await inbox.accept("sig", SEALED, "m1 zhang 1")  # no opener yet: left sealed
    clock.advance(minutes=5)
    inbox.open_sealed_with(opened)
    assert await inbox.start() == 1
    await inbox.drain(1)
    assert arrivals == [came]


async def test_opening_lets_a_callback_arriving_meanwhile_be_acknowledged_first(
    stores: tuple[Store, Store],
) -> None:
    """A burst's 200s do not wait for the opening of what came before it."""
    log = Log()
    inbox = Inbox(stores[0], CHANNEL, Handler("a", log), "a")
    arriving: list[asyncio.Task[bool]] = []
    acknowledged_first: list[bool] = []

    def opening(delivery: Delivery) -> tuple[str, str, str] | None:
        if arriving:  # the first opened after the step in which a callback came
            acknowledged_first.append(arriving[0].done())
        elif delivery.body.endswith(f" {OPEN_STEP}"):  # the last of a step: one comes now
            arriving.append(asyncio.create_task(inbox.accept("signew", SEALED, "new li x")))
        return opened(delivery)

    for n in range(1, OPEN_STEP + 3):  # more than a step's worth, stored before they open
        assert await inbox.accept(f"sig{n}", SEALED, f"m{n} zhang {n}")
    inbox.open_sealed_with(opening)
    assert await inbox.start() == OPEN_STEP + 2
    await log.settled(OPEN_STEP + 3)
    assert acknowledged_first[0] is True
    await inbox.drain(1)

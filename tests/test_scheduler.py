"""The reminder scheduler: a core task on the injected clock, whichever channels run."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.ask.assistant import Assistant
from bot.channel import Result
from bot.clock import TZ
from bot.core import Core
from bot.outcome import Person
from bot.reply import Reply, render_plain
from bot.scheduler import Scheduler
from bot.store import Store
from tests.cores import make_core
from tests.fakes.clock import FakeClock

# The store's backends (tests/conftest.py): instances sharing one database, on both.
BACKENDS = ("sqlite", "postgres")
BOSS = Person("tg:1", "王主任")
ZHANG = Person("wecom:zhang", "张三")
LI = Person("tg:2", "李四")
DUE = dt.datetime(2024, 12, 1, 9, 0, tzinfo=TZ)  # the 30-days-before reminder of 2024


class Steps:
    """An injected sleep: each interval ends only when the test says so."""

    def __init__(self) -> None:
        self.asleep = asyncio.Event()
        self._wake = asyncio.Event()
        self.intervals: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.intervals.append(seconds)
        self.asleep.set()
        await self._wake.wait()
        self._wake.clear()

    async def next_check(self) -> None:
        """Let one more check run, and wait until the scheduler sleeps again."""
        self.asleep.clear()
        self._wake.set()
        await asyncio.wait_for(self.asleep.wait(), 5)


class Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.broken = False

    async def __call__(self, user_id: str, reply: Reply) -> Result:
        if self.broken:
            raise ConnectionError("network down")
        self.sent.append((user_id, render_plain(reply)))
        return "sent"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(DUE - dt.timedelta(hours=1))


@pytest.fixture
async def core(
    assistant: Assistant, database: str | Path, clock: FakeClock
) -> AsyncIterator[Core]:
    async with await Store.open(database, clock) as store:
        core = make_core(assistant, store, {BOSS.id}, clock)
        for person in (ZHANG, LI):
            await core.seen(person)
            await store.members.bind(person.id, person.name, "人力资源社会保障厅", BOSS.id)
        yield core


def _outbox(core: Core, outbox: Outbox) -> Outbox:
    """Send both channels' messages to `outbox`."""
    core.router.add("tg", outbox)
    core.router.add("wecom", outbox)
    return outbox


@pytest.fixture
def outbox(core: Core) -> Outbox:
    return _outbox(core, Outbox())


async def test_it_checks_at_start_then_every_interval_on_the_clock(
    core: Core, clock: FakeClock, outbox: Outbox
) -> None:
    steps = Steps()
    scheduler = Scheduler(core, interval=60.0, sleep=steps)
    scheduler.start()
    try:
        await asyncio.wait_for(steps.asleep.wait(), 5)
        assert outbox.sent == []  # an hour early: nothing due at the first check
        clock.set(DUE)
        await steps.next_check()
        # Both members of the unit, each on their own channel, once.
        assert sorted(to for to, _ in outbox.sent) == [LI.id, ZHANG.id]
        assert all("2024" in text for _, text in outbox.sent)
        await steps.next_check()
        assert len(outbox.sent) == 2
        assert steps.intervals == [60.0, 60.0, 60.0]
        assert scheduler.running
    finally:
        await scheduler.stop()
    assert not scheduler.running


async def test_a_failing_check_is_logged_and_the_next_one_runs(
    core: Core, clock: FakeClock, outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    clock.set(DUE)
    steps = Steps()
    scheduler = Scheduler(core, interval=30.0, sleep=steps)
    await core.store.close()  # every read fails now
    scheduler.start()
    try:
        await asyncio.wait_for(steps.asleep.wait(), 5)
        assert any(r.levelno == logging.ERROR for r in caplog.records)
        assert scheduler.running
    finally:
        await scheduler.stop()
    assert outbox.sent == []


async def test_a_notice_whose_sending_failed_is_sent_at_the_next_check(
    core: Core, outbox: Outbox
) -> None:
    asked = await core.office.membership.bind(Person("tg:3", "赵六"), "教育厅")
    [card] = asked.notices
    approve = next(b.action for row in card.reply.buttons for b in row if b.label == "批准")
    decided = await core.press(BOSS, "tg:1", approve)
    assert decided is not None
    outbox.broken = True
    assert await core.notify(decided.outcome) == ["tg:3"]  # the network is down

    outbox.broken = False
    steps = Steps()
    scheduler = Scheduler(core, sleep=steps)
    scheduler.start()
    try:
        await asyncio.wait_for(steps.asleep.wait(), 5)
        await steps.next_check()
    finally:
        await scheduler.stop()
    assert [to for to, _ in outbox.sent] == ["tg:3"]  # once, though checked twice
    assert "已获批准" in outbox.sent[0][1]


class Hanging(Outbox):
    """An outbox whose second message never gets an answer: the instance dies meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.first_sent = asyncio.Event()

    async def __call__(self, user_id: str, reply: Reply) -> Result:
        if self.sent:
            self.first_sent.set()
            await asyncio.Event().wait()  # never answered
        return await super().__call__(user_id, reply)


@pytest.fixture
async def other(
    core: Core, assistant: Assistant, database: str | Path, clock: FakeClock
) -> AsyncIterator[Core]:
    """A second instance: its own core and connection on the same database."""
    async with await Store.open(database, clock) as store:
        yield make_core(assistant, store, {BOSS.id}, clock)



async def test_while_one_instance_sends_the_others_checks_send_nothing(
    core: Core, other: Core, clock: FakeClock
) -> None:
    clock.set(DUE)
    hanging, theirs = _outbox(core, Hanging()), _outbox(other, Outbox())
    sending = asyncio.create_task(Scheduler(core, instance="a").check())
    await asyncio.wait_for(hanging.first_sent.wait(), 5)  # a fan-out under way on "a"
    try:
        assert not await Scheduler(other, instance="b").check()
        assert theirs.sent == []
    finally:
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending


class Held(Outbox):
    """An outbox whose second message waits until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.first_sent = asyncio.Event()
        self.go = asyncio.Event()

    async def __call__(self, user_id: str, reply: Reply) -> Result:
        if self.sent:
            self.first_sent.set()
            await self.go.wait()
        return await super().__call__(user_id, reply)


async def test_a_chase_up_on_another_instance_waits_until_the_scheduled_fan_out_ends(
    core: Core, other: Core, clock: FakeClock
) -> None:
    """The channel's rate is per app: a coordinator's chase-up taken by another instance while
    one sends the reminders waits for it, instead of sending at the full rate beside it."""
    clock.set(DUE)
    held, theirs = _outbox(core, Held()), _outbox(other, Outbox())
    sending = asyncio.create_task(Scheduler(core, instance="a").check())
    await asyncio.wait_for(held.first_sent.wait(), 5)  # the reminders under way on "a"
    sent_while_waiting: list[int] = []

    async def wait_turn(seconds: float) -> None:
        sent_while_waiting.append(len(theirs.sent))
        held.go.set()
        await asyncio.sleep(0.01)

    other.reminders.sleep = wait_turn
    try:
        chased = await asyncio.wait_for(other.reminders.chase(BOSS, "2024", other.router), 10)
    finally:
        held.go.set()
        assert await sending  # "a" sent the reminders to the end
    assert set(sent_while_waiting) == {0}  # it waited, and sent nothing meanwhile
    assert sorted(to for to, _ in held.sent) == sorted(to for to, _ in theirs.sent)
    assert sorted(to for to, _ in theirs.sent) == [LI.id, ZHANG.id]
    assert "2 位成员发送催报提醒" in render_plain(chased.reply)


async def test_an_instance_that_dies_mid_fan_out_is_taken_over_once_its_lease_lapses(
    core: Core, other: Core, clock: FakeClock
) -> None:
    clock.set(DUE)
    hanging, theirs = _outbox(core, Hanging()), _outbox(other, Outbox())
    dying = asyncio.create_task(Scheduler(core, interval=60, instance="a").check())
    await asyncio.wait_for(hanging.first_sent.wait(), 5)
    dying.cancel()  # killed with its lease held and the second message in flight
    with pytest.raises(asyncio.CancelledError):
        await dying
    [(first, _)] = hanging.sent
    survivor = Scheduler(other, interval=60, instance="b")
    assert not await survivor.check()  # the lease has not lapsed yet
    assert theirs.sent == []
    clock.advance(seconds=61)
    assert await survivor.check()
    # Everyone got the reminder once: the part the dead instance had sent is not repeated.
    assert sorted([first] + [to for to, _ in theirs.sent]) == [LI.id, ZHANG.id]
    await survivor.check()
    assert len(theirs.sent) == 1


async def test_an_instance_restarted_under_its_name_takes_its_lease_back_at_once(
    core: Core, other: Core, clock: FakeClock
) -> None:
    clock.set(DUE)
    hanging, theirs = _outbox(core, Hanging()), _outbox(other, Outbox())
    dying = asyncio.create_task(Scheduler(core, interval=60, instance="a").check())
    await asyncio.wait_for(hanging.first_sent.wait(), 5)
    dying.cancel()
    with pytest.raises(asyncio.CancelledError):
        await dying
    assert await Scheduler(other, interval=60, instance="a").check()
    assert len(hanging.sent) + len(theirs.sent) == 2

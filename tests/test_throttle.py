"""The per-person token bucket (bot/throttle.py), on a clock the test moves."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.clock import TZ
from bot.throttle import BURST, Throttle
from tests.fakes.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2024, 12, 1, 9, 0, tzinfo=TZ))


def test_a_burst_passes_then_one_warning_then_silence(clock: FakeClock) -> None:
    throttle = Throttle(clock)
    verdicts = [throttle.admit("a") for _ in range(BURST + 5)]
    assert verdicts == ["pass"] * BURST + ["warn"] + ["drop"] * 4


def test_the_bucket_refills_one_a_second(clock: FakeClock) -> None:
    throttle = Throttle(clock, burst=3, rate=1.0)
    assert [throttle.admit("a") for _ in range(4)] == ["pass", "pass", "pass", "warn"]
    clock.advance(seconds=0.5)
    assert throttle.admit("a") == "drop"  # half a message is not one
    clock.advance(seconds=0.5)
    assert throttle.admit("a") == "pass"
    # Refilled once, over again: warned again (once per window).
    assert [throttle.admit("a") for _ in range(2)] == ["warn", "drop"]
    clock.advance(seconds=2)
    assert [throttle.admit("a") for _ in range(3)] == ["pass", "pass", "warn"]


def test_the_bucket_holds_no_more_than_the_burst(clock: FakeClock) -> None:
    throttle = Throttle(clock, burst=3, rate=1.0)
    throttle.admit("a")
    clock.advance(hours=1)
    assert [throttle.admit("a") for _ in range(4)] == ["pass", "pass", "pass", "warn"]


def test_people_have_their_own_buckets(clock: FakeClock) -> None:
    throttle = Throttle(clock, burst=2, rate=1.0)
    assert [throttle.admit("a") for _ in range(3)] == ["pass", "pass", "warn"]
    assert [throttle.admit("b") for _ in range(2)] == ["pass", "pass"]
    assert throttle.admit("a") == "drop"


def test_a_clock_set_back_takes_nothing_and_gives_nothing(clock: FakeClock) -> None:
    throttle = Throttle(clock, burst=2, rate=1.0)
    assert [throttle.admit("a") for _ in range(2)] == ["pass", "pass"]
    clock.advance(seconds=-30)
    assert throttle.admit("a") == "warn"


def test_full_buckets_are_forgotten_when_many_people_came(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.throttle.KEPT", 3)
    throttle = Throttle(clock, burst=2, rate=1.0)
    for person in ("a", "b", "c"):
        throttle.admit(person)
    assert throttle.admit("flooder") == "pass"  # a, b, c still count: nothing forgotten yet
    throttle.admit("flooder")
    clock.advance(seconds=1)  # a, b, c full again; the flooder not
    assert throttle.admit("d") == "pass"
    assert sorted(throttle._buckets) == ["d", "flooder"]
    assert throttle.admit("flooder") == "pass"
    assert throttle.admit("flooder") == "warn"  # its bucket was kept, not reset

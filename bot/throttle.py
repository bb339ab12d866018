"""Per-person rate limit: someone flooding the bot is slowed down, not everyone else."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from bot.clock import Clock, system_clock

BURST = 10  # messages at once
RATE = 1.0  # messages a second, after the burst
SLOW_DOWN = "您发送得太快了，请稍等几秒再试。"
NOT_FILED = "您发送得太快了，这条进展记录没有保存，请稍等几秒后重新发送。"
KEPT = 10_000  # people tracked before the full buckets are forgotten

Verdict = Literal["pass", "warn", "drop"]


@dataclass
class _Bucket:
    tokens: float
    at: float  # when `tokens` was counted (seconds, on the clock)
    warned: bool = False


class Throttle:
    """A token bucket per person on the injected clock: BURST at once, then RATE a second.

    Over the limit a person is told SLOW_DOWN once ("warn"), and whatever else they send is
    dropped ("drop") until the bucket refills: a flood must not make the bot send one (the
    adapter still tells a note it drops, so that no note is lost unsaid).
    """

    def __init__(
        self, clock: Clock = system_clock, burst: int = BURST, rate: float = RATE
    ) -> None:
        self.clock = clock
        self.burst = burst
        self.rate = rate
        self._buckets: dict[str, _Bucket] = {}

    def admit(self, person_id: str, at: dt.datetime | None = None) -> Verdict:
        """Take one message, sent `at` (default now), from the person's bucket; say whether to
        answer it."""
        now = (at or self.clock()).timestamp()
        bucket = self._buckets.get(person_id)
        if bucket is None:
            if len(self._buckets) >= KEPT:
                self._forget_full(now)
            bucket = self._buckets[person_id] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + max(0.0, now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.warned = False
            return "pass"
        if bucket.warned:
            return "drop"
        bucket.warned = True
        return "warn"

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled is the same as none.
        full = [
            key
            for key, b in self._buckets.items()
            if b.tokens + (now - b.at) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]

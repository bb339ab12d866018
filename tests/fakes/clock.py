"""A clock tests can set and move; the core takes any `Callable[[], datetime]`."""

from __future__ import annotations

import datetime as dt


class FakeClock:
    """Reads `now` (timezone-aware); `advance` and `set` move it."""

    def __init__(self, now: dt.datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware datetime")
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        """Move the clock forward by a timedelta's keyword arguments (minutes=11 …)."""
        self.now += dt.timedelta(**kwargs)

    def set(self, now: dt.datetime) -> None:
        """Put the clock at `now`."""
        self.now = now

"""Time: every timestamp is timezone-aware Asia/Shanghai, and the clock is injectable."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    """Return the current time in Asia/Shanghai."""
    return dt.datetime.now(TZ)


def fixed_clock(moment: dt.datetime) -> Clock:
    """Return a clock that always reads `moment` (which must be timezone-aware)."""
    if moment.tzinfo is None:
        raise ValueError("fixed_clock needs a timezone-aware datetime")
    return lambda: moment

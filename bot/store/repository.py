"""What every repository shares: the database, the document it reads for, and the clock.

Timestamps are stored as ISO-8601 text in Asia/Shanghai with microseconds: one fixed offset
and one fixed width make the text sort like the time, so SQL compares them as strings
(Asia/Shanghai has had no DST since 1991).
"""

from __future__ import annotations

import datetime as dt

from bot.clock import TZ, Clock
from bot.store.database import Database

# Items a statement inserts at most (4 values each, within SQLite's oldest limit of 999).
CHUNK = 200


def iso(moment: dt.datetime) -> str:
    """Return `moment` as ISO-8601 text in Asia/Shanghai, always with microseconds."""
    return moment.astimezone(TZ).isoformat(timespec="microseconds")


def time(value: str) -> dt.datetime:
    """Parse a stored timestamp."""
    return dt.datetime.fromisoformat(value).astimezone(TZ)


def maybe_time(value: str | None) -> dt.datetime | None:
    """Parse a stored timestamp that may be NULL."""
    return None if value is None else time(value)


def marks(count: int, width: int = 1) -> str:
    """Return `count` placeholder groups of `width` values: "(?, ?), (?, ?)"."""
    group = "(" + ", ".join("?" for _ in range(width)) + ")"
    return ", ".join(group for _ in range(count))


class Repository:
    """A repository's state: the database, its document (`doc`, `edition`) and the clock."""

    def __init__(self, db: Database, clock: Clock, doc: str = "", edition: str = "") -> None:
        self.db = db
        self.clock = clock
        self.doc = doc
        self.edition = edition

    def now(self) -> dt.datetime:
        """Read the injected clock, insisting on an aware time."""
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the store's clock must return timezone-aware datetimes")
        return now.astimezone(TZ)

"""Durable intake: what a channel delivered, stored with its de-duplication key before it is
acknowledged, and kept until it is handled (the inbox and callbacks tables, bot/inbox.py).

A key is kept a day, so that a callback WeCom delivers again after a restart is still known.

Several instances may store a member's deliveries; one at a time handles them, in order: the
one holding the member's lease ("inbox/<channel>/<member>" in the leases table). It takes the
lease when it stores a delivery of a member nobody handles, renews it while it works, and gives
it up, in the transaction that forgets the member's last handled delivery, only when none is
left. A lapsed lease (its instance died) is taken over with the deliveries it left.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Self

from bot.clock import TZ, Clock
from bot.store.chats import Behind, Chats
from bot.store.database import Connection, Database, Row
from bot.store.repository import CHUNK, Repository, iso, marks, time

# How long storing a delivered callback waits for another writer's lock: WeCom waits 5 s for
# its answer, so a locked database must be answered 503 (deliver again) well before that.
INTAKE_BUSY_MS = 2000


def lease_of(channel: str, member: str) -> str:
    """Return the name of the lease under which a member's deliveries are handled."""
    return f"inbox/{channel}/{member}"


@dataclass(frozen=True)
class Taken:
    """What one intake transaction did: each item's row (None: a repeat), and the leases."""

    rows: list[Delivery | None]
    won: set[str] = field(default_factory=set)  # members whose deliveries are now ours
    kept: set[str] = field(default_factory=set)  # members given up but with deliveries left


@dataclass(frozen=True)
class Delivery:
    """What a channel delivered, stored before it was acknowledged and until it is handled."""

    id: int
    channel: str
    member: str  # whose messages are handled in order
    body: str
    arrived: dt.datetime
    # Whether a note its handling filed may exist (False: none did when it was fetched).
    filed: bool = True

    @classmethod
    def from_row(cls, row: Row, filed: bool = True) -> Self:
        """Build from an `inbox` row."""
        return cls(
            id=row["id"],
            channel=row["channel"],
            member=row["member"],
            body=row["body"],
            arrived=time(row["arrived_at"]),
            filed=filed,
        )


class Callbacks(Repository):
    """The inbox of deliveries not yet handled, and the keys of those already taken."""

    TTL: ClassVar[dt.timedelta] = dt.timedelta(days=1)
    PURGE_EVERY: ClassVar[dt.timedelta] = dt.timedelta(hours=1)
    _purged: dt.datetime | None = None

    def __init__(self, db: Database, clock: Clock, chats: Chats) -> None:
        """`chats`: where the chats' states written behind go (`take`)."""
        super().__init__(db, clock)
        self.chats = chats

    async def take(
        self,
        channel: str,
        items: Sequence[tuple[str, str, str]],
        handled: Sequence[int] = (),
        lease: Lease | None = None,
        arrived: Sequence[dt.datetime | None] = (),
        behind: Behind | None = None,
    ) -> Taken:
        """Store delivered items (key, member, body) in one transaction, each with its key,
        and forget the deliveries `handled` (by id) in the same one.

        Returns, for each item, its inbox row, or None when its key was already taken (a
        repeat). Committed to disk when this returns: the channel may then be acknowledged.
        With `lease`, the members' leases change in the same transaction (see `Lease`).
        `arrived`: when each item came, if before now (one stored sealed, then opened).
        `behind`: what the handled ones changed (chats' states, page tokens), written with
        their forgetting (a state only while the lease of its member is still ours).
        """
        now = self.now().astimezone(TZ)
        arrivals = [(a or now).astimezone(TZ) for a in arrived] + [now] * len(items)
        last = self._purged
        purge = last is None or now - last >= self.PURGE_EVERY
        taken: list[Delivery | None] = []
        async with self.db.transaction(INTAKE_BUSY_MS) as tx:
            if purge:  # in the same transaction: the acknowledgement waits for no other lock
                self._purged = now
                await tx.execute("DELETE FROM callbacks WHERE seen_at < ?", (iso(now - self.TTL),))
                await tx.execute(  # members' leases given up long ago (`Lease.end`)
                    "DELETE FROM leases WHERE name LIKE ? AND until < ?",
                    (lease_of("%", "%"), iso(now - self.TTL)),
                )
            for start in range(0, len(handled), CHUNK):
                chunk = handled[start : start + CHUNK]
                await tx.execute(
                    f"DELETE FROM inbox WHERE id IN ({', '.join('?' for _ in chunk)})", chunk
                )
            if behind and lease is not None:
                members = {member for member, _ in behind.states.values()}
                held = await lease.held(tx, channel, members) if members else set()
                await self.chats.write(tx, behind, held)
            # Two statements a chunk, not two an item: the acknowledgement waits for them.
            for start in range(0, len(items), CHUNK):
                part = slice(start, start + CHUNK)
                taken += await self._take(tx, channel, items[part], arrivals[part], iso(now))
            if lease is None:
                return Taken(taken)
            members = {d.member for d in taken if d is not None} - set(lease.working)
            won = await lease.claim(tx, channel, members, now)
            await lease.renew(tx, channel, now)
            kept = await lease.end(tx, channel, now)
        return Taken(taken, won, kept)

    async def _take(
        self,
        tx: Connection,
        channel: str,
        items: Sequence[tuple[str, str, str]],
        arrivals: Sequence[dt.datetime],
        now: str,
    ) -> list[Delivery | None]:
        """Insert the keys of `items`, then those not seen before into the inbox."""
        keys = await tx.fetch(
            f"INSERT INTO callbacks (key, seen_at) VALUES {marks(len(items), 2)} "
            "ON CONFLICT (key) DO NOTHING RETURNING key",
            [value for key, _, _ in items for value in (key, now)],
        )
        new = {row["key"] for row in keys}
        fresh = []
        for index, (key, _, _) in enumerate(items):
            if key in new:  # the first of two equal keys in one batch is the one taken
                new.discard(key)
                fresh.append(index)
        taken: list[Delivery | None] = [None] * len(items)
        if not fresh:
            return taken
        rows = await tx.fetch(
            f"INSERT INTO inbox (channel, member, body, arrived_at) VALUES {marks(len(fresh), 4)}"
            " RETURNING id",
            [v for i in fresh for v in (channel, items[i][1], items[i][2], iso(arrivals[i]))],
        )
        # Ids are given in the order of VALUES (RETURNING's own order is not promised). The
        # rest is what was written: not read back (the acknowledgements wait for this).
        for index, id in zip(fresh, sorted(int(row["id"]) for row in rows), strict=True):
            _, member, body = items[index]
            taken[index] = Delivery(id, channel, member, body, arrivals[index])
        return taken

    async def after(self, channel: str, member: str, last: int) -> list[Delivery]:
        """Return a member's stored deliveries after id `last`, oldest first, each saying
        whether a note filed by its handling exists (one handled before a crash: notes.py)."""
        rows = await self.db.fetch(
            "SELECT inbox.*, EXISTS (SELECT 1 FROM notes WHERE notes.origin = 'inbox:' || "
            "inbox.id) AS filed FROM inbox WHERE channel = ? AND member = ? AND id > ? "
            "ORDER BY id",
            (channel, member, last),
        )
        return [Delivery.from_row(row, bool(row["filed"])) for row in rows]

    async def orphans(self, channel: str, lease: Lease) -> set[str]:
        """Take the leases of members with deliveries left and nobody handling them.

        Nobody: no lease, a lapsed one (its instance died), or one `lease.owner` holds already
        (this instance, restarted). Returns the members taken, whose deliveries are now ours.
        """
        now = self.now()
        async with self.db.transaction() as tx:
            rows = await tx.fetch(
                "SELECT DISTINCT member FROM inbox WHERE channel = ?", (channel,)
            )
            return await lease.claim(tx, channel, {row["member"] for row in rows}, now)

    async def give_up(self, channel: str, owner: str) -> None:
        """Give up every lease of the channel `owner` holds (a stop: others take over)."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "DELETE FROM leases WHERE owner = ? AND name LIKE ?",
                (owner, lease_of(channel, "%")),
            )

    async def waiting(self, channel: str) -> list[Delivery]:
        """Return the channel's stored deliveries not handled yet, oldest first."""
        rows = await self.db.fetch("SELECT * FROM inbox WHERE channel = ? ORDER BY id", (channel,))
        return [Delivery.from_row(row) for row in rows]

    async def forget(self, before: dt.datetime) -> int:
        """Delete the callback keys seen before `before`; return how many."""
        async with self.db.transaction() as tx:
            return await tx.execute("DELETE FROM callbacks WHERE seen_at < ?", (iso(before),))


@dataclass
class Lease:
    """One instance's leases on members, and the changes to make at its next intake commit.

    `working`: the members it handles now (their leases are renewed); `ended`: those whose
    worker found nothing more to do (their leases are given up, unless deliveries came).
    """

    owner: str
    ttl: dt.timedelta
    working: set[str] = field(default_factory=set)
    ended: set[str] = field(default_factory=set)
    # Each member's lease stamp as this instance last claimed it: the same again when no other
    # instance claimed the lease in between (bot/inbox.py keeps its memory of the member then).
    stamps: dict[str, str] = field(default_factory=dict)

    async def claim(
        self, tx: Connection, channel: str, members: set[str], now: dt.datetime
    ) -> set[str]:
        """Take the members' leases that are free, lapsed or ours; return those taken.

        A lease taken from another instance (or made anew) gets a new stamp; one still ours
        (given up, and nobody took it since) keeps its stamp (recorded in `stamps`)."""
        won = set()
        for member in sorted(members):
            row = await tx.fetchrow(
                "INSERT INTO leases (name, owner, until, stamp) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
                "until = excluded.until, stamp = CASE WHEN leases.owner = excluded.owner "
                "THEN leases.stamp ELSE excluded.stamp END "
                "WHERE leases.owner = excluded.owner OR leases.until <= ? RETURNING stamp",
                (
                    lease_of(channel, member),
                    self.owner,
                    iso(now + self.ttl),
                    secrets.token_hex(8),
                    iso(now),
                ),
            )
            if row is not None:
                won.add(member)
                self.stamps[member] = row["stamp"]
        return won

    async def held(self, tx: Connection, channel: str, members: set[str]) -> set[str]:
        """Return which of the members' leases are this instance's."""
        names = {lease_of(channel, m): m for m in members}
        held = set()
        keys = sorted(names)
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            rows = await tx.fetch(
                f"SELECT name FROM leases WHERE owner = ? AND name IN ({_list(len(chunk))})",
                (self.owner, *chunk),
            )
            held |= {names[row["name"]] for row in rows}
        return held

    async def renew(self, tx: Connection, channel: str, now: dt.datetime) -> None:
        """Extend the leases of the members being handled."""
        names = [lease_of(channel, m) for m in sorted(self.working)]
        for start in range(0, len(names), CHUNK):
            chunk = names[start : start + CHUNK]
            await tx.execute(
                f"UPDATE leases SET until = ? WHERE owner = ? AND name IN ({_list(len(chunk))})",
                (iso(now + self.ttl), self.owner, *chunk),
            )

    async def end(self, tx: Connection, channel: str, now: dt.datetime) -> set[str]:
        """Give up the ended members' leases; return those kept: deliveries came meanwhile.

        Given up as lapsed, not deleted: the row keeps its owner and stamp, so that this
        instance taking it again knows that nobody else held it meanwhile."""
        ended, self.ended = self.ended, set()
        kept = set()
        for member in sorted(ended):
            gone = await tx.execute(
                "UPDATE leases SET until = ? WHERE name = ? AND owner = ? AND NOT EXISTS "
                "(SELECT 1 FROM inbox WHERE channel = ? AND member = ?)",
                (iso(now - self.ttl), lease_of(channel, member), self.owner, channel, member),
            )
            mine = not gone and await tx.fetchval(
                "SELECT 1 FROM leases WHERE name = ? AND owner = ?",
                (lease_of(channel, member), self.owner),
            )
            if mine:  # not when it lapsed and another instance took it
                kept.add(member)
        return kept


def _list(count: int) -> str:
    """Return `count` placeholders for an IN list."""
    return ", ".join("?" for _ in range(count))

"""Membership of one document: who is bound to which unit, their requests to be bound, and the
single-use invites that bind whoever redeems them.

A person may be a member of a unit in each document: members are keyed by (doc, user_id).
Each decision records its audit entry, and the notice owed to the person, in its transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self

from bot.store.audit import log
from bot.store.database import Connection, Row
from bot.store.errors import AlreadyDecided, InviteInvalid, NotFound, TooSoon
from bot.store.generations import bump
from bot.store.notes import Flow
from bot.store.reminders import add_notice
from bot.store.repository import Repository, iso, maybe_time, time
from bot.store.users import ensure_user

BindStatus = Literal["pending", "approved", "rejected", "replaced"]

DEFAULT_INVITE_TTL = dt.timedelta(days=7)
# New codes are 16 letters and digits (95 bits): typed, linked or copied in any channel, with
# no character any markup might take for its own ("_" in WeCom's). Older ones hold "_" and "-".
INVITE_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_INVITE_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Member:
    """A person bound to the unit they report for."""

    user_id: str
    name: str
    unit: str
    bound_at: dt.datetime
    bound_by: str
    doc: str = ""  # the document's id ("" the data folder's own)

    @classmethod
    def from_row(cls, row: Row) -> Self:
        """Build from a `members` row."""
        return cls(
            user_id=row["user_id"],
            name=row["name"],
            unit=row["unit"],
            bound_at=time(row["bound_at"]),
            bound_by=row["bound_by"],
            doc=row["doc"],
        )


@dataclass(frozen=True)
class BindRequest:
    """A person's request to be bound to a unit, awaiting a coordinator."""

    id: int
    user_id: str
    name: str
    unit: str
    status: BindStatus
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: str | None

    @classmethod
    def from_row(cls, row: Row) -> Self:
        """Build from a `bind_requests` row."""
        return cls(
            id=row["id"],
            user_id=row["user_id"],
            name=row["name"],
            unit=row["unit"],
            status=row["status"],
            created_at=time(row["created_at"]),
            decided_at=maybe_time(row["decided_at"]),
            decided_by=row["decided_by"],
        )


@dataclass(frozen=True)
class Invite:
    """A single-use code that binds whoever redeems it to a unit."""

    code: str
    unit: str
    created_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    used_by: str | None
    used_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: Row) -> Self:
        """Build from an `invites` row."""
        return cls(
            code=row["code"],
            unit=row["unit"],
            created_by=row["created_by"],
            created_at=time(row["created_at"]),
            expires_at=time(row["expires_at"]),
            used_by=row["used_by"],
            used_at=maybe_time(row["used_at"]),
        )


class Membership(Repository):
    """Members, bind requests and invites of the document (see the module's docstring)."""

    async def _bind(
        self, tx: Connection, user_id: str, name: str, unit: str, by: str, now: str
    ) -> tuple[Member, Flow | None]:
        """Bind inside the caller's transaction, replacing any previous binding.

        A note the person had started for another unit ends here (and is returned): its text,
        arriving later, would otherwise be filed for the new unit.
        """
        await ensure_user(tx, user_id, name, now)
        ended = await tx.fetchrow(
            "DELETE FROM flows WHERE user_id = ? AND doc = ? AND unit <> ? RETURNING *",
            (user_id, self.doc, unit),
        )
        row = await tx.fetchrow(
            "INSERT INTO members (doc, user_id, name, unit, bound_at, bound_by) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (doc, user_id) DO UPDATE SET "
            "name = excluded.name, unit = excluded.unit, bound_at = excluded.bound_at, "
            "bound_by = excluded.bound_by RETURNING *",
            (self.doc, user_id, name, unit, now, by),
        )
        assert row is not None  # an upsert always yields its row
        return Member.from_row(row), None if ended is None else Flow.from_row(ended)

    # --- members ----------------------------------------------------------------------------

    async def bind(self, user_id: str, name: str, unit: str, by: str) -> Member:
        """Bind a person to a unit, replacing any previous binding."""
        now = iso(self.now())
        async with self.db.transaction() as tx:
            await log(tx, self.doc, now, by, "bind", unit, f"{name}（ID {user_id}）")
            member, _ = await self._bind(tx, user_id, name, unit, by, now)
        return member

    async def unbind(self, user_id: str) -> Member | None:
        """Remove a person's binding and return it, or None if they were not bound."""
        async with self.db.transaction() as tx:
            row = await tx.fetchrow(
                "DELETE FROM members WHERE user_id = ? AND doc = ? RETURNING *",
                (user_id, self.doc),
            )
            if row is not None:
                await log(
                    tx, self.doc, iso(self.now()), user_id, "unbind", row["unit"], "", row["name"]
                )
            await tx.execute(
                "DELETE FROM flows WHERE user_id = ? AND doc = ?", (user_id, self.doc)
            )
        return None if row is None else Member.from_row(row)

    async def get(self, user_id: str) -> Member | None:
        """Return the person's binding, or None."""
        row = await self.db.fetchrow(
            "SELECT * FROM members WHERE user_id = ? AND doc = ?", (user_id, self.doc)
        )
        return None if row is None else Member.from_row(row)

    async def bound(self, unit: str | None = None) -> list[Member]:
        """Return the bindings (of one unit, or all), ordered by unit then by bound_at."""
        rows = await self.db.fetch(
            "SELECT * FROM members WHERE doc = ? AND (CAST(? AS TEXT) IS NULL OR unit = ?) "
            "ORDER BY unit, bound_at, user_id",
            (self.doc, unit, unit),
        )
        return [Member.from_row(row) for row in rows]

    async def bindings(self, user_id: str) -> list[Member]:
        """Return the person's bindings in every document, by document."""
        rows = await self.db.fetch(
            "SELECT * FROM members WHERE user_id = ? ORDER BY doc", (user_id,)
        )
        return [Member.from_row(row) for row in rows]

    async def move_unit(
        self,
        old: str,
        new: str | None,
        by: str,
        change: tuple[str, str],
        notice: dict[str, Any],
        only: Sequence[str] | None = None,
    ) -> list[Member]:
        """Move the members of `old` to `new` (None: unbind them) after a unit change.

        One transaction: the change's audit entry `change` (action, subject), each member's
        move and the notice owed to them (kind "moved", `notice` its payload), and the old
        unit's notes being written, pending requests and unused invites; and the document's
        generation, so that other instances reload the units.yaml the change was written into.
        `only`: just these members (an undo moves back whom the change moved). Returns the
        members as they were.
        """
        now = iso(self.now())
        moved: list[Member] = []
        async with self.db.transaction() as tx:
            await log(tx, self.doc, now, by, change[0], old, change[1])
            await bump(tx, self.doc)
            rows = await tx.fetch(
                "SELECT * FROM members WHERE doc = ? AND unit = ? ORDER BY bound_at, user_id",
                (self.doc, old),
            )
            for row in rows:
                member = Member.from_row(row)
                if only is not None and member.user_id not in only:
                    continue
                moved.append(member)
                whom = f"{member.name}（ID {member.user_id}）"
                if new is None:
                    await tx.execute(
                        "DELETE FROM members WHERE doc = ? AND user_id = ?",
                        (self.doc, member.user_id),
                    )
                    await tx.execute(
                        "DELETE FROM flows WHERE doc = ? AND user_id = ?",
                        (self.doc, member.user_id),
                    )
                else:
                    await tx.execute(
                        "UPDATE members SET unit = ? WHERE doc = ? AND user_id = ?",
                        (new, self.doc, member.user_id),
                    )
                    await tx.execute(
                        "UPDATE flows SET unit = ? WHERE doc = ? AND user_id = ?",
                        (new, self.doc, member.user_id),
                    )
                await log(tx, self.doc, now, by, "unit.move", new or old, f"{whom}：原{old}")
                await add_notice(tx, member.user_id, "moved", notice, now)
            if new is not None and only is None:
                # What was asked or offered for the old unit is for the one holding its duties.
                await tx.execute(
                    "UPDATE bind_requests SET unit = ? "
                    "WHERE doc = ? AND unit = ? AND status = 'pending'",
                    (new, self.doc, old),
                )
                await tx.execute(
                    "UPDATE invites SET unit = ? WHERE doc = ? AND unit = ? AND used_by IS NULL",
                    (new, self.doc, old),
                )
        return moved

    # --- bind requests ----------------------------------------------------------------------

    async def request_binding(
        self, user_id: str, name: str, unit: str, interval: dt.timedelta = dt.timedelta(0)
    ) -> BindRequest:
        """File a request to be bound to a unit; an earlier pending one becomes "replaced".

        A pending request for the same unit is returned as it is: asking twice files nothing.
        TooSoon when the person's pending request (for another unit) was filed less than
        `interval` ago: each new request puts a card before every coordinator.
        """
        now = iso(self.now())
        async with self.db.transaction() as tx:
            await ensure_user(tx, user_id, name, now)
            same = await tx.fetchrow(
                "SELECT * FROM bind_requests "
                "WHERE user_id = ? AND doc = ? AND status = 'pending' AND unit = ?",
                (user_id, self.doc, unit),
            )
            if same is not None:
                return BindRequest.from_row(same)
            other = await tx.fetchrow(
                "SELECT * FROM bind_requests WHERE user_id = ? AND doc = ? AND status = 'pending'",
                (user_id, self.doc),
            )
            if other is not None and iso(self.now() - interval) < other["created_at"]:
                raise TooSoon(BindRequest.from_row(other))
            # decided_by is the requester: they, not a coordinator, closed the old request.
            await tx.execute(
                "UPDATE bind_requests SET status = 'replaced', decided_at = ?, decided_by = ? "
                "WHERE user_id = ? AND doc = ? AND status = 'pending'",
                (now, user_id, user_id, self.doc),
            )
            row = await tx.fetchrow(
                "INSERT INTO bind_requests (doc, user_id, name, unit, created_at) "
                "VALUES (?, ?, ?, ?, ?) RETURNING *",
                (self.doc, user_id, name, unit, now),
            )
            assert row is not None
            await log(tx, self.doc, now, user_id, "bind.request", unit, f"申请 #{row['id']}", name)
        return BindRequest.from_row(row)

    async def binding_request(self, request_id: int) -> BindRequest | None:
        """Return the bind request, or None."""
        row = await self.db.fetchrow(
            "SELECT * FROM bind_requests WHERE id = ? AND doc = ?", (request_id, self.doc)
        )
        return None if row is None else BindRequest.from_row(row)

    async def pending_request(self, user_id: str) -> BindRequest | None:
        """Return the person's request awaiting a decision, or None."""
        row = await self.db.fetchrow(
            "SELECT * FROM bind_requests WHERE user_id = ? AND doc = ? AND status = 'pending'",
            (user_id, self.doc),
        )
        return None if row is None else BindRequest.from_row(row)

    async def pending_requests(self) -> list[BindRequest]:
        """Return the requests still awaiting a decision, oldest first."""
        rows = await self.db.fetch(
            "SELECT * FROM bind_requests WHERE doc = ? AND status = 'pending' "
            "ORDER BY created_at, id",
            (self.doc,),
        )
        return [BindRequest.from_row(row) for row in rows]

    async def decide(
        self, request_id: int, approve: bool, by: str, *, document: str = ""
    ) -> BindRequest:
        """Approve (binding the person) or reject a pending request; the first decision wins.

        `document`: the document's name, for the notice when several are served.

        The notice owed to the requester (kind "approved" or "rejected") is recorded in the
        same transaction, so that no crash can leave the decision made and nobody to tell.
        """
        now = iso(self.now())
        status: BindStatus = "approved" if approve else "rejected"
        async with self.db.transaction() as tx:
            # The status test inside the UPDATE is what makes the decision atomic: of two
            # coordinators pressing at once, the second finds nothing pending to update.
            row = await tx.fetchrow(
                "UPDATE bind_requests SET status = ?, decided_at = ?, decided_by = ? "
                "WHERE id = ? AND doc = ? AND status = 'pending' RETURNING *",
                (status, now, by, request_id, self.doc),
            )
            if row is None:
                current = await tx.fetchrow(
                    "SELECT * FROM bind_requests WHERE id = ? AND doc = ?", (request_id, self.doc)
                )
                if current is None:
                    raise NotFound("找不到这条绑定申请。")
                raise AlreadyDecided(BindRequest.from_row(current))
            request = BindRequest.from_row(row)
            whom = f"申请 #{request.id}：{request.name}（ID {request.user_id}）"
            await log(tx, self.doc, now, by, f"bind.{status}", request.unit, whom)
            ended = None
            if approve:
                _, ended = await self._bind(
                    tx, request.user_id, request.name, request.unit, by, now
                )
            payload: dict[str, Any] = {"unit": request.unit}
            if document:
                payload["document"] = document
            if ended is not None:
                payload["ended"] = {"kind": ended.kind, "target": ended.target}
            await add_notice(tx, request.user_id, status, payload, now)
        return request

    # --- invites ----------------------------------------------------------------------------

    async def create_invite(
        self, unit: str, created_by: str, ttl: dt.timedelta = DEFAULT_INVITE_TTL
    ) -> Invite:
        """Create a single-use invite to `unit`, valid for `ttl`."""
        now = self.now()
        code = "".join(secrets.choice(_INVITE_ALPHABET) for _ in range(16))
        async with self.db.transaction() as tx:
            row = await tx.fetchrow(
                "INSERT INTO invites (doc, code, unit, created_by, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
                (self.doc, code, unit, created_by, iso(now), iso(now + ttl)),
            )
            # Not the code: whoever reads the trail must not be able to redeem it.
            until = f"有效期至 {now + ttl:%Y-%m-%d %H:%M}"
            await log(tx, self.doc, iso(now), created_by, "invite.create", unit, until)
        assert row is not None
        return Invite.from_row(row)

    async def invite(self, code: str) -> Invite | None:
        """Return the invite, or None."""
        row = await self.db.fetchrow(
            "SELECT * FROM invites WHERE code = ? AND doc = ?", (code, self.doc)
        )
        return None if row is None else Invite.from_row(row)

    async def redeem_invite(self, code: str, user_id: str, name: str) -> Member:
        """Use an invite once, binding the person to its unit; InviteInvalid says why not."""
        if not INVITE_CODE.fullmatch(code):
            raise InviteInvalid("unknown")
        now = iso(self.now())
        async with self.db.transaction() as tx:
            await ensure_user(tx, user_id, name, now)
            # Single use is enforced by the WHERE clause, not by an earlier SELECT.
            row = await tx.fetchrow(
                "UPDATE invites SET used_by = ?, used_at = ? "
                "WHERE code = ? AND doc = ? AND used_by IS NULL AND expires_at > ? RETURNING *",
                (user_id, now, code, self.doc, now),
            )
            if row is None:
                current = await tx.fetchrow(
                    "SELECT * FROM invites WHERE code = ? AND doc = ?", (code, self.doc)
                )
                if current is None:
                    raise InviteInvalid("unknown")
                raise InviteInvalid("used" if current["used_by"] is not None else "expired")
            invite = Invite.from_row(row)
            await log(
                tx, self.doc, now, user_id, "invite.use", invite.unit,
                f"邀请人 ID {invite.created_by}", name,
            )  # fmt: skip
            # The coordinator who issued the invite is the one who authorised the binding.
            member, _ = await self._bind(tx, user_id, name, invite.unit, invite.created_by, now)
        return member

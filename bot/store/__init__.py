"""The store: one database (SQLite, or PostgreSQL behind the same interface) and a repository
per aggregate over it.

`database` is the connection layer (`Database`, `Connection`), `sqlite` its embedded dialect,
`migration` the numbered schema. The repositories each read and write their own tables:
`users` (people, reachability), `membership` (members, bind requests, invites), `notes`
(notes and note flows), `reminders` (deliveries and their parts, notices owed, state keys),
`audit`, `callbacks` (the durable intake), `weblogin` and `unanswered` (the web console's),
`leases` (work one instance of several does at a time), `chats` (page buttons and
conversations, when several instances share the database), `generations` (the documents'
files changed, for the other instances to reload).
`Store` is where they meet: it opens the database, migrates it and holds the repositories,
each seeing the rows of one document (`doc`, "" the data folder's own; its notes those of
`edition`, its number); `document(id)` is the same database seen for another.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Literal, Self

from bot.clock import Clock, system_clock
from bot.store.audit import Audit, AuditEntry
from bot.store.callbacks import Callbacks, Delivery
from bot.store.chats import Chats, ChatState
from bot.store.database import Database
from bot.store.errors import (
    AlreadyDecided,
    Changed,
    InviteInvalid,
    NotAuthor,
    NotFound,
    SchemaTooNew,
    StoreError,
    TooSoon,
)
from bot.store.generations import Generations
from bot.store.leases import Leases
from bot.store.membership import BindRequest, Invite, Member, Membership
from bot.store.migration import upgrade
from bot.store.notes import Flow, Flowless, Flows, Note, Notes, origin, text_version
from bot.store.reminders import DeliveryStatus, Notices, Reminders, State, StoredNotice
from bot.store.sqlite import BUSY_TIMEOUT_MS, SQLiteDatabase, open_error
from bot.store.unanswered import Unanswered
from bot.store.users import User, Users
from bot.store.weblogin import WebLogins

__all__ = [
    "BUSY_TIMEOUT_MS",
    "AlreadyDecided",
    "AuditEntry",
    "BindRequest",
    "Changed",
    "ChatState",
    "Delivery",
    "DeliveryStatus",
    "Flow",
    "Invite",
    "InviteInvalid",
    "Member",
    "NotAuthor",
    "NotFound",
    "Note",
    "Owned",
    "SchemaTooNew",
    "Store",
    "StoreError",
    "StoredNotice",
    "TooSoon",
    "User",
    "open_error",
    "origin",
    "text_version",
]

Owned = Literal["request", "note", "invite", "flow"]
_OWNER: dict[Owned, str] = {
    "request": "SELECT doc FROM bind_requests WHERE id = ?",
    "note": "SELECT doc FROM notes WHERE id = ?",
    "invite": "SELECT doc FROM invites WHERE code = ?",
    "flow": "SELECT doc FROM flows WHERE user_id = ?",
}


class Store:
    """The database and its repositories, seen for one document (see the module's docstring).

    Every write is committed before it returns.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        doc: str = "",
        edition: str = "",
        *,
        shared: Store | None = None,
    ) -> None:
        """Hold the repositories over an open, migrated `db`; use `Store.open` instead.

        `shared`: the store whose per-process memory (and document-free repositories) this
        view shares.
        """
        self.db = db
        self.clock = clock
        self.doc = doc
        self.edition = edition
        self.flowless: Flowless = Flowless() if shared is None else shared.flowless
        # Not per document: one person, one inbox, one console login.
        self.users: Users = Users(db, clock) if shared is None else shared.users
        self.notices: Notices = Notices(db, clock) if shared is None else shared.notices
        self.weblogins: WebLogins = WebLogins(db, clock) if shared is None else shared.weblogins
        self.leases: Leases = Leases(db, clock) if shared is None else shared.leases
        self.chats: Chats = Chats(db, clock) if shared is None else shared.chats
        self.callbacks: Callbacks = (
            Callbacks(db, clock, self.chats) if shared is None else shared.callbacks
        )
        self.generations: Generations = (
            Generations(db, clock) if shared is None else shared.generations
        )
        # Whether other instances use the database too: then what a chat carries from one
        # message to the next is kept in it, not in memory (PostgreSQL; tests set it on SQLite).
        self.several_instances: bool = (
            db.dialect == "postgres" if shared is None else shared.several_instances
        )
        # The document's own.
        self.members = Membership(db, clock, doc)
        self.notes = Notes(db, clock, doc, edition)
        self.flows = Flows(db, clock, doc, self.flowless)
        self.reminders = Reminders(db, clock, doc)
        self.state = State(db, clock, doc)
        self.audit = Audit(db, clock, doc)
        self.unanswered = Unanswered(db, clock, doc)

    @classmethod
    async def open(cls, path: str | Path, clock: Clock = system_clock) -> Self:
        """Open the database at `path`, a SQLite file (created if needed) or a postgresql://
        URL (FENGONG_DB), and bring its schema up to date."""
        if isinstance(path, str) and "://" in path:
            # Only a URL loads the PostgreSQL driver (asyncpg): a SQLite bot does without it.
            from bot.store.postgres import PostgresDatabase, is_url

            if is_url(path):
                return cls(await PostgresDatabase.open(path, upgrade), clock)
        return cls(await SQLiteDatabase.open(path, upgrade), clock)

    def document(self, doc: str, edition: str = "") -> Store:
        """Return this database seen for document `doc`, numbered `edition`."""
        return Store(self.db, self.clock, doc, edition, shared=self)

    @property
    def blocked(self) -> set[str]:
        """People marked unreachable since the process started (see `Users.blocked`)."""
        return self.users.blocked

    async def doc_of(self, kind: Owned, key: str) -> str | None:
        """Return the document of a request or note (by id), an invite (code) or a flow (user)."""
        ref: str | int = key
        if kind in ("request", "note"):  # an id, typed as the column is (PostgreSQL is strict)
            if not (key.isascii() and key.isdigit() and len(key) <= 18):
                return None
            ref = int(key)
        row = await self.db.fetchrow(_OWNER[kind], (ref,))
        return None if row is None else str(row["doc"])

    async def writable(self, wait_ms: int = 1000) -> None:
        """Raise unless a write can begin within `wait_ms` (locked, read-only …)."""
        await self.db.writable(wait_ms)

    async def schema_version(self) -> int:
        """Return the schema version of the open database."""
        return await self.db.schema_version()

    async def close(self) -> None:
        """Close the database (safe to call twice)."""
        await self.db.close()

    async def __aenter__(self) -> Self:
        """Return the store itself."""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the store."""
        await self.close()

"""The database: one class owns the SQLite file (users, members, requests, invites, notes,
note flows, notices owed)."""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import hashlib
import json
import re
import secrets
import sqlite3
import string
from collections.abc import AsyncIterator, Awaitable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Literal, Self, TypeVar

import aiosqlite

from bot.clock import TZ, Clock, system_clock

BindStatus = Literal["pending", "approved", "rejected", "replaced"]
DeliveryStatus = Literal["pending", "sent", "failed", "blocked"]
FlowKind = Literal["note", "edit"]
InviteProblem = Literal["unknown", "used", "expired"]

# Items a statement inserts at most (4 values each, within SQLite's oldest limit of 999).
_CHUNK = 200
# How long a connection waits for another connection's write lock before giving up.
BUSY_TIMEOUT_MS = 5000
# The same for storing a delivered callback: WeCom waits 5 s for its answer, so a locked
# database must be answered 503 (deliver again) well before that, not after 5 s.
INTAKE_BUSY_MS = 2000
FLOWLESS_KEPT = 100_000  # people remembered to have no note flow, before starting afresh
DEFAULT_INVITE_TTL = dt.timedelta(days=7)
# New codes are 16 letters and digits (95 bits): typed, linked or copied in any channel, with
# no character any markup might take for its own ("_" in WeCom's). Older ones hold "_" and "-".
INVITE_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_INVITE_ALPHABET = string.ascii_letters + string.digits

_T = TypeVar("_T")
# The stored delivery (an inbox row, "inbox:<id>") whose handling is under way: a note it
# files is tied to it, so that handling it again after a crash finds the note, not a new one.
origin: contextvars.ContextVar[str | None] = contextvars.ContextVar("origin", default=None)
Owned = Literal["request", "note", "invite", "flow"]
_OWNER: dict[Owned, str] = {
    "request": "SELECT doc FROM bind_requests WHERE id = ?",
    "note": "SELECT doc FROM notes WHERE id = ?",
    "invite": "SELECT doc FROM invites WHERE code = ?",
    "flow": "SELECT doc FROM flows WHERE user_id = ?",
}
# Channel-qualified ids: a Telegram id (digits, a leading '-' allowed) becomes 'tg:<id>';
# others ('console', 'wecom:…') stay. Parents and children change in one transaction, so the
# foreign keys are checked at its commit.
QUALIFY_IDS = "PRAGMA defer_foreign_keys = ON;" + "".join(
    f"UPDATE {table} SET {column} = 'tg:' || {column} "
    f"WHERE ({column} GLOB '[0-9]*' AND {column} NOT GLOB '*[^0-9]*') "
    f"OR ({column} GLOB '-[0-9]*' AND substr({column}, 2) NOT GLOB '*[^0-9]*');"
    for table, column in (
        ("users", "id"),
        ("members", "user_id"),
        ("members", "bound_by"),
        ("bind_requests", "user_id"),
        ("bind_requests", "decided_by"),
        ("invites", "created_by"),
        ("invites", "used_by"),
        ("notes", "author_id"),
        ("notes", "deleted_by"),
        ("deliveries", "user_id"),
        ("audit", "actor_id"),
        ("flows", "user_id"),
        ("notices", "user_id"),
    )
)


# Several documents: what a member, a request, an invite, a note, a flow or an audit entry
# belongs to ("" the data folder's own document, else its folder). A person may be a
# member of a unit in each document, so members are keyed by (doc, user_id). Deliveries and
# state keep their keys, a document's prefixed with "<doc>/" (Store._key).
BY_DOCUMENT = """
CREATE TABLE members_of_docs (
    user_id  TEXT NOT NULL REFERENCES users(id),
    name     TEXT NOT NULL,
    unit     TEXT NOT NULL,
    bound_at TEXT NOT NULL,
    bound_by TEXT NOT NULL,
    doc      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (doc, user_id)
);
INSERT INTO members_of_docs (user_id, name, unit, bound_at, bound_by)
    SELECT user_id, name, unit, bound_at, bound_by FROM members;
DROP TABLE members;
ALTER TABLE members_of_docs RENAME TO members;
CREATE INDEX members_by_unit ON members(doc, unit, bound_at);

ALTER TABLE bind_requests ADD COLUMN doc TEXT NOT NULL DEFAULT '';
DROP INDEX bind_requests_one_pending;
CREATE UNIQUE INDEX bind_requests_one_pending ON bind_requests(doc, user_id)
    WHERE status = 'pending';

ALTER TABLE invites ADD COLUMN doc TEXT NOT NULL DEFAULT '';

ALTER TABLE notes ADD COLUMN doc TEXT NOT NULL DEFAULT '';
DROP INDEX notes_by_unit_year;
DROP INDEX notes_by_year;
CREATE INDEX notes_by_unit_year ON notes(doc, unit, year);
CREATE INDEX notes_by_year ON notes(doc, year, measure_id);

-- Still one flow per person: the next message they type is read in one document.
ALTER TABLE flows ADD COLUMN doc TEXT NOT NULL DEFAULT '';

ALTER TABLE audit ADD COLUMN doc TEXT NOT NULL DEFAULT '';
"""


# A note of the store's edition (or of any, when the store has none; a note from before
# editions were recorded counts as the folder's current one), or of another: two parameters,
# the edition twice.
_THIS_EDITION = "(? = '' OR edition IN ('', ?))"
_OTHER_EDITION = "(? != '' AND edition NOT IN ('', ?))"


# What a channel delivered, stored before it is acknowledged (in the transaction of its
# callbacks key) and deleted once handled; what a crash left here is handled at the next start.
# A note records the delivery it came from, so that handling one again stores no second note.
# WeCom UserIds are case-insensitive: stored ones are lower-cased as the adapter now reads
# them (a row whose lower-cased key exists already is left as it was).
DURABLE_INTAKE = """
CREATE TABLE inbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    channel    TEXT NOT NULL,
    member     TEXT NOT NULL,
    body       TEXT NOT NULL,
    arrived_at TEXT NOT NULL
);
CREATE INDEX inbox_by_channel ON inbox(channel, id);
ALTER TABLE notes ADD COLUMN origin TEXT;
CREATE UNIQUE INDEX notes_by_origin ON notes(origin) WHERE origin IS NOT NULL;
PRAGMA defer_foreign_keys = ON;
""" + "".join(
    f"UPDATE OR IGNORE {table} SET {column} = lower({column}) "
    f"WHERE {column} GLOB 'wecom:*' AND {column} <> lower({column});"
    for table, column in (
        ("users", "id"),
        ("members", "user_id"),
        ("members", "bound_by"),
        ("bind_requests", "user_id"),
        ("bind_requests", "decided_by"),
        ("invites", "created_by"),
        ("invites", "used_by"),
        ("notes", "author_id"),
        ("notes", "deleted_by"),
        ("deliveries", "user_id"),
        ("audit", "actor_id"),
        ("flows", "user_id"),
        ("notices", "user_id"),
    )
)


# Migration i brings the schema from user_version i to i + 1. Append only: never edit a shipped
# migration, since databases already past it will not run it again.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE users (
        id           TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        private_chat INTEGER NOT NULL DEFAULT 0 CHECK (private_chat IN (0, 1)),
        reachable    INTEGER NOT NULL DEFAULT 1 CHECK (reachable IN (0, 1)),
        reminders_on INTEGER NOT NULL DEFAULT 1 CHECK (reminders_on IN (0, 1)),
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );

    -- A person is bound to exactly one unit, hence user_id is the key.
    CREATE TABLE members (
        user_id  TEXT PRIMARY KEY REFERENCES users(id),
        name     TEXT NOT NULL,
        unit     TEXT NOT NULL,
        bound_at TEXT NOT NULL,
        bound_by TEXT NOT NULL
    );
    CREATE INDEX members_by_unit ON members(unit, bound_at);

    CREATE TABLE bind_requests (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id    TEXT NOT NULL REFERENCES users(id),
        name       TEXT NOT NULL,
        unit       TEXT NOT NULL,
        status     TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'approved', 'rejected', 'replaced')),
        created_at TEXT NOT NULL,
        decided_at TEXT,
        decided_by TEXT
    );
    -- At most one open request per person: a newer one replaces the older.
    CREATE UNIQUE INDEX bind_requests_one_pending ON bind_requests(user_id)
        WHERE status = 'pending';

    CREATE TABLE invites (
        code       TEXT PRIMARY KEY,
        unit       TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_by    TEXT REFERENCES users(id),
        used_at    TEXT
    );

    -- No foreign key on author_id: a note is a record of what was reported and must outlive
    -- whatever happens to its author's account; author_name keeps the name as it was.
    CREATE TABLE notes (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        unit        TEXT NOT NULL,
        measure_id  TEXT NOT NULL,
        year        INTEGER NOT NULL,
        author_id   TEXT NOT NULL,
        author_name TEXT NOT NULL,
        text        TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        updated_at  TEXT,
        deleted_at  TEXT,
        deleted_by  TEXT
    );
    CREATE INDEX notes_by_unit_year ON notes(unit, year);
    CREATE INDEX notes_by_year ON notes(year, measure_id);

    CREATE TABLE deliveries (
        reminder_key TEXT NOT NULL,
        user_id      TEXT NOT NULL,
        status       TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'blocked')),
        attempts     INTEGER NOT NULL DEFAULT 0,
        updated_at   TEXT NOT NULL,
        PRIMARY KEY (reminder_key, user_id)
    );

    CREATE TABLE state (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # The audit trail: who changed what, when. Rows are written in the transaction of the
    # change they record, and never hold a note's text (the notes table keeps that).
    """
    CREATE TABLE audit (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        at         TEXT NOT NULL,
        actor_id   TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        action     TEXT NOT NULL,
        unit       TEXT NOT NULL DEFAULT '',
        subject    TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX audit_by_time ON audit(at, id);
    """,
    """
    -- A note (or a note's edit) awaiting the member's next message; one per person. Kept here,
    -- not in memory, so that it survives a restart; `unit` is the unit it was started for.
    CREATE TABLE flows (
        user_id    TEXT PRIMARY KEY,
        kind       TEXT NOT NULL CHECK (kind IN ('note', 'edit')),
        target     TEXT NOT NULL,
        unit       TEXT NOT NULL,
        started_at TEXT NOT NULL
    );

    -- Messages owed to someone, written in the transaction of the decision that owes them and
    -- marked sent only once the channel accepted them: a crash in between resends, never loses.
    CREATE TABLE notices (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id    TEXT NOT NULL,
        kind       TEXT NOT NULL,
        payload    TEXT NOT NULL,
        status     TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'sent', 'failed', 'blocked')),
        attempts   INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX notices_pending ON notices(status, id);
    """,
    """
    -- Callbacks already taken (WeCom retries a callback it thinks unanswered, three times in
    -- about 15 s): the key of each, kept a day, so that a retry after a restart is still known.
    CREATE TABLE callbacks (
        key     TEXT PRIMARY KEY,
        seen_at TEXT NOT NULL
    );
    """,
    QUALIFY_IDS,
    BY_DOCUMENT,
    # How many parts of a reminder (its messages: pages, a text then a card) each recipient
    # was sent: a fan-out cut short resumes at the next part, not from the first.
    "ALTER TABLE deliveries ADD COLUMN parts INTEGER NOT NULL DEFAULT 0;",
    # The document a note was filed on (its number, 文号), not only its folder: a folder whose
    # document is replaced (import-doc --replace) keeps the old one's notes apart from the
    # new one's. '' until the bot first starts on this schema (then its loaded document's).
    "ALTER TABLE notes ADD COLUMN edition TEXT NOT NULL DEFAULT '';",
    # The year an audit entry counts for: a note's (filed in 2026, it counts for 2024's last
    # report), or an export's and a report's; NULL: the year of its date. Entries of notes
    # already recorded take it from their subject ("记录 #3，举措 5.1（2024 年）").
    """
    ALTER TABLE audit ADD COLUMN year INTEGER;
    UPDATE audit SET year = CAST(substr(subject, length(subject) - 6, 4) AS INTEGER)
        WHERE action LIKE 'note.%' AND subject LIKE '%（____ 年）';
    """,
    DURABLE_INTAKE,
    # The web console (#21): one-time login links and sessions, keyed by the SHA-256 of their
    # tokens (a copy of the database opens nobody's session), shared by every instance.
    """
    CREATE TABLE web_links (
        hash       TEXT PRIMARY KEY,
        user_id    TEXT NOT NULL,
        name       TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at    TEXT
    );
    CREATE INDEX web_links_by_user ON web_links(user_id, created_at);
    CREATE TABLE web_sessions (
        hash    TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        name    TEXT NOT NULL,
        csrf    TEXT NOT NULL,
        seen_at TEXT NOT NULL
    );
    """,
    # Questions the bot could not answer, per document (bot/office/unanswered.py, #21): the
    # normalised text, how often and when asked (never who), the measures offered as nearest;
    # status '' open, 'mapped' (a synonym added), 'out' (out of the document's scope).
    # Kept 90 days after last asked.
    """
    CREATE TABLE unanswered (
        doc       TEXT NOT NULL,
        text      TEXT NOT NULL,
        count     INTEGER NOT NULL,
        suggested TEXT NOT NULL DEFAULT '',
        first_at  TEXT NOT NULL,
        last_at   TEXT NOT NULL,
        status    TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (doc, text)
    );
    CREATE INDEX unanswered_by_last ON unanswered(last_at);
    """,
]


async def _settled(step: Awaitable[_T]) -> _T:
    """Await a transaction step to its end, even when the caller is cancelled meanwhile.

    aiosqlite runs statements in its own thread: a task cancelled while its BEGIN, COMMIT or
    ROLLBACK is under way would otherwise leave the connection in a state the next write does
    not expect ("cannot start a transaction within a transaction"). The cancellation is raised
    once the statement is done.
    """

    async def run() -> _T:
        return await step

    future = asyncio.create_task(run())
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait({future})
        raise


# --- errors ---------------------------------------------------------------------------------


def text_version(text: str) -> str:
    """A note text's version: 8 hex digits of its digest (an edit back to it is the same)."""
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:8]


class StoreError(Exception):
    """A database operation was refused; `message` is Chinese and fit to show the user."""

    default_message: ClassVar[str] = "数据操作失败，请稍后再试。"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class SchemaTooNew(StoreError):
    """The database was written by a newer version of the bot than this one."""

    def __init__(self, found: int, known: int) -> None:
        self.found = found
        self.known = known
        super().__init__(
            f"数据库版本（{found}）比本程序支持的版本（{known}）新，请升级程序后再启动。"
        )


class NotFound(StoreError):
    """The record does not exist (or was deleted)."""

    default_message = "找不到这条记录，它可能已被删除。"


class TooSoon(StoreError):
    """A person asks for another unit too soon after their pending request (`pending`)."""

    default_message = "申请过于频繁，请稍后再试。"

    def __init__(self, pending: BindRequest) -> None:
        self.pending = pending
        super().__init__()


class AlreadyDecided(StoreError):
    """The bind request is no longer pending; `request` is its current state."""

    default_message = "这条绑定申请已经处理过了。"

    def __init__(self, request: BindRequest) -> None:
        self.request = request
        super().__init__()


class InviteInvalid(StoreError):
    """The invite code cannot be used; `reason` says why."""

    messages: ClassVar[dict[InviteProblem, str]] = {
        "unknown": "邀请码无效，请向协调人索取新的邀请链接。",
        "used": "这个邀请码已经被使用过了，请向协调人索取新的邀请链接。",
        "expired": "这个邀请码已过期，请向协调人索取新的邀请链接。",
    }

    def __init__(self, reason: InviteProblem) -> None:
        self.reason: InviteProblem = reason
        super().__init__(self.messages[reason])


class NotAuthor(StoreError):
    """Only the author of a note may change or delete it."""

    default_message = "只有填写人本人可以修改或删除这条记录。"


class Changed(StoreError):
    """The note's text is no longer the version a confirmation or an edit was started on."""

    default_message = "这条记录已被修改。"


# SQLite's errors that come from the database file or its place, not from the program.
_FILE_PROBLEMS = (
    "SQLITE_NOTADB",
    "SQLITE_CORRUPT",
    "SQLITE_READONLY",
    "SQLITE_CANTOPEN",
    "SQLITE_IOERR",
    "SQLITE_PERM",
    "SQLITE_FULL",
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
)


def open_error(path: Path, error: sqlite3.Error) -> StoreError:
    """Say, in Chinese, which database file could not be opened and what to do about it."""
    name = getattr(error, "sqlite_errorname", "")
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return StoreError(
            f"数据库文件 {path} 已损坏或不是本程序的数据库。请从备份恢复"
            "（见 README「备份与恢复」），或将该文件移走后重新启动以新建空数据库（FENGONG_DB）。"
        )
    if name.startswith("SQLITE_READONLY"):
        return StoreError(
            f"数据库文件 {path} 是只读的，无法写入。请让运行机器人的用户对该文件及其所在目录"
            "有写权限，并检查磁盘是否以只读方式挂载（FENGONG_DB）。"
        )
    return StoreError(
        f"无法打开数据库文件 {path}（{error}）。请检查 FENGONG_DB 的路径是否正确，"
        "以及运行机器人的用户对该文件和所在目录有没有读写权限。"
    )


# --- records --------------------------------------------------------------------------------


def _iso(moment: dt.datetime) -> str:
    """Return `moment` as ISO-8601 text in Asia/Shanghai, always with microseconds."""
    # One fixed offset and one fixed width make the text sort like the time, so SQL can compare
    # stored timestamps as strings (Asia/Shanghai has had no DST since 1991).
    return moment.astimezone(TZ).isoformat(timespec="microseconds")


def _time(value: str) -> dt.datetime:
    """Parse a stored timestamp."""
    return dt.datetime.fromisoformat(value).astimezone(TZ)


def _maybe_time(value: str | None) -> dt.datetime | None:
    """Parse a stored timestamp that may be NULL."""
    return None if value is None else _time(value)


@dataclass(frozen=True)
class User:
    """Someone who has talked to the bot, and how the bot may reach them."""

    id: str
    name: str
    private_chat: bool
    reachable: bool
    reminders_on: bool

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Self:
        """Build from a `users` row."""
        return cls(
            id=row["id"],
            name=row["name"],
            private_chat=bool(row["private_chat"]),
            reachable=bool(row["reachable"]),
            reminders_on=bool(row["reminders_on"]),
        )


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
    def from_row(cls, row: sqlite3.Row) -> Self:
        """Build from a `members` row."""
        return cls(
            user_id=row["user_id"],
            name=row["name"],
            unit=row["unit"],
            bound_at=_time(row["bound_at"]),
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
    def from_row(cls, row: sqlite3.Row) -> Self:
        """Build from a `bind_requests` row."""
        return cls(
            id=row["id"],
            user_id=row["user_id"],
            name=row["name"],
            unit=row["unit"],
            status=row["status"],
            created_at=_time(row["created_at"]),
            decided_at=_maybe_time(row["decided_at"]),
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
    def from_row(cls, row: sqlite3.Row) -> Self:
        """Build from an `invites` row."""
        return cls(
            code=row["code"],
            unit=row["unit"],
            created_by=row["created_by"],
            created_at=_time(row["created_at"]),
            expires_at=_time(row["expires_at"]),
            used_by=row["used_by"],
            used_at=_maybe_time(row["used_at"]),
        )


@dataclass(frozen=True)
class Note:
    """A unit's progress note on one measure for one year."""

    id: int
    unit: str
    measure_id: str
    year: int
    author_id: str
    author_name: str
    text: str
    created_at: dt.datetime
    # None until the note is first edited.
    updated_at: dt.datetime | None
    deleted_at: dt.datetime | None
    deleted_by: str | None
    # The number of the document it was filed on ("" if filed before that was recorded).
    edition: str = ""

    @property
    def deleted(self) -> bool:
        """Return True if the note was (soft-)deleted."""
        return self.deleted_at is not None

    @property
    def version(self) -> str:
        """Return a short digest of the text: what a confirmation shown with it confirms."""
        return text_version(self.text)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Self:
        """Build from a `notes` row."""
        return cls(
            id=row["id"],
            unit=row["unit"],
            measure_id=row["measure_id"],
            year=row["year"],
            author_id=row["author_id"],
            author_name=row["author_name"],
            text=row["text"],
            created_at=_time(row["created_at"]),
            updated_at=_maybe_time(row["updated_at"]),
            deleted_at=_maybe_time(row["deleted_at"]),
            deleted_by=row["deleted_by"],
            edition=row["edition"],
        )


@dataclass(frozen=True)
class Flow:
    """A note or edit awaiting the person's next message."""

    user_id: str
    kind: FlowKind
    target: str  # measure id, or note id for an edit
    unit: str  # the person's unit when the flow started
    started_at: dt.datetime

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Self:
        """Build from a `flows` row."""
        return cls(
            user_id=row["user_id"],
            kind=row["kind"],
            target=row["target"],
            unit=row["unit"],
            started_at=_time(row["started_at"]),
        )


@dataclass(frozen=True)
class StoredNotice:
    """A message owed to someone: what to say (`kind` and its `payload`), and whether it went."""

    id: int
    user_id: str
    kind: str
    payload: dict[str, Any]
    status: DeliveryStatus
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Self:
        """Build from a `notices` row."""
        return cls(
            id=row["id"],
            user_id=row["user_id"],
            kind=row["kind"],
            payload=json.loads(row["payload"]),
            status=row["status"],
            created_at=_time(row["created_at"]),
        )


def _statements(script: str) -> list[str]:
    """Split an SQL script into single statements (semicolons in strings/comments are kept)."""
    # Migrations run statement by statement because executescript() would COMMIT the
    # transaction that also holds the user_version check and bump.
    statements: list[str] = []
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\r\n;"):
                statements.append(buffer)
            buffer = ""
    if buffer.strip(" \t\r\n;"):
        raise ValueError(f"incomplete SQL statement in migration: {buffer!r}")
    return statements


# --- the store ------------------------------------------------------------------------------


class Store:
    """The one owner of the SQLite database; every write is committed before it returns.

    A store reads and writes the rows of one document (`doc`, "" the data folder's own):
    members, requests, invites, notes, flows, audit entries, and the reminders' delivery and
    state keys (prefixed "<doc>/"). `document(id)` is the same database seen for another.
    Its notes are those of the document's `edition` (its number), when one is given: notes
    filed on an earlier document of the same folder are `earlier_notes`.
    """

    def __init__(
        self, db: aiosqlite.Connection, clock: Clock, doc: str = "", edition: str = ""
    ) -> None:
        """Wrap an open connection; use `Store.open` instead."""
        self._db = db
        self._clock = clock
        self.doc = doc
        self.edition = edition
        # One connection serves all coroutines: the lock keeps one coroutine's reads out of
        # another's open transaction, and keeps two BEGINs from meeting on one connection.
        self._lock = asyncio.Lock()
        # (person, document) read to have no note flow: every private message asks, and only
        # start_flow makes one, so that read is not repeated (a database read per message).
        # The process owning the file is the only writer of flows (they are chat state).
        self._flowless: set[tuple[str, str]] = set()
        # People marked unreachable since the process started: their next private message
        # must be recorded again (it marks them reachable), however often they were seen.
        self.blocked: set[str] = set()

    def document(self, doc: str, edition: str = "") -> Store:
        """Return this database seen for document `doc`, numbered `edition` (same connection)."""
        view = Store(self._db, self._clock, doc, edition)
        view._lock, view._flowless, view.blocked = self._lock, self._flowless, self.blocked
        return view

    def _key(self, key: str) -> str:
        """Return a reminder or state key as stored: a document's own beside the others'."""
        # A folder name has no "/": no document's key can look like another's.
        return f"{self.doc}/{key}" if self.doc else key

    async def doc_of(self, kind: Owned, key: str) -> str | None:
        """Return the document of a request or note (by id), an invite (code) or a flow (user)."""
        row = await self._read_one(_OWNER[kind], (key,))
        return None if row is None else str(row["doc"])

    async def bindings(self, user_id: str) -> list[Member]:
        """Return the person's bindings in every document, by document."""
        rows = await self._read_all(
            "SELECT * FROM members WHERE user_id = ? ORDER BY doc", (user_id,)
        )
        return [Member.from_row(row) for row in rows]

    @classmethod
    async def open(cls, path: str | Path, clock: Clock = system_clock) -> Self:
        """Open (creating if needed) the database at `path` and bring its schema up to date."""
        path = Path(path)
        if path.is_dir():
            # aiosqlite's thread would outlive the failed connect and trip over a closed loop.
            raise StoreError(
                f"FENGONG_DB 应指向数据库文件（如 var/fengong.db），而 {path} 是一个文件夹。"
            )
        try:
            # A fresh machine has no var/ yet: create it rather than refuse.
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(
                f"无法创建数据库所在的目录 {path.parent}（{e.strerror}）。请检查 FENGONG_DB 的路径"
                "（路径中是否有同名文件），或手动创建该目录并给运行机器人的用户写权限。"
            ) from e
        try:
            # isolation_level=None: the store issues BEGIN/COMMIT itself rather than letting
            # sqlite3 open implicit transactions behind its back.
            db = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as e:
            raise open_error(path, e) from e
        try:
            db.row_factory = aiosqlite.Row
            await cls._configure(db)
            store = cls(db, clock)
            await store._migrate()
            await store._check_writable()
        except sqlite3.Error as e:
            await db.close()
            # The file's fault, told to the operator; anything else (a broken migration) is
            # a bug, and keeps its traceback.
            if not getattr(e, "sqlite_errorname", "").startswith(_FILE_PROBLEMS):
                raise
            raise open_error(path, e) from e
        except BaseException:
            await db.close()
            raise
        return store

    @staticmethod
    async def _configure(db: aiosqlite.Connection) -> None:
        """Set the connection's pragmas."""
        await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        async with db.execute("PRAGMA journal_mode = WAL") as cursor:
            row = await cursor.fetchone()
        # WAL lets readers proceed while a write is in progress; refuse to run without it
        # rather than silently fall back (e.g. on a file system that cannot share memory).
        mode = "?" if row is None else str(row[0]).lower()
        if mode != "wal":
            raise StoreError(f"数据库无法启用 WAL 模式（当前为 {mode}）。")
        # FULL, not NORMAL: in WAL mode NORMAL skips the fsync at each commit, so a commit
        # survives kill -9 but may be lost on power failure. A note is acknowledged to its
        # author once add_note returns, so the commit must already be on disk.
        await db.execute("PRAGMA synchronous = FULL")
        await db.execute("PRAGMA foreign_keys = ON")

    async def _migrate(self) -> None:
        """Apply pending migrations, one transaction each."""
        while True:
            async with self._write():
                version = await self._user_version()
                known = len(MIGRATIONS)
                if version > known:
                    raise SchemaTooNew(version, known)
                if version == known:
                    return
                for statement in _statements(MIGRATIONS[version]):
                    await self._db.execute(statement)
                # user_version lives in the database header, so it commits or rolls back
                # together with the migration. PRAGMA takes no parameters; version is an int.
                await self._db.execute(f"PRAGMA user_version = {version + 1}")

    async def _user_version(self) -> int:
        """Return the schema version recorded in the database."""
        row = await self._one("PRAGMA user_version")
        return 0 if row is None else int(row[0])

    async def schema_version(self) -> int:
        """Return the schema version of the open database."""
        async with self._lock:
            return await self._user_version()

    async def close(self) -> None:
        """Close the connection (safe to call twice)."""
        await self._db.close()

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

    # --- plumbing ---------------------------------------------------------------------------

    def _now(self) -> dt.datetime:
        """Read the injected clock, insisting on an aware time."""
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the store's clock must return timezone-aware datetimes")
        return now.astimezone(TZ)

    @asynccontextmanager
    async def _write(self, wait_ms: int = BUSY_TIMEOUT_MS) -> AsyncIterator[None]:
        """Run the body in one write transaction, committed on success, rolled back otherwise.

        `wait_ms`: how long to wait for another connection's write lock.
        """
        async with self._lock:
            if wait_ms != BUSY_TIMEOUT_MS:
                await _settled(self._db.execute(f"PRAGMA busy_timeout = {int(wait_ms)}"))
            try:
                # IMMEDIATE takes the write lock up front, so two connections racing for the
                # same row queue on busy_timeout instead of failing with a lock upgrade deadlock.
                await _settled(self._db.execute("BEGIN IMMEDIATE"))
                yield
                await _settled(self._db.execute("COMMIT"))
            except BaseException:
                if self._db.in_transaction:
                    await _settled(self._db.execute("ROLLBACK"))
                raise
            finally:
                if wait_ms != BUSY_TIMEOUT_MS:
                    await _settled(self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"))

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run a query to completion and return its rows (caller holds the lock)."""
        return list(await self._db.execute_fetchall(sql, params))

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        """Run a query to completion and return its first row (caller holds the lock)."""
        # Fetch everything, not fetchone(): a half-stepped UPDATE ... RETURNING would be left
        # unfinished inside the transaction.
        rows = await self._all(sql, params)
        return rows[0] if rows else None

    async def _read_one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        """Run a read-only query under the lock and return its first row."""
        async with self._lock:
            return await self._one(sql, params)

    async def _read_all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run a read-only query under the lock and return its rows."""
        async with self._lock:
            return await self._all(sql, params)

    async def _ensure_user(self, user_id: str, name: str, now: str) -> None:
        """Create a bare user row if there is none (members and requests refer to users)."""
        await self._db.execute(
            "INSERT INTO users (id, name, created_at, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO NOTHING",
            (user_id, name, now, now),
        )

    async def _bind(
        self, user_id: str, name: str, unit: str, by: str, now: str
    ) -> tuple[Member, Flow | None]:
        """Bind inside the caller's transaction, replacing any previous binding.

        A note the person had started for another unit ends here (and is returned): its text,
        arriving later, would otherwise be filed for the new unit.
        """
        await self._ensure_user(user_id, name, now)
        ended = await self._one(
            "DELETE FROM flows WHERE user_id = ? AND doc = ? AND unit <> ? RETURNING *",
            (user_id, self.doc, unit),
        )
        row = await self._one(
            "INSERT INTO members (doc, user_id, name, unit, bound_at, bound_by) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (doc, user_id) DO UPDATE SET "
            "name = excluded.name, unit = excluded.unit, bound_at = excluded.bound_at, "
            "bound_by = excluded.bound_by RETURNING *",
            (self.doc, user_id, name, unit, now, by),
        )
        assert row is not None  # an upsert always yields its row
        return Member.from_row(row), None if ended is None else Flow.from_row(ended)

    # --- users ------------------------------------------------------------------------------

    async def upsert_user(self, user_id: str, name: str, private_chat: bool | None = None) -> User:
        """Record a user's current name; `private_chat=None` leaves that flag unchanged."""
        now = _iso(self._now())
        flag = None if private_chat is None else int(private_chat)
        async with self._write():
            row = await self._one(
                "INSERT INTO users (id, name, private_chat, created_at, updated_at) "
                "VALUES (?, ?, COALESCE(?, 0), ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
                "private_chat = COALESCE(?, private_chat), "
                # Someone writing to the bot privately can be written to again (on Telegram,
                # messaging a bot you blocked unblocks it).
                "reachable = CASE WHEN ? = 1 THEN 1 ELSE reachable END, "
                "updated_at = excluded.updated_at RETURNING *",
                (user_id, name, flag, now, now, flag, flag),
            )
        assert row is not None
        return User.from_row(row)

    async def user(self, user_id: str) -> User | None:
        """Return the user, or None if the bot has never seen them."""
        row = await self._read_one("SELECT * FROM users WHERE id = ?", (user_id,))
        return None if row is None else User.from_row(row)

    async def set_reachable(self, user_id: str, reachable: bool) -> None:
        """Record whether messages to the user can be delivered."""
        await self._set_user_flag(user_id, "reachable", reachable)
        if not reachable:
            self.blocked.add(user_id)

    async def set_reminders(self, user_id: str, on: bool) -> None:
        """Record whether the user wants reminders."""
        await self._set_user_flag(user_id, "reminders_on", on)

    async def _set_user_flag(
        self, user_id: str, column: Literal["reachable", "reminders_on"], value: bool
    ) -> None:
        """Set one boolean column of a user; NotFound if there is no such user."""
        now = _iso(self._now())
        async with self._write():
            cursor = await self._db.execute(
                f"UPDATE users SET {column} = ?, updated_at = ? WHERE id = ?",
                (int(value), now, user_id),
            )
            if cursor.rowcount == 0:
                raise NotFound("找不到这个用户。")

    # --- members ----------------------------------------------------------------------------

    async def bind(self, user_id: str, name: str, unit: str, by: str) -> Member:
        """Bind a person to a unit, replacing any previous binding."""
        now = _iso(self._now())
        async with self._write():
            await self._audit(now, by, "bind", unit, f"{name}（ID {user_id}）")
            member, _ = await self._bind(user_id, name, unit, by, now)
        return member

    async def unbind(self, user_id: str) -> Member | None:
        """Remove a person's binding and return it, or None if they were not bound."""
        async with self._write():
            row = await self._one(
                "DELETE FROM members WHERE user_id = ? AND doc = ? RETURNING *",
                (user_id, self.doc),
            )
            if row is not None:
                await self._audit(
                    _iso(self._now()), user_id, "unbind", row["unit"], "", row["name"]
                )
            await self._db.execute(
                "DELETE FROM flows WHERE user_id = ? AND doc = ?", (user_id, self.doc)
            )
        return None if row is None else Member.from_row(row)

    async def member(self, user_id: str) -> Member | None:
        """Return the person's binding, or None."""
        row = await self._read_one(
            "SELECT * FROM members WHERE user_id = ? AND doc = ?", (user_id, self.doc)
        )
        return None if row is None else Member.from_row(row)

    async def members(self, unit: str | None = None) -> list[Member]:
        """Return the bindings (of one unit, or all), ordered by unit then by bound_at."""
        rows = await self._read_all(
            "SELECT * FROM members WHERE doc = ? AND (? IS NULL OR unit = ?) "
            "ORDER BY unit, bound_at, user_id",
            (self.doc, unit, unit),
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
        unit's notes being written, pending requests and unused invites. `only`: just these
        members (an undo moves back whom the change moved). Returns the members as they were.
        """
        now = _iso(self._now())
        moved: list[Member] = []
        async with self._write():
            await self._audit(now, by, change[0], old, change[1])
            rows = await self._all(
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
                    await self._db.execute(
                        "DELETE FROM members WHERE doc = ? AND user_id = ?",
                        (self.doc, member.user_id),
                    )
                    await self._db.execute(
                        "DELETE FROM flows WHERE doc = ? AND user_id = ?",
                        (self.doc, member.user_id),
                    )
                else:
                    await self._db.execute(
                        "UPDATE members SET unit = ? WHERE doc = ? AND user_id = ?",
                        (new, self.doc, member.user_id),
                    )
                    await self._db.execute(
                        "UPDATE flows SET unit = ? WHERE doc = ? AND user_id = ?",
                        (new, self.doc, member.user_id),
                    )
                await self._audit(now, by, "unit.move", new or old, f"{whom}：原{old}")
                await self._add_notice(member.user_id, "moved", notice, now)
            if new is not None and only is None:
                # What was asked or offered for the old unit is for the one holding its duties.
                await self._db.execute(
                    "UPDATE bind_requests SET unit = ? "
                    "WHERE doc = ? AND unit = ? AND status = 'pending'",
                    (new, self.doc, old),
                )
                await self._db.execute(
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
        now = _iso(self._now())
        async with self._write():
            await self._ensure_user(user_id, name, now)
            same = await self._one(
                "SELECT * FROM bind_requests "
                "WHERE user_id = ? AND doc = ? AND status = 'pending' AND unit = ?",
                (user_id, self.doc, unit),
            )
            if same is not None:
                return BindRequest.from_row(same)
            other = await self._one(
                "SELECT * FROM bind_requests WHERE user_id = ? AND doc = ? AND status = 'pending'",
                (user_id, self.doc),
            )
            if other is not None and _iso(self._now() - interval) < other["created_at"]:
                raise TooSoon(BindRequest.from_row(other))
            # decided_by is the requester: they, not a coordinator, closed the old request.
            await self._db.execute(
                "UPDATE bind_requests SET status = 'replaced', decided_at = ?, decided_by = ? "
                "WHERE user_id = ? AND doc = ? AND status = 'pending'",
                (now, user_id, user_id, self.doc),
            )
            row = await self._one(
                "INSERT INTO bind_requests (doc, user_id, name, unit, created_at) "
                "VALUES (?, ?, ?, ?, ?) RETURNING *",
                (self.doc, user_id, name, unit, now),
            )
            assert row is not None
            await self._audit(now, user_id, "bind.request", unit, f"申请 #{row['id']}", name)
        return BindRequest.from_row(row)

    async def binding_request(self, request_id: int) -> BindRequest | None:
        """Return the bind request, or None."""
        row = await self._read_one(
            "SELECT * FROM bind_requests WHERE id = ? AND doc = ?", (request_id, self.doc)
        )
        return None if row is None else BindRequest.from_row(row)

    async def pending_request(self, user_id: str) -> BindRequest | None:
        """Return the person's request awaiting a decision, or None."""
        row = await self._read_one(
            "SELECT * FROM bind_requests WHERE user_id = ? AND doc = ? AND status = 'pending'",
            (user_id, self.doc),
        )
        return None if row is None else BindRequest.from_row(row)

    async def pending_requests(self) -> list[BindRequest]:
        """Return the requests still awaiting a decision, oldest first."""
        rows = await self._read_all(
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
        now = _iso(self._now())
        status: BindStatus = "approved" if approve else "rejected"
        async with self._write():
            # The status test inside the UPDATE is what makes the decision atomic: of two
            # coordinators pressing at once, the second finds nothing pending to update.
            row = await self._one(
                "UPDATE bind_requests SET status = ?, decided_at = ?, decided_by = ? "
                "WHERE id = ? AND doc = ? AND status = 'pending' RETURNING *",
                (status, now, by, request_id, self.doc),
            )
            if row is None:
                current = await self._one(
                    "SELECT * FROM bind_requests WHERE id = ? AND doc = ?", (request_id, self.doc)
                )
                if current is None:
                    raise NotFound("找不到这条绑定申请。")
                raise AlreadyDecided(BindRequest.from_row(current))
            request = BindRequest.from_row(row)
            whom = f"申请 #{request.id}：{request.name}（ID {request.user_id}）"
            await self._audit(now, by, f"bind.{status}", request.unit, whom)
            ended = None
            if approve:
                _, ended = await self._bind(request.user_id, request.name, request.unit, by, now)
            payload: dict[str, Any] = {"unit": request.unit}
            if document:
                payload["document"] = document
            if ended is not None:
                payload["ended"] = {"kind": ended.kind, "target": ended.target}
            await self._add_notice(request.user_id, status, payload, now)
        return request

    # --- invites ----------------------------------------------------------------------------

    async def create_invite(
        self, unit: str, created_by: str, ttl: dt.timedelta = DEFAULT_INVITE_TTL
    ) -> Invite:
        """Create a single-use invite to `unit`, valid for `ttl`."""
        now = self._now()
        code = "".join(secrets.choice(_INVITE_ALPHABET) for _ in range(16))
        async with self._write():
            row = await self._one(
                "INSERT INTO invites (doc, code, unit, created_by, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
                (self.doc, code, unit, created_by, _iso(now), _iso(now + ttl)),
            )
            # Not the code: whoever reads the trail must not be able to redeem it.
            until = f"有效期至 {now + ttl:%Y-%m-%d %H:%M}"
            await self._audit(_iso(now), created_by, "invite.create", unit, until)
        assert row is not None
        return Invite.from_row(row)

    async def invite(self, code: str) -> Invite | None:
        """Return the invite, or None."""
        row = await self._read_one(
            "SELECT * FROM invites WHERE code = ? AND doc = ?", (code, self.doc)
        )
        return None if row is None else Invite.from_row(row)

    async def redeem_invite(self, code: str, user_id: str, name: str) -> Member:
        """Use an invite once, binding the person to its unit; InviteInvalid says why not."""
        if not INVITE_CODE.fullmatch(code):
            raise InviteInvalid("unknown")
        now = _iso(self._now())
        async with self._write():
            await self._ensure_user(user_id, name, now)
            # Single use is enforced by the WHERE clause, not by an earlier SELECT.
            row = await self._one(
                "UPDATE invites SET used_by = ?, used_at = ? "
                "WHERE code = ? AND doc = ? AND used_by IS NULL AND expires_at > ? RETURNING *",
                (user_id, now, code, self.doc, now),
            )
            if row is None:
                current = await self._one(
                    "SELECT * FROM invites WHERE code = ? AND doc = ?", (code, self.doc)
                )
                if current is None:
                    raise InviteInvalid("unknown")
                raise InviteInvalid("used" if current["used_by"] is not None else "expired")
            invite = Invite.from_row(row)
            await self._audit(
                now, user_id, "invite.use", invite.unit, f"邀请人 ID {invite.created_by}", name
            )
            # The coordinator who issued the invite is the one who authorised the binding.
            member, _ = await self._bind(user_id, name, invite.unit, invite.created_by, now)
        return member

    # --- notes ------------------------------------------------------------------------------

    async def add_note(
        self,
        unit: str,
        measure_id: str,
        year: int,
        author_id: str,
        author_name: str,
        text: str,
        *,
        ends_flow: bool = False,
    ) -> Note:
        """Store a note; it is committed (and synced to disk) when this returns.

        `ends_flow`: the note is the text the author's flow awaited, which ends with it.
        """
        now, source = _iso(self._now()), origin.get()
        async with self._write():
            if ends_flow:
                await self._end_flow(author_id)
            row = await self._one("SELECT * FROM notes WHERE origin = ?", (source,))
            if row is None:  # not filed by an earlier try of the same delivery
                row = await self._one(
                    "INSERT INTO notes (doc, edition, unit, measure_id, year, author_id, "
                    "author_name, text, created_at, origin) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                    (
                        self.doc,
                        self.edition,
                        unit,
                        measure_id,
                        year,
                        author_id,
                        author_name,
                        text,
                        now,
                        source,
                    ),
                )
                assert row is not None
                await self._audit_note(now, "note.add", row)
        return Note.from_row(row)

    async def filed_here(self) -> Note | None:
        """Return the note the delivery being handled (`origin`) filed already, if any."""
        source = origin.get()
        if source is None:
            return None
        row = await self._read_one("SELECT * FROM notes WHERE origin = ?", (source,))
        return None if row is None else Note.from_row(row)

    async def note(self, note_id: int) -> Note | None:
        """Return the note, deleted or not (see `Note.deleted`), or None."""
        row = await self._read_one(
            "SELECT * FROM notes WHERE id = ? AND doc = ?", (note_id, self.doc)
        )
        return None if row is None else Note.from_row(row)

    async def _own_live_note(
        self, note_id: int, author_id: str, version: str | None = None
    ) -> None:
        """Raise unless the note exists, is not deleted and was written by `author_id`, and
        (Changed) unless its text is still of `version` when one is given."""
        row = await self._one(
            "SELECT author_id, deleted_at, text FROM notes WHERE id = ? AND doc = ?",
            (note_id, self.doc),
        )
        if row is None or row["deleted_at"] is not None:
            raise NotFound("找不到这条记录，它可能已被删除。")
        if row["author_id"] != author_id:
            raise NotAuthor()
        if version is not None and text_version(row["text"]) != version:
            raise Changed()

    async def edit_note(
        self,
        note_id: int,
        author_id: str,
        text: str,
        *,
        ends_flow: bool = False,
        version: str | None = None,
    ) -> Note:
        """Replace a note's text; only its author may, not once it is deleted, and (Changed)
        not when its text is no longer of `version` (the one the edit was started on)."""
        now = _iso(self._now())
        async with self._write():
            if ends_flow:
                await self._end_flow(author_id)
            await self._own_live_note(note_id, author_id, version)
            row = await self._one(
                "UPDATE notes SET text = ?, updated_at = ? WHERE id = ? RETURNING *",
                (text, now, note_id),
            )
            assert row is not None
            await self._audit_note(now, "note.edit", row)
        return Note.from_row(row)

    async def delete_note(
        self, note_id: int, author_id: str, version: str | None = None
    ) -> Note:
        """Soft-delete a note (it stays in the table, marked deleted); only its author may,
        and (Changed) not when its text is no longer of `version` (the one confirmed)."""
        now = _iso(self._now())
        async with self._write():
            await self._own_live_note(note_id, author_id, version)
            row = await self._one(
                "UPDATE notes SET deleted_at = ?, deleted_by = ? WHERE id = ? RETURNING *",
                (now, author_id, note_id),
            )
            assert row is not None
            await self._audit_note(now, "note.delete", row)
        return Note.from_row(row)

    async def notes(
        self, unit: str | None = None, year: int | None = None, include_deleted: bool = False
    ) -> list[Note]:
        """Return notes of this edition (optionally of one unit and/or year), newest first."""
        return await self._notes(_THIS_EDITION, unit, year, include_deleted)

    async def earlier_notes(
        self, unit: str | None = None, year: int | None = None, include_deleted: bool = False
    ) -> list[Note]:
        """Return notes filed on an earlier document of this folder, newest first."""
        if not self.edition:
            return []
        return await self._notes(_OTHER_EDITION, unit, year, include_deleted)

    async def _notes(
        self, which: str, unit: str | None, year: int | None, include_deleted: bool
    ) -> list[Note]:
        rows = await self._read_all(
            f"SELECT * FROM notes WHERE doc = ? AND {which} AND (? IS NULL OR unit = ?) "
            "AND (? IS NULL OR year = ?) AND (? OR deleted_at IS NULL) "
            "ORDER BY created_at DESC, id DESC",
            (self.doc, self.edition, self.edition, unit, unit, year, year, int(include_deleted)),
        )
        return [Note.from_row(row) for row in rows]

    async def claim_notes(self, former: str = "") -> int:
        """Record this edition on the folder's notes filed before editions were recorded.

        With `former`, also on the notes of that edition: the same document, renumbered (a
        re-import that found its number where it had taken its title).
        """
        if not self.edition:
            return 0
        async with self._write():
            cursor = await self._db.execute(
                "UPDATE notes SET edition = ? WHERE doc = ? AND edition IN ('', ?)",
                (self.edition, self.doc, former),
            )
            return cursor.rowcount

    async def reported_measures(self, year: int) -> dict[str, set[str]]:
        """Map each unit to the measures it has at least one live note on for `year`."""
        rows = await self._read_all(
            "SELECT DISTINCT unit, measure_id FROM notes "
            f"WHERE doc = ? AND {_THIS_EDITION} AND year = ? AND deleted_at IS NULL",
            (self.doc, self.edition, self.edition, year),
        )
        reported: dict[str, set[str]] = {}
        for row in rows:
            reported.setdefault(row["unit"], set()).add(row["measure_id"])
        return reported

    # --- note flows -------------------------------------------------------------------------

    async def start_flow(self, user_id: str, kind: FlowKind, target: str, unit: str) -> Flow:
        """Await the person's next message as a note or edit, replacing any earlier flow."""
        now = _iso(self._now())
        async with self._write():
            # Forgotten under the lock, before the row exists: no read can see it half made.
            self._flowless.discard((user_id, self.doc))
            row = await self._one(
                "INSERT INTO flows (doc, user_id, kind, target, unit, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
                "doc = excluded.doc, kind = excluded.kind, target = excluded.target, "
                "unit = excluded.unit, started_at = excluded.started_at RETURNING *",
                (self.doc, user_id, kind, target, unit, now),
            )
        assert row is not None
        return Flow.from_row(row)

    async def flow(self, user_id: str) -> Flow | None:
        """Return the person's flow, expired or not, or None."""
        key = (user_id, self.doc)
        if key in self._flowless:
            return None
        async with self._lock:
            row = await self._one(
                "SELECT * FROM flows WHERE user_id = ? AND doc = ?", (user_id, self.doc)
            )
            if row is None:
                if len(self._flowless) >= FLOWLESS_KEPT:
                    self._flowless.clear()
                self._flowless.add(key)
        return None if row is None else Flow.from_row(row)

    async def end_flow(self, user_id: str) -> Flow | None:
        """End the person's flow and return it, or None if there was none."""
        async with self._write():
            row = await self._end_flow(user_id)
        return None if row is None else Flow.from_row(row)

    async def _end_flow(self, user_id: str) -> sqlite3.Row | None:
        """End the person's flow in this document inside the caller's transaction."""
        return await self._one(
            "DELETE FROM flows WHERE user_id = ? AND doc = ? RETURNING *", (user_id, self.doc)
        )

    # --- reminder deliveries ----------------------------------------------------------------

    async def plan_delivery(self, reminder_key: str, user_ids: Iterable[str]) -> None:
        """Record that a reminder is due to these users (existing rows are left as they are)."""
        now = _iso(self._now())
        async with self._write():
            await self._db.executemany(
                "INSERT OR IGNORE INTO deliveries (reminder_key, user_id, status, updated_at) "
                "VALUES (?, ?, 'pending', ?)",
                [(self._key(reminder_key), user_id, now) for user_id in user_ids],
            )

    async def pending_deliveries(self, reminder_key: str) -> list[str]:
        """Return the users the reminder has still to be sent to, ordered by id."""
        rows = await self._read_all(
            "SELECT user_id FROM deliveries WHERE reminder_key = ? AND status = 'pending' "
            "ORDER BY user_id",
            (self._key(reminder_key),),
        )
        return [row["user_id"] for row in rows]

    async def pending_parts(self, reminder_key: str) -> dict[str, int]:
        """Map each user the reminder has still to be sent to the parts they already got."""
        rows = await self._read_all(
            "SELECT user_id, parts FROM deliveries WHERE reminder_key = ? AND status = 'pending' "
            "ORDER BY user_id",
            (self._key(reminder_key),),
        )
        return {row["user_id"]: int(row["parts"]) for row in rows}

    async def record_part(
        self, reminder_key: str, part: int, results: dict[str, DeliveryStatus]
    ) -> None:
        """Record, in one transaction, that part `part` went to the users answered "sent" (and
        that the others are done with their status)."""
        now = _iso(self._now())
        key = self._key(reminder_key)
        async with self._write():
            for user_id, status in results.items():
                await self._db.execute(
                    "INSERT INTO deliveries (reminder_key, user_id, status, attempts, parts, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (reminder_key, user_id) DO UPDATE SET status = excluded.status, "
                    "attempts = attempts + excluded.attempts, parts = excluded.parts, "
                    "updated_at = excluded.updated_at",
                    (
                        key,
                        user_id,
                        "pending" if status == "sent" else status,
                        0 if status == "sent" else 1,
                        part + 1 if status == "sent" else part,
                        now,
                    ),
                )

    async def mark_delivery(self, reminder_key: str, user_id: str, status: DeliveryStatus) -> None:
        """Record an attempt to deliver the reminder and its outcome."""
        now = _iso(self._now())
        async with self._write():
            # An upsert, not a bare UPDATE: a message that went out must be recorded even if
            # it was never planned, or it could be sent again.
            await self._db.execute(
                "INSERT INTO deliveries (reminder_key, user_id, status, attempts, updated_at) "
                "VALUES (?, ?, ?, 1, ?) ON CONFLICT (reminder_key, user_id) DO UPDATE SET "
                "status = excluded.status, attempts = attempts + 1, "
                "updated_at = excluded.updated_at",
                (self._key(reminder_key), user_id, status, now),
            )

    async def deliveries(self, reminder_key: str) -> dict[str, str]:
        """Map each user the reminder concerns to its delivery status."""
        rows = await self._read_all(
            "SELECT user_id, status FROM deliveries WHERE reminder_key = ? ORDER BY user_id",
            (self._key(reminder_key),),
        )
        return {row["user_id"]: row["status"] for row in rows}

    async def delivery_attempts(self, reminder_key: str, user_id: str) -> int:
        """Return how many delivery attempts were recorded (0 if none)."""
        row = await self._read_one(
            "SELECT attempts FROM deliveries WHERE reminder_key = ? AND user_id = ?",
            (self._key(reminder_key), user_id),
        )
        return 0 if row is None else int(row["attempts"])

    async def reminder_keys(self) -> set[str]:
        """Return the reminders (of this document) that have any delivery rows."""
        rows = await self._read_all("SELECT DISTINCT reminder_key FROM deliveries")
        keys = {str(row["reminder_key"]) for row in rows}
        if not self.doc:  # the root's keys have no "/" prefix
            return {k for k in keys if "/" not in k}
        return {k.removeprefix(self._key("")) for k in keys if k.startswith(self._key(""))}

    # --- notices owed to people -------------------------------------------------------------

    async def _add_notice(
        self, user_id: str, kind: str, payload: dict[str, Any], now: str
    ) -> None:
        """Record a notice inside the caller's transaction."""
        await self._db.execute(
            "INSERT INTO notices (user_id, kind, payload, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (user_id, kind, json.dumps(payload, ensure_ascii=False), now, now),
        )

    async def pending_notices(self, user_id: str | None = None) -> list[StoredNotice]:
        """Return the notices not yet sent (to one person, or to anyone), oldest first."""
        rows = await self._read_all(
            "SELECT * FROM notices WHERE status = 'pending' AND (? IS NULL OR user_id = ?) "
            "ORDER BY id",
            (user_id, user_id),
        )
        return [StoredNotice.from_row(row) for row in rows]

    async def notice(self, notice_id: int) -> StoredNotice | None:
        """Return the notice, or None."""
        row = await self._read_one("SELECT * FROM notices WHERE id = ?", (notice_id,))
        return None if row is None else StoredNotice.from_row(row)

    async def mark_notice(self, notice_id: int, status: DeliveryStatus) -> None:
        """Record an attempt to deliver the notice and its outcome."""
        now = _iso(self._now())
        async with self._write():
            await self._db.execute(
                "UPDATE notices SET status = ?, attempts = attempts + 1, updated_at = ? "
                "WHERE id = ?",
                (status, now, notice_id),
            )

    # --- small state ------------------------------------------------------------------------

    async def get_state(self, key: str) -> str | None:
        """Return a stored value, or None."""
        row = await self._read_one("SELECT value FROM state WHERE key = ?", (self._key(key),))
        return None if row is None else str(row["value"])

    async def set_state(self, key: str, value: str) -> None:
        """Store a value under `key`, replacing any previous one."""
        async with self._write():
            await self._db.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (self._key(key), value),
            )

    # --- operations: open checks, audit trail -----------------------------------------------

    async def _check_writable(self) -> None:
        """Raise sqlite3's SQLITE_READONLY now if the database cannot be written."""
        # A read-only file opens and reads fine; without this probe the first note would fail.
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                await self._db.execute("INSERT OR REPLACE INTO state VALUES ('write probe', '')")
            finally:
                await self._db.execute("ROLLBACK")

    async def _audit(
        self,
        now: str,
        actor_id: str,
        action: str,
        unit: str = "",
        subject: str = "",
        name: str | None = None,
        year: int | None = None,
    ) -> None:
        """Record an action inside the caller's transaction; no `name`: the name last seen.

        `year`: the reporting year it counts for, when not the year of `now`.
        """
        await self._db.execute(
            "INSERT INTO audit (doc, at, actor_id, actor_name, action, unit, subject, year) "
            "VALUES (?, ?, ?, COALESCE(?, (SELECT name FROM users WHERE id = ?), ''), ?, ?, ?, ?)",
            (self.doc, now, actor_id, name, actor_id, action, unit, subject, year),
        )

    async def _audit_note(self, now: str, action: str, note: sqlite3.Row) -> None:
        """Record a change to a note: which one, on which measure, never its text."""
        subject = f"记录 #{note['id']}，举措 {note['measure_id']}（{note['year']} 年）"
        await self._audit(
            now, note["author_id"], action, note["unit"], subject, note["author_name"],
            note["year"],
        )

    async def record(
        self,
        actor_id: str,
        actor_name: str,
        action: str,
        unit: str = "",
        subject: str = "",
        year: int | None = None,
    ) -> None:
        """Add an audit entry for an action that changes nothing stored (a chase-up, an export)."""
        now = _iso(self._now())
        async with self._write():
            await self._audit(now, actor_id, action, unit, subject, actor_name, year)

    async def audit_entries(
        self, limit: int | None = None, year: int | None = None
    ) -> list[AuditEntry]:
        """Return the audit trail (of one year, or all), newest first, at most `limit` entries.

        An entry belongs to the year it counts for (a note's), else to the year of its date.
        """
        rows = await self._read_all(
            "SELECT * FROM audit WHERE doc = ? AND (? IS NULL OR "
            "COALESCE(year, CAST(substr(at, 1, 4) AS INTEGER)) = ?) "
            "ORDER BY at DESC, id DESC LIMIT ?",
            (self.doc, year, year, -1 if limit is None else limit),
        )
        return [AuditEntry.from_row(row) for row in rows]

    # --- callbacks already taken (de-duplication across restarts) ---------------------------

    CALLBACK_TTL: ClassVar[dt.timedelta] = dt.timedelta(days=1)
    CALLBACK_PURGE_EVERY: ClassVar[dt.timedelta] = dt.timedelta(hours=1)
    _callbacks_purged: dt.datetime | None = None

    async def take_deliveries(
        self, channel: str, items: Sequence[tuple[str, str, str]], handled: Sequence[int] = ()
    ) -> list[Delivery | None]:
        """Store delivered items (key, member, body) in one transaction, each with its key,
        and forget the deliveries `handled` (by id) in the same one.

        Returns, for each item, its inbox row, or None when its key was already taken (a
        repeat). Committed to disk when this returns: the channel may then be acknowledged.
        """
        now = self._now()
        last = self._callbacks_purged
        purge = last is None or now - last >= self.CALLBACK_PURGE_EVERY
        taken: list[Delivery | None] = []
        async with self._write(INTAKE_BUSY_MS):
            if purge:  # in the same transaction: the acknowledgement waits for no other lock
                self._callbacks_purged = now
                await self._db.execute(
                    "DELETE FROM callbacks WHERE seen_at < ?", (_iso(now - self.CALLBACK_TTL),)
                )
            for start in range(0, len(handled), _CHUNK):
                chunk = handled[start : start + _CHUNK]
                await self._db.execute(
                    f"DELETE FROM inbox WHERE id IN ({', '.join('?' for _ in chunk)})", chunk
                )
            # Two statements a chunk, not two an item: the acknowledgement waits for them.
            for start in range(0, len(items), _CHUNK):
                taken += await self._take(channel, items[start : start + _CHUNK], _iso(now))
        return taken

    async def _take(
        self, channel: str, items: Sequence[tuple[str, str, str]], now: str
    ) -> list[Delivery | None]:
        """Insert the keys of `items`, then those not seen before into the inbox."""
        keys = await self._all(
            "INSERT OR IGNORE INTO callbacks (key, seen_at) VALUES "
            + ", ".join("(?, ?)" for _ in items)
            + " RETURNING key",
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
        rows = await self._all(
            "INSERT INTO inbox (channel, member, body, arrived_at) VALUES "
            + ", ".join("(?, ?, ?, ?)" for _ in fresh)
            + " RETURNING *",
            [v for i in fresh for v in (channel, items[i][1], items[i][2], now)],
        )
        # Ids are given in the order of VALUES (RETURNING's own order is not promised).
        for index, row in zip(fresh, sorted(rows, key=lambda r: int(r["id"])), strict=True):
            taken[index] = Delivery.from_row(row)
        return taken

    async def deliveries_open(self, channel: str) -> list[Delivery]:
        """Return the channel's stored deliveries not handled yet, oldest first."""
        rows = await self._read_all(
            "SELECT * FROM inbox WHERE channel = ? ORDER BY id", (channel,)
        )
        return [Delivery.from_row(row) for row in rows]

    async def writable(self, wait_ms: int = 1000) -> None:
        """Raise sqlite3.Error unless a write can begin within `wait_ms` (locked, read-only …).

        Nothing is written: the probe's transaction is rolled back.
        """
        async with self._lock:
            await _settled(self._db.execute(f"PRAGMA busy_timeout = {int(wait_ms)}"))
            try:
                await _settled(self._db.execute("BEGIN IMMEDIATE"))
                try:
                    await _settled(
                        self._db.execute("INSERT OR REPLACE INTO state VALUES ('write probe', '')")
                    )
                finally:
                    await _settled(self._db.execute("ROLLBACK"))
            finally:
                await _settled(self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"))

    async def forget_callbacks(self, before: dt.datetime) -> int:
        """Delete the callback keys seen before `before`; return how many."""
        async with self._write():
            cursor = await self._db.execute(
                "DELETE FROM callbacks WHERE seen_at < ?", (_iso(before),)
            )
            return cursor.rowcount


@dataclass(frozen=True)
class Delivery:
    """What a channel delivered, stored before it was acknowledged and until it is handled."""

    id: int
    channel: str
    member: str  # whose messages are handled in order
    body: str
    arrived: dt.datetime

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Self:
        """Build from an `inbox` row."""
        return cls(
            id=row["id"],
            channel=row["channel"],
            member=row["member"],
            body=row["body"],
            arrived=_time(row["arrived_at"]),
        )


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit trail: who did what to which object, and when."""

    id: int
    at: dt.datetime
    actor_id: str
    actor_name: str
    action: str
    unit: str
    subject: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Self:
        """Build from an `audit` row."""
        return cls(
            id=row["id"],
            at=_time(row["at"]),
            actor_id=row["actor_id"],
            actor_name=row["actor_name"],
            action=row["action"],
            unit=row["unit"],
            subject=row["subject"],
        )

"""The schema's numbered migrations, each with a one-line description, and what applies them.

Migration i brings the schema from version i to i + 1; SQLite keeps the version in the file's
header (PRAGMA user_version), PostgreSQL in a one-row table `version`. Each migration runs in
one transaction together with the version's bump. A migration's `postgres` script is the same
change for PostgreSQL (None until it is written: such a database cannot be migrated yet). A new
PostgreSQL database starts from a baseline, the schema at version 12 (bot/store/postgres_schema.py,
the first migration's script); the next eleven are IN_BASELINE, nothing left to do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from bot.store.database import Connection, Database
from bot.store.errors import SchemaTooNew
from bot.store.postgres_schema import BASELINE, IN_BASELINE
from bot.store.postgres_schema import CHAT_STATE as PG_CHAT_STATE
from bot.store.postgres_schema import GENERATIONS as PG_GENERATIONS
from bot.store.postgres_schema import LEASES as PG_LEASES


@dataclass(frozen=True)
class Migration:
    """One step of the schema: what it does, and its script for each dialect."""

    description: str
    sqlite: str
    postgres: str | None = None


LEASES = """
    CREATE TABLE leases (
        name  TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        until TEXT NOT NULL
    );
"""
CHAT_STATE = """
CREATE TABLE page_queries (
    token      TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    arg        TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX page_queries_by_time ON page_queries(created_at);
CREATE TABLE chats (
    chat       TEXT PRIMARY KEY,
    context    TEXT,
    context_at TEXT,
    doc        TEXT
);
CREATE INDEX chats_by_time ON chats(context_at);
"""
GENERATIONS = """
CREATE TABLE generations (
    doc     TEXT PRIMARY KEY,
    counter INTEGER NOT NULL
);
"""


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


# Migration i brings the schema from version i to i + 1. Append only: never edit a shipped
# migration, since databases already past it will not run it again.
MIGRATIONS: list[Migration] = [
    Migration(
        "users, members, bind requests, invites, notes, reminder deliveries, state",
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
        BASELINE,
    ),
    # The audit trail: who changed what, when. Rows are written in the transaction of the
    # change they record, and never hold a note's text (the notes table keeps that).
    Migration(
        "the audit trail",
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
        IN_BASELINE,
    ),
    Migration(
        "note flows, and notices owed to people",
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
        IN_BASELINE,
    ),
    Migration(
        "callbacks already taken",
        """
    -- Callbacks already taken (WeCom retries a callback it thinks unanswered, three times in
    -- about 15 s): the key of each, kept a day, so that a retry after a restart is still known.
    CREATE TABLE callbacks (
        key     TEXT PRIMARY KEY,
        seen_at TEXT NOT NULL
    );
    """,
        IN_BASELINE,
    ),
    Migration("Telegram ids qualified as tg:<id>", QUALIFY_IDS, IN_BASELINE),
    Migration(
        "members, requests, invites, notes, flows and audit per document", BY_DOCUMENT, IN_BASELINE
    ),
    # How many parts of a reminder (its messages: pages, a text then a card) each recipient
    # was sent: a fan-out cut short resumes at the next part, not from the first.
    Migration(
        "the parts of a reminder each recipient was sent",
        "ALTER TABLE deliveries ADD COLUMN parts INTEGER NOT NULL DEFAULT 0;",
        IN_BASELINE,
    ),
    # The document a note was filed on (its number, 文号), not only its folder: a folder whose
    # document is replaced (import-doc --replace) keeps the old one's notes apart from the
    # new one's. '' until the bot first starts on this schema (then its loaded document's).
    Migration(
        "the edition (文号) a note was filed on",
        "ALTER TABLE notes ADD COLUMN edition TEXT NOT NULL DEFAULT '';",
        IN_BASELINE,
    ),
    # The year an audit entry counts for: a note's (filed in 2026, it counts for 2024's last
    # report), or an export's and a report's; NULL: the year of its date. Entries of notes
    # already recorded take it from their subject ("记录 #3，举措 5.1（2024 年）").
    Migration(
        "the year an audit entry counts for",
        """
    ALTER TABLE audit ADD COLUMN year INTEGER;
    UPDATE audit SET year = CAST(substr(subject, length(subject) - 6, 4) AS INTEGER)
        WHERE action LIKE 'note.%' AND subject LIKE '%（____ 年）';
    """,
        IN_BASELINE,
    ),
    Migration(
        "the durable intake (inbox), a note's origin, WeCom ids lower-cased",
        DURABLE_INTAKE,
        IN_BASELINE,
    ),
    # The web console (#21): one-time login links and sessions, keyed by the SHA-256 of their
    # tokens (a copy of the database opens nobody's session), shared by every instance.
    Migration(
        "the web console's login links and sessions",
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
        IN_BASELINE,
    ),
    # Questions the bot could not answer, per document (bot/office/unanswered.py, #21): the
    # normalised text, how often and when asked (never who), the measures offered as nearest;
    # status '' open, 'mapped' (a synonym added), 'out' (out of the document's scope).
    # Kept 90 days after last asked.
    Migration(
        "questions the bot could not answer",
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
        IN_BASELINE,
    ),
    # Leases (bot/store/leases.py): work one instance of several does at a time, held by its
    # owner until a time (#20).
    Migration("leases: work one instance of several does at a time", LEASES, PG_LEASES),
    # What a chat carries from one message to the next, when several instances share the
    # database (bot/store/chats.py): page buttons' queries by token, and per chat its context
    # (JSON, with its time) and chosen document.
    Migration("page buttons' queries and the chats' states", CHAT_STATE, PG_CHAT_STATE),
    # Each document's generation (bot/store/generations.py): bumped with every change written
    # into the shared data folder, so that the other instances reload it (#20).
    Migration(
        "documents' generations: changes every instance reloads", GENERATIONS, PG_GENERATIONS
    ),
    # Each lease's stamp (bot/store/callbacks.py `Lease`): drawn anew whenever the lease
    # changes hands, so that an instance taking a member again knows whether another held it
    # meanwhile (its memory of the member's chats is still the truth when not) (#20).
    Migration(
        "leases' stamps: whether a lease changed hands",
        "ALTER TABLE leases ADD COLUMN stamp TEXT NOT NULL DEFAULT '';",
        "ALTER TABLE leases ADD COLUMN stamp TEXT COLLATE \"C\" NOT NULL DEFAULT '';",
    ),
]


def _statements(script: str) -> list[str]:
    """Split an SQL script into single statements (semicolons in strings/comments are kept)."""
    # Migrations run statement by statement because executescript() would COMMIT the
    # transaction that also holds the version check and bump.
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


async def _version(tx: Connection, db: Database) -> int:
    """Return the schema version, read inside the migration's transaction."""
    if db.dialect == "sqlite":
        return int(await tx.fetchval("PRAGMA user_version") or 0)
    await tx.execute("CREATE TABLE IF NOT EXISTS version (version INTEGER NOT NULL)")
    return int(await tx.fetchval("SELECT max(version) FROM version") or 0)


async def _set_version(tx: Connection, db: Database, version: int) -> None:
    """Record the schema version inside the migration's transaction."""
    if db.dialect == "sqlite":
        # user_version lives in the database header, so it commits or rolls back together
        # with the migration. PRAGMA takes no parameters; version is an int.
        await tx.execute(f"PRAGMA user_version = {int(version)}")
        return
    await tx.execute("DELETE FROM version")
    await tx.execute("INSERT INTO version (version) VALUES (?)", (version,))


async def upgrade(db: Database, migrations: Sequence[Migration] | None = None) -> None:
    """Apply the pending migrations (default: MIGRATIONS), one transaction each.

    SchemaTooNew when the database is past the last one this program knows.
    """
    while True:
        steps = MIGRATIONS if migrations is None else migrations
        async with db.transaction() as tx:
            version = await _version(tx, db)
            known = len(steps)
            if version > known:
                raise SchemaTooNew(version, known)
            if version == known:
                return
            step = steps[version]
            if db.dialect == "sqlite":
                for statement in _statements(step.sqlite):
                    await tx.execute(statement)
            elif step.postgres is None:
                raise NotImplementedError(f"migration {version + 1} has no PostgreSQL script")
            elif step.postgres:  # IN_BASELINE: nothing left to do
                await tx.execute(step.postgres)
            await _set_version(tx, db, version + 1)

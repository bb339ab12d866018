"""A PostgreSQL server of the tests' own: initdb in a temporary folder, a unix socket there.

One server per test session (`postgres_server`), started with `pg_ctl start -w` and stopped at
the end; each test gets the database they share emptied (`postgres_url`), so a test never sees
another's rows and pays no migration. The server runs as an unprivileged user when the tests
run as root (CI does): initdb and postgres refuse root. Without PostgreSQL the tests that need
it fail under CI=true (.ci/postgres.sh installs it) and are skipped elsewhere, saying why.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import pytest

from bot.store.migration import upgrade
from bot.store.postgres import PostgresDatabase

USER = "fengong"
# Server settings for tests only: durability is not what they check, speed is.
_FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def binaries() -> Path | None:
    """Return the folder of initdb and pg_ctl (PATH first, then Debian's), or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    debian = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    debian.sort(key=lambda path: int(path.split("/")[4]))
    return Path(debian[-1]).parent if debian else None


def _runner() -> pwd.struct_passwd | None:
    """Return the unprivileged user to run the server as when we are root (else None)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("以 root 运行测试时需要 postgres 或 nobody 用户来启动 PostgreSQL")


@dataclass
class Server:
    """A running test server: its folder (data, socket, log) and the password of USER."""

    folder: Path
    bin: Path
    runner: pwd.struct_passwd | None
    password: str = field(default_factory=lambda: "pw-" + secrets.token_hex(8))
    _count: int = 0
    emptying: str = ""  # the SQL that deletes every row of the shared database
    durable: bool = False  # fsync at each commit, as in production (benchmarks), else faster

    def url(self, database: str, password: str | None = None) -> str:
        """Return a postgresql:// URL of `database` over the server's socket."""
        secret = quote(self.password if password is None else password, safe="")
        return f"postgresql://{USER}:{secret}@/{database}?host={self.folder}"

    def _run(self, *command: str) -> None:
        """Run a server program as the runner; fail with its output."""
        user = None if self.runner is None else self.runner.pw_uid
        group = None if self.runner is None else self.runner.pw_gid
        done = subprocess.run(
            command,
            user=user,
            group=group,
            extra_groups=[] if self.runner else None,
            capture_output=True,
            text=True,
            cwd=self.folder,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")

    def start(self) -> None:
        """initdb, then start and wait until the server takes connections."""
        if self.runner is not None:
            os.chown(self.folder, self.runner.pw_uid, self.runner.pw_gid)
        pwfile = self.folder / "pw"
        pwfile.write_text(self.password, encoding="utf-8")
        if self.runner is not None:
            os.chown(pwfile, self.runner.pw_uid, self.runner.pw_gid)
        data = self.folder / "data"
        self._run(
            str(self.bin / "initdb"),
            "-D", str(data),
            "-U", USER,
            "--pwfile", str(pwfile),
            "--auth", "scram-sha-256",
            "-E", "UTF8",
            "--no-locale",
            "--no-sync",
        )  # fmt: skip
        pwfile.unlink()
        options = f"-k {self.folder} -c listen_addresses=''" + (
            "" if self.durable else f" {_FAST}"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.folder / "log"),
            "-o", options, "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        try:
            data = str(self.folder / "data")
            self._run(str(self.bin / "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    async def admin(self, sql: str, database: str = "postgres") -> None:
        """Run SQL (one statement, or several in one transaction) on a database."""
        connection = await asyncpg.connect(self.url(database))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    def emptied(self, database: str) -> str:
        """Delete every row of the migrated `database`; return its URL."""
        aside(self.admin(self.emptying, database))
        return self.url(database)

    def fresh(self) -> str:
        """Create a new database with no tables; return its URL."""
        self._count += 1
        name = f"t{self._count}"
        aside(self.admin(f"CREATE DATABASE {name} TEMPLATE template0"))
        return self.url(name)


def aside(step: Coroutine[Any, Any, None]) -> None:
    """Run `step` to its end on a loop of its own, in a thread: fixtures may be set up while
    a test's loop runs (an async fixture asking for one)."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, step).result()


def unavailable() -> str | None:
    """Say why no test server can start here, or None."""
    if binaries() is None:
        return "PostgreSQL 未安装（找不到 initdb；.ci/postgres.sh 会安装 Debian 的 postgresql）"
    return None


def start(durable: bool = False) -> Server:
    """Start a server in a new temporary folder (a short path: a socket path is ≤ 107 bytes);
    `durable`: with production's fsync settings, not the tests' faster ones."""
    folder = Path(tempfile.mkdtemp(prefix="fgpg-", dir="/tmp"))
    found = binaries()
    assert found is not None
    server = Server(folder, found, _runner(), durable=durable)
    try:
        server.start()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return server


def require() -> None:
    """Fail under CI, skip elsewhere, when PostgreSQL is missing."""
    reason = unavailable()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason)
    pytest.skip(reason)


SHARED = "fengong"


async def _migrated(server: Server) -> None:
    """Create the database tests share, migrated once; record how to empty it."""
    await server.admin(f"CREATE DATABASE {SHARED} TEMPLATE template0")
    database = await PostgresDatabase.open(server.url(SHARED), upgrade)
    try:
        tables = await database.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name <> 'version' "
            "AND ordinal_position = 1"
        )
        identities = await database.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND is_identity = 'YES'"
        )
        version = await database.schema_version()
    finally:
        await database.close()
    # Faster than a new database or TRUNCATE per test; ids start at 1 again, as in a new
    # SQLite file. The foreign keys are deferrable: the order of the deletes does not matter.
    server.emptying = "".join(
        [
            "SET CONSTRAINTS ALL DEFERRED;",
            *(f"DELETE FROM {row[0]};" for row in tables),
            *(
                f"SELECT setval(pg_get_serial_sequence('{t}', '{c}'), 1, false);"
                for t, c in identities
            ),
            f"DELETE FROM version; INSERT INTO version VALUES ({version});",
        ]
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    """The session's PostgreSQL server (started at first use, stopped at the end)."""
    require()
    server = start()
    try:
        aside(_migrated(server))
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: Server) -> str:
    """The URL of the tests' migrated database, emptied for this test (no rows)."""
    return postgres_server.emptied(SHARED)


@pytest.fixture
def postgres_blank(postgres_server: Server) -> str:
    """The URL of a new database with no tables at all."""
    return postgres_server.fresh()

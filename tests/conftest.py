"""Suite-wide settings and the fixtures most modules share."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.ask.assistant import Assistant
from bot.ask.engine import Engine
from bot.ask.lexicon import load_lexicon
from bot.documents.plan import Plan, load_plan
from bot.store import Store
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.clock import FakeClock
from tests.harness import (
    COORDINATOR,
    COORDINATOR_2,
    NAMES,
    TOKEN,
    Start,
    Users,
    check_every_send,
    running,
)
from tests.postgres import aside, postgres_blank, postgres_server, postgres_url  # noqa: F401

# python-telegram-bot 22 warns (an error under filterwarnings=error) unless durations are
# timedeltas; the bot opts in to the new behaviour, and so do the tests.
os.environ.setdefault("PTB_TIMEDELTA", "true")


@pytest.fixture(autouse=True)
def own_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point FENGONG_DB at the test's own file: no test reads or migrates var/fengong.db.

    And FENGONG_CACHE at the test's own folder: `ask` writes no var/cache either."""
    monkeypatch.setenv("FENGONG_DB", str(tmp_path / "default.db"))
    monkeypatch.setenv("FENGONG_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def assistant() -> Assistant:
    """The real plan and lexicon, loaded once (answers never change while it runs)."""
    return Assistant.load()


def pytest_configure(config: pytest.Config) -> None:
    """Register the suite's own marks."""
    config.addinivalue_line("markers", "sqlite_only: checks what only SQLite has (files, PRAGMAs)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a module's tests on the backends it names in BACKENDS (default: SQLite only)."""
    if "database" in metafunc.fixturenames:
        backends = getattr(metafunc.module, "BACKENDS", ("sqlite",))
        if metafunc.definition.get_closest_marker("sqlite_only"):
            backends = ("sqlite",)
        metafunc.parametrize("database", backends, indirect=True)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new SQLite file Store.open migrated, once: each test's `database` is a copy of it, as
    each PostgreSQL one is the session's migrated database emptied (migrating costs a test
    30–100 ms; tests/test_store.py and test_migration.py open and migrate new files)."""

    async def migrate(path: Path) -> None:
        async with await Store.open(path):
            pass

    path = tmp_path_factory.mktemp("migrated") / "t.db"
    aside(migrate(path))
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no WAL left beside it
    return path


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where the `store` fixture's database is: a new SQLite file, migrated (a copy of
    `migrated_sqlite`), or the PostgreSQL database of the session's server, emptied
    (tests/postgres.py)."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    path = tmp_path / "t.db"
    shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
    return path


@pytest.fixture
async def store(database: str | Path, clock: FakeClock) -> AsyncIterator[Store]:
    """A real store in a fresh database (`database`), on the module's `clock` fixture."""
    async with await Store.open(database, clock) as opened:
        yield opened


# --- the bot on Telegram (tests/harness.py) --------------------------------------------------


@pytest.fixture
def db_path(tmp_path: Path, migrated_sqlite: Path) -> Path:
    """The bot's SQLite file, new for each test and migrated (a copy of `migrated_sqlite`)."""
    path = tmp_path / "fengong.db"
    shutil.copyfile(migrated_sqlite, path)
    return path


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """The fake Bot API, knowing the harness's people by their NAMES."""
    async with FakeBotApi(token=TOKEN) as fake:
        for user_id, name in NAMES.items():
            fake.set_user(user_id, first_name=name)
        yield fake


@pytest.fixture
def bot_at(
    api: FakeBotApi,
    assistant: Assistant,
    db_path: Path,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> Start:
    """`async with bot_at() as bot` runs the bot (both coordinators, the module's `clock`);
    a restart is a second block. After each: every send was valid and nothing logged an error.
    """

    @contextlib.asynccontextmanager
    async def start(refused: tuple[int, ...] = ()) -> AsyncIterator[Users]:
        # refused: the failed statuses allowed (403: a member blocked the bot)
        coordinators = (COORDINATOR, COORDINATOR_2)
        async with running(api, assistant, db_path, clock, coordinators=coordinators):
            yield Users(api)
        check_every_send(api, refused=refused)
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == []

    return start


@pytest.fixture
async def bot(bot_at: Start) -> AsyncIterator[Users]:
    """The bot running for the whole test: `bot_at`'s one block."""
    async with bot_at() as users:
        yield users


@pytest.fixture(scope="module")
def plan() -> Plan:
    """The notice's plan as data/ holds it (frozen: one per module is enough)."""
    return load_plan()


@pytest.fixture(scope="module")
def engine(plan: Plan) -> Engine:
    """The question engine over the notice and its lexicon; modules with a lexicon of their
    own define their own."""
    return Engine(plan, load_lexicon())

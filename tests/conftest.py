"""Suite-wide settings and the fixtures most modules share."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.store import Store
from tests.fakes.clock import FakeClock

# python-telegram-bot 22 warns (an error under filterwarnings=error) unless durations are
# timedeltas; the bot opts in to the new behaviour, and so do the tests.
os.environ.setdefault("PTB_TIMEDELTA", "true")


@pytest.fixture(scope="session")
def assistant() -> Assistant:
    """The real plan and lexicon, loaded once (answers never change while it runs)."""
    return Assistant.load()


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    """A real SQLite store in a fresh file, on the module's `clock` fixture."""
    async with await Store.open(tmp_path / "t.db", clock) as opened:
        yield opened

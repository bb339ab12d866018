"""Tests for bot.health: the check behind GET /healthz, on a real store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.clock import TZ
from bot.health import check
from bot.store import MIGRATIONS, Store
from tests.fakes.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ))


async def test_a_store_that_answers_is_healthy(store: Store) -> None:
    verdict = await check(store)
    assert (verdict.ok, verdict.status) == (True, 200)
    assert verdict.text == f"ok（数据库版本 {len(MIGRATIONS)}）\n"


async def test_a_closed_or_missing_store_is_not(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "t.db")
    await store.close()

    for verdict in (await check(store), await check(None)):
        assert (verdict.ok, verdict.status) == (False, 503)
        assert "数据库" in verdict.text

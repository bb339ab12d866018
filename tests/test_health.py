"""Tests for bot.health: the check behind GET /healthz, on a real store."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.clock import TZ
from bot.health import check
from bot.store import Store
from bot.store.migration import MIGRATIONS
from tests.fakes.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ))


async def test_a_store_that_answers_is_healthy(store: Store) -> None:
    verdict = await check(store)
    assert (verdict.ok, verdict.status) == (True, 200)
    assert verdict.text == "ok\n"  # no schema version: nothing for a scanner to read


async def test_a_store_another_process_holds_locked_is_not(store: Store, tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        verdict = await check(store)
        assert (verdict.ok, verdict.status, verdict.text) == (False, 503, "数据库无法写入\n")
        other.execute("ROLLBACK")
        assert (await check(store)).ok
    finally:
        other.close()
    assert await store.schema_version() == len(MIGRATIONS)  # the probe left nothing open


async def test_a_closed_or_missing_store_is_not(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "t.db")
    await store.close()

    for verdict in (await check(store), await check(None)):
        assert (verdict.ok, verdict.status) == (False, 503)
        assert "数据库" in verdict.text

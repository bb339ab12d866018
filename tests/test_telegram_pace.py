"""Tests for handlers/telegram/pace.py: Telegram's rate per bot, shared by the instances.

Two Applications, each on its own core and connection to one database (both backends), send
at once to the fake Bot API, which answers 429 above its rate as Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.ext import AIORateLimiter

from bot.ask.assistant import Assistant
from bot.config import Config
from bot.store import Store
from handlers.telegram.app import App, build_application
from handlers.telegram.context import core_of
from handlers.telegram.pace import SharedRateLimiter
from tests.cores import make_core
from tests.fakes.bot_api import FakeBotApi

# The store's backends (tests/conftest.py): instances sharing one database, on both.
BACKENDS = ("sqlite", "postgres")
RATE = 20.0  # each instance's pace: two on their own would send 40 a second together
LIMIT = 30.0  # the fake's, as Telegram's per bot
MESSAGES = 30  # each instance's
CHATS = range(500, 510)


@contextlib.asynccontextmanager
async def instance(
    api: FakeBotApi, assistant: Assistant, database: str | Path
) -> AsyncIterator[App]:
    """An instance's Application, initialised (its Bot API client open), on its own store."""
    async with await Store.open(database) as store:
        store.several_instances = True  # what PostgreSQL says itself; SQLite as the tests set
        core = make_core(assistant, store, ())
        config = Config(telegram_token=api.token, telegram_base_url=api.base_url)
        app = build_application(config, core=core, send_rate=RATE)
        async with app:
            yield app


async def test_two_instances_on_one_database_send_at_the_bots_rate_together(
    api: FakeBotApi, assistant: Assistant, database: str | Path
) -> None:
    api.limit_rate(LIMIT)
    async with (
        instance(api, assistant, database) as one,
        instance(api, assistant, database) as two,
    ):
        assert isinstance(one.bot.rate_limiter, SharedRateLimiter)

        async def send(app: App, n: int) -> None:
            await app.bot.send_message(CHATS[n % len(CHATS)], f"消息 {n}")

        await asyncio.gather(*(send(app, n) for n in range(MESSAGES) for app in (one, two)))
    sends = api.calls_of("sendMessage")
    assert len([c for c in sends if c.ok]) == 2 * MESSAGES
    assert [c.status for c in sends if not c.ok] == []  # no 429: 20 a second in all


async def test_one_instance_alone_paces_itself_in_memory(
    api: FakeBotApi, assistant: Assistant, tmp_path: Path
) -> None:
    """SQLite without other instances: no write to the database for each message."""
    async with await Store.open(tmp_path / "alone.db") as store:
        config = Config(telegram_token=api.token, telegram_base_url=api.base_url)
        app = build_application(config, core=make_core(assistant, store, ()))
        limiter = app.bot.rate_limiter
        assert isinstance(limiter, AIORateLimiter)
        assert not isinstance(limiter, SharedRateLimiter)


async def test_a_message_the_database_cannot_pace_is_sent_all_the_same(
    api: FakeBotApi, assistant: Assistant, database: str | Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with instance(api, assistant, database) as app:
        await core_of(app.bot_data).store.close()  # the database is gone
        await app.bot.send_message(CHATS[0], "消息")
    [sent] = api.calls_of("sendMessage")
    assert sent.ok
    assert "无法从数据库取得 Telegram 发送节奏" in caplog.text

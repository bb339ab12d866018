"""Telegram's rate per bot, shared by the instances on one database.

Telegram counts a bot's messages a second whichever process sends them. One instance paces its
own (AIORateLimiter, SEND_RATE evenly spaced); several each pacing their own would together
send up to SEND_RATE times their number, and every 429 pauses the instance that gets it for a
second: while one sends a reminder to 1,000 members and the others answer those who reply,
three instances would be slower than one. So each message takes the next slot of one pace in
the database (bot/store/leases.py `pace`), and waits for it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import AIORateLimiter

from bot.clock import system_clock
from bot.store.leases import Leases

logger = logging.getLogger(__name__)

PACE = "pace/telegram"  # the pace's name: one bot per database

JSON = bool | dict[str, Any] | list[dict[str, Any]]


class SharedRateLimiter(AIORateLimiter):
    """AIORateLimiter (retries after 429), its overall rate a pace shared through the database."""

    def __init__(self, leases: Leases, rate: float, max_retries: int) -> None:
        super().__init__(overall_max_rate=0, max_retries=max_retries)
        self._leases = leases
        self._gap = dt.timedelta(seconds=1 / rate)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSON:
        """Wait for the pace's next slot when the request sends to a chat, then send it."""
        if data.get("chat_id") is not None:  # as AIORateLimiter's overall limit: sends
            await self._wait_turn()
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )

    async def _wait_turn(self) -> None:
        """Take the pace's next slot and wait for it (Telegram's seconds: the real clock)."""
        try:
            start = await self._leases.pace(PACE, self._gap, system_clock())
        except Exception as e:
            # Better a 429 (retried) than a message not sent: the database is not for sending.
            logger.warning("无法从数据库取得 Telegram 发送节奏（%r），本条消息直接发送", e)
            return
        wait = (start - system_clock()).total_seconds()
        if wait > 0:
            await asyncio.sleep(wait)

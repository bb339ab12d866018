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
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import AIORateLimiter

from bot.clock import system_clock
from bot.store.leases import Leases

logger = logging.getLogger(__name__)

PACE = "pace/telegram"  # the pace's name: one bot per database
BLOCK = 8  # slots taken at once at most (0.28 s at 29 a second)

JSON = bool | dict[str, Any] | list[dict[str, Any]]


class SharedRateLimiter(AIORateLimiter):
    """AIORateLimiter (retries after 429), its overall rate a pace shared through the database.

    An instance takes slots a few at a time: twice as many as last time when it used them all
    (up to BLOCK: a fan-out makes one write for several messages), half as many when some were
    left when their time was over (an instance answering now and then takes one at a time,
    and wastes little of the others' rate). Within the time it reserved, it sends when it is
    ready, at the earliest at its slot; after it, what it left unused is dropped.
    """

    def __init__(self, leases: Leases, rate: float, max_retries: int) -> None:
        super().__init__(overall_max_rate=0, max_retries=max_retries)
        self._leases = leases
        self._gap = dt.timedelta(seconds=1 / rate)
        self._slots: deque[dt.datetime] = deque()
        self._take = 1  # slots the last reservation took
        self._end: dt.datetime | None = None  # … and the last of them
        self._last: dt.datetime | None = None  # when this instance's last message goes
        self._taking = asyncio.Lock()  # one reservation at a time

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
        """Take a slot and wait for it (Telegram's seconds: the real clock)."""
        async with self._taking:
            now = system_clock()
            left = False
            if self._end is not None and now > self._end + self._gap / 2:
                # The time this instance reserved is over: what it left unused is gone (sent
                # now, it would crowd the others' slots).
                left = bool(self._slots)
                self._slots.clear()
            if not self._slots:
                if self._end is None or now > self._end + BLOCK * self._gap:
                    take = 1  # idle for a while
                elif left:
                    take = max(self._take // 2, 1)
                else:
                    take = min(self._take * 2, BLOCK)
                try:
                    start = await self._leases.pace(PACE, self._gap, now, take)
                except Exception as e:
                    # Better a 429 (retried) than a message not sent: the database is not
                    # what sends.
                    logger.warning("无法从数据库取得 Telegram 发送节奏（%r），本条消息直接发送", e)
                    return
                self._slots.extend(start + n * self._gap for n in range(take))
                self._take, self._end = take, self._slots[-1]
            # One instance's own messages a gap apart at least, as AIORateLimiter keeps them:
            # one behind its slots catches up at the pace, not in a burst.
            slot = max(self._slots.popleft(), system_clock())
            if self._last is not None:
                slot = max(slot, self._last + self._gap)
            self._last = slot
        wait = (slot - system_clock()).total_seconds()
        if wait > 0:
            await asyncio.sleep(wait)

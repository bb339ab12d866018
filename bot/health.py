"""Health: whether the bot's database answers, for `GET /healthz` on any HTTP server it runs."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.store import Store

logger = logging.getLogger(__name__)

# A database that takes longer than this for a trivial query counts as down: a monitor
# should hear "unhealthy", not wait for its own timeout.
TIMEOUT = 2.0


@dataclass(frozen=True)
class Health:
    """The verdict: `ok`, and a short text body for the HTTP answer."""

    ok: bool
    text: str

    @property
    def status(self) -> int:
        """Return the HTTP status: 200 when healthy, 503 otherwise."""
        return 200 if self.ok else 503


async def check(store: Store | None) -> Health:
    """Try to begin a write (rolled back); healthy if it can within TIMEOUT seconds.

    A database that reads but cannot be written (locked by another process, read-only, a full
    disk) fails every message: unhealthy. The answer names no version of anything.
    """
    if store is None:
        return Health(False, "数据库未打开\n")
    try:
        async with asyncio.timeout(TIMEOUT):
            await store.writable(wait_ms=int(TIMEOUT * 500))
    except Exception as e:  # whatever the cause, the answer is "unhealthy", and why is logged
        logger.warning("健康检查失败：%s: %s", type(e).__name__, e)
        return Health(False, "数据库无法写入\n")
    return Health(True, "ok\n")

"""The reminder scheduler: one asyncio task in the core, whichever channels run.

At start it sends the notices still owed from before the last stop and catches up on due
reminders; then it checks every `interval` seconds. What is due is read off the injected clock
and what was sent lives in the database, so a restart neither misses nor doubles a reminder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.core import Core

logger = logging.getLogger(__name__)

INTERVAL = 60.0  # seconds between checks for due reminders
Sleep = Callable[[float], Awaitable[None]]


class Scheduler:
    """Runs the reminder checks of a core in the background until stopped."""

    def __init__(self, core: Core, interval: float = INTERVAL, sleep: Sleep = asyncio.sleep):
        self.core = core
        self.interval = interval
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start checking: at once (to catch up after downtime), then every interval."""
        if self._task is None:
            for doc, reminders in self.core.reminders_of.items():
                logger.info("%s%s", f"{doc}：" if doc else "", reminders.describe_schedule())
            self._task = asyncio.create_task(self._run(), name="reminder scheduler")

    async def stop(self) -> None:
        """Stop checking; a check under way is cancelled (its fan-out resumes at next start)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def running(self) -> bool:
        """Tell whether the scheduler's task is alive."""
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while True:
            await self.check()
            await self._sleep(self.interval)

    async def check(self) -> None:
        """Send owed notices and due reminders once; an error is logged, never ends the loop."""
        try:
            # Notices recorded with a decision whose sending failed (the network, a stop).
            for missed in await self.core.office.membership.send_pending_notices(self.core.router):
                logger.warning("通知未能送达用户 %s", missed)
            # Each document's own reminders: a unit of two documents is reminded of each.
            for doc, reminders in self.core.reminders_of.items():
                for key in await reminders.tick(self.core.router):
                    logger.info("已发送提醒 %s", f"{doc}/{key}" if doc else key)
        except Exception:
            logger.exception("检查提醒时出错，下次检查时重试")

"""The reminder scheduler: one asyncio task in the core, whichever channels run.

At start it sends the notices still owed from before the last stop and catches up on due
reminders; then it checks every `interval` seconds. What is due is read off the injected clock
and what was sent lives in the database, so a restart neither misses nor doubles a reminder.

Several instances on one database each run a scheduler; a check runs under the database's
"scheduler" lease, so one instance at a time sends. The lease lasts one interval and is renewed
while a check runs; an instance that dies mid-check lets it lapse, and another instance's next
check takes it over and resumes the fan-out where the parts recorded end: within two intervals.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from bot.core import Core
from bot.office.reminders import LEASE

logger = logging.getLogger(__name__)

INTERVAL = 60.0  # seconds between checks for due reminders
Sleep = Callable[[float], Awaitable[None]]


class Scheduler:
    """Runs the reminder checks of a core in the background until stopped."""

    def __init__(
        self,
        core: Core,
        interval: float = INTERVAL,
        sleep: Sleep = asyncio.sleep,
        instance: str | None = None,
    ):
        self.core = core
        self.interval = interval
        self.instance = core.config.instance if instance is None else instance
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

    async def check(self) -> bool:
        """Check once under the lease; False when another instance holds it.

        The lease is given up when the check ends, or fails; a check cancelled (a stop, a
        crash) keeps it until it lapses, or until this instance, restarted, checks again.
        """
        store, lease = self.core.store, dt.timedelta(seconds=self.interval)
        await self.core.follow()  # a document another instance enabled has reminders too
        try:
            if not await store.leases.claim(LEASE, self.instance, lease):
                logger.debug("另一实例正在检查提醒，本实例跳过")
                return False
        except Exception:
            logger.exception("检查提醒时出错，下次检查时重试")
            return False
        async with store.leases.keep(LEASE, self.instance, lease):
            await self._send()
        return True

    async def _send(self) -> None:
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

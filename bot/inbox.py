"""Durable intake: what a channel delivered is stored before it is acknowledged, then handled.

`accept` stores a delivered item with its de-duplication key and returns once it is committed;
items arriving together share one transaction (one commit while the previous one runs), which
also forgets the items handled meanwhile, so the acknowledgement stays fast under load; a
batch's callers are woken before any of its items is handled, and a failed batch fails them
all (nothing of it is stored). Each member's items are handled in the order they came, by a
worker of that member's own: a member whose answer is slow holds up nobody else. What a
crash or a bounded drain leaves (an item handled but not yet forgotten included) is handled
at the next start; a note it filed is found again there (Notes.add), not filed twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from bot.store import Delivery, Store, origin

logger = logging.getLogger(__name__)

Handle = Callable[[Delivery], Awaitable[None]]


class Closed(Exception):
    """The inbox is draining: nothing new is accepted (the channel will deliver it again)."""


class Inbox:
    """One channel's stored deliveries, handled per member in order."""

    def __init__(self, store: Store, channel: str, handle: Handle) -> None:
        self._store = store
        self._channel = channel
        self._handle = handle
        self._batch: list[tuple[str, str, str, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._handled: list[int] = []  # ids to forget at the next commit
        self._queues: dict[str, deque[Delivery]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._closed = False
        # The last write failed (a full disk, a locked database): nothing can be accepted,
        # whatever a rolled-back probe says, until a write succeeds again.
        self.failing = False

    async def start(self) -> int:
        """Queue what was stored and not handled before the last stop; return how many."""
        left = await self._store.callbacks.waiting(self._channel)
        for delivery in left:
            self._queue(delivery)
        if left:
            logger.info("继续处理上次停止前已收到的 %d 条消息", len(left))
        return len(left)

    async def accept(self, key: str, member: str, body: str) -> bool:
        """Store an item once committed; False when `key` was taken before (a repeat).

        Raises Closed while draining and sqlite3.Error when the database refuses the write.
        """
        if self._closed:
            raise Closed
        taken = asyncio.get_running_loop().create_future()
        self._batch.append((key, member, body, taken))
        self._kick()
        # Not shielded: a caller cancelled meanwhile cancels only its own future (the item is
        # stored all the same), and the acknowledgement wakes in one step of the loop, not two.
        return bool(await taken)

    def _kick(self) -> asyncio.Task[None]:
        """Start the writer unless it is running (it takes whatever is waiting when it can)."""
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return self._writer

    async def _write(self) -> None:
        """Commit the waiting items and forget the handled ones, a batch at a time."""
        while self._batch or self._handled:
            batch, self._batch = self._batch, []
            handled, self._handled = self._handled, []
            try:
                stored = await self._store.callbacks.take(
                    self._channel,
                    [(key, member, body) for key, member, body, _ in batch],
                    handled,
                )
            except Exception as e:  # every caller of the batch answers "try again"
                self.failing = True
                for *_, taken in batch:
                    if not taken.done():
                        taken.set_exception(e)
                if handled:  # handled again at the next start (a note is not doubled)
                    logger.error("未能标记 %d 条消息已处理：%s", len(handled), type(e).__name__)
                continue
            self.failing = False
            for delivery, (*_, taken) in zip(stored, batch, strict=True):
                if not taken.done():
                    taken.set_result(delivery is not None)
            # Then handled: the batch's acknowledgements are woken first, so a burst's 200s
            # are not sent after the handling of everything it brought.
            for delivery in stored:
                if delivery is not None:
                    self._queue(delivery)

    def _queue(self, delivery: Delivery) -> None:
        member = delivery.member
        self._queues.setdefault(member, deque()).append(delivery)
        if member not in self._workers:
            self._workers[member] = asyncio.create_task(self._work(member))

    async def _work(self, member: str) -> None:
        """Handle a member's items in order until none is left, then end."""
        queue = self._queues[member]
        try:
            while queue:
                delivery = queue[0]
                handling = origin.set(f"inbox:{delivery.id}")
                try:
                    await self._handle(delivery)
                except Exception:  # the handler tells the member; one failure stops nobody
                    logger.exception("处理收到的消息失败（%s #%d）", self._channel, delivery.id)
                finally:
                    origin.reset(handling)
                self._handled.append(delivery.id)
                self._kick()
                queue.popleft()
        finally:
            del self._workers[member]
            if not queue:
                del self._queues[member]

    def pending(self) -> int:
        """Return how many accepted items are not handled yet."""
        return sum(len(queue) for queue in self._queues.values())

    async def drain(self, grace: float) -> int:
        """Accept nothing more, let the queued items be handled for at most `grace` seconds.

        What is left is cancelled, stays stored and is handled at the next start; returns how
        many items that is. Both the start and the end of the drain are logged.
        """
        self._closed = True
        if self._writer is not None:
            await asyncio.wait({self._writer})
        waiting = self.pending()
        if not waiting:
            return 0
        logger.info("正在停止：处理已收到的 %d 条消息（最多 %.0f 秒）", waiting, grace)
        workers = set(self._workers.values())
        _, unfinished = await asyncio.wait(workers, timeout=grace)
        left = self.pending()
        for worker in unfinished:
            worker.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        await asyncio.wait({self._kick()})  # the handled ones forgotten
        if left:
            logger.warning("停止时仍有 %d 条消息未处理完：已保存，下次启动时继续处理", left)
        else:
            logger.info("已收到的消息都已处理完")
        return left

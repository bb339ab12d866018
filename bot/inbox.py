"""Durable intake: what a channel delivered is stored before it is acknowledged, then handled.

`accept` stores a delivered item with its de-duplication key and returns once it is committed;
items arriving together share one transaction (one commit while the previous one runs), which
also forgets the items handled meanwhile, so the acknowledgement stays fast under load; a
batch's callers are woken before any of its items is handled, and a failed batch fails them
all (nothing of it is stored). Each member's items are handled in the order they came, by a
worker of that member's own: a member whose answer is slow holds up nobody else. What a
crash or a bounded drain leaves (an item handled but not yet forgotten included) is handled
at the next start; a note it filed is found again there (Notes.add), not filed twice.

Several instances may share the database: each stores what it receives, and a member's items
are handled by the one instance holding the member's lease (bot/store/callbacks.py), in the
order they were stored, whichever instance stored them. The lease is renewed while the
instance works; one that dies lets it lapse, and another takes the member over at its next
sweep (every third of the lease), with what was left. A stop gives the leases up at once.

While a worker handles a member's items, this instance's memory is the truth for the member's
chats (bot/store/chats.py `Tenure`): what handling changed is written behind, in the commit that
forgets the items handled (a crash before it redoes them anyway). That memory is kept after the
worker ends (for the KEPT members handled last) and is the truth again when this instance takes
the member again with nobody else having held the lease since (its stamp unchanged); otherwise
the member's chats are read again.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import socket
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from bot.config import LEASE_TTL
from bot.store import Delivery, Store, origin
from bot.store.callbacks import Lease
from bot.store.chats import Behind, Tenure, tenure
from bot.store.notes import unfiled

logger = logging.getLogger(__name__)

Handle = Callable[[Delivery], Awaitable[None]]
# A sealed delivery opened: (key, member, body) to store it under, or None (refused, logged).
Open = Callable[[Delivery], "tuple[str, str, str] | None"]
# The member under which deliveries are stored sealed: acknowledged once their sender is
# authenticated, opened (decrypted, parsed, de-duplicated) after the acknowledgements. No
# channel's member id has a "~".
SEALED = "~sealed"
OPEN_STEP = 32  # sealed deliveries opened between two looks at the intake
# How long opening what came waits, at most, for the acknowledgements of a burst still coming
# in: their p99 is the CPU spent before the last of them.
YIELD_SECONDS = 1.0
# How many members' memories (their chats' states) are kept after their workers end.
KEPT = 4096


class Closed(Exception):
    """The inbox is draining: nothing new is accepted (the channel will deliver it again)."""


class Inbox:
    """One channel's stored deliveries, handled per member in order."""

    def __init__(
        self,
        store: Store,
        channel: str,
        handle: Handle,
        owner: str | None = None,
        lease: dt.timedelta = LEASE_TTL,
    ) -> None:
        """`owner`: this instance's name among those sharing the database (the host's);
        `lease`: how long its leases last unrenewed (FENGONG_LEASE_SECONDS)."""
        self._store = store
        self._channel = channel
        self._handle = handle
        self._batch: list[tuple[str, str, str, asyncio.Future[bool], dt.datetime | None]] = []
        self._writer: asyncio.Task[None] | None = None
        self._handled: list[int] = []  # ids to forget at the next commit
        self._behind = Behind()  # what the handled ones changed, written with their forgetting
        self._flying: Behind | None = None  # … being written now
        # Sealed ids to forget in the transaction storing what they opened into, and its future.
        self._opened: list[tuple[list[int], asyncio.Future[None]]] = []
        self._open: Open | None = None
        self._acking = 0  # acknowledgements waiting for their commit
        self._quiet = asyncio.Event()  # set while none is
        self._quiet.set()
        self._lease = Lease(owner or socket.gethostname(), lease)
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._last: dict[str, int] = {}  # each member's last item handled here
        # Members' tenures after their workers ended, with the lease stamp they had, oldest first.
        self._kept: OrderedDict[str, tuple[str, Tenure]] = OrderedDict()
        self._sweeper: asyncio.Task[None] | None = None
        self._closed = False  # accepting nothing more
        self._ended = False  # starting no more workers
        # The last write failed (a full disk, a locked database): nothing can be accepted,
        # whatever a rolled-back probe says, until a write succeeds again.
        self.failing = False

    def open_sealed_with(self, open: Open) -> None:
        """Say how a delivery accepted under SEALED is opened (before `start`)."""
        self._open = open

    async def start(self) -> int:
        """Take up what was stored and nobody handles (left before the last stop, or by an
        instance that died); return how many items that is. Then sweep now and then."""
        members = await self._store.callbacks.orphans(self._channel, self._lease)
        left = 0
        for member in members:  # counted before any is opened (under another member then)
            left += len(await self._store.callbacks.after(self._channel, member, 0))
        for member in members:
            self._work_on(member)
        if left:
            logger.info("继续处理上次停止前已收到的 %d 条消息", left)
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep(), name="inbox sweep")
        return left

    async def _sweep(self) -> None:
        """Renew the leases of slow handling, and take over what dead instances left."""
        while True:
            await asyncio.sleep(self._lease.ttl.total_seconds() / 3)
            try:
                await self.sweep()
            except Exception as e:  # the next sweep tries again
                logger.warning("检查待处理消息时出错：%s", type(e).__name__)

    async def sweep(self) -> set[str]:
        """Renew this instance's leases and take the members nobody handles; return those."""
        await asyncio.wait({self._kick(force=True)})
        members = await self._store.callbacks.orphans(self._channel, self._lease)
        fresh = members - set(self._workers)
        for member in fresh:
            self._work_on(member)
        return fresh

    async def accept(self, key: str, member: str, body: str) -> bool:
        """Store an item once committed; False when `key` was taken before (a repeat).

        Raises Closed while draining and sqlite3.Error when the database refuses the write.
        """
        if self._closed:
            raise Closed
        taken = asyncio.get_running_loop().create_future()
        self._batch.append((key, member, body, taken, None))
        self._kick()
        self._acking += 1
        self._quiet.clear()
        try:
            # Not shielded: a caller cancelled meanwhile cancels only its own future (the item
            # is stored all the same), and the acknowledgement wakes in one step, not two.
            return bool(await taken)
        finally:
            self._acking -= 1
            if not self._acking:
                self._quiet.set()

    def _kick(self, force: bool = False) -> asyncio.Task[None]:
        """Start the writer unless it is running (it takes whatever is waiting when it can).

        `force`: commit once even with nothing waiting (the leases renewed)."""
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(force))
        return self._writer

    async def _write(self, force: bool = False) -> None:
        """Commit the waiting items and forget the handled ones, a batch at a time."""
        while (
            self._batch or self._handled or self._behind or self._opened or self._lease.ended
        ) or force:
            force = False
            batch, self._batch = self._batch, []
            handled, self._handled = self._handled, []
            behind = self._flying = self._behind
            self._behind = Behind()
            opened, self._opened = self._opened, []
            ended = set(self._lease.ended)
            self._lease.working = set(self._workers)
            try:
                taken = await self._store.callbacks.take(
                    self._channel,
                    [(key, member, body) for key, member, body, *_ in batch],
                    handled + [i for ids, _ in opened for i in ids],
                    self._lease,
                    [arrived for *_, arrived in batch],
                    behind,
                )
            except Exception as e:  # every caller of the batch answers "try again"
                self.failing = True
                self._lease.ended |= ended  # given up at the next commit
                self._handled[:0] = handled  # forgotten at the next commit
                self._behind = behind.under(self._behind)  # with them
                # Not the sealed ones: what they opened into is not stored; opened again.
                waiting = [f for *_, f, _ in batch] + [f for _, f in opened]
                for future in waiting:
                    if not future.done():
                        future.set_exception(e)
                if handled:  # if this was the last commit, handled again (a note is not doubled)
                    logger.error("未能标记 %d 条消息已处理：%s", len(handled), type(e).__name__)
                if not waiting:
                    return  # nothing waits on it: the next handled item or sweep retries
                continue
            finally:
                self._flying = None
            self.failing = False
            for delivery, (*_, future, _) in zip(taken.rows, batch, strict=True):
                if not future.done():
                    future.set_result(delivery is not None)
            for _, future in opened:
                if not future.done():
                    future.set_result(None)
            # Then handled: the batch's acknowledgements are woken first, so a burst's 200s
            # are not sent after the handling of everything it brought.
            for member in taken.won | taken.kept:
                self._work_on(member)

    def _work_on(self, member: str) -> None:
        """Start handling a member's items, unless a worker does already."""
        if member == SEALED and self._open is None:
            return  # no server of the channel here to open them: left to an instance with one
        if member not in self._workers and not self._ended:
            self._workers[member] = asyncio.create_task(self._work(member))

    async def _work(self, member: str) -> None:
        """Handle a member's stored items in order until none is left, then end."""
        # What this instance changed and has not written yet is the member's truth; the rest
        # is read from the database as the handling needs it (another instance may have
        # handled the member since this one last did).
        unwritten = (self._flying or Behind()).under(self._behind).of(member)
        stamp = self._lease.stamps.get(member)
        stamped, held = self._kept.pop(member, (None, Tenure()))
        if stamp is None or stamped != stamp:  # another instance held it since: read again
            held = Tenure()
        held.reopen(unwritten)
        tenure.set(held)  # seen by the handling (this task's context, and its children's)
        try:
            while True:
                last = self._last.get(member, 0)
                items = await self._store.callbacks.after(self._channel, member, last)
                if not items:
                    break
                if member == SEALED:
                    try:
                        await self._unseal(items)
                    except Exception as e:  # left sealed: the next worker opens them again
                        logger.warning("未能保存打开的消息：%s", type(e).__name__)
                        break
                    self._last[member] = items[-1].id
                    continue
                for delivery in items:
                    handling = origin.set(f"inbox:{delivery.id}")
                    first = unfiled.set(not delivery.filed)
                    try:
                        await self._handle(delivery)
                    except Exception:  # the handler tells the member; one failure stops nobody
                        logger.exception(
                            "处理收到的消息失败（%s #%d）", self._channel, delivery.id
                        )
                    finally:
                        origin.reset(handling)
                        unfiled.reset(first)
                    self._last[member] = delivery.id
                    self._handled.append(delivery.id)
                    self._behind.take(member, held)  # what it changed, with it
                    self._kick()
        finally:
            held.open = False
            # Cancelled mid-item: its state is not kept (it is handled again), its page
            # tokens are (a reply may have shown them).
            held.unsaved = {}
            self._behind.take(member, held)
            if stamp is not None and self._lease.stamps.get(member) == stamp:
                self._kept[member] = (stamp, held)
                while len(self._kept) > KEPT:
                    oldest, _ = self._kept.popitem(last=False)
                    if oldest not in self._workers:
                        self._lease.stamps.pop(oldest, None)
            del self._workers[member]
            # Its lease is given up with its last item forgotten, unless items came meanwhile.
            self._lease.ended.add(member)
            if not self._closed:
                self._kick()

    async def _unseal(self, items: list[Delivery]) -> None:
        """Open sealed deliveries and store each under its member (its key makes a repeat
        stored nothing), in the transaction that forgets the sealed ones: all or none.

        Opened a few at a time, when no acknowledgement waits (for YIELD_SECONDS at most):
        a burst's last 200 does not wait for the opening of its first callbacks. Stored in one
        transaction, so that a member's items keep their order whatever fails. Raises what the
        database raises (left sealed then)."""
        assert self._open is not None  # no worker for SEALED without it
        loop = asyncio.get_running_loop()
        deadline = loop.time() + YIELD_SECONDS
        entries: list[tuple[str, str, str, asyncio.Future[bool], dt.datetime | None]] = []
        for index, delivery in enumerate(items):
            if not index % OPEN_STEP:
                await self._yield(deadline)
            try:
                opened = self._open(delivery)
            except Exception:  # logged, then dropped like a refused one: it cannot be opened
                logger.exception("无法打开收到的消息（%s #%d）", self._channel, delivery.id)
                opened = None
            if opened is not None:
                entries.append((*opened, loop.create_future(), delivery.arrived))
        stored: asyncio.Future[None] = loop.create_future()
        self._batch += entries
        self._opened.append(([d.id for d in items], stored))
        self._kick()
        done = await asyncio.gather(stored, *(f for *_, f, _ in entries), return_exceptions=True)
        if isinstance(done[0], BaseException):
            raise done[0]
        for (key, *_), new in zip(entries, done[1:], strict=True):
            if not new:
                logger.info("渠道重发的消息已忽略（%s）", key.partition(":")[0])

    async def _yield(self, deadline: float) -> None:
        """Let the acknowledgements waiting go first, until `deadline` (loop time)."""
        await asyncio.sleep(0)
        if self._quiet.is_set() or self._closed:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                await self._quiet.wait()

    async def pending(self) -> int:
        """Return how many stored items of the members handled here are not handled yet."""
        left = 0
        for member in list(self._workers):
            last = self._last.get(member, 0)
            left += len(await self._store.callbacks.after(self._channel, member, last))
        return left

    async def drain(self, grace: float) -> int:
        """Accept nothing more, let the queued items be handled for at most `grace` seconds.

        What is left is cancelled, stays stored and is handled at the next start; returns how
        many items that is. Both the start and the end of the drain are logged.
        """
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._writer is not None:
            await asyncio.wait({self._writer})
        waiting = await self.pending()
        if not waiting:
            self._ended = True
            await self._give_up()
            return 0
        logger.info("正在停止：处理已收到的 %d 条消息（最多 %.0f 秒）", waiting, grace)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        # Until the grace is over, also for the workers of items opened meanwhile. The workers
        # may all have ended while the count was read: nothing to wait for then.
        while (workers := set(self._workers.values())) and loop.time() < deadline:
            await asyncio.wait(workers, timeout=deadline - loop.time())
        self._ended = True
        unfinished = set(self._workers.values())
        left = await self.pending()
        for worker in unfinished:
            worker.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        await asyncio.wait({self._kick()})  # the handled ones forgotten
        await self._give_up()
        if left:
            logger.warning("停止时仍有 %d 条消息未处理完：已保存，下次启动时继续处理", left)
        else:
            logger.info("已收到的消息都已处理完")
        return left

    async def _give_up(self) -> None:
        """Give this instance's leases up: another instance takes what is left at once."""
        try:
            await self._store.callbacks.give_up(self._channel, self._lease.owner)
        except Exception as e:  # they lapse by themselves
            logger.warning("未能交出待处理消息：%s", type(e).__name__)

"""Slow questions off the event loop: a few worker threads, each question within a time limit.

A question that takes too long must not stall every other chat, button and reminder. Its work
runs in a worker thread and the caller waits at most TIME_LIMIT seconds. A Python thread cannot
be killed, so the threads are few (WORKERS): when all of them are taken by questions still
running, a new question is refused at once rather than queued behind them. The threads are
daemon threads (not concurrent.futures' pool, which joins its threads at exit), so a question
still running does not keep the bot from stopping.

Threads share the interpreter: work in Python code yields every few milliseconds, but a single
call into C that holds the GIL (a backtracking `re` match) stalls every thread until it returns.
That the engine's patterns cannot backtrack is the first defence; this is the second.

A one-shot command (`python -m bot ask`) has nobody else to keep answering: within `here()`
work runs at once in the caller's thread, with no event loop (nor asyncio imported).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

from bot.switch import Switch

if TYPE_CHECKING:
    from concurrent.futures import Future

TIME_LIMIT = 2.0  # seconds a question may take
WORKERS = 4
SLOW = "这个问题暂时无法回答，请换个说法或缩短后再试。"
BUSY = "现在提问的人较多，请稍后再试。"

T = TypeVar("T")
_Job = tuple[Callable[[], Any], "Future[Any]"]
# While `here()` runs, guarded work runs at once in the caller's thread: a one-shot command
# has no other chat to keep answering while a question is worked out.
_here = Switch()
here = _here.turned_on


class Refused(Exception):
    """A question not answered: it took too long (SLOW), or every worker was taken (BUSY)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class Guard:
    """Runs work in at most `workers` threads; callers wait at most `time_limit` seconds."""

    def __init__(self, workers: int = WORKERS, time_limit: float = TIME_LIMIT) -> None:
        self.workers = workers
        self.time_limit = time_limit
        self._free = threading.BoundedSemaphore(workers)
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._start_lock = threading.Lock()
        # Work still running, by key: the same question asked again waits for the same work
        # instead of taking another thread.
        self._running: dict[Hashable, Future[Any]] = {}

    async def run(self, key: Hashable, work: Callable[[], T]) -> T:
        """Return work()'s result; raise Refused when it is late or no worker is free."""
        if _here.on:
            return work()
        import asyncio  # not for a one-shot command (`here`): it is slow to import

        future: Future[T] | None = self._running.get(key)
        if future is None or future.done():
            future = self._submit(work)
            self._forget_done()
            self._running[key] = future
        wrapped = asyncio.wrap_future(future)
        # asyncio.wait, not wait_for: a timeout must not cancel work others may be waiting for.
        done, _ = await asyncio.wait({wrapped}, timeout=self.time_limit)
        if not done:
            # Its result, or error, is taken when it comes, so that nothing is left unread.
            wrapped.add_done_callback(lambda f: f.cancelled() or f.exception())
            raise Refused(SLOW)
        if self._running.get(key) is future:
            del self._running[key]
        return wrapped.result()

    def _submit(self, work: Callable[[], T]) -> Future[T]:
        if not self._free.acquire(blocking=False):
            raise Refused(BUSY)
        self._start()
        from concurrent.futures import Future

        future: Future[T] = Future()
        self._jobs.put((work, future))
        return future

    def _forget_done(self) -> None:
        for key in [k for k, f in self._running.items() if f.done()]:
            del self._running[key]

    def _start(self) -> None:
        with self._start_lock:
            while len(self._threads) < self.workers:
                thread = threading.Thread(
                    target=self._work, name=f"guard-{len(self._threads)}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def _work(self) -> None:
        while True:
            work, future = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                self._free.release()
                continue
            try:
                result = work()
            except BaseException as e:  # handed to whoever awaits the answer
                self._free.release()
                future.set_exception(e)
            else:
                # Free before telling: whoever is told may ask again at once.
                self._free.release()
                future.set_result(result)

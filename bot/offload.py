"""Renders (the year's report and workbook, the progress picture) in a worker process.

A worker thread shares the interpreter's lock (GIL) with the event loop: while python-docx or
matplotlib ran in one, every other chat's answer waited for its turns (matplotlib holds the
lock for up to 0.1 s at a time); bench/bench_render.py --chats measured the other chats' p99
at 17× the idle one. A process of its own runs on another core and leaves the loop free.

One process, started on the first render and kept: the imports (matplotlib, python-docx) are
paid once, and one render at a time leaves the other core to the chats. It is started with
"spawn": forking a process that runs threads (the guard's, aiosqlite's) is unsafe.
A one-shot command (`python -m bot export`) renders in its own process (`here`).
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from bot.switch import Switch

T = TypeVar("T")
NICE = 10  # the worker's lower priority: on a busy machine the chats come first
ORPHAN_CHECK = 0.5  # seconds between the worker's checks that the bot still runs

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
# While `here()` runs, renders run in this process: a one-shot command (`python -m bot report`)
# has no chats to keep answering, and a worker would only make it import twice.
_here = Switch()
here = _here.turned_on


def _executor() -> ProcessPoolExecutor:
    """Return the worker process's pool, starting it on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(NICE, os.getpid()),
            )
        return _pool


def _start_worker(nice: int, parent: int) -> None:
    """Lower the worker's priority, and end it when the bot's process (`parent`) is gone."""
    os.nice(nice)
    # A bot killed outright (kill -9, out of memory) cannot stop its worker, which would then
    # wait forever, holding the bot's output pipes open: it notices its new parent and exits.
    # The bot's pid is given, not read here: a bot killed while the worker was still starting
    # would otherwise leave it watching its new parent.

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(ORPHAN_CHECK)
        os._exit(0)

    threading.Thread(target=watch, name="parent watch", daemon=True).start()


def _forget(broken: ProcessPoolExecutor) -> None:
    """Drop a pool whose process died, so that the next render starts a new one."""
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False)


def stop() -> None:
    """End the worker now, whatever it is doing, when the bot stops.

    Left to the interpreter's exit, the pool waits for the work it was given: `prepare`'s
    imports (matplotlib, python-docx, openpyxl), which the worker, started at the bot's start
    and at a lower priority, may still be doing on a busy machine many seconds later (30 s
    and more seen), or a render nobody will be sent. A stop signal must stop the bot promptly:
    the worker holds nothing that outlives it (a render returns its bytes to the bot), so it
    is killed, and the pool closed.
    """
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is None:
        return
    workers = list(pool._processes.values()) if pool._processes else []
    # (typeshed has this attribute as the thread's wakeup pipe: it is the thread.)
    manager: threading.Thread | None = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.kill()
    if manager is not None:
        # It sees the worker gone and closes the pool's pipes. Waited for here: left running,
        # the interpreter's exit may wake it through a pipe it is closing (a traceback of
        # "Bad file descriptor" in the log, Python 3.11).
        manager.join(timeout=10)


def _load(modules: tuple[str, ...]) -> None:
    """Import the renderers' modules in the worker (the first render then only renders)."""
    for name in modules:
        importlib.import_module(name)


def prepare(*modules: str) -> None:
    """Start the worker and import `modules` in it now, in the background (at start-up)."""
    # By name: the renderers import this module to offload their work, so importing them here
    # would make a circle of imports.
    _executor().submit(_load, modules)


async def offload(work: Callable[..., T], *args: object) -> T:
    """Return work(*args) computed in the worker process (work and args must pickle)."""
    if _here.on:
        return work(*args)
    loop = asyncio.get_running_loop()
    call = functools.partial(work, *args)
    pool = _executor()
    try:
        return await loop.run_in_executor(pool, call)
    except BrokenProcessPool:
        # The process died (killed, out of memory …): a new one, one more try.
        _forget(pool)
    return await loop.run_in_executor(_executor(), call)

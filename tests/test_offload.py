"""The worker process that renders run in (bot/offload.py)."""

from __future__ import annotations

import os
import signal

from bot.offload import NICE, offload


async def test_work_runs_in_another_process() -> None:
    assert await offload(os.getpid) != os.getpid()


async def test_the_worker_gives_way_to_the_bot() -> None:
    assert await offload(os.nice, 0) == min(19, os.nice(0) + NICE)


async def test_a_worker_that_died_is_replaced() -> None:
    dead = await offload(os.getpid)
    os.kill(dead, signal.SIGKILL)
    assert await offload(os.getpid) not in (dead, os.getpid())

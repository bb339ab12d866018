"""The worker process that renders run in (bot/offload.py)."""

from __future__ import annotations

import os
import signal
import sys

from bot.offload import NICE, offload, prepare


async def test_work_runs_in_another_process() -> None:
    assert await offload(os.getpid) != os.getpid()


async def test_the_worker_gives_way_to_the_bot() -> None:
    assert await offload(os.nice, 0) == min(19, os.nice(0) + NICE)


async def test_a_worker_that_died_is_replaced() -> None:
    dead = await offload(os.getpid)
    os.kill(dead, signal.SIGKILL)
    assert await offload(os.getpid) not in (dead, os.getpid())


def loaded(names: tuple[str, ...]) -> list[str]:
    """The modules of `names` imported in this process (run in the worker)."""
    return [name for name in names if name in sys.modules]


async def test_prepare_loads_the_renderers_in_the_worker_before_the_first_render() -> None:
    renderers = ("bot.heatmap", "bot.report", "matplotlib")
    os.kill(await offload(os.getpid), signal.SIGKILL)  # a fresh worker, as at start-up
    await offload(os.getpid)
    assert await offload(loaded, renderers) == []
    prepare()
    # The worker takes one job at a time, in order: prepare's is done before this one runs.
    assert await offload(loaded, renderers) == list(renderers)

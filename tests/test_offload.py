"""The worker process that renders run in (bot/offload.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

import bot.offload
from bot.cli import main
from bot.office import RENDERERS
from bot.offload import NICE, here, offload, prepare
from bot.store import Store

ROOT = Path(__file__).resolve().parents[1]


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
    renderers = ("bot.office.heatmap", "bot.office.report", "matplotlib")
    os.kill(await offload(os.getpid), signal.SIGKILL)  # a fresh worker, as at start-up
    await offload(os.getpid)
    assert await offload(loaded, renderers) == []
    prepare(*RENDERERS)
    # The worker takes one job at a time, in order: prepare's is done before this one runs.
    assert await offload(loaded, renderers) == list(renderers)


async def test_a_one_shot_command_renders_in_its_own_process() -> None:
    with here():
        assert await offload(os.getpid) == os.getpid()
    assert await offload(os.getpid) != os.getpid()  # the bot's renders: the worker's again


async def _created(db: Path) -> None:
    async with await Store.open(db):
        pass


@pytest.mark.parametrize(
    "command",
    [["export"], ["report", "--unit", "人社厅"], ["progress-image"]],
    ids=["export", "report", "progress-image"],
)
def test_the_command_line_renders_without_starting_a_worker(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing to keep answering while `python -m bot export` renders: a worker would only
    import the renderers a second time."""

    def no_worker() -> None:
        raise AssertionError("a worker process was asked for")

    db = tmp_path / "bot.sqlite3"
    asyncio.run(_created(db))
    monkeypatch.setenv("FENGONG_DB", str(db))
    monkeypatch.setattr(bot.offload, "_executor", no_worker)
    out = tmp_path / "out"
    assert main([command[0], "--year", "2024", *command[1:], str(out)]) == 0
    assert out.stat().st_size > 0


KILLED_BOT = """
import asyncio, os, pathlib, signal, sys
from bot.offload import offload

async def main():
    pathlib.Path(sys.argv[1]).write_text(str(await offload(os.getpid)))
    os.kill(os.getpid(), signal.SIGKILL)

if __name__ == "__main__":
    asyncio.run(main())
"""


def alive(pid: int) -> bool:
    """Tell whether a process runs (a zombie waiting to be reaped has ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\\nState:\\tZ" not in status


async def test_the_worker_ends_when_the_bot_is_killed_outright(tmp_path: Path) -> None:
    told = tmp_path / "worker.pid"
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KILLED_BOT, str(told), cwd=ROOT, stdout=asyncio.subprocess.DEVNULL
    )
    assert await asyncio.wait_for(bot.wait(), 30) == -signal.SIGKILL
    worker = int(told.read_text())
    async with asyncio.timeout(10):
        while alive(worker):  # noqa: ASYNC110 - another process's end has no event to wait on
            await asyncio.sleep(0.1)


async def test_stop_ends_the_worker_and_the_pool_s_thread() -> None:
    # Nothing of the pool is left for the interpreter's exit to wake (it would write to a pipe
    # the pool's thread may be closing just then).
    assert await offload(os.getpid) != os.getpid()
    pool = bot.offload._pool
    assert pool is not None
    workers = list(pool._processes.values())
    manager = pool._executor_manager_thread
    assert manager is not None
    bot.offload.stop()
    assert not manager.is_alive()
    assert not any(worker.is_alive() for worker in workers)
    assert bot.offload._pool is None

"""An acknowledged note survives SIGKILL of the process that wrote it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.store import Store

ROOT = Path(__file__).resolve().parent.parent

# The child acknowledges a note (prints its id) only after add_note has returned, exactly as a
# handler would reply to the user only then.
CHILD = """
import asyncio, sys, time
from bot.store import Store

def text(i):
    return f"第{i}条 '\\"; DROP TABLE notes; -- <b>&</b> 🎉👍🏽\\n第二行"

async def main():
    store = await Store.open(sys.argv[1])
    deadline = time.monotonic() + 20  # never outlive a parent that forgot us
    i = 0
    while time.monotonic() < deadline:
        note = await store.notes.add("省财政厅", "1.1", 2025, "u", "张三", text(i))
        print(note.id, i, flush=True)
        i += 1

asyncio.run(main())
"""


def expected_text(i: int) -> str:
    """The text the child writes as its i-th note."""
    return f"第{i}条 '\"; DROP TABLE notes; -- <b>&</b> 🎉👍🏽\n第二行"


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_acknowledged_notes_survive_sigkill(tmp_path: Path) -> None:
    """Kill -9 the writer mid-stream; every id it printed must be in the reopened database."""
    # kill -9 leaves the OS page cache intact, so this checks the commit protocol (nothing is
    # acknowledged before COMMIT), not power-loss safety, which synchronous=FULL provides.
    db_path = tmp_path / "notes.sqlite3"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    # A watchdog so that a child that hangs cannot hang the test suite.
    watchdog = threading.Timer(10, child.kill)
    watchdog.start()
    acknowledged: dict[int, int] = {}
    try:
        assert child.stdout is not None
        for line in child.stdout:
            note_id, i = map(int, line.split())
            acknowledged[note_id] = i
            if len(acknowledged) >= 30:
                break
        child.send_signal(signal.SIGKILL)
        # Lines the child printed before it died were acknowledged too.
        rest, errors = child.communicate(timeout=5)
    finally:
        watchdog.cancel()
        if child.poll() is None:
            child.kill()
            child.wait()
    assert len(acknowledged) >= 30, f"child stopped early: {errors}"
    assert child.returncode == -signal.SIGKILL
    for line in rest.splitlines(keepends=True):
        if line.endswith("\n"):  # a line cut off by the kill was never acknowledged
            note_id, i = map(int, line.split())
            acknowledged[note_id] = i

    async def check() -> None:
        async with await Store.open(db_path) as store:
            for note_id, i in acknowledged.items():
                note = await store.notes.get(note_id)
                assert note is not None, f"acknowledged note {note_id} was lost"
                assert note.text == expected_text(i)

    asyncio.run(check())


async def test_a_write_cancelled_at_any_point_leaves_only_its_cancellation(tmp_path: Path) -> None:
    # A crash is simulated by cancelling tasks; one cancelled while its COMMIT runs in
    # aiosqlite's thread must end cancelled, not with "cannot rollback", and the store goes on.
    async with await Store.open(tmp_path / "c.db") as store:
        outcomes = []
        for ticks in range(40):
            task = asyncio.create_task(store.users.upsert(f"u{ticks}", "某人", True))
            for _ in range(ticks % 8):
                await asyncio.sleep(0)
            task.cancel()
            try:
                await task
                outcomes.append("done")
            except asyncio.CancelledError:
                outcomes.append("cancelled")
        assert set(outcomes) <= {"done", "cancelled"}
        await store.users.upsert("after", "之后", True)
        assert await store.users.get("after") is not None

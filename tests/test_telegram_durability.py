"""Killing the bot at any moment loses no acknowledged note (kill -9, then a restart).

The production entry point, `python -m bot run`, runs as a child process polling the fake Bot
API. A member files notes one after another; once some were confirmed the child is killed
with SIGKILL (no shutdown of any kind), started again, and left to answer the rest. Every note
whose confirmation the fake server recorded must then be in the database, with its exact
text. (A note may be stored without its confirmation having gone out: that is allowed.)
"""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.clock import system_clock
from tests.fakes.bot_api import FakeBotApi
from tests.harness import HRSS, TOKEN, FakeClock, bind_directly, bot_process, rows

ROOT = Path(__file__).resolve().parents[1]
# Ten members of one unit, each within the per-person burst (bot/throttle.py): together they
# type faster than the bot answers.
MEMBERS = range(4242, 4252)
NOTES = 90
# On the real clock: after the plan's last year the acknowledgement says which year it went to.
CONFIRMED = re.compile(
    r"已记录「.*」举措 5\.1 的 \d+ 年进展（编号 (\d+)）：\n(.*?)"
    r"(?:\n\d+ 年不在本文件的报送年度内，这条进展计入 \d+ 年度。)?",
    re.S,
)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN) as fake:
        yield fake


def confirmations(api: FakeBotApi) -> dict[int, str]:
    """Note id -> text, of every confirmation the fake accepted."""
    found = {}
    for message in (m for member in MEMBERS for m in api.sent_messages(member)):
        match = CONFIRMED.fullmatch(message["rendered_text"])
        if match:
            found[int(match.group(1))] = match.group(2)
    return found


async def until(condition: Callable[[], bool], timeout: float) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_kill_9_loses_no_acknowledged_note(api: FakeBotApi, tmp_path: Path) -> None:
    db_path = tmp_path / "fengong.db"
    await bind_directly(db_path, FakeClock(system_clock()), [(m, HRSS) for m in MEMBERS])
    texts = [f"第{i}条 <b>&amp; '引号' 😀" for i in range(NOTES)]

    async def member_types() -> None:
        # Faster than the bot answers (about 29 a second): a backlog builds up, part of it
        # fetched by the bot and not yet handled, part of it still waiting on the server.
        for i, note in enumerate(texts):
            api.send_text(MEMBERS[i % len(MEMBERS)], f"/note 5.1 {note}")
            await asyncio.sleep(1 / 40)

    typing: asyncio.Task[None] | None = None
    try:
        async with bot_process(api, db_path) as first:
            await api.wait_for("getUpdates", include_pending=True, timeout=10)
            typing = asyncio.create_task(member_types())
            await until(lambda: len(confirmations(api)) >= 15, timeout=10)
            first.send_signal(signal.SIGKILL)
            await first.wait()
        assert first.returncode == -signal.SIGKILL
        before_restart = confirmations(api)
        assert 15 <= len(before_restart) < NOTES

        async with bot_process(api, db_path) as second:
            await typing
            # Done when every update was fetched and the bot has been quiet for a while.
            settled = 0
            while settled < 10:
                count = len(api.calls)
                await asyncio.sleep(0.05)
                busy = api.pending_updates or len(api.calls) != count
                settled = 0 if busy else settled + 1
            api.conflict(True)  # the bot stops by itself (see test_telegram)
            async with asyncio.timeout(10):
                output, _ = await second.communicate()
        assert second.returncode == 0, output.decode()
    finally:
        if typing is not None:
            typing.cancel()

    confirmed = confirmations(api)
    assert len(confirmed) > len(before_restart)  # the restarted bot took over
    stored = dict(rows(db_path, "SELECT id, text FROM notes WHERE deleted_at IS NULL"))
    for note_id, shown in confirmed.items():
        assert stored.get(note_id) == shown, note_id
    assert set(confirmed.values()) <= set(texts)
    # Exact text, as typed (the confirmation shows it unescaped; the database holds it as is).
    assert set(stored.values()) <= set(texts)

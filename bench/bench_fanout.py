"""Reminder fan-out: 1,000 members reminded through the real Application, at Telegram's rate.

Run: .venv/bin/python bench/bench_fanout.py [-n 1000] [--rate 30] [--crash-after K]

N members (spread over the units with at most ten measures, so that each reminder is one
message) are bound in a fresh SQLite file and have opened a private chat. The fake Bot API
(tests/fakes/bot_api.py) answers 429 (retry_after=1) to any send above --rate in a sliding
one-second window, as Telegram does for bulk messages. The clock reads 2024-12-01 09:00
Asia/Shanghai, when the 30-day reminder of 2024 is due: the Application built by
build_application (with its AIORateLimiter) sends it from its reminder job at start-up.

Printed: the time from the first to the last reminder recorded by the fake, messages sent,
429 answers, duplicates (members who got more than one) and misses (members who got none).
The target is N / rate × 1.15 seconds at most (38.3 s for 1,000 at 30/s), 0 duplicates and
0 misses.

With --crash-after K the reminder job is killed (its task cancelled, as a crash would stop it)
once K reminders were recorded, and a new Application on the same database finishes the
fan-out: duplicates are then at most the number of sends in flight at the crash.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("PTB_TIMEDELTA", "true")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.fakes, tests.harness

from bot.ask.assistant import Assistant  # noqa: E402
from bot.store import Store  # noqa: E402
from tests.fakes.bot_api import FakeBotApi  # noqa: E402
from tests.harness import (  # noqa: E402
    COORDINATOR,
    TOKEN,
    FakeClock,
    crash_jobs,
    running,
    shanghai,
)

FIRST_MEMBER = 100_000
KEY = "reminder:2024:30"
HEADER = "2024 年度进展报送提醒"


async def setup(db_path: Path, clock: FakeClock, assistant: Assistant, n: int) -> list[int]:
    """Bind N members, spread over the units whose reminder fits one message."""
    plan = assistant.plan
    units = [u.name for u in plan.units if len(plan.duties_of(u.name)) <= 10]
    members = [FIRST_MEMBER + i for i in range(n)]
    async with await Store.open(db_path, clock) as store:
        for i, user in enumerate(members):
            await store.members.bind(
                str(user), f"成员{i}", units[i % len(units)], str(COORDINATOR)
            )
            await store.users.upsert(str(user), f"成员{i}", private_chat=True)
    return members


def reminders_received(api: FakeBotApi, members: set[int]) -> list[tuple[int, float]]:
    """(chat, time) of every reminder the fake accepted, in order."""
    return [
        (c.params["chat_id"], c.at)
        for c in api.calls
        if c.method == "sendMessage"
        and c.ok
        and c.params["chat_id"] in members
        and HEADER in c.params["text"]
    ]


async def wait_until(api: FakeBotApi, members: set[int], count: int, timeout: float) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len({chat for chat, _ in reminders_received(api, members)}) < count:
        if loop.time() > deadline:
            raise TimeoutError(f"fewer than {count} members reminded after {timeout} s")
        await asyncio.sleep(0.05)


async def main(n: int, rate: float, crash_after: int | None) -> int:
    logging.basicConfig(level=logging.ERROR)
    # The scheduler reports the cancelled job of --crash-after with a traceback: expected.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.CRITICAL)
    assistant = Assistant.load()
    clock = FakeClock(shanghai(2024, 12, 1, 9, 0))
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "fengong.db"
        started = time.monotonic()
        members = await setup(db_path, clock, assistant, n)
        print(f"{n} members bound in {time.monotonic() - started:.1f} s")
        chats = set(members)
        async with FakeBotApi(token=TOKEN) as api:
            api.limit_rate(rate)
            budget = n / rate * 1.15
            patience = n / min(rate, 30) * 3 + 10  # AIORateLimiter sends 30/s at most
            if crash_after is not None:
                async with running(api, assistant, db_path, clock) as app:
                    await wait_until(api, chats, crash_after, patience)
                    await crash_jobs(app)
                print(f"crashed after {len(reminders_received(api, chats))} reminders; restarting")
            async with running(api, assistant, db_path, clock):
                await wait_until(api, chats, n, patience)
                async with await Store.open(db_path, clock) as store:
                    for _ in range(100):
                        if await store.state.get(f"done:{KEY}") == "sent":
                            break
                        await asyncio.sleep(0.1)
            received = reminders_received(api, chats)
            sends = [c for c in api.calls if c.method == "sendMessage"]
    per_chat = Counter(chat for chat, _ in received)
    duplicates = sum(count - 1 for count in per_chat.values())
    misses = len(chats - set(per_chat))
    took = received[-1][1] - received[0][1] if received else float("nan")
    limited = sum(1 for c in sends if c.status == 429)
    print(
        f"first to last reminder: {took:.1f} s (target ≤ {budget:.1f} s); "
        f"{len(received)} messages sent, {limited} answered 429; "
        f"{duplicates} duplicates, {misses} misses; "
        f"{len(received) / took:.1f} messages/s"
    )
    ok = took <= budget and misses == 0 and (duplicates == 0 or crash_after is not None)
    print("target met" if ok else "TARGET MISSED")
    return 0 if ok else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="members (default 1000)")
    parser.add_argument("--rate", type=float, default=30.0, help="the fake's limit per second")
    parser.add_argument("--crash-after", type=int, default=None, metavar="K")
    return parser


if __name__ == "__main__":
    args = _parser().parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main(args.n, args.rate, args.crash_after)))

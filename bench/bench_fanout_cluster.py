"""Reminder fan-out of 1,000 members by one instance and by three on one PostgreSQL database.

Run: .venv/bin/python bench/bench_fanout_cluster.py [-n 1000] [--rate 30] [--runs 3]

Issue #20's fourth figure: the channel's rate is per app (Telegram's ~30 messages a second
for the bot, whichever process sends them), so three instances must not be slower than one.

Each run is the deployment of deploy/ as processes (tests/cluster.py): `python -m bot run`
instances behind nginx, Telegram by webhook, on a fresh copy of one PostgreSQL database
(tests/postgres.py, a server of the bench's own with production's fsync settings) holding N
members bound in units whose reminder is one message, each having opened a private chat. The
fake Bot API (tests/fakes/bot_api.py) answers 429 (retry_after=1) to any send above --rate in a
sliding one-second window, as Telegram does. FENGONG_CONFIG makes today's reminder due.

So that every instance runs when the reminder falls due (as in production, where they run for
days before it), the bench holds the scheduler's lease while they start and gives it up once
all answer /healthz; the next check of any instance (FENGONG_REMINDER_INTERVAL, --interval)
takes the lease and sends.

With --chatter R, members already reminded ask the bot meanwhile what their unit still
owes (QUESTION), R a second in all, through nginx as Telegram's webhook posts: as they do when a
reminder reaches them. Their answers go out under the same per-app rate.

Runs alternate (one, three, one, three …) so that the machine's load falls on both alike; the
median of --runs each is printed: the time from the first reminder the fake accepted to the
last, the rate, 429 answers, duplicates (members who got more than one) and misses (members
who got none), and the ratio three / one of the times. Target: the ratio ≤ 1.05 (three not
slower than one, within the noise of a shared machine), 0 duplicates, 0 misses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

os.environ.setdefault("PTB_TIMEDELTA", "true")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.*

from bot.ask.assistant import Assistant  # noqa: E402
from bot.clock import TZ  # noqa: E402
from bot.office.reminders import LEASE  # noqa: E402
from bot.store import Store  # noqa: E402
from handlers.telegram.webhook import SECRET_HEADER  # noqa: E402
from tests import postgres  # noqa: E402
from tests.cluster import WEBHOOK_SECRET, Cluster, cluster  # noqa: E402
from tests.fakes.bot_api import FakeBotApi  # noqa: E402
from tests.fakes.wecom_api import FakeWeComApi  # noqa: E402
from tests.harness import TOKEN  # noqa: E402
from tests.test_cluster import reminders_due  # noqa: E402
from tests.test_wecom_run import telegram_update  # noqa: E402

FIRST_MEMBER = 100_000
HEADER = "年度进展报送提醒"
QUESTION = "我们还差哪些没报"  # a member's answer to the reminder (--chatter)
BASE = "fanout"  # the database bound once, copied for each run
BENCH = "bench"  # the lease's owner while the instances start
TARGET = 1.05


@dataclass(frozen=True)
class Result:
    """One run's figures."""

    took: float  # first to last reminder accepted, seconds
    sent: int  # reminders accepted
    limited: int  # 429 answers
    duplicates: int
    misses: int
    senders: int  # instances that sent reminders (their scheduler held the lease)
    asked: int  # messages members wrote meanwhile (--chatter)
    answered: int  # … answered

    @property
    def rate(self) -> float:
        """Reminders accepted a second."""
        return self.sent / self.took if self.took else float("nan")


async def bind(url: str, n: int) -> list[int]:
    """Bind N Telegram members in the units whose reminder is one message."""
    plan = Assistant.load().plan
    units = [u.name for u in plan.units if len(plan.duties_of(u.name)) <= 10]
    members = [FIRST_MEMBER + i for i in range(n)]
    async with await Store.open(url) as store:
        for i, user in enumerate(members):
            await store.members.bind(f"tg:{user}", f"成员{i}", units[i % len(units)], "tg:1")
            await store.users.upsert(f"tg:{user}", f"成员{i}", private_chat=True)
    return members


async def until(condition: Callable[[], Awaitable[bool]], timeout: float) -> bool:  # noqa: ASYNC109
    """Poll `condition()` until true (True), or until `timeout` seconds passed (False)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            while not await condition():  # noqa: ASYNC110 - polls the fake and the database
                await asyncio.sleep(0.1)
            return True
    return False


async def chatter(
    bots: Cluster, reminded: Callable[[], list[int]], per_second: float, stop: asyncio.Event
) -> int:
    """Members already reminded ask QUESTION, `per_second` in all, until `stop`; return how
    many messages were posted."""
    posted = 0
    if not per_second:
        return posted
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            await asyncio.sleep(1 / per_second)
            them = reminded()
            if not them:
                continue
            user = them[posted * 7919 % len(them)]  # spread over who was reminded
            update = telegram_update(10_000_000 + posted, user, QUESTION)
            headers = {SECRET_HEADER: WEBHOOK_SECRET}
            status = 0
            while status != 200:  # Telegram delivers an update again until it is taken
                async with http.post(bots.url("/telegram"), json=update, headers=headers) as r:
                    status = r.status
            posted += 1
    return posted


async def run_once(
    server: postgres.Server,
    folder: Path,
    number: int,
    instances: int,
    members: list[int],
    rate: float,
    interval: float,
    per_second: float,
) -> Result:
    """Fan the reminder out to `members` with `instances` instances on a copy of BASE."""
    name = f"run{number}"
    await server.admin(f"CREATE DATABASE {name} TEMPLATE {BASE}")
    url = server.url(name)
    deadline = dt.datetime.now(TZ).date() + dt.timedelta(days=1)
    settings = {  # the reminder one day before the deadline, at 00:00: due today
        "FENGONG_CONFIG": str(reminders_due(folder, deadline, 1)),
        "FENGONG_REMINDER_INTERVAL": str(interval),
    }
    key = f"done:reminder:{deadline.year}:1"
    async with await Store.open(url) as store:
        assert await store.leases.claim(LEASE, BENCH, dt.timedelta(days=1))
    chats = set(members)
    log = folder / name
    log.mkdir()
    async with FakeWeComApi() as wecom_api, FakeBotApi(token=TOKEN) as api:
        api.limit_rate(rate)

        def received() -> list[tuple[int, float]]:
            return [
                (c.params["chat_id"], c.at)
                for c in api.calls
                if c.method == "sendMessage"
                and c.ok
                and c.params["chat_id"] in chats
                and HEADER in c.params["text"]
            ]

        def answers() -> int:
            return sum(
                1
                for c in api.calls
                if c.method == "sendMessage"
                and c.ok
                and c.params["chat_id"] in chats
                and HEADER not in c.params["text"]
            )

        async with cluster(log, wecom_api, url, instances, telegram=api, extra=settings) as bots:
            async with await Store.open(url) as store:
                await store.leases.release(LEASE, BENCH)
                reminded = lambda: [chat for chat, _ in received()]  # noqa: E731
                stop = asyncio.Event()
                talk = asyncio.create_task(chatter(bots, reminded, per_second, stop))

                async def all_reminded() -> bool:
                    return len({chat for chat, _ in received()}) >= len(chats)

                async def recorded_done() -> bool:
                    return await store.state.get(key) == "sent"

                patience = len(chats) / min(rate, 29) * 3 + interval + 30
                if not await until(all_reminded, patience):
                    raise SystemExit(f"{len(chats)} members not all reminded\n{bots.logs()}")
                stop.set()
                asked = await talk

                async def all_answered() -> bool:
                    return answers() >= asked

                if not await until(all_answered, 60):
                    raise SystemExit(f"{asked - answers()} not answered\n{bots.logs()}")
                if not await until(recorded_done, 60):
                    raise SystemExit(f"{key} not recorded\n{bots.logs()}")
            logs = [i.log.read_text(errors="replace") for i in bots.instances]
        got = received()
        replied = answers()
        limited = sum(1 for c in api.calls if c.method == "sendMessage" and c.status == 429)
    await server.admin(f"DROP DATABASE {name}")
    per_chat = Counter(chat for chat, _ in got)
    senders = sum(1 for text in logs if "已发送提醒 reminder:" in text)
    return Result(
        took=got[-1][1] - got[0][1] if got else float("nan"),
        sent=len(got),
        limited=limited,
        duplicates=sum(count - 1 for count in per_chat.values()),
        misses=len(chats - set(per_chat)),
        senders=senders,
        asked=asked,
        answered=replied,
    )


def row(label: str, results: list[Result]) -> str:
    """One line of the table: the median run's figures, and every run's time."""
    ordered = sorted(results, key=lambda r: r.took)
    median = ordered[len(ordered) // 2]
    times = ", ".join(f"{r.took:.1f}" for r in results)
    return (
        f"| {label} | {median.took:.1f} s ({times}) | {median.rate:.1f}/s | "
        f"{sum(r.limited for r in results)} | "
        f"{sum(r.duplicates for r in results)} / {sum(r.misses for r in results)} | "
        f"{'、'.join(str(r.senders) for r in results)} |"
    )


async def main(n: int, rate: float, runs: int, interval: float, per_second: float) -> int:
    """Bind once, then alternate one and three instances `runs` times each; print the table."""
    logging.basicConfig(level=logging.ERROR)
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    server = postgres.start(durable=True)
    try:
        with tempfile.TemporaryDirectory(prefix="fanout-") as tmp:
            await server.admin(f"CREATE DATABASE {BASE} TEMPLATE template0")
            started = time.monotonic()
            members = await bind(server.url(BASE), n)
            print(f"{n} members bound in {time.monotonic() - started:.1f} s")
            results: dict[int, list[Result]] = {1: [], 3: []}
            number = 0
            for _ in range(runs):
                for instances in (1, 3):
                    number += 1
                    result = await run_once(
                        server, Path(tmp), number, instances, members, rate, interval, per_second
                    )
                    results[instances].append(result)
                    print(
                        f"run {number}: {instances} instance(s): {result.took:.1f} s, "
                        f"{result.rate:.1f}/s, {result.limited} × 429, "
                        f"{result.duplicates} duplicates, {result.misses} misses, "
                        f"sent by {result.senders}; {result.answered}/{result.asked} answered",
                        flush=True,
                    )
    finally:
        server.stop()
    one = statistics.median(r.took for r in results[1])
    three = statistics.median(r.took for r in results[3])
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        "| instances | time, median (each run) | rate | 429s | duplicates / misses "
        "| instances that sent |"
    )
    print("|---|---|---|---|---|---|")
    print(row("one", results[1]))
    print(row("three", results[3]))
    ratio = three / one
    clean = all(r.duplicates == 0 and r.misses == 0 for rs in results.values() for r in rs)
    ok = ratio <= TARGET and clean
    print(f"three / one: {ratio:.2f} (target ≤ {TARGET}, no duplicates, no misses)")
    print("target met" if ok else "TARGET MISSED")
    return 0 if ok else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="members (default 1000)")
    parser.add_argument("--rate", type=float, default=30.0, help="the fake's limit per second")
    parser.add_argument("--runs", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument(
        "--chatter", type=float, default=0.0, help="members' messages a second meanwhile"
    )
    parser.add_argument(
        "--interval", type=float, default=10.0, help="FENGONG_REMINDER_INTERVAL (default 10)"
    )
    return parser


if __name__ == "__main__":
    args = _parser().parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main(args.n, args.rate, args.runs, args.interval, args.chatter)))

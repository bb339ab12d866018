"""Year-end renders: the largest unit's report (.docx) and the progress picture (PNG).

Run: .venv/bin/python bench/bench_render.py [--rounds 10] [--notes 3]
     .venv/bin/python bench/bench_render.py --chats [--users 20] [--renders 20] [--idle 10]

A fresh SQLite file gets, for 2024, --notes notes of 300 characters on every measure of
every unit except the last measure of each (so every report has both notes and gaps). Timed,
as the bot would run them (reading the store, rendering in a worker thread):
- the report of the unit with the most measures, and the committee's report (全部);
- the progress picture.
Printed: the imports (python-docx; matplotlib and the font), then per render the first call
in the process (Word template, glyph caches) and the median and worst of --rounds more.
Targets: picture ≤ 1.5 s, report ≤ 1 s for the largest unit.

With --chats, the other chats while renders run (issue 12: p99 of other chats' answers during
20 renders ≤ 2× the idle p99). The real bot (build_application, no rate limiter: Telegram's
29 a second would be measured instead of the bot) polls the fake Bot API, which runs in a
child process with the load: --users private chats each ask a question, wait for the answer,
pause about --think seconds and ask again; a coordinator (/progress 2024, /report 全部 2024 in
turn) and a member of the largest unit (/report 2024) send --renders renders between them,
each chat one after the other, while the users go on. Idle phases of --idle seconds come
before and after. A question's time runs from the update being queued on the fake to the
fake receiving the answer. Printed: p50/p99 of the answers idle and during the renders, the
ratio of the p99s, and the renders' times.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

os.environ.setdefault("PTB_TIMEDELTA", "true")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.ask.assistant import Assistant  # noqa: E402
from bot.clock import TZ  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.documents.plan import Plan, load_plan  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.throttle import Throttle  # noqa: E402
from handlers.telegram.app import build_application  # noqa: E402
from handlers.telegram.context import core_of  # noqa: E402
from tests.fakes.bot_api import FakeBotApi  # noqa: E402
from tests.fakes.clock import FakeClock  # noqa: E402

YEAR = 2024
TEXT = ("今年组织专场招聘会，帮助残疾人实现就业，并开展职业技能培训。" * 10)[:300]

TOKEN = "123:ABC"
COORDINATOR = 900
MEMBER = 901
FIRST_USER = 10_001
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"  # the questions, when present
QUESTIONS = (
    "人社厅负责哪些任务？",
    "盲人按摩归谁管？",
    "残疾人大学生就业有哪些措施？",
    "第8项任务",
    "7.2",
    "教育厅 职业教育",
    "税收优惠由谁负责",
    "第十项任务",
)


async def fill(store: Store, plan: Plan, clock: FakeClock, per_measure: int) -> int:
    """File the year's notes; return how many."""
    count = 0
    for unit in plan.units:
        for measure in plan.duties_of(unit.name)[:-1]:
            for k in range(per_measure):
                await store.notes.add(unit.name, measure.id, YEAR, "u1", "联络员", f"{k}{TEXT}")
                clock.advance(minutes=7)
                count += 1
    return count


async def timed(label: str, make: Callable[[], Awaitable[bytes]], rounds: int) -> None:
    """Print the first call's time, then the median and worst of `rounds` more."""
    start = time.perf_counter()
    size = len(await make())
    first = time.perf_counter() - start
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        await make()
        times.append(time.perf_counter() - start)
    print(
        f"{label:<34} first {first:6.2f} s   median {statistics.median(times):6.2f} s"
        f"   worst {max(times):6.2f} s   {size / 1024:7.0f} KiB"
    )


async def main(rounds: int, per_measure: int) -> None:
    """Fill a store and time the renders."""
    plan = load_plan()
    largest = max(plan.units, key=lambda u: len(plan.duties_of(u.name))).name
    clock = FakeClock(dt.datetime(YEAR, 3, 1, 9, 0, tzinfo=TZ))
    with tempfile.TemporaryDirectory() as tmp:
        async with await Store.open(Path(tmp) / "bench.db", clock) as store:
            count = await fill(store, plan, clock, per_measure)
            print(
                f"{count} notes; largest unit {largest}: {len(plan.duties_of(largest))} measures"
            )
            # Imported here to time what the bot pays once, on its first render.
            start = time.perf_counter()
            from bot.office.report import year_report

            middle = time.perf_counter()
            from bot.office.heatmap import progress_picture

            print(
                f"imports: bot.office.report {middle - start:.2f} s, "
                f"bot.office.heatmap {time.perf_counter() - middle:.2f} s"
            )

            await timed(
                f"report {largest}", lambda: year_report(store, plan, YEAR, largest), rounds
            )
            await timed("report 全部", lambda: year_report(store, plan, YEAR, None), rounds)
            await timed(
                "picture",
                lambda: progress_picture(store, plan, YEAR, dt.date(2024, 12, 1)),
                rounds,
            )


# --------------------------------------------------------------------------------------------
# --chats: other chats' answers while renders run
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """What the child process sends: how many users, how often, how many renders."""

    users: int
    renders: int
    idle: float
    think: float
    questions: tuple[str, ...]


def drive(conn: Connection, load: Load) -> None:
    """Child process: the fake Bot API and the people talking to the bot."""
    asyncio.run(_drive(conn, load))


async def _answer(api: FakeBotApi, chat: int, text: str, method: str) -> float:
    """Send `text` in `chat`; return the seconds until the fake received `method` there."""
    since = len(api.calls)
    start = time.monotonic()
    api.send_text(chat, text, user_id=chat)
    calls = await api.wait_for(
        lambda c: c.method == method and str(c.params.get("chat_id")) == str(chat),
        since=since,
        timeout=120,
    )
    return calls[0].at - start


async def _drive(conn: Connection, load: Load) -> None:
    loop = asyncio.get_running_loop()
    users = [FIRST_USER + i for i in range(load.users)]
    async with FakeBotApi(token=TOKEN) as api:
        for user in (COORDINATOR, MEMBER, *users):
            api.set_user(user, first_name=f"用户{user}")
        conn.send(api.base_url)
        await loop.run_in_executor(None, conn.recv)  # the bot polls
        # Warm-up, not counted: every question once, the first render of each kind (imports).
        for i, question in enumerate(load.questions):
            await _answer(api, users[i % len(users)], question, "sendMessage")
        first = {
            "/progress 2024": await _answer(api, COORDINATOR, "/progress 2024", "sendPhoto"),
            "/report 全部 2024": await _answer(
                api, COORDINATOR, "/report 全部 2024", "sendDocument"
            ),
            "/report 2024": await _answer(api, MEMBER, "/report 2024", "sendDocument"),
        }
        phase = ["idle before"]
        samples: dict[str, list[float]] = {}
        stopping = asyncio.Event()

        async def ask(user: int) -> None:
            rng = random.Random(user)
            await asyncio.sleep(rng.uniform(0, load.think))  # not all at once
            while not stopping.is_set():
                label = phase[0]
                question = rng.choice(load.questions)
                seconds = await _answer(api, user, question, "sendMessage")
                if phase[0] == label:  # asked and answered within one phase
                    samples.setdefault(label, []).append(seconds)
                await asyncio.sleep(load.think * rng.uniform(0.5, 1.5))

        async def render(chat: int, commands: list[str]) -> list[tuple[str, float]]:
            done = []
            for command in commands:
                method = "sendPhoto" if command.startswith("/progress") else "sendDocument"
                done.append((command, await _answer(api, chat, command, method)))
            return done

        askers = [asyncio.create_task(ask(u)) for u in users]
        began = time.monotonic()
        await asyncio.sleep(load.idle)
        by_coordinator = load.renders // 2
        coordinator = ["/progress 2024", "/report 全部 2024"] * by_coordinator
        phase[0] = "renders"
        start = time.monotonic()
        rendered = await asyncio.gather(
            render(COORDINATOR, coordinator[:by_coordinator]),
            render(MEMBER, ["/report 2024"] * (load.renders - by_coordinator)),
        )
        end = time.monotonic()
        phase[0] = "idle after"
        await asyncio.sleep(load.idle)
        ended = time.monotonic()
        stopping.set()
        await asyncio.gather(*askers)
        conn.send(
            {
                "samples": samples,
                "first": first,
                "renders": [r for chat in rendered for r in chat],
                # time.monotonic is the machine's clock, not the process's
                "window": (start, end),
                "idle": ((began, start), (end, ended)),
            }
        )
        await loop.run_in_executor(None, conn.recv)  # until the bot has stopped


async def stalls(tick: float = 0.002) -> list[tuple[float, float]]:
    """Watch the bot's event loop until cancelled: (when, how late) of every late wake-up.

    A wake-up more than a millisecond after its time means the loop was held up: by a
    callback running long, or by waiting for the GIL that a worker thread holds.
    """
    late: list[tuple[float, float]] = []
    try:
        while True:
            before = time.monotonic()
            await asyncio.sleep(tick)
            now = time.monotonic()
            if now - before - tick > 0.001:
                late.append((now, now - before - tick))
    except asyncio.CancelledError:
        return late


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def chats(load: Load, per_measure: int, switch_interval: float | None) -> None:
    """Run the real bot against the fake; print other chats' answer times idle and meanwhile."""
    if switch_interval is not None:
        sys.setswitchinterval(switch_interval)
    assistant = Assistant.load()
    plan = assistant.plan
    largest = max(plan.units, key=lambda u: len(plan.duties_of(u.name))).name
    clock = FakeClock(dt.datetime(YEAR, 3, 1, 9, 0, tzinfo=TZ))
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        async with await Store.open(db_path, clock) as store:
            count = await fill(store, plan, clock, per_measure)
            await store.members.bind(f"tg:{MEMBER}", "联络员", largest, f"tg:{COORDINATOR}")
            await store.users.upsert(f"tg:{MEMBER}", "联络员", private_chat=True)
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        fake = ctx.Process(target=drive, args=(child, load), daemon=True)
        fake.start()
        try:
            base_url: str = await loop.run_in_executor(None, parent.recv)
            config = Config(
                telegram_token=TOKEN,
                telegram_base_url=base_url,
                db_path=db_path,
                coordinators=frozenset({f"tg:{COORDINATOR}"}),
            )
            app = build_application(config, assistant, rate_limiter=False)
            # Each user asks faster than a person would: the throttle would (rightly) slow them.
            core_of(app.bot_data).throttle = Throttle(burst=10**9)
            async with app:  # run_polling's order, hooks included
                if app.post_init is not None:
                    await app.post_init(app)
                await app.start()
                assert app.updater is not None
                await app.updater.start_polling(poll_interval=0, timeout=dt.timedelta(seconds=1))
                parent.send("go")
                watch = asyncio.create_task(stalls())
                result: dict[str, Any] = await loop.run_in_executor(None, parent.recv)
                watch.cancel()
                result["stalls"] = await watch
                await app.updater.stop()
                await app.stop()
                if app.post_stop is not None:
                    await app.post_stop(app)
            if app.post_shutdown is not None:
                await app.post_shutdown(app)
            parent.send("stop")
        finally:
            fake.join(timeout=10)
            if fake.is_alive():
                fake.kill()
    _print_chats(load, result, count, largest, switch_interval)


def _print_chats(
    load: Load, result: dict[str, Any], notes: int, largest: str, switch: float | None
) -> None:
    samples: dict[str, list[float]] = result["samples"]
    idle = samples.get("idle before", []) + samples.get("idle after", [])
    during = samples.get("renders", [])
    start, end = result["window"]
    interval = sys.getswitchinterval() if switch is None else switch
    print(
        f"{notes} notes; {load.users} users asking about every {load.think:.2f} s; "
        f"{load.renders} renders (coordinator: /progress 2024, /report 全部 2024; member of "
        f"{largest}: /report 2024); GIL switch interval {interval * 1000:g} ms"
    )
    for label, values in (
        ("idle (before and after)", idle),
        (f"during the renders ({end - start:.1f} s)", during),
    ):
        print(
            f"{label:<34} {len(values):>5} answers   p50 {_percentile(values, 0.5) * 1000:7.1f}"
            f" ms   p99 {_percentile(values, 0.99) * 1000:7.1f} ms"
            f"   max {max(values) * 1000:7.1f} ms"
        )
    ratio = _percentile(during, 0.99) / _percentile(idle, 0.99)
    verdict = "met" if ratio <= 2 else "MISSED"
    print(f"p99 during / idle: {ratio:.2f} (target ≤ 2: {verdict})")
    inside = [late for at, late in result["stalls"] if start <= at <= end]
    outside = [
        late for at, late in result["stalls"] if any(a <= at <= b for a, b in result["idle"])
    ]
    for label, stalled in (("idle", outside), ("during the renders", inside)):
        print(
            f"bot's event loop {label}: {len(stalled)} wake-ups over 1 ms late, "
            f"longest {max(stalled, default=0) * 1000:.0f} ms, "
            f"{sum(stalled) * 1000:.0f} ms in all"
        )
    kinds: dict[str, list[float]] = {}
    for command, seconds in result["renders"]:
        kinds.setdefault(command, []).append(seconds)
    for command, times in kinds.items():
        print(
            f"render {command:<18} first {result['first'][command]:5.2f} s   "
            f"{len(times):>2} meanwhile: median {statistics.median(times):5.2f} s   "
            f"worst {max(times):5.2f} s"
        )


def _questions() -> tuple[str, ...]:
    if DEV.exists():
        with DEV.open(encoding="utf-8") as rows:
            return tuple(json.loads(row)["q"] for row in rows)
    return QUESTIONS


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--notes", type=int, default=3, help="notes per measure and unit")
    parser.add_argument("--chats", action="store_true", help="other chats' answers meanwhile")
    parser.add_argument("--users", type=int, default=20, help="--chats: users asking")
    parser.add_argument("--renders", type=int, default=20, help="--chats: renders meanwhile")
    parser.add_argument("--idle", type=float, default=10.0, help="--chats: seconds idle")
    parser.add_argument("--think", type=float, default=0.25, help="--chats: seconds between")
    parser.add_argument(
        "--switch-interval", type=float, help="--chats: the bot's sys.setswitchinterval"
    )
    args = parser.parse_args()
    if args.chats:
        # Errors only: the bot's start-up notes (reminders past their date …) are not the bench's.
        logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
        load = Load(args.users, args.renders, args.idle, args.think, _questions())
        asyncio.run(chats(load, args.notes, args.switch_interval))
    else:
        asyncio.run(main(args.rounds, args.notes))

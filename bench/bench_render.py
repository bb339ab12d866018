"""Year-end renders: the largest unit's report (.docx) and the progress picture (PNG).

Run: .venv/bin/python bench/bench_render.py [--rounds 10] [--notes 3]

A fresh SQLite file gets, for 2024, --notes notes of 300 characters on every measure of
every unit except the last measure of each (so every report has both notes and gaps). Timed,
as the bot would run them (reading the store, rendering in a worker thread):
- the report of the unit with the most measures, and the committee's report (全部);
- the progress picture.
Printed: the imports (python-docx; matplotlib and the font), then per render the first call
in the process (Word template, glyph caches) and the median and worst of --rounds more.
Targets: picture ≤ 1.5 s, report ≤ 1 s for the largest unit.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.clock import TZ  # noqa: E402
from bot.plan import Plan, load_plan  # noqa: E402
from bot.store import Store  # noqa: E402
from tests.fakes.clock import FakeClock  # noqa: E402

YEAR = 2024
TEXT = ("今年组织专场招聘会，帮助残疾人实现就业，并开展职业技能培训。" * 10)[:300]


async def fill(store: Store, plan: Plan, clock: FakeClock, per_measure: int) -> int:
    """File the year's notes; return how many."""
    count = 0
    for unit in plan.units:
        for measure in plan.duties_of(unit.name)[:-1]:
            for k in range(per_measure):
                await store.add_note(unit.name, measure.id, YEAR, "u1", "联络员", f"{k}{TEXT}")
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
            from bot.report import year_report

            middle = time.perf_counter()
            from bot.heatmap import progress_picture

            print(
                f"imports: bot.report {middle - start:.2f} s, "
                f"bot.heatmap {time.perf_counter() - middle:.2f} s"
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--notes", type=int, default=3, help="notes per measure and unit")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.notes))

"""The web console's pages: p95 per page with 30 units × 31 measures × 5 years × 10 notes.

Run: .venv/bin/python bench/bench_web.py [-n 30]

A fresh SQLite file gets, for each unit of the notice (29) and one more unit's worth of rows,
10 notes on each of the 31 measures in each of 5 reporting years (46,500 notes), a member per
unit and an audit entry per note. The console runs on a real aiohttp server on a free port;
a coordinator (and a member, for their unit's page) fetch each page `n` times over HTTP, one
request at a time. Printed: p50 / p95 / max per page (target p95 ≤ 300 ms on two cores).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.*

from aiohttp import ClientSession  # noqa: E402

from bot.ask.assistant import Assistant  # noqa: E402
from bot.clock import TZ  # noqa: E402
from bot.config import ReminderConfig  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.outcome import Person  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.sqlite import SQLiteDatabase  # noqa: E402
from handlers.web.server import serving  # noqa: E402
from handlers.web.settings import WebSettings  # noqa: E402
from tests.cores import make_core  # noqa: E402
from tests.fakes.clock import FakeClock  # noqa: E402
from tests.web_harness import browser, login_with  # noqa: E402

YEARS = (2020, 2021, 2022, 2023, 2024)
NOTES = 10
COORDINATOR = Person("tg:1", "协调人")


async def fill(store: Store, assistant: Assistant) -> tuple[int, Person]:
    """Write the notes, members and audit entries in one transaction; return the note count."""
    plan = assistant.plan
    units = [u.name for u in plan.units] + ["第三十个单位"]
    at = dt.datetime(2024, 6, 1, tzinfo=TZ).isoformat()
    notes, audit, users = [], [], []
    for index, unit in enumerate(units):
        user = f"tg:{1000 + index}"
        users.append((user, f"联络员{index}", unit))
        for measure in plan.measures:
            for year in YEARS:
                for k in range(NOTES):
                    text = f"{unit}{year}年举措{measure.id}进展第{k + 1}条：" + "落实情况" * 20
                    notes.append((unit, measure.id, year, user, f"联络员{index}", text, at))
                    subject = f"举措 {measure.id}"
                    audit.append((at, user, f"联络员{index}", "note.add", unit, subject))
    assert isinstance(store.db, SQLiteDatabase)
    db = store.db.connection
    await db.execute("BEGIN")
    for user, name, unit in users:
        await db.execute(
            "INSERT INTO users (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (user, name, at, at),
        )
        await db.execute(
            "INSERT INTO members (user_id, name, unit, bound_at, bound_by) VALUES (?, ?, ?, ?, ?)",
            (user, name, unit, at, COORDINATOR.id),
        )
    await db.executemany(
        "INSERT INTO notes (unit, measure_id, year, author_id, author_name, text, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        notes,
    )
    await db.executemany(
        "INSERT INTO audit (at, actor_id, actor_name, action, unit, subject) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        audit,
    )
    await db.execute("COMMIT")
    return len(notes), Person(users[9][0], users[9][1])  # 人社厅's member


async def timed(http: ClientSession, url: str, n: int) -> list[float]:
    """Fetch a page n times; return the times in ms."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        async with http.get(url) as page:
            await page.read()
            assert page.status == 200, (url, page.status)
        times.append((time.perf_counter() - start) * 1000)
    return times


async def logged_in(core: Core, person: Person) -> ClientSession:
    """Return a browser logged in as the person from a /web link."""
    http = browser()
    response = await core.command(person, person.id, "web", "")
    link = response.outcome.reply.header[-1][0].text
    assert (await login_with(http, link)).status == 302
    return http


async def main(n: int) -> None:
    """Fill a database, serve the console, time every page."""
    assistant = Assistant.load()
    clock = FakeClock(dt.datetime(2024, 6, 3, 10, 0, tzinfo=TZ))
    with tempfile.TemporaryDirectory() as folder:
        async with await Store.open(Path(folder) / "bench.db", clock) as store:
            count, member = await fill(store, assistant)
            reminders = ReminderConfig(years=YEARS)
            core = make_core(assistant, store, [COORDINATOR.id], clock, reminders)
            hrss = [u.name for u in assistant.plan.units].index("人力资源社会保障厅")
            pages = {
                "总览": "/?year=2024",
                "格（人社厅 × 任务7）": f"/cell?year=2024&u={hrss}&t=7",
                "单位（人社厅）": f"/unit?year=2024&u={hrss}",
                "成员": "/members",
                "记录": "/audit?year=2024",
                "记录（筛选）": f"/audit?year=2024&action=note&u={hrss}",
                "提醒": "/reminders",
            }
            print(f"{count} 条进展，{len(assistant.plan.units) + 1} 个单位，{len(YEARS)} 个年度")
            print(f"{'页面':<20}{'p50':>9}{'p95':>9}{'max':>9}  (ms, n={n})")
            async with serving(core, WebSettings(port=0)):
                assert core.web_url is not None
                boss, own = await logged_in(core, COORDINATOR), await logged_in(core, member)
                runs = [(name, boss, path) for name, path in pages.items()]
                runs.append(("单位（成员本人）", own, f"/unit?year=2024&u={hrss}"))
                for name, http, path in runs:
                    times = sorted(await timed(http, core.web_url + path, n))
                    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
                    print(
                        f"{name:<20}{statistics.median(times):>9.1f}{p95:>9.1f}{times[-1]:>9.1f}"
                    )
                await boss.close()
                await own.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=30, help="requests per page")
    asyncio.run(main(parser.parse_args().n))

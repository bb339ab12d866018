"""CPU per answered message with the store on PostgreSQL against SQLite (#20; goal ≤ 1.5×).

Run: .venv/bin/python bench/bench_store.py [-n 1000] [--chats 100] [--repeat 3]

bench_e2e.py's "no rate limiter, as deployed" run of our bot, once on a SQLite file and once
on a PostgreSQL server of its own (tests/postgres.py: initdb in a temporary folder, a unix
socket; durable settings, unlike the tests': fsync and synchronous_commit on), back to back in
alternating order. Each question makes the bot read (the person, their flow) and, once per
person, write. Several instances on PostgreSQL take Telegram's updates by webhook: each is
stored in the inbox (bot/inbox.py) and handled from it under its chat's lease, as
handlers/telegram/webhook.py does; so the updates polled here go the same way, on both stores
(`--polling`: handed to the handlers directly, as one instance polling does).

SQLite's work is in the bot's process; PostgreSQL's is in the server's processes too: their
CPU over the run (start-up included: a few statements) is added, read from /proc. Printed:
answered messages per second, the bot's CPU per message, the server's, and their sum against
SQLite's.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import statistics
import sys
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench_e2e import QUESTIONS, AnyApp, Intake, Result, check, measure, our_bot  # noqa: E402
from telegram import Update  # noqa: E402

from bot.ask.assistant import Assistant  # noqa: E402
from bot.inbox import Inbox  # noqa: E402
from handlers.telegram.processor import UNLIMITED  # noqa: E402
from handlers.telegram.webhook import inbox_of  # noqa: E402
from tests import postgres  # noqa: E402

RUNS = itertools.count()  # the updates' ids start again with each fake: keys of their own


class ThroughInbox(Intake):
    """Each polled update stored in the inbox, then handled from it under its chat's lease:
    what handlers/telegram/webhook.py does with an update POSTed to it."""

    def __init__(self) -> None:
        super().__init__(UNLIMITED)  # the inbox orders each chat's updates
        self.inbox: Inbox | None = None
        self.run = next(RUNS)

    async def open(self, app: AnyApp) -> None:
        """Start the inbox on the open core."""
        self.inbox = inbox_of(app)
        await self.inbox.start()

    async def close(self, app: AnyApp) -> None:
        """Let the inbox finish and give its leases up."""
        assert self.inbox is not None
        await self.inbox.drain(10)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Store the update (the inbox's worker hands it to the application) instead."""
        coroutine.close()  # PTB's own handling of it, never started
        assert isinstance(update, Update)
        assert self.inbox is not None
        chat = update.effective_chat or update.effective_user
        body = json.dumps(update.to_dict())
        key = f"tg:update:{self.run}:{update.update_id}"
        await self.inbox.accept(key, str(chat.id if chat else ""), body)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

TICKS = 100  # clock ticks a second (USER_HZ) in /proc's times


def server_cpu(folder: Path) -> float:
    """CPU seconds the server has used: the postmaster, the backends it reaped, those alive."""
    postmaster = int((folder / "data" / "postmaster.pid").read_text().split()[0])
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        pid, parent = int(entry.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        elif parent == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


async def main(n: int, chats: int, repeat: int, polling: bool) -> None:
    assistant = Assistant.load()
    for question in QUESTIONS:
        assistant.ask(question)
    server = postgres.start(durable=True)
    try:
        await server.admin("CREATE DATABASE bench")
        url = server.url("bench")
        with tempfile.TemporaryDirectory() as tmp:
            intake = None if polling else ThroughInbox
            sqlite = our_bot(assistant, Path(tmp) / "fengong.db", intake=intake)
            pg = our_bot(assistant, Path(tmp) / "unused.db", db_url=url, intake=intake)
            runs: dict[str, list[tuple[Result, float]]] = {"sqlite": [], "postgres": []}
            for i in range(repeat):
                order = [("sqlite", sqlite), ("postgres", pg)]
                for name, build in order if i % 2 == 0 else order[::-1]:
                    before = server_cpu(server.folder)
                    result = await measure(build, n, chats, False, 1)
                    check(name, result, chats)
                    spent = server_cpu(server.folder) - before if name == "postgres" else 0.0
                    runs[name].append((result, 1000 * spent / n))
    finally:
        server.stop()
    base = statistics.median(r.cpu_ms for r, _ in runs["sqlite"])
    how = "polled, handled directly" if polling else "through the inbox, under leases"
    print(f"{n} questions from {chats} chats ({how}), medians of {repeat} runs each\n")
    print(f"{'store':<10} {'msg/s':>6} {'bot CPU ms':>11} {'db CPU ms':>10} {'sum':>6}  × SQLite")
    for name, results in runs.items():
        rate = statistics.median(r.rate for r, _ in results)
        bot = statistics.median(r.cpu_ms for r, _ in results)
        db = statistics.median(d for _, d in results)
        total = bot + db
        print(
            f"{name:<10} {rate:>6.0f} {bot:>11.2f} {db:>10.2f} {total:>6.2f} {total / base:>9.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="questions per run (default 1000)")
    parser.add_argument("--chats", type=int, default=100, help="private chats (default 100)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per store (default 3)")
    parser.add_argument(
        "--polling", action="store_true", help="updates handed over directly, not by the inbox"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(main(args.n, args.chats, args.repeat, args.polling))

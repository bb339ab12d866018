"""End-to-end throughput: our bot against a bare python-telegram-bot echo bot, same conditions.

Run: .venv/bin/python bench/bench_e2e.py [-n 2000] [--chats 200] [--limited-n 300]

N questions from many private chats are queued on a fake Bot API server (tests/fakes/bot_api.py)
before the bot starts polling; the clock runs from start_polling until the fake has recorded N
successful replies. The same N messages go to an echo bot (one MessageHandler replying the
text) on another fake instance. Each fake runs in a child process of its own, so that the
figures are the bots' work (plus real HTTP), not the fake's HTML parsing.

Printed per variant: answered messages per second for both, the ratio ours/echo (target
≥ 0.7), and the bots' CPU milliseconds per message. Variants:

* no rate limiter, one update at a time (the bot's configuration, minus the limiter);
* no rate limiter, concurrent_updates=64 for both;
* AIORateLimiter(max_retries=5) for both, as the bot runs in production. It caps sends at
  30 per second overall, so both bots measure the limiter: --limited-n questions suffice.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dtm
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

os.environ.setdefault("PTB_TIMEDELTA", "true")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.fakes

from telegram import Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.assistant import Assistant  # noqa: E402
from bot.config import Config  # noqa: E402
from handlers.telegram.app import build_application  # noqa: E402
from tests.fakes.bot_api import FakeBotApi  # noqa: E402

TOKEN = "123:ABC"
FIRST_CHAT = 10_001
QUESTIONS = (
    "人社厅负责哪些任务？",
    "盲人按摩归谁管？",
    "残疾人大学生就业有哪些措施？",
    "第8项任务",
    "7.2",
    "教育厅 职业教育",
    "省残联负责哪些任务",
    "今天天气怎么样",
    "/task 5",
    "/unit 教育厅",
    "/find 托养",
    "/help",
    "税收优惠由谁负责",
    "第十项任务",
    "/start",
    "省卫生健康委",
)

AnyApp = Application[Any, Any, Any, Any, Any, Any]


# --------------------------------------------------------------------------------------------
# The fake, in a child process
# --------------------------------------------------------------------------------------------


def serve(conn: Connection, n: int, chats: int) -> None:
    """Child process: queue N questions on a fake, report when N replies were recorded."""
    asyncio.run(_serve(conn, n, chats))


async def _serve(conn: Connection, n: int, chats: int) -> None:
    loop = asyncio.get_running_loop()
    async with FakeBotApi(token=TOKEN) as api:
        for i in range(n):
            api.send_text(FIRST_CHAT + i % chats, QUESTIONS[i % len(QUESTIONS)])
        conn.send(api.base_url)
        cpu = time.process_time()
        done_at = await _answered(api, n)
        conn.send({"done_at": done_at, "cpu": time.process_time() - cpu})
        await loop.run_in_executor(None, conn.recv)  # until the bot has stopped
        sends = api.calls_of("sendMessage")
        conn.send(
            {
                "answered": sum(c.ok for c in sends),
                "failed": sum(not c.ok for c in sends),
                "chats": len({c.params.get("chat_id") for c in sends}),
            }
        )


async def _answered(api: FakeBotApi, n: int) -> float:
    """Wait until N sendMessage calls succeeded; return the time of the check that saw it."""
    index = answered = 0
    while True:
        calls = api.calls
        while index < len(calls):
            call = calls[index]
            if call.method == "sendMessage":
                if call.status is None:
                    break  # still being answered
                answered += call.ok
            index += 1
        if answered >= n:
            return time.monotonic()
        # Scanning only new calls every 2 ms costs the fake next to nothing.
        await asyncio.sleep(0.002)


# --------------------------------------------------------------------------------------------
# The bots
# --------------------------------------------------------------------------------------------


def echo_bot(base_url: str, limiter: bool, concurrent: int) -> AnyApp:
    """A bare python-telegram-bot echo bot: one MessageHandler replying the text."""

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.text:
            await message.reply_text(message.text)

    builder = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(base_url)
        .concurrent_updates(concurrent if concurrent > 1 else False)
    )
    app: AnyApp = (
        builder.rate_limiter(AIORateLimiter(max_retries=5)).build() if limiter else builder.build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


def our_bot(assistant: Assistant) -> Callable[[str, bool, int], AnyApp]:
    def build(base_url: str, limiter: bool, concurrent: int) -> AnyApp:
        config = Config(telegram_token=TOKEN, telegram_base_url=base_url)
        return build_application(
            config,
            assistant,
            rate_limiter=limiter,
            concurrent_updates=concurrent if concurrent > 1 else False,
        )

    return build


@dataclass
class Result:
    n: int
    seconds: float
    cpu: float  # the bot's process, during the run
    server_cpu: float
    answered: int
    failed: int
    chats: int

    @property
    def rate(self) -> float:
        return self.n / self.seconds

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.n


async def measure(
    build: Callable[[str, bool, int], AnyApp], n: int, chats: int, limiter: bool, concurrent: int
) -> Result:
    """Answer N queued questions with a bot built by `build`; time it."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=serve, args=(child, n, chats), daemon=True)
    server.start()
    loop = asyncio.get_running_loop()
    try:
        base_url: str = await loop.run_in_executor(None, parent.recv)
        app = build(base_url, limiter, concurrent)
        async with app:
            await app.start()
            assert app.updater is not None
            cpu = time.process_time()
            started = time.monotonic()
            await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))
            done: dict[str, float] = await loop.run_in_executor(None, parent.recv)
            cpu = time.process_time() - cpu
            await app.updater.stop()
            await app.stop()
        parent.send("stop")
        totals: dict[str, int] = await loop.run_in_executor(None, parent.recv)
    finally:
        server.join(timeout=10)
        if server.is_alive():
            server.kill()
    return Result(
        n=n,
        seconds=done["done_at"] - started,
        cpu=cpu,
        server_cpu=done["cpu"],
        **totals,
    )


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def row(label: str, ours: Result, echo: Result) -> str:
    ratio = ours.rate / echo.rate
    verdict = "ok" if ratio >= 0.7 else "BELOW 0.7"
    return (
        f"{label:<34} {ours.n:>5} {ours.rate:>9.0f} {echo.rate:>9.0f} {ratio:>6.2f} {verdict:<9}"
        f" {ours.cpu_ms:>7.2f} {echo.cpu_ms:>7.2f}"
    )


def check(label: str, result: Result, chats: int) -> None:
    if result.answered != result.n or result.failed or result.chats != min(chats, result.n):
        raise SystemExit(
            f"{label}: {result.answered} answered, {result.failed} refused, {result.chats} chats"
            f" for {result.n} questions: the bench is wrong"
        )


async def main(n: int, chats: int, limited_n: int, repeat: int) -> None:
    assistant = Assistant.load()
    for question in QUESTIONS:  # steady state: nothing left to compile or cache
        assistant.ask(question)
    ours = our_bot(assistant)
    variants = [
        ("no rate limiter, one at a time", n, False, 1),
        ("no rate limiter, concurrent 64", n, False, 64),
        ("AIORateLimiter (30 msg/s), one at a time", limited_n, True, 1),
    ]
    print(
        f"{n} questions ({len(QUESTIONS)} kinds) over {chats} private chats; each bot polls its "
        "own fake Bot API server in a child process; best of "
        f"{repeat}.\n"
    )
    header = (
        f"{'variant':<34} {'N':>5} {'ours/s':>9} {'echo/s':>9} {'ratio':>6} {'':<9}"
        f" {'ours ms':>7} {'echo ms':>7}"
    )
    print(header)
    print("-" * len(header))
    for label, count, limiter, concurrent in variants:
        best: dict[str, Result] = {}
        for _ in range(repeat):
            for name, build in (("echo", echo_bot), ("ours", ours)):
                result = await measure(build, count, chats, limiter, concurrent)
                check(f"{label} ({name})", result, chats)
                if name not in best or result.rate > best[name].rate:
                    best[name] = result
        print(row(label[:34], best["ours"], best["echo"]), flush=True)
    print(
        "\nmsg/s: answered messages per second, from start_polling to the N-th reply recorded."
        "\nms: the bot process's CPU milliseconds per message (handlers, PTB, HTTP client)."
        "\nWith the rate limiter both bots are held to ~30 msg/s: that ratio shows the limiter,"
        " not our overhead."
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="questions per run (default 2000)")
    parser.add_argument("--chats", type=int, default=200, help="private chats (default 200)")
    parser.add_argument(
        "--limited-n",
        type=int,
        default=300,
        help="questions for the rate-limited runs (default 300: ~10 s each at 30 msg/s)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per bot, best kept")
    return parser


if __name__ == "__main__":
    args = _parser().parse_args()
    asyncio.run(main(args.n, args.chats, args.limited_n, args.repeat))

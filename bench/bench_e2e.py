"""End-to-end throughput: our bot against a bare python-telegram-bot echo bot, same conditions.

Run: .venv/bin/python bench/bench_e2e.py [-n 2000] [--chats 200] [--limited-n 300]
(about three minutes with the defaults)

N questions from many private chats are queued on a fake Bot API server (tests/fakes/bot_api.py)
before the bot starts polling; the clock runs from start_polling until the fake has recorded N
successful replies. The same N messages go to an echo bot (one MessageHandler replying the
text) on another fake instance. Each fake runs in a child process of its own, so that its work
(parsing the bot's HTML …) is not counted as the bot's CPU; the bot still waits for the fake's
answer to each send, as it would for Telegram's.

Printed per variant: answered messages per second for both, the ratio ours/echo (target
≥ 1.0; the median of back-to-back pairs, as this machine's speed drifts), and the CPU
milliseconds per message of the bots and of their fakes. The echo bot is python-telegram-bot
as it comes (one update at a time, httpx's own connection pool). Variants:

* no rate limiter, as deployed: our bot as build_application makes it (chats concurrently,
  each in order; Bot API calls over aiohttp), minus the limiter;
* the same, but on python-telegram-bot's default HTTP transport, as the echo bot;
* no rate limiter, concurrent_updates=4 and 64 for both (--concurrent);
* the rate limiter our bot runs with in production, for both (each gets a new one configured
  by build_application). It caps sends at about 30 a second, so both bots measure the limiter:
  --limited-n questions suffice.

With the first variant runs a third bot, a bare one sending our bot's exact messages computed
beforehand, as our bot sends them (plain JSON bodies over our transport, handlers/telegram/api.py):
it separates our own work (whatever our handlers do) from what richer messages (HTML entities,
inline keyboards, longer text) cost python-telegram-bot and the fake.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dtm
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

os.environ.setdefault("PTB_TIMEDELTA", "true")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.fakes

from telegram import Update  # noqa: E402
from telegram.constants import ParseMode  # noqa: E402
from telegram.ext import (  # noqa: E402
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    BaseUpdateProcessor,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest  # noqa: E402

from bot.ask.assistant import Assistant  # noqa: E402
from bot.clock import TZ  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.reply import Reply  # noqa: E402
from bot.throttle import Throttle  # noqa: E402
from handlers.telegram import api, render  # noqa: E402
from handlers.telegram import app as app_module  # noqa: E402
from handlers.telegram.app import build_application  # noqa: E402
from handlers.telegram.context import core_of  # noqa: E402
from handlers.telegram.handlers import FAILED  # noqa: E402
from handlers.telegram.transport import MAIN_POOL, UPDATES_POOL, http_request  # noqa: E402
from tests.fakes.bot_api import FakeBotApi  # noqa: E402

TOKEN = "123:ABC"
GOAL = 1.0  # ours / echo (issue 20; it was 0.7)
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
                "apologies": sum(c.params.get("text") == FAILED for c in sends),
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


Build = Callable[[str, bool, int], AnyApp]  # (base URL, rate limiter?, concurrent updates)


class Intake(BaseUpdateProcessor):
    """How updates reach the handlers instead of PTB's processor (bench_store.py's inbox)."""

    async def open(self, app: AnyApp) -> None:
        """Start, once the bot's core is open."""

    async def close(self, app: AnyApp) -> None:
        """Finish what was received, before the core closes."""


def our_limiter(assistant: Assistant) -> BaseRateLimiter[Any]:
    """A new rate limiter configured exactly as our bot's (taken from a bot never started)."""
    limiter: BaseRateLimiter[Any] | None = build_application(
        Config(telegram_token=TOKEN), assistant
    ).bot.rate_limiter
    assert limiter is not None
    return limiter


def _bare(
    base_url: str,
    limiter: BaseRateLimiter[Any] | None,
    concurrent: int,
    defaults: Defaults | None,
    our_transport: bool = False,
) -> AnyApp:
    builder = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(base_url)
        .concurrent_updates(concurrent if concurrent > 1 else False)
    )
    if defaults is not None:
        builder = builder.defaults(defaults)
    if our_transport:
        builder = builder.request(http_request(MAIN_POOL)).get_updates_request(
            http_request(UPDATES_POOL)
        )
    app: AnyApp = builder.rate_limiter(limiter).build() if limiter else builder.build()
    return app


def echo_bot(assistant: Assistant) -> Build:
    """A bare python-telegram-bot echo bot: one MessageHandler replying the text."""

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.text:
            await message.reply_text(message.text)

    def build(base_url: str, limiter: bool, concurrent: int) -> AnyApp:
        app = _bare(base_url, our_limiter(assistant) if limiter else None, concurrent, None)
        app.add_handler(MessageHandler(filters.TEXT, echo))
        return app

    return build


def replay_bot(assistant: Assistant) -> Build:
    """A bare bot sending, for each question, our bot's very message, computed beforehand.

    It does what our bot does minus our own work (whatever our handlers do): update in,
    handlers/telegram/api.py's send out, over our transport.
    """
    commands: dict[str, Callable[[str], Reply]] = {
        "start": lambda _: assistant.welcome(),
        "help": lambda _: assistant.help(),
        "unit": assistant.unit,
        "task": assistant.task,
        "find": assistant.find,
    }
    answers: dict[str, tuple[render.Shown, str | None]] = {}
    for question in QUESTIONS:
        if question.startswith("/"):
            command, *args = question[1:].split()
            reply = commands[command](" ".join(args))
        else:
            reply = assistant.ask(question)
        pages = render.pages(reply)
        token = "Tok3n_xy" if len(pages) > 1 else None
        answers[question] = (pages[0], token)

    async def replay(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.text:
            shown, token = answers[message.text]
            await api.send(context.bot, api.reply_to(message), shown, token)  # as ours sends

    def build(base_url: str, limiter: bool, concurrent: int) -> AnyApp:
        defaults = Defaults(parse_mode=ParseMode.HTML, tzinfo=TZ)  # as our bot's
        app = _bare(
            base_url, our_limiter(assistant) if limiter else None, concurrent, defaults, True
        )
        app.add_handler(MessageHandler(filters.TEXT, replay))
        return app

    return build


def our_bot(
    assistant: Assistant,
    db_path: Path,
    *,
    default_transport: bool = False,
    db_url: str = "",
    intake: Callable[[], Intake] | None = None,
) -> Build:
    """Our bot as build_application makes it; optionally on PTB's default HTTP transport, or
    on the PostgreSQL database `db_url`, its updates handed over by `intake` (bench_store.py)."""

    def build(base_url: str, limiter: bool, concurrent: int) -> AnyApp:
        url = db_url or None
        config = Config(
            telegram_token=TOKEN, telegram_base_url=base_url, db_path=db_path, db_url=url
        )
        through = intake() if intake else None
        with _ptb_transport() if default_transport else contextlib.nullcontext():
            app = build_application(
                config,
                assistant,
                rate_limiter=limiter,
                # One at a time means the production default: chats concurrently, each in order.
                concurrent_updates=through or (concurrent if concurrent > 1 else None),
            )
        opened = app.post_init
        assert opened is not None

        async def post_init(app: AnyApp) -> None:
            await opened(app)  # opens the core
            # Each chat's share of N is queued at once: with more than the per-person burst
            # the throttle would (rightly) drop the rest. It still checks every message.
            core_of(app.bot_data).throttle = Throttle(burst=10**9)
            if through is not None:
                await through.open(app)

        if through is not None:
            app.post_stop = through.close

        app.post_init = post_init
        return app

    return build


@contextlib.contextmanager
def _ptb_transport() -> Iterator[None]:
    """Let build_application make plain HTTPXRequests (httpx's own pool), as PTB would."""
    ours = app_module.http_request
    app_module.http_request = lambda pool_size: HTTPXRequest(connection_pool_size=pool_size)
    try:
        yield
    finally:
        app_module.http_request = ours


@dataclass
class Result:
    n: int
    seconds: float
    cpu: float  # the bot's process, during the run
    server_cpu: float
    answered: int
    failed: int
    apologies: int
    chats: int

    @property
    def rate(self) -> float:
        return self.n / self.seconds

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.n

    @property
    def server_ms(self) -> float:
        return 1000 * self.server_cpu / self.n


async def measure(build: Build, n: int, chats: int, limiter: bool, concurrent: int) -> Result:
    """Answer N queued questions with a bot built by `build`; time it."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=serve, args=(child, n, chats), daemon=True)
    server.start()
    loop = asyncio.get_running_loop()
    try:
        base_url: str = await loop.run_in_executor(None, parent.recv)
        app = build(base_url, limiter, concurrent)
        # run_polling's order, hooks included (the bot opens its database in post_init).
        async with app:
            if app.post_init is not None:
                await app.post_init(app)
            await app.start()
            assert app.updater is not None
            cpu = time.process_time()
            started = time.monotonic()
            await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))
            done: dict[str, float] = await loop.run_in_executor(None, parent.recv)
            cpu = time.process_time() - cpu
            await app.updater.stop()
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
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


def row(label: str, pairs: list[tuple[Result, Result]], judged: bool = True) -> str:
    """One line: medians over the (ours, echo) pairs, the ratio taken pair by pair."""
    ratio = statistics.median(o.rate / e.rate for o, e in pairs)
    verdict = "" if not judged else "ok" if ratio >= GOAL else f"BELOW {GOAL}"

    def med(values: Iterator[float]) -> float:
        return statistics.median(values)

    ours = [o for o, _ in pairs]
    echo = [e for _, e in pairs]
    return (
        f"{label:<30} {ours[0].n:>5} {med(r.rate for r in ours):>7.0f}"
        f" {med(r.rate for r in echo):>7.0f} {ratio:>6.2f} {verdict:<9}"
        f" {med(r.cpu_ms for r in ours):>5.2f} {med(r.cpu_ms for r in echo):>5.2f}"
        f"   {med(r.server_ms for r in ours):>5.2f} {med(r.server_ms for r in echo):>5.2f}"
    )


def check(label: str, result: Result, chats: int) -> None:
    if (
        result.answered != result.n
        or result.failed
        or result.apologies
        or result.chats != min(chats, result.n)
    ):
        raise SystemExit(
            f"{label}: {result.answered} answered ({result.apologies} of them 出错了), "
            f"{result.failed} refused, {result.chats} chats for {result.n} questions"
        )


async def main(n: int, chats: int, limited_n: int, concurrent: list[int], repeat: int) -> None:
    assistant = Assistant.load()
    for question in QUESTIONS:  # steady state: nothing left to compile or cache
        assistant.ask(question)
    variants: list[tuple[str, int, bool, int, str]] = [
        ("no rate limiter, as deployed", n, False, 1, "ours"),
        ("... on PTB's default transport", n, False, 1, "ours-ptb"),
        *((f"no rate limiter, concurrent {c}", n, False, c, "ours") for c in concurrent),
        ("our rate limiter, as deployed", limited_n, True, 1, "ours"),
    ]
    print(
        f"{n} questions ({len(QUESTIONS)} kinds, cycled) from {chats} private chats; each bot "
        f"polls its own fake Bot API server, in a child process; medians of {repeat} runs.\n"
    )
    columns = f"{'variant':<30} {'N':>5} {'ours/s':>7} {'echo/s':>7} {'ratio':>6} {'':<9} "
    header = f"{columns}{'bot CPU ms':>11}   {'fake CPU ms':>11}"
    print(header)
    print(f"{'':<{len(columns)}}{'ours  echo':>11}   {'ours  echo':>11}")
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        bots = {
            "ours": our_bot(assistant, Path(tmp) / "fengong.db"),
            "ours-ptb": our_bot(assistant, Path(tmp) / "fengong.db", default_transport=True),
        }
        echo = echo_bot(assistant)
        replay = replay_bot(assistant)
        replayed: list[tuple[Result, Result]] = []
        for label, count, limiter, level, which in variants:
            ours = bots[which]
            pairs = []
            # The limiter sets both rates: one pair says it all.
            for i in range(1 if limiter else repeat):
                # Back to back, in alternating order: drifts in machine speed hit both alike.
                order = [("echo", echo), ("ours", ours)]
                if which == "ours" and level == 1 and not limiter:
                    order.append(("replay", replay))
                results: dict[str, Result] = {}
                for name, build in order if i % 2 == 0 else order[::-1]:
                    results[name] = await measure(build, count, chats, limiter, level)
                    check(f"{label} ({name})", results[name], chats)
                pairs.append((results["ours"], results["echo"]))
                if "replay" in results:
                    replayed.append((results["ours"], results["replay"]))
            # Under the limiter both bots send at its rate: no verdict on our overhead.
            print(row(label, pairs, judged=not limiter), flush=True)
    if replayed:
        ours_ms = statistics.median(o.cpu_ms for o, _ in replayed)
        replay_ms = statistics.median(r.cpu_ms for _, r in replayed)
        print(
            f"\nOur exact messages sent by a bare bot over our transport, precomputed (one at a"
            f" time, no limiter): "
            f"{statistics.median(r.rate for _, r in replayed):.0f}/s, bot CPU {replay_ms:.2f} ms,"
            f" fake CPU {statistics.median(r.server_ms for _, r in replayed):.2f} ms;\n"
            f"ours / that = {statistics.median(o.rate / r.rate for o, r in replayed):.2f}: our"
            f" own work (everything our handlers do) is {ours_ms - replay_ms:.2f} ms of the"
            f" {ours_ms:.2f} ms a message costs the bot."
        )
    print(
        "\nours/s, echo/s: answered messages per second, from start_polling to the N-th reply"
        " recorded by the fake.\nbot CPU ms: CPU milliseconds per message in the bot's process"
        " (handlers, python-telegram-bot, HTTP client).\nfake CPU ms: the same in the fake"
        " server's process (parsing the bot's HTML, answering).\nOur rate limiter holds both"
        " bots to about 30 messages a second: that ratio shows the limiter, not our\noverhead."
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
    parser.add_argument(
        "--concurrent",
        type=int,
        nargs="*",
        default=[4, 64],
        help="concurrent_updates levels to compare too (default 4 64)",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per bot (default 3); medians are shown"
    )
    return parser


if __name__ == "__main__":
    args = _parser().parse_args()
    # Errors only: the bot's start-up notes (reminders past their date …) are not the bench's.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(main(args.n, args.chats, args.limited_n, args.concurrent, args.repeat))

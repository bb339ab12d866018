"""The Telegram application: built once here; run by long polling here, by webhook in run.py."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
from collections.abc import Iterator
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    Defaults,
)

from bot import offload
from bot.ask.assistant import Assistant
from bot.clock import TZ, Clock, system_clock
from bot.commands import menu
from bot.config import Config, ConfigError
from bot.core import Core
from bot.office import RENDERERS
from bot.scheduler import INTERVAL, Scheduler
from handlers.telegram.context import BotContext, attach, core_of, has_core
from handlers.telegram.handlers import register
from handlers.telegram.pace import SharedRateLimiter
from handlers.telegram.processor import PerChatProcessor
from handlers.telegram.sender import PREFIX, Sender
from handlers.telegram.transport import MAIN_POOL, UPDATES_POOL, http_request
from handlers.web.server import serve_beside
from handlers.web.settings import WebSettings

logger = logging.getLogger(__name__)

App = Application[Any, BotContext, Any, Any, Any, Any]

# Messages per second overall, evenly spaced. Telegram allows about 30 a second; the
# limiter's default (30 per second) is a bucket that lets 30 go at once and then 30 a second,
# up to 60 within one second: during a reminder fan-out that earns 429s, and every 429 pauses
# all sending for a second. One message every 1/29 s never puts 30 in any one second.
SEND_RATE = 29.0
_OWN = "own core"


# The last path segment of a Bot API base URL: "bot", or "bot{token}" (PTB fills placeholders).
_BOT_SEGMENT = re.compile(r"(?P<head>.*)/bot(?P<token>\{[\w-]+\})?")


def api_url(base_url: str) -> str:
    """Normalise TELEGRAM_API_BASE_URL: PTB appends the token, so no trailing slash."""
    return base_url.rstrip("/")


def file_url(base_url: str) -> str:
    """Derive the file endpoint from a Bot API base URL (…/bot -> …/file/bot).

    Only a last path segment "bot" (or "bot{token}") is recognised; any other URL is returned
    unchanged, as there is no file endpoint to derive from it.
    """
    base = api_url(base_url)
    match = _BOT_SEGMENT.fullmatch(base)
    if match is None:
        return base
    return f"{match['head']}/file/bot{match['token'] or ''}"


class _QuietStop(logging.Filter):
    """Makes the updater's failed last getUpdates at stop one warning, without a traceback.

    At stop python-telegram-bot calls getUpdates once more to confirm what it fetched; when
    that fails (a timeout) it logs an error with a traceback, though nothing went wrong: at
    worst the last few updates are fetched, and answered, again after a restart.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the cleanup error; pass every other record as it is."""
        if str(record.msg).startswith("Error while calling `get_updates` one more time"):
            error = record.exc_info[1] if record.exc_info else None
            record.msg = "停止时未能确认最后取到的更新（%r），重启后可能再收到一次。"
            record.args = (error,)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


_UPDATER_LOG = logging.getLogger("telegram.ext.Updater")
_UPDATER_LOG.addFilter(_QuietStop())


def _quiet_lost_polls(loop: asyncio.AbstractEventLoop) -> None:
    """Make a Bot API error nobody awaited one warning line instead of an asyncio traceback.

    When the bot stops while a getUpdates fails (a timeout), python-telegram-bot leaves that
    poll's task unawaited, and asyncio logs its exception as an error with a traceback.
    """
    previous = loop.get_exception_handler()
    if getattr(previous, "__qualname__", "").startswith(_quiet_lost_polls.__name__):
        return  # installed already (a restart on the same loop)

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if isinstance(error, TelegramError) and "never retrieved" in context.get("message", ""):
            logger.warning("停止时丢弃了一次未完成的 Telegram 请求：%r", error)
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)


def build_application(
    config: Config,
    assistant: Assistant | None = None,
    *,
    core: Core | None = None,
    rate_limiter: bool = True,
    concurrent_updates: bool | int | BaseUpdateProcessor | None = None,
    clock: Clock = system_clock,
    reminder_interval: float = INTERVAL,
    send_rate: float = SEND_RATE,
) -> App:
    """Build the Application with its defaults and handlers, serving `core` or its own.

    Without `core` the application opens one at start (with the reminder scheduler) and closes
    it at shutdown; with one, whoever opened it runs its scheduler and closes it (several
    channels in one process). The other keywords are for tests and benchmarks; by default the
    bot runs with the rate limiter and handles chats concurrently, each chat's updates in order
    (PerChatProcessor): with Telegram's round trips, one update at a time would keep everyone
    waiting.
    """
    if not config.telegram_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(config.telegram_token)
        .context_types(ContextTypes(context=BotContext))
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=TZ))
        .concurrent_updates(
            PerChatProcessor() if concurrent_updates is None else concurrent_updates
        )
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .request(http_request(MAIN_POOL))
        .get_updates_request(http_request(UPDATES_POOL))
    )
    if rate_limiter:
        # Retries on 429 after the retry_after Telegram asks for, so no reply is dropped. The
        # rate is per bot: with other instances on the database, theirs too (pace.py).
        limiter = (
            SharedRateLimiter(core.store.leases, send_rate, max_retries=5)
            if core is not None and core.store.several_instances
            else AIORateLimiter(
                overall_max_rate=1, overall_time_period=1 / send_rate, max_retries=5
            )
        )
        builder = builder.rate_limiter(limiter)
    if config.telegram_base_url:
        builder = builder.base_url(api_url(config.telegram_base_url)).base_file_url(
            file_url(config.telegram_base_url)
        )
    app: App = builder.build()
    if core is None:
        app.bot_data[_OWN] = _Own(config, assistant, clock, reminder_interval)
    else:
        attach(app.bot_data, core)
    register(app)
    return app


class _Own:
    """What an application that opens its own core needs to open it, and then holds."""

    def __init__(
        self, config: Config, assistant: Assistant | None, clock: Clock, interval: float
    ) -> None:
        self.config, self.assistant, self.clock, self.interval = config, assistant, clock, interval
        self.scheduler: Scheduler | None = None


async def _post_init(app: App) -> None:
    _quiet_lost_polls(asyncio.get_running_loop())
    own: _Own | None = app.bot_data.get(_OWN)
    if own is not None:
        core = await Core.open(own.config, own.assistant, own.clock)
        attach(app.bot_data, core)
    core = core_of(app.bot_data)
    bot, sender = app.bot, Sender(app.bot)
    core.router.add(
        PREFIX,
        sender,
        send_parts=sender.send_parts,
        invite_link=lambda code: f"https://t.me/{bot.username}?start={code}",
    )
    await bot.set_my_commands([BotCommand(c.name, c.summary) for c in menu()])
    logger.info("已连接 Telegram：@%s", bot.username)
    if own is not None:
        own.scheduler = Scheduler(core, own.interval)
        own.scheduler.start()


async def _post_shutdown(app: App) -> None:
    own: _Own | None = app.bot_data.get(_OWN)
    if own is None:
        core_of(app.bot_data).router.remove(PREFIX)
        return
    if own.scheduler is not None:
        await own.scheduler.stop()
    if has_core(app.bot_data):  # post_init may have failed before opening it
        await core_of(app.bot_data).close()


def scheduler_of(app: App) -> Scheduler | None:
    """Return the reminder scheduler of an application that runs its own core."""
    own: _Own | None = app.bot_data.get(_OWN)
    return own.scheduler if own else None


class _QuietStart(logging.Filter):
    """Drop python-telegram-bot's start-up retry report: its traceback runs to ~130 lines,
    and the ConfigError raised instead says the cause in one Chinese line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Network Retry Loop (Bootstrap")


def _cause(error: BaseException) -> str:
    """Name what lies under a network error: a failed DNS lookup, a refusal, or a timeout."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, socket.gaierror) or "DNS" in type(seen).__name__:
            return "找不到 Telegram 服务器的地址（域名解析失败）：请检查网络和 DNS 设置"
        if isinstance(seen, ConnectionRefusedError):
            return "Telegram 服务器拒绝连接：请检查 TELEGRAM_API_BASE_URL 的地址和端口"
        seen = seen.__cause__ or seen.__context__
    if isinstance(error, TimedOut):
        return "连接 Telegram 超时：请检查网络"
    return f"连接不上 Telegram（{error.message}）：请检查网络" if isinstance(
        error, NetworkError
    ) else "连接不上 Telegram：请检查网络"


@contextlib.contextmanager
def start_errors() -> Iterator[None]:
    """Turn Telegram refusing the token, or not answering, into a ConfigError saying why."""
    quiet = _QuietStart()
    logging.getLogger("telegram.ext").addFilter(quiet)
    try:
        yield
    except InvalidToken as e:
        raise ConfigError("Telegram 不接受 TELEGRAM_BOT_TOKEN：请向 @BotFather 核对令牌。") from e
    except NetworkError as e:
        raise ConfigError(
            f"{_cause(e)}；需要代理时设置 HTTPS_PROXY；"
            "使用自建 Bot API 服务器时检查 TELEGRAM_API_BASE_URL。"
        ) from e
    finally:
        logging.getLogger("telegram.ext").removeFilter(quiet)


def run_telegram(
    config: Config, web: WebSettings | None = None, reminder_interval: float = INTERVAL
) -> None:
    """Run the bot by long polling until stopped (the webhook runs in handlers/run.py).

    Raises ConfigError, with what to check, when Telegram refuses the token or cannot be
    reached at start-up (later network errors are retried while the bot runs).
    """
    app = build_application(config, reminder_interval=reminder_interval)
    if web is not None:  # the web console, on the app's own core
        serve_beside(app, web, lambda: core_of(app.bot_data))
    offload.prepare(*RENDERERS)  # the first /report or /progress picture then only renders
    # Our own loop, which python-telegram-bot runs on and we close after it.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        with start_errors():
            _run(app, config, loop)
    finally:
        _settle(app, loop)
        # python-telegram-bot shuts down only a bot that started: close the HTTP client
        # opened by a failed start (getMe is the only call made before then).
        loop.run_until_complete(app.bot.request.shutdown())
        loop.close()


def _settle(app: App, loop: asyncio.AbstractEventLoop) -> None:
    """Finish what a stop signal during start-up left running: post_init's task, which may be
    opening the database. Left pending, it would open it after the shutdown (or fail on the
    closed loop), and the database's thread would outlive the loop."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    own: _Own | None = app.bot_data.get(_OWN)
    if own is not None and has_core(app.bot_data):
        # Attached after post_shutdown ran: close it (closing twice is harmless).
        if own.scheduler is not None:
            loop.run_until_complete(own.scheduler.stop())
        loop.run_until_complete(core_of(app.bot_data).close())


def _run(app: App, config: Config, loop: asyncio.AbstractEventLoop) -> None:
    # Pending updates are kept across restarts: questions asked while the bot was down
    # are answered when it comes back. (A webhook runs in handlers/run.py, beside /healthz.)
    app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False, close_loop=False)

"""The Telegram application: built once here, run by long polling or a webhook."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    Defaults,
)

from bot import redact
from bot.assistant import Assistant
from bot.clock import TZ, Clock, system_clock
from bot.commands import menu
from bot.config import Config, ConfigError
from handlers.telegram import webhook
from handlers.telegram.context import BotContext, Services, attach, services_of
from handlers.telegram.handlers import register
from handlers.telegram.processor import PerChatProcessor
from handlers.telegram.sender import Sender
from handlers.telegram.transport import MAIN_POOL, UPDATES_POOL, http_request

logger = logging.getLogger(__name__)

App = Application[Any, BotContext, Any, Any, Any, Any]

REMINDER_INTERVAL = 60.0  # seconds between checks for due reminders
# Messages per second overall, evenly spaced. Telegram allows about 30 a second; the
# limiter's default (30 per second) is a bucket that lets 30 go at once and then 30 a second,
# up to 60 within one second: during a reminder fan-out that earns 429s, and every 429 pauses
# all sending for a second. One message every 1/29 s never puts 30 in any one second.
SEND_RATE = 29.0
_REMINDER_INTERVAL = "reminder_interval"


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
    rate_limiter: bool = True,
    concurrent_updates: bool | int | BaseUpdateProcessor | None = None,
    clock: Clock = system_clock,
    reminder_interval: float = REMINDER_INTERVAL,
) -> App:
    """Build the Application with its defaults, services and handlers.

    The keywords are for tests and benchmarks; by default the bot runs with the rate limiter
    and handles chats concurrently, each chat's updates in order (PerChatProcessor): with
    Telegram's network round trips, one update at a time would keep everyone waiting.
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
        # Retries on 429 after the retry_after Telegram asks for, so no reply is dropped.
        builder = builder.rate_limiter(
            AIORateLimiter(overall_max_rate=1, overall_time_period=1 / SEND_RATE, max_retries=5)
        )
    if config.telegram_base_url:
        builder = builder.base_url(api_url(config.telegram_base_url)).base_file_url(
            file_url(config.telegram_base_url)
        )
    app: App = builder.build()
    attach(app.bot_data, Services(config, assistant or Assistant.load(config.data_dir), clock))
    app.bot_data[_REMINDER_INTERVAL] = reminder_interval
    register(app)
    return app


async def _post_init(app: App) -> None:
    _quiet_lost_polls(asyncio.get_running_loop())
    services = services_of(app.bot_data)
    await services.open()
    await app.bot.set_my_commands([BotCommand(c.name, c.summary) for c in menu()])
    logger.info("已连接 Telegram：@%s", app.bot.username)
    logger.info(services.reminders.describe_schedule())
    if app.job_queue is not None:
        # Checked at once, to catch up after downtime, then every minute: the schedule and
        # what was already sent live in the database, so a restart neither misses nor doubles.
        # A separate job for the first check: APScheduler skips a repeating job's start time
        # that is already past when the scheduler starts (first=0 would mean a minute's wait).
        interval = app.bot_data[_REMINDER_INTERVAL]
        app.job_queue.run_once(
            reminder_tick,
            when=0,
            name="reminders at start",
            job_kwargs={"misfire_grace_time": None},  # however long the start takes
        )
        app.job_queue.run_repeating(
            reminder_tick, interval=interval, first=interval, name="reminders"
        )
        # Notices recorded with a decision but not sent (the bot stopped in between).
        app.job_queue.run_once(
            notices_at_start,
            when=0,
            name="notices at start",
            job_kwargs={"misfire_grace_time": None},
        )


async def _post_shutdown(app: App) -> None:
    await services_of(app.bot_data).close()


async def reminder_tick(context: BotContext) -> None:
    """Send the reminders and summaries that are due (a JobQueue job)."""
    sent = await context.services.reminders.tick(Sender(context.bot))
    for key in sent:
        logger.info("已发送提醒 %s", key)


async def notices_at_start(context: BotContext) -> None:
    """Send the notices still owed from before the last stop (a JobQueue job)."""
    membership = context.services.office.membership
    for missed in await membership.send_pending_notices(Sender(context.bot)):
        logger.warning("通知未能送达用户 %s", missed)


def run_telegram(config: Config) -> None:
    """Run the bot until stopped: a webhook when TELEGRAM_WEBHOOK_URL is set, else polling.

    Raises ConfigError, with what to check, when Telegram refuses the token or cannot be
    reached at start-up (later network errors are retried while the bot runs).
    """
    app = build_application(config)
    # Our own loop, which python-telegram-bot runs on and we close after it.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        _run(app, config, loop)
    except InvalidToken as e:
        raise ConfigError("Telegram 不接受 TELEGRAM_BOT_TOKEN：请向 @BotFather 核对令牌。") from e
    except NetworkError as e:
        raise ConfigError(
            f"连接不上 Telegram（{e.message}）：请检查网络；需要代理时设置 HTTPS_PROXY；"
            "使用自建 Bot API 服务器时检查 TELEGRAM_API_BASE_URL。"
        ) from e
    finally:
        # python-telegram-bot shuts down only a bot that started: close the HTTP client
        # opened by a failed start (getMe is the only call made before then).
        loop.run_until_complete(app.bot.request.shutdown())
        loop.close()


def _run(app: App, config: Config, loop: asyncio.AbstractEventLoop) -> None:
    # Pending updates are kept across restarts: questions asked while the bot was down
    # are answered when it comes back.
    if config.webhook_url:
        # Our own server rather than app.run_webhook: it also answers GET /healthz.
        secret = config.webhook_secret or secrets.token_urlsafe(32)
        redact.add_secret(secret)
        loop.run_until_complete(webhook.serve(app, config, secret))
    else:
        app.run_polling(
            allowed_updates=Update.ALL_TYPES, drop_pending_updates=False, close_loop=False
        )

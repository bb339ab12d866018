"""Starting the bot on the channels its settings name (`python -m bot run`, `make run`).

WECOM_* set → WeCom; TELEGRAM_BOT_TOKEN set → Telegram; both → both in one process, on one
core and one reminder scheduler; neither → the terminal chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import secrets
import signal
import stat
import sys
from collections.abc import AsyncIterator, Mapping

from telegram import Update

from bot import offload, redact
from bot.ask.assistant import Assistant
from bot.clock import Clock, system_clock
from bot.config import Config, ConfigError, seconds
from bot.core import Core
from bot.office import RENDERERS
from bot.scheduler import INTERVAL, Scheduler
from handlers.telegram import webhook
from handlers.telegram.app import App, build_application, start_errors
from handlers.telegram.handlers import polling_error_callback
from handlers.web.server import serving as web_serving
from handlers.web.settings import WebSettings, web_settings
from handlers.wecom.app import WeComApp, serving
from handlers.wecom.robot import attach_group_robot
from handlers.wecom.settings import WeComSettings, wecom_settings

logger = logging.getLogger(__name__)


def run(config: Config, env: Mapping[str, str] = os.environ) -> None:
    """Run the bot on the configured channels until stopped (SIGINT, SIGTERM, end of input).

    Raises ConfigError naming a missing or malformed setting before anything starts.
    """
    wecom = wecom_settings(env)
    web = web_settings(env)
    interval = reminder_interval(env.get("FENGONG_REMINDER_INTERVAL", ""))
    # Telegram alone by long polling is python-telegram-bot's own loop; anything more (WeCom,
    # a webhook server, the group robot beside it) runs here on one core.
    if wecom is not None or (
        config.telegram_token and (config.group_webhook or config.webhook_url)
    ):
        try:
            asyncio.run(serve(config, wecom, web=web, reminder_interval=interval))
        finally:
            offload.stop()  # the exit would wait for the renders' worker (its start-up imports)
    elif config.telegram_token:
        from handlers.telegram.app import run_telegram

        try:
            run_telegram(config, web, interval)
        finally:
            offload.stop()
    elif not _has_input():
        raise ConfigError(
            "没有配置任何渠道（TELEGRAM_BOT_TOKEN 或 WECOM_*，见 README），也没有可用于终端对话"
            "的终端或输入：请设置渠道；要在容器里用终端对话，请用 docker run -it。"
        )
    else:
        from handlers.console import run_console

        run_console(config, web)


def reminder_interval(text: str) -> float:
    """Return FENGONG_REMINDER_INTERVAL's seconds between reminder checks (default INTERVAL)."""
    return seconds("FENGONG_REMINDER_INTERVAL", text, 1, 3600) if text else INTERVAL


def _has_input() -> bool:
    """Tell whether standard input can carry a terminal chat: a terminal, a pipe or a file.

    `docker run` without -i gives /dev/null (a character device that is no terminal): the
    chat would end at once, and the container with it, without a word.
    """
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    return sys.stdin.isatty() or not stat.S_ISCHR(mode)


async def serve(
    config: Config,
    wecom: WeComSettings | None,
    *,
    assistant: Assistant | None = None,
    clock: Clock = system_clock,
    stop: asyncio.Event | None = None,
    reminder_interval: float = INTERVAL,
    web: WebSettings | None = None,
) -> None:
    """Serve WeCom and/or Telegram (when its token is set) on one core until `stop` is set.

    The group robot of FENGONG_GROUP_WEBHOOK, when set, also gets the coordinators' summaries.

    Without `stop`, SIGINT and SIGTERM stop it. The scheduler starts once every channel is
    registered and stops before any is removed.
    """
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    core = await Core.open(config, assistant, clock)
    try:
        async with contextlib.AsyncExitStack() as stack:
            if wecom is not None:
                await stack.enter_async_context(serving(WeComApp(core, wecom)))
            if config.telegram_token:
                await stack.enter_async_context(telegram(config, core))
            if web is not None:  # the web console (FENGONG_WEB_PORT), beside the channels
                await stack.enter_async_context(web_serving(core, web, wecom))
            if config.group_webhook:
                robot = attach_group_robot(core, config.group_webhook)
                stack.push_async_callback(robot.close)
            scheduler = Scheduler(core, reminder_interval)
            scheduler.start()
            offload.prepare(*RENDERERS)  # the first /report or /progress picture then only renders
            stack.push_async_callback(scheduler.stop)
            logger.info("机器人已启动，按 Ctrl-C 停止。")
            await stop.wait()
    finally:
        await core.close()


@contextlib.asynccontextmanager
async def telegram(config: Config, core: Core) -> AsyncIterator[App]:
    """Run the Telegram application on `core` while the block runs, started by hand.

    Long polling, or a webhook on our own server when TELEGRAM_WEBHOOK_URL is set; in
    python-telegram-bot's order: initialize, post_init, start … stop, post_stop, shutdown,
    post_shutdown.
    """
    app = build_application(config, core=core)
    try:
        with start_errors():
            await app.initialize()
    except BaseException:
        # A failed getMe leaves the HTTP client open (shutdown skips an app not initialized).
        await app.bot.request.shutdown()
        raise
    try:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        try:
            # Stopped before the application: a webhook's updates taken are handled first.
            async with _receiving(app, config):
                yield app
        finally:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


@contextlib.asynccontextmanager
async def _receiving(app: App, config: Config) -> AsyncIterator[None]:
    """Take Telegram's updates: a webhook server when configured, else long polling."""
    # Pending updates are kept: questions asked while the bot was down are answered now.
    if not config.webhook_url:
        assert app.updater is not None
        with start_errors():
            await app.updater.start_polling(
                timeout=dt.timedelta(seconds=10),
                allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=False,
                error_callback=polling_error_callback(app),
            )
        yield
        return
    secret = config.webhook_secret or secrets.token_urlsafe(32)
    redact.add_secret(secret)
    async with webhook.receiving(app, config, secret):
        yield

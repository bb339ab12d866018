"""The Telegram application: built once here, run by long polling or a webhook."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, Defaults

from bot.assistant import Assistant
from bot.clock import TZ
from bot.compose import COMMANDS
from bot.config import Config
from handlers.telegram.context import BotContext, Services, attach
from handlers.telegram.handlers import register

logger = logging.getLogger(__name__)

App = Application[Any, BotContext, Any, Any, Any, Any]


def file_url(base_url: str) -> str:
    """Derive the file endpoint from a Bot API base URL (…/bot -> …/file/bot)."""
    head, sep, _ = base_url.rstrip("/").rpartition("/bot")
    return f"{head}/file/bot" if sep else base_url


def build_application(config: Config, assistant: Assistant | None = None) -> App:
    """Build the Application with its defaults, services and handlers."""
    if not config.telegram_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder = (
        ApplicationBuilder()
        .token(config.telegram_token)
        .context_types(ContextTypes(context=BotContext))
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=TZ))
        # Retries on 429 after the retry_after Telegram asks for, so no reply is dropped.
        .rate_limiter(AIORateLimiter(max_retries=5))
        .post_init(_post_init)
    )
    if config.telegram_base_url:
        builder = builder.base_url(config.telegram_base_url).base_file_url(
            file_url(config.telegram_base_url)
        )
    app: App = builder.build()
    attach(app.bot_data, Services(config=config, assistant=assistant or Assistant.load()))
    register(app)
    return app


async def _post_init(app: App) -> None:
    await app.bot.set_my_commands([BotCommand(name, desc) for name, desc, _ in COMMANDS])
    logger.info("已连接 Telegram：@%s", app.bot.username)


def run_telegram(config: Config) -> None:
    """Run the bot until stopped: a webhook when TELEGRAM_WEBHOOK_URL is set, else polling."""
    app = build_application(config)
    # Pending updates are kept across restarts: questions asked while the bot was down
    # are answered when it comes back.
    if config.webhook_url:
        secret = config.webhook_secret or secrets.token_urlsafe(32)
        app.run_webhook(
            listen=config.webhook_listen,
            port=config.webhook_port,
            url_path="telegram",
            webhook_url=config.webhook_url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)

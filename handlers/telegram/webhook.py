"""Webhook mode on our own aiohttp server: POST /telegram for updates, GET /healthz.

python-telegram-bot's own webhook server (tornado) serves the update path only; its
documentation's answer for extra routes is a custom server. Ours stores each update in the
inbox (bot/inbox.py) before answering Telegram's POST with 200, and the inbox hands it to the
application, each chat's updates in order: an update Telegram was told it delivered is handled
even if the bot is killed meanwhile (at the next start).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.config import Config, ConfigError
from bot.health import check
from bot.inbox import Closed, Inbox
from bot.store import Delivery
from handlers.telegram.context import BotContext, core_of

logger = logging.getLogger(__name__)

App = Application[Any, BotContext, Any, Any, Any, Any]

UPDATE_PATH = "/telegram"
HEALTH_PATH = "/healthz"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CHANNEL = "telegram"
SHUTDOWN_GRACE = 10.0  # seconds to let the updates received be handled when the bot stops


def inbox_of(app: App) -> Inbox:
    """Return the inbox of webhook updates, handing each to `app` (its core must be open)."""

    async def handle(delivery: Delivery) -> None:
        await app.process_update(Update.de_json(json.loads(delivery.body), app.bot))

    core = core_of(app.bot_data)
    return Inbox(core.store, CHANNEL, handle, core.config.instance, core.config.lease)


def web_app(app: App, secret: str, inbox: Inbox) -> web.Application:
    """Return the HTTP routes: updates from Telegram (with the secret), stored in `inbox`
    before their 200, and the health check."""

    async def receive(request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
            return web.Response(status=403)
        try:
            body = await request.text()
            update = Update.de_json(json.loads(body), app.bot)
        except Exception as e:  # not an update: say so, without logging its content
            logger.warning("收到无法解析的 webhook 请求：%s", type(e).__name__)
            return web.Response(status=400)
        # Each chat's updates in order (a note's text after the choice of its measure).
        chat = update.effective_chat or update.effective_user
        try:
            await inbox.accept(f"tg:update:{update.update_id}", str(chat.id if chat else ""), body)
        except Closed:  # stopping: Telegram delivers it again, to the next start
            return web.Response(status=503)
        except Exception as e:  # Telegram tries again later
            logger.warning("webhook 更新无法保存到数据库：%s", type(e).__name__)
            return web.Response(status=503)
        return web.Response()

    async def health(request: web.Request) -> web.Response:
        try:
            store = core_of(app.bot_data).store
        except RuntimeError:  # not open yet, or already closed
            store = None
        verdict = await check(store)
        return web.Response(status=verdict.status, text=verdict.text)

    server = web.Application()
    server.router.add_post(UPDATE_PATH, receive)
    server.router.add_get(HEALTH_PATH, health)
    return server


@contextlib.asynccontextmanager
async def receiving(app: App, config: Config, secret: str) -> AsyncIterator[None]:
    """Serve the webhook and tell Telegram about it while the block runs."""
    assert config.webhook_url is not None
    inbox = inbox_of(app)
    runner = web.AppRunner(web_app(app, secret, inbox), access_log=None)
    await runner.setup()
    try:
        await inbox.start()  # what was received before the last stop, in order
        try:
            await web.TCPSite(runner, config.webhook_listen, config.webhook_port).start()
        except OSError as e:
            raise ConfigError(
                f"webhook 服务器无法监听 {config.webhook_listen}:{config.webhook_port}"
                f"（{e.strerror}）：端口是否已被占用？请检查 TELEGRAM_WEBHOOK_PORT 和 "
                "TELEGRAM_WEBHOOK_LISTEN。"
            ) from e
        # Pending updates are kept: questions asked while the bot was down are answered now.
        if config.set_webhook:
            await app.bot.set_webhook(
                config.webhook_url,
                secret_token=secret,
                allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=False,
            )
        else:  # several instances: another one tells Telegram, this one only receives
            logger.info("本实例只接收 webhook 更新，由另一实例设置（TELEGRAM_SET_WEBHOOK=0）")
        yield
    finally:
        await runner.cleanup()  # accepts nothing more
        await inbox.drain(SHUTDOWN_GRACE)  # what is left is handled at the next start

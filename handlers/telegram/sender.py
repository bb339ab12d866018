"""Delivering core replies to users who did not just write (notices, reminders, summaries)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.channel import Result
from bot.reply import Reply
from handlers.telegram import render

logger = logging.getLogger(__name__)

PREFIX = "tg:"  # the channel part of a Telegram user's id in the core: tg:123456
PER_CHAT_GAP = 1.0  # seconds between messages to the same chat


class Sender:
    """Sends a reply to a user's private chat, waiting out flood limits; never drops it.

    429 answers are retried after the `retry_after` Telegram asks for (the application's
    AIORateLimiter already paces sends to Telegram's limits and retries a few times itself).
    Any other error (the network, a server error) is raised: whoever sends decides whether
    and when to try again (reminders: at the next check, a minute later).
    """

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def __call__(self, user_id: str, reply: Reply) -> Result:
        """Send every page of `reply` to `user_id`; say whether it arrived."""
        chat_id = user_id.removeprefix(PREFIX)
        if not user_id.startswith(PREFIX) or not chat_id.lstrip("-").isdecimal():
            logger.info("用户 %s 不是 Telegram 用户，未发送", user_id)
            return "failed"
        pages = render.pages(reply)
        sent = 0
        while sent < len(pages):
            page = pages[sent]
            try:
                await self.bot.send_message(
                    int(chat_id), page.html, reply_markup=page.markup(None)
                )
            except RetryAfter as e:
                await asyncio.sleep(_seconds(e.retry_after))
                continue
            except Forbidden:
                logger.info("用户 %s 已屏蔽机器人或未开启私聊，标记为无法送达", user_id)
                return "blocked"
            except BadRequest as e:
                logger.warning("无法给用户 %s 发送消息：%s", user_id, e.message)
                return "failed"
            sent += 1
            if sent < len(pages):
                # Telegram asks for at most one message a second in one chat.
                await asyncio.sleep(PER_CHAT_GAP)
        return "sent"


def _seconds(value: Any) -> float:
    # RetryAfter.retry_after is a timedelta with PTB_TIMEDELTA, an int otherwise.
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)

"""Delivering core replies to users who did not just write (notices, reminders, summaries)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from telegram.error import BadRequest, Forbidden, RetryAfter, TimedOut

from bot.channel import PartDone, Result, Unconfirmed
from bot.reply import Reply
from handlers.telegram import api, render
from handlers.telegram.transport import ANSWER_LOST

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

    def __init__(self, bot: api.Bot) -> None:
        self.bot = bot

    async def __call__(self, user_id: str, reply: Reply) -> Result:
        """Send every page of `reply` to `user_id`; say whether it arrived."""
        return await self._pages(user_id, reply, 0, None)

    async def send_parts(
        self, user_ids: Sequence[str], reply: Reply, tag: str, start: int, done: PartDone
    ) -> None:
        """Send the pages of `reply` from page `start` to one user, awaiting `done` after each.

        Telegram has no duplicate check: a page that got no answer (a read or write timeout)
        may have arrived, and is not sent again (Unconfirmed).
        """
        [user_id] = user_ids
        await self._pages(user_id, reply, start, done)

    async def _pages(
        self, user_id: str, reply: Reply, start: int, done: PartDone | None
    ) -> Result:
        result: Result
        chat_id = user_id.removeprefix(PREFIX)
        if not user_id.startswith(PREFIX) or not chat_id.lstrip("-").isdecimal():
            logger.info("用户 %s 不是 Telegram 用户，未发送", user_id)
            if done is not None:
                await done(start, {user_id: "failed"})
            return "failed"
        pages = render.pages(reply)
        sent, result = start, "sent"
        while sent < len(pages) and result == "sent":
            page = pages[sent]
            try:
                await api.send(self.bot, {"chat_id": int(chat_id)}, page, None)
            except RetryAfter as e:
                await asyncio.sleep(_seconds(e.retry_after))
                continue
            except Forbidden:
                logger.info("用户 %s 已屏蔽机器人或未开启私聊，标记为无法送达", user_id)
                result = "blocked"
            except BadRequest as e:
                logger.warning("无法给用户 %s 发送消息：%s", user_id, e.message)
                result = "failed"
            except TimedOut as e:
                if done is None or not isinstance(e.__cause__, ANSWER_LOST):
                    raise
                raise Unconfirmed(sent, "Telegram 未应答") from None
            if done is not None:
                await done(sent, {user_id: result})
            sent += 1
            if sent < len(pages) and result == "sent":
                # Telegram asks for at most one message a second in one chat.
                await asyncio.sleep(PER_CHAT_GAP)
        return result


def _seconds(value: Any) -> float:
    # RetryAfter.retry_after is a timedelta with PTB_TIMEDELTA, an int otherwise.
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)

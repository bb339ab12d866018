"""Bot API calls with bodies of plain values: our pages sent without python-telegram-bot's objects.

`send_message` and its shortcuts turn the keyboard into objects and back to a dict, and the
message Telegram returns into a Message (`Message.de_json`, with its entities and keyboard)
that nobody reads: for our replies (HTML, a dozen buttons) that cost as much CPU as all the
rest of sending them (a bare bot sending our replies went from 1.4-1.6 ms a message to
0.6-0.8 ms; bench/README.md). `post` keeps what matters of that path: the application's
rate limiter, the request's timeouts and its mapping of Telegram's answers to errors
(RetryAfter, Forbidden, BadRequest; TimedOut, with ANSWER_LOST under it when the call went out
and no answer came).
"""

from __future__ import annotations

from typing import Any

from telegram import CallbackQuery, Message
from telegram.constants import ChatType, ParseMode
from telegram.ext import ExtBot

from handlers.telegram.render import Shown

Bot = ExtBot[Any]


async def post(bot: Bot, method: str, data: dict[str, Any]) -> Any:
    """Call `method` with `data` (JSON values only); return Telegram's result as it came."""
    # Bot._post is where every method of python-telegram-bot's Bot ends: it inserts the
    # defaults, passes the call through ExtBot's rate limiter, and the request maps the
    # answer to errors. `do_api_request` would be the public door, but warns for a method
    # the Bot has.
    return await bot._post(method, data)


async def send(bot: Bot, where: dict[str, Any], shown: Shown, token: str | None) -> int:
    """Send a page where `where` says (chat_id …); return the new message's id."""
    data = {**where, "text": shown.html, "parse_mode": ParseMode.HTML.value}
    keyboard = shown.keyboard(token)
    if keyboard is not None:
        data["reply_markup"] = keyboard
    result = await post(bot, "sendMessage", data)
    return int(result["message_id"])


async def edit(bot: Bot, query: CallbackQuery, shown: Shown, token: str | None) -> None:
    """Show a page in place of the message whose button was pressed."""
    data: dict[str, Any] = {"text": shown.html, "parse_mode": ParseMode.HTML.value}
    if query.inline_message_id:
        data["inline_message_id"] = query.inline_message_id
    elif isinstance(query.message, Message):  # as CallbackQuery.edit_message_text
        data["chat_id"], data["message_id"] = query.message.chat.id, query.message.message_id
    else:
        raise TypeError("Cannot edit an inaccessible message")
    keyboard = shown.keyboard(token)
    if keyboard is not None:
        data["reply_markup"] = keyboard
    await post(bot, "editMessageText", data)


def reply_to(message: Message) -> dict[str, Any]:
    """Where a reply to `message` goes, as `Message.reply_text` sends it: its chat (its topic
    in a forum group), quoting it outside private chats."""
    where: dict[str, Any] = {"chat_id": message.chat.id}
    if message.chat.type != ChatType.PRIVATE:
        where["reply_parameters"] = {"message_id": message.message_id}
    if message.is_topic_message and message.message_thread_id is not None:
        where["message_thread_id"] = message.message_thread_id
    return where

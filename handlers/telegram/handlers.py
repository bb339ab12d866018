"""Telegram handlers: parse the update, call the core, reply. Registered in order by register()."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from telegram import CallbackQuery, Message, Update, User
from telegram.constants import ChatType
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.commands import COMMANDS
from bot.core import EXPIRED
from bot.outcome import Person
from bot.throttle import NOT_FILED, SLOW_DOWN
from handlers.telegram import api, render
from handlers.telegram.context import BotContext
from handlers.telegram.deliver import deliver, person_of
from handlers.telegram.sender import PREFIX

logger = logging.getLogger(__name__)

FAILED = "出错了，请稍后重试"
NOT_TEXT = "我只能读懂文字消息。请直接输入问题（如某个单位负责哪些任务），发送 /start 查看示例。"
EDITED = "已忽略编辑，请重新发送修改后的消息。"

NEW_MESSAGES = filters.UpdateType.MESSAGE  # edited messages are answered by on_edited
PRIVATE = filters.ChatType.PRIVATE

_STARTED_BY_HAND = "started_by_hand"  # bot_data flag, see polling_error_callback


async def on_arrival(update: Update, context: BotContext) -> None:
    """Slow down whoever sends too much; remember who talks to the bot, and whether privately.

    One handler group for both: each group is one more pass of python-telegram-bot's loop for
    every update.
    """
    user = update.effective_user
    if user is None or user.is_bot:
        return
    person = _person(user, update, context)
    await _flood(update, person, context)
    if context.core.is_new(person):
        # In the background: the answer need not wait for this bookkeeping write.
        context.application.create_task(context.core.seen(person), update=update)


async def _flood(update: Update, person: Person, context: BotContext) -> None:
    """Told once, then dropped until their bucket refills (ApplicationHandlerStop)."""
    message, query = update.effective_message, update.callback_query
    if message and not query and not _for_bot(message, context):
        return
    if query is not None and query.data is not None and _is_paging(query.data):
        return  # turning pages redraws what was already answered: not flooding
    verdict = context.core.admit(person)
    if verdict == "pass":
        return
    if verdict == "warn" and query is not None:
        await query.answer(SLOW_DOWN)
    elif verdict == "warn" and message is not None:
        await message.reply_text(SLOW_DOWN)
    elif message is not None and query is None and await _files_note(person, message, context):
        await message.reply_text(NOT_FILED)  # a note is never dropped unsaid
    raise ApplicationHandlerStop


def _person(user: User, update: Update, context: BotContext) -> Person:
    """Return the core's view of the update's user, made once per update (context is)."""
    if context.person is None:
        context.person = person_of(user, update)
    return context.person


async def _files_note(person: Person, message: Message, context: BotContext) -> bool:
    """Tell whether a message would file a note: /note, or the text a note flow awaits."""
    typed = (message.text or "").lstrip()
    if typed.startswith("/"):
        command = (typed[1:].split(maxsplit=1) or [""])[0]
        return command.partition("@")[0].lower() == "note"
    return person.private and bool(await context.core.store.flows.get(person.id))


def _is_paging(data: str) -> bool:
    return data == render.NOOP_ACTION or data.startswith(f"{render.PAGE_ACTION}:")


def _for_bot(message: Message, context: BotContext) -> bool:
    """Tell whether a message is one the bot acts on (in groups: commands, mentions, replies)."""
    text = message.text or ""
    return (
        message.chat.type == ChatType.PRIVATE
        or text.startswith("/")
        or (_addressed(message, context) is not None)
    )


async def on_text(update: Update, context: BotContext) -> None:
    """Answer a text in a private chat (a note being written, or a question), or in a group."""
    message, user = update.effective_message, update.effective_user
    text = _addressed(message, context) if message is not None else None
    if message is None or user is None or text is None:
        return
    person = _person(user, update, context)
    response = await context.core.text(person, chat_of(message, user.id), text)
    await deliver(message, context, response)


def chat_of(message: Message, user_id: int) -> str:
    """Name the conversation for the core: one per person in each chat."""
    return f"{message.chat.id}:{user_id}"


def _addressed(message: Message, context: BotContext) -> str | None:
    """Return the question if the message is for the bot; in groups only mentions and replies."""
    text = message.text
    if text is None or message.chat.type == ChatType.PRIVATE:
        return text
    mention = f"@{context.bot.username}"
    if mention.lower() in text.lower():
        return re.sub(re.escape(mention), " ", text, flags=re.IGNORECASE).strip()
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.id == context.bot.id:
        return text
    return None


def _argument(message: Message) -> str:
    """Return what follows the command as typed: a note keeps its line breaks and spaces."""
    # Not context.args: it splits on any whitespace, and joining it back flattens the text.
    parts = (message.text or "").split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


async def on_command(update: Update, context: BotContext) -> None:
    """Run any command of the core's registry (and answer an unknown one in a private chat)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or not message.text:
        return
    name = message.text.split(maxsplit=1)[0][1:].split("@")[0]
    person, chat = _person(user, update, context), chat_of(message, user.id)
    response = await context.core.command(person, chat, name, _argument(message))
    await deliver(message, context, response)


async def on_edited(update: Update, context: BotContext) -> None:
    """Say that an edit is not read (a corrected note or question must be sent again)."""
    message = update.edited_message
    if message and message.text is not None and _addressed(message, context) is not None:
        await message.reply_text(EDITED)


async def on_other(update: Update, context: BotContext) -> None:
    """Hint that only text is understood (stickers, photos, voice … in private chats)."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(NOT_TEXT)


async def on_page(update: Update, context: BotContext) -> None:
    """Show another page of a paginated answer in the same message."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.data is None or user is None:
        return
    _, token, index = [*query.data.split(":"), "", ""][:3]
    outcome = await context.core.page(_person(user, update, context), token)
    pages = render.pages(outcome.reply) if outcome else []
    if not index.isdecimal() or int(index) >= len(pages):
        await query.answer(EXPIRED, show_alert=True)
        return
    await query.answer()
    page = pages[int(index)]
    try:
        await api.edit(context.bot, query, page, token)
    except BadRequest as e:
        # Pressing the page already shown: nothing to change, and nothing went wrong.
        if "not modified" not in e.message:
            raise


async def on_noop(update: Update, context: BotContext) -> None:
    """Acknowledge the page counter button."""
    if update.callback_query is not None:
        await update.callback_query.answer()


async def on_button(update: Update, context: BotContext) -> None:
    """Run a button's core action: details, approvals, notes, chase-ups …"""
    query, user = update.callback_query, update.effective_user
    if query is None or query.data is None or user is None:
        return
    message = query.message
    if not isinstance(message, Message):  # too old to answer under: do nothing
        await query.answer(EXPIRED, show_alert=True)
        return
    core, person, action = context.core, _person(user, update, context), query.data
    chat = chat_of(message, user.id)
    if core.slow(action):
        # A chase-up may go to hundreds of members: acknowledge now (a query left unanswered
        # expires) and run it in the background, so that nobody's questions wait for it.
        await query.answer()
        run = _pressed(message, context, (person, chat, action), None)
        context.application.create_task(run, update=update)
        return
    await _pressed(message, context, (person, chat, action), query)


async def _pressed(
    message: Message,
    context: BotContext,
    press: tuple[Person, str, str],  # who, in which chat, what
    query: CallbackQuery | None,
) -> None:
    response = await context.core.press(*press)
    if query is not None and response is None:
        await query.answer(EXPIRED, show_alert=True)
    elif query is not None:
        await query.answer()
    if response is not None:
        await deliver(message, context, response, query)


async def on_error(update: object, context: BotContext) -> None:
    """Log an error with the update's kind and ids, never its text; tell the user."""
    error = context.error
    if isinstance(error, Conflict):
        logger.critical(
            "另一个实例正在使用同一个 TELEGRAM_BOT_TOKEN 接收消息（409 Conflict），本实例退出。"
        )
        await stop_polling(context.application)
        return
    if isinstance(error, NetworkError) and update is None:
        logger.warning("网络错误，将自动重试：%s", error)
        return
    if isinstance(error, Forbidden) and isinstance(update, Update):
        await _unreachable(update, context)
        return
    # The error's name, not its repr: a UnicodeEncodeError's repr holds the whole text.
    name = type(error).__name__
    logger.error("处理更新时出错（%s）：%s", describe(update), name, exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, FAILED)
        except TelegramError as e:
            logger.warning("无法通知用户出错（%s）：%r", describe(update), e)


def describe(update: object) -> str:
    """Name an update by its kind and ids, for the log (its texts are the users' own)."""
    if update is None:
        return "后台任务"
    if not isinstance(update, Update):
        return type(update).__name__
    kind = next((k for k in update.to_dict() if k != "update_id"), "unknown")
    chat, user = update.effective_chat, update.effective_user
    return (
        f"update {update.update_id} {kind}, chat {chat.id if chat else '-'}, "
        f"user {user.id if user else '-'}"
    )


async def _unreachable(update: Update, context: BotContext) -> None:
    # Routine: the user blocked the bot (or removed it from a group) before the reply went out.
    chat, user = update.effective_chat, update.effective_user
    store = context.core.store
    person = f"{PREFIX}{user.id}" if user else ""
    if chat and user and chat.type == ChatType.PRIVATE and await store.users.get(person):
        await store.users.set_reachable(person, False)
    logger.info("无法回复（%s）：已屏蔽机器人或将其移出，标记为无法送达", describe(update))


def polling_error_callback(
    app: Application[Any, Any, Any, Any, Any, Any],
) -> Callable[[TelegramError], None]:
    """Return the updater's error_callback for an app started by hand (tests, benches).

    run_polling hands polling errors to the error handlers itself; `updater.start_polling` alone
    only logs them, so a 409 Conflict would never reach on_error. The app is also marked as
    started by hand, so that stop_polling does not stop its caller's event loop.
    """
    app.bot_data[_STARTED_BY_HAND] = True

    def callback(error: TelegramError) -> None:
        app.create_task(app.process_error(update=None, error=error))

    return callback


async def stop_polling(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop taking updates: end run_polling, or stop the updater of an app started by hand."""
    if not app.bot_data.get(_STARTED_BY_HAND):
        # run_polling / run_webhook then stop and shut the application down themselves.
        app.stop_running()
        return
    # stop_running() stops the running event loop, which belongs to whoever started the app:
    # stop fetching here, and leave app.stop() and shutdown to them.
    if app.updater is not None and app.updater.running:
        await app.updater.stop()


def register(app: Application[Any, BotContext, Any, Any, Any, Any]) -> None:
    """Register every handler, in the order they are tried."""
    app.add_handler(TypeHandler(Update, on_arrival), group=-1)
    # Questions first: they are most of the traffic, and no command matches them anyway.
    app.add_handler(MessageHandler(NEW_MESSAGES & filters.TEXT & ~filters.COMMAND, on_text))
    # Every command of the core's registry (the core answers one it does not have);
    # in groups only ours, so that other bots' commands are left alone.
    ours = CommandHandler([c.name for c in COMMANDS], on_command, filters=NEW_MESSAGES)
    app.add_handler(ours)
    app.add_handler(MessageHandler(NEW_MESSAGES & PRIVATE & filters.COMMAND, on_command))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.TEXT, on_edited))
    app.add_handler(MessageHandler(NEW_MESSAGES & PRIVATE & ~filters.TEXT, on_other))
    app.add_handler(CallbackQueryHandler(on_page, pattern=rf"^{render.PAGE_ACTION}:"))
    app.add_handler(CallbackQueryHandler(on_noop, pattern=rf"^{render.NOOP_ACTION}$"))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_error_handler(on_error)

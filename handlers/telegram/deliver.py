"""Sending a core Response on Telegram: the reply (paginated), notices, a file, a picture."""

from __future__ import annotations

import io
import logging

from telegram import CallbackQuery, InputFile, Message, Update, User
from telegram.constants import ChatType
from telegram.error import BadRequest

from bot.core import Response
from bot.outcome import Person
from handlers.telegram import api, render
from handlers.telegram.context import BotContext
from handlers.telegram.sender import PREFIX

logger = logging.getLogger(__name__)


def person_of(user: User, update: Update) -> Person:
    """Return the core's view of a Telegram user: its id qualified by the channel, `tg:123`."""
    chat = update.effective_chat
    private = chat is not None and chat.type == ChatType.PRIVATE
    return Person(f"{PREFIX}{user.id}", user.full_name, private)


async def deliver(
    message: Message,
    context: BotContext,
    response: Response,
    query: CallbackQuery | None = None,
) -> None:
    """Show a response: its reply under `message` (or in place of it), then notices and file.

    A long reply with a query gets page buttons that redraw it from the core; without one,
    every page is sent, so that nothing is lost (or redone by a button).
    """
    outcome = response.outcome
    pages = render.pages(outcome.reply)
    token = None
    if response.query and len(pages) > 1:
        token = await context.core.queries.remember(*response.query)
    shown = pages[:1] if token else pages
    if outcome.replace and query is not None:
        first = shown[0]
        try:
            await api.edit(context.bot, query, first, token)
        except BadRequest as e:
            if "not modified" not in e.message:
                raise
        shown = shown[1:]
    where = api.reply_to(message) if shown else {}
    for page in shown:
        await api.send(context.bot, where, page, token)
    if outcome.attachment:
        file = outcome.attachment
        await message.reply_document(
            InputFile(io.BytesIO(file.data), filename=file.filename), caption=file.caption
        )
    if outcome.picture:
        shot = outcome.picture
        await message.reply_photo(
            InputFile(io.BytesIO(shot.data), filename=shot.filename), caption=shot.caption
        )
    for missed in await context.core.notify(outcome):
        logger.warning("通知未能送达用户 %s", missed)

"""Telegram handlers for members, notes, the coordinator's view and reminders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.assistant import REPORTING
from bot.audit import audit
from bot.commands import BY_NAME
from bot.office import OFFICE_ACTIONS
from bot.outcome import Outcome, Person, say
from bot.reminders import CHASE
from handlers.telegram.context import BotContext
from handlers.telegram.deliver import deliver, person_of
from handlers.telegram.sender import Sender

EXPIRED = "按钮已过期，请重新提问"
NEW_MESSAGES = filters.UpdateType.MESSAGE
PRIVATE_ONLY = "为保护信息，请在与机器人的私聊中使用这个命令。"
START_IN_PRIVATE = "邀请链接请在与机器人的私聊中打开：点击链接，再点“开始”。在群里发送不会绑定。"

Run = Callable[[BotContext, Person, str], Awaitable[Outcome]]

# Command -> what it does. The keys double as page-query kinds (see _pageable).
COMMANDS: dict[str, Run] = {
    "whoami": lambda c, p, a: c.services.office.membership.whoami(p),
    "bind": lambda c, p, a: c.services.office.membership.bind(p, a),
    "invite": lambda c, p, a: c.services.office.membership.invite(
        p, a, lambda code: f"https://t.me/{c.bot.username}?start={code}"
    ),
    "join": lambda c, p, a: c.services.office.membership.redeem(p, a),
    "unbind": lambda c, p, a: c.services.office.membership.unbind(p),
    "members": lambda c, p, a: c.services.office.membership.members(p, a),
    "note": lambda c, p, a: c.services.office.notes.note(p, a),
    "notes": lambda c, p, a: c.services.office.notes.notes(p, a),
    "cancel": lambda c, p, a: c.services.office.notes.cancel(p),
    "progress": lambda c, p, a: c.services.office.overview.progress(p, a, picture=True),
    "report": lambda c, p, a: c.services.office.overview.report(p, a),
    "export": lambda c, p, a: c.services.office.overview.export(p, a),
    "remind": lambda c, p, a: c.services.reminders.remind(p, a),
    "remind_test": lambda c, p, a: c.services.reminders.remind_test(p, a),
    "audit": lambda c, p, a: audit(c.services.office.membership, p, a),
}


def _pageable(name: str, arg: str) -> bool:
    # /note without a measure lists the measures to pick from: a read-only query too.
    return BY_NAME[name].pageable or (name == "note" and not arg)


async def run_query(context: BotContext, person: Person, kind: str, arg: str) -> Outcome | None:
    """Redo a pageable query for a page button (None when it cannot be redone)."""
    if kind == "progress":  # a page turn redraws the text, not the picture
        return await context.services.office.overview.progress(person, arg)
    if kind in COMMANDS and _pageable(kind, arg):
        return await COMMANDS[kind](context, person, arg)
    if kind == "action" and arg.startswith("pu:"):
        return await context.services.office.action(person, arg)
    if kind == REPORTING:
        return await context.services.reminders.reporting(person)
    return None


def _argument(message: Message) -> str:
    """Return what follows the command as typed: a note keeps its line breaks and spaces."""
    # Not context.args: it splits on any whitespace, and joining it back flattens the text.
    parts = (message.text or "").split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


def _command(name: str) -> Any:
    async def handle(update: Update, context: BotContext) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        person = person_of(user, update)
        arg = _argument(message)
        if not person.private and BY_NAME[name].private_only:
            await deliver(message, context, say(PRIVATE_ONLY))
            return
        outcome = await COMMANDS[name](context, person, arg)
        await deliver(message, context, outcome, (name, arg) if _pageable(name, arg) else None)

    handle.__name__ = f"on_{name}"
    return handle


async def on_button(update: Update, context: BotContext) -> None:
    """Run an office or reminder button (approve, note on a measure, delete, chase …)."""
    query, user = update.callback_query, update.effective_user
    if query is None or query.data is None or user is None:
        return
    person = person_of(user, update)
    if not isinstance(query.message, Message):  # too old to answer under: do nothing
        await query.answer(EXPIRED, show_alert=True)
        return
    if query.data.startswith(f"{CHASE}:"):
        # A chase-up may go to hundreds of members at ~29 messages a second: acknowledge now
        # (a query left unanswered expires) and send in the background, so that nobody's
        # questions wait for it. The reply comes when it is done.
        await query.answer()
        context.application.create_task(
            _chase(query.message, context, person, query.data), update=update
        )
        return
    outcome = await context.services.office.action(person, query.data)
    if outcome is None:
        await query.answer(EXPIRED, show_alert=True)
        return
    await query.answer()
    page = ("action", query.data) if query.data.startswith("pu:") else None
    await deliver(query.message, context, outcome, page, query)


async def _chase(message: Message, context: BotContext, person: Person, data: str) -> None:
    year = data.partition(":")[2]
    outcome = await context.services.reminders.chase(person, year, Sender(context.bot))
    await deliver(message, context, outcome)


async def on_flow_text(update: Update, context: BotContext) -> bool:
    """Take a private text as the note being written; False when no note is awaited."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.text is None:
        return False
    outcome = await context.services.office.notes.text(person_of(user, update), message.text)
    if outcome is None:
        return False
    await deliver(message, context, outcome)
    return True


async def on_start_code(update: Update, context: BotContext) -> bool:
    """Bind with an invite code from a deep link (/start CODE); False without a code."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or not context.args:
        return False
    if message.chat.type != ChatType.PRIVATE:  # the code is the inviter's: not for a group
        await deliver(message, context, say(START_IN_PRIVATE))
        return True
    membership = context.services.office.membership
    outcome = await membership.redeem(person_of(user, update), context.args[0])
    await deliver(message, context, outcome)
    return True


def register_members(app: Application[Any, BotContext, Any, Any, Any, Any]) -> None:
    """Register the members-and-notes commands and buttons, in order."""
    for name in COMMANDS:
        app.add_handler(CommandHandler(name, _command(name), filters=NEW_MESSAGES))
    prefixes = "|".join(sorted(OFFICE_ACTIONS | {CHASE}))
    app.add_handler(CallbackQueryHandler(on_button, pattern=rf"^(?:{prefixes})(?::|$)"))

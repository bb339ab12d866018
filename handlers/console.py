"""Terminal chat: the same answers and commands as the chat bot, rendered as plain text.

The local user is a coordinator. Interactive on a terminal; with standard input from a pipe it
answers each line and exits at end of input, so `echo 人社厅负责什么 | make run` works.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal, TextIO

from bot.assistant import REPORTING, Assistant
from bot.audit import audit
from bot.clock import Clock, system_clock
from bot.config import Config, ReminderConfig
from bot.dialog import Dialog
from bot.office import Office
from bot.outcome import Outcome, Person
from bot.reminders import Reminders
from bot.reply import Reply, all_buttons, render_plain
from bot.store import Store

PROMPT = "问> "
# Undecodable input bytes reach Python as lone surrogates (surrogateescape), which SQLite
# cannot store: they become U+FFFD before anything sees the text.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
LOCAL_USER = Person(id="console", name="本机用户")
Command = Callable[[str], Awaitable[Outcome]]


class Console:
    """One terminal user's conversation; `handle` returns the text to print."""

    def __init__(
        self,
        office: Office,
        person: Person = LOCAL_USER,
        out_dir: Path = Path(),
        reminders: ReminderConfig | None = None,
    ) -> None:
        self.office = office
        self.assistant = office.membership.assistant
        self.person = person
        self.out_dir = out_dir
        self.reminders = Reminders(office.membership, reminders or ReminderConfig())
        self.dialog = Dialog(office.membership.clock)
        self._buttons: dict[str, str] = {}
        a, p = self.assistant, person
        m, n, o = office.membership, office.notes, office.overview
        self.commands: dict[str, Command] = {
            "start": lambda arg: m.redeem(p, arg) if arg else _wrap(a.welcome()),
            "help": lambda _: _wrap(a.help()),
            "unit": lambda arg: self._ask("unit", arg),
            "task": lambda arg: self._ask("task", arg),
            "find": lambda arg: self._ask("find", arg),
            "whoami": lambda _: m.whoami(p),
            "bind": lambda arg: m.bind(p, arg),
            "join": lambda arg: m.redeem(p, arg),
            "invite": lambda arg: m.invite(p, arg),
            "unbind": lambda _: m.unbind(p),
            "members": lambda arg: m.members(p, arg),
            "note": lambda arg: n.note(p, arg),
            "notes": lambda arg: n.notes(p, arg),
            "cancel": lambda _: n.cancel(p),
            "progress": lambda arg: o.progress(p, arg, picture=True),
            "report": lambda arg: o.report(p, arg),
            "export": lambda arg: o.export(p, arg),
            "remind": lambda arg: self.reminders.remind(p, arg),
            "remind_test": lambda arg: self.reminders.remind_test(p, arg),
            "audit": lambda arg: audit(m, p, arg),
        }

    async def handle(self, text: str) -> str:
        """Answer one line typed by the user."""
        text = _SURROGATE.sub("\ufffd", text).strip()
        label = text.strip("[]")
        if label in self._buttons:
            outcome = await self.press(self._buttons[label])
            if outcome is not None:
                return await self._render(outcome)
        if text.startswith("/"):
            name, _, arg = text[1:].partition(" ")
            command = self.commands.get(name.split("@")[0].lower())
            if command is None:
                return f"没有这个命令：/{name}。输入 /help 查看可用命令。"
            return await self._render(await command(arg.strip()))
        outcome = await self.office.notes.text(self.person, text)
        return await self._render(outcome or await self._converse(text))

    async def _converse(self, text: str) -> Outcome:
        """Answer a question, read in the context of the conversation so far."""
        kind, arg = await self.assistant.converse(text, self.dialog, self.person.id)
        if kind == REPORTING:
            return await self.reminders.reporting(self.person)
        return await self._ask(kind, arg)

    async def _ask(self, kind: str, arg: str) -> Outcome:
        return Outcome(await self.assistant.reply(kind, arg))

    async def press(self, action: str) -> Outcome | None:
        """Run a button's action."""
        outcome = await self.office.action(self.person, action)
        if outcome is not None:
            return outcome
        reply = self.assistant.action(action)
        return Outcome(reply) if reply else None

    async def _render(self, outcome: Outcome) -> str:
        self._buttons = {b.label: b.action for b in all_buttons(outcome.reply)}
        parts = [render_plain(outcome.reply)]

        async def show(to: str, reply: Reply) -> Literal["sent"]:
            # Shown on this terminal is delivered: the office marks a stored notice sent.
            parts.append(f"【发给 {to} 的通知】\n{render_plain(reply)}")
            self._buttons.update({b.label: b.action for b in all_buttons(reply)})
            return "sent"

        await self.office.membership.send_notices(outcome.notices, show)
        for file in (outcome.attachment, outcome.picture):
            if file is not None:
                path = self.out_dir / file.filename
                path.write_bytes(file.data)
                parts.append(f"文件已保存：{path}")
        return "\n\n".join(parts)


async def _wrap(reply: Reply) -> Outcome:
    return Outcome(reply)


async def chat(console: Console, stdin: TextIO, stdout: TextIO) -> None:
    """Read lines until end of input, answering each; prompt only on a terminal."""
    interactive = stdin.isatty()
    if interactive:
        stdout.write(await console.handle("/start") + "\n\n")
    while True:
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        if not line.strip():
            continue
        stdout.write(await console.handle(line) + "\n\n")
        stdout.flush()


async def serve(
    config: Config, stdin: TextIO, stdout: TextIO, clock: Clock = system_clock
) -> None:
    """Open the database and chat on the given streams until end of input."""
    store = await Store.open(config.db_path, clock)
    try:
        office = Office(
            Assistant.load(config.data_dir),
            store,
            config.coordinators | {LOCAL_USER.id},
            clock=clock,
        )
        await office.membership.seen(LOCAL_USER)
        await chat(Console(office, reminders=config.reminders), stdin, stdout)
    finally:
        await store.close()


def run_console(config: Config) -> None:
    """Start the terminal chat (used when no Telegram token is configured)."""
    if sys.stdin.isatty():
        print("未设置 TELEGRAM_BOT_TOKEN，启动终端对话（您是协调人）。")
        print("设置该环境变量后，make run 将连接 Telegram（见 README）。")
        print("输入 /help 查看命令，Ctrl-D 退出。\n")
    asyncio.run(serve(config, sys.stdin, sys.stdout))

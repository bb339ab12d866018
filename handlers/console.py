"""Terminal chat: the same answers as the chat bot, rendered as plain text.

Interactive on a terminal; with standard input from a pipe it answers each line and exits at
end of input, so `echo 人社厅负责什么 | make run` works.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.assistant import Assistant
from bot.config import Config
from bot.reply import Reply, all_buttons, render_plain

PROMPT = "问> "
Command = Callable[[str], Awaitable[Reply]]


class Console:
    """One terminal user's conversation; `handle` returns the text to print."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self._buttons: dict[str, str] = {}
        self.commands: dict[str, Command] = {
            "start": self._sync(lambda _: assistant.welcome()),
            "help": self._sync(lambda _: assistant.help()),
            "unit": self._sync(assistant.unit),
            "task": self._sync(assistant.task),
            "find": self._sync(assistant.find),
        }

    @staticmethod
    def _sync(fn: Callable[[str], Reply]) -> Command:
        async def run(arg: str) -> Reply:
            return fn(arg)

        return run

    async def handle(self, text: str) -> str:
        """Answer one line typed by the user."""
        text = text.strip()
        label = text.strip("[]")
        if label in self._buttons and (reply := await self.press(self._buttons[label])):
            return self._render(reply)
        if text.startswith("/"):
            name, _, arg = text[1:].partition(" ")
            command = self.commands.get(name.split("@")[0].lower())
            if command is None:
                return f"未知命令 /{name}。输入 /help 查看可用命令。"
            return self._render(await command(arg.strip()))
        return self._render(self.assistant.ask(text))

    async def press(self, action: str) -> Reply | None:
        """Run a button's action."""
        return self.assistant.action(action)

    def _render(self, reply: Reply) -> str:
        self._buttons = {b.label: b.action for b in all_buttons(reply)}
        return render_plain(reply)


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


def run_console(config: Config) -> None:
    """Start the terminal chat (used when no Telegram token is configured)."""
    if sys.stdin.isatty():
        print(
            "未设置 TELEGRAM_BOT_TOKEN，启动终端对话。设置该环境变量后 make run 将连接 Telegram。"
        )
        print("输入问题后回车；Ctrl-D 退出。\n")
    asyncio.run(chat(Console(Assistant.load()), sys.stdin, sys.stdout))

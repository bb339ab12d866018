"""Terminal chat: the same answers and commands as the chat bot, rendered as plain text.

The local user is a coordinator. Interactive on a terminal; with standard input from a pipe it
answers each line and exits at end of input, so `echo 人社厅负责什么 | make run` works.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import sys
from pathlib import Path
from typing import Literal, TextIO

from bot import redact
from bot.channel import Limits
from bot.cli import LOG_FORMAT
from bot.clock import Clock, system_clock
from bot.config import Config
from bot.core import Core
from bot.office.notes import STALE_FLOW
from bot.outcome import Outcome, Person
from bot.reply import Reply, all_buttons, render_plain
from bot.scheduler import Scheduler
from handlers.web.server import serving as web_serving
from handlers.web.settings import WebSettings

PROMPT = "问> "
LOG_FILE = "fengong.log"  # beside the database: var/fengong.log by default
MAX_BUTTONS = 2000  # labels of earlier messages kept pressable (a long session stays bounded)
# Undecodable input bytes reach Python as lone surrogates (surrogateescape), which SQLite
# cannot store: they become U+FFFD before anything sees the text.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# What others typed reaches this terminal too (a colleague's name, a note stored before notes
# were cleaned): an escape sequence in it must not move the cursor, clear the screen or retitle
# the window. Control characters but line breaks and tabs are left out of what is printed.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
LOCAL_USER = Person(id="console", name="本机用户")
# A terminal is one wide page: no message size to split at, every button listed.
LIMITS = Limits(size=10**9, measure="chars", buttons=10**6, per_row=10**6, markup="plain")


class Console:
    """One terminal user's conversation; `handle` returns the text to print."""

    def __init__(self, core: Core, person: Person = LOCAL_USER, out_dir: Path = Path()) -> None:
        self.core = core
        self.person = person
        self.out_dir = out_dir
        # Every button shown so far, by label (a later one of the same label wins): pressing
        # one of an earlier message works as on a chat app, where it stays under its message.
        # The core refuses one no longer valid (a note already deleted …).
        self._buttons: dict[str, str] = {}
        # The last message's buttons by number (1, 2 …), as listed under it.
        self._numbered: list[str] = []

    async def handle(self, text: str) -> str:
        """Answer one line typed by the user; a button's label or number presses it."""
        text = _SURROGATE.sub("\ufffd", text).strip()
        label = text.strip("[]")
        action = self._buttons.get(label)
        numbered = label.isdecimal() and 0 < int(label) <= len(self._numbered)
        if action is None and numbered and not await self._writing():
            action = self._numbered[int(label) - 1]
        if action is not None:
            outcome = await self.press(action)
            if outcome is not None:
                return await self._render(outcome)
        if text.startswith("/"):
            name, _, arg = text[1:].partition(" ")
            name = name.split("@")[0]
            response = await self.core.command(self.person, self.person.id, name, arg.strip())
        else:
            response = await self.core.text(self.person, self.person.id, text)
        return await self._render(response.outcome)

    async def _writing(self) -> bool:
        """Tell whether a note (or an edit) is awaiting its text: a number typed is that text."""
        # As bot/office/notes.py reads text: a flow long abandoned no longer takes it.
        since = self.core.clock() - STALE_FLOW
        for office in self.core.offices.values():
            flow = await office.membership.store.flows.get(self.person.id)
            if flow is not None and flow.started_at >= since:
                return True
        return False

    def remember(self, reply: Reply) -> None:
        """Make a message's buttons pressable by label (the most recent MAX_BUTTONS labels)."""
        for button in all_buttons(reply):
            self._buttons.pop(button.label, None)  # to the end: the most recent
            self._buttons[button.label] = button.action
        while len(self._buttons) > MAX_BUTTONS:
            del self._buttons[next(iter(self._buttons))]

    async def press(self, action: str) -> Outcome | None:
        """Run a button's action."""
        response = await self.core.press(self.person, self.person.id, action)
        return response.outcome if response else None

    async def _name(self, user_id: str) -> str:
        """Name a notice's recipient as a person reads it: the local user is 你."""
        if user_id == self.person.id:
            return f"{self.person.name}（你）"
        store = self.core.office.membership.store
        known = await store.members.get(user_id) or await store.users.get(user_id)
        return known.name if known is not None and known.name else user_id

    async def _render(self, outcome: Outcome) -> str:
        self.remember(outcome.reply)
        self._numbered = [b.action for b in all_buttons(outcome.reply)]
        parts = [render_plain(outcome.reply, numbered=True)]

        async def show(to: str, reply: Reply) -> Literal["sent"]:
            # Shown on this terminal is delivered: the office marks a stored notice sent. Its
            # buttons are numbered on after those above, so every number shown can be typed.
            text = render_plain(reply, numbered=True, start=len(self._numbered) + 1)
            parts.append(f"【通知 → {await self._name(to)}】\n{text}")
            self._numbered += [b.action for b in all_buttons(reply)]
            self.remember(reply)
            return "sent"

        await self.core.office.membership.send_notices(outcome.notices, show)
        for file in (outcome.attachment, outcome.picture):
            if file is not None:
                self.out_dir.mkdir(parents=True, exist_ok=True)
                path = self.out_dir / file.filename
                path.write_bytes(file.data)
                parts.append(f"文件已保存：{path.resolve()}")
        return _CONTROLS.sub("", "\n\n".join(parts))


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
    config: Config,
    stdin: TextIO,
    stdout: TextIO,
    clock: Clock = system_clock,
    web: WebSettings | None = None,
    log: Path | None = None,
) -> None:
    """Open the core and chat on the given streams until end of input.

    `log`: the file the log goes to once the database opened (a refused FENGONG_DB, such as a
    file of data/, leaves no log file beside it).
    """
    config = dataclasses.replace(config, coordinators=config.coordinators | {LOCAL_USER.id})
    core = await Core.open(config, clock=clock)
    if log is not None and log_to_file(log) and stdin.isatty():
        stdout.write(f"运行日志写入 {log}；导出的文件保存在 {config.db_path.parent}/。\n\n")
    scheduler = Scheduler(core)
    # Files (/export, /report, /progress) go beside the database: var/ by default, ignored by git.
    console = Console(core, out_dir=config.db_path.parent)

    async def show(user_id: str, reply: Reply) -> Literal["sent"]:
        # The terminal's own user: reminders and notices appear between the answers.
        stdout.write(f"\n【提醒】\n{render_plain(reply)}\n\n")
        stdout.flush()
        console.remember(reply)
        return "sent"

    core.router.add(LOCAL_USER.id, show)
    try:
        await core.office.membership.seen(LOCAL_USER)
        scheduler.start()
        async with contextlib.AsyncExitStack() as stack:
            if web is not None:  # the web console beside the terminal chat (/web gives a link)
                await stack.enter_async_context(web_serving(core, web))
            await chat(console, stdin, stdout)
    finally:
        await scheduler.stop()
        await core.close()


def log_to_file(path: Path) -> bool:
    """Send the log to `path` instead of the terminal, where it would break into the chat.

    False when the file cannot be opened: the log stays where it was, and opening the
    database beside it then says what is wrong with the folder.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return False
    root = logging.getLogger()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    for old in root.handlers[:]:
        if isinstance(old, logging.StreamHandler) and not isinstance(old, logging.FileHandler):
            root.removeHandler(old)
    root.addHandler(handler)
    redact.install()  # the new handler masks secrets like the one it replaces
    return True


def run_console(config: Config, web: WebSettings | None = None) -> None:
    """Start the terminal chat (used when neither Telegram nor WeCom is configured)."""
    if sys.stdin.isatty():
        print("未设置 TELEGRAM_BOT_TOKEN 或 WECOM_*，启动终端对话（您是协调人）。")
        print("设置后，make run 将连接 Telegram 或企业微信（见 README）。")
        print("按钮：输入按钮上的文字或其编号即可。输入 /help 查看命令，Ctrl-D 退出。")
    # Piped input is answered and the chat ends: no console to serve meanwhile.
    web = web if sys.stdin.isatty() else None
    log = config.db_path.parent / LOG_FILE
    asyncio.run(serve(config, sys.stdin, sys.stdout, web=web, log=log))

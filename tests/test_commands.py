"""The command registry is the single source: help, Telegram and the terminal chat follow it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.ext import CommandHandler

from bot import compose
from bot.assistant import Assistant
from bot.clock import system_clock
from bot.commands import BY_NAME, COMMANDS, menu
from bot.config import Config
from bot.reply import render_plain
from bot.store import Store
from handlers.console import LOCAL_USER, Console
from handlers.telegram.app import build_application
from tests.cores import make_core
from tests.harness import clear_proxies

NAMES = [c.name for c in COMMANDS]


def test_names_are_unique_lowercase_telegram_commands() -> None:
    assert len(set(NAMES)) == len(NAMES) == len(BY_NAME)
    assert all(re.fullmatch(r"[a-z0-9_]{1,32}", name) for name in NAMES)
    assert all(c.example.startswith(f"/{c.name}") for c in COMMANDS)


def test_help_lists_exactly_the_registry_in_order() -> None:
    text = render_plain(compose.help_reply())
    listed = re.findall(r"^/(\w+) ", text, flags=re.MULTILINE)
    assert listed == NAMES
    for command in COMMANDS:
        assert f"/{command.name} {command.summary}，如 {command.example}" in text
    coordinators = text.split("协调人（省政府残工委办公室）命令：")[1]
    assert re.findall(r"^/(\w+) ", coordinators, flags=re.MULTILINE) == [
        c.name for c in COMMANDS if c.role == "coordinator"
    ]


def test_menu_offers_the_everyday_commands_not_the_coordinators() -> None:
    assert [c.name for c in menu()] == [c.name for c in COMMANDS if c.menu]
    assert {"start", "help", "note"} <= {c.name for c in menu()}
    assert not any(c.menu for c in COMMANDS if c.role == "coordinator")


def test_telegram_registers_a_handler_for_exactly_the_registry(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_proxies(monkeypatch)
    app = build_application(Config(telegram_token="123:ABC"), assistant)
    registered = [
        name
        for handlers in app.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for name in sorted(handler.commands)
    ]
    assert sorted(registered) == sorted(NAMES)


@pytest.fixture
async def console(assistant: Assistant, tmp_path: Path) -> AsyncIterator[Console]:
    async with await Store.open(tmp_path / "bot.sqlite3", system_clock) as store:
        yield Console(make_core(assistant, store, {LOCAL_USER.id}), out_dir=tmp_path)


async def test_terminal_chat_has_exactly_the_registry(console: Console) -> None:
    assert sorted(console.core.commands) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
async def test_every_command_is_understood_in_the_terminal_chat(
    console: Console, name: str
) -> None:
    out = await console.handle(f"/{name}")
    assert out.strip()
    assert "没有这个命令" not in out

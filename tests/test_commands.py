"""The command registry is the single source: help, Telegram and the terminal chat follow it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.ext import CommandHandler

from bot.ask import compose
from bot.ask.assistant import Assistant
from bot.ask.catalog import load_catalog
from bot.clock import system_clock
from bot.commands import BY_NAME, COMMANDS, menu
from bot.config import Config
from bot.reply import render_plain
from bot.store import Store
from handlers.console import LOCAL_USER, Console
from handlers.telegram.app import build_application
from tests.cores import make_core
from tests.fakes.bot_api import FakeBotApi
from tests.harness import Users, clear_proxies, keyboard, running
from tests.test_catalog import build_data

NAMES = [c.name for c in COMMANDS]


def test_names_are_unique_lowercase_telegram_commands() -> None:
    assert len(set(NAMES)) == len(NAMES) == len(BY_NAME)
    assert all(re.fullmatch(r"[a-z0-9_]{1,32}", name) for name in NAMES)
    assert all(c.example.startswith(f"/{c.name}") for c in COMMANDS)


def test_help_lists_exactly_the_registry_in_order(assistant: Assistant) -> None:
    sample = assistant.example()
    text = render_plain(compose.help_reply(sample))
    listed = re.findall(r"^/(\w+) ", text, flags=re.MULTILINE)
    assert listed == NAMES
    for command in COMMANDS:
        assert f"/{command.name} {command.summary}，如 {command.example_of(sample)}" in text
    coordinators = text.split("协调人命令：")[1]
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


# -- /doc: several documents, in every channel --------------------------------------------------


@pytest.fixture(scope="module")
def two_docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_data(tmp_path_factory.mktemp("docs") / "data")


async def test_doc_lists_and_switches_documents_in_the_terminal_chat(
    two_docs: Path, tmp_path: Path
) -> None:
    catalog = load_catalog(two_docs)
    async with await Store.open(tmp_path / "bot.sqlite3", system_clock) as store:
        console = Console(make_core(catalog, store, {LOCAL_USER.id}), out_dir=tmp_path)

        listing = await console.handle("/doc")
        assert "川残工委〔2022〕4号（当前）" in listing
        assert "国发〔2019〕3号" in listing
        switched = await console.handle("[国发〔2019〕3号]")  # its button, typed
        assert "已切换到" in switched
        assert "国发〔2019〕3号" in switched
        answer = await console.handle("海关总署负责什么")
        assert answer.startswith("出自：国发〔2019〕3号")
        assert "文物" in answer
        # A question naming another document is answered from that one, this once.
        assert (await console.handle("4号文里人社厅负责什么")).startswith("出自：川残工委")
        assert (await console.handle("/doc 农机")).startswith("已切换到")
        assert (await console.handle("/unit 财政部")).startswith("出自：国发〔2018〕42号")


ME, OTHER = 501, 502


async def test_doc_switches_documents_on_telegram_per_chat(
    api: FakeBotApi, two_docs: Path, tmp_path: Path
) -> None:
    async with running(api, None, tmp_path / "db", data_dir=two_docs):
        users = Users(api)
        listing = await users.say(ME, "/doc")
        assert "川残工委〔2022〕4号（当前）" in listing["rendered_text"]
        actions = [b["callback_data"] for row in keyboard(listing) for b in row]
        zongbao = next(a for a in actions if a.startswith("doc:") and "zongbao" in a)
        switched = await users.open(listing, zongbao)
        assert switched["rendered_text"].startswith("已切换到")
        answer = await users.say(ME, "海关总署负责什么")
        assert answer["rendered_text"].startswith("出自：国发〔2019〕3号")
        # Another person's chat still reads the default document.
        other = await users.say(OTHER, "海关总署负责什么")
        assert other["rendered_text"].startswith("出自：川残工委〔2022〕4号")

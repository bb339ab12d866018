"""Shared harness for the end-to-end tests on Telegram (questions, members, notes, reminders).

The real Application from build_application runs against the fake Bot API (tests/fakes), with
a real SQLite file, coordinators from Config and a clock the test moves. Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.ask.assistant import Assistant
from bot.clock import TZ, Clock, system_clock
from bot.config import Config, ReminderConfig
from bot.documents.plan import DATA_DIR
from bot.store import Store
from handlers.telegram.app import App, build_application, scheduler_of
from handlers.telegram.handlers import FAILED, polling_error_callback
from tests.fakes.bot_api import MAX_MESSAGE_LENGTH, NOT_MODIFIED, FakeBotApi
from tests.fakes.clock import FakeClock

TOKEN = "123:ABC"
COORDINATOR = 900
COORDINATOR_2 = 901
SETTLER = 999  # asks a question to know that every earlier update was handled
HRSS = "人力资源社会保障厅"  # what 人社厅 stands for
ZHANG, LI, WANG, ZHAO, QIAN = 101, 102, 103, 104, 105
NAMES = {  # the fake Bot API's `api` fixture (tests/conftest.py) knows them by these names
    ZHANG: "张三",
    LI: "李四",
    WANG: "王五",
    ZHAO: "赵六",
    QIAN: "钱七",
    COORDINATOR: "办公室",
    COORDINATOR_2: "办公室乙",
}


def shanghai(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


ROOT = Path(__file__).resolve().parents[1]

# The applications `running` runs now, so that `Users.settle` can see their work in flight.
_RUNNING: list[App] = []


@contextlib.asynccontextmanager
async def running(
    api: FakeBotApi,
    assistant: Assistant | None,
    db_path: Path,
    clock: Clock = system_clock,
    *,
    coordinators: Iterable[int | str] = (COORDINATOR,),
    reminder_interval: float = 3600.0,
    reminders: ReminderConfig | None = None,
    data_dir: Path | None = None,
) -> AsyncIterator[App]:
    """Run the bot's Application on the test's loop, in run_polling's order.

    With no `assistant`, the documents are loaded from `data_dir` as `make run` loads them.

    initialize, post_init, start, start_polling … stop polling, stop, post_stop, shutdown,
    post_shutdown. run_polling also hands polling errors (409 …) to the error handlers:
    polling_error_callback does that for an application started by hand. With `data_dir`,
    the bot loads every document of that folder (as it does in production), not `assistant`.
    """
    config = Config(
        telegram_token=api.token,
        telegram_base_url=api.base_url,
        db_path=db_path,
        coordinators=frozenset(c if isinstance(c, str) else f"tg:{c}" for c in coordinators),
        reminders=reminders or ReminderConfig(),
        data_dir=data_dir or DATA_DIR,
    )
    served = None if data_dir else assistant
    app = build_application(config, served, clock=clock, reminder_interval=reminder_interval)
    async with app:  # initialize … shutdown
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0,
            timeout=dt.timedelta(seconds=1),
            error_callback=polling_error_callback(app),
        )
        _RUNNING.append(app)
        try:
            yield app
        finally:
            _RUNNING.remove(app)
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
                if app.post_stop is not None:
                    await app.post_stop(app)
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


async def crash_jobs(app: App) -> None:
    """Kill the running reminder check mid-way, as a crash would, and schedule no more.

    Cancelling the scheduler's task stops a fan-out at whatever await it is at.
    """
    scheduler = scheduler_of(app)
    assert scheduler is not None
    await scheduler.stop()


@dataclass
class Users:
    """The users' side: type, press buttons, and read what the bot did."""

    api: FakeBotApi

    async def say(self, user: int, text: str, chat: int | None = None) -> dict[str, Any]:
        """`user` writes `text` (in their private chat by default); return the bot's answer."""
        return (await self.says(user, text, 1, chat))[0]

    async def says(
        self,
        user: int,
        text: str,
        count: int,
        chat: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        """As `say`, returning the first `count` messages the bot answers with."""
        where = user if chat is None else chat
        before = len(self.api.sent_messages(where))
        self.api.send_text(where, text, user_id=user)
        messages = await self.api.wait_for_messages(where, before + count, timeout)
        return messages[before : before + count]

    async def press(
        self, message: dict[str, Any], data: str, user: int | None = None, *, strict: bool = True
    ) -> dict[str, Any]:
        """Press a button; wait until the bot answered the query; return that answer."""
        query_id = self.api.press_button(
            message["chat_id"], message["message_id"], data, user_id=user, strict=strict
        )
        await self.api.wait_for(
            lambda c: (
                c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query_id
            )
        )
        [answer] = [a for a in self.api.answered_callbacks if a["callback_query_id"] == query_id]
        return answer

    async def open(
        self, message: dict[str, Any], data: str, user: int | None = None, *, strict: bool = True
    ) -> dict[str, Any]:
        """Press a button that answers with a new message in the same chat; return it."""
        chat = message["chat_id"]
        before = len(self.api.sent_messages(chat))
        await self.press(message, data, user, strict=strict)
        return (await self.api.wait_for_messages(chat, before + 1))[before]

    async def edit(
        self, message: dict[str, Any], data: str, user: int | None = None
    ) -> dict[str, Any]:
        """Press a button that edits its own message; return the message as edited."""
        since = len(self.api.calls)
        await self.press(message, data, user)
        await self.api.wait_for(
            lambda c: (
                c.method == "editMessageText"
                and c.params.get("message_id") == message["message_id"]
                and c.params.get("chat_id") == message["chat_id"]
            ),
            since=since,
        )
        return self.api.message(message["chat_id"], message["message_id"])

    async def settle(self) -> None:
        """Wait until every update queued so far was handled, in every chat.

        Updates are fetched in order, so once a later one is answered every earlier one was
        taken up; chats are handled concurrently, so the running applications are then
        watched until none is handling an update any more.
        """
        await self.say(SETTLER, "7.2")
        for _ in range(500):
            busy = [
                app
                for app in _RUNNING
                if not app.update_queue.empty() or app.update_processor.current_concurrent_updates
            ]
            if not busy:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("updates still being handled after 5 s")


# `async with bot_at() as bot`: the `bot_at` fixture (tests/conftest.py).
Start = Callable[..., contextlib.AbstractAsyncContextManager[Users]]


# --- reading messages -------------------------------------------------------------------------


def keyboard(message: dict[str, Any]) -> list[list[dict[str, Any]]]:
    markup = message["reply_markup"] or {}
    rows: list[list[dict[str, Any]]] = markup.get("inline_keyboard", [])
    return rows


def buttons(message: dict[str, Any]) -> list[str]:
    """All callback data of a message's keyboard, in order."""
    return [b["callback_data"] for row in keyboard(message) for b in row]


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in keyboard(message) for b in row]


def data_of(message: dict[str, Any], label: str) -> str:
    """The callback data of the button labelled `label`."""
    [data] = [b["callback_data"] for row in keyboard(message) for b in row if b["text"] == label]
    return str(data)


def text(message: dict[str, Any]) -> str:
    """The message as Telegram shows it."""
    return str(message["rendered_text"])


def nav(message: dict[str, Any]) -> tuple[str, int, int] | None:
    """(token, page, count) from a message's page buttons, or None."""
    for row in keyboard(message):
        counter = next((b["text"] for b in row if re.fullmatch(r"\d+/\d+", b["text"])), None)
        if counter is None:
            continue
        page, count = (int(n) for n in counter.split("/"))
        pages = [b["callback_data"] for b in row if b["callback_data"].startswith("pg:")]
        return (pages[0].split(":")[1] if pages else ""), page, count
    return None


# --- the database -----------------------------------------------------------------------------


def rows(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the bot's database from a separate connection (as another process would)."""
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        return list(db.execute(sql, params))


def snapshot(db_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a forbidden action could change (users' last-seen times, and the reminder
    job's bookkeeping in `state`, left out)."""
    tables = ("members", "bind_requests", "invites", "notes", "deliveries")
    return {t: rows(db_path, f"SELECT * FROM {t} ORDER BY rowid") for t in tables}


async def bind_directly(
    db_path: Path,
    clock: FakeClock,
    members: Iterable[tuple[int, str]],
    *,
    private: bool = True,
    names: dict[int, str] | None = None,
) -> None:
    """Bind members in the database before the bot starts (as approvals would have)."""
    async with await Store.open(db_path, clock) as store:
        for user_id, unit in members:
            name = (names or {}).get(user_id, f"User{user_id}")
            await store.members.bind(f"tg:{user_id}", name, unit, f"tg:{COORDINATOR}")
            if private:
                await store.users.upsert(f"tg:{user_id}", name, private_chat=True)


def check_every_send(api: FakeBotApi, *, refused: Iterable[int] = ()) -> None:
    """Every message and edit fits and is HTML; only flood control, a no-op edit or the
    statuses in `refused` (403 blocked, 400 chat not found) failed; no "出错了" was sent."""
    allowed = {429, *refused}
    for call in api.calls:
        if call.method not in ("sendMessage", "editMessageText"):
            continue
        if call.ok:
            assert len(call.params["text"].encode("utf-16-le")) // 2 <= MAX_MESSAGE_LENGTH
            assert call.params.get("parse_mode") == "HTML"
        else:
            assert call.response is not None
            assert call.status in allowed or call.response["description"] == NOT_MODIFIED, call
    assert [m for m in api.sent_messages() if m["text"] == FAILED] == []
    assert api.unknown_methods == []


def clear_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset proxy variables, whatever the machine running the tests sets."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@contextlib.asynccontextmanager
async def bot_process(
    api: FakeBotApi, db_path: Path, extra: dict[str, str] | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run `python -m bot run` against the fake Bot API; its whole output on stdout."""
    ours = ("TELEGRAM_", "FENGONG_", "WECOM_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env |= {
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "FENGONG_DB": str(db_path),
        "PTB_TIMEDELTA": "true",
        **(extra or {}),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()

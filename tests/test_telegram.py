"""End to end: the real Application from build_application, polling the fake Bot API over HTTP.

Nothing in the bot is mocked: every assertion is on what the fake server recorded (the raw HTML
sent, its parse mode, the inline keyboard, and the text as Telegram would render it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import AIORateLimiter

from bot.ask.assistant import Assistant
from bot.commands import COMMANDS
from bot.config import Config, load_config
from bot.core import EXPIRED, UNKNOWN
from bot.documents.plan import Measure
from bot.reply import Button, Item, Reply, line, text_of
from handlers.telegram import render
from handlers.telegram.app import App, build_application, file_url
from handlers.telegram.handlers import EDITED, FAILED, NOT_TEXT
from handlers.telegram.processor import PerChatProcessor
from handlers.telegram.transport import AiohttpRequest
from tests.fakes.bot_api import BOT_USERNAME, MAX_MESSAGE_LENGTH, NOT_MODIFIED, FakeBotApi
from tests.harness import bot_process, clear_proxies, running

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123:ABC"
USER = 42
OTHER_USER = 43  # a second private chat, used to know that earlier updates were handled
GROUP = -1001234
MEMBER = 7
HRSS = "人力资源社会保障厅"  # what 人社厅 stands for
MEASURE_LINE = re.compile(r"^(\d+\.\d+) 【", re.MULTILINE)
EXPECTED_COMMANDS = [{"command": c.name, "description": c.summary} for c in COMMANDS if c.menu]


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN) as fake:
        yield fake


@dataclass
class Chat:
    """The user's side: type, press buttons, and read what the bot did."""

    api: FakeBotApi
    app: App
    assistant: Assistant
    errors_expected: bool = False

    async def ask(self, text: str, chat: int = USER, **kwargs: Any) -> dict[str, Any]:
        """Send `text` and return the bot's (first) answer to it."""
        before = len(self.api.sent_messages(chat))
        self.api.send_text(chat, text, **kwargs)
        return (await self.api.wait_for_messages(chat, count=before + 1))[before]

    async def press(self, message: dict[str, Any], data: str, *, strict: bool = True) -> str:
        """Press a button and wait until the bot has answered the callback query."""
        query_id = self.api.press_button(
            message["chat_id"], message["message_id"], data, strict=strict
        )
        await self.api.wait_for(
            lambda c: (
                c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query_id
            )
        )
        return query_id

    async def turn_page(self, message: dict[str, Any], data: str) -> dict[str, Any]:
        """Press a page button; return the message once the bot has edited it."""
        since = len(self.api.calls)
        await self.press(message, data)
        await self.api.wait_for(
            lambda c: (
                c.method == "editMessageText"
                and c.params.get("message_id") == message["message_id"]
            ),
            since=since,
        )
        return self.api.message(message["chat_id"], message["message_id"])

    async def open(self, message: dict[str, Any], data: str) -> dict[str, Any]:
        """Press a button that answers with a new message, and return it."""
        chat = message["chat_id"]
        before = len(self.api.sent_messages(chat))
        await self.press(message, data)
        return (await self.api.wait_for_messages(chat, count=before + 1))[before]

    async def settle(self) -> None:
        """Wait until every update queued so far has been handled.

        Updates are handled one at a time, in order: once a later question is answered, the
        earlier ones are done with, answered or not.
        """
        await self.ask("7.2", chat=OTHER_USER)

    def pages(self, message: dict[str, Any]) -> tuple[str, int, int] | None:
        """Return (token, page, count) from the page buttons of a message, or None."""
        for row in keyboard(message):
            labels = [b["text"] for b in row]
            counter = next((t for t in labels if re.fullmatch(r"\d+/\d+", t)), None)
            if counter is None:
                continue
            page, count = (int(n) for n in counter.split("/"))
            datas = [b["callback_data"] for b in row if b["callback_data"].startswith("pg:")]
            token = datas[0].split(":")[1] if datas else ""
            return token, page, count
        return None


@pytest.fixture
async def chat(
    api: FakeBotApi, assistant: Assistant, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> AsyncIterator[Chat]:
    async with running(api, assistant, tmp_path / "fengong.db") as app:
        c = Chat(api, app, assistant)
        yield c
    assert api.unknown_methods == []
    check_every_send(api)
    if not c.errors_expected:
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [], [r.getMessage() for r in errors]
        assert [m for m in api.sent_messages() if m["text"] == FAILED] == []


def check_every_send(api: FakeBotApi) -> None:
    """Every message and edit fits Telegram's limit; only flood control or an edit that changes
    nothing was refused."""
    for call in api.calls:
        if call.method not in ("sendMessage", "editMessageText"):
            continue
        if call.ok:
            assert utf16(call.params["text"]) <= MAX_MESSAGE_LENGTH
            assert call.params.get("parse_mode") == "HTML"
        else:
            assert call.response is not None
            assert call.status == 429 or call.response["description"] == NOT_MODIFIED, call


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def keyboard(message: dict[str, Any]) -> list[list[dict[str, Any]]]:
    markup = message["reply_markup"] or {}
    rows: list[list[dict[str, Any]]] = markup.get("inline_keyboard", [])
    return rows


def buttons(message: dict[str, Any]) -> list[str]:
    """All callback data of a message's keyboard, in order."""
    return [b["callback_data"] for row in keyboard(message) for b in row]


def detail_buttons(message: dict[str, Any]) -> list[str]:
    return [d.removeprefix("m:") for d in buttons(message) if d.startswith("m:")]


def lines(message: dict[str, Any]) -> list[str]:
    text: str = message["rendered_text"]
    return text.split("\n")


def measure_ids(message: dict[str, Any]) -> list[str]:
    return MEASURE_LINE.findall(message["rendered_text"])


def unit_measures(assistant: Assistant, unit: str) -> tuple[list[Measure], list[Measure]]:
    """The unit's own measures and the shared duties of every provincial unit, in plan order."""
    plan = assistant.plan
    own = [m for m in plan.measures if unit in m.units and not m.all_provincial]
    shared = [m for m in plan.measures if m.all_provincial]
    return own, shared


# --------------------------------------------------------------------------------------------
# Startup, /start, /help
# --------------------------------------------------------------------------------------------


async def test_startup_registers_the_command_menu(api: FakeBotApi, chat: Chat) -> None:
    assert api.commands() == EXPECTED_COMMANDS
    [call] = api.calls_of("setMyCommands")
    assert call.ok
    menu = {c["command"]: c["description"] for c in api.commands()}
    assert menu.keys() >= {"start", "help", "unit", "task", "find"}
    assert menu["unit"] == "查询某单位负责的举措"
    assert all(re.search(r"[\u4e00-\u9fff]", d) for d in menu.values())  # described in Chinese
    assert chat.app.bot.username == BOT_USERNAME


async def test_start_greets_with_example_buttons_that_answer(chat: Chat) -> None:
    greeting = await chat.ask("/start")

    assert greeting["parse_mode"] == "HTML"
    assert lines(greeting)[0] == "您好，我是分工助手。"
    assert "16 项主要任务" in greeting["rendered_text"]
    assert {"type": "bold", "offset": 0, "length": len("您好，我是分工助手。")} in greeting[
        "entities"
    ]
    examples = chat.assistant.lexicon.examples
    assert keyboard(greeting) == [
        [{"text": example, "callback_data": f"ex:{i}"}] for i, example in enumerate(examples[:4])
    ]

    answer = await chat.open(greeting, "ex:1")  # 盲人按摩归谁管？
    assert lines(answer)[0] == "与「盲人按摩」最相关的 2 项举措："
    assert measure_ids(answer) == ["8.1", "8.2"]
    assert chat.api.answered_callbacks[-1].keys() == {"callback_query_id"}  # no alert


async def test_help_lists_the_commands(chat: Chat) -> None:
    reply = await chat.ask("/help")
    assert lines(reply)[0] == "使用说明"
    for command in EXPECTED_COMMANDS:
        assert f"/{command['command']} {command['description']}，如 " in reply["rendered_text"]
    codes = [e for e in reply["entities"] if e["type"] == "code"]
    assert len(codes) == len(COMMANDS)
    assert reply["reply_markup"] is None


# --------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------


async def test_unit_question_lists_every_measure_once_with_shared_duties_last(
    chat: Chat,
) -> None:
    first = await chat.ask("人社厅负责哪些任务")
    own, shared = unit_measures(chat.assistant, HRSS)
    unit = chat.assistant.plan.unit(HRSS)
    assert unit is not None
    assert first["text"].startswith(f"<b>{HRSS}</b>")
    tasks = len({m.task for m in [*own, *shared]})
    total = len(own) + len(shared)
    assert lines(first)[:2] == [
        f"{HRSS}（{unit.full_name}）",
        f"负责 {total} 项举措，涉及 {tasks} 项主要任务（含 {len(shared)} 项全体省级部门共同职责）"
        "：",
    ]

    nav = chat.pages(first)
    assert nav is not None
    token = nav[0]
    pages = [first]
    while (shown := chat.pages(pages[-1])) is not None and shown[1] < shown[2]:
        pages.append(await chat.turn_page(first, f"pg:{token}:{shown[1]}"))
    assert len(pages) == nav[2]

    # One line per measure, own measures first and the shared duties grouped at the end, each
    # with its detail button on the same page.
    assert [i for p in pages for i in measure_ids(p)] == [m.id for m in own + shared]
    for page in pages:
        assert detail_buttons(page) == measure_ids(page)
        assert lines(page)[:2] == lines(first)[:2]  # the header is on every page
    marker = "共同职责（省级有关部门（单位）均须落实）"
    assert [p["rendered_text"].count(marker) for p in pages] == [0] * (len(pages) - 1) + [1]
    last = lines(pages[-1])
    after = last[last.index(marker) + 1 :]
    assert MEASURE_LINE.findall("\n".join(after)) == [m.id for m in shared]

    # A detail button sends the measure in full, with every responsible unit.
    page = pages[-1]  # the message now shows its last page
    for measure in (shared[0], own[0]):
        while measure.id not in detail_buttons(page):  # back, one page at a time
            shown = chat.pages(page)
            assert shown is not None
            page = await chat.turn_page(page, f"pg:{token}:{shown[1] - 2}")
        detail = await chat.open(page, f"m:{measure.id}")
        title = chat.assistant.plan.tasks[measure.task - 1].title
        assert lines(detail)[0] == f"举措 {measure.id}（主要任务{measure.task}：{title}）"
        assert measure.text in detail["rendered_text"]
        units = next(ln for ln in lines(detail) if ln.startswith("责任单位："))
        for name in measure.units:
            assert name in units
        if measure.all_provincial:
            assert "省级有关部门（单位）" in units


async def test_topic_question(chat: Chat) -> None:
    reply = await chat.ask("盲人按摩归谁管")
    assert lines(reply)[0] == "与「盲人按摩」最相关的 2 项举措："
    assert measure_ids(reply) == ["8.1", "8.2"]
    assert detail_buttons(reply) == ["8.1", "8.2"]
    responsible = [ln for ln in lines(reply) if ln.startswith("责任单位：")]
    assert len(responsible) == 2
    assert all(HRSS in ln for ln in responsible)
    assert chat.pages(reply) is None


@pytest.mark.parametrize("question", ["/task 8", "第八项任务", "/task 第八项"])
async def test_task_question(chat: Chat, question: str) -> None:
    reply = await chat.ask(question)
    task = chat.assistant.plan.task(8)
    assert task is not None
    assert lines(reply)[0] == f"主要任务8：{task.title}"
    for measure in task.measures:
        assert f"{measure.id} {measure.text}" in reply["rendered_text"]
    assert detail_buttons(reply) == [m.id for m in task.measures]


async def test_unit_command_answers_like_the_question(chat: Chat) -> None:
    by_command = await chat.ask("/unit 人社厅")
    by_question = await chat.ask("人社厅负责哪些任务")
    assert lines(by_command)[0].startswith(HRSS)
    assert by_command["rendered_text"] == by_question["rendered_text"]
    assert chat.pages(by_command) is not None


async def test_find_command(chat: Chat) -> None:
    reply = await chat.ask("/find 盲人按摩")
    assert lines(reply)[0] == "与「盲人按摩」最相关的 2 项举措："
    assert measure_ids(reply) == ["8.1", "8.2"]


async def test_measure_id(chat: Chat) -> None:
    reply = await chat.ask("7.2")
    measure = chat.assistant.plan.measure("7.2")
    assert measure is not None
    assert lines(reply)[0] == "举措 7.2（主要任务7：实施残疾人就业帮扶行动）"
    assert measure.text in lines(reply)
    assert lines(reply)[-1] == "责任单位：" + "、".join(measure.units)
    assert reply["reply_markup"] is None


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/unit", "请在命令后写单位名称，例如：/unit 人社厅"),
        ("/find", "请在命令后写关键词，例如：/find 盲人按摩"),
        ("/task", "请写任务编号 1–16，例如：/task 8"),
        ("/task 99", "没有第99项任务：主要任务共 16 项（1–16）。"),
        ("/unit 不存在的厅", "没有找到名为「不存在的厅」的单位。"),
        ("/nosuchcommand", UNKNOWN.format("nosuchcommand")),
    ],
)
async def test_commands_without_a_usable_argument(chat: Chat, command: str, expected: str) -> None:
    reply = await chat.ask(command)
    assert reply["rendered_text"].startswith(expected)


async def test_no_match_is_short_and_honest_with_suggestions(chat: Chat) -> None:
    reply = await chat.ask("今天天气怎么样")
    assert lines(reply) == [
        "抱歉，责任分工文件中没有找到与「今天天气怎么样」相关的内容。",
        "可以问某个单位负责什么、某项工作由谁负责、第几项任务或某条举措编号，例如：",
    ]
    assert buttons(reply) == ["ex:0", "ex:1", "ex:2", "ex:3"]
    suggestion = await chat.open(reply, "ex:0")
    assert lines(suggestion)[0].startswith(HRSS)


# --------------------------------------------------------------------------------------------
# Pagination and buttons
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question", ["人社厅负责哪些任务", "省残联负责哪些任务"], ids=["人社厅", "省残联"]
)
async def test_pages_edit_the_same_message(chat: Chat, question: str) -> None:
    first = await chat.ask(question)
    nav = chat.pages(first)
    assert nav is not None
    token, page, count = nav
    assert (page, count) == (1, count)
    assert count >= 2
    assert [b["text"] for b in keyboard(first)[-1]] == [f"1/{count}", "下一页 ›"]
    sent = len(chat.api.sent_messages())

    second = await chat.turn_page(first, f"pg:{token}:1")
    assert second["message_id"] == first["message_id"]
    assert second["edit_date"] is not None
    assert chat.pages(second) == (token, 2, count)
    labels = [b["text"] for b in keyboard(second)[-1]]
    assert labels == ["‹ 上一页", f"2/{count}"] + (["下一页 ›"] if count > 2 else [])
    assert set(measure_ids(second)).isdisjoint(measure_ids(first))

    back = await chat.turn_page(second, f"pg:{token}:0")
    assert back["rendered_text"] == first["rendered_text"]
    assert back["reply_markup"] == first["reply_markup"]

    last = back
    while (shown := chat.pages(last)) is not None and shown[1] < count:
        last = await chat.turn_page(last, f"pg:{token}:{shown[1]}")
    assert chat.pages(last) == (token, count, count)
    assert [b["text"] for b in keyboard(last)[-1]] == ["‹ 上一页", f"{count}/{count}"]

    assert len(chat.api.sent_messages()) == sent  # pages never send a new message
    edits = chat.api.calls_of("editMessageText")
    assert edits
    assert all(c.ok for c in edits)
    assert all(len(m["rendered_text"]) <= MAX_MESSAGE_LENGTH for m in chat.api.sent_messages())


async def test_pressing_the_same_page_twice_is_no_error(chat: Chat) -> None:
    first = await chat.ask("人社厅负责哪些任务")
    nav = chat.pages(first)
    assert nav is not None
    data = f"pg:{nav[0]}:1"
    # Two quick presses of the same button: both reach the bot before it edits the message.
    first_press = chat.api.press_button(USER, first["message_id"], data)
    second_press = chat.api.press_button(USER, first["message_id"], data)
    await chat.api.wait_for("editMessageText", count=2)
    await chat.settle()

    answered = [a["callback_query_id"] for a in chat.api.answered_callbacks]
    assert first_press in answered
    assert second_press in answered
    assert all("text" not in a for a in chat.api.answered_callbacks)
    statuses = [c.status for c in chat.api.calls_of("editMessageText")]
    assert statuses == [200, 400]  # the second edit changes nothing: Telegram says so
    assert chat.pages(chat.api.message(USER, first["message_id"])) == (nav[0], 2, nav[2])

    # The counter button is acknowledged and changes nothing.
    shown = chat.api.message(USER, first["message_id"])
    await chat.press(shown, "noop")
    await chat.settle()
    assert chat.api.message(USER, first["message_id"]) == shown
    # (the chat fixture checks that no error was logged and no "出错了" was sent)


async def test_stale_or_forged_buttons_expire_and_change_nothing(chat: Chat) -> None:
    first = await chat.ask("人社厅负责哪些任务")
    nav = chat.pages(first)
    assert nav is not None
    token, _, count = nav
    sent = len(chat.api.sent_messages())
    forged = [
        "pg:nonexistent:1",
        f"pg:{token}:{count}",  # one page past the end
        f"pg:{token}:x",
        "pg:",
        "m:99.9",
        "m:",
        "ex:99",
        "ex:-1",
        "xyz",
    ]
    for data in forged:
        query_id = await chat.press(first, data, strict=False)
        assert chat.api.answered_callbacks[-1] == {
            "callback_query_id": query_id,
            "text": EXPIRED,
            "show_alert": True,
        }, data
    await chat.settle()
    assert chat.api.message(USER, first["message_id"]) == first
    assert len(chat.api.sent_messages()) == sent + 1  # only settle()'s answer
    assert chat.api.calls_of("editMessageText") == []


# --------------------------------------------------------------------------------------------
# Whatever the user types
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "echoed"),
    [
        (
            "<b>粗体</b> & <i 未闭合 <script>alert(1)</script>",
            "&lt;b&gt;粗体&lt;/b&gt; &amp; &lt;i 未闭合 &lt;script&gt;alert(1)&lt;/script&gt;",
        ),
        ("/unit <b>&<i", "&lt;b&gt;&amp;&lt;i"),
        ("/find <script>&amp;", "&lt;script&gt;&amp;amp;"),
        ("人社厅 <b>&lt;", None),  # a unit with an unknown topic: answered, nothing echoed raw
    ],
)
async def test_user_text_is_escaped(chat: Chat, text: str, echoed: str | None) -> None:
    reply = await chat.ask(text)
    [call] = [c for c in chat.api.calls_of("sendMessage") if c.params["chat_id"] == USER]
    assert call.ok  # the fake rejects invalid HTML with 400
    if echoed is not None:
        assert echoed in reply["text"]
        assert (
            echoed.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
            in (reply["rendered_text"])
        )
    assert {e["type"] for e in reply["entities"]} <= {"bold", "italic", "code"}


@pytest.mark.parametrize(
    "text",
    [
        "人社厅" * 1700,
        "<" * 5000,
        "&" * 5000,
        "盲人按摩" * 1250,
        "/find " + "残疾人" * 1666,
        "/unit " + "x" * 5000,
        "/task " + "一" * 5000,
        "/task " + "9" * 4000,
        "第" + "9" * 4998 + "项",
        "、".join(["省残联", "教育厅", "人社厅", "省卫生健康委"] * 400)[:5000],
    ],
    ids=lambda t: f"{t[:8]}…{len(t)}",
)
async def test_every_message_fits_whatever_the_question(chat: Chat, text: str) -> None:
    reply = await chat.ask(text)
    assert reply["text"] != FAILED
    pages = [reply]
    while (nav := chat.pages(pages[-1])) is not None and nav[1] < nav[2]:
        pages.append(await chat.turn_page(reply, f"pg:{nav[0]}:{nav[1]}"))
    for page in pages:
        assert len(page["rendered_text"]) <= MAX_MESSAGE_LENGTH
        assert utf16(page["text"]) <= MAX_MESSAGE_LENGTH
    # (and the chat fixture checks every send and edit the fake recorded)


async def test_a_task_number_of_any_length_is_out_of_range(chat: Chat) -> None:
    reply = await chat.ask("/task " + "9" * 5000)  # once a ValueError from int()
    assert reply["rendered_text"].startswith("没有第9")
    assert reply["rendered_text"].endswith("项任务：主要任务共 16 项（1–16）。")


@pytest.mark.parametrize(
    ("header", "footer"),
    [("头" * 5000, ""), ("<&>" * 1400, ""), ("头" * 3000, "尾" * 3000), ("", "尾" * 9000)],
    ids=["header", "escaped-header", "both", "footer"],
)
def test_pages_fit_even_around_a_header_or_footer_too_long(header: str, footer: str) -> None:
    """Should the core ever echo a huge text in a header, no message goes over the limit."""
    items = tuple(Item((line(f"项目{i}"),), (Button(f"{i} 详情", f"m:{i}"),)) for i in range(3))
    reply = Reply(
        header=(line(header),) if header else (),
        items=items,
        footer=(line(footer),) if footer else (),
    )
    pages = render.pages(reply)
    assert len(pages) > 1
    assert all(len(p.html.encode("utf-16-le")) // 2 <= MAX_MESSAGE_LENGTH for p in pages)
    text = "".join(text_of(p.page.lines).replace("\n", "") for p in pages)
    assert text == header + "".join(f"项目{i}" for i in range(3)) + footer  # nothing lost
    assert [b.callback_data for p in pages for row in p.rows for b in row] == ["m:0", "m:1", "m:2"]


# --------------------------------------------------------------------------------------------
# Groups, other kinds of messages
# --------------------------------------------------------------------------------------------


async def test_group_answers_only_what_is_addressed_to_the_bot(chat: Chat) -> None:
    api = chat.api
    api.send_text(GROUP, "人社厅负责哪些任务", user_id=MEMBER)  # chatter: not for the bot
    api.send_text(GROUP, "/help@some_other_bot", user_id=MEMBER)
    api.send_text(GROUP, "/nosuchcommand", user_id=MEMBER)
    api.send_sticker(GROUP, user_id=MEMBER)
    await chat.settle()
    assert api.sent_messages(GROUP) == []

    mention = await chat.ask(f"@{BOT_USERNAME} 人社厅负责哪些任务", chat=GROUP, user_id=MEMBER)
    assert lines(mention)[0].startswith(HRSS)
    upper = await chat.ask(f"7.2 @{BOT_USERNAME.upper()}", chat=GROUP, user_id=MEMBER)
    assert lines(upper)[0].startswith("举措 7.2")

    reply = await chat.ask(
        "盲人按摩归谁管", chat=GROUP, user_id=MEMBER, reply_to_message_id=mention["message_id"]
    )
    assert measure_ids(reply) == ["8.1", "8.2"]

    help_reply = await chat.ask(f"/help@{BOT_USERNAME}", chat=GROUP, user_id=MEMBER)
    assert lines(help_reply)[0] == "使用说明"
    unit = await chat.ask("/unit 教育厅", chat=GROUP, user_id=MEMBER)
    assert lines(unit)[0].startswith("教育厅")

    # A reply to another member is chatter too.
    other = api.send_text(GROUP, "谁负责？", user_id=MEMBER + 1)
    api.send_text(
        GROUP, "不知道", user_id=MEMBER, reply_to_message_id=other["message"]["message_id"]
    )
    await chat.settle()
    assert len(api.sent_messages(GROUP)) == 5

    # Buttons work in groups as in private chats.
    nav = chat.pages(mention)
    assert nav is not None
    second = await chat.turn_page(mention, f"pg:{nav[0]}:1")
    assert chat.pages(second) == (nav[0], 2, nav[2])


async def test_answers_reply_to_the_question_in_groups_only(chat: Chat) -> None:
    """In a group the answer quotes the message it answers; in a private chat it stands
    alone (as python-telegram-bot's reply_text sent it). Its page buttons come along."""
    api = chat.api
    asked = api.send_text(GROUP, f"/unit@{BOT_USERNAME} 省残联", user_id=MEMBER)
    [answer] = await api.wait_for_messages(GROUP)
    assert answer["reply_to_message_id"] == asked["message"]["message_id"]
    assert chat.pages(answer) is not None
    alone = await chat.ask("/unit 省残联")
    assert alone["reply_to_message_id"] is None
    assert chat.pages(alone) is not None


async def test_non_text_messages_get_a_hint_and_edits_are_answered(chat: Chat) -> None:
    api = chat.api
    api.send_sticker(USER)
    api.send_photo(USER, caption="人社厅负责哪些任务")
    api.send_voice(USER)
    api.send_document(USER, b"%PDF-1.4", "问题.pdf")
    hints = await api.wait_for_messages(USER, count=4)
    assert [m["text"] for m in hints] == [NOT_TEXT] * 4
    assert all(m["reply_markup"] is None for m in hints)

    question = api.send_text(USER, "7.2")
    await api.wait_for_messages(USER, count=5)
    # An edit is not read again: the user is told to send it anew, once.
    api.edit_text(USER, question["message"]["message_id"], "人社厅负责哪些任务")
    await chat.settle()
    [*_, edited] = api.sent_messages(USER)
    assert len(api.sent_messages(USER)) == 6
    assert edited["text"] == EDITED

    # In a group only an edit of a message addressed to the bot is answered.
    chatter = api.send_text(GROUP, "大家好", user_id=USER, chat_type="supergroup")
    asked = api.send_text(GROUP, f"@{BOT_USERNAME} 7.2", user_id=USER, chat_type="supergroup")
    await api.wait_for_messages(GROUP, count=1)
    api.edit_text(GROUP, chatter["message"]["message_id"], "大家早上好")
    api.edit_text(GROUP, asked["message"]["message_id"], f"@{BOT_USERNAME} 7.3")
    await chat.settle()
    assert [m["text"] for m in api.sent_messages(GROUP)][1:] == [EDITED]


# --------------------------------------------------------------------------------------------
# Failures
# --------------------------------------------------------------------------------------------


class Exploding(Assistant):
    """The real assistant, except that questions mentioning 爆炸 raise."""

    def ask(self, question: str) -> Reply:
        if "爆炸" in question:
            raise RuntimeError("测试用的故障")
        return super().ask(question)


async def test_a_failing_handler_apologises_and_the_bot_goes_on(
    api: FakeBotApi, assistant: Assistant, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    exploding = Exploding(assistant.plan, assistant.lexicon, assistant.engine)
    async with running(api, exploding, tmp_path / "fengong.db") as app:
        chat = Chat(api, app, exploding)
        apology = await chat.ask("爆炸了吗")
        assert apology["text"] == FAILED
        assert apology["parse_mode"] == "HTML"
        answer = await chat.ask("盲人按摩归谁管")
        assert measure_ids(answer) == ["8.1", "8.2"]

    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.name == "handlers.telegram.handlers"
    assert record.getMessage().startswith("处理更新时出错")
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


async def test_flood_control_delays_but_drops_nothing(chat: Chat) -> None:
    chat.api.flood(5, retry_after=1)
    for question in ("7.2", "第八项任务", "/help"):
        chat.api.send_text(USER, question)
    messages = await chat.api.wait_for_messages(USER, count=3, timeout=15)

    assert [lines(m)[0] for m in messages] == [
        "举措 7.2（主要任务7：实施残疾人就业帮扶行动）",
        "主要任务8：实施盲人按摩就业促进行动",
        "使用说明",
    ]
    statuses = [c.status for c in chat.api.calls_of("sendMessage")]
    assert statuses == [429] * 5 + [200] * 3


async def test_conflict_stops_polling(chat: Chat, caplog: pytest.LogCaptureFixture) -> None:
    chat.errors_expected = True  # PTB logs the 409 of its last getUpdates on the way out
    updater = chat.app.updater
    assert updater is not None
    assert (await chat.ask("7.2"))["rendered_text"].startswith("举措 7.2")
    since = len(chat.api.calls)

    chat.api.conflict(True)
    async with asyncio.timeout(5):
        while updater.running:  # noqa: ASYNC110 - the Updater offers no event to wait on
            await asyncio.sleep(0.05)

    [critical] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert "409 Conflict" in critical.getMessage()
    assert critical.name == "handlers.telegram.handlers"
    # The poll waiting when the conflict began may have been recorded before `since`.
    refused = [c for c in chat.api.calls if c.method == "getUpdates" and c.status == 409]
    later = [c for c in chat.api.calls[since:] if c.method == "getUpdates"]
    assert 1 <= len(refused) <= 2  # the refused poll, and PTB's closing one: no fighting
    assert all(c.status == 409 for c in later)


async def test_run_polling_answers_and_exits_on_conflict(api: FakeBotApi, tmp_path: Path) -> None:
    """The production entry point, `python -m bot run`, in a child process."""
    api.send_text(USER, "7.2")  # sent while the bot is down: answered when it starts
    async with bot_process(api, tmp_path / "fengong.db") as process:
        [answer] = await api.wait_for_messages(USER, timeout=15)
        assert lines(answer)[0].startswith("举措 7.2")
        assert api.commands() == EXPECTED_COMMANDS  # post_init, under run_polling
        api.conflict(True)
        async with asyncio.timeout(15):
            output, _ = await process.communicate()
    log = output.decode()
    assert process.returncode == 0, log
    assert re.search(r"CRITICAL handlers\.telegram\.handlers: .*409 Conflict", log), log


@pytest.mark.parametrize(
    ("token", "reachable", "expected"),
    [
        ("999:WRONG", True, "Telegram 不接受 TELEGRAM_BOT_TOKEN"),
        (None, False, "Telegram 服务器拒绝连接"),
        # A name that never resolves (RFC 6761): what a machine without DNS meets.
        (None, None, "找不到 Telegram 服务器的地址（域名解析失败）"),
    ],
    ids=["wrong-token", "unreachable", "no-dns"],
)
async def test_a_failed_start_says_what_to_check(
    api: FakeBotApi, tmp_path: Path, token: str | None, reachable: bool | None, expected: str
) -> None:
    """`python -m bot run` that cannot start exits with 2 and one line saying why, no traceback,
    leaving nothing open."""
    if reachable:
        base_url = api.base_url
    elif reachable is None:
        base_url = "http://api.fengong-test.invalid/bot"
    else:
        with socket.socket() as sock:  # a port nobody listens on
            sock.bind(("127.0.0.1", 0))
            base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/bot"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FENGONG_"))}
    env |= {
        "TELEGRAM_BOT_TOKEN": token or api.token,
        "TELEGRAM_API_BASE_URL": base_url,
        "FENGONG_DB": str(tmp_path / "fengong.db"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(30):
        _, stderr = await process.communicate()
    log = stderr.decode()
    assert process.returncode == 2, log
    assert log.splitlines()[-1].startswith(f"错误：{expected}"), log
    assert "Unclosed" not in log
    assert "Traceback" not in log


# --------------------------------------------------------------------------------------------
# TELEGRAM_API_BASE_URL
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot"),
        ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot"),
        ("http://127.0.0.1:8081/bot/", "http://127.0.0.1:8081/file/bot"),
        ("https://proxy.example/telegram/bot", "https://proxy.example/telegram/file/bot"),
        ("http://bot.documents.example/bot", "http://bot.documents.example/file/bot"),
        ("http://h/bot{token}", "http://h/file/bot{token}"),
        # No "bot" segment to replace: left as it is, never mangled.
        ("http://bot.documents.example/api", "http://bot.documents.example/api"),
        ("http://h/botapi", "http://h/botapi"),
    ],
)
def test_file_url(base_url: str, expected: str) -> None:
    assert file_url(base_url) == expected


async def test_base_url_from_the_environment(api: FakeBotApi, assistant: Assistant) -> None:
    config = load_config(
        {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url + "/"}
    )
    app = build_application(config, assistant)
    assert app.bot.base_url == f"{api.base_url}{api.token}"
    assert app.bot.base_file_url == f"{api.base_file_url}{api.token}"
    async with app:  # getMe through the configured server
        update = api.send_photo(USER, content=b"\xff\xd8\xff\xe0photo-bytes")
        file_id = update["message"]["photo"][-1]["file_id"]
        photo = await app.bot.get_file(file_id)
        assert bytes(await photo.download_as_bytearray()) == b"\xff\xd8\xff\xe0photo-bytes"
    assert api.calls_of("getMe")


def test_defaults_base_url_rate_limiter_and_missing_token(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_proxies(monkeypatch)  # with a proxy the bot keeps httpx's own transport
    app = build_application(Config(telegram_token=TOKEN), assistant)
    assert app.bot.base_url == f"https://api.telegram.org/bot{TOKEN}"
    assert app.bot.base_file_url == f"https://api.telegram.org/file/bot{TOKEN}"
    # As the bot runs: sends paced (and 429s retried) by the limiter; chats concurrently,
    # each chat's updates one at a time.
    assert isinstance(app.bot.rate_limiter, AIORateLimiter)
    assert isinstance(app.update_processor, PerChatProcessor)
    # Bot API calls go over aiohttp (handlers/telegram/transport.py).
    for request in (app.bot.request, app.bot._request[0]):
        assert isinstance(request, AiohttpRequest)
    bench = build_application(
        Config(telegram_token=TOKEN), assistant, rate_limiter=False, concurrent_updates=8
    )
    assert bench.bot.rate_limiter is None
    assert bench.update_processor.max_concurrent_updates == 8
    with pytest.raises(ValueError, match="TELEGRAM_BOT_TOKEN"):
        build_application(Config(), assistant)


# --------------------------------------------------------------------------------------------
# Follow-up questions and questions about reporting
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "follow_up", "how", "expected"),
    [
        ("盲人按摩归谁管", "那卫健委呢", "按「盲人按摩」在省卫生健康委的职责中查找：", ["8.1"]),
        ("人社厅负责哪些", "盲人按摩呢", "按「盲人按摩」在人力资源社会保障厅的职责中查找：", None),
        ("第8项任务", "第二条呢", "按第8项任务所列的第 2 条（举措 8.2）回答：", None),
        ("7.2", "这条还有谁负责", "按举措 7.2 回答：", None),
    ],
)
async def test_a_follow_up_is_read_in_context(
    chat: Chat, first: str, follow_up: str, how: str, expected: list[str] | None
) -> None:
    await chat.ask(first)
    answer = await chat.ask(follow_up)
    assert lines(answer)[0] == how
    if expected is not None:
        assert measure_ids(answer) == expected


async def test_a_complete_question_in_a_conversation_stands_alone(chat: Chat) -> None:
    await chat.ask("教育厅负责什么")
    answer = await chat.ask("报刊亭岗位归谁管")
    assert not lines(answer)[0].startswith("按")
    assert measure_ids(answer)[0] == "2.2"


async def test_two_chats_keep_their_own_context(chat: Chat) -> None:
    # Interleaved: each person's follow-up is read against their own last question.
    await chat.ask("盲人按摩归谁管", chat=USER)
    await chat.ask("教育厅负责什么", chat=OTHER_USER)
    mine = await chat.ask("那卫健委呢", chat=USER)
    theirs = await chat.ask("那卫健委呢", chat=OTHER_USER)
    assert measure_ids(mine) == ["8.1"]
    assert not lines(theirs)[0].startswith("按")
    own, _ = unit_measures(chat.assistant, "省卫生健康委")
    assert {m.id for m in own} <= set(detail_buttons(theirs))


async def test_people_in_one_group_keep_their_own_context(chat: Chat) -> None:
    async def say(text: str, user: int) -> dict[str, Any]:
        return await chat.ask(
            f"@{BOT_USERNAME} {text}", GROUP, user_id=user, chat_type="supergroup"
        )

    await say("盲人按摩归谁管", USER)
    other = await say("那卫健委呢", MEMBER)
    mine = await say("那卫健委呢", USER)
    assert not lines(other)[0].startswith("按")
    assert measure_ids(mine) == ["8.1"]


async def test_a_reporting_question_is_answered_from_the_plan(chat: Chat) -> None:
    answer = await chat.ask("年底进展报给谁")
    text = answer["rendered_text"]
    assert "报送对象：省政府残疾人工作委员会" in text
    assert "/bind 单位名称" in text  # not a member: how to bind


async def test_a_stop_signal_while_the_database_opens_at_start_still_stops(
    api: FakeBotApi, tmp_path: Path
) -> None:
    """SIGTERM while post_init waits for the database (another process holds it): the start
    stops, and no half-opened database keeps the process alive."""
    import signal
    import sqlite3

    db = tmp_path / "fengong.db"
    with sqlite3.connect(db, isolation_level=None) as holder:
        holder.execute("PRAGMA journal_mode = WAL")
        holder.execute("CREATE TABLE held (x)")
        holder.execute("BEGIN EXCLUSIVE")
        async with bot_process(api, db) as process:
            fds = f"/proc/{process.pid}/fd"

            def opened() -> bool:
                real = os.path.realpath(db)
                return any(os.path.realpath(f"{fds}/{fd}") == real for fd in os.listdir(fds))

            async with asyncio.timeout(30):
                # Connected after getMe: post_init is opening the database, which waits.
                while not (  # noqa: ASYNC110 - waits for a condition, not a time
                    api.calls_of("getMe")
                    and opened()
                ):
                    await asyncio.sleep(0.02)
            process.send_signal(signal.SIGTERM)
            holder.execute("COMMIT")
            async with asyncio.timeout(30):
                output, _ = await process.communicate()
    log = output.decode()
    assert process.returncode == 0, log
    assert "Traceback" not in log
    assert "Event loop is closed" not in log
    assert not api.calls_of("getUpdates")  # stopped before polling

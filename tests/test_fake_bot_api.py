"""The fake Bot API server, exercised by the real python-telegram-bot over real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from tests.fakes.bot_api import (
    BOT_USERNAME,
    Call,
    FakeBotApi,
    UploadedFile,
    parse_html,
)

TOKEN = "123:ABC"
USER = 42
GROUP = -1001234
GROUP_MEMBER = 7
KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("甲", callback_data="a"),
            InlineKeyboardButton("乙", callback_data="b"),
        ]
    ]
)


@pytest.fixture(autouse=True)
def _timedelta_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns (PTBDeprecationWarning) whenever a duration such as RetryAfter.retry_after is
    # read as an int; with filterwarnings=error that would replace the exception under test.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    """A bare Bot (no Application, no polling) for request/response level checks."""
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as b:
        yield b


@dataclass
class Harness:
    app: Application[Any, Any, Any, Any, Any, Any]
    updates: list[Update] = field(default_factory=list)
    errors: list[object] = field(default_factory=list)
    error_seen: asyncio.Event = field(default_factory=asyncio.Event)

    async def first_error(self) -> object:
        async with asyncio.timeout(3):
            await self.error_seen.wait()
        return self.errors[0]


@pytest.fixture
async def harness(api: FakeBotApi) -> AsyncIterator[Harness]:
    """A real Application polling the fake with an echo bot, stopped cleanly afterwards."""
    app = (
        ApplicationBuilder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    h = Harness(app)

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        h.updates.append(update)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(update.effective_message.text or "")

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("请选择", reply_markup=KEYBOARD)

    async def too_long(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("长" * 5000)

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer(text=f"收到 {query.data}")
        await query.edit_message_text(f"已选 {query.data}")

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        h.errors.append(context.error)
        h.error_seen.set()

    app.add_handler(TypeHandler(Update, record), group=-1)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("long", too_long))
    app.add_handler(CallbackQueryHandler(button))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_error_handler(on_error)

    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))
    try:
        yield h
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


def _delivered_update_ids(api: FakeBotApi) -> list[int]:
    return [
        update["update_id"]
        for call in api.calls_of("getUpdates")
        if call.ok and call.response is not None
        for update in call.response["result"]
    ]


# --------------------------------------------------------------------------------------------
# Polling through a real Application
# --------------------------------------------------------------------------------------------


async def test_application_identifies_the_fake_bot(api: FakeBotApi, harness: Harness) -> None:
    assert harness.app.bot.username == BOT_USERNAME
    assert harness.app.bot.id == api.bot_user["id"] == 123
    assert api.calls_of("getMe")
    assert api.calls_of("deleteWebhook")  # the updater's bootstrap


async def test_echo_over_polling_delivers_each_update_once(
    api: FakeBotApi, harness: Harness
) -> None:
    api.send_text(USER, "你好")
    api.send_text(USER, "第二条")
    await api.wait_for_messages(USER, count=2)
    # Updates 1 and 2 are now confirmed only if the next getUpdates carries offset=3.
    api.send_text(USER, "第三条")
    messages = await api.wait_for_messages(USER, count=3)

    assert [m["text"] for m in messages] == ["你好", "第二条", "第三条"]
    assert all(m["from_bot"] for m in messages)
    assert [m["message_id"] for m in messages] == [3, 4, 6]  # one id sequence per chat
    delivered = _delivered_update_ids(api)
    assert sorted(delivered) == [1, 2, 3], delivered
    assert [u.update_id for u in harness.updates] == [1, 2, 3]
    offsets = [c.params.get("offset") for c in api.calls_of("getUpdates")]
    assert 3 in offsets


async def test_group_command_with_bot_username_and_reply_to_bot(
    api: FakeBotApi, harness: Harness
) -> None:
    api.send_text(GROUP, f"/start@{BOT_USERNAME}", user_id=GROUP_MEMBER)
    [menu] = await api.wait_for_messages(GROUP)
    assert menu["text"] == "请选择"
    api.send_text(GROUP, "/start@some_other_bot", user_id=GROUP_MEMBER)
    api.send_text(GROUP, "回复你", user_id=GROUP_MEMBER, reply_to_message_id=menu["message_id"])
    messages = await api.wait_for_messages(GROUP, count=2)

    assert [m["text"] for m in messages] == ["请选择", "回复你"]  # the other bot's command: none
    update = harness.updates[-1]
    assert update.effective_chat is not None
    assert update.effective_chat.type == "supergroup"
    assert update.effective_user is not None
    assert update.effective_user.id == GROUP_MEMBER
    assert update.message is not None
    replied = update.message.reply_to_message
    assert replied is not None
    assert replied.from_user is not None
    assert replied.from_user.id == harness.app.bot.id
    assert replied.text == "请选择"


async def test_callback_query_round_trip(api: FakeBotApi, harness: Harness) -> None:
    api.send_text(USER, "/start")
    [menu] = await api.wait_for_messages(USER)
    assert menu["reply_markup"] == KEYBOARD.to_dict()

    query_id = api.press_button(USER, menu["message_id"], "b")
    await api.wait_for("editMessageText")

    assert api.answered_callbacks == [{"callback_query_id": query_id, "text": "收到 b"}]
    edited = api.message(USER, menu["message_id"])
    assert edited["text"] == "已选 b"
    assert edited["edit_date"] is not None
    assert edited["reply_markup"] is None  # editMessageText without markup drops the keyboard
    with pytest.raises(AssertionError, match="no button"):
        api.press_button(USER, menu["message_id"], "a")


async def test_handler_error_reaches_error_handler(api: FakeBotApi, harness: Harness) -> None:
    api.send_text(USER, "/long")
    error = await harness.first_error()
    assert isinstance(error, BadRequest)
    assert str(error) == "Message is too long"  # PTB drops "Bad Request: " and capitalizes
    [call] = await api.wait_for("sendMessage")
    assert call.status == 400
    assert call.response is not None
    assert call.response["description"] == "Bad Request: message is too long"
    assert api.sent_messages(USER) == []


# --------------------------------------------------------------------------------------------
# Telegram's answers, as PTB exceptions
# --------------------------------------------------------------------------------------------


async def test_message_length_limit_counts_text_after_html_parsing(
    api: FakeBotApi, harness: Harness
) -> None:
    bot = harness.app.bot
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "长" * 4097)
    full = await bot.send_message(USER, "长" * 4096)
    assert full.text == "长" * 4096
    # tags are not counted, entities count as one character
    markup = await bot.send_message(USER, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")
    assert markup.text == "&" * 4096
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "<b>" + "x" * 4097 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER, "  ")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER, "<b></b>", parse_mode="HTML")
    assert len(api.sent_messages(USER)) == 2


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<b>粗体", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag"),
        ("甲 & 乙", "Can't find end of the entity starting at byte offset 4"),
        ("&nbsp;", 'Unsupported HTML entity "&nbsp;"'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<span>x</span>", 'must have class "tg-spoiler"'),
        ("a<br/>b", 'Unsupported start tag "br"'),
    ],
)
async def test_invalid_html_is_rejected(
    api: FakeBotApi, harness: Harness, text: str, error: str
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities") as info:
        await harness.app.bot.send_message(USER, text, parse_mode=ParseMode.HTML)
    assert error.lower() in str(info.value).lower()  # PTB capitalizes the description
    [call] = api.calls_of("sendMessage")
    assert call.response is not None
    assert call.response["description"].startswith("Bad Request: can't parse entities: ")
    assert error in call.response["description"]
    assert api.sent_messages() == []


async def test_valid_html_becomes_text_and_entities(api: FakeBotApi, harness: Harness) -> None:
    text = (
        '<b>粗</b> <i>斜</i> &lt;&amp;&gt;&quot; <a href="https://example.com/?a=1&amp;b=2">链接</a>'
        ' <tg-spoiler>藏</tg-spoiler> <span class="tg-spoiler">藏</span> &#128512;'
        ' <pre><code class="language-python">x = 1</code></pre>'
        " <blockquote expandable>引</blockquote>"
    )
    message = await harness.app.bot.send_message(USER, text, parse_mode=ParseMode.HTML)

    assert message.text == '粗 斜 <&>" 链接 藏 藏 😀 x = 1 引'
    kinds = [(e.type, message.parse_entity(e)) for e in message.entities]
    assert kinds == [
        (MessageEntity.BOLD, "粗"),
        (MessageEntity.ITALIC, "斜"),
        (MessageEntity.TEXT_LINK, "链接"),
        (MessageEntity.SPOILER, "藏"),
        (MessageEntity.SPOILER, "藏"),
        (MessageEntity.PRE, "x = 1"),
        (MessageEntity.EXPANDABLE_BLOCKQUOTE, "引"),
    ]
    assert message.entities[2].url == "https://example.com/?a=1&b=2"
    assert message.entities[5].language == "python"
    stored = api.message(USER, message.message_id)
    assert stored["text"] == text  # the raw text as the bot sent it
    assert stored["parse_mode"] == "HTML"


async def test_edit_message_text_semantics(api: FakeBotApi, harness: Harness) -> None:
    bot = harness.app.bot
    message = await bot.send_message(USER, "<b>v1</b>", parse_mode="HTML", reply_markup=KEYBOARD)

    with pytest.raises(BadRequest, match=r"(?i)message is not modified: specified new"):
        await message.edit_text("<b>v1</b>", parse_mode="HTML", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):  # same entities
        await message.edit_text("<strong>v1</strong>", parse_mode="HTML", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await message.edit_reply_markup(reply_markup=KEYBOARD)

    other_keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("丙", callback_data="c")]])
    await message.edit_text("<b>v1</b>", parse_mode="HTML", reply_markup=other_keyboard)
    assert api.message(USER, message.message_id)["reply_markup"] == other_keyboard.to_dict()

    edited = await message.edit_text("v2")
    assert isinstance(edited, Message)
    assert edited.text == "v2"
    assert edited.reply_markup is None
    state = api.message(USER, message.message_id)
    assert (state["text"], state["parse_mode"], state["reply_markup"]) == ("v2", None, None)

    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("v3", chat_id=USER, message_id=999)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await message.edit_text("x" * 4097)
    assert api.message(USER, message.message_id)["text"] == "v2"


async def test_flood_control_surfaces_as_retry_after(api: FakeBotApi, harness: Harness) -> None:
    api.flood(2, retry_after=3)
    for _ in range(2):
        with pytest.raises(RetryAfter) as info:
            await harness.app.bot.send_message(USER, "hi")
        assert info.value.retry_after == dtm.timedelta(seconds=3)
    await harness.app.bot.send_message(USER, "hi")

    statuses = [c.status for c in api.calls_of("sendMessage")]
    assert statuses == [429, 429, 200]
    response = api.calls_of("sendMessage")[0].response
    assert response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }


async def test_rate_limit_rejects_sends_above_the_window(
    api: FakeBotApi, harness: Harness
) -> None:
    api.limit_rate(per_second=5)
    results = await asyncio.gather(
        *(harness.app.bot.send_message(USER, str(i)) for i in range(8)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Message) for r in results) == 5
    rejected = [r for r in results if isinstance(r, RetryAfter)]
    assert len(rejected) == 3
    assert all(r.retry_after == dtm.timedelta(seconds=1) for r in rejected)
    assert len(api.sent_messages(USER)) == 5


async def test_blocked_and_unknown_chats(api: FakeBotApi, harness: Harness) -> None:
    bot = harness.app.bot
    api.block(USER)
    with pytest.raises(Forbidden, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(USER, "hi")
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_chat_action(USER, ChatAction.TYPING)
    api.block(GROUP)
    with pytest.raises(Forbidden, match="kicked"):
        await bot.send_message(GROUP, "hi")
    api.unknown_chat(99)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(99, "hi")
    api.unblock(USER)
    await bot.send_message(USER, "hi again")
    assert [m["text"] for m in api.sent_messages()] == ["hi again"]


async def test_send_document_is_multipart_and_downloadable(
    api: FakeBotApi, harness: Harness
) -> None:
    content = b"PK\x03\x04\x00\xff fake xlsx"
    message = await harness.app.bot.send_document(
        USER, document=content, filename="分工.xlsx", caption="<b>分工表</b>", parse_mode="HTML"
    )

    [call] = api.calls_of("sendDocument")
    upload = call.params["document"]
    assert isinstance(upload, UploadedFile)
    assert (upload.filename, upload.content) == ("分工.xlsx", content)
    assert call.params["chat_id"] == USER
    assert message.document is not None
    assert message.document.file_name == "分工.xlsx"
    assert message.document.file_size == len(content)
    assert message.caption == "分工表"
    assert [e.type for e in message.caption_entities] == [MessageEntity.BOLD]
    [stored] = api.sent_messages(USER)
    assert stored["document"] == upload

    telegram_file = await message.document.get_file()
    assert bytes(await telegram_file.download_as_bytearray()) == content


async def test_commands_and_chat_actions(api: FakeBotApi, harness: Harness) -> None:
    bot = harness.app.bot
    commands = [BotCommand("start", "开始"), BotCommand("help", "帮助")]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands(
        [BotCommand("plan", "分工")], scope=BotCommandScopeAllPrivateChats(), language_code="zh"
    )
    assert tuple(await bot.get_my_commands()) == tuple(commands)
    assert api.commands() == [
        {"command": "start", "description": "开始"},
        {"command": "help", "description": "帮助"},
    ]
    assert api.commands({"type": "all_private_chats"}, "zh") == [
        {"command": "plan", "description": "分工"}
    ]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start", "大写")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()

    assert await bot.send_chat_action(USER, ChatAction.UPLOAD_DOCUMENT)
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(USER, "dancing")


# --------------------------------------------------------------------------------------------
# getUpdates at the request level (bare Bot)
# --------------------------------------------------------------------------------------------


async def test_get_updates_offset_limit_and_negative_offset(api: FakeBotApi, bot: Bot) -> None:
    for text in ("一", "二", "三", "四"):
        api.send_text(USER, text)

    first = await bot.get_updates(limit=2)
    assert [u.update_id for u in first] == [1, 2]
    assert [u.update_id for u in await bot.get_updates()] == [1, 2, 3, 4]  # nothing confirmed
    assert [u.update_id for u in await bot.get_updates(offset=3)] == [3, 4]
    assert [u.update_id for u in await bot.get_updates()] == [3, 4]  # 1 and 2 are gone
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == [4]
    assert await bot.get_updates(offset=5) == ()
    assert api.pending_updates == []


def _waiting_poll(c: Call) -> bool:
    return c.method == "getUpdates" and c.status is None


async def test_get_updates_long_poll(api: FakeBotApi, bot: Bot) -> None:
    """A poll with nothing to give is held open: answered empty, or with what comes meanwhile."""
    since = len(api.calls)
    idle = asyncio.create_task(bot.get_updates(timeout=dtm.timedelta(seconds=0.3)))
    await api.wait_for(_waiting_poll, since=since, include_pending=True)
    assert not idle.done()  # held, not answered at once
    assert await idle == ()
    assert [c.status for c in api.calls[since:]] == [200]

    since = len(api.calls)
    poll = asyncio.create_task(bot.get_updates(timeout=dtm.timedelta(seconds=60)))
    await api.wait_for(_waiting_poll, since=since, include_pending=True)
    api.send_text(USER, "来了")
    # The waiting poll itself brings the message, woken by it: not at its timeout, a minute
    # away (the guard only keeps a broken wake-up from holding the test that long).
    updates = await asyncio.wait_for(poll, 10)
    assert [u.message.text for u in updates if u.message] == ["来了"]
    assert [c.method for c in api.calls[since:]] == ["getUpdates"]


async def test_conflicts_surface_as_conflict(api: FakeBotApi, bot: Bot) -> None:
    async with Bot(api.token, base_url=api.base_url) as second_instance:
        waiting = asyncio.create_task(bot.get_updates(timeout=dtm.timedelta(seconds=5)))
        await api.wait_for(
            lambda c: c.method == "getUpdates" and c.status is None,
            since=len(api.calls),
            include_pending=True,
        )
        assert await second_instance.get_updates() == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await waiting

    api.conflict(True)
    with pytest.raises(Conflict, match="make sure that only one bot instance is running"):
        await bot.get_updates()
    api.conflict(False)
    assert await bot.get_updates() == ()

    assert await bot.set_webhook("https://example.com/hook")
    assert (await bot.get_webhook_info()).url == "https://example.com/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert api.webhook is None


async def test_user_media_and_edits_parse_as_ptb_objects(api: FakeBotApi, bot: Bot) -> None:
    api.set_user(USER, first_name="张三", username="zhangsan")
    api.send_sticker(USER, emoji="🎉")
    api.send_photo(USER, caption="图")
    api.send_voice(USER, duration=4)
    api.send_document(USER, b"a,b\n1,2\n", "plan.csv", mime_type="text/csv")
    original = api.send_text(USER, "旧的")
    api.edit_text(USER, original["message"]["message_id"], "新的")

    sticker, photo, voice, document, text, edited = await bot.get_updates()

    assert sticker.message is not None
    assert sticker.message.sticker is not None
    assert sticker.message.sticker.emoji == "🎉"
    assert sticker.message.from_user is not None
    assert sticker.message.from_user.username == "zhangsan"
    assert photo.message is not None
    assert photo.message.caption == "图"
    assert photo.message.photo[-1].width == 1280
    assert voice.message is not None
    assert voice.message.voice is not None
    assert voice.message.voice.duration == dtm.timedelta(seconds=4)
    assert document.message is not None
    assert document.message.document is not None
    downloaded = await (await document.message.document.get_file()).download_as_bytearray()
    assert bytes(downloaded) == b"a,b\n1,2\n"
    assert text.message is not None
    assert text.message.text == "旧的"
    assert edited.edited_message is not None
    assert edited.edited_message.text == "新的"
    assert edited.edited_message.message_id == text.message.message_id
    assert api.message(USER, text.message.message_id)["text"] == "新的"


async def test_command_entities(api: FakeBotApi, bot: Bot) -> None:
    api.send_text(USER, f"/start@{BOT_USERNAME} 参数")
    api.send_text(USER, "看 /help")
    first, second = await bot.get_updates()
    assert first.message is not None
    assert second.message is not None
    assert [(e.type, e.offset, e.length) for e in first.message.entities] == [
        (MessageEntity.BOT_COMMAND, 0, len(f"/start@{BOT_USERNAME}"))
    ]
    assert [(e.type, e.offset, e.length) for e in second.message.entities] == [
        (MessageEntity.BOT_COMMAND, 2, 5)
    ]


# --------------------------------------------------------------------------------------------
# The fake's own surface
# --------------------------------------------------------------------------------------------


async def test_unknown_method_and_wrong_token(api: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendDiceRoll")
    assert api.unknown_methods == ["sendDiceRoll"]
    [call] = api.calls_of("sendDiceRoll")
    assert call.response == {"ok": False, "error_code": 404, "description": "Not Found"}

    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=api.base_url):
            pass


async def test_wait_for_reports_recorded_calls_on_timeout(api: FakeBotApi, bot: Bot) -> None:
    calls = await api.wait_for(lambda c: c.method == "getMe")
    assert all(isinstance(c, Call) for c in calls)
    with pytest.raises(BadRequest):
        await bot.send_message(USER, "")
    with pytest.raises(AssertionError, match="waiting for 2 call") as info:
        await api.wait_for("sendMessage", count=2, timeout=0.1)
    assert "sendMessage 400 → Bad Request: message text is empty" in str(info.value)


def test_parse_html_entity_offsets_are_utf16() -> None:
    text, entities = parse_html("😀<b>粗</b>")
    assert text == "😀粗"
    assert entities == [{"type": "bold", "offset": 2, "length": 1}]

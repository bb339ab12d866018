"""A fake Telegram Bot API server for end-to-end tests.

The fake sits at the network boundary, like the servers in python-telegram-bot's own
``tests/auxil``: the bot under test uses the real ``telegram.Bot`` / ``telegram.ext.Application``
and talks real HTTP to an aiohttp server on 127.0.0.1.  Nothing in the bot is mocked::

    async with FakeBotApi(token="123:ABC") as api:
        app = (
            ApplicationBuilder()
            .token(api.token)
            .base_url(api.base_url)
            .base_file_url(api.base_file_url)
            .build()
        )
        ...
        api.send_text(42, "/start")            # the user types something
        [call] = await api.wait_for("sendMessage")
        assert api.sent_messages(42)[-1]["text"] == "..."

What the fake reproduces (and where it simplifies):

* Requests may be ``application/x-www-form-urlencoded`` (what PTB sends without files; every
  non-string value JSON-encoded), ``multipart/form-data`` (PTB with files) or a JSON body.
  JSON-encoded values (``reply_markup``, ``entities``, ``commands``, ``allowed_updates``, numbers,
  booleans ...) are decoded; free-text fields (``text``, ``caption``, ...) are kept verbatim.
  Uploaded files become :class:`UploadedFile` values in :attr:`Call.params`.
* ``getUpdates`` honours ``offset`` (updates below it are confirmed and forgotten; a negative
  offset keeps only the last ``-offset`` updates), ``limit`` and the long-poll ``timeout``.
  Updates stay queued until confirmed, so an update is delivered again only if the client does
  not advance its offset, exactly like Telegram.  A second ``getUpdates`` while one is waiting
  terminates the first with 409 Conflict, like Telegram.  ``allowed_updates`` is ignored.
* Text limits: the length of a message is the length (in code points) of its text *after*
  parsing, i.e. with HTML tags removed and HTML entities decoded (``&amp;`` counts as one) and
  surrounding whitespace stripped; more than 4096 (captions: 1024) is rejected.  Telegram's own
  rule (UTF-16 units after entity parsing) differs only in corner cases.
* ``parse_mode="HTML"`` is validated roughly like Telegram does and turned into the plain text and
  ``entities`` Telegram would return.  Markdown parse modes are accepted but not parsed: the text
  is returned verbatim without entities.
* ``editMessageText`` without ``reply_markup`` removes the message's inline keyboard (Telegram
  does the same); "message is not modified" compares the parsed text, entities and inline
  keyboard.
* Error descriptions follow Telegram's wording where it is known; the wording of a few HTML
  errors ("Unsupported HTML entity ...") is the fake's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import html.parser
import itertools
import json
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

__all__ = [
    "BOT_USERNAME",
    "MAX_CAPTION_LENGTH",
    "MAX_MESSAGE_LENGTH",
    "Call",
    "FakeBotApi",
    "UploadedFile",
]

_LOGGER = logging.getLogger(__name__)

BOT_USERNAME = "fengong_test_bot"
MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
DEFAULT_GROUP_USER_ID = 1001

TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
TEXT_EMPTY = "Bad Request: message text is empty"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
CHAT_NOT_FOUND = "Bad Request: chat not found"
BLOCKED = "Forbidden: bot was blocked by the user"
KICKED = "Forbidden: bot was kicked from the supergroup chat"
CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"

# Methods subject to flood control, rate limiting and per-chat blocking.
SEND_METHODS = frozenset(
    m.lower()
    for m in (
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendChatAction",
        "editMessageText",
        "editMessageReplyMarkup",
        "deleteMessage",
    )
)

# Form values that are free text and must never be JSON-decoded (PTB sends ``str`` values raw).
_RAW_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "action",
        "language_code",
        "file_id",
        "document",
        "photo",
        "title",
        "description",
        "short_description",
        "name",
        "ip_address",
        "message_effect_id",
        "business_connection_id",
    }
)
# Fields that carry JSON even inside a JSON body (some clients double-encode them).
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "allowed_updates",
        "scope",
        "reply_parameters",
        "link_preview_options",
        "media",
    }
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")
_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
_VALID_AMP_RE = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);")


@dataclass(frozen=True)
class UploadedFile:
    """A file uploaded with ``multipart/form-data``."""

    filename: str
    content: bytes
    content_type: str


@dataclass
class Call:
    """One request to the fake.

    ``params`` are decoded (see the module docstring).  ``status`` is the HTTP status of the
    answer (``None`` while a long poll is still waiting, 499 if the client went away) and
    ``response`` the JSON body that was sent back.
    """

    method: str
    params: dict[str, Any]
    at: float
    status: int | None = None
    response: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


CallMatcher = str | Callable[[Call], bool]


class _ApiError(Exception):
    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _clone(value: Any) -> Any:
    """Copy wire data (JSON values only): many times faster than copy.deepcopy."""
    return json.loads(json.dumps(value))


def _bad_request(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------------------------
# HTML parse mode
# --------------------------------------------------------------------------------------------

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class HtmlEntityError(ValueError):
    """The text is not valid Telegram HTML; the message is Telegram's error text."""


class _TelegramHtmlParser(html.parser.HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self._source = source
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self._parts: list[str] = []
        self._pos = 0  # in UTF-16 code units
        self._stack: list[tuple[str, dict[str, str | None], int]] = []
        self.entities: list[dict[str, Any]] = []

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def _byte_offset(self, extra_chars: int = 0) -> int:
        line, col = self.getpos()
        char_offset = self._line_starts[line - 1] + col + extra_chars
        return len(self._source[:char_offset].encode())

    def _emit(self, text: str) -> None:
        self._parts.append(text)
        self._pos += _utf16_len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _SIMPLE_TAGS:
            raise HtmlEntityError(
                f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}'
            )
        attributes = dict(attrs)
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise HtmlEntityError('Tag "span" must have class "tg-spoiler"')
        if tag == "tg-emoji" and not attributes.get("emoji-id"):
            raise HtmlEntityError('Tag "tg-emoji" must have attribute "emoji-id"')
        self._stack.append((tag, attributes, self._pos))

    def handle_endtag(self, tag: str) -> None:
        if not self._stack:
            raise HtmlEntityError(f"Unexpected end tag at byte offset {self._byte_offset()}")
        open_tag, attributes, start = self._stack.pop()
        if open_tag != tag:
            raise HtmlEntityError(
                f"Unmatched end tag at byte offset {self._byte_offset()}, "
                f'expected "</{open_tag}>", found "</{tag}>"'
            )
        length = self._pos - start
        if length <= 0:
            return
        if tag == "code" and self._stack and self._stack[-1][0] == "pre":
            css_class = attributes.get("class") or ""
            if css_class.startswith("language-"):
                # <pre><code class="language-x"> is one ``pre`` entity with a language.
                pre_tag, pre_attributes, pre_start = self._stack[-1]
                self._stack[-1] = (
                    pre_tag,
                    {**pre_attributes, "language": css_class.removeprefix("language-")},
                    pre_start,
                )
                return
        entity: dict[str, Any] = {"type": _SIMPLE_TAGS[tag], "offset": start, "length": length}
        if tag == "a":
            href = attributes.get("href")
            if not href:
                return
            entity["url"] = href
        elif tag == "pre" and attributes.get("language"):
            entity["language"] = attributes["language"]
        elif tag == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attributes["emoji-id"]
        self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        index = data.find("<")
        if index >= 0:
            name_match = re.match(r"[^\s<>]*", data[index + 1 :])
            name = name_match.group(0) if name_match else ""
            raise HtmlEntityError(
                f'Unsupported start tag "{name}" at byte offset {self._byte_offset(index)}'
            )
        self._emit(data)

    def handle_entityref(self, name: str) -> None:
        # Unknown and unterminated entities were rejected before parsing.
        self._emit(_NAMED_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        number = int(name[1:], 16) if name[:1] in ("x", "X") else int(name)
        try:
            self._emit(chr(number))
        except (ValueError, OverflowError):
            raise HtmlEntityError(
                f"Unsupported HTML entity at byte offset {self._byte_offset()}"
            ) from None

    def _unsupported(self, what: str) -> None:
        raise HtmlEntityError(
            f'Unsupported start tag "{what}" at byte offset {self._byte_offset()}'
        )

    def handle_comment(self, data: str) -> None:
        self._unsupported("!--")

    def handle_decl(self, decl: str) -> None:
        self._unsupported("!")

    def handle_pi(self, data: str) -> None:
        self._unsupported("?")

    def unknown_decl(self, data: str) -> None:
        self._unsupported("!")

    def finish(self) -> None:
        self.close()
        if self._stack:
            raise HtmlEntityError(
                f'Can\'t find end tag corresponding to start tag "{self._stack[-1][0]}"'
            )


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into (plain text, entities) or raise HtmlEntityError.

    Entity offsets and lengths are in UTF-16 code units, as in the Bot API.
    """
    for match in re.finditer("&", source):
        if not _VALID_AMP_RE.match(source, match.start()):
            byte_offset = len(source[: match.start()].encode())
            end = re.match(r"&[#A-Za-z0-9]*;", source[match.start() :])
            if end is None:
                raise HtmlEntityError(
                    f"Can't find end of the entity starting at byte offset {byte_offset}"
                )
            raise HtmlEntityError(
                f'Unsupported HTML entity "{end.group(0)}" at byte offset {byte_offset}'
            )
    parser = _TelegramHtmlParser(source)
    parser.feed(source)
    parser.finish()
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return parser.text, entities


def _strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip surrounding whitespace like Telegram does, keeping entities aligned."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = _utf16_len(text[: len(text) - len(text.lstrip())])
    total = _utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(total, entity["offset"] + entity["length"] - lead)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


# --------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes


@dataclass
class _Message:
    chat_id: int
    message_id: int
    date: int
    from_bot: bool
    user_id: int | None
    text: str | None = None  # raw, as sent (HTML markup included)
    parse_mode: str | None = None
    rendered_text: str | None = None  # what Telegram shows / returns
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    rendered_caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    media: dict[str, Any] = field(default_factory=dict)
    document: UploadedFile | str | None = None
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    deleted: bool = False

    @property
    def inline_keyboard(self) -> dict[str, Any] | None:
        return _inline_markup(self.reply_markup)

    def snapshot(self) -> dict[str, Any]:
        return {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "text": self.text,
            "parse_mode": self.parse_mode,
            "reply_markup": _clone(self.reply_markup),
            "rendered_text": self.rendered_text,
            "entities": _clone(self.entities),
            "caption": self.caption,
            "document": self.document,
            "from_bot": self.from_bot,
            "user_id": self.user_id,
            "date": self.date,
            "edit_date": self.edit_date,
            "reply_to_message_id": self.reply_to_message_id,
            "deleted": self.deleted,
        }


def _inline_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    if markup and "inline_keyboard" in markup:
        return markup
    return None


@dataclass
class _Poll:
    superseded: bool = False


class FakeBotApi:
    """Fake Telegram Bot API server.  See the module docstring."""

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = "分工助手",
    ) -> None:
        bot_id_text = token.split(":", 1)[0]
        if not bot_id_text.isdigit():
            raise ValueError(f"token must look like '<bot id>:<secret>', got {token!r}")
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": int(bot_id_text),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.calls: list[Call] = []
        self.answered_callbacks: list[dict[str, Any]] = []
        self.internal_errors: list[BaseException] = []
        self.webhook: dict[str, Any] | None = None

        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], _Message] = {}
        self._files: dict[str, _StoredFile] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._chat_types: dict[int, str] = {}
        self._pending_callbacks: set[str] = set()
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}

        self._blocked: set[int] = set()
        self._unknown_chats: set[int] = set()
        self._failing: dict[int, tuple[int, str]] = {}
        self._fail_after: dict[int, int] = {}
        self._stalls: dict[int, int] = {}
        self._unstall = asyncio.Event()
        self._flood_remaining = 0
        self._flood_retry_after = 1
        self._rate_per_second: float | None = None
        self._rate_window: deque[float] = deque()
        self._conflict = False
        self._poll_failure: tuple[int, str] | None = None
        self._get_me_failure: tuple[int, str] | None = None
        self._held: asyncio.Event | None = None
        self.holding = 0  # send-type calls held now

        self._active_poll: _Poll | None = None
        self._closing = False
        self._updates_changed = asyncio.Event()
        self._calls_changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getme": self._get_me,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "senddocument": self._send_document,
            "sendphoto": self._send_photo,
            "sendchataction": self._send_chat_action,
            "getfile": self._get_file,
            "close": self._ok,
            "logout": self._ok,
        }

    # ----------------------------------------------------------------------------------------
    # Lifecycle
    # ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        assert host == "127.0.0.1"
        self._port = int(port)

    async def close(self) -> None:
        self._closing = True
        self._unstall.set()
        self._wake_polls()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        await self.close()
        if exc_type is None and self.internal_errors:
            raise AssertionError(
                f"the fake Bot API itself failed: {self.internal_errors!r}"
            ) from self.internal_errors[0]

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotApi is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``; PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``; PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ----------------------------------------------------------------------------------------
    # Failure injection
    # ----------------------------------------------------------------------------------------

    def block(self, chat_id: int) -> None:
        """Sends to ``chat_id`` fail with 403 (the user blocked the bot / kicked it)."""
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def unknown_chat(self, chat_id: int) -> None:
        """Sends to ``chat_id`` fail with 400 "chat not found"."""
        self._unknown_chats.add(chat_id)

    def fail(self, chat_id: int, status: int = 500, description: str = "", after: int = 0) -> None:
        """Sends to ``chat_id`` fail with ``status`` (a server error by default), once
        ``after`` more have gone through."""
        self._failing[chat_id] = (status, description or "Internal Server Error")
        self._fail_after[chat_id] = after

    def stall(self, chat_id: int, after: int = 0) -> None:
        """The send to ``chat_id`` after ``after`` more is carried out (the message is there),
        and its answer withheld until the fake closes, as a Telegram whose answer is lost."""
        self._stalls[chat_id] = after

    def unfail(self, chat_id: int) -> None:
        self._failing.pop(chat_id, None)

    def flood(self, count: int, retry_after: int = 1) -> None:
        """The next ``count`` send-type calls answer 429 with ``retry_after``."""
        self._flood_remaining = count
        self._flood_retry_after = retry_after

    def limit_rate(self, per_second: float | None = 30.0) -> None:
        """Reject send-type calls above ``per_second`` in any sliding one-second window with
        429 (retry_after=1).  ``None`` switches the limit off."""
        self._rate_per_second = per_second
        self._rate_window.clear()

    def fail_polls(self, status: int | None = 504, description: str = "Gateway Timeout") -> None:
        """getUpdates answers ``status`` from now on (``None``: answers again)."""
        self._poll_failure = None if status is None else (status, description)

    def hold_sends(self) -> None:
        """Send-type calls hang (a slow Telegram) until ``release_sends``; one whose caller
        is gone by then (killed, timed out) is delivered to nobody."""
        self._held = self._held or asyncio.Event()

    def release_sends(self) -> None:
        if self._held is not None:
            self._held, held = None, self._held
            held.set()

    async def _hold(self, request: web.Request) -> None:
        held = self._held
        if held is None:
            return
        self.holding += 1
        self._wake_calls()
        try:
            await held.wait()
        finally:
            self.holding -= 1
        if request.transport is None or request.transport.is_closing():
            raise _ApiError(500, "the caller is gone")

    def fail_get_me(self, status: int = 500, description: str = "Internal Server Error") -> None:
        """getMe (the bot's first call) fails with ``status`` and ``description``."""
        self._get_me_failure = (status, description)

    def conflict(self, enabled: bool = True) -> None:
        """While enabled, getUpdates answers 409 Conflict (another instance is polling)."""
        self._conflict = enabled
        self._wake_polls()

    # ----------------------------------------------------------------------------------------
    # Inspection
    # ----------------------------------------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    @property
    def unknown_methods(self) -> list[str]:
        """Methods the fake answered with 404 because it does not implement them."""
        return [
            c.method
            for c in self.calls
            if c.status == 404 and c.method.lower() not in self._handlers
        ]

    def sent_messages(
        self, chat_id: int | None = None, *, include_deleted: bool = False
    ) -> list[dict[str, Any]]:
        """Current state of the messages the bot sent, oldest first (see ``message``)."""
        return [
            m.snapshot()
            for m in self._messages.values()
            if m.from_bot
            and (chat_id is None or m.chat_id == chat_id)
            and (include_deleted or not m.deleted)
        ]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """Current state (edits applied) of a bot or user message.

        Keys: chat_id, message_id, text (raw, as sent), parse_mode, reply_markup (decoded or
        None), rendered_text (text as Telegram displays it), entities, caption, document
        (UploadedFile, or the file_id/URL string sent), from_bot, user_id, date, edit_date,
        reply_to_message_id, deleted.
        """
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        return stored.snapshot()

    def commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The command list set with setMyCommands for ``scope`` / ``language_code``."""
        return _clone(self._commands.get(self._commands_key(scope, language_code), []))

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a getUpdates offset."""
        return _clone(self._updates)

    def _matching(
        self, matcher: CallMatcher, since: int, *, include_pending: bool = False
    ) -> list[Call]:
        predicate: Callable[[Call], bool]
        if isinstance(matcher, str):
            method = matcher

            def predicate(c: Call) -> bool:
                return c.method == method

        else:
            predicate = matcher
        return [
            c
            for c in self.calls[since:]
            if (include_pending or c.status is not None) and predicate(c)
        ]

    async def wait_for(
        self,
        matcher: CallMatcher,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper: the timeout is its API
        *,
        since: int = 0,
        include_pending: bool = False,
    ) -> list[Call]:
        """Wait until ``count`` answered calls match (a method name or a predicate) and return
        all matching calls.  Only calls from index ``since`` of :attr:`calls` are considered;
        with ``include_pending`` also calls not answered yet (a waiting long poll).

        Raises AssertionError, listing the recorded calls, on timeout.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            matches = self._matching(matcher, since, include_pending=include_pending)
            if len(matches) >= count:
                return matches
            remaining = deadline - loop.time()
            if remaining <= 0:
                name = matcher if isinstance(matcher, str) else getattr(matcher, "__name__", "?")
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {count} call(s) matching "
                    f"{name!r}; {len(matches)} matched.\n{self.describe_calls()}"
                )
            await self._wait_event(self._calls_changed, remaining)

    async def wait_for_messages(
        self,
        chat_id: int | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper: the timeout is its API
    ) -> list[dict[str, Any]]:
        """Wait until the bot has sent at least ``count`` (not deleted) messages to ``chat_id``
        (any chat if None); return ``sent_messages(chat_id)``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            messages = self.sent_messages(chat_id)
            if len(messages) >= count:
                return messages
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {count} bot message(s) in chat "
                    f"{chat_id}; got {len(messages)}.\n{self.describe_calls()}"
                )
            await self._wait_event(self._calls_changed, remaining)

    def describe_calls(self, *, include_get_updates: bool = False) -> str:
        """A readable list of the recorded calls, for assertion messages."""
        start = self.calls[0].at if self.calls else 0.0
        lines = []
        skipped = 0
        for index, call in enumerate(self.calls):
            if call.method == "getUpdates" and not include_get_updates and call.status == 200:
                skipped += 1
                continue
            params = repr(call.params)
            if len(params) > 300:
                params = params[:300] + "…"
            detail = ""
            if call.response is not None and not call.response.get("ok"):
                detail = f" → {call.response.get('description')}"
            lines.append(
                f"  [{index}] +{call.at - start:.3f}s {call.method} {call.status}{detail} {params}"
            )
        header = f"Recorded calls ({skipped} successful getUpdates omitted):"
        return "\n".join([header, *lines]) if lines else f"{header} none"

    # ----------------------------------------------------------------------------------------
    # Users acting (injecting updates)
    # ----------------------------------------------------------------------------------------

    def set_user(
        self,
        user_id: int,
        *,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> None:
        """Set the profile used for ``from`` (and private chats) of ``user_id``."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name is not None:
            user["last_name"] = last_name
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        self._users[user_id] = user

    def send_text(
        self,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        chat_type: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """Queue a ``message`` update: the user writes ``text``.  Commands ("/start",
        "/start@fengong_test_bot") get ``bot_command`` entities.  Returns the update."""
        return self._user_message(
            chat_id,
            user_id,
            chat_type,
            reply_to_message_id,
            text=text,
            entities=_with_command_entities(text, entities),
        )

    def send_sticker(
        self,
        chat_id: int,
        emoji: str = "👍",
        user_id: int | None = None,
        chat_type: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        stored = self._store_file(b"RIFF-fake-webp", "stickers", "webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(stored.content),
        }
        return self._user_message(
            chat_id, user_id, chat_type, reply_to_message_id, media={"sticker": sticker}
        )

    def send_photo(
        self,
        chat_id: int,
        caption: str | None = None,
        user_id: int | None = None,
        chat_type: str | None = None,
        reply_to_message_id: int | None = None,
        content: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
    ) -> dict[str, Any]:
        small = self._store_file(content[:8], "photos", "jpg")
        large = self._store_file(content, "photos", "jpg")
        photo = [
            {
                "file_id": small.file_id,
                "file_unique_id": small.file_unique_id,
                "width": 90,
                "height": 67,
                "file_size": len(small.content),
            },
            {
                "file_id": large.file_id,
                "file_unique_id": large.file_unique_id,
                "width": 1280,
                "height": 960,
                "file_size": len(large.content),
            },
        ]
        return self._user_message(
            chat_id,
            user_id,
            chat_type,
            reply_to_message_id,
            caption=caption,
            media={"photo": photo},
        )

    def send_voice(
        self,
        chat_id: int,
        duration: int = 3,
        user_id: int | None = None,
        chat_type: str | None = None,
        reply_to_message_id: int | None = None,
        content: bytes = b"OggS-fake-voice",
    ) -> dict[str, Any]:
        stored = self._store_file(content, "voice", "oga")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(content),
        }
        return self._user_message(
            chat_id, user_id, chat_type, reply_to_message_id, media={"voice": voice}
        )

    def send_document(
        self,
        chat_id: int,
        content: bytes,
        file_name: str,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        user_id: int | None = None,
        chat_type: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """Queue a ``message`` update with a document the user uploads (downloadable with
        getFile through ``base_file_url``)."""
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        stored = self._store_file(content, "documents", extension)
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        return self._user_message(
            chat_id,
            user_id,
            chat_type,
            reply_to_message_id,
            caption=caption,
            media={"document": document},
        )

    def edit_text(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        """Queue an ``edited_message`` update: the user edits an earlier text message."""
        stored = self._messages.get((chat_id, message_id))
        if stored is None or stored.from_bot or stored.text is None:
            raise ValueError(f"no user text message {message_id} in chat {chat_id}")
        stored.text = text
        stored.rendered_text = text
        stored.entities = _with_command_entities(text, None) or []
        stored.edit_date = int(time.time())
        return self._queue_update({"edited_message": self._message_json(stored)})

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        user_id: int | None = None,
        *,
        strict: bool = True,
        inline: bool = False,
    ) -> str:
        """Queue a ``callback_query`` update: the user presses the inline button with
        ``callback_data == data`` on a bot message.  Returns the callback query id.

        With ``strict`` (the default) the message must currently show such a button. With
        ``inline`` the query carries an ``inline_message_id`` and no message, as for a message
        sent in inline mode (which this bot never sends: such a query is forged or stale).
        """
        stored = self._messages.get((chat_id, message_id))
        if stored is None or stored.deleted:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        if strict:
            available = [
                button.get("callback_data")
                for row in (stored.inline_keyboard or {}).get("inline_keyboard", [])
                for button in row
            ]
            if data not in available:
                raise AssertionError(
                    f"message {message_id} in chat {chat_id} has no button with callback_data "
                    f"{data!r}; buttons: {available!r}"
                )
        query_id = str(next(self._callback_ids))
        self._pending_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": self._user_json(self._default_user(chat_id, user_id)),
            "chat_instance": str(-abs(chat_id) * 7919),
            "data": data,
        }
        if inline:
            query["inline_message_id"] = f"inline-{chat_id}-{message_id}"
        else:
            query["message"] = self._message_json(stored)
        self._queue_update({"callback_query": query})
        return query_id

    def _default_user(self, chat_id: int, user_id: int | None) -> int:
        if user_id is not None:
            return user_id
        return chat_id if chat_id > 0 else DEFAULT_GROUP_USER_ID

    def _user_message(
        self,
        chat_id: int,
        user_id: int | None,
        chat_type: str | None,
        reply_to_message_id: int | None,
        *,
        text: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        caption: str | None = None,
        media: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if chat_type is not None:
            self._chat_types[chat_id] = chat_type
        if reply_to_message_id is not None and (chat_id, reply_to_message_id) not in (
            self._messages
        ):
            raise ValueError(f"no message {reply_to_message_id} in chat {chat_id} to reply to")
        stored = _Message(
            chat_id=chat_id,
            message_id=self._new_message_id(chat_id),
            date=int(time.time()),
            from_bot=False,
            user_id=self._default_user(chat_id, user_id),
            text=text,
            rendered_text=text,
            entities=entities or [],
            caption=caption,
            rendered_caption=caption,
            media=media or {},
            reply_to_message_id=reply_to_message_id,
        )
        self._messages[(chat_id, stored.message_id)] = stored
        return self._queue_update({"message": self._message_json(stored)})

    def _queue_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **payload}
        self._updates.append(update)
        self._wake_polls()
        return _clone(update)

    def _store_file(self, content: bytes, folder: str, extension: str) -> _StoredFile:
        number = next(self._file_ids)
        stored = _StoredFile(
            file_id=f"FAKEFILE{number:06d}",
            file_unique_id=f"U{number:06d}",
            file_path=f"{folder}/file_{number}.{extension}",
            content=content,
        )
        self._files[stored.file_id] = stored
        return stored

    # ----------------------------------------------------------------------------------------
    # JSON shapes
    # ----------------------------------------------------------------------------------------

    def _user_json(self, user_id: int) -> dict[str, Any]:
        if user_id in self._users:
            return dict(self._users[user_id])
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": f"User{user_id}",
            "username": f"user{user_id}",
            "language_code": "zh-hans",
        }

    def _chat_json(self, chat_id: int) -> dict[str, Any]:
        chat_type = self._chat_types.get(chat_id, "private" if chat_id > 0 else "supergroup")
        if chat_type == "private":
            user = self._user_json(chat_id)
            chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
            if "username" in user:
                chat["username"] = user["username"]
            return chat
        return {"id": chat_id, "type": chat_type, "title": f"Test chat {chat_id}"}

    def _message_json(self, stored: _Message, *, with_reply: bool = True) -> dict[str, Any]:
        if stored.from_bot:
            sender = {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}
        else:
            sender = self._user_json(stored.user_id or stored.chat_id)
        message: dict[str, Any] = {
            "message_id": stored.message_id,
            "from": sender,
            "chat": self._chat_json(stored.chat_id),
            "date": stored.date,
        }
        if stored.rendered_text is not None:
            message["text"] = stored.rendered_text
            if stored.entities:
                message["entities"] = _clone(stored.entities)
        if stored.rendered_caption is not None:
            message["caption"] = stored.rendered_caption
            if stored.caption_entities:
                message["caption_entities"] = _clone(stored.caption_entities)
        message.update(_clone(stored.media))
        if stored.inline_keyboard is not None:
            message["reply_markup"] = _clone(stored.inline_keyboard)
        if stored.edit_date is not None:
            message["edit_date"] = stored.edit_date
        if with_reply and stored.reply_to_message_id is not None:
            replied = self._messages.get((stored.chat_id, stored.reply_to_message_id))
            if replied is not None and not replied.deleted:
                message["reply_to_message"] = self._message_json(replied, with_reply=False)
        return message

    # ----------------------------------------------------------------------------------------
    # HTTP
    # ----------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await _read_params(request)
        except ValueError as exc:
            params = {}
            call = Call(method, params, time.monotonic())
            self.calls.append(call)
            return self._respond(call, _bad_request(f"can't parse request: {exc}").body(), 400)
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        self._wake_calls()
        if request.match_info["token"] != self.token:
            body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            return self._respond(call, body, 401)
        try:
            if method.lower() == "getupdates":
                result = await self._get_updates(params)
            else:
                handler = self._handlers.get(method.lower())
                if handler is None:
                    raise _ApiError(404, "Not Found")
                if method.lower() in SEND_METHODS:
                    await self._hold(request)
                    self._gate(params)
                result = handler(params)
                if method.lower() in SEND_METHODS:
                    await self._stalled(params.get("chat_id"))
        except _ApiError as error:
            return self._respond(call, error.body(), error.code)
        except asyncio.CancelledError:
            call.status = 499
            self._wake_calls()
            raise
        except Exception as exc:
            _LOGGER.exception("fake Bot API failed on %s", method)
            self.internal_errors.append(exc)
            body = {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error: {exc!r}",
            }
            return self._respond(call, body, 500)
        return self._respond(call, {"ok": True, "result": result}, 200)

    async def _stalled(self, chat_id: object) -> None:
        if not isinstance(chat_id, int) or chat_id not in self._stalls:
            return
        if self._stalls[chat_id] > 0:
            self._stalls[chat_id] -= 1
            return
        del self._stalls[chat_id]
        await self._unstall.wait()

    def _respond(self, call: Call, body: dict[str, Any], status: int) -> web.Response:
        call.status = status
        call.response = body
        self._wake_calls()
        return web.json_response(body, status=status, dumps=_dumps)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            raise web.HTTPUnauthorized
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(body=stored.content)
        raise web.HTTPNotFound

    def _wake_polls(self) -> None:
        self._updates_changed.set()
        self._updates_changed = asyncio.Event()

    def _wake_calls(self) -> None:
        self._calls_changed.set()
        self._calls_changed = asyncio.Event()

    @staticmethod
    async def _wait_event(event: asyncio.Event, timeout: float) -> None:  # noqa: ASYNC109
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await event.wait()

    def _gate(self, params: dict[str, Any]) -> None:
        """Flood control, rate limit and per-chat failures for send-type methods."""
        if self._flood_remaining > 0:
            self._flood_remaining -= 1
            raise _too_many_requests(self._flood_retry_after)
        if self._rate_per_second is not None:
            now = time.monotonic()
            while self._rate_window and self._rate_window[0] <= now - 1.0:
                self._rate_window.popleft()
            if len(self._rate_window) >= self._rate_per_second:
                raise _too_many_requests(1)
            self._rate_window.append(now)
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int):
            if chat_id in self._unknown_chats:
                raise _ApiError(400, CHAT_NOT_FOUND)
            if chat_id in self._blocked:
                raise _ApiError(403, BLOCKED if chat_id > 0 else KICKED)
            if chat_id in self._failing:
                if self._fail_after.get(chat_id, 0) > 0:
                    self._fail_after[chat_id] -= 1
                else:
                    raise _ApiError(*self._failing[chat_id])

    # ----------------------------------------------------------------------------------------
    # Methods
    # ----------------------------------------------------------------------------------------

    def _ok(self, params: dict[str, Any]) -> bool:
        return True

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        if self._get_me_failure is not None:
            raise _ApiError(*self._get_me_failure)
        return dict(self.bot_user)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self._conflict:
            raise _ApiError(409, CONFLICT_OTHER_POLL)
        if self._poll_failure is not None:
            raise _ApiError(*self._poll_failure)
        if self.webhook is not None:
            raise _ApiError(409, CONFLICT_WEBHOOK)
        offset = _int_param(params, "offset", 0)
        limit = min(max(_int_param(params, "limit", 100), 1), 100)
        timeout = max(_float_param(params, "timeout", 0.0), 0.0)
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        if self._active_poll is not None:
            self._active_poll.superseded = True
        poll = _Poll()
        self._active_poll = poll
        self._wake_polls()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                if poll.superseded:
                    raise _ApiError(409, CONFLICT_OTHER_POLL)
                if self._conflict:
                    raise _ApiError(409, CONFLICT_OTHER_POLL)
                batch = self._updates[:limit]
                remaining = deadline - loop.time()
                if batch or self._closing or remaining <= 0:
                    return _clone(batch)
                await self._wait_event(self._updates_changed, remaining)
        finally:
            if self._active_poll is poll:
                self._active_poll = None

    def _chat_id(self, params: dict[str, Any]) -> int:
        chat_id: object = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            # "@channelusername" and the like: the fake knows no public chats.
            raise _ApiError(400, CHAT_NOT_FOUND)
        if chat_id in self._unknown_chats:
            raise _ApiError(400, CHAT_NOT_FOUND)
        return chat_id

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _render(
        self,
        text: Any,
        parse_mode: Any,
        entities: Any,
        *,
        limit: int,
        too_long: str,
        allow_empty: bool,
    ) -> tuple[str, list[dict[str, Any]]]:
        if text is None:
            text = ""
        if not isinstance(text, str):
            text = str(text)
        mode = parse_mode.lower() if isinstance(parse_mode, str) and parse_mode else None
        if mode not in (None, "html", "markdown", "markdownv2"):
            raise _bad_request(f"unsupported parse_mode {parse_mode!r}")
        if mode == "html":
            try:
                plain, parsed = parse_html(text)
            except HtmlEntityError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from None
        else:
            plain = text
            parsed = _clone(entities) if isinstance(entities, list) else []
        plain, parsed = _strip_text(plain, parsed)
        if not plain and not allow_empty:
            raise _ApiError(400, TEXT_EMPTY)
        if len(plain) > limit:
            raise _ApiError(400, too_long)
        return plain, parsed

    def _reply_target(self, chat_id: int, params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        message_id: Any = params.get("reply_to_message_id")
        allow_missing = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") not in (None, chat_id):
                raise _bad_request("replies to other chats are not supported by the fake")
        if message_id is None:
            return None
        stored = self._messages.get((chat_id, int(message_id)))
        if stored is None or stored.deleted:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        return stored.message_id

    def _validate_markup(self, markup: Any) -> dict[str, Any] | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        keyboard = markup.get("inline_keyboard")
        if keyboard is not None:
            if not isinstance(keyboard, list) or not all(isinstance(r, list) for r in keyboard):
                raise _bad_request(
                    'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array '
                    "of Arrays"
                )
            for row in keyboard:
                for button in row:
                    if not isinstance(button, dict) or not button.get("text"):
                        raise _bad_request(
                            "can't parse inline keyboard button: Text buttons are unallowed in "
                            "the inline keyboard"
                        )
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(str(data).encode()) <= 64:
                        raise _bad_request("BUTTON_DATA_INVALID")
        return markup

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        text = params.get("text")
        parse_mode = params.get("parse_mode")
        plain, entities = self._render(
            text,
            parse_mode,
            params.get("entities"),
            limit=MAX_MESSAGE_LENGTH,
            too_long=TOO_LONG,
            allow_empty=False,
        )
        markup = self._validate_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat_id, params)
        stored = _Message(
            chat_id=chat_id,
            message_id=self._new_message_id(chat_id),
            date=int(time.time()),
            from_bot=True,
            user_id=None,
            text=str(text),
            parse_mode=parse_mode,
            rendered_text=plain,
            entities=entities,
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )
        self._messages[(chat_id, stored.message_id)] = stored
        return self._message_json(stored)

    def _message_to_edit(self, params: dict[str, Any]) -> _Message:
        if params.get("inline_message_id") is not None:
            raise _ApiError(400, EDIT_NOT_FOUND)
        chat_id = self._chat_id(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        stored = self._messages.get((chat_id, _as_int(message_id, "message_id")))
        if stored is None or stored.deleted:
            raise _ApiError(400, EDIT_NOT_FOUND)
        if not stored.from_bot:
            raise _bad_request("message can't be edited")
        return stored

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._message_to_edit(params)
        if stored.rendered_text is None:
            raise _bad_request("there is no text in the message to edit")
        text = params.get("text")
        plain, entities = self._render(
            text,
            params.get("parse_mode"),
            params.get("entities"),
            limit=MAX_MESSAGE_LENGTH,
            too_long=TOO_LONG,
            allow_empty=False,
        )
        markup = _inline_markup(self._validate_markup(params.get("reply_markup")))
        if (
            plain == stored.rendered_text
            and entities == stored.entities
            and markup == stored.inline_keyboard
        ):
            raise _ApiError(400, NOT_MODIFIED)
        stored.text = str(text)
        stored.parse_mode = params.get("parse_mode")
        stored.rendered_text = plain
        stored.entities = entities
        stored.reply_markup = markup
        stored.edit_date = int(time.time())
        return self._message_json(stored)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._message_to_edit(params)
        markup = _inline_markup(self._validate_markup(params.get("reply_markup")))
        if markup == stored.inline_keyboard:
            raise _ApiError(400, NOT_MODIFIED)
        stored.reply_markup = markup
        stored.edit_date = int(time.time())
        return self._message_json(stored)

    def _delete_message(self, params: dict[str, Any]) -> bool:
        chat_id = self._chat_id(params)
        message_id = _as_int(params.get("message_id"), "message_id")
        stored = self._messages.get((chat_id, message_id))
        if stored is None or stored.deleted:
            raise _bad_request("message to delete not found")
        stored.deleted = True
        return True

    def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        self._chat_id(params)  # an unknown chat fails before the upload is stored
        document = params.get("document")
        if isinstance(document, UploadedFile):
            extension = document.filename.rsplit(".", 1)[-1] if "." in document.filename else "bin"
            stored_file = self._store_file(document.content, "documents", extension)
            document_json: dict[str, Any] = {
                "file_id": stored_file.file_id,
                "file_unique_id": stored_file.file_unique_id,
                "file_name": document.filename,
                "mime_type": document.content_type,
                "file_size": len(document.content),
            }
        elif isinstance(document, str) and document:
            known = self._files.get(document)
            document_json = {
                "file_id": document,
                "file_unique_id": known.file_unique_id if known else f"U-{document[-16:]}",
            }
        else:
            raise _bad_request("there is no document in the request")
        return self._store_media(params, {"document": document_json}, document)

    def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        self._chat_id(params)
        photo = params.get("photo")
        if not isinstance(photo, UploadedFile):
            raise _bad_request("there is no photo in the request")
        stored_file = self._store_file(photo.content, "photos", "jpg")
        sizes = [
            {
                "file_id": stored_file.file_id,
                "file_unique_id": stored_file.file_unique_id,
                "width": 1280,
                "height": 960,
                "file_size": len(photo.content),
            }
        ]
        return self._store_media(params, {"photo": sizes}, photo)

    def _store_media(
        self, params: dict[str, Any], media: dict[str, Any], upload: UploadedFile | str
    ) -> dict[str, Any]:
        """Store a sent file's message (its upload kept as ``document``) with its caption."""
        chat_id = self._chat_id(params)
        caption = params.get("caption")
        rendered_caption: str | None = None
        caption_entities: list[dict[str, Any]] = []
        if caption is not None:
            rendered_caption, caption_entities = self._render(
                caption,
                params.get("parse_mode"),
                params.get("caption_entities"),
                limit=MAX_CAPTION_LENGTH,
                too_long=CAPTION_TOO_LONG,
                allow_empty=True,
            )
        stored = _Message(
            chat_id=chat_id,
            message_id=self._new_message_id(chat_id),
            date=int(time.time()),
            from_bot=True,
            user_id=None,
            parse_mode=params.get("parse_mode"),
            caption=None if caption is None else str(caption),
            rendered_caption=rendered_caption or None,
            caption_entities=caption_entities,
            reply_markup=self._validate_markup(params.get("reply_markup")),
            media=media,
            document=upload,
            reply_to_message_id=self._reply_target(chat_id, params),
        )
        self._messages[(chat_id, stored.message_id)] = stored
        return self._message_json(stored)

    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        self._chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = params.get("callback_query_id")
        if not isinstance(query_id, str) or query_id not in self._pending_callbacks:
            raise _ApiError(400, QUERY_INVALID)
        self._pending_callbacks.discard(query_id)
        self.answered_callbacks.append(dict(params))
        return True

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope_key = json.dumps(scope or {"type": "default"}, sort_keys=True)
        return scope_key, str(language_code or "")

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request('parameter "commands" is required')
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand")
            if not _BOT_COMMAND_NAME_RE.fullmatch(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = _clone(commands)
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return _clone(self._commands.get(key, []))

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands.pop(key, None)
        return True

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        if not params.get("url"):
            return self._delete_webhook(params)
        self.webhook = dict(params)
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._wake_polls()
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook is not None:
            for key in ("max_connections", "allowed_updates", "ip_address"):
                if key in self.webhook:
                    info[key] = self.webhook[key]
        return info

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _too_many_requests(retry_after: int) -> _ApiError:
    return _ApiError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        {"retry_after": retry_after},
    )


def _dumps(value: Any) -> str:
    # A lone surrogate a client sent (JSON allows "\\ud800") goes out as the escape: UTF-8
    # cannot carry it.
    text = json.dumps(value, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _decode_value(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in _RAW_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = {k: _decode_value(k, v) for k, v in request.query.items()}
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise ValueError(f"invalid JSON body: {exc}") from None
        if not isinstance(body, dict):
            raise ValueError("the JSON body must be an object")
        for key, value in body.items():
            params[key] = _decode_value(key, value) if key in _JSON_FIELDS else value
        return params
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            try:
                content = value.file.read()
            finally:
                value.file.close()
            params[key] = UploadedFile(value.filename, content, value.content_type)
        elif isinstance(value, bytes | bytearray):
            params[key] = _decode_value(key, bytes(value).decode())
        else:
            params[key] = _decode_value(key, value)
    return params


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _bad_request(f'parameter "{name}" must be a Number')
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        raise _bad_request(f'parameter "{name}" must be a Number') from None


def _int_param(params: dict[str, Any], name: str, default: int) -> int:
    value = params.get(name)
    return default if value is None or value == "" else _as_int(value, name)


def _float_param(params: dict[str, Any], name: str, default: float) -> float:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _bad_request(f'parameter "{name}" must be a Number') from None


def _with_command_entities(
    text: str, entities: list[dict[str, Any]] | None
) -> list[dict[str, Any]] | None:
    result = _clone(entities) if entities else []
    taken = {e["offset"] for e in result if e.get("type") == "bot_command"}
    for match in _COMMAND_RE.finditer(text):
        offset = _utf16_len(text[: match.start()])
        if offset not in taken:
            result.append(
                {"type": "bot_command", "offset": offset, "length": _utf16_len(match.group(0))}
            )
    result.sort(key=lambda e: (e["offset"], -e["length"]))
    return result or None

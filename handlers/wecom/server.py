"""The WeCom callback endpoint as a standalone aiohttp application.

GET answers WeCom's URL verification with the bare plaintext. POST is checked (signature,
padding, CorpID, XML), de-duplicated and acknowledged with an empty 200 at once; the message is
handled afterwards in a background task, so WeCom never waits past its 5-second window and
never retries because of a slow answer. Messages of one member are handled in the order they
came, several members at once. Anything refused gets a 4xx and is logged without its content.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from handlers.wecom.crypto import BadCiphertext, CryptoError, MsgCrypt
from handlers.wecom.message import MAX_BODY_BYTES, BadXml, Message, parse_envelope, parse_message

logger = logging.getLogger(__name__)

CALLBACK_PATH = "/wecom"
CONCURRENT_MEMBERS = 8
DEDUPE_SECONDS = 24 * 3600.0
SHUTDOWN_GRACE = 10.0  # seconds to let running answers finish when the server stops

OnMessage = Callable[[Message], Awaitable[None]]
Claim = Callable[[str], Awaitable[bool]]
Health = Callable[[], Awaitable[tuple[int, str]]]  # (HTTP status, text) for GET /healthz


class MemoryDedupe:
    """Claims each key once within `ttl` seconds, in memory (one process, lost on restart)."""

    def __init__(
        self, ttl: float = DEDUPE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    async def __call__(self, key: str) -> bool:
        """Return True the first time `key` is seen (within the ttl), False after."""
        now = self._clock()
        while self._seen and next(iter(self._seen.values())) <= now - self._ttl:
            self._seen.popitem(last=False)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True


class _Handling:
    """Runs the callback for each message in the background: per member in order."""

    def __init__(self, on_message: OnMessage) -> None:
        self._on_message = on_message
        self._slots = asyncio.Semaphore(CONCURRENT_MEMBERS)
        self._members: dict[str, asyncio.Lock] = {}
        # Messages of each member scheduled and not yet done: the member's lock is dropped only
        # when none is left (a woken waiter has not taken the lock yet).
        self._queued: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, message: Message) -> None:
        """Handle a message in a task of its own (each member's messages in order)."""
        task = asyncio.create_task(self._run(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, message: Message) -> None:
        user = message.user
        lock = self._members.setdefault(user, asyncio.Lock())
        self._queued[user] = self._queued.get(user, 0) + 1
        try:
            async with lock, self._slots:
                await self._on_message(message)
        except Exception:
            logger.exception("处理企业微信消息失败（%s）", type(message).__name__)
        finally:
            self._queued[user] -= 1
            if not self._queued[user]:
                del self._queued[user], self._members[user]

    async def drain(self) -> None:
        """Wait for the messages being handled, at most SHUTDOWN_GRACE; cancel the rest."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=SHUTDOWN_GRACE)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


_HANDLING = web.AppKey("wecom_handling", _Handling)


def callback_app(
    crypt: MsgCrypt,
    on_message: OnMessage,
    *,
    claim: Claim | None = None,
    path: str = CALLBACK_PATH,
    health: Health | None = None,
) -> web.Application:
    """Build the callback app: GET/POST `path` for WeCom, GET /healthz for monitoring.

    `health` answers /healthz (the bot's database); without it the server only says "ok".
    """
    handling = _Handling(on_message)
    claim_key = claim or MemoryDedupe()

    async def verify(request: web.Request) -> web.Response:
        try:
            plain = _verified_echo(crypt, request.query)
        except _Refused as refused:
            return refused.answer(request)
        return web.Response(text=plain, content_type="text/plain")

    async def receive(request: web.Request) -> web.Response:
        try:
            message = _opened(crypt, request.query, await _body(request))
        except _Refused as refused:
            return refused.answer(request)
        if await claim_key(message.dedupe_key):
            handling.schedule(message)
        else:
            logger.info("企业微信重发的回调已忽略（%s）", type(message).__name__)
        return web.Response(status=200)

    async def healthz(request: web.Request) -> web.Response:
        if health is None:
            return web.Response(text="ok")
        status, text = await health()
        return web.Response(status=status, text=text)

    async def drain(app: web.Application) -> None:
        await app[_HANDLING].drain()

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[_HANDLING] = handling
    app.router.add_get(path, verify)
    app.router.add_post(path, receive)
    app.router.add_get("/healthz", healthz)
    app.on_cleanup.append(drain)
    return app


class _Refused(Exception):
    """A callback answered with a 4xx; the reason is logged, never the query or body."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def answer(self, request: web.Request) -> web.Response:
        """Log the reason (and the caller's address) and answer with the status."""
        # The remote address helps find a misconfigured proxy.
        logger.warning(
            "拒绝企业微信回调（%d）：%s，来自 %s", self.status, self.reason, request.remote
        )
        return web.Response(status=self.status)


def _verified_echo(crypt: MsgCrypt, query: Mapping[str, str]) -> str:
    """The plaintext of a URL verification's echostr, or _Refused."""
    try:
        # A proxy that passes "+" unencoded turns it into a space; base64 has no spaces.
        echostr = query["echostr"].replace(" ", "+")
        return crypt.verify_url(
            query["msg_signature"], query["timestamp"], query["nonce"], echostr
        )
    except KeyError:
        raise _Refused(400, "URL 验证缺少参数") from None
    except CryptoError as e:
        raise _Refused(_status(e), f"URL 验证失败：{e}") from None


async def _body(request: web.Request) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _Refused(413, f"回调超过 {MAX_BODY_BYTES} 字节") from None


def _opened(crypt: MsgCrypt, query: Mapping[str, str], body: bytes) -> Message:
    """The message of a POSTed callback, verified and decrypted, or _Refused."""
    try:
        signed = query["msg_signature"], query["timestamp"], query["nonce"]
        envelope = parse_envelope(body)
        if envelope.to_user != crypt.receive_id:
            raise _Refused(403, "回调的 ToUserName 不是本企业")
        return parse_message(crypt.unseal(*signed, envelope.encrypt))
    except KeyError:
        raise _Refused(400, "回调缺少签名参数") from None
    except BadXml as e:
        raise _Refused(400, f"回调 XML 不合法：{e}") from None
    except CryptoError as e:
        raise _Refused(_status(e), f"回调校验失败：{e}") from None


def _status(error: CryptoError) -> int:
    """403 for what fails authentication, 400 for what is malformed."""
    return 400 if isinstance(error, BadCiphertext) else 403

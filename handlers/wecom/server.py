"""The WeCom callback endpoint as a standalone aiohttp application.

GET answers WeCom's URL verification with the bare plaintext. POST is checked (fresh
timestamp, signature of its Encrypt text) and stored sealed (the body as it came, keyed by its
signature) in the inbox before it is acknowledged with an empty 200: WeCom does not deliver
again what it got 200 for, so nothing is acknowledged that a crash could lose, and nothing
unsigned reaches an XML parser. After the acknowledgements the inbox opens what it stored
(parses the envelope: the signed Encrypt, CorpID, AgentID; decrypts it: padding, CorpID;
parses the message: its AgentID) and stores each message once under its member, by its
de-duplication key; it then handles each member's messages in order, several members at once.
Anything refused before the acknowledgement gets a 4xx (a database that cannot store it, a
503: WeCom delivers it again); a signed callback that cannot be opened is dropped. Both are
logged without content.

`listen` serves it with bounds: a client has HEADER_SECONDS for its request line and headers
and BODY_SECONDS for its body, at most MAX_CONNECTIONS are open at once, and each of these
conditions (and a failing accept, and each kind of refused callback) is logged when it starts
and then at most once a minute with a count, not for every connection.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import cast

from aiohttp import web

from bot.inbox import SEALED, Closed, Inbox, Open
from bot.store import Delivery
from handlers.wecom.crypto import BadCiphertext, CryptoError, MsgCrypt
from handlers.wecom.message import (
    MAX_BODY_BYTES,
    BadXml,
    Message,
    parse_envelope,
    parse_message,
    signed_text,
)

logger = logging.getLogger(__name__)

CALLBACK_PATH = "/wecom"
CHANNEL = "wecom"
SHUTDOWN_GRACE = 10.0  # seconds to let the messages received be handled when the server stops
# WeCom signs each delivery with the time it was sent and retries an unanswered one within
# about 15 s (three tries, 5 s each). Five minutes leave room for that and for a server clock
# some minutes off, while a callback captured and replayed later is refused: the keys of the
# callbacks taken are kept a day (Callbacks.TTL), far longer than this window.
FRESH_SECONDS = 300
HEADER_SECONDS = 10.0  # for a request's line and headers, from the connection's opening
BODY_SECONDS = 10.0  # for its body (at most 64 KB)
IDLE_SECONDS = 15.0  # a kept-alive connection with no request
# Connections open at once: half the files the process may open (the database, WeCom's API
# and the log need the rest), so that accept() never runs out of them.
_FILES = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
MAX_CONNECTIONS = 4096 if _FILES == resource.RLIM_INFINITY else max(64, min(4096, _FILES // 2))
# Connections the kernel completes and queues until the server accepts them. aiohttp's 128
# overflows when WeCom delivers hundreds of callbacks at once: the ones dropped are retried by
# the client's TCP a second later (net.core.somaxconn caps it, 4096 on recent Linux).
BACKLOG = MAX_CONNECTIONS

Health = Callable[[], Awaitable[tuple[int, str]]]  # (HTTP status, text) for GET /healthz
# A new connection's deadline for its first request's headers, until they are in. Cancelled
# then, so that a connection served is not kept (with its handler) for HEADER_SECONDS more:
# a burst of callbacks would otherwise keep thousands of them in memory.
_DEADLINES = web.AppKey("wecom_deadlines", dict[asyncio.BaseProtocol, asyncio.TimerHandle])


PERIOD = 60.0  # seconds: a condition is logged at most once per period, then with a count
_clock: Callable[[], float] = time.monotonic


class _Once:
    """A condition logged when it first happens, then at most once a PERIOD with a count.

    Whatever the requests or connections do meanwhile (a flood, or good and bad ones in turn),
    an unauthenticated client cannot make it log more than one line a minute.
    """

    def __init__(self, message: str) -> None:
        self.message = message
        self.logged: float | None = None
        self.unlogged = 0

    def report(self, *args: object) -> None:
        """Log the condition unless it was logged within PERIOD; count it then."""
        now = _clock()
        if self.logged is not None and now - self.logged < PERIOD:
            self.unlogged += 1
            return
        if self.unlogged:
            logger.warning(
                self.message + "（此前 %.0f 秒内另有 %d 次）", *args, PERIOD, self.unlogged
            )
        else:
            logger.warning(self.message, *args)
        self.logged, self.unlogged = now, 0


_SLOW = _Once(
    "关闭了发送过慢的连接（请求头 %.0f 秒、请求体 %.0f 秒内未收齐），此后同类情况不再逐条记录"
)
_FULL = _Once("回调服务器已有 %d 个连接，新连接被拒绝，此后同类情况不再逐条记录")
_ACCEPT = _Once("回调服务器无法接受新连接（%s），此后同类情况不再逐条记录")
_DATABASE = _Once("回调无法保存到数据库（%s），已回答 503 让企业微信重发")
_REFUSED: dict[tuple[int, str], _Once] = {}  # by status and the reason's fixed head


class _AcceptFailures(logging.Filter):
    """asyncio logs a failing accept() (out of file descriptors) once a second: once is enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Pass the first failing accept of a condition as one short line, drop the rest."""
        if not str(record.msg).startswith("socket.accept() out of system resource"):
            return True
        error = record.exc_info[1] if record.exc_info else None
        _ACCEPT.report(type(error).__name__ if error else "未知原因")
        return False


_ACCEPT_FILTER = _AcceptFailures()


def callback_app(
    crypt: MsgCrypt,
    inbox: Inbox,
    *,
    agent_id: int | None = None,
    path: str = CALLBACK_PATH,
    health: Health | None = None,
    now: Callable[[], float] = time.time,
    sealed: bool = True,
) -> web.Application:
    """Build the callback app: GET/POST `path` for WeCom, GET /healthz for monitoring.

    A callback is stored sealed in `inbox` before its 200; the inbox opens it with `crypt`
    then, and handles it. `agent_id`: the app's AgentID, which a message naming another (or
    none) is dropped for. `health` answers /healthz (the bot's database); without it the
    server only says "ok". /healthz is 503 anyway while the inbox's last write failed (a full
    disk passes a rolled-back probe), until one succeeds. `now`: the wall clock (seconds).
    `sealed` False: each callback is opened before its 200 (refused with a 4xx if it cannot
    be) and stored under its member: with several instances, where its member is handled.
    """

    async def verify(request: web.Request) -> web.Response:
        _started(request)
        try:
            plain = _verified_echo(crypt, request.query)
        except _Refused as refused:
            return refused.answer(request)
        return web.Response(text=plain, content_type="text/plain")

    async def receive(request: web.Request) -> web.Response:
        _started(request)
        try:
            body = await _body(request)
            key, member, text = _taken(crypt, request.query, body, now(), agent_id, sealed)
        except _Refused as refused:
            return refused.answer(request)
        try:
            new = await inbox.accept(key, member, text)
        except Closed:  # stopping: WeCom delivers it again, to the next start
            return web.Response(status=503)
        except Exception as e:
            _DATABASE.report(type(e).__name__)
            return web.Response(status=503)
        if not new:
            logger.info("企业微信重发的回调已忽略")
        return web.Response(status=200)

    async def healthz(request: web.Request) -> web.Response:
        _started(request)
        if inbox.failing:  # the callbacks get 503 now, whatever a probe would say
            return web.Response(status=503, text="数据库无法写入\n")
        if health is None:
            return web.Response(text="ok")
        status, text = await health()
        return web.Response(status=status, text=text)

    async def unnamed(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["Server"] = "fengong"  # not aiohttp's name and version

    inbox.open_sealed_with(_opener(crypt, agent_id))  # also those stored before a change
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[_DEADLINES] = {}
    app.router.add_get(path, verify)
    app.router.add_post(path, receive)
    app.router.add_get("/healthz", healthz)
    app.on_response_prepare.append(unnamed)
    return app


def _started(request: web.Request) -> None:
    """A request's headers are in: its connection is no longer too slow for them.

    Called by each handler rather than by a middleware, which would cost every request more
    (a connection whose first request finds no route is closed at HEADER_SECONDS)."""
    deadline = request.app[_DEADLINES].pop(request.protocol, None)
    if deadline is not None:
        deadline.cancel()


def runner_of(app: web.Application) -> web.AppRunner:
    """Return the runner for the callback app: no access log, idle connections closed."""
    return web.AppRunner(app, access_log=None, keepalive_timeout=IDLE_SECONDS)


class _Refusing(asyncio.Protocol):
    """A connection over the cap: told 503 and closed at once, so it holds no file long."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        cast(asyncio.Transport, transport).write(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        transport.close()


class _Site(web.BaseSite):
    """A TCP site whose connections are bounded in number and in the time to send a request."""

    def __init__(self, runner: web.AppRunner, host: str, port: int) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port

    @property
    def name(self) -> str:
        """The address, as aiohttp's TCPSite names it."""
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        """Listen on host:port."""
        await super().start()
        logging.getLogger("asyncio").addFilter(_ACCEPT_FILTER)
        self._server = await asyncio.get_running_loop().create_server(
            self._connection, self._host, self._port, backlog=BACKLOG, reuse_address=True
        )

    def _connection(self) -> asyncio.BaseProtocol:
        runner = cast(web.AppRunner, self._runner)
        server = runner.server
        assert server is not None
        # Its dict, not `connections`: that copies the list of open connections, for each new
        # one (a burst of 1,000 copies 500 on average, each time).
        if len(server._connections) >= MAX_CONNECTIONS:
            _FULL.report(MAX_CONNECTIONS)
            return _Refusing()
        handler = server()
        deadlines = runner.app[_DEADLINES]
        deadlines[handler] = asyncio.get_running_loop().call_later(
            HEADER_SECONDS, _too_slow, handler, deadlines
        )
        return handler


def _too_slow(
    handler: asyncio.BaseProtocol, deadlines: dict[asyncio.BaseProtocol, asyncio.TimerHandle]
) -> None:
    """Close a connection whose first request's headers are not in after HEADER_SECONDS."""
    transport: asyncio.BaseTransport | None = getattr(handler, "transport", None)
    del deadlines[handler]
    if transport is None or transport.is_closing():
        return
    _SLOW.report(HEADER_SECONDS, BODY_SECONDS)
    transport.close()


async def listen(runner: web.AppRunner, host: str, port: int) -> None:
    """Serve the runner's app on host:port within the bounds above (OSError if it cannot)."""
    await _Site(runner, host, port).start()


class _Refused(Exception):
    """A callback answered with a 4xx; the reason is logged, never the query or body."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def answer(self, request: web.Request) -> web.Response:
        """Log the reason (and the caller's address) and answer with the status."""
        # The remote address helps find a misconfigured proxy. The reasons' heads are this
        # module's constants, so the conditions (and this dict) are few.
        condition = (self.status, self.reason.split("：")[0])
        once = _REFUSED.setdefault(condition, _Once("拒绝企业微信回调（%d）：%s，来自 %s"))
        once.report(self.status, self.reason, request.remote)
        return web.Response(status=self.status)

    def drop(self) -> None:
        """Log the reason of a callback acknowledged already (signed with our token)."""
        condition = (0, self.reason.split("：")[0])
        once = _REFUSED.setdefault(condition, _Once("丢弃已确认的企业微信回调：%s"))
        once.report(self.reason)


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
    if request.content.is_eof():  # all in already (a callback's usually is): taken at once
        body = request.content.read_nowait()
        if len(body) > MAX_BODY_BYTES:
            raise _Refused(413, f"回调超过 {MAX_BODY_BYTES} 字节")
        return body
    try:
        async with asyncio.timeout(BODY_SECONDS):
            return await _read(request)
    except TimeoutError:
        _SLOW.report(HEADER_SECONDS, BODY_SECONDS)
        raise _Refused(408, "回调的请求体未按时收齐") from None


async def _read(request: web.Request) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _Refused(413, f"回调超过 {MAX_BODY_BYTES} 字节") from None
    except ConnectionError as e:  # the client went away mid-body
        raise _Refused(400, f"回调的请求体不完整（{type(e).__name__}）") from None


def _fresh(query: Mapping[str, str], now: float) -> None:
    """Refuse a callback signed more than FRESH_SECONDS from now (a replay), or undated."""
    stamp = query.get("timestamp", "")
    if not stamp.isdecimal() or len(stamp) > 12:
        raise _Refused(400, "回调的 timestamp 不是时间戳")
    if abs(now - int(stamp)) > FRESH_SECONDS:
        raise _Refused(403, f"回调的时间戳与本机时间相差超过 {FRESH_SECONDS} 秒（重放或时钟不准）")


def _sealed(crypt: MsgCrypt, query: Mapping[str, str], body: bytes, now: float) -> tuple[str, str]:
    """A POSTed callback's key (its signature) and body, its Encrypt signed, or _Refused."""
    _fresh(query, now)
    try:
        signed = query["msg_signature"], query["timestamp"], query["nonce"]
        crypt.check_signature(*signed, signed_text(body))
        text = body.decode()
    except KeyError:
        raise _Refused(400, "回调缺少签名参数") from None
    except BadXml as e:
        raise _Refused(400, f"回调 XML 不合法：{e}") from None
    except CryptoError as e:
        raise _Refused(_status(e), f"回调校验失败：{e}") from None
    except UnicodeDecodeError:
        raise _Refused(400, "回调不是 UTF-8") from None
    # Two deliveries signed alike are one (the signature covers the time, nonce and text).
    return f"sig:{signed[0].lower()}", text


def _taken(
    crypt: MsgCrypt,
    query: Mapping[str, str],
    body: bytes,
    now: float,
    agent_id: int | None,
    sealed: bool,
) -> tuple[str, str, str]:
    """What to store of a POSTed callback, sealed or opened: (key, member, text); or _Refused."""
    key, text = _sealed(crypt, query, body, now)
    if sealed:
        return key, SEALED, text
    text, message = _opened(crypt, body, agent_id)
    return message.dedupe_key, message.user, text


def _opener(crypt: MsgCrypt, agent_id: int | None) -> Open:
    """How the inbox opens a callback stored sealed: (key, member, plaintext), or None."""

    def open_(delivery: Delivery) -> tuple[str, str, str] | None:
        try:
            text, message = _opened(crypt, delivery.body.encode(), agent_id)
        except _Refused as refused:
            refused.drop()
            return None
        return message.dedupe_key, message.user, text

    return open_


def _opened(crypt: MsgCrypt, body: bytes, agent_id: int | None) -> tuple[str, Message]:
    """The plaintext and message of a callback whose Encrypt is signed, or _Refused."""
    try:
        envelope = parse_envelope(body)
        if envelope.encrypt != signed_text(body):
            raise _Refused(403, "回调的 Encrypt 不是签名的那个")
        if envelope.to_user != crypt.receive_id:
            raise _Refused(403, "回调的 ToUserName 不是本企业")
        plain = crypt.decrypt(envelope.encrypt)
        message = parse_message(plain)
        text = plain.decode()
    except UnicodeDecodeError:
        raise _Refused(400, "回调的消息不是 UTF-8") from None
    except BadXml as e:
        raise _Refused(400, f"回调 XML 不合法：{e}") from None
    except CryptoError as e:
        raise _Refused(_status(e), f"回调校验失败：{e}") from None
    # Both the envelope's AgentID (when it has one) and the message's must name this app.
    outer = envelope.agent_id
    if agent_id is not None and (
        message.agent_id != agent_id or (outer is not None and outer.strip() != str(agent_id))
    ):
        raise _Refused(403, "回调的 AgentID 不是本应用")
    return text, message


def _status(error: CryptoError) -> int:
    """403 for what fails authentication, 400 for what is malformed."""
    return 400 if isinstance(error, BadCiphertext) else 403

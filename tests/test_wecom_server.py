"""The WeCom callback endpoint, driven over HTTP by a client that signs and encrypts like WeCom."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from bot.clock import TZ
from bot.inbox import Closed, Inbox
from bot.store import Delivery, Store
from bot.store.callbacks import Callbacks
from handlers.wecom import server
from handlers.wecom.crypto import MsgCrypt, signature
from handlers.wecom.message import (
    MAX_BODY_BYTES,
    CardClick,
    Message,
    TextMessage,
    parse_message,
)
from handlers.wecom.server import CHANNEL, FRESH_SECONDS, callback_app, listen, runner_of
from tests.fakes.clock import FakeClock
from tests.fakes.wecom_callback import WeComCallbackClient, envelope_xml, official_sample

SAMPLE = official_sample()
OFFICIAL_BODY = (
    "<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n<Encrypt><![CDATA["
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAg"
    "GzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9"
    "U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qAR"
    "R4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6a"
    "SDPOYuPDGOCI8jmnKiypE+]]></Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>"
)
OFFICIAL_ECHOSTR = (
    "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="
)


class Recorder:
    """What the inbox hands on: records messages; `gate` can hold the handling back."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.gate: asyncio.Event | None = None
        self.fail_on: str | None = None
        self._changed = asyncio.Event()

    async def __call__(self, delivery: Delivery) -> None:
        message = parse_message(delivery.body.encode())
        if self.gate is not None and getattr(message, "content", "") != "不等":
            await self.gate.wait()
        if self.fail_on is not None and getattr(message, "content", None) == self.fail_on:
            raise RuntimeError("the core broke")
        self.messages.append(message)
        self._changed.set()

    async def wait(self, count: int) -> list[Message]:
        async with asyncio.timeout(5):
            while len(self.messages) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.messages


Serve = Callable[..., Awaitable[str]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ))


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start callback apps on 127.0.0.1; return the URL of the callback path."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = runner_of(app)
        await runner.setup()
        await listen(runner, "127.0.0.1", 0)
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


class Ticks:
    """The monotonic clock the server's log conditions read, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def ticks(monkeypatch: pytest.MonkeyPatch) -> Ticks:
    """Each test starts with no condition logged yet (they are the process's)."""
    clock = Ticks()
    monkeypatch.setattr(server, "_clock", clock)
    monkeypatch.setattr(server, "_REFUSED", {})
    for name in ("_SLOW", "_FULL", "_ACCEPT", "_DATABASE"):
        monkeypatch.setattr(server, name, server._Once(getattr(server, name).message))
    return clock


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def inbox(store: Store, recorder: Recorder) -> AsyncIterator[Inbox]:
    """The inbox on a real SQLite file, handing each message to `recorder`."""
    intake = Inbox(store, CHANNEL, recorder)
    yield intake
    await intake.drain(0.1)


@pytest.fixture
def crypt() -> MsgCrypt:
    return MsgCrypt(SAMPLE["token"], SAMPLE["encoding_aes_key"], SAMPLE["corp_id"])


@pytest.fixture
async def wecom(serve: Serve, inbox: Inbox, crypt: MsgCrypt) -> AsyncIterator[WeComCallbackClient]:
    base = await serve(callback_app(crypt, inbox, agent_id=1000002))
    async with WeComCallbackClient(base + "/wecom", **SAMPLE) as client:
        yield client


async def test_official_url_verification(wecom: WeComCallbackClient) -> None:
    status, body = await wecom.get(
        {
            "msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
            "timestamp": "1476416373",
            "nonce": "47744683",
            "echostr": OFFICIAL_ECHOSTR,
        }
    )
    assert (status, body) == (200, "1288432023552776189")


async def test_verification_answers_the_bare_plaintext(wecom: WeComCallbackClient) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(wecom.url, params=_echo_query(wecom, "5927782489442352469")) as response,
    ):
        raw = await response.read()
    assert response.status == 200
    assert raw == b"5927782489442352469"


async def test_repeated_verification_from_several_servers(wecom: WeComCallbackClient) -> None:
    answers = await asyncio.gather(*(wecom.verify_url(f"echo{i}") for i in range(5)))
    assert answers == [(200, f"echo{i}") for i in range(5)]


async def test_unencoded_plus_in_echostr_still_verifies(wecom: WeComCallbackClient) -> None:
    # A proxy that forwards "+" raw: the server reads it as a space.
    query = _echo_query(wecom, "x" * 40)
    while "+" not in query["echostr"]:
        query = _echo_query(wecom, "x" * 40)
    raw = "&".join(f"{k}={v}" for k, v in query.items())
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{wecom.url}?{raw}") as response,
    ):
        assert (response.status, await response.text()) == (200, "x" * 40)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"msg_signature": "0" * 40}, 403),
        ({"timestamp": "1"}, 403),
        ({"echostr": None}, 400),
        ({"nonce": None}, 400),
    ],
    ids=["signature", "timestamp", "no-echostr", "no-nonce"],
)
async def test_bad_verification_is_refused(
    wecom: WeComCallbackClient, change: dict[str, str | None], status: int
) -> None:
    query: dict[str, str] = _echo_query(wecom, "hello")
    for key, value in change.items():
        if value is None:
            del query[key]
        else:
            query[key] = value
    assert (await wecom.get(query))[0] == status


async def test_official_message_is_acknowledged_and_handled(
    serve: Serve, inbox: Inbox, crypt: MsgCrypt, recorder: Recorder
) -> None:
    query = {
        "msg_signature": "0c3914025cb4b4d68103f6bfc8db550f79dcf48e",
        "timestamp": "1476422779",
        "nonce": "1597212914",
    }
    base = await serve(callback_app(crypt, inbox, now=lambda: 1476422779 + 60))
    async with WeComCallbackClient(base + "/wecom", **SAMPLE) as wecom:
        assert await wecom.post_raw(query, OFFICIAL_BODY.encode()) == (200, "")
    [message] = await recorder.wait(1)
    # UserIds are read lower-cased: WeCom compares them without regard to case.
    assert message == TextMessage("chenjiashun", 1476422779, 1000002, "你好", "1456453720")


async def test_a_callback_signed_long_ago_or_ahead_is_refused(
    serve: Serve, inbox: Inbox, crypt: MsgCrypt, recorder: Recorder
) -> None:
    now = [1_800_000_000.0]
    base = await serve(callback_app(crypt, inbox, now=lambda: now[0]))
    async with WeComCallbackClient(base + "/wecom", **SAMPLE, clock=lambda: now[0]) as wecom:
        text = wecom.text("ZhangSan", "/note 1.1 已完成", msg_id="1").encode()
        encrypt = wecom.encrypt(text)
        body = envelope_xml(wecom.corp_id, encrypt, 1000002)
        captured = wecom.signed_query(encrypt)
        now[0] += FRESH_SECONDS - 1  # within the window: a WeCom retry, or a clock a bit off
        assert await wecom.post_raw(captured, body) == (200, "")
        now[0] += 2 * 3600  # the same callback replayed two hours later
        assert (await wecom.post_raw(captured, body))[0] == 403
        ahead = wecom.signed_query(encrypt) | {"timestamp": str(int(now[0]) + 3600)}
        assert (await wecom.post_raw(ahead, body))[0] == 403  # (its signature fails too)
        assert (await wecom.post_raw(captured | {"timestamp": "soon"}, body))[0] == 400
    assert len(await recorder.wait(1)) == 1
    assert Callbacks.TTL.total_seconds() > FRESH_SECONDS * 2  # keys outlive the window


async def test_ack_comes_before_the_answer(wecom: WeComCallbackClient, recorder: Recorder) -> None:
    recorder.gate = asyncio.Event()
    assert await wecom.post(wecom.text("ZhangSan", "人社厅负责什么", msg_id="1")) == (200, "")
    assert recorder.messages == []  # still being handled: WeCom was not kept waiting
    recorder.gate.set()
    [message] = await recorder.wait(1)
    assert isinstance(message, TextMessage)
    assert message.content == "人社厅负责什么"


async def test_retries_give_one_answer(wecom: WeComCallbackClient, recorder: Recorder) -> None:
    text = wecom.text("ZhangSan", "人社厅负责什么", msg_id="7459035031717794886")
    for _ in range(3):
        assert await wecom.post(text) == (200, "")
    assert await wecom.post(wecom.text("ZhangSan", "不等", msg_id="2")) == (200, "")
    # One member's messages are handled in order: once the second is in, any repeat would be.
    messages = await recorder.wait(2)
    assert [m.content for m in messages if isinstance(m, TextMessage)] == [
        "人社厅负责什么",
        "不等",
    ]


async def test_card_clicks_are_deduplicated_per_user_key_and_second(
    wecom: WeComCallbackClient, recorder: Recorder
) -> None:
    click = wecom.card_click("ZhangSan", task_id="bind-7", event_key="approve:7", create_time=5)
    for _ in range(3):
        await wecom.post(click)
    await wecom.post(
        wecom.card_click("LiSi", task_id="bind-7", event_key="approve:7", create_time=5)
    )
    await wecom.post(
        wecom.card_click("ZhangSan", task_id="bind-7", event_key="reject:7", create_time=5)
    )
    # A last one marks the end: all before it are handled (members in parallel, each in order).
    await wecom.post(wecom.text("LiSi", "完", msg_id="9"))
    messages = await recorder.wait(4)
    clicks = [(m.user, m.event_key) for m in messages if isinstance(m, CardClick)]
    assert [key for user, key in clicks if user == "zhangsan"] == ["approve:7", "reject:7"]
    assert [key for user, key in clicks if user == "lisi"] == ["approve:7"]


async def test_one_members_messages_keep_their_order(
    wecom: WeComCallbackClient, recorder: Recorder
) -> None:
    recorder.gate = asyncio.Event()
    await wecom.post(wecom.text("ZhangSan", "/note", msg_id="1"))
    await wecom.post(wecom.text("ZhangSan", "不等", msg_id="2"))  # would overtake, if it could
    await wecom.post(wecom.text("LiSi", "不等", msg_id="3"))  # another member is not held up
    [first] = await recorder.wait(1)
    assert first.user == "lisi"
    recorder.gate.set()
    messages = await recorder.wait(3)
    assert [(m.user, m.content) for m in messages if isinstance(m, TextMessage)][1:] == [
        ("zhangsan", "/note"),
        ("zhangsan", "不等"),
    ]


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><ToUserName>ww1436e0e65a779aee</ToUserName><Encrypt>&lol3;</Encrypt></xml>"""


async def test_bad_callbacks_are_refused_and_the_server_keeps_serving(
    wecom: WeComCallbackClient, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("handlers", "bot"):  # aiosqlite logs every statement at DEBUG: kept off
        caplog.set_level(logging.DEBUG, logger=name)
    text = wecom.text("ZhangSan", "秘密的进展说明", msg_id="1").encode()
    good = wecom.encrypt(text)
    envelope = envelope_xml(wecom.corp_id, good, 1000002)
    query = wecom.signed_query(good)

    # A bad signature.
    assert (await wecom.post_raw({**query, "msg_signature": "f" * 40}, envelope))[0] == 403
    # No signature at all.
    assert (await wecom.post_raw({}, envelope))[0] == 400
    # An XML bomb in the envelope (no signed Encrypt text in it).
    assert (await wecom.post_raw(query, BOMB))[0] == 400
    # Not XML, and too big.
    assert (await wecom.post_raw(query, b"{json: 1}"))[0] == 400
    big = envelope.replace(b"]]></Encrypt>", b"A" * MAX_BODY_BYTES + b"]]></Encrypt>")
    assert (await wecom.post_raw(query, big))[0] == 413

    # Signed with our token, so acknowledged (WeCom would only deliver them again), but
    # dropped when opened: the envelope addressed to another corp, or to another app of
    # ours; another corp's message (receiveid inside the ciphertext); bad padding (a wrong
    # EncodingAESKey at the sender); an XML bomb inside the message; an envelope whose
    # Encrypt is not the text signed (a second one, in a comment before it).
    # (Each signed anew: a signature seen before is taken for WeCom delivering it again.)
    other = envelope_xml("ww0000000000000000", good, 1000002)
    assert (await wecom.post_raw(wecom.signed_query(good), other))[0] == 200
    other = envelope_xml(wecom.corp_id, good, 1)
    assert (await wecom.post_raw(wecom.signed_query(good), other))[0] == 200
    assert (await wecom.post(text, receive_id="ww0000000000000000"))[0] == 200
    flipped = bytearray(base64.b64decode(wecom.encrypt(text)))
    flipped[-1] ^= 0xFF
    forged = base64.b64encode(bytes(flipped)).decode()
    padded = envelope_xml(wecom.corp_id, forged, 1000002)
    assert (await wecom.post_raw(wecom.signed_query(forged), padded))[0] == 200
    assert (await wecom.post(BOMB.replace(b"Encrypt", b"Content")))[0] == 200
    unsigned = wecom.encrypt(wecom.text("ZhangSan", "未签名", msg_id="2").encode())
    swapped = envelope_xml(wecom.corp_id, unsigned, 1000002).replace(
        b"<xml>", b"<xml><!-- <Encrypt>" + good.encode() + b"</Encrypt> -->"
    )
    assert (await wecom.post_raw(wecom.signed_query(good), swapped))[0] == 200

    # Still serving, and the good message goes through: alone, after those (they are opened
    # in the order they came).
    assert await wecom.post_raw(query, envelope) == (200, "")
    [message] = await recorder.wait(1)
    assert isinstance(message, TextMessage)
    assert message.content == "秘密的进展说明"
    logged = caplog.text
    assert "拒绝企业微信回调" in logged
    # (The bad padding is the receiveid's condition, counted within the minute.)
    for reason in (
        "回调的 ToUserName 不是本企业",
        "回调的 AgentID 不是本应用",
        "回调校验失败：receiveid 与 CorpID 不符",
        "回调 XML 不合法：XML 含有被禁止",
        "回调的 Encrypt 不是签名的那个",
    ):
        assert f"丢弃已确认的企业微信回调：{reason}" in logged
    for secret in (SAMPLE["token"], SAMPLE["encoding_aes_key"], "秘密的进展说明", good[:20]):
        assert secret not in logged


@pytest.mark.parametrize("kind", ["no-signature", "bad-signature", "stale", "bad-echostr"])
async def test_a_flood_of_refused_callbacks_is_logged_once_a_period(
    wecom: WeComCallbackClient, ticks: Ticks, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    good = wecom.encrypt(wecom.text("ZhangSan", "你好", msg_id="1").encode())
    envelope = envelope_xml(wecom.corp_id, good, 1000002)
    query = wecom.signed_query(good)
    stale = str(int(query["timestamp"]) - FRESH_SECONDS - 60)
    echo = _echo_query(wecom, "hello")

    async def refused() -> int:
        if kind == "no-signature":
            return (await wecom.post_raw({}, envelope))[0]
        if kind == "bad-signature":
            return (await wecom.post_raw({**query, "msg_signature": "f" * 40}, envelope))[0]
        if kind == "stale":
            return (await wecom.post_raw({**query, "timestamp": stale}, envelope))[0]
        return (await wecom.get({**echo, "echostr": echo["echostr"][::-1]}))[0]

    for _ in range(30):
        assert await refused() in (400, 403)
    assert _logged(caplog, "拒绝企业微信回调") == 1
    ticks.now += server.PERIOD  # a minute on, the flood goes on: one line with the count
    assert await refused() in (400, 403)
    assert _logged(caplog, "拒绝企业微信回调") == 2
    assert _logged(caplog, "另有 29 次") == 1


async def test_connections_over_and_under_the_cap_in_turn_log_one_line(
    wecom: WeComCallbackClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(server, "MAX_CONNECTIONS", 1)
    health = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    refused = 0
    for _ in range(10):  # one held open (over the cap for the next), then let go (under it)
        while True:
            reader, writer = await _raw(wecom.url, health)
            async with asyncio.timeout(10):
                answer = await reader.readuntil(b"\r\n\r\n")
            if answer.startswith(b"HTTP/1.1 200"):
                break
            refused += 1  # the last one held is not closed yet
            writer.close()
        other, knocking = await _raw(wecom.url, health)
        assert (await _closed(other)).startswith(b"HTTP/1.1 503")
        refused += 1
        knocking.close()
        writer.close()
    assert refused >= 10
    assert _logged(caplog, "新连接被拒绝") == 1


async def test_a_failing_handler_is_logged_and_the_next_message_handled(
    wecom: WeComCallbackClient, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    recorder.fail_on = "坏"
    assert await wecom.post(wecom.text("ZhangSan", "坏", msg_id="1")) == (200, "")
    assert await wecom.post(wecom.text("ZhangSan", "好", msg_id="2")) == (200, "")
    [message] = await recorder.wait(1)
    assert isinstance(message, TextMessage)
    assert message.content == "好"
    assert "处理收到的消息失败（wecom #" in caplog.text


async def test_healthz(wecom: WeComCallbackClient) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(wecom.url.replace("/wecom", "/healthz")) as response,
    ):
        assert (response.status, await response.text()) == (200, "ok")


async def test_stopping_drains_what_was_received(
    serve: Serve, inbox: Inbox, crypt: MsgCrypt, recorder: Recorder, store: Store
) -> None:
    """Stopped, the server takes nothing more and lets what it took be handled, bounded."""
    recorder.gate = asyncio.Event()
    runner = runner_of(callback_app(crypt, inbox))
    await runner.setup()
    await listen(runner, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/wecom"
    async with WeComCallbackClient(url, **SAMPLE) as wecom:
        assert await wecom.post(wecom.text("ZhangSan", "导出", msg_id="1")) == (200, "")
        await runner.cleanup()
    draining = asyncio.create_task(inbox.drain(30))
    await asyncio.sleep(0.05)
    assert not draining.done()
    recorder.gate.set()
    assert await draining == 0
    assert [m.content for m in recorder.messages if isinstance(m, TextMessage)] == ["导出"]
    assert await store.callbacks.waiting(CHANNEL) == []
    with pytest.raises(Closed):  # a late callback: 503, WeCom delivers it again
        await inbox.accept("msg:2", "zhangsan", "<xml/>")


async def test_a_bounded_drain_leaves_the_rest_stored_for_the_next_start(
    serve: Serve, crypt: MsgCrypt, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    stuck, later = Recorder(), Recorder()
    stuck.gate = asyncio.Event()  # never opened: a WeCom API that hangs
    inbox = Inbox(store, CHANNEL, stuck)
    base = await serve(callback_app(crypt, inbox))
    async with WeComCallbackClient(base + "/wecom", **SAMPLE) as wecom:
        for n in range(3):
            assert await wecom.post(wecom.text("ZhangSan", f"第{n}条", msg_id=str(n))) == (200, "")
    assert await inbox.drain(0.05) == 3
    assert "3 条消息未处理完" in caplog.text
    restarted = Inbox(store, CHANNEL, later)
    assert await restarted.start() == 3
    messages = await later.wait(3)
    assert [m.content for m in messages if isinstance(m, TextMessage)] == [
        "第0条",
        "第1条",
        "第2条",
    ]
    await restarted.drain(1)
    assert await store.callbacks.waiting(CHANNEL) == []


def _echo_query(wecom: WeComCallbackClient, echo: str) -> dict[str, str]:
    echostr = wecom.encrypt(echo.encode())
    query = wecom.signed_query(echostr, echostr=echostr)
    assert query["msg_signature"] == signature(
        wecom.token, query["timestamp"], query["nonce"], echostr
    )
    return query


# --- bounds: slow clients, too many connections, broken bodies -------------------------------


async def _raw(url: str, data: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open a bare TCP connection to the server of `url` and send `data`."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    await writer.drain()
    return reader, writer


async def _closed(reader: asyncio.StreamReader) -> bytes:
    """Read until the server closes the connection; return what it said."""
    async with asyncio.timeout(10):
        return await reader.read()


def _logged(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in r.getMessage() for r in caplog.records)


async def test_a_client_slow_to_send_its_headers_is_closed_and_logged_once(
    wecom: WeComCallbackClient,
    recorder: Recorder,
    ticks: Ticks,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(server, "HEADER_SECONDS", 0.2)
    slow = [await _raw(wecom.url, b"POST /wecom HTTP/1.1\r\nHost: x\r\n") for _ in range(5)]
    for reader, writer in slow:
        assert await _closed(reader) == b""
        writer.close()
    assert _logged(caplog, "关闭了发送过慢的连接") == 1  # one line for the condition
    # Still serving; a good request in between does not start the condition over.
    assert await wecom.post(wecom.text("ZhangSan", "你好", msg_id="1")) == (200, "")
    reader, writer = await _raw(wecom.url, b"GET /healthz HTTP/1.1\r\n")
    assert await _closed(reader) == b""
    writer.close()
    assert _logged(caplog, "关闭了发送过慢的连接") == 1
    # A period later the next one is logged, with how many were not.
    ticks.now += server.PERIOD
    reader, writer = await _raw(wecom.url, b"GET /healthz HTTP/1.1\r\n")
    assert await _closed(reader) == b""
    writer.close()
    assert _logged(caplog, "关闭了发送过慢的连接") == 2
    assert _logged(caplog, "另有 5 次") == 1
    await recorder.wait(1)


async def test_a_post_whose_body_never_comes_is_answered_408(
    wecom: WeComCallbackClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "BODY_SECONDS", 0.2)
    query = "&".join(f"{k}={v}" for k, v in wecom.signed_query("x").items())
    head = f"POST /wecom?{query} HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n"
    reader, writer = await _raw(wecom.url, head.encode() + b"<xml>")
    async with asyncio.timeout(10):
        status = await reader.readline()
    writer.close()
    assert status.startswith(b"HTTP/1.1 408"), status


async def test_connections_over_the_cap_get_503_and_one_log_line(
    wecom: WeComCallbackClient,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(server, "MAX_CONNECTIONS", 3)
    health = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    idle = [await _raw(wecom.url, health) for _ in range(3)]
    for reader, _ in idle:  # answered, and kept alive: three connections open
        async with asyncio.timeout(10):
            assert (await reader.readuntil(b"ok")).startswith(b"HTTP/1.1 200")
    for _ in range(4):
        reader, writer = await _raw(wecom.url, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await _closed(reader)).startswith(b"HTTP/1.1 503")
        writer.close()
    assert _logged(caplog, "新连接被拒绝") == 1
    for _, writer in idle:
        writer.close()
    async with asyncio.timeout(10):
        while (await wecom.get({}))[0] != 400:  # noqa: ASYNC110 - served once they are gone
            await asyncio.sleep(0.02)
    assert await wecom.post(wecom.text("ZhangSan", "你好", msg_id="1")) == (200, "")
    await recorder.wait(1)


async def test_failing_accepts_are_logged_once_per_condition(
    wecom: WeComCallbackClient, caplog: pytest.LogCaptureFixture
) -> None:
    loop = asyncio.get_running_loop()
    for _ in range(5):  # what asyncio's accept loop reports, once a second, out of files
        loop.call_exception_handler(
            {
                "message": "socket.accept() out of system resource",
                "exception": OSError(24, "Too many open files"),
            }
        )
    assert _logged(caplog, "socket.accept()") == 0
    assert _logged(caplog, "回调服务器无法接受新连接（OSError）") == 1


async def test_a_client_gone_mid_body_leaves_no_traceback(
    wecom: WeComCallbackClient, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    text = wecom.text("ZhangSan", "你好", msg_id="1").encode()
    encrypt = wecom.encrypt(text)
    body = envelope_xml(wecom.corp_id, encrypt, 1000002)
    query = "&".join(f"{k}={v}" for k, v in wecom.signed_query(encrypt).items())
    head = f"POST /wecom?{query} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
    _, writer = await _raw(wecom.url, head.encode() + body[:40])
    writer.close()
    await writer.wait_closed()
    assert await wecom.post(text) == (200, "")  # the whole callback, delivered again
    await recorder.wait(1)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("encoding", ["GBK", "x-unknown"])
async def test_a_body_in_an_encoding_that_cannot_be_read_is_dropped_cleanly(
    wecom: WeComCallbackClient,
    encoding: str,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    encrypt = wecom.encrypt(wecom.text("ZhangSan", "你好", msg_id="1").encode())
    declared = f'<?xml version="1.0" encoding="{encoding}"?>'.encode()
    body = declared + envelope_xml(wecom.corp_id, encrypt, 1000002)
    # Signed: acknowledged; not UTF-8 as WeCom writes: dropped when opened, in a log line.
    assert (await wecom.post_raw(wecom.signed_query(encrypt), body))[0] == 200
    not_utf8 = "中文".encode("gbk")
    body = envelope_xml(wecom.corp_id, encrypt, 1000002).replace(b"<xml>", b"<xml>" + not_utf8)
    assert (await wecom.post_raw(wecom.signed_query(encrypt), body))[0] == 400
    assert await wecom.post(wecom.text("ZhangSan", "好", msg_id="2")) == (200, "")
    [message] = await recorder.wait(1)
    assert getattr(message, "content", None) == "好"
    assert "丢弃已确认的企业微信回调：回调 XML 不合法" in caplog.text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_message_for_another_app_is_dropped_when_opened(
    wecom: WeComCallbackClient, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    wecom.agent_id = 1000003  # the same corp's other app, signed with our token
    assert (await wecom.post(wecom.text("ZhangSan", "你好", msg_id="1")))[0] == 200
    wecom.agent_id = 1000002
    assert await wecom.post(wecom.text("ZhangSan", "好", msg_id="2")) == (200, "")
    [message] = await recorder.wait(1)
    assert isinstance(message, TextMessage)
    assert message.content == "好"
    assert "丢弃已确认的企业微信回调：回调的 AgentID 不是本应用" in caplog.text


async def test_an_envelope_for_another_app_or_a_message_naming_none_is_dropped_when_opened(
    wecom: WeComCallbackClient, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    plain = wecom.text("ZhangSan", "你好", msg_id="1")
    sealed = wecom.encrypt(plain.encode())
    other = envelope_xml(wecom.corp_id, sealed, 1000003)  # inner 1000002, outer another app
    assert (await wecom.post_raw(wecom.signed_query(sealed), other))[0] == 200
    unnamed = plain.replace("<AgentID>1000002</AgentID>", "")
    assert unnamed != plain
    sealed = wecom.encrypt(unnamed.encode())
    envelope = envelope_xml(wecom.corp_id, sealed, 1000002)
    assert (await wecom.post_raw(wecom.signed_query(sealed), envelope))[0] == 200
    assert await wecom.post(wecom.text("ZhangSan", "好", msg_id="2")) == (200, "")
    [message] = await recorder.wait(1)
    assert isinstance(message, TextMessage)
    assert message.content == "好"
    assert "丢弃已确认的企业微信回调：回调的 AgentID 不是本应用" in caplog.text


async def test_with_several_instances_a_callback_is_opened_before_its_200(
    serve: Serve, inbox: Inbox, crypt: MsgCrypt, recorder: Recorder, store: Store
) -> None:
    """Stored under its member (handled where that member's lease is), refused with a 4xx."""
    base = await serve(callback_app(crypt, inbox, agent_id=1000002, sealed=False))
    async with WeComCallbackClient(base + "/wecom", **SAMPLE) as wecom:
        assert (await wecom.post(wecom.text("ZhangSan", "你好", msg_id="1"), receive_id="ww0"))[
            0
        ] == 403
        recorder.gate = asyncio.Event()  # held: what is stored stays in the inbox meanwhile
        assert await wecom.post(wecom.text("ZhangSan", "好", msg_id="2")) == (200, "")
        [stored] = await store.callbacks.waiting(CHANNEL)
        held = parse_message(stored.body.encode())
        assert isinstance(held, TextMessage)
        assert (stored.member, held.user, held.content) == ("zhangsan", "zhangsan", "好")
        recorder.gate.set()
        [message] = await recorder.wait(1)
        assert getattr(message, "content", None) == "好"

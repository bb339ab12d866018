"""The bot's HTTP client: aiohttp, with python-telegram-bot's errors and lifecycle."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from telegram import Bot, InputFile
from telegram.error import NetworkError, TimedOut

from handlers.telegram.transport import ANSWER_LOST, AiohttpRequest, http_request
from tests.fakes.bot_api import FakeBotApi
from tests.harness import clear_proxies

TOKEN = "123:ABC"


def _bot(base_url: str) -> Bot:
    return Bot(
        TOKEN,
        base_url=base_url,
        request=http_request(4),
        get_updates_request=http_request(1),
    )


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever proxy the machine running the tests sets, these tests choose their own."""
    clear_proxies(monkeypatch)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN) as server:
        yield server


async def test_calls_go_over_aiohttp(api: FakeBotApi) -> None:
    bot = _bot(api.base_url)
    async with bot:
        await bot.send_message(42, "<b>你好</b> &amp; 再见", parse_mode="HTML")
        assert isinstance(bot.request, AiohttpRequest)
        assert isinstance(bot.request.session(), ClientSession)
    [call] = api.calls_of("sendMessage")
    assert call.ok
    assert api.sent_messages(42)[-1]["rendered_text"] == "你好 & 再见"


async def test_files_are_uploaded(api: FakeBotApi) -> None:
    bot = _bot(api.base_url)
    async with bot:
        await bot.send_document(42, InputFile(io.BytesIO(b"xlsx bytes"), filename="汇总.xlsx"))
    [call] = api.calls_of("sendDocument")
    assert call.ok


async def test_works_again_after_a_shutdown(api: FakeBotApi) -> None:
    bot = _bot(api.base_url)
    async with bot:
        await bot.get_me()
    async with bot:  # initialize() after shutdown() reuses the transport
        await bot.get_me()
    calls = api.calls_of("getMe")
    assert len(calls) == 4  # initialize() asks too
    assert all(call.ok for call in calls)


async def test_a_proxy_from_the_environment_is_used(
    api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY & co. keep working: httpx applies them to its own transport only."""
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{api.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    # A host that does not exist: only the proxy (our fake, which serves the absolute URL it
    # is asked for) can answer.
    bot = _bot("http://api.telegram.invalid/bot")
    async with bot:
        await bot.send_message(42, "经代理")
    assert api.sent_messages(42)[-1]["rendered_text"] == "经代理"


async def test_unreachable_server_is_a_network_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bot = _bot(f"http://127.0.0.1:{port}/bot")
    try:
        with pytest.raises(NetworkError):
            await bot.get_me()
    finally:
        await bot.request.shutdown()


async def test_silent_server_is_a_timeout() -> None:
    connections: list[asyncio.StreamWriter] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        await reader.read()  # take the request, answer nothing

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    bot = _bot(f"http://127.0.0.1:{port}/bot")
    try:
        with pytest.raises(TimedOut) as raised:
            await bot.send_message(42, "hi", read_timeout=0.2)
        # Sent, and no answer: the message may have arrived (a reminder is not sent again).
        assert isinstance(raised.value.__cause__, ANSWER_LOST)
    finally:
        await bot.request.shutdown()
        for writer in connections:
            writer.close()
            await writer.wait_closed()
        server.close()
        await server.wait_closed()


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def test_certificates_are_checked_as_httpx_checks_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over TLS the server's certificate is verified, against SSL_CERT_FILE when it is set."""
    cert_file, key_file = _certificate(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert_file, key_file)
    me = {"id": 1, "is_bot": True, "first_name": "Bot", "username": "test_bot"}

    async def get_me(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "result": me})

    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/getMe", get_me)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    port = runner.addresses[0][1]
    try:
        untrusted = _bot(f"https://127.0.0.1:{port}/bot")
        with pytest.raises(NetworkError):  # not in the trusted certificates
            await untrusted.get_me()
        await untrusted.request.shutdown()
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
        trusted = _bot(f"https://127.0.0.1:{port}/bot")
        assert (await trusted.get_me()).username == "test_bot"
        await trusted.request.shutdown()
    finally:
        await runner.cleanup()

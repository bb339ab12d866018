"""WeCom callbacks: 1,000 encrypted messages from 100 members at once, acknowledged and answered.

Run: .venv/bin/python bench/bench_wecom.py [-n 1000] [--members 100] [--rate R]

Three processes, as in production: the callback server (handlers/wecom/server.py, answering
each message through handlers/wecom/client.py by message/send), the fake WeCom API
(tests/fakes/wecom_api.py), and this one playing WeCom's callback servers: every callback is
encrypted and signed beforehand (tests/fakes/wecom_callback.py) and written as a raw HTTP
request, then all are sent at once (or, with --rate, R a second), each on its own connection.

Printed: p50 / p99 / max time from opening a callback's connection to its HTTP 200 (target
p99 ≤ 100 ms on two cores), the time the server's handler took (receipt to acknowledgement,
without the wait for the event loop), the bot process's CPU per callback, the time until the
fake API has recorded every answer, and answers missing or duplicated. The answer is an echo:
this measures the WeCom layer (verify, decrypt, parse, store in the inbox, acknowledge, send),
not the question engine (bench_ask.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.fakes

from aiohttp import web  # noqa: E402
from aiohttp.typedefs import Handler  # noqa: E402

from bot.inbox import Inbox  # noqa: E402
from bot.store import Delivery, Store  # noqa: E402
from handlers.wecom.client import WeComClient  # noqa: E402
from handlers.wecom.crypto import MsgCrypt  # noqa: E402
from handlers.wecom.message import TextMessage, parse_message  # noqa: E402
from handlers.wecom.server import CHANNEL, callback_app, listen, runner_of  # noqa: E402
from tests.fakes.wecom_api import FakeWeComApi  # noqa: E402
from tests.fakes.wecom_callback import (  # noqa: E402
    WeComCallbackClient,
    envelope_xml,
    official_sample,
)

SAMPLE = official_sample()


def serve(conn: Connection, api_base: str, corp_id: str, secret: str, agent_id: int) -> None:
    """The bot's side, in a child process: the callback app answering through the client.

    Each callback is stored in the inbox (a SQLite file, as in production) before its 200.
    """

    async def run(folder: str) -> None:
        crypt = MsgCrypt(SAMPLE["token"], SAMPLE["encoding_aes_key"], SAMPLE["corp_id"])
        store = await Store.open(Path(folder) / "bench.db")
        async with store, WeComClient(corp_id, secret, agent_id, base_url=api_base) as client:

            async def echo(delivery: Delivery) -> None:
                message = parse_message(delivery.body.encode())
                if isinstance(message, TextMessage):
                    await client.send_text([message.user], f"收到：{message.content}")

            handled: list[float] = []

            @web.middleware
            async def timed(request: web.Request, handler: Handler) -> web.StreamResponse:
                started = time.perf_counter()
                try:
                    return await handler(request)
                finally:
                    handled.append(time.perf_counter() - started)

            inbox = Inbox(store, CHANNEL, echo)
            app = callback_app(crypt, inbox)
            app.middlewares.append(timed)
            runner = runner_of(app)
            await runner.setup()
            await listen(runner, "127.0.0.1", 0)
            conn.send(runner.addresses[0][1])
            cpu = time.process_time()
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)
            conn.send((handled, time.process_time() - cpu))
            await runner.cleanup()
            await inbox.drain(30)

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(folder))


def fake_api(conn: Connection, n: int) -> None:
    """WeCom's API, in a child process: reports when `n` answers were sent, and to whom."""

    async def run() -> None:
        async with FakeWeComApi(corp_id="ww-bench", secret="bench-secret") as api:
            conn.send((api.base_url, api.corp_id, api.secret, api.agent_id))
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)
            with contextlib.suppress(AssertionError):
                await api.wait_for("message/send", n, timeout=120)
            conn.send((time.time(), [user for user, _ in api.delivered]))

    asyncio.run(run())


async def post(port: int, request: bytes, delay: float = 0.0) -> tuple[int, float]:
    """Send one prepared HTTP request on a new connection; (status, seconds to the answer)."""
    if delay:
        await asyncio.sleep(delay)
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    status_line = await reader.readline()
    await reader.readuntil(b"\r\n\r\n")  # the headers; an acknowledgement has no body
    elapsed = time.perf_counter() - started
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1]), elapsed


def prepared(n: int, users: list[str], port: int) -> list[bytes]:
    """Every callback encrypted and signed beforehand, as a raw HTTP request."""
    wecom = WeComCallbackClient("", **SAMPLE)
    requests = []
    for i in range(n):
        text = wecom.text(users[i % len(users)], f"问题{i}", msg_id=str(10**12 + i))
        encrypt = wecom.encrypt(text.encode())
        body = envelope_xml(SAMPLE["corp_id"], encrypt, 1000002)
        query = wecom.signed_query(encrypt)
        head = (
            f"POST /wecom?msg_signature={query['msg_signature']}&timestamp={query['timestamp']}"
            f"&nonce={query['nonce']} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: text/xml\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


async def bench(n: int, members: int, rate: float) -> None:
    """Start both servers, fire the callbacks, print the figures."""
    ctx = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    api_conn, api_child = ctx.Pipe()
    api_process = ctx.Process(target=fake_api, args=(api_child, n), daemon=True)
    api_process.start()
    api_settings = await loop.run_in_executor(None, api_conn.recv)
    bot_conn, bot_child = ctx.Pipe()
    bot_process = ctx.Process(target=serve, args=(bot_child, *api_settings), daemon=True)
    bot_process.start()
    port = await loop.run_in_executor(None, bot_conn.recv)
    users = [f"member{i:03d}" for i in range(members)]
    requests = prepared(n, users, port)
    api_conn.send("go")

    wall_start = time.time()
    started = time.perf_counter()
    gap = 1 / rate if rate else 0.0
    results = await asyncio.gather(*(post(port, r, i * gap) for i, r in enumerate(requests)))
    acked = time.perf_counter() - started
    done_at, delivered = await loop.run_in_executor(None, api_conn.recv)
    bot_conn.send("stop")
    handled, bot_cpu = await loop.run_in_executor(None, bot_conn.recv)
    bot_process.join(10)
    api_process.join(10)

    statuses = Counter(status for status, _ in results)
    latencies = sorted(seconds for _, seconds in results)
    per_user = Counter(delivered)
    expected = Counter(users[i % members] for i in range(n))
    missing = sum(max(0, expected[u] - per_user[u]) for u in users)
    extra = sum(max(0, per_user[u] - expected[u]) for u in users)
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    when = f"at {rate:g} a second" if rate else "at once"
    print(f"{n} callbacks from {members} members {when}; statuses {dict(statuses)}")
    print(
        f"time to HTTP 200   p50 {statistics.median(latencies) * 1000:7.1f} ms"
        f"   p99 {p99 * 1000:7.1f} ms   max {latencies[-1] * 1000:7.1f} ms"
        f"   ({'ok' if p99 <= 0.1 else 'ABOVE'} target 100 ms)"
    )
    handled.sort()
    print(
        f"in the handler      p50 {statistics.median(handled) * 1000:7.2f} ms"
        f"   p99 {handled[int(0.99 * (len(handled) - 1))] * 1000:7.2f} ms"
        f"   (bot process CPU {bot_cpu / n * 1000:.2f} ms a callback, its answer included)"
    )
    print(f"all acknowledged after {acked:.2f} s; all answered after {done_at - wall_start:.2f} s")
    print(f"answers: {len(delivered)} sent, {missing} missing, {extra} duplicated")


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--rate", type=float, default=0.0, help="callbacks a second; 0: at once")
    args = parser.parse_args()
    asyncio.run(bench(args.n, args.members, args.rate))


if __name__ == "__main__":
    main()

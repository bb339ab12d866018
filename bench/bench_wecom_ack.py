"""WeCom callback acknowledgement against its floor: our server beside a bare aiohttp server.

Run: .venv/bin/python bench/bench_wecom_ack.py [-n 1000] [--runs 3] [--members 100] [--profile F]

Three server processes: "bare", aiohttp as it comes (listen backlog 128) with a handler that
answers 200 at once; "bare+", the same with our listen backlog; "ours", the callback server
(handlers/wecom/server.py) storing each callback in the inbox (bot/inbox.py) on a real SQLite
file (WAL, synchronous=FULL) before its 200, the inbox then handling each (a parse: the
answers are bench_wecom.py's business). This process plays WeCom: every callback is encrypted
and signed beforehand, written as a raw HTTP request, and all `n` are sent at once, each on
its own connection, to one server after the other (the order rotating by run). Printed per
run: p50 / p99 / max time from opening a connection to the 200, each server's CPU per
callback (ours: until its inbox has handled them) and until its last 200 (what a burst's p99
is made of, steadier than the p99 on a shared machine), the p99 ratios of ours to both; then
the median of the runs (goal: ours / bare ≤ 1.2), of the CPU to the last 200, and the least
CPU per callback. `--profile F`
writes a cProfile of our server process to F (pstats).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
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

from bot.inbox import Inbox  # noqa: E402
from bot.store import Delivery, Store  # noqa: E402
from bot.store.callbacks import Taken  # noqa: E402
from handlers.wecom.crypto import MsgCrypt  # noqa: E402
from handlers.wecom.message import parse_message  # noqa: E402
from handlers.wecom.server import BACKLOG, CHANNEL, callback_app, listen, runner_of  # noqa: E402
from tests.fakes.wecom_callback import (  # noqa: E402
    WeComCallbackClient,
    envelope_xml,
    official_sample,
)

SAMPLE = official_sample()
AGENT_ID = 1000002


# The process's CPU time when it last sent a response's headers (on_response_prepare).
_last_answer = [0.0]


async def noted(request: web.Request, response: web.StreamResponse) -> None:
    """Note the CPU time at each response: the burst's intake ends with its last 200."""
    _last_answer[0] = time.process_time()


async def answer_cpu(conn: Connection, inbox: Inbox | None = None) -> None:
    """Tell the process's CPU time (once the inbox has handled everything) and its CPU time
    at its last answer, until told to stop."""
    loop = asyncio.get_running_loop()
    while await loop.run_in_executor(None, conn.recv) == "cpu":
        while inbox is not None and await inbox.pending():  # noqa: ASYNC110 - the bench's own
            await asyncio.sleep(0.01)
        conn.send((time.process_time(), _last_answer[0]))


def bare(conn: Connection, backlog: int) -> None:
    """The floor, in a child process: aiohttp answering every POST with 200 at once."""

    async def ok(request: web.Request) -> web.Response:
        return web.Response(status=200)

    async def run() -> None:
        app = web.Application()
        app.router.add_post("/wecom", ok)
        app.on_response_prepare.append(noted)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=backlog)
        await site.start()
        conn.send(runner.addresses[0][1])
        await answer_cpu(conn)
        conn.send({})
        await runner.cleanup()

    asyncio.run(run())


def ours(conn: Connection, profile: str) -> None:
    """Our callback server, in a child process, on a real SQLite file; reports what it stored."""

    async def run(folder: str) -> dict[str, int]:
        crypt = MsgCrypt(SAMPLE["token"], SAMPLE["encoding_aes_key"], SAMPLE["corp_id"])
        handled = 0

        async def handle(delivery: Delivery) -> None:
            nonlocal handled
            parse_message(delivery.body.encode())
            handled += 1

        async with await Store.open(Path(folder) / "bench.db") as store:
            batches = 0
            take = store.callbacks.take

            async def counted(*args: object, **kwargs: object) -> Taken:
                nonlocal batches
                batches += 1
                return await take(*args, **kwargs)  # type: ignore[arg-type]

            store.callbacks.take = counted  # type: ignore[method-assign]
            inbox = Inbox(store, CHANNEL, handle)
            app = callback_app(crypt, inbox, agent_id=AGENT_ID)
            app.on_response_prepare.append(noted)
            runner = runner_of(app)
            await runner.setup()
            await listen(runner, "127.0.0.1", 0)
            conn.send(runner.addresses[0][1])
            profiler = cProfile.Profile() if profile else None
            if profiler:
                profiler.enable()
            await answer_cpu(conn, inbox)
            if profiler:
                profiler.disable()
                profiler.dump_stats(profile)
            await runner.cleanup()
            await inbox.drain(30)
            stored = await store.callbacks.waiting(CHANNEL)
        return {"handled": handled, "batches": batches, "left": len(stored)}

    with tempfile.TemporaryDirectory() as folder:
        conn.send(asyncio.run(run(folder)))


async def post(port: int, request: bytes) -> tuple[int, float]:
    """Send one prepared HTTP request on a new connection; (status, seconds to the answer)."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    status_line = await reader.readline()
    await reader.readuntil(b"\r\n\r\n")  # the headers; an acknowledgement has no body
    elapsed = time.perf_counter() - started
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1]), elapsed


def prepared(n: int, members: int, first: int) -> list[bytes]:
    """`n` callbacks encrypted and signed beforehand, as raw HTTP requests (new MsgIds)."""
    wecom = WeComCallbackClient("", **SAMPLE, agent_id=AGENT_ID)
    requests = []
    for i in range(first, first + n):
        text = wecom.text(f"member{i % members:03d}", f"问题{i}", msg_id=str(10**12 + i))
        encrypt = wecom.encrypt(text.encode())
        body = envelope_xml(SAMPLE["corp_id"], encrypt, AGENT_ID)
        query = wecom.signed_query(encrypt)
        head = (
            f"POST /wecom?msg_signature={query['msg_signature']}&timestamp={query['timestamp']}"
            f"&nonce={query['nonce']} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: text/xml\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


async def burst(port: int, requests: list[bytes]) -> tuple[Counter[int], list[float]]:
    """Send all requests at once; their statuses and sorted times to the answer."""
    results = await asyncio.gather(*(post(port, r) for r in requests))
    return Counter(status for status, _ in results), sorted(s for _, s in results)


def p99(latencies: list[float]) -> float:
    """The 99th percentile of sorted latencies (nearest rank below)."""
    return latencies[int(0.99 * (len(latencies) - 1))]


def line(
    name: str, statuses: Counter[int], latencies: list[float], cpu: float, intake: float
) -> str:
    """One server's figures of one run."""
    return (
        f"  {name:<6} p50 {statistics.median(latencies) * 1000:7.1f} ms"
        f"   p99 {p99(latencies) * 1000:7.1f} ms   max {latencies[-1] * 1000:7.1f} ms"
        f"   CPU {cpu * 1000:.2f} ms a callback, {intake * 1000:.2f} to the last 200"
        f"   statuses {dict(statuses)}"
    )


async def cpu(conn: Connection) -> tuple[float, float]:
    """A server process's CPU seconds so far (its handling of what it accepted included), and
    at its last answer."""
    conn.send("cpu")
    total, last = await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    return float(total), float(last)


# The servers, in the order of the first run: aiohttp as it comes (its listen backlog is 128,
# which a burst of 1,000 overflows: the connections dropped are retried by the client's TCP a
# second later), aiohttp with our backlog, and ours.
SERVERS = ("bare", "bare+", "ours")


async def bench(n: int, runs: int, members: int, profile: str) -> None:
    """Start the servers, fire the bursts, print the figures."""
    ctx = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    pipes, ports, processes = {}, {}, []
    starts = {"bare": (bare, (128,)), "bare+": (bare, (BACKLOG,)), "ours": (ours, (profile,))}
    for name, (target, args) in starts.items():
        conn, child = ctx.Pipe()
        process = ctx.Process(target=target, args=(child, *args), daemon=True)
        process.start()
        processes.append(process)
        pipes[name] = conn
        ports[name] = await loop.run_in_executor(None, conn.recv)
    warm = prepared(50, members, 0)
    for name in SERVERS:  # imports, caches and the first transaction out of the way
        await burst(ports[name], warm)
    ratios: dict[str, list[float]] = {"bare": [], "bare+": []}
    cpus: dict[str, list[float]] = {name: [] for name in SERVERS}
    intakes: dict[str, list[float]] = {name: [] for name in SERVERS}
    for run in range(runs):
        requests = prepared(n, members, 1000 + run * n)
        order = SERVERS[run % 3 :] + SERVERS[: run % 3]  # each goes first once in three
        figures = {}
        for name in order:
            before, _ = await cpu(pipes[name])
            statuses, latencies = await burst(ports[name], requests)
            after, last = await cpu(pipes[name])
            figures[name] = statuses, latencies, (after - before) / n, (last - before) / n
            cpus[name].append(figures[name][2])
            intakes[name].append(figures[name][3])
        print(f"run {run + 1}: {n} callbacks at once, {members} members, {', '.join(order)}")
        for name in SERVERS:
            print(line(name, *figures[name]))
        for name in ratios:
            ratios[name].append(p99(figures["ours"][1]) / p99(figures[name][1]))
        print(
            f"  p99 ours / bare {ratios['bare'][-1]:.2f}×, ours / bare+ {ratios['bare+'][-1]:.2f}×"
        )
    reports = {}
    for name, conn in pipes.items():
        conn.send("stop")
        reports[name] = await loop.run_in_executor(None, conn.recv)
    for process in processes:
        process.join(30)
    print(
        f"median of {runs}: p99 ours / bare {statistics.median(ratios['bare']):.2f}×, "
        f"ours / bare+ {statistics.median(ratios['bare+']):.2f}× (goal ≤ 1.2×)"
    )
    intake = {name: statistics.median(intakes[name]) for name in SERVERS}
    print(
        "CPU a callback to the last 200, median: "
        + ", ".join(f"{name} {intake[name] * 1000:.3f} ms" for name in SERVERS)
        + f"; ours / bare+ {intake['ours'] / intake['bare+']:.2f}×"
    )
    print(
        "least CPU a callback: "
        + ", ".join(f"{name} {min(cpus[name]) * 1000:.2f} ms" for name in SERVERS)
        + f"; ours stored {reports['ours']['handled']} callbacks in "
        f"{reports['ours']['batches']} transactions, {reports['ours']['left']} left unhandled"
    )


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--profile", default="", help="write our server's cProfile here")
    args = parser.parse_args()
    asyncio.run(bench(args.n, args.runs, args.members, args.profile))


if __name__ == "__main__":
    main()

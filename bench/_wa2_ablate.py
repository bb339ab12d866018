"""Temporary ablation: stages between bare+ and ours, CPU to the last 200 side by side."""
from __future__ import annotations
import asyncio, multiprocessing, statistics, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from aiohttp import web
import bench.bench_wecom_ack as b
from bot.inbox import Inbox
from bot.store import Store
from handlers.wecom.crypto import MsgCrypt
from handlers.wecom.server import BACKLOG, CHANNEL, callback_app, listen, runner_of

class Stub(Inbox):
    async def accept(self, key, member, body):  # type: ignore[override]
        return True

def stage(conn, kind: str) -> None:
    async def run(folder: str) -> None:
        async with await Store.open(Path(folder) / "b.db") as store:
            if kind in ("site", "sitefast"):
                from handlers.wecom import server as sv
                async def ok(request):
                    sv._started(request)
                    return web.Response(status=200)
                app = web.Application()
                app[sv._DEADLINES] = {}
                app.router.add_post("/wecom", ok)
                app.on_response_prepare.append(b.noted)
                runner = runner_of(app)
                await runner.setup()
                await listen(runner, "127.0.0.1", 0)
            else:
                crypt = MsgCrypt(b.SAMPLE["token"], b.SAMPLE["encoding_aes_key"], b.SAMPLE["corp_id"])
                async def handle(d): pass
                inbox = (Stub if kind == "stub" else Inbox)(store, CHANNEL, handle)
                app = callback_app(crypt, inbox, agent_id=b.AGENT_ID)
                app.on_response_prepare.append(b.noted)
                runner = runner_of(app)
                await runner.setup()
                await listen(runner, "127.0.0.1", 0)
            conn.send(runner.addresses[0][1])
            await b.answer_cpu(conn)
            conn.send({})
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(folder))

def bare(conn):
    b.bare(conn, BACKLOG)

async def main(runs: int) -> None:
    ctx = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    names = ["bare+", "site", "stub", "ours"]
    pipes, ports = {}, {}
    for name in names:
        c, child = ctx.Pipe()
        p = ctx.Process(target=bare if name == "bare+" else stage, args=(child,) if name == "bare+" else (child, name), daemon=True)
        p.start(); pipes[name] = c
        ports[name] = await loop.run_in_executor(None, c.recv)
    warm = b.prepared(50, 100, 0)
    for name in names:
        await b.burst(ports[name], warm)
    res = {n: [] for n in names}
    for run in range(runs):
        reqs = b.prepared(1000, 100, 1000 + run * 1000)
        order = names[run % 4:] + names[:run % 4]
        for name in order:
            before, _ = await b.cpu(pipes[name])
            st, lat = await b.burst(ports[name], reqs)
            after, last = await b.cpu(pipes[name])
            res[name].append((last - before) / 1000)
        print(run, {n: f"{res[n][-1]*1e6:.0f}" for n in names}, flush=True)
    print("median µs to last 200:", {n: f"{statistics.median(res[n])*1e6:.0f}" for n in names})
    for c in pipes.values():
        c.send("stop")

if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 4))

"""Durable intake on WeCom: what was acknowledged is handled exactly once, whatever happens.

The real `python -m bot run` in a child process (killed with SIGKILL, stopped with SIGTERM),
a real SQLite file, the fake WeCom API holding sends back as a slow WeCom would, and callbacks
encrypted and signed as WeCom sends them. In-process: no member's slow answer holds another's,
the flood limit judges when a message came, not when it is handled, and callbacks that share
one transaction (group commit) share its fate: all stored and answered 200, or none stored
and all answered 503; a callback repeated within one transaction is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
from collections.abc import AsyncIterator, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.ask.assistant import Assistant
from bot.inbox import SEALED, Inbox
from bot.store import Delivery, Store
from bot.throttle import BURST, NOT_FILED, SLOW_DOWN
from handlers.wecom.crypto import MsgCrypt
from handlers.wecom.message import TextMessage, signed_text
from handlers.wecom.server import CHANNEL, callback_app, listen, runner_of
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.clock import FakeClock
from tests.fakes.wecom_api import FakeWeComApi
from tests.fakes.wecom_callback import WeComCallbackClient, envelope_xml, official_sample
from tests.harness import HRSS, bot_process, rows, shanghai
from tests.test_offload import alive
from tests.test_wecom_run import callbacks, free_port, listening
from tests.test_wecom_server import Recorder
from tests.wecom_harness import AES_KEY, BOSS, CALLBACK_TOKEN, WeCom, env_for, wecom_bot

MEMBERS = ("zhang", "li", "wang", "zhao")
NOTES = 5  # each member's
ONLY_WECOM = {"TELEGRAM_BOT_TOKEN": ""}


async def bind(db: Path, *members: str) -> None:
    """Bind members to 人社厅 in the database before the bot starts."""
    async with await Store.open(db) as store:
        for member in members:
            await store.members.bind(f"wecom:{member}", member, HRSS, f"wecom:{BOSS}")


async def held(api: FakeWeComApi, *members: str) -> None:
    """Wait until a send to each of these members is held (their handling is under way)."""
    async with asyncio.timeout(30):
        while not all(api.waiting(m) for m in members):  # noqa: ASYNC110 - polls the fake
            await asyncio.sleep(0.02)


async def answered(api: FakeWeComApi, member: str, count: int) -> list[str]:
    """Wait until `member` got `count` messages; return their texts."""
    async with asyncio.timeout(30):
        while len(api.texts_to(member)) < count:  # noqa: ASYNC110 - polls the fake
            await asyncio.sleep(0.02)
    return api.texts_to(member)


def note(member: str, n: int) -> str:
    return f"/note 5.1 {member}的第{n}条进展"


async def test_acknowledged_notes_survive_kill_9_and_are_filed_once(
    api: FakeBotApi, tmp_path: Path
) -> None:
    db, port = tmp_path / "fengong.db", free_port()
    await bind(db, *MEMBERS)
    async with FakeWeComApi() as wecom_api:
        env = env_for(wecom_api, port) | ONLY_WECOM
        wecom_api.hold(*MEMBERS)  # WeCom hangs: no answer goes out before the kill
        async with bot_process(api, db, env) as process:
            await listening(f"http://127.0.0.1:{port}/healthz", process)
            async with callbacks(wecom_api, port) as wecom:

                async def send(member: str) -> list[tuple[int, str]]:
                    return [
                        await wecom.post(
                            wecom.text(member, note(member, n), msg_id=f"{member}{n}")
                        )
                        for n in range(NOTES)
                    ]

                acks = await asyncio.gather(*(send(m) for m in MEMBERS))
            assert acks == [[(200, "")] * NOTES] * len(MEMBERS)  # every one acknowledged
            await held(wecom_api, *MEMBERS)  # each member's first note is being answered
            process.kill()
            await process.wait()
        assert process.returncode == -signal.SIGKILL
        assert rows(db, "SELECT count(*) FROM inbox") == [(NOTES * len(MEMBERS),)]
        wecom_api.release()  # the sends the killed bot started are delivered to nobody
        assert all(not wecom_api.texts_to(m) for m in MEMBERS)

        async with bot_process(api, db, env) as process:
            replies = {m: await answered(wecom_api, m, NOTES) for m in MEMBERS}
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    assert "继续处理上次停止前已收到的 20 条消息" in output.decode()
    for member in MEMBERS:  # answered once each, in the order they were sent
        assert len(replies[member]) == NOTES
        for n, reply in enumerate(replies[member]):
            assert reply.startswith(f"已记录「{HRSS}」举措 5.1"), reply
            assert f"{member}的第{n}条进展" in reply
    filed = rows(db, "SELECT text FROM notes ORDER BY id")
    assert sorted(t for (t,) in filed) == sorted(
        f"{m}的第{n}条进展" for m in MEMBERS for n in range(NOTES)
    )  # every note stored, none twice
    assert rows(db, "SELECT count(*) FROM inbox") == [(0,)]


# A sitecustomize for the bot's processes: the renders' worker (bot/offload.py, spawned with
# --multiprocessing-fork) stands still, as on a machine too busy to let it start, until the bot
# that started it is gone.
STILL_STARTING = """
import os, sys, time
if "--multiprocessing-fork" in sys.orig_argv:
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.1)
    os._exit(0)
"""


def workers(pid: int) -> list[int]:
    """Return the renders' worker processes that process `pid` started."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
            spawned = b"--multiprocessing-fork" in (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile, or not a process
            continue
        if stat and spawned and int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("channel", ["wecom", "telegram"])
async def test_sigterm_stops_the_bot_while_its_worker_still_starts(
    api: FakeBotApi, tmp_path: Path, channel: str
) -> None:
    """The worker renders run in starts with the bot and imports the renderers at a lower
    priority: on a busy machine still at it when a stop comes. The bot stops all the same, at
    once, and its worker with it (the exit used to wait for the worker's imports)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(STILL_STARTING)
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    db, port = tmp_path / "fengong.db", free_port()
    async with FakeWeComApi() as wecom_api:
        # WeCom runs on our own loop (handlers/run.py serve), Telegram alone on PTB's polling.
        env = env_for(wecom_api, port) | ONLY_WECOM if channel == "wecom" else {}
        async with bot_process(api, db, env | {"PYTHONPATH": path}) as process:
            if channel == "wecom":
                await listening(f"http://127.0.0.1:{port}/healthz", process)
            async with asyncio.timeout(30):
                while not (started := workers(process.pid)):  # noqa: ASYNC110 - no event
                    await asyncio.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    assert not any(alive(worker) for worker in started)


async def test_callbacks_acknowledged_in_a_burst_are_stored_after_kill_9(
    api: FakeBotApi, tmp_path: Path
) -> None:
    """Killed while a burst shares its commits: every callback answered 200 is in the inbox."""
    db, port = tmp_path / "fengong.db", free_port()
    members = [f"m{n}" for n in range(20)]
    await bind(db, *members)
    async with FakeWeComApi() as wecom_api:
        env = env_for(wecom_api, port) | ONLY_WECOM
        wecom_api.hold(*members)  # nothing handled is forgotten before the kill
        async with bot_process(api, db, env) as process:
            await listening(f"http://127.0.0.1:{port}/healthz", process)
            async with callbacks(wecom_api, port) as wecom:
                posts = [
                    asyncio.create_task(
                        wecom.post(wecom.text(members[n % 20], "人社厅负责什么", msg_id=f"b{n}"))
                    )
                    for n in range(200)
                ]
                await asyncio.wait(posts, return_when=asyncio.FIRST_COMPLETED)
                process.kill()  # the first are acknowledged, the rest in flight
                await process.wait()
                answers = await asyncio.gather(*posts, return_exceptions=True)
        assert process.returncode == -signal.SIGKILL
    acknowledged = {f"b{n}" for n, answer in enumerate(answers) if answer == (200, "")}
    assert acknowledged
    # Each stored sealed (the body as it came) or opened (under its member), not both.
    crypt = MsgCrypt(CALLBACK_TOKEN, AES_KEY, wecom_api.corp_id)
    stored = [
        crypt.decrypt(signed_text(body.encode())).decode() if member == SEALED else body
        for member, body in rows(db, "SELECT member, body FROM inbox")
    ]
    for key in acknowledged:
        assert sum(f"<MsgId>{key}</MsgId>" in body for body in stored) == 1, key
    assert len(stored) == len(set(stored))  # none stored twice


async def test_sigterm_stops_taking_callbacks_and_drains_the_rest(
    api: FakeBotApi, tmp_path: Path
) -> None:
    db, port = tmp_path / "fengong.db", free_port()
    await bind(db, "slow", "quick")
    async with FakeWeComApi() as wecom_api:
        wecom_api.hold("slow")
        env = env_for(wecom_api, port) | ONLY_WECOM
        async with bot_process(api, db, env) as process:
            await listening(f"http://127.0.0.1:{port}/healthz", process)
            async with callbacks(wecom_api, port) as wecom:
                for n in range(2):
                    ack = await wecom.post(wecom.text("slow", note("slow", n), msg_id=f"s{n}"))
                    assert ack == (200, "")
                for n in range(3):
                    ack = await wecom.post(wecom.text("quick", note("quick", n), msg_id=f"q{n}"))
                    assert ack == (200, "")
                # One member waiting on WeCom holds up nobody else.
                await answered(wecom_api, "quick", 3)
                await held(wecom_api, "slow")
                process.send_signal(signal.SIGTERM)
                assert process.stdout is not None
                async with asyncio.timeout(30):
                    log = b""
                    while "正在停止：处理已收到的 2 条消息" not in log.decode():
                        log += await process.stdout.readline()
            async with callbacks(wecom_api, port) as wecom:  # a new connection: refused
                late = wecom.text("quick", note("quick", 9), msg_id="late")
                with pytest.raises(aiohttp.ClientConnectorError):  # WeCom delivers it later
                    await wecom.post(late)
            wecom_api.release()
            async with asyncio.timeout(30):
                rest, _ = await process.communicate()
    output = (log + rest).decode()
    assert process.returncode == 0, output
    assert "已收到的消息都已处理完" in output
    first, second = wecom_api.texts_to("slow")  # both answered before the exit, in order
    assert "slow的第0条进展" in first
    assert "slow的第1条进展" in second
    assert rows(db, "SELECT count(*) FROM notes") == [(5,)]
    assert rows(db, "SELECT count(*) FROM inbox") == [(0,)]
    assert "Traceback" not in output


# --- in process -----------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(shanghai(2024, 3, 2, 9, 0))


@pytest.fixture
async def api_wecom() -> AsyncIterator[FakeWeComApi]:
    async with FakeWeComApi() as fake:
        yield fake


@pytest.fixture
async def wecom(
    api_wecom: FakeWeComApi, assistant: Assistant, db_path: Path, clock: FakeClock
) -> AsyncIterator[WeCom]:
    async with wecom_bot(api_wecom, assistant, db_path, clock) as members:
        yield members


async def test_nine_slow_members_hold_up_no_tenth(wecom: WeCom, api_wecom: FakeWeComApi) -> None:
    slow = [f"slow{n}" for n in range(9)]
    api_wecom.hold(*slow)
    for member in slow:
        await wecom.client.post(wecom.client.text(member, "/help", msg_id=wecom.msg_id()))
    await held(api_wecom, *slow)
    assert "尚未绑定单位" in await wecom.say("quick", "/whoami")  # answered meanwhile
    api_wecom.release()
    for member in slow:
        await answered(api_wecom, member, 1)


async def test_a_backlog_is_judged_by_when_it_came_not_a_flood(
    wecom: WeCom, api_wecom: FakeWeComApi, clock: FakeClock
) -> None:
    await wecom.app.core.store.members.bind("wecom:zhang", "zhang", HRSS, f"wecom:{BOSS}")
    api_wecom.hold("zhang")  # WeCom slow: the notes pile up behind the first answer
    count = BURST + 5
    for n in range(count):  # a steady 1.1 s apart, handled much later all at once
        await wecom.client.post(wecom.client.text("zhang", note("zhang", n), msg_id=f"z{n}"))
        clock.advance(seconds=1.1)
    await held(api_wecom, "zhang")
    clock.advance(seconds=60)
    api_wecom.release()
    replies = await answered(api_wecom, "zhang", count)
    assert all(r.startswith(f"已记录「{HRSS}」") for r in replies), replies
    assert len(rows(wecom.app.core.config.db_path, "SELECT id FROM notes")) == count


async def test_a_note_the_flood_limit_refuses_is_told_so(
    wecom: WeCom, api_wecom: FakeWeComApi, clock: FakeClock
) -> None:
    await wecom.app.core.store.members.bind("wecom:zhang", "zhang", HRSS, f"wecom:{BOSS}")
    count = BURST + 3  # all in the same second
    for n in range(count):
        await wecom.client.post(wecom.client.text("zhang", note("zhang", n), msg_id=f"z{n}"))
    await wecom.client.post(wecom.client.text("zhang", "人社厅负责什么", msg_id="question"))
    clock.advance(seconds=60)  # the allowance refilled: answered again
    await wecom.client.post(wecom.client.text("zhang", "/whoami", msg_id="whoami"))
    replies = await answered(api_wecom, "zhang", count + 1)
    # The flood's question is dropped unanswered; its notes are not dropped unsaid.
    assert replies[BURST:count] == [SLOW_DOWN, NOT_FILED, NOT_FILED]
    assert HRSS in replies[count]
    assert len(rows(wecom.app.core.config.db_path, "SELECT id FROM notes")) == BURST


# --- callbacks sharing one transaction ------------------------------------------------------

SAMPLE = official_sample()


class Counted(Inbox):
    """The inbox, counting the callbacks that reached it (to know a batch has formed)."""

    arrived = 0

    async def accept(self, key: str, member: str, body: str) -> bool:
        """Count, then accept as the inbox does."""
        self.arrived += 1
        return await super().accept(key, member, body)

    async def reached(self, count: int) -> None:
        """Wait until `count` callbacks have reached the inbox."""
        async with asyncio.timeout(10):
            while self.arrived < count:  # noqa: ASYNC110 - polls the server under test
                await asyncio.sleep(0.01)


@contextlib.contextmanager
def write_locked(db: Path) -> Iterator[None]:
    """Another connection holds the write lock: the inbox's writer waits, its batch grows."""
    other = sqlite3.connect(db, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


def alter(db: Path, sql: str) -> None:
    """Change the schema from another connection."""
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as other:
        other.execute(sql)


@contextlib.asynccontextmanager
async def served(
    db: Path, recorder: Recorder, acks: list[int] | None = None
) -> AsyncIterator[tuple[Counted, WeComCallbackClient]]:
    """The callback server on `db`, and WeCom's side of it; `acks`: the statuses sent."""
    crypt = MsgCrypt(SAMPLE["token"], SAMPLE["encoding_aes_key"], SAMPLE["corp_id"])
    async with await Store.open(db) as store:
        inbox = Counted(store, CHANNEL, recorder)
        app = callback_app(crypt, inbox)

        async def sent(request: web.Request, response: web.StreamResponse) -> None:
            if acks is not None:
                acks.append(response.status)

        app.on_response_prepare.append(sent)
        runner = runner_of(app)
        await runner.setup()
        try:
            await listen(runner, "127.0.0.1", 0)
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/wecom"
            async with WeComCallbackClient(url, **SAMPLE) as wecom:
                yield inbox, wecom
        finally:
            await runner.cleanup()
            await inbox.drain(5)


async def batched(
    db: Path,
    inbox: Counted,
    wecom: WeComCallbackClient,
    texts: Sequence[str | Coroutine[Any, Any, tuple[int, str]]],
) -> tuple[tuple[int, str], list[tuple[int, str]]]:
    """POST a first callback, then `texts` (or these posts) while its commit waits: they form
    the next batch.

    Returns the first one's answer and theirs.
    """
    with write_locked(db):
        first = asyncio.create_task(wecom.post(wecom.text("first", "先到", msg_id="first")))
        await inbox.reached(1)  # its commit has started and waits for the lock
        rest = [
            asyncio.create_task(wecom.post(text) if isinstance(text, str) else text)
            for text in texts
        ]
        await inbox.reached(1 + len(texts))
    return await first, list(await asyncio.gather(*rest))


async def test_a_failed_batch_answers_503_to_all_its_callbacks_and_stores_none(
    tmp_path: Path,
) -> None:
    db, recorder = tmp_path / "bot.sqlite3", Recorder()
    async with served(db, recorder) as (inbox, wecom):
        texts = [
            wecom.text(f"user{n}", "坏" if n == 3 else f"好{n}", msg_id=f"m{n}") for n in range(8)
        ]
        sealed = [wecom.encrypt(text.encode()) for text in texts]
        signed = [wecom.signed_query(encrypt) for encrypt in sealed]
        # The write fails midway: the keys are in, then the inbox refuses one row.
        await asyncio.to_thread(
            alter,
            db,
            f"CREATE TRIGGER refuse BEFORE INSERT ON inbox WHEN instr(NEW.body, '{sealed[3]}') "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END",
        )
        envelopes = [envelope_xml(wecom.corp_id, encrypt, None) for encrypt in sealed]
        raw = [wecom.post_raw(query, body) for query, body in zip(signed, envelopes, strict=True)]
        first, answers = await batched(db, inbox, wecom, raw)
        assert answers == [(503, "")] * 8  # the good ones too: they shared the transaction
        assert first == (200, "")  # committed before, on its own
        # Nothing of the batch half-stored: neither its rows nor its keys (WeCom's retries of
        # them would be taken for repeats and dropped).
        keys = {key for (key,) in rows(db, "SELECT key FROM callbacks")}
        assert not keys & {f"sig:{query['msg_signature']}" for query in signed}
        stored = "".join(body for (body,) in rows(db, "SELECT body FROM inbox"))
        assert not [encrypt for encrypt in sealed if encrypt in stored]
        # In a thread: the writer may be mid-transaction (forgetting what was handled).
        await asyncio.to_thread(alter, db, "DROP TRIGGER refuse")
        retried = await asyncio.gather(*(wecom.post(text) for text in texts))
        assert retried == [(200, "")] * 8
        messages = await recorder.wait(9)
    contents = sorted(m.content for m in messages if isinstance(m, TextMessage))
    assert contents == sorted(["先到", "坏", *(f"好{n}" for n in range(8) if n != 3)])
    assert rows(db, "SELECT count(*) FROM callbacks WHERE key LIKE 'msg:%'") == [(9,)]


async def test_a_callback_repeated_within_one_batch_is_stored_once(tmp_path: Path) -> None:
    db, recorder = tmp_path / "bot.sqlite3", Recorder()
    async with served(db, recorder) as (inbox, wecom):
        again = wecom.text("zhang", "人社厅负责什么", msg_id="7459035031717794886")
        other = wecom.text("li", "我的任务", msg_id="2")
        first, answers = await batched(db, inbox, wecom, [again, other, again, again])
        assert first == (200, "")
        assert answers == [(200, "")] * 4  # a repeat is acknowledged: WeCom stops resending
        messages = await recorder.wait(3)
        marker = wecom.text("zhang", "之后", msg_id="after")  # zhang's are handled in order
        assert await wecom.post(marker) == (200, "")
        messages = await recorder.wait(4)
    contents = [m.content for m in messages if isinstance(m, TextMessage)]
    assert sorted(contents) == sorted(["先到", "人社厅负责什么", "我的任务", "之后"])
    assert rows(db, "SELECT count(*) FROM inbox") == [(0,)]


class Noting(Recorder):
    """Records, as each message is handled, how many answers the server had sent by then."""

    def __init__(self, acks: list[int]) -> None:
        super().__init__()
        self.acks = acks
        self.sent_before: dict[str, int] = {}

    async def __call__(self, delivery: Delivery) -> None:
        """Note the answers sent so far, then record the message."""
        self.sent_before[delivery.body] = len(self.acks)
        await super().__call__(delivery)


async def test_a_batch_is_acknowledged_before_any_of_it_is_handled(tmp_path: Path) -> None:
    """The handling (an answer to compute) never delays the 200s of the batch it came in."""
    db, acks = tmp_path / "bot.sqlite3", list[int]()
    recorder = Noting(acks)
    async with served(db, recorder, acks) as (inbox, wecom):
        texts = [wecom.text(f"user{n % 3}", f"问{n}", msg_id=f"q{n}") for n in range(12)]
        first, answers = await batched(db, inbox, wecom, texts)
        assert [first, *answers] == [(200, "")] * 13
        await recorder.wait(13)
    assert [recorder.sent_before[text] for text in texts] == [13] * 12

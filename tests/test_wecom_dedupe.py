"""Callbacks de-duplicated in the database: Callbacks.take, alone and behind the server, on
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from bot.clock import TZ
from bot.inbox import Inbox
from bot.store import Store
from bot.store.callbacks import Lease, Taken
from bot.store.chats import Behind
from handlers.wecom.crypto import MsgCrypt
from handlers.wecom.message import TextMessage
from handlers.wecom.server import CHANNEL, callback_app, listen, runner_of
from tests.fakes.clock import FakeClock
from tests.fakes.wecom_callback import WeComCallbackClient, official_sample
from tests.test_wecom_server import Recorder

# The store's backends (tests/conftest.py): the durable intake on both.
BACKENDS = ("sqlite", "postgres")
SAMPLE = official_sample()
START = dt.datetime(2026, 3, 2, 9, 30, tzinfo=TZ)


async def test_a_key_is_claimed_once(database: str | Path) -> None:
    async with await Store.open(database, FakeClock(START)) as store:
        assert await _claim(store, "msg:1")
        assert not await _claim(store, "msg:1")
        assert await _claim(store, "msg:2")


async def test_a_key_twice_in_one_batch_is_stored_once(database: str | Path) -> None:
    path = database
    async with await Store.open(path, FakeClock(START)) as store:
        items = [("msg:1", "zhang", "<a/>"), ("msg:2", "li", "<b/>"), ("msg:1", "zhang", "<c/>")]
        taken = (await store.callbacks.take(CHANNEL, items)).rows
    assert [None if t is None else t.body for t in taken] == ["<a/>", "<b/>", None]
    async with await Store.open(path, FakeClock(START)) as store:
        assert [d.body for d in await store.callbacks.waiting(CHANNEL)] == ["<a/>", "<b/>"]


async def test_a_claim_survives_a_restart(database: str | Path) -> None:
    path = database
    async with await Store.open(path, FakeClock(START)) as store:
        assert await _claim(store, "msg:1")
    async with await Store.open(path, FakeClock(START)) as store:
        assert not await _claim(store, "msg:1")


async def test_keys_older_than_a_day_are_purged_at_most_hourly(database: str | Path) -> None:
    path = database
    clock = FakeClock(START)
    async with await Store.open(path, clock) as store:
        assert await _claim(store, "old")
        clock.advance(hours=23, minutes=30)
        assert await _claim(store, "newer")  # purges: "old" is not a day old yet
        clock.advance(hours=1, minutes=10)
        assert await _claim(store, "newest")  # purges "old", 24 h 40 min old
        assert await _keys(store) == {"newer", "newest"}
        clock.advance(hours=22)
        assert await _claim(store, "x")  # purges nothing: "newer" is 23 h 10 min old
        clock.advance(minutes=55)  # "newer" is over a day old, but the last purge was recent
        assert not await _claim(store, "newer")
        clock.advance(minutes=10)
        assert await _claim(store, "y")
        assert "newer" not in await _keys(store)


async def test_forget_callbacks_counts_what_it_deleted(database: str | Path) -> None:
    clock = FakeClock(START)
    async with await Store.open(database, clock) as store:
        await _claim(store, "a")
        await _claim(store, "b")
        clock.advance(minutes=5)
        await _claim(store, "c")
        assert await store.callbacks.forget(START + dt.timedelta(minutes=1)) == 2
        assert await store.callbacks.forget(START + dt.timedelta(minutes=1)) == 0
        assert await _claim(store, "a")


async def test_three_identical_callbacks_one_answer_across_a_restart(database: str | Path) -> None:
    path = database
    crypt = MsgCrypt(SAMPLE["token"], SAMPLE["encoding_aes_key"], SAMPLE["corp_id"])
    recorder = Recorder()
    for run in range(2):  # the same DB file, a new store and a new server each time
        async with await Store.open(path, FakeClock(START)) as store:
            inbox = Inbox(store, CHANNEL, recorder)
            runner = runner_of(callback_app(crypt, inbox))
            await runner.setup()
            await listen(runner, "127.0.0.1", 0)
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/wecom"
            async with WeComCallbackClient(url, **SAMPLE) as wecom:
                text = wecom.text("ZhangSan", "人社厅负责什么", msg_id="7459035031717794886")
                for _ in range(3):
                    assert await wecom.post(text) == (200, "")
                marker = wecom.text("ZhangSan", "不等", msg_id=f"marker-{run}")
                assert await wecom.post(marker) == (200, "")
                # One member's messages are handled in order: after the marker, any repeat.
                await recorder.wait(run + 2)
            await runner.cleanup()
            await inbox.drain(5)
    texts = [m.content for m in recorder.messages if isinstance(m, TextMessage)]
    assert texts == ["人社厅负责什么", "不等", "不等"]


async def test_callbacks_arriving_together_share_one_transaction(database: str | Path) -> None:
    """Stored before their 200 and yet fast: the writes of callbacks in flight are batched."""
    path = database
    crypt = MsgCrypt(SAMPLE["token"], SAMPLE["encoding_aes_key"], SAMPLE["corp_id"])
    recorder = Recorder()
    async with await Store.open(path, FakeClock(START)) as store:
        commits = 0
        take = store.callbacks.take

        async def counted(
            channel: str,
            items: Sequence[tuple[str, str, str]],
            handled: Sequence[int] = (),
            lease: Lease | None = None,
            arrived: Sequence[dt.datetime | None] = (),
            behind: Behind | None = None,
        ) -> Taken:
            nonlocal commits
            commits += 1
            return await take(channel, items, handled, lease, arrived, behind)

        store.callbacks.take = counted  # type: ignore[method-assign]
        inbox = Inbox(store, CHANNEL, recorder)
        runner = runner_of(callback_app(crypt, inbox))
        await runner.setup()
        await listen(runner, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/wecom"
        async with WeComCallbackClient(url, **SAMPLE) as wecom:
            posts = [wecom.text(f"user{n}", "问", msg_id=str(n)) for n in range(40)]
            answers = await asyncio.gather(*(wecom.post(p) for p in posts))
        assert answers == [(200, "")] * 40
        await recorder.wait(40)
        await runner.cleanup()
        await inbox.drain(5)
    assert commits < 40


async def _claim(store: Store, key: str) -> bool:
    """Store a callback under `key`; True the first time the key is seen."""
    [taken] = (await store.callbacks.take(CHANNEL, [(key, "zhang", "<xml/>")])).rows
    return taken is not None


async def _keys(store: Store) -> set[str]:
    return {row[0] for row in await store.db.fetch("SELECT key FROM callbacks")}

"""Callbacks de-duplicated in SQLite: Store.claim_callback, alone and behind the server."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from aiohttp import web

from bot.clock import TZ
from bot.store import Store
from handlers.wecom.crypto import MsgCrypt
from handlers.wecom.message import TextMessage
from handlers.wecom.server import callback_app
from tests.fakes.clock import FakeClock
from tests.fakes.wecom_callback import WeComCallbackClient, official_sample
from tests.test_wecom_server import Inbox

SAMPLE = official_sample()
START = dt.datetime(2026, 3, 2, 9, 30, tzinfo=TZ)


async def test_a_key_is_claimed_once(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "bot.sqlite3", FakeClock(START)) as store:
        assert await store.claim_callback("msg:1")
        assert not await store.claim_callback("msg:1")
        assert await store.claim_callback("msg:2")


async def test_a_claim_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with await Store.open(path, FakeClock(START)) as store:
        assert await store.claim_callback("msg:1")
    async with await Store.open(path, FakeClock(START)) as store:
        assert not await store.claim_callback("msg:1")


async def test_keys_older_than_a_day_are_purged_at_most_hourly(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    clock = FakeClock(START)
    async with await Store.open(path, clock) as store:
        assert await store.claim_callback("old")
        clock.advance(hours=23, minutes=30)
        assert await store.claim_callback("newer")  # purges: "old" is not a day old yet
        clock.advance(hours=1, minutes=10)
        assert await store.claim_callback("newest")  # purges "old", 24 h 40 min old
        assert _keys(path) == {"newer", "newest"}
        clock.advance(hours=22)
        assert await store.claim_callback("x")  # purges nothing: "newer" is 23 h 10 min old
        clock.advance(minutes=55)  # "newer" is over a day old, but the last purge was recent
        assert not await store.claim_callback("newer")
        clock.advance(minutes=10)
        assert await store.claim_callback("y")
        assert "newer" not in _keys(path)


async def test_forget_callbacks_counts_what_it_deleted(tmp_path: Path) -> None:
    clock = FakeClock(START)
    async with await Store.open(tmp_path / "bot.sqlite3", clock) as store:
        await store.claim_callback("a")
        await store.claim_callback("b")
        clock.advance(minutes=5)
        await store.claim_callback("c")
        assert await store.forget_callbacks(START + dt.timedelta(minutes=1)) == 2
        assert await store.forget_callbacks(START + dt.timedelta(minutes=1)) == 0
        assert await store.claim_callback("a")


async def test_three_identical_callbacks_one_answer_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    crypt = MsgCrypt(SAMPLE["token"], SAMPLE["encoding_aes_key"], SAMPLE["corp_id"])
    inbox = Inbox()
    for run in range(2):  # the same DB file, a new store and a new server each time
        async with await Store.open(path, FakeClock(START)) as store:
            runner = web.AppRunner(
                callback_app(crypt, inbox, claim=store.claim_callback), access_log=None
            )
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/wecom"
            async with WeComCallbackClient(url, **SAMPLE) as wecom:
                text = wecom.text("ZhangSan", "人社厅负责什么", msg_id="7459035031717794886")
                for _ in range(3):
                    assert await wecom.post(text) == (200, "")
                marker = wecom.text("ZhangSan", "不等", msg_id=f"marker-{run}")
                assert await wecom.post(marker) == (200, "")
                # One member's messages are handled in order: after the marker, any repeat.
                await inbox.wait(run + 2)
            await runner.cleanup()
    texts = [m.content for m in inbox.messages if isinstance(m, TextMessage)]
    assert texts == ["人社厅负责什么", "不等", "不等"]


def _keys(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT key FROM callbacks")}

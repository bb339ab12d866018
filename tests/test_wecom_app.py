"""The bot on WeCom, end to end: callbacks from WeCom's side, answers through the fake API.

The real callback server (handlers/wecom/app.py on the core) listens on 127.0.0.1 with a real
SQLite file; the members' callbacks are encrypted and signed as WeCom does
(tests/fakes/wecom_callback.py); everything the bot sends is recorded by the fake WeCom API.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.ask.assistant import Assistant
from bot.core import EXPIRED
from bot.store.sqlite import SQLiteDatabase
from bot.throttle import SLOW_DOWN
from handlers.wecom.app import FAILED, GREETING, MENU, NOT_TEXT
from handlers.wecom.message import MAX_BODY_BYTES
from handlers.wecom.split import TEXT_LIMIT
from tests.fakes.clock import FakeClock
from tests.fakes.wecom_api import FakeWeComApi
from tests.fakes.wecom_callback import envelope_xml
from tests.harness import HRSS, rows, shanghai
from tests.test_telegram import Exploding
from tests.wecom_harness import BOSS, WeCom, content, key_of, keys, wecom_bot

START = shanghai(2024, 3, 2, 9, 0)
ZHANG, LI = "zhang", "li"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def api() -> AsyncIterator[FakeWeComApi]:
    async with FakeWeComApi() as fake:
        yield fake


@pytest.fixture
async def wecom(
    api: FakeWeComApi, assistant: Assistant, db_path: Path, clock: FakeClock
) -> AsyncIterator[WeCom]:
    async with wecom_bot(api, assistant, db_path, clock) as members:
        yield members


def sent(api: FakeWeComApi) -> int:
    return len(api.calls_of("message/send"))


# --- the callback URL -----------------------------------------------------------------------


async def test_url_verification_answers_the_bare_plaintext(wecom: WeCom) -> None:
    assert await wecom.client.verify_url("1288432023552776189") == (200, "1288432023552776189")


async def test_the_menu_is_created_at_start(wecom: WeCom, api: FakeWeComApi) -> None:
    assert api.menus == [{"button": [dict(b) for b in MENU]}]
    assert [b["name"] for b in api.menus[0]["button"]] == ["我的单位", "报送进展", "使用说明"]


async def test_healthz_reports_the_database(wecom: WeCom) -> None:
    url = wecom.client.url.replace("/wecom", "/healthz")
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert (response.status, await response.text()) == (200, "ok\n")
        # Nothing names a version a scanner could look up: neither the schema nor the server.
        assert "aiohttp" not in response.headers.get("Server", "")
        assert "Python" not in response.headers.get("Server", "")
        await wecom.app.core.store.close()
        async with session.get(url) as down:
            assert (down.status, await down.text()) == (503, "数据库无法写入\n")


async def test_healthz_is_503_while_the_database_is_locked(wecom: WeCom, tmp_path: Path) -> None:
    """Another process holding the write lock fails every callback: unhealthy, not "ok"."""
    url = wecom.client.url.replace("/wecom", "/healthz")
    other = sqlite3.connect(tmp_path / "fengong.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert (response.status, await response.text()) == (503, "数据库无法写入\n")
        other.execute("ROLLBACK")
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200
    finally:
        other.close()


async def test_healthz_is_503_while_callbacks_cannot_be_stored_on_a_full_disk(
    wecom: WeCom, tmp_path: Path
) -> None:
    """A full disk lets a rolled-back probe through but no callback: unhealthy until one is."""
    url = wecom.client.url.replace("/wecom", "/healthz")
    disk = sqlite3.connect(tmp_path / "fengong.db", isolation_level=None)
    try:
        disk.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = disk.execute("PRAGMA page_count").fetchone()[0]
    finally:
        disk.close()
    sqlite = wecom.app.core.store.db
    assert isinstance(sqlite, SQLiteDatabase)
    db = sqlite.connection  # the bot's own connection: its database file is full
    await db.execute(f"PRAGMA max_page_count = {pages}")
    long = "今年完成培训" * 300  # needs new pages
    status, _ = await wecom.client.post(wecom.client.text(ZHANG, long, msg_id="full"))
    assert status == 503
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            assert (response.status, await response.text()) == (503, "数据库无法写入\n")
        await db.execute(f"PRAGMA max_page_count = {pages * 100}")  # space again
        status, _ = await wecom.client.post(wecom.client.text(ZHANG, long, msg_id="room"))
        assert status == 200
        async with session.get(url) as response:
            assert response.status == 200


async def test_a_callback_on_a_locked_database_is_answered_503_before_wecom_gives_up(
    wecom: WeCom, tmp_path: Path
) -> None:
    """WeCom waits 5 s for an answer; a 503 after that is no answer (it just retries blind)."""
    other = sqlite3.connect(tmp_path / "fengong.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        async with asyncio.timeout(5):  # WeCom's own limit for the answer
            status, _ = await wecom.client.post(wecom.client.text(ZHANG, "你好", msg_id="1"))
        assert status == 503
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert await wecom.client.post(wecom.client.text(ZHANG, "你好", msg_id="1")) == (200, "")


# --- questions, pages and details -------------------------------------------------------------


async def test_a_question_is_answered_in_markdown_with_detail_buttons(wecom: WeCom) -> None:
    answer, card = await wecom.says(ZHANG, "盲人按摩归谁管", 2)
    assert answer["msgtype"] == "markdown"
    assert len(content(answer).encode()) <= TEXT_LIMIT
    assert "**8.1**" in content(answer)
    assert keys(card) == ["m:8.1", "m:8.2"]


async def test_a_long_answer_comes_page_by_page(wecom: WeCom) -> None:
    first, card = await wecom.says(ZHANG, "人社厅负责哪些任务？", 2)
    assert content(first).endswith("（第 1/7 页）")
    assert len(content(first).encode()) <= TEXT_LIMIT
    assert "上一页" not in [b["text"] for b in card["template_card"]["button_list"]]
    second, card2 = await wecom.press(ZHANG, card, key_of(card, "下一页"), 2)
    assert content(second).endswith("（第 2/7 页）")
    assert content(second) != content(first)
    back, _ = await wecom.press(ZHANG, card2, key_of(card2, "上一页"), 2)
    assert content(back) == content(first)


async def test_a_page_of_an_unknown_token_has_expired(wecom: WeCom) -> None:
    _, card = await wecom.says(ZHANG, "人社厅负责哪些任务？", 2)
    forged = dict(card, template_card=dict(card["template_card"]))
    forged["template_card"]["button_list"] = [{"text": "下一页", "key": "pg:forged:1"}]
    [expired] = await wecom.press(ZHANG, forged, "pg:forged:1")
    assert content(expired) == EXPIRED
    beyond = key_of(card, "下一页").rsplit(":", 1)[0] + ":99"
    forged["template_card"]["button_list"] = [{"text": "末页", "key": beyond}]
    [expired] = await wecom.press(ZHANG, forged, beyond)
    assert content(expired) == EXPIRED


async def test_a_detail_button_shows_the_measure(wecom: WeCom) -> None:
    _, card = await wecom.says(ZHANG, "盲人按摩归谁管", 2)
    [detail, *_] = await wecom.press(ZHANG, card, "m:8.1")
    assert detail["msgtype"] == "markdown"
    assert "8.1" in content(detail)
    assert "盲人按摩" in content(detail)


async def test_wecoms_retries_get_one_answer(wecom: WeCom, api: FakeWeComApi) -> None:
    plain = wecom.client.text(ZHANG, "7.2", msg_id="777")
    answers = await asyncio.gather(*(wecom.client.post(plain) for _ in range(3)))
    assert answers == [(200, "")] * 3
    await wecom.settle(ZHANG)
    asked = [m for m in api.messages_to(ZHANG) if content(m).startswith("**举措 7.2**")]
    assert len(asked) == 1
    claimed = rows(wecom.app.core.config.db_path, "SELECT key FROM callbacks")
    assert ("msg:777",) in claimed


# --- what is refused ------------------------------------------------------------------------


async def test_bad_callbacks_are_refused_and_nothing_is_sent(
    wecom: WeCom, api: FakeWeComApi
) -> None:
    client = wecom.client
    plain = client.text(ZHANG, "7.2", msg_id="900").encode()
    encrypt = client.encrypt(plain)
    signed = client.signed_query(encrypt)
    forged = dict(signed, msg_signature="0" * 40)
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]><xml><Encrypt>&lol2;</Encrypt></xml>'
    )
    huge = envelope_xml(api.corp_id, "A" * (MAX_BODY_BYTES + 1), api.agent_id)
    before = sent(api)
    assert (await client.post_raw(forged, envelope_xml(api.corp_id, encrypt, 1)))[0] == 403
    # Signed with our token: acknowledged, then dropped when opened (another corp's inside).
    assert (await client.post(plain, receive_id="wwSomebodyElse"))[0] == 200
    assert (await client.post_raw(client.signed_query("x"), bomb))[0] == 400
    assert (await client.post_raw(client.signed_query("x"), huge))[0] == 413
    assert (await client.get({"echostr": "x"}))[0] == 400
    # Still serving; and a refused or dropped callback was never taken up (callbacks are
    # opened in the order they came, so it would have been answered before this one).
    assert "尚未绑定单位" in await wecom.say(ZHANG, "/whoami")
    assert sent(api) == before + 1


async def test_an_unknown_command_gets_help(wecom: WeCom) -> None:
    assert await wecom.say(ZHANG, "/nosuch") == "没有这个命令：/nosuch。输入 /help 查看可用命令。"
    assert await wecom.say(ZHANG, "/") == "没有这个命令：/。输入 /help 查看可用命令。"


async def test_a_full_width_slash_starts_a_command_too(wecom: WeCom) -> None:
    assert "尚未绑定单位" in await wecom.say(ZHANG, "／whoami")
    assert "尚未绑定单位" in await wecom.say(ZHANG, " /whoami")


async def test_a_picture_gets_the_text_only_hint(wecom: WeCom) -> None:
    image = wecom.client._xml(  # a member sends a photo
        ZHANG,
        0,
        "<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://x/1.jpg]]></PicUrl>"
        "<MediaId><![CDATA[m1]]></MediaId><MsgId>4242</MsgId>",
    )
    before = len(wecom.api.messages_to(ZHANG))
    assert await wecom.client.post(image) == (200, "")
    [hint] = (await wecom.wait(ZHANG, before + 1))[before:]
    assert content(hint) == NOT_TEXT


async def test_a_flood_is_told_once_then_dropped(
    wecom: WeCom, api: FakeWeComApi, clock: FakeClock
) -> None:
    for n in range(40):
        await wecom.client.post(wecom.client.text(ZHANG, "/whoami", msg_id=f"f{n}"))
    await wecom.wait(ZHANG, 1)
    clock.advance(minutes=10)  # the allowance refills: the next message is answered
    await wecom.settle(ZHANG)  # after every earlier one (a member's messages are in order)
    told = [content(m) for m in api.messages_to(ZHANG)]
    assert told.count(SLOW_DOWN) == 1
    assert len(told) < 20


async def test_an_error_is_logged_without_the_text_and_the_member_told(
    api: FakeWeComApi, assistant: Assistant, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    exploding = Exploding(assistant.plan, assistant.lexicon, assistant.engine)
    async with wecom_bot(api, exploding, db_path, FakeClock(START), apologies=1) as members:
        assert await members.say(ZHANG, "秘密爆炸了吗") == FAILED
        assert "8.1" in await members.say(ZHANG, "盲人按摩归谁管")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["处理企业微信消息时出错（TextMessage，成员 zhang）：RuntimeError"]
    assert "秘密爆炸" not in caplog.text


# --- members: bind, approval, notes, export, invites ------------------------------------------


async def test_bind_approved_on_the_card_then_notes_and_export(
    wecom: WeCom, api: FakeWeComApi
) -> None:
    assert (
        await wecom.say(ZHANG, "/bind 人社厅")
        == f"已提交绑定「{HRSS}」的申请，协调人审批后会通知您。"
    )
    request, card = await wecom.wait(BOSS, 2)
    assert "申请绑定到「人力资源社会保障厅」" in content(request)
    before = len(api.messages_to(ZHANG))
    [decided] = await wecom.press(BOSS, card, key_of(card, "批准"))
    assert content(decided) == f"已批准：{ZHANG} 绑定到「{HRSS}」。"
    [update] = api.card_updates
    assert update["userids"] == [BOSS]
    assert update["button"] == {"replace_name": "已批准"}
    [notice] = (await wecom.wait(ZHANG, before + 1))[before:]
    assert content(notice).startswith(f"您绑定到「{HRSS}」的申请已获批准")

    # Pressed again (a second coordinator's copy, a stale client): decided once only.
    [again] = await wecom.press(BOSS, card, key_of(card, "拒绝"))
    assert content(again) == "这条申请已批准，无需再次处理。"
    assert api.card_updates[-1]["button"] == {"replace_name": "已处理"}

    acked = await wecom.say(ZHANG, "/note 5.1 本年招录 **3** 名 <b>")
    assert acked.startswith(f"已记录「{HRSS}」举措 5.1 的 2024 年进展")
    assert "&#42;&#42;3&#42;&#42; 名 &#60;b>" in acked  # the member's text, escaped
    listed, note_card = await wecom.says(ZHANG, "/notes", 2)
    assert "&#42;&#42;3&#42;&#42;" in content(listed)
    assert keys(note_card) == ["ne:1", "nd:1"]
    assert rows(wecom.app.core.config.db_path, "SELECT unit, measure_id FROM notes") == [
        (HRSS, "5.1")
    ]

    done, caption, file = await wecom.says(BOSS, "/export 2024", 3)
    assert content(done) == "2024 年进展汇总已导出。"
    assert content(caption) == "2024 年进展汇总"
    assert file["msgtype"] == "file"
    upload = api.media[file["file"]["media_id"]]
    assert (upload.kind, upload.filename) == ("file", "进展汇总-2024.xlsx")
    assert upload.data.startswith(b"PK")  # a workbook


async def test_deleting_a_note_greys_its_confirmation_card(
    wecom: WeCom, api: FakeWeComApi, db_path: Path, clock: FakeClock
) -> None:
    await wecom.app.core.store.members.bind(f"wecom:{ZHANG}", ZHANG, HRSS, f"wecom:{BOSS}")
    await wecom.says(ZHANG, "/note 5.1 第一条")
    _, card = await wecom.says(ZHANG, "/notes", 2)
    _, confirm = await wecom.press(ZHANG, card, "nd:1", 2)
    [deleted] = await wecom.press(ZHANG, confirm, key_of(confirm, "确认删除"))
    assert content(deleted) == "已删除第 1 条记录。"
    assert api.card_updates[-1]["button"] == {"replace_name": "已处理"}


async def test_a_coordinators_progress_picture_is_an_image(
    wecom: WeCom, api: FakeWeComApi
) -> None:
    await wecom.says(BOSS, "/progress", 2)
    await wecom.settle(BOSS)
    [image] = [m for m in api.messages_to(BOSS) if m["msgtype"] == "image"]
    upload = api.media[image["image"]["media_id"]]
    assert (upload.kind, upload.filename) == ("image", "报送进度-2024.png")
    assert upload.data.startswith(b"\x89PNG")


async def test_an_invite_code_is_joined_by_a_wecom_member(wecom: WeCom, db_path: Path) -> None:
    invite = await wecom.say(BOSS, "/invite 教育厅")
    code = re.search(r"/join ([\w&#;-]+)", invite)
    assert code is not None
    typed = html.unescape(code.group(1))  # as the member sees it
    joined = await wecom.say(LI, f"/join {typed}")
    assert "教育厅" in joined
    assert rows(db_path, "SELECT user_id, unit FROM members") == [(f"wecom:{LI}", "教育厅")]
    assert await wecom.say(ZHANG, f"/join {typed}") != joined  # one-time


# --- the menu and opening the app -------------------------------------------------------------


async def test_the_menu_runs_its_commands(wecom: WeCom, api: FakeWeComApi) -> None:
    clicks = (
        ("menu:whoami", "尚未绑定单位"),
        ("menu:help", "/bind"),
        ("menu:report", "/bind 单位名称"),
    )
    for second, (key, expected) in enumerate(clicks, 1):
        before = len(api.messages_to(ZHANG))
        # Events are told apart by user and second: each click in a second of its own.
        click = wecom.client.menu_click(ZHANG, key, create_time=second)
        assert await wecom.client.post(click) == (200, "")
        [reply, *_] = (await wecom.wait(ZHANG, before + 1))[before:]
        assert expected in content(reply), key


async def test_opening_the_app_greets_a_newcomer_once(wecom: WeCom, api: FakeWeComApi) -> None:
    assert await wecom.client.post(wecom.client.enter_agent(ZHANG, create_time=1)) == (200, "")
    [greeting] = await wecom.wait(ZHANG, 1)
    assert content(greeting) == GREETING
    assert await wecom.client.post(wecom.client.enter_agent(ZHANG, create_time=2)) == (200, "")
    await wecom.settle(ZHANG)
    assert [content(m) for m in api.messages_to(ZHANG)].count(GREETING) == 1


async def test_a_member_outside_the_app_is_marked_unreachable(
    wecom: WeCom, api: FakeWeComApi, db_path: Path
) -> None:
    await wecom.say(ZHANG, "/whoami")
    api.invalid_users.add(ZHANG)
    assert await wecom.client.post(wecom.client.text(ZHANG, "7.2", msg_id="55")) == (200, "")
    reachable = "SELECT reachable FROM users WHERE id = ?"
    async with asyncio.timeout(5):
        while rows(db_path, reachable, (f"wecom:{ZHANG}",)) != [(0,)]:  # noqa: ASYNC110
            await asyncio.sleep(0.02)

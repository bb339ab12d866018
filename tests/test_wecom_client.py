"""The WeCom API client against the fake WeCom server, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from handlers.wecom.cards import Button, button_card, new_task_id
from handlers.wecom.client import (
    BUSY_DELAYS,
    RATE_DELAYS,
    GroupRobot,
    WeComClient,
    WeComError,
    redact,
)
from tests.fakes.wecom_api import FakeWeComApi


class Ticker:
    """A monotonic clock the test moves, shared by the fake server and the client."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    """An injected sleep: records each pause and moves the clock instead of waiting."""

    def __init__(self, clock: Ticker) -> None:
        self.clock = clock
        self.pauses: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.clock.now += seconds


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def sleeps(ticker: Ticker) -> Sleeps:
    return Sleeps(ticker)


@pytest.fixture
async def api(ticker: Ticker) -> AsyncIterator[FakeWeComApi]:
    async with FakeWeComApi(clock=ticker) as server:
        yield server


@pytest.fixture
async def client(api: FakeWeComApi, ticker: Ticker, sleeps: Sleeps) -> AsyncIterator[WeComClient]:
    async with WeComClient(
        api.corp_id, api.secret, api.agent_id, base_url=api.base_url, sleep=sleeps, clock=ticker
    ) as opened:
        yield opened


async def test_text_reaches_the_member(api: FakeWeComApi, client: WeComClient) -> None:
    result = await client.send_text(["ZhangSan", "LiSi"], "请于今天17:00前报送进展")
    assert result.errcode == 0
    assert result.invalid_users == ()
    assert api.texts_to("ZhangSan") == ["请于今天17:00前报送进展"]
    assert api.texts_to("LiSi") == ["请于今天17:00前报送进展"]
    [call] = api.calls_of("message/send")
    assert call.json["touser"] == "ZhangSan|LiSi"
    assert call.json["agentid"] == api.agent_id


async def test_token_is_fetched_once_and_cached(api: FakeWeComApi, client: WeComClient) -> None:
    for i in range(5):
        await client.send_text(["ZhangSan"], f"第{i}条")
    assert len(api.calls_of("gettoken")) == 1
    tokens = {c.token for c in api.calls_of("message/send")}
    assert len(tokens) == 1


async def test_token_is_renewed_before_it_expires(
    api: FakeWeComApi, client: WeComClient, ticker: Ticker
) -> None:
    await client.send_text(["ZhangSan"], "一")
    ticker.now += 7200 - 200  # inside the safety margin, not yet expired at WeCom
    await client.send_text(["ZhangSan"], "二")
    assert len(api.calls_of("gettoken")) == 2
    assert [c.errcode for c in api.calls_of("message/send")] == [0, 0]


async def test_one_refresh_for_many_concurrent_sends_on_42001(
    api: FakeWeComApi, client: WeComClient
) -> None:
    await client.send_text(["ZhangSan"], "预热")
    api.expire_tokens()
    users = [f"user{i}" for i in range(20)]
    results = await asyncio.gather(*(client.send_text([u], "提醒") for u in users))
    assert all(r.errcode == 0 for r in results)
    assert len(api.calls_of("gettoken")) == 2
    assert all(api.texts_to(u) == ["提醒"] for u in users)
    refused = [c for c in api.calls_of("message/send") if c.errcode == 42001]
    assert len(refused) == 20


async def test_revoked_token_40014_is_refreshed_once(
    api: FakeWeComApi, client: WeComClient
) -> None:
    await client.send_text(["ZhangSan"], "一")
    api.revoke_tokens()
    await client.send_text(["ZhangSan"], "二")
    assert len(api.calls_of("gettoken")) == 2
    assert api.texts_to("ZhangSan") == ["一", "二"]


async def test_refresh_and_retry_only_once(api: FakeWeComApi, client: WeComClient) -> None:
    api.inject("message/send", 42001, times=5)
    with pytest.raises(WeComError) as failed:
        await client.send_text(["ZhangSan"], "一")
    assert failed.value.errcode == 42001
    assert len(api.calls_of("message/send")) == 2
    assert len(api.calls_of("gettoken")) == 2


async def test_busy_is_retried_with_back_off(
    api: FakeWeComApi, client: WeComClient, sleeps: Sleeps
) -> None:
    api.inject("message/send", -1, times=2)
    result = await client.send_text(["ZhangSan"], "你好")
    assert result.errcode == 0
    assert sleeps.pauses == list(BUSY_DELAYS[:2])
    assert api.texts_to("ZhangSan") == ["你好"]


async def test_busy_gives_up_after_three_retries(
    api: FakeWeComApi, client: WeComClient, sleeps: Sleeps
) -> None:
    api.inject("message/send", -1, times=10)
    with pytest.raises(WeComError) as failed:
        await client.send_text(["ZhangSan"], "你好")
    assert failed.value.errcode == -1
    assert sleeps.pauses == list(BUSY_DELAYS)
    assert len(api.calls_of("message/send")) == len(BUSY_DELAYS) + 1


async def test_45009_backs_off(api: FakeWeComApi, client: WeComClient, sleeps: Sleeps) -> None:
    api.inject("message/send", 45009)
    await client.send_text(["ZhangSan"], "你好")
    assert sleeps.pauses == [RATE_DELAYS[0]]
    assert api.texts_to("ZhangSan") == ["你好"]


async def test_per_member_limit_is_kept_by_the_client(
    api: FakeWeComApi, client: WeComClient, sleeps: Sleeps, ticker: Ticker
) -> None:
    # WeCom drops the 31st message of a minute silently; the client waits instead.
    for i in range(30):
        await client.send_text(["ZhangSan", "LiSi"], f"第{i}页")
        ticker.now += 1
    await client.send_text(["LiSi", "ZhangSan"], "第31页")
    assert sleeps.pauses == [30.0]  # the first of the 30 was sent 30 s before the 31st
    await client.send_text(["WangWu"], "别人不受影响")
    assert sleeps.pauses == [30.0]
    assert len(api.texts_to("ZhangSan")) == 31
    assert [c.errcode for c in api.calls_of("message/send")] == [0] * 32


async def test_hourly_member_limit(api: FakeWeComApi, ticker: Ticker, sleeps: Sleeps) -> None:
    async with WeComClient(
        api.corp_id,
        api.secret,
        api.agent_id,
        base_url=api.base_url,
        sleep=sleeps,
        clock=ticker,
        member_limits=((30, 60.0), (40, 3600.0)),
    ) as client:
        for i in range(41):
            await client.send_text(["ZhangSan"], f"第{i}条")
            ticker.now += 10
    assert sleeps.pauses == [3600.0 - 400.0]


async def test_rate_limit_errors_are_backed_off_too(
    api: FakeWeComApi, ticker: Ticker, sleeps: Sleeps
) -> None:
    async with WeComClient(
        api.corp_id,
        api.secret,
        api.agent_id,
        base_url=api.base_url,
        sleep=sleeps,
        clock=ticker,
        member_limits=(),
    ) as client:
        for i in range(31):
            await client.send_text(["ZhangSan"], f"第{i}页")
    assert len(api.texts_to("ZhangSan")) == 31
    assert [c.errcode for c in api.calls_of("message/send")][30:] == [45033] * 3 + [0]
    assert sleeps.pauses == list(RATE_DELAYS)


async def test_gettoken_busy_is_retried(
    api: FakeWeComApi, client: WeComClient, sleeps: Sleeps
) -> None:
    api.inject("gettoken", -1)
    await client.send_text(["ZhangSan"], "你好")
    assert sleeps.pauses == [BUSY_DELAYS[0]]
    assert len(api.calls_of("gettoken")) == 2


async def test_invalid_users_are_returned(api: FakeWeComApi, client: WeComClient) -> None:
    api.invalid_users = {"WangWu"}
    api.unlicensed_users = {"ZhaoLiu"}
    result = await client.send_text(["ZhangSan", "WangWu", "ZhaoLiu"], "提醒")
    assert result.errcode == 0
    assert result.invalid_users == ("wangwu",)  # WeCom lower-cases the ids
    assert result.unreachable(["ZhangSan", "WangWu", "ZhaoLiu"]) == ["WangWu", "ZhaoLiu"]
    assert api.texts_to("ZhangSan") == ["提醒"]


async def test_all_invalid_is_a_result_not_an_error(
    api: FakeWeComApi, client: WeComClient
) -> None:
    api.invalid_users = {"WangWu", "ZhaoLiu"}
    result = await client.send_text(["WangWu", "ZhaoLiu"], "提醒")
    assert result.errcode == 81013
    assert result.unreachable(["WangWu", "ZhaoLiu"]) == ["WangWu", "ZhaoLiu"]


async def test_other_errors_raise(api: FakeWeComApi, ticker: Ticker, sleeps: Sleeps) -> None:
    async with WeComClient(
        api.corp_id, api.secret, 999, base_url=api.base_url, sleep=sleeps, clock=ticker
    ) as wrong_agent:
        with pytest.raises(WeComError) as failed:
            await wrong_agent.send_text(["ZhangSan"], "你好")
    assert failed.value.errcode == 40056
    assert sleeps.pauses == []


async def test_text_over_2048_bytes_is_refused_before_sending(
    api: FakeWeComApi, client: WeComClient
) -> None:
    with pytest.raises(ValueError, match="split_utf8"):
        await client.send_text(["ZhangSan"], "汉" * 683)
    assert api.calls == []


async def test_markdown(api: FakeWeComApi, client: WeComClient) -> None:
    await client.send_markdown(["ZhangSan"], "**人社厅**\n> 已报送 3 项")
    [message] = api.messages_to("ZhangSan")
    assert message["msgtype"] == "markdown"
    assert message["markdown"]["content"] == "**人社厅**\n> 已报送 3 项"


async def test_button_card_and_update(api: FakeWeComApi, client: WeComClient) -> None:
    card = button_card(
        "绑定申请",
        [Button("批准", "approve:7"), Button("拒绝", "reject:7", style=2)],
        task_id=new_task_id("bind"),
        desc="人社厅 · 张三",
    )
    result = await client.send_card(["Coordinator"], card)
    assert result.response_code
    [message] = api.messages_to("Coordinator")
    assert message["template_card"]["button_list"][1] == {
        "text": "拒绝",
        "key": "reject:7",
        "style": 2,
    }
    await client.update_card(result.response_code, replace_name="已批准")
    assert api.card_updates[0]["button"] == {"replace_name": "已批准"}
    assert api.card_updates[0]["atall"] == 1
    with pytest.raises(WeComError):  # a response_code is good for one update only
        await client.update_card(result.response_code, replace_name="已批准")


async def test_click_code_updates_only_the_clicker(api: FakeWeComApi, client: WeComClient) -> None:
    await client.update_card(api.click_code(), users=["ZhangSan"], replace_name="已报送")
    assert api.card_updates[0]["userids"] == ["ZhangSan"]


def test_cards_are_checked() -> None:
    seven = [Button(str(i), f"k{i}") for i in range(7)]
    with pytest.raises(ValueError, match="按钮"):
        button_card("t", seven, task_id="t1")
    with pytest.raises(ValueError, match="key"):
        button_card("t", [Button("a", "k"), Button("b", "k")], task_id="t1")
    with pytest.raises(ValueError, match="task_id"):
        button_card("t", [Button("a", "k")], task_id="含中文")
    with pytest.raises(ValueError, match="task_id"):
        button_card("t", [Button("a", "k")], task_id="x" * 129)
    assert new_task_id("bind") != new_task_id("bind")


async def test_duplicate_task_id_is_refused_by_wecom(
    api: FakeWeComApi, client: WeComClient
) -> None:
    card = button_card("t", [Button("a", "k")], task_id="same-task")
    await client.send_card(["ZhangSan"], card)
    with pytest.raises(WeComError) as failed:
        await client.send_card(["ZhangSan"], card)
    assert failed.value.errcode == 40058


async def test_upload_multipart_and_send_file(api: FakeWeComApi, client: WeComClient) -> None:
    data = b"PK\x03\x04" + bytes(range(256)) * 40
    media_id = await client.upload_media(
        "file", "分工进展2024.xlsx", data, "application/vnd.ms-excel"
    )
    stored = api.media[media_id]
    assert (stored.kind, stored.filename, stored.data) == ("file", "分工进展2024.xlsx", data)
    assert stored.content_type == "application/vnd.ms-excel"
    await client.send_file(["ZhangSan"], media_id)
    assert api.messages_to("ZhangSan")[0]["file"] == {"media_id": media_id}


async def test_upload_is_resent_after_a_token_refresh(
    api: FakeWeComApi, client: WeComClient
) -> None:
    api.inject("media/upload", 42001)
    media_id = await client.upload_media("image", "chart.png", b"\x89PNG data", "image/png")
    assert api.media[media_id].data == b"\x89PNG data"
    await client.send_image(["ZhangSan"], media_id)
    assert api.messages_to("ZhangSan")[0]["msgtype"] == "image"


async def test_menu(api: FakeWeComApi, client: WeComClient) -> None:
    buttons = [
        {"type": "click", "name": "我的单位", "key": "menu:unit"},
        {"type": "click", "name": "报送进展", "key": "menu:progress"},
        {"type": "click", "name": "使用说明", "key": "menu:help"},
    ]
    await client.create_menu(buttons)
    assert api.menus == [{"button": buttons}]
    assert api.calls_of("menu/create")[0].query["agentid"] == str(api.agent_id)


async def test_group_robot(api: FakeWeComApi, sleeps: Sleeps) -> None:
    api.inject("webhook/send", 45009)
    async with GroupRobot(api.webhook_url(), sleep=sleeps) as robot:
        await robot.send_text("2024 年报送进展：12/36 个单位已报送")
        await robot.send_markdown("**报送进展**")
    assert [m["msgtype"] for _, m in api.robot_messages] == ["text", "markdown"]
    assert sleeps.pauses == [RATE_DELAYS[0]]


async def test_group_robot_wrong_key_hides_the_key(api: FakeWeComApi) -> None:
    async with GroupRobot(api.webhook_url("stolen-robot-key")) as robot:
        with pytest.raises(WeComError) as failed:
            await robot.send_text("hi")
    assert failed.value.errcode == 93000
    assert "stolen-robot-key" not in str(failed.value)


async def test_base_url_may_name_cgi_bin(api: FakeWeComApi, ticker: Ticker) -> None:
    async with WeComClient(
        api.corp_id, api.secret, api.agent_id, base_url=api.base_url + "/cgi-bin/", clock=ticker
    ) as client:
        await client.send_text(["ZhangSan"], "你好")
    assert api.texts_to("ZhangSan") == ["你好"]


async def test_no_token_or_secret_in_logs_or_errors(
    api: FakeWeComApi, client: WeComClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    await client.send_text(["ZhangSan"], "你好")
    api.expire_tokens()
    api.inject("message/send", -1)
    await client.send_text(["ZhangSan"], "再见")
    api.inject("message/send", 40058)
    with pytest.raises(WeComError) as failed:
        await client.send_text(["ZhangSan"], "三")
    errors.append(str(failed.value))
    await api.close()  # the server goes away: a network error naming the URL
    with pytest.raises(WeComError) as failed:
        await client.send_text(["ZhangSan"], "四")
    errors.append(str(failed.value))
    assert "网络错误" in errors[-1]
    tokens = {c.token for c in api.calls if c.token}
    assert len(tokens) == 2
    logged = "\n".join(
        [r.getMessage() for r in caplog.records]
        + [str(r.exc_info) for r in caplog.records if r.exc_info]
        + errors
    )
    assert "access_token 已更新" in logged
    for secret in (*tokens, api.secret):
        assert secret not in logged


async def test_bad_secret_is_a_clear_error(api: FakeWeComApi, ticker: Ticker) -> None:
    async with WeComClient(
        api.corp_id, "wrong-secret-value", api.agent_id, base_url=api.base_url, clock=ticker
    ) as client:
        with pytest.raises(WeComError) as failed:
            await client.send_text(["ZhangSan"], "你好")
    assert failed.value.errcode == 40001
    assert "wrong-secret-value" not in str(failed.value)


def test_redact() -> None:
    url = "https://h/cgi-bin/gettoken?corpid=ww1&corpsecret=S3cr3t&access_token=T0k&key=K"
    assert (
        redact(url)
        == "https://h/cgi-bin/gettoken?corpid=ww1&corpsecret=***&access_token=***&key=***"
    )
    assert redact("token T0k here", "T0k") == "token *** here"


async def test_an_http_error_naming_the_url_is_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # aiohttp's redirect errors print the request URL, access_token included.
    async def token(request: web.Request) -> web.Response:
        return web.json_response(
            {"errcode": 0, "access_token": "TOKEN-abc123", "expires_in": 7200}
        )

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(str(request.rel_url))

    app = web.Application()
    app.router.add_get("/cgi-bin/gettoken", token)
    app.router.add_post("/cgi-bin/message/send", loop)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    caplog.set_level(logging.DEBUG)
    try:
        async with WeComClient(
            "ww1", "SECRET-xyz789", 1, base_url=f"http://127.0.0.1:{port}"
        ) as client:
            with pytest.raises(WeComError) as failed:
                await client.send_text(["ZhangSan"], "你好")
    finally:
        await runner.cleanup()
    text = str(failed.value) + "\n" + caplog.text
    assert "message/send" in text
    assert "access_token=***" in text
    assert "TOKEN-abc123" not in text
    assert "SECRET-xyz789" not in text
    assert failed.value.__cause__ is None
    assert failed.value.__suppress_context__


async def test_first_sends_at_once_share_one_token_fetch(
    api: FakeWeComApi, client: WeComClient
) -> None:
    await asyncio.gather(*(client.send_text([f"user{i}"], "你好") for i in range(20)))
    assert len(api.calls_of("gettoken")) == 1
    assert [c.errcode for c in api.calls_of("message/send")] == [0] * 20


async def test_a_userid_holding_a_bar_never_reaches_touser(
    api: FakeWeComApi, client: WeComClient
) -> None:
    """A "|" would address boss too: refused before anything is sent."""
    with pytest.raises(ValueError, match="UserId"):
        await client.send_text(["zhang", "a|boss"], "你好")
    assert api.calls_of("message/send") == []


async def test_a_refused_connection_is_told_in_chinese_with_the_address(ticker: Ticker) -> None:
    # A port nobody listens on: bound, then closed.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with WeComClient(
        "ww0123456789abcdef", "s", 1, base_url=f"http://127.0.0.1:{port}", clock=ticker
    ) as client:
        with pytest.raises(WeComError) as failed:
            await client.send_text(["ZhangSan"], "你好")
    assert failed.value.detail == f"网络错误：连接被拒绝（127.0.0.1:{port}）"
    assert "***" not in str(failed.value)  # the one-letter secret masks nothing around it

"""Logging in to the web console through WeCom's OAuth2 (网页授权), against the fake WeCom."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.ask.assistant import Assistant
from tests.fakes.wecom_api import FakeWeComApi
from tests.web_harness import COORDINATOR, UNIT, Desk, browser, running_desk
from tests.wecom_harness import settings_for

WXWORK = {"User-Agent": "Mozilla/5.0 (iPhone) MicroMessenger/3.0 wxwork/4.1.0"}
USER = "ZhangSan"


@pytest.fixture
async def api() -> AsyncIterator[FakeWeComApi]:
    """The fake WeCom API, with ZhangSan signed in to WeCom's browser."""
    async with FakeWeComApi() as fake:
        fake.oauth_user = USER
        yield fake


@pytest.fixture
async def desk(api: FakeWeComApi, assistant: Assistant, tmp_path: Path) -> AsyncIterator[Desk]:
    """The console with WeCom configured (its API and authorize page are the fake's)."""
    wecom = settings_for(api)
    async with running_desk(
        assistant, tmp_path / "web.db", wecom=wecom, oauth_url=api.oauth_url
    ) as running:
        await running.core.store.users.upsert(f"wecom:{USER.lower()}", "张三", True)
        await running.core.store.members.bind(
            f"wecom:{USER.lower()}", "张三", UNIT, COORDINATOR.id
        )
        yield running


async def test_wecoms_browser_is_logged_in_through_oauth(desk: Desk, api: FakeWeComApi) -> None:
    async with browser() as http:
        async with http.get(desk.url + "/", headers=WXWORK, allow_redirects=False) as first:
            assert first.status == 302
            to = urlsplit(first.headers["Location"])
        query = parse_qs(to.query)
        assert f"{to.scheme}://{to.netloc}{to.path}" == api.oauth_url
        assert query["scope"] == ["snsapi_base"]
        assert query["appid"] == [api.corp_id]
        assert query["redirect_uri"] == [desk.url + "/login/wecom"]
        assert to.fragment == "wechat_redirect"
        async with http.get(desk.url + "/", headers=WXWORK) as landed:
            html = await landed.text()
        assert f"{UNIT} · 2024 年" in html
        assert "张三" in html
    [exchange] = api.calls_of("auth/getuserinfo")
    assert exchange.errcode == 0


async def test_a_wrong_state_or_a_used_code_logs_nobody_in(desk: Desk, api: FakeWeComApi) -> None:
    async with browser() as http:
        async with http.get(desk.url + "/login/wecom/start", allow_redirects=False) as start:
            authorize = start.headers["Location"]
        async with http.get(authorize.split("#")[0], allow_redirects=False) as back:
            returned = back.headers["Location"]
        code = parse_qs(urlsplit(returned).query)["code"][0]
        forged = f"{desk.url}/login/wecom?code={code}&state=forged"
        async with http.get(forged, allow_redirects=False) as r:
            assert r.status == 400
        async with http.get(returned, allow_redirects=False) as r:
            assert r.status == 302  # the right state: logged in
        async with browser() as other, other.get(returned, allow_redirects=False) as r:
            assert r.status == 400  # no state cookie in another browser
    assert [c.errcode for c in api.calls_of("auth/getuserinfo")] == [0]


async def test_a_code_wecom_refuses_logs_nobody_in(desk: Desk, api: FakeWeComApi) -> None:
    async with browser() as http:
        async with http.get(desk.url + "/login/wecom/start", allow_redirects=False) as start:
            state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
        bogus = f"{desk.url}/login/wecom?code=bogus&state={state}"
        async with http.get(bogus, allow_redirects=False) as r:
            assert r.status == 400
            assert "企业微信登录失败" in await r.text()
        async with http.get(desk.url + "/", allow_redirects=False) as r:
            assert r.headers["Location"] == "/login"
    assert [c.errcode for c in api.calls_of("auth/getuserinfo")] == [40029]


async def test_other_browsers_get_the_login_page(desk: Desk) -> None:
    async with browser() as http, http.get(desk.url + "/") as page:
        assert page.url.path == "/login"
        assert "用企业微信登录" in await page.text()

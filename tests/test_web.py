"""The web console over real HTTP: logins, the role of every route, CSRF, the chat's rules."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

import aiohttp
import openpyxl
import pytest

from bot.ask.assistant import Assistant
from bot.office.weblogin import LINKS_PER_WINDOW
from bot.outcome import Person
from bot.reply import Reply, render_plain
from tests.web_harness import (
    COORDINATOR,
    MEMBER,
    OTHER,
    OTHER_UNIT,
    ROLES,
    STRANGER,
    UNIT,
    Desk,
    browser,
    csrf_of,
    login_with,
    running_desk,
)


@pytest.fixture
async def desk(assistant: Assistant, tmp_path: Path) -> AsyncIterator[Desk]:
    """The console running on a fresh store."""
    async with running_desk(assistant, tmp_path / "web.db") as running:
        yield running


async def status_of(http: aiohttp.ClientSession, url: str) -> int:
    """GET without following redirects; return the status."""
    async with http.get(url, allow_redirects=False) as response:
        await response.read()
        return response.status


# -- logging in ------------------------------------------------------------------------------


async def test_a_web_link_logs_its_person_in_once(desk: Desk) -> None:
    link = await desk.link(MEMBER)
    async with browser() as http:
        pressed = await login_with(http, link)
        assert pressed.status == 302
        cookie = pressed.cookies["fg_session"]
        assert cookie["httponly"]
        assert cookie["samesite"] == "Lax"
        assert not cookie["secure"]
        async with http.get(desk.url + "/") as home:
            assert UNIT in await home.text()
    async with browser() as http:  # the same link again, in another browser
        again = await login_with(http, link)
        assert again.status == 400
        assert await status_of(http, desk.url + "/") == 302


async def test_an_expired_link_logs_nobody_in(desk: Desk) -> None:
    link = await desk.link(MEMBER)
    desk.clock.advance(minutes=10, seconds=1)
    async with browser() as http:
        assert (await login_with(http, link)).status == 400
        assert await status_of(http, desk.url + "/") == 302


async def test_a_forged_link_logs_nobody_in(desk: Desk) -> None:
    link = await desk.link(MEMBER)
    async with browser() as http:
        assert (await login_with(http, link[:-3] + "xyz")).status == 400


async def test_links_are_limited_to_five_in_ten_minutes(desk: Desk) -> None:
    for _ in range(LINKS_PER_WINDOW):
        await desk.link(MEMBER)
    refused = await desk.core.command(MEMBER, MEMBER.id, "web", "")
    assert "最多申请 5 个" in render_plain(refused.outcome.reply)
    await desk.link(OTHER)  # someone else's allowance is their own
    desk.clock.advance(minutes=10, seconds=1)
    await desk.link(MEMBER)


async def test_web_in_a_group_asks_for_a_private_chat(desk: Desk) -> None:
    group = Person(MEMBER.id, MEMBER.name, private=False)
    response = await desk.core.command(group, "group", "web", "")
    assert "私聊" in render_plain(response.outcome.reply)


async def test_web_says_so_when_the_console_is_not_running(desk: Desk) -> None:
    desk.core.web_url = None
    response = await desk.core.command(MEMBER, MEMBER.id, "web", "")
    assert "未启动" in render_plain(response.outcome.reply)


async def test_the_login_button_needs_the_browser_that_opened_the_link(desk: Desk) -> None:
    link = await desk.link(MEMBER)
    token = link.split("t=")[1]
    async with browser() as http, http.post(
        desk.url + "/login", data={"t": token, "pre": "guess"}, allow_redirects=False
    ) as response:
        assert response.status == 403
    async with browser() as http:  # the link is still good for its person
        assert (await login_with(http, link)).status == 302


async def test_a_session_ends_after_eight_idle_hours_and_at_logout(desk: Desk) -> None:
    async with browser() as http:
        await desk.login(http, MEMBER)
        desk.clock.advance(hours=7, minutes=59)
        assert await status_of(http, desk.url + "/") == 302  # to the unit's page: logged in
        async with http.get(desk.url + "/", allow_redirects=False) as r:
            assert "/unit" in r.headers["Location"]
        desk.clock.advance(hours=8, minutes=1)
        async with http.get(desk.url + "/", allow_redirects=False) as r:
            assert r.headers["Location"] == "/login"
    async with browser() as http:
        await desk.login(http, COORDINATOR)
        async with http.get(desk.url + "/members") as page:
            csrf = csrf_of(await page.text())
        async with http.post(desk.url + "/logout", data={"csrf": csrf}) as out:
            assert out.url.path == "/login"
        assert await status_of(http, desk.url + "/members") == 302


async def test_no_token_reaches_the_log(desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    link = await desk.link(MEMBER)
    async with browser() as http:
        pressed = await login_with(http, link)
        session = pressed.cookies["fg_session"].value
    assert link.split("t=")[1] not in caplog.text
    assert session not in caplog.text


# -- who may see what ------------------------------------------------------------------------


def pages(desk: Desk) -> dict[str, str]:
    """Every GET route, with its unit (人社厅) where it names one."""
    hrss, edu = desk.unit_index(UNIT), desk.unit_index(OTHER_UNIT)
    return {
        "overview": "/?year=2024",
        "cell": f"/cell?u={hrss}&t=5",
        "unit": f"/unit?u={hrss}",
        "other unit": f"/unit?u={edu}",
        "members": "/members",
        "audit": "/audit?action=note",
        "reminders": "/reminders",
        "files": "/files",
        "unanswered": "/unanswered",
        "export": "/download/export",
        "report": f"/download/report?u={hrss}",
        "committee report": "/download/report?u=all",
        "picture": "/download/progress",
    }


# status by role: coordinator, member of 人社厅, member of 教育厅, stranger, logged out
EXPECTED = {
    "overview": (200, 302, 302, 403, 302),
    "cell": (200, 200, 403, 403, 302),
    "unit": (200, 200, 403, 403, 302),
    "other unit": (200, 403, 200, 403, 302),
    "members": (200, 403, 403, 403, 302),
    "audit": (200, 403, 403, 403, 302),
    "reminders": (200, 403, 403, 403, 302),
    "files": (200, 403, 403, 403, 302),
    "unanswered": (200, 403, 403, 403, 302),
    "export": (200, 403, 403, 403, 302),
    "report": (200, 200, 403, 403, 302),
    "committee report": (200, 403, 403, 403, 302),
    "picture": (200, 403, 403, 403, 302),
}


async def test_every_route_checks_the_role(desk: Desk) -> None:
    routes = pages(desk)
    got: dict[str, tuple[int, ...]] = dict.fromkeys(routes, ())
    for role in (*ROLES, "logged out"):
        async with browser() as http:
            if role != "logged out":
                await desk.login(http, ROLES[role])
            for name, path in routes.items():
                got[name] += (await status_of(http, desk.url + path),)
    assert got == EXPECTED


async def test_every_answer_carries_the_security_headers(desk: Desk) -> None:
    async with browser() as http:
        await desk.login(http, STRANGER)
        for path in ("/", "/login", "/nope", "/members"):
            async with http.get(desk.url + path, allow_redirects=False) as r:
                assert "default-src 'none'" in r.headers["Content-Security-Policy"], path
                assert r.headers["Referrer-Policy"] == "no-referrer"
                assert r.headers["Cache-Control"] == "no-store"


async def test_a_member_is_sent_to_their_units_page(desk: Desk) -> None:
    async with browser() as http:
        await desk.login(http, MEMBER)
        async with http.get(desk.url + "/") as page:
            html = await page.text()
    assert f"<h1>{UNIT} · 2024 年</h1>" in html
    assert OTHER.name not in html


# -- forms: CSRF, and the chat's rules -------------------------------------------------------


async def form_page(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as page:
        assert page.status == 200, await page.text()
        return await page.text()


async def test_a_post_without_its_csrf_token_is_refused(desk: Desk) -> None:
    hrss = desk.unit_index(UNIT)
    async with browser() as http:
        await desk.login(http, MEMBER)
        html = await form_page(http, f"{desk.url}/unit?u={hrss}")
        good = csrf_of(html)
        for bad in ({}, {"csrf": ""}, {"csrf": good[:-2] + "xx"}):
            data = {"measure": "5.1", "text": "不该记录", **bad}
            async with http.post(desk.url + "/notes/add", data=data) as r:
                assert r.status == 403
        async with http.post(desk.url + "/logout", data={}) as r:
            assert r.status == 403
    async with (  # logged out: refused too
        browser() as http,
        http.post(desk.url + "/notes/add", data={"csrf": good}) as r,
    ):
        assert r.status == 403
    assert await desk.core.store.notes.find(UNIT) == []


async def test_a_member_files_edits_and_deletes_own_notes(desk: Desk) -> None:
    hrss = desk.unit_index(UNIT)
    async with browser() as http:
        await desk.login(http, MEMBER)
        csrf = csrf_of(await form_page(http, f"{desk.url}/unit?u={hrss}"))
        text = "<b>新建</b>残疾人之家12个"
        async with http.post(
            desk.url + "/notes/add", data={"csrf": csrf, "measure": "5.1", "text": text}
        ) as r:
            html = await r.text()
        assert "已记录「人力资源社会保障厅」举措 5.1" in html
        assert "&lt;b&gt;新建&lt;/b&gt;" in html
        assert "<b>新建" not in html
        [note] = await desk.core.store.notes.find(UNIT)
        assert note.text == text
        assert note.author_id == MEMBER.id
        data = {"csrf": csrf, "note": str(note.id), "text": "改为13个"}
        async with http.post(desk.url + "/notes/edit", data=data) as r:
            assert "已修改第" in await r.text()
        data = {"csrf": csrf, "note": str(note.id)}
        async with http.post(desk.url + "/notes/delete", data=data) as r:
            assert "请勾选" in await r.text()
        async with http.post(desk.url + "/notes/delete", data={**data, "confirm": "1"}) as r:
            assert "已删除第" in await r.text()
    assert await desk.core.store.notes.find(UNIT) == []
    actions = [e.action for e in await desk.core.store.audit.entries()]
    assert actions[:3] == ["note.delete", "note.edit", "note.add"]


async def test_the_chats_rules_apply_to_the_forms(desk: Desk) -> None:
    hrss = desk.unit_index(UNIT)
    await desk.core.office.notes.file(OTHER, "7.1", "教育厅的进展")
    [theirs] = await desk.core.store.notes.find(OTHER_UNIT)
    async with browser() as http:
        await desk.login(http, MEMBER)
        csrf = csrf_of(await form_page(http, f"{desk.url}/unit?u={hrss}"))
        cases = {
            ("/notes/add", "measure", "10.3", "x"): "不是举措 10.3 的责任单位",
            ("/notes/add", "measure", "5.1", " \u200b "): "进展内容不能为空",
            ("/notes/add", "measure", "5.1", "字" * 1001): "最多 1000 字",
            ("/notes/edit", "note", str(theirs.id), "改别人的"): "只有填写人本人",
            ("/notes/delete", "note", str(theirs.id), ""): "只有填写人本人",
        }
        for (path, key, value, text), expected in cases.items():
            data = {"csrf": csrf, key: value, "text": text, "confirm": "1"}
            async with http.post(desk.url + path, data=data) as r:
                assert expected in await r.text(), (path, value)
    [still] = await desk.core.store.notes.find(OTHER_UNIT)
    assert still.text == "教育厅的进展"
    assert await desk.core.store.notes.find(UNIT) == []
    assert await desk.core.store.flows.get(MEMBER.id) is None  # no chat flow was started


async def test_a_stranger_and_a_member_cannot_approve(desk: Desk) -> None:
    await desk.core.command(STRANGER, STRANGER.id, "bind", "人社厅")
    [request] = await desk.core.store.members.pending_requests()
    hrss = desk.unit_index(UNIT)
    async with browser() as http:
        await desk.login(http, MEMBER)
        csrf = csrf_of(await form_page(http, f"{desk.url}/unit?u={hrss}"))
        data = {"csrf": csrf, "request": str(request.id), "verdict": "approve"}
        async with http.post(desk.url + "/requests/decide", data=data) as r:
            assert r.status == 403
        async with http.post(desk.url + "/invites", data={"csrf": csrf, "u": "9"}) as r:
            assert r.status == 403
    assert await desk.core.store.members.get(STRANGER.id) is None


async def test_a_coordinator_approves_and_the_requester_is_told(desk: Desk) -> None:
    told: list[tuple[str, str]] = []

    async def chat(user_id: str, reply: Reply) -> Literal["sent"]:
        told.append((user_id, render_plain(reply)))
        return "sent"

    desk.core.router.add("tg", chat)  # the requester's channel
    await desk.core.command(STRANGER, STRANGER.id, "bind", "人社厅")
    [request] = await desk.core.store.members.pending_requests()
    async with browser() as http:
        await desk.login(http, COORDINATOR)
        html = await form_page(http, desk.url + "/members")
        assert STRANGER.name in html
        data = {"csrf": csrf_of(html), "request": str(request.id), "verdict": "approve"}
        async with http.post(desk.url + "/requests/decide", data=data) as r:
            assert "已批准" in await r.text() or "批准" in await r.text()
        unit = desk.unit_index(OTHER_UNIT)
        async with http.post(desk.url + "/invites", data={"csrf": data["csrf"], "u": unit}) as r:
            assert re.search(r"/join [A-Za-z0-9_-]{8,}", await r.text())
    member = await desk.core.store.members.get(STRANGER.id)
    assert member is not None
    assert member.unit == UNIT
    assert any(u == STRANGER.id and "已获批准" in t for u, t in told)


async def test_the_matrix_counts_a_note_and_the_excel_file_opens(desk: Desk) -> None:
    hrss = desk.unit_index(UNIT)
    async with browser() as http:
        await desk.login(http, COORDINATOR)
        cell = f'/cell?doc=&amp;year=2024&amp;u={hrss}&amp;t=5">'
        before = await form_page(http, desk.url + "/")
        assert re.search(re.escape(cell) + r"0/\d", before)
        await desk.core.office.notes.file(MEMBER, "5.1", "新建残疾人之家")
        after = await form_page(http, desk.url + "/")
        assert re.search(re.escape(cell) + r"1/\d", after)
        async with http.get(desk.url + "/download/export") as r:
            assert "attachment" in r.headers["Content-Disposition"]
            book = openpyxl.load_workbook(io.BytesIO(await r.read()))
        cells = [c.value for row in book.worksheets[0].iter_rows() for c in row]
        assert "新建残疾人之家" in cells


async def test_unknown_ids_in_addresses_are_refused(desk: Desk) -> None:
    async with browser() as http:
        await desk.login(http, COORDINATOR)
        for path in ("/unit?u=999", "/unit?u=-1", "/unit?u=x", "/cell?u=9&t=99", "/?doc=nope"):
            assert await status_of(http, desk.url + path) == 404, path

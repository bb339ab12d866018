"""未答问题: what people asked and the bot could not answer, mapped to a measure over HTTP."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yaml

from bot.ask.assistant import Assistant
from bot.reply import render_plain
from bot.store import AuditEntry
from tests.web_harness import (
    COORDINATOR,
    MEMBER,
    OTHER,
    STRANGER,
    Desk,
    browser,
    csrf_of,
    data_folder,
    running_desk,
)

ASKED = "手语翻译谁负责"
MEASURE = "8.2"


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    """The console on a data folder of its own: its lexicon.yaml is written."""
    data = data_folder(tmp_path / "data")
    assistant = Assistant.load(data)
    async with running_desk(assistant, tmp_path / "web.db", data_dir=data) as running:
        yield running


async def ask(desk: Desk, question: str) -> str:
    """Ask the bot in a private chat, as any channel does; return its answer."""
    response = await desk.core.text(MEMBER, MEMBER.id, question)
    return render_plain(response.outcome.reply)


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url, allow_redirects=False) as r:
        return r.status, await r.text()


def lexicon(desk: Desk) -> str:
    assert desk.core.catalog.default.assistant.data_dir is not None
    return (desk.core.catalog.default.assistant.data_dir / "lexicon.yaml").read_text("utf-8")


async def audited(desk: Desk) -> list[AuditEntry]:
    """Return the audit entries of the 未答问题 page's actions."""
    entries = await desk.core.store.audit.entries()
    return [e for e in entries if e.action.startswith("unanswered.")]


async def test_a_question_not_found_is_mapped_and_then_found(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # aiosqlite's DEBUG lines echo every SQL parameter
    for ours in ("bot", "handlers", "aiohttp"):
        caplog.set_level(logging.DEBUG, logger=ours)
    for asked in (ASKED, ASKED + "？"):  # one question, however it ends
        assert "没有找到" in await ask(desk, asked)
    for polite in ("多谢", "hello", "好的"):
        await ask(desk, polite)
    async with browser() as http:
        await desk.login(http, COORDINATOR)
        status, html = await get(http, desk.url + "/unanswered")
        assert status == 200
        found = re.search(
            rf"<strong>{ASKED}</strong> · 问过 <span class=\"count\">(\d+)</span>", html
        )
        assert found, html
        assert found.group(1) == "2"
        for polite in ("多谢", "hello", "好的"):  # no topic: not a gap in the document
            assert polite not in html
        form = {"csrf": csrf_of(html), "text": ASKED, "measure": MEASURE, "words": "手语翻译"}
        async with http.post(desk.url + "/unanswered/map", data=form) as r:
            assert r.status == 200
            html = await r.text()
    assert f"举措 {MEASURE} 的同义词" in html  # said once, on the page it returns to
    assert ASKED not in html.split("</h1>", 1)[1].split("</p>", 1)[1]  # no longer listed
    written = lexicon(desk)
    assert written.startswith("# How people ask")  # the file's comments kept
    measure = next(m for m in desk.core.office.membership.plan.measures if m.id == MEASURE)
    assert yaml.safe_load(written)["synonyms"]["手语翻译"] == [measure.text]
    answer = await ask(desk, ASKED)  # answered at once, no restart
    assert "没有找到" not in answer
    assert MEASURE in answer
    assert MEASURE in render_plain(Assistant.load(desk.core.config.data_dir).ask(ASKED))
    [entry] = await audited(desk)
    assert (entry.action, entry.actor_id) == ("unanswered.mapped", COORDINATOR.id)
    assert ASKED not in caplog.text
    assert MEMBER.id not in caplog.text


async def test_out_of_scope_leaves_the_list_and_stays_not_found(desk: Desk) -> None:
    await ask(desk, "导盲犬归谁管")
    async with browser() as http:
        await desk.login(http, COORDINATOR)
        _, html = await get(http, desk.url + "/unanswered")
        assert "导盲犬归谁管" in html
        form = {"csrf": csrf_of(html), "text": "导盲犬归谁管"}
        async with http.post(desk.url + "/unanswered/out", data=form) as r:
            html = await r.text()
        assert "已标记为不在文件范围" in html
        assert "近 90 天没有未答的问题" in html
        assert "没有找到" in await ask(desk, "导盲犬归谁管")
        _, html = await get(http, desk.url + "/unanswered")
        assert "近 90 天没有未答的问题" in html
    [entry] = await audited(desk)
    assert entry.action == "unanswered.out"


async def test_only_coordinators_see_or_change_the_list(desk: Desk) -> None:
    await ask(desk, ASKED)
    before = lexicon(desk)
    async with browser() as http:
        await desk.login(http, COORDINATOR)
        _, html = await get(http, desk.url + "/unanswered")
        good = csrf_of(html)
        for bad in ({}, {"csrf": ""}, {"csrf": good[:-2] + "xx"}):  # CSRF refused
            for path in ("/unanswered/map", "/unanswered/out"):
                data = {"text": ASKED, "measure": MEASURE, "words": "手语翻译", **bad}
                async with http.post(desk.url + path, data=data) as r:
                    assert r.status == 403
    for person in (MEMBER, OTHER, STRANGER):
        async with browser() as http:
            await desk.login(http, person)
            status, html = await get(http, desk.url + "/unanswered")
            assert status == 403
            assert ASKED not in html  # its logout form has the token
            data = {"csrf": csrf_of(html), "text": ASKED, "measure": MEASURE, "words": "手语翻译"}
            for path in ("/unanswered/map", "/unanswered/out"):
                async with http.post(desk.url + path, data=data) as r:
                    assert r.status == 403
    async with browser() as http:  # logged out
        assert (await get(http, desk.url + "/unanswered"))[0] == 302
        async with http.post(desk.url + "/unanswered/out", data={"csrf": good}) as r:
            assert r.status == 403
    assert lexicon(desk) == before
    assert await audited(desk) == []
    assert "没有找到" in await ask(desk, ASKED)


async def test_bad_choices_are_answered_not_applied(desk: Desk) -> None:
    await ask(desk, ASKED)
    before = lexicon(desk)
    async with browser() as http:
        await desk.login(http, COORDINATOR)
        _, html = await get(http, desk.url + "/unanswered")
        csrf = csrf_of(html)
        for sent, said in (
            ({"measure": "99.9", "words": "手语翻译"}, "请选择一项举措"),
            ({"measure": MEASURE, "words": "？？"}, "关键词须为"),
            ({"measure": MEASURE, "words": "手语翻译", "text": "没人问过"}, "已不在未答列表"),
        ):
            form = {"csrf": csrf, "text": ASKED, **sent}
            async with http.post(desk.url + "/unanswered/map", data=form) as r:
                assert said in await r.text()
    assert lexicon(desk) == before


async def test_the_shipped_data_folder_learns_nothing(tmp_path: Path) -> None:
    """On the program's own data/ a mapping is refused: the tracked lexicon.yaml stays as is."""
    from bot.documents.plan import SHIPPED_DATA
    from bot.office import unanswered
    from bot.store import Store

    assistant = Assistant.load(SHIPPED_DATA)
    before = (SHIPPED_DATA / "lexicon.yaml").read_bytes()
    async with await Store.open(tmp_path / "bot.db") as store:
        await unanswered.record(store, ASKED)
        said = await unanswered.map_to(store, assistant, ASKED, MEASURE, "手语翻译", COORDINATOR)
    assert said == unanswered.SHIPPED
    assert (SHIPPED_DATA / "lexicon.yaml").read_bytes() == before

"""The web console end to end in headless Chromium (Debian's `chromium`, driven by Playwright).

A screenshot of each page is kept under the test's tmp path (screenshots/). Without the
browser the tests fail under CI=true (.ci/browser.sh installs it) and are skipped elsewhere.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

import openpyxl
import pytest
import pytest_asyncio

from bot.ask.assistant import Assistant
from bot.reply import Reply, render_plain
from tests.fakes.wecom_api import FakeWeComApi
from tests.test_catalog import ZONGBAO
from tests.web_harness import (
    COORDINATOR,
    MEMBER,
    STRANGER,
    UNIT,
    Desk,
    data_folder,
    running_desk,
)
from tests.wecom_harness import settings_for

CHROMIUM = os.environ.get("FENGONG_CHROMIUM", "/usr/bin/chromium")
# One browser for the module (each test opens contexts of its own): its loop is the module's.
pytestmark = pytest.mark.asyncio(loop_scope="module")

try:
    from playwright.async_api import Browser, Page, async_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    async_playwright = None  # type: ignore[assignment]


def _need_browser() -> None:
    missing = async_playwright is None or shutil.which(CHROMIUM) is None
    if missing:
        why = f"无头浏览器不可用（{CHROMIUM} 或 playwright 缺失）：运行 .ci/browser.sh 安装"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chromium() -> AsyncIterator[Browser]:
    """Headless Chromium from the system's package (never a downloaded one), started once."""
    _need_browser()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest_asyncio.fixture(loop_scope="module")
async def desk(assistant: Assistant, tmp_path: Path) -> AsyncIterator[Desk]:
    """The console running on a fresh store."""
    data = data_folder(tmp_path / "data")
    async with running_desk(assistant, tmp_path / "web.db", data_dir=data) as running:
        yield running


async def shot(page: Page, folder: Path, name: str) -> None:
    """Keep a screenshot of the whole page (Playwright makes the folder)."""
    await page.evaluate("document.fonts.ready")
    await page.screenshot(path=folder / f"{name}.png", full_page=True)


async def test_a_coordinator_and_a_member_at_work(
    chromium: Browser, desk: Desk, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"
    told: list[tuple[str, str]] = []

    async def chat(user_id: str, reply: Reply) -> Literal["sent"]:
        told.append((user_id, render_plain(reply)))
        return "sent"

    desk.core.router.add("tg", chat)  # the requester's channel
    await desk.core.command(STRANGER, STRANGER.id, "bind", "教育厅")
    hrss = desk.unit_index(UNIT)

    boss = await (await chromium.new_context(viewport={"width": 1280, "height": 900})).new_page()
    await boss.goto(await desk.link(COORDINATOR))
    await shot(boss, shots, "login")
    await boss.click("#login")
    await boss.wait_for_selector("table.matrix")
    await shot(boss, shots, "overview")

    # Approve the request: the requester is bound, as /whoami says in chat.
    await boss.click("nav >> text=成员")
    await boss.click("button[value=approve]")
    await boss.wait_for_selector(".flash")
    assert "批准" in await boss.inner_text(".flash")
    await shot(boss, shots, "members")
    assert any(u == STRANGER.id and "已获批准" in t for u, t in told)
    whoami = await desk.core.command(STRANGER, STRANGER.id, "whoami", "")
    assert "教育厅" in render_plain(whoami.outcome.reply)

    # A member on a phone files a note from their unit's page.
    phone = await chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    member = await phone.new_page()
    await member.goto(await desk.link(MEMBER))
    await member.click("#login")
    await member.wait_for_selector("#add")
    await member.select_option("select[name=measure]", "5.1")
    await member.fill("#add textarea", "新建残疾人之家12个 <script>alert(1)</script>")
    await member.click("#add button")
    await member.wait_for_selector(".flash")
    assert "已记录" in await member.inner_text(".flash")
    assert "<script>alert(1)</script>" in await member.inner_text("#m5\\.1 .note .body")
    await shot(member, shots, "unit-phone")

    # The matrix changed: the unit's cell of task 5 counts it and opens it.
    await boss.goto(f"{desk.url}/?year=2024")
    cell = boss.locator(f'a[href*="u={hrss}&t=5"]')
    assert re.fullmatch(r"1/\d+", (await cell.inner_text()).strip())
    await cell.click()
    assert "新建残疾人之家12个" in await boss.inner_text("main")
    await shot(boss, shots, "cell")

    # The Excel summary downloads and opens with the note in it.
    await boss.goto(f"{desk.url}/?year=2024")
    async with boss.expect_download() as info:
        await boss.click("text=Excel 汇总")
    download = await info.value
    path = tmp_path / download.suggested_filename
    await download.save_as(path)
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    values = [c.value for row in book.worksheets[0].iter_rows() for c in row]
    assert any(isinstance(v, str) and "新建残疾人之家12个" in v for v in values)

    for name in ("audit", "reminders"):
        await boss.goto(f"{desk.url}/{name}?year=2024")
        await shot(boss, shots, name)

    # A new document: upload, read the import report, 启用, and it is served at once.
    source = tmp_path / "综保区.txt"
    source.write_text(ZONGBAO, encoding="utf-8")
    await boss.goto(f"{desk.url}/files")
    await boss.fill("input[name=name]", "zongbao")
    await boss.set_input_files("input[type=file]", source)
    await boss.click("#upload button")
    await boss.wait_for_selector("#report")
    assert "任务 2 项，举措 3 项" in await boss.inner_text("#report")
    await shot(boss, shots, "files")
    await boss.click("#enable-zongbao")
    await boss.wait_for_selector(".flash")
    assert "已启用" in await boss.inner_text(".flash")
    await boss.goto(f"{desk.url}/?doc=zongbao")
    assert "商务部" in await boss.inner_text("table.matrix")
    answer = await desk.core.text(MEMBER, "chat", "3号文里商务部负责什么")
    assert "拓展两个市场" in render_plain(answer.outcome.reply)

    await boss.click("text=退出")
    await boss.wait_for_url(re.compile(r"/login$"))
    assert sorted(p.stem for p in shots.iterdir()) == [
        "audit", "cell", "files", "login", "members", "overview", "reminders", "unit-phone",
    ]


async def test_wecoms_workbench_opens_the_console_logged_in(
    chromium: Browser, assistant: Assistant, tmp_path: Path
) -> None:
    async with FakeWeComApi() as api:
        api.oauth_user = "ZhangSan"
        wecom = settings_for(api)
        async with running_desk(
            assistant, tmp_path / "wecom.db", wecom=wecom, oauth_url=api.oauth_url
        ) as desk:
            await desk.core.store.members.bind("wecom:zhangsan", "张三", UNIT, COORDINATOR.id)
            context = await chromium.new_context(
                user_agent="Mozilla/5.0 (iPhone) MicroMessenger/3.0 wxwork/4.1.0",
                viewport={"width": 390, "height": 844},
            )
            page = await context.new_page()
            await page.goto(desk.url + "/")
            await page.wait_for_selector("#add")
            assert f"{UNIT} · 2024 年" in await page.inner_text("h1")
            await shot(page, tmp_path / "screenshots", "wecom-unit")
    assert [c.errcode for c in api.calls_of("auth/getuserinfo")] == [0]


async def test_a_coordinator_teaches_the_bot_a_word(chromium: Browser, tmp_path: Path) -> None:
    data = data_folder(tmp_path / "data")  # its lexicon.yaml is written
    async with running_desk(Assistant.load(data), tmp_path / "web.db", data_dir=data) as desk:
        asked = await desk.core.text(MEMBER, MEMBER.id, "手语翻译谁负责")
        assert "没有找到" in render_plain(asked.outcome.reply)
        boss = await (await chromium.new_context()).new_page()
        await boss.goto(await desk.link(COORDINATOR))
        await boss.click("#login")
        await boss.click("nav >> text=未答问题")
        card = boss.locator(".unanswered", has_text="手语翻译谁负责")
        assert "问过 1 次" in await card.inner_text()
        await shot(boss, tmp_path / "screenshots", "unanswered")
        await card.locator("select[name=measure]").select_option("8.2")
        await card.locator("text=归入举措").click()
        await boss.wait_for_selector(".flash")
        assert "举措 8.2 的同义词" in await boss.inner_text(".flash")
        answer = await desk.core.text(MEMBER, MEMBER.id, "手语翻译谁负责")
        assert "8.2" in render_plain(answer.outcome.reply)

"""文件: uploading a document, its import report, and 启用 without a restart."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.ask.assistant import Assistant
from bot.cli import main
from bot.config import Config
from bot.core import FOLLOW_EVERY, Core
from bot.library import STAGED, enable
from bot.reply import render_plain
from bot.store import Store
from tests.test_catalog import ZONGBAO
from tests.web_harness import (
    COORDINATOR,
    MEMBER,
    Desk,
    browser,
    csrf_of,
    data_folder,
    running_desk,
)


@pytest.fixture
async def desk(assistant: Assistant, tmp_path: Path) -> AsyncIterator[Desk]:
    """The console on a data folder of its own."""
    data = data_folder(tmp_path / "data")
    async with running_desk(assistant, tmp_path / "web.db", data_dir=data) as running:
        yield running


def form(csrf: str, name: str, filename: str, data: bytes) -> aiohttp.FormData:
    """The upload form as a browser sends it."""
    sent = aiohttp.FormData()
    sent.add_field("csrf", csrf)
    sent.add_field("name", name)
    sent.add_field(
        "file", io.BytesIO(data), filename=filename, content_type="application/octet-stream"
    )
    return sent


async def test_upload_report_then_enable_without_a_restart(desk: Desk) -> None:
    data = desk.core.config.data_dir
    async with browser() as http:
        await desk.login(http, COORDINATOR)
        async with http.get(desk.url + "/files") as page:
            csrf = csrf_of(await page.text())
        upload = form(csrf, "zongbao", "综保区.txt", ZONGBAO.encode())
        async with http.post(desk.url + "/files/upload", data=upload) as r:
            html = await r.text()
        assert "任务 2 项，举措 3 项" in html
        assert 'id="enable-zongbao"' in html
        assert (data / STAGED / "zongbao" / "plan.yaml").is_file()
        assert not (data / "zongbao").exists()
        assert desk.core.catalog.doc("zongbao") is None  # not served before 启用
        enable = {"csrf": csrf, "name": "zongbao"}
        async with http.post(desk.url + "/files/enable", data=enable) as r:
            html = await r.text()
        assert "已启用：国发〔2019〕3号" in html
        async with http.get(desk.url + "/unit?doc=zongbao&u=0") as r:
            assert r.status == 200
    assert (data / "zongbao" / "plan.yaml").is_file()
    await desk.core.command(MEMBER, MEMBER.id, "doc", "zongbao")
    answer = await desk.core.text(MEMBER, MEMBER.id, "商务部负责什么")
    assert "【统筹两个市场】拓展两个市场" in render_plain(answer.outcome.reply)
    answer = await desk.core.text(MEMBER, "other chat", "人社厅负责什么")  # the notice still
    assert "出自：川残工委〔2022〕4号" in render_plain(answer.outcome.reply)


@pytest.mark.parametrize(
    ("name", "filename", "data", "expected"),
    [
        ("../etc", "a.txt", ZONGBAO.encode(), "文件夹名只能用"),
        ("zongbao", "a.pdf", ZONGBAO.encode(), "PDF 请用 WPS 打开后另存为 .docx"),
        ("zongbao", "a.txt", b"x" * (10 * 1024 * 1024 + 1), "文件太大"),
        ("zongbao", "a.txt", "随便写的几行字\n没有表格".encode(), "无法导入"),
        ("zongbao", "a.docx", b"PK not a zip", "无法导入"),
    ],
    ids=["name", "suffix", "size", "no-measures", "broken-docx"],
)
async def test_bad_uploads_are_refused_and_nothing_is_staged(
    desk: Desk, name: str, filename: str, data: bytes, expected: str
) -> None:
    async with browser() as http:
        await desk.login(http, COORDINATOR)
        async with http.get(desk.url + "/files") as page:
            csrf = csrf_of(await page.text())
        async with http.post(
            desk.url + "/files/upload", data=form(csrf, name, filename, data)
        ) as r:
            assert expected in await r.text()
    root = desk.core.config.data_dir
    assert not any((root / STAGED).glob("*/plan.yaml"))
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) in ([], [STAGED])


async def test_members_cannot_upload(desk: Desk) -> None:
    hrss = [u.name for u in desk.core.office.membership.plan.units].index("人力资源社会保障厅")
    async with browser() as http:
        await desk.login(http, MEMBER)
        async with http.get(f"{desk.url}/unit?u={hrss}") as page:
            csrf = csrf_of(await page.text())
        async with http.get(desk.url + "/files") as r:
            assert r.status == 403
        upload = form(csrf, "zongbao", "a.txt", ZONGBAO.encode())
        async with http.post(desk.url + "/files/upload", data=upload) as r:
            assert r.status == 403
        async with http.post(desk.url + "/files/enable", data={"csrf": csrf, "name": "x"}) as r:
            assert r.status == 403
    assert not (desk.core.config.data_dir / STAGED).exists()


async def test_a_document_enabled_on_another_instance_is_on_this_console_after_its_look(
    tmp_path: Path,
) -> None:
    data = data_folder(tmp_path / "data")
    source = tmp_path / "zongbao.txt"
    source.write_text(ZONGBAO, encoding="utf-8")
    staged = ["import-doc", str(source), "--out", str(data / STAGED / "zongbao")]
    assert await asyncio.to_thread(main, [*staged, "--data", str(data)]) == 0
    db = tmp_path / "web.db"
    async with (
        running_desk(Assistant.load(data), db, data_dir=data) as desk,
        await Store.open(db, desk.clock) as store,  # the instance that enables it
        browser() as http,
    ):
        config = Config(coordinators=frozenset({COORDINATOR.id}), data_dir=data)
        other = Core(config, Assistant.load(data), store, desk.clock)
        store.several_instances = desk.core.store.several_instances = True
        await desk.login(http, COORDINATOR)
        async with http.get(desk.url + "/") as r:  # it looks: nothing changed yet
            assert "国发〔2019〕3号" not in await r.text()
        assert "已启用" in await enable(other, "zongbao")
        desk.clock.advance(seconds=FOLLOW_EVERY.total_seconds())
        async with http.get(desk.url + "/") as r:
            assert "国发〔2019〕3号" in await r.text()

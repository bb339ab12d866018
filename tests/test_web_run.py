"""The web console started by the runner beside the channels: the terminal chat's /web link."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from bot.config import Config, ConfigError
from handlers.console import serve
from handlers.web.settings import DEFAULT_PORT, WebSettings, web_settings
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.wecom_api import FakeWeComApi
from tests.harness import ROOT, ZHANG, bot_process
from tests.test_wecom_run import callbacks, free_port, listening
from tests.web_harness import browser, login_with
from tests.wecom_harness import content, env_for

OURS = ("TELEGRAM_", "FENGONG_", "WECOM_")

LINK = re.compile(r"http://127\.0\.0\.1:\d+/login\?t=[0-9a-f]{40}\b")


class Screen(io.StringIO):
    """The terminal's output; wakes a waiting test whenever something is written."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def write(self, text: str) -> int:
        """Keep the text and wake the test."""
        self.changed.set()
        return super().write(text)

    async def wait_for(self, pattern: re.Pattern[str]) -> str:
        """Wait until the output matches; return the match."""
        while (found := pattern.search(self.getvalue())) is None:
            self.changed.clear()
            await self.changed.wait()
        return found.group(0)


async def test_the_terminal_chat_gives_a_web_link_that_logs_in(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    read, write = os.pipe()
    screen = Screen()
    config = Config(db_path=tmp_path / "t.db")
    # A pipe, not a file: opening it does not block.
    stdin, typing = os.fdopen(read, encoding="utf-8"), os.fdopen(write, "w", encoding="utf-8")
    with stdin, typing:
        chatting = asyncio.create_task(serve(config, stdin, screen, web=WebSettings(port=0)))
        typing.write("/web\n")
        typing.flush()
        async with asyncio.timeout(60):
            link = await screen.wait_for(LINK)
        async with browser() as http:
            assert (await login_with(http, link)).status == 302
            async with http.get(link.split("/login")[0] + "/") as home:
                assert "年报送总览" in await home.text()  # the terminal's user coordinates
        typing.close()
        async with asyncio.timeout(60):
            await chatting
    assert re.search(r"网页工作台：http://127\.0\.0\.1:\d+", caplog.text)
    assert link.split("t=")[1] not in caplog.text


def test_settings_default_and_refuse_nonsense() -> None:
    assert web_settings({}) == WebSettings(DEFAULT_PORT)
    assert web_settings({"FENGONG_WEB_PORT": "off"}) is None
    https = web_settings({"FENGONG_WEB_URL": "https://fg.example.cn/", "FENGONG_WEB_PORT": "9000"})
    assert https is not None
    assert https.port == 9000
    assert https.base_url == "https://fg.example.cn"
    assert https.secure
    for bad in ({"FENGONG_WEB_PORT": "http"}, {"FENGONG_WEB_URL": "fg.example.cn"}):
        with pytest.raises(ConfigError):
            web_settings(bad)


async def test_web_on_wecom_in_the_bots_process(tmp_path: Path) -> None:
    wecom_port, web_port = free_port(), free_port()
    async with FakeWeComApi() as wecom_api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
        env |= {
            **env_for(wecom_api, wecom_port),
            "FENGONG_DB": str(tmp_path / "fengong.db"),
            "FENGONG_WEB_PORT": str(web_port),
            "FENGONG_COORDINATORS": "wecom:zhang",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            await listening(f"http://127.0.0.1:{wecom_port}/healthz", process)
            async with callbacks(wecom_api, wecom_port) as wecom:
                assert await wecom.post(wecom.text("zhang", "/web", msg_id="1")) == (200, "")
            await wecom_api.wait_for("message/send", timeout=20)
            [sent] = wecom_api.messages_to("zhang")
            link = LINK.search(content(sent))
            assert link, content(sent)
            async with browser() as http:
                assert (await login_with(http, link.group(0))).status == 302
                async with http.get(f"http://127.0.0.1:{web_port}/members") as page:
                    assert "待审批的绑定申请" in await page.text()
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                output_bytes, _ = await process.communicate()
        finally:
            if process.returncode is None:
                process.kill()
                await process.communicate()
    output = output_bytes.decode()
    assert process.returncode == 0, output
    assert f"网页工作台：http://127.0.0.1:{web_port}" in output
    assert link.group(0).split("t=")[1] not in output
    assert "Traceback" not in output


async def test_web_beside_telegram_polling(api: FakeBotApi, tmp_path: Path) -> None:
    web_port = free_port()
    extra = {"FENGONG_WEB_PORT": str(web_port), "FENGONG_COORDINATORS": str(ZHANG)}
    async with bot_process(api, tmp_path / "fengong.db", extra) as process:
        api.send_text(ZHANG, "/web")
        [sent] = await api.wait_for_messages(ZHANG, timeout=20)
        link = LINK.search(sent["text"])
        assert link, sent["text"]
        async with browser() as http:
            assert (await login_with(http, link.group(0))).status == 302
            async with http.get(f"http://127.0.0.1:{web_port}/members") as page:
                assert "待审批的绑定申请" in await page.text()
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            output, _ = await process.communicate()
    log = output.decode()
    assert f"网页工作台：http://127.0.0.1:{web_port}" in log
    assert "Traceback" not in log

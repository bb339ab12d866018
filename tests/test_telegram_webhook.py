"""Webhook mode: `python -m bot run` with TELEGRAM_WEBHOOK_URL, against the fake Bot API."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.ask.assistant import Assistant
from bot.config import Config
from bot.core import Core
from handlers import run
from handlers.telegram import webhook
from handlers.telegram.context import core_of
from handlers.telegram.webhook import SECRET_HEADER
from tests.fakes.bot_api import FakeBotApi
from tests.harness import running

ROOT = Path(__file__).resolve().parents[1]
SECRET = "s3cret-token_for-tests"
USER = 42


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _update(update_id: int, text: str) -> dict[str, object]:
    user = {"id": USER, "is_bot": False, "first_name": "张三"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": USER, "type": "private", "first_name": "张三"},
            "from": user,
            "text": text,
        },
    }


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as fake:
        yield fake


async def test_webhook_mode_answers_only_with_the_secret(api: FakeBotApi, tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FENGONG_"))}
    env |= {
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "TELEGRAM_WEBHOOK_URL": url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
        "TELEGRAM_WEBHOOK_PORT": str(port),
        "FENGONG_DB": str(tmp_path / "fengong.db"),
        "PTB_TIMEDELTA": "true",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stderr = b""
    try:
        [registered] = await api.wait_for("setWebhook", timeout=15)
        assert registered.params["url"] == url
        assert registered.params["secret_token"] == SECRET
        async with aiohttp.ClientSession() as http:
            # The server may take a moment after setWebhook to accept connections.
            for _ in range(50):
                try:
                    async with http.post(
                        url,
                        json=_update(1, "7.2"),
                        headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                    ) as refused:
                        assert refused.status == 403
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            async with http.post(
                url,
                json=_update(2, "人社厅负责什么"),
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            ) as accepted:
                assert accepted.status == 200
            async with http.get(f"http://127.0.0.1:{port}/healthz") as health:
                assert health.status == 200
                assert (await health.text()).startswith("ok")
        [answer] = await api.wait_for_messages(USER, timeout=10)
        assert answer["rendered_text"].startswith("人力资源社会保障厅")
        assert not api.calls_of("getUpdates")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(15):
                _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    # Only the update with the right secret was answered.
    assert len(api.sent_messages(USER)) == 1


async def test_an_instance_that_does_not_set_the_webhook_only_receives(
    api: FakeBotApi, assistant: Assistant, tmp_path: Path
) -> None:
    """TELEGRAM_SET_WEBHOOK=0: another instance told Telegram; this one answers what comes."""
    port = _free_port()
    config = Config(
        telegram_token=api.token,
        telegram_base_url=api.base_url,
        webhook_url="https://bots.example/telegram",
        webhook_secret=SECRET,
        webhook_listen="127.0.0.1",
        webhook_port=port,
        set_webhook=False,
        db_path=tmp_path / "fengong.db",
    )
    core = await Core.open(config, assistant)
    try:
        async with run.telegram(config, core), aiohttp.ClientSession() as http:
            async with http.post(
                f"http://127.0.0.1:{port}/telegram",
                json=_update(1, "人社厅负责什么"),
                headers={SECRET_HEADER: SECRET},
            ) as accepted:
                assert accepted.status == 200
            [answer] = await api.wait_for_messages(USER, timeout=10)
    finally:
        await core.close()
    assert answer["rendered_text"].startswith("人力资源社会保障厅")
    assert not api.calls_of("setWebhook")
    assert not api.calls_of("deleteWebhook")  # the webhook another instance set stays
    assert not api.calls_of("getUpdates")


async def test_healthz_is_503_when_the_database_does_not_answer(
    api: FakeBotApi, assistant: Assistant, tmp_path: Path
) -> None:
    port = _free_port()
    async with running(api, assistant, tmp_path / "fengong.db") as app:
        runner = web.AppRunner(webhook.web_app(app, SECRET, webhook.inbox_of(app)))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with aiohttp.ClientSession() as http:
                health = f"http://127.0.0.1:{port}/healthz"
                async with http.get(health) as up:
                    assert (up.status, await up.text()) == (200, "ok\n")
                async with http.post(f"http://127.0.0.1:{port}/telegram", data="{") as forged:
                    assert forged.status == 403  # no secret: not even parsed
                async with http.post(
                    f"http://127.0.0.1:{port}/telegram",
                    data="not json",
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                ) as garbled:
                    assert garbled.status == 400

                await core_of(app.bot_data).store.close()

                async with http.get(health) as down:
                    assert (down.status, await down.text()) == (503, "数据库无法写入\n")
        finally:
            await runner.cleanup()


def _webhook_env(api: FakeBotApi, port: int, db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FENGONG_"))}
    return env | {
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
        "TELEGRAM_WEBHOOK_PORT": str(port),
        "FENGONG_DB": str(db),
        "PTB_TIMEDELTA": "true",
    }


async def _run_until_exit(env: dict[str, str]) -> tuple[int | None, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(30):
        _, stderr = await process.communicate()
    return process.returncode, stderr.decode()


async def test_a_corrupt_database_stops_the_bot_with_what_to_do(
    api: FakeBotApi, tmp_path: Path
) -> None:
    db = tmp_path / "fengong.db"
    db.write_bytes(b"garbage" * 200)

    code, stderr = await _run_until_exit(_webhook_env(api, _free_port(), db))

    assert code == 2
    assert f"数据库文件 {db} 已损坏" in stderr
    assert "Traceback" not in stderr
    assert not api.calls_of("setWebhook")


async def test_a_port_in_use_stops_the_bot_with_what_to_do(
    api: FakeBotApi, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        code, stderr = await _run_until_exit(_webhook_env(api, port, tmp_path / "fengong.db"))

    assert code == 2
    assert f"127.0.0.1:{port}" in stderr
    assert "TELEGRAM_WEBHOOK_PORT" in stderr
    assert "Traceback" not in stderr


async def test_updates_acknowledged_then_killed_are_answered_once_after_the_restart(
    api: FakeBotApi, tmp_path: Path
) -> None:
    """Each update is stored before its 200: kill -9 loses none, the restart answers each once."""
    port, db = _free_port(), tmp_path / "fengong.db"
    env = _webhook_env(api, port, db) | {"TELEGRAM_WEBHOOK_SECRET": SECRET}
    url, headers = f"http://127.0.0.1:{port}/telegram", {SECRET_HEADER: SECRET}
    questions = ["7.2", "人社厅负责什么", "6.2"]
    api.hold_sends()  # Telegram hangs: nothing is answered before the kill
    process = await _start(env)
    try:
        await api.wait_for("setWebhook", timeout=15)
        async with aiohttp.ClientSession() as http:
            for n, question in enumerate(questions, start=1):
                async with asyncio.timeout(10):
                    while True:
                        try:
                            async with http.post(
                                url, json=_update(n, question), headers=headers
                            ) as r:
                                assert r.status == 200
                            break
                        except aiohttp.ClientConnectionError:
                            await asyncio.sleep(0.05)
        async with asyncio.timeout(10):
            while not api.holding:  # noqa: ASYNC110 - polls the fake: the first answer is held
                await asyncio.sleep(0.02)
    finally:
        process.kill()
        await process.wait()  # (its pipes may stay open a moment in the renders' worker)
    api.release_sends()  # the killed bot's send reaches nobody
    assert api.sent_messages(USER) == []

    process = await _start(env)
    try:
        answers = await api.wait_for_messages(USER, 3, timeout=20)
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    # In the order they came (one chat's updates in order), each once.
    assert "举措 7.2" in answers[0]["rendered_text"]
    assert answers[1]["rendered_text"].startswith("人力资源社会保障厅")
    assert "举措 6.2" in answers[2]["rendered_text"]
    assert len(api.sent_messages(USER)) == 3  # each once
    assert "继续处理上次停止前已收到的 3 条消息" in stderr.decode()


async def _start(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip

"""Which channels `python -m bot run` starts: WeCom, Telegram, both in one process, or neither.

The child process runs against the fake Bot API and the fake WeCom API, its whole output
captured; WeCom's callbacks are delivered to the port it listens on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import socket
import time
from pathlib import Path

import aiohttp
import pytest

from bot.ask.assistant import Assistant
from bot.cli import EXIT_DATA, main
from bot.config import Config, ConfigError
from handlers.run import reminder_interval, serve
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.clock import FakeClock
from tests.fakes.wecom_api import FakeWeComApi
from tests.fakes.wecom_callback import WeComCallbackClient
from tests.harness import bot_process, rows, shanghai, text
from tests.wecom_harness import (
    AES_KEY,
    CALLBACK_TOKEN,
    content,
    env_for,
    key_of,
    settings_for,
)

TG_USER = 4242
WECOM_USER = "zhang"
HOOK_SECRET = "hook-secret_42"


def callbacks(wecom_api: FakeWeComApi, port: int) -> WeComCallbackClient:
    """WeCom's side of the callbacks to the bot listening on `port`."""
    return WeComCallbackClient(
        f"http://127.0.0.1:{port}/wecom",
        token=CALLBACK_TOKEN,
        encoding_aes_key=AES_KEY,
        corp_id=wecom_api.corp_id,
    )


def telegram_update(update_id: int, user: int, text: str) -> dict[str, object]:
    """A private text message as Telegram posts it to a webhook."""
    person = {"id": user, "is_bot": False, "first_name": "张三"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user, "type": "private", "first_name": "张三"},
            "from": person,
            "text": text,
        },
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def listening(url: str, process: asyncio.subprocess.Process | None = None) -> None:
    """Wait until the WeCom server (the child's, or ours) answers GET /healthz with 200."""
    async with asyncio.timeout(30), aiohttp.ClientSession() as session:
        while process is None or process.returncode is None:
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the bot exited before listening")


async def test_wecom_and_telegram_run_in_one_process(api: FakeBotApi, tmp_path: Path) -> None:
    port = free_port()
    async with FakeWeComApi() as wecom_api:
        env = env_for(wecom_api, port)
        async with bot_process(api, tmp_path / "fengong.db", env) as process:
            await listening(f"http://127.0.0.1:{port}/healthz", process)
            await api.wait_for("getUpdates", include_pending=True, timeout=20)
            assert len(wecom_api.menus) == 1

            api.send_text(TG_USER, "7.2", user_id=TG_USER)
            async with callbacks(wecom_api, port) as wecom:
                assert await wecom.post(wecom.text(WECOM_USER, "7.2", msg_id="1")) == (200, "")
            [answer] = await api.wait_for_messages(TG_USER, 1, timeout=10)
            await wecom_api.wait_for("message/send", timeout=10)

            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(20):
                output_bytes, _ = await process.communicate()
    output = output_bytes.decode()
    assert process.returncode == 0, output
    assert "举措 7.2" in text(answer)
    [reply, *_] = wecom_api.messages_to(WECOM_USER)
    assert content(reply).startswith("**举措 7.2**")
    assert " ERROR " not in output
    assert "Traceback" not in output
    for secret in (wecom_api.secret, AES_KEY, CALLBACK_TOKEN):
        assert secret not in output


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("WECOM_AES_KEY", "tooshort", "WECOM_AES_KEY"),
        ("WECOM_PORT", "http", "WECOM_PORT"),
        ("WECOM_SECRET", "", "WECOM_SECRET"),
    ],
)
def test_a_bad_wecom_setting_stops_the_start_naming_it(
    setting: str,
    value: str,
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {
        "WECOM_CORP_ID": "ww0123456789abcdef",
        "WECOM_AGENT_ID": "1000002",
        "WECOM_SECRET": "secret-value-0123456789",
        "WECOM_TOKEN": CALLBACK_TOKEN,
        "WECOM_AES_KEY": AES_KEY,
        "WECOM_API_BASE_URL": "http://127.0.0.1:9",  # never reached
        setting: value,
    }
    for name, given in env.items():
        monkeypatch.setenv(name, given)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["run"]) == EXIT_DATA
    error = capsys.readouterr().err
    assert error.startswith("错误：")
    assert named in error


async def test_serve_with_a_telegram_webhook_and_wecom(
    api: FakeBotApi, assistant: Assistant, tmp_path: Path
) -> None:
    tg_port, wecom_port = free_port(), free_port()
    hook = f"http://127.0.0.1:{tg_port}/telegram"
    async with FakeWeComApi() as wecom_api:
        config = Config(
            telegram_token=api.token,
            telegram_base_url=api.base_url,
            webhook_url=hook,
            webhook_secret=HOOK_SECRET,
            webhook_listen="127.0.0.1",
            webhook_port=tg_port,
            db_path=tmp_path / "fengong.db",
        )
        stop = asyncio.Event()
        served = asyncio.create_task(
            serve(config, settings_for(wecom_api, wecom_port), assistant=assistant, stop=stop)
        )
        try:
            [registered] = await api.wait_for("setWebhook", timeout=15)
            assert registered.params["url"] == hook
            async with aiohttp.ClientSession() as http:
                update = telegram_update(1, TG_USER, "7.2")
                headers = {"X-Telegram-Bot-Api-Secret-Token": HOOK_SECRET}
                async with http.post(hook, json=update, headers=headers) as accepted:
                    assert accepted.status == 200
            async with callbacks(wecom_api, wecom_port) as wecom:
                assert await wecom.post(wecom.text(WECOM_USER, "7.2", msg_id="1")) == (200, "")
            [answer] = await api.wait_for_messages(TG_USER, 1, timeout=10)
            await wecom_api.wait_for("message/send", timeout=10)
        finally:
            stop.set()
            async with asyncio.timeout(15):
                await served
    assert "举措 7.2" in text(answer)
    assert content(wecom_api.messages_to(WECOM_USER)[0]).startswith("**举措 7.2**")
    assert not api.calls_of("getUpdates")  # the webhook, not polling


async def test_wecom_alone_on_its_own_core(assistant: Assistant, tmp_path: Path) -> None:
    port = free_port()
    async with FakeWeComApi() as wecom_api:
        stop = asyncio.Event()
        config = Config(db_path=tmp_path / "fengong.db")
        served = asyncio.create_task(
            serve(config, settings_for(wecom_api, port), assistant=assistant, stop=stop)
        )
        try:
            # Listening, not only the menu made: serve() creates the menu before it listens.
            await listening(f"http://127.0.0.1:{port}/healthz")
            async with callbacks(wecom_api, port) as wecom:
                assert await wecom.post(wecom.text(WECOM_USER, "/whoami", msg_id="1")) == (
                    200,
                    "",
                )
                await wecom_api.wait_for("message/send", timeout=10)
        finally:
            stop.set()
            async with asyncio.timeout(15):
                await served
    assert "尚未绑定单位" in content(wecom_api.messages_to(WECOM_USER)[0])


async def test_a_refused_secret_or_a_taken_port_stops_the_start(
    assistant: Assistant, tmp_path: Path
) -> None:
    config = Config(db_path=tmp_path / "fengong.db")
    async with FakeWeComApi() as wecom_api:
        wrong = dataclasses.replace(settings_for(wecom_api, free_port()), secret="not-the-secret")
        with pytest.raises(ConfigError, match="企业微信不接受 WECOM_SECRET"):
            await serve(config, wrong, assistant=assistant, stop=asyncio.Event())
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            busy = settings_for(wecom_api, taken.getsockname()[1])
            with pytest.raises(ConfigError, match="WECOM_PORT"):
                await serve(config, busy, assistant=assistant, stop=asyncio.Event())
            nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there
            lost = dataclasses.replace(busy, port=free_port(), api_base_url=nobody)
            refused = r"连接不上企业微信接口：连接被拒绝（127.0.0.1:\d+）。.*WECOM_API_BASE_URL"
            with pytest.raises(ConfigError, match=refused):
                await serve(config, lost, assistant=assistant, stop=asyncio.Event())


def test_the_reminder_interval_is_seconds_between_1_and_3600() -> None:
    assert (reminder_interval(""), reminder_interval("5"), reminder_interval("0.5e1")) == (
        60,
        5,
        5,
    )
    for wrong in ("0", "-5", "3601", "nan", "五秒", "inf"):
        with pytest.raises(ConfigError, match="FENGONG_REMINDER_INTERVAL"):
            reminder_interval(wrong)


async def test_a_refused_telegram_token_stops_both_channels(
    api: FakeBotApi, tmp_path: Path
) -> None:
    """With WeCom configured too, a wrong token stops the start with 2, leaving nothing open."""
    async with FakeWeComApi() as wecom_api:
        env = env_for(wecom_api, free_port()) | {"TELEGRAM_BOT_TOKEN": "999:WRONG"}
        async with bot_process(api, tmp_path / "fengong.db", env) as process:
            async with asyncio.timeout(30):
                output_bytes, _ = await process.communicate()
    output = output_bytes.decode()
    assert process.returncode == EXIT_DATA, output
    assert output.splitlines()[-1].startswith("错误：Telegram 不接受 TELEGRAM_BOT_TOKEN"), output
    assert "Unclosed" not in output


async def test_a_telegram_members_binding_is_approved_by_a_wecom_coordinator(
    api: FakeBotApi, assistant: Assistant, tmp_path: Path
) -> None:
    """One core for both channels: the request reaches WeCom, the decision reaches Telegram."""
    port = free_port()
    async with FakeWeComApi() as wecom_api:
        config = Config(
            telegram_token=api.token,
            telegram_base_url=api.base_url,
            db_path=tmp_path / "fengong.db",
            coordinators=frozenset({"wecom:boss"}),
        )
        stop = asyncio.Event()
        served = asyncio.create_task(
            serve(config, settings_for(wecom_api, port), assistant=assistant, stop=stop)
        )
        try:
            await api.wait_for("getUpdates", include_pending=True, timeout=15)
            api.send_text(TG_USER, "/bind 人社厅", user_id=TG_USER)
            [asked] = await api.wait_for_messages(TG_USER, 1, timeout=10)
            await wecom_api.wait_for("message/send", 2, timeout=10)  # the request and its card
            [_, card] = wecom_api.messages_to("boss")
            async with callbacks(wecom_api, port) as wecom:
                click = wecom.card_click(
                    "boss",
                    task_id=card["template_card"]["task_id"],
                    event_key=key_of(card, "批准"),
                    response_code=wecom_api.click_code(),
                )
                assert await wecom.post(click) == (200, "")
            [_, notice] = await api.wait_for_messages(TG_USER, 2, timeout=10)
        finally:
            stop.set()
            async with asyncio.timeout(15):
                await served
    assert text(asked).startswith("已提交绑定")
    assert text(notice).startswith("您绑定到「人力资源社会保障厅」的申请已获批准")
    assert wecom_api.card_updates[0]["button"] == {"replace_name": "已批准"}
    assert rows(tmp_path / "fengong.db", "SELECT user_id, unit FROM members") == [
        (f"tg:{TG_USER}", "人力资源社会保障厅")
    ]


async def test_telegram_alone_with_a_group_robot_posts_the_summary_there(
    api: FakeBotApi, assistant: Assistant, tmp_path: Path
) -> None:
    clock = FakeClock(shanghai(2025, 1, 1, 9, 0))  # the summary of 2024 is due
    async with FakeWeComApi() as wecom_api:
        config = Config(
            telegram_token=api.token,
            telegram_base_url=api.base_url,
            db_path=tmp_path / "fengong.db",
            coordinators=frozenset({f"tg:{TG_USER}"}),
            group_webhook=wecom_api.webhook_url(),
        )
        stop = asyncio.Event()
        served = asyncio.create_task(
            serve(config, None, assistant=assistant, clock=clock, stop=stop)
        )
        try:
            [summary] = await api.wait_for_messages(TG_USER, 1, timeout=15)
            await wecom_api.wait_for("webhook/send", timeout=10)
        finally:
            stop.set()
            async with asyncio.timeout(15):
                await served
    assert "2024 年度报送情况" in text(summary)
    [(_, posted)] = wecom_api.robot_messages
    assert "2024 年度报送情况" in posted["markdown"]["content"]
    assert not wecom_api.calls_of("message/send")  # no WeCom app: only its group robot


async def test_the_start_error_never_shows_the_token_a_server_echoes(
    api: FakeBotApi, tmp_path: Path
) -> None:
    """A Bot API server (a proxy, a self-hosted one) whose error repeats the URL and token."""
    api.fail_get_me(500, f"upstream failed for {api.base_url}/bot{api.token}/getMe ({api.token})")
    async with bot_process(api, tmp_path / "fengong.db") as process:
        async with asyncio.timeout(30):
            output_bytes, _ = await process.communicate()
    output = output_bytes.decode()
    assert process.returncode == EXIT_DATA, output
    last = output.splitlines()[-1]
    assert last.startswith("错误：连接不上 Telegram（upstream failed for"), output
    assert api.token not in output
    assert api.token.split(":")[1] not in output

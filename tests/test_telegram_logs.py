"""What the bot writes to its log: no secret ever, no note text, no noise on a clean stop.

`python -m bot run` runs as a child process polling the fake Bot API, its whole output
(standard output and error, where the log goes) captured and searched.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot import redact
from bot.ask.assistant import Assistant
from bot.clock import system_clock
from bot.reply import Reply
from handlers.telegram.handlers import FAILED
from tests.fakes.bot_api import FakeBotApi
from tests.harness import (
    COORDINATOR,
    COORDINATOR_2,
    HRSS,
    FakeClock,
    Users,
    bind_directly,
    bot_process,
    rows,
    running,
    text,
)
from tests.test_telegram import Exploding

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "5566778899:AAH-secret_Token-value"
SECRETS = {
    "WECOM_SECRET": "wecom-corp-secret-0123456789",
    "WECOM_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "WECOM_TOKEN": "wecom-callback-token-42",
}
USER = 4242
FAILING = 4343  # the fake answers every message to this chat with a 502


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN) as fake:
        yield fake


async def stop(process: asyncio.subprocess.Process) -> str:
    """Stop the bot as Ctrl-C or `docker stop` would; return everything it wrote."""
    process.send_signal(signal.SIGINT)
    async with asyncio.timeout(20):
        output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


async def test_no_secret_reaches_the_output(api: FakeBotApi, tmp_path: Path) -> None:
    db_path = tmp_path / "fengong.db"
    await bind_directly(db_path, FakeClock(system_clock()), [(USER, HRSS)])
    # A proxy's error page that echoes the URL it was asked for: the error is logged.
    api.fail(FAILING, 502, f"Bad Gateway: upstream failed for /bot{TOKEN}/sendMessage")
    # Only the Telegram channel runs here: the WeCom secrets are tested in test_wecom_run.
    async with bot_process(api, db_path) as process:
        await api.wait_for("getUpdates", include_pending=True, timeout=20)
        for text in ("/start", "人社厅负责哪些任务？", "/note 5.1 本年已招录残疾人 3 名"):
            before = len(api.sent_messages(USER))
            api.send_text(USER, text)
            await api.wait_for_messages(USER, before + 1, timeout=10)
        api.send_text(FAILING, "7.2")  # the reply fails: a handler error
        await api.wait_for(
            lambda c: c.method == "sendMessage" and c.params.get("chat_id") == FAILING,
            2,  # the answer, then the apology
            timeout=10,
        )
        await asyncio.sleep(0.5)  # let the error be logged
        output = await stop(process)

    assert "处理更新时出错" in output  # the error was logged
    for secret in (TOKEN, TOKEN.partition(":")[2], *SECRETS.values()):
        assert secret not in output
    assert "本年已招录残疾人" not in output  # nor a note's text


async def test_a_clean_stop_logs_no_error(api: FakeBotApi, tmp_path: Path) -> None:
    async with bot_process(api, tmp_path / "fengong.db") as process:
        await api.wait_for("getUpdates", include_pending=True, timeout=20)
        before = len(api.sent_messages(USER))
        api.send_text(USER, "7.2")
        await api.wait_for_messages(USER, before + 1, timeout=10)
        output = await stop(process)
    assert " ERROR " not in output
    assert "Traceback" not in output


def test_the_filter_masks_messages_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    masker = redact.RedactSecrets(redact.secrets_in({**SECRETS, "TELEGRAM_BOT_TOKEN": TOKEN}))
    caplog.handler.addFilter(masker)
    logger = logging.getLogger("tests.redact")
    try:
        logger.warning("token %s, key %s", TOKEN, SECRETS["WECOM_AES_KEY"])
        logger.warning("GET https://qyapi.weixin.qq.com/cgi-bin/x?access_token=XyZ123&debug=1")
        logger.warning("POST http://127.0.0.1/bot999:other/getMe")
        try:
            raise RuntimeError(f"failed with {SECRETS['WECOM_SECRET']}")
        except RuntimeError:
            logger.exception("boom")
    finally:
        caplog.handler.removeFilter(masker)
    output = caplog.text
    for secret in (TOKEN, "XyZ123", "999:other", *SECRETS.values()):
        assert secret not in output
    assert "access_token=***&debug=1" in output
    assert "/bot***/getMe" in output
    assert "RuntimeError: failed with ***" in output


# --- in process: the real Application against the fake, the log captured -------------------


async def test_a_handler_error_logs_the_update_kind_and_ids_not_its_text(
    api: FakeBotApi, assistant: Assistant, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    exploding = Exploding(assistant.plan, assistant.lexicon, assistant.engine)
    async with running(api, exploding, tmp_path / "fengong.db"):
        bot = Users(api)
        assert text(await bot.say(USER, "爆炸了吗 机密的内容")) == FAILED

    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert f"chat {USER}, user {USER}" in record.getMessage()
    assert "message" in record.getMessage()
    assert record.getMessage().endswith("：RuntimeError")
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "测试用的故障"  # in the traceback that follows
    assert "机密的内容" not in caplog.text


class Unencodable(Assistant):
    """Fails as SQLite or a codec fails on a lone surrogate: the error holds the whole text."""

    def ask(self, question: str) -> Reply:
        raise UnicodeEncodeError("utf-8", question, 0, 1, "surrogates not allowed")


async def test_an_error_holding_the_text_logs_its_name_only(
    api: FakeBotApi, assistant: Assistant, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    failing = Unencodable(assistant.plan, assistant.lexicon, assistant.engine)
    async with running(api, failing, tmp_path / "fengong.db"):
        assert text(await Users(api).say(USER, "机密的内容")) == FAILED

    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.getMessage().endswith("：UnicodeEncodeError")
    assert "机密的内容" not in caplog.text


async def test_a_user_who_blocked_the_bot_is_routine(
    api: FakeBotApi, assistant: Assistant, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.INFO, logger="handlers")
    db_path = tmp_path / "fengong.db"
    await bind_directly(db_path, FakeClock(system_clock()), [(USER, HRSS)])
    async with running(api, assistant, db_path):
        bot = Users(api)
        await bot.say(USER, "7.2")
        assert rows(db_path, "SELECT reachable FROM users WHERE id = ?", (f"tg:{USER}",)) == [(1,)]
        api.block(USER)
        since = len(api.calls)
        api.send_text(USER, "人社厅负责哪些任务")
        await bot.settle()
        refused = [c for c in api.calls[since:] if c.params.get("chat_id") == USER]

    assert [c.status for c in refused] == [403]  # the reply, and no apology after it
    assert rows(db_path, "SELECT reachable FROM users WHERE id = ?", (f"tg:{USER}",)) == [(0,)]
    ours = [r for r in caplog.records if r.name.startswith("handlers.")]
    assert [r for r in ours if r.levelno >= logging.WARNING] == []
    assert [r for r in caplog.records if r.exc_info] == []
    [line] = [r.getMessage() for r in caplog.records if "无法回复" in r.getMessage()]
    assert f"chat {USER}" in line


async def test_a_failed_last_poll_at_stop_is_no_error(
    api: FakeBotApi, assistant: Assistant, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    async with running(api, assistant, tmp_path / "fengong.db"):
        await Users(api).say(USER, "7.2")
        api.fail_polls(504)  # the network goes: the stop cannot confirm the last updates
        await api.wait_for(lambda c: c.method == "getUpdates" and c.status == 504)
    assert len([c for c in api.calls_of("getUpdates") if c.status == 504]) >= 2  # incl. at stop
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert [r for r in caplog.records if r.exc_info] == []


async def test_a_notice_that_cannot_be_delivered_holds_up_nobody(
    api: FakeBotApi, assistant: Assistant, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    # The first coordinator's chat answers 500; the second is a WeCom account, which the
    # Telegram channel cannot reach: the third still gets the card at once.
    api.fail(COORDINATOR, 500)
    coordinators: list[Any] = [COORDINATOR, "wecom:zhang.san", COORDINATOR_2]
    async with running(api, assistant, tmp_path / "fengong.db", coordinators=coordinators):
        bot = Users(api)
        receipt = await bot.say(USER, "/bind 教育厅")
        [card] = await api.wait_for_messages(COORDINATOR_2, timeout=5)
    assert text(receipt).startswith("已提交")
    assert text(card).startswith("绑定申请")
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    warned = [r.getMessage() for r in caplog.records if r.name.startswith("handlers.")]
    assert any(m.startswith(f"通知未能送达用户 tg:{COORDINATOR}") for m in warned)
    assert any(m.startswith("通知未能送达用户 wecom:zhang.san") for m in warned)

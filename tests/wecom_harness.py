"""The bot on WeCom end to end: the real callback server on 127.0.0.1, a real SQLite file, the
fake WeCom API (tests/fakes/wecom_api.py) and callbacks encrypted and signed as WeCom does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.ask.assistant import Assistant
from bot.clock import Clock
from bot.config import Config
from bot.core import Core
from handlers.wecom.app import FAILED, WeComApp, serving
from handlers.wecom.settings import WeComSettings
from tests.fakes.wecom_api import FakeWeComApi
from tests.fakes.wecom_callback import WeComCallbackClient

CALLBACK_TOKEN = "callbackToken42"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
BOSS = "boss"  # a coordinator on WeCom: `wecom:boss`


def settings_for(api: FakeWeComApi, port: int = 0) -> WeComSettings:
    """The app's settings against the fake API, listening on 127.0.0.1 (0: any free port)."""
    return WeComSettings(
        corp_id=api.corp_id,
        agent_id=api.agent_id,
        secret=api.secret,
        token=CALLBACK_TOKEN,
        aes_key=AES_KEY,
        api_base_url=api.base_url,
        listen="127.0.0.1",
        port=port,
    )


def env_for(api: FakeWeComApi, port: int) -> dict[str, str]:
    """The WECOM_* environment of the same settings, for `python -m bot run`."""
    return {
        "WECOM_CORP_ID": api.corp_id,
        "WECOM_AGENT_ID": str(api.agent_id),
        "WECOM_SECRET": api.secret,
        "WECOM_TOKEN": CALLBACK_TOKEN,
        "WECOM_AES_KEY": AES_KEY,
        "WECOM_API_BASE_URL": api.base_url,
        "WECOM_LISTEN": "127.0.0.1",
        "WECOM_PORT": str(port),
    }


def content(payload: dict[str, Any]) -> str:
    """The text of a markdown or text message ("" for a card or a file)."""
    kind = payload["msgtype"]
    return str(payload[kind]["content"]) if kind in ("markdown", "text") else ""


def keys(payload: dict[str, Any]) -> list[str]:
    """The button keys of a card message."""
    if payload["msgtype"] != "template_card":
        return []
    return [b["key"] for b in payload["template_card"]["button_list"]]


def key_of(payload: dict[str, Any], label: str) -> str:
    """The key of the card button labelled `label`."""
    [key] = [b["key"] for b in payload["template_card"]["button_list"] if b["text"] == label]
    return str(key)


@dataclass
class WeCom:
    """WeCom's members: they type and press card buttons; what the bot sent is in `api`."""

    api: FakeWeComApi
    client: WeComCallbackClient
    app: WeComApp
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def msg_id(self) -> str:
        """A MsgId never used before."""
        return str(next(self._ids))

    async def says(self, user: str, text: str, count: int = 1) -> list[dict[str, Any]]:
        """`user` types `text`; return the first `count` messages the bot sends them."""
        before = len(self.api.messages_to(user))
        status, body = await self.client.post(self.client.text(user, text, msg_id=self.msg_id()))
        assert (status, body) == (200, "")
        return (await self.wait(user, before + count))[before : before + count]

    async def say(self, user: str, text: str) -> str:
        """`user` types `text`; return the text of the bot's first message."""
        return content((await self.says(user, text))[0])

    async def press(
        self, user: str, card: dict[str, Any], key: str, count: int = 1
    ) -> list[dict[str, Any]]:
        """`user` presses the card's button `key`; return the next `count` messages to them."""
        assert key in keys(card), (key, keys(card))
        before = len(self.api.messages_to(user))
        click = self.client.card_click(
            user,
            task_id=card["template_card"]["task_id"],
            event_key=key,
            response_code=self.api.click_code(),
        )
        assert await self.client.post(click) == (200, "")
        return (await self.wait(user, before + count))[before : before + count]

    async def wait(self, user: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:  # noqa: ASYNC109
        """Wait until `user` received `count` messages; return them all."""
        async with asyncio.timeout(timeout):
            while len(self.api.messages_to(user)) < count:  # noqa: ASYNC110 - polls the fake
                await asyncio.sleep(0.01)
        return self.api.messages_to(user)

    async def settle(self, user: str) -> None:
        """Wait until everything `user` sent so far was handled (their messages are in order)."""
        await self.says(user, "/help")


@contextlib.asynccontextmanager
async def wecom_bot(
    api: FakeWeComApi,
    assistant: Assistant,
    db_path: Path,
    clock: Clock,
    *,
    coordinators: Iterable[str] = (f"wecom:{BOSS}",),
    apologies: int = 0,
) -> AsyncIterator[WeCom]:
    """Run the WeCom app on its own core; afterwards check that "出错了" was sent only
    `apologies` times."""
    config = Config(db_path=db_path, coordinators=frozenset(coordinators))
    core = await Core.open(config, assistant, clock)
    app = WeComApp(core, settings_for(api))
    try:
        async with serving(app) as runner:
            port = runner.addresses[0][1]
            async with WeComCallbackClient(
                f"http://127.0.0.1:{port}/wecom",
                token=CALLBACK_TOKEN,
                encoding_aes_key=AES_KEY,
                corp_id=api.corp_id,
                agent_id=api.agent_id,
            ) as client:
                yield WeCom(api, client, app)
    finally:
        await core.close()
    failed = [to for to, p in api.delivered if content(p) == FAILED]
    assert len(failed) == apologies, failed

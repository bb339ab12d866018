"""The WeCom adapter: callbacks turned into the core's calls, its responses sent back.

WeComApp holds the core, one app's client, the channel and the inbox the callback server
stores each message in before acknowledging it. `on_message` handles one from there (each
member's messages in order, members side by side): parse → call the core → send. Replies go
through `message/send`, never as a passive reply, so WeCom's 5-second window is never at
stake. A member is `wecom:<UserId>` (lower-cased: WeCom ignores case), always in a private
conversation.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping

from aiohttp import web

from bot.ask.assistant import REPORTING
from bot.config import ConfigError
from bot.core import EXPIRED, Core, Response
from bot.health import check
from bot.inbox import Inbox
from bot.outcome import Attachment, Person
from bot.store import Delivery
from bot.throttle import NOT_FILED, SLOW_DOWN
from handlers.wecom.channel import PREFIX, WeComChannel, attach_channel
from handlers.wecom.client import WeComClient, WeComError
from handlers.wecom.crypto import MsgCrypt
from handlers.wecom.message import (
    CardClick,
    EnterAgent,
    Ignored,
    MenuClick,
    Message,
    TextMessage,
    parse_message,
)
from handlers.wecom.render import PAGE_ACTION, page_count
from handlers.wecom.server import CHANNEL, SHUTDOWN_GRACE, callback_app, listen, runner_of
from handlers.wecom.settings import WeComSettings
from handlers.wecom.split import split_utf8

logger = logging.getLogger(__name__)

FAILED = "出错了，请稍后重试"
NOT_TEXT = "我只能读懂文字消息。请直接输入问题（如某个单位负责哪些任务），发送 /start 查看示例。"
GREETING = (
    "您好！我是分工助手。直接输入问题即可，如某个单位负责哪些任务；"
    "发送 /start 查看示例，/help 查看命令。"
)
# A Chinese keyboard types the full-width ／ where the slash key is pressed.
COMMAND_MARKS = ("/", "／")
MENU_EXPIRED = "这个菜单已更新，请重新打开应用后再试。"

# The application menu (≤ 3 buttons, names ≤ 16 bytes, keys ≤ 128 bytes).
MENU: tuple[Mapping[str, str], ...] = (
    {"type": "click", "name": "我的单位", "key": "menu:whoami"},
    {"type": "click", "name": "报送进展", "key": "menu:report"},
    {"type": "click", "name": "使用说明", "key": "menu:help"},
)
_MENU_COMMANDS = {"menu:whoami": "whoami", "menu:help": "help"}
# What a card shows in place of its buttons once pressed (they can no longer be pressed).
_DECIDED = {"ap": "已批准", "rj": "已拒绝"}
_APPROVALS = frozenset(_DECIDED)
# gettoken's answers that mean the settings are wrong, not that WeCom is busy.
_BAD_CREDENTIALS = {
    40001: "WECOM_SECRET",
    40013: "WECOM_CORP_ID",
    40091: "WECOM_SECRET",
}
IP_NOT_ALLOWED = 60020


def person_of(user: str) -> Person:
    """Return the core's view of a WeCom member: `wecom:<UserId>`, in a private chat."""
    return Person(f"{PREFIX}{user}", user, private=True)


class WeComApp:
    """One self-built app on the core: the callback handler, the menu and the channel."""

    def __init__(self, core: Core, settings: WeComSettings) -> None:
        self.core = core
        self.settings = settings
        self.client = WeComClient(
            settings.corp_id, settings.secret, settings.agent_id, base_url=settings.api_base_url
        )
        self.channel = WeComChannel(self.client, markdown=settings.markdown)
        self.crypt = MsgCrypt(settings.token, settings.aes_key, settings.corp_id)
        self.inbox = Inbox(
            core.store, CHANNEL, self._handle_delivery, core.config.instance, core.config.lease
        )

    def web_app(self) -> web.Application:
        """Return the callback server: /wecom for WeCom (stored before its 200), /healthz."""
        # With several instances, each callback is opened before its 200, so that each member
        # is handled where that member's lease is (spread over the instances), not where the
        # callbacks are opened.
        several = self.core.store.several_instances or self.core.config.named
        return callback_app(
            self.crypt,
            self.inbox,
            agent_id=self.settings.agent_id,
            health=self._health,
            sealed=not several,
        )

    async def start(self) -> None:
        """Register the channel with the core and create the application menu.

        Raises ConfigError when WeCom refuses the app's credentials or this server's IP.
        """
        attach_channel(self.core.router, self.channel)
        try:
            await self.client.create_menu(MENU)
        except WeComError as e:
            raise _start_error(e) from None
        logger.info("已连接企业微信：应用 %d", self.settings.agent_id)

    async def stop(self) -> None:
        """Unregister the channel and close the client's HTTP session."""
        self.core.router.remove(PREFIX)
        await self.client.close()

    async def _health(self) -> tuple[int, str]:
        verdict = await check(self.core.store)
        return verdict.status, verdict.text

    # -- callbacks ---------------------------------------------------------------------------

    async def _handle_delivery(self, delivery: Delivery) -> None:
        await self.on_message(parse_message(delivery.body.encode()), delivery.arrived)

    async def on_message(self, message: Message, arrived: dt.datetime | None = None) -> None:
        """Handle one callback that came at `arrived`; an error is logged (without texts) and
        the member told."""
        person = person_of(message.user)
        try:
            await self._handle(person, message, arrived)
        except Exception as e:
            logger.error(
                "处理企业微信消息时出错（%s，成员 %s）：%s",
                type(message).__name__,
                message.user,
                type(e).__name__,
                exc_info=e,
            )
            with contextlib.suppress(Exception):
                await self._say(person, FAILED)

    async def _handle(self, person: Person, message: Message, arrived: dt.datetime | None) -> None:
        if isinstance(message, EnterAgent):
            await self._greet(person)
            return
        if isinstance(message, Ignored) and message.kind.startswith("event:"):
            return  # subscribe, location reports …
        paging = isinstance(message, CardClick) and message.event_key.startswith(f"{PAGE_ACTION}:")
        if not paging and not await self._admitted(person, message, arrived):
            return
        if isinstance(message, Ignored):  # a picture, a voice message, a file …
            await self._say(person, NOT_TEXT)
            return
        await self.core.seen(person)
        if isinstance(message, TextMessage):
            await self._deliver(person, await self._typed(person, message.content))
        elif isinstance(message, MenuClick):
            await self._menu(person, message.event_key)
        elif paging:
            await self._page(person, message.event_key)
        else:
            await self._pressed(person, message)

    async def _admitted(
        self, person: Person, message: Message, arrived: dt.datetime | None
    ) -> bool:
        """Judge the message by when it came (a backlog handled late is not a flood)."""
        verdict = self.core.admit(person, arrived)
        if verdict == "warn":
            await self._say(person, SLOW_DOWN)
        elif verdict == "drop" and await self._files_note(person, message):
            await self._say(person, NOT_FILED)  # a note is never dropped unsaid
        return verdict == "pass"

    async def _files_note(self, person: Person, message: Message) -> bool:
        """Tell whether a text would file a note: /note, or the text a note flow awaits."""
        if not isinstance(message, TextMessage):
            return False
        typed = message.content.lstrip()
        if typed.startswith(COMMAND_MARKS):
            return (typed[1:].split(maxsplit=1) or [""])[0].lower() == "note"  # not /notes
        return await self.core.store.flows.get(person.id) is not None

    async def _typed(self, person: Person, text: str) -> Response:
        """A command ("/note 5.1 …", its argument as typed) or a question."""
        chat, typed = person.id, text.lstrip()
        if not typed.startswith(COMMAND_MARKS):
            return await self.core.text(person, chat, text)
        parts = typed[1:].split(maxsplit=1) or [""]
        name, arg = parts[0], parts[1] if len(parts) > 1 else ""
        return await self.core.command(person, chat, name, arg)

    async def _greet(self, person: Person) -> None:
        """Greet a member the first time they open the app (known ones are left alone)."""
        if await self.core.store.users.get(person.id) is not None:
            return
        await self.core.seen(person)
        await self._say(person, GREETING)

    async def _menu(self, person: Person, key: str) -> None:
        if key == "menu:report":
            outcome = await self.core.query(person, REPORTING, "")
            if outcome is not None:
                await self._deliver(person, Response(outcome, (REPORTING, "")))
            return
        name = _MENU_COMMANDS.get(key)
        if name is None:
            await self._say(person, MENU_EXPIRED)
            return
        await self._deliver(person, await self.core.command(person, person.id, name, ""))

    async def _page(self, person: Person, key: str) -> None:
        """Send page n of the answer behind a page token (`pg:<token>:<n>`)."""
        _, token, index = [*key.split(":"), "", ""][:3]
        outcome = await self.core.page(person, token)
        count = page_count(outcome.reply, markdown=self.settings.markdown) if outcome else 0
        if outcome is None or not index.isdecimal() or int(index) >= count:
            await self._say(person, EXPIRED)
            return
        sent = await self.channel.send(person.id, outcome.reply, page_token=token, page=int(index))
        await self._sent(person, sent)

    async def _pressed(self, person: Person, click: CardClick) -> None:
        """Run a card button's action; an approval's card loses its buttons first."""
        action = click.event_key
        response = await self.core.press(person, person.id, action)
        if response is None:
            await self._say(person, EXPIRED)
            return
        prefix = action.partition(":")[0]
        if response.outcome.replace or prefix in _APPROVALS:
            label = _DECIDED.get(prefix, "已处理") if response.outcome.replace else "已处理"
            await self._close_card(click, label)
        await self._deliver(person, response)

    async def _close_card(self, click: CardClick, label: str) -> None:
        """Grey the pressed card's buttons with `label`, so it cannot be pressed twice."""
        if not click.response_code:
            return
        try:
            await self.client.update_card(
                click.response_code, users=[click.user], replace_name=label
            )
        except WeComError as e:  # the reply still goes out; the core refuses a second decision
            logger.warning("未能更新企业微信卡片（成员 %s）：%s", click.user, e)

    # -- sending -----------------------------------------------------------------------------

    async def _deliver(self, person: Person, response: Response) -> None:
        """Send a response: the reply (page 1 of several, with page buttons), files, notices."""
        outcome = response.outcome
        token = None
        if response.query and page_count(outcome.reply, markdown=self.settings.markdown) > 1:
            token = await self.core.queries.remember(*response.query)
        sent = await self.channel.send(person.id, outcome.reply, page_token=token)
        await self._sent(person, sent)
        if outcome.attachment is not None:
            file = outcome.attachment
            await self._sent(
                person,
                await self.channel.send_file(person.id, file.filename, file.data, file.caption),
            )
        if outcome.picture is not None:
            await self._sent(person, await send_picture(self.client, person, outcome.picture))
        for missed in await self.core.notify(outcome):
            logger.warning("通知未能送达用户 %s", missed)

    async def _say(self, person: Person, text: str) -> None:
        await self._sent(person, await send_text(self.client, person, text))

    async def _sent(self, person: Person, result: str) -> None:
        """Mark a member WeCom cannot reach (outside the app's range) as unreachable."""
        if result == "blocked" and await self.core.store.users.get(person.id) is not None:
            await self.core.store.users.set_reachable(person.id, False)
            logger.info("无法回复企业微信成员 %s：不在应用可见范围内，标记为无法送达", person.name)


async def send_text(client: WeComClient, person: Person, text: str) -> str:
    """Send a plain text (split at 2048 bytes); "blocked" when WeCom cannot reach the member."""
    user = person.id.removeprefix(PREFIX)
    for piece in split_utf8(text):
        if (await client.send_text([user], piece)).unreachable([user]):
            return "blocked"
    return "sent"


async def send_picture(client: WeComClient, person: Person, picture: Attachment) -> str:
    """Send a picture (a PNG) as an image message, after its caption as text."""
    if picture.caption.strip() and await send_text(client, person, picture.caption) != "sent":
        return "blocked"
    user = person.id.removeprefix(PREFIX)
    media_id = await client.upload_media("image", picture.filename, picture.data, "image/png")
    sent = await client.send_image([user], media_id)
    return "blocked" if sent.unreachable([user]) else "sent"


def _start_error(error: WeComError) -> ConfigError | WeComError:
    """Say which setting to check when WeCom refuses the start; other errors as they are."""
    if error.api == "gettoken" and error.errcode in _BAD_CREDENTIALS:
        name = _BAD_CREDENTIALS[error.errcode]
        return ConfigError(f"企业微信不接受 {name}（错误码 {error.errcode}）：请在管理后台核对。")
    if error.errcode == IP_NOT_ALLOWED:
        return ConfigError(
            "企业微信拒绝了本机的 IP（60020）：请在应用的“企业可信IP”中加入本机的出口 IP。"
        )
    if error.errcode is None:  # not reached at all
        cause = error.detail.removeprefix("网络错误：")
        return ConfigError(f"连接不上企业微信接口：{cause}。请检查网络和 WECOM_API_BASE_URL。")
    return error


@contextlib.asynccontextmanager
async def serving(app: WeComApp) -> AsyncIterator[web.AppRunner]:
    """Run the app's callback server on WECOM_LISTEN:WECOM_PORT while the block runs.

    The channel is registered (and the menu created) before the server listens.
    """
    settings = app.settings
    runner = runner_of(app.web_app())
    try:
        await app.start()
        await app.inbox.start()  # what was received before the last stop, in order
        await runner.setup()
        try:
            await listen(runner, settings.listen, settings.port)
        except OSError as e:
            raise ConfigError(
                f"企业微信回调服务器无法监听 {settings.listen}:{settings.port}（{e.strerror}）："
                "端口是否已被占用？请检查 WECOM_PORT 和 WECOM_LISTEN。"
            ) from e
        logger.info("企业微信回调地址：http://%s:%d/wecom", settings.listen, settings.port)
        yield runner
    finally:
        await runner.cleanup()  # accepts nothing more; the callbacks being stored are stored
        await app.inbox.drain(SHUTDOWN_GRACE)  # what is left is handled at the next start
        await app.stop()

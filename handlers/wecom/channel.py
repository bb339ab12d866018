"""The WeCom channel's sender: neutral replies to members (`wecom:UserId`) through the API.

A member WeCom reports in `invaliduser` (outside the app's visible range, or gone) is
"blocked": the caller marks them unreachable. Any other WeComError is raised for the caller to
decide, as the Telegram sender does. Members are addressed by their UserId behind the prefix.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from bot.channel import Result, Router
from bot.reply import Item, Reply
from handlers.wecom.client import MAX_RECIPIENTS, GroupRobot, SendResult, WeComClient
from handlers.wecom.render import Outgoing, render
from handlers.wecom.split import split_utf8

PREFIX = "wecom:"
ROBOT_MARKDOWN_LIMIT = 4096  # bytes of a group robot's markdown


def wecom_user(user_id: str) -> str:
    """Return the WeCom UserId of a `wecom:` user id; ValueError for another channel's id."""
    if not user_id.startswith(PREFIX) or len(user_id) == len(PREFIX):
        raise ValueError(f"不是企业微信成员：{user_id!r}")
    return user_id.removeprefix(PREFIX)


class WeComChannel:
    """Sends replies and files to members through one app's client."""

    def __init__(self, client: WeComClient, *, markdown: bool = True) -> None:
        # markdown=False sends text only: the WeChat plug-in and some 政务微信 clients show
        # "暂不支持此消息类型" for markdown.
        self._client = client
        self._markdown = markdown

    async def send(
        self, user_id: str, reply: Reply, *, page_token: str | None = None, page: int = 0
    ) -> Result:
        """Send a reply to one member; "blocked" when WeCom cannot reach them."""
        user = wecom_user(user_id)
        results = await self._deliver([user], reply, page_token, page)
        return results[user]

    async def send_many(self, user_ids: Sequence[str], reply: Reply) -> dict[str, Result]:
        """Send the same reply to many members, up to 1000 per call; a result for each."""
        users = {user_id: wecom_user(user_id) for user_id in user_ids}
        unique = list(dict.fromkeys(users.values()))
        results: dict[str, Result] = {}
        for start in range(0, len(unique), MAX_RECIPIENTS):
            chunk = unique[start : start + MAX_RECIPIENTS]
            results.update(await self._deliver(chunk, reply, None, 0))
        return {user_id: results[user] for user_id, user in users.items()}

    async def send_file(self, user_id: str, filename: str, data: bytes, caption: str) -> Result:
        """Send a file (an export, a report) after its caption, as a text message."""
        user = wecom_user(user_id)
        for piece in split_utf8(caption) if caption.strip() else []:
            if (await self._client.send_text([user], piece)).unreachable([user]):
                return "blocked"
        media_id = await self._client.upload_media("file", filename, data)
        sent = await self._client.send_file([user], media_id)
        return "blocked" if sent.unreachable([user]) else "sent"

    async def _deliver(
        self, users: list[str], reply: Reply, page_token: str | None, page: int
    ) -> dict[str, Result]:
        """Send every message of the reply to those of `users` still reachable, in order."""
        messages = render(reply, markdown=self._markdown, page_token=page_token, page=page)
        reachable = list(users)
        results: dict[str, Result] = {}
        for message in messages:
            if not reachable:
                break
            sent = await self._send(reachable, message)
            for user in sent.unreachable(reachable):
                results[user] = "blocked"
            reachable = [user for user in reachable if user not in results]
        return {user: results.get(user, "sent") for user in users}

    async def _send(self, users: list[str], message: Outgoing) -> SendResult:
        if message.card is not None:
            return await self._client.send_card(users, message.card)
        if message.msgtype == "markdown":
            return await self._client.send_markdown(users, message.content)
        return await self._client.send_text(users, message.content)


def attach_channel(router: Router, channel: WeComChannel) -> None:
    """Route `wecom:` ids through the channel: a reminder to a unit's members in one call.

    The app writes first: it reaches every member in its visible range, whether or not they
    ever wrote to it, so nobody is listed as waiting to write to the bot.
    """
    router.add(PREFIX, channel.send, send_many=channel.send_many, writes_first=True)


async def post_summary(robot: GroupRobot, reply: Reply) -> None:
    """Post a reply into the coordinators' group as markdown (≤ 4096 bytes a message).

    A robot's cards cannot call the bot back, so the buttons are left out.
    """
    text_only = dataclasses.replace(
        reply, items=tuple(Item(item.lines) for item in reply.items), buttons=()
    )
    for message in render(text_only, limit=ROBOT_MARKDOWN_LIMIT):
        await robot.send_markdown(message.content)

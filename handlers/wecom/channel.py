"""The WeCom channel's sender: neutral replies to members (`wecom:UserId`) through the API.

A member WeCom reports in `invaliduser` (outside the app's visible range, or gone) is
"blocked": the caller marks them unreachable. Any other WeComError is raised for the caller to
decide, as the Telegram sender does. Members are addressed by their UserId behind the prefix.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Awaitable, Callable, Sequence

from bot.channel import PartDone, Result, Router, Unconfirmed
from bot.reply import Item, Reply
from handlers.wecom.client import (
    DUPLICATE_WINDOW,
    MAX_RECIPIENTS,
    GroupRobot,
    SendResult,
    WeComClient,
    WeComError,
)
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

    def __init__(
        self, client: WeComClient, *, markdown: bool = True, clock: Callable[[], float] = time.time
    ) -> None:
        # markdown=False sends text only: the WeChat plug-in and some 政务微信 clients show
        # "暂不支持此消息类型" for markdown.
        self._client = client
        self._markdown = markdown
        self._clock = clock  # the wall clock, in seconds: see _task_id

    async def send(
        self, user_id: str, reply: Reply, *, page_token: str | None = None, page: int = 0
    ) -> Result:
        """Send a reply to one member; "blocked" when WeCom cannot reach them."""
        user = wecom_user(user_id)
        results = await self._deliver([user], reply, page_token, page)
        return results[user]

    async def send_parts(
        self, user_ids: Sequence[str], reply: Reply, tag: str, start: int, done: PartDone
    ) -> None:
        """Send a reply's messages from `start` to up to 1000 members, one call a message.

        Each goes with WeCom's duplicate check, and is the same request whenever the same
        part goes to the same members under the same tag (its card's task_id is made of
        them): a repeat after a lost answer, an error or a restart within the check's window
        is not shown twice. (Past the window WeCom would refuse the card's task_id as used:
        the id changes with each window, and the part goes again, the one repeat allowed.)
        """
        window = int(self._clock() // DUPLICATE_WINDOW)
        users = {wecom_user(user_id): user_id for user_id in user_ids}
        if not 1 <= len(users) <= MAX_RECIPIENTS:
            raise ValueError(f"一次须发给 1–{MAX_RECIPIENTS} 人")
        reachable = list(users)
        messages = render(reply, markdown=self._markdown)
        for part, message in enumerate(messages[start:], start):
            if not reachable:
                break
            card = message.card
            if card is not None:
                card = {**card, "task_id": _task_id(f"{tag}@{window}", part, reachable)}
            sent = await self._send(reachable, dataclasses.replace(message, card=card), True)
            blocked = set(sent.unreachable(reachable))
            results: dict[str, Result] = {
                users[u]: "blocked" if u in blocked else "sent" for u in reachable
            }
            reachable = [u for u in reachable if u not in blocked]
            await done(part, results)

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

    async def _send(
        self, users: list[str], message: Outgoing, checked: bool = False
    ) -> SendResult:
        if message.card is not None:
            return await self._client.send_card(users, message.card, checked=checked)
        if message.msgtype == "markdown":
            return await self._client.send_markdown(users, message.content, checked=checked)
        return await self._client.send_text(users, message.content, checked=checked)


def _task_id(tag: str, part: int, users: Sequence[str]) -> str:
    """Return the task_id of a card part: the same for the same delivery, part and members."""
    digest = hashlib.sha256(f"{tag}\n{part}\n{'|'.join(users)}".encode()).hexdigest()
    return f"fgr-{digest[:32]}"


def attach_channel(router: Router, channel: WeComChannel) -> None:
    """Route `wecom:` ids through the channel: a reminder to a unit's members in one call.

    The app writes first: it reaches every member in its visible range, whether or not they
    ever wrote to it, so nobody is listed as waiting to write to the bot.
    """
    router.add(
        PREFIX,
        channel.send,
        send_parts=channel.send_parts,
        many=MAX_RECIPIENTS,
        writes_first=True,
    )


async def post_summary(
    robot: GroupRobot,
    reply: Reply,
    start: int = 0,
    done: Callable[[int], Awaitable[None]] | None = None,
) -> None:
    """Post a reply into the coordinators' group as markdown (≤ 4096 bytes a message).

    A robot's cards cannot call the bot back, so the buttons are left out. From message
    `start` on, awaiting `done(i)` after each. A robot has no duplicate check: a post that got
    no answer may be in the group, and is not posted again (Unconfirmed).
    """
    text_only = dataclasses.replace(
        reply, items=tuple(Item(item.lines) for item in reply.items), buttons=()
    )
    messages = render(text_only, limit=ROBOT_MARKDOWN_LIMIT)
    for part, message in enumerate(messages[start:], start):
        try:
            await robot.send_markdown(message.content)
        except WeComError as e:
            if e.unknown:
                raise Unconfirmed(part, str(e)) from None
            raise
        if done is not None:
            await done(part)

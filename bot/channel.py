"""What a chat channel tells the core: its limits, and how to reach its users (the Router).

Each adapter registers its channel once at start (`core.router.add(...)`): the prefix of its
users' ids (`tg` for `tg:123`, `wecom` for `wecom:ZhangSan`), how to send them a reply, and
optionally how to send a reply part by part (to many at once, where it can), how to turn an
invite code into a link, and whether it may write first to someone who never wrote to the bot.

A reply a channel shows as several messages (pages, a text then a card of buttons) is sent
part by part by the reminders: each part is recorded as soon as the channel accepted it, so a
crash or an error repeats at most the part in flight, never the parts that went before.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.reply import Reply

logger = logging.getLogger(__name__)

Result = Literal["sent", "blocked", "failed"]
# Sends one reply to one user: "blocked" when the channel refuses them (blocked the bot, out of
# the app's range), "failed" when they cannot be reached. Waits out flood limits, never drops.
Send = Callable[[str, Reply], Awaitable[Result]]
# Told after each part a channel delivered: the part's index and each recipient's result
# ("sent"; "blocked" or "failed": that recipient gets no later part).
PartDone = Callable[[int, dict[str, Result]], Awaitable[None]]
# Sends the parts of a reply from part `start` on to its users (all of them in each call, where
# the channel sends to many), awaiting `done` after each. `tag` names the delivery: the same tag,
# recipients and part make the same message, so a channel that detects repeats (WeCom's
# duplicate check) can send a part again whose outcome it could not learn.
SendParts = Callable[[Sequence[str], Reply, str, int, PartDone], Awaitable[None]]
Measure = Literal["chars", "utf16", "utf8"]
Markup = Literal["html", "markdown", "plain"]


class Unconfirmed(Exception):
    """A part may or may not have reached its recipients (no answer came), and the channel
    cannot send it again without risking a duplicate: the caller counts it as delivered."""

    def __init__(self, part: int, detail: str) -> None:
        super().__init__(detail)
        self.part = part


@dataclass(frozen=True)
class Limits:
    """A channel's message limits, which the core's pagination honours."""

    size: int  # how much one message may hold, counted as `measure` says
    measure: Measure
    buttons: int  # buttons one message may carry, page buttons included
    per_row: int  # buttons side by side
    markup: Markup
    page_buttons: int = 3  # buttons the channel adds to turn pages (‹ n/N ›)

    def item_buttons(self, fixed: int) -> int:
        """Return how many items' buttons a page may carry besides `fixed` others."""
        # At least one, so that a page always moves forward.
        return max(1, self.buttons - self.page_buttons - fixed)


def prefix_of(user_id: str) -> str:
    """Return the channel part of a user id: `tg` of `tg:123`, `console` of `console`."""
    return user_id.partition(":")[0]


@dataclass(frozen=True)
class _Outlet:
    send: Send
    send_parts: SendParts | None
    many: int  # recipients one call of send_parts may hold (1: one at a time)
    invite_link: Callable[[str], str] | None
    writes_first: bool


class Router:
    """Sends each outgoing message through the channel its recipient's id names.

    An id of a channel that is not running is "failed" (logged): a reminder run goes past it.
    A channel's own errors are raised, for the caller to decide when to try again.
    """

    def __init__(self) -> None:
        self._outlets: dict[str, _Outlet] = {}

    def add(
        self,
        prefix: str,
        send: Send,
        *,
        send_parts: SendParts | None = None,
        many: int = 1,
        invite_link: Callable[[str], str] | None = None,
        writes_first: bool = False,
    ) -> None:
        """Register a running channel by the prefix of its users' ids (`tg` or `tg:`).

        `send_parts`: sends a reply part by part (see SendParts), to up to `many` users a
        call. `writes_first`: the channel reaches anyone in its range, whether or not they ever
        wrote to the bot (an organisation's app); otherwise a user must write first.
        """
        self._outlets[prefix.removesuffix(":")] = _Outlet(
            send, send_parts, max(1, many), invite_link, writes_first
        )

    def remove(self, prefix: str) -> None:
        """Forget a channel that stopped."""
        self._outlets.pop(prefix.removesuffix(":"), None)

    @property
    def channels(self) -> tuple[str, ...]:
        """Return the prefixes of the running channels."""
        return tuple(self._outlets)

    def invite_link(self, user_id: str) -> Callable[[str], str] | None:
        """Return the link builder of the user's channel, if it has links for invite codes."""
        outlet = self._outlets.get(prefix_of(user_id))
        return outlet.invite_link if outlet else None

    def writes_first(self, user_id: str) -> bool:
        """Tell whether the user's channel can write to them though they never wrote."""
        outlet = self._outlets.get(prefix_of(user_id))
        return outlet is not None and outlet.writes_first

    async def __call__(self, user_id: str, reply: Reply) -> Result:
        """Send a reply to one user on their channel."""
        outlet = self._outlets.get(prefix_of(user_id))
        if outlet is None:
            logger.warning("用户 %s 所在的渠道未运行，消息未发送", user_id)
            return "failed"
        return await outlet.send(user_id, reply)

    def batches(self, user_ids: Sequence[str]) -> list[list[str]]:
        """Group users into calls: many at once where their channel can, else one each."""
        many: dict[str, list[str]] = {}
        single: list[list[str]] = []
        for user_id in user_ids:
            outlet = self._outlets.get(prefix_of(user_id))
            if outlet is not None and outlet.many > 1:
                many.setdefault(prefix_of(user_id), []).append(user_id)
            else:
                single.append([user_id])
        out: list[list[str]] = []
        for prefix, users in many.items():
            size = self._outlets[prefix].many
            out.extend(users[i : i + size] for i in range(0, len(users), size))
        return [*out, *single]

    async def send_parts(
        self, user_ids: Sequence[str], reply: Reply, tag: str, start: int, done: PartDone
    ) -> None:
        """Send a reply part by part to users of one channel (a batch of `batches`).

        A channel without parts sends the whole reply as its one part.
        """
        prefixes = {prefix_of(u) for u in user_ids}
        outlet = self._outlets.get(prefixes.pop()) if len(prefixes) == 1 else None
        if len(user_ids) > (outlet.many if outlet else 1):
            raise ValueError("send_parts needs a batch of users of one channel (see batches)")
        if outlet is not None and outlet.send_parts is not None:
            await outlet.send_parts(user_ids, reply, tag, start, done)
        elif start == 0:
            await done(0, {user_ids[0]: await self(user_ids[0], reply)})

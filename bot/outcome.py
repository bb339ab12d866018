"""What an action yields, whatever the channel: the person acting, the reply, notices, files."""

from __future__ import annotations

from dataclasses import dataclass

from bot.charset import display_name
from bot.reply import Button, Line, Reply, line


@dataclass(frozen=True)
class Person:
    """Whoever is talking to the bot, as the channel identifies them."""

    id: str
    name: str
    private: bool = True

    def __post_init__(self) -> None:
        # A display name is kept (members, audit trail, files): never with a lone surrogate,
        # an RLO that shows the rest of a line reversed, or a terminal's escape sequence.
        object.__setattr__(self, "name", display_name(self.name))


@dataclass(frozen=True)
class Notice:
    """A message for someone other than the person acting.

    `key` is the id of the stored notice it delivers (None: not recorded, e.g. a request card);
    a stored notice is sent by `Membership.send_notices`, which marks it once it went.
    """

    to: str
    reply: Reply
    key: int | None = None




@dataclass(frozen=True)
class Attachment:
    """A file to send with the reply."""

    filename: str
    data: bytes
    caption: str = ""


@dataclass(frozen=True)
class Outcome:
    """The result of an action: a reply to the actor, notices to others, maybe a file, a picture.

    `replace` asks the channel to show the reply in place of the message whose button was
    pressed (an approval card turning into its decision), rather than as a new message.
    """

    reply: Reply
    notices: tuple[Notice, ...] = ()
    attachment: Attachment | None = None
    replace: bool = False
    picture: Attachment | None = None  # a PNG a channel shows as an image


def number(text: str) -> int | None:
    """Return a decimal number from a command or button, or None for anything else."""
    # isdecimal, not isdigit: int() rejects digits such as "²"; and SQLite integers are 64-bit.
    return int(text) if text.isdecimal() and len(text) <= 18 else None


def say(*lines: Line | str, buttons: tuple[tuple[Button, ...], ...] = ()) -> Outcome:
    """Return an outcome that is just a short reply."""
    body = tuple(line(ln) if isinstance(ln, str) else ln for ln in lines)
    return Outcome(Reply(header=body, buttons=buttons))


NOT_MEMBER = (
    "只有已绑定单位的成员可以报送和查看进展。"
    "请发送「/bind 本单位名称」申请绑定（全称、简称都可以）。"
)
NOT_COORDINATOR = "只有协调人（负责汇总进展的办公室）可以使用这个功能。"

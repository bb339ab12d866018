"""The store's errors: each carries a Chinese `message` fit to show the user."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

if TYPE_CHECKING:
    from bot.store.membership import BindRequest

InviteProblem = Literal["unknown", "used", "expired"]


class StoreError(Exception):
    """A database operation was refused; `message` is Chinese and fit to show the user."""

    default_message: ClassVar[str] = "数据操作失败，请稍后再试。"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class SchemaTooNew(StoreError):
    """The database was written by a newer version of the bot than this one."""

    def __init__(self, found: int, known: int) -> None:
        self.found = found
        self.known = known
        super().__init__(
            f"数据库版本（{found}）比本程序支持的版本（{known}）新，请升级程序后再启动。"
        )


class NotFound(StoreError):
    """The record does not exist (or was deleted)."""

    default_message = "找不到这条记录，它可能已被删除。"


class TooSoon(StoreError):
    """A person asks for another unit too soon after their pending request (`pending`)."""

    default_message = "申请过于频繁，请稍后再试。"

    def __init__(self, pending: BindRequest) -> None:
        self.pending = pending
        super().__init__()


class AlreadyDecided(StoreError):
    """The bind request is no longer pending; `request` is its current state."""

    default_message = "这条绑定申请已经处理过了。"

    def __init__(self, request: BindRequest) -> None:
        self.request = request
        super().__init__()


class InviteInvalid(StoreError):
    """The invite code cannot be used; `reason` says why."""

    messages: ClassVar[dict[InviteProblem, str]] = {
        "unknown": "邀请码无效，请向协调人索取新的邀请链接。",
        "used": "这个邀请码已经被使用过了，请向协调人索取新的邀请链接。",
        "expired": "这个邀请码已过期，请向协调人索取新的邀请链接。",
    }

    def __init__(self, reason: InviteProblem) -> None:
        self.reason: InviteProblem = reason
        super().__init__(self.messages[reason])


class NotAuthor(StoreError):
    """Only the author of a note may change or delete it."""

    default_message = "只有填写人本人可以修改或删除这条记录。"


class Changed(StoreError):
    """The note's text is no longer the version a confirmation or an edit was started on."""

    default_message = "这条记录已被修改。"

"""Neutral replies as Telegram HTML messages: the one place where text is escaped for Telegram."""

from __future__ import annotations

import html
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton

from bot.channel import Limits
from bot.reply import Item, Line, Page, Reply, Style, paginate

MESSAGE_LIMIT = 4096
# Telegram's own limits: 4096 UTF-16 units of text, up to 100 inline buttons; rows of 4 keep
# labels readable on a phone.
LIMITS = Limits(MESSAGE_LIMIT, "utf16", 100, 4, "html")
CALLBACK_LIMIT = 64  # bytes of callback_data Telegram accepts
PAGE_ACTION = "pg"  # pg:<token>:<page>
NOOP_ACTION = "noop"

_TAGS: dict[Style, tuple[str, str]] = {
    "plain": ("", ""),
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "code": ("<code>", "</code>"),
    "quote": ("<blockquote>", "</blockquote>"),
}


def to_html(lines: Sequence[Line]) -> str:
    """Render lines as Telegram HTML, escaping every text."""
    out = []
    for ln in lines:
        parts = []
        for span in ln:
            start, end = _TAGS[span.style]
            parts.append(f"{start}{html.escape(span.text, quote=False)}{end}")
        out.append("".join(parts))
    return "\n".join(out)


def size(lines: Sequence[Line]) -> int:
    """Count a message as Telegram does at most: UTF-16 units of the whole HTML source."""
    return len(to_html(lines).encode("utf-16-le")) // 2


Button = dict[str, str]  # an inline button as sent: {"text": …, "callback_data": …}


@dataclass(frozen=True)
class Shown:
    """A page as Telegram shows it: its HTML and its own buttons, rendered once."""

    page: Page
    html: str
    rows: tuple[tuple[InlineKeyboardButton, ...], ...]
    # The same buttons as sent: plain values, not turned into objects and back for every
    # message (handlers/telegram/api.py).
    _sent: tuple[list[Button], ...]

    @classmethod
    def of(cls, page: Page) -> Shown:
        """Render a page (every text escaped; callback data checked against Telegram's limit)."""
        rows = tuple(
            tuple(InlineKeyboardButton(b.label, callback_data=_checked(b.action)) for b in row)
            for row in page.buttons
            if row
        )
        sent = tuple([_button(b.text, str(b.callback_data)) for b in row] for row in rows)
        return cls(page, to_html(page.lines), rows, sent)

    def keyboard(self, token: str | None) -> dict[str, Any] | None:
        """Return the reply_markup to send: the buttons, plus ‹ 上一页 · n/N · 下一页 › under a
        token of several pages (None: no buttons)."""
        page = self.page
        if page.count == 1 or not token:
            return {"inline_keyboard": self._sent} if self._sent else None
        nav = []
        if page.index > 0:
            nav.append(_nav("‹ 上一页", token, page.index - 1))
        nav.append(_button(f"{page.index + 1}/{page.count}", NOOP_ACTION))
        if page.index < page.count - 1:
            nav.append(_nav("下一页 ›", token, page.index + 1))
        return {"inline_keyboard": (*self._sent, nav)}


# The pages of recent replies, by reply object: a reply the core hands out again (the
# assistant's recent questions) is not paginated or rendered again. Replies are immutable.
_recent_pages: OrderedDict[int, tuple[Reply, list[Shown]]] = OrderedDict()
RECENT_PAGES = 1024


def pages(reply: Reply) -> list[Shown]:
    """Split a reply into Telegram-sized pages, rendered (remembered for recent replies)."""
    hit = _recent_pages.get(id(reply))
    if hit is not None and hit[0] is reply:
        _recent_pages.move_to_end(id(reply))
        return hit[1]
    result = [Shown.of(page) for page in _paginate(reply)]
    _recent_pages[id(reply)] = (reply, result)
    if len(_recent_pages) > RECENT_PAGES:
        _recent_pages.popitem(last=False)
    return result


def _paginate(reply: Reply) -> list[Page]:
    # paginate() repeats the header and footer whole on every page and splits items to fit
    # around them: pages stay within the limit as long as those leave room for some text.
    if size((*reply.header, *reply.footer)) <= MESSAGE_LIMIT // 2:
        return _paged(reply)
    # A header or footer that long (say, the core echoing a very long argument) is paged like
    # an item instead.
    head = (Item(reply.header),) if reply.header else ()
    foot = (Item(reply.footer),) if reply.footer else ()
    items = (*head, *reply.items, *foot)
    return _paged(Reply(items=items, buttons=reply.buttons, per_page=reply.per_page))


def _paged(reply: Reply) -> list[Page]:
    fixed = sum(len(row) for row in reply.buttons)
    return paginate(
        reply,
        size,
        LIMITS.size,
        per_row=LIMITS.per_row,
        item_buttons=LIMITS.item_buttons(fixed),
    )


def _checked(action: str) -> str:
    if len(action.encode()) > CALLBACK_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_LIMIT} bytes: {action!r}")
    return action


def _button(label: str, action: str) -> Button:
    return {"text": label, "callback_data": action}


def _nav(label: str, token: str, index: int) -> Button:
    return _button(label, _checked(f"{PAGE_ACTION}:{token}:{index}"))

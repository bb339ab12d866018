"""Neutral replies as WeCom messages: the one place where text is escaped for WeCom.

A `Reply` becomes markdown messages (or text messages, for clients that do not render markdown:
the WeChat plug-in, 微工作台, some 政务微信 clients) of at most 2048 UTF-8 bytes each, followed by
button_interaction cards of at most 6 buttons. Nothing is cut off: a long reply is paginated,
and a page still too long is split on UTF-8 boundaries as a last resort.

WeCom documents no escape for its markdown subset, and whether its clients decode numeric
character references is not documented either: so as few are written as the markup needs. What
a member must copy (an invite code, a command) goes in a code span, which shows any text without
a backtick literally. Elsewhere a character that would be markup in WeCom's subset (`*` bold,
`` ` `` code, `[]` links, `<font>`, and `#` or `>` only at a line's start) is written as a numeric
reference (`*` → `&#42;`), as is a `&` that would start one; `_` and `~` are not markup there
(no italics, no strike-through; CommonMark ignores an underscore inside a word anyway). Text
messages (WECOM_MARKDOWN=0) render one tag, <a href>, so there every "<" is followed by a
zero-width space.

A button's key is its neutral action: the core's actions are short (they fit Telegram's 64
bytes), far under WeCom's 1024, so no token map is needed; a longer one is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot.channel import Limits
from bot.reply import Button, Item, Line, Page, Reply, paginate
from handlers.wecom.cards import MAX_BUTTONS, button_card, new_task_id
from handlers.wecom.cards import Button as CardButton
from handlers.wecom.split import TEXT_LIMIT, split_utf8

KEY_LIMIT = 1024  # bytes of a card button's key
LABEL_LIMIT = 10  # characters WeCom shows on a card button
TITLE_LIMIT = 36  # characters of a card's main title
SUB_TITLE_LIMIT = 160
PAGE_ACTION = "pg"  # pg:<token>:<page>

# One card holds 6 buttons, two of them 上一页/下一页 on a paged reply.
LIMITS = Limits(TEXT_LIMIT, "utf8", MAX_BUTTONS, MAX_BUTTONS, "markdown", page_buttons=2)

MsgType = Literal["markdown", "text", "template_card"]

# Characters that are markup anywhere in a line of WeCom's subset (bold, code, links, <font>),
# and the backslash that would start a CommonMark escape.
_SPECIAL = frozenset("\\*`[]<")
_ESCAPES = {ord(c): f"&#{ord(c)};" for c in _SPECIAL}
# A heading or a quote at a line's start, and an "&" that would start a reference.
_AT_START = re.compile(r"(^|\n)([ \t]*)([#>])")
_REFERENCE = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
# A text message is no markup, except that WeCom shows <a href="…">…</a> in it as a link: a
# zero-width space after every "<" opens no tag, and the text still reads (and copies) as typed.
# References are not decoded in text messages, so `escape` cannot serve.
_TAG_OPENERS = {ord("<"): "<\u200b"}


@dataclass(frozen=True)
class Outgoing:
    """One WeCom message: markdown or text `content`, or a template `card`."""

    msgtype: MsgType
    content: str = ""
    card: Mapping[str, Any] | None = None


def escape(text: str, line_start: bool = True) -> str:
    """Escape `text` for WeCom markdown: each character that would be markup as a numeric
    reference (`line_start`: the text begins a line, where `#` and `>` are markup)."""
    text = _REFERENCE.sub("&#38;", text).translate(_ESCAPES)
    return _AT_START.sub(
        lambda m: m[1] + m[2] + (f"&#{ord(m[3])};" if m[1] or line_start else m[3]), text
    )


def to_markdown(lines: Sequence[Line]) -> str:
    """Render lines as WeCom markdown, escaping every text."""
    return "\n".join(_markdown_line(ln) for ln in lines)


def to_text(lines: Sequence[Line]) -> str:
    """Render lines as a text message: no styles, and no "<" that could open a link."""
    return "\n".join("".join(span.text for span in ln) for ln in lines).translate(_TAG_OPENERS)


def _markdown_line(ln: Line) -> str:
    parts: list[str] = []
    for i, span in enumerate(ln):
        text = escape(span.text, line_start=i == 0 or not parts or parts[-1].endswith("\n"))
        if span.style == "bold":
            parts.append(_each_line(escape(span.text, line_start=False), "**{}**"))
        elif span.style == "code" and "`" not in span.text and "\n" not in span.text:
            # Shown as typed, so that what a member copies is the code or command itself.
            parts.append(f"`{span.text}`" if span.text.strip() else span.text)
        elif span.style == "quote" and i == 0:
            parts.append(_each_line(text, "> {}"))
        else:
            # WeCom has no italics; a code span or quote that cannot be one stays plain.
            parts.append(text)
    return "".join(parts)


def _each_line(text: str, markup: str) -> str:
    """Apply `markup` to each non-blank line of a span (markdown styles end at a line break)."""
    return "\n".join(markup.format(part) if part.strip() else part for part in text.split("\n"))


def byte_size(markdown: bool) -> Callable[[Sequence[Line]], int]:
    """Return the size function for paginate: UTF-8 bytes of the rendering."""
    render = to_markdown if markdown else to_text
    return lambda lines: len(render(lines).encode())


def render(
    reply: Reply,
    *,
    markdown: bool = True,
    page_token: str | None = None,
    page: int = 0,
    task_id: Callable[[], str] | None = None,
    limit: int = TEXT_LIMIT,
) -> list[Outgoing]:
    """Render a reply as the WeCom messages to send, in order.

    Without `page_token` every page is sent, one after the other. With it, a reply of several
    pages sends only page `page` (clamped), with 上一页/下一页 buttons carrying
    "pg:<page_token>:<n>" for the caller to answer. `limit`: bytes a message may hold (4096
    for a group robot's markdown).
    """
    pages = _paginate(reply, markdown, limit)
    new_id = task_id or _task_id
    if page_token and len(pages) > 1:
        shown = pages[min(max(page, 0), len(pages) - 1)]
        return _page(shown, markdown, limit, new_id, _nav(shown, page_token))
    return [out for p in pages for out in _page(p, markdown, limit, new_id, ())]


def page_count(reply: Reply, *, markdown: bool = True) -> int:
    """Return how many pages `render` makes of a reply (more than one: worth a page token)."""
    return len(_paginate(reply, markdown, TEXT_LIMIT))


def _paginate(reply: Reply, markdown: bool, limit: int) -> list[Page]:
    size = byte_size(markdown)
    fixed = sum(len(row) for row in reply.buttons)
    per_row, item_buttons = LIMITS.per_row, LIMITS.item_buttons(fixed)
    if size((*reply.header, *reply.footer)) <= limit // 2:
        return paginate(reply, size, limit, per_row=per_row, item_buttons=item_buttons)
    # A header or footer that long is paged like an item instead of repeated on every page.
    head = (Item(reply.header),) if reply.header else ()
    foot = (Item(reply.footer),) if reply.footer else ()
    items = (*head, *reply.items, *foot)
    flat = Reply(items=items, buttons=reply.buttons, per_page=reply.per_page)
    return paginate(flat, size, limit, per_row=per_row, item_buttons=item_buttons)


def _page(
    page: Page, markdown: bool, limit: int, new_id: Callable[[], str], nav: Sequence[Button]
) -> list[Outgoing]:
    body = to_markdown(page.lines) if markdown else to_text(page.lines)
    marker = f"（第 {page.index + 1}/{page.count} 页）" if page.count > 1 else ""
    if marker:
        body = f"{body}\n\n{marker}" if body else marker
    kind: MsgType = "markdown" if markdown else "text"
    # paginate keeps each page within the limit; split_utf8 only guards the unforeseen.
    out = [Outgoing(kind, piece) for piece in split_utf8(body, limit) if piece.strip()]
    buttons = _unique([b for row in page.buttons for b in row] + list(nav))
    chunks = [buttons[i : i + MAX_BUTTONS] for i in range(0, len(buttons), MAX_BUTTONS)]
    for n, chunk in enumerate(chunks):
        title = "请选择" + ("（续）" if n else "") + (f" {marker}" if marker else "")
        out.append(Outgoing("template_card", card=_card(title[:TITLE_LIMIT], chunk, new_id())))
    return out


def _card(title: str, buttons: Sequence[Button], task_id: str) -> dict[str, Any]:
    shortened = [b.label for b in buttons if len(b.label) > LABEL_LIMIT]
    sub_title = "；".join(shortened)
    if len(sub_title) > SUB_TITLE_LIMIT:
        sub_title = sub_title[: SUB_TITLE_LIMIT - 1] + "…"
    return button_card(
        title,
        [CardButton(_label(b.label), _key(b.action)) for b in buttons],
        task_id=task_id,
        sub_title=sub_title,
    )


def _label(label: str) -> str:
    # The full label is in the card's sub-title; the button shows its start.
    return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1] + "…"


def _key(action: str) -> str:
    if not action or len(action.encode()) > KEY_LIMIT:
        raise ValueError(f"按钮的 action 须为 1–{KEY_LIMIT} 字节：{action[:40]!r}")
    return action


def _unique(buttons: Sequence[Button]) -> list[Button]:
    # WeCom refuses a card whose keys repeat; the same action twice is one button.
    seen: set[str] = set()
    result = []
    for b in buttons:
        if b.action not in seen:
            seen.add(b.action)
            result.append(b)
    return result


def _nav(page: Page, token: str) -> tuple[Button, ...]:
    nav = []
    if page.index > 0:
        nav.append(Button("上一页", f"{PAGE_ACTION}:{token}:{page.index - 1}"))
    if page.index < page.count - 1:
        nav.append(Button("下一页", f"{PAGE_ACTION}:{token}:{page.index + 1}"))
    return tuple(nav)


def _task_id() -> str:
    return new_task_id("fg")

"""Channel-neutral replies: styled text, buttons and pagination, with no markup of any channel.

The core builds a `Reply`; each channel adapter renders its lines (escaping every text there)
and turns its buttons into whatever the channel offers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.grapheme import cut_near

Style = Literal["plain", "bold", "italic", "code", "quote"]


@dataclass(frozen=True)
class Span:
    """A piece of text in one style; the renderer escapes it."""

    text: str
    style: Style = "plain"


Line = tuple[Span, ...]


def line(*parts: str | Span) -> Line:
    """Build a line from plain strings and spans."""
    return tuple(p if isinstance(p, Span) else Span(p) for p in parts)


def bold(text: str) -> Span:
    """Return a bold span."""
    return Span(text, "bold")


@dataclass(frozen=True)
class Button:
    """A button: its label, and the neutral action it triggers (a short string such as "m:7.2")."""

    label: str
    action: str


@dataclass(frozen=True)
class Item:
    """One entry of a list (e.g. a measure), kept whole on one page with its buttons."""

    lines: tuple[Line, ...]
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Reply:
    """A whole answer: a header on every page, items to paginate, buttons under every page."""

    header: tuple[Line, ...] = ()
    items: tuple[Item, ...] = ()
    footer: tuple[Line, ...] = ()
    buttons: tuple[tuple[Button, ...], ...] = ()
    # Items per page at most; the channel's size limit may make pages shorter.
    per_page: int = 8


@dataclass(frozen=True)
class Page:
    """One message's worth of a reply."""

    lines: tuple[Line, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()
    index: int = 0
    count: int = 1


def text_of(lines: Sequence[Line]) -> str:
    """Return the lines as plain text (no styling)."""
    return "\n".join("".join(s.text for s in ln) for ln in lines)


def _split_item(item: Item, fits: Callable[[Item], bool]) -> list[Item]:
    """Split an item too large for one page into consecutive pieces that fit."""
    pieces: list[Item] = []
    current: list[Line] = []
    for ln in item.lines:
        for span_line in _split_line(ln, fits):
            if current and not fits(Item((*current, span_line))):
                pieces.append(Item(tuple(current)))
                current = []
            current.append(span_line)
    if current:
        pieces.append(Item(tuple(current)))
    return [*pieces[:-1], Item(pieces[-1].lines, item.buttons)] if pieces else [item]


def _split_line(ln: Line, fits: Callable[[Item], bool]) -> list[Line]:
    if fits(Item((ln,))):
        return [ln]
    # Halve the longest span until every piece fits: a line is never lost, only wrapped.
    spans = list(ln)
    longest = max(range(len(spans)), key=lambda i: len(spans[i].text))
    text = spans[longest].text
    # Halved between clusters: a keycap, flag or family emoji is never split across pages.
    cut = cut_near(text, len(text) // 2)
    if not cut:
        if len(spans) == 1:
            return [ln]
        # Many one-character spans: split between spans instead.
        half = len(spans) // 2
        return _split_line(ln[:half], fits) + _split_line(ln[half:], fits)
    left = (*spans[:longest], Span(text[:cut], spans[longest].style))
    right = (Span(text[cut:], spans[longest].style), *spans[longest + 1 :])
    return _split_line(left, fits) + _split_line(right, fits)


def paginate(
    reply: Reply,
    size: Callable[[Sequence[Line]], int],
    limit: int,
    *,
    per_row: int = 4,
    item_buttons: int | None = None,
) -> list[Page]:
    """Split a reply into pages whose rendered size (by `size`) stays within `limit`.

    A page carries at most `item_buttons` of its items' buttons (a channel's limit: see
    `bot.channel.Limits`), laid out `per_row` side by side.

    `size` must add up over lines joined by newlines, as every renderer here does:
    size(lines) == sum of size((line,)) + one per line break, so that each item is measured
    on its own rather than every candidate page as a whole.
    Room is kept on every page for a page marker the channel may add, so `limit` is a
    hard bound for header + items + footer as rendered.
    """
    room = limit - 40

    def cost(lines: Sequence[Line]) -> int:
        # Each line and the line break before it.
        return sum(size((ln,)) + 1 for ln in lines)

    fixed = cost(reply.header) + (cost(((), *reply.footer)) if reply.footer else 0) - 1

    def fits_alone(item: Item) -> bool:
        return fixed + cost(((), *item.lines)) <= room

    items: list[Item] = []
    for item in reply.items:
        items.extend([item] if fits_alone(item) else _split_item(item, fits_alone))
    chunks: list[list[Item]] = [[]]
    used, buttons = fixed, 0
    for item in items:
        extra = cost(((), *item.lines))
        crowded = item_buttons is not None and buttons + len(item.buttons) > item_buttons
        if chunks[-1] and (len(chunks[-1]) >= reply.per_page or used + extra > room or crowded):
            chunks.append([])
            used, buttons = fixed, 0
        chunks[-1].append(item)
        used += extra
        buttons += len(item.buttons)
    pages = []
    for index, chunk in enumerate(chunks):
        body = [ln for it in chunk for ln in ((), *it.lines)]
        lines = (*reply.header, *body, *(((), *reply.footer) if reply.footer else ()))
        shown = [b for it in chunk for b in it.buttons]
        rows = [tuple(shown[i : i + per_row]) for i in range(0, len(shown), per_row)]
        pages.append(Page(lines, (*rows, *reply.buttons), index=index, count=len(chunks)))
    return pages


def all_buttons(reply: Reply) -> list[Button]:
    """Return every button of a reply, items' first."""
    return [b for it in reply.items for b in it.buttons] + [b for r in reply.buttons for b in r]


def render_plain(reply: Reply, numbered: bool = False, start: int = 1) -> str:
    """Render a whole reply as plain text on one page, buttons listed by label (and number).

    `start`: the first button's number, when buttons of an earlier reply on the page came first.
    """
    body = [*reply.header]
    for item in reply.items:
        body += [(), *item.lines]
    if reply.footer:
        body += [(), *reply.footer]
    buttons = all_buttons(reply)
    if numbered:
        labels = "  ".join(f"{n} [{b.label}]" for n, b in enumerate(buttons, start=start))
        return text_of(body) + (f"\n可输入编号或按钮文字：{labels}" if labels else "")
    labels = "  ".join(f"[{b.label}]" for b in buttons)
    return text_of(body) + (f"\n可输入：{labels}" if labels else "")

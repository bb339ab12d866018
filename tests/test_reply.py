"""Channel-neutral replies: pagination within a size limit, and plain rendering."""

from __future__ import annotations

import html
import random
from collections.abc import Callable, Sequence

import pytest

from bot.reply import (
    Button,
    Item,
    Line,
    Page,
    Reply,
    Span,
    Style,
    all_buttons,
    bold,
    line,
    paginate,
    render_plain,
    text_of,
)

Size = Callable[[Sequence[Line]], int]
STYLES: tuple[Style, ...] = ("plain", "bold", "italic", "code", "quote")
_TAGS = {"plain": 0, "bold": 7, "italic": 7, "code": 13, "quote": 25}


def plain_size(lines: Sequence[Line]) -> int:
    return len(text_of(lines))


def markup_size(lines: Sequence[Line]) -> int:
    """Size as a markup channel counts it: tags and escapes cost characters too."""
    spans = sum(_TAGS[s.style] + len(html.escape(s.text, quote=False)) for ln in lines for s in ln)
    return spans + max(len(lines) - 1, 0)


SIZES = pytest.mark.parametrize("size", [plain_size, markup_size], ids=["plain", "markup"])

HEADER = (line(bold("标题"), "：说明文字"), line("第二行 <&>"))


def body_text(page: Page, header: tuple[Line, ...] = HEADER) -> str:
    """The page's text after the header, without line breaks."""
    return "".join(s.text for ln in page.lines[len(header) :] for s in ln)


def item_text(item: Item) -> str:
    return "".join(s.text for ln in item.lines for s in ln)


def check_pages(reply: Reply, pages: list[Page], size: Size, limit: int) -> None:
    """The invariants every pagination must keep."""
    assert pages
    for index, page in enumerate(pages):
        assert size(page.lines) <= limit, (index, size(page.lines))
        assert page.lines[: len(reply.header)] == reply.header
        assert page.index == index
        assert page.count == len(pages)
        if reply.footer:
            assert page.lines[-len(reply.footer) :] == reply.footer
        # Shared buttons on every page, after the items' own.
        assert page.buttons[len(page.buttons) - len(reply.buttons) :] == reply.buttons
        for row in page.buttons[: len(page.buttons) - len(reply.buttons)]:
            assert 1 <= len(row) <= 4
    # Nothing lost, nothing duplicated, order kept.
    footer_len = sum(len(s.text) for ln in reply.footer for s in ln)
    body = "".join(
        body_text(p, reply.header)[: len(body_text(p, reply.header)) - footer_len] for p in pages
    )
    assert body == "".join(item_text(it) for it in reply.items)
    # Every item button appears exactly once, in item order.
    own_rows = [p.buttons[: len(p.buttons) - len(reply.buttons)] for p in pages]
    shown = [b for rows in own_rows for row in rows for b in row]
    assert shown == [b for it in reply.items for b in it.buttons]


def random_text(rng: random.Random, n: int) -> str:
    alphabet = "残疾人就业创业服务培训岗位<>&\"' abcXYZ0123456789，。；、😀"
    return "".join(rng.choice(alphabet) for _ in range(n))


def random_item(rng: random.Random, index: int, huge: bool) -> Item:
    lines: list[Line] = [line(bold(f"#{index}#"), " ", random_text(rng, rng.randint(0, 30)))]
    for _ in range(rng.randint(0, 4)):
        length = rng.choice([0, 1, 5, 40, 200]) if not huge else rng.choice([500, 3000, 9000])
        spans = tuple(
            Span(random_text(rng, max(length // 3, 1)), rng.choice(STYLES))
            for _ in range(rng.randint(1, 3))
        )
        lines.append(spans)
    buttons = tuple(Button(f"{index}-{k}", f"a:{index}:{k}") for k in range(rng.randint(0, 2)))
    return Item(tuple(lines), buttons)


@SIZES
@pytest.mark.parametrize("seed", range(40))
def test_random_replies_fit_the_limit(size: Size, seed: int) -> None:
    rng = random.Random(seed)
    count = rng.randint(0, 30)
    items = tuple(random_item(rng, i, huge=rng.random() < 0.15) for i in range(count))
    footer = (line("—— 页脚 ——"),) if rng.random() < 0.5 else ()
    shared = ((Button("示例", "ex:0"),),) if rng.random() < 0.5 else ()
    reply = Reply(
        header=HEADER, items=items, footer=footer, buttons=shared, per_page=rng.randint(1, 9)
    )
    limit = rng.choice([300, 800, 4096])
    pages = paginate(reply, size, limit)
    check_pages(reply, pages, size, limit)
    for page in pages:
        markers = [ln[0].text for ln in page.lines if ln and ln[0].text.startswith("#")]
        assert len(markers) <= reply.per_page


@SIZES
def test_single_line_far_over_the_limit_is_split_without_loss(size: Size) -> None:
    text = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(50_000))
    reply = Reply(header=HEADER, items=(Item((line(text),), (Button("详情", "m:1.1"),)),))
    pages = paginate(reply, size, 1000)
    assert len(pages) > 50
    check_pages(reply, pages, size, 1000)
    assert "".join(body_text(p) for p in pages) == text
    # The item's button follows its last piece.
    assert [p.buttons for p in pages[:-1]] == [()] * (len(pages) - 1)
    assert pages[-1].buttons == ((Button("详情", "m:1.1"),),)


CLUSTERS = [
    "1\ufe0f\u20e3",  # keycap 1️⃣
    "\U0001f1e8\U0001f1f3",  # 🇨🇳: two regional indicators
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # family, joined by ZWJ
    "\U0001f44d\U0001f3fd",  # thumbs up, skin tone
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland
    "e\u0301",  # é as e + combining acute
    "\r\n",
]


@SIZES
@pytest.mark.parametrize("cluster", CLUSTERS, ids=range(len(CLUSTERS)))
@pytest.mark.parametrize("lead", [0, 1, 2])
def test_a_long_line_is_never_split_inside_a_cluster(size: Size, cluster: str, lead: int) -> None:
    # Every halving lands somewhere else in a cluster, whatever the line's length.
    text = "进" * lead + cluster * 300
    reply = Reply(header=HEADER, items=(Item((line(text),)),))
    pages = paginate(reply, size, 200)
    assert len(pages) > 1
    check_pages(reply, pages, size, 200)
    for page in pages:
        shown = body_text(page).removeprefix("进" * lead)
        assert shown
        assert shown == cluster * (len(shown) // len(cluster)), repr(shown[:20])


def test_line_of_many_short_spans_over_the_limit_is_split() -> None:
    spans = tuple(Span(c, "bold") for c in "残疾人就业" * 200)
    reply = Reply(header=HEADER, items=(Item((spans,)),))
    pages = paginate(reply, markup_size, 300)
    check_pages(reply, pages, markup_size, 300)
    assert len(pages) > 1


def test_per_page_is_respected_and_buttons_follow_their_items() -> None:
    items = tuple(
        Item((line(bold(f"#{i}#"), " 短"),), (Button(f"{i} 详情", f"m:{i}"),)) for i in range(11)
    )
    reply = Reply(header=HEADER, items=items, per_page=4, buttons=((Button("更多", "ex:1"),),))
    pages = paginate(reply, plain_size, 4096)
    assert [p.count for p in pages] == [3, 3, 3]
    check_pages(reply, pages, plain_size, 4096)
    for page in pages:
        on_page = [ln[0].text.strip("#") for ln in page.lines if ln and ln[0].text.startswith("#")]
        assert len(on_page) <= 4
        item_buttons = [b.action for row in page.buttons[:-1] for b in row]
        assert item_buttons == [f"m:{i}" for i in on_page]
        assert page.buttons[-1] == (Button("更多", "ex:1"),)
    assert [len(p.buttons[0]) for p in pages] == [4, 4, 3]


def test_size_limit_makes_pages_shorter_than_per_page() -> None:
    items = tuple(Item((line(f"#{i}# " + "字" * 100),)) for i in range(6))
    reply = Reply(header=HEADER, items=items, per_page=8)
    pages = paginate(reply, plain_size, 400)
    assert len(pages) > 1
    check_pages(reply, pages, plain_size, 400)
    # No item is split when it fits a page on its own.
    for page in pages:
        for ln in page.lines[len(HEADER) :]:
            assert not ln or ln[0].text.startswith("#")


def test_empty_reply_is_one_page_with_header_and_buttons() -> None:
    reply = Reply(header=HEADER, buttons=((Button("示例", "ex:0"),),))
    (page,) = paginate(reply, plain_size, 4096)
    assert page.lines == HEADER
    assert page.buttons == reply.buttons
    assert (page.index, page.count) == (0, 1)


def test_render_plain() -> None:
    reply = Reply(
        header=(line(bold("标题")), line("第二行")),
        items=(
            Item((line(bold("7.2"), " 举措正文"), line(Span("责任单位：", "italic"), "教育厅"))),
            Item((line("第二项"),), (Button("7.2 详情", "m:7.2"),)),
        ),
        footer=(line("页脚"),),
        buttons=((Button("示例问题", "ex:0"), Button("第二个", "ex:1")),),
    )
    assert render_plain(reply) == (
        "标题\n第二行\n\n7.2 举措正文\n责任单位：教育厅\n\n第二项\n\n页脚\n"
        "可输入：[7.2 详情]  [示例问题]  [第二个]"
    )
    assert [b.action for b in all_buttons(reply)] == ["m:7.2", "ex:0", "ex:1"]


def test_render_plain_without_buttons_has_no_prompt() -> None:
    reply = Reply(header=(line("只有标题"),))
    assert render_plain(reply) == "只有标题"

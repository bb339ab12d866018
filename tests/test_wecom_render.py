"""Neutral replies rendered as WeCom messages: escaping, byte sizes, cards, pages, nothing lost."""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest

from bot.reply import Button, Item, Reply, Span, bold, line
from handlers.wecom.cards import check_card
from handlers.wecom.render import (
    KEY_LIMIT,
    Outgoing,
    escape,
    render,
    to_markdown,
)

SPECIALS = (
    '*粗体* #标题 > 引用 `代码` [链接](http://x) <font color="info">绿</font> a_b ~删~ \\ &amp;'
)


def _task_ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"t-{next(counter)}"


def texts(messages: list[Outgoing]) -> str:
    """Everything a member reads, references decoded, as the client shows it."""
    return "".join(html.unescape(m.content) for m in messages if m.msgtype != "template_card")


def cards(messages: list[Outgoing]) -> list[dict[str, Any]]:
    return [dict(m.card) for m in messages if m.card is not None]


def test_escape_leaves_no_markup_character() -> None:
    escaped = escape(SPECIALS)
    outside_references = re.sub(r"&#\d+;", "", escaped)
    for char in "*`[]<\\":
        assert char not in outside_references
    assert not outside_references.startswith("#")
    assert not re.search(r"&#?\w+;", outside_references)  # no "&amp;" left to be decoded
    assert html.unescape(escaped) == SPECIALS


def test_only_what_is_markup_becomes_a_reference() -> None:
    # "#" and ">" are markup only at a line's start; "_", "~" and a lone "&" never are.
    assert escape("#1 a_b ~c~ A&B x > y #2") == "&#35;1 a_b ~c~ A&B x > y #2"
    assert escape("#1", line_start=False) == "#1"
    assert escape("甲\n  > 乙", line_start=False) == "甲\n  &#62; 乙"
    assert to_markdown([line(bold("#1 举措 5.1"), " 牵头")]) == "**#1 举措 5.1** 牵头"


def test_what_a_member_copies_reaches_them_literally() -> None:
    for code in ("/join cl0AXFvdeOv_P9Ps", "/note 7.2 a*b", "x&#95;y", "/join a-b<c>"):
        [message] = render(Reply(header=(line("请发送：", Span(code, "code")),)))
        assert message.msgtype == "markdown"
        assert f"`{code}`" in message.content  # a code span: shown as typed, copied as is


def test_markdown_styles_wrap_escaped_text() -> None:
    rendered = to_markdown(
        [line(bold("**7.2**"), " 牵头：", Span("a*b", "italic")), (Span("引 > 用", "quote"),)]
    )
    assert rendered == "**&#42;&#42;7.2&#42;&#42;** 牵头：a&#42;b\n> 引 > 用"


def test_styles_apply_to_each_line_of_a_multiline_span() -> None:
    rendered = to_markdown([(Span("第一行\n\n第二行", "bold"),), (Span("甲\n乙", "quote"),)])
    assert rendered == "**第一行**\n\n**第二行**\n> 甲\n> 乙"


def test_code_span_unless_it_holds_a_backtick_or_a_line_break() -> None:
    assert to_markdown([(Span("/note 7.2", "code"),)]) == "`/note 7.2`"
    assert to_markdown([(Span("a*b", "code"),)]) == "`a*b`"
    assert to_markdown([(Span("a`b", "code"),)]) == "a&#96;b"


def test_user_text_cannot_inject_markup() -> None:
    [message] = render(Reply(header=(line("你写的：", SPECIALS),)))
    assert message.msgtype == "markdown"
    assert "<font" not in message.content
    assert "**" not in message.content
    assert SPECIALS in html.unescape(message.content)


def test_text_mode_sends_text_unescaped_but_opens_no_tag() -> None:
    [message] = render(Reply(header=(line(bold("标题"), SPECIALS),)), markdown=False)
    assert message == Outgoing("text", f"标题{SPECIALS}".replace("<", "<\u200b"))


@pytest.mark.parametrize(
    "typed",
    [
        '<a href="https://evil.example/">点我领取</a>',
        "<A HREF=https://evil.example/>点我</A>",
        "< a href='https://evil.example/'>点我</a>",
    ],
)
def test_a_note_cannot_put_a_link_into_a_text_message(typed: str) -> None:
    # WeCom shows <a href> in a text message as a link: a colleague's /notes must not.
    note = Item((line(bold("#1 举措 5.1")), line(Span(typed, "quote"))))
    [message] = render(Reply(items=(note,)), markdown=False)
    assert message.msgtype == "text"
    assert not re.search(r"<\s*a", message.content, re.IGNORECASE)
    assert message.content.replace("\u200b", "").strip() == f"#1 举措 5.1\n{typed}"


def test_long_reply_is_paginated_in_bytes_and_nothing_is_lost() -> None:
    items = tuple(
        Item((line(bold(f"措施 {i}"), f" 内容*{i}* " + "责任单位负责落实" * 20),))
        for i in range(40)
    )
    reply = Reply(header=(line("查询结果"),), items=items, footer=(line("——完——"),))
    messages = render(reply)
    assert len(messages) > 1
    for m in messages:
        assert len(m.content.encode()) <= 2048
    shown = texts(messages)
    for item in items:
        for span in item.lines[0]:
            assert span.text in shown
    assert "（第 1/" in messages[0].content


def test_one_huge_line_is_split_never_truncated() -> None:
    huge = "长" * 3000 + "*" * 500
    messages = render(Reply(items=(Item((line(huge),)),)), markdown=False)
    assert all(len(m.content.encode()) <= 2048 for m in messages)
    shown = re.sub(r"\n*（第 \d+/\d+ 页）", "", texts(messages)).replace("\n", "")
    assert huge in shown


def test_buttons_become_cards_of_at_most_six_unique_keys() -> None:
    buttons = tuple(Button(f"报送 {i}", f"n:{i}") for i in range(9))
    reply = Reply(header=(line("请选择"),), buttons=(buttons, (buttons[0],)))
    messages = render(reply, task_id=_task_ids())
    made = cards(messages)
    assert [len(c["button_list"]) for c in made] == [6, 3]
    keys = [b["key"] for c in made for b in c["button_list"]]
    assert keys == [f"n:{i}" for i in range(9)]
    assert [c["task_id"] for c in made] == ["t-1", "t-2"]
    for card in made:
        check_card(card)
    assert messages[0].msgtype == "markdown"


def test_task_ids_are_unique_by_default() -> None:
    reply = Reply(buttons=((Button("批准", "ap:12"),),))
    first = cards(render(reply))[0]["task_id"]
    second = cards(render(reply))[0]["task_id"]
    assert first != second


def test_long_label_is_shortened_on_the_button_and_shown_whole() -> None:
    label = "防汛物资储备由哪个单位牵头负责？"
    [card] = cards(render(Reply(buttons=((Button(label, "ex:0"),),))))
    [button] = card["button_list"]
    assert len(button["text"]) <= 10
    assert label in str(card["sub_title_text"])


def test_action_over_key_limit_is_refused() -> None:
    reply = Reply(buttons=((Button("过长", "x" * (KEY_LIMIT + 1)),),))
    with pytest.raises(ValueError, match="action"):
        render(reply)


def test_page_token_sends_one_page_with_navigation() -> None:
    items = tuple(Item((line(f"第{i}条 " + "内容" * 200),)) for i in range(30))
    reply = Reply(items=items)
    everything = render(reply)
    middle = render(reply, page_token="AbC", page=1)
    [card] = cards(middle)
    nav = [(b["text"], b["key"]) for b in card["button_list"]]
    assert nav == [("上一页", "pg:AbC:0"), ("下一页", "pg:AbC:2")]
    assert len([m for m in middle if m.msgtype == "markdown"]) == 1
    assert len(everything) > 2
    first = render(reply, page_token="AbC", page=0)
    assert [b["key"] for c in cards(first) for b in c["button_list"]] == ["pg:AbC:1"]


def test_single_page_gets_no_navigation() -> None:
    messages = render(Reply(header=(line("短"),)), page_token="AbC")
    assert cards(messages) == []

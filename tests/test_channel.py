"""The Router sends each message through its recipient's channel; Limits shape the pages."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest

from bot.channel import Limits, PartDone, Result, Router, prefix_of
from bot.reply import Button, Item, Reply, line, paginate
from handlers.telegram.render import LIMITS as TELEGRAM
from handlers.telegram.render import pages as telegram_pages
from handlers.wecom.render import LIMITS as WECOM
from handlers.wecom.render import render as wecom_render

HELLO = Reply(header=(line("你好"),))


class Outbox:
    """A channel that records what it was asked to send."""

    def __init__(self, result: Result = "sent") -> None:
        self.sent: list[str] = []
        self.batches: list[list[str]] = []
        self.result = result

    async def send(self, user_id: str, reply: Reply) -> Result:
        self.sent.append(user_id)
        return self.result

    async def send_parts(
        self, user_ids: Sequence[str], reply: Reply, tag: str, start: int, done: PartDone
    ) -> None:
        self.batches.append(list(user_ids))
        for part in range(start, 2):  # two parts: a text, then a card
            await done(part, dict.fromkeys(user_ids, self.result))


@pytest.mark.parametrize(
    ("user_id", "prefix"),
    [("tg:123", "tg"), ("wecom:Zhang:San", "wecom"), ("console", "console"), ("", "")],
)
def test_the_prefix_is_the_channel(user_id: str, prefix: str) -> None:
    assert prefix_of(user_id) == prefix


async def test_each_message_goes_through_its_recipients_channel() -> None:
    router, telegram, wecom = Router(), Outbox(), Outbox("blocked")
    router.add("tg:", telegram.send)  # with or without the colon
    router.add("wecom", wecom.send)

    assert await router("tg:1", HELLO) == "sent"
    assert await router("wecom:ZhangSan", HELLO) == "blocked"

    assert telegram.sent == ["tg:1"]
    assert wecom.sent == ["wecom:ZhangSan"]
    assert set(router.channels) == {"tg", "wecom"}


async def test_a_channel_that_is_not_running_fails_without_raising(
    caplog: pytest.LogCaptureFixture,
) -> None:
    router, telegram = Router(), Outbox()
    router.add("tg", telegram.send)
    router.remove("tg:")

    assert await router("tg:1", HELLO) == "failed"
    assert await router("wecom:Li", HELLO) == "failed"
    assert telegram.sent == []
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.WARNING]


async def test_a_channels_own_error_reaches_the_caller() -> None:
    router = Router()

    async def broken(user_id: str, reply: Reply) -> Result:
        raise ConnectionError("down")

    router.add("tg", broken)
    with pytest.raises(ConnectionError):
        await router("tg:1", HELLO)


async def test_batches_group_only_channels_that_send_to_many() -> None:
    router, telegram, wecom = Router(), Outbox(), Outbox()
    router.add("tg", telegram.send)
    router.add("wecom", wecom.send, send_parts=wecom.send_parts, many=2)
    users = ["wecom:a", "tg:1", "wecom:b", "nowhere:x", "tg:2", "wecom:c"]
    told: list[tuple[int, dict[str, Result]]] = []

    async def done(part: int, results: dict[str, Result]) -> None:
        told.append((part, results))

    batches = router.batches(users)

    # At most `many` to a call.
    assert batches == [["wecom:a", "wecom:b"], ["wecom:c"], ["tg:1"], ["nowhere:x"], ["tg:2"]]
    await router.send_parts(batches[0], HELLO, "k", 1, done)
    assert wecom.batches == [batches[0]]
    assert told == [(1, dict.fromkeys(batches[0], "sent"))]
    # A channel without parts sends the whole reply as part 0, and nothing from part 1 on.
    told.clear()
    await router.send_parts(["tg:1"], HELLO, "k", 0, done)
    await router.send_parts(["tg:2"], HELLO, "k", 1, done)
    assert told == [(0, {"tg:1": "sent"})]
    assert telegram.sent == ["tg:1"]
    with pytest.raises(ValueError, match="one channel"):
        await router.send_parts(["tg:1", "tg:2"], HELLO, "k", 0, done)


def test_invite_links_are_the_channels_own() -> None:
    router, telegram = Router(), Outbox()
    router.add("tg", telegram.send, invite_link=lambda code: f"https://t.me/bot?start={code}")
    router.add("wecom", telegram.send)

    tg_link = router.invite_link("tg:1")
    assert tg_link is not None
    assert tg_link("ABC") == "https://t.me/bot?start=ABC"
    assert router.invite_link("wecom:Li") is None
    assert router.invite_link("console") is None


# -- limits --------------------------------------------------------------------------------


def _measures(count: int) -> Reply:
    return Reply(
        header=(line("举措"),),
        items=tuple(
            Item((line(f"举措 {i}"),), (Button(f"{i} 详情", f"m:1.{i}"),)) for i in range(count)
        ),
        buttons=((Button("全部", "all"),),),
        per_page=50,
    )


def _size(lines: Sequence[tuple[object, ...]]) -> int:
    return sum(len(str(ln)) for ln in lines)


@pytest.mark.parametrize("limits", [TELEGRAM, WECOM])
def test_a_page_never_carries_more_buttons_than_its_channel_allows(limits: Limits) -> None:
    reply = _measures(30)
    fixed = 1  # the reply's own "全部"
    pages = paginate(
        reply, _size, 10_000, per_row=limits.per_row, item_buttons=limits.item_buttons(fixed)
    )

    for page in pages:
        count = sum(len(row) for row in page.buttons)
        assert count + limits.page_buttons <= max(limits.buttons, fixed + limits.page_buttons + 1)
        assert all(len(row) <= limits.per_row for row in page.buttons)
    shown = [b.action for p in pages for row in p.buttons for b in row if b.action != "all"]
    assert shown == [f"m:1.{i}" for i in range(30)]  # every button, once, in order


def test_wecom_pages_fit_one_card_with_its_page_buttons() -> None:
    messages = wecom_render(_measures(12), page_token="tok", page=1)
    cards = [m.card for m in messages if m.card is not None]

    assert len(cards) == 1
    assert len(cards[0]["button_list"]) <= WECOM.buttons
    keys = [b["key"] for b in cards[0]["button_list"]]
    assert "pg:tok:0" in keys
    assert "pg:tok:2" in keys


def test_telegram_rows_hold_four_buttons() -> None:
    [page] = telegram_pages(_measures(6))
    assert [len(row) for row in page.rows] == [4, 2, 1]


def test_one_item_with_more_buttons_than_allowed_still_gets_a_page() -> None:
    reply = Reply(
        items=(Item((line("多按钮"),), tuple(Button(str(i), f"b:{i}") for i in range(9))),)
    )
    pages = paginate(reply, _size, 10_000, per_row=6, item_buttons=1)
    assert len(pages) == 1
    assert sum(len(row) for row in pages[0].buttons) == 9

"""The WeCom channel's sender against the fake WeCom API, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import pytest

from bot.channel import Result
from bot.reply import Button, Item, Reply, bold, line
from handlers.wecom.channel import WeComChannel, post_summary, wecom_user
from handlers.wecom.client import DUPLICATE_WINDOW, GroupRobot, WeComClient, WeComError
from tests.fakes.wecom_api import FakeWeComApi

REPLY = Reply(
    header=(line(bold("7.2"), " 牵头单位：省人社厅"),),
    buttons=((Button("报送 7.2", "n:7.2"), Button("详情", "m:7.2")),),
)


@pytest.fixture
async def api() -> AsyncIterator[FakeWeComApi]:
    async with FakeWeComApi() as server:
        yield server


@pytest.fixture
async def client(api: FakeWeComApi) -> AsyncIterator[WeComClient]:
    async with WeComClient(api.corp_id, api.secret, api.agent_id, base_url=api.base_url) as opened:
        yield opened


@pytest.fixture
def channel(client: WeComClient) -> WeComChannel:
    return WeComChannel(client)


async def test_reply_reaches_the_member_as_markdown_and_a_card(
    api: FakeWeComApi, channel: WeComChannel
) -> None:
    assert await channel.send("wecom:ZhangSan", REPLY) == "sent"
    text, card = api.messages_to("ZhangSan")
    assert text["msgtype"] == "markdown"
    assert text["markdown"]["content"] == "**7.2** 牵头单位：省人社厅"
    assert card["msgtype"] == "template_card"
    keys = [b["key"] for b in card["template_card"]["button_list"]]
    assert keys == ["n:7.2", "m:7.2"]


async def test_text_mode_for_clients_without_markdown(
    api: FakeWeComApi, client: WeComClient
) -> None:
    await WeComChannel(client, markdown=False).send("wecom:ZhangSan", REPLY)
    assert api.messages_to("ZhangSan")[0]["text"]["content"] == "7.2 牵头单位：省人社厅"


async def test_member_outside_the_app_is_blocked(api: FakeWeComApi, channel: WeComChannel) -> None:
    api.invalid_users = {"WangWu"}
    assert await channel.send("wecom:WangWu", REPLY) == "blocked"
    # Nothing more is tried once WeCom said the member cannot be reached.
    assert len(api.calls_of("message/send")) == 1


async def test_other_errors_are_raised(api: FakeWeComApi, channel: WeComChannel) -> None:
    api.inject("message/send", 40056)
    with pytest.raises(WeComError) as raised:
        await channel.send("wecom:ZhangSan", REPLY)
    assert raised.value.errcode == 40056


async def test_another_channels_id_is_refused(channel: WeComChannel) -> None:
    with pytest.raises(ValueError, match="企业微信"):
        await channel.send("tg:12345", REPLY)
    assert wecom_user("wecom:ZhangSan") == "ZhangSan"


async def test_long_reply_arrives_whole_in_several_messages(
    api: FakeWeComApi, channel: WeComChannel
) -> None:
    items = tuple(Item((line(f"措施{i}：" + "由省人社厅牵头负责" * 15),)) for i in range(20))
    assert await channel.send("wecom:ZhangSan", Reply(items=items)) == "sent"
    received = [html.unescape(t) for t in api.texts_to("ZhangSan")]
    assert len(received) > 1
    everything = "".join(received)
    for i in range(20):
        assert f"措施{i}：" + "由省人社厅牵头负责" * 15 in everything


async def test_one_page_with_navigation_when_given_a_token(
    api: FakeWeComApi, channel: WeComChannel
) -> None:
    items = tuple(Item((line(f"措施{i}：" + "内容" * 150),)) for i in range(20))
    await channel.send("wecom:ZhangSan", Reply(items=items), page_token="t1", page=1)
    [text, card] = api.messages_to("ZhangSan")
    assert "（第 2/" in text["markdown"]["content"]
    keys = [b["key"] for b in card["template_card"]["button_list"]]
    assert keys == ["pg:t1:0", "pg:t1:2"]


class Parts:
    """What send_parts told: each part's index and results."""

    def __init__(self) -> None:
        self.told: list[tuple[int, dict[str, Result]]] = []

    async def __call__(self, part: int, results: dict[str, Result]) -> None:
        self.told.append((part, results))


async def test_send_parts_is_one_call_a_part_with_results_per_member(
    api: FakeWeComApi, channel: WeComChannel
) -> None:
    api.invalid_users = {"WangWu"}
    users = ["wecom:ZhangSan", "wecom:WangWu", "wecom:LiSi"]
    done = Parts()
    await channel.send_parts(users, Reply(header=(line("请报送进展"),)), "k", 0, done)
    assert done.told == [
        (0, {"wecom:ZhangSan": "sent", "wecom:WangWu": "blocked", "wecom:LiSi": "sent"})
    ]
    [call] = api.calls_of("message/send")
    assert call.json["touser"] == "ZhangSan|WangWu|LiSi"
    # WeCom's duplicate check guards every part of a fan-out.
    assert call.json["enable_duplicate_check"] == 1
    assert call.json["duplicate_check_interval"] == DUPLICATE_WINDOW
    assert api.texts_to("LiSi") == ["请报送进展"]


async def test_send_parts_leaves_the_blocked_out_of_later_parts(
    api: FakeWeComApi, channel: WeComChannel
) -> None:
    api.invalid_users = {"WangWu"}
    done = Parts()
    await channel.send_parts(["wecom:ZhangSan", "wecom:WangWu"], REPLY, "k", 0, done)
    assert done.told == [
        (0, {"wecom:ZhangSan": "sent", "wecom:WangWu": "blocked"}),
        (1, {"wecom:ZhangSan": "sent"}),
    ]
    first, second = api.calls_of("message/send")
    assert first.json["touser"] == "ZhangSan|WangWu"
    assert second.json["touser"] == "ZhangSan"


async def test_send_parts_starts_at_the_part_asked_for_and_repeats_it_as_it_was(
    api: FakeWeComApi, channel: WeComChannel
) -> None:
    for _ in range(2):
        done = Parts()
        await channel.send_parts(["wecom:ZhangSan"], REPLY, "k", 1, done)
        assert done.told == [(1, {"wecom:ZhangSan": "sent"})]
    # The card alone; sent again under the same tag, to the same members, it was the same
    # request, which WeCom's duplicate check held back. Another tag is another message.
    [card] = api.messages_to("ZhangSan")
    assert card["msgtype"] == "template_card"
    assert api.suppressed == 1
    await channel.send_parts(["wecom:ZhangSan"], REPLY, "other", 1, Parts())
    assert len(api.messages_to("ZhangSan")) == 2


async def test_send_parts_takes_at_most_a_thousand(channel: WeComChannel) -> None:
    users = [f"wecom:u{i}" for i in range(1001)]
    with pytest.raises(ValueError, match="1000"):
        await channel.send_parts(users, REPLY, "k", 0, Parts())


async def test_file_is_uploaded_and_sent_after_its_caption(
    api: FakeWeComApi, channel: WeComChannel
) -> None:
    data = "单位,举措\n人社厅,7.2\n".encode()
    result = await channel.send_file("wecom:ZhangSan", "进展-2026.csv", data, "2026 年进展导出")
    assert result == "sent"
    caption, file = api.messages_to("ZhangSan")
    assert caption["text"]["content"] == "2026 年进展导出"
    media = api.media[file["file"]["media_id"]]
    assert (media.filename, media.data) == ("进展-2026.csv", data)


async def test_file_to_a_member_outside_the_app_is_blocked(
    api: FakeWeComApi, channel: WeComChannel
) -> None:
    api.invalid_users = {"WangWu"}
    assert await channel.send_file("wecom:WangWu", "a.csv", b"x", "") == "blocked"


async def test_summary_goes_to_the_group_robot_as_markdown(api: FakeWeComApi) -> None:
    items = tuple(
        Item((line(f"单位{i}：" + "已报送" * 100),), (Button("x", f"c:{i}"),)) for i in range(12)
    )
    reply = Reply(
        header=(line(bold("本周汇总")),), items=items, buttons=((Button("催报", "ch"),),)
    )
    async with GroupRobot(api.webhook_url()) as robot:
        await post_summary(robot, reply)
    posted = [payload for _, payload in api.robot_messages]
    assert len(posted) > 1
    assert all(p["msgtype"] == "markdown" for p in posted)
    contents = [p["markdown"]["content"] for p in posted]
    assert all(len(c.encode()) <= 4096 for c in contents)
    assert any(len(c.encode()) > 2048 for c in contents)
    assert contents[0].startswith("**本周汇总**")
    everything = "".join(contents)
    for i in range(12):
        assert f"单位{i}：" + "已报送" * 100 in everything

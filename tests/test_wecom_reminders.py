"""End to end: year-end reminders and the coordinators' summary reaching WeCom members.

The core opens a real SQLite file in tmp_path; the WeCom channel talks real HTTP to the fake
WeCom API (tests/fakes/wecom_api.py); the test moves the clock. Reminders go out as the core's
scheduler sends them (`core.reminders.tick(core.router)`, or the Scheduler itself where a
crash cuts it short). Default schedule: reminder:2024:30 on 1 December at 09:00,
reminder:2024:14 on 17 December, the summary on 1 January 2025 at 09:00.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot import redact
from bot.ask.assistant import Assistant
from bot.config import Config
from bot.core import Core
from bot.office.reminders import REFUSED
from bot.office.status import unreported
from bot.reply import Reply, line
from bot.scheduler import Scheduler
from bot.store import Store
from handlers.telegram.app import App, build_application
from handlers.wecom.channel import WeComChannel, attach_channel
from handlers.wecom.client import (
    BUSY,
    DUPLICATE_WINDOW,
    HTTP_TIMEOUT,
    MEMBER_LIMITS,
    WeComClient,
)
from handlers.wecom.render import render
from handlers.wecom.robot import GROUP, attach_group_robot
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.clock import FakeClock
from tests.fakes.wecom_api import FakeWeComApi
from tests.harness import COORDINATOR as TG_COORDINATOR
from tests.harness import ZHANG, buttons, check_every_send, rows, shanghai, text

REMINDER_AT = shanghai(2024, 12, 1, 9, 0)  # reminder:2024:30
SECOND_AT = shanghai(2024, 12, 17, 9, 0)  # reminder:2024:14
SUMMARY_AT = shanghai(2025, 1, 1, 9, 0)  # summary:2024
HEADER = "**2024 年度进展报送提醒**"
THANKS = "2024 年的举措进展已全部报送，谢谢！"
SUMMARY = "2024 年度报送情况"

COMMITTEE = "省政府残疾人工作委员会"  # 11.1, 16.1: reported in full in some tests, then thanked
CIVIL = "民政厅"  # 5.1, 11.1, 16.1
COMMERCE = "商务厅"  # 6.1, 11.1, 16.1
COORDINATOR = "BanGongShi"  # the coordinator's WeCom UserId
# WeCom UserIds and names, by unit. Ids sort unit by unit: the fan-out goes in this order.
THANKED = {"An": "安然", "Bai": "白露", "Cao": "曹雪"}
CIVIL_MEMBERS = {"Du": "杜甫", "Fan": "范宁", "Gao": "高适"}
COMMERCE_MEMBERS = {"Han": "韩愈", "Hou": "侯方", "Hu": "胡适"}
CDPF = "省残联"  # 28 measures: its reminder is several messages, texts and cards
CDPF_MEMBERS = {"Jia": "贾岛", "Jiang": "江淹", "Kong": "孔融"}  # reminded after CIVIL's
LOST = 2.0  # seconds the client waits for an answer where the fake WeCom hangs


class Monotonic:
    """The clock the WeCom client paces by and the fake API counts its limits by.

    `sleep` moves it on at once, so a wait for WeCom's per-member limit takes no real time.
    """

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def mono() -> Monotonic:
    return Monotonic()


@pytest.fixture
async def wecom(mono: Monotonic) -> AsyncIterator[FakeWeComApi]:
    async with FakeWeComApi(clock=mono) as fake:
        yield fake


@contextlib.asynccontextmanager
async def serving(
    db_path: Path,
    assistant: Assistant,
    clock: FakeClock,
    wecom: FakeWeComApi,
    mono: Monotonic,
    *,
    coordinators: Iterable[str] = (f"wecom:{COORDINATOR}",),
    member_limits: Sequence[tuple[int, float]] = MEMBER_LIMITS,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    robot: str | None = None,
    answer_within: float = HTTP_TIMEOUT,
) -> AsyncIterator[Core]:
    """One run of the bot: the core on `db_path`, the WeCom channel (and robot) attached."""
    config = Config(db_path=db_path, coordinators=frozenset(coordinators))
    core = await Core.open(config, assistant, clock)
    client = WeComClient(
        wecom.corp_id,
        wecom.secret,
        wecom.agent_id,
        base_url=wecom.base_url,
        clock=mono,
        sleep=sleep or mono.sleep,
        member_limits=member_limits,
        timeout=answer_within,
    )
    attach_channel(core.router, WeComChannel(client, clock=mono))
    group = attach_group_robot(core, robot, timeout=answer_within) if robot else None
    try:
        yield core
    finally:
        if group is not None:
            await group.close()
        await client.close()
        await core.close()


@contextlib.asynccontextmanager
async def telegram_on(core: Core, api: FakeBotApi) -> AsyncIterator[App]:
    """The real Telegram Application serving `core`, against the fake Bot API."""
    app = build_application(
        Config(telegram_token=api.token, telegram_base_url=api.base_url), core=core
    )
    async with app:
        assert app.post_init is not None
        await app.post_init(app)  # registers "tg" in the core's router
        yield app
    assert app.post_shutdown is not None
    await app.post_shutdown(app)


async def bind(
    db_path: Path, clock: FakeClock, members: Mapping[str, str], unit: str, *, wrote: bool = True
) -> None:
    """Bind WeCom members before the bot starts; `wrote`: they have written to the app."""
    async with await Store.open(db_path, clock) as store:
        for user, name in members.items():
            await store.members.bind(f"wecom:{user}", name, unit, f"wecom:{COORDINATOR}")
            if wrote:
                await store.users.upsert(f"wecom:{user}", name, private_chat=True)


async def report(db_path: Path, clock: FakeClock, unit: str, measures: Iterable[str]) -> None:
    async with await Store.open(db_path, clock) as store:
        for measure in measures:
            await store.notes.add(unit, measure, 2024, "1", "某人", f"{measure} 已完成")


def sends(wecom: FakeWeComApi) -> list[tuple[frozenset[str], str]]:
    """The message/send calls WeCom accepted: the recipients and the msgtype of each."""
    return [
        (frozenset(c.json["touser"].split("|")), c.json["msgtype"])
        for c in wecom.calls_of("message/send")
        if c.errcode == 0
    ]


def reminders_to(wecom: FakeWeComApi, user: str) -> list[str]:
    return [t for t in wecom.texts_to(user) if t.startswith(HEADER)]


def cards_to(wecom: FakeWeComApi, user: str) -> list[dict[str, Any]]:
    return [m["template_card"] for m in wecom.messages_to(user) if "template_card" in m]


def card_keys(card: dict[str, Any]) -> list[str]:
    return [b["key"] for b in card["button_list"]]


# --------------------------------------------------------------------------------------------
# One call per unit
# --------------------------------------------------------------------------------------------


async def test_the_members_of_a_unit_get_their_reminder_in_one_call(
    wecom: FakeWeComApi, assistant: Assistant, db_path: Path, mono: Monotonic
) -> None:
    clock = FakeClock(REMINDER_AT)
    await bind(db_path, clock, CIVIL_MEMBERS, CIVIL)
    await bind(db_path, clock, COMMERCE_MEMBERS, COMMERCE)

    async with serving(db_path, assistant, clock, wecom, mono) as core:
        assert await core.reminders.tick(core.router) == ["reminder:2024:30"]

    civil, commerce = frozenset(CIVIL_MEMBERS), frozenset(COMMERCE_MEMBERS)
    # Each message of a unit's reminder (its text, then its card of 报送 buttons) goes to the
    # whole unit in one call: two units, two calls a message, not one per member.
    assert sends(wecom) == [
        (civil, "markdown"),
        (civil, "template_card"),
        (commerce, "markdown"),
        (commerce, "template_card"),
    ]
    for members, unit, gaps in (
        (CIVIL_MEMBERS, CIVIL, ["5.1", "11.1", "16.1"]),
        (COMMERCE_MEMBERS, COMMERCE, ["6.1", "11.1", "16.1"]),
    ):
        for user in members:
            [reminder] = reminders_to(wecom, user)
            assert f"「{unit}」还有 3 项举措未报送：" in reminder
            [card] = cards_to(wecom, user)
            assert card_keys(card) == [f"nm:{m}" for m in gaps]
    assert rows(db_path, "SELECT status, COUNT(*) FROM deliveries GROUP BY status") == [
        ("sent", 6)
    ]


async def test_the_client_holds_a_reminder_for_a_member_at_wecoms_limit(
    wecom: FakeWeComApi, assistant: Assistant, db_path: Path, mono: Monotonic
) -> None:
    clock = FakeClock(REMINDER_AT)
    await bind(db_path, clock, CIVIL_MEMBERS, CIVIL)

    async with serving(db_path, assistant, clock, wecom, mono) as core:
        # 杜甫 had his 30 messages this minute (answers to his questions, say).
        for n in range(30):
            answer = Reply(header=(line(f"第 {n + 1} 条答复"),))
            assert await core.router("wecom:Du", answer) == "sent"
        assert await core.reminders.tick(core.router) == ["reminder:2024:30"]

    # WeCom would have dropped a 31st message within the minute (the fake refuses it with
    # 45033): the client waited for the minute to pass instead, and the unit still got it
    # in one call.
    assert [c.errcode for c in wecom.calls_of("message/send") if c.errcode] == []
    assert mono.slept
    assert sends(wecom)[30:] == [
        (frozenset(CIVIL_MEMBERS), "markdown"),
        (frozenset(CIVIL_MEMBERS), "template_card"),
    ]
    for user in CIVIL_MEMBERS:
        assert len(reminders_to(wecom, user)) == 1


# --------------------------------------------------------------------------------------------
# Cut short, then restarted
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", ["crash", "busy"])
async def test_a_fan_out_cut_short_is_finished_after_a_restart_from_the_part_it_stopped_at(
    cut: str,
    wecom: FakeWeComApi,
    assistant: Assistant,
    db_path: Path,
    mono: Monotonic,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(REMINDER_AT)
    await bind(db_path, clock, THANKED, COMMITTEE)
    await bind(db_path, clock, CIVIL_MEMBERS, CIVIL)
    await report(db_path, clock, COMMITTEE, ["11.1", "16.1"])
    held = asyncio.Event()

    async def hold(seconds: float) -> None:
        # The client paces each member to one message an hour in this run, so it waits here
        # before the second unit's second message (its card), after its text went out.
        if held.is_set():  # "busy": the client's own pauses between retries
            return await mono.sleep(seconds)
        held.set()
        if cut == "crash":
            await asyncio.Event().wait()  # until the process dies
        # "busy": WeCom answers -1 (system busy) to that message and its three retries.
        wecom.inject("message/send", BUSY, times=4)
        return await mono.sleep(seconds)

    async with serving(
        db_path, assistant, clock, wecom, mono, member_limits=((1, 3600.0),), sleep=hold
    ) as core:
        if cut == "crash":
            scheduler = Scheduler(core, interval=3600)
            scheduler.start()
            await asyncio.wait_for(held.wait(), 10)
            await scheduler.stop()  # the process dies mid fan-out
        else:
            assert await core.reminders.tick(core.router) == []  # not done: retried later
            assert "稍后重试" in caplog.text

    # The first unit got its message; the second its text, but not its card.
    for user in THANKED:
        assert wecom.texts_to(user) == [f"「{COMMITTEE}」{THANKS}"]
    for user in CIVIL_MEMBERS:
        assert len(reminders_to(wecom, user)) == 1
        assert cards_to(wecom, user) == []
    assert rows(db_path, "SELECT * FROM state WHERE key = 'done:reminder:2024:30'") == []

    clock.advance(minutes=1)
    async with serving(db_path, assistant, clock, wecom, mono) as core:
        assert await core.reminders.tick(core.router) == ["reminder:2024:30"]
        assert await core.reminders.tick(core.router) == []

    # Nobody missed it; the second unit's text, recorded once WeCom took it, was not sent
    # again: only its card went after the restart; the first unit was not written to again.
    for user in THANKED:
        assert len(wecom.messages_to(user)) == 1
    for user in CIVIL_MEMBERS:
        assert len(reminders_to(wecom, user)) == 1
        [card] = cards_to(wecom, user)
        assert card_keys(card) == ["nm:5.1", "nm:11.1", "nm:16.1"]
    assert rows(db_path, "SELECT status, COUNT(*) FROM deliveries GROUP BY status") == [
        ("sent", 6)
    ]


# --------------------------------------------------------------------------------------------
# Each part once: errors, lost answers, crashes
# --------------------------------------------------------------------------------------------


def parts_of(core: Core, assistant: Assistant, unit: str) -> int:
    """How many messages a unit's first reminder of 2024 is on WeCom (nothing reported)."""
    reply = core.reminders.unit_reminder(unit, 2024, unreported(assistant.plan, {}, unit))
    assert reply is not None
    return len(render(reply))


def each_part_once(wecom: FakeWeComApi, members: Iterable[str], parts: int) -> None:
    """Every member got each of the reminder's `parts` messages, and none twice."""
    for user in members:
        assert sorted(wecom.copies(user).values()) == [1] * parts, user


async def test_a_502_mid_reminder_sends_no_member_any_part_twice(
    wecom: FakeWeComApi, assistant: Assistant, db_path: Path, mono: Monotonic
) -> None:
    clock = FakeClock(REMINDER_AT)
    await bind(db_path, clock, CIVIL_MEMBERS, CIVIL)
    await bind(db_path, clock, CDPF_MEMBERS, CDPF)
    # 民政厅 gets its text and card (calls 1, 2); the 省残联's second message is refused.
    wecom.fault("message/send", after=3, status=502)

    async with serving(db_path, assistant, clock, wecom, mono) as core:
        parts = parts_of(core, assistant, CDPF)
        assert parts > 3
        assert await core.reminders.tick(core.router) == []  # the rest goes at the next check
        clock.advance(minutes=1)
        assert await core.reminders.tick(core.router) == ["reminder:2024:30"]

    each_part_once(wecom, CIVIL_MEMBERS, 2)
    each_part_once(wecom, CDPF_MEMBERS, parts)
    assert wecom.suppressed == 0  # nothing went to WeCom twice: each part was recorded
    assert rows(db_path, "SELECT status, COUNT(*) FROM deliveries GROUP BY status") == [
        ("sent", 6)
    ]


@pytest.mark.parametrize("lost", [1, 3])
async def test_a_send_whose_answer_is_lost_is_not_sent_to_the_batch_again(
    lost: int,
    wecom: FakeWeComApi,
    assistant: Assistant,
    db_path: Path,
    mono: Monotonic,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(REMINDER_AT)
    await bind(db_path, clock, CIVIL_MEMBERS, CIVIL)
    await bind(db_path, clock, CDPF_MEMBERS, CDPF)
    # WeCom delivers the 省残联's second message, and no answer comes: once, or to the
    # client's repeats of it too.
    for n in range(lost):
        wecom.fault("message/send", after=3 + n, hang=True)

    async with serving(db_path, assistant, clock, wecom, mono, answer_within=LOST) as core:
        parts = parts_of(core, assistant, CDPF)
        done = await core.reminders.tick(core.router)
        if lost > 1:  # the client gave up: the part goes again at the next check
            assert done == []
            clock.advance(minutes=1)
            done = await core.reminders.tick(core.router)
        assert done == ["reminder:2024:30"]

    # The repeats were the same request, under WeCom's duplicate check: nobody saw it twice.
    each_part_once(wecom, CIVIL_MEMBERS, 2)
    each_part_once(wecom, CDPF_MEMBERS, parts)
    assert wecom.suppressed == lost
    assert "按重复检查原样重发" in caplog.text


@pytest.mark.parametrize("restart", ["at once", "after the duplicate check's window"])
async def test_a_crash_repeats_at_most_the_part_in_flight_to_its_batch(
    restart: str, wecom: FakeWeComApi, assistant: Assistant, db_path: Path, mono: Monotonic
) -> None:
    clock = FakeClock(REMINDER_AT)
    await bind(db_path, clock, CIVIL_MEMBERS, CIVIL)
    await bind(db_path, clock, CDPF_MEMBERS, CDPF)
    wecom.fault("message/send", after=3, hang=True)

    async with serving(db_path, assistant, clock, wecom, mono) as core:
        parts = parts_of(core, assistant, CDPF)
        scheduler = Scheduler(core, interval=3600)
        scheduler.start()
        await asyncio.wait_for(wecom.hung.wait(), 10)  # WeCom took the 省残联's 2nd message
        await scheduler.stop()  # and the process died before the answer came
    each_part_once(wecom, CDPF_MEMBERS, 2)

    if restart != "at once":
        mono.now += DUPLICATE_WINDOW + 1
    clock.advance(minutes=1)
    async with serving(db_path, assistant, clock, wecom, mono) as core:
        assert await core.reminders.tick(core.router) == ["reminder:2024:30"]

    each_part_once(wecom, CIVIL_MEMBERS, 2)
    if restart == "at once":  # the same request again: WeCom's duplicate check held it back
        each_part_once(wecom, CDPF_MEMBERS, parts)
        assert wecom.suppressed == 1
    else:  # too late for the check: that one message twice, to that batch only
        for user in CDPF_MEMBERS:
            assert sorted(wecom.copies(user).values()) == [1] * (parts - 1) + [2]
        assert wecom.suppressed == 0


async def test_the_robots_post_that_got_no_answer_is_not_posted_again(
    wecom: FakeWeComApi,
    assistant: Assistant,
    db_path: Path,
    mono: Monotonic,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(SUMMARY_AT)
    await bind(db_path, clock, CIVIL_MEMBERS, CIVIL)
    url = wecom.webhook_url()
    wecom.fault("webhook/send", hang=True)  # posted into the group; the answer never comes

    async with serving(
        db_path, assistant, clock, wecom, mono, robot=url, answer_within=LOST
    ) as core:
        assert await core.reminders.tick(core.router) == ["summary:2024"]
    clock.advance(minutes=1)
    async with serving(db_path, assistant, clock, wecom, mono, robot=url) as core:
        assert await core.reminders.tick(core.router) == []

    [(_, post)] = wecom.robot_messages  # once: a robot has no duplicate check to lean on
    assert post["markdown"]["content"].startswith(f"**{SUMMARY}")
    assert "未确认送达" in caplog.text
    assert url not in caplog.text


# --------------------------------------------------------------------------------------------
# Members WeCom cannot reach, and the coordinators' summary
# --------------------------------------------------------------------------------------------


async def test_a_member_wecom_cannot_reach_is_marked_unreachable_and_listed_in_the_summary(
    wecom: FakeWeComApi, assistant: Assistant, db_path: Path, mono: Monotonic
) -> None:
    clock = FakeClock(REMINDER_AT)
    await bind(db_path, clock, {"Du": "杜甫", "Fan": "范宁"}, CIVIL)
    # Bound, but never wrote to the app: WeCom's app reaches him all the same.
    await bind(db_path, clock, {"Gao": "高适"}, CIVIL, wrote=False)
    wecom.invalid_users = {"Fan"}  # left the app's visible range

    async with serving(db_path, assistant, clock, wecom, mono) as core:
        assert await core.reminders.tick(core.router) == ["reminder:2024:30"]
        assert await core.store.reminders.deliveries("reminder:2024:30") == {
            "wecom:Du": "sent",
            "wecom:Fan": "blocked",
            "wecom:Gao": "sent",
        }
        fan = await core.store.users.get("wecom:Fan")
        assert fan is not None
        assert not fan.reachable

        # The next reminder is not sent to him again.
        clock.set(SECOND_AT)
        calls = len(wecom.calls_of("message/send"))
        assert await core.reminders.tick(core.router) == ["reminder:2024:14"]
        for to, _ in sends(wecom)[calls:]:
            assert to == {"Du", "Gao"}

        clock.set(SUMMARY_AT)
        assert await core.reminders.tick(core.router) == ["summary:2024"]

    assert len(reminders_to(wecom, "Gao")) == 2
    [summary] = [t for t in wecom.texts_to(COORDINATOR) if SUMMARY in t]
    lines = summary.split("\n")
    assert f"{REFUSED}：范宁（{CIVIL}）" in lines
    # 高适 got every reminder: he is not listed as someone who must first write to the bot.
    assert "高适" not in summary
    assert "从未与机器人私聊" not in summary
    [card] = cards_to(wecom, COORDINATOR)
    assert card_keys(card) == ["chase:2024"]


async def test_the_group_robot_gets_the_summary_once_and_its_address_is_never_logged(
    wecom: FakeWeComApi,
    assistant: Assistant,
    db_path: Path,
    mono: Monotonic,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FakeClock(SUMMARY_AT)
    await bind(db_path, clock, CIVIL_MEMBERS, CIVIL)
    url = wecom.webhook_url()
    wecom.inject("webhook/send", 500)  # the robot's first post fails

    async with serving(db_path, assistant, clock, wecom, mono, robot=url) as core:
        assert await core.reminders.tick(core.router) == []  # the robot is owed it
        assert wecom.robot_messages == []
        assert redact.install({}).redact(f"POST {url}") == "POST ***"
    for minutes in (1, 60):  # restarted, and again: the robot gets it once
        clock.advance(minutes=minutes)
        async with serving(db_path, assistant, clock, wecom, mono, robot=url) as core:
            done = await core.reminders.tick(core.router)
            assert done == (["summary:2024"] if minutes == 1 else [])

    [(key, post)] = wecom.robot_messages
    assert key == "robot-key-1"
    assert post["msgtype"] == "markdown"
    assert post["markdown"]["content"].startswith(f"**{SUMMARY}（截止 12 月 31 日）**")
    assert "未报送任何举措的单位" in post["markdown"]["content"]
    # The coordinator got it once too, with the chase-up button the robot cannot carry.
    assert len([t for t in wecom.texts_to(COORDINATOR) if SUMMARY in t]) == 1
    assert rows(db_path, "SELECT status FROM deliveries WHERE user_id = ?", (GROUP,)) == [
        ("sent",)
    ]
    logged = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    assert any("未能送达" in m for m in logged)  # the failed post was logged …
    assert [m for m in logged if url in m or "robot-key-1" in m] == []  # … without the URL


# --------------------------------------------------------------------------------------------
# Telegram and WeCom in one process
# --------------------------------------------------------------------------------------------


async def test_members_of_one_unit_on_telegram_and_wecom_are_each_reminded_on_their_own(
    api: FakeBotApi, wecom: FakeWeComApi, assistant: Assistant, db_path: Path, mono: Monotonic
) -> None:
    clock = FakeClock(REMINDER_AT)
    await bind(db_path, clock, {"Du": "杜甫"}, CIVIL)
    async with await Store.open(db_path, clock) as store:
        await store.members.bind(f"tg:{ZHANG}", "张三", CIVIL, f"wecom:{COORDINATOR}")
        await store.users.upsert(f"tg:{ZHANG}", "张三", private_chat=True)
        await store.users.upsert(f"tg:{TG_COORDINATOR}", "办公室", private_chat=True)
    coordinators = (f"wecom:{COORDINATOR}", f"tg:{TG_COORDINATOR}")

    async with (
        serving(db_path, assistant, clock, wecom, mono, coordinators=coordinators) as core,
        telegram_on(core, api),
    ):
        assert set(core.router.channels) == {"wecom", "tg"}
        assert await core.reminders.tick(core.router) == ["reminder:2024:30"]
        clock.set(SUMMARY_AT)
        assert await core.reminders.tick(core.router) == ["summary:2024"]

    # The Telegram member in his private chat, with a 报送 button a measure …
    [reminder] = api.sent_messages(ZHANG)
    assert text(reminder).startswith("2024 年度进展报送提醒")
    assert f"「{CIVIL}」还有 3 项举措未报送：" in text(reminder)
    assert buttons(reminder) == ["nm:5.1", "nm:11.1", "nm:16.1"]
    # … the WeCom member in the app, the same reminder; nothing crossed channels.
    [wecom_reminder] = reminders_to(wecom, "Du")
    assert f"「{CIVIL}」还有 3 项举措未报送：" in wecom_reminder
    assert all(to == {"Du"} or to == {COORDINATOR} for to, _ in sends(wecom))
    # The summary reached each coordinator on their channel.
    [summary] = api.sent_messages(TG_COORDINATOR)
    assert text(summary).startswith(SUMMARY)
    assert [t for t in wecom.texts_to(COORDINATOR) if SUMMARY in t] != []
    check_every_send(api)

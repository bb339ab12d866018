"""End to end: year-end reminders sent by the real Application's job to the fake Bot API.

Members are bound in a real SQLite file before the bot starts; the clock is the test's (the
default schedule: reporting years 2022–2024, deadline 31 December, reminders 30, 14, 7, 3 and
1 days before at 09:00, the summary the day after); the reminder job checks every 0.2 s.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.ask.assistant import Assistant
from bot.office.reminders import DELIVERY_TRIES, REFUSED
from bot.outcome import NOT_COORDINATOR
from bot.reply import Item, Reply, line
from bot.store import Store
from handlers.telegram import render
from handlers.telegram.context import core_of
from handlers.telegram.sender import Sender
from tests.cores import make_core
from tests.fakes.bot_api import FakeBotApi
from tests.harness import (
    COORDINATOR,
    COORDINATOR_2,
    HRSS,
    SETTLER,
    FakeClock,
    Users,
    bind_directly,
    buttons,
    check_every_send,
    crash_jobs,
    labels,
    rows,
    running,
    shanghai,
    text,
)

REMINDER_AT = shanghai(2024, 12, 1, 9, 0)  # reminder:2024:30
SECOND_AT = shanghai(2024, 12, 17, 9, 0)  # reminder:2024:14
SUMMARY_AT = shanghai(2025, 1, 1, 9, 0)  # summary:2024
HEADER = "2024 年度进展报送提醒"
TICK = 0.2
# Units whose reminder fits one message (at most ten measures), a few members each.
UNITS = (
    "民政厅",
    "教育厅",
    "省烟草专卖局",
    "省卫生健康委",
    "省国资委",
    "省委编办",
    "财政厅",
    "商务厅",
)
CIVIL = "民政厅"  # 5.1, 11.1, 16.1
COMMITTEE = "省政府残疾人工作委员会"  # 11.1, 16.1: reported in full in some tests


def errors(caplog: pytest.LogCaptureFixture, *expected: str) -> list[str]:
    """Error records other than the `expected` ones (substrings)."""
    found = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    return [m for m in found if not any(e in m for e in expected)]


def spread(count: int, first: int = 1000, units: Iterable[str] = UNITS) -> list[tuple[int, str]]:
    names = list(units)
    return [(first + i, names[i % len(names)]) for i in range(count)]


def reminders_to(api: FakeBotApi, chat: int) -> list[dict[str, Any]]:
    return [m for m in api.sent_messages(chat) if HEADER in text(m)]


async def reminded(api: FakeBotApi, chats: Iterable[int], timeout: float = 10) -> None:  # noqa: ASYNC109
    """Wait until every chat got at least one reminder."""
    pending = set(chats)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while pending := {c for c in pending if not reminders_to(api, c)}:
        assert loop.time() < deadline, f"not reminded: {sorted(pending)}"
        await asyncio.sleep(0.05)


async def done(db_path: Path, key: str, timeout: float = 10) -> None:  # noqa: ASYNC109
    """Wait until the bot has recorded the reminder `key` as sent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while rows(db_path, "SELECT value FROM state WHERE key = ?", (f"done:{key}",)) != [("sent",)]:
        assert loop.time() < deadline, f"{key} not done"
        await asyncio.sleep(0.05)


def missing(assistant: Assistant, unit: str, reported: Iterable[str] = ()) -> list[str]:
    return [m.id for m in assistant.plan.duties_of(unit) if m.id not in set(reported)]


async def report(db_path: Path, clock: FakeClock, unit: str, measures: Iterable[str]) -> None:
    async with await Store.open(db_path, clock) as store:
        for measure in measures:
            await store.notes.add(unit, measure, 2024, "1", "某人", f"{measure} 已完成")


# --------------------------------------------------------------------------------------------
# One reminder each, listing what the unit has not reported
# --------------------------------------------------------------------------------------------


async def test_every_member_gets_one_reminder_of_their_units_gaps(
    api: FakeBotApi, assistant: Assistant, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(REMINDER_AT)
    members = spread(40)
    await bind_directly(db_path, clock, [*members, (2000, HRSS), (2001, COMMITTEE)])
    await report(db_path, clock, CIVIL, ["5.1"])
    await report(db_path, clock, COMMITTEE, ["11.1", "16.1"])

    async with running(api, assistant, db_path, clock, reminder_interval=TICK):
        await reminded(api, [m for m, _ in members] + [2000])
        await done(db_path, "reminder:2024:30")
        await asyncio.sleep(3 * TICK)  # later checks send nothing more
        for user, unit in members:
            [reminder] = api.sent_messages(user)
            lines = text(reminder).split("\n")
            gaps = missing(assistant, unit, ["5.1"] if unit == CIVIL else [])
            assert lines[0] == HEADER
            assert lines[1].endswith(f"「{unit}」还有 {len(gaps)} 项举措未报送：")
            assert "截止 2024 年 12 月 31 日" in lines[1]
            assert buttons(reminder) == [f"nm:{m}" for m in gaps]
            assert labels(reminder) == [f"报送 {m}" for m in gaps]
        # 人社厅's 26 measures fit in one message (one a second per chat, as Telegram asks).
        [whole] = api.sent_messages(2000)
        assert buttons(whole) == [f"nm:{m}" for m in missing(assistant, HRSS)]
        # A unit with everything reported is thanked instead.
        [thanks] = api.sent_messages(2001)
        assert text(thanks) == f"「{COMMITTEE}」2024 年的举措进展已全部报送，谢谢！"
        assert rows(db_path, "SELECT status, COUNT(*) FROM deliveries GROUP BY status") == [
            ("sent", 42)
        ]

        # A reminder's button starts the note flow, for that reminder's year.
        user, unit = members[0]
        bot = Users(api)
        [reminder] = api.sent_messages(user)
        first = buttons(reminder)[0].removeprefix("nm:")
        asked = await bot.open(reminder, f"nm:{first}")
        assert text(asked).startswith(f"请发送举措 {first} 的进展")
        confirmed = await bot.say(user, "已按提醒报送")
        assert text(confirmed).startswith(f"已记录「{unit}」举措 {first} 的 2024 年进展")
        assert rows(
            db_path,
            "SELECT unit, measure_id, year FROM notes WHERE author_id = ?",
            (f"tg:{user}",),
        ) == [(unit, first, 2024)]
    check_every_send(api)
    assert errors(caplog) == []


# --------------------------------------------------------------------------------------------
# Crashes and flood control
# --------------------------------------------------------------------------------------------


async def test_a_crash_mid_fan_out_neither_misses_nor_doubles(
    api: FakeBotApi, assistant: Assistant, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(REMINDER_AT)
    members = [user for user, _ in spread(40)]
    await bind_directly(db_path, clock, spread(40))
    api.limit_rate(5)  # slow: the crash comes while the fan-out is well under way

    async with running(api, assistant, db_path, clock, reminder_interval=TICK) as app:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while sum(1 for m in members if reminders_to(api, m)) < 10:
            assert loop.time() < deadline
            await asyncio.sleep(0.01)
        await crash_jobs(app)
    before = {m for m in members if reminders_to(api, m)}
    assert 10 <= len(before) < len(members)
    assert rows(db_path, "SELECT COUNT(*) FROM state WHERE key = 'done:reminder:2024:30'") == [
        (0,)
    ]

    api.limit_rate(None)
    async with running(api, assistant, db_path, clock, reminder_interval=TICK):
        await reminded(api, members)
        await done(db_path, "reminder:2024:30")
        await asyncio.sleep(3 * TICK)
    received = Counter(m for m in members for _ in reminders_to(api, m))
    assert set(received) == set(members)  # nobody missed
    assert sum(received.values()) - len(members) <= 1  # at most one duplicate for one crash
    assert rows(db_path, "SELECT status, COUNT(*) FROM deliveries GROUP BY status") == [
        ("sent", 40)
    ]
    check_every_send(api)
    # The jobs' cancellation is reported by the scheduler (the check at start, and the
    # repeating check waiting for it).
    assert errors(caplog, 'Job "reminders') == []


async def test_a_reply_of_several_pages_is_resumed_at_the_page_that_failed(
    api: FakeBotApi, assistant: Assistant, db_path: Path
) -> None:
    clock = FakeClock(shanghai(2024, 6, 1, 9, 0))  # no reminder due: only this fan-out
    user = 1000
    await bind_directly(db_path, clock, [(user, CIVIL)])
    long = Reply(items=tuple(Item((line(f"第 {i} 项进展"),)) for i in range(12)), per_page=3)
    pages = len(render.pages(long))
    assert pages > 2
    api.fail(user, 500, after=1)  # the first page goes, the second gets a server error

    async with running(api, assistant, db_path, clock) as app:
        reminders = core_of(app.bot_data).reminders
        router = core_of(app.bot_data).router
        assert await reminders.fan_out("k", {f"tg:{user}": long}, router) == {
            f"tg:{user}": "pending"
        }
        api.unfail(user)
        assert await reminders.fan_out("k", {f"tg:{user}": long}, router) == {f"tg:{user}": "sent"}

    # Each page once: the first was recorded when Telegram took it, and not sent again.
    received = Counter(text(m) for m in api.sent_messages(user))
    assert len(received) == pages
    assert set(received.values()) == {1}
    assert [c.status for c in api.calls_of("sendMessage")] == [200, 500] + [200] * (pages - 1)


async def test_a_page_whose_answer_is_lost_is_not_sent_again(
    api: FakeBotApi, assistant: Assistant, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    user = 1000
    long = Reply(items=tuple(Item((line(f"第 {i} 项进展"),)) for i in range(12)), per_page=3)
    pages = len(render.pages(long))
    api.stall(user, after=1)  # Telegram shows the second page; its answer never comes
    request = HTTPXRequest(read_timeout=2.0)
    async with (
        await Store.open(db_path, FakeClock(REMINDER_AT)) as store,
        Bot(api.token, base_url=api.base_url, request=request) as bot,
    ):
        core = make_core(assistant, store, ())
        sender = Sender(bot)
        core.router.add("tg", sender, send_parts=sender.send_parts)
        for _ in range(2):  # the second run finds nothing owed
            statuses = await core.reminders.fan_out("k", {f"tg:{user}": long}, core.router)
            assert statuses == {f"tg:{user}": "sent"}

    # Counted as delivered (it was), and not sent again: each page once.
    received = Counter(text(m) for m in api.sent_messages(user))
    assert len(received) == pages
    assert set(received.values()) == {1}
    assert "未确认送达" in caplog.text


async def test_a_429_storm_delays_the_fan_out_but_drops_nobody(
    api: FakeBotApi, assistant: Assistant, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(REMINDER_AT)
    members = [user for user, _ in spread(40)]
    await bind_directly(db_path, clock, spread(40))
    # 429s in a row on every try of the rate limiter (the first and its 5 retries, at 1 s each)
    api.flood(6, retry_after=1)

    async with running(api, assistant, db_path, clock, reminder_interval=TICK):
        await reminded(api, members, timeout=20)
        await done(db_path, "reminder:2024:30")
    received = Counter(m for m in members for _ in reminders_to(api, m))
    assert received == Counter(members)  # each exactly once
    statuses = [c.status for c in api.calls_of("sendMessage")]
    assert statuses == [429] * 6 + [200] * 40
    check_every_send(api)
    # python-telegram-bot logs giving up after its retries; the Sender then waits and resends.
    assert errors(caplog, "Rate limit hit after maximum of 5 retries") == []


@pytest.mark.parametrize(("status", "description"), [(500, ""), (401, "Unauthorized")])
async def test_one_unreachable_recipient_holds_up_nobody(
    api: FakeBotApi,
    assistant: Assistant,
    db_path: Path,
    caplog: pytest.LogCaptureFixture,
    status: int,
    description: str,
) -> None:
    clock = FakeClock(REMINDER_AT)
    members = spread(6)
    failing, others = members[0][0], [m for m, _ in members[1:]]
    await bind_directly(db_path, clock, members)
    # Every send to the first member fails (a server error; an answer PTB raises as an invalid
    # token): the others, sent after, still get theirs, and so do the next reminders.
    api.fail(failing, status, description)

    async with running(api, assistant, db_path, clock, reminder_interval=TICK):
        await reminded(api, others)
        await done(db_path, "reminder:2024:30")
        clock.set(SECOND_AT)
        await done(db_path, "reminder:2024:14")
        assert all(len(reminders_to(api, m)) == 2 for m in others)
        clock.set(SUMMARY_AT)
        await done(db_path, "summary:2024")
    assert reminders_to(api, failing) == []
    tried = rows(
        db_path,
        "SELECT reminder_key, status, attempts FROM deliveries WHERE user_id = ? ORDER BY 1",
        (f"tg:{failing}",),
    )
    assert tried == [
        ("reminder:2024:14", "failed", DELIVERY_TRIES),
        ("reminder:2024:30", "failed", DELIVERY_TRIES),
    ]
    assert errors(caplog) == []


async def test_reminders_skipped_at_start_are_one_line_a_year(
    api: FakeBotApi, assistant: Assistant, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(shanghai(2025, 6, 1, 9, 0))  # every reporting year is over
    async with running(api, assistant, db_path, clock, reminder_interval=TICK):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not rows(db_path, "SELECT 1 FROM state WHERE key = 'done:summary:2024'"):
            assert loop.time() < deadline
            await asyncio.sleep(0.05)
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.office.reminders"]
    assert [m.split("（")[0] for m in logged] == [
        f"{year} 年的 6 次提醒已超过宽限期，未发送" for year in (2022, 2023, 2024)
    ]
    assert "summary:2024" in logged[-1]


# --------------------------------------------------------------------------------------------
# Unreachable members, the summary, the chase-up
# --------------------------------------------------------------------------------------------


async def test_unreachable_members_the_summary_and_the_chase_up(
    api: FakeBotApi, assistant: Assistant, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(REMINDER_AT)
    civil, civil_2, blocked, education, tobacco, committee = 201, 202, 203, 204, 205, 206
    never, group_only = 207, 208
    await bind_directly(
        db_path,
        clock,
        [
            (civil, CIVIL),
            (civil_2, CIVIL),
            (blocked, "教育厅"),
            (education, "教育厅"),
            (tobacco, "省烟草专卖局"),
            (committee, COMMITTEE),
        ],
    )
    # Bound, but never wrote to the bot in private: one unknown to Telegram, one seen in a group.
    await bind_directly(db_path, clock, [(never, "教育厅"), (group_only, CIVIL)], private=False)
    await report(db_path, clock, CIVIL, ["5.1"])
    await report(db_path, clock, COMMITTEE, ["11.1", "16.1"])
    api.block(blocked)
    api.unknown_chat(never)
    coordinators = (COORDINATOR, COORDINATOR_2)
    bot = Users(api)

    async with running(
        api, assistant, db_path, clock, coordinators=coordinators, reminder_interval=TICK
    ):
        await reminded(api, [civil, civil_2, education, tobacco, group_only])
        await done(db_path, "reminder:2024:30")
        assert rows(
            db_path, "SELECT user_id, status, attempts FROM deliveries ORDER BY user_id"
        ) == [
            (f"tg:{civil}", "sent", 1),
            (f"tg:{civil_2}", "sent", 1),
            (f"tg:{blocked}", "blocked", 1),
            (f"tg:{education}", "sent", 1),
            (f"tg:{tobacco}", "sent", 1),
            (f"tg:{committee}", "sent", 1),
            (f"tg:{never}", "failed", 1),
            (f"tg:{group_only}", "sent", 1),
        ]
        reachable = rows(db_path, "SELECT reachable FROM users WHERE id = ?", (f"tg:{blocked}",))
        assert reachable == [(0,)]

        # The next reminder does not write to the member who blocked the bot.
        clock.set(SECOND_AT)
        await done(db_path, "reminder:2024:14")
        tried = Counter(c.params["chat_id"] for c in api.calls_of("sendMessage"))
        assert tried[blocked] == 1
        assert tried[civil] == 2

        # The day after the deadline: the summary, to every coordinator.
        clock.set(SUMMARY_AT)
        await done(db_path, "summary:2024")
        [summary] = api.sent_messages(COORDINATOR)
        assert api.sent_messages(COORDINATOR_2)[0]["text"] == summary["text"]
        lines = text(summary).split("\n")
        assert lines[0] == "2024 年度报送情况（截止 12 月 31 日）"
        silent = re.fullmatch(r"未报送任何举措的单位（(\d+) 个）：(.*)", lines[1])
        assert silent is not None
        assert "省烟草专卖局" in silent.group(2).split("、")
        assert "教育厅" in silent.group(2).split("、")
        assert CIVIL not in silent.group(2)
        assert COMMITTEE not in silent.group(2)
        assert f"{CIVIL}（缺 2 项）" in lines[2]
        assert f"{REFUSED}：User{blocked}（教育厅）" in lines
        never_line = next(ln for ln in lines if ln.startswith("从未与机器人私聊"))
        assert f"User{never}（教育厅）" in never_line
        assert f"User{group_only}（{CIVIL}）" in never_line
        assert labels(summary) == ["提醒未报送单位"]
        assert buttons(summary) == ["chase:2024"]
        # No reminder after the deadline: members got the two reminders only.
        assert len(reminders_to(api, civil)) == 2

        # The chase-up goes to exactly the reachable members of units with gaps.
        sent_before = {c: len(api.sent_messages(c)) for c in range(civil, group_only + 1)}
        answer = await bot.open(summary, "chase:2024")
        chased = {c for c in sent_before if len(api.sent_messages(c)) > sent_before[c]}
        assert chased == {civil, civil_2, education, tobacco, group_only}
        assert f"的 {len(chased)} 位成员发送催报提醒" in text(answer)
        for chat in chased:
            assert HEADER in text(api.sent_messages(chat)[-1])

        # Pressed again (by the other coordinator), nobody is chased twice the same day.
        again = await bot.open(api.sent_messages(COORDINATOR_2)[0], "chase:2024")
        assert "今天已催报过的成员不再重复发送" in text(again)
        assert "的 0 位成员" in text(again)
        assert {c: len(api.sent_messages(c)) for c in sent_before} == {
            c: sent_before[c] + (c in chased) for c in sent_before
        }
        # Only coordinators chase.
        refused = await bot.open(api.sent_messages(civil)[0], "chase:2024", strict=False)
        assert text(refused) == NOT_COORDINATOR
    check_every_send(api, refused=(400, 403))
    assert errors(caplog) == []


# --------------------------------------------------------------------------------------------
# /remind, /remind_test
# --------------------------------------------------------------------------------------------


async def test_remind_off_and_on(
    api: FakeBotApi, assistant: Assistant, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(shanghai(2024, 11, 30, 10, 0))
    quiet, other = 301, 302
    await bind_directly(db_path, clock, [(quiet, CIVIL), (other, CIVIL)])
    bot = Users(api)

    async with running(api, assistant, db_path, clock, reminder_interval=TICK):
        status = await bot.say(quiet, "/remind")
        assert text(status) == "年度报送提醒：开启。下次提醒：2024-12-01 09:00。"
        off = await bot.say(quiet, "/remind off")
        assert text(off) == "已关闭年度报送提醒。发送 /remind on 重新开启。"
        status = await bot.say(quiet, "/remind")
        assert text(status) == "年度报送提醒：关闭。下次提醒：2024-12-01 09:00。"
        usage = await bot.say(quiet, "/remind 明天")
        assert text(usage) == "用法：/remind 查看下次提醒，/remind on 开启，/remind off 关闭。"

        clock.set(REMINDER_AT)
        await done(db_path, "reminder:2024:30")
        assert len(reminders_to(api, other)) == 1
        assert reminders_to(api, quiet) == []

        on = await bot.say(quiet, "/remind on")
        assert text(on) == "年度报送提醒：开启。下次提醒：2024-12-17 09:00。"
        clock.set(SECOND_AT)
        await done(db_path, "reminder:2024:14")
        assert len(reminders_to(api, quiet)) == 1
        assert len(reminders_to(api, other)) == 2

        # A coordinator sees what a unit would get, at once.
        preview = await bot.say(COORDINATOR, f"/remind_test {CIVIL}")
        assert text(preview).split("\n")[0] == HEADER
        assert buttons(preview) == [f"nm:{m}" for m in missing(assistant, CIVIL)]
        assert text(await bot.say(COORDINATOR, "/remind_test")) == (
            "请写单位名称，例如：/remind_test 人社厅（或先绑定单位）。"
        )
        assert text(await bot.say(quiet, f"/remind_test {CIVIL}")) == NOT_COORDINATOR

        clock.set(SUMMARY_AT)
        after = await bot.say(quiet, "/remind")
        assert text(after) == "年度报送提醒：开启。报送年份已结束，暂无后续提醒。"
    check_every_send(api)
    assert errors(caplog) == []


async def test_a_chase_up_does_not_hold_up_other_users(
    api: FakeBotApi, assistant: Assistant, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(SUMMARY_AT)
    members = [user for user, _ in spread(60)]
    await bind_directly(db_path, clock, spread(60))

    async with running(api, assistant, db_path, clock, reminder_interval=TICK):
        await done(db_path, "summary:2024")
        [summary] = api.sent_messages(COORDINATOR)
        since = len(api.calls)
        query = api.press_button(COORDINATOR, summary["message_id"], "chase:2024")
        api.send_text(SETTLER, "7.2")  # someone asks while the chase-up goes out

        [answered] = await api.wait_for(
            lambda c: c.method == "answerCallbackQuery" and c.params["callback_query_id"] == query,
            since=since,
        )
        [question] = await api.wait_for(
            lambda c: c.method == "sendMessage" and c.params["chat_id"] == SETTLER, since=since
        )
        await reminded(api, members)
        [reply] = await api.wait_for(
            lambda c: c.method == "sendMessage" and c.params["chat_id"] == COORDINATOR,
            since=since,
        )
        chase = [c for c in api.calls[since:] if c.params.get("chat_id") in set(members)]
        assert len(chase) == len(members)
        assert answered.at < chase[0].at  # the button is acknowledged at once
        assert question.at < chase[-1].at  # the question did not wait for the chase-up
        assert chase[-1].at < reply.at
        assert "的 60 位成员发送催报提醒" in reply.params["text"]
    check_every_send(api)
    assert errors(caplog) == []

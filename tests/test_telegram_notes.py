"""End to end on Telegram: a note goes to the unit it was meant for, survives a restart, is
visible; one bind request per person; a decision's notice survives a crash.

The real Application polls the fake Bot API on a real SQLite file; a restart closes the
Application (and its store) and builds a new one on the same file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.office.notes import EMPTY_NOTE, UNREADABLE_HINT
from bot.store import Store
from tests.fakes.bot_api import FakeBotApi
from tests.harness import (
    COORDINATOR,
    COORDINATOR_2,
    HRSS,
    LI,
    ZHANG,
    FakeClock,
    Start,
    bind_directly,
    data_of,
    rows,
    shanghai,
    snapshot,
    text,
)

START = shanghai(2024, 3, 2, 9, 0)
TOBACCO = "省烟草专卖局"  # not responsible for 5.1


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def notes(db_path: Path) -> list[tuple[str, str, str]]:
    return rows(db_path, "SELECT unit, measure_id, text FROM notes ORDER BY id")


def told(api: FakeBotApi, user: int) -> list[str]:
    return [text(m) for m in api.sent_messages(user)]


async def test_a_note_started_before_a_move_is_not_filed_for_the_new_unit(
    bot_at: Start, api: FakeBotApi, db_path: Path
) -> None:
    await bind_directly(db_path, FakeClock(START), [(ZHANG, HRSS)])
    async with bot_at() as bot:
        assert text(await bot.say(ZHANG, "/note 5.1")).startswith("请发送举措 5.1 的进展")
        await bot.say(ZHANG, "/bind 烟草专卖局")
        [card] = await api.wait_for_messages(COORDINATOR)
        before = len(api.sent_messages(ZHANG))
        await bot.edit(card, data_of(card, "批准"))
        [notice] = (await api.wait_for_messages(ZHANG, before + 1))[before:]

        answer = await bot.say(ZHANG, "今年新建残疾人之家12个")

        assert not text(answer).startswith("已记录")
        assert notes(db_path) == []  # not (省烟草专卖局, 5.1, …): 5.1 is not the bureau's
        assert rows(db_path, "SELECT unit FROM members") == [(TOBACCO,)]
        assert text(notice).split("\n") == [
            f"您绑定到「{TOBACCO}」的申请已获批准，现在可以用 /note 报送进展。",
            "您正在填写的举措 5.1 的进展已取消（所属单位已变更），未保存任何内容。",
        ]


async def test_a_pending_note_survives_a_restart(
    bot_at: Start,
    api: FakeBotApi,
    db_path: Path,
    clock: FakeClock,
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS)])
    async with bot_at() as bot:
        await bot.say(ZHANG, "/note 5.1")
    clock.advance(minutes=9)

    async with bot_at() as bot:
        saved = await bot.say(ZHANG, "重启前开始，重启后发送")
        assert text(saved).startswith(f"已记录「{HRSS}」举措 5.1 的 2024 年进展")
        assert notes(db_path) == [(HRSS, "5.1", "重启前开始，重启后发送")]
        assert text(await bot.say(ZHANG, "/cancel")) == "当前没有进行中的操作。"


async def test_a_pending_note_expired_across_a_restart_is_not_answered_as_a_question(
    bot_at: Start,
    api: FakeBotApi,
    db_path: Path,
    clock: FakeClock,
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS)])
    async with bot_at() as bot:
        await bot.say(ZHANG, "/note 5.1")
        await bot.say(LI, "/note 5.1")  # not a member: no flow
    clock.advance(minutes=10, seconds=1)

    async with bot_at() as bot:
        late = await bot.say(ZHANG, "7.2")  # would be answered as a question
        assert text(late).split("\n") == [
            "上一次报送已超时（10 分钟），内容未保存。",
            "您刚才发送的内容如下，如需报送请重新发送 /note：",
            "7.2",
        ]
        assert text(await bot.say(ZHANG, "7.2")).startswith("举措 7.2")
        assert notes(db_path) == []


async def test_cancel_still_aborts_after_a_restart(
    bot_at: Start, db_path: Path, clock: FakeClock
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS)])
    async with bot_at() as bot:
        await bot.say(ZHANG, "/note 5.1")
    async with bot_at() as bot:
        assert text(await bot.say(ZHANG, "/cancel")) == "已取消。"
        assert text(await bot.say(ZHANG, "7.2")).startswith("举措 7.2")
        assert notes(db_path) == []


async def test_an_invisible_note_is_refused_and_control_characters_are_dropped(
    bot_at: Start, db_path: Path, clock: FakeClock
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, HRSS)])
    async with bot_at() as bot:
        for invisible in ("\u200b", "\ufeff\u2060", "\u200b \u3000\u200b"):
            # Invisible characters are dropped as the message comes in: a /note without text.
            asked = await bot.say(ZHANG, f"/note 5.1 {invisible}")
            assert text(asked).startswith("请发送举措 5.1 的进展")
            assert text(await bot.say(ZHANG, invisible)) == EMPTY_NOTE
        saved = await bot.say(ZHANG, "\u200b第一行\n第\x07二行\u2060")
        assert text(saved).endswith("第一行\n第二行")
        assert notes(db_path) == [(HRSS, "5.1", "第一行\n第二行")]


async def test_bind_twenty_times_sends_one_card(
    bot_at: Start, api: FakeBotApi, db_path: Path, clock: FakeClock
) -> None:
    async with bot_at() as bot:
        first = await bot.say(ZHANG, "/bind 人社厅")
        assert text(first) == f"已提交绑定「{HRSS}」的申请，协调人审批后会通知您。"
        for _ in range(19):
            clock.advance(seconds=1)  # one a second: within the per-person rate
            again = await bot.say(ZHANG, "/bind 人社厅")
            assert text(again).startswith("已提交，等待审批")
        await bot.settle()
        assert len(api.sent_messages(COORDINATOR)) == 1
        assert len(api.sent_messages(COORDINATOR_2)) == 1
        assert rows(db_path, "SELECT unit, status FROM bind_requests") == [(HRSS, "pending")]

        clock.advance(minutes=10)  # another unit: one request a person per 10 minutes
        other = await bot.say(ZHANG, "/bind 教育厅")
        assert text(other).split("\n") == [
            "已提交绑定「教育厅」的申请，协调人审批后会通知您。",
            f"您之前绑定「{HRSS}」的申请已作废。",
        ]
        await api.wait_for_messages(COORDINATOR, 2)
        assert rows(db_path, "SELECT unit, status FROM bind_requests ORDER BY id") == [
            (HRSS, "replaced"),
            ("教育厅", "pending"),
        ]


@pytest.mark.parametrize("approve", [True, False])
async def test_a_decision_committed_before_a_crash_is_told_at_the_next_start(
    bot_at: Start,
    api: FakeBotApi,
    db_path: Path,
    clock: FakeClock,
    approve: bool,
) -> None:
    async with bot_at() as bot:
        await bot.say(ZHANG, "/bind 人社厅")
        [card] = await api.wait_for_messages(COORDINATOR)
    # The bot commits the decision and dies before the member is told: the database is left
    # as that transaction left it.
    [(request_id,)] = rows(db_path, "SELECT id FROM bind_requests")
    async with await Store.open(db_path, clock) as store:
        await store.members.decide(request_id, approve, f"tg:{COORDINATOR}")
    before = len(api.sent_messages(ZHANG))

    async with bot_at() as bot:
        [notice] = (await api.wait_for_messages(ZHANG, before + 1))[before:]
        verdict = "已获批准，现在可以用 /note 报送进展。" if approve else "未获批准。"
        assert text(notice).startswith(f"您绑定到「{HRSS}」的申请{verdict}")
        again = await bot.open(card, data_of(card, "批准"), strict=False)
        assert text(again) == f"这条申请{'已批准' if approve else '已拒绝'}，无需再次处理。"
        await bot.settle()
        assert len(api.sent_messages(ZHANG)) == before + 1
    assert rows(db_path, "SELECT user_id, status FROM notices") == [(f"tg:{ZHANG}", "sent")]

    async with bot_at() as bot:  # sent once: not again at the next start
        await bot.settle()
    assert len(api.sent_messages(ZHANG)) == before + 1


async def test_a_notice_is_marked_only_by_what_the_channel_answered(
    bot_at: Start, api: FakeBotApi, db_path: Path
) -> None:
    async with bot_at(refused=(403,)) as bot:
        await bot.say(ZHANG, "/bind 人社厅")
        await bot.say(LI, "/bind 教育厅")
        zhang_card, li_card = await api.wait_for_messages(COORDINATOR, 2)
        api.block(LI)
        await bot.edit(zhang_card, data_of(zhang_card, "批准"))
        await bot.edit(li_card, data_of(li_card, "拒绝"))
        await bot.settle()
        before = snapshot(db_path)
    assert rows(db_path, "SELECT user_id, kind, status FROM notices ORDER BY id") == [
        (f"tg:{ZHANG}", "approved", "sent"),
        (f"tg:{LI}", "rejected", "blocked"),
    ]
    async with bot_at(refused=(403,)) as bot:  # nothing pending: nothing resent
        await bot.settle()
    assert snapshot(db_path) == before


async def test_characters_no_file_can_hold_are_left_out_of_notes_and_names(
    bot_at: Start, api: FakeBotApi, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A lone surrogate (JSON's "\ud800") used to fail in SQLite: 出错了, the note in the log.
    api.set_user(LI, first_name="李\u202e四\ufffe")
    await bind_directly(db_path, FakeClock(START), [(ZHANG, HRSS)])
    async with bot_at() as bot:
        answer = await bot.say(ZHANG, "/note 5.1 今年完成\ufffe培训\u202e\ud800")
        await bot.say(LI, "/bind 人社厅")

    assert text(answer).startswith("已记录")
    assert text(answer).endswith(UNREADABLE_HINT)
    assert notes(db_path) == [(HRSS, "5.1", "今年完成培训\ufffd")]
    assert rows(db_path, "SELECT name FROM users WHERE id = ?", (f"tg:{LI}",)) == [("李四",)]
    assert "今年完成" not in caplog.text


async def test_questions_before_a_note_do_not_keep_its_text_from_being_filed(
    bot_at: Start, db_path: Path, clock: FakeClock
) -> None:
    # Questions read "no note awaited" once; /note must still make the next text the note.
    await bind_directly(db_path, clock, [(ZHANG, HRSS)])
    async with bot_at() as bot:
        for _ in range(2):
            assert text(await bot.say(ZHANG, "7.2")).startswith("举措 7.2")
        assert text(await bot.say(ZHANG, "/note 5.1")).startswith("请发送举措 5.1 的进展")
        filed = await bot.say(ZHANG, "7.2")
        assert text(filed).startswith(f"已记录「{HRSS}」举措 5.1 的 2024 年进展")
        assert text(await bot.say(ZHANG, "7.2")).startswith("举措 7.2")  # a question again
        assert text(await bot.say(ZHANG, "/note 5.1")).startswith("请发送举措 5.1 的进展")
        assert text(await bot.say(ZHANG, "第二条")).startswith("已记录")
    assert notes(db_path) == [(HRSS, "5.1", "7.2"), (HRSS, "5.1", "第二条")]

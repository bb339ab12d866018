"""End to end on Telegram: a coordinator records a merger; members are moved and told.

The real Application polls the fake Bot API and loads the documents of a copy of data/ (the
command writes into its units.yaml); the database is a real SQLite file.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.store import Store
from tests.fakes.bot_api import FakeBotApi
from tests.harness import (
    COORDINATOR,
    LI,
    WANG,
    ZHANG,
    FakeClock,
    Users,
    bind_directly,
    buttons,
    data_of,
    labels,
    nav,
    rows,
    running,
    shanghai,
    text,
)
from tests.unitdata import AGRI, RURAL, copy_data, merge_by_hand

START = shanghai(2024, 3, 2, 9, 0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return copy_data(tmp_path)


def unit_of(db_path: Path, user: int) -> str | None:
    found = rows(db_path, "SELECT unit FROM members WHERE user_id = ?", (f"tg:{user}",))
    return found[0][0] if found else None


async def told(api: FakeBotApi, user: int, before: int) -> str:
    """The next message the user got after `before` messages."""
    return text((await api.wait_for_messages(user, before + 1))[before])


async def every_page(users: Users, message: dict[str, Any]) -> str:
    """The text of every page of a paginated answer, turning its pages."""
    shown = nav(message)
    assert shown is not None
    token, _, count = shown
    pages = [text(message)]
    for page in range(1, count):
        message = await users.edit(message, f"pg:{token}:{page}")
        pages.append(text(message))
    return "\n".join(pages)


@pytest.fixture
async def bot(
    api: FakeBotApi, db_path: Path, clock: FakeClock, data: Path
) -> AsyncIterator[Users]:
    await bind_directly(db_path, clock, [(ZHANG, RURAL), (LI, AGRI)])
    async with running(api, None, db_path, clock, data_dir=data):
        yield Users(api)


async def test_a_merger_recorded_on_telegram_moves_and_tells_the_members(
    bot: Users, api: FakeBotApi, db_path: Path, data: Path
) -> None:
    asked = await bot.say(COORDINATOR, "/unit_change 乡村振兴局 并入 农业农村厅 2024-01-01")
    assert "请确认单位变更" in text(asked)
    assert labels(asked) == ["确认", "取消"]
    assert unit_of(db_path, ZHANG) == RURAL  # nothing before the confirmation
    before = len(api.sent_messages(ZHANG))

    done = await bot.edit(asked, data_of(asked, "确认"))

    assert f"已记录：「{RURAL}」自 2024-01-01 起并入「{AGRI}」。" in text(done)
    assert labels(done) == ["撤销"]
    notice = await told(api, ZHANG, before)
    assert f"「{RURAL}」已于2024年起并入{AGRI}，您已转为「{AGRI}」的成员" in notice
    assert unit_of(db_path, ZHANG) == AGRI
    assert unit_of(db_path, LI) == AGRI
    assert "merged_into: 农业农村厅" in (data / "units.yaml").read_text(encoding="utf-8")
    audit = rows(db_path, "SELECT action, unit FROM audit WHERE action LIKE 'unit.%'")
    assert ("unit.change", RURAL) in audit
    assert ("unit.move", AGRI) in audit
    # The bureau's liaison now asks as the department's: its measures include the bureau's.
    own = text(await bot.say(ZHANG, "农业农村厅负责哪些"))
    assert "6.3 【实施农村残疾人就业帮扶行动】" in own
    assert f"（原{RURAL}）" in own
    old = text(await bot.say(WANG, "乡村振兴局负责什么"))
    assert old.startswith(f"原{RURAL}（2024年起并入{AGRI}）")
    # The reporting answer lists the inherited measure among the unit's gaps.
    gaps = text(await bot.say(ZHANG, "我们还差哪些没报"))
    assert "6.3" in gaps
    assert f"「{AGRI}」" in gaps

    before = len(api.sent_messages(ZHANG))
    undone = await bot.edit(done, data_of(done, "撤销"))

    assert f"已撤销：「{RURAL}」自 2024-01-01 起并入「{AGRI}」。1 名成员已转回" in text(undone)
    assert f"您已转为「{RURAL}」的成员" in await told(api, ZHANG, before)
    assert unit_of(db_path, ZHANG) == RURAL
    assert unit_of(db_path, LI) == AGRI
    assert "merged_into" not in (data / "units.yaml").read_text(encoding="utf-8")


async def test_a_change_written_into_units_yaml_is_followed_at_the_next_start(
    api: FakeBotApi, db_path: Path, clock: FakeClock, data: Path
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, RURAL)])
    merge_by_hand(data)
    async with running(api, None, db_path, clock, data_dir=data):
        notice = await told(api, ZHANG, 0)
        assert f"您已转为「{AGRI}」的成员" in notice
        assert unit_of(db_path, ZHANG) == AGRI
        whoami = text(await Users(api).say(ZHANG, "/whoami"))
        assert f"所属单位：{AGRI}" in whoami


async def test_members_of_other_units_cannot_record_a_change(bot: Users, db_path: Path) -> None:
    answer = text(await bot.say(LI, "/unit_change 乡村振兴局 并入 农业农村厅 2024-01-01"))
    assert "只有协调人" in answer
    assert unit_of(db_path, ZHANG) == RURAL


async def test_after_a_merger_progress_export_and_reminders_count_the_bureau_in_the_department(
    api: FakeBotApi, db_path: Path, data: Path
) -> None:
    clock = FakeClock(shanghai(2024, 12, 1, 9, 0))  # the first reminder of 2024
    await bind_directly(db_path, clock, [(ZHANG, RURAL), (LI, AGRI)])
    async with await Store.open(db_path, clock) as store:
        # Filed by the bureau before it merged: 6.1 in 2023, 6.1 and 6.3 early in 2024.
        await store.notes.add(RURAL, "6.1", 2023, f"tg:{ZHANG}", "张三", "二〇二三年 6.1")
        await store.notes.add(RURAL, "6.1", 2024, f"tg:{ZHANG}", "张三", "二〇二四年 6.1")
    merge_by_hand(data, "2024-02-01")
    async with running(api, None, db_path, clock, data_dir=data, reminder_interval=0.2):
        users = Users(api)
        # Both members now are the department's; its reminder lists the bureau's 6.3, not 6.1.
        for user in (ZHANG, LI):
            messages = await api.wait_for_messages(user, 2 if user == ZHANG else 1)
            [reminder] = [m for m in messages if "年度进展报送提醒" in text(m)]
            assert f"「{AGRI}」还有 4 项举措未报送" in text(reminder)
            assert buttons(reminder) == ["nm:6.2", "nm:6.3", "nm:11.1", "nm:16.1"]

        now = await every_page(users, await users.say(COORDINATOR, "/progress 2024"))
        assert f"{AGRI}：1/5 项举措已报送" in now
        assert f"{RURAL}：" not in now
        then = await every_page(users, await users.say(COORDINATOR, "/progress 2023"))
        assert f"{RURAL}：1/4 项举措已报送" in then
        assert f"{AGRI}：0/4 项举措已报送" in then

        before = len(api.calls_of("sendDocument"))
        await users.say(COORDINATOR, "/export 2024")
        [call] = (await api.wait_for("sendDocument", count=before + 1))[before:]
        matrix = load_workbook(io.BytesIO(call.params["document"].content))["单位×举措"]
        table = {r[0]: r for r in matrix.iter_rows(values_only=True) if r[0]}
        columns = table["单位"]
        assert RURAL not in table
        assert table[AGRI][columns.index("6.1")] == 1
        assert table[AGRI][columns.index("6.3")] is None  # owed, unreported (yellow)

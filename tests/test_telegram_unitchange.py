"""End to end on Telegram: a coordinator records a merger; members are moved and told.

The real Application polls the fake Bot API and loads the documents of a copy of data/ (the
command writes into its units.yaml); the database is a real SQLite file.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.bot_api import FakeBotApi
from tests.harness import (
    COORDINATOR,
    LI,
    ROOT,
    WANG,
    ZHANG,
    FakeClock,
    Users,
    bind_directly,
    data_of,
    labels,
    rows,
    running,
    shanghai,
    text,
)

RURAL, AGRI = "省乡村振兴局", "农业农村厅"
START = shanghai(2024, 3, 2, 9, 0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "data", folder)
    return folder


def unit_of(db_path: Path, user: int) -> str | None:
    found = rows(db_path, "SELECT unit FROM members WHERE user_id = ?", (f"tg:{user}",))
    return found[0][0] if found else None


async def told(api: FakeBotApi, user: int, before: int) -> str:
    """The next message the user got after `before` messages."""
    return text((await api.wait_for_messages(user, before + 1))[before])


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

    assert f"已记录：「{RURAL}」2024年起并入{AGRI}" in text(done)
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

    assert f"已撤销：「{RURAL}」2024年起并入{AGRI}。1 名成员已转回" in text(undone)
    assert f"您已转为「{RURAL}」的成员" in await told(api, ZHANG, before)
    assert unit_of(db_path, ZHANG) == RURAL
    assert unit_of(db_path, LI) == AGRI
    assert "merged_into" not in (data / "units.yaml").read_text(encoding="utf-8")


async def test_a_change_written_into_units_yaml_is_followed_at_the_next_start(
    api: FakeBotApi, db_path: Path, clock: FakeClock, data: Path
) -> None:
    await bind_directly(db_path, clock, [(ZHANG, RURAL)])
    units = data / "units.yaml"
    units.write_text(
        units.read_text(encoding="utf-8").replace(
            "    aliases: [乡村振兴局]\n",
            "    aliases: [乡村振兴局]\n    merged_into: 农业农村厅\n    since: 2024-01-01\n",
        ),
        encoding="utf-8",
    )
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

"""Tests for bot.office.reminders: the schedule, what is due, the durable fan-out, the summary.

The schedule and `due` are pure functions of the configuration and the time. `Reminders` runs
on a real Store (a SQLite file in tmp_path) and a real Office; messages go to `FakeSender`,
which records who was sent what and answers with scripted results.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.ask.assistant import Assistant
from bot.channel import Result
from bot.clock import TZ
from bot.config import ReminderConfig
from bot.office.office import Office
from bot.office.reminders import (
    DELIVERY_TRIES,
    Reminder,
    Reminders,
    deadline,
    due,
    next_reminder,
    schedule,
)
from bot.outcome import Outcome, Person
from bot.reply import Reply, all_buttons, render_plain
from bot.store import Store
from tests.fakes.clock import FakeClock

DEFAULT = ReminderConfig()  # deadline 12-31; 30/14/7/3/1 days before at 09:00 Asia/Shanghai
# The store fixture's backends (tests/conftest.py): deliveries and notices on both.
BACKENDS = ("sqlite", "postgres")
PERIOD = (2022, 2023, 2024)  # the plan's period: the default reporting years

TOBACCO = "省烟草专卖局"  # duties 2.3, 11.1, 16.1: gaps (11.1 reported)
CIVIL = "民政厅"  # duties 5.1, 11.1, 16.1: everything reported
POST = "省邮政分公司"  # duties 2.2, 11.1, 16.1: nothing reported

C1 = Person("c1", "协调人甲")
ZHANG, LI, WANG, ZHAO = (
    Person("u1", "张三"),
    Person("u2", "李四"),
    Person("u3", "王五"),
    Person("u4", "赵六"),
)

NOT_COORDINATOR = "只有协调人"
EXPIRED_BUTTON = "按钮已过期"


def at(*args: int) -> dt.datetime:
    """A moment in Asia/Shanghai."""
    return dt.datetime(*args, tzinfo=TZ)


# --- fakes ----------------------------------------------------------------------------------


class Crash(BaseException):
    """The process dies in the middle of a fan-out.

    A BaseException, as a cancellation is: no `except Exception` in the bot stops it (a
    recipient's failure, an Exception, is the next test's subject).
    """


@dataclass
class FakeSender:
    """Records each attempt; answers `results[user]` (default "sent").

    `crash_at=k` simulates the process dying at the (k+1)-th call. With `in_flight=False` it
    dies before the message leaves (the user gets nothing). With `in_flight=True` the message
    is delivered and the process dies before the fan-out can record it (`mark_delivery`).
    """

    results: dict[str, Result] = field(default_factory=dict)
    crash_at: int | None = None
    in_flight: bool = False
    calls: list[tuple[str, Reply]] = field(default_factory=list)

    async def __call__(self, user_id: str, reply: Reply) -> Result:
        if self.crash_at is not None and len(self.calls) == self.crash_at:
            if self.in_flight:
                self.calls.append((user_id, reply))
            raise Crash(user_id)
        self.calls.append((user_id, reply))
        return self.results.get(user_id, "sent")

    @property
    def to(self) -> list[str]:
        """The users called, in order."""
        return [user for user, _ in self.calls]

    def reply_to(self, user_id: str) -> Reply:
        (reply,) = [r for u, r in self.calls if u == user_id]
        return reply


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at(2024, 11, 1, 9, 0))


@pytest.fixture
def office(assistant: Assistant, store: Store, clock: FakeClock) -> Office:
    return Office(assistant, store, frozenset({"c1"}), clock=clock)


@pytest.fixture
def reminders(office: Office) -> Reminders:
    return Reminders(office.membership, ReminderConfig())


@pytest.fixture
async def members(store: Store) -> None:
    """Two members of TOBACCO, one of CIVIL, one of POST; notes filed for 2024.

    Everyone but 赵六 has opened a private chat with the bot.
    """
    for person, unit in ((ZHANG, TOBACCO), (LI, TOBACCO), (WANG, CIVIL), (ZHAO, POST)):
        await store.members.bind(person.id, person.name, unit, "c1")
    for person in (ZHANG, LI, WANG):
        await store.users.upsert(person.id, person.name, True)
    await store.notes.add(TOBACCO, "11.1", 2024, "u1", "张三", "已落实")
    # Neither a note of another year nor a deleted note counts for 2024.
    await store.notes.add(TOBACCO, "2.3", 2023, "u1", "张三", "去年的进展")
    deleted = await store.notes.add(TOBACCO, "16.1", 2024, "u1", "张三", "写错了")
    await store.notes.delete(deleted.id, "u1")
    for measure in ("5.1", "11.1", "16.1"):
        await store.notes.add(CIVIL, measure, 2024, "u3", "王五", f"{measure} 已完成")


# --- helpers --------------------------------------------------------------------------------


def plain(reply: Reply | Outcome) -> str:
    return render_plain(reply.reply if isinstance(reply, Outcome) else reply)


def actions(reply: Reply) -> list[str]:
    return [b.action for b in all_buttons(reply)]


def listed(text: str, heading: str) -> list[str]:
    """The names listed on the summary line that starts with `heading`."""
    (row,) = [ln for ln in text.splitlines() if ln.startswith(heading)]
    return row.split("：", 1)[1].split("、")


def wall(moment: dt.datetime) -> tuple[str, dt.datetime]:
    """The time zone and the wall-clock time of an aware datetime."""
    assert isinstance(moment.tzinfo, ZoneInfo)
    return moment.tzinfo.key, moment.replace(tzinfo=None)


def naive(*args: int) -> dt.datetime:
    return dt.datetime(*args)  # noqa: DTZ001


# --- the schedule ---------------------------------------------------------------------------


def test_schedule_of_one_year_with_the_default_config() -> None:
    got = schedule(DEFAULT, (2024,))

    assert [(r.key, r.kind, r.year, r.days_before) for r in got] == [
        ("reminder:2024:30", "reminder", 2024, 30),
        ("reminder:2024:14", "reminder", 2024, 14),
        ("reminder:2024:7", "reminder", 2024, 7),
        ("reminder:2024:3", "reminder", 2024, 3),
        ("reminder:2024:1", "reminder", 2024, 1),
        ("summary:2024", "summary", 2024, 0),
    ]
    # Aware datetimes in Asia/Shanghai, at 09:00 wall-clock time (UTC+8).
    assert [wall(r.at) for r in got] == [
        ("Asia/Shanghai", naive(2024, 12, 1, 9, 0)),
        ("Asia/Shanghai", naive(2024, 12, 17, 9, 0)),
        ("Asia/Shanghai", naive(2024, 12, 24, 9, 0)),
        ("Asia/Shanghai", naive(2024, 12, 28, 9, 0)),
        ("Asia/Shanghai", naive(2024, 12, 30, 9, 0)),
        # The summary: the day after the deadline, which is in the next year.
        ("Asia/Shanghai", naive(2025, 1, 1, 9, 0)),
    ]
    assert all(r.at.utcoffset() == dt.timedelta(hours=8) for r in got)
    assert got[-1].at == dt.datetime(2025, 1, 1, 1, 0, tzinfo=dt.UTC)


def test_schedule_over_the_whole_period_is_in_time_order() -> None:
    got = schedule(DEFAULT, PERIOD)

    assert [r.key for r in got] == [
        key
        for year in PERIOD
        for key in (
            f"reminder:{year}:30",
            f"reminder:{year}:14",
            f"reminder:{year}:7",
            f"reminder:{year}:3",
            f"reminder:{year}:1",
            f"summary:{year}",
        )
    ]
    assert [r.at for r in got] == sorted(r.at for r in got)
    assert len({r.key for r in got}) == len(got) == 18
    # Each year's summary comes before the next year's first reminder.
    summary_2022 = next(r for r in got if r.key == "summary:2022")
    assert wall(summary_2022.at) == ("Asia/Shanghai", naive(2023, 1, 1, 9, 0))


def test_schedule_years_given_out_of_order_still_come_in_time_order() -> None:
    assert [r.key for r in schedule(DEFAULT, (2024, 2023))][:2] == [
        "reminder:2023:30",
        "reminder:2023:14",
    ]


@pytest.mark.parametrize(
    ("year", "month_day", "weekday"),
    [
        (2018, (12, 31), 0),  # Monday
        (2019, (12, 31), 1),  # Tuesday
        (2025, (12, 31), 2),  # Wednesday
        (2020, (12, 31), 3),  # Thursday
        (2021, (12, 31), 4),  # Friday
        (2022, (12, 31), 5),  # Saturday
        (2023, (12, 31), 6),  # Sunday
        (2024, (6, 30), 6),  # Sunday, a custom deadline
        (2024, (3, 15), 4),  # Friday, reminders reaching back into February of a leap year
    ],
)
def test_reminders_fire_the_configured_days_before_whatever_the_weekday(
    year: int, month_day: tuple[int, int], weekday: int
) -> None:
    config = ReminderConfig(deadline=month_day)
    end = dt.date(year, *month_day)
    assert end.weekday() == weekday  # the case this parameter set is about

    got = schedule(config, (year,))

    assert deadline(config, year) == end
    assert [(r.key, r.at) for r in got] == [
        *(
            (
                f"reminder:{year}:{days}",
                dt.datetime.combine(end - dt.timedelta(days=days), dt.time(9, 0), TZ),
            )
            for days in (30, 14, 7, 3, 1)
        ),
        (f"summary:{year}", dt.datetime.combine(end + dt.timedelta(days=1), dt.time(9), TZ)),
    ]


def test_deadline_on_29_february_falls_back_to_the_28th_in_a_common_year() -> None:
    config = ReminderConfig(deadline=(2, 29), days_before=(1,))

    assert deadline(config, 2023) == dt.date(2023, 2, 28)
    assert deadline(config, 2024) == dt.date(2024, 2, 29)
    assert [(r.key, r.at) for r in schedule(config, (2023, 2024))] == [
        ("reminder:2023:1", at(2023, 2, 27, 9, 0)),
        ("summary:2023", at(2023, 3, 1, 9, 0)),
        ("reminder:2024:1", at(2024, 2, 28, 9, 0)),
        ("summary:2024", at(2024, 3, 1, 9, 0)),
    ]


def test_custom_days_time_and_timezone() -> None:
    config = ReminderConfig(
        deadline=(6, 30),
        days_before=(10, 2, 0),
        time_of_day=dt.time(18, 30),
        timezone="Europe/Berlin",
    )

    got = schedule(config, (2024,))

    assert [(r.key, *wall(r.at)) for r in got] == [
        ("reminder:2024:10", "Europe/Berlin", naive(2024, 6, 20, 18, 30)),
        ("reminder:2024:2", "Europe/Berlin", naive(2024, 6, 28, 18, 30)),
        ("reminder:2024:0", "Europe/Berlin", naive(2024, 6, 30, 18, 30)),
        ("summary:2024", "Europe/Berlin", naive(2024, 7, 1, 18, 30)),
    ]
    # Summer time in Berlin: 18:30 there is 00:30 the next day in Shanghai.
    assert got[0].at.utcoffset() == dt.timedelta(hours=2)
    assert got[0].at == at(2024, 6, 21, 0, 30)


def test_custom_deadline_early_in_the_year_reaches_back_into_the_previous_year() -> None:
    config = ReminderConfig(deadline=(1, 10), days_before=(14,))

    assert [(r.key, r.at) for r in schedule(config, (2025,))] == [
        ("reminder:2025:14", at(2024, 12, 27, 9, 0)),
        ("summary:2025", at(2025, 1, 11, 9, 0)),
    ]


# --- next_reminder --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(2024, 1, 15, 12, 0), "reminder:2024:30"),
        (at(2024, 12, 1, 8, 59, 59), "reminder:2024:30"),
        (at(2024, 12, 1, 9, 0), "reminder:2024:14"),  # exactly at a send: the one after
        (at(2024, 12, 1, 9, 0, 1), "reminder:2024:14"),
        (at(2024, 12, 30, 9, 0), "summary:2024"),
        (at(2023, 1, 1, 9, 0), "reminder:2023:30"),  # exactly at the 2022 summary
        (at(2022, 12, 31, 23, 0), "summary:2022"),  # the year boundary
        # The same instant in UTC as 2024-12-01 09:00 in Shanghai.
        (dt.datetime(2024, 12, 1, 1, 0, tzinfo=dt.UTC), "reminder:2024:14"),
    ],
)
def test_next_reminder_is_the_first_send_strictly_after_now(
    now: dt.datetime, expected: str
) -> None:
    upcoming = next_reminder(DEFAULT, PERIOD, now)

    assert upcoming is not None
    assert upcoming.key == expected


@pytest.mark.parametrize(
    "now", [at(2025, 1, 1, 9, 0), at(2025, 1, 2, 0, 0), at(2026, 11, 29, 10, 0)]
)
def test_next_reminder_is_none_after_the_period(now: dt.datetime) -> None:
    assert next_reminder(DEFAULT, PERIOD, now) is None


def test_next_reminder_without_years_is_none() -> None:
    assert next_reminder(DEFAULT, (), at(2024, 1, 1, 0, 0)) is None


# --- due ------------------------------------------------------------------------------------


def keys(reminders: list[Reminder]) -> list[str]:
    return [r.key for r in reminders]


def test_nothing_is_due_before_the_first_send() -> None:
    assert due(DEFAULT, (2024,), at(2024, 12, 1, 8, 59, 59), set()) == ([], [])


def test_a_reminder_is_due_at_its_minute() -> None:
    send, skip = due(DEFAULT, (2024,), at(2024, 12, 1, 9, 0), set())

    assert keys(send) == ["reminder:2024:30"]
    assert skip == []


@pytest.mark.parametrize(
    ("now", "sent"),
    [
        (at(2024, 12, 2, 9, 0), True),  # the bot was down a day: caught up
        (at(2024, 12, 3, 9, 0), True),  # exactly grace_days (2) late: still sent
        (at(2024, 12, 3, 9, 0, 1), False),  # one second past the grace period
        (at(2024, 12, 4, 9, 0), False),  # down three days: skipped
    ],
)
def test_catch_up_within_the_grace_period_skip_beyond(now: dt.datetime, sent: bool) -> None:
    send, skip = due(DEFAULT, (2024,), now, set())

    assert keys(send) == (["reminder:2024:30"] if sent else [])
    assert keys(skip) == ([] if sent else ["reminder:2024:30"])


def test_of_several_reminders_within_grace_only_the_latest_is_sent() -> None:
    config = ReminderConfig(grace_days=5)

    # 12-28 and 12-30 are within five days; 12-24 is six days and an hour late.
    send, skip = due(config, (2024,), at(2024, 12, 30, 10, 0), set())

    assert keys(send) == ["reminder:2024:1"]
    assert sorted(keys(skip)) == sorted(
        ["reminder:2024:3", "reminder:2024:7", "reminder:2024:14", "reminder:2024:30"]
    )


def test_done_sends_are_neither_sent_nor_skipped_again() -> None:
    done = {"reminder:2024:30"}

    assert due(DEFAULT, (2024,), at(2024, 12, 1, 9, 0), done) == ([], [])
    assert due(DEFAULT, (2024,), at(2024, 12, 10, 9, 0), done) == ([], [])
    send, skip = due(DEFAULT, (2024,), at(2024, 12, 17, 9, 0), done)
    assert keys(send) == ["reminder:2024:14"]
    assert skip == []


def test_the_summary_is_handled_apart_from_the_reminders() -> None:
    reminders_done = {f"reminder:2024:{d}" for d in (30, 14, 7, 3, 1)}

    send, skip = due(DEFAULT, (2024,), at(2025, 1, 1, 9, 0), reminders_done)
    assert keys(send) == ["summary:2024"]
    assert skip == []

    # A reminder caught up within grace never goes out after the deadline: the summary
    # takes over.
    send, skip = due(
        ReminderConfig(grace_days=3),
        (2024,),
        at(2025, 1, 1, 9, 0),
        reminders_done - {"reminder:2024:1"},
    )
    assert (keys(send), keys(skip)) == (["summary:2024"], ["reminder:2024:1"])
    # On the deadline day itself it is still sent.
    send, _ = due(
        ReminderConfig(grace_days=3),
        (2024,),
        at(2024, 12, 31, 18, 0),
        reminders_done - {"reminder:2024:1"},
    )
    assert keys(send) == ["reminder:2024:1"]

    # The summary too is skipped beyond grace.
    send, skip = due(DEFAULT, (2024,), at(2025, 1, 3, 9, 0, 1), reminders_done)
    assert (keys(send), keys(skip)) == ([], ["summary:2024"])


def test_earlier_years_are_skipped_not_sent() -> None:
    send, skip = due(DEFAULT, PERIOD, at(2024, 12, 1, 9, 0), set())

    assert keys(send) == ["reminder:2024:30"]
    assert len(skip) == 12  # 2022 and 2023: five reminders and a summary each
    assert {r.year for r in skip} == {2022, 2023}


# --- tick: the reminders --------------------------------------------------------------------


@pytest.mark.usefixtures("members")
async def test_tick_sends_each_member_exactly_their_units_missing_measures(
    reminders: Reminders, store: Store, clock: FakeClock
) -> None:
    clock.now = at(2024, 12, 1, 9, 0)
    sender = FakeSender()

    assert await reminders.tick(sender) == ["reminder:2024:30"]

    assert sender.to == ["u1", "u2", "u3", "u4"]
    for user in ("u1", "u2"):
        reply = sender.reply_to(user)
        # 11.1 has a note this year; 2.3 only last year's; 16.1's note was deleted.
        assert actions(reply) == ["nm:2.3", "nm:16.1"]
        text = plain(reply)
        assert "2024 年度进展报送提醒" in text
        assert "省政府残疾人工作委员会" in text
        assert "截止 2024 年 12 月 31 日" in text
        assert f"「{TOBACCO}」还有 2 项举措未报送" in text
    assert actions(sender.reply_to("u4")) == ["nm:2.2", "nm:11.1", "nm:16.1"]
    thanks = sender.reply_to("u3")
    assert plain(thanks) == f"「{CIVIL}」2024 年的举措进展已全部报送，谢谢！"
    assert actions(thanks) == []
    assert await store.reminders.deliveries("reminder:2024:30") == dict.fromkeys(
        ["u1", "u2", "u3", "u4"], "sent"
    )
    # The sends of earlier years were recorded as skipped, not sent late.
    assert await store.state.get("done:reminder:2024:30") == "sent"
    assert await store.state.get("done:summary:2023") == "skipped"


@pytest.mark.usefixtures("members")
async def test_without_thanks_a_complete_unit_gets_nothing(
    office: Office, store: Store, clock: FakeClock
) -> None:
    reminders = Reminders(office.membership, ReminderConfig(thank_complete=False))
    clock.now = at(2024, 12, 1, 9, 0)
    sender = FakeSender()

    await reminders.tick(sender)

    assert sender.to == ["u1", "u2", "u4"]
    assert "u3" not in await store.reminders.deliveries("reminder:2024:30")


@pytest.mark.usefixtures("members")
async def test_members_who_turned_reminders_off_get_nothing(
    reminders: Reminders, store: Store, clock: FakeClock
) -> None:
    await store.users.set_reminders("u2", False)
    await reminders.remind(WANG, "off")
    clock.now = at(2024, 12, 1, 9, 0)
    sender = FakeSender()

    await reminders.tick(sender)

    assert sender.to == ["u1", "u4"]


@pytest.mark.usefixtures("members")
async def test_a_reminder_is_never_sent_twice(
    reminders: Reminders, store: Store, clock: FakeClock
) -> None:
    clock.now = at(2024, 12, 1, 9, 0)
    sender = FakeSender()
    assert await reminders.tick(sender) == ["reminder:2024:30"]
    assert len(sender.calls) == 4

    # Again at the same minute, later that day, and the next day (within the grace period).
    for moment in (at(2024, 12, 1, 9, 0), at(2024, 12, 1, 9, 1), at(2024, 12, 2, 8, 59)):
        clock.now = moment
        assert await reminders.tick(sender) == []
    assert len(sender.calls) == 4

    # The next reminder goes out again, reflecting what was reported meanwhile.
    await store.notes.add(TOBACCO, "2.3", 2024, "u2", "李四", "已落实")
    clock.now = at(2024, 12, 17, 9, 0)
    assert await reminders.tick(sender) == ["reminder:2024:14"]
    assert sender.to[4:] == ["u1", "u2", "u3", "u4"]
    assert actions(sender.calls[4][1]) == ["nm:16.1"]
    assert await reminders.tick(sender) == []
    assert len(sender.calls) == 8


@dataclass
class Refusing(FakeSender):
    """Raises for the users in `refuse`, as a channel's unexpected error would."""

    refuse: frozenset[str] = frozenset()

    async def __call__(self, user_id: str, reply: Reply) -> Result:
        self.calls.append((user_id, reply))
        if user_id in self.refuse:
            raise RuntimeError(f"cannot reach {user_id}")
        return "sent"


@pytest.mark.usefixtures("members")
async def test_a_recipient_who_cannot_be_reached_is_tried_a_bounded_number_of_times(
    reminders: Reminders, store: Store, clock: FakeClock
) -> None:
    clock.now = at(2024, 12, 1, 9, 0)
    sender = Refusing(refuse=frozenset({"u1"}))
    assert await reminders.tick(sender) == []  # not done: u1 is tried again at the next check
    assert sender.to == ["u1", "u2", "u3", "u4"]  # the others got theirs at once
    for _ in range(DELIVERY_TRIES - 2):
        assert await reminders.tick(sender) == []
    assert await reminders.tick(sender) == ["reminder:2024:30"]
    assert sender.to.count("u1") == DELIVERY_TRIES
    assert sender.to.count("u2") == 1
    assert await store.reminders.deliveries("reminder:2024:30") == {
        "u1": "failed",
        "u2": "sent",
        "u3": "sent",
        "u4": "sent",
    }
    assert await store.reminders.attempts("reminder:2024:30", "u1") == DELIVERY_TRIES
    assert await reminders.tick(sender) == []
    assert sender.to.count("u1") == DELIVERY_TRIES


# --- durability across a crash --------------------------------------------------------------


async def restart(
    assistant: Assistant, database: str | Path, clock: FakeClock
) -> tuple[Store, Reminders]:
    """A new process: a new Store on the same database, a new Office and Reminders."""
    store = await Store.open(database, clock)
    office = Office(assistant, store, frozenset({"c1"}), clock=clock)
    return store, Reminders(office.membership, ReminderConfig())


@pytest.mark.usefixtures("members")
@pytest.mark.parametrize(
    ("in_flight", "duplicates"),
    [
        # The crash comes before the third message leaves: nobody gets anything twice.
        (False, []),
        # The third message is delivered, then the crash comes before it is recorded
        # (mark_delivery): that one message, "in flight", is sent again after the restart.
        (True, ["u3"]),
    ],
)
async def test_a_crashed_fan_out_resumes_after_a_restart(
    assistant: Assistant,
    reminders: Reminders,
    store: Store,
    database: str | Path,
    clock: FakeClock,
    in_flight: bool,
    duplicates: list[str],
) -> None:
    clock.now = at(2024, 12, 1, 9, 0)
    before = FakeSender(crash_at=2, in_flight=in_flight)
    with pytest.raises(Crash):
        await reminders.tick(before)
    assert before.to == (["u1", "u2", "u3"] if in_flight else ["u1", "u2"])
    assert await store.reminders.deliveries("reminder:2024:30") == {
        "u1": "sent",
        "u2": "sent",
        "u3": "pending",
        "u4": "pending",
    }
    await store.close()  # the process is gone; every write it made was committed

    clock.now = at(2024, 12, 1, 9, 1)
    new_store, new_reminders = await restart(assistant, database, clock)
    try:
        after = FakeSender()
        assert await new_reminders.tick(after) == ["reminder:2024:30"]
        assert after.to == ["u3", "u4"]
        everyone = before.to + after.to
        assert sorted(everyone) == sorted(["u1", "u2", "u3", "u4", *duplicates])
        assert await new_store.reminders.deliveries("reminder:2024:30") == dict.fromkeys(
            ["u1", "u2", "u3", "u4"], "sent"
        )
        assert await new_reminders.tick(after) == []
        assert after.to == ["u3", "u4"]
    finally:
        await new_store.close()


@pytest.mark.usefixtures("members")
async def test_a_started_fan_out_is_finished_even_after_the_grace_period(
    assistant: Assistant,
    reminders: Reminders,
    store: Store,
    database: str | Path,
    clock: FakeClock,
) -> None:
    clock.now = at(2024, 12, 1, 9, 0)
    with pytest.raises(Crash):
        await reminders.tick(FakeSender(crash_at=2))
    await store.close()

    clock.now = at(2024, 12, 10, 9, 0)  # nine days later, grace is two
    new_store, new_reminders = await restart(assistant, database, clock)
    try:
        after = FakeSender()
        assert await new_reminders.tick(after) == ["reminder:2024:30"]
        assert after.to == ["u3", "u4"]
        assert await new_store.state.get("done:reminder:2024:30") == "sent"
    finally:
        await new_store.close()


@pytest.mark.usefixtures("members")
async def test_a_crashed_fan_out_superseded_by_a_newer_reminder_is_not_resumed(
    assistant: Assistant,
    reminders: Reminders,
    store: Store,
    database: str | Path,
    clock: FakeClock,
) -> None:
    clock.now = at(2024, 12, 1, 9, 0)
    with pytest.raises(Crash):
        await reminders.tick(FakeSender(crash_at=2))
    await store.close()

    # Back when the next reminder is due: those still owed the old one get the new one only.
    clock.now = at(2024, 12, 17, 9, 30)
    new_store, new_reminders = await restart(assistant, database, clock)
    try:
        after = FakeSender()
        assert await new_reminders.tick(after) == ["reminder:2024:14"]
        assert after.to == ["u1", "u2", "u3", "u4"]
        assert await new_store.state.get("done:reminder:2024:30") == "skipped"
        assert await new_reminders.tick(after) == []
        assert len(after.calls) == 4
    finally:
        await new_store.close()


# --- unreachable members --------------------------------------------------------------------


@pytest.mark.usefixtures("members")
async def test_a_blocked_member_is_marked_unreachable_and_not_retried(
    reminders: Reminders, store: Store, clock: FakeClock
) -> None:
    clock.now = at(2024, 12, 1, 9, 0)
    sender = FakeSender(results={"u2": "blocked"})

    await reminders.tick(sender)

    user = await store.users.get("u2")
    assert user is not None
    assert not user.reachable
    assert (await store.reminders.deliveries("reminder:2024:30"))["u2"] == "blocked"
    assert (await store.users.get("u1") or user).reachable

    clock.now = at(2024, 12, 1, 9, 1)
    await reminders.tick(sender)
    assert sender.to == ["u1", "u2", "u3", "u4"]


@pytest.mark.usefixtures("members")
async def test_the_summary_lists_blocked_members_and_those_who_never_pressed_start(
    reminders: Reminders, clock: FakeClock
) -> None:
    clock.now = at(2024, 12, 30, 9, 0)
    await reminders.tick(FakeSender(results={"u2": "blocked"}))

    text = plain(await reminders.summary(2024))

    assert listed(text, "无法送达的成员（已屏蔽机器人") == [f"李四（{TOBACCO}）"]
    assert listed(text, "从未与机器人私聊") == [f"赵六（{POST}）"]
    assert "无法送达提醒的成员（请其先给机器人发一条消息）" in text


@pytest.mark.usefixtures("members")
async def test_a_member_who_never_opened_a_chat_is_told_to_press_start_not_called_blocked(
    reminders: Reminders, clock: FakeClock
) -> None:
    # Telegram refuses (403) a message to someone who never started the bot; the channel
    # reports that as "blocked". What the coordinator must ask for is still: press Start.
    clock.now = at(2024, 12, 30, 9, 0)
    await reminders.tick(FakeSender(results={"u4": "blocked"}))

    text = plain(await reminders.summary(2024))

    assert listed(text, "从未与机器人私聊") == [f"赵六（{POST}）"]
    assert "已屏蔽机器人" not in text


@pytest.mark.usefixtures("members")
async def test_a_summary_to_an_unreachable_coordinator_does_not_stop_the_bot(
    assistant: Assistant, store: Store, clock: FakeClock
) -> None:
    # c9 never talked to the bot (no users row), and Telegram refuses the message.
    office = Office(assistant, store, frozenset({"c1", "c9"}), clock=clock)
    reminders = Reminders(office.membership, ReminderConfig())
    clock.now = at(2024, 12, 30, 9, 0)
    await reminders.tick(FakeSender())
    clock.now = at(2025, 1, 1, 9, 0)
    sender = FakeSender(results={"c9": "blocked"})

    assert await reminders.tick(sender) == ["summary:2024"]

    assert await store.reminders.deliveries("summary:2024") == {"c1": "sent", "c9": "blocked"}
    assert await reminders.tick(sender) == []


# --- the coordinators' summary --------------------------------------------------------------


@pytest.mark.usefixtures("members")
async def test_the_summary_goes_to_every_coordinator_the_day_after_the_deadline(
    assistant: Assistant, store: Store, clock: FakeClock
) -> None:
    office = Office(assistant, store, frozenset({"c1", "c2"}), clock=clock)
    reminders = Reminders(office.membership, ReminderConfig())
    clock.now = at(2024, 12, 30, 9, 0)
    await reminders.tick(FakeSender())
    # Reported in the new year: counts for 2025, not for the 2024 summary.
    await store.notes.add(POST, "2.2", 2025, "u4", "赵六", "新年度")

    clock.now = at(2024, 12, 31, 23, 59)
    assert await reminders.tick(FakeSender()) == []
    clock.now = at(2025, 1, 1, 9, 0)
    sender = FakeSender()
    assert await reminders.tick(sender) == ["summary:2024"]

    assert sender.to == ["c1", "c2"]
    text = plain(sender.reply_to("c1"))
    assert plain(sender.reply_to("c2")) == text
    assert "2024 年度报送情况（截止 12 月 31 日）" in text
    silent = listed(text, "未报送任何举措的单位（27 个）")
    assert POST in silent
    assert TOBACCO not in silent
    assert CIVIL not in silent
    assert len(silent) == 27
    assert listed(text, "部分未报送的单位（1 个）") == [f"{TOBACCO}（缺 2 项）"]
    assert CIVIL not in text
    assert [(b.label, b.action) for b in all_buttons(sender.reply_to("c1"))] == [
        ("提醒未报送单位", "chase:2024")
    ]


async def test_a_summary_with_everything_reported_has_no_chase_button(
    reminders: Reminders, office: Office, store: Store
) -> None:
    for unit in office.membership.plan.units:
        for measure in office.membership.plan.duties_of(unit.name):
            await store.notes.add(unit.name, measure.id, 2024, "u1", "张三", "完成")

    summary = await reminders.summary(2024)

    text = plain(summary)
    assert listed(text, "未报送任何举措的单位（0 个）") == ["无"]
    assert listed(text, "部分未报送的单位（0 个）") == ["无"]
    assert all_buttons(summary) == []


# --- chase ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("members")
async def test_chase_reaches_exactly_the_members_of_units_with_gaps_once_a_day(
    reminders: Reminders, store: Store, clock: FakeClock
) -> None:
    clock.now = at(2025, 1, 2, 10, 0)
    sender = FakeSender()

    first = await reminders.chase(C1, "2024", sender)

    assert sender.to == ["u1", "u2", "u4"]  # not 王五: 民政厅 reported everything
    assert actions(sender.reply_to("u1")) == ["nm:2.3", "nm:16.1"]
    assert actions(sender.reply_to("u4")) == ["nm:2.2", "nm:11.1", "nm:16.1"]
    assert plain(first) == "已向 2 个单位的 3 位成员发送催报提醒。"

    clock.now = at(2025, 1, 2, 17, 0)
    again = await reminders.chase(C1, "2024", sender)
    assert len(sender.calls) == 3
    assert "0 位成员" in plain(again)
    assert "今天已催报过的成员不再重复发送" in plain(again)

    # The next day it may go out again, to whoever still has gaps.
    for measure in ("2.2", "11.1", "16.1"):
        await store.notes.add(POST, measure, 2024, "u4", "赵六", "补报")
    clock.now = at(2025, 1, 3, 9, 0)
    await reminders.chase(C1, "2024", sender)
    assert sender.to[3:] == ["u1", "u2"]


class Shared:
    """One channel (one app) that two instances send through. A send waits until two are under
    way at once (two fan-outs overlap) or an instance waits its turn (its `sleep`)."""

    def __init__(self) -> None:
        self.to: list[str] = []
        self.go = asyncio.Event()
        self.under_way = 0
        self.most = 0  # sends under way at once, at most

    async def __call__(self, user_id: str, reply: Reply) -> Result:
        self.to.append(user_id)
        self.under_way += 1
        self.most = max(self.most, self.under_way)
        if self.under_way > 1:
            self.go.set()
        try:
            await self.go.wait()
        finally:
            self.under_way -= 1
        return "sent"

    async def wait_turn(self, seconds: float) -> None:
        """An instance's sleep while another fan-out holds the lease."""
        self.go.set()
        await asyncio.sleep(0.01)


@pytest.mark.usefixtures("members")
async def test_chase_ups_on_two_instances_at_once_send_each_member_once_one_at_a_time(
    reminders: Reminders, assistant: Assistant, database: str | Path, clock: FakeClock
) -> None:
    """Two coordinators press 提醒未报送单位 at once, their presses taken by two instances on
    one database: one fan-out at a time (the app's rate is shared), each member chased once."""
    clock.now = at(2025, 1, 2, 10, 0)
    channel = Shared()
    other_store, other = await restart(assistant, database, clock)
    try:
        reminders.sleep = other.sleep = channel.wait_turn
        outcomes = await asyncio.gather(
            reminders.chase(C1, "2024", channel), other.chase(C1, "2024", channel)
        )
    finally:
        await other_store.close()

    assert sorted(channel.to) == ["u1", "u2", "u4"]  # each once
    assert channel.most == 1  # never two sends at once
    assert sorted(plain(o) for o in outcomes) == [
        "已向 2 个单位的 0 位成员发送催报提醒（今天已催报过的成员不再重复发送）。",
        "已向 2 个单位的 3 位成员发送催报提醒。",
    ]


@pytest.mark.usefixtures("members")
async def test_chase_by_a_non_coordinator_is_refused(reminders: Reminders) -> None:
    sender = FakeSender()

    outcome = await reminders.chase(ZHANG, "2024", sender)

    assert NOT_COORDINATOR in plain(outcome)
    assert sender.calls == []


@pytest.mark.usefixtures("members")
async def test_a_chase_up_is_in_the_audit_trail(
    reminders: Reminders, store: Store, clock: FakeClock
) -> None:
    clock.now = at(2025, 1, 2, 10, 0)
    await reminders.chase(ZHANG, "2024", FakeSender())  # refused: not recorded
    await reminders.chase(C1, "2024", FakeSender())

    [entry] = await store.audit.entries(1)
    assert (entry.action, entry.actor_id, entry.actor_name) == ("chase", "c1", "协调人甲")
    assert entry.subject == "2024 年：2 个单位 3 人"
    assert entry.at == clock.now
    assert [e.action for e in await store.audit.entries()].count("chase") == 1


@pytest.mark.usefixtures("members")
@pytest.mark.parametrize(
    "year_text", ["", "abc", "2024x", "-2024", "²", "１２", "1999", "2099", "9" * 30]
)
async def test_chase_with_a_forged_year_sends_nothing(
    reminders: Reminders, clock: FakeClock, year_text: str
) -> None:
    clock.now = at(2025, 1, 2, 10, 0)
    sender = FakeSender()

    outcome = await reminders.chase(C1, year_text, sender)

    assert EXPIRED_BUTTON in plain(outcome)
    assert sender.calls == []


# --- /remind and /remind_test ---------------------------------------------------------------


@pytest.mark.usefixtures("members")
async def test_remind_off_and_on(reminders: Reminders, store: Store) -> None:
    off = await reminders.remind(ZHANG, "off")
    user = await store.users.get("u1")
    assert user is not None
    assert not user.reminders_on
    assert "已关闭年度报送提醒" in plain(off)
    assert "关闭" in plain(await reminders.remind(ZHANG, ""))

    on = await reminders.remind(ZHANG, " ON ")
    user = await store.users.get("u1")
    assert user is not None
    assert user.reminders_on
    assert plain(on) == "年度报送提醒：开启。下次提醒：2024-12-01 09:00。"


async def test_remind_with_an_unknown_argument_explains_and_changes_nothing(
    reminders: Reminders, store: Store
) -> None:
    await reminders.remind(ZHANG, "off")

    outcome = await reminders.remind(ZHANG, "maybe")

    assert "用法" in plain(outcome)
    user = await store.users.get("u1")
    assert user is not None
    assert not user.reminders_on


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(2024, 12, 1, 9, 0), "下次提醒：2024-12-17 09:00"),
        (at(2023, 12, 30, 9, 0), "下次提醒：2024-12-01 09:00"),  # the summary is no reminder
        (at(2024, 12, 30, 9, 0), "报送年份已结束，暂无后续提醒"),
        (at(2026, 11, 29, 9, 0), "报送年份已结束，暂无后续提醒"),
    ],
)
@pytest.mark.usefixtures("members")
async def test_remind_shows_the_next_reminder_or_that_the_period_has_ended(
    reminders: Reminders, clock: FakeClock, now: dt.datetime, expected: str
) -> None:
    clock.now = now

    assert plain(await reminders.remind(ZHANG, "")) == f"年度报送提醒：开启。{expected}。"


@pytest.mark.usefixtures("members")
async def test_remind_test_is_for_coordinators_only(reminders: Reminders) -> None:
    assert NOT_COORDINATOR in plain(await reminders.remind_test(ZHANG, ""))
    assert NOT_COORDINATOR in plain(await reminders.remind_test(ZHANG, "民政厅"))


@pytest.mark.usefixtures("members")
async def test_remind_test_shows_a_named_units_reminder(
    reminders: Reminders, store: Store, clock: FakeClock
) -> None:
    clock.now = at(2024, 12, 5, 9, 0)

    outcome = await reminders.remind_test(C1, "烟草专卖局")

    assert actions(outcome.reply) == ["nm:2.3", "nm:16.1"]
    assert f"「{TOBACCO}」还有 2 项举措未报送" in plain(outcome)
    thanks = await reminders.remind_test(C1, "民政厅")
    assert "已全部报送" in plain(thanks)
    assert "请写单位名称" in plain(await reminders.remind_test(C1, "火星局"))
    # A preview only: nothing recorded as delivered.
    assert await store.reminders.keys() == set()


@pytest.mark.usefixtures("members")
async def test_remind_test_without_a_name_uses_the_coordinators_own_unit(
    reminders: Reminders, office: Office, store: Store, clock: FakeClock
) -> None:
    clock.now = at(2024, 12, 5, 9, 0)
    assert "请写单位名称" in plain(await reminders.remind_test(C1, ""))

    await store.members.bind("c1", C1.name, POST, "c1")

    outcome = await reminders.remind_test(C1, "")
    assert actions(outcome.reply) == ["nm:2.2", "nm:11.1", "nm:16.1"]

    quiet = Reminders(office.membership, ReminderConfig(thank_complete=False))
    assert "已全部报送（此时不发送提醒）" in plain(await quiet.remind_test(C1, "民政厅"))


async def test_describe_schedule(office: Office, clock: FakeClock) -> None:
    assert Reminders(office.membership, ReminderConfig()).describe_schedule() == (
        "下一次提醒：2024-12-01 09:00（2024 年，reminder:2024:30）"
    )

    clock.now = at(2026, 11, 29, 9, 0)
    over = Reminders(office.membership, ReminderConfig()).describe_schedule()
    assert "2022–2024" in over
    assert "不会再发送提醒" in over
    assert "FENGONG_CONFIG" in over
    assert "reminders.years" in over

    extended = Reminders(office.membership, ReminderConfig(years=(2025, 2026, 2027)))
    assert extended.describe_schedule().startswith("下一次提醒：2026-12-01 09:00")

"""Two cores on one database, as two instances behind a load balancer (#20): what a chat
carries from one message to the next (its context, its `/doc`, its page buttons) is read
wherever the next message lands; one instance alone writes none of it. Under the inbox's
leases, the instance holding a member's lease reads the chat once and writes it behind, in the
commit of the handled message: a lease moved, lapsed or taken again reads it anew, and a
lapsed holder never writes over the next one's. A document changed
through one instance (a unit change, a document enabled or imported) is answered from by the
other after its next look at the documents' generations, without a restart."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import shutil
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot import inbox
from bot.ask.assistant import READ, Assistant
from bot.ask.catalog import Catalog, load_catalog
from bot.cli import main
from bot.clock import TZ
from bot.config import Config
from bot.core import FOLLOW_EVERY, Core, Response
from bot.inbox import LEASE_TTL, Inbox
from bot.library import STAGED, enable
from bot.office import unanswered
from bot.outcome import Person
from bot.reply import render_plain
from bot.scheduler import Scheduler
from bot.store import Delivery, Store
from bot.store.callbacks import lease_of
from bot.store.database import Row
from bot.store.repository import time
from bot.store.sqlite import SQLiteDatabase
from tests.cores import make_core
from tests.fakes.clock import FakeClock
from tests.fakes.wecom_api import FakeWeComApi
from tests.test_catalog import NONGJI, build_data
from tests.unitdata import AGRI, RURAL, RURAL_ENTRY, copy_data
from tests.wecom_harness import content, key_of, wecom_bot

# The stores' backends (tests/conftest.py): two instances on one SQLite file or PostgreSQL.
BACKENDS = ("sqlite", "postgres")
ZHANG = Person("wecom:zhangsan", "张三")
LISI = Person("wecom:lisi", "李四")
CHAT = ZHANG.id


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2025, 3, 1, 9, 0, tzinfo=TZ))


async def open_pair(
    path: str | Path, clock: FakeClock, several: bool
) -> tuple[Store, Store]:
    """Two stores on one database; `several`: they stand for two instances' (on SQLite)."""
    first, second = await Store.open(path, clock), await Store.open(path, clock)
    first.several_instances = second.several_instances = several
    return first, second


@pytest.fixture
async def stores(
    database: str | Path, clock: FakeClock
) -> AsyncIterator[tuple[Store, Store]]:
    first, second = await open_pair(database, clock, several=True)
    async with first, second:
        yield first, second


@pytest.fixture
def cores(
    assistant: Assistant, stores: tuple[Store, Store], clock: FakeClock
) -> tuple[Core, Core]:
    return make_core(assistant, stores[0], (), clock), make_core(assistant, stores[1], (), clock)


@pytest.fixture
async def alone(assistant: Assistant, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Core]:
    """One instance on its own database: what the pair must answer alike."""
    async with await Store.open(tmp_path / "alone.db", clock) as store:
        yield make_core(assistant, store, (), clock)


async def talk(spread: list[Core], *lines: str) -> list[Response]:
    """Say each line in one chat, the i-th to core i (round robin), as a balancer might."""
    return [await spread[i % len(spread)].text(ZHANG, CHAT, line) for i, line in enumerate(lines)]


async def rows(store: Store, table: str) -> int:
    return int(await store.db.fetchval(f"SELECT count(*) FROM {table}"))


async def chat_writes(store: Store) -> list[str]:
    """Collect every statement that writes the chats table, as SQLite runs it."""
    assert isinstance(store.db, SQLiteDatabase)
    statements: list[str] = []
    await store.db.connection.set_trace_callback(statements.append)
    return statements


def writes(statements: list[str]) -> int:
    return sum(s.startswith("INSERT INTO chats") for s in statements)


@pytest.mark.parametrize(
    "lines",
    [
        ("盲人按摩归谁管", "那教育厅呢"),  # another unit, the same topic
        ("教育厅负责什么", "第二条", "这条还有谁负责"),  # the list, then the measure in focus
    ],
)
async def test_a_follow_up_on_the_other_instance_reads_the_context_the_first_left(
    cores: tuple[Core, Core], alone: Core, lines: tuple[str, ...]
) -> None:
    spread = await talk(list(cores), *lines)
    kept = await talk([alone], *lines)
    assert [r.query for r in spread] == [r.query for r in kept]
    assert all(r.query and r.query[0] == READ for r in spread[1:])  # read as follow-ups
    assert [render_plain(r.outcome.reply) for r in spread] == [
        render_plain(r.outcome.reply) for r in kept
    ]


async def test_a_context_expired_on_one_instance_is_not_read_on_the_other(
    cores: tuple[Core, Core], clock: FakeClock
) -> None:
    first, second = cores
    await first.text(ZHANG, CHAT, "盲人按摩归谁管")
    clock.advance(minutes=11)
    follow = await second.text(ZHANG, CHAT, "那教育厅呢")
    assert follow.query is not None
    assert follow.query[0] != READ


async def test_a_new_question_on_one_instance_replaces_the_context_on_the_other(
    cores: tuple[Core, Core], alone: Core
) -> None:
    lines = ("盲人按摩归谁管", "那教育厅呢", "人社厅负责哪些任务", "那卫健委呢", "第二条")
    spread = await talk(list(cores), *lines)
    assert [r.query for r in spread] == [r.query for r in await talk([alone], *lines)]


async def test_a_page_button_issued_by_one_instance_is_pressed_on_the_other(
    cores: tuple[Core, Core], stores: tuple[Store, Store]
) -> None:
    first, second = cores
    response = await first.text(ZHANG, CHAT, "教育厅负责什么")
    assert response.query is not None
    token = await first.queries.remember(*response.query)
    assert await rows(stores[1], "page_queries") == 1
    redrawn = await second.page(ZHANG, token)
    assert redrawn is not None
    assert render_plain(redrawn.reply) == render_plain(response.outcome.reply)
    assert await second.page(ZHANG, "forged-token") is None
    assert await second.page(ZHANG, token + "x" * 100) is None


@pytest.mark.sqlite_only
async def test_questions_that_change_nothing_write_nothing(
    cores: tuple[Core, Core], stores: tuple[Store, Store]
) -> None:
    first, second = cores
    statements = await chat_writes(stores[1])
    await first.text(ZHANG, CHAT, "教育厅负责什么")
    await second.command(ZHANG, CHAT, "help", "")  # the context stays as it was
    await second.command(ZHANG, CHAT, "whoami", "")
    assert writes(statements) == 0
    follow = await second.text(ZHANG, CHAT, "第二条")  # points into the list: a new focus
    assert follow.query is not None
    assert follow.query[0] == READ
    assert writes(statements) == 1
    assert await rows(stores[1], "chats") == 1


async def test_a_stored_context_this_version_cannot_read_starts_afresh(
    cores: tuple[Core, Core], stores: tuple[Store, Store], clock: FakeClock
) -> None:
    async with stores[0].db.transaction() as tx:  # as an older or newer version left it
        await tx.execute(
            "INSERT INTO chats (chat, context, context_at) VALUES (?, ?, ?)",
            (CHAT, '{"units": 3}', clock().isoformat()),
        )
    follow = await cores[1].text(ZHANG, CHAT, "那教育厅呢")
    assert follow.query is not None
    assert follow.query[0] != READ
    asked = await cores[0].text(ZHANG, CHAT, "盲人按摩归谁管")  # and the chat goes on
    assert asked.query is not None
    follow = await cores[1].text(ZHANG, CHAT, "那教育厅呢")
    assert follow.query is not None
    assert follow.query[0] == READ


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return load_catalog(build_data(tmp_path_factory.mktemp("catalog") / "data"))


async def answering(core: Core, catalog: Catalog, chat: str, question: str) -> str:
    """Ask in `chat` (of its own person); return the id of the document that answers."""
    asked = await core.text(Person(chat, "某人"), chat, question)
    assert asked.query is not None
    return catalog.of_query(asked.query[1])[0].id


async def test_a_document_chosen_on_one_instance_holds_on_the_other(
    catalog: Catalog, stores: tuple[Store, Store], clock: FakeClock
) -> None:
    first, second = (make_core(catalog, s, (), clock) for s in stores)
    question = "工业和信息化部负责什么"
    await first.command(ZHANG, CHAT, "doc", "42号文")
    clock.advance(days=3)  # a choice is kept until changed, not ten minutes
    assert await answering(second, catalog, CHAT, question) == "nongji"
    assert await answering(second, catalog, "wecom:lisi", question) == ""  # another chat
    await second.command(ZHANG, CHAT, "doc", "3号文")
    assert await answering(first, catalog, CHAT, question) == "zongbao"


async def test_one_instance_alone_writes_nothing_per_message(
    catalog: Catalog, tmp_path: Path, clock: FakeClock
) -> None:
    first_store, second_store = await open_pair(tmp_path / "own.db", clock, several=False)
    async with first_store, second_store:
        first, second = (make_core(catalog, s, (), clock) for s in (first_store, second_store))
        await first.command(ZHANG, CHAT, "doc", "42号文")
        response = await first.text(ZHANG, CHAT, "工业和信息化部负责什么")
        await first.text(ZHANG, CHAT, "第二条")
        assert response.query is not None
        token = await first.queries.remember(*response.query)
        assert await first.page(ZHANG, token) is not None  # kept in the instance's memory
        assert await rows(first_store, "chats") == 0
        assert await rows(first_store, "page_queries") == 0
        # ... so another core on the file sees none of it: the flag is what shares it.
        assert await second.page(ZHANG, token) is None
        assert await answering(second, catalog, CHAT, "工业和信息化部负责什么") == ""


# --- under the inbox's leases: the holder's memory is the truth, written behind -------------


class Member:
    """One instance's inbox handing ZHANG's messages to its core: what it answered, in order.

    A message whose text is in `held` is answered, then held (its handling not finished) until
    `release` is set: an instance that dies or stalls there.
    """

    def __init__(self, core: Core, owner: str, *held: str) -> None:
        self.core, self.held = core, set(held)
        self.answers: list[Response] = []
        self.holding = asyncio.Event()
        self.release = asyncio.Event()
        self.inbox = Inbox(core.store, "wecom", self._handle, owner)

    async def _handle(self, delivery: Delivery) -> None:
        person = LISI if delivery.member == LISI.id else ZHANG  # in the person's private chat
        if delivery.body.startswith("/"):
            name, _, arg = delivery.body[1:].partition(" ")
            answer = await self.core.command(person, person.id, name, arg)
        else:
            answer = await self.core.text(person, person.id, delivery.body)
        if answer.query is not None:  # as a channel does for a long reply
            await self.core.queries.remember(*answer.query)
        self.answers.append(answer)
        if delivery.body in self.held:
            self.holding.set()
            await self.release.wait()

    async def says(self, *lines: str, person: Person = ZHANG) -> list[Response]:
        """Store the lines as delivered to this instance; return the answers once handled
        here and committed (the member's lease given up when none is left)."""
        start = len(self.answers)
        for line in lines:
            assert await self.inbox.accept(f"k{next(KEYS)}", person.id, line)
        await self.settled()
        return self.answers[start:]

    async def settled(self) -> None:
        """Wait until this instance's workers ended and what they did is committed."""
        async with asyncio.timeout(10):
            while True:
                while workers := set(self.inbox._workers.values()):
                    await asyncio.wait(workers)
                await asyncio.wait({self.inbox._kick()})
                if not self.inbox._workers:  # none started by that commit (items kept)
                    return


KEYS = itertools.count()


def kind(answer: Response) -> str:
    assert answer.query is not None
    return answer.query[0]


@pytest.fixture
async def members(cores: tuple[Core, Core]) -> AsyncIterator[tuple[Member, Member]]:
    a, b = Member(cores[0], "a"), Member(cores[1], "b")
    yield a, b
    for member in (a, b):
        member.release.set()
        await member.inbox.drain(1)


async def test_a_follow_up_handled_after_the_lease_moved_reads_the_context_the_first_left(
    members: tuple[Member, Member], alone: Core
) -> None:
    a, b = members
    first = await a.says("教育厅负责什么")
    await a.inbox.drain(1)  # the instance stops: its leases are given up
    [follow] = await b.says("那第二条呢")
    kept = await talk([alone], "教育厅负责什么", "那第二条呢")
    assert [r.query for r in [*first, follow]] == [r.query for r in kept]
    assert kind(follow) == READ
    assert render_plain(follow.outcome.reply) == render_plain(kept[1].outcome.reply)


async def test_a_document_chosen_under_one_lease_holds_under_the_next_one_elsewhere(
    catalog: Catalog, stores: tuple[Store, Store], clock: FakeClock
) -> None:
    a, b = (Member(make_core(catalog, s, (), clock), o) for s, o in zip(stores, "ab", strict=True))
    await a.says("/doc 42号文")
    await a.inbox.drain(1)
    [asked] = await b.says("工业和信息化部负责什么")
    await b.inbox.drain(1)
    assert asked.query is not None
    assert catalog.of_query(asked.query[1])[0].id == "nongji"


async def test_a_state_committed_with_its_message_survives_a_crash_before_the_lease_ends(
    stores: tuple[Store, Store], cores: tuple[Core, Core], clock: FakeClock, alone: Core
) -> None:
    a = Member(cores[0], "a", "人社厅负责哪些任务")
    b = Member(cores[1], "b")
    await a.inbox.accept("k-crash-1", ZHANG.id, "教育厅负责什么")
    await a.inbox.accept("k-crash-2", ZHANG.id, "人社厅负责哪些任务")
    await asyncio.wait_for(a.holding.wait(), 10)  # the first is handled, the second answered
    await asyncio.wait({a.inbox._kick()})  # … and the first's commit is done: then it dies
    clock.advance(seconds=LEASE_TTL.total_seconds() + 1)
    assert await b.inbox.sweep() == {ZHANG.id}
    await b.settled()
    # The second, redone on "b", was asked in the context the first left, not afresh.
    [redone] = b.answers
    kept = await talk([alone], "教育厅负责什么", "人社厅负责哪些任务")
    assert redone.query == kept[1].query
    [follow] = await b.says("第二条")
    assert render_plain(follow.outcome.reply) == render_plain(
        (await alone.text(ZHANG, CHAT, "第二条")).outcome.reply
    )
    a.release.set()
    await a.inbox.drain(1)
    await b.inbox.drain(1)


async def test_an_instance_taking_a_member_again_reads_what_another_changed_meanwhile(
    members: tuple[Member, Member], alone: Core
) -> None:
    a, b = members
    lines = ("盲人按摩归谁管", "人社厅负责哪些任务", "第二条")
    await a.says(lines[0])
    await b.says(lines[1])  # "a" gave the member up; "b" took it and changed the context
    [follow] = await a.says(lines[2])
    kept = await talk([alone], *lines)
    assert follow.query == kept[2].query
    assert render_plain(follow.outcome.reply) == render_plain(kept[2].outcome.reply)


async def test_a_state_changed_after_the_lease_lapsed_is_not_written_over_the_new_holders(
    stores: tuple[Store, Store], cores: tuple[Core, Core], clock: FakeClock
) -> None:
    a = Member(cores[0], "a", "盲人按摩归谁管")
    b = Member(cores[1], "b")
    await a.inbox.accept("k-stall", ZHANG.id, "盲人按摩归谁管")
    await asyncio.wait_for(a.holding.wait(), 10)  # answered, and stalled past its lease
    clock.advance(seconds=LEASE_TTL.total_seconds() + 1)
    assert await b.inbox.sweep() == {ZHANG.id}  # "b" takes over: redoes it, then goes on
    await b.says("人社厅负责哪些任务")
    newer = await stores[1].chats.load(CHAT)
    a.release.set()  # "a" wakes up and commits what it had
    await a.settled()
    assert await stores[0].chats.load(CHAT) == newer
    await a.inbox.drain(1)
    await b.inbox.drain(1)


@pytest.mark.sqlite_only
async def test_a_members_messages_under_one_lease_read_the_chat_once(
    members: tuple[Member, Member], stores: tuple[Store, Store]
) -> None:
    a, _ = members
    statements = await chat_writes(stores[0])
    answers = await a.says("教育厅负责什么", "第二条", "这条还有谁负责")
    assert [kind(r) for r in answers[1:]] == [READ, READ]
    reads = [s for s in statements if s.startswith("SELECT context, context_at, doc FROM chats")]
    assert len(reads) == 1
    assert 1 <= writes(statements) <= 3  # in the commits forgetting the messages
    assert (await stores[0].chats.load(CHAT)).context is not None


def chat_reads(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Collect the statements reading a chat's state or a person's note flow (any backend)."""
    read: list[str] = []
    fetchrow = store.db.fetchrow

    async def spy(sql: str, params: Sequence[Any] = ()) -> Row | None:
        if "FROM chats" in sql or "FROM flows" in sql:
            read.append(sql)
        return await fetchrow(sql, params)

    monkeypatch.setattr(store.db, "fetchrow", spy)
    return read


async def given_up(store: Store, clock: FakeClock) -> bool:
    """Tell whether no lease of ZHANG's is held now (each was given up)."""
    until = await store.db.fetchval(
        "SELECT until FROM leases WHERE name = ?", (lease_of("wecom", ZHANG.id),)
    )
    return until is None or time(until) <= clock.now


async def test_a_member_taken_again_by_the_same_instance_reads_nothing_again(
    members: tuple[Member, Member],
    stores: tuple[Store, Store],
    clock: FakeClock,
    alone: Core,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, _ = members
    lines = ("教育厅负责什么", "第二条", "这条还有谁负责")
    await a.says(lines[0])
    assert await given_up(stores[0], clock)
    read = chat_reads(stores[0], monkeypatch)
    follows = [*(await a.says(lines[1])), *(await a.says(lines[2]))]
    assert read == []  # nobody else held the lease: this instance's memory is the truth
    kept = await talk([alone], *lines)
    assert [r.query for r in follows] == [r.query for r in kept[1:]]
    assert await given_up(stores[0], clock)
    assert (await stores[1].chats.load(CHAT)).context is not None  # written behind all the same


async def test_the_memory_kept_between_leases_drops_the_member_handled_longest_ago(
    members: tuple[Member, Member],
    stores: tuple[Store, Store],
    alone: Core,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, _ = members
    monkeypatch.setattr(inbox, "KEPT", 1)
    await a.says("教育厅负责什么")
    await a.says("盲人按摩归谁管", person=LISI)  # kept instead of ZHANG's
    read = chat_reads(stores[0], monkeypatch)
    [follow] = await a.says("第二条")
    assert len([s for s in read if "FROM chats" in s]) == 1  # dropped: read again
    assert follow.query == (await talk([alone], "教育厅负责什么", "第二条"))[1].query
    read.clear()
    await a.says("那教育厅呢", person=LISI)  # dropped in turn by ZHANG's
    assert len([s for s in read if "FROM chats" in s]) == 1


async def test_a_note_flow_started_under_the_lease_takes_the_next_text_though_none_was_read(
    members: tuple[Member, Member], stores: tuple[Store, Store]
) -> None:
    a, b = members
    await stores[0].members.bind(ZHANG.id, ZHANG.name, "人力资源社会保障厅", "wecom:boss")
    # A question first: the tenure reads that ZHANG has no note flow, and remembers it.
    asked, started, filed = await a.says("教育厅负责什么", "/note 1.1", "已制定推进计划")
    assert asked.query is not None
    assert "请发送" in render_plain(started.outcome.reply)
    assert "已记录" in render_plain(filed.outcome.reply)
    # A flow started under the next lease, on the other instance, is read there and here.
    await b.says("/note 1.1")
    [again] = await a.says("已开始统计")
    assert "已记录" in render_plain(again.outcome.reply)


async def test_a_note_handled_again_after_a_crash_is_acknowledged_not_asked_or_doubled(
    stores: tuple[Store, Store], cores: tuple[Core, Core], clock: FakeClock
) -> None:
    text = "已制定推进计划"
    await stores[0].members.bind(ZHANG.id, ZHANG.name, "人力资源社会保障厅", "wecom:boss")
    a = Member(cores[0], "a", text)  # dies once the note is filed, before its message is done
    b = Member(cores[1], "b")
    await a.says("/note 1.1")
    await a.inbox.accept("k-note", ZHANG.id, text)
    await asyncio.wait_for(a.holding.wait(), 10)
    clock.advance(seconds=LEASE_TTL.total_seconds() + 1)
    assert await b.inbox.sweep() == {ZHANG.id}
    await b.settled()
    [filed] = a.answers[1:]
    [again] = b.answers
    assert "已记录" in render_plain(filed.outcome.reply)
    assert render_plain(again.outcome.reply) == render_plain(filed.outcome.reply)
    assert len(await stores[1].notes.find()) == 1
    [fresh] = await b.says("社保补贴已发放")  # a new message: a question, no note
    assert fresh.query is not None
    a.release.set()
    await a.inbox.drain(1)
    await b.inbox.drain(1)


async def test_a_page_token_issued_under_a_lease_is_redrawn_by_the_other_instance(
    members: tuple[Member, Member],
) -> None:
    a, b = members
    [answer] = await a.says("人社厅负责哪些任务？")
    assert answer.query is not None
    [token] = a.core.queries._entries  # issued in memory, written with the commit
    redrawn = await b.core.page(ZHANG, token)
    assert redrawn is not None
    assert render_plain(redrawn.reply) == render_plain(answer.outcome.reply)


async def test_two_wecom_instances_answer_one_members_pages_and_follow_ups(
    assistant: Assistant, tmp_path: Path, clock: FakeClock
) -> None:
    db_path = tmp_path / "fengong.db"
    async with (
        FakeWeComApi() as api,
        wecom_bot(api, assistant, db_path, clock) as one,
        wecom_bot(api, assistant, db_path, clock) as two,
    ):
        one.app.core.store.several_instances = two.app.core.store.several_instances = True
        two._ids = itertools.count(1000)  # WeCom's MsgIds are unique across instances
        first, card = await one.says("zhang", "人社厅负责哪些任务？", 2)
        assert content(first).endswith("（第 1/7 页）")
        second, _ = await two.press("zhang", card, key_of(card, "下一页"), 2)
        assert content(second).endswith("（第 2/7 页）")
        follow = await two.say("zhang", "第二条")
        assert "所列的第 2 条" in follow


# --- a document changed through one instance, answered from by the other --------------------

COORD = Person("wecom:coord", "协调人")
MERGED = f"原{RURAL}（2024年起并入{AGRI}）"
LOOK = FOLLOW_EVERY.total_seconds()  # the time between two looks at the generations


def pair(data: Path, stores: tuple[Store, Store], clock: FakeClock) -> tuple[Core, Core]:
    """Two instances on one database, each with the data folder loaded by itself."""
    first, second = (
        make_core(Assistant.load(data, clock=clock), s, {COORD.id}, clock) for s in stores
    )
    return first, second


def served(data: Path, store: Store, clock: FakeClock) -> Core:
    """An instance serving every document of the data folder, as `python -m bot run` does."""
    config = Config(coordinators=frozenset({COORD.id}), data_dir=data)
    return Core(config, load_catalog(data, clock=clock), store, clock)


async def asked(core: Core, question: str) -> str:
    return render_plain((await core.text(ZHANG, CHAT, question)).outcome.reply)


async def test_a_unit_change_through_one_instance_is_answered_by_the_other_after_its_look(
    stores: tuple[Store, Store], clock: FakeClock, tmp_path: Path
) -> None:
    first, second = pair(copy_data(tmp_path), stores, clock)
    question = "乡村振兴局负责什么"
    assert MERGED not in await asked(second, question)  # it looks: nothing changed yet
    change = "乡村振兴局 并入 农业厅 2024-01-01"
    proposed = await first.command(COORD, COORD.id, "unit_change", change)
    confirm = proposed.outcome.reply.buttons[0][0]
    assert confirm.label == "确认"
    recorded = await first.press(COORD, COORD.id, confirm.action)
    assert recorded is not None
    assert MERGED in await asked(first, question)
    assert MERGED not in await asked(second, question)  # its next look is not due yet
    under_way = second.catalog.default.assistant  # what a reply begun now is made from
    clock.advance(seconds=LOOK)
    assert MERGED in await asked(second, question)  # no restart
    assert MERGED not in render_plain(under_way.ask(question))  # it ends on its own plan
    undo = recorded.outcome.reply.buttons[0][0]
    assert undo.label == "撤销"
    assert await first.press(COORD, COORD.id, undo.action) is not None
    clock.advance(seconds=LOOK)
    assert MERGED not in await asked(second, question)  # the undo, too


async def test_a_change_that_cannot_be_loaded_keeps_the_plan_and_is_said_in_one_line(
    stores: tuple[Store, Store], clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = copy_data(tmp_path)
    _, second = pair(data, stores, clock)
    question = "乡村振兴局负责什么"
    before = await asked(second, question)
    units = (data / "units.yaml").read_text(encoding="utf-8")
    (data / "units.yaml").write_text("units: [省乡村振兴局", encoding="utf-8")  # a bad edit
    await stores[0].generations.bump("")  # as the first instance counts a change it wrote
    with caplog.at_level(logging.INFO, logger="bot.core"):
        for _ in range(2):
            clock.advance(seconds=LOOK)
            assert await asked(second, question) == before
    said = [r.getMessage() for r in caplog.records if r.name == "bot.core"]
    assert len(said) == 1  # once, not at every look
    assert "无法重新载入" in said[0]
    assert "\n" not in said[0]
    # The file mended and the change counted again: the next look loads it.
    merged = f"{RURAL_ENTRY}    merged_into: {AGRI}\n    since: 2024-01-01\n"
    (data / "units.yaml").write_text(units.replace(RURAL_ENTRY, merged, 1), encoding="utf-8")
    await stores[0].generations.bump("")
    clock.advance(seconds=LOOK)
    assert MERGED in await asked(second, question)


async def test_a_document_enabled_on_one_instance_is_served_by_the_other_after_its_look(
    stores: tuple[Store, Store], clock: FakeClock, tmp_path: Path
) -> None:
    data = build_data(tmp_path / "data")
    (data / STAGED).mkdir()
    (data / "nongji").rename(data / STAGED / "nongji")  # uploaded in the console, not enabled
    first, second = (served(data, s, clock) for s in stores)
    question = "工业和信息化部负责什么"
    assert await answering(second, second.catalog, CHAT, question) == ""  # it looks
    assert "已启用" in await enable(first, "nongji")
    chosen = await second.command(ZHANG, CHAT, "doc", "42号文")
    assert "没有找到文件" in render_plain(chosen.outcome.reply)  # its next look is not due yet
    clock.advance(seconds=LOOK)
    await Scheduler(second, instance="second").check()  # a reminder check looks too
    assert "nongji" in second.reminders_of
    await second.command(ZHANG, CHAT, "doc", "42号文")
    assert await answering(second, second.catalog, CHAT, question) == "nongji"


async def test_a_synonym_learnt_on_one_instance_is_answered_by_the_other_after_its_look(
    stores: tuple[Store, Store], clock: FakeClock, tmp_path: Path
) -> None:
    data = build_data(tmp_path / "data")
    first, second = (served(data, s, clock) for s in stores)
    question = "跨境电商归谁管"
    for core in (first, second):
        await core.command(ZHANG, CHAT, "doc", "zongbao")
    assert "没有找到" in await asked(first, question)  # counted as unanswered
    office = first.offices["zongbao"].membership
    measure = office.plan.measures[0]
    said = await unanswered.map_to(
        office.store, office.assistant, question, measure.id, "跨境电商", COORD
    )
    assert "同义词" in said
    assert "没有找到" in await asked(second, question)  # its next look is not due yet
    clock.advance(seconds=LOOK)
    answer = await asked(second, question)
    assert f"{measure.id} 【" in answer  # the measure, as the first instance answers
    assert "没有找到" not in answer


async def test_a_document_imported_into_the_shared_folder_is_served_after_the_look(
    postgres_url: str, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = build_data(tmp_path / "data")
    shutil.rmtree(data / "nongji")
    async with await Store.open(postgres_url, clock) as store:
        running = served(data, store, clock)
        question = "工业和信息化部负责什么"
        assert await answering(running, running.catalog, CHAT, question) == ""
        source = tmp_path / "nongji.txt"
        source.write_text(NONGJI, encoding="utf-8")
        monkeypatch.setenv("FENGONG_DB", postgres_url)
        imported = ["import-doc", str(source), "--out", str(data / "nongji"), "--data", str(data)]
        assert await asyncio.to_thread(main, imported) == 0
        clock.advance(seconds=LOOK)
        await running.command(ZHANG, CHAT, "doc", "42号文")
        assert await answering(running, running.catalog, CHAT, question) == "nongji"
        # Another document imported over one served: its notes are filed under its number.
        replaced = ["import-doc", str(source), "--out", str(data / "zongbao"), "--replace"]
        assert await asyncio.to_thread(main, [*replaced, "--data", str(data)]) == 0
        clock.advance(seconds=LOOK)
        await running.command(ZHANG, CHAT, "whoami", "")
        zongbao = running.catalog.doc("zongbao")
        assert zongbao is not None
        assert zongbao.number == "国发〔2018〕42号"
        assert running.offices["zongbao"].membership.store.edition == zongbao.number


@pytest.mark.sqlite_only
async def test_generations_are_read_once_a_look_and_never_by_one_instance_alone(
    cores: tuple[Core, Core], stores: tuple[Store, Store], clock: FakeClock, tmp_path: Path
) -> None:
    statements = await chat_writes(stores[1])
    looks = lambda: sum("FROM generations" in s for s in statements)  # noqa: E731
    for _ in range(3):
        await cores[1].text(ZHANG, CHAT, "教育厅负责什么")
    assert looks() == 1
    clock.advance(seconds=LOOK)
    await cores[1].text(ZHANG, CHAT, "教育厅负责什么")
    assert looks() == 2
    first_store, second_store = await open_pair(tmp_path / "own.db", clock, several=False)
    async with first_store, second_store:
        alone = make_core(Assistant.load(), first_store, (), clock)
        statements = await chat_writes(first_store)
        for _ in range(3):
            clock.advance(seconds=LOOK)
            await alone.text(ZHANG, CHAT, "教育厅负责什么")
        assert statements  # traced
        assert looks() == 0

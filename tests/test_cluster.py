"""The deployment of deploy/ end to end, as processes: `python -m bot run` instances behind nginx.

nginx runs deploy/nginx.conf itself (tests/cluster.py); WeCom's callbacks and Telegram's
webhook updates reach the bot only through it, as in production. `deployment` runs a test on
one instance on SQLite and on three on one PostgreSQL database. At issue #20's size, on three
instances on PostgreSQL: 50 members × 20 notes across a kill -9, and a 300-member reminder
fan-out whose sender is killed midway.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
import yaml

from bot.ask.assistant import Assistant
from bot.clock import TZ
from bot.store import Store
from bot.throttle import BURST, RATE
from handlers.telegram.webhook import SECRET_HEADER
from tests.cluster import WEBHOOK_SECRET, Cluster, cluster, need_nginx
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.wecom_api import Call, FakeWeComApi
from tests.harness import HRSS, TOKEN
from tests.postgres import Server
from tests.test_wecom_run import telegram_update
from tests.wecom_harness import BOSS, content

MEMBERS = ("zhang", "li", "wang", "zhao")
# A killed instance's members are taken over when its leases lapse: 10 s, not 30, to wait
# less (a live instance renews them every third of it, as the fan-out's lease below).
LEASE = {"FENGONG_LEASE_SECONDS": "10"}
Deployment = tuple[str, int]  # the database (a file or a URL), how many instances


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="1-instance-sqlite"),
        pytest.param("postgres", id="3-instances-postgres"),
    ]
)
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Deployment:
    """Where the instances keep their data and how many run: one instance on an SQLite file,
    or three on one PostgreSQL database of the tests' own server (tests/postgres.py)."""
    need_nginx()
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url")), 3
    return str(tmp_path / "fengong.db"), 1


@pytest_asyncio.fixture(
    scope="module",
    loop_scope="module",
    params=[
        pytest.param("sqlite", id="1-instance-sqlite"),
        pytest.param("postgres", id="3-instances-postgres"),
    ],
)
async def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Cluster, FakeBotApi]]:
    """`deployment`'s two, WeCom and Telegram's webhook behind nginx, started once for the
    module's tests that neither stop an instance nor count what others sent (each its own
    members and users). A database of its own: the other tests' `postgres_url` is emptied."""
    need_nginx()
    folder = tmp_path_factory.mktemp("cluster")
    if request.param == "postgres":
        server: Server = request.getfixturevalue("postgres_server")
        db, count = server.fresh(), 3  # migrated by the first instance, started alone
    else:
        db, count = str(folder / "fengong.db"), 1
    async with (
        FakeBotApi(token=TOKEN) as api,
        FakeWeComApi() as wecom_api,
        cluster(folder, wecom_api, db, count, telegram=api) as bots,
    ):
        yield bots, api
        assert "Traceback" not in bots.logs()


def note(member: str, n: int) -> str:
    return f"/note 5.1 {member}的第{n}条进展"


async def bind(db: str, *members: str) -> None:
    """Bind members to 人社厅 before the bot starts."""
    async with await Store.open(db) as store:
        for member in members:
            await store.members.bind(f"wecom:{member}", member, HRSS, f"wecom:{BOSS}")


async def answered(bots: Cluster, member: str, count: int) -> list[str]:
    """Wait until `member` got `count` messages; return their texts."""
    try:
        async with asyncio.timeout(60):
            while len(bots.wecom_api.texts_to(member)) < count:  # noqa: ASYNC110 - polls the fake
                await asyncio.sleep(0.02)
    except TimeoutError:
        got = bots.wecom_api.texts_to(member)
        raise AssertionError(f"{member}: {got}\n{bots.logs()}") from None
    return bots.wecom_api.texts_to(member)


async def each(action: Callable[[str], Awaitable[list[int]]]) -> dict[str, list[int]]:
    """Run `action` for every member at once (each member's callbacks one after the other)."""
    statuses = await asyncio.gather(*(action(m) for m in MEMBERS))
    return dict(zip(MEMBERS, statuses, strict=True))


async def test_members_are_answered_once_and_in_order_through_nginx_across_a_kill_9(
    deployment: Deployment, tmp_path: Path
) -> None:
    db, count = deployment
    await bind(db, *MEMBERS)
    async with FakeWeComApi() as wecom_api, cluster(tmp_path, wecom_api, db, count) as bots:
        async with bots.callbacks() as wecom:

            def sending(*numbers: int) -> Callable[[str], Awaitable[list[int]]]:
                async def send(member: str) -> list[int]:
                    posts = [
                        wecom.text(member, note(member, n), msg_id=f"{member}{n}") for n in numbers
                    ]
                    return [(await wecom.post(p))[0] for p in posts]

                return send

            assert await wecom.verify_url("4242") == (200, "4242")  # WeCom's URL check
            assert await each(sending(0, 1, 2)) == {m: [200] * 3 for m in MEMBERS}
            for member in MEMBERS:
                await answered(bots, member, 3)

            # WeCom hangs: notes 3 and 4 are acknowledged, and their answers are under way
            # when the instance is killed.
            wecom_api.hold(*MEMBERS)
            assert await each(sending(3, 4)) == {m: [200] * 2 for m in MEMBERS}
            async with asyncio.timeout(60):
                while not all(wecom_api.waiting(m) for m in MEMBERS):  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
            await bots.kill(0)
            wecom_api.release()  # what the killed instance was sending reaches nobody

            # One instance: nginx has nobody to ask, and says so (WeCom delivers again later);
            # several: another instance takes the callbacks.
            down = {502, 503} if count == 1 else {200}
            assert await bots.get(bots.url("/healthz")) in down
            first = await each(sending(5, 0))  # a new note, and WeCom repeating an old one
            assert {s for statuses in first.values() for s in statuses} <= down, first

            await bots.start(0)
            await bots.healthy()
            # WeCom delivers again what was not acknowledged, and repeats one that was.
            assert await each(sending(5, 0, 6)) == {m: [200] * 3 for m in MEMBERS}
            for member in MEMBERS:
                await answered(bots, member, 7)
        assert await bots.stop_all() == [0] * count, bots.logs()
        assert "Traceback" not in bots.logs()
        # Everything sent until every instance stopped.
        replies = {m: wecom_api.texts_to(m) for m in MEMBERS}

    for member in MEMBERS:
        assert len(replies[member]) == 7, replies[member]
        for n, reply in enumerate(replies[member]):  # answered once each, in the order sent
            assert reply.startswith(f"已记录「{HRSS}」举措 5.1"), reply
            assert f"{member}的第{n}条进展" in reply, (n, replies[member])
    async with await Store.open(db) as store:
        filed = sorted(n.text for n in await store.notes.find())
        assert filed == sorted(f"{m}的第{n}条进展" for m in MEMBERS for n in range(7))
        assert await store.callbacks.waiting("wecom") == []


@pytest.mark.asyncio(loop_scope="module")
async def test_nginx_bounds_requests_as_the_bot_does_and_routes_only_its_paths(
    shared: tuple[Cluster, FakeBotApi],
) -> None:
    bots, _ = shared
    async with bots.callbacks() as wecom, aiohttp.ClientSession() as http:
        query = wecom.signed_query(wecom.encrypt(b"<xml/>"))
        # Over the bot's 64 KB: refused by nginx (its own page: the bot's is empty)
        # before any instance reads it.
        status, page = await wecom.post_raw(query, b"x" * (64 * 1024 + 1))
        assert (status, "413 Request Entity Too Large" in page) == (413, True)
        async with http.get(bots.url("/wecom"), headers={"X-Big": "y" * 9000}) as big:
            assert big.status == 400  # a header over the bot's 8 KB
            assert "Request Header Or Cookie Too Large" in await big.text()
        async with http.get(bots.url("/")) as other, http.get(bots.url("/admin")) as admin:
            assert (other.status, admin.status) == (404, 404)
        assert (await wecom.post(wecom.text("zhang", "/help", msg_id="1")))[0] == 200
        await answered(bots, "zhang", 1)
    assert "Traceback" not in bots.logs()


@pytest.mark.asyncio(loop_scope="module")
async def test_telegram_updates_reach_the_bot_through_nginx_and_one_instance_sets_the_webhook(
    shared: tuple[Cluster, FakeBotApi],
) -> None:
    bots, api = shared
    count = len(bots.instances)
    async with aiohttp.ClientSession() as http:
        [registered] = await api.wait_for("setWebhook", timeout=30)
        assert registered.params["url"] == bots.url("/telegram")
        assert registered.params["secret_token"] == WEBHOOK_SECRET
        headers = {SECRET_HEADER: WEBHOOK_SECRET}
        for n in range(count * 2):  # spread over the instances by nginx
            update = telegram_update(n + 1, 42 + n, "人社厅负责什么")
            async with http.post(bots.url("/telegram"), json=update, headers=headers) as posted:
                assert posted.status == 200
        wrong = {SECRET_HEADER: "wrong"}
        update = telegram_update(99, 99, "人社厅负责什么")
        async with http.post(bots.url("/telegram"), json=update, headers=wrong) as refused:
            assert refused.status == 403
        for n in range(count * 2):
            [answer] = await api.wait_for_messages(42 + n, timeout=30)
            assert answer["rendered_text"].startswith(HRSS)
        assert not api.sent_messages(99)
        assert not api.calls_of("getUpdates")
        assert len(api.calls_of("setWebhook")) == 1  # by one instance, whatever their number


async def test_nginx_spreads_the_work_and_passes_it_on_when_an_instance_dies(
    api: FakeBotApi, tmp_path: Path
) -> None:
    """nginx's part of several instances: both take callbacks and updates, one sets Telegram's
    webhook, and a killed instance is passed over.

    Two instances on one SQLite file (one machine, WAL): enough for who answers what here;
    the database's part of several instances is `deployment`'s.
    """
    need_nginx()
    members = [f"m{n}" for n in range(8)]
    users = [700 + n for n in range(8)]
    async with (
        FakeWeComApi() as wecom_api,
        cluster(tmp_path, wecom_api, tmp_path / "db", 2, telegram=api, extra=LEASE) as bots,
        bots.callbacks() as wecom,
        aiohttp.ClientSession() as http,
    ):

        async def ask(round_: int) -> list[int]:
            texts = [wecom.text(m, "/whoami", msg_id=f"{m}-{round_}") for m in members]
            updates = [telegram_update(round_ * 100 + u, u, "/whoami") for u in users]
            headers = {SECRET_HEADER: WEBHOOK_SECRET}

            async def post(update: dict[str, object]) -> int:
                async with http.post(bots.url("/telegram"), json=update, headers=headers) as r:
                    return r.status

            posted = await asyncio.gather(
                *(wecom.post(t) for t in texts), *(post(u) for u in updates)
            )
            return [p if isinstance(p, int) else p[0] for p in posted]

        async def replied(count: int) -> None:
            for member in members:
                await answered(bots, member, count)
            for user in users:
                await api.wait_for_messages(user, count, timeout=60)

        assert await ask(1) == [200] * 16
        await replied(1)
        tokens = {c.token for c in wecom_api.calls_of("message/send")}
        assert len(tokens) == 2  # each instance answered some (each has its own access token)

        await bots.kill(0)  # the one that set the webhook
        assert await bots.get(bots.url("/healthz")) == 200
        assert await ask(2) == [200] * 16  # what nginx first tried at bot1, it passed on
        await replied(2)
        assert await bots.stop(1) == 0, bots.logs()
    # Each answered once; but an answer the killed instance had sent and not yet recorded as
    # handled (the moment between the two) is its to finish: the instance taking its members
    # over sends it again, once.
    for member in members:
        replies = wecom_api.texts_to(member)
        assert 2 <= len(replies) <= 3, replies
        assert all("尚未绑定单位" in r for r in replies), replies
    for user in users:
        assert 2 <= len(api.sent_messages(user)) <= 3
    [hook] = api.calls_of("setWebhook")  # by bot1 alone
    assert hook.params["url"] == bots.url("/telegram")


async def test_an_instance_stopped_while_callbacks_come_loses_none_and_wecom_sees_no_error(
    tmp_path: Path,
) -> None:
    """An update one instance at a time (README): while one stops (SIGTERM), nginx passes
    what it refuses (a closed port, a 503 while it drains) to the other."""
    need_nginx()
    members, count = [f"m{n}" for n in range(8)], 8
    async with (
        FakeWeComApi() as wecom_api,
        cluster(tmp_path, wecom_api, tmp_path / "fengong.db", 2) as bots,
        bots.callbacks() as wecom,
    ):
        halfway = asyncio.Event()
        acks: list[int] = []

        async def send(member: str) -> None:
            for n in range(count):
                status, _ = await wecom.post(wecom.text(member, "/whoami", msg_id=f"{member}{n}"))
                acks.append(status)
                if len(acks) == len(members) * count // 2:
                    halfway.set()

        async def stop_first() -> int:
            await halfway.wait()
            return await bots.stop(0)

        *_, stopped = await asyncio.gather(*(send(m) for m in members), stop_first())
        assert stopped == 0, bots.logs()
        assert acks == [200] * len(members) * count
        for member in members:
            await answered(bots, member, count)
        assert await bots.stop(1) == 0, bots.logs()
    for member in members:
        assert len(wecom_api.texts_to(member)) == count  # each once


SCALE_MEMBERS = [f"w{n:02}" for n in range(50)]
SCALE_NOTES = 20  # each member's notes, sent one after the other as WeCom delivers them
SCALE_USERS = [900 + n for n in range(10)]  # Telegram users, each asking a few times
SCALE_SECONDS = 240.0  # a bound for the whole run on two loaded cores, never a timing asserted


async def test_50_members_x_20_notes_on_3_instances_across_a_kill_9_and_a_restart(
    postgres_url: str, api: FakeBotApi, tmp_path: Path
) -> None:
    """#20's size: 50 WeCom members × 20 notes, and Telegram updates, over 3 instances on
    PostgreSQL through nginx; one instance killed (-9) in the middle of it and restarted.

    WeCom delivers a member's messages one after the other and repeats one until it is
    acknowledged (200); so does each sender here. The notes go in two rounds of 10 (bot/
    throttle.py answers a person's 11th message within 10 s with 请稍等: a round is its burst,
    and the second waits until the buckets have refilled). Allowed twice: the notes the killed
    instance had answered and not yet recorded as handled (bot/inbox.py records a batch of
    them at its next commit), answered again, once each, by the instance taking the member
    over (README "Nothing acknowledged is lost"). So a member's answers are the 20 in order,
    but for one step back at most where the taker resumes, each note answered twice at most,
    the first of the two sent by the killed instance (its own access token).
    """
    need_nginx()
    await bind(postgres_url, *SCALE_MEMBERS)
    half = SCALE_NOTES // 2
    assert half <= BURST
    acked = 0
    killed = asyncio.Event()
    before: list[Call] = []  # WeCom's calls until the kill
    async with (
        FakeWeComApi() as wecom_api,
        cluster(tmp_path, wecom_api, postgres_url, 3, telegram=api) as bots,
        bots.callbacks() as wecom,
        aiohttp.ClientSession() as http,
    ):

        async def deliver(member: str, numbers: range) -> None:
            nonlocal acked
            for n in numbers:
                post = wecom.text(member, note(member, n), msg_id=f"{member}-{n}")
                while (await wecom.post(post))[0] != 200:  # WeCom delivers it again
                    pass
                acked += 1
                if acked == len(SCALE_MEMBERS) * half * 2 // 5:
                    killed.set()

        async def ask(user: int) -> None:
            headers = {SECRET_HEADER: WEBHOOK_SECRET}
            for n in range(3):
                update = telegram_update(user * 10 + n, user, "人社厅负责什么")
                async with http.post(bots.url("/telegram"), json=update, headers=headers) as r:
                    assert r.status == 200
                if n == 0:
                    await killed.wait()  # the others while an instance is down

        async def kill_and_restart() -> None:
            await killed.wait()
            await bots.kill(1)  # not the one that set Telegram's webhook: any would do
            before.extend(wecom_api.calls_of("message/send"))
            await bots.start(1)

        async def confirmed(count: int) -> None:
            for member in SCALE_MEMBERS:
                while len(_confirmed(wecom_api, member)) < count:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)

        async with asyncio.timeout(SCALE_SECONDS):
            await asyncio.gather(
                *(deliver(m, range(half)) for m in SCALE_MEMBERS),
                *(ask(u) for u in SCALE_USERS), kill_and_restart(),
            )  # fmt: skip
            await confirmed(half)
            # Real time, the throttle's own: every instance's bucket full again.
            await asyncio.sleep(BURST / RATE + 1)
            await asyncio.gather(*(deliver(m, range(half, SCALE_NOTES)) for m in SCALE_MEMBERS))
            await confirmed(SCALE_NOTES)
            for user in SCALE_USERS:
                await api.wait_for_messages(user, 3, timeout=SCALE_SECONDS)
        assert await bots.stop_all() == [0] * 3, bots.logs()
        assert "Traceback" not in bots.logs()
        sent = wecom_api.calls_of("message/send")

    # The killed instance's tokens: used before the kill, never after (the restarted one has
    # its own).
    dead = {c.token for c in before} - {c.token for c in sent[len(before) :]}
    for member in SCALE_MEMBERS:
        answers = [
            (_note_number(member, content(c.json)), c.token)
            for c in sent
            if c.errcode == 0 and c.json["touser"] == member
        ]
        numbers = [n for n, _ in answers]
        steps = [i for i in range(1, len(numbers)) if numbers[i] != numbers[i - 1] + 1]
        assert len(steps) <= 1, (member, numbers)  # in the order sent, but for one step back
        for i in steps:
            back = numbers.index(numbers[i])  # the first answer of those given again
            assert numbers[i] <= numbers[i - 1], (member, numbers)  # back, never a gap
            assert {t for _, t in answers[back:i]} <= dead, (member, numbers)
        assert sorted(set(numbers)) == list(range(SCALE_NOTES)), (member, numbers)
        assert (numbers[0], numbers[-1]) == (0, SCALE_NOTES - 1), (member, numbers)
    for user in SCALE_USERS:
        told = api.sent_messages(user)
        assert 3 <= len(told) <= 6, told  # each of the 3 once, or twice as notes above
        assert all(a["rendered_text"].startswith(HRSS) for a in told), told
    async with await Store.open(postgres_url) as store:
        filed = sorted(n.text for n in await store.notes.find())
        expected = sorted(f"{m}的第{n}条进展" for m in SCALE_MEMBERS for n in range(SCALE_NOTES))
        assert filed == expected  # each filed once, the repeated answers included
        assert await store.callbacks.waiting("wecom") == []


FAN_OUT = 300  # members reminded at once
FAN_UNITS = 10  # … in units of 30, each unit's reminder one message/send call a part
REMINDER_INTERVAL = 10  # seconds (FENGONG_REMINDER_INTERVAL), the lease too: renewed every 3.3 s


def reminders_due(folder: Path, deadline: dt.date, days_before: int) -> Path:
    """A FENGONG_CONFIG whose year's deadline is `deadline`, its reminders `days_before` it,
    at 00:00 in Shanghai: due from that day on."""
    path = folder / f"config-{deadline}.yaml"
    config = {
        "reminders": {
            "deadline": deadline.strftime("%m-%d"),
            "days_before": [days_before],
            "time": "00:00",
            "years": f"{deadline.year}-{deadline.year}",
            "grace_days": 2,
        }
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


async def scheduler_holder(db: str) -> str | None:
    """The instance holding the reminders' lease (FENGONG_INSTANCE), None when free."""
    async with await Store.open(db) as store:
        rows = await store.db.fetch("SELECT owner FROM leases WHERE name = 'scheduler'", ())
    return str(rows[0]["owner"]) if rows else None


async def logged(bots: Cluster, line: str) -> None:
    """Wait until an instance's log has `line`."""
    while line not in bots.logs():  # noqa: ASYNC110 - polls the instances' logs
        await asyncio.sleep(0.1)


async def test_a_300_member_reminder_fan_out_survives_its_sender_killed_midway(
    postgres_url: str, assistant: Assistant, tmp_path: Path
) -> None:
    """The instance sending a reminder to 300 members is killed (-9) in the middle of it: the
    others take its lease over once it lapses (one check interval, FENGONG_REMINDER_INTERVAL)
    and finish from the parts recorded; nobody is missed, nobody gets a part twice but the one
    in flight; then the coordinators' summary goes once, and a restart of all sends nothing
    again.

    WeCom hangs on the 6th unit's first part (`hold`) so that the kill lands there: the 5
    units before have theirs, the 4 after not yet. The held call's caller is gone when WeCom
    answers it, so WeCom delivers it to nobody (the fake refuses it), as a call whose
    connection dropped: the part in flight is then sent once by the instance taking over.
    """
    need_nginx()
    units = [u.name for u in assistant.plan.units if assistant.plan.measures_of(u.name)]
    units = units[:FAN_UNITS]
    assert len(units) == FAN_UNITS
    members = [f"r{n:03}" for n in range(FAN_OUT)]
    per_unit = FAN_OUT // FAN_UNITS
    async with await Store.open(postgres_url) as store:
        for n, member in enumerate(members):
            unit = units[n // per_unit]
            await store.members.bind(f"wecom:{member}", member, unit, f"wecom:{BOSS}")
    today = dt.datetime.now(TZ).date()
    settings = {
        "FENGONG_CONFIG": str(reminders_due(tmp_path, today + dt.timedelta(days=1), 1)),
        "FENGONG_REMINDER_INTERVAL": str(REMINDER_INTERVAL),
        "FENGONG_COORDINATORS": f"wecom:{BOSS}",
    }
    held = members[5 * per_unit : 6 * per_unit]
    async with FakeWeComApi() as wecom_api:
        wecom_api.hold(*held)
        async with cluster(tmp_path, wecom_api, postgres_url, 3, extra=settings) as bots:
            async with asyncio.timeout(120):
                while not wecom_api.waiting(held[0]):  # noqa: ASYNC110 - polls the fake
                    await asyncio.sleep(0.05)
            sender = await scheduler_holder(postgres_url)
            names = [i.env["FENGONG_INSTANCE"] for i in bots.instances]
            killed = names.index(str(sender))
            before = {m: len(wecom_api.messages_to(m)) for m in members}
            await bots.kill(killed)
            wecom_api.release()
            assert all(before[m] for m in members[: 5 * per_unit]), before  # midway: 5 units
            assert not any(before[m] for m in members[5 * per_unit :]), before
            async with asyncio.timeout(120):  # two intervals; a bound, not a timing asserted
                await logged(bots, "已发送提醒 reminder:")
            others = [n for n in range(3) if n != killed]
            assert await bots.stop_all(others) == [0, 0], bots.logs()
            reminded = {m: wecom_api.messages_to(m) for m in members}
            for member, got in reminded.items():
                assert got, member  # nobody missed
                copies = wecom_api.copies(member)
                assert sum(copies.values()) - len(copies) <= 1, (member, copies)
            for block in range(FAN_UNITS):  # a unit's members, their parts alike
                same = members[block * per_unit : (block + 1) * per_unit]
                assert len({len(wecom_api.copies(m)) for m in same}) == 1, block

            # The day after the deadline: the summary, once, whoever checks; restarting all
            # sends no reminder again (a fan-out started and not recorded done would be resumed
            # now, past its deadline: only its recorded parts keep it from going again).
            summary = reminders_due(tmp_path, today - dt.timedelta(days=1), 1)
            for instance in bots.instances:
                instance.env["FENGONG_CONFIG"] = str(summary)
            calls = len(wecom_api.calls_of("message/send"))
            await bots.start_all()
            async with asyncio.timeout(120):
                await logged(bots, "已发送提醒 summary:")
            assert await bots.stop_all() == [0] * 3, bots.logs()
            assert "Traceback" not in bots.logs()
        sent = wecom_api.calls_of("message/send")[calls:]
        assert {c.json["touser"] for c in sent} == {BOSS}, [c.json["touser"] for c in sent]
        assert sum(wecom_api.copies(BOSS).values()) == len(wecom_api.copies(BOSS)) > 0
        assert {m: wecom_api.messages_to(m) for m in members} == reminded  # nothing again


def _confirmed(wecom_api: FakeWeComApi, member: str) -> set[int]:
    """The numbers of the notes `member` has been answered."""
    return {_note_number(member, text) for text in wecom_api.texts_to(member)}


def _note_number(member: str, reply: str) -> int:
    """The number n of the note `member的第n条进展` a reply confirms."""
    assert reply.startswith(f"已记录「{HRSS}」举措 5.1"), reply
    [number] = re.findall(rf"{member}的第(\d+)条进展", reply)
    return int(number)

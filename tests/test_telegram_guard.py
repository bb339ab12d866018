"""End to end on Telegram: a slow question stalls no other chat; a flood slows only its sender.

The real Application polls the fake Bot API (tests/harness.py). The engine is the real one
made slow on purpose (tests/slow.py): questions with STUCK in them hang until released.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.ask.assistant import Assistant
from bot.ask.guard import BUSY, SLOW, Guard
from bot.clock import TZ
from bot.throttle import BURST, NOT_FILED, SLOW_DOWN, Throttle, Verdict
from handlers.telegram.app import App
from handlers.telegram.context import core_of
from tests.fakes.bot_api import BOT_USERNAME, FakeBotApi
from tests.fakes.clock import FakeClock
from tests.harness import HRSS, TOKEN, Users, check_every_send, running, text
from tests.slow import STUCK, SlowEngine, slow_assistant, until

A, B, C = 501, 502, 503
GROUP = -100777
QUESTION = "人社厅负责哪些任务？"


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2024, 12, 1, 9, 0, tzinfo=TZ))


@pytest.fixture
def slow(assistant: Assistant) -> Iterator[tuple[Assistant, SlowEngine]]:
    made = slow_assistant(assistant, Guard(workers=2, time_limit=2.0))
    yield made
    made[1].release.set()


async def test_a_stuck_question_stalls_no_other_chat(
    api: FakeBotApi, slow: tuple[Assistant, SlowEngine], tmp_path: Path, clock: FakeClock
) -> None:
    bot, engine = slow
    users = Users(api)
    async with running(api, bot, tmp_path / "db.sqlite3", clock):
        api.send_text(A, f"{STUCK}{QUESTION}", user_id=A)
        await until(lambda: engine.running == 1)
        answer = await users.say(B, QUESTION)
        assert HRSS in text(answer)
        assert api.sent_messages(A) == []  # A's question still hangs
        [late] = await api.wait_for_messages(A, timeout=5)
        assert text(late) == SLOW
        # The bot goes on serving A too.
        assert HRSS in text(await users.say(A, QUESTION))
    check_every_send(api)


@pytest.mark.parametrize(
    "typed",
    [STUCK, f"/find {STUCK}", f"/unit {STUCK}", f"/task {STUCK}", f"@{BOT_USERNAME} {STUCK}"],
)
async def test_every_question_path_is_guarded(
    api: FakeBotApi, assistant: Assistant, tmp_path: Path, clock: FakeClock, typed: str
) -> None:
    bot, engine = slow_assistant(assistant, Guard(workers=2, time_limit=0.2))
    chat = GROUP if typed.startswith("@") else A
    try:
        async with running(api, bot, tmp_path / "db.sqlite3", clock):
            assert text(await Users(api).say(A, typed, chat=chat)) == SLOW
    finally:
        engine.release.set()


async def test_the_pool_bound_holds_and_a_full_pool_answers_at_once(
    api: FakeBotApi, slow: tuple[Assistant, SlowEngine], tmp_path: Path, clock: FakeClock
) -> None:
    bot, engine = slow
    users = Users(api)
    async with running(api, bot, tmp_path / "db.sqlite3", clock):
        api.send_text(A, f"{STUCK}1", user_id=A)
        api.send_text(B, f"{STUCK}2", user_id=B)
        await until(lambda: engine.running == 2)
        assert text(await users.say(C, f"{STUCK}3")) == BUSY
        assert text(await users.say(C, "另一个新问题")) == BUSY
        assert engine.most == 2
        for user in (A, B):
            [late] = await api.wait_for_messages(user, timeout=5)
            assert text(late) == SLOW
        # Both workers still hang past their limit: a new question is still refused …
        assert text(await users.say(C, "第三个新问题")) == BUSY
        # … and once they end, the bot answers again.
        engine.release.set()
        await until(lambda: engine.running == 0)
        for _ in range(5):  # a worker is freed just after it stored its answer
            answered = text(await users.say(C, QUESTION))
            if answered != BUSY:
                break
            await asyncio.sleep(0.05)
        assert HRSS in answered
    check_every_send(api)


class Recording(Throttle):
    """The real bucket, remembering its verdicts (to know when a flood was all handled)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.verdicts: list[tuple[str, Verdict]] = []

    def admit(self, person_id: str, at: dt.datetime | None = None) -> Verdict:
        verdict = super().admit(person_id, at)
        self.verdicts.append((person_id, verdict))
        return verdict


def install_recording(app: App, clock: FakeClock) -> Recording:
    throttle = Recording(clock)
    core_of(app.bot_data).throttle = throttle
    return throttle


async def test_a_flood_slows_down_its_sender_only(
    api: FakeBotApi, assistant: Assistant, tmp_path: Path, clock: FakeClock
) -> None:
    users = Users(api)
    async with running(api, assistant, tmp_path / "db.sqlite3", clock) as app:
        throttle = install_recording(app, clock)
        for i in range(50):
            api.send_text(A, f"第{i % 16 + 1}项任务", user_id=A)
        assert HRSS in text(await users.say(B, QUESTION))
        await until(lambda: sum(who == f"tg:{A}" for who, _ in throttle.verdicts) == 50)
        sent = api.sent_messages(A)
        assert len(sent) == BURST + 1
        assert [text(m) for m in sent[BURST:]] == [SLOW_DOWN]
        assert all(text(m) != SLOW_DOWN for m in sent[:BURST])
        # Still nothing for A while the clock stands; one second later A is answered again.
        api.send_text(A, QUESTION, user_id=A)
        await until(lambda: sum(who == f"tg:{A}" for who, _ in throttle.verdicts) == 51)
        assert len(api.sent_messages(A)) == BURST + 1
        clock.advance(seconds=1)
        assert HRSS in text(await users.say(A, QUESTION))
    check_every_send(api)


async def test_group_chatter_does_not_count(
    api: FakeBotApi, assistant: Assistant, tmp_path: Path, clock: FakeClock
) -> None:
    async with running(api, assistant, tmp_path / "db.sqlite3", clock):
        for _ in range(3 * BURST):
            api.send_text(GROUP, "今天开会吗", user_id=C)  # not for the bot: never answered
        answer = await Users(api).say(C, f"@{BOT_USERNAME} {QUESTION}", chat=GROUP)
        assert HRSS in text(answer)


async def test_a_button_flood_is_told_once(
    api: FakeBotApi, assistant: Assistant, tmp_path: Path, clock: FakeClock
) -> None:
    users = Users(api)
    async with running(api, assistant, tmp_path / "db.sqlite3", clock) as app:
        answer = await users.say(A, QUESTION)
        throttle = install_recording(app, clock)
        # Turning pages redraws what was answered already: never counted as flooding.
        pages = [await users.press(answer, "noop") for _ in range(BURST + 5)]
        assert all("text" not in a or not a["text"] for a in pages)
        assert throttle.verdicts == []
        answers = [await users.press(answer, "m:1.1") for _ in range(BURST)]
        assert all("text" not in a or not a["text"] for a in answers)
        warned = await users.press(answer, "m:1.1")
        assert warned.get("text") == SLOW_DOWN
        api.press_button(A, answer["message_id"], "m:1.1", user_id=A)
        await until(lambda: len(throttle.verdicts) == BURST + 2)
        # The last press is dropped.
        assert len(api.answered_callbacks) == BURST + 5 + BURST + 1


async def test_a_note_the_flood_limit_drops_is_told_so(
    api: FakeBotApi, assistant: Assistant, tmp_path: Path, clock: FakeClock
) -> None:
    async with running(api, assistant, tmp_path / "db.sqlite3", clock) as app:
        throttle = install_recording(app, clock)
        for _ in range(BURST + 1):  # the allowance used up, and the warning given
            api.send_text(A, QUESTION, user_id=A)
        api.send_text(A, "/notes", user_id=A)  # dropped unanswered: nothing is lost
        api.send_text(A, "/note 5.1 本年招录3名", user_id=A)  # a note: never in silence
        await until(lambda: len(throttle.verdicts) == BURST + 3)
        await until(lambda: len(api.sent_messages(A)) == BURST + 2)
        sent = [text(m) for m in api.sent_messages(A)]
    assert sent[BURST:] == [SLOW_DOWN, NOT_FILED]
    check_every_send(api)

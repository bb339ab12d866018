"""Questions off the event loop (bot/ask/guard.py, Assistant.reply): a time limit, a pool."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.ask.assistant import Assistant
from bot.ask.guard import BUSY, SLOW, Guard, Refused, here
from bot.clock import system_clock
from bot.reply import Reply, render_plain
from bot.store import Store
from handlers.console import LOCAL_USER, Console
from tests.cores import make_core
from tests.slow import STUCK, SlowEngine, slow_assistant, until

QUESTION = "人社厅负责哪些任务？"


@pytest.fixture
def slow(assistant: Assistant) -> Iterator[tuple[Assistant, SlowEngine]]:
    made = slow_assistant(assistant, Guard(workers=2, time_limit=0.3))
    yield made
    made[1].release.set()  # let the hanging threads end


def shown(reply: Reply) -> str:
    return render_plain(reply)


async def test_a_slow_question_is_answered_politely_and_the_others_meanwhile(
    slow: tuple[Assistant, SlowEngine], assistant: Assistant
) -> None:
    bot, engine = slow
    stuck = asyncio.create_task(bot.reply("ask", f"{STUCK}{QUESTION}"))
    await until(lambda: engine.running == 1)
    fast = await bot.reply("ask", QUESTION)
    assert not stuck.done()
    assert shown(fast) == shown(assistant.ask(QUESTION))
    assert shown(await stuck) == SLOW


@pytest.mark.parametrize("kind", ["ask", "unit", "task", "find"])
async def test_every_kind_of_question_is_guarded(
    slow: tuple[Assistant, SlowEngine], kind: str
) -> None:
    bot, _ = slow
    assert shown(await bot.reply(kind, STUCK)) == SLOW


async def test_the_pool_is_bounded_and_a_full_pool_refuses_at_once(
    slow: tuple[Assistant, SlowEngine],
) -> None:
    bot, engine = slow
    asked = [bot.reply("ask", f"{STUCK}{i}") for i in range(5)]
    replies = [shown(r) for r in await asyncio.gather(*asked)]
    assert sorted(replies) == sorted([SLOW, SLOW, BUSY, BUSY, BUSY])
    assert engine.most == 2
    workers = [t for t in threading.enumerate() if t.name.startswith("guard-")]
    assert len(workers) >= 2  # other tests' guards may still have threads
    # Still hanging: the workers stay taken after their time limit, so refusals go on …
    assert shown(await bot.reply("ask", "另一个问题")) == BUSY
    # … until the work ends.
    engine.release.set()
    for _ in range(500):
        if shown(await bot.reply("ask", "另一个问题")) != BUSY:
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("the workers were not freed")


async def test_the_same_question_again_waits_for_the_same_work(
    slow: tuple[Assistant, SlowEngine],
) -> None:
    bot, engine = slow
    same = [bot.reply("ask", STUCK) for _ in range(4)]
    assert [shown(r) for r in await asyncio.gather(*same)] == [SLOW] * 4
    assert engine.most == 1


async def test_a_remembered_reply_needs_no_worker(
    slow: tuple[Assistant, SlowEngine], assistant: Assistant
) -> None:
    bot, engine = slow
    await bot.reply("ask", QUESTION)
    await asyncio.gather(bot.reply("ask", f"{STUCK}1"), bot.reply("ask", f"{STUCK}2"))
    assert engine.running == 2  # every worker hangs
    assert shown(await bot.reply("ask", QUESTION)) == shown(assistant.ask(QUESTION))


async def test_a_late_answer_is_remembered_when_it_comes(
    slow: tuple[Assistant, SlowEngine], assistant: Assistant
) -> None:
    bot, engine = slow
    assert shown(await bot.reply("ask", STUCK)) == SLOW
    engine.release.set()
    await until(lambda: bot.recall("ask", STUCK) is not None)
    assert shown(await bot.reply("ask", STUCK)) == shown(assistant.ask(STUCK))


async def test_the_guard_hands_on_errors_and_frees_the_worker() -> None:
    guard = Guard(workers=1, time_limit=1.0)

    def broken() -> int:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await guard.run("a", broken)
    assert await guard.run("b", lambda: 42) == 42


async def test_the_guard_refuses_when_taken() -> None:
    guard = Guard(workers=1, time_limit=0.1)
    release = threading.Event()
    with pytest.raises(Refused) as late:
        await guard.run("a", lambda: release.wait(5))
    assert late.value.text == SLOW
    with pytest.raises(Refused) as busy:
        await guard.run("b", lambda: 1)
    assert busy.value.text == BUSY
    release.set()


async def test_the_terminal_chat_is_guarded(assistant: Assistant, tmp_path: Path) -> None:
    bot, engine = slow_assistant(assistant, Guard(workers=4, time_limit=0.2))
    async with await Store.open(tmp_path / "bot.sqlite3", system_clock) as store:
        console = Console(make_core(bot, store, {LOCAL_USER.id}), out_dir=tmp_path)
        assert "人力资源社会保障厅" in await console.handle(QUESTION)
        for typed in (STUCK, f"/find {STUCK}", f"/unit {STUCK}", f"/task {STUCK}"):
            assert await console.handle(typed) == SLOW, typed
    engine.release.set()


async def test_only_questions_are_asked(assistant: Assistant) -> None:
    with pytest.raises(ValueError, match="not a question"):
        await assistant.reply("load", "")


async def test_a_one_shot_command_answers_in_its_own_thread() -> None:
    """`python -m bot ask` has nobody else to answer: no worker thread, no event loop."""
    guard = Guard(workers=1)
    with here():
        assert await guard.run("who", threading.get_ident) == threading.get_ident()
    assert await guard.run("who", threading.get_ident) != threading.get_ident()

"""A deliberately slow engine: the real one, but questions with STUCK hang until released."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from bot.ask.assistant import Assistant
from bot.ask.engine import Answer, Engine
from bot.ask.guard import Guard
from bot.ask.lexicon import Lexicon
from bot.documents.plan import Plan

STUCK = "卡住"
HANG = 10.0  # seconds at most, so that a test that forgets to release still ends


class SlowEngine(Engine):
    """Hangs on STUCK questions until `release` is set; counts how many hang at once."""

    def __init__(self, plan: Plan, lexicon: Lexicon) -> None:
        super().__init__(plan, lexicon)
        self.release = threading.Event()
        self._count_lock = threading.Lock()
        self.running = self.most = 0

    def answer(self, question: str) -> Answer:
        if STUCK in question:
            with self._count_lock:
                self.running += 1
                self.most = max(self.most, self.running)
            try:
                self.release.wait(HANG)
            finally:
                with self._count_lock:
                    self.running -= 1
        return super().answer(question)


def slow_assistant(real: Assistant, guard: Guard) -> tuple[Assistant, SlowEngine]:
    """An assistant on the real plan whose engine hangs on STUCK, behind `guard`."""
    engine = SlowEngine(real.plan, real.lexicon)
    return Assistant(real.plan, real.lexicon, engine, guard=guard), engine


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Wait until `condition()` holds (work in other threads ends when it ends)."""
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")

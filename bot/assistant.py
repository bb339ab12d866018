"""The question side of the bot: what any channel calls for questions, commands and buttons."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import process

from bot import compose
from bot.engine import Answer, Engine, chinese_number
from bot.guard import Guard, Refused
from bot.lexicon import Lexicon, load_lexicon
from bot.plan import DATA_DIR, Plan, load_plan
from bot.reply import Reply, line

RECENT_QUESTIONS = 2048
# What a person's text reaches the engine through; `reply` answers these off the event loop.
QUERIES = ("ask", "unit", "task", "find")


@dataclass(frozen=True)
class Assistant:
    """Answers questions about the plan; every method returns a neutral Reply."""

    plan: Plan
    lexicon: Lexicon
    engine: Engine
    # Replies to recent questions and commands: the plan never changes while the bot runs, so
    # the same question always gets the same reply, and people ask the same things again and
    # again. Channels may key their rendering on the reply object (so it is rendered once).
    _recent: OrderedDict[tuple[str, str], Reply] = field(
        default_factory=OrderedDict, repr=False, compare=False
    )
    # Replies are made in the guard's worker threads too.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    guard: Guard = field(default_factory=Guard, repr=False, compare=False)

    @classmethod
    def load(cls, data_dir: Path = DATA_DIR) -> Assistant:
        """Load the plan and lexicon from `data_dir` and build the engine once."""
        plan, lexicon = load_plan(data_dir), load_lexicon(data_dir)
        return cls(plan, lexicon, Engine(plan, lexicon))

    def answer(self, question: str) -> Answer:
        """Return the engine's structured answer."""
        return self.engine.answer(question)

    async def reply(self, kind: str, arg: str) -> Reply:
        """Answer a query of QUERIES ("ask", "unit" …) within the guard's time limit.

        A recent reply comes at once; anything else is worked out in a worker thread, so that
        a slow question stalls nobody else; a late or refused one gets a polite answer.
        """
        if kind not in QUERIES:
            raise ValueError(f"not a question: {kind}")
        reply = self.recall(kind, arg)
        if reply is not None:
            return reply
        method: Callable[[str], Reply] = getattr(self, kind)
        try:
            return await self.guard.run((kind, arg), lambda: method(arg))
        except Refused as e:
            return Reply(header=(line(e.text),))

    def recall(self, kind: str, arg: str) -> Reply | None:
        """Return the recent reply to (kind, arg), or None."""
        key = (kind, arg)
        with self._lock:
            reply = self._recent.get(key)
            if reply is not None:
                self._recent.move_to_end(key)
        return reply

    def _remembered(self, kind: str, arg: str, make: Callable[[str], Reply]) -> Reply:
        """Return the recent reply to (kind, arg), or make and remember it."""
        reply = self.recall(kind, arg)
        if reply is None:
            reply = make(arg)
            with self._lock:
                self._recent[(kind, arg)] = reply
                if len(self._recent) > RECENT_QUESTIONS:
                    self._recent.popitem(last=False)
        return reply

    def ask(self, question: str) -> Reply:
        """Answer a free-text question."""
        return self._remembered("ask", question, self._ask)

    def _ask(self, question: str) -> Reply:
        return compose.answer_reply(self.plan, self.answer(question), self.lexicon.examples)

    def welcome(self) -> Reply:
        """Return the /start greeting."""
        return self._remembered(
            "start", "", lambda _: compose.welcome_reply(self.plan, self.lexicon.examples)
        )

    def help(self) -> Reply:
        """Return the command list."""
        return self._remembered("help", "", lambda _: compose.help_reply())

    def unit(self, name: str) -> Reply:
        """Answer /unit NAME: that unit's measures, or the closest names when none matches."""
        return self._remembered("unit", name, self._unit)

    def _unit(self, name: str) -> Reply:
        if not name.strip():
            return Reply(header=(line("请在命令后写单位名称，例如：/unit 人社厅"),))
        answer = self.answer(name)
        if answer.units:
            return compose.answer_reply(self.plan, answer, self.lexicon.examples)
        names = [u.name for u in self.plan.units]
        close = [n for n, _, _ in process.extract(name, names, limit=3, score_cutoff=40)]
        hint = f"您是不是要找：{'、'.join(close)}？" if close else "请检查单位名称。"
        return Reply(header=(line(f"没有找到名为「{compose.quote(name, 20)}」的单位。{hint}"),))

    def task(self, arg: str) -> Reply:
        """Answer /task N (Arabic or Chinese numerals, or a title)."""
        return self._remembered("task", arg, self._task)

    def _task(self, arg: str) -> Reply:
        text = arg.strip().removeprefix("第").removesuffix("项")
        count = len(self.plan.tasks)
        if text and (text.isdecimal() or set(text) <= set("一二三四五六七八九十两")):
            # Only short numbers can name a task; anything longer is out of range anyway.
            number = chinese_number(text) if len(text) <= 3 else 0
            if self.plan.task(number):
                return self.ask(f"第{number}项任务")
            shown = compose.quote(text, 12)
            return Reply(
                header=(line(f"没有第{shown}项任务：主要任务共 {count} 项（1–{count}）。"),)
            )
        answer = self.answer(arg)
        if answer.kind == "task":
            return compose.answer_reply(self.plan, answer)
        return Reply(header=(line(f"请写任务编号 1–{count}，例如：/task 8"),))

    def find(self, keywords: str) -> Reply:
        """Answer /find KEYWORDS as a free-text question."""
        return self._remembered("find", keywords, self._find)

    def _find(self, keywords: str) -> Reply:
        if not keywords.strip():
            return Reply(header=(line("请在命令后写关键词，例如：/find 盲人按摩"),))
        return self.ask(keywords)

    def action(self, action: str) -> Reply | None:
        """Answer a neutral button action ("m:7.2", "ex:0"); None when it is not ours."""
        kind, _, arg = action.partition(":")
        if kind == compose.SHOW_MEASURE and (measure := self.plan.measure(arg)):
            return self._remembered(
                kind, measure.id, lambda _: compose.measure_reply(self.plan, measure)
            )
        if kind == compose.ASK_EXAMPLE and arg.isdigit():
            examples = self.lexicon.examples
            index = int(arg)
            return self.ask(examples[index]) if index < len(examples) else None
        return None

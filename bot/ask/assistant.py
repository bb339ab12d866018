"""The question side of the bot: what any channel calls for questions, commands and buttons."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.ask import compose
from bot.ask.dialog import Context, Dialog, Reading, continues, read
from bot.ask.engine import Answer, Engine, chinese_number
from bot.ask.guard import Guard, Refused
from bot.ask.lexicon import Lexicon, load_lexicon
from bot.ask.reporting import is_reporting, reporting_lines
from bot.clock import Clock, system_clock
from bot.config import ReminderConfig
from bot.documents.example import Example, example
from bot.documents.pattern import lazy
from bot.documents.plan import DATA_DIR, Plan, load_plan
from bot.reply import Reply, Span, line

RECENT_QUESTIONS = 2048
_TIMELESS = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # a context's time, in cache keys
# Undecodable input bytes reach Python as lone surrogates (stdin uses surrogateescape), which
# no encoder accepts.
_SURROGATE = lazy(r"[\ud800-\udfff]")

# Kinds of query a message becomes (see `Assistant.converse`); channels keep (kind, arg) to
# redraw an answer's pages later. REFUSED: the guard did not let the question through (its
# argument is the polite answer).
ASK, READ, REPORTING, REFUSED = "ask", "read", "reporting", "refused"
# What a person's text reaches the engine through; `reply` answers these off the event loop.
QUERIES = (ASK, READ, "unit", "task", "find")


@dataclass(frozen=True)
class Assistant:
    """Answers questions about the plan; every method returns a neutral Reply."""

    plan: Plan
    lexicon: Lexicon
    engine: Engine
    # When reports are due (the reporting questions' answers) and what time it is.
    reminders: ReminderConfig = field(default_factory=ReminderConfig)
    clock: Clock = system_clock
    # Replies to recent questions and commands: the plan never changes while the bot runs, so
    # the same question always gets the same reply, and people ask the same things again and
    # again. Channels may key their rendering on the reply object (so it is rendered once).
    _recent: OrderedDict[tuple[str, str], Reply] = field(
        default_factory=OrderedDict, repr=False, compare=False
    )
    _answers: OrderedDict[str, Answer] = field(
        default_factory=OrderedDict, repr=False, compare=False
    )
    # Recent messages as read in a context (its time left out): read again without a thread.
    _readings: OrderedDict[tuple[str, Context | None], tuple[Reading, Answer]] = field(
        default_factory=OrderedDict, repr=False, compare=False
    )
    # Replies are made in the guard's worker threads too.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    guard: Guard = field(default_factory=Guard, repr=False, compare=False)
    # The folder the plan was loaded from: where a unit change (/unit_change) is written.
    data_dir: Path | None = None

    @classmethod
    def load(
        cls,
        data_dir: Path = DATA_DIR,
        reminders: ReminderConfig | None = None,
        clock: Clock = system_clock,
    ) -> Assistant:
        """Load the plan and lexicon from `data_dir` and build the engine once."""
        plan, lexicon = load_plan(data_dir), load_lexicon(data_dir)
        engine = Engine(plan, lexicon)
        return cls(plan, lexicon, engine, reminders or ReminderConfig(), clock, data_dir=data_dir)

    def adopt(self, plan: Plan, lexicon: Lexicon | None = None) -> None:
        """Answer from `plan` (and `lexicon`) from now on; recent replies are forgotten."""
        lexicon = lexicon or self.lexicon
        engine = Engine(plan, lexicon)
        with self._lock:
            # The one place the plan changes while the bot runs: every part reads it from here.
            object.__setattr__(self, "plan", plan)
            object.__setattr__(self, "lexicon", lexicon)
            object.__setattr__(self, "engine", engine)
            self._recent.clear()
            self._answers.clear()
            self._readings.clear()

    def answer(self, question: str) -> Answer:
        """Return the engine's structured answer (recent questions are remembered)."""
        with self._lock:
            found = self._answers.get(question)
        if found is None:
            engine = self.engine
            found = engine.answer(question)
            with self._lock:
                if engine is not self.engine:  # made before a unit change: not kept
                    return found
                self._answers[question] = found
                if len(self._answers) > RECENT_QUESTIONS:
                    self._answers.popitem(last=False)
        return found

    def known(self, question: str) -> Answer | None:
        """Return the engine's answer if the question was answered recently, else None."""
        with self._lock:
            return self._answers.get(question)

    async def converse(
        self, message: str, dialog: Dialog | None = None, chat: str = "", doc: str = ""
    ) -> tuple[str, str]:
        """Read a message in its chat's context; return the query that answers it.

        The query, (kind, arg), needs no context to be answered again by `reply`: a follow-up
        ("那卫健委呢") becomes the complete question it stands for, and the chat's context in
        `dialog` becomes its answer. `chat` names one person in one chat; without a dialog the
        message is read on its own. `doc` is this plan's id in a catalog of several: a context
        left by another document's answer is not read into this one. A message read recently
        in the same context is read again from memory; any other reading runs in the guard's
        worker threads.
        """
        message = _decodable(message)
        if is_reporting(message):
            if dialog is not None:
                dialog.forget(chat)
            return REPORTING, ""
        context = dialog.context(chat) if dialog is not None else None
        if context is not None and context.doc != doc:
            context = None
        key = (message, None if context is None else dataclasses.replace(context, at=_TIMELESS))
        with self._lock:
            found = self._readings.get(key)
        if found is None:
            engine = self.engine
            try:
                found = await self.guard.run(
                    ("converse", message, context), lambda: self._understand(message, context)
                )
            except Refused as e:
                return REFUSED, e.text
            with self._lock:
                if engine is self.engine:  # not made before a unit change
                    self._readings[key] = found
                    if len(self._readings) > RECENT_QUESTIONS:
                        self._readings.popitem(last=False)
        reading, answer = found
        if dialog is not None:
            dialog.remember(chat, answer, reading.focus, doc, message)
        return (READ, reading.encode()) if reading.how else (ASK, reading.question)

    async def follows(self, message: str, context: Context) -> bool:
        """Tell whether the message is a follow-up to `context` (read against it, not alone)."""
        message = _decodable(message)
        if is_reporting(message):
            return False
        try:
            return await self.guard.run(
                ("follows", message, context), lambda: self._follows(message, context)
            )
        except Refused:
            return False

    async def finds(self, message: str) -> bool:
        """Tell whether the document answers the message read on its own."""
        message = _decodable(message)
        try:
            answer = await self.guard.run(("finds", message), lambda: self.answer(message))
        except Refused:
            return False
        return not answer.no_match

    def _follows(self, message: str, context: Context) -> bool:
        reading = read(self.answer, message, context)
        # "那商务部呢" is read alone, but asks on in the same document if it has the answer.
        marked = continues(message) and not self.answer(reading.question).no_match
        return bool(reading.how) or marked

    def _understand(self, message: str, context: Context | None) -> tuple[Reading, Answer]:
        reading = read(self.answer, message, context)
        return reading, self.answer(reading.question)

    async def reply(self, kind: str, arg: str) -> Reply:
        """Answer a query from `converse` or of QUERIES, within the guard's time limit.

        A recent reply comes at once; anything else is worked out in a worker thread, so that
        a slow question stalls nobody else; a late or refused one gets a polite answer.
        """
        if kind == REPORTING:
            return self.reporting()
        if kind == REFUSED:
            return Reply(header=(line(arg),))
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

    def to_json(self, kind: str, arg: str, message: str) -> dict[str, Any]:
        """Return the scorer's JSON for a query from `converse` (`message` as typed)."""
        if kind == REPORTING:
            task = self.plan.task(self.plan.document.report_task)
            measures = [m.id for m in task.measures] if task else []
            tasks = [task.number] if task else []
            shape = {"units": [], "tasks": tasks, "measures": measures, "no_match": False}
            return {"query": _decodable(message), **shape, "about": "reporting"}
        if kind == REFUSED:
            refused = {"units": [], "tasks": [], "measures": [], "no_match": True}
            return {"query": _decodable(message), **refused}
        question = Reading.decode(arg).question if kind == READ else arg
        return {**self.answer(question).to_json(), "query": _decodable(message)}

    def read(self, arg: str) -> Reply:
        """Answer a follow-up as `converse` read it: how it was read, then the answer."""
        return self._remembered(READ, arg, self._read)

    def _read(self, arg: str) -> Reply:
        reading = Reading.decode(arg)
        reply = self.ask(reading.question)
        how = line(Span(reading.how, "italic"))
        return dataclasses.replace(reply, header=(how, *reply.header))

    def reporting(self) -> Reply:
        """Answer when, to whom and how the year-end progress is reported."""
        lines = reporting_lines(self.plan, self.reminders, self.clock(), self.lexicon.examples)
        return Reply(header=lines)

    def example(self) -> Example:
        """Return this document's unit, measure, task and topic for example commands."""
        return example(self.plan, self.lexicon.examples)

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
            plan = self.plan
            reply = make(arg)
            with self._lock:
                if plan is not self.plan:  # made before a unit change: not kept
                    return reply
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
        return self._remembered(
            "help", "", lambda _: compose.help_reply(self.example())
        )

    def unit(self, name: str) -> Reply:
        """Answer /unit NAME: that unit's measures, or the closest names when none matches."""
        return self._remembered("unit", name, self._unit)

    def _unit(self, name: str) -> Reply:
        if not name.strip():
            sample = self.example().unit
            return Reply(header=(line(f"请在命令后写单位名称，例如：/unit {sample}"),))
        answer = self.answer(name)
        if answer.units:
            return compose.answer_reply(self.plan, answer, self.lexicon.examples)
        names = [u.name for u in self.plan.units]
        from rapidfuzz import process  # slow to load: only for a name that matched nothing

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
        return Reply(header=(line(f"请写任务编号 1–{count}，例如：/task {self.example().task}"),))

    def find(self, keywords: str) -> Reply:
        """Answer /find KEYWORDS as a free-text question."""
        return self._remembered("find", keywords, self._find)

    def _find(self, keywords: str) -> Reply:
        if not keywords.strip():
            return Reply(header=(line(f"请在命令后写关键词，例如：/find {self.example().topic}"),))
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


def _decodable(text: str) -> str:
    """Return the text with undecodable characters as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)

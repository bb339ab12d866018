"""Fuzz: generated inputs through the engine, random updates through the real bot.

Run: .venv/bin/python bench/fuzz.py [--seed 1] [--quick] [--engine-n 10000] [--bot-n 1000]

1. The engine: N generated questions (runs of numbers, numerals, separators and spaces of every
   kind, task lists, long texts, unicode junk: lone surrogates, emoji, RTL marks, zero-width and
   control characters …) through Engine.answer and the reply composer, each in a child process
   that is killed when one answer takes longer than --limit seconds (a backtracking pattern
   may take hours). Printed: the slowest answers, how many took over 50 ms, errors.
2. The bot: N random updates through the real Application (build_application, a real SQLite
   file) against the fake Bot API (tests/fakes/bot_api.py), one at a time: texts, commands with
   junk arguments, forged and foreign buttons, 4,096-character messages, edited messages,
   stickers; from strangers, members and coordinators, in private chats and a group. Printed:
   the slowest answer, crashes (errors logged, "出错了" sent), invalid replies (refused by the
   fake, empty, over 4,096 characters, with a traceback) and state changes the sender's role
   does not allow (the database compared before and after each update).

The same seed gives the same inputs. --quick: 1,000 engine inputs and 200 updates.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import faulthandler
import logging
import multiprocessing
import os
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

os.environ.setdefault("PTB_TIMEDELTA", "true")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.fakes

from telegram import Update  # noqa: E402

from bot.ask import compose  # noqa: E402
from bot.ask.assistant import Assistant  # noqa: E402
from bot.clock import TZ  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.documents.plan import Plan  # noqa: E402
from handlers.telegram.app import build_application  # noqa: E402
from handlers.telegram.handlers import FAILED, polling_error_callback  # noqa: E402
from handlers.telegram.processor import PerChatProcessor  # noqa: E402
from tests.fakes.bot_api import BOT_USERNAME, MAX_MESSAGE_LENGTH, NOT_MODIFIED, FakeBotApi  # noqa: E402
from tests.fakes.clock import FakeClock  # noqa: E402
from tests.harness import bind_directly  # noqa: E402

TOKEN = "123:ABC"
SLOW_MS = 50.0
FROZEN = 120  # seconds without an answer: the bot is frozen; print where, and stop

# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------

DIGITS = "0123456789"
NUMERALS = "一二三四五六七八九十百千零两〇壹贰叁"
FULL_DIGITS = "０１２３４５６７８９"
SEPARATORS = ["、", "，", ",", "和", "至", "到", "及", "与", "-", "~", "—", "；", "．", ".", "/"]
SPACES = [" ", "\u3000", "\u00a0", "\t", "\u2002", "\u2003", "\u2009", "\u200a", "\u202f", "\n"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
BIDI = ["\u200e", "\u200f", "\u202a", "\u202b", "\u202e", "\u2066", "\u2067", "\u2069"]
EMOJI = ["😀", "👍🏽", "🇨🇳", "👨‍👩‍👧", "❤️", "🀄", "🈶", "㊙️"]
SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"]
CONTROLS = ["\x00", "\x07", "\x1b", "\x7f", "\u0085", "\u2028", "\u2029"]
COMBINING = ["\u0301", "\u0336", "\u20dd", "\u0489"]
WORDS = ["第", "项", "任务", "举措", "主要任务", "负责", "哪些", "归谁管", "残疾人", "就业"]
LENGTHS = (10, 50, 100, 200, 400, 1000, 4096)


def _number(rng: random.Random) -> str:
    pool = rng.choice([DIGITS, NUMERALS, FULL_DIGITS, DIGITS + NUMERALS])
    return "".join(rng.choice(pool) for _ in range(rng.choice([1, 1, 2, 3])))


def _length(rng: random.Random) -> int:
    return rng.randint(1, rng.choice(LENGTHS))


def number_run(rng: random.Random) -> str:
    """Numbers or numerals joined by separators and spaces (the backtracking family)."""
    seps = rng.sample(SEPARATORS, rng.randint(1, 3))
    blanks = [*rng.sample(SPACES, 2), ""]
    parts, size, goal = [], 0, _length(rng)
    while size < goal:
        part = _number(rng) + rng.choice(blanks) + rng.choice(seps) + rng.choice(blanks)
        parts.append(part)
        size += len(part)
    head = rng.choice(["", "第", "任务", "主要任务", "举措"])
    return head + "".join(parts)[:goal] + rng.choice(["", "x", "项", "项任务", "号任务"])


def number_list(rng: random.Random) -> str:
    """A list of task numbers as a person would type one (第8、9 和 10项), far too long."""
    sep = rng.choice(["、", "，", ",", "和", "与", "及", "至", "到", "~", "-"])
    blank = rng.choice([" ", "\u3000", "\t", " \u3000", ""])
    pool = rng.choice(["0123456789", "一二三四五六七八九十两"])
    goal, out = rng.randint(20, rng.choice([100, 300, 4096])), ""
    while len(out) < goal:
        number = "".join(rng.choice(pool) for _ in range(rng.randint(1, 3)))
        out += f"{number}{blank if rng.random() < 0.8 else ''}{sep}{blank}"
    head = rng.choice(["第", "任务", "主要任务", "第 ", ""])
    return head + out[:goal] + rng.choice(["", "x", "项", "号任务", "任务"])


def task_list(rng: random.Random) -> str:
    """Task and measure references one after another: 第一、第二、… 1.1、2.3 …"""
    unit = rng.choice(["第{}、", "第{}项", "任务{}和", "{}.{}、", "第{}项任务，", "主要任务{} "])
    goal, out = _length(rng), []
    while sum(map(len, out)) < goal:
        out.append(unit.format(_number(rng), rng.randint(1, 9)))
    return "".join(out)[:goal]


def spaces(rng: random.Random) -> str:
    """Blanks of every kind, with a few numbers and words in between."""
    goal = _length(rng)
    pool = [*SPACES, *ZERO_WIDTH, *DIGITS, *WORDS]
    return "".join(rng.choice(pool) for _ in range(goal))


def long_text(rng: random.Random, corpus: str) -> str:
    """A slice of the notice itself (real sentences, units, numbers), up to 4,096 characters."""
    size = rng.choice([200, 1000, 4096])
    start = rng.randrange(max(1, len(corpus) - size))
    return corpus[start : start + size]


def junk(rng: random.Random) -> str:
    """Unicode junk: surrogates, emoji, bidi marks, zero-width, controls, combining marks."""
    pools = [ZERO_WIDTH, BIDI, EMOJI, SURROGATES, CONTROLS, COMBINING, WORDS, list(NUMERALS)]
    goal = _length(rng)
    out = []
    while len(out) < goal:
        if rng.random() < 0.2:
            out.append(chr(rng.randrange(0x20, 0x2FFFF)))
        else:
            out.append(rng.choice(rng.choice(pools)))
    return "".join(out)


def mixed(rng: random.Random, names: list[str]) -> str:
    """Units, words, numbers and junk together, as a careless question would be."""
    parts = [rng.choice(names), rng.choice(WORDS), _number(rng), rng.choice(EMOJI + BIDI)]
    return "".join(rng.choice(parts) for _ in range(rng.randint(1, 60)))


def make_inputs(seed: int, n: int, plan: Plan, corpus: str) -> list[tuple[str, str]]:
    """Return n (family, text) pairs, the same for the same seed."""
    rng = random.Random(seed)
    names = [name for unit in plan.units for name in unit.names()]
    families: list[tuple[str, Callable[[], str]]] = [
        ("number_run", lambda: number_run(rng)),
        ("number_list", lambda: number_list(rng)),
        ("task_list", lambda: task_list(rng)),
        ("spaces", lambda: spaces(rng)),
        ("long_text", lambda: long_text(rng, corpus)),
        ("junk", lambda: junk(rng)),
        ("mixed", lambda: mixed(rng, names)),
    ]
    out = []
    for i in range(n):
        family, make = families[i % len(families)]
        out.append((family, make()))
    return out


# --------------------------------------------------------------------------------------------
# 1. The engine, in a child process that can be killed
# --------------------------------------------------------------------------------------------


def _engine_child(conn: Connection) -> None:
    assistant = Assistant.load()
    while True:
        text = conn.recv()
        start = time.perf_counter()
        error = None
        try:
            answer = assistant.engine.answer(text)
            compose.answer_reply(assistant.plan, answer, assistant.lexicon.examples)
        except Exception as e:  # reported, not fatal
            error = f"{type(e).__name__}: {e}"
        conn.send(((time.perf_counter() - start) * 1000, error))


@dataclass
class EngineResult:
    times: list[tuple[float, str, str]] = field(default_factory=list)  # ms, family, text
    over_limit: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str, str]] = field(default_factory=list)


def fuzz_engine(inputs: list[tuple[str, str]], limit: float) -> EngineResult:
    """Answer every input in a child process; kill and restart it when one is over `limit`."""
    context = multiprocessing.get_context("fork")
    result = EngineResult()
    child: Any = None
    conn: Connection | None = None
    try:
        for family, text in inputs:
            if child is None:
                conn, child_end = context.Pipe()
                child = context.Process(target=_engine_child, args=(child_end,), daemon=True)
                child.start()
                conn.send("热身")  # loading the plan is not the first answer's time
                conn.recv()
            assert conn is not None
            conn.send(text)
            if not conn.poll(limit):
                child.kill()
                child.join()
                child = None
                result.over_limit.append((family, text))
                continue
            ms, error = conn.recv()
            result.times.append((ms, family, text))
            if error:
                result.errors.append((family, text, error))
    finally:
        if child is not None:
            child.kill()
            child.join()
    return result


def shown(text: str, width: int = 40) -> str:
    """A long input as a short readable line: its start (invisible characters escaped)."""
    head = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text[:width])
    return f"{head}{'…' if len(text) > width else ''} ({len(text)} chars)"


def report_engine(result: EngineResult, limit: float) -> None:
    times = sorted(result.times, reverse=True)
    n = len(times) + len(result.over_limit)
    print(f"engine: {n} inputs")
    slow = [t for t in times if t[0] > SLOW_MS]
    print(f"  over {SLOW_MS:.0f} ms: {len(slow) + len(result.over_limit)}", end="")
    print(f" (of which over the {limit:g} s limit, killed: {len(result.over_limit)})")
    print(f"  errors: {len(result.errors)}")
    for family, text, error in result.errors[:5]:
        print(f"    {family}: {error} on {shown(text)}")
    if times:
        ordered = sorted(t[0] for t in times)
        p99 = ordered[int(len(ordered) * 0.99) - 1] if len(ordered) >= 100 else ordered[-1]
        print(f"  p50 {ordered[len(ordered) // 2]:.2f} ms, p99 {p99:.2f} ms")
    by_family: dict[str, float] = {}
    for ms, family, _ in times:
        by_family[family] = max(by_family.get(family, 0.0), ms)
    for family, _ in result.over_limit:
        by_family[family] = limit * 1000
    print("  slowest by family: " + ", ".join(f"{f} {ms:.1f} ms" for f, ms in by_family.items()))
    for family, text in result.over_limit[:3]:
        print(f"  over the limit: {family}: {shown(text)}")
    for ms, family, text in times[:3]:
        print(f"  slowest: {ms:.1f} ms, {family}: {shown(text)}")


# --------------------------------------------------------------------------------------------
# 2. The bot
# --------------------------------------------------------------------------------------------

COORDINATORS = (900, 901)
MEMBERS = tuple(range(8001, 8011))
STRANGERS = tuple(range(7001, 7011))
GROUP = -100500
COMMANDS = (
    "start", "help", "unit", "task", "find", "bind", "whoami", "unbind", "note", "notes",
    "cancel", "remind", "remind_test", "invite", "members", "progress", "export", "nosuch",
)  # fmt: skip
WRITES = ("note", "note", "note", "bind", "invite", "unbind")  # asked more often: they change data
FORGED_PREFIXES = ("ap", "rj", "nm", "ne", "nd", "nD", "nk", "nc", "pu", "pg", "chase", "m", "ex")


class Counting(PerChatProcessor):
    """The production processor, counting the updates it finished."""

    def __init__(self) -> None:
        super().__init__()
        self.done = 0

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        """Process as in production, then count."""
        try:
            await super().do_process_update(update, coroutine)
        finally:
            self.done += 1


class Errors(logging.Handler):
    """Collects ERROR records (a handler exception is logged by on_error)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


TABLES = {
    "members": "SELECT user_id, unit FROM members",
    "bind_requests": "SELECT id, user_id, unit, status, decided_by FROM bind_requests",
    "invites": "SELECT code, unit, created_by, used_by FROM invites",
    "notes": "SELECT id, unit, measure_id, author_id, text, deleted_at IS NOT NULL FROM notes",
    "deliveries": "SELECT reminder_key || '|' || user_id, status FROM deliveries",
    "users": "SELECT id, reminders_on FROM users",
}
Snapshot = dict[str, dict[Any, tuple[Any, ...]]]


def snapshot(db: Path) -> Snapshot:
    """Every row a forbidden action could change, by table and key."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return {t: {row[0]: row for row in conn.execute(sql)} for t, sql in TABLES.items()}


def forbidden(before: Snapshot, after: Snapshot, sender: str, plan: Plan) -> list[str]:
    """The changes between two snapshots that `sender` was not allowed to make."""
    coordinator = sender in {f"tg:{c}" for c in COORDINATORS}
    unit_before = before["members"].get(sender, (None, None))[1]
    bad = []
    for table in TABLES:
        old, new = before[table], after[table]
        for key in old.keys() | new.keys():
            was, now = old.get(key), new.get(key)
            if was == now:
                continue
            if not _allowed(
                table, was, now, sender, coordinator, unit_before, before, after, plan
            ):
                bad.append(f"{table}: {was} -> {now}")
    return bad


def _allowed(
    table: str,
    was: tuple[Any, ...] | None,
    now: tuple[Any, ...] | None,
    sender: str,
    coordinator: bool,
    unit_before: str | None,
    before: Snapshot,
    after: Snapshot,
    plan: Plan,
) -> bool:
    row = now or was
    assert row is not None
    if table == "notes":  # nobody files, edits or deletes another's note
        if row[3] != sender:
            return False
        if was is None:  # a new note: on a measure of the author's unit
            measure = plan.measure(row[2])
            owns = measure is not None and (row[1] in measure.units or measure.all_provincial)
            return row[1] == unit_before and owns
        return True
    if coordinator:
        return True
    if table == "members":  # leave, or join through an invite used just now
        redeemed = any(
            r[3] == sender and before["invites"].get(code, (None,) * 4)[3] is None
            for code, r in after["invites"].items()
        )
        return row[0] == sender and (now is None or redeemed)
    if table == "bind_requests":  # one's own request (a new one replaces it), not its decision
        return row[1] == sender and (now is None or now[4] in (None, sender))
    if table == "invites":  # only using one
        return was is not None and now is not None and now[3] == sender and was[3] is None
    if table == "users":
        return row[0] == sender
    return False  # deliveries: reminders and chase-ups are the coordinators'


@dataclass
class BotResult:
    n: int = 0
    slowest: tuple[float, str] = (0.0, "")
    crashes: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    changes: dict[str, int] = field(default_factory=dict)  # rows changed, by table
    replies: int = 0


class Fuzzer:
    """Sends random updates to the running bot, one at a time, and checks each."""

    def __init__(self, rng: random.Random, api: FakeBotApi, plan: Plan, corpus: str) -> None:
        self.rng, self.api, self.plan, self.corpus = rng, api, plan, corpus
        self.names = [name for unit in plan.units for name in unit.names()]
        self.texts: list[tuple[int, int, int]] = []  # chat, message id, user
        self.units: dict[int, str] = {}  # the members' units, as bound at the start

    def question(self) -> str:
        rng = self.rng
        kind = rng.random()
        if kind < 0.35:
            return rng.choice([*self.names, *(m.id for m in self.plan.measures), "盲人按摩"])
        if kind < 0.5:
            return rng.choice(["人社厅负责哪些任务？", "第8项任务", "7.2", "今天天气怎么样"])
        family = rng.choice([number_run, number_list, task_list, spaces, junk])
        return _telegram_text(family(rng))

    def argument(self, command: str, sender: int) -> str:
        """Mostly what the command expects (a unit, a measure and a text, a year), or junk."""
        rng = self.rng
        if rng.random() < 0.6:
            if command in ("bind", "invite", "members", "remind_test", "unit"):
                return rng.choice(self.names)
            if command == "note":
                unit = self.units.get(sender, "")
                ours = [m for m in self.plan.measures if unit in m.units] or self.plan.measures
                return f"{rng.choice(ours).id} {self.question()}"
            if command in ("progress", "export"):
                return rng.choice(["", "2024", "2023"])
            if command == "remind":
                return rng.choice(["", "on", "off"])
        options: list[Callable[[], str]] = [
            lambda: "",
            lambda: rng.choice(["5.1", "99.9", "2024", "1999", "on", "off", "0", "-1"]),
            lambda: self.question(),
            lambda: "A" * rng.choice([64, 300, 4000]),
        ]
        return rng.choice(options)()

    def update(self, sender: int) -> str:
        """Queue one random update from `sender`; return what it was."""
        rng, api = self.rng, self.api
        chat = sender if rng.random() < 0.7 else GROUP
        kind = rng.random()
        if kind < 0.25:
            text = self.question()
            if chat == GROUP and rng.random() < 0.7:
                text = f"@{BOT_USERNAME} {text}"
            return self._text(chat, sender, text, "text")
        if kind < 0.6:
            command = rng.choice(COMMANDS + WRITES)
            if chat == GROUP and rng.random() < 0.5:
                command += f"@{BOT_USERNAME}"
            name = command.split("@")[0]
            arg = self._code() if name == "start" else self.argument(name, sender)
            return self._text(chat, sender, f"/{command} {arg}".strip(), f"/{command}")
        if kind < 0.82:
            return self._press(chat, sender)
        if kind < 0.9 and (own := [t for t in self.texts if t[0] == chat and t[2] == sender]):
            where, message_id, _ = rng.choice(own)
            api.edit_text(where, message_id, self.question())
            return "edited"
        if kind < 0.95:
            text = (self.corpus * 3)[: MAX_MESSAGE_LENGTH - rng.randrange(3)]
            return self._text(chat, sender, text, "4096 chars")
        api.send_sticker(chat, user_id=sender)
        return "sticker"

    def _text(self, chat: int, sender: int, text: str, label: str) -> str:
        update = self.api.send_text(chat, text, user_id=sender)
        self.texts.append((chat, update["message"]["message_id"], sender))
        return label

    def _code(self) -> str:
        """An invite code seen in a coordinator's chat, or junk."""
        codes = [
            match.group(1)
            for m in self.api.sent_messages()
            for match in re.finditer(r"start=([\w-]+)", m["text"] or "")
        ]
        if codes and self.rng.random() < 0.6:
            return self.rng.choice(codes)
        return self.rng.choice(["", "abc", "x" * 64, "'; DROP TABLE members;--"])

    def _press(self, chat: int, sender: int) -> str:
        rng = self.rng
        mine = self.api.sent_messages(chat)
        if not mine:
            return self._text(chat, sender, self.question(), "text")
        message = rng.choice(mine)
        everything = [
            b["callback_data"]
            for m in self.api.sent_messages()
            for row in (m["reply_markup"] or {}).get("inline_keyboard", [])
            for b in row
            if "callback_data" in b
        ]
        here = [
            b["callback_data"]
            for row in (message["reply_markup"] or {}).get("inline_keyboard", [])
            for b in row
            if "callback_data" in b
        ]
        choice = rng.random()
        if here and choice < 0.5:
            data, label = rng.choice(here), "button"
        elif everything and choice < 0.7:
            data, label = rng.choice(everything), "someone else's button"
        else:
            prefix = rng.choice(FORGED_PREFIXES)
            tail = rng.choice([str(rng.randint(-5, 500)), "2024:3", "x" * 50, "", ":::"])
            data, label = f"{prefix}:{tail}"[:64], "forged button"
        self.api.press_button(chat, message["message_id"], data, user_id=sender, strict=False)
        return label


def _telegram_text(text: str) -> str:
    """What Telegram can carry: valid UTF-8 (lone surrogates replaced), not blank."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text[:MAX_MESSAGE_LENGTH] if text.strip() else "？"


def check_calls(calls: list[Any], label: str) -> list[str]:
    """The replies among `calls` that Telegram would refuse or that are not fit to show."""
    bad = []
    for call in calls:
        if call.method not in ("sendMessage", "editMessageText", "answerCallbackQuery"):
            continue
        text = call.params.get("text")
        if call.status != 200:
            refused = call.response or {}
            if call.status == 429 or refused.get("description") == NOT_MODIFIED:
                continue
            bad.append(f"{label}: {call.method} refused: {refused.get('description')}")
        elif call.method != "answerCallbackQuery" and not (text or "").strip():
            bad.append(f"{label}: empty {call.method}")
        if text and "Traceback" in text:
            bad.append(f"{label}: {call.method} shows {shown(text)}")
    return bad


async def fuzz_bot(seed: int, n: int, plan: Plan, corpus: str, assistant: Assistant) -> BotResult:
    """Send n random updates through the real bot, one at a time, checking each."""
    rng = random.Random(seed)
    result = BotResult(n=n)
    errors = Errors()
    logging.getLogger().addHandler(errors)
    clock = FakeClock(dt.datetime(2024, 11, 20, 9, 0, tzinfo=TZ))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "fengong.db"
        units = [u.name for u in plan.units]
        await bind_directly(db, clock, [(m, units[i % len(units)]) for i, m in enumerate(MEMBERS)])
        async with FakeBotApi(token=TOKEN) as api:
            processor = Counting()
            config = Config(
                telegram_token=api.token,
                telegram_base_url=api.base_url,
                db_path=db,
                coordinators=frozenset(str(c) for c in COORDINATORS),
            )
            app = build_application(
                config,
                assistant,
                rate_limiter=False,
                concurrent_updates=processor,
                clock=clock,
                reminder_interval=3600.0,
            )
            fuzzer = Fuzzer(rng, api, plan, corpus)
            fuzzer.units = {m: units[i % len(units)] for i, m in enumerate(MEMBERS)}
            async with app:
                assert app.post_init is not None
                await app.post_init(app)
                await app.start()
                assert app.updater is not None
                await app.updater.start_polling(
                    poll_interval=0,
                    timeout=dt.timedelta(seconds=1),
                    error_callback=polling_error_callback(app),
                    allowed_updates=Update.ALL_TYPES,
                )
                await asyncio.sleep(0.5)  # the reminders due at start
                idle = len(asyncio.all_tasks())
                for i in range(n):
                    sender = rng.choice(rng.choice([COORDINATORS, MEMBERS, STRANGERS]))
                    before, calls, logged = snapshot(db), len(api.calls), len(errors.records)
                    started = time.perf_counter()
                    what = fuzzer.update(sender)
                    label = f"#{i} {what} from {_role(sender)}"
                    # A pattern that backtracks in C holds the GIL: the whole process stands
                    # still, the event loop included. faulthandler's own thread still runs.
                    if sys.stderr.isatty():
                        print(f"\r{label:<60}", end="", file=sys.stderr, flush=True)
                    faulthandler.dump_traceback_later(FROZEN, exit=True)
                    if not await _handled(processor, i + 1, idle):
                        result.unanswered.append(label)
                    faulthandler.cancel_dump_traceback_later()
                    took = time.perf_counter() - started
                    if took > result.slowest[0]:
                        result.slowest = (took, label)
                    result.crashes += [
                        f"{label}: {r.getMessage()[:200]}" for r in errors.records[logged:]
                    ]
                    new_calls = api.calls[calls:]
                    result.crashes += [
                        f"{label}: 出错了"
                        for c in new_calls
                        if c.method == "sendMessage" and c.params.get("text") == FAILED
                    ]
                    result.invalid += check_calls(new_calls, label)
                    after = snapshot(db)
                    bad = forbidden(before, after, f"tg:{sender}", plan)  # ids as stored
                    result.forbidden += [f"{label}: {b}" for b in bad]
                    for table in TABLES:
                        changed = sum(
                            before[table].get(k) != after[table].get(k)
                            for k in before[table].keys() | after[table].keys()
                        )
                        result.changes[table] = result.changes.get(table, 0) + changed
                    result.replies += sum(c.method == "sendMessage" for c in new_calls)
                    clock.advance(seconds=rng.choice([1, 5, 30, 120, 900]))
                if sys.stderr.isatty():
                    print("\r" + " " * 60 + "\r", end="", file=sys.stderr)
                await app.updater.stop()
                await app.stop()
            assert app.post_shutdown is not None
            await app.post_shutdown(app)
    logging.getLogger().removeHandler(errors)
    return result


def _role(user: int) -> str:
    if user in COORDINATORS:
        return "coordinator"
    return "member" if user in MEMBERS else "stranger"


async def _handled(processor: Counting, count: int, idle: int) -> bool:
    """Wait until `count` updates were handled and their background work ended."""
    for _ in range(3000):  # 30 s
        if processor.done >= count and len(asyncio.all_tasks()) <= idle:
            return True
        await asyncio.sleep(0.01)
    return processor.done >= count


def report_bot(result: BotResult) -> None:
    print(f"bot: {result.n} updates, {result.replies} messages sent")
    changes = ", ".join(f"{t} {n}" for t, n in result.changes.items())
    print(f"  rows changed (allowed or not): {changes}")
    print(f"  slowest answer: {result.slowest[0] * 1000:.0f} ms ({result.slowest[1]})")
    for name, found in (
        ("crashes", result.crashes),
        ("invalid replies", result.invalid),
        ("forbidden state changes", result.forbidden),
        ("not handled within 30 s", result.unanswered),
    ):
        print(f"  {name}: {len(found)}")
        for line in _first(found, 8):
            print(f"    {line}")


def _first(items: list[str], count: int) -> Iterator[str]:
    yield from items[:count]
    if len(items) > count:
        yield f"… and {len(items) - count} more"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="1,000 inputs and 200 updates")
    parser.add_argument("--engine-n", type=int, default=None, help="engine inputs (10,000)")
    parser.add_argument("--bot-n", type=int, default=None, help="bot updates (1,000)")
    parser.add_argument("--limit", type=float, default=2.0, help="seconds per engine answer")
    args = parser.parse_args()
    engine_n = args.engine_n if args.engine_n is not None else (1000 if args.quick else 10_000)
    bot_n = args.bot_n if args.bot_n is not None else (200 if args.quick else 1000)
    logging.getLogger().setLevel(logging.ERROR)  # errors are counted (Errors), not printed
    assistant = Assistant.load()
    corpus = (ROOT / "data" / "notice.txt").read_text(encoding="utf-8")
    print(f"seed {args.seed}")
    if engine_n:
        inputs = make_inputs(args.seed, engine_n, assistant.plan, corpus)
        report_engine(fuzz_engine(inputs, args.limit), args.limit)
    if bot_n:
        result = asyncio.run(fuzz_bot(args.seed, bot_n, assistant.plan, corpus, assistant))
        report_bot(result)


if __name__ == "__main__":
    main()

"""Questions the bot could not answer, kept per document so that the bot learns from use.

Each question typed to the bot that the engine answers "not found" (nothing, or only the
nearest measures) is counted per document by its normalised text, never with who asked, and
kept 90 days after it was last asked. On the console's 未答问题 page a coordinator either maps
it to a measure (its key words become a synonym of that measure's text in the document's
lexicon.yaml, and the engine answers from the new lexicon at once; other instances on the
database at their next look, `Core.follow`) or marks it out of the
document's scope (it stays "not found" and leaves the list). Both are audited.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import logging
import re
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bot.ask.assistant import ASK, READ, Assistant
from bot.ask.compose import small_talk
from bot.ask.dialog import Reading
from bot.ask.lexicon import load_lexicon, parse_lexicon
from bot.ask.text import normalize
from bot.documents.plan import is_shipped
from bot.documents.unitsfile import _write_atomically
from bot.outcome import Person
from bot.store import Store

if TYPE_CHECKING:
    from bot.core import Core

logger = logging.getLogger(__name__)

KEPT = dt.timedelta(days=90)
MAX_TEXT = 200  # characters of a question kept (the engine reads no more than that)
MAX_WORDS = 30  # characters of a synonym a coordinator may add
SHOWN = 200  # entries listed on the page, most asked first
OPEN, MAPPED, OUT = "", "mapped", "out"
_SPACE = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[\W_]+")
_ENDS = " ?!.。,，~～"  # how a question ends does not make it another
# One lexicon file is rewritten at a time (two coordinators mapping at once lose nothing).
_LOCK = asyncio.Lock()


@dataclass(frozen=True)
class Question:
    """An unanswered question of one document: its text, how often and when it was asked."""

    text: str
    count: int
    suggested: tuple[str, ...]
    first_at: dt.datetime
    last_at: dt.datetime
    words: str  # the key words a synonym would be made of


SHIPPED = (
    "现在使用的是程序自带的数据文件夹 data/，它保持原样，不添加同义词。"
    "请先复制一份作为自己的数据文件夹，例如 cp -r data var/data，"
    "再设置 FENGONG_DATA=var/data 重新启动（见 README「单位变更」一节）。"
)


def normalized(question: str) -> str:
    """Return a question as it is counted: folded spelling, one space, at most MAX_TEXT."""
    return _SPACE.sub(" ", normalize(question)).strip(_ENDS)[:MAX_TEXT]


def key_words(assistant: Assistant, text: str) -> str:
    """Return what a question is about: its text without the lexicon's question scaffolding."""
    for stop in _stops(assistant.lexicon.stop):
        text = text.replace(stop, " ")
    return _NOT_WORD.sub("", text)[:MAX_WORDS]


@functools.lru_cache(maxsize=16)
def _stops(stop: tuple[str, ...]) -> tuple[str, ...]:
    # Normalised and sorted once per lexicon, not for every question (a few hundred words).
    return tuple(sorted({normalize(w) for w in stop}, key=len, reverse=True))


def record_query(core: Core, kind: str, arg: str) -> None:
    """Count a typed question its document did not answer (read from the engine's answer).

    Written in the background: `listing`, and the core's close, wait for what is pending.
    """
    if kind not in (ASK, READ):
        return
    doc, inner = core.catalog.of_query(arg)
    question = Reading.decode(inner).question if kind == READ else inner
    answer = doc.assistant.known(question)
    # Another place's unit (广东省残联) is answered: this document does not cover it.
    if answer is None or not answer.no_match or answer.elsewhere:
        return
    text = normalized(question)
    # Thanks and greetings are answered; scaffolding only (谁负责, 好的) names no topic.
    if text and not small_talk(question) and len(key_words(doc.assistant, text)) > 1:
        store = core.offices[doc.id].membership.store
        _later(store, text, tuple(m.id for m in answer.nearest))


async def record(store: Store, text: str, suggested: tuple[str, ...] = ()) -> None:
    """Count one asking of a normalised question; forget those not asked for 90 days."""
    await _count(store, [(text, suggested)])


async def _count(store: Store, asked: list[tuple[str, tuple[str, ...]]]) -> None:
    """Count askings (normalised question, measures suggested) in one transaction."""
    tally: dict[str, tuple[int, tuple[str, ...]]] = {}
    for text, suggested in asked:  # the same question twice: counted 2 in one statement
        tally[text] = (tally.get(text, (0, ()))[0] + 1, suggested)
    rows = [(text, times, suggested) for text, (times, suggested) in tally.items()]
    # Asked again after a mapping: the synonym did not help, so it is listed again.
    await store.unanswered.count(rows, KEPT, reopen=OPEN, keep=OUT)


@dataclass
class _Queue:
    """Questions counted and not yet written (text, measures suggested), and their writer."""

    asked: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    writer: asyncio.Future[None] | None = None


# Per database and document: the answer does not wait for its count's transaction (and its
# fsync); one task writes the counts, one after the other.
_QUEUES: weakref.WeakKeyDictionary[object, dict[str, _Queue]] = weakref.WeakKeyDictionary()


def _later(store: Store, text: str, suggested: tuple[str, ...]) -> None:
    queue = _QUEUES.setdefault(store.db, {}).setdefault(store.doc, _Queue())
    queue.asked.append((text, suggested))
    if queue.writer is None or queue.writer.done():
        queue.writer = asyncio.ensure_future(_drain(store, queue))


async def _drain(store: Store, queue: _Queue) -> None:
    while queue.asked:
        # Whatever was counted while the last transaction ran goes in the next one: a
        # transaction per question (its fsync, a trip to the database's thread for each
        # statement) cost the bot 0.14 ms of CPU per message answered (bench/README.md).
        asked, queue.asked = queue.asked, []
        try:
            await _count(store, asked)
        except Exception as e:  # a count is not worth failing anything else for
            logger.warning("未答问题计数未能写入：%r", e)


async def flush(store: Store) -> None:
    """Write the questions counted and not yet written, of every document of the database."""
    for queue in list(_QUEUES.get(store.db, {}).values()):
        while queue.writer is not None and not queue.writer.done():
            await asyncio.shield(queue.writer)


async def listing(store: Store, assistant: Assistant) -> list[Question]:
    """Return the document's open questions of the last 90 days, most asked first."""
    await flush(store)
    return [
        Question(q.text, q.count, q.suggested, q.first_at, q.last_at, key_words(assistant, q.text))
        for q in await store.unanswered.listed(OPEN, KEPT, SHOWN)
    ]


async def _settle(store: Store, text: str, status: str, actor: Person, what: str) -> bool:
    """Set an open question's status and audit it; False when it is not listed.

    A question mapped to a measure changed the lexicon: the other instances reload it.
    """
    await flush(store)
    files = status == MAPPED
    return await store.unanswered.settle(text, OPEN, status, actor.id, actor.name, what, files)


async def out_of_scope(store: Store, text: str, actor: Person) -> str:
    """Mark a question out of the document's scope: still "not found", no longer listed."""
    if not await _settle(store, text, OUT, actor, f"「{text}」"):
        return GONE
    return f"已标记为不在文件范围：「{text}」。"


GONE = "这个问题已不在未答列表中（可能已被处理），请刷新页面。"


async def map_to(
    store: Store,
    assistant: Assistant,
    text: str,
    measure_id: str,
    words: str,
    actor: Person,
) -> str:
    """Add `words` as a synonym of a measure in the document's lexicon; the engine uses it now."""
    measure = next((m for m in assistant.plan.measures if m.id == measure_id), None)
    words = _NOT_WORD.sub("", normalize(words))
    if measure is None:
        return "请选择一项举措。"
    if not words or len(words) > MAX_WORDS:
        return f"关键词须为 1–{MAX_WORDS} 个字（不含标点和空格）。"
    if assistant.data_dir is None:
        return "这份文件没有可写的词库（lexicon.yaml），无法添加同义词。"
    if is_shipped(assistant.data_dir):
        return SHIPPED
    async with _LOCK:
        if not any(q.text == text for q in await listing(store, assistant)):
            return GONE
        await asyncio.to_thread(learn, assistant, words, measure.text)
        await _settle(store, text, MAPPED, actor, f"「{words}」→ 举措 {measure.id}")
    return f"已将「{words}」加为举措 {measure.id} 的同义词，机器人即刻按新词库回答。"


def learn(assistant: Assistant, words: str, meaning: str) -> None:
    """Write `words` → `meaning` into the document's lexicon.yaml and answer from it now."""
    assert assistant.data_dir is not None
    path = assistant.data_dir / "lexicon.yaml"
    add_synonym(path, words, meaning)
    assistant.adopt(assistant.plan, load_lexicon(assistant.data_dir))


def add_synonym(path: Path, words: str, meaning: str) -> None:
    """Add a synonym to a lexicon file, keeping its comments where its layout allows."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    data: Any = yaml.safe_load(text) if text.strip() else {}
    if not isinstance(data, dict):
        data = {}
    synonyms = dict(data.get("synonyms") or {})
    had = list(synonyms.get(words) or [])
    synonyms[words] = [*had, meaning] if meaning not in had else had
    expected = {**data, "synonyms": synonyms}
    entry = f"  {_json(words)}: [{_json(meaning)}]\n"
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    at = next((i for i, ln in enumerate(lines) if re.fullmatch(r"synonyms:\s*", ln)), None)
    edited = (
        "".join([*lines[: at + 1], entry, *lines[at + 1 :]])
        if at is not None and not had
        else "".join(lines) + f"synonyms:\n{entry}"
        if "synonyms" not in data
        else ""
    )
    try:
        kept = bool(edited) and yaml.safe_load(edited) == expected
    except yaml.YAMLError:
        kept = False
    if not kept:
        edited = yaml.safe_dump(expected, allow_unicode=True, sort_keys=False, width=1000)
    parse_lexicon(path, yaml.safe_load(edited))  # what the engine will load: refused here
    _write_atomically(path, edited)


def _json(text: str) -> str:
    """Quote a string for YAML (JSON's strings are YAML's)."""
    return json.dumps(text, ensure_ascii=False)

"""The documents a data folder holds, and which one answers a question.

A data folder's own plan.yaml is one document (id "", the root); each subfolder with a
plan.yaml (what `import-doc --out DATA/NAME` writes) is another, its id the folder's name.
With one document the catalog answers exactly as its Assistant does. With several, a question
naming a document ("39号文", "综保区的文件里") is answered from it, any other from the chat's
chosen document (`/doc`) or the default one, and every answer names its document on top.

A query (kind, arg) from `converse` carries its document in `arg`, so that `reply` can answer
it again, page by page, with no other state; buttons of an answer carry it after an "@".
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.ask import compose
from bot.ask.assistant import ASK, QUERIES, READ, RECENT_QUESTIONS, REFUSED, Assistant
from bot.ask.dialog import Dialog, Reading
from bot.ask.docnames import Names
from bot.ask.guard import Refused
from bot.clock import Clock, system_clock
from bot.config import ConfigError, ReminderConfig
from bot.documents.plan import DATA_DIR, Plan, PlanError
from bot.reply import Button, Item, Line, Reply, Span, bold, line, text_of

ROOT = ""  # the id of the data folder's own document
logger = logging.getLogger(__name__)
CHOOSE = "doc"  # button action doc:<key>: the chat asks about that document from now on
# A document's id inside a query's argument: TAG id TAG arg (control characters nobody types).
_TAG = "\x1d"
# Actions of an answer's buttons that belong to its document: they get "@<key>".
_DOC_ACTIONS = (compose.SHOW_MEASURE, compose.ASK_EXAMPLE)
# Longest id used as it is in button actions (Telegram allows 64 bytes of callback data).
_KEY_BYTES = 40


@dataclass(frozen=True)
class Doc:
    """One document of the catalog: its id (folder name, "" for the root) and its Assistant."""

    id: str
    assistant: Assistant

    @property
    def plan(self) -> Plan:
        """Return the document's plan."""
        return self.assistant.plan

    @property
    def number(self) -> str:
        """Return the document's number (文号), e.g. 川残工委〔2022〕4号."""
        return self.plan.document.number

    @property
    def title(self) -> str:
        """Return the document's full title."""
        return self.plan.document.title

    @property
    def short_title(self) -> str:
        """Return the title without 关于印发《…》的通知 and the issuer: what the plan is called."""
        title = self.title
        if found := re.search(r"《(.+)》", title):
            return re.sub(r"[〈〉]", "", found.group(1))
        return title.split("关于", 1)[1] if "关于" in title[:-2] else title

    @property
    def label(self) -> str:
        """Return the document's number and short title, as answers name it."""
        return f"{self.number}《{self.short_title}》"

    @property
    def key(self) -> str:
        """Return the id as button actions carry it (a long one as a short digest)."""
        if len(self.id.encode()) <= _KEY_BYTES and "@" not in self.id:
            return self.id
        import hashlib  # slow to load, and few ids are this long

        return "#" + hashlib.sha256(self.id.encode()).hexdigest()[:12]


def discover(data_dir: Path) -> list[tuple[str, Path]]:
    """Return (id, folder) of every document in the data folder: the root first, then by name."""
    found = [(ROOT, data_dir)] if (data_dir / "plan.yaml").is_file() else []
    if data_dir.is_dir():
        found += sorted(
            (p.name, p)
            for p in data_dir.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / "plan.yaml").is_file()
        )
    if not data_dir.is_dir():
        raise PlanError(
            f"数据目录 {data_dir} 不存在：请检查 FENGONG_DATA（或 --data）；"
            "不设置时用仓库的 data/。"
        )
    if not found and not (data_dir / "units.yaml").exists():
        raise PlanError(
            f"数据目录 {data_dir} 中没有文件（plan.yaml），也没有含 plan.yaml 的子文件夹："
            "请检查 FENGONG_DATA（或 --data），或先用 import-doc 导入一份文件（见 README）。"
        )
    # A half-written folder: load the root, so that the usual error names the missing file.
    return found or [(ROOT, data_dir)]


def check_default(data_dir: Path, default: str) -> None:
    """Raise ConfigError unless `default` is empty or names a document of the data folder."""
    ids = [doc_id for doc_id, _ in discover(data_dir)]
    if default and default not in ids:
        named = "、".join(i for i in ids if i) or "（没有子文件夹）"
        raise ConfigError(
            f"FENGONG_DEFAULT_DOC 的值「{default}」不是 {data_dir}/ 下已导入文件的文件夹名。"
            f"可选：{named}；不设置时默认用 {data_dir}/ 本身的文件（没有则用名称最前的文件夹）。"
        )


def twins(data_dir: Path, named: Sequence[tuple[str, str, str]]) -> list[str]:
    """Say which folders hold the same document (same number and title), e.g. its .docx and
    its .xlsx imported twice: both load, and members and notes split between them."""
    seen: dict[tuple[str, str], str] = {}
    said = []
    for doc_id, number, title in named:
        folder = f"{data_dir / doc_id}" if doc_id else f"{data_dir}"
        first = seen.setdefault((number, title), folder)
        if first != folder:
            name = title if number == title else f"{number}《{title}》"
            said.append(
                f"{first} 和 {folder} 是同一份文件（{name}），两份都会载入，"
                "成员和进展会分散在两处：请只保留其中一个文件夹。"
            )
    return said


def load_catalog(
    data_dir: Path = DATA_DIR,
    default: str = "",
    reminders: ReminderConfig | None = None,
    clock: Clock = system_clock,
) -> Catalog:
    """Load every document of `data_dir`; `default` (FENGONG_DEFAULT_DOC) is a folder name."""
    check_default(data_dir, default)
    docs = tuple(
        Doc(doc_id, Assistant.load(folder, reminders, clock))
        for doc_id, folder in discover(data_dir)
    )
    for said in twins(data_dir, [(d.id, d.number, d.title) for d in docs]):
        logger.warning("%s", said)
    chosen = next((d for d in docs if d.id == default), docs[0])
    return Catalog(docs, chosen)


@dataclass(frozen=True)
class Catalog:
    """The documents served, the default one, and the questions routed among them."""

    docs: tuple[Doc, ...]
    default: Doc
    _names: Names = field(init=False, repr=False, compare=False)
    _recent: OrderedDict[tuple[str, str], tuple[Reply, Reply]] = field(
        default_factory=OrderedDict, repr=False, compare=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = Names([d.number for d in self.docs], [d.title for d in self.docs])
        object.__setattr__(self, "_names", names)

    @property
    def several(self) -> bool:
        """Tell whether more than one document is served (then answers name theirs)."""
        return len(self.docs) > 1

    def doc(self, key: str) -> Doc | None:
        """Return the document with this id or button key, or None."""
        return next((d for d in self.docs if key in (d.id, d.key)), None)

    def find(self, text: str) -> Doc | None:
        """Return the document `text` names: its folder, its number or words of its title."""
        doc = self.doc(text.strip())
        if doc is None:
            index = self._names.chosen(text)
            doc = self.docs[index] if index is not None else None
        return doc

    def current(self, dialog: Dialog | None, chat: str) -> Doc:
        """Return the document the chat chose, or the default one."""
        chosen = dialog.chosen(chat) if dialog is not None else None
        return (self.doc(chosen) if chosen is not None else None) or self.default

    def named(self, message: str) -> tuple[Doc, str] | None:
        """Return the document a message names and the message without the name, or None."""
        if not self.several:
            return None
        naming = self._names.named(message)
        return (self.docs[naming.index], naming.rest) if naming is not None else None

    async def converse(
        self, message: str, dialog: Dialog | None = None, chat: str = ""
    ) -> tuple[str, str]:
        """Read a message in its chat's context (see `Assistant.converse`), in its document.

        The document is the one the message names, else the previous answer's for a follow-up
        (or a question only it answers), else the chat's chosen one, else the default.
        """
        if not self.several:
            return await self.default.assistant.converse(message, dialog, chat, self.default.id)
        named = self.named(message)
        if named is not None:
            doc, text = named
            if not text:  # only the name ("39号文"): what that document is
                return ASK, _tag(doc, "")
        else:
            doc, text = self.current(dialog, chat), message
            context = dialog.context(chat) if dialog is not None else None
            before = self.doc(context.doc) if context is not None else None
            # A follow-up stays within the document of the question it follows, and so does a
            # question only that document answers.
            if (
                context is not None
                and before is not None
                and before is not doc
                and (
                    await before.assistant.follows(text, context)
                    or (not await doc.assistant.finds(text) and await before.assistant.finds(text))
                )
            ):
                doc = before
        kind, arg = await doc.assistant.converse(text, dialog, chat, doc.id)
        return (kind, arg) if kind == REFUSED else (kind, _tag(doc, arg))

    def query(self, kind: str, arg: str, dialog: Dialog | None, chat: str) -> tuple[str, str]:
        """Return a command's query (/unit, /task, /find) in the document it is about."""
        if not self.several or kind not in QUERIES:
            return kind, arg
        doc, text = self.named(arg) or (self.current(dialog, chat), arg)
        return kind, _tag(doc, text)

    def of_query(self, arg: str) -> tuple[Doc, str]:
        """Return the document of a query's argument and the argument as its Assistant reads it."""
        if arg.startswith(_TAG):
            doc_id, _, rest = arg[1:].partition(_TAG)
            return self.doc(doc_id) or self.default, rest
        return self.default, arg

    def tagged(self, doc: Doc, arg: str) -> str:
        """Return a query's argument carrying its document (as it is, with one document)."""
        return _tag(doc, arg) if self.several else arg

    async def reply(self, kind: str, arg: str) -> Reply:
        """Answer a query from `converse` or `query`; with several documents, name its own."""
        doc, inner = self.of_query(arg)
        if kind == ASK and not inner and arg.startswith(_TAG):
            return self._named(doc, (kind, arg), doc.assistant.welcome())
        reply = await doc.assistant.reply(kind, inner)
        if kind == REFUSED or not self.several:
            return reply
        named = self._recalled((kind, arg), reply)
        if named is not None:
            return named
        hint = await self._elsewhere(doc, kind, inner) if kind in (ASK, READ) else ()
        return self._named(doc, (kind, arg), reply, hint)

    async def _elsewhere(self, doc: Doc, kind: str, inner: str) -> tuple[Line, ...]:
        """Return a line naming the other documents with the unit a question found nothing of."""
        question = Reading.decode(inner).question if kind == READ else inner
        # Only an answer made (in a worker) for the reply: a refused question is not retried.
        mine = doc.assistant.known(question)
        if mine is None or not mine.no_match:
            return ()
        found: list[tuple[Doc, tuple[str, ...]]] = []
        for other in self.docs:
            if other is doc:
                continue
            try:
                answer = await other.assistant.guard.run(
                    ("answer", question), functools.partial(other.assistant.answer, question)
                )
            except Refused:
                continue
            # Units only: a topic matches something weakly in almost any document.
            if answer.units and not answer.no_match:
                found.append((other, answer.units))
        if not found:
            return ()
        where = "、".join(f"{d.number}（{'、'.join(units)}）" for d, units in found)
        example = f"{_short_number(found[0][0])}里{compose.quote(question, 30)}"
        return (line(f"其他文件中有：{where}。可问「{example}」，或发送 /doc 切换。"),)

    def to_json(self, kind: str, arg: str, message: str) -> dict[str, Any]:
        """Return the scorer's JSON for a query (with "doc", its id, when there are several)."""
        doc, inner = self.of_query(arg)
        data = doc.assistant.to_json(kind, inner, message)
        return {**data, "doc": doc.id} if self.several and kind != REFUSED else data

    def action(self, action: str) -> Reply | None:
        """Answer an answer's button ("m:7.2@key", "ex:0@key"); None when it is not ours."""
        head, at, key = action.rpartition("@")
        doc = self.doc(key) if at and _of_doc(head) else None
        if doc is None:
            doc, head = self.default, action
        reply = doc.assistant.action(head)
        return None if reply is None else self._named(doc, ("action", f"{doc.id}@{head}"), reply)

    def press(self, action: str, dialog: Dialog, chat: str) -> Reply | None:
        """Answer a button of this catalog in a chat: a document chosen, or `action`'s."""
        kind, _, key = action.partition(":")
        if kind != CHOOSE:
            return self.action(action)
        doc = self.doc(key)
        if doc is None:
            return self.listing(dialog, chat, "这份文件已不再提供，请重新选择：")
        return self._choose(doc, dialog, chat)

    def welcome(self, dialog: Dialog | None = None, chat: str = "") -> Reply:
        """Return the /start greeting of the chat's document, and the others' names."""
        doc = self.current(dialog, chat)
        reply = doc.assistant.welcome()
        if not self.several:
            return reply
        others = line(
            f"共载入 {len(self.docs)} 份文件，发送 /doc 查看或切换；问题中写明文号"
            f"（如「{_short_number(self.docs[-1])}里……」）即按该文件回答。"
        )
        named = self._named(doc, ("start", doc.id), reply)
        return dataclasses.replace(named, header=(*named.header, others))

    def help(self) -> Reply:
        """Return the command list."""
        return self.default.assistant.help()

    def listing(self, dialog: Dialog, chat: str, lead: str = "") -> Reply:
        """Return /doc: the documents, the chat's current one marked, a button for each."""
        current = self.current(dialog, chat)
        items = tuple(
            Item(
                (
                    line(bold(doc.number), "（当前）" if doc is current else ""),
                    line(doc.short_title),
                    line(
                        Span(
                            f"{len(doc.plan.tasks)} 项任务、{len(doc.plan.measures)} 项举措、"
                            f"{len(doc.plan.units)} 个单位",
                            "italic",
                        )
                    ),
                )
            )
            for doc in self.docs
        )
        buttons = tuple(
            (Button(("✓ " if doc is current else "") + doc.number, f"{CHOOSE}:{doc.key}"),)
            for doc in self.docs
        )
        header = line(lead or f"已载入的文件（共 {len(self.docs)} 份），点击按钮切换：")
        footer = line(
            f"也可以发送 /doc 文号，例如 /doc {_short_number(self.docs[-1])}；问题中写明文号"
            "时，只这一问按该文件回答。"
        )
        return Reply(header=(header,), items=items, footer=(footer,), buttons=buttons, per_page=10)

    def choose(self, text: str, dialog: Dialog, chat: str) -> Reply:
        """Answer /doc TEXT: make the document it names the chat's; list them if none fits."""
        text = text.strip()
        if not text:
            return self.listing(dialog, chat)
        doc = self.find(text)
        if doc is None:
            shown = compose.quote(text, 20)
            return self.listing(dialog, chat, f"没有找到文件「{shown}」。已载入的文件：")
        return self._choose(doc, dialog, chat)

    def _choose(self, doc: Doc, dialog: Dialog, chat: str) -> Reply:
        dialog.choose(chat, doc.id)
        examples = doc.assistant.lexicon.examples[:4]
        buttons = tuple(
            (Button(ex, f"{compose.ASK_EXAMPLE}:{i}@{doc.key}"),) for i, ex in enumerate(examples)
        )
        return Reply(
            header=(
                line("已切换到 ", bold(doc.label), "。"),
                line(
                    "之后的问题都按这份文件回答；问题中写明其他文件的文号时，只这一问按那份文件。"
                ),
            ),
            buttons=buttons,
        )

    def _recalled(self, key: tuple[str, str], reply: Reply) -> Reply | None:
        """Return the named reply made before from this very reply, or None."""
        with self._lock:
            found = self._recent.get(key)
        # The same reply named once: channels may render a reply object only once.
        return found[1] if found is not None and found[0] is reply else None

    def _named(
        self, doc: Doc, key: tuple[str, str], reply: Reply, footer: tuple[Line, ...] = ()
    ) -> Reply:
        """Return the reply with its document's name on top and its buttons keyed to it."""
        if not self.several:
            return reply
        found = self._recalled(key, reply)
        if found is not None:
            return found
        header = reply.header
        if footer and header and text_of(header[-1:]).endswith("例如："):
            # The line that promises examples stays right above its buttons.
            header, footer = (*header[:-1], *footer, header[-1]), ()
        named = dataclasses.replace(
            reply,
            header=(_source_line(doc), *header),
            items=tuple(
                dataclasses.replace(i, buttons=_keyed(i.buttons, doc)) for i in reply.items
            ),
            buttons=tuple(_keyed(row, doc) for row in reply.buttons),
            footer=(*reply.footer, *footer),
        )
        with self._lock:
            self._recent[key] = (reply, named)
            if len(self._recent) > RECENT_QUESTIONS:
                self._recent.popitem(last=False)
        return named


def _tag(doc: Doc, arg: str) -> str:
    return f"{_TAG}{doc.id}{_TAG}{arg}"


def _source_line(doc: Doc) -> Line:
    return line(Span("出自：", "italic"), bold(doc.label))


def _keyed(buttons: Sequence[Button], doc: Doc) -> tuple[Button, ...]:
    """Return the buttons with the document's key on the actions that belong to it."""
    return tuple(
        Button(b.label, f"{b.action}@{doc.key}") if _of_doc(b.action) else b for b in buttons
    )


def _of_doc(action: str) -> bool:
    return action.partition(":")[0] in _DOC_ACTIONS


def _short_number(doc: Doc) -> str:
    """Return how people say the document's number ("3号文"), or its number as written."""
    found = re.search(r"(\d+)\s*号$", doc.number)
    return f"{found.group(1)}号文" if found else doc.number

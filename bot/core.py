"""The core every channel talks to: opened once, whatever channels run.

An adapter turns what its user did into one of four calls and renders what comes back:
`text` (a message typed), `command` (a command and its argument), `press` (a button's action)
and `page` (redraw a long answer for another page). Commands, permissions, page tokens and
notices to others are handled here once, so every channel behaves alike. With several
instances on one database, the core also follows the documents another instance changed
(`follow`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.ask.assistant import QUERIES, REFUSED, REPORTING, Assistant
from bot.ask.catalog import CHOOSE, Catalog, Doc, discover, load_catalog
from bot.ask.dialog import CONTEXT_TTL, Context, Dialog
from bot.channel import Router
from bot.charset import typed
from bot.clock import Clock, system_clock
from bot.commands import BY_NAME
from bot.config import Config
from bot.office import unanswered
from bot.office.audit import audit
from bot.office.membership import APPROVE, REJECT
from bot.office.notes import CANCEL, CONFIRM_DELETE, DELETE, EDIT, KEEP
from bot.office.office import OFFICE_ACTIONS, Office
from bot.office.reminders import CHASE, Reminders
from bot.office.weblogin import web_link
from bot.outcome import Outcome, Person, say
from bot.store import ChatState, Owned, Store
from bot.store.chats import new_token, tenure
from bot.throttle import Throttle, Verdict

logger = logging.getLogger(__name__)

EXPIRED = "按钮已过期，请重新提问"
UNKNOWN = "没有这个命令：/{}。输入 /help 查看可用命令。"
PRIVATE_ONLY = "为保护信息，请在与机器人的私聊中使用这个命令。"
JOIN_IN_PRIVATE = "邀请码请在与机器人的私聊中发送（/join 邀请码）。在群里发送不会绑定。"
# With several instances: how often each reads whether another changed a document's files.
FOLLOW_EVERY = dt.timedelta(seconds=5)

Query = tuple[str, str]  # (kind, argument): what a page button redraws
Run = Callable[[Person, str, str], Awaitable[Outcome]]  # person, argument, chat
# A command of a document's office: its office and reminders, the person, the argument.
Desk = Callable[[Office, Reminders, Person, str], Awaitable[Outcome]]
# Buttons on stored rows act in the row's document: which row an action's argument names.
_OWNERS: dict[str, Owned] = {
    APPROVE: "request",
    REJECT: "request",
    EDIT: "note",
    DELETE: "note",
    CONFIRM_DELETE: "note",
    KEEP: "note",
}


@dataclass(frozen=True)
class Response:
    """An outcome, and the query that redraws it when the channel shows it page by page."""

    outcome: Outcome
    query: Query | None = None


class QueryCache:
    """Remembers what a paginated message answered, so its page buttons can redraw it.

    Buttons carry a short token (Telegram's callback data holds 64 bytes); a token that was
    evicted, never issued or forged reads as expired. In memory, unless several instances
    share the store: then in it too, so that a button issued by one works on any (written
    with the inbox's commit of the message shown with it, when one is being handled).
    """

    def __init__(self, store: Store, capacity: int = 5000) -> None:
        self._store = store
        self._capacity = capacity
        self._entries: OrderedDict[str, Query] = OrderedDict()

    async def remember(self, kind: str, arg: str) -> str:
        """Store a query and return its token."""
        held = tenure.get()
        if self._store.several_instances and (held is None or not held.open):
            return await self._store.chats.remember(kind, arg)
        token = new_token()
        self._entries[token] = (kind, arg)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
        if self._store.several_instances and held is not None:
            held.tokens[token] = (kind, arg)
        return token

    async def recall(self, token: str) -> Query | None:
        """Return the query behind a token, or None when it is unknown."""
        entry = self._entries.get(token)
        if entry is not None:
            self._entries.move_to_end(token)
        elif self._store.several_instances:
            return await self._store.chats.recall(token)
        return entry


class Core:
    """The services, opened once, and the four calls every channel adapter makes."""

    def __init__(
        self, config: Config, catalog: Catalog | Assistant, store: Store, clock: Clock
    ) -> None:
        if isinstance(catalog, Assistant):  # one document, as tests and tools build it
            catalog = Catalog((Doc("", catalog),), Doc("", catalog))
        self.config = config
        self.catalog = catalog
        self.clock = clock
        self.store = store
        # Members, notes and reminders are kept per document, each on its own rows.
        self.offices = {d.id: self._office_for(d) for d in catalog.docs}
        self.reminders_of = {
            d.id: Reminders(self.offices[d.id].membership, config.reminders) for d in catalog.docs
        }
        self.office = self.offices[catalog.default.id]
        self.reminders = self.reminders_of[catalog.default.id]
        self.router = Router()
        self.dialog = Dialog(clock)
        self.throttle = Throttle(clock)
        self.queries = QueryCache(store)
        store.chats.kept = CONTEXT_TTL  # the chats written behind are pruned after it too
        # The web console's public address, set when its server starts (None: not running).
        self.web_url: str | None = None
        # Who was already recorded as seen, so that not every message costs a write; and the
        # writes under way, which a person's next messages wait for instead of writing again.
        self._seen: set[tuple[str, str, bool]] = set()
        self._seeing: dict[tuple[str, str, bool], asyncio.Future[None]] = {}
        # Several instances: the documents' generations as last read (see `follow`), and when.
        self.generations: dict[str, int] = {}
        self._followed_at: dt.datetime | None = None
        self._commands: dict[str, Run] = {
            "start": self._welcome,
            "help": lambda p, a, c: self._read("help", a),
            "unit": lambda p, a, c: self._read("unit", a),
            "task": lambda p, a, c: self._read("task", a),
            "find": lambda p, a, c: self._read("find", a),
            "doc": self._doc,
            "join": lambda p, a, c: self._redeem(p, a),
            "whoami": self._whoami,
            "cancel": self._cancel,
            "web": lambda p, a, c: web_link(self.store, self.web_url, p),
        }
        # The rest run in the chat's document (see `command`).
        self._desks: dict[str, Desk] = {
            "bind": lambda o, r, p, a: o.membership.bind(p, a),
            "note": lambda o, r, p, a: o.notes.note(p, a),
            "notes": lambda o, r, p, a: o.notes.notes(p, a),
            "report": lambda o, r, p, a: o.overview.report(p, a),
            "remind": lambda o, r, p, a: r.remind(p, a),
            "unbind": lambda o, r, p, a: o.membership.unbind(p),
            "invite": lambda o, r, p, a: o.membership.invite(p, a, self.router.invite_link(p.id)),
            "members": lambda o, r, p, a: o.membership.members(p, a),
            "progress": lambda o, r, p, a: o.overview.progress(p, a, picture=True),
            "export": lambda o, r, p, a: o.overview.export(p, a),
            "audit": lambda o, r, p, a: audit(o.membership, p, a),
            "remind_test": lambda o, r, p, a: r.remind_test(p, a),
            "unit_change": lambda o, r, p, a: o.changes.propose(p, a),
        }
        if self.commands != set(BY_NAME):  # a registry entry without its runner
            missing = set(BY_NAME) ^ self.commands
            raise RuntimeError(f"commands not run by the core: {missing}")

    def _office_for(self, doc: Doc) -> Office:
        """Build a document's office on its rows of the store."""
        several = self.catalog.several
        return Office(
            doc.assistant,
            self.store.document(doc.id, doc.number),
            self.config.coordinators,
            self.clock,
            self.config.reminders,
            doc.key if several else None,
            doc.label if several else "",
        )

    @property
    def commands(self) -> frozenset[str]:
        """Return the names of the commands the core runs (exactly the registry's)."""
        return frozenset(self._commands) | frozenset(self._desks)

    @classmethod
    async def open(
        cls, config: Config, assistant: Assistant | None = None, clock: Clock = system_clock
    ) -> Core:
        """Open the database and build the services on it."""
        store = await Store.open(config.database, clock)
        try:
            # Read before the files: a change another instance makes meanwhile is reloaded.
            generations = await store.generations.read() if store.several_instances else {}
            catalog = assistant or load_catalog(
                config.data_dir, config.default_doc, config.reminders, clock
            )
        except BaseException:
            await store.close()
            raise
        core = cls(config, catalog, store, clock)
        core.generations = generations
        try:
            # Notes filed before their document was recorded with them belong to the one
            # loaded now: the first start on this schema records it.
            for doc in core.catalog.docs:
                await store.document(doc.id, doc.number).notes.claim()
            # Units changed in units.yaml by hand since the last start: move their members
            # (the notices go out with the others owed, at the scheduler's first check).
            for office in core.offices.values():
                await office.changes.reconcile()
        except BaseException:
            await store.close()
            raise
        return core

    async def close(self) -> None:
        """Close the database (once the unanswered questions counted are written)."""
        await unanswered.flush(self.store)
        await self.store.close()

    # -- the documents served ----------------------------------------------------------------

    def serve(self, doc: Doc) -> None:
        """Add a document to the running core: its office and reminders, keyed like the rest."""
        self.catalog = Catalog((*self.catalog.docs, doc), self.catalog.default)
        # With several documents, every office keys its buttons and names its document.
        for each in self.catalog.docs[:-1]:
            membership = self.offices[each.id].membership
            membership.tag, membership.label = each.key, each.label
        self._open(doc)

    def _open(self, doc: Doc) -> None:
        """Build a served document's office and reminders, on its own rows of the store."""
        self.offices[doc.id] = office = self._office_for(doc)
        reminders = Reminders(office.membership, self.config.reminders)
        # Whatever group chats get the summaries (the group robot) get this document's too.
        reminders.summary_groups |= self.reminders.summary_groups
        self.reminders_of[doc.id] = reminders
        if doc.id == self.catalog.default.id:
            self.office, self.reminders = office, reminders

    async def follow(self) -> None:
        """Reload the documents another instance changed, when several share the database.

        Their generations are read at most once every FOLLOW_EVERY, by the message (or
        reminder check, or console page) that finds the time come, which then waits for the
        reload; a message under way meanwhile finishes on the plan it started on. One instance
        alone reads nothing.
        """
        now = self.clock()
        if not self.store.several_instances or (
            self._followed_at is not None and now - self._followed_at < FOLLOW_EVERY
        ):
            return
        self._followed_at = now
        try:
            generations = await self.store.generations.read()
        except Exception as e:  # the message goes on: the next look reads them again
            logger.warning("未能读取文件的变更记录，稍后再读：%s", e)
            return
        for doc_id, counter in generations.items():
            if self.generations.get(doc_id) != counter:
                # Recorded first: a file that cannot be loaded is said once, not every look.
                self.generations[doc_id] = counter
                await self._reload(doc_id)

    async def _reload(self, doc_id: str) -> None:
        """Load a document changed elsewhere from its folder; swap it in, or add it if new."""
        doc = next((d for d in self.catalog.docs if d.id == doc_id), None)
        try:
            folder = (
                doc.assistant.data_dir if doc else dict(discover(self.config.data_dir))[doc_id]
            )
            if folder is None:  # not loaded from a folder: nothing to reload
                return
            fresh = await asyncio.to_thread(
                Assistant.load, folder, self.config.reminders, self.clock
            )
        except Exception as e:  # the folder as it was loaded stays served
            logger.warning(
                "文件 %s 已由另一实例更改，但无法重新载入，仍按原文件回答：%s", _shown(doc_id), e
            )
            return
        if doc is None:
            self.serve(Doc(doc_id, fresh))
        else:
            # A new Assistant in the old one's place (with its worker threads), not the old one
            # changed: a reply under way is made from the old plan to its end.
            swapped = Doc(doc_id, dataclasses.replace(fresh, guard=doc.assistant.guard))
            docs = tuple(swapped if d.id == doc_id else d for d in self.catalog.docs)
            default = swapped if self.catalog.default.id == doc_id else self.catalog.default
            self.catalog = Catalog(docs, default)
            if swapped.number == doc.number:
                self.offices[doc_id].membership.assistant = swapped.assistant
            else:  # another document in the folder (import-doc --replace): its notes its own
                self._open(swapped)
        logger.info("已重新载入另一实例更改的文件 %s", _shown(doc_id))

    # -- who is talking ----------------------------------------------------------------------

    def admit(self, person: Person, at: dt.datetime | None = None) -> Verdict:
        """Take one message, sent `at` (default now), from the person's flood allowance."""
        return self.throttle.admit(person.id, at)

    def is_new(self, person: Person) -> bool:
        """Tell whether the person's name or chat kind is neither recorded nor being recorded."""
        key = (person.id, person.name, person.private)
        return key not in self._seeing and (key not in self._seen or self._unblocks(person))

    async def seen(self, person: Person) -> None:
        """Record the person once per name and chat kind (a private chat opens reminders)."""
        key = (person.id, person.name, person.private)
        if key in self._seen and not self._unblocks(person):
            return
        write = self._seeing.get(key)
        if write is None:
            # One write however many of the person's messages arrive before it is done (each
            # would otherwise queue its own transaction, with its fsync, before others' reads).
            write = self._seeing[key] = asyncio.ensure_future(self._record(person, key))
            write.add_done_callback(lambda w: w.cancelled() or w.exception())
        await asyncio.shield(write)

    def _unblocks(self, person: Person) -> bool:
        # Writing privately to a bot one blocked unblocks it: the write marks them reachable.
        return person.private and person.id in self.store.blocked

    async def _record(self, person: Person, key: tuple[str, str, bool]) -> None:
        if person.private:
            self.store.blocked.discard(person.id)
            self._seen.discard(key)  # if the write fails, the next message tries again
        try:
            await self.office.membership.seen(person)
            self._seen.add(key)
        finally:  # a failed write is tried again with the person's next message
            del self._seeing[key]

    # -- the four calls ----------------------------------------------------------------------

    async def text(self, person: Person, chat: str, text: str) -> Response:
        """Answer a message typed to the bot: the note being written, else a question.

        `chat` names the conversation (one context per person in each chat).
        """
        async with self._chat(chat):
            return await self._text(person, chat, text)

    async def _text(self, person: Person, chat: str, text: str) -> Response:
        text = typed(text)  # a lone surrogate would fail in the engine and in SQLite
        if person.private:
            office = await self._owner("flow", person.id) or self.office
            flow = await office.notes.text(person, text)
            if flow is not None:
                return Response(flow)
        kind, arg = await self.catalog.converse(text, self.dialog, chat)
        unanswered.record_query(self, kind, arg)  # what the bot could not answer
        outcome = await self.query(person, kind, arg)
        return Response(outcome or say(EXPIRED), (kind, arg))

    async def command(self, person: Person, chat: str, name: str, arg: str) -> Response:
        """Run a command of the registry, with its argument as typed, in a chat (see `text`)."""
        async with self._chat(chat):
            return await self._command(person, chat, name, arg)

    async def _command(self, person: Person, chat: str, name: str, arg: str) -> Response:
        name, arg = typed(name).lower(), typed(arg)
        command = BY_NAME.get(name)
        if command is None or name not in self.commands:
            shown = name if len(name) <= 32 else f"{name[:32]}…"
            return Response(say(UNKNOWN.format(shown)))
        if name == "start" and arg.strip() and not person.private:
            return Response(say(JOIN_IN_PRIVATE))  # the code is the inviter's: not for a group
        if command.private_only and not person.private:
            return Response(say(PRIVATE_ONLY))
        if name in QUERIES:  # /unit, /task, /find: in the document the chat reads
            name, arg = self.catalog.query(name, arg, self.dialog, chat)
        pageable, desk = self._pageable(name, arg), self._desks.get(name)
        if desk is not None:  # in the chat's document; a page turn redoes it there
            doc = self.catalog.current(self.dialog, chat)
            outcome = await desk(self.offices[doc.id], self.reminders_of[doc.id], person, arg)
            arg = self.catalog.tagged(doc, arg)
        else:
            outcome = await self._commands[name](person, arg, chat)
        return Response(outcome, (name, arg) if pageable else None)

    async def press(self, person: Person, chat: str, action: str) -> Response | None:
        """Run a button's action in a chat (see `text`); None when it is no longer valid."""
        async with self._chat(chat):
            return await self._press(person, chat, action)

    async def _press(self, person: Person, chat: str, action: str) -> Response | None:
        action = typed(action)
        if action.startswith(f"{CHASE}:"):
            doc, plain = self._keyed(action, chat)
            year = plain.partition(":")[2]
            return Response(await self.reminders_of[doc.id].chase(person, year, self.router))
        outcome = await self._action(person, action, chat)
        if outcome is not None:
            return Response(outcome, ("action", action) if action.startswith("pu:") else None)
        reply = self.catalog.press(action, self.dialog, chat)
        if reply is None:
            return None
        # Choosing a document changes the chat's state: not a query to redo for a page.
        return Response(Outcome(reply), None if action.startswith(CHOOSE) else ("action", action))

    async def page(self, person: Person, token: str) -> Outcome | None:
        """Redo the query behind a page token; None when the token is unknown."""
        query = await self.queries.recall(token)
        return await self.query(person, *query) if query else None

    @asynccontextmanager
    async def _chat(self, chat: str) -> AsyncIterator[None]:
        """Around one message: when several instances share the store, read the chat's
        context and `/doc` choice from it first and write them back after, if they changed.

        Under the lease of the member the chat belongs to (the inbox's `tenure`), read once
        a tenure and written behind, in the inbox's commit of the message. One instance
        alone keeps them in memory only: a write per message would cost every answer a
        commit. A member's messages are handled one at a time, whichever instance takes them.
        """
        if not self.store.several_instances:
            yield
            return
        await self.follow()
        held = tenure.get()
        if held is not None and not held.open:
            held.states.pop(chat, None)  # read again by the next tenure
            held = None  # ended: what changes now is written at once
        before = held.states.get(chat) if held is not None else None
        if before is None:
            before = await self.store.chats.load(chat)
            if held is not None:
                held.states[chat] = before
        stored = None
        if before.context is not None and before.at is not None:
            stored = Context.parse(before.context, before.at)
        self.dialog.restore(chat, stored, before.doc)
        yield
        context, doc = self.dialog.state(chat)
        after = ChatState(doc=doc)
        if context is not None:
            after = ChatState(context.dump(), context.at, doc)
        if after != before and held is not None and held.open:
            held.change(chat, after)
        elif after != before:
            await self.store.chats.save(chat, after, CONTEXT_TTL)

    def slow(self, action: str) -> bool:
        """Tell whether a button's action may take long (a chase-up sends to many)."""
        return action.startswith(f"{CHASE}:")

    async def notify(self, outcome: Outcome) -> list[str]:
        """Send the outcome's notices to the others concerned; return whom they missed."""
        return await self.office.membership.send_notices(outcome.notices, self.router)

    # -- read-only queries, redone for page buttons --------------------------------------------

    async def query(self, person: Person, kind: str, arg: str) -> Outcome | None:
        """Answer a read-only query again; None when it is not one (a forged token)."""
        if kind in QUERIES or kind == REFUSED:
            return Outcome(await self.catalog.reply(kind, arg))
        if kind == REPORTING:
            doc, _ = self.catalog.of_query(arg)
            return await self.reminders_of[doc.id].reporting(person)
        if kind == "action" and arg.startswith("pu:"):
            return await self._action(person, arg, "")
        if kind == "action":
            reply = self.catalog.action(arg)
            return Outcome(reply) if reply is not None else None
        if kind == "start":
            return Outcome(self.catalog.welcome())
        desk = self._desks.get(kind)
        if desk is not None and BY_NAME[kind].private_only and not person.private:
            return say(PRIVATE_ONLY)  # a page token of a private chat, pressed in a group
        if desk is not None:
            doc, arg = self.catalog.of_query(arg)
            office = self.offices[doc.id]
            if kind == "progress":  # a page turn redraws the text, not the picture
                return await office.overview.progress(person, arg)
            pageable = self._pageable(kind, arg)
            return await desk(office, self.reminders_of[doc.id], person, arg) if pageable else None
        run = self._commands.get(kind)
        return await run(person, arg, "") if run and self._pageable(kind, arg) else None

    async def _read(self, kind: str, arg: str) -> Outcome:
        if kind == "help":
            return Outcome(self.catalog.help())
        # The person's text reaches the engine: in the guard's worker threads, off the loop.
        return Outcome(await self.catalog.reply(kind, arg))

    async def _welcome(self, person: Person, arg: str, chat: str) -> Outcome:
        # /start CODE: the invite link of a channel that has links (Telegram's deep links).
        if arg.strip():
            return await self._redeem(person, arg.strip())
        return Outcome(self.catalog.welcome(self.dialog, chat))

    # -- the documents' offices --------------------------------------------------------------

    async def _owner(self, kind: Owned, key: str) -> Office | None:
        """Return the office of the document a stored row belongs to (None: no such row)."""
        if len(self.offices) == 1:
            return self.office
        doc = await self.store.doc_of(kind, key)
        return None if doc is None else self.offices.get(doc)

    def _keyed(self, action: str, chat: str) -> tuple[Doc, str]:
        """Return the document of a button keyed to one ("nm:1.1@key"), else the chat's."""
        head, at, key = action.rpartition("@")
        doc = self.catalog.doc(key) if at else None
        if doc is None:
            return self.catalog.current(self.dialog, chat), action
        return doc, head

    async def _action(self, person: Person, action: str, chat: str) -> Outcome | None:
        """Run an office button in its document: the row's, the button's, else the chat's."""
        kind, _, arg = action.partition(":")
        if kind not in OFFICE_ACTIONS:
            return None
        if not person.private:
            # Every office button belongs to a private-only command and may show a note, a
            # unit's gaps or a request: a forged one pressed in a group must not post them there.
            return say(PRIVATE_ONLY)
        owned = _OWNERS.get(kind)
        office = await self._owner(owned, arg) if owned else None
        if kind == CANCEL:
            office = await self._owner("flow", person.id)
        if office is None:
            doc, action = self._keyed(action, chat)
            office = self.offices[doc.id]
        return await office.action(person, action)

    async def _redeem(self, person: Person, code: str) -> Outcome:
        # An invite binds in the document it was made in, whichever the chat reads.
        office = await self._owner("invite", code.strip()) or self.office
        return await office.membership.redeem(person, code)

    async def _cancel(self, person: Person, arg: str, chat: str) -> Outcome:
        office = await self._owner("flow", person.id)
        if office is None:
            office = self.offices[self.catalog.current(self.dialog, chat).id]
        return await office.notes.cancel(person)

    async def _whoami(self, person: Person, arg: str, chat: str) -> Outcome:
        labels = {d.id: d.label for d in self.catalog.docs} if self.catalog.several else None
        return await self.office.membership.whoami(person, labels)

    async def _doc(self, person: Person, arg: str, chat: str) -> Outcome:
        return Outcome(self.catalog.choose(arg, self.dialog, chat))

    @staticmethod
    def _pageable(name: str, arg: str) -> bool:
        # /note without a measure lists the measures to pick from: a read-only query too.
        command = BY_NAME.get(name)
        if command is None or (name == "start" and arg.strip()):  # /start CODE binds
            return False
        return command.pageable or (name == "note" and not arg)


def _shown(doc_id: str) -> str:
    """Name a document's folder in the log (the root's has no name of its own)."""
    return doc_id or "（数据文件夹本身的）"

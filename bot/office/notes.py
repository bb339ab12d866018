"""Progress notes: filing one (at once or in a two-step flow), listing, editing, deleting."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from bot.ask import compose
from bot.clock import TZ, Clock
from bot.documents.example import NOTE_TEXT
from bot.documents.plan import Measure, Plan
from bot.office.membership import UNBOUND, UNIT_CHANGED, Membership, flow_ended
from bot.office.notetext import clean_note
from bot.outcome import NOT_MEMBER, Outcome, Person, number, say
from bot.reply import Button, Item, Reply, Span, bold, line
from bot.store import Changed, Note, Store, StoreError

NOTE_MAX = 1000
FLOW_TIMEOUT = dt.timedelta(minutes=10)
# A note left unfinished this long ago is forgotten: the next text is read as a new message.
STALE_FLOW = dt.timedelta(hours=1)
EMPTY_NOTE = (
    "进展内容不能为空：只有空格、换行或零宽字符等看不见的内容不算进展。请重新发送进展的文字。"
)
# What a character the channel could not carry (a lone surrogate) became (bot.charset.typed).
UNREADABLE = "\ufffd"
UNREADABLE_HINT = (
    f"内容中有无法识别的字符，已显示为 {UNREADABLE}；如需更正，请发送 /notes 后点「修改」。"
)

# Button actions (short: Telegram allows 64 bytes of callback data).
NOTE_ON = "nm"  # nm:<measure id>: start a note on this measure
EDIT, DELETE, CONFIRM_DELETE, KEEP = "ne", "nd", "nD", "nk"  # ne:<note id>
CANCEL = "nc"  # abort the note being written


@dataclass
class Notes:
    """A unit's progress notes, written by its members."""

    membership: Membership

    @property
    def store(self) -> Store:
        """Return the store."""
        return self.membership.store

    @property
    def plan(self) -> Plan:
        """Return the plan."""
        return self.membership.plan

    @property
    def clock(self) -> Clock:
        """Return the clock."""
        return self.membership.clock

    def _measure_buttons(self, unit: str, measures: tuple[Measure, ...]) -> Reply:
        items = tuple(
            Item(
                (line(bold(m.id), f" {compose.summary(m.text, 30)}"),),
                (Button(f"报送 {m.id}", self.membership.act(f"{NOTE_ON}:{m.id}")),),
            )
            for m in measures
        )
        return Reply(
            header=(line(f"请选择「{unit}」要报送进展的举措："),), items=items, per_page=12
        )

    async def note(self, person: Person, arg: str) -> Outcome:
        """Handle /note [measure id] [text]: file a note, or ask for what is missing."""
        unit = await self.membership.unit_of(person)
        if unit is None:
            return say(NOT_MEMBER)
        arg = arg.strip()
        if not arg:
            return Outcome(self._measure_buttons(unit, self.plan.duties_of(unit)))
        m = re.match(r"(?:举措)?\s*(\d{1,2})\s*[.．。]\s*(\d{1,2})(?=\s|$)\s*(.*)", arg, re.S)
        if m is None:
            first = (self.plan.duties_of(unit) or self.plan.measures)[0].id
            return say(f"请先写举措编号，再写进展，例如：/note {first} {NOTE_TEXT}")
        measure_id, text = f"{int(m.group(1))}.{int(m.group(2))}", m.group(3)
        problem = self._check_measure(unit, measure_id)
        if problem:
            return problem
        if not text.strip():
            return await self._start_flow(person, "note", measure_id, unit)
        if not clean_note(text):
            # Nothing visible was typed: ask for the text, as if only the id had been sent.
            started = await self._start_flow(person, "note", measure_id, unit)
            return say(EMPTY_NOTE, *started.reply.header, buttons=started.reply.buttons)
        return await self._file(person, unit, measure_id, text)

    def _check_measure(self, unit: str, measure_id: str) -> Outcome | None:
        measure = self.plan.measure(measure_id)
        if measure is None:
            head = f"没有编号为 {measure_id} 的举措。"
        elif not self.plan.is_responsible(unit, measure):
            head = f"「{unit}」不是举措 {measure_id} 的责任单位。"
        else:
            return None
        reply = self._measure_buttons(unit, self.plan.duties_of(unit))
        return Outcome(
            Reply(header=(line(head), *reply.header), items=reply.items, per_page=reply.per_page)
        )

    async def _start_flow(
        self, person: Person, kind: Literal["note", "edit"], target: str, unit: str
    ) -> Outcome:
        await self.store.flows.start(person.id, kind, target, unit)
        # An edit's target is "<note id>:<version>".
        what = (
            f"举措 {target} 的进展"
            if kind == "note"
            else f"第 {target.partition(':')[0]} 条记录的新内容"
        )
        return say(
            f"请发送{what}（1–{NOTE_MAX} 字）。10 分钟内有效，发送 /cancel 取消。",
            buttons=((Button("取消", CANCEL),),),
        )

    async def choose_measure(self, person: Person, measure_id: str) -> Outcome:
        """Start a note on a measure chosen with a button."""
        unit = await self.membership.unit_of(person)
        if unit is None:
            return say(NOT_MEMBER)
        problem = self._check_measure(unit, measure_id)
        return problem or await self._start_flow(person, "note", measure_id, unit)

    async def pending(self, person: Person) -> bool:
        """Tell whether the person's next text is awaited by a note flow (expired or not)."""
        return await self.store.flows.get(person.id) is not None

    async def text(self, person: Person, text: str) -> Outcome | None:
        """Take plain text as the awaited note or edit; None when no flow awaits it."""
        flow = await self.store.flows.get(person.id)
        if flow is None:
            # Handled again after a crash: the note this very message filed, not a question.
            filed = await self.store.notes.filed_here()
            return None if filed is None else self._recorded(filed)
        typed = line(Span(text, "quote"))
        waited = self.clock() - flow.started_at
        if waited > FLOW_TIMEOUT:
            await self.store.flows.end(person.id)
            if waited > STALE_FLOW:
                # Long abandoned: this text is no late note but a new message (a question).
                return None
            if flow.kind == "note":
                return say(
                    "上一次报送已超时（10 分钟），内容未保存。",
                    "您刚才发送的内容如下，如需报送请重新发送 /note：",
                    typed,
                )
            return say(
                "上一次修改已超时（10 分钟），内容未保存。",
                "您刚才发送的内容如下，如需修改请发送 /notes 后重新点「修改」：",
                typed,
            )
        member = await self.store.members.get(person.id)
        if member is None or member.unit != flow.unit:
            # Checked again now: the text must not be filed for a unit it was not meant for.
            await self.store.flows.end(person.id)
            again = NOT_MEMBER if member is None else "如需报送，请重新发送 /note。"
            ended = flow_ended(flow.kind, flow.target, UNBOUND if member is None else UNIT_CHANGED)
            return say(ended, "您刚才发送的内容如下：", typed, again)
        cleaned = clean_note(text)
        problem = self._check_text(cleaned)
        if problem:
            # The flow stays open, so a corrected text can simply be sent again.
            return problem
        if flow.kind == "edit":  # target "<note id>:<version of the text shown>"
            note_id, _, version = flow.target.partition(":")
            return await self._edit(person, int(note_id), cleaned, version or None)
        problem = self._check_measure(member.unit, flow.target)
        if problem:
            await self.store.flows.end(person.id)
            reply = problem.reply
            head = (*reply.header[:1], line("您刚才发送的内容未保存："), typed, *reply.header[1:])
            return Outcome(Reply(header=head, items=reply.items, per_page=reply.per_page))
        return await self._file(person, member.unit, flow.target, cleaned, ends_flow=True)

    async def cancel(self, person: Person) -> Outcome:
        """Abort the person's note flow."""
        if await self.store.flows.end(person.id) is None:
            return say("当前没有进行中的操作。")
        return say("已取消。")

    def _check_text(self, text: str) -> Outcome | None:
        """Refuse a cleaned note text that is empty or too long."""
        if not text:
            return say(EMPTY_NOTE)
        if len(text) > NOTE_MAX:
            return say(f"进展内容最多 {NOTE_MAX} 字，您发送了 {len(text)} 字，请精简后重新发送。")
        return None

    async def _file(
        self, person: Person, unit: str, measure_id: str, text: str, *, ends_flow: bool = False
    ) -> Outcome:
        text = clean_note(text)
        problem = self._check_text(text)
        if problem:
            return problem
        note = await self.store.notes.add(
            unit,
            measure_id,
            self.membership.year(),
            person.id,
            person.name,
            text,
            ends_flow=ends_flow,
        )
        # Acknowledged only now: add_note returns after the commit.
        return self._recorded(note)

    @staticmethod
    def _recorded(note: Note) -> Outcome:
        """The acknowledgement of a filed note."""
        lines = [
            line(
                f"已记录「{note.unit}」举措 {note.measure_id} 的 {note.year} 年进展"
                f"（编号 {note.id}）："
            ),
            line(Span(note.text, "quote")),
        ]
        filed = note.created_at.astimezone(TZ).year
        if filed > note.year:  # after the plan's last reporting year: say where it went
            lines.append(
                line(f"{filed} 年不在本文件的报送年度内，这条进展计入 {note.year} 年度。")
            )
        elif filed < note.year:  # before the first: it waits for the first report
            lines.append(
                line(
                    f"本文件从 {note.year} 年开始报送，{filed} 年还不是报送年度；"
                    f"这条进展计入 {note.year} 年度，在第一次报送时汇总。"
                )
            )
        if UNREADABLE in note.text:
            lines.append(line(UNREADABLE_HINT))
        return say(*lines)

    async def notes(self, person: Person, arg: str = "") -> Outcome:
        """List this year's notes of the person's unit, newest first, with edit/delete buttons."""
        unit = await self.membership.unit_of(person)
        if arg.strip() and self.membership.is_coordinator(person):
            unit, problem = self.membership.unit_named(arg)
            if problem:
                return problem
        if unit is None:
            return say(NOT_MEMBER)
        year = self.membership.year()
        # A unit that took another over that year lists the notes the old one filed too.
        plan = self.plan.as_of(year)
        notes = [
            n
            for n in await self.store.notes.find(None if plan.succession else unit, year)
            if plan.holder(n.unit, n.measure_id) == unit
        ]
        # Notes filed on a document this folder held before come last, marked as such.
        earlier = await self.store.notes.earlier(unit, year)
        notes += earlier
        if not notes:
            return say(f"「{unit}」{year} 年还没有报送进展。发送 /note 报送。")
        items = tuple(self._note_item(n, person) for n in notes)
        after = f"；此前文件的 {len(earlier)} 条在后" if earlier else ""
        count = f"（共 {len(notes)} 条，最新在前{after}）"
        header = (line(bold(f"{unit} {year} 年进展"), count),)
        return Outcome(Reply(header=header, items=items, per_page=5))

    def _note_item(self, note: Note, person: Person) -> Item:
        current = note.edition in ("", self.plan.document.number)
        measure = self.plan.measure(note.measure_id) if current else None
        title = compose.summary(measure.text, 20) if measure else ""
        edited = "（已修改）" if note.updated_at else ""
        edited += f"（原{note.unit}报送）" if self.plan.succession.change(note.unit) else ""
        apart = (
            (line(Span(f"此前文件 {note.edition} 的记录，不计入当前文件", "italic")),)
            if not current
            else (line(Span("当前文件中已没有这项举措", "italic")),)
            if measure is None
            else ()
        )
        lines = (
            line(bold(f"#{note.id} 举措 {note.measure_id}"), f" {title}"),
            *apart,
            line(f"{note.author_name} · {note.created_at:%Y-%m-%d %H:%M}{edited}"),
            line(Span(note.text, "quote")),
        )
        mine = note.author_id == person.id
        buttons = (
            (
                Button(f"修改 #{note.id}", f"{EDIT}:{note.id}"),
                Button(f"删除 #{note.id}", f"{DELETE}:{note.id}"),
            )
            if mine
            else ()
        )
        return Item(lines, buttons)

    async def _own_note(self, person: Person, note_id: str) -> Note | Outcome:
        key = number(note_id)
        note = await self.store.notes.get(key) if key is not None else None
        if note is None or note.deleted:
            return say("找不到这条记录，它可能已被删除。")
        if note.author_id != person.id:
            return say("只有填写人本人可以修改或删除这条记录。")
        return note

    async def edit(self, person: Person, note_id: str) -> Outcome:
        """Start editing one's own note."""
        note = await self._own_note(person, note_id)
        if isinstance(note, Outcome):
            return note
        unit = await self.membership.unit_of(person)
        if unit is None:
            return say(NOT_MEMBER)
        started = await self._start_flow(person, "edit", f"{note.id}:{note.version}", unit)
        return say(
            *started.reply.header,
            "原内容：",
            line(Span(note.text, "quote")),
            buttons=started.reply.buttons,
        )

    async def _edit(self, person: Person, note_id: int, text: str, version: str | None) -> Outcome:
        """Store the awaited edit (a cleaned, checked text), ending the flow with it, unless
        the note changed since the edit was started (then nothing is overwritten)."""
        try:
            note = await self.store.notes.edit(
                note_id, person.id, text, ends_flow=True, version=version
            )
        except Changed:
            await self.store.flows.end(person.id)
            now = await self.store.notes.get(note_id)
            return say(
                f"第 {note_id} 条记录在您修改期间已被改动，您的内容未保存：",
                line(Span(text, "quote")),
                "它现在的内容：",
                line(Span(now.text if now else "", "quote")),
                "如仍要修改，请发送 /notes 后重新点「修改」。",
            )
        except StoreError as e:
            # The edit was rolled back, and the end of the flow with it: end it now.
            await self.store.flows.end(person.id)
            return say(e.message)
        hint = (UNREADABLE_HINT,) if UNREADABLE in note.text else ()
        return say(f"已修改第 {note.id} 条记录：", line(Span(note.text, "quote")), *hint)

    async def delete(self, person: Person, note_id: str, *, changed: bool = False) -> Outcome:
        """Ask to confirm deleting one's own note, as its text is now (`changed`: again)."""
        note = await self._own_note(person, note_id)
        if isinstance(note, Outcome):
            return note
        again = ("这条记录在您确认前已被修改。",) if changed else ()
        return say(
            *again,
            f"确定删除第 {note.id} 条记录（举措 {note.measure_id}）吗？",
            line(Span(note.text, "quote")),
            buttons=(
                (
                    # The version: a confirmation confirms the text it was shown with.
                    Button("确认删除", f"{CONFIRM_DELETE}:{note.id}:{note.version}"),
                    Button("取消", f"{KEEP}:{note.id}"),
                ),
            ),
        )

    async def confirm_delete(self, person: Person, note_id: str) -> Outcome:
        """Delete one's own note (soft: coordinators still see it in exports).

        `note_id` is "<id>:<version>" from a confirmation (refused and asked again when the
        text changed since), or a bare id (the web console's form, showing the current text).
        """
        key, _, version = note_id.partition(":")
        note = await self._own_note(person, key)
        if isinstance(note, Outcome):
            return note
        try:
            await self.store.notes.delete(note.id, person.id, version or None)
        except Changed:
            return await self.delete(person, key, changed=True)
        return Outcome(say(f"已删除第 {note.id} 条记录。").reply, replace=True)

    async def keep(self, person: Person, note_id: str) -> Outcome:
        """Keep one's own note after all (取消 on a delete's confirmation)."""
        note = await self._own_note(person, note_id)
        if isinstance(note, Outcome):
            return note
        return Outcome(say(f"已取消删除，第 {note.id} 条记录保留。").reply, replace=True)

    async def file(self, person: Person, measure_id: str, text: str) -> Outcome:
        """File a note at once, text and measure given together (the web console's form)."""
        unit = await self.membership.unit_of(person)
        if unit is None:
            return say(NOT_MEMBER)
        problem = self._check_measure(unit, measure_id)
        return problem or await self._file(person, unit, measure_id, text)

    async def rewrite(self, person: Person, note_id: str, text: str) -> Outcome:
        """Replace one's own note's text at once (the web console's form), as an edit does."""
        note = await self._own_note(person, note_id)
        if isinstance(note, Outcome):
            return note
        cleaned = clean_note(text)
        problem = self._check_text(cleaned)
        if problem:
            return problem
        try:
            note = await self.store.notes.edit(note.id, person.id, cleaned)
        except StoreError as e:
            return say(e.message)
        return say(f"已修改第 {note.id} 条记录：", line(Span(note.text, "quote")))

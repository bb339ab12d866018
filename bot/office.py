"""Members and progress notes: who speaks for which unit, notes, the coordinator's view.

Channel-neutral: every method takes the acting `Person` and returns an `Outcome` (the reply,
messages for other people, a file). Every permission is checked here, so a forged button or a
command typed by the wrong person is refused whatever the channel.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from bot import compose
from bot.assistant import Assistant
from bot.clock import TZ, Clock, system_clock
from bot.notetext import clean_note
from bot.plan import Measure, Plan
from bot.reply import Button, Item, Line, Reply, Span, bold, line
from bot.store import AlreadyDecided, BindRequest, Note, Store, StoredNotice, StoreError

logger = logging.getLogger(__name__)

NOTE_MAX = 1000
FLOW_TIMEOUT = dt.timedelta(minutes=10)
# A note left unfinished this long ago is forgotten: the next text is read as a new message.
STALE_FLOW = dt.timedelta(hours=1)

# Button actions (short: Telegram allows 64 bytes of callback data).
APPROVE, REJECT = "ap", "rj"  # ap:<request id>
NOTE_ON = "nm"  # nm:<measure id>: start a note on this measure
EDIT, DELETE, CONFIRM_DELETE, KEEP = "ne", "nd", "nD", "nk"  # ne:<note id>
CANCEL = "nc"  # abort the note being written
PROGRESS_UNIT = "pu"  # pu:<year>:<unit index in the plan>
OFFICE_ACTIONS = frozenset(
    {APPROVE, REJECT, NOTE_ON, EDIT, DELETE, CONFIRM_DELETE, KEEP, CANCEL, PROGRESS_UNIT}
)


@dataclass(frozen=True)
class Person:
    """Whoever is talking to the bot, as the channel identifies them."""

    id: str
    name: str
    private: bool = True


@dataclass(frozen=True)
class Notice:
    """A message for someone other than the person acting.

    `key` is the id of the stored notice it delivers (None: not recorded, e.g. a request card);
    a stored notice is sent by `Office.send_notices`, which marks it once it went.
    """

    to: str
    reply: Reply
    key: int | None = None


# Sends one reply to one user and says whether it arrived (see bot.reminders.Sender).
Send = Callable[[str, Reply], Awaitable[Literal["sent", "blocked", "failed"]]]


@dataclass(frozen=True)
class Attachment:
    """A file to send with the reply."""

    filename: str
    data: bytes
    caption: str = ""


@dataclass(frozen=True)
class Outcome:
    """The result of an action: a reply to the actor, notices to others, maybe a file.

    `replace` asks the channel to show the reply in place of the message whose button was
    pressed (an approval card turning into its decision), rather than as a new message.
    """

    reply: Reply
    notices: tuple[Notice, ...] = ()
    attachment: Attachment | None = None
    replace: bool = False


def _number(text: str) -> int | None:
    """Return a decimal number from a command or button, or None for anything else."""
    # isdecimal, not isdigit: int() rejects digits such as "²"; and SQLite integers are 64-bit.
    return int(text) if text.isdecimal() and len(text) <= 18 else None


def say(*lines: Line | str, buttons: tuple[tuple[Button, ...], ...] = ()) -> Outcome:
    """Return an outcome that is just a short reply."""
    body = tuple(line(ln) if isinstance(ln, str) else ln for ln in lines)
    return Outcome(Reply(header=body, buttons=buttons))


NOT_MEMBER = (
    "只有已绑定单位的成员可以报送和查看进展。请发送 /bind 单位名称 申请绑定，例如：/bind 人社厅"
)
NOT_COORDINATOR = "只有协调人（省政府残工委办公室）可以使用这个功能。"
EMPTY_NOTE = (
    "进展内容不能为空：只有空格、换行或零宽字符等看不见的内容不算进展。请重新发送进展的文字。"
)


def _ended(kind: object, target: object) -> str:
    """Tell the member that the note (or edit) they had started is over: their unit changed."""
    what = f"举措 {target} 的进展" if kind == "note" else f"第 {target} 条记录的修改"
    return f"您正在填写的{what}已取消（所属单位已变更），未保存任何内容。"


def _notice_reply(kind: str, payload: dict[str, Any]) -> Reply:
    """Word a stored notice (see Store.decide for the kinds and their payloads)."""
    unit = payload.get("unit", "")
    if kind == "approved":
        lines = [line(f"您绑定到「{unit}」的申请已获批准，现在可以用 /note 报送进展。")]
        ended = payload.get("ended")
        if isinstance(ended, dict):
            lines.append(line(_ended(ended.get("kind"), ended.get("target"))))
        return Reply(header=tuple(lines))
    if kind == "rejected":
        return Reply(header=(line(f"您绑定到「{unit}」的申请未获批准。如有疑问请联系协调人。"),))
    logger.warning("未知的通知类型：%s", kind)
    return Reply(header=(line("您有一条新通知，请发送 /whoami 查看当前状态。"),))


@dataclass
class Office:
    """Binding people to units, their notes, and the coordinators' overview."""

    assistant: Assistant
    store: Store
    coordinators: frozenset[str]
    clock: Clock = system_clock
    # One sender of stored notices at a time: two would both find a notice pending and both
    # send it.
    _sending: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def plan(self) -> Plan:
        """Return the plan."""
        return self.assistant.plan

    def is_coordinator(self, person: Person) -> bool:
        """Tell whether the person is one of the configured coordinators."""
        return person.id in self.coordinators

    def year(self) -> int:
        """Return the current reporting year (Asia/Shanghai)."""
        return self.clock().astimezone(TZ).year

    async def seen(self, person: Person) -> None:
        """Record that a person talked to the bot (and whether in a private chat)."""
        await self.store.upsert_user(person.id, person.name, True if person.private else None)

    # -- who is who ------------------------------------------------------------------------

    def _unit_named(self, text: str) -> tuple[str | None, Outcome | None]:
        """Resolve a unit from what the person typed, or explain why not."""
        if not text.strip():
            return None, say("请在命令后写单位名称，例如：/bind 人社厅")
        units = self.assistant.answer(text).units
        if len(units) == 1:
            return units[0], None
        if len(units) > 1:
            return None, say(f"请只写一个单位（识别到：{'、'.join(units)}）。")
        return None, Outcome(self.assistant.unit(text))

    async def whoami(self, person: Person) -> Outcome:
        """Show the person's unit and role."""
        member = await self.store.member(person.id)
        lines = [line(bold(person.name), f"（ID {person.id}）")]
        if member:
            lines.append(line(f"所属单位：{member.unit}（{member.bound_at:%Y-%m-%d} 绑定）"))
        else:
            lines.append(line("尚未绑定单位。发送 /bind 单位名称 申请绑定。"))
        if self.is_coordinator(person):
            lines.append(line("角色：协调人（可审批绑定、查看进度、导出汇总）"))
        elif member:
            lines.append(line("角色：单位联络员（可报送和查看本单位进展）"))
        return Outcome(Reply(header=tuple(lines)))

    async def bind(self, person: Person, unit_text: str) -> Outcome:
        """File a request to join a unit; every coordinator gets approve/reject buttons."""
        unit, problem = self._unit_named(unit_text)
        if problem or unit is None:
            return problem or say("请写单位名称。")
        member = await self.store.member(person.id)
        if member and member.unit == unit:
            return say(f"您已是「{unit}」的成员。")
        if not self.coordinators:
            return say("尚未配置协调人（FENGONG_COORDINATORS），暂时无法审批，请联系管理员。")
        before = await self.store.pending_request(person.id)
        request = await self.store.request_binding(person.id, person.name, unit)
        if before is not None and before.id == request.id:
            # One card per request: asking again must not flood the coordinators' chats.
            return say(f"已提交，等待审批：您绑定「{unit}」的申请已送达协调人，无需重复发送。")
        card = self._request_card(request)
        notices = tuple(Notice(c, card) for c in sorted(self.coordinators))
        lines = [line(f"已提交绑定「{unit}」的申请，协调人审批后会通知您。")]
        if before is not None:
            lines.append(line(f"您之前绑定「{before.unit}」的申请已作废。"))
        return Outcome(Reply(header=tuple(lines)), notices)

    def _request_card(self, request: BindRequest) -> Reply:
        return Reply(
            header=(
                line(bold("绑定申请")),
                line(f"{request.name}（ID {request.user_id}）申请绑定到「{request.unit}」。"),
            ),
            buttons=(
                (
                    Button("批准", f"{APPROVE}:{request.id}"),
                    Button("拒绝", f"{REJECT}:{request.id}"),
                ),
            ),
        )

    async def decide(self, person: Person, request_id: str, approve: bool) -> Outcome:
        """Approve or reject a bind request (coordinators only, once)."""
        if not self.is_coordinator(person):
            return say(NOT_COORDINATOR)
        number = _number(request_id)
        if number is None:
            return say("按钮已过期，请重新提问")
        try:
            request = await self.store.decide(number, approve, person.id)
        except AlreadyDecided as e:
            done = {"approved": "已批准", "rejected": "已拒绝", "replaced": "已被新的申请取代"}
            return say(f"这条申请{done.get(e.request.status, '已处理')}，无需再次处理。")
        except StoreError as e:
            return say(e.message)
        verdict = "批准" if approve else "拒绝"
        # The notice was recorded with the decision; this sends it (and any left by a crash).
        owed = await self.store.pending_notices(request.user_id)
        return Outcome(
            say(f"已{verdict}：{request.name} 绑定到「{request.unit}」。").reply,
            tuple(self._notice(n) for n in owed),
            replace=True,
        )

    def _notice(self, stored: StoredNotice) -> Notice:
        """Word a stored notice."""
        return Notice(stored.user_id, _notice_reply(stored.kind, stored.payload), stored.id)

    async def send_notices(self, notices: Iterable[Notice], send: Send) -> list[str]:
        """Send notices; a stored one only if still pending, marked once the channel took it.

        Returns the recipients it did not reach.
        """
        missed = []
        for notice in notices:
            result: str | None
            try:
                if notice.key is None:
                    result = await send(notice.to, notice.reply)
                else:
                    result = await self._send_stored(notice.key, notice, send)
            except Exception as e:  # the channel failed: a stored notice stays pending
                logger.warning("通知未能送达用户 %s（%s）", notice.to, type(e).__name__)
                result = "failed"
            if result not in ("sent", None):
                missed.append(notice.to)
        return missed

    async def _send_stored(self, key: int, notice: Notice, send: Send) -> str | None:
        """Send stored notice `key` unless it already went (None then); record the outcome."""
        async with self._sending:
            stored = await self.store.notice(key)
            if stored is None or stored.status != "pending":
                return None
            result = await send(notice.to, notice.reply)
            await self.store.mark_notice(key, result)
            if result == "blocked" and await self.store.user(notice.to) is not None:
                await self.store.set_reachable(notice.to, False)
            return result

    async def send_pending_notices(self, send: Send) -> list[str]:
        """Send every stored notice still owed (after a crash, at start); return the missed."""
        owed = await self.store.pending_notices()
        return await self.send_notices((self._notice(n) for n in owed), send)

    async def invite(self, person: Person, unit_text: str, link: Callable[[str], str]) -> Outcome:
        """Create a one-time invite for a unit (coordinators only)."""
        if not self.is_coordinator(person):
            return say(NOT_COORDINATOR)
        unit, problem = self._unit_named(unit_text)
        if problem or unit is None:
            return problem or say("请写单位名称。")
        invite = await self.store.create_invite(unit, person.id)
        return say(
            line(f"「{unit}」的一次性邀请链接（{invite.expires_at:%Y-%m-%d %H:%M} 前有效）："),
            line(Span(link(invite.code), "code")),
            "把链接发给该单位联络员，对方打开即完成绑定。",
        )

    async def redeem(self, person: Person, code: str) -> Outcome:
        """Bind the person with an invite code (from a deep link)."""
        flow = await self.store.flow(person.id)
        try:
            member = await self.store.redeem_invite(code, person.id, person.name)
        except StoreError as e:
            return say(e.message)
        done = f"已绑定到「{member.unit}」。发送 /note 报送进展，/notes 查看本单位进展。"
        if flow is not None and flow.unit != member.unit:
            return say(done, _ended(flow.kind, flow.target))
        return say(done)

    async def unbind(self, person: Person) -> Outcome:
        """Leave the person's unit (a note being written ends with it)."""
        flow = await self.store.flow(person.id)
        member = await self.store.unbind(person.id)
        if member is None:
            return say("您尚未绑定单位。")
        if flow is not None:
            return say(f"已解除与「{member.unit}」的绑定。", _ended(flow.kind, flow.target))
        return say(f"已解除与「{member.unit}」的绑定。")

    async def members(self, person: Person, unit_text: str = "") -> Outcome:
        """List members, of one unit or all (coordinators only)."""
        if not self.is_coordinator(person):
            return say(NOT_COORDINATOR)
        unit = None
        if unit_text.strip():
            unit, problem = self._unit_named(unit_text)
            if problem:
                return problem
        members = await self.store.members(unit)
        if not members:
            return say(f"「{unit}」还没有成员。" if unit else "还没有任何成员。")
        items = tuple(
            Item((line(bold(m.unit), f"：{m.name}（ID {m.user_id}，{m.bound_at:%Y-%m-%d}）"),))
            for m in members
        )
        return Outcome(
            Reply(header=(line(f"成员 {len(members)} 人："),), items=items, per_page=20)
        )

    # -- notes -----------------------------------------------------------------------------

    async def _unit_of(self, person: Person) -> str | None:
        member = await self.store.member(person.id)
        return member.unit if member else None

    def _measure_buttons(self, unit: str, measures: tuple[Measure, ...]) -> Reply:
        items = tuple(
            Item(
                (line(bold(m.id), f" {compose.summary(m.text, 30)}"),),
                (Button(f"报送 {m.id}", f"{NOTE_ON}:{m.id}"),),
            )
            for m in measures
        )
        return Reply(
            header=(line(f"请选择「{unit}」要报送进展的举措："),), items=items, per_page=12
        )

    async def note(self, person: Person, arg: str) -> Outcome:
        """Handle /note [measure id] [text]: file a note, or ask for what is missing."""
        unit = await self._unit_of(person)
        if unit is None:
            return say(NOT_MEMBER)
        arg = arg.strip()
        if not arg:
            return Outcome(self._measure_buttons(unit, self.plan.duties_of(unit)))
        m = re.match(r"(?:举措)?\s*(\d{1,2})\s*[.．。]\s*(\d{1,2})(?=\s|$)\s*(.*)", arg, re.S)
        if m is None:
            return say("请先写举措编号，再写进展，例如：/note 5.1 今年新建残疾人之家12个")
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
        await self.store.start_flow(person.id, kind, target, unit)
        what = f"举措 {target} 的进展" if kind == "note" else f"第 {target} 条记录的新内容"
        return say(
            f"请发送{what}（1–{NOTE_MAX} 字）。10 分钟内有效，发送 /cancel 取消。",
            buttons=((Button("取消", CANCEL),),),
        )

    async def choose_measure(self, person: Person, measure_id: str) -> Outcome:
        """Start a note on a measure chosen with a button."""
        unit = await self._unit_of(person)
        if unit is None:
            return say(NOT_MEMBER)
        problem = self._check_measure(unit, measure_id)
        return problem or await self._start_flow(person, "note", measure_id, unit)

    async def pending(self, person: Person) -> bool:
        """Tell whether the person's next text is awaited by a note flow (expired or not)."""
        return await self.store.flow(person.id) is not None

    async def text(self, person: Person, text: str) -> Outcome | None:
        """Take plain text as the awaited note or edit; None when no flow awaits it."""
        flow = await self.store.flow(person.id)
        if flow is None:
            return None
        typed = line(Span(text, "quote"))
        waited = self.clock() - flow.started_at
        if waited > FLOW_TIMEOUT:
            await self.store.end_flow(person.id)
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
        member = await self.store.member(person.id)
        if member is None or member.unit != flow.unit:
            # Checked again now: the text must not be filed for a unit it was not meant for.
            await self.store.end_flow(person.id)
            again = NOT_MEMBER if member is None else "如需报送，请重新发送 /note。"
            return say(_ended(flow.kind, flow.target), "您刚才发送的内容如下：", typed, again)
        cleaned = clean_note(text)
        problem = self._check_text(cleaned)
        if problem:
            # The flow stays open, so a corrected text can simply be sent again.
            return problem
        if flow.kind == "edit":
            return await self._edit(person, int(flow.target), cleaned)
        problem = self._check_measure(member.unit, flow.target)
        if problem:
            await self.store.end_flow(person.id)
            reply = problem.reply
            head = (*reply.header[:1], line("您刚才发送的内容未保存："), typed, *reply.header[1:])
            return Outcome(Reply(header=head, items=reply.items, per_page=reply.per_page))
        return await self._file(person, member.unit, flow.target, cleaned, ends_flow=True)

    async def cancel(self, person: Person) -> Outcome:
        """Abort the person's note flow."""
        if await self.store.end_flow(person.id) is None:
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
        note = await self.store.add_note(
            unit, measure_id, self.year(), person.id, person.name, text, ends_flow=ends_flow
        )
        # Acknowledged only now: add_note returns after the commit.
        return say(
            f"已记录「{unit}」举措 {measure_id} 的 {note.year} 年进展（编号 {note.id}）：",
            line(Span(note.text, "quote")),
        )

    async def notes(self, person: Person, arg: str = "") -> Outcome:
        """List this year's notes of the person's unit, newest first, with edit/delete buttons."""
        unit = await self._unit_of(person)
        if arg.strip() and self.is_coordinator(person):
            unit, problem = self._unit_named(arg)
            if problem:
                return problem
        if unit is None:
            return say(NOT_MEMBER)
        year = self.year()
        notes = await self.store.notes(unit, year)
        if not notes:
            return say(f"「{unit}」{year} 年还没有报送进展。发送 /note 报送。")
        items = tuple(self._note_item(n, person) for n in notes)
        header = (line(bold(f"{unit} {year} 年进展"), f"（共 {len(notes)} 条，最新在前）"),)
        return Outcome(Reply(header=header, items=items, per_page=5))

    def _note_item(self, note: Note, person: Person) -> Item:
        measure = self.plan.measure(note.measure_id)
        title = compose.summary(measure.text, 20) if measure else ""
        edited = "（已修改）" if note.updated_at else ""
        lines = (
            line(bold(f"#{note.id} 举措 {note.measure_id}"), f" {title}"),
            line(f"{note.author_name} · {note.created_at:%m-%d %H:%M}{edited}"),
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
        number = _number(note_id)
        note = await self.store.note(number) if number is not None else None
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
        unit = await self._unit_of(person)
        if unit is None:
            return say(NOT_MEMBER)
        started = await self._start_flow(person, "edit", str(note.id), unit)
        return say(
            *started.reply.header,
            "原内容：",
            line(Span(note.text, "quote")),
            buttons=started.reply.buttons,
        )

    async def _edit(self, person: Person, note_id: int, text: str) -> Outcome:
        """Store the awaited edit (a cleaned, checked text), ending the flow with it."""
        try:
            note = await self.store.edit_note(note_id, person.id, text, ends_flow=True)
        except StoreError as e:
            # The edit was rolled back, and the end of the flow with it: end it now.
            await self.store.end_flow(person.id)
            return say(e.message)
        return say(f"已修改第 {note.id} 条记录：", line(Span(note.text, "quote")))

    async def delete(self, person: Person, note_id: str) -> Outcome:
        """Ask to confirm deleting one's own note."""
        note = await self._own_note(person, note_id)
        if isinstance(note, Outcome):
            return note
        return say(
            f"确定删除第 {note.id} 条记录（举措 {note.measure_id}）吗？",
            line(Span(note.text, "quote")),
            buttons=(
                (
                    Button("确认删除", f"{CONFIRM_DELETE}:{note.id}"),
                    Button("取消", f"{KEEP}:{note.id}"),
                ),
            ),
        )

    async def confirm_delete(self, person: Person, note_id: str) -> Outcome:
        """Delete one's own note (soft: coordinators still see it in exports)."""
        note = await self._own_note(person, note_id)
        if isinstance(note, Outcome):
            return note
        await self.store.delete_note(note.id, person.id)
        return Outcome(say(f"已删除第 {note.id} 条记录。").reply, replace=True)

    async def _keep(self, person: Person, note_id: str) -> Outcome:
        note = await self._own_note(person, note_id)
        if isinstance(note, Outcome):
            return note
        return Outcome(say(f"已取消删除，第 {note.id} 条记录保留。").reply, replace=True)

    # -- the coordinator's view ------------------------------------------------------------

    def _year_arg(self, arg: str) -> int | None:
        arg = arg.strip().removesuffix("年")
        if not arg:
            return self.year()
        year = _number(arg)
        return year if year is not None and 2000 <= year <= 2100 else None

    async def progress(self, person: Person, arg: str = "") -> Outcome:
        """Show per unit how many of its measures have a note this year (coordinators)."""
        if not self.is_coordinator(person):
            return say(NOT_COORDINATOR)
        year = self._year_arg(arg)
        if year is None:
            return say("年份格式不对，例如：/progress 2024")
        reported = await self.store.reported_measures(year)
        rows = []
        for index, unit in enumerate(self.plan.units):
            duties = self.plan.duties_of(unit.name)
            done = sum(1 for m in duties if m.id in reported.get(unit.name, set()))
            rows.append((done / len(duties), done, len(duties), index, unit.name))
        rows.sort()
        nothing = sum(1 for r in rows if r[1] == 0)
        header = (
            line(bold(f"{year} 年报送进度")),
            line(f"{len(rows)} 个单位，{nothing} 个尚未报送任何举措（排在最前）。"),
        )
        items = tuple(
            Item(
                (line(bold(name), f"：{done}/{total} 项举措已报送"),),
                (Button(f"{name} 缺报", f"{PROGRESS_UNIT}:{year}:{index}"),),
            )
            for _, done, total, index, name in rows
        )
        return Outcome(Reply(header=header, items=items, per_page=10))

    async def progress_unit(self, person: Person, arg: str) -> Outcome:
        """Show which of a unit's measures lack a note in a year (button `pu:<year>:<i>`)."""
        if not self.is_coordinator(person):
            return say(NOT_COORDINATOR)
        year_text, _, index_text = arg.partition(":")
        year, index = _number(year_text), _number(index_text)
        if year is None or index is None or index >= len(self.plan.units):
            return say("按钮已过期，请重新提问")
        unit = self.plan.units[index].name
        reported = (await self.store.reported_measures(year)).get(unit, set())
        missing = [m for m in self.plan.duties_of(unit) if m.id not in reported]
        if not missing:
            return say(f"「{unit}」{year} 年的举措已全部报送。")
        items = tuple(
            Item((line(bold(m.id), f" {compose.summary(m.text, 36)}"),)) for m in missing
        )
        head = line(f"「{unit}」{year} 年尚未报送的举措（{len(missing)} 项）：")
        return Outcome(Reply(header=(head,), items=items, per_page=12))

    async def export(self, person: Person, arg: str = "") -> Outcome:
        """Export a year's notes as an Excel workbook (coordinators)."""
        if not self.is_coordinator(person):
            return say(NOT_COORDINATOR)
        year = self._year_arg(arg)
        if year is None:
            return say("年份格式不对，例如：/export 2024")
        # openpyxl loads slowly; only the export needs it.
        from bot.export import export_year

        data = await export_year(self.store, self.plan, year)
        await self.store.record(person.id, person.name, "export", "", f"{year} 年进展汇总")
        return Outcome(
            say(f"{year} 年进展汇总已导出。").reply,
            attachment=Attachment(f"进展汇总-{year}.xlsx", data, f"{year} 年进展汇总"),
        )

    # -- buttons ---------------------------------------------------------------------------

    async def action(self, person: Person, action: str) -> Outcome | None:
        """Run an office button action; None when the action is not the office's."""
        kind, _, arg = action.partition(":")
        handlers: dict[str, Callable[[], Awaitable[Outcome]]] = {
            APPROVE: lambda: self.decide(person, arg, True),
            REJECT: lambda: self.decide(person, arg, False),
            NOTE_ON: lambda: self.choose_measure(person, arg),
            EDIT: lambda: self.edit(person, arg),
            DELETE: lambda: self.delete(person, arg),
            CONFIRM_DELETE: lambda: self.confirm_delete(person, arg),
            KEEP: lambda: self._keep(person, arg),
            CANCEL: lambda: self.cancel(person),
            PROGRESS_UNIT: lambda: self.progress_unit(person, arg),
        }
        run = handlers.get(kind)
        return await run() if run else None

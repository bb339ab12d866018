"""Who speaks for which unit: binding, approval, invites, members, and the notices they send.

Channel-neutral: every method takes the acting `Person` and returns an `Outcome`. Every
permission is checked here, so a forged button or a command typed by the wrong person is
refused whatever the channel.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.ask.assistant import Assistant
from bot.ask.reporting import default_year
from bot.channel import Send
from bot.clock import TZ, Clock, system_clock
from bot.config import ReminderConfig
from bot.documents.plan import Plan
from bot.outcome import NOT_COORDINATOR, Notice, Outcome, Person, number, say
from bot.reply import Button, Item, Reply, Span, bold, line
from bot.store import AlreadyDecided, BindRequest, Store, StoredNotice, StoreError, TooSoon

logger = logging.getLogger(__name__)

# Button actions (short: Telegram allows 64 bytes of callback data).
APPROVE, REJECT = "ap", "rj"  # ap:<request id>


UNIT_CHANGED, UNBOUND = "所属单位已变更", "已解除单位绑定"  # why a started note is over
# A new request puts a card before every coordinator: one replacing a pending request may come
# this long after it at the earliest, so that /bind sent again and again (alternating units)
# does not flood their chats.
BIND_INTERVAL = dt.timedelta(minutes=10)


def flow_ended(kind: object, target: object, why: str = UNIT_CHANGED) -> str:
    """Tell the member that the note (or edit) they had started is over, and why."""
    # An edit's target is "<note id>:<version>".
    what = (
        f"举措 {target} 的进展"
        if kind == "note"
        else f"第 {str(target).partition(':')[0]} 条记录的修改"
    )
    return f"您正在填写的{what}已取消（{why}），未保存任何内容。"


def _notice_reply(kind: str, payload: dict[str, Any]) -> Reply:
    """Word a stored notice (see Membership.decide for the kinds and their payloads)."""
    # With several documents, the one the unit was asked for.
    document = payload.get("document")
    unit = f"「{payload.get('unit', '')}」" + (f"（{document}）" if document else "")
    if kind == "approved":
        lines = [line(f"您绑定到{unit}的申请已获批准，现在可以用 /note 报送进展。")]
        ended = payload.get("ended")
        if isinstance(ended, dict):
            lines.append(line(flow_ended(ended.get("kind"), ended.get("target"))))
        return Reply(header=tuple(lines))
    if kind == "moved":  # a unit change (/unit_change or units.yaml) moved the member
        return _moved_reply(payload, document)
    if kind == "rejected":
        return Reply(header=(line(f"您绑定到{unit}的申请未获批准。如有疑问请联系协调人。"),))
    logger.warning("未知的通知类型：%s", kind)
    return Reply(header=(line("您有一条新通知，请发送 /whoami 查看当前状态。"),))


def _moved_reply(payload: dict[str, Any], document: object) -> Reply:
    """Word the notice to a member whose unit changed (or whose unit's change was undone)."""
    old, new, why = payload.get("from", ""), payload.get("unit", ""), payload.get("why", "")
    where = f"（{document}）" if document else ""
    if not new:
        text = f"「{old}」{why}{where}，您与它的绑定已解除。请用 /bind 单位名称 绑定现在的单位。"
    else:
        text = f"「{old}」{why}{where}，您已转为「{new}」的成员，本单位的举措和提醒随之转入。"
    return Reply(header=(line(text),))


@dataclass
class Membership:
    """Binding people to units, and the notices about it."""

    assistant: Assistant
    store: Store
    coordinators: frozenset[str]
    clock: Clock = system_clock
    # Its reporting years (configured, else the plan's) bound the default year.
    reminders: ReminderConfig = field(default_factory=ReminderConfig)
    # With several documents: the document's key on its buttons ("nm:1.1@<key>"), and its
    # name on what coordinators are asked to decide. None and "" for a single document.
    tag: str | None = None
    label: str = ""
    # One sender of stored notices at a time: two would both find a notice pending and both
    # send it.
    _sending: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def plan(self) -> Plan:
        """Return the plan."""
        return self.assistant.plan

    def act(self, action: str) -> str:
        """Return a button action of this document (keyed to it when several are served)."""
        return action if self.tag is None else f"{action}@{self.tag}"

    def is_coordinator(self, person: Person) -> bool:
        """Tell whether the person is one of the configured coordinators."""
        return person.id in self.coordinators

    def year(self) -> int:
        """Return the year meant when none is given (reporting.default_year, Asia/Shanghai)."""
        return default_year(self.reminders, self.plan, self.clock().astimezone(TZ).date())

    async def seen(self, person: Person) -> None:
        """Record that a person talked to the bot (and whether in a private chat)."""
        known = await self.store.users.get(person.id)
        if (
            known is not None
            and known.name == person.name
            and (not person.private or (known.private_chat and known.reachable))
        ):
            # Recorded as they are (the first message after a restart, mostly): a read, not a
            # transaction with its fsync that every other chat's reads would queue behind.
            return
        await self.store.users.upsert(person.id, person.name, True if person.private else None)

    # -- who is who ------------------------------------------------------------------------

    def unit_named(self, text: str) -> tuple[str | None, Outcome | None]:
        """Resolve a unit from what the person typed, or explain why not."""
        if not text.strip():
            return None, say(f"请在命令后写单位名称，例如：/bind {self.assistant.example().unit}")
        units = self.assistant.answer(text).units
        if len(units) == 1:
            return self._current(units[0])
        if len(units) > 1:
            return None, say(f"请只写一个单位（识别到：{'、'.join(units)}）。")
        return None, Outcome(self.assistant.unit(text))

    def _current(self, unit: str) -> tuple[str | None, Outcome | None]:
        """Return the unit that is `unit` now (a renamed or merged one's successor)."""
        change = self.plan.succession.change(unit)
        if change is None:
            return unit, None
        now = self.plan.succession.current(unit)
        if now is None:
            return None, say(f"「{unit}」已于{change.describe()}，请写明其中一个单位。")
        return now, None

    async def whoami(self, person: Person, labels: Mapping[str, str] | None = None) -> Outcome:
        """Show the person's unit and role; with `labels` (document id → name), in each."""
        if labels is None:
            member = await self.store.members.get(person.id)
            bindings = [member] if member else []
        else:
            bindings = [b for b in await self.store.members.bindings(person.id) if b.doc in labels]
            member = bindings[0] if bindings else None
        lines = [line(bold(person.name), f"（ID {person.id}）")]
        for bound in bindings:
            where = "" if labels is None else f"{labels[bound.doc]}，"
            lines.append(line(f"所属单位：{bound.unit}（{where}{bound.bound_at:%Y-%m-%d} 绑定）"))
        if not bindings:
            lines.append(line("尚未绑定单位。发送 /bind 单位名称 申请绑定。"))
        if self.is_coordinator(person):
            lines.append(line("角色：协调人（可审批绑定、查看进度、导出汇总）"))
        elif member:
            lines.append(line("角色：单位联络员（可报送和查看本单位进展）"))
        return Outcome(Reply(header=tuple(lines)))

    async def bind(self, person: Person, unit_text: str) -> Outcome:
        """File a request to join a unit; every coordinator gets approve/reject buttons."""
        unit, problem = self.unit_named(unit_text)
        if problem or unit is None:
            return problem or say("请写单位名称。")
        member = await self.store.members.get(person.id)
        if member and member.unit == unit:
            return say(f"您已是「{unit}」的成员。")
        if not self.coordinators:
            return say("尚未配置协调人（FENGONG_COORDINATORS），暂时无法审批，请联系管理员。")
        before = await self.store.members.pending_request(person.id)
        try:
            request = await self.store.members.request_binding(
                person.id, person.name, unit, BIND_INTERVAL
            )
        except TooSoon as e:
            return self._too_soon(e.pending, unit)
        if before is not None and before.id == request.id:
            # One card per request: asking again must not flood the coordinators' chats.
            return say(f"已提交，等待审批：您绑定「{unit}」的申请已送达协调人，无需重复发送。")
        card = self._request_card(request)
        notices = tuple(Notice(c, card) for c in sorted(self.coordinators))
        lines = [line(f"已提交绑定「{unit}」的申请，协调人审批后会通知您。")]
        if before is not None:
            lines.append(line(f"您之前绑定「{before.unit}」的申请已作废。"))
        return Outcome(Reply(header=tuple(lines)), notices)

    def _too_soon(self, pending: BindRequest, unit: str) -> Outcome:
        """Tell a person who asks for another unit too soon when they may, and why not now."""
        at = pending.created_at.astimezone(TZ)
        again = at + BIND_INTERVAL
        minutes = int(BIND_INTERVAL.total_seconds() // 60)
        return say(
            f"您 {at:%H:%M} 提交的绑定「{pending.unit}」的申请正在等待审批，未作更改。",
            f"为免协调人收到大量审批卡片，{minutes} 分钟内只能提交一次申请；"
            f"如需改为「{unit}」，请在 {again:%H:%M} 之后重新发送 /bind {unit}。",
        )

    def _request_card(self, request: BindRequest) -> Reply:
        return Reply(
            header=(
                line(bold("绑定申请")),
                line(f"{request.name}（ID {request.user_id}）申请绑定到「{request.unit}」。"),
                *((line(f"文件：{self.label}"),) if self.label else ()),
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
        key = number(request_id)
        if key is None:
            return say("按钮已过期，请重新提问")
        try:
            request = await self.store.members.decide(key, approve, person.id, document=self.label)
        except AlreadyDecided as e:
            done = {"approved": "已批准", "rejected": "已拒绝", "replaced": "已被新的申请取代"}
            return say(f"这条申请{done.get(e.request.status, '已处理')}，无需再次处理。")
        except StoreError as e:
            return say(e.message)
        verdict = "批准" if approve else "拒绝"
        # The notice was recorded with the decision; this sends it (and any left by a crash).
        owed = await self.store.notices.pending(request.user_id)
        return Outcome(
            say(f"已{verdict}：{request.name} 绑定到「{request.unit}」。").reply,
            tuple(self._notice(n) for n in owed),
            replace=True,
        )

    async def owed_notices(self, user_ids: Iterable[str]) -> tuple[Notice, ...]:
        """Return the stored notices still owed to these people, worded."""
        wanted = set(user_ids)
        owed = await self.store.notices.pending() if wanted else []
        return tuple(self._notice(n) for n in owed if n.user_id in wanted)

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
            stored = await self.store.notices.get(key)
            if stored is None or stored.status != "pending":
                return None
            result = await send(notice.to, notice.reply)
            await self.store.notices.mark(key, result)
            if result == "blocked" and await self.store.users.get(notice.to) is not None:
                await self.store.users.set_reachable(notice.to, False)
            return result

    async def send_pending_notices(self, send: Send) -> list[str]:
        """Send every stored notice still owed (after a crash, at start); return the missed."""
        owed = await self.store.notices.pending()
        return await self.send_notices((self._notice(n) for n in owed), send)

    async def invite(
        self, person: Person, unit_text: str, link: Callable[[str], str] | None = None
    ) -> Outcome:
        """Create a one-time invite code for a unit (coordinators); `link`: the channel's link."""
        if not self.is_coordinator(person):
            return say(NOT_COORDINATOR)
        unit, problem = self.unit_named(unit_text)
        if problem or unit is None:
            return problem or say("请写单位名称。")
        invite = await self.store.members.create_invite(unit, person.id)
        lines = [
            line(f"「{unit}」的一次性邀请（{invite.expires_at:%Y-%m-%d %H:%M} 前有效）："),
            line(Span(f"/join {invite.code}", "code")),
            line("把这条命令发给该单位联络员，对方向机器人发送即完成绑定。"),
        ]
        if link is not None:
            lines.append(line("也可以把链接发给对方，打开即完成绑定："))
            lines.append(line(Span(link(invite.code), "code")))
        return say(*lines)

    async def redeem(self, person: Person, code: str) -> Outcome:
        """Bind the person with an invite code (from a deep link)."""
        flow = await self.store.flows.get(person.id)
        before = await self.store.members.get(person.id)
        try:
            member = await self.store.members.redeem_invite(code, person.id, person.name)
        except StoreError as e:
            return say(e.message)
        done = f"已绑定到「{member.unit}」。发送 /note 报送进展，/notes 查看本单位进展。"
        if before is not None and before.unit != member.unit:
            # One unit per person in a document: joining another leaves the first.
            done = (
                f"已从「{before.unit}」转到「{member.unit}」，不再是「{before.unit}」的成员。"
                "发送 /note 报送进展，/notes 查看本单位进展。"
            )
        if flow is not None and flow.unit != member.unit:
            return say(done, flow_ended(flow.kind, flow.target))
        return say(done)

    async def unbind(self, person: Person) -> Outcome:
        """Leave the person's unit (a note being written ends with it)."""
        flow = await self.store.flows.get(person.id)
        member = await self.store.members.unbind(person.id)
        if member is None:
            return say("您尚未绑定单位。")
        if flow is not None:
            ended = flow_ended(flow.kind, flow.target, UNBOUND)
            return say(f"已解除与「{member.unit}」的绑定。", ended)
        return say(f"已解除与「{member.unit}」的绑定。")

    async def members(self, person: Person, unit_text: str = "") -> Outcome:
        """List members, of one unit or all (coordinators only)."""
        if not self.is_coordinator(person):
            return say(NOT_COORDINATOR)
        unit = None
        if unit_text.strip():
            unit, problem = self.unit_named(unit_text)
            if problem:
                return problem
        members = await self.store.members.bound(unit)
        if not members:
            return say(f"「{unit}」还没有成员。" if unit else "还没有任何成员。")
        items = tuple(
            Item((line(bold(m.unit), f"：{m.name}（ID {m.user_id}，{m.bound_at:%Y-%m-%d}）"),))
            for m in members
        )
        return Outcome(
            Reply(header=(line(f"成员 {len(members)} 人："),), items=items, per_page=20)
        )

    async def unit_of(self, person: Person) -> str | None:
        """Return the unit the person is bound to, or None."""
        member = await self.store.members.get(person.id)
        return member.unit if member else None

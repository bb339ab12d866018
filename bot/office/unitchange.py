"""Coordinators record a unit's rename or merger (机构改革): /unit_change, confirmed, undoable.

The change is written into the document's units.yaml, the plan reloaded from it (answers
follow at once; other instances on the database at their next look, `Core.follow`) and the old
unit's members moved to its successor, each told and audited.
A change written into units.yaml by hand is followed the same way at the next start
(`reconcile`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.clock import TZ
from bot.documents import unitsfile
from bot.documents.plan import PlanError, is_shipped, load_plan
from bot.documents.shortname import short_forms
from bot.documents.succession import Change, Kind
from bot.office.membership import Membership
from bot.outcome import NOT_COORDINATOR, Outcome, Person, say
from bot.reply import Button, Reply, bold, line

# Button actions: confirm, drop a proposed change; undo a recorded one (uc:<token>).
CONFIRM, DROP, UNDO = "uc", "ucx", "ucu"
ACTIONS = frozenset({CONFIRM, DROP, UNDO})
USAGE = (
    "用法：/unit_change 旧单位 并入|更名为 新单位 生效日期，例如："
    "/unit_change 省乡村振兴局 并入 农业农村厅 2024-01-01"
)
SHIPPED = (
    "现在使用的是程序自带的数据文件夹 data/，它保持原样，不记录单位变更。"
    "请先复制一份作为自己的数据文件夹，例如 cp -r data var/data，"
    "再设置 FENGONG_DATA=var/data 重新启动，然后再发送 /unit_change（见 README「单位变更」一节）。"
)
_VERBS: dict[str, Kind] = {
    "并入": "merged",
    "合并到": "merged",
    "合并入": "merged",
    "划入": "merged",
    "更名为": "renamed",
    "改名为": "renamed",
    "更名": "renamed",
    "改名": "renamed",
}
_COMMAND = re.compile(
    rf"(?P<old>.+?)\s*(?P<verb>{'|'.join(sorted(_VERBS, key=len, reverse=True))})\s*"
    r"(?P<new>.+?)\s*(?P<date>\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?)"
)
_NEW_NAME = re.compile(r"[\u4e00-\u9fff\w（）()·]{2,40}")
_PENDING, _DONE = "unit_change:", "unit_change.done:"  # state keys: proposed, recorded
REWRITTEN = line("注意：units.yaml 的格式无法原样修改，已按内容重写，原有注释未保留。")
BY_FILE = "units.yaml"  # the actor of a change written into the file by hand


@dataclass
class UnitChanges:
    """Record, undo and carry out the changes of one document's units."""

    membership: Membership
    # One decision at a time: two coordinators pressing 确认 together record it once.
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def propose(self, person: Person, arg: str) -> Outcome:
        """Read `/unit_change 旧 并入|更名为 新 日期` and ask the coordinator to confirm."""
        m = self.membership
        if not m.is_coordinator(person):
            return say(NOT_COORDINATOR)
        if m.assistant.data_dir is None:
            return say("这份文件不是从数据文件夹载入的，无法记录单位变更。")
        if is_shipped(m.assistant.data_dir):
            return say(SHIPPED)
        found = _COMMAND.fullmatch(arg.strip())
        if found is None:
            return say(USAGE)
        problem, proposal = self._proposal(
            found["old"], _VERBS[found["verb"]], found["new"], found["date"]
        )
        if problem is not None:
            return say(problem)
        token = secrets.token_urlsafe(6)
        await m.store.state.set(_PENDING + token, json.dumps(proposal, ensure_ascii=False))
        change = _change(proposal)
        plan = m.plan
        moving = await m.store.members.bound(change.old)
        measures = [x.id for x in plan.measures_of(change.old)]
        lines = [
            line(bold("请确认单位变更")),
            line(f"{_said(change)}。"),
            line(
                f"其 {len(measures)} 项举措（{'、'.join(measures) or '无'}）"
                f"由「{change.successor}」承接；"
                + (
                    f"{len(moving)} 名成员将转入「{change.successor}」并收到通知。"
                    if moving
                    else "该单位没有需要转入的成员。"
                )
            ),
            line("变更写入 units.yaml，文件原文不变；记录后可撤销。"),
        ]
        if proposal.get("new_unit"):
            lines.append(line(f"「{change.successor}」是新名称，将作为新单位加入 units.yaml。"))
        buttons = (
            (
                Button("确认", m.act(f"{CONFIRM}:{token}")),
                Button("取消", m.act(f"{DROP}:{token}")),
            ),
        )
        return Outcome(Reply(header=tuple(lines), buttons=buttons))

    def _proposal(
        self, old_text: str, kind: Kind, new_text: str, date_text: str
    ) -> tuple[str | None, dict[str, Any]]:
        """Check a change as typed; return the problem, or the change to confirm."""
        m = self.membership
        plan = m.plan
        old, problem = self._unit(old_text)
        if problem is not None or old is None:
            return problem, {}
        if (change := plan.succession.change(old)) is not None:
            return (
                f"「{old}」已记录为{change.describe()}。如需更正，请先撤销或修改 units.yaml。",
                {},
            )
        since = _date(date_text)
        today = m.clock().astimezone(TZ).date()
        if since is None:
            return f"日期「{date_text}」不对，请写 YYYY-MM-DD，例如 2024-01-01。", {}
        if since > today:
            return "生效日期不能晚于今天：请在变更生效后再记录。", {}
        if since < plan.document.date:
            return f"生效日期早于文件印发日期（{plan.document.date:%Y-%m-%d}）。", {}
        proposal: dict[str, Any] = {"old": old, "kind": kind, "since": since.isoformat()}
        new, problem = self._unit(new_text)
        if kind == "renamed":
            # A new name may hold an existing one (省财政厅金融处): only a whole name is a unit.
            name = new_text.strip()
            new = next((u.name for u in plan.units if name in u.names()), None)
        if new is None and kind == "renamed":
            if not _NEW_NAME.fullmatch(name):
                return f"新名称「{name[:40]}」不对：请写 2–40 个汉字、字母或数字。", {}
            proposal["new_unit"] = self._new_unit(name)
            new = name
        elif problem is not None or new is None:
            return problem, {}
        if new == old:
            return "新单位与旧单位相同。", {}
        if plan.succession.change(new) is not None:
            return f"「{new}」本身已有变更记录，请写现在的单位。", {}
        proposal["new"] = new
        return None, proposal

    def _unit(self, text: str) -> tuple[str | None, str | None]:
        """Return the one unit the text names, or the problem (as an answer's text)."""
        units = self.membership.assistant.answer(text).units
        if len(units) == 1:
            return units[0], None
        if len(units) > 1:
            return None, f"「{text[:20]}」包含多个单位（{'、'.join(units)}），请只写一个。"
        return None, f"没有找到单位「{text[:20]}」。{USAGE}"

    def _new_unit(self, name: str) -> dict[str, Any]:
        """Return the units.yaml entry of a name a rename brings."""
        plan = self.membership.plan
        province = plan.document.issuer.partition("人民政府")[0]
        full = province + name[1:] if name.startswith("省") and province else name
        taken = {n for u in plan.units for n in (*u.names(), *u.misspellings)}
        aliases = [a for a in short_forms(name) if a not in taken and a not in (name, full)]
        entry: dict[str, Any] = {"name": name, "full_name": full}
        if aliases:
            entry["aliases"] = aliases
        return entry

    async def confirm(self, person: Person, token: str) -> Outcome:
        """Record a proposed change: units.yaml, the plan, the members (button 确认)."""
        m = self.membership
        if not m.is_coordinator(person):
            return say(NOT_COORDINATOR)
        async with self._lock:
            proposal = await self._take(_PENDING + token)
            if proposal is None:
                return Outcome(say("这项变更已处理或已取消。").reply, replace=True)
            change = _change(proposal)
            if m.plan.succession.change(change.old) is not None:
                return say(f"「{change.old}」已有变更记录，未重复记录。")
            path = _units_path(m)
            new_unit = proposal.get("new_unit")
            try:
                kept = unitsfile.record(path, change, new_unit)
            except OSError as e:
                return say(f"未能写入 {path.name}：{e}")
            try:
                plan = load_plan(path.parent)
            except PlanError as e:  # the file as it was: nothing recorded
                unitsfile.forget(path, change.old, new_unit["name"] if new_unit else None)
                return say(f"数据文件校验未通过，未作变更：{e}")
            m.assistant.adopt(plan)
            why = f"已于{change.describe()}"
            moved = await m.store.members.move_unit(
                change.old,
                change.successor,
                person.id,
                ("unit.change", f"{change.old}{change.describe()}（自 {change.since}）"),
                _payload(m, change.old, change.successor, why),
            )
            done = {**proposal, "moved": [x.user_id for x in moved]}
            await m.store.state.set(_DONE + token, json.dumps(done, ensure_ascii=False))
        lines = [
            line(f"已记录：{_said(change)}。"),
            line(
                "问答、进度、导出和报告即时按此处理；"
                + (
                    f"{len(moved)} 名成员已转入「{change.successor}」并已通知。"
                    if moved
                    else "该单位没有需要转入的成员。"
                )
            ),
        ]
        if not kept:
            lines.append(REWRITTEN)
        undo = ((Button("撤销", m.act(f"{UNDO}:{token}")),),)
        notices = await m.owed_notices(x.user_id for x in moved)
        return Outcome(Reply(header=tuple(lines), buttons=undo), notices, replace=True)

    async def drop(self, person: Person, token: str) -> Outcome:
        """Drop a proposed change (button 取消)."""
        m = self.membership
        if not m.is_coordinator(person):
            return say(NOT_COORDINATOR)
        async with self._lock:
            dropped = await self._take(_PENDING + token)
        shown = "已取消，未作变更。" if dropped is not None else "这项变更已处理或已取消。"
        return Outcome(say(shown).reply, replace=True)

    async def undo(self, person: Person, token: str) -> Outcome:
        """Take a recorded change back: units.yaml, the plan, the members it moved (撤销)."""
        m = self.membership
        if not m.is_coordinator(person):
            return say(NOT_COORDINATOR)
        async with self._lock:
            done = await m.store.state.get(_DONE + token)
            if not done:
                return Outcome(say("这项变更已撤销。").reply, replace=True)
            recorded = json.loads(done)
            change = _change(recorded)
            if m.plan.succession.change(change.old) != change:
                return say(f"units.yaml 中「{change.old}」的变更已被修改，请直接编辑该文件。")
            path = _units_path(m)
            new_unit = recorded.get("new_unit")
            try:
                kept = unitsfile.forget(path, change.old, new_unit["name"] if new_unit else None)
            except OSError as e:
                return say(f"未能写入 {path.name}：{e}")
            try:
                plan = load_plan(path.parent)
            except PlanError as e:  # another change needs it now: the file as it was
                unitsfile.record(path, change, new_unit)
                return say(f"数据文件校验未通过，未撤销：{e}")
            await m.store.state.set(_DONE + token, "")
            m.assistant.adopt(plan)
            why = f"：「{change.old}」{_verb(change)}「{change.successor}」的记录已撤销"
            moved = await m.store.members.move_unit(
                change.successor,
                change.old,
                person.id,
                ("unit.change.undo", f"{change.old}{change.describe()}"),
                _payload(m, change.successor, change.old, why),
                only=recorded.get("moved", []),
            )
        back = f"{len(moved)} 名成员已转回「{change.old}」。" if moved else ""
        lines = [line(f"已撤销：{_said(change)}。{back}")]
        if not kept:
            lines.append(REWRITTEN)
        notices = await m.owed_notices(x.user_id for x in moved)
        return Outcome(Reply(header=tuple(lines)), notices, replace=True)

    async def _take(self, key: str) -> dict[str, Any] | None:
        """Return a proposal kept under `key`, and consume it (None: none, or taken)."""
        raw = await self.membership.store.state.get(key)
        if not raw:
            return None
        await self.membership.store.state.set(key, "")
        taken: dict[str, Any] = json.loads(raw)
        return taken

    async def reconcile(self) -> int:
        """Move members of units changed in units.yaml by hand (at start); return how many."""
        m = self.membership
        today = m.clock().astimezone(TZ).date()
        count = 0
        for change in m.plan.succession.changes.values():
            if change.since > today or not await m.store.members.bound(change.old):
                continue
            now = m.plan.succession.current(change.old)  # None: split, members must choose
            subject = f"{change.old}{change.describe()}（{BY_FILE}）"
            why = f"已于{change.describe()}"
            count += len(
                await m.store.members.move_unit(
                    change.old,
                    now,
                    BY_FILE,
                    ("unit.change", subject),
                    _payload(m, change.old, now or "", why),
                )
            )
        return count


def _change(proposal: dict[str, Any]) -> Change:
    return Change(
        proposal["old"],
        proposal["kind"],
        dt.date.fromisoformat(proposal["since"]),
        successor=proposal["new"],
    )


def _said(change: Change) -> str:
    """Say the change with its date once: 「省乡村振兴局」自 2024-01-01 起并入「农业农村厅」."""
    return f"「{change.old}」自 {change.since:%Y-%m-%d} 起{_verb(change)}「{change.successor}」"


def _verb(change: Change) -> str:
    return "更名为" if change.kind == "renamed" else "并入"


def _payload(m: Membership, old: str, new: str, why: str) -> dict[str, Any]:
    payload = {"from": old, "unit": new, "why": why}
    return {**payload, "document": m.label} if m.label else payload


def _units_path(m: Membership) -> Path:
    # Proposed only where the plan came from a folder (checked by `propose`).
    return (m.assistant.data_dir or Path(".")) / "units.yaml"


def _date(text: str) -> dt.date | None:
    parts = re.findall(r"\d+", text)
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except (ValueError, IndexError):
        return None

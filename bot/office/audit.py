"""The audit trail as people read it: /audit for coordinators, labels for the Excel sheet."""

from __future__ import annotations

from bot.office.membership import Membership
from bot.outcome import NOT_COORDINATOR, Outcome, Person, say
from bot.reply import Item, Reply, bold, line
from bot.store import AuditEntry

DEFAULT_COUNT = 20
MAX_COUNT = 200

# The actions the store records (bot/store/__init__.py) and the office adds (exports, chase-ups).
LABELS = {
    "bind.request": "申请绑定",
    "bind.approved": "批准绑定",
    "bind.rejected": "拒绝绑定",
    "bind": "绑定成员",
    "invite.create": "创建邀请",
    "invite.use": "使用邀请绑定",
    "unbind": "解除绑定",
    "note.add": "新增进展",
    "note.edit": "修改进展",
    "note.delete": "删除进展",
    "chase": "提醒未报送单位",
    "export": "导出汇总",
    "report": "生成报告",
    "unit.change": "记录单位变更",
    "unit.change.undo": "撤销单位变更",
    "unit.move": "随单位变更转入",
    "unanswered.mapped": "未答问题归入举措",
    "unanswered.out": "未答问题标为不在文件范围",
}


def label(action: str) -> str:
    """Return an action's Chinese name (the code itself for one this version does not know)."""
    return LABELS.get(action, action)


def describe(entry: AuditEntry) -> str:
    """Return what was done to what, e.g. "新增进展 · 教育厅 · 记录 #3，举措 7.1（2024 年）"."""
    return " · ".join(p for p in (label(entry.action), entry.unit, entry.subject) if p)


def _count(arg: str) -> int | None:
    arg = arg.strip().removesuffix("条")
    if not arg:
        return DEFAULT_COUNT
    # isdecimal, not isdigit: int() refuses digits such as "²".
    return int(arg) if arg.isdecimal() and len(arg) <= 9 and int(arg) > 0 else None


async def audit(membership: Membership, person: Person, arg: str = "") -> Outcome:
    """Show the last n entries of the audit trail, newest first (coordinators only)."""
    if not membership.is_coordinator(person):
        return say(NOT_COORDINATOR)
    count = _count(arg)
    if count is None:
        return say(f"请写要查看的条数（1–{MAX_COUNT}），例如：/audit 50")
    entries = await membership.store.audit.entries(min(count, MAX_COUNT))
    if not entries:
        return say("还没有操作记录。")
    items = tuple(
        Item(
            (
                line(
                    bold(f"{e.at:%Y-%m-%d %H:%M}"),
                    f" {e.actor_name or '（未知）'}（ID {e.actor_id}）",
                ),
                line(describe(e)),
            )
        )
        for e in entries
    )
    head = f"最近 {len(entries)} 条操作记录（最新在前）"
    if count > MAX_COUNT:
        head += f"，一次最多显示 {MAX_COUNT} 条"
    return Outcome(Reply(header=(line(head + "："),), items=items, per_page=10))

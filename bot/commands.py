"""Every command, once: help, the chat menus and the channels' rules are derived from here."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from bot.documents.example import NOTE_TEXT, Example

Role = Literal["anyone", "member", "coordinator"]


@dataclass(frozen=True)
class Command:
    """One command as every channel offers it."""

    name: str
    summary: str
    example: str
    role: Role
    private_only: bool  # shows a unit's data or binds: only in a one-to-one chat
    pageable: bool  # a read-only query whose long reply may be redrawn page by page
    menu: bool  # offered in a channel's command menu (coordinators' ones are only in /help)

    def example_of(self, sample: Example) -> str:
        """Return the example with the document's own unit, measure, task, topic and year."""
        return self.example.format(**asdict(sample), note=NOTE_TEXT)


def _c(
    name: str,
    summary: str,
    example: str,
    role: Role,
    *,
    private_only: bool = True,
    pageable: bool = False,
) -> Command:
    # Coordinators' commands are listed in /help only: the menu is everybody's.
    return Command(name, summary, example, role, private_only, pageable, role != "coordinator")


def _read(name: str, summary: str, example: str) -> Command:
    """A question about the document: for anyone, anywhere, page by page."""
    return _c(name, summary, example, "anyone", private_only=False, pageable=True)


# In the order /help lists them.
COMMANDS: tuple[Command, ...] = (
    _read("start", "开始使用，查看示例", "/start"),
    _read("help", "使用说明和命令列表", "/help"),
    _read("unit", "查询某单位负责的举措", "/unit {unit}"),
    _read("task", "查看某项主要任务", "/task {task}"),
    _read("find", "按关键词查找举措", "/find {topic}"),
    _c("doc", "查看或切换所依据的文件", "/doc", "anyone", private_only=False),
    _c("bind", "申请绑定到本单位", "/bind {unit}", "anyone"),
    _c("join", "用协调人给的邀请码绑定单位", "/join 邀请码", "anyone"),
    _c("whoami", "查看我的单位和角色", "/whoami", "anyone"),
    _c("note", "报送举措进展", "/note {measure} {note}", "member"),
    _c("notes", "查看本单位今年的进展", "/notes", "member", pageable=True),
    _c("cancel", "取消正在填写的进展", "/cancel", "member"),
    _c("report", "生成本单位年度落实情况报告（Word）", "/report {year}", "member"),
    # Switching one's own reminders touches nobody else's data: allowed in a group too.
    _c("remind", "查看或开关年度报送提醒", "/remind off", "member", private_only=False),
    _c("unbind", "解除与单位的绑定", "/unbind", "member"),
    _c("web", "打开网页工作台（一次性登录链接）", "/web", "anyone"),
    _c("invite", "生成单位的一次性邀请码", "/invite {other}", "coordinator"),
    _c("members", "查看成员", "/members {unit}", "coordinator", pageable=True),
    _c("progress", "查看各单位报送进度", "/progress {year}", "coordinator", pageable=True),
    _c("export", "导出进展汇总 Excel", "/export {year}", "coordinator"),
    _c("audit", "查看最近的操作记录", "/audit 50", "coordinator", pageable=True),
    _c("remind_test", "立即收到某单位会收到的提醒", "/remind_test {unit}", "coordinator"),
    _c(
        "unit_change",
        "记录单位更名或并入（机构改革）",
        "/unit_change {other} 更名为 新名称 {year}-01-01",
        "coordinator",
    ),
)
BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}


def menu() -> tuple[Command, ...]:
    """Return the commands a channel's command menu offers, in order."""
    return tuple(c for c in COMMANDS if c.menu)

"""The coordinators' group robot: each summary also posted into their WeCom group.

FENGONG_GROUP_WEBHOOK names the robot (消息推送). The group is one more recipient of the
summary (`Reminders.summary_groups`), routed here by its id: delivered and recorded like the
coordinators' copies, message by message, so posted once and not again after a restart, and
tried again at the next check when WeCom refuses it. A post that got no answer (WeCom hung) may
be in the group already: a robot has no duplicate check, so it is not posted again, only
logged. The URL is the robot's only credential: it is masked in the log.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot import redact
from bot.channel import PartDone, Result
from bot.core import Core
from bot.reply import Reply
from handlers.wecom.channel import post_summary
from handlers.wecom.client import HTTP_TIMEOUT, GroupRobot

ROBOT = "wecom-robot"  # the Router prefix of the group robot
GROUP = f"{ROBOT}:group"  # the coordinators' group, as a recipient of the summary


def attach_group_robot(core: Core, url: str, *, timeout: float = HTTP_TIMEOUT) -> GroupRobot:
    """Post every coordinators' summary to the robot at `url` too; close the robot at stop."""
    redact.add_secret(url)
    robot = GroupRobot(url, timeout=timeout)

    async def post(group: str, reply: Reply) -> Result:
        await post_summary(robot, reply)
        return "sent"

    async def post_parts(
        groups: Sequence[str], reply: Reply, tag: str, start: int, done: PartDone
    ) -> None:
        async def posted(part: int) -> None:
            await done(part, dict.fromkeys(groups, "sent"))

        await post_summary(robot, reply, start, posted)

    core.router.add(ROBOT, post, send_parts=post_parts)
    for reminders in core.reminders_of.values():  # every document's summaries
        reminders.summary_groups.add(GROUP)
    return robot

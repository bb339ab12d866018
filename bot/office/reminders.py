"""Year-end reporting reminders: the schedule (pure), the durable fan-out, the summary.

Task 16 of the notice: every responsible unit reports its progress to 省政府残疾人工作委员会
at the end of each year. Before the deadline each member gets the measures of their unit that
still lack a note this year; the day after, coordinators get a summary and can chase up.

Delivery guarantee: who got which part of which reminder is recorded in SQLite (`deliveries`:
a status, and the parts sent). Each part (one message: a page, or on WeCom a text or a card) is
recorded for its recipients once the channel accepted it, so a crash between the two repeats
only that part on restart, to the batch it was sent to (the fan-out makes one call at a time:
one message, or on WeCom one message to up to 1000 members of a unit), never a whole reminder,
and misses nobody. An error does the same at the next check. A part whose outcome is unknown (no
answer came) is sent again only where the channel makes the repeat harmless (WeCom's duplicate
check); elsewhere it is counted as sent and logged. A reminder found more than `grace_days` late
(the bot was down) is skipped and logged, not sent late.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from bot.ask import compose
from bot.ask.reporting import current_period, deadline, reporting_lines, reporting_years
from bot.channel import Result, Router, Send, Unconfirmed
from bot.clock import TZ
from bot.config import ReminderConfig
from bot.documents.plan import Measure
from bot.office.membership import Membership
from bot.office.notes import NOTE_ON
from bot.office.status import unreported
from bot.outcome import NOT_COORDINATOR, Outcome, Person, say
from bot.reply import Button, Item, Reply, bold, line
from bot.store import DeliveryStatus

logger = logging.getLogger(__name__)

Kind = Literal["reminder", "summary"]

CHASE = "chase"  # chase:<year>: a coordinator's button to chase up the units with gaps
DELIVERY_TRIES = 10  # attempts per recipient of a send, one per check (a minute apart)
REMINDER_SUMMARY = 24  # characters of each measure's first clause in a reminder
# Members the channel refused: they blocked the bot, or left the range it may write to (an
# organisation's app reaches only its members).
REFUSED = "无法送达的成员（已屏蔽机器人，或已不在机器人的使用范围内）"
# The database's lease of fan-outs: the scheduler's checks and the chase-ups run under it, one
# at a time across the instances sharing the database. The channel's rate is per app: two
# fan-outs at once would each send at the full rate and both be answered 429.
LEASE = "scheduler"
CHASE_LEASE = dt.timedelta(seconds=60)  # a chase-up's hold on it, renewed while it sends
LEASE_WAIT = 1.0  # seconds between a chase-up's tries while another fan-out holds it


def _writes_after_user(user_id: str) -> bool:
    """The summary's default: no channel writes to a user before they wrote to the bot."""
    return False


def _missing_items(missing: list[Measure], act: Callable[[str], str]) -> tuple[Item, ...]:
    """Return measures without a note as list items, each with its 报送 button."""
    return tuple(
        Item(
            (line(bold(m.id), f" {compose.summary(m.text, REMINDER_SUMMARY)}"),),
            (Button(f"报送 {m.id}", act(f"{NOTE_ON}:{m.id}")),),
        )
        for m in missing
    )


@dataclass(frozen=True)
class Reminder:
    """One scheduled send: a reminder N days before a year's deadline, or the summary after."""

    kind: Kind
    year: int
    days_before: int
    at: dt.datetime

    @property
    def key(self) -> str:
        """Return the durable identity of this send ("reminder:2024:7", "summary:2024")."""
        return (
            f"reminder:{self.year}:{self.days_before}"
            if self.kind == "reminder"
            else (f"summary:{self.year}")
        )


def schedule(config: ReminderConfig, years: tuple[int, ...]) -> list[Reminder]:
    """Return every reminder and summary of the reporting years, in time order."""
    tz = ZoneInfo(config.timezone)
    out = []
    for year in years:
        due = deadline(config, year)
        for days in config.days_before:
            day = due - dt.timedelta(days=days)
            out.append(
                Reminder("reminder", year, days, dt.datetime.combine(day, config.time_of_day, tz))
            )
        after = due + dt.timedelta(days=1)
        out.append(
            Reminder("summary", year, 0, dt.datetime.combine(after, config.time_of_day, tz))
        )
    return sorted(out, key=lambda r: r.at)


def next_reminder(
    config: ReminderConfig, years: tuple[int, ...], now: dt.datetime
) -> Reminder | None:
    """Return the first send after `now`, or None when the reporting years are over."""
    return next((r for r in schedule(config, years) if r.at > now), None)


def due(
    config: ReminderConfig, years: tuple[int, ...], now: dt.datetime, done: set[str]
) -> tuple[list[Reminder], list[Reminder]]:
    """Split the past sends not yet done into (send now, skip as too late).

    Within the grace period only the latest reminder of a year is sent (after downtime,
    two reminders in a row would say the same thing); the summary is sent on its own.
    A reminder is never sent once its deadline has passed: the summary takes over.
    """
    grace = dt.timedelta(days=config.grace_days)
    send: dict[tuple[int, Kind], Reminder] = {}
    skip: list[Reminder] = []
    for r in schedule(config, years):
        if r.at > now or r.key in done:
            continue
        past_deadline = r.kind == "reminder" and now.astimezone(r.at.tzinfo).date() > deadline(
            config, r.year
        )
        if now - r.at > grace or past_deadline:
            skip.append(r)
            continue
        older = send.get((r.year, r.kind))
        if older is not None:
            skip.append(older)
        send[(r.year, r.kind)] = r
    return sorted(send.values(), key=lambda r: r.at), skip


@dataclass
class Reminders:
    """Sends the reminders on time, durably, and answers /remind."""

    membership: Membership
    config: ReminderConfig
    # Group chats that get the coordinators' summary too (ids the Router routes, e.g. a group
    # robot): planned and recorded like every recipient, so sent once, not again after a restart.
    summary_groups: set[str] = field(default_factory=set)
    # One fan-out at a time (ticks, chase-ups): two fan-outs of the same key would both find
    # its pending rows and send them twice. In this process the lock; across the instances
    # sharing the database, LEASE (held by the scheduler's check around a tick).
    _sending: asyncio.Lock = field(default_factory=asyncio.Lock)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep  # while waiting for LEASE

    @property
    def years(self) -> tuple[int, ...]:
        """Return the reporting years: configured, else the plan's period."""
        return reporting_years(self.config, self.membership.plan)

    def next(self) -> Reminder | None:
        """Return the next scheduled send."""
        return next_reminder(self.config, self.years, self.membership.clock())

    def describe_schedule(self) -> str:
        """Say when the next reminder goes out, or why none will (for the start-up log)."""
        upcoming = self.next()
        if upcoming:
            return (
                f"下一次提醒：{upcoming.at:%Y-%m-%d %H:%M}（{upcoming.year} 年，{upcoming.key}）"
            )
        years = f"{self.years[0]}–{self.years[-1]}" if self.years else "（无）"
        return (
            f"报送年份 {years} 的提醒均已过期，今后不会再发送提醒。"
            "如需继续提醒，请在 FENGONG_CONFIG 指向的配置文件中设置 reminders.years，"
            "例如 years: 2025-2027。"
        )

    # -- what a unit is told ---------------------------------------------------------------

    async def _missing(self, year: int) -> dict[str, list[Measure]]:
        reported = await self.membership.store.notes.reported_measures(year)
        plan = self.membership.plan.as_of(year)  # a changed unit's measures are its successor's
        return {u.name: unreported(plan, reported, u.name) for u in plan.units}

    def unit_reminder(self, unit: str, year: int, missing: list[Measure]) -> Reply | None:
        """Return the reminder for one unit's members (None: all reported and no thanks)."""
        end = deadline(self.config, year)
        if not missing:
            if not self.config.thank_complete:
                return None
            return Reply(header=(line(f"「{unit}」{year} 年的举措进展已全部报送，谢谢！"),))
        header = (
            line(bold(f"{year} 年度进展报送提醒")),
            line(
                f"{_rule(self.membership.plan.document.report_to)}"
                f"（截止 {end.year} 年 {end.month} 月 {end.day} 日）。"
                f"「{unit}」还有 {len(missing)} 项举措未报送："
            ),
        )
        items = _missing_items(missing, self.membership.act)
        # One message per member where it fits: Telegram asks for at most one message a second
        # per chat, and a fan-out sends about 29 a second.
        return Reply(header=header, items=items, per_page=len(items))

    async def reporting(self, person: Person) -> Outcome:
        """Answer a question about reporting: when, to whom, how, and what is still missing.

        A member also gets their unit's measures without a note this reporting year, each with
        a 报送 button; anyone else learns how to bind.
        """
        plan, now = self.membership.plan, self.membership.clock()
        examples = self.membership.assistant.lexicon.examples
        general = reporting_lines(plan, self.config, now, examples)
        if not person.private:
            # A unit's gaps are for its members' eyes: in a group, only the rule and dates.
            return Outcome(Reply(header=general))
        member = await self.membership.store.members.get(person.id)
        if member is None:
            hint = (
                "绑定单位后，这里会列出本单位尚未报送的举措："
                f"发送 /bind 单位名称，例如 /bind {self.membership.assistant.example().unit}。"
            )
            return Outcome(Reply(header=(*general, (), line(hint))))
        period = current_period(self.config, plan, now.astimezone(TZ).date())
        if period is None:
            return Outcome(Reply(header=general))
        unit, year = member.unit, period.year
        missing = (await self._missing(year)).get(unit, [])
        if not missing:
            done = line(f"「{unit}」{year} 年的举措进展已全部报送。")
            return Outcome(Reply(header=(*general, (), done)))
        owed = line(bold(f"「{unit}」{year} 年还有 {len(missing)} 项举措未报送："))
        items = _missing_items(missing, self.membership.act)
        return Outcome(Reply(header=(*general, (), owed), items=items, per_page=len(items)))

    # -- sending ---------------------------------------------------------------------------

    async def _done(self) -> set[str]:
        store = self.membership.store
        return {
            r.key
            for r in schedule(self.config, self.years)
            if await store.state.get(f"done:{r.key}") is not None
        }

    async def tick(self, send: Send) -> list[str]:
        """Send whatever is due now (or resume an interrupted fan-out); return the keys sent."""
        async with self._sending:
            return await self._tick(send)

    async def _tick(self, send: Send) -> list[str]:
        now = self.membership.clock()
        to_send, too_late = due(self.config, self.years, now, await self._done())
        store = self.membership.store
        # A fan-out interrupted by a crash is finished whenever the bot comes back, unless a
        # newer reminder of the same year goes out now (it would say the same thing again).
        started = await store.reminders.keys()
        newer = {(r.year, r.kind) for r in to_send}
        resume = [r for r in too_late if r.key in started and (r.year, r.kind) not in newer]
        to_send = sorted(resume + to_send, key=lambda r: r.at)
        too_late = [r for r in too_late if r not in resume]
        skipped: dict[int, list[Reminder]] = {}
        for r in too_late:
            await store.state.set(f"done:{r.key}", "skipped")
            skipped.setdefault(r.year, []).append(r)
        for year, late in skipped.items():
            logger.warning(
                "%d 年的 %d 次提醒已超过宽限期，未发送（%s）。",
                year,
                len(late),
                "、".join(r.key for r in late),
            )
        sent = []
        for r in to_send:
            if r.kind == "reminder":
                messages = await self._reminder_messages(r.year)
            else:
                messages = await self._summary_messages(r.year, send)
            statuses = await self.fan_out(r.key, messages, send)
            waiting = sum(1 for status in statuses.values() if status == "pending")
            if waiting:
                # Done once every recipient got it or failed for good (DELIVERY_TRIES).
                logger.info("提醒 %s 还有 %d 位收件人未送达，下次检查时重试。", r.key, waiting)
                continue
            await store.state.set(f"done:{r.key}", "sent")
            sent.append(r.key)
        return sent

    async def _reminder_messages(
        self, year: int, units: set[str] | None = None
    ) -> dict[str, Reply]:
        store = self.membership.store
        missing = await self._missing(year)
        out: dict[str, Reply] = {}
        for member in await store.members.bound():
            if units is not None and member.unit not in units:
                continue
            user = await store.users.get(member.user_id)
            # Not retried: a member who blocked the bot is written to again once they write
            # to it (Users.upsert marks them reachable); until then the summary lists them.
            if user is not None and not (user.reminders_on and user.reachable):
                continue
            reply = self.unit_reminder(member.unit, year, missing.get(member.unit, []))
            if reply is not None:
                out[member.user_id] = reply
        return out

    async def fan_out(self, key: str, messages: dict[str, Reply], send: Send) -> dict[str, str]:
        """Deliver each message once, durably; resumable after a crash. Return the statuses.

        Through a Router, recipients of the same reply on a channel that sends to many at once
        (WeCom: up to 1000 a call) get it in one call a part; everyone else one at a time.
        Each part is recorded once the channel accepted it: a resumed fan-out goes on from the
        next part, so a crash or an error repeats at most the part in flight.
        """
        store = self.membership.store
        # Planning is idempotent: after a restart only the still-pending rows are sent.
        await store.reminders.plan(key, messages)
        same: dict[tuple[Reply, int], list[str]] = {}
        for user_id, parts in (await store.reminders.pending_parts(key)).items():
            reply = messages.get(user_id)
            if reply is None:  # planned before a restart, but no longer a member
                await store.reminders.mark(key, user_id, "failed")
                continue
            same.setdefault((reply, parts), []).append(user_id)
        for (reply, parts), users in same.items():
            batches = send.batches(users) if isinstance(send, Router) else [[u] for u in users]
            for batch in batches:
                await self._deliver(key, batch, reply, parts, send)
        return await store.reminders.deliveries(key)

    async def _deliver(
        self, key: str, users: list[str], reply: Reply, start: int, send: Send
    ) -> None:
        """Send one reply to a batch of users from part `start`, recording each part."""
        store = self.membership.store
        left, after = list(users), start  # who still gets parts, and the next part

        async def done(part: int, results: dict[str, Result]) -> None:
            nonlocal after
            await store.reminders.record_part(
                key, part, {u: results.get(u, "failed") for u in left}
            )
            for user_id, result in results.items():
                if result == "blocked" and await store.users.get(user_id) is not None:
                    await store.users.set_reachable(user_id, False)
            left[:] = [u for u in left if results.get(u) == "sent"]
            after = part + 1

        while left:
            try:
                if isinstance(send, Router):
                    tag = f"{store.doc}/{key}"
                    await send.send_parts(left, reply, tag, after, done)
                elif after == 0:
                    await done(0, {left[0]: await send(left[0], reply)})
                break
            except Unconfirmed as e:
                # No answer came, and sending the part again could show it twice: counted as
                # delivered, the next part goes on.
                logger.warning(
                    "提醒 %s 的第 %d 条消息未确认送达 %d 位用户（%s 等，%s），不再重发以免重复。",
                    key,
                    e.part + 1,
                    len(left),
                    left[0],
                    e,
                )
                await done(e.part, dict.fromkeys(left, "sent"))
            except Exception as e:
                # Whatever goes wrong with one call, the others still get theirs; its
                # recipients are tried again from this part at the next check, DELIVERY_TRIES
                # times in all.
                results: dict[str, DeliveryStatus] = {}
                for user_id in left:
                    tries = await store.reminders.attempts(key, user_id) + 1
                    results[user_id] = "failed" if tries >= DELIVERY_TRIES else "pending"
                    await store.reminders.mark(key, user_id, results[user_id])
                logger.warning(
                    "提醒 %s 未能送达 %d 位用户（%s 等，%r），%s",
                    key,
                    len(left),
                    left[0],
                    e,
                    "稍后重试。" if "pending" in results.values() else "不再重试。",
                )
                return
        for user_id in left:
            await store.reminders.mark(key, user_id, "sent")

    # -- the coordinators' summary ---------------------------------------------------------

    async def summary(
        self, year: int, writes_first: Callable[[str], bool] = _writes_after_user
    ) -> Reply:
        """Return the after-deadline summary: silent units, gaps, unreachable members.

        `writes_first(user_id)`: whether the member's channel reaches them though they never
        wrote to the bot (Router.writes_first); by default a user must write first.
        """
        missing = await self._missing(year)
        plan, store = self.membership.plan.as_of(year), self.membership.store
        silent = [
            u.name for u in plan.units if len(missing[u.name]) == len(plan.duties_of(u.name))
        ]
        gaps = [
            (u.name, len(missing[u.name]))
            for u in plan.units
            if missing[u.name] and u.name not in silent
        ]
        lines = [
            line(bold(f"{year} 年度报送情况（截止 {deadline(self.config, year):%m 月 %d 日}）")),
            line(f"未报送任何举措的单位（{len(silent)} 个）：{'、'.join(silent) or '无'}"),
            line(
                f"部分未报送的单位（{len(gaps)} 个）："
                + ("、".join(f"{n}（缺 {k} 项）" for n, k in gaps) or "无")
            ),
        ]
        refused, never = [], []
        for member in await store.members.bound():
            user = await store.users.get(member.user_id)
            who = f"{member.name}（{member.unit}）"
            # Where the channel waits for the user to write first, never having written comes
            # first: it refuses those too (with the same answer as a block), and what they must
            # do is write to the bot. A channel that writes first reaches them all the same.
            if (user is None or not user.private_chat) and not writes_first(member.user_id):
                never.append(who)
            elif user is not None and not user.reachable:
                refused.append(who)
        if refused:
            lines.append(line(f"{REFUSED}：{'、'.join(refused)}"))
        if never:
            lines.append(
                line(
                    "从未与机器人私聊、无法送达提醒的成员（请其先给机器人发一条消息）："
                    + "、".join(never)
                )
            )
        chase = self.membership.act(f"{CHASE}:{year}")
        buttons = ((Button("提醒未报送单位", chase),),) if silent or gaps else ()
        return Reply(header=tuple(lines), buttons=buttons)

    async def _summary_messages(self, year: int, send: Send) -> dict[str, Reply]:
        reach = send.writes_first if isinstance(send, Router) else _writes_after_user
        reply = await self.summary(year, reach)
        recipients = [*sorted(self.membership.coordinators), *sorted(self.summary_groups)]
        return dict.fromkeys(recipients, reply)

    async def chase(self, person: Person, year_text: str, send: Send) -> Outcome:
        """Send a chase-up to exactly the members of units with gaps (coordinators, once a day)."""
        if not self.membership.is_coordinator(person):
            return say(NOT_COORDINATOR)
        # isdecimal, not isdigit ("²"), and only a reporting year: the button comes from its
        # summary, and a forged year would chase every member.
        year = int(year_text) if year_text.isdecimal() and len(year_text) <= 4 else None
        if year is None or year not in self.years:
            return say("按钮已过期，请重新提问")
        leases, owner = self.membership.store.leases, f"chase-{secrets.token_hex(4)}"
        while not await leases.claim(LEASE, owner, CHASE_LEASE):
            await self.sleep(LEASE_WAIT)  # another fan-out (a scheduled one, a chase-up) ends
        async with leases.keep(LEASE, owner, CHASE_LEASE), self._sending:
            missing = await self._missing(year)
            messages = await self._reminder_messages(year, {u for u, ms in missing.items() if ms})
            bound = await self.membership.store.members.bound()
            units = {m.unit for m in bound if m.user_id in messages}
            key = f"chase:{year}:{self.membership.clock():%Y-%m-%d}"
            before = await self.membership.store.reminders.deliveries(key)
            statuses = await self.fan_out(key, messages, send)
        fresh = sum(1 for u, s in statuses.items() if s == "sent" and before.get(u) != "sent")
        chased = f"{year} 年：{len(units)} 个单位 {fresh} 人"
        await self.membership.store.audit.record(person.id, person.name, CHASE, "", chased)
        again = "（今天已催报过的成员不再重复发送）" if before else ""
        return say(f"已向 {len(units)} 个单位的 {fresh} 位成员发送催报提醒{again}。")

    # -- members' commands -----------------------------------------------------------------

    async def remind(self, person: Person, arg: str) -> Outcome:
        """Handle /remind [on|off]: switch one's reminders, or show the next date."""
        store = self.membership.store
        await self.membership.seen(person)
        choice = arg.strip().lower()
        if choice in ("off", "关", "关闭"):
            await store.users.set_reminders(person.id, False)
            return say("已关闭年度报送提醒。发送 /remind on 重新开启。")
        if choice in ("on", "开", "开启"):
            await store.users.set_reminders(person.id, True)
        elif choice:
            return say("用法：/remind 查看下次提醒，/remind on 开启，/remind off 关闭。")
        if await store.members.get(person.id) is None:
            # Reminders go to a unit's members: "开启" would promise one that never comes.
            sample = self.membership.assistant.example().unit
            return say(
                "您还不是本文件中任何单位的成员，不会收到年度报送提醒。"
                f"发送 /bind 单位名称 申请绑定，例如 /bind {sample}。"
            )
        user = await store.users.get(person.id)
        state = "开启" if user is None or user.reminders_on else "关闭"
        upcoming = next(
            (
                r
                for r in schedule(self.config, self.years)
                if r.kind == "reminder" and r.at > self.membership.clock()
            ),
            None,
        )
        when = (
            f"下次提醒：{upcoming.at:%Y-%m-%d %H:%M}"
            if upcoming
            else "报送年份已结束，暂无后续提醒"
        )
        return say(f"年度报送提醒：{state}。{when}。")

    async def remind_test(self, person: Person, arg: str) -> Outcome:
        """Send the coordinator now the reminder their unit (or a named unit) would get."""
        if not self.membership.is_coordinator(person):
            return say(NOT_COORDINATOR)
        unit: str | None
        if arg.strip():
            units = self.membership.assistant.answer(arg).units
            unit = units[0] if len(units) == 1 else None
        else:
            member = await self.membership.store.members.get(person.id)
            unit = member.unit if member else None
        if unit is None:
            sample = self.membership.assistant.example().unit
            return say(f"请写单位名称，例如：/remind_test {sample}（或先绑定单位）。")
        year = self.membership.year()
        reply = self.unit_reminder(unit, year, (await self._missing(year))[unit])
        return Outcome(reply or say(f"「{unit}」{year} 年已全部报送（此时不发送提醒）。").reply)


def _rule(to: str) -> str:
    """Return whom the document has units report to; a document may name nobody."""
    if to:
        return f"按责任分工，各责任单位每年年底向{to}报送工作进度"
    return "请各责任单位在截止前报送本年度工作进展"

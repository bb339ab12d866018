"""The coordinators' overview: progress per unit, what a unit still owes, exports, reports."""

from __future__ import annotations

from dataclasses import dataclass

from bot.ask import compose
from bot.ask.reporting import reporting_years
from bot.clock import TZ
from bot.office.membership import Membership
from bot.office.status import unreported
from bot.outcome import NOT_COORDINATOR, NOT_MEMBER, Attachment, Outcome, Person, number, say
from bot.reply import Button, Item, Reply, bold, line

PROGRESS_UNIT = "pu"  # pu:<year>:<unit index in the plan>
EVERY_UNIT = "全部"  # /report 全部: the committee's consolidated report


@dataclass
class Overview:
    """What the coordinators see of every unit's reporting."""

    membership: Membership

    def _year_arg(self, arg: str) -> int | None:
        arg = arg.strip().removesuffix("年")
        if not arg:
            return self.membership.year()
        year = number(arg)
        return year if year is not None and 2000 <= year <= 2100 else None

    def _outside(self, year: int, command: str) -> Outcome | None:
        """Say that `year` is none of the document's reporting years (nothing to show)."""
        years = reporting_years(self.membership.reminders, self.membership.plan)
        if not years or year in years:
            return None
        span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
        return say(
            f"{year} 年不在本文件的报送年度（{span} 年）内，没有这一年的进展。"
            f"例如：/{command} {years[-1]}"
        )

    async def progress(self, person: Person, arg: str = "", picture: bool = False) -> Outcome:
        """Show per unit how many of its measures have a note this year (coordinators).

        With `picture`, the heat map of units × main tasks comes with it (a page turn redraws
        only the text, so it passes False).
        """
        if not self.membership.is_coordinator(person):
            return say(NOT_COORDINATOR)
        year = self._year_arg(arg)
        if year is None:
            return say(f"年份格式不对，例如：/progress {self.membership.year()}")
        if outside := self._outside(year, "progress"):
            return outside
        reported = await self.membership.store.notes.reported_measures(year)
        rows, idle = [], []
        plan = self.membership.plan.as_of(year)  # the units of that year
        for index, unit in enumerate(plan.units):
            duties = plan.duties_of(unit.name)
            if not duties:  # listed in units.yaml, named by no measure: nothing to report
                idle.append(unit.name)
                continue
            done = len(duties) - len(unreported(plan, reported, unit.name))
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
                (Button(f"{name} 缺报", self.membership.act(f"{PROGRESS_UNIT}:{year}:{index}")),),
            )
            for _, done, total, index, name in rows
        )
        if idle:
            note = f"另有 {len(idle)} 个单位没有负责的举措，不计入进度：{'、'.join(idle)}。"
            items += (Item((line(note),)),)
        reply = Reply(header=header, items=items, per_page=10)
        if not picture:
            return Outcome(reply)
        # matplotlib loads slowly; only the picture needs it.
        from bot.office.heatmap import progress_picture

        membership = self.membership
        as_of = membership.clock().astimezone(TZ).date()
        png = await progress_picture(membership.store, membership.plan, year, as_of)
        caption = f"{year} 年报送进度（截至 {as_of:%Y-%m-%d}）"
        return Outcome(reply, picture=Attachment(f"报送进度-{year}.png", png, caption))

    async def progress_unit(self, person: Person, arg: str) -> Outcome:
        """Show which of a unit's measures lack a note in a year (button `pu:<year>:<i>`)."""
        if not self.membership.is_coordinator(person):
            return say(NOT_COORDINATOR)
        year_text, _, index_text = arg.partition(":")
        year, index = number(year_text), number(index_text)
        plan = self.membership.plan.as_of(year) if year is not None else None
        if plan is None or index is None or index >= len(plan.units):
            return say("按钮已过期，请重新提问")
        unit = plan.units[index].name
        reported = await self.membership.store.notes.reported_measures(year or 0)
        missing = unreported(plan, reported, unit)
        if not missing:
            return say(f"「{unit}」{year} 年的举措已全部报送。")
        items = tuple(
            Item((line(bold(m.id), f" {compose.summary(m.text, 36)}"),)) for m in missing
        )
        head = line(f"「{unit}」{year} 年尚未报送的举措（{len(missing)} 项）：")
        return Outcome(Reply(header=(head,), items=items, per_page=12))

    async def export(self, person: Person, arg: str = "") -> Outcome:
        """Export a year's notes as an Excel workbook (coordinators)."""
        if not self.membership.is_coordinator(person):
            return say(NOT_COORDINATOR)
        year = self._year_arg(arg)
        if year is None:
            return say(f"年份格式不对，例如：/export {self.membership.year()}")
        if outside := self._outside(year, "export"):
            return outside
        # openpyxl loads slowly; only the export needs it.
        from bot.office.export import export_year

        data = await export_year(self.membership.store, self.membership.plan, year)
        await self.membership.store.audit.record(
            person.id, person.name, "export", "", f"{year} 年进展汇总", year
        )
        return Outcome(
            say(f"{year} 年进展汇总已导出。").reply,
            attachment=Attachment(f"进展汇总-{year}.xlsx", data, f"{year} 年进展汇总"),
        )

    async def report(self, person: Person, arg: str = "") -> Outcome:
        """Send a year's report: one's own unit's; any unit's or 全部 for coordinators."""
        coordinator = self.membership.is_coordinator(person)
        own = await self.membership.unit_of(person)
        if own is None and not coordinator:
            return say(NOT_MEMBER)
        unit_text, year_text = _split_year(arg)
        year = self._year_arg(year_text)
        if year is None:
            return say(f"年份格式不对，例如：/report {self.membership.year()}")
        if outside := self._outside(year, "report"):
            return outside
        unit: str | None = own
        sample = self.membership.assistant.example()
        if unit_text == EVERY_UNIT:
            if not coordinator:
                return say(NOT_COORDINATOR)
            unit = None
        elif unit_text:
            unit, problem = self.membership.unit_named(unit_text)
            if problem or unit is None:
                return problem or say(f"请写明单位名称，例如：/report {sample.unit} {year}")
            if not coordinator and unit != own:
                return say(f"您只能生成本单位（{own}）的报告。发送 /report 即可。")
        elif unit is None:
            return say(
                f"请写明单位，例如：/report {sample.unit} {year}；"
                f"各单位汇总请发送：/report 全部 {year}"
            )
        # python-docx loads slowly; only the report needs it.
        from bot.office.report import report_title, year_report

        plan = self.membership.plan
        data = await year_report(self.membership.store, plan, year, unit)
        name = unit or "各单位汇总"
        await self.membership.store.audit.record(
            person.id,
            person.name,
            "report",
            unit or "",
            f"{year} 年度落实情况报告（{name}）",
            year,
        )
        return Outcome(
            say(f"「{name}」{year} 年度落实情况报告已生成。").reply,
            attachment=Attachment(
                f"落实情况报告-{name}-{year}.docx", data, report_title(plan, year, unit)
            ),
        )


def _split_year(arg: str) -> tuple[str, str]:
    """Split `单位 2024` (either part optional) into the unit's text and the year's."""
    head, _, last = arg.strip().rpartition(" ")
    if last.removesuffix("年").isdecimal():
        return head.strip(), last
    return arg.strip(), ""

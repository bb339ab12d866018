"""Questions about the year-end reporting itself: when, to whom, how, how long, what is missing.

The plan says who reports to whom (the rule of its reporting task); the reminder configuration
says by when and in which years. Other questions that merely mention reporting ("年底报送工作
进度") stay questions about the document: only a question asking when, whom, how or what is
missing is about the reporting.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.ask.pattern import lazy
from bot.ask.text import normalize
from bot.config import ReminderConfig
from bot.documents.example import example
from bot.documents.plan import Measure, Plan
from bot.reply import Line, bold, line

# What is reported (报送, 上报, 交材料 …); 责任报告 (a company's social-responsibility report,
# measures 2.1 and 3.1) is a topic, not this bot's reporting.
_REPORT = lazy(
    # 报到 says where to ("报到哪"); said last it is checking in ("回社区报到吗").
    # A list or data handed on ("学生名单报给哪些部门") is a measure's information sharing.
    r"报送|上报|汇报|填报|(?<!名单|数据|信息|名册)报给|报到(?!$|[吗么嘛呢了，。？?！!])|报交|报上去|(?<!责任)报告|年报"
    # 交给 hands a report in, not a thing over to be run ("场馆交给企业运营", "地交给别人代种")
    r"|交给(?![^，。？?]{0,8}?(?:运营|经营|管理|托管|打理|承包|代[种管耕养办]|来[办管做干种]|去[办管做干种]))"
    r"|(?:报|交|提交|递交|上交|写)(?:个|一个|一份|份|一下|下)?(?:工作|年度|年终)?"
    r"(?:落实|完成|执行)?(?:进展|进度|材料|总结|情况)"
    r"|报一次|报几次|多久报|报哪|往上报|再报"
    # (Not 报销, 报名, 报考, 报警: claiming, signing up, calling the police.)
    r"|(?:什么时候|啥时候|什么时间|何时|几时|哪天|怎么|如何|怎样|咋)(?:上报|报送|报(?![销名考警案价])|交|提交)"
    r"|(?:进度|进展|材料|总结|落实情况|完成情况|执行情况)[^，。？?]{0,6}(?:报|交|发给|送给)"
    # "给残工委报什么", "年底要交啥", "每年都要报": reporting said with a plain verb
    r"|(?:(?:给|向|往)[^，。？?]{1,12}?|(?:年底|年终|年末|每年)[^，。？?]{0,6}|[要得]上?)"
    # (报告 is read above: "每年那个社会责任报告" is none.)
    r"(?:报|汇报)(?![刊道纸销名告]|到(?:$|[吗么嘛呢了，。？?！!]))"
    # "年底要交啥", but not money paid (保障金要交多少)
    r"|(?:年底|年终|年末)[^，。？?]{0,6}交(?![^，。？?]{0,6}(?:钱|费|金|税|款))"
)
# "我们单位还差哪些没报": what is missing is a reporting question by itself.
_MISSING = lazy(r"没报|未报|漏报|还没报|报了没|报没报|交了没|交没交|报齐|报完了|还差")
_ASK = lazy(
    # when, and how long is left
    r"什么时候|啥时候|何时|几时|哪天|哪一天|几号|几月|日期|时间|截止|截至|期限|多久|还有几天|还剩|"
    r"剩几天|多少天|几天|频率|一次|几次|几回|多少次"
    # to whom, and whether it goes on higher
    r"|给谁|向谁|找谁|交给哪|报给哪|报哪|交到哪|谁收|哪个部门|哪个单位|对象|哪里|哪儿|什么地方"
    r"|往哪|上哪|到哪|去哪|上面|上级|上一级|再往上|更高"
    # how, and whether at all
    r"|怎么|怎样|如何|咋|方式|流程|要求|格式|步骤|纸质|电子版|还是"
    r"|要不要|需不需要|用不用|是不是|是否|需要|得交|必须|[吗么嘛]$"
    # what
    r"|什么|啥"
    # what is missing
    r"|还差|没报|未报|漏报|缺|还有哪些|哪些没|报了没|报完"
)
# A clause of the reporting task saying who reports on to whom ("省政府残疾人工作委员会每年年底向
# 国务院残疾人工作委员会报送落实情况"): the next step up, beside the rule units follow.
_ONWARD = lazy(r"[^，。；]*向[^，。；]+?(?:报送|上报|报告)[^，。；]*")
# Money or insurance a person pays in (医保咋交, 学费怎么交, 交社保): no report is handed in.
_PAID = lazy(
    r"(?:医保|社保|保险|[费税钱款])[^，。？?]{0,4}(?:缴|交)(?![给到流通])|(?:缴|交)(?:纳)?(?:医保|社保|保险|[费税钱款])"
)
_REPORT_WORD = lazy(r"报送|上报|汇报|填报|报告|年报")
# "截止日期是哪天" needs no verb of reporting: in this bot a deadline is the reporting one.
_DEADLINE = lazy(r"截止|截至|期限|最后期限|deadline")
_SIGN_UP = lazy(r"报名|申请|申领|申报|招标|投标|评选|征集|签约|预约")


def is_reporting(question: str) -> bool:
    """Tell whether a question asks about the year-end reporting itself."""
    text = normalize(question)
    if _PAID.search(text) and not _REPORT_WORD.search(text):
        return False
    if _MISSING.search(text):
        return True
    if _SIGN_UP.search(text) and not _REPORT_WORD.search(text):
        # A sign-up or an application and its deadline ("报名什么时候截止", "签约几号截止",
        # "什么时候交申请"): no report.
        return False
    asks = _ASK.search(text)
    deadline = _DEADLINE.search(text)
    return bool(asks and (_REPORT.search(text) or deadline))


@dataclass(frozen=True)
class Period:
    """The reporting year a question is answered for, and its deadline."""

    year: int
    deadline: dt.date


def deadline(config: ReminderConfig, year: int) -> dt.date:
    """Return the reporting deadline in `year` (29 February falls back to the 28th)."""
    month, day = config.deadline
    try:
        return dt.date(year, month, day)
    except ValueError:
        return dt.date(year, month, day - 1)


def reporting_years(config: ReminderConfig, plan: Plan) -> tuple[int, ...]:
    """Return the reporting years: configured, else the plan's period."""
    if config.years:
        return config.years
    first, last = plan.document.period
    return tuple(range(first, last + 1))


def default_year(config: ReminderConfig, plan: Plan, today: dt.date) -> int:
    """Return the year meant when none is given: this year, kept within the reporting years.

    After the last reporting year it is the last (a note filed in 2026 on a 2022–2024 plan
    belongs to its final report, and /progress shows that year, not an empty one); before the
    first, the first.
    """
    years = reporting_years(config, plan)
    if not years:
        return today.year
    return min(max(today.year, years[0]), years[-1])


def current_period(config: ReminderConfig, plan: Plan, today: dt.date) -> Period | None:
    """Return the first reporting year whose deadline is today or later, or None."""
    for year in reporting_years(config, plan):
        end = deadline(config, year)
        if end >= today:
            return Period(year, end)
    return None


def reporting_lines(
    plan: Plan, config: ReminderConfig, now: dt.datetime, questions: tuple[str, ...] = ()
) -> tuple[Line, ...]:
    """Return what the plan and configuration say about reporting: when, to whom, how.

    A document without a reporting clause is said to have none; the dates are then the
    reminder schedule's, and the notes go to the coordinators.
    """
    doc = plan.document
    today = now.date()
    # A document without a number of its own has its title in the number's place.
    name = doc.number if doc.number != doc.title else f"《{doc.title}》"
    rule = (
        f"依据{name}：{doc.report_rule}。"
        if doc.report_rule
        else f"{name}没有关于报送工作进度的条款；以下截止时间是本机器人的年度提醒安排。"
    )
    lines: list[Line] = [line(bold("年度报送")), line(rule)]
    period = current_period(config, plan, today)
    years = reporting_years(config, plan)
    past = [y for y in years if deadline(config, y) < today]
    if past and period is not None:
        last = past[-1]
        lines.append(line(f"{last} 年的报送已于 {_date(deadline(config, last))}截止。"))
    if period is None:
        span = f"（{years[0]}–{years[-1]} 年）" if years else ""
        lines.append(line(f"各年度{span}的报送均已截止。"))
    else:
        days = (period.deadline - today).days
        left = "今天截止" if days == 0 else f"还有 {days} 天"
        due = f"{period.year} 年度进展请于 {_date(period.deadline)}前报送，{left}。"
        lines.append(line(bold("截止时间："), due))
    # One rule with /note: a note filed today counts for default_year, said whenever that is
    # not the year whose deadline is shown.
    counted = default_year(config, plan, today)
    if years and (period is None or period.year != counted):
        final = "（本文件最后一个报送年度）" if counted == years[-1] else ""
        where = f"现在用 /note 报送的进展计入 {counted} 年度{final}"
        lines.append(line(f"{where}，汇总表和报告中列在该年度下。"))
    to = doc.report_to or "文件未写明；在这里报送的进展由协调人汇总"
    lines.append(line(bold("报送对象："), to))
    onward = _onward(plan)
    if onward:
        lines.append(line(bold("再往上报："), f"{onward}（见举措 {_report_measure(plan)}）。"))
    lines += [
        line(
            bold("报送方式："),
            f"在对话中发送 /note 举措编号 进展内容，例如：{example(plan, questions).note}；"
            "/notes 查看本单位已报送的进展。协调人用 /export 导出年度汇总表。",
        ),
    ]
    return tuple(lines)


def _onward(plan: Plan) -> str:
    """Return the clause of the reporting measure on reporting further up, or ""."""
    rule = plan.document.report_rule
    for m in _report_measures(plan):
        for found in _ONWARD.finditer(m.text):
            clause = found.group(0).strip()
            if rule and clause != rule and rule not in clause:
                return clause
    return ""


def _report_measure(plan: Plan) -> str:
    """Return the id of the measure holding the reporting rule (its task's first, else)."""
    measures = _report_measures(plan)
    rule = plan.document.report_rule
    return next((m.id for m in measures if rule and rule in m.text), measures[0].id)


def _report_measures(plan: Plan) -> tuple[Measure, ...]:
    task = plan.task(plan.document.report_task)
    return task.measures if task is not None else ()


def _date(day: dt.date) -> str:
    return f"{day.year} 年 {day.month} 月 {day.day} 日"

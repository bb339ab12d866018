"""Turn the engine's answers and the plan into neutral replies (what the user reads)."""

from __future__ import annotations

import dataclasses
import re

from bot.ask.engine import MAX_QUESTION, Answer
from bot.ask.pattern import lazy
from bot.commands import COMMANDS, Command
from bot.documents.example import Example
from bot.documents.plan import Measure, Plan
from bot.reply import Button, Item, Line, Reply, Span, bold, line

SUMMARY_CHARS = 40
QUOTE_CHARS = 60
LONG_QUESTION = f"问题较长，只按前 {MAX_QUESTION} 个字回答。"

# Neutral actions carried by buttons; each channel routes them back to the core.
SHOW_MEASURE = "m"  # m:<measure id>
ASK_EXAMPLE = "ex"  # ex:<index into the lexicon's examples>


def summary(text: str, limit: int = SUMMARY_CHARS) -> str:
    """Return the first clause of a measure, shortened to `limit` characters."""
    first = re.split(r"(?<=[。；])", text, maxsplit=1)[0]
    return first if len(first) <= limit else first[: limit - 1] + "…"


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """Return user text shortened for echoing back in a header."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def units_text(plan: Plan, measure: Measure) -> str:
    """Return the responsible units of a measure as the document lists them.

    "牵头：X；配合：Y、Z" where the document says who leads; catch-alls such as 各省级人民政府
    come after the units they join.
    """
    others = list(measure.catch_all)
    if measure.all_provincial and not others:
        others = list(plan.collective_terms) or ["省级有关部门（单位）"]
    if measure.lead:
        support = "、".join([*measure.supporting, *others])
        return f"牵头：{'、'.join(measure.lead)}" + (f"；配合：{support}" if support else "")
    return "、".join(dict.fromkeys([*measure.units, *others]))


def _task_title(plan: Plan, measure: Measure) -> str:
    """The measure's task title as shown in brackets: without the sentence's closing 。."""
    return plan.tasks[measure.task - 1].title.rstrip("。；;，,. ")


def _measure_button(measure: Measure) -> Button:
    return Button(f"{measure.id} 详情", f"{SHOW_MEASURE}:{measure.id}")


def _summary_item(
    plan: Plan, measure: Measure, with_units: bool, units: tuple[str, ...] = (), role: str = ""
) -> Item:
    title = _task_title(plan, measure)
    mark = f"（{role}）" if role else ""
    lines: list[Line] = [
        line(
            bold(measure.id),
            mark,
            f" 【{title}】",
            summary(measure.text),
            _formerly(plan, measure, units),
        )
    ]
    if with_units:
        lines.append(line(Span("责任单位：", "italic"), units_text(plan, measure)))
    return Item(tuple(lines), (_measure_button(measure),))


def measure_reply(plan: Plan, measure: Measure) -> Reply:
    """Return a measure's full text, its task and every responsible unit."""
    title = _task_title(plan, measure)
    header = (
        line(
            bold(f"举措 {measure.id}"),
            f"（原文第{measure.doc_number}条）" if measure.doc_number else "",
            f"（主要任务{measure.task}：{title}）",
        ),
        (),
        line(measure.text),
        (),
        line(bold("责任单位："), units_text(plan, measure)),
    )
    notes: list[Line] = []
    if measure.all_provincial:
        term = _shared_term(plan, measure)
        notes.append(line(f"「{term}」指{_everyone(term)}，各单位均须落实本举措。"))
    notes += [line(_unit_note(part)) for part in measure.unit_note.split("；") if part]
    notes += [
        line(f"原文写作「{c.written}」，应为「{c.unit}」，已按{c.unit}处理。")
        for c in measure.corrections
    ]
    notes += [
        line(f"{u}已于{c.describe()}，本举措现由{plan.holder(u, measure.id)}负责。")
        for u in measure.units
        if (c := plan.succession.change(u)) is not None
    ]
    return Reply(header=header + (((), *notes) if notes else ()))


def _shared_term(plan: Plan, measure: Measure) -> str:
    """Return the words by which the document binds every unit to a measure, as written."""
    terms = [*measure.catch_all, *plan.collective_terms]
    return terms[0] if terms else "有关部门和单位"


def _everyone(term: str) -> str:
    """Return who a catch-all binds: the notice's provincial departments, else every unit."""
    return "全体省级部门" if "省级" in term else "全体责任单位"


def _unit_note(note: str) -> str:
    """Say what a remark after the units means; a bare 等 would read as a stray character."""
    if note.endswith(("等", "有关部门")) and len(note) <= 6:
        return f"原文在责任单位后写有「{note}」：所列单位之外，还有其他单位参与。"
    return f"原文注：{note}"


def _unit_header(plan: Plan, answer: Answer) -> list[Line]:
    lines: list[Line] = []
    for typed, unit in answer.corrections:
        lines.append(line(Span(f"已将「{typed}」理解为「{unit}」。", "italic")))
    for name in answer.units:
        change = plan.succession.change(name)
        if change is not None:
            # The old name: where its duties went, then them under the successor.
            lines.append(line(bold(f"原{name}"), f"（{change.describe()}）"))
            now = plan.succession.current(name)
            if now is None:
                heirs = "、".join(change.successors)
                lines.append(line(f"其举措现分别由{heirs}承接（见各项后的说明）："))
            else:
                lines.append(line("现由", bold(now), _full(plan, now), "承接，其举措如下："))
            continue
        lines.append(line(bold(name), _full(plan, name)))
    return lines


def _full(plan: Plan, name: str) -> str:
    found = plan.unit(name)
    return f"（{found.full_name}）" if found and found.full_name != name else ""


def _formerly(plan: Plan, measure: Measure, units: tuple[str, ...]) -> str:
    """Return "（原X）" on a measure a listed unit took over, "（现由Y负责）" on an old unit's."""
    marks = []
    for unit in units:
        if plan.succession.change(unit) is not None:
            heir = plan.holder(unit, measure.id)
            if unit in measure.units and plan.succession.current(unit) is None:
                marks.append(f"（现由{heir}负责）")
            continue
        if unit not in measure.units:  # named by the document itself: its own measure
            marks += [f"（原{old}）" for old in plan.origins(unit, measure)]
    return "".join(dict.fromkeys(marks))


def _unit_reply(plan: Plan, answer: Answer) -> Reply:
    own = [m for m in answer.measures if not m.all_provincial]
    shared = [m for m in answer.measures if m.all_provincial]
    tasks = {m.task for m in answer.measures}
    header = _unit_header(plan, answer)
    if answer.missed_topic:
        header.append(
            line(
                f"该单位的举措中没有与「{quote(answer.missed_topic, 20)}」直接相关的，"
                "以下是全部举措。"
            )
        )
    term = _shared_term(plan, shared[0]) if shared else ""
    also = f"（含 {len(shared)} 项{_everyone(term)}共同职责）" if shared else ""
    if answer.role == "unstated":
        header.append(line("本文件没有区分牵头单位和配合单位，以下是该单位负责的全部举措。"))
    verb = {"lead": "牵头", "support": "配合", "guide": "指导", "joint": "共同负责"}.get(
        answer.role, "负责"
    )
    if not answer.measures:
        names = "、".join(answer.units)
        header.append(line(f"{names}没有{verb}的举措。"))
        header.append(line(f"可以问「{answer.units[0]}负责哪些」查看它参与的全部举措。"))
        return Reply(header=tuple(header))
    header.append(
        line(f"{verb} {len(answer.measures)} 项举措，涉及 {len(tasks)} 项主要任务{also}：")
    )

    def role(m: Measure) -> str:
        # Where the document says who leads, guides or supports: each measure's mark.
        return "、".join(dict.fromkeys(r for u in answer.units if (r := m.role_of(u))))

    items = [_summary_item(plan, m, False, answer.units, role(m)) for m in own]
    if shared:
        first = _summary_item(plan, shared[0], with_units=False)
        marker = line(bold("共同职责"), f"（{term}均须落实）")
        items.append(Item((marker, *first.lines), first.buttons))
        items += [_summary_item(plan, m, with_units=False) for m in shared[1:]]
    return Reply(header=tuple(header), items=tuple(items))


# Thanks and greetings are not questions: answered in kind, not with "not found".
_THANKS = lazy(r"(?:(?:谢谢|感谢|多谢|好的|好|嗯|哦|ok|收到|明白了?|知道了|了解了?)(?:你|您)?)+")
_GREETING = lazy(r"(?:你好|您好|在吗|在不在|hi|hello|哈喽)(?:呀|啊)?")
_POLITE_ENDS = lazy(r"[\s!！。.,，~～啊呀啦哈]+")


def small_talk(question: str) -> bool:
    """Tell whether a message is thanks or a greeting (answered politely, not searched)."""
    said = _POLITE_ENDS.sub("", question.lower())[:20]
    return bool(said) and bool(_THANKS.fullmatch(said) or _GREETING.fullmatch(said))


def no_match_reply(question: str, examples: tuple[str, ...]) -> Reply:
    """Return the honest "not in the document" message with example questions as buttons."""
    said = _POLITE_ENDS.sub("", question.lower())[:20]  # small talk is short
    buttons = tuple((Button(ex, f"{ASK_EXAMPLE}:{i}"),) for i, ex in enumerate(examples[:4]))
    if said and _THANKS.fullmatch(said):
        return Reply(header=(line("不客气！还有要查的，直接问我就行。"),))
    if said and _GREETING.fullmatch(said):
        hello = line("您好！可以问某个单位负责什么、某项工作由谁负责，例如：")
        return Reply(header=(hello,), buttons=buttons)
    asked = quote(question)
    header = (
        line(
            f"抱歉，责任分工文件中没有找到与「{asked}」相关的内容。"
            if asked.strip()
            else "请输入要查询的问题。"
        ),
        line("可以问某个单位负责什么、某项工作由谁负责、第几项任务或某条举措编号，例如："),
    )
    return Reply(header=header, buttons=buttons)


# "人社厅负责哪些": a unit's name asked about (ending as a body's name does), then its duties.
_UNIT_ASKED = lazy(
    r"([\u4e00-\u9fff]{1,18}?(?:厅|局|部|委员会|委|办公室|办|院|署|银行|联合会|联|中心|政府))"
    r"(?:都|要|需要)?(?:负责|牵头|承担|配合|参与|分管)"
)


def unknown_unit_reply(plan: Plan, question: str, examples: tuple[str, ...]) -> Reply | None:
    """Say plainly that the unit asked about is not named in this document (None: no unit)."""
    asked = _UNIT_ASKED.match(question.strip())
    if asked is None:
        return None
    doc = plan.document
    name = doc.number if doc.number != doc.title else f"《{doc.title}》"
    named = "、".join(u.name for u in plan.units[:3])
    more = f"等 {len(plan.units)} 个" if len(plan.units) > 3 else ""
    header = (
        line(f"{name}的责任单位中没有「{quote(asked[1], 20)}」。"),
        line(f"本文件的责任单位有{named}{more}；可以问这些单位负责什么，例如："),
    )
    buttons = tuple((Button(ex, f"{ASK_EXAMPLE}:{i}"),) for i, ex in enumerate(examples[:4]))
    return Reply(header=header, buttons=buttons)


def nearest_reply(plan: Plan, answer: Answer) -> Reply:
    """Say that nothing answers the question for sure, and offer the nearest measures."""
    asked = quote(answer.topic or answer.query, 20)
    header = (
        line(f"关于「{asked}」，没有找到完全对应的举措，最接近的是："),
        line("如果都不是，请换个说法，或问某个单位负责什么。"),
    )
    items = [_summary_item(plan, m, with_units=True) for m in answer.nearest]
    return Reply(header=header, items=tuple(items))


def elsewhere_reply(plan: Plan, names: tuple[str, ...], examples: tuple[str, ...]) -> Reply:
    """Say that another place's units are not in this document (广东省残联 …)."""
    doc = plan.document
    # "四川省人民政府残疾人工作委员会" -> "四川省": whose provincial departments these are.
    province = doc.issuer.partition("人民政府")[0]
    asked = "、".join(f"「{quote(n, 20)}」" for n in names[:3])
    header = (
        line(f"{asked}不在本文件的责任单位之中：{doc.number}只给{province}省级部门分工。"),
        line(f"可以问{province}的单位负责什么，例如："),
    )
    buttons = tuple((Button(ex, f"{ASK_EXAMPLE}:{i}"),) for i, ex in enumerate(examples[:4]))
    return Reply(header=header, buttons=buttons)


def answer_reply(plan: Plan, answer: Answer, examples: tuple[str, ...] = ()) -> Reply:
    """Return the reply for an engine answer, whatever its kind."""
    reply = _answer_reply(plan, answer, examples)
    if not answer.truncated:
        return reply
    # First, on every page: what came after the start may have changed the answer.
    return dataclasses.replace(reply, header=(line(Span(LONG_QUESTION, "italic")), *reply.header))


def _answer_reply(plan: Plan, answer: Answer, examples: tuple[str, ...]) -> Reply:
    if answer.kind == "none" and answer.elsewhere:
        return elsewhere_reply(plan, answer.elsewhere, examples)
    if answer.kind == "none" and answer.nearest:
        return nearest_reply(plan, answer)
    if answer.kind == "none":
        unknown = unknown_unit_reply(plan, answer.query, examples)
        return unknown or no_match_reply(answer.query, examples)
    if answer.kind == "unit":
        return _unit_reply(plan, answer)
    if answer.kind == "measure" and len(answer.measures) == 1:
        return measure_reply(plan, answer.measures[0])
    if answer.kind in ("task", "measure"):
        header: list[Line] = [
            line(bold(f"主要任务{t.number}：{t.title}"))
            for n in answer.tasks
            if (t := plan.task(n))
        ]
        items = [
            Item(
                (line(bold(m.id), " ", m.text), line(bold("责任单位："), units_text(plan, m))),
                (_measure_button(m),),
            )
            for m in answer.measures
        ]
        return Reply(header=tuple(header), items=tuple(items), per_page=4)
    header = _unit_header(plan, answer)
    # With a unit, its topic is what the measures were chosen by (人社厅 职业教育 -> 职业教育).
    # Without one, the topic understood, not the whole question as typed.
    about = answer.topic or answer.query
    header.append(line(f"与「{quote(about)}」最相关的 {len(answer.measures)} 项举措："))
    items = [_summary_item(plan, m, True, answer.units) for m in answer.measures]
    return Reply(header=tuple(header), items=tuple(items), per_page=5)


def welcome_reply(plan: Plan, examples: tuple[str, ...]) -> Reply:
    """Return the /start greeting: what the bot knows and example questions as buttons."""
    doc = plan.document
    header = (
        line(bold("您好，我是分工助手。")),
        line(f"我熟悉{doc.number}《{_short_title(doc.title)}》："),
        line(
            f"{len(plan.tasks)} 项主要任务、{len(plan.measures)} 项工作举措，"
            f"以及 {len(plan.units)} 个责任单位各自的分工。"
        ),
        line("直接输入问题即可，例如点击下面的示例："),
    )
    buttons = tuple((Button(ex, f"{ASK_EXAMPLE}:{i}"),) for i, ex in enumerate(examples[:4]))
    return Reply(header=header, buttons=buttons)


def help_reply(sample: Example) -> Reply:
    """Return the command list, each with an example from the document (`sample`)."""
    header: list[Line] = [line(bold("使用说明")), line("直接输入问题即可，也可以使用命令：")]
    header += [_command_line(c, sample) for c in COMMANDS if c.role != "coordinator"]
    header += [(), line("协调人命令：")]
    header += [_command_line(c, sample) for c in COMMANDS if c.role == "coordinator"]
    asks = [
        f"· 单位：{sample.unit}负责哪些任务？（简称、全称、错别字都可以）",
        f"· 工作：{sample.topic}由谁负责？",
        f"· 任务或举措：第{sample.task}项任务、{sample.measure}",
        f"· 单位加工作：{sample.unit} {sample.topic}",
    ]
    header += [(), line("可以这样问："), *(line(a) for a in asks)]
    return Reply(header=tuple(header))


def _command_line(command: Command, sample: Example) -> Line:
    example = command.example_of(sample)
    return line(Span(f"/{command.name}", "code"), f" {command.summary}，如 {example}")


def _short_title(title: str) -> str:
    # "关于印发《X》的通知" -> X: the plan's own name reads better in a greeting.
    m = re.search(r"《(.+)》", title)
    return m.group(1) if m else title

"""Conversation: a follow-up read against what the same person just asked in the same chat.

A chat's context is what its last answer was about: the units, the topic, the measures it
listed. A message complete on its own is answered on its own and replaces the context. An
incomplete one ("那卫健委呢", "第二条呢", "其中关于大学生的呢") is rewritten into a complete
question from the context, so that its answer, and any page of it, can be made again later
without the context. The context lives in the core, keyed by chat and person, and expires after
ten minutes of silence; when several instances share the database the core keeps it there
between messages (`Context.dump`/`parse`, `Dialog.state`/`restore`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from bot.ask.engine import (
    MAX_QUESTION,
    PLACE,
    WHO_WORDS,
    Answer,
    chinese_number,
    place,
    states,
)
from bot.ask.pattern import lazy
from bot.ask.text import normalize
from bot.clock import Clock, system_clock

CONTEXT_TTL = dt.timedelta(minutes=10)
# Chats remembered at most; the least recently active is forgotten first.
MAX_CHATS = 10_000

# Words that only point back at the last answer: they make a message a follow-up and are never
# its topic; 那条 of a place (最后那条, 中间那条) is part of the place.
# A message that starts without a subject ("有没有涉及培训补贴的") continues the last one.
_LEAD = lazy(
    r"^(?:(?:好的|好|嗯|哦|谢谢|明白了|知道了|ok)[\s,，。!！~]*)*"
    r"(?:那么|那|还有|另外|然后|再问一下|再问|请问|那请问|只看|只要|只说|仅看|就看|换成|换作|换做"
    r"|有没有涉及|有没有关于|有没有和|有没有跟|有没有|是否涉及|涉及|关于|包括|包不包括"
    r"|(?:跟|和|与)(?=[^，。？?]{1,15}(?:有关|相关)))+"
)
_TAIL = lazy(r"(?:呢|嘞|咧|哩)+$")
_POINTERS = lazy(
    r"其中|(?<![后末头间首])那一?条|这几[条项个](?:里面?|中|当中)?|这些(?:条|项)?(?:里面?|中|当中)|"
    r"在这方面|这方面|这一方面|这个方面|方面|这一块|这块|那块|这部分|这方面的|"
    r"它们|它|他们|该单位|这个单位|这家单位|上述|上面|刚才|前面|我们单位|我单位|本单位|我们|咱们"
    # "里头跟盲人有关的" (within the list shown), "教育厅跟这有关系没", "民政厅管这事吗".
    r"|^(?:在|从)?(?:这)?(?:里头|里面|里边)|在这个?(?:里头|里面|里边|当中)|这个(?:里头|里面|当中)"
    r"|(?<=[跟和与])这(?:个|件?事儿?)?(?:有关系|有关|相关|挂钩)|这件?事儿?"
)
# Punctuation around a message (not inside: "10.3" is a measure).
_ENDS = lazy(r"^[\s?？!！。.,，、…~～:：;；\"'“”‘’]+|[\s?？!！。.,，、…~～:：;；\"'“”‘’]+$")
# "第二条", "第三个举措", "第1条" — but "第3项任务" asks for a task. "最后一条", "倒数第二条"
# and "头一个" are read by the engine's PLACE.
_ORDINAL = lazy(
    r"第\s*(\d{1,2}|[一二三四五六七八九十两]{1,3})\s*(条|个|项)?\s*(举措|措施)?"
    r"(?![个月年周天日季人次])"  # 第二个月 is a time, not an item
)
# The next or the one before: "下一条", "上一个", "再下一项", "下一项任务".
_NEXT = lazy(
    r"^再?(?P<way>下|后|上|前)\s?一\s?(?:条|个|项)?\s?(?P<task>大项|(?:主要)?任务)?(?:举措|措施)?"
    r"(?:是啥|是什么|说的?啥|讲的?啥|说什么|讲什么|写的?啥|呢)?$"
)
# A bare number after a task's answer ("那十三呢", "13呢"): that task.
_BARE_NUMBER = lazy(r"^第?\s?(\d{1,2}|[一二三四五六七八九十两]{1,3})\s?(?:项|大项)?$")
# Asking whether that is all ("我们就这一条吗", "只有这一项？"): the whole list, not the item.
_ONLY_THIS = lazy(r"[就只]有?这一?[条个项]")
_THIS_MEASURE = lazy(r"这一?条|这个举措|这项举措|该举措|此条|该条|这一项举措")
# Asking whether a unit is among the measure's ("我们也在里头吗", "有没有我们", "人社厅也在吗").
_AMONG = lazy(
    r"在里头|在里面|在里边|在其中|在内|在不在|也在|算不算|有份|有没有(?:我们|咱们|我)"
    r"|也管|管不管|也负责|负不负责|也参与|参不参与"
    r"|有(?:我们|咱们)|包括(?:我们|咱们)|包不包括|有我们的事|(?:跟|和)我们有关"
)
# Asking which item ("是哪条", "哪一项"): of the list just shown when it says nothing alone.
_WHICH = lazy(r"哪一?[条项]")
# Words of doing something together, which ask who else and name no topic.
_TOGETHER = lazy(r"一起|一块儿?|共同|同时|联合|配合|协同|合作|[跟和与]")
# Characters that say nothing of a topic by themselves.
_UNSAID = frozenset("的了吗呢吧啊么那这个些是在有和与及也都还要能会可就里")
# Leaving a unit out ("除了残联还有谁").
_BESIDES = lazy(r"除了|除去|除")
# What is left out: "除了培训以外还有…", "除开大学生那几条还有啥", "除了托养，我们还管啥".
_LEFT_OUT = lazy(
    r"除(?:了|去|开)?(?P<topic>[^，,。？?]+?)(?:[那这]几?[条项个块]|的)?(?:以外|之外|外)?"
    r"(?:[，,]|(?:我们|咱们)?还|另外|其他|其它|别的|[吗呢啊？?。]*$)"
)
# The engine's roles as the words a question says them with.
_ROLE_WORDS = {"lead": "牵头", "support": "配合", "guide": "指导"}
# A role asked of the unit in the context ("其中牵头的", "我们配合的有哪些").
_ROLE = lazy(r"牵头|配合|协办|协助|指导|主要负责(?!人)|带头(?!人)|挑头|打下手")
# Sharing work with another unit ("和人社一起的", "跟财政厅共同负责的").
_WITH = lazy(
    r"^(?:我们|咱们|我单位|本单位)?(?:和|跟|与|同)[^，。？?]{2,20}?(?:一起|一块儿?|共同|联合)"
)
# A question answered yes or no ("…吗", "在不在"), not what a unit does there ("在里面干啥").
_YES_NO = lazy(
    r"[吗么嘛没]$|没有$|在不在|有没有|算不算|包不包括|是不是|是否|管不管|负不负责|参不参与"
)
# A list this long at most is what "里头" may mean as a whole.
_FEW = 8
# Saying who one is: "我是民政厅的", "我们单位是税务局": later "我们" means that unit.
_ME = lazy(r"^(?:我是|我们是|我在|我们在|我们单位是|我单位是|本单位是|我来自|我们来自)")
# The person's own unit, once they said which ("我是税务局的").
_WE = lazy(r"我们|咱们|我单位|本单位")
# Asking beyond what was just shown ("还有别的吗", "其他的呢"): all of the unit's duties.
_ELSE = lazy(r"别的|其他|其它|另外|全部|所有|一共|总共")
# Asking what, with nothing else said ("要干啥", "具体说的啥"): asked of the last answer.
_WHAT = lazy(r"啥|什么|哪些|哪几[条项个]|干嘛|做些?什么|说说|讲讲|介绍")
# Asking for the wording of the one item in focus ("具体说的啥", "原文怎么写").
_DETAIL = lazy(r"具体|详细|原文|内容|怎么说|怎么写|说的?啥|写的?啥")
# Asking who ("这条还有谁", "哪些单位", "只有残联吗") rather than what a unit does.
# Asking who, as the engine reads it, or how many or whether only those (几个单位, 只有).
_WHO = lazy(rf"{WHO_WORDS}|几个单位|只有")


@dataclass(frozen=True)
class Context:
    """What a chat's last answer was about."""

    units: tuple[str, ...]
    topic: str
    tasks: tuple[int, ...]
    # The measures the answer listed, in order ("第二条" counts in it) ...
    measures: tuple[str, ...]
    kind: str
    at: dt.datetime
    # ... and the one measure in focus ("这条谁负责"), if any.
    focus: str = ""
    # The document the answer came from (its id in the catalog; "" for the only or root one).
    doc: str = ""
    # The unit the person said they belong to ("我是民政厅的"), kept while the chat goes on.
    me: str = ""
    # The role the answer listed ("牵头", "配合", "指导"; "" for any): "那人社局呢" asks the same.
    role: str = ""

    @classmethod
    def of(cls, answer: Answer, at: dt.datetime, doc: str = "") -> Context:
        """Return the context an answer from document `doc` leaves behind."""
        measures = tuple(m.id for m in answer.measures)
        # "这条" is the one measure shown, or the best match of a topic (within a unit's too:
        # "我在残联" then a case, then "这个谁牵头").
        best = answer.kind in ("topic", "unit_topic")
        focus = measures[0] if measures and (len(measures) == 1 or best) else ""
        own = [m for m in measures if m not in answer.shared]
        if answer.kind == "unit" and len(own) == 1:
            focus = own[0]  # a unit's one own item, beside those every unit shares
        role = _ROLE_WORDS.get(answer.role, "") if answer.kind == "unit" else ""
        kind, units, topic, tasks = answer.kind, answer.units, answer.topic, answer.tasks
        return cls(units, topic, tasks, measures, kind, at, focus, doc, role=role)

    def dump(self) -> str:
        """Return the context as JSON, all but its time (stored beside it)."""
        fields = dataclasses.asdict(self)
        del fields["at"]
        return json.dumps(fields, separators=(",", ":"))  # ASCII: any NUL escaped

    @classmethod
    def parse(cls, text: str, at: dt.datetime) -> Context | None:
        """Return the context `dump` wrote, at `at`; None when the text is not one."""
        try:
            fields = json.loads(text)
            return cls(
                units=tuple(str(u) for u in fields["units"]),
                topic=str(fields["topic"]),
                tasks=tuple(int(t) for t in fields["tasks"]),
                measures=tuple(str(m) for m in fields["measures"]),
                kind=str(fields["kind"]),
                at=at,
                focus=str(fields["focus"]),
                doc=str(fields["doc"]),
                me=str(fields.get("me", "")),
                role=str(fields.get("role", "")),
            )
        except (ValueError, TypeError, KeyError):  # written by another version: start afresh
            return None


@dataclass(frozen=True)
class Reading:
    """A message as understood: a question complete on its own, and how it was read.

    `how` is empty for a message read on its own; for a follow-up it is the one short line
    that shows the reading ("按「盲人按摩」在省卫生健康委的职责中查找："), so that a misreading is
    visible at once.
    """

    question: str
    how: str = ""
    # The measure of the context's list the message pointed at ("第二条"): the list stays the
    # context, so that "第三条" can follow.
    focus: str = ""

    def encode(self) -> str:
        """Return the reading as one string (for a channel's page buttons)."""
        return f"{self.how}\n{self.question}"

    @classmethod
    def decode(cls, text: str) -> Reading:
        """Return the reading `encode` wrote."""
        how, _, question = text.partition("\n")
        return cls(question, how)


def read(answer: Callable[[str], Answer], message: str, context: Context | None) -> Reading:
    """Return the complete question a message asks, given the chat's context (or None).

    `answer` is the engine's (or a cache of it): a message is tried on its own first.
    """
    # Read as much as the engine reads: what anyone may paste is bounded.
    text = _ENDS.sub("", normalize(message[:MAX_QUESTION]))
    core = _TAIL.sub("", _LEAD.sub("", text).strip()).strip()
    stripped = _POINTERS.sub(" ", core).strip()
    marked = stripped != text
    if context is None:
        return Reading(stripped if marked and stripped else message)
    reading = _unit_in_focus(answer, core, stripped, context) or _pointed_measure(
        answer, core, context
    )
    if reading is not None:
        return reading
    question = stripped if marked and stripped else message
    alone = answer(question)
    # "县乡那一级的是哪条" after a list, found nothing alone: which of the items listed.
    marked = marked or (alone.no_match and _WHICH.search(core) is not None)
    if context.focus and _BESIDES.search(core) and _WHO.search(core):
        # "除了残联还有谁" after a measure: who else is in it.
        return Reading(context.focus, f"按举措 {context.focus} 回答：", context.focus)
    besides = _besides(answer, core, alone, context)
    if besides is not None:
        return besides
    partner = context.me or (context.units[0] if len(context.units) == 1 else "")
    if (
        alone.kind == "unit"
        and len(alone.units) == 1
        and partner not in ("", *alone.units)
        and _WITH.search(core)
    ):
        # "和人社一起的有哪些" after "我是农业农村厅的": what the two units share.
        question = f"{partner}和{alone.units[0]}一起负责的"
        return Reading(question, f"按{partner}与{alone.units[0]}共同负责的举措回答：")
    among = _among(answer, text, alone, context)
    if among is not None:
        return among
    beyond = _beyond_the_list(core, context)
    if alone.no_match and not alone.elsewhere and beyond:
        return Reading(question, beyond)
    role = _ROLE.search(core)
    of = (context.me,) if context.me and _WE.search(core) else context.units
    if role and of and not alone.units and not _WHO.search(core):
        # "其中牵头的" after a unit's list, "我们牵头的有哪些": that unit's items in that role.
        named = "、".join(of)
        if alone.kind == "topic" and alone.measures:
            # "托养那块我们牵头不": the unit's part in that topic, in that role.
            question = f"{' '.join(of)} {stripped}"
            combined = answer(question)
            if combined.kind == "unit_topic":
                return Reading(question, f"按「{combined.topic}」在{named}的职责中查找：")
        question = f"{'和'.join(of)}{role.group(0)}的有哪些"
        return Reading(question, f"按{named}{role.group(0)}的举措回答：")
    said = _ELSE.sub("", _THIS_MEASURE.sub("", _TOGETHER.sub("", alone.topic))).strip()
    asks_back = _WHO.search(core) or _WE.search(core) or _ELSE.search(core)
    # Who does a part of the case just asked ("残疾大学生快毕业了找工作" then "学校那边谁负责
    # 指导": the 学校 of those students), when the document answers nothing alone.
    who_of_part = bool(_WHO.search(core) and said and not (_WE.search(core) or _ELSE.search(core)))
    unanswered = (
        alone.no_match and not alone.elsewhere and ((marked and not asks_back) or who_of_part)
    )
    if unanswered and stripped and context.kind == "topic":
        # "机关招残疾人是哪项" then "那县里乡里的呢": nothing alone, so within that topic.
        narrowed = answer(f"{context.topic} {stripped}")
        best = narrowed.measures[0].text if narrowed.measures else ""
        how = f"按「{context.topic}」中的「{stripped}」查找："
        # Only when the item found holds something of what the follow-up says (县 of 县里).
        if narrowed.kind == "topic" and (set(stripped) - _UNSAID - {" "}) & set(best):
            return Reading(f"{context.topic} {stripped}", how)
    if alone.no_match and context.units and _ELSE.search(core) and not said:
        # "就这一条？有没有别的" after a unit's list: all of that unit's duties.
        units = "、".join(context.units)
        return Reading(" ".join(context.units), f"按{units}的全部职责回答：")
    # Only a message that points back ("它…", "还有谁", "谁负责") is asked of the context:
    # junk or small talk after an answer is not a request to repeat it.
    # "还有谁一起负责": 一起 is no topic, only who else.
    topic = _TOGETHER.sub("", alone.topic).strip()
    pointing = (not topic or _POINTERS.search(core) is not None) and (
        marked or _WHO.search(core) is not None or (not topic and _WHAT.search(core) is not None)
    )
    if alone.no_match and not alone.elsewhere and pointing:
        if context.me and _WE.search(core) and not _WHO.search(core):
            after_topic = context.kind in ("topic", "unit_topic") and context.topic
            if after_topic and not _ELSE.search(core):
                # "我们要干啥" right after a topic's answer: our part in that topic.
                question = f"{context.me} {context.topic}"
                combined = answer(question)
                if combined.kind == "unit_topic":
                    return Reading(question, f"按「{combined.topic}」在{context.me}的职责中查找：")
            me = dataclasses.replace(context, units=(context.me,), role="")
            within = _within(answer, me, stripped) if said else None
            # "我们单位还有别的吗" after "我是税务局的": that unit's duties, whatever was shown.
            return within or Reading(context.me, f"按{context.me}的全部职责回答：")
        if context.focus and (_WHO.search(core) or not context.units or _DETAIL.search(core)):
            focused = answer(context.focus).measures
            if focused and not states(core, focused[0].text):
                # "那一个人交多少": an amount the measure in focus does not state.
                return Reading(question)
            # "它由哪些单位负责", or nothing but "谁负责": asked of the measure in focus.
            return Reading(context.focus, f"按举措 {context.focus} 回答：", context.focus)
        if context.kind == "task" and context.tasks and _WHO.search(core):
            # "哪些单位" after a task: its items with their units.
            task = context.tasks[0]
            return Reading(f"第{task}项任务", f"按第 {task} 项任务各条的责任单位回答：")
        if context.units:
            within = _within(answer, context, stripped) if said else None
            # "那它还负责什么": the unit asked about before, all of its duties.
            units = "、".join(context.units)
            return within or Reading(" ".join(context.units), f"按{units}的全部职责回答：")
    if context.me and alone.kind == "topic" and not marked and not _WHO.search(core):
        # "我是组织部的" then a topic whose best item is that unit's: its part in the topic
        # (not when asking who: "盲人按摩归谁管" wants every unit).
        combined = answer(f"{context.me} {question}")
        best = combined.measures[0].id if combined.measures else ""
        ours = combined.kind == "unit_topic" and best not in combined.shared
        if ours and best == alone.measures[0].id:
            how = f"按「{combined.topic}」在{context.me}的职责中查找："
            return Reading(f"{context.me} {question}", how)
    if not marked:
        return Reading(message)
    nothing_else = not (_WHAT.search(core) or "负责" in core or alone.missed_topic)
    if alone.kind == "unit" and nothing_else and context.role and not alone.role:
        # Another unit, same role: "财政局牵头的有哪些" then "那人社局呢".
        units = "、".join(alone.units)
        question = f"{'和'.join(alone.units)}{context.role}的有哪些"
        return Reading(question, f"按{units}{context.role}的举措回答：")
    if alone.kind == "unit" and not alone.missed_topic and context.topic:
        # Another unit, same topic: "盲人按摩归谁管" then "那卫健委呢".
        units = "、".join(alone.units)
        question = f"{' '.join(alone.units)} {context.topic}"
        how = f"按「{context.topic}」在{units}的职责中查找："
        combined = answer(question)
        if not {m.id for m in combined.measures} - combined.shared:
            # The topic's words alone find only duties every unit shares; the items shown
            # that are this unit's own are the answer ("那民政厅呢" after a described case).
            own = {m.id for m in answer(" ".join(alone.units)).measures} - combined.shared
            if kept := [m for m in context.measures if m in own]:
                return Reading(f"{' '.join(kept)} {' '.join(alone.units)}", how)
        return Reading(question, how)
    # A task's title is a topic within a unit ("财政厅负责啥" then "资金保障这块呢").
    titled = alone.kind == "task" and not re.search(r"任务|第|\d", stripped)
    if (alone.kind in ("topic", "none") or titled) and context.units and not alone.elsewhere:
        # Same unit, another topic: "人社厅负责哪些" then "其中关于大学生的呢" (within the
        # items it leads, after "人社局牵头的有哪些").
        question = f"{_of(context)} {stripped}"
        combined = answer(question)
        # Only duties every unit shares match the topic: it is a question of its own
        # ("我是民政厅的" then "那残疾人创业的呢").
        shared = {m.id for m in combined.measures} <= combined.shared
        if combined.kind == "unit_topic" and not (shared and alone.kind == "topic"):
            return Reading(question, f"按「{combined.topic}」在{_whose(context)}中查找：")
    return Reading(stripped)


def continues(message: str) -> bool:
    """Tell whether a message has words that only point back ("那…呢", "其中", "它")."""
    text = _ENDS.sub("", normalize(message[:MAX_QUESTION]))
    core = _TAIL.sub("", _LEAD.sub("", text).strip()).strip()
    return _POINTERS.sub(" ", core).strip() != text


def _pointed_measure(
    answer: Callable[[str], Answer], text: str, context: Context
) -> Reading | None:
    """Read "第二条", "最后一条" or "这条谁负责" against the measures the context listed."""
    nearby = _next(answer, text, context)
    if nearby is not None:
        return nearby
    if "任务" in text or "大项" in text or len(_ORDINAL.findall(text)) > 1:
        return None  # "第3项任务" asks for a task, "第五项第二条" for a measure of one
    ordinal = _ORDINAL.search(text)
    counted = PLACE.search(text)
    if counted is not None and not counted.group("k"):
        # "倒数第二条", "最后那个", "头一条": counted in the list shown, or after one measure
        # in its task (the engine reads "第6项任务最后一条").
        ordinal = None
        if len(context.measures) == 1 and len(context.tasks) == 1:
            question = f"第{context.tasks[0]}项任务{counted.group(0)}"
            return Reading(question, f"按第 {context.tasks[0]} 项任务的{counted.group(0)}回答：")
        number = place(counted, len(context.measures))
        if not number:
            return None
    elif ordinal is not None:
        number = chinese_number(ordinal.group(1))
    elif _THIS_MEASURE.search(text) and context.focus and not _ONLY_THIS.search(text):
        return Reading(context.focus, f"按举措 {context.focus} 回答：", context.focus)
    else:
        return None
    if context.kind == "task" and ordinal and ordinal.group(2) == "项" and not ordinal.group(3):
        # "第二项任务有哪些" then "第三项呢": the next task, as the first was asked.
        return Reading(f"第{number}项任务", f"按第 {number} 项任务回答：")
    if (
        ordinal is not None
        and context.kind == "measure"
        and len(context.measures) == 1
        and len(context.tasks) == 1
    ):
        # "第6项任务第1条是什么" then "第2条呢": another measure of the same task.
        measure = f"{context.tasks[0]}.{number}"
        return Reading(
            measure, f"按第{context.tasks[0]}项任务的第 {number} 条（举措 {measure}）回答："
        )
    if not 1 <= number <= len(context.measures):
        return None
    listed = f"第{context.tasks[0]}项任务" if context.kind == "task" else "上一个回答"
    measure = context.measures[number - 1]
    return Reading(measure, f"按{listed}所列的第 {number} 条（举措 {measure}）回答：", measure)


def _next(answer: Callable[[str], Answer], text: str, context: Context) -> Reading | None:
    """Read "下一条" / "上一个" after a measure (the one beside it, in the list shown or else
    in the document), "下一项" or a bare number ("那十三呢") after a task."""
    near = _NEXT.match(text)
    bare = _BARE_NUMBER.match(text) if context.kind == "task" else None
    step = 1 if near is None or near.group("way") in "下后" else -1
    # After a task "下一项" is the next task; "下一项任务" is after anything.
    of_task = near is not None and (
        near.group("task") or (context.kind == "task" and "条" not in text)
    )
    if context.tasks and (bare or of_task):
        number = chinese_number(bare.group(1)) if bare else context.tasks[-1] + step
        return Reading(f"第{number}项任务", f"按第 {number} 项任务回答：")
    if near is None or not context.focus:
        return None
    shown = context.measures
    if len(shown) > 1 and context.focus in shown:
        at = shown.index(context.focus) + step
        if not 0 <= at < len(shown):
            return None
        listed = "上一个回答所列"
        measure = shown[at]
        return Reading(measure, f"按{listed}的第 {at + 1} 条（举措 {measure}）回答：", measure)
    task, index = (int(n) for n in context.focus.split(".")[:2])
    if step > 0:
        tried = [f"{task}.{index + 1}", f"{task + 1}.1"]
    else:
        tried = [f"{task}.{index - 1}"] if index > 1 else [f"第{task - 1}项任务最后一条"]
    for question in tried:
        found = answer(question)
        if found.kind == "measure" and found.measures:
            measure = found.measures[0].id
            how = f"按举措 {context.focus} 的{near.group(0)}（举措 {measure}）回答："
            return Reading(measure, how)
    return None


def _unit_in_focus(
    answer: Callable[[str], Answer], text: str, stripped: str, context: Context
) -> Reading | None:
    """Read "这条里发改委要干啥" as the measure in focus with that unit's part in it."""
    if not (context.focus and _THIS_MEASURE.search(text)):
        return None
    units = answer(_THIS_MEASURE.sub(" ", stripped)).units
    if not units:
        return None
    return _membership(answer, units[0], context.focus, (), f"{context.focus} {units[0]}")


def _membership(
    answer: Callable[[str], Answer],
    unit: str,
    focus: str,
    listed: tuple[str, ...],
    question: str = "",
) -> Reading:
    """Say whether `unit` is among the units of `focus` (and of the `listed` others)."""
    holding = [
        m.id
        for m in answer(" ".join(listed or (focus,))).measures
        if unit in m.units or m.all_provincial
    ]
    said = "在" if focus in holding else "不在"
    how = f"按举措 {focus} 回答：{unit}{said}这一条的责任单位中"
    others = [i for i in holding if i != focus]
    if others:
        how += f"，在上一个回答所列的举措 {'、'.join(others)} 中"
    if focus not in holding and others:
        # "国资委有份吗" after a topic's list: the listed measures the unit is in, its part.
        listed_ids = "、".join(others)
        how = f"{unit}不在举措 {focus} 的责任单位中，在上一个回答所列的举措 {listed_ids} 中："
        return Reading(f"{' '.join(others)} {unit}", how, others[0])
    # The unit goes with the measure: its part in it is what is asked.
    return Reading(question or f"{focus} {unit}", how + "。", focus)


def _among(
    answer: Callable[[str], Answer], text: str, alone: Answer, context: Context
) -> Reading | None:
    """Read "我们也在里头吗" or "人社厅也在吗" as asked of the measure in focus, or of the
    few measures the last answer listed; None when it is no such question."""
    # The measures the last answer listed (a few at most: "里头" may mean any of them).
    listed = context.measures if 1 < len(context.measures) <= _FEW else ()
    focus = context.focus
    if not ((focus or listed) and _AMONG.search(text)):
        return None
    if alone.kind in ("measure", "task"):
        return None
    if alone.kind in ("topic", "none") and _AMONG.sub("", alone.topic).strip():
        return None  # "培训补贴那块我们管不管": a topic of its own, asked of the unit
    # "残联在里头吗" asks whether; "教育厅在里头管哪几条" what the unit has among them.
    whether = _YES_NO.search(text) is not None
    unit = alone.units[0] if alone.units else (context.me if whether else "")
    if not unit:
        return Reading(focus, f"按举措 {focus} 回答：", focus) if focus and whether else None
    if focus and (whether or not listed):
        return _membership(answer, unit, focus, listed)
    # A task's measures: those the unit is in, or else all of them, with the units.
    holding = [
        m.id for m in answer(" ".join(listed)).measures if unit in m.units or m.all_provincial
    ]
    said = (
        f"在其中举措 {'、'.join(holding)} 的责任单位中"
        if holding
        else "不在其中任何一条的责任单位中"
    )
    return Reading(
        f"{' '.join(holding or listed)} {unit}", f"按上一个回答所列的举措回答：{unit}{said}。"
    )


def _of(context: Context) -> str:
    """Return the context's units as a question says them, with the role listed if any
    ("人社局牵头的")."""
    if context.role and len(context.units) == 1:
        return f"{context.units[0]}{context.role}的"
    return " ".join(context.units)


def _whose(context: Context) -> str:
    """Return whose items a follow-up is read in: "教育厅的职责", "人社局牵头的举措"."""
    if context.role and len(context.units) == 1:
        return f"{context.units[0]}{context.role}的举措"
    return f"{'、'.join(context.units)}的职责"


def _within(answer: Callable[[str], Answer], context: Context, topic: str) -> Reading | None:
    """Read "其中跟职业学校有关的" (a topic the document holds only within the units' items) as
    the units' part in it; None when they have none."""
    question = f"{_of(context)} {topic}"
    combined = answer(question)
    if combined.kind != "unit_topic":
        return None
    return Reading(question, f"按「{combined.topic}」在{_whose(context)}中查找：")


def _besides(
    answer: Callable[[str], Answer], text: str, alone: Answer, context: Context
) -> Reading | None:
    """Read "除了培训还有别的吗" after a unit's list as the unit's other items (those that are
    not about that topic); None when it is no such question."""
    unit = context.me or (context.units[0] if len(context.units) == 1 else "")
    said = _LEFT_OUT.search(text)
    if not unit or alone.units or said is None or _WHO.search(text):
        return None  # "除了残联还有谁": who else
    within = answer(f"{unit} {said.group('topic')}")
    if within.kind != "unit_topic":
        return None
    every = answer(unit)
    others = [
        m.id for m in every.measures if m.id not in every.shared and m not in within.measures
    ]
    if not others:
        return Reading(unit, f"{unit}除「{within.topic}」以外没有别的举措；按其全部职责回答：")
    how = f"按{unit}除「{within.topic}」以外的职责回答："
    return Reading(f"{' '.join(others)} {unit}", how)


def _beyond_the_list(text: str, context: Context) -> str:
    """Say so when "第30条" points past the end of the list the context holds ("" if not)."""
    ordinal = _ORDINAL.search(text)
    if "任务" in text or ordinal is None or len(context.measures) < 2 or "倒数" in text:
        return ""
    number = chinese_number(ordinal.group(1))
    count = len(context.measures)
    if number <= count:
        return ""
    return f"上一个回答只列出 {count} 条，没有第 {number} 条；可以说「第1条」到「第{count}条」。"


class Dialog:
    """The contexts of the chats: one per chat and person, forgotten after ten quiet minutes.

    Besides, the document each chat chose to ask about (`/doc`), kept until changed.
    """

    def __init__(self, clock: Clock = system_clock) -> None:
        self._clock = clock
        self._contexts: OrderedDict[str, Context] = OrderedDict()
        self._chosen: OrderedDict[str, str] = OrderedDict()

    def context(self, chat: str) -> Context | None:
        """Return the chat's context, or None when it has none or it expired."""
        found = self._contexts.get(chat)
        if found is None:
            return None
        if self._clock() - found.at > CONTEXT_TTL:
            del self._contexts[chat]
            return None
        return found

    def remember(
        self, chat: str, answer: Answer, focus: str = "", doc: str = "", message: str = ""
    ) -> None:
        """Make `answer` the chat's context; with `focus`, keep the list and point into it.

        `doc` is the document the answer came from; `message` what was typed ("我是民政厅的"
        makes 民政厅 the person's unit). A question the document does not answer leaves the
        context as it was.
        """
        before = self.context(chat)
        if before is not None and before.doc != doc:
            before = None  # another document's answers are no list to point into
        now = self._clock()
        if answer.no_match and before is not None:
            return
        if focus and before is not None:
            self._contexts[chat] = dataclasses.replace(before, focus=focus, at=now)
        else:
            said = answer.units and _ME.match(normalize(message or answer.query))
            me = answer.units[0] if said else before.me if before is not None else ""
            self._contexts[chat] = dataclasses.replace(Context.of(answer, now, doc), me=me)
        self._contexts.move_to_end(chat)
        while len(self._contexts) > MAX_CHATS:
            self._contexts.popitem(last=False)

    def forget(self, chat: str) -> None:
        """Drop the chat's context (a new conversation begins)."""
        self._contexts.pop(chat, None)

    def choose(self, chat: str, doc: str) -> None:
        """Make `doc` the document the chat asks about; its conversation starts afresh."""
        self.forget(chat)
        self._chosen[chat] = doc
        self._chosen.move_to_end(chat)
        while len(self._chosen) > MAX_CHATS:
            self._chosen.popitem(last=False)

    def chosen(self, chat: str) -> str | None:
        """Return the document the chat chose, or None when it chose none."""
        return self._chosen.get(chat)

    def state(self, chat: str) -> tuple[Context | None, str | None]:
        """Return the chat's context (None: none, or expired) and chosen document."""
        return self.context(chat), self.chosen(chat)

    def restore(self, chat: str, context: Context | None, doc: str | None) -> None:
        """Make the chat's context and chosen document these (as another instance left them)."""
        self._contexts.pop(chat, None)
        self._chosen.pop(chat, None)
        if doc is not None:
            self.choose(chat, doc)
        if context is not None:
            self._contexts[chat] = context
            while len(self._contexts) > MAX_CHATS:
                self._contexts.popitem(last=False)

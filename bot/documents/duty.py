"""Who is responsible: read a responsibility bracket or cell into lead, supporting, catch-alls."""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

# "列第一位者为牵头单位，下同" / "排在第一位的部门为牵头部门，下同" / "列第一位的责任单位为
# 牵头单位" / "列第一位为牵头或汇总单位" / "列第一位者为工作牵头或汇总单位": stated once,
# for all after.
LEAD_RULE = re.compile(
    r"[，。；,;]?\s*(?:列|排|排名|排序)(?:在)?第一(?:位|个)?的?(?:责任)?(?:者|部门|单位)?"
    r"为(?:工作)?牵头(?:或汇总)?(?:单位|部门)(?:[，,]\s*下同)?"
)
# "牵头责任单位：" / "协同责任单位：" / "配合单位：": the role before 单位, 责任 or not.
_LABEL = re.compile(
    r"[，；,;。]?\s*(牵头|配合|责任|参与|协办|主办|协同|协助)(?:责任)?(?:单位|部门)\s*[:：]\s*"
)
# What closes a responsibility bracket: "负责", "牵头负责", "按职责分工负责", "分别负责".
_DUTY_END = re.compile(r"(?:按职责分工|按职责|分别|共同|牵头)?负责$|(?:分别|共同)?牵头$")
_SEPARATORS = "、，,；;"
# Brackets a name may hold its own 、 in: "各县〔市、区〕政府", "各县（市、区）".
_OPEN, _CLOSE = "（(〔[", "）)〕]"
# What ends one clause of a bracket: its units' role.
# "主办" leads and "协办" supports ("（省财政厅主办，省国税局、地税局协办）").
_ROLE = re.compile(
    r"(?:(?:按职责分工|按职责|分别|共同|牵头)?负责(?:落实)?|牵头(?:落实)?|主办|配合|参与|协助|协同"
    r"|(?<!政)协办|指导|落实)$"
)
# "部门分工：X牵头，各地、各部门配合": a label before the clauses that name the units.
_SHARE_LABEL = re.compile(r"(?:部门|责任)?分工\s*[:：]\s*")
# "责任领导:杜新国、丁玲" / "分管省领导：林克庆": the leaders' personal names, never units; they
# run to the next ；/。 or the next label ("责任领导:张三,牵头单位:……").
_LEADER = re.compile(
    r"[，；,;。]?\s*((?:牵头负责|牵头|分管|责任|联系)[省市区县]?领导)\s*[:：]\s*(.*?)"
    r"(?=[；;。]|[，,]?\s*(?:(?:牵头|配合|责任|参与|协办|主办|协同|协助)(?:责任)?(?:单位|部门)"
    r"|(?:部门|责任)?分工)"
    r"\s*[:：]|$)"
)
_SUPPORT = re.compile(r"配合|参与|协助|协同|(?<!政)协办")
# A unit stated once for every item after this one: "以下均需试点城市政府落实，不再列出";
# "具体任务均涉及相关市(州)人民政府,不再做分工,下同" (下同: this item and every one after).
STANDING = re.compile(
    r"[，。；,;]?\s*(?:以下|具体任务|各项任务)?均(?:需|由|要|涉及)(.+?)(?:负责)?(?:落实)?[，,]?\s*"
    r"不再(?:一一)?(?:列出|做分工|作分工|分工)(?:[，,]\s*(下同))?"
)
# What never names a unit: an empty table cell written "/" or "无".
_EMPTY = re.compile(r"^[/／\\—\-－无]*$")
# "各项目牵头单位": a role that units take, not a unit nor everyone.
_ROLE_TERM = re.compile(r"牵头单位|责任单位|牵头部门|责任部门|主体")
# "各区政府", "各省级人民政府", "各区、县级市": local governments as a group; not the
# departments of a government ("市政府各部门", "区政府所属各单位": everyone).
_GROUP = re.compile(r"政府(?!各|所属|有关|相关|直属)|^各(?:有关)?(?:区|县|市|省|州|镇|街)")
# A time in a bracket is its deadline: "（财政部负责，2024年底前完成）".
_TIME = re.compile(r"\d{4}年|年底|年内|前完成|持续推进|长期坚持|持续实施|长期推进")
# A catch-all names no unit but everyone of a kind; never split at its inner 、.
_CATCH_ALL = re.compile(
    r"^各|各级|各(?:有关|相关)|^(?:省|市|县|区|国务院|中央)[级直]?(?:其他|其它)?(?:有关|相关)"
    r"|^(?:有关|相关)"
    r"|各(?:部门|专班|工作组|小组)$"
)
# Tokens an area catch-all absorbs after its 、 ("各区、县级市", "各省、自治区、直辖市人民政府").
# "各开发区、镇(街道)", "各区县(市)政府、开发园区管委会": the 各 is theirs too.
_AREA = re.compile(
    r"^(?:省|自治区|直辖市|市|州|盟|县|县级市|区|旗|乡|镇|乡镇|街道|开发区|开发园区|园区|功能区)"
    r"(?:[（(][^）)]*[）)])?(?:人民政府|政府|有关部门|管委会|管理委员会)?$"
)
_VAGUE = re.compile(r"^(?:等)?(?:其他|其它)?(?:有关|相关)(?:部门|单位)(?:和单位)?$")
# "等有关部门和单位" after the units named: the others are not named.
_TAIL = re.compile(r"等(?:有关|相关|其他)?(?:部门|单位)(?:和单位)?$")
# Role words that say no more than "responsible" (the rest are kept as the bracket's note).
_PLAIN_ROLES = ("负责", "牵头负责", "牵头", "牵头落实", "指导", "落实", "负责落实", "主办")
# A bracket's remark rather than a unit name: "（按职责分工负责，下同）".
_REMARK = re.compile(r"负责|下同|分工|牵头|配合")
# A bracket that explains the text before it ("（即村民民主提事……民主参与）") names no units,
# whatever word it ends with.
_EXPLAINS = re.compile(r"^(?:即|例如|比如|包括|主要指|是指|也就是|简称|以下简称)")
# How the name of a body ends: "省知识产权局" in "省市场监管局（省知识产权局）" is another name
# (高新园(邹区镇): a park and its town, one body).
_BODY = re.compile(
    r"(?:部|厅|局|委|办|院|会|署|处|室|中心|公司|集团|队|社|行|政府|园|镇|乡|街道)$"
)
# A department a list names without the level the name before it gave ("省科技厅、工业和信息化厅").
_DEPARTMENT = re.compile(r"(?:厅|局|委|委员会|办|社|法院|检察院)$")
# The level a name starts with, shared by the bare names after it in a 、 list; a level
# inside a name (团市委, 人民银行广东省分行) is its own.
_LEVEL = re.compile(r"^(?:省|市(?!场)|县(?!域)|区(?!域)|州)")
_INNER_LEVEL = re.compile(r".(?:省|(?<![城都])市(?!场))")
# A name's stem before what the list says of it ("能源局等按职责分工负责").
_STEM = re.compile(
    r"等|按|牵头|负责|配合|参与|指导|落实|结合|分别|共同|主办|(?<!政)协办|协同|协助|[（(]"
)
# A place starts a word and comes before 省 or 市: "《广东省数据条例》", "中共广州市委".
_PLACE = re.compile(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]{2,3}?)(?:省|市(?!场))")
# Bodies named after the country or the centre keep their own names.
_NATIONAL = re.compile(r"^(?:各|全|中国|中共|中央|国家|国务院|海关)|总署|总局")
# A group (各地级以上市人民政府) and what it is told to do ("结合实际"), not part of its name.
_GROUP_TAIL = re.compile(r"^(.*(?:政府|部门|单位))([\u4e00-\u9fff]{2,})$")


# Two names with nothing between ("市行政审批局市司法局"): a 局 or 厅, then a level's own body.
_GLUED = re.compile(r"^(.{2,}?[局厅])((?:省|市(?!场)|区|县)[\u4e00-\u9fff]{2,}[局厅委办])$")


@dataclass
class Duty:
    """The units of one item as the document names them."""

    units: list[str] = field(default_factory=list)
    lead: list[str] = field(default_factory=list)
    # The units that guide (指导) rather than carry out the item.
    guide: list[str] = field(default_factory=list)
    catch_all: list[str] = field(default_factory=list)
    # Units stated once for every later item ("以下均需试点城市政府落实，不再列出").
    standing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    deadline: str = ""
    # Other names a unit is written with, in brackets: "省市场监管局（省知识产权局）".
    aliases: dict[str, list[str]] = field(default_factory=dict)

    @property
    def binds_all(self) -> bool:
        """Tell whether a catch-all binds every unit of the document (departments, not areas).

        Not where a lead is named ("牵头单位：X，配合单位：各有关单位"): then it stands for
        whoever else X calls on, not for every unit.
        """
        return not self.lead and any(catch_all_kind(c) == "all" for c in self.catch_all)


def catch_all_kind(term: str) -> str:
    """Tell what a catch-all names: "role" (各项目牵头单位), "group" (各区政府) or "all"."""
    if _ROLE_TERM.search(term):
        return "role"
    if _GROUP.search(term) or not re.search(r"部门|单位|机构", term):
        return "group"
    return "all"


def is_group(name: str) -> bool:
    """Tell whether a name is a group of local governments (各区政府), not one body."""
    return bool(_CATCH_ALL.search(name)) and catch_all_kind(name) == "group"


def looks_like_duty(text: str) -> bool:
    """Tell whether a bracket's content assigns units ("……负责", "牵头单位：……")."""
    text = text.rstrip("。 ")
    if _EXPLAINS.match(text):
        return False
    roles = any(_ROLE.search(c) for c in _clauses(text))
    return bool(roles or _LABEL.search(text) or LEAD_RULE.search(text))


# How a body's name ends (_BODY, and 残联, 科协, "有关部门"): a bracket of such names alone,
# with no verb, still names who is responsible: "(市发展改革委,各县〔市、区〕政府)".
_UNIT_LIKE = re.compile(
    r"(?:部|厅|局|委|办|院|会|署|处|室|中心|公司|集团|队|社|行|政府|联|协|关|部门|单位)$"
)
# Not a body: a verb, a sentence, a number; "(试行)" after a rule's name; "社会" alone.
_NO_UNIT = re.compile(
    r"负责|牵头|配合|指导|参与|会同|落实|主办|(?<!政)协办|[。：:“”\d%]|[试暂施执运进实推]行$|^社会$"
)


def names_units(text: str) -> bool:
    """Tell whether a bracket holds only names of bodies, no verb: "(州民宗委)".

    Read as a responsibility only where it closes its item (layout.take_segments): inside a
    sentence such a bracket is often another name of what precedes it.
    """
    text = text.strip().rstrip("。 ")
    if not text or _EXPLAINS.match(text):
        return False
    names = [n.removesuffix("等") for n in split_names(text)]
    return all(
        2 <= len(n) <= 24 and _UNIT_LIKE.search(n) and not _NO_UNIT.search(n) for n in names
    )


def split_names(text: str) -> list[str]:
    """Split a list of names at 、，； outside parentheses, keeping catch-alls whole."""
    parts: list[str] = []
    depth, current = 0, ""
    for ch in text:
        depth += (ch in _OPEN) - (ch in _CLOSE)
        if ch in _SEPARATORS and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    # "全国总工会等和各省级人民政府", "市级各有关部门及各县市区政府": the units, then a
    # catch-all joined by 和, 及 or 与.
    parts = [p for part in parts for p in re.split(r"等?[和及与](?=各)", part)]
    # "省农业厅等省直有关部门": the unit named, then the catch-all of the rest.
    parts = [p for part in parts for p in _NAMED_THEN_REST.split(part)]
    merged: list[str] = []
    for part in filter(None, parts):
        if merged and _CATCH_ALL.search(merged[-1]) and _AREA.match(part):
            merged[-1] += "、" + part
            continue
        while glued := _GLUED.match(part):
            merged.append(glued.group(1))
            part = glued.group(2)
        merged.append(part)
    # "人民大垸、荒湖管理区", "发展改革、财政部门": names that share the last one's kind.
    for i, (part, after) in enumerate(itertools.pairwise(list(merged))):
        shared = _SHARED_KIND.search(after)
        named = _UNIT_LIKE.search(part) or _BODY.search(part) or part[-1] in "区县市村"
        plain = not named and not _CATCH_ALL.search(part) and not _NO_UNIT.search(part)
        if shared and plain and 2 <= len(part) <= 6:
            merged[i] = part + shared.group(0)
    return merged


_NAMED_THEN_REST = re.compile(r"等(?=[省市县区][直级](?:有关|相关|各))")
# Kinds of body a list may write once for several names before it.
_SHARED_KIND = re.compile(r"(?<=..)(?:管理区|管委会|开发区|人民政府|办事处|部门)$")


# Bodies of a national line inside a province (税务局 is 国家税务总局河南省税务局): no
# province's department, so a list's 省 is not theirs.
_VERTICAL = re.compile(
    r"^(?:税务|海关|统计调查|调查总队|银保监|证监|人行|人民银行|外汇管理|邮政管理|通信管理)"
)


def _own_place(name: str, where: Collection[str]) -> bool:
    """Tell whether a name holds a level or a place of its own (团市委, 广东海事局)."""
    if _NATIONAL.search(name) or _LEVEL.match(name) or _INNER_LEVEL.search(name):
        return True
    return bool(_VERTICAL.match(name)) or any(name.startswith(place) for place in where)


def _stem(part: str) -> str:
    return _STEM.split(part.strip(), maxsplit=1)[0]


def _listed(text: str) -> tuple[list[str], list[str]]:
    """Split a duty text at its separators: (names and separators, each name's list level).

    The level is the one the names before it in a 、 list give it ("" when none does).
    """
    parts = re.split(r"([、，,；;：:])", text)
    levels: list[str] = []
    level = ""
    for i in range(0, len(parts), 2):
        if not i or parts[i - 1] != "、":
            level = ""
        levels.append(level)
        found = _LEVEL.match(_stem(parts[i]))
        if found or not _DEPARTMENT.search(_stem(parts[i])):
            level = found.group(0) if found else ""
    return parts, levels


def shared_levels(duties: Iterable[str], written: str) -> dict[str, str]:
    """Return the bare department names a document gives the level of the list they are in.

    "省科技厅、工业和信息化厅" names 省工业和信息化厅: the level is written once for the list.
    Only a name always written after a level is taken so; one the document also writes
    first in a list (人力资源社会保障厅、省残联) is its name as it stands. A name holding a
    place (广东海事局: the document writes 广东省) keeps its own.
    """
    where = frozenset(_PLACE.findall(written))
    seen: dict[str, set[str]] = {}
    for text in duties:
        parts, levels = _listed(text)
        for name, level in zip(map(_stem, parts[::2]), levels, strict=True):
            if _DEPARTMENT.search(name) and not _own_place(name, where):
                seen.setdefault(name, set()).add(level)
    return {n: min(ls) for n, ls in seen.items() if len(ls) == 1 and "" not in ls}


def _share_level(text: str, levels: Mapping[str, str]) -> str:
    """Write the names of `text` that take their list's level (shared_levels) with it."""
    parts, _ = _listed(text)
    for i in range(0, len(parts), 2):
        if level := levels.get(_stem(parts[i])):
            parts[i] = level + parts[i].strip()
    return "".join(parts)


def _clauses(text: str) -> list[str]:
    """Split at ，； outside parentheses: "X牵头，Y配合" is two clauses."""
    out, depth, current = [], 0, ""
    for ch in text:
        depth += (ch in _OPEN) - (ch in _CLOSE)
        if ch in "，,；;。" and depth == 0:
            out.append(current.strip())
            current = ""
        else:
            current += ch
    return [c for c in [*out, current.strip()] if c]


def _told(name: str) -> tuple[str, str]:
    """Split a group from what it is told: "各地级以上市人民政府结合实际" → (group, "结合实际")."""
    found = _GROUP_TAIL.match(name)
    if found is None:
        return name, ""
    group, told = found.groups()
    # "市政府办公厅", "县级以上人民政府民政部门" are bodies; "各有关部门和单位" is one group.
    if _BODY.search(told) or told.endswith(("部门", "单位", "机构")) or told[0] in "和及与等":
        return name, ""
    return (group, told) if _GROUP.search(group) or _CATCH_ALL.search(group) else (name, "")


def _names(text: str, duty: Duty, groups: bool = False) -> list[str]:
    """Add the names in `text` to `duty`; return the units among them in order.

    With `groups`, local governments named as a group (各区政府 in a table's column) are
    units of their own rather than catch-alls.
    """
    found: list[str] = []
    for raw in split_names(text):
        name = raw
        leads = False
        for remark in re.findall(r"[（(]([^（）()]*)[）)]", name):
            outside = re.sub(rf"[（(]{re.escape(remark)}[）)]$", "", name)
            if outside != name and _BODY.search(outside) and _BODY.search(remark):
                # "省市场监管局（省知识产权局）", "县发改局(粮食局)": one body, two names; its
                # name as written, found by either.
                duty.aliases.setdefault(name, []).extend((outside, remark))
            elif _REMARK.search(remark):
                leads = leads or remark.startswith("牵头")  # "省发展改革委（牵头）"
                if not leads:
                    duty.notes.append(remark)
                name = re.sub(rf"[（(]{re.escape(remark)}[）)]", "", name)
        if name.endswith("等"):
            name = name[:-1]
            duty.notes.append("等")
        tail = _TAIL.search(name)
        if tail and tail.start():
            name = name[: tail.start()]
            duty.notes.append(tail.group(0))
        name = name.strip()
        name, told = _told(name)
        if told:
            duty.notes.append(told)
        if _EMPTY.match(name):
            continue
        if _TIME.search(name):
            duty.deadline = name
        elif _VAGUE.match(name):
            duty.notes.append(name)
        elif _CATCH_ALL.search(name) and not (groups and catch_all_kind(name) == "group"):
            duty.catch_all.append(name)
        elif name not in duty.units:
            duty.units.append(name)
            found.append(name)
        if leads and name in duty.units:
            duty.lead.append(name)
    return found


def add_standing(duty: Duty, names: Iterable[str]) -> None:
    """Add units stated once for many items (Duty.standing) to one item's duty.

    A catch-all or group among them ("相关市(州)人民政府") is one, not a unit.
    """
    for name in names:
        _names(name, duty)


def read_duty(
    text: str, lead_first: bool, groups: bool = False, levels: Mapping[str, str] | None = None
) -> tuple[Duty, str | None]:
    """Read a bracket or cell; return the duty and the lead rule if this text states it.

    `groups`: the text is a table's cells, where every body named is responsible (see _names).
    `levels`: the bare names that take the level of their list (see shared_levels).
    """
    duty = Duty()
    # Bodies listed with no verb ("(市发展改革委,各县〔市、区〕政府)") are each responsible,
    # as in a table's cell: a group named so is one of them.
    groups = groups or (names_units(text) and not looks_like_duty(text))
    for label, names in _LEADER.findall(text):
        duty.notes.append(f"{label}：{names.strip()}")
    text = _SHARE_LABEL.sub("", _LEADER.sub("", text)).strip("，；,;。 ")
    if "★" in text:  # "★区发改委、统计局": the starred body leads, the others support
        names = split_names(text)
        starred = "、".join(n.lstrip("★") for n in names if n.startswith("★"))
        rest = "、".join(n for n in names if not n.startswith("★"))
        text = f"牵头单位：{starred}" + (f"，配合单位：{rest}" if rest else "")
    text = _share_level(text, levels or {})
    standing = STANDING.search(text)
    if standing:
        # "以下均需各县(市)区政府落实,区政府无相关工作职能的,由……负责相关工作,不再列出": the
        # body named before its verb; what follows is an exception, kept as the item's note
        named = standing.group(1)
        if verb := re.search(r"(?:负责|落实)[，,]", named):
            duty.notes.append(named[verb.end() :].strip("，, "))
            named = named[: verb.start()]
        duty.standing = split_names(named)
        text = text[: standing.start()] + text[standing.end() :]
        if standing.group(2):  # "下同": this item's too
            add_standing(duty, duty.standing)
    rule = LEAD_RULE.search(text)
    if rule:
        duty.notes.append(rule.group(0).lstrip("，。；,; "))
        # "市发改委、市财政局(列第一位者为……,下同)": the rule's brackets go with it
        text = re.sub(r"[（(]\s*[）)]", "", text[: rule.start()] + text[rule.end() :])
        lead_first = True
    text = text.strip().rstrip("。")
    if _LABEL.search(text):
        pieces = _LABEL.split(text)
        _names(pieces[0], duty, groups)
        for label, body in zip(pieces[1::2], pieces[2::2], strict=True):
            body = body.strip().rstrip("。")
            end = _DUTY_END.search(body)
            names = _names(body[: end.start()] if end else body, duty, groups)
            # "责任单位：市人力社保局、市农业农村局分别牵头": each leads its part.
            if label in ("牵头", "主办") or (end and "牵头" in end.group(0)):
                duty.lead += names
        if lead_first and not duty.lead and duty.units:
            duty.lead = duty.units[:1]
        return duty, rule.group(0) if rule else None
    lead: list[str] = []
    plain: list[str] = []
    support = False
    for clause in _clauses(text):
        role = _ROLE.search(clause)
        word = role.group(0) if role else ""
        if word and word not in _PLAIN_ROLES and not _SUPPORT.match(word):
            duty.notes.append(word)
        body = clause[: role.start()] if role else clause
        head, joint, rest = body.partition("会同")
        names = _names(head, duty, groups)
        _names(rest, duty, groups)
        if joint or word.startswith(("牵头", "主办")):  # "X主办，Y、Z协办"
            lead += names
        elif word == "指导":
            duty.guide += names
        elif _SUPPORT.match(word):
            support = True
        else:
            plain += names
    if duty.lead:
        pass  # marked on the names themselves: "省发展改革委（牵头）"
    elif lead:
        duty.lead = lead
    elif support and plain:
        duty.lead = plain  # "X负责，Y配合"
    elif lead_first and duty.units:
        duty.lead = duty.units[:1]
    return duty, rule.group(0) if rule else None

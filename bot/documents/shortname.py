"""Short forms of a unit's name, derived by the general rules of Chinese official usage."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.documents.pattern import compiled, lazy

# Compound words and their usual contraction in unit names (any document, any level).
_CONTRACTIONS = (
    ("人力资源和社会保障", "人社"),
    ("人力资源社会保障", "人社"),
    ("发展和改革", "发改"),
    ("发展改革", "发改"),
    ("工业和信息化", "工信"),
    ("经济和信息化", "经信"),
    ("经济信息化", "经信"),
    ("住房和城乡建设", "住建"),
    ("住房城乡建设", "住建"),
    ("卫生健康", "卫健"),
    ("文化和旅游", "文旅"),
    ("市场监督管理", "市场监管"),
    ("国有资产监督管理", "国资"),
    ("退役军人事务", "退役军人"),
    ("科学技术", "科技"),
    ("医疗保障", "医保"),
    ("应急管理", "应急"),
    ("生态环境", "环保"),
    ("交通运输", "交通"),
    ("国土资源", "国土"),
    ("劳动和社会保障", "劳动保障"),
)
# Shorter names people also use for a whole part of a unit's name (any level): 市市场监管局 →
# 市监局, 行政审批服务局 → 行政审批局, 供销合作总社 → 供销社, 人民银行 → 央行.
_NICKNAMES = (
    ("市场监管局", "市监局"),
    ("服务局", "局"),
    ("服务中心", "中心"),
    ("合作总社", "社"),
    ("合作社", "社"),
    ("管理办", "办"),
    ("人大常委会", "人大"),
    ("食品药品监督管理局", "药监局"),
    ("食品药品监管局", "药监局"),
)
# A national line's body in a place, said without the place (吴江海关 → 海关).
_LINE_BODY = lazy(r"^[\u4e00-\u9fff]{2,3}?(海关|海事局|边检站|气象局|调查队|烟草专卖局|供电公司)$")
# A name this long at least is also said by its tail (流动人员出租屋管理办 → 出租屋管理办),
# a tail of _TAIL_LEAST characters at least that leaves out _TAIL_DROPS at least; …办公室
# is …办 too.
_TAIL_FROM, _TAIL_LEAST, _TAIL_DROPS = 6, 4, 2
_NATIONAL_NICKNAMES = {
    "人民银行": ("央行", "人行"),
    "中国人民银行": ("央行", "人行"),
    "国务院办公厅": ("国办",),
}
# The two Party centre departments said by their first character (中宣部, 中组部; not 统战部).
_CENTRAL = lazy(r"^(?:中共)?中央(宣|组)(?:传|织)部$")
# 共青团 is 团 before its level (共青团中央 → 团中央, 共青团XX省委 → 团省委).
_YOUTH_LEAGUE = "共青团"
# Names before the 2018 reform (机构改革) people still say, for the part of a name that changed
# (农业农村部 → 农业部, 生态环境厅 → 环境保护厅, 卫生健康委 → 卫生计生委).
_FORMER = (
    ("农业农村", "农业"),
    ("生态环境", "环境保护"),
    ("自然资源", "国土资源"),
    ("卫生健康", "卫生计生"),
    ("文化和旅游", "文化"),
    ("乡村振兴局", "扶贫办"),  # the 2021 reform: 扶贫开发领导小组办公室 became 乡村振兴局
)
# A zone's committee is named after its city (宝鸡高新区管委会): people drop the city.
_ZONE = lazy(r"^.{2,3}?((?:高新|经开|经济技术开发|经济开发|开发|示范|新|保税|综保)区.*)$")
# Level prefixes a unit's name may carry ("国家发展改革委", "全国总工会", "中国科协", "省教育厅",
# "州民政局").
_LEVEL = lazy(
    r"^(?:国家|(?:中华)?全国|中国|中共中央|中共|中央|国务院|省委|省政府|省|市委|市政府|市(?!场|政|容)|区(?!域)"
    r"|县(?!域)|州委|州政府|州)"
)
# A group of local governments by its level (各区政府, 各县人民政府).
_GROUP_LEVEL = lazy(r"^各(区|县|市|镇|乡)(?:人民)?政府$")
# A level inside a short name (团市委, 团省委): said without it.
_LEVEL_INSIDE = lazy(r"^(.)[省市区县](委)$")
# A name joining two words (粮食和储备局, 自然资源和规划局) is said by the first too.
_FIRST_OF_JOINED = lazy(
    r"^((?:国家|省|市|区|县)?[\u4e00-\u9fff]{2,4})和[\u4e00-\u9fff]{2,6}?(局|厅|部|委)$"
)
# …and by the last (政务和数据局 → 数据局, 自然资源和规划局 → 规划局).
_LAST_OF_JOINED = lazy(r"^[\u4e00-\u9fff]{2,4}和([\u4e00-\u9fff]{2,4})(局|厅|部|委)$")
# A place's government or committee is said by the place (番禺区政府 → 番禺区, 东湖高新区管委会
# → 东湖高新区, 杭州市政府 → 杭州市, 杭州), 人民政府 as 政府 and the other way round.
_PLACE_BODY = lazy(
    r"^([\u4e00-\u9fff]{2,6}?(?:市|区|县))(人民政府|政府|管委会|管理委员会)?$"
)
# A body's office said by the body (空管委办公室 → 空管委, …指挥部办公室 → …指挥部).
_OFFICE_OF = lazy(r"^(.{2,}?(?:指挥部|领导小组|委员会|委))办公室$")
# A regulator's office in a province (中国证监会广东监管局 → 广东证监局, 证监局) and a bank's
# branch (人民银行广东省分行 → 人行广东分行).
_FIELD_OFFICE = lazy(r"^(?:中国)?(.{1,2}监)会(.{2,3}?)(?:省|市)?监管局$")
_BANK_BRANCH = lazy(r"^(?:中国)?人民银行(.{2,3}?)(?:省|市)?分行$")
# A branch of a body (生态环境局咸安分局): the body, and the branch by its place or stem.
_BRANCH = lazy(r"^(.+?局)([\u4e00-\u9fff]{2,3})分局$")
# A stem of two words is said by its second word (人口计生局 → 计生局, 公安消防局 → 消防局),
# but for words any body's name may end with (应急管理部 is no 管理部).
_GENERIC_WORDS = frozenset(
    {"管理", "服务", "发展", "工作", "事务", "监管", "保障", "改革", "建设", "资源", "技术"}
    | {"联合", "合作", "促进"}
)
# Kind suffixes; the bare stem names the unit too (财政部 → 财政), and "X部门" does.
_KIND = lazy(r"(委员会|总局|总署|部|厅|局|委|办|署|院|会|中心|公司|集团)$")


def _contract(name: str) -> str:
    for long, short in _CONTRACTIONS:
        name = name.replace(long, short)
    return name.replace("委员会", "委")


def contracted(name: str) -> str:
    """Return `name` with its compound words contracted (市发展改革委 → 市发改委)."""
    return _contract(name)


def _expanded(name: str) -> list[str]:
    """Return `name` with each contraction written out (市卫健委 → 市卫生健康委)."""
    return [
        name.replace(short, long)
        for long, short in _CONTRACTIONS
        if short in name and long not in name
    ]


def _nicknamed(name: str) -> list[str]:
    """Return `name` with each of its parts people also say shorter made shorter."""
    return [name.replace(long, short) for long, short in _NICKNAMES if long in name]


def acronyms(name: str) -> list[str]:
    """Return `name` by the first character of each word: 乡村振兴局 → 乡振局, 乡振;
    发展和改革委员会 → 发改委, 发改; of three, the first and last too (国际发展合作署 →
    国发合署, 国合署). Words are read as pairs of characters between 和, 与, 及
    (a stem that does not split so gives none)."""
    level = _LEVEL.match(name)
    bare = name[level.end() :] if level else name
    kind = _KIND.search(bare)
    if kind is None:
        return []
    parts = re.split("[和与及]", bare[: kind.start()])
    # Parts of two, four or six characters, three words at most: no other name splits surely.
    if any(len(p) not in (2, 4, 6) for p in parts):
        return []
    words = [p[i : i + 2] for p in parts for i in range(0, len(p), 2)]
    if not 2 <= len(words) <= 3:
        return []
    short = "".join(w[0] for w in words)
    if len(short) < 2 or short == bare[: kind.start()]:
        return []
    suffix = "委" if kind.group(1) == "委员会" else kind.group(1)
    # Of three words, the first and the last too (国际发展合作署 → 国合署).
    ends = [words[0][0] + words[-1][0] + suffix] if len(words) == 3 else []
    return [short + suffix] + ([short] if len(short) == 2 else []) + ends


def tails(name: str) -> list[str]:
    """Return the tails people say for a long name (see _TAIL_FROM): 市流动人员出租屋管理办 →
    出租屋管理办. Read by the engine only (they are no aliases to write down)."""
    level = _LEVEL.match(name)
    bare = name[level.end() :] if level else name
    if len(bare) < _TAIL_FROM or not (_KIND.search(bare) or bare.endswith("办公室")):
        return []
    whole = [bare] + ([bare[:-2]] if bare.endswith("办公室") else [])
    whole += [bare[:-3] + "办"] if bare.endswith("管理办") else []  # 出租屋管理办 → 出租屋办
    return [w[i:] for w in whole for i in range(_TAIL_DROPS, len(w) - _TAIL_LEAST + 1)]


# Alternatives in a bracket: "各县〔市、区〕政府" is said 各县区政府, 各县市区政府, 各县政府.
_ALTERNATIVES = lazy(r"[〔(（]([^〔〕()（）]+、[^〔〕()（）]+)[〕)）]")


def _unbracketed(name: str) -> list[str]:
    """Return a name with alternatives in a bracket as people type it, without the bracket."""
    found = _ALTERNATIVES.search(name)
    if found is None:
        return []
    head, tail = name[: found.start()], name[found.end() :]
    parts = found.group(1).split("、")
    forms = [head + tail, head + "".join(parts) + tail, *(head + p + tail for p in parts)]
    forms += [f.replace("人民政府", "政府") for f in forms if "人民政府" in f]
    return forms


def short_forms(name: str) -> list[str]:
    """Return the short forms of `name` (without `name` itself), most specific first."""
    forms: list[str] = list(_NATIONAL_NICKNAMES.get(name, ()))
    zone = _ZONE.match(name)
    if name.startswith("各") and len(name) >= 4:
        # 各区政府 → 区政府, and 区里 as people say it: a group named as a unit, no shorter.
        level = _GROUP_LEVEL.match(name)
        said = [name[1:]] + ([level.group(1) + "里"] if level else [])
        for form in _unbracketed(name):
            said += [form, form[1:]]
        return [f for f in dict.fromkeys(said) if f != name]
    bases = [name, _contract(name), *_expanded(name)]
    if name.startswith(_YOUTH_LEAGUE):
        bases.append("团" + name[len(_YOUTH_LEAGUE) :])
    bases += [n for b in list(bases) for n in _nicknamed(b)]
    if zone:
        bases.append(zone.group(1))
    for base in dict.fromkeys(bases):
        level = _LEVEL.match(base)
        bare = base[level.end() :] if level else base
        for form in (base, bare):
            forms.append(form)
            kind = _KIND.search(form)
            stem = form[: kind.start()] if kind else ""
            # A longer bare stem is a topic more often than a unit (生态环境, 农业农村).
            if 2 <= len(stem) <= 3:
                forms.append(stem)
            if len(stem) >= 2:
                forms.append(stem + "部门")
            if form.endswith("总局"):
                forms.append(form[:-2] + "局")  # 税务总局 → 税务局
    central = _CENTRAL.match(name)
    if central:
        forms.append(f"中{central.group(1)}部")
    # A former name whole, with its kind (农业部): its stem alone (农业) is a topic.
    for old_part, former in _FORMER:
        if old_part in name:
            bare = _LEVEL.sub("", name)
            forms += [name.replace(old_part, former), bare.replace(old_part, former)]
    # 团市委 (共青团市委) is 团委; 粮食和储备局 is 粮食局, by the first of its joined words
    # (no stem of it alone: 粮食 is a topic).
    for pattern in (_LEVEL_INSIDE, _FIRST_OF_JOINED, _LAST_OF_JOINED):
        for whole in (name, _LEVEL.sub("", name)):
            found = pattern.match(whole)
            if found:
                forms.append(found.group(1) + found.group(2))
    forms += _other_forms(name)
    out: list[str] = []
    for form in forms:
        if form != name and len(form) >= 2 and form not in out:
            out.append(form)
    return out


def _other_forms(name: str) -> list[str]:
    """Return the forms of a place's body, a body's office or branch, a two-word stem."""
    forms: list[str] = []
    place = _PLACE_BODY.match(name)
    if place and not _LEVEL.fullmatch(place.group(1)) and not place.group(1).endswith("城市"):
        where = place.group(1)
        forms += [where, where + "政府", where + "人民政府"]
        if where.endswith("市"):
            forms.append(where[:-1])  # 杭州市 → 杭州
    bare = _LEVEL.sub("", name)
    office = _OFFICE_OF.match(bare)
    if office:
        forms.append(office.group(1))
    branch = _BRANCH.match(name)
    if branch:
        body = branch.group(1)
        stems = [_KIND.sub("", f) for f in (_LEVEL.sub("", body), _contract(_LEVEL.sub("", body)))]
        forms += [body, *short_forms(body), branch.group(2) + "分局"]
        forms += [stem + "分局" for stem in stems if len(stem) >= 2]
    field = _FIELD_OFFICE.match(name)
    if field:
        forms += [field.group(2) + field.group(1) + "局", field.group(1) + "局"]
    if line := _LINE_BODY.match(name):
        forms.append(line.group(1))
    if name.endswith("总工会"):
        forms.append("工会")  # 县总工会 is the 工会 people turn to
    bank = _BANK_BRANCH.match(name)
    if bank:
        forms += [f"人行{bank.group(1)}分行", f"央行{bank.group(1)}分行", "人行分行"]
    kind = _KIND.search(bare)
    stem = bare[: kind.start()] if kind else ""
    if len(stem) == 4 and "和" not in stem and stem[2:] not in _GENERIC_WORDS:
        forms.append(stem[2:] + kind.group(1))  # type: ignore[union-attr]
    return forms


def spoken_aliases(
    units: dict[str, tuple[str, ...]],
    written: str,
    variants: Callable[[str], set[str]] = lambda form: {form},
) -> dict[str, str]:
    """Return the short forms people say for units (税务, 乡振局), each with its unit.

    `units` maps each unit to its names; `written` is the document's text; `variants` gives
    the ways a form is written (with or without 省). A form is kept when it is no name already,
    one unit alone could own it, and the document never writes it but inside a unit's name
    (教育 is a topic of a document that writes 职业教育, not 教育厅).
    """
    taken = {v for names in units.values() for n in names for v in variants(n)}
    # 人民政府 is no 民政: the word for a government, in every such document, is a name too.
    # Longest first; one length in order, the same pattern in every process (it is kept).
    named = sorted(taken | {"人民政府"}, key=lambda w: (-len(w), w))
    outside = compiled("|".join(map(re.escape, named))).sub("\n", written) if named else written
    owners: dict[str, set[str]] = {}
    for unit, names in units.items():
        if unit.startswith("各"):
            continue  # a group (各区政府) is named as a whole, not shorter
        # Acronyms from the unit's own names only: an alias may be one already (残联).
        forms = dict.fromkeys(f for name in names for f in short_forms(name))
        forms.update(dict.fromkeys(a for name in names[:2] for a in acronyms(name)))
        forms.update(dict.fromkeys(t for name in names[:2] for t in tails(name)))
        # A form the document writes as a word of its own (政府) is no name, in any variant.
        spoken = {v for f in forms if f not in taken and f not in outside for v in variants(f)}
        for form in spoken - taken:
            if form not in outside:
                owners.setdefault(form, set()).add(unit)
    return {form: unit.pop() for form, unit in owners.items() if len(unit) == 1}


def unit_aliases(names: list[str]) -> dict[str, list[str]]:
    """Derive every unit's short forms; a form two units could claim is dropped from both."""
    derived = {n: short_forms(n) for n in names}
    owners: dict[str, set[str]] = {}
    for unit, forms in derived.items():
        for form in forms:
            owners.setdefault(form, set()).add(unit)
    taken = set(names)
    return {
        unit: [f for f in forms if len(owners[f]) == 1 and f not in taken]
        for unit, forms in derived.items()
    }

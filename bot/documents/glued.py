"""A table flattened to text with nothing between its cells (a .docx a sharing site shows as text).

"序号项目名称主要内容区政府分管领导牵头单位配合单位1增加教育资源供给实施……4580个。何海平教育局
经开区高新园(邹区镇)各街道市国有公司2促进就业……": the header is known column names run together,
each row starts with its number, a row's text ends at "。", then the leader's personal name
(2–3 characters, a person, not a unit), the lead unit and the supporting ones, each told by how a
body's name ends (局, 委, 办, 街道, 公司, 镇, 园 …). A row's text after its units is a second
sub-row of its merged cells: with units of its own, or sharing those printed before it.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence

from bot.documents.layout import Item, Layout
from bot.documents.plan import PlanError

# Column names as such headers write them; the number comes first, as in every such table.
_COLUMN = (
    r"(?:项目名称|任务名称|事项名称|工作任务|重点任务|重点工作|主要任务|项目|任务"
    r"|主要内容|工作内容|具体内容|目标任务|建设内容|主要措施|工作措施|具体措施|任务内容|工作目标"
    r"|(?:[省市区县](?:政府|委)?)?(?:分管|责任|牵头|联系|包抓)[省市区县]?领导"
    r"|牵头(?:责任)?(?:单位|部门)|(?:配合|协办|参与)(?:单位|部门)|责任(?:单位|部门)"
    r"|完成时限|完成时间|时间节点|备注)"
)
_HEADER = re.compile(rf"(?:序号|编号)((?:{_COLUMN}){{3,8}})(?=1\D)")
_TITLE_COLUMN = re.compile(
    r"^(?:项目名称|任务名称|事项名称|工作任务|重点任务|重点工作|主要任务|项目|任务)$"
)
_LEADER_COLUMN = re.compile(r"领导$")
_LEAD_COLUMN = re.compile(r"^牵头")
_HEAD_DEADLINE = re.compile(r"时限|时间")
# A sharing site's chunk markers at a line's start: "1、" "2、" (the text runs on across them).
_CHUNK = re.compile(r"^\d{1,3}、")
# How a body's name ends; the shortest name so ending is taken, with what continues it (人社局,
# ……区管委会) and its bracket ("高新园(邹区镇)").
_UNIT = re.compile(
    r"[\u4e00-\u9fff]{1,10}?(?:局|委|办|街道|公司|集团|镇|乡|园|区|中心|部|厅|院|会|社|站|所|队|团)"
    r"[局委办厅处室]?(?:管委会|管理委员会|办公室|分局|分公司|党工委)?(?:[（(][^（）()]{1,10}[）)])?"
)
# The last character of a body's name (_UNIT), before the next row's number.
_ENDS = "局委办道司团镇乡园区心部厅院会社站所队"
# The first words of a row's main content, after the project's name run into it ("增加教育资源
# 供给实施新建……": 实施 starts the content).
_CONTENT_START = re.compile(
    r"实施|落实|完成|推进|推动|开展|加强|加快|提升|提供|新建|实现|做好|深化|组织|为|对"
)
_NAME_LEAST, _NAME_MOST = 4, 12
# The level a body's name may start with, after a person's name ("吴敏区卫健委").
_LEVEL = "省市区县"
# A deadline's cell after the units ("2021年底前", "全年", "长期坚持"), and how one ends.
_WHEN = re.compile(
    r"(?:20\d\d年(?:\d{1,2}月)?(?:底|内|前|上半年|下半年)*(?:完成)?|年底前|全年|长期坚持|持续推进)"
)
_WHEN_ENDS = "年月底内前成进持"


def _header(text: str) -> tuple[re.Match[str], list[str]] | None:
    found = _HEADER.search(text)
    if found is None:
        return None
    return found, re.findall(_COLUMN, found.group(1))


def _row_starts(body: str, dated: bool) -> list[int]:
    """Where each numbered row starts: 1 first, then 2, 3 … each after a unit or a "。".

    `dated`: a deadline's cell ends each row ("……2021年底前2促进就业……").
    """
    starts = [0] if re.match(r"1(?=[\u4e00-\u9fff])", body) else []
    number = 2
    ends = _ENDS + (_WHEN_ENDS if dated else "")
    while starts:
        pattern = rf"(?<=[{ends}）)。]){number}(?=[\u4e00-\u9fff])"
        found = re.compile(pattern).search(body, starts[-1] + 1)
        if found is None:
            break
        starts.append(found.start())
        number += 1
    return starts


def _word(text: str) -> tuple[str, str] | None:
    """The first word of `text` and its class (jieba's: "v" a verb, "nr" a person's name)."""
    import jieba  # only this layout needs word classes: loaded on first use
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)  # not its "Building prefix dict" lines on stderr
    word = next(iter(jieba.posseg.cut(text)), None)
    return None if word is None else (word.word, word.flag)


def _starts_with_verb(text: str) -> bool:
    word = _word(text[:8])
    # a verb of one character starts names too: 住建局 (住 "live")
    return word is not None and word[1].startswith("v") and len(word[0]) >= 2


def _person(text: str) -> int:
    """The length of a person's name starting `text` (何海平教育局 → 3), 0 when none does.

    A name takes 2 or 3 characters; a level before a body's name tells where it ends (吴敏区
    卫健委 is 吴敏 and 区卫健委), else the word jieba reads as a person's name.
    """
    word = _word(text[:10])
    if word is None or word[1].startswith(("v", "p", "m", "d", "c", "x")):
        return 0
    for length in (2, 3):
        if text[length : length + 1] in _LEVEL and _UNIT.match(text, length):
            return length
    if word[1] != "nr" or not 2 <= len(word[0]) <= 3:
        return 0
    return len(word[0]) if _UNIT.match(text, len(word[0])) else 0


def _units(text: str, at: int) -> tuple[list[str], int]:
    """Read the bodies' names from `at` on: (the names, where they end)."""
    names: list[str] = []
    while at < len(text) and not _starts_with_verb(text[at:]):
        found = _UNIT.match(text, at)
        if found is None:
            break
        names.append(found.group(0))
        at = found.end()
    return names, at


def _split_title(text: str) -> tuple[str, str]:
    """Split a project's name from the content it is run into: ("增加教育资源供给", "实施……")."""
    first = re.split(r"[，,、。；;：:]", text, maxsplit=1)[0]
    for found in _CONTENT_START.finditer(first[: _NAME_MOST + 2]):
        if _NAME_LEAST <= found.start() <= _NAME_MOST:
            return text[: found.start()], text[found.start() :]
    return "", text


def _sub_rows(row: str, leader: bool) -> list[tuple[str, str, list[str], str]]:
    """Split a row's text into (content, leader, units, deadline), a sub-row each.

    A sub-row's units are [] when it shares those printed before it (merged cells).
    """
    out: list[tuple[str, str, list[str], str]] = []
    text, at = "", 0
    while at < len(row):
        end = row.find("。", at)
        if end < 0:
            text += row[at:]
            break
        text += row[at : end + 1]
        at = end + 1
        person = _person(row[at:]) if leader else 0
        if leader and not person:
            continue
        names, after = _units(row, at + person)
        if not names:
            continue
        when = _WHEN.match(row, after)
        out.append((text, row[at : at + person], names, when.group(0) if when else ""))
        text, at = "", when.end() if when else after
    if text.strip():
        out.append((text, "", [], ""))
    return out


def read_glued(lines: Sequence[str]) -> Layout | None:
    """Read a table whose cells were run together (see the module); None when no header is.

    Raises PlanError when the header is there but no row can be read from what follows it.
    """
    text = "".join(_CHUNK.sub("", ln.strip()) for ln in lines)
    found = _header(text)
    if found is None:
        return None
    head, columns = found
    # The reading is by rule where a person sees the cells: the report asks to check it.
    kind = "单元格连在一起的表格（无分隔符：项目名称、领导、单位按规则分开，请核对）"
    layout = Layout(kind, cells=True)
    body = text[head.end() :].replace(head.group(0), "")  # the header again after a page break
    leader = any(_LEADER_COLUMN.search(c) for c in columns)
    lead = any(_LEAD_COLUMN.search(c) for c in columns)
    titled = any(_TITLE_COLUMN.match(c) for c in columns)
    dated = any(_HEAD_DEADLINE.search(c) for c in columns)
    starts = _row_starts(body, dated)
    for number, (start, end) in enumerate(itertools.pairwise([*starts, len(body)]), 1):
        row = body[start + len(str(number)) : end]
        title, row = _split_title(row) if titled else ("", row)
        title = title or re.split(r"[，,、。；;]", row, maxsplit=1)[0][:16]
        shared: tuple[str, list[str], str] = ("", [], "")
        for content, person, names, when in _sub_rows(row, leader):
            person, names, when = (person, names, when) if names else shared
            shared = (person, names, when)
            if not names:
                layout.unplaced.append(f"第 {number} 行没有责任单位：{content[:30]}")
                continue
            duty = (
                f"牵头单位：{names[0]}，配合单位：{'、'.join(names[1:])}"
                if lead
                else "、".join(names)
            )
            if person:
                duty = f"责任领导：{person}；{duty}"
            layout.items.append(Item(str(number), title, "", content, duty, when))
    if not layout.items:
        raise PlanError(
            f"找到了连在一起的表头（序号、{'、'.join(columns)}），但单元格之间没有分隔符，"
            "无法可靠地分出各行各列：请把原表格另存为 Excel（.xlsx）或 Word（.docx）文件再导入，"
            "或在单元格之间加上制表符（Tab）"
        )
    return layout

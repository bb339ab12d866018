"""Layouts of a responsibility document: numbered items with a bracket, or a table."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.documents.duty import looks_like_duty, names_units

_CN = "一二三四五六七八九十百零〇"
# Numbering styles, in no particular order: a document's outline takes them in the order it
# first uses them (一、 above （一） above 1. in most, but not all, documents).
_STYLES = (
    re.compile(rf"^([{_CN}]+)[、．.]\s*"),
    re.compile(rf"^[（(]([{_CN}]+)[）)]\s*"),
    re.compile(r"^(\d{1,3})(?:[、．]|\.(?!\d))\s*"),
    re.compile(r"^[（(](\d{1,3})[）)]\s*"),
    re.compile(r"^(\d{1,3})[）)]\s*"),
    re.compile(rf"^第([{_CN}\d]+)(?:部分|章|节|条)\s*"),
    re.compile(r"^([①-⑳])\s*"),
)
# A section heading led by a dash ("——推进教育高质量发展"), unnumbered: a short line, no
# sentence, no bracket (a dash line that is a sentence or holds units is a measure).
_DASH_HEADING = re.compile(r"^(?:——|－－|--)\s*(?=[^—－-])([^。；;（(]{2,30})$")
_DASH = re.compile(r"^\s*(?:——|－－|--)\s*")
_DEADLINE = re.compile(r"[，；,;。]?\s*(?:完成时限|完成时间|时限)\s*[:：]\s*([^，；,;。）]+)")
# Brackets a responsibility is written in: "[牵头单位:县发改局(粮食局)]" when a name holds ( ),
# "〔责任单位:……〕" (a 文号's "〔2022〕" names no unit).
_OPENS, _CLOSES = "（([【〔", "）)]】〕"
_TRAILER = re.compile(r"^(?:\d{4}年\d{1,2}月\d{1,2}日|（此件[^）]*）|\(此件[^)]*\))$")


@dataclass
class Item:
    """One measure as laid out in the document, before its units are read."""

    task_number: str
    task_title: str
    number: str
    text: str
    duty: str
    deadline: str = ""
    # The bracket of the task's heading ("(二)大力实施开发式扶贫。(州扶贫两资办牵头)"): its
    # lead leads every measure of the task.
    task_duty: str = ""


@dataclass
class Layout:
    """What a layout reader found: measures, items that assign no units, unplaced lines."""

    kind: str
    items: list[Item] = field(default_factory=list)
    # Units come from a table's cells, where every body named is responsible (各区政府 too).
    cells: bool = False
    not_measures: list[str] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)


def numbering(line: str) -> tuple[int, str, str] | None:
    """Return (style, the number as written, the rest) when `line` starts with a number."""
    for style, pattern in enumerate(_STYLES):
        if m := pattern.match(line):
            return style, m.group(0).strip().rstrip("、．."), line[m.end() :]
    if m := _DASH_HEADING.match(line.strip()):
        return len(_STYLES), "", m.group(1)
    return None


def split_bracket(text: str) -> tuple[str, str] | None:
    """Split off a responsibility bracket at the end: (text before it, its content)."""
    body = text.rstrip()
    if body.endswith("。") and body[:-1].endswith(tuple(_CLOSES)):
        body = body[:-1]  # "……。（财政部负责）。"
    if not body.endswith(tuple(_CLOSES)):
        return None
    depth = 0
    for i in range(len(body) - 1, -1, -1):
        depth += (body[i] in _CLOSES) - (body[i] in _OPENS)
        if depth == 0:
            content = body[i + 1 : -1]
            return (body[:i].rstrip(), content) if looks_like_duty(content) else None
    return None


def split_deadline(duty: str) -> tuple[str, str]:
    """Take "完成时限：……" out of a duty text: (the duty, the deadline or "")."""
    m = _DEADLINE.search(duty)
    if not m:
        return duty, ""
    return duty[: m.start()] + duty[m.end() :], m.group(1).strip()


def _title(text: str) -> str:
    return re.split(r"[。：:]", text, maxsplit=1)[0].strip() or text.strip()


# "责任单位：……" / "牵头单位：……" / "完成时限：……" written as text, not in a bracket.
_LABEL_TEXT = re.compile(
    r"(?:^|(?<=[。；;\s]))\s*(?:(?:牵头|责任|配合|协同|协助|协办|参与|主办)(?:责任)?(?:单位|部门)"
    r"|完成时限|完成时间|部门分工|(?:牵头负责|牵头|分管|责任|联系)[省市区县]?领导)\s*[:：]"
)


_PUNCT = "。；;，, "


def _balanced(text: str) -> bool:
    return sum(c in _OPENS for c in text) == sum(c in _CLOSES for c in text)


def take_duties(paragraph: str) -> tuple[str, list[str]]:
    """Take every responsibility bracket and label out of a paragraph: (its text, duties)."""
    segments, rest = take_segments(paragraph)
    return "".join([*(t for t, _ in segments), rest]), [d for _, ds in segments for d in ds]


def take_segments(paragraph: str) -> tuple[list[tuple[str, list[str]]], str]:
    """Split a paragraph at its responsibility brackets: ([(text, duties)], the text after).

    Each bracket covers the sentences since the one before it, as in "……。（A指导）……。
    （B负责）"; brackets side by side, or a label line ("责任单位：……"), join the one before.
    """
    segments: list[tuple[str, list[str]]] = []
    label = next(
        (m for m in _LABEL_TEXT.finditer(paragraph) if _balanced(paragraph[: m.start()])), None
    )
    labelled = paragraph[label.start() :].strip() if label else ""
    if label:
        paragraph = paragraph[: label.start()]
    text, depth, start = "", 0, 0
    for i, ch in enumerate(paragraph):
        if ch in _OPENS:
            depth += 1
            if depth == 1:
                start = i
        elif ch in _CLOSES and not depth and segments and not text.strip():
            continue  # "……不再列出)]": a bracket closed twice
        elif ch in _CLOSES and depth:
            depth -= 1
            if depth == 0:
                content = paragraph[start + 1 : i]
                closes = not paragraph[i + 1 :].strip(_PUNCT)
                if not looks_like_duty(content) and not (closes and names_units(content)):
                    text += paragraph[start : i + 1]
                elif segments and not text.strip("。；; "):
                    segments[-1][1].append(content)
                    text = ""
                else:
                    segments.append((text.strip().lstrip(_PUNCT), [content]))
                    text = ""
        elif depth == 0:
            text += ch
    if depth:  # an unclosed bracket: keep the text as written
        text += paragraph[start:]
    if labelled:
        if segments and not text.strip():
            segments[-1][1].append(labelled)
        else:
            segments.append((text.strip().lstrip(_PUNCT), [labelled]))
            text = ""
    rest = text.strip()
    return segments, rest.lstrip(_PUNCT) if rest.strip(_PUNCT) else ""


def _is_trailer(line: str) -> bool:
    """The date, the issuer's name or "（此件公开发布）" after the last item."""
    short = len(line) <= 12 and not re.search(r"[：:。；（(]", line)
    return bool(_TRAILER.match(line)) or short


@dataclass
class _Node:
    depth: int
    number: str
    prefix: str
    lines: list[str]
    parent: _Node | None
    children: list[_Node] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    has_measure: bool = False


def _run_on_items(line: str) -> list[str]:
    """Split items run into one line at their brackets: "(一)……(A负责)(二)……(B负责)"."""
    found = numbering(line)
    if found is None:
        return [line]
    parts, start, depth, opened = [], 0, 0, 0
    for i, ch in enumerate(line):
        if ch in _OPENS:
            depth, opened = depth + 1, i if depth == 0 else opened
        elif ch in _CLOSES and depth:
            depth -= 1
            after = numbering(line[i + 1 :]) if depth == 0 else None
            if after and after[0] == found[0] and looks_like_duty(line[opened + 1 : i]):
                parts.append(line[start : i + 1])
                start = i + 1
    return [*parts, line[start:]] if parts else [line]


# A web page's fields above the text ("发布机构: 市政府办公室(市数据局)"): no item's bracket.
PAGE_SOURCE = "来源|发布机构|发文机关"  # the fields naming who published the page
_PAGE_FIELD = re.compile(rf"(?:{PAGE_SOURCE}|发文机构|索引号|公文时效|主题分类)\s*[:：]")


def read_numbered(lines: Sequence[str]) -> Layout:
    """Read items numbered 一、/（一）/1. whose units close them in a bracket."""
    layout = Layout("编号条目")
    depths: dict[int, int] = {}
    nodes: list[_Node] = []
    stack: list[_Node] = []
    preamble: list[str] = []
    for line in (part for ln in lines for part in _run_on_items(ln)):
        # "——牵头单位：市发改委": a label led by a dash is a label, not a dash heading
        if (dashed := _DASH.match(line)) and _LABEL_TEXT.match(line[dashed.end() :]):
            line = line[dashed.end() :]
        found = numbering(line)
        if found is None and stack and _covers_parent(line, stack[-1]):
            stack.pop()  # "(责任单位:……)" under (1)…(4): the bracket of the item above them
        if found is None:
            paragraphs = stack[-1].lines if stack else preamble
            if paragraphs and not _balanced(paragraphs[-1]):
                paragraphs[-1] += line  # a bracket wrapped onto the next line
            else:
                paragraphs.append(line)
            continue
        style, number, rest = found
        depth = depths.setdefault(style, len(depths))
        if stack and depth <= stack[-1].depth and _heads_run_on(stack[-1], depth):
            # "二、" / "(一)全力以赴拼经济。" / "10.……": numbering running on below a heading
            # of a level first used later; the items nest under it from here on.
            depth = depths[style] = stack[-1].depth + 1
        while stack and stack[-1].depth >= depth:
            stack.pop()
        parent = stack[-1] if stack else None
        node = _Node(depth, number, line[: len(line) - len(rest)], [rest], parent)
        if parent is not None:
            parent.children.append(node)
        nodes.append(node)
        stack.append(node)
    if nodes:  # the signature and date after the last item are not part of it
        last = nodes[-1].lines
        while len(last) > 1 and _is_trailer(last[-1]):
            last.pop()
    for node in nodes:
        _items_of(node, layout)
    for node in nodes:
        _promote(node)
    heads = [node for node in nodes if _heads_task(node, layout)]
    for node in heads:
        _tasks_beside(node, nodes)
    if not layout.items:
        return _read_flat(preamble + [ln for n in nodes for ln in n.lines], layout)
    layout.unplaced += [
        f"条目之前：{p[:40]}" for p in preamble if take_duties(p)[1] and not _PAGE_FIELD.search(p)
    ]
    for node in nodes:
        _absorb_children(node)
    for node in nodes:
        if not node.has_measure:
            layout.not_measures.append(f"{node.number} {_title(node.lines[0])[:30]}")
    return layout


def _heads_run_on(node: _Node, depth: int) -> bool:
    """Tell whether an item of `depth` after `node` belongs under it though numbered above it.

    `node` is a short title alone (no text, units or items yet), and the item would otherwise
    be the first of its level beside it: "二、" / "(一)全力以赴拼经济稳增长促发展。" / "10.……"
    (items 1–9 sat right under "一、"). Not where items of that level stand beside it already.
    """
    title = node.lines[0].rstrip("。")
    if len(node.lines) != 1 or node.children or not 0 < len(title) <= 30:
        return False
    if re.search(r"[。；;，,（(]", title):
        return False
    parent = node.parent
    return parent is not None and (
        parent.depth < depth and not any(c.depth == depth for c in parent.children)
    )


def _covers_parent(line: str, node: _Node) -> bool:
    """Tell whether a line holding only a bracket covers the item above `node` and its points.

    "1.完善应急预案体系" / "(1)……" … "(4)……" / "(责任单位:……)": the points name no units
    of their own, so the bracket on a line of its own after them is their item's.
    """
    if node.parent is None or not line.lstrip().startswith(tuple(_OPENS)):
        return False
    segments, rest = take_segments(line)
    if rest or len(segments) != 1 or segments[0][0]:
        return False
    points = node.parent.children
    if len(points) < 2 or any(p.depth != node.depth for p in points):
        return False
    return not any(take_duties(ln)[1] for p in points for ln in p.lines)


def _item(node: _Node | None, number: str, text: str, duties: list[str]) -> Item:
    duty, deadline = split_deadline("；".join(duties))
    return Item(
        task_number=node.number if node else "",
        task_title=_title(node.lines[0]) if node else "主要任务",
        number=number,
        text=text,
        duty=duty,
        deadline=deadline,
    )


# "(三)省编办牵头的工作": a heading that names the lead of every item under it.
_DUTY_HEADING = re.compile(r"^(.{2,40}?)(牵头|负责|主办)的(?:工作|任务|事项)[。：:]?$")


def _heading_duty(node: _Node) -> str | None:
    """The duty a heading above (or of) this node states for its items, as a label."""
    above: _Node | None = node
    while above is not None:
        found = _DUTY_HEADING.match(above.lines[0])
        if found and names_units(found.group(1)):
            return f"{'责任' if found.group(2) == '负责' else '牵头'}单位：{found.group(1)}"
        above = above.parent
    return None


def _items_of(node: _Node, layout: Layout) -> None:
    """Add the measures of one numbered node: one per responsibility bracket or label.

    A bracket covers the text since the bracket before it, in its paragraph or the ones
    before (a paragraph without a bracket joins the next one that has).
    """
    pending: list[str] = []
    heading = _heading_duty(node)
    own = heading is not None and _DUTY_HEADING.match(node.lines[0]) is not None
    for paragraph in node.lines[1:] if own else node.lines:
        segments, rest = take_segments(paragraph)
        if len(segments) > 1 and segments[0][0] and pending and not node.items:
            # "1.主要指标的责任部门。" over "常住人口……。(A牵头)万元……。(B牵头)": a heading over
            # several measures is theirs, not the first one's text
            pending = []
        for text, duties in segments:
            duties = [heading, *duties] if heading else duties
            if not text and not pending and node.items:  # "完成时限：……" on a line of its own
                last = node.items[-1]
                extra, deadline = split_deadline("；".join(duties))
                last.duty = "；".join(filter(None, (last.duty, extra)))
                last.deadline = last.deadline or deadline
                continue
            number = "" if node.items else node.number
            node.items.append(_item(node.parent, number, "".join([*pending, text]), duties))
            pending = []
        if rest:
            pending.append(rest)
    if heading and pending and not node.children:  # the text under "(一)省监察厅牵头的工作"
        node.items.append(_item(node.parent, node.number, "".join(pending), [heading]))
        pending = []
    if not node.items:
        return
    if pending and len(node.items) == 1 and _bracketed_heading(node.lines[0]):
        # "(一)扎实推进民生工程。(……负责)" and a paragraph below: the heading's bracket
        # covers the text under it.
        node.items[0].text += "".join(pending)
        pending = []
    layout.items += node.items
    parent: _Node | None = node
    while parent is not None:
        parent.has_measure = True
        parent = parent.parent
    layout.unplaced += [f"{node.number} 之后：{p[:40]}" for p in pending]


def _promote(parent: _Node) -> None:
    """Make numbered items tasks of their own when most of them hold several measures.

    "（一）强化顶层设计……" followed by paragraphs with a bracket each is a task, not a measure.
    """
    kids = [c for c in parent.children if c.items]
    if len(kids) < 2 or 2 * sum(len(c.items) > 1 for c in kids) <= len(kids):
        return
    for kid in kids:
        kid.items[0].number = ""
        for item in kid.items:
            item.task_number, item.task_title = kid.number, _title(kid.lines[0])


def _bracketed_heading(line: str) -> bool:
    """Tell whether a numbered line is a short title and its bracket: "扎实推进民生工程。(……)"."""
    segments, after = take_segments(line)
    if len(segments) != 1 or after:
        return False
    text = segments[0][0].rstrip("。；; ")
    return 0 < len(text) <= 30 and not re.search(r"[。；;]", text)


def _heads_task(node: _Node, layout: Layout) -> bool:
    """Make a heading's bracket the task's when numbered measures follow it; tell if it was.

    "(二)大力实施开发式扶贫。(州扶贫两资办牵头)" above "1.……(州扶贫两资办负责)": the heading
    is the task, not a measure, and its lead leads each measure under it.
    """
    if len(node.lines) != 1 or len(node.items) != 1 or not _bracketed_heading(node.lines[0]):
        return False
    if not any(child.has_measure for child in node.children):
        return False
    heading = node.items.pop()
    layout.items.remove(heading)
    stack = list(node.children)
    while stack:
        child = stack.pop()
        for item in child.items:
            item.task_duty = heading.duty
        stack += child.children
    return True


def _tasks_beside(node: _Node, nodes: Sequence[_Node]) -> None:
    """Make the items beside a task heading tasks too: "(一)……(X牵头,……负责)" is one."""
    siblings = node.parent.children if node.parent else [n for n in nodes if n.parent is None]
    for other in siblings:
        if other is node or other.depth != node.depth or not other.items:
            continue
        if all(item.task_number != other.number for item in other.items):
            other.items[0].number = ""
            for item in other.items:
                item.task_number, item.task_title = other.number, _title(other.lines[0])


def _absorb_children(node: _Node) -> None:
    """A measure's sub-points that name no units of their own are part of its text."""
    if len(node.items) != 1 or not node.children:
        return
    if any(child.has_measure for child in node.children):
        return
    stack = list(reversed(node.children))
    while stack:
        child = stack.pop()
        node.items[0].text += child.prefix + "".join(child.lines)
        child.has_measure = True
        stack += reversed(child.children)


def _read_flat(paragraphs: list[str], layout: Layout) -> Layout:
    """Read paragraphs that name their units but carry no number (Word's own numbering)."""
    layout.kind = "无编号段落"
    heading: _Node | None = None
    for paragraph in paragraphs:
        text, duties = take_duties(paragraph)
        if duties:
            layout.items.append(_item(heading, "", text, duties))
        elif len(paragraph) <= 30 and not paragraph.endswith(("。", "：", ":")):
            heading = _Node(0, "", "", [paragraph], None)
    return layout


# Table headers, by what the column holds.
_HEAD_NUMBER = re.compile(r"^(?:序号|编号)$")
# "2022年预期目标" / "主要目标": a table of targets, a target a row.
_HEAD_MEASURE = re.compile(
    r"举措|措施|(?:工作|任务|具体|主要|项目|建设|实事)内容|工作要求|(?:预期|主要|工作|年度)目标"
    r"|目标任务"
)
_HEAD_TASK = re.compile(r"任务|事项|类别|领域|重点工作|项目名称")
_HEAD_LEAD = re.compile(r"牵头(?:责任)?(?:单位|部门)")
# A second level of responsibility in its own columns: "市卫健委内牵头处室".
_HEAD_LEAD_DIVISION = re.compile(r"牵头(?:处室|科室)")
_HEAD_SUPPORT_DIVISION = re.compile(r"(?:配合|协办|参与)(?:处室|科室)")
_HEAD_SUPPORT = re.compile(r"(?:配合|协办|参与)(?:单位|部门)")
_HEAD_UNITS = re.compile(r"责任(?:单位|部门)|负责(?:单位|部门)")
_HEAD_DEADLINE = re.compile(r"时限|完成时间")
# "责任领导" / "牵头市领导": a person, kept as the measure's note, never a unit.
_HEAD_LEADER = re.compile(r"(?:责任|牵头|分管|联系|包抓)[省市区县]?领导")


def _columns(header: Sequence[str]) -> dict[str, int]:
    cols: dict[str, int] = {}
    for i, cell in enumerate(header):
        for key, pattern in (
            ("number", _HEAD_NUMBER),
            ("leader", _HEAD_LEADER),
            ("lead_division", _HEAD_LEAD_DIVISION),
            ("support_division", _HEAD_SUPPORT_DIVISION),
            ("lead", _HEAD_LEAD),
            ("support", _HEAD_SUPPORT),
            ("units", _HEAD_UNITS),
            ("deadline", _HEAD_DEADLINE),
            ("measure", _HEAD_MEASURE),
            ("task", _HEAD_TASK),
        ):
            if pattern.search(cell) and key not in cols:
                cols[key] = i
                break
    if "measure" not in cols and "task" in cols:
        cols["measure"] = cols.pop("task")
    return cols


def find_header(rows: Sequence[Sequence[str]]) -> tuple[int, dict[str, int]] | None:
    """Return the header row's index and its columns, or None when no row is a header."""
    for i, row in enumerate(rows):
        cols = _columns([c.strip() for c in row])
        if "measure" in cols and {"units", "lead"} & cols.keys():
            return i, cols
    return None


# A table flattened to text: its header ends a line ("……分解表 序号 名称 工作任务 牵头责任单位"),
# then a row a line, "1 地区生产总值增长7%以上. 发改委": the number, the text, the units last.
_SPACED_HEADER = re.compile(r"(?:^|\s)((?:序号|编号)(?:\s+[^\s。，,；;.]{1,12}){2,8})\s*$")
_SPACED_ROW = re.compile(r"^(\d{1,3})\s+(.+?)\s+([^\s。，,；;：:.%）)]+)$")


def spaced_rows(lines: Sequence[str]) -> tuple[list[list[str]], list[str]]:
    """Read a table flattened to a row a line: (its rows from the header on, lines not read).

    A line that is no row holds one cell, a heading (see read_table), when it is numbered or
    short; else it is returned as a line not read. ([], []) when no line ends with a header.
    """
    found = next(((i, m) for i, ln in enumerate(lines) if (m := _SPACED_HEADER.search(ln))), None)
    if found is None:
        return [], []
    header = found[1].group(1).split()
    cols = _columns(header)
    units = cols.get("units", cols.get("lead"))
    if "measure" not in cols or units != len(header) - 1:  # the units are read as the last cell
        return [], []
    rows, unread = [header], []
    for line in (ln.strip() for ln in lines[found[0] + 1 :]):
        row = [""] * len(header)
        if m := _SPACED_ROW.match(line):
            row[cols["number"]], row[cols["measure"]], row[units] = m.groups()
        elif numbering(line) or len(line) <= 30:
            row[0] = line
        else:
            unread.append(f"不是表格的一行：{line[:40]}")
            continue
        rows.append(row)
    return rows, unread


_WRAP = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


def celled_rows(lines: Sequence[str]) -> list[list[str]]:
    """Read a table whose every cell stands on a line of its own (a web page's table as text).

    "序号" / "主 要 工 作 任 务" / "责任单位" / "1" / "地区生产总值增长6%左右。" / "市发展改革委":
    the header's names one a line, then each row from its number on; a line where a number
    is due is a heading row. [] when no line "序号" starts such a header.
    """
    lines = [ln.strip().removesuffix("|").removesuffix("｜") for ln in lines]  # "序号 |"
    names = [re.sub(r"\s+", "", ln) for ln in lines]
    for start, name in enumerate(names):
        if not _HEAD_NUMBER.match(name):
            continue
        width = 1
        while start + width < len(names) and len(names[start + width]) <= 12:
            if not _columns([names[start + width]]):
                break
            width += 1
        header = names[start : start + width]
        if width < 3 or find_header([header]) is None:
            continue
        rows, i = [header], start + width
        while i < len(lines):
            if re.fullmatch(r"\d{1,3}", names[i]) and i + width <= len(lines):
                # "工作机 制": a space between two characters is where the cell wrapped
                rows.append([_WRAP.sub("", ln) for ln in lines[i : i + width]])
                i += width
            else:
                rows.append([lines[i].strip()])
                i += 1
        return rows
    return []


def _is_heading(cells: Sequence[str], units: str) -> bool:
    """A row of one text across the table (a merged cell), or a line of its own in it."""
    return len(set(filter(None, cells))) == 1 and not units


def _fill_merged(
    rows: Sequence[Sequence[str]], measure: int, width: int, units_last: bool = False
) -> list[list[str]]:
    """Fill in the first cells a text table's row shares with the row above (merged cells).

    "(2)…… | 市行政审批局 | …" under "(一)…… | 1.…… | (1)…… | 市行政审批局 | …": the row is
    shorter, and its first cell is numbered as the measure above it is. Other short rows are
    left as they are (read_table tells of them).
    """
    out: list[list[str]] = []
    above: list[str] | None = None
    for row in rows:
        cells = [c.strip() for c in row]
        short = width - len(cells)
        if above is not None and 0 < measure <= short and cells and len(set(cells) - {""}) > 1:
            mine, theirs = numbering(cells[0]), numbering(above[measure])
            if mine and theirs and mine[0] == theirs[0]:
                # a units column last takes the last cell: "2.…… | ★区财政局" has no leader
                gap = [""] * (short - measure)
                tail = cells[1:] if units_last else []
                cells = [*above[:measure], *cells[: len(cells) - len(tail)], *gap, *tail]
        if len(cells) == width and len(set(cells) - {""}) > 1:
            above = cells
        out.append(cells)
    return out


def _per_row(values: Sequence[str]) -> bool:
    """Tell whether a column gives every row a value of its own (not a group of rows)."""
    return all(values) and len(set(values)) == len(values)


def _text_roles(
    header: Sequence[str], body: Sequence[Sequence[str]], headed: bool, cols: dict[str, int]
) -> None:
    """Decide which text column is the measure, which the task, which a measure's title.

    Headers alone do not tell ("类别", "任务组", "工作任务" all say task): the measure is
    the column whose rows differ most, a column whose value spans several rows (repeated, or
    a merged cell left empty) groups them into tasks, the finest such column being the task,
    and one with a value per row is the measure's own title. Set in `cols`: "measure",
    "task" (absent when rows are grouped by heading lines), "t0", "t1", … (title columns
    joined before the measure's text) and "number_measure" (序号 numbers the measures
    while a column groups them into tasks). `headed`: heading rows group the rows.
    """
    taken = {i for k, i in cols.items() if k not in ("measure", "task")}
    texts = [
        i
        for i, cell in enumerate(header)
        if i not in taken and (_HEAD_MEASURE.search(cell) or _HEAD_TASK.search(cell))
    ]
    if len(texts) < 2 or not body:
        return
    values = {i: [row[i].strip() for row in body] for i in texts}
    named = [i for i in texts if _HEAD_MEASURE.search(header[i])]
    measure = named[0] if named else max(texts, key=lambda i: (len(set(values[i])), i))
    others = [i for i in texts if i != measure]
    groups = [i for i in others if not _per_row(values[i])]
    titles = [i for i in others if _per_row(values[i])]
    cols.pop("task", None)
    cols["measure"] = measure
    if groups:
        cols["task"] = max(groups, key=lambda i: (len(set(values[i])), i))
    elif not headed and titles:
        cols["task"] = titles.pop()  # no other grouping: each row is a task of its own
    for n, i in enumerate(titles):
        cols[f"t{n}"] = i
    number = cols.get("number")
    # 序号 running on within a task numbers the measures, not the tasks.
    if number is not None and cols.get("task") in groups and _per_row([r[number] for r in body]):
        cols["number_measure"] = number


def _titled(title: str, text: str) -> str:
    """Join a measure's own title before its text, as "标题。正文" (unless it holds it)."""
    if not title or text.startswith(title):
        return text
    return f"{title}{'' if title.endswith(('。', '；', '：', '！', '？')) else '。'}{text}"


def read_table(rows: Sequence[Sequence[str]], kind: str) -> Layout | None:
    """Read a table whose columns are found by their headers; None when there is none.

    A row holding one text only is a heading: the task of the rows below it, unless a
    column groups them. A column's role is read from its header and its content.
    """
    found = find_header(rows)
    if found is None:
        return None
    head, cols = found
    width = len(rows[head])
    units_last = cols.get("units", cols.get("lead")) == width - 1
    rows = [*rows[: head + 1], *_fill_merged(rows[head + 1 :], cols["measure"], width, units_last)]
    layout = Layout(kind, cells=True)
    task_number, task_title = "", ""
    above = ""  # the 序号 cell of the row above

    def cell(row: Sequence[str], key: str) -> str:
        i = cols.get(key)
        value = row[i].strip() if i is not None and i < len(row) else ""
        # A 序号 cell holding a heading ("(一)全面实施……") numbers no row.
        return "" if key == "number" and len(value) > 8 else value

    body = [[c.strip() for c in row] for row in rows[head + 1 :] if any(c.strip() for c in row)]
    headings = [row for row in body if _is_heading(row, cell(row, "units"))]
    body = [row for row in body if len(row) == width and row not in headings]
    _text_roles(rows[head], body, bool(headings), cols)
    titles = sorted(k for k in cols if k.startswith("t") and k[1:].isdigit())
    for row in rows[head + 1 :]:
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if len(cells) != width and len(set(filter(None, cells))) != 1:
            layout.unplaced.append(f"列数不符（应有 {width} 列）：{'｜'.join(cells)[:40]}")
            continue
        if _is_heading(cells, cell(row, "units")):
            heading = next(c for c in cells if c)  # a full-width row: a heading
            numbered = numbering(heading)
            task_number, task_title = (numbered[1], numbered[2]) if numbered else ("", heading)
            continue
        own_number = "number_measure" in cols
        if "task" in cols and cell(row, "task") and cell(row, "task") != task_title:
            title = cell(row, "task")
            numbered = numbering(title)
            given = "" if own_number else cell(row, "number")
            task_number = given or (numbered[1] if numbered else "")
            task_title = numbered[2] if numbered and not given else title
        elif "task" in cols and not own_number and cell(row, "number") not in ("", task_number):
            layout.unplaced.append(f"序号 {cell(row, 'number')} 没有任务名称：{cells[0][:30]}")
            continue
        text = cell(row, "measure")
        for key in reversed(titles):
            text = _titled(cell(row, key), text)
        number = cell(row, "number") if own_number or "task" not in cols else ""
        # "1 | 主要预期目标 | 3.规上工业……": a 序号 merged over the rows; the text numbers its own
        numbered, shared = numbering(text), number == above
        above = number
        if numbered and (not number or shared or numbered[1] == number):
            number, text = numbered[1], numbered[2]
        duty = cell(row, "units")
        if "lead" in cols:
            lead = "、".join(filter(None, (cell(row, "lead"), cell(row, "lead_division"))))
            # "责任单位" beside "牵头单位": the units that share the work with the lead.
            support = "、".join(
                filter(
                    None,
                    (cell(row, "support"), cell(row, "units"), cell(row, "support_division")),
                )
            )
            duty = f"牵头单位：{lead}，配合单位：{support}"
        if leader := cell(row, "leader"):
            duty = f"责任领导：{leader}；{duty}"
        duty, deadline = split_deadline(duty)
        if not text or not duty.strip("，：牵头配合单位"):
            layout.unplaced.append(f"缺少举措或责任单位：{'｜'.join(cells)[:40]}")
            continue
        layout.items.append(
            Item(
                task_number,
                task_title or "主要任务",
                number,
                text,
                duty,
                cell(row, "deadline") or deadline,
            )
        )
    return layout

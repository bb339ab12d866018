"""Import the published notice's text into the plan data (data/plan.yaml)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml

from bot.plan import PlanError, Unit

_TAG = re.compile(r"</?p\s*>", re.IGNORECASE)
_ANNOTATION = re.compile(r"（([^（）]*)）")
_NUMBER = re.compile(r"\S+〔\d{4}〕\d+号")
_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_PERIOD = re.compile(r"(\d{4})\s*[—–-]+\s*(\d{4})年")
_REPORT = re.compile(r"[^，。；]*向([^，。；]+?)报送工作进度[^，。；]*")


def _cells(line: str) -> list[str]:
    return [_TAG.sub("", c).strip() for c in line.split("\t")]


def _metadata(lines: list[str]) -> dict[str, Any]:
    number = next((m.group(0) for ln in lines if (m := _NUMBER.fullmatch(ln))), None)
    title = next((ln for ln in lines if "关于印发" in ln and ln.endswith("通知")), None)
    date = next((m for ln in lines if (m := _DATE.fullmatch(ln))), None)
    if number is None or title is None or date is None:
        raise PlanError("文件头缺少文号、标题或成文日期")
    title = re.sub(r"\s+", "", title)
    period = _PERIOD.search(title)
    if period is None:
        raise PlanError(f"标题中找不到实施期限: {title}")
    issuer = re.sub(r"文件$", "", lines[0])
    return {
        "number": number,
        "title": title,
        "issuer": issuer,
        "date": dt.date(*(int(g) for g in date.groups())),
        "period": {"start": int(period.group(1)), "end": int(period.group(2))},
    }


def _resolve_units(
    cell: str, units: tuple[Unit, ...], collective: tuple[str, ...]
) -> dict[str, Any]:
    """Split a 责任单位 cell into canonical units, collective terms, annotations, corrections."""
    out: dict[str, Any] = {"units": []}
    for term in collective:
        if term in cell:
            out["all_provincial"] = True
            cell = cell.replace(term, "")
    notes = _ANNOTATION.findall(cell)
    if notes:
        out["unit_note"] = "；".join(notes)
        cell = _ANNOTATION.sub("", cell)
    by_name = {u.name: u for u in units}
    by_error = {wrong: u for u in units for wrong in u.misspellings}
    for name in filter(None, (n.strip() for n in re.split(r"[、，,]", cell))):
        if name in by_name:
            out["units"].append(name)
        elif name in by_error:
            out["units"].append(by_error[name].name)
            out.setdefault("corrections", []).append(
                {"written": name, "unit": by_error[name].name}
            )
        else:
            raise PlanError(f"责任单位「{name}」不在 units.yaml 中")
    return out


def parse_document(
    text: str, units: tuple[Unit, ...], collective: tuple[str, ...]
) -> dict[str, Any]:
    """Parse the notice's text into the plan.yaml structure (document metadata and tasks)."""
    # Keep leading tabs: continuation rows start with empty columns.
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    document = _metadata([ln.strip() for ln in lines])
    header = next(
        (i for i, ln in enumerate(lines) if _cells(ln)[:2] == ["序号", "主要任务"]), None
    )
    if header is None:
        raise PlanError("找不到责任分工表（表头：序号、主要任务、工作举措、责任单位）")
    tasks: list[dict[str, Any]] = []
    for line in lines[header + 1 :]:
        cells = _cells(line)
        if len(cells) != 4:
            raise PlanError(f"表格行应有 4 列，实际 {len(cells)} 列: {line[:40]}")
        number, title, text_cell, unit_cell = cells
        if number:
            if int(number) != len(tasks) + 1:
                raise PlanError(f"任务序号 {number} 不连续")
            tasks.append({"number": int(number), "title": title, "measures": []})
        elif not tasks or title:
            raise PlanError(f"续行前没有任务: {line[:40]}")
        task = tasks[-1]
        measure = {"id": f"{task['number']}.{len(task['measures']) + 1}", "text": text_cell}
        measure.update(_resolve_units(unit_cell, units, collective))
        task["measures"].append(measure)
    if not tasks:
        raise PlanError("责任分工表为空")
    rule = _REPORT.search(tasks[-1]["measures"][-1]["text"])
    if rule is None:
        raise PlanError("最后一项任务中找不到报送规则（向……报送工作进度）")
    document["reporting"] = {
        "task": tasks[-1]["number"],
        "to": rule.group(1),
        "rule": rule.group(0),
    }
    return {"document": document, "tasks": tasks}


def dump_plan(plan: dict[str, Any]) -> str:
    """Serialise the parsed plan as YAML, keys in the order written."""
    head = "# Imported from the notice by `python -m bot import-doc`; do not edit by hand.\n"
    return head + yaml.safe_dump(plan, allow_unicode=True, sort_keys=False, width=1000)


def import_document(source: Path, units: tuple[Unit, ...], collective: tuple[str, ...]) -> str:
    """Read the notice at `source` and return the plan.yaml text."""
    return dump_plan(parse_document(source.read_text(encoding="utf-8"), units, collective))

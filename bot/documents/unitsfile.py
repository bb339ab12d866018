"""Write a unit change into units.yaml (and take it out again), keeping the file as written.

The file is hand-edited: the change's lines are inserted into the old unit's entry (a renamed
unit's new entry is appended to the list) and everything else stays as it was, comments
included. Should the file be laid out so that this cannot be done safely, it is written anew
from its content and the comments are lost; the caller is told. Writes are atomic: a temporary
file beside it, flushed to disk, then renamed over it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bot.documents.succession import KEYS, Change

_PLAIN = re.compile(r"[\w（）()·・\-]+")
_KEY_OF = {kind: key for key, kind in KEYS.items()}


def record(path: Path, change: Change, new_unit: dict[str, Any] | None = None) -> bool:
    """Write `change` on its unit's entry (and `new_unit`, a rename's, at the end).

    Returns False when the file had to be written anew (its comments lost).
    """
    text = path.read_text(encoding="utf-8")
    key = _KEY_OF[change.kind]
    value: object = (
        {name: list(ids) for name, ids in change.parts} if change.parts else change.successor
    )

    def expected(data: dict[str, Any]) -> None:
        entry = _entry(data, change.old)
        entry[key], entry["since"] = value, change.since
        if new_unit is not None:
            data["units"].append(new_unit)

    def edit(lines: list[str], root: yaml.MappingNode) -> None:
        units = _units_node(root)
        item = next(i for i in units.value if _name(i) == change.old)
        indent = " " * item.value[0][0].start_mark.column
        at = _last_line(item) + 1
        if new_unit is not None:
            last = units.value[-1]
            dash = " " * max(last.start_mark.column - 2, 0)
            lines[_last_line(last) + 1 : _last_line(last) + 1] = _entry_lines(dash, new_unit)
        lines[at:at] = [*_key_lines(indent, key, value), f"{indent}since: {change.since}\n"]

    return _rewrite(path, text, expected, edit)


def forget(path: Path, old: str, drop_unit: str | None = None) -> bool:
    """Take the change off `old`'s entry (and `drop_unit`'s entry, made by the change, away).

    Returns False when the file had to be written anew (its comments lost).
    """
    text = path.read_text(encoding="utf-8")

    def expected(data: dict[str, Any]) -> None:
        entry = _entry(data, old)
        for key in (*KEYS, "since"):
            entry.pop(key, None)
        if drop_unit is not None:
            data["units"] = [u for u in data["units"] if u.get("name") != drop_unit]

    def edit(lines: list[str], root: yaml.MappingNode) -> None:
        units = _units_node(root)
        spans = []
        for item in units.value:
            if drop_unit is not None and _name(item) == drop_unit:
                spans.append((item.start_mark.line, _last_line(item)))
            if _name(item) == old:
                spans += [
                    (k.start_mark.line, _last_line(v))
                    for k, v in item.value
                    if k.value in (*KEYS, "since")
                ]
        for start, end in sorted(spans, reverse=True):
            del lines[start : end + 1]

    return _rewrite(path, text, expected, edit)


def _rewrite(
    path: Path,
    text: str,
    expected: Callable[[dict[str, Any]], None],
    edit: Callable[[list[str], yaml.MappingNode], None],
) -> bool:
    """Edit the text in place if the result reads as `expected` made it; else dump it anew."""
    data = yaml.safe_load(text)
    expected(data)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if not isinstance(root, yaml.MappingNode):
            raise ValueError("not a mapping")
        edit(lines, root)
        edited = "".join(lines)
        kept = bool(yaml.safe_load(edited) == data)
    except (yaml.YAMLError, ValueError, StopIteration, IndexError):
        kept = False
    if not kept:
        edited = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
    _write_atomically(path, edited)
    return kept


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself, on disk
    finally:
        os.close(fd)


def _entry(data: dict[str, Any], name: str) -> dict[str, Any]:
    entry: dict[str, Any] = next(u for u in data["units"] if u.get("name") == name)
    return entry


def _units_node(root: yaml.MappingNode) -> yaml.SequenceNode:
    node = next(v for k, v in root.value if k.value == "units")
    if not isinstance(node, yaml.SequenceNode) or node.flow_style or not node.value:
        raise ValueError("units is not a block list")
    return node


def _name(item: yaml.Node) -> str:
    if not isinstance(item, yaml.MappingNode) or item.flow_style:
        return ""
    return next((str(v.value) for k, v in item.value if k.value == "name"), "")


def _last_line(node: yaml.Node) -> int:
    """Return the 0-based line of the node's last character."""
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode) and not node.flow_style:
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, yaml.SequenceNode) and not node.flow_style:
        children = list(node.value)
    if children:
        return max(_last_line(c) for c in children)
    end = node.end_mark
    return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line


def _scalar(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return (
        text
        if _PLAIN.fullmatch(text) and not text[0].isdigit()
        else json.dumps(text, ensure_ascii=False)
    )


def _key_lines(indent: str, key: str, value: object) -> list[str]:
    if isinstance(value, dict):
        return [f"{indent}{key}:\n"] + [
            f"{indent}  {_scalar(k)}: [{', '.join(_scalar(i) for i in v)}]\n"
            for k, v in value.items()
        ]
    return [f"{indent}{key}: {_scalar(value)}\n"]


def _entry_lines(dash: str, unit: dict[str, Any]) -> list[str]:
    lines = []
    for i, (key, value) in enumerate(unit.items()):
        lead = f"{dash}- " if i == 0 else f"{dash}  "
        shown = (
            f"[{', '.join(_scalar(v) for v in value)}]"
            if isinstance(value, list)
            else _scalar(value)
        )
        lines.append(f"{lead}{key}: {shown}\n")
    return lines

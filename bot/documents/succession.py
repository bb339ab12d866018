"""Units that changed after the document (机构改革): renamed, merged into another, split.

units.yaml records a change on the old unit's entry, the document's text is never touched:

    - name: 省乡村振兴局
      merged_into: 农业农村厅        # or renamed_to: 新名称, or split_into: {单位: [举措, …]}
      since: 2024-01-01

From `since` on, the old unit's duties are its successor's. Answers follow every recorded
change; a year's progress, export, report and picture follow the changes made by that year.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Kind = Literal["renamed", "merged", "split"]
# The key in units.yaml of each kind of change, and how an answer words it.
KEYS: dict[str, Kind] = {"renamed_to": "renamed", "merged_into": "merged", "split_into": "split"}
VERBS: dict[Kind, str] = {"renamed": "更名为", "merged": "并入", "split": "分设为"}


class ChangeError(ValueError):
    """A change in units.yaml is malformed or inconsistent; the message names the entry."""


@dataclass(frozen=True)
class Change:
    """One unit's change: its successor (or, split, the successors of its measures) since a day."""

    old: str
    kind: Kind
    since: dt.date
    successor: str = ""  # renamed, merged
    parts: tuple[tuple[str, tuple[str, ...]], ...] = ()  # split: (successor, measure ids)

    @property
    def successors(self) -> tuple[str, ...]:
        """Return the units that took the old unit's duties over."""
        return tuple(name for name, _ in self.parts) if self.parts else (self.successor,)

    def heir(self, measure_id: str) -> str:
        """Return the unit that took over the old unit's duty in this measure."""
        for name, ids in self.parts:
            if measure_id in ids:
                return name
        return self.successor or self.old

    def describe(self) -> str:
        """Say what happened, e.g. "2024年起并入农业农村厅"."""
        return f"{self.since.year}年起{VERBS[self.kind]}{'、'.join(self.successors)}"


@dataclass(frozen=True)
class Succession:
    """The changes of one document's units, keyed by the old unit's name."""

    changes: Mapping[str, Change] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def change(self, unit: str) -> Change | None:
        """Return the change that ended `unit`, or None."""
        return self.changes.get(unit)

    def until(self, year: int) -> Succession:
        """Return the changes made by the end of `year`."""
        return Succession({k: c for k, c in self.changes.items() if c.since.year <= year})

    def holder(self, unit: str, measure_id: str) -> str:
        """Return who holds `unit`'s duty in a measure now: its successor's successor …"""
        seen = {unit}
        while (change := self.changes.get(unit)) is not None:
            unit = change.heir(measure_id)
            if unit in seen:  # a cycle (refused when loading): stop rather than loop
                break
            seen.add(unit)
        return unit

    def current(self, unit: str) -> str | None:
        """Return the unit that is `unit` now (itself, or the end of its renames and mergers).

        None for a unit split among several.
        """
        seen = {unit}
        while (change := self.changes.get(unit)) is not None:
            if change.kind == "split":
                return None
            unit = change.successor
            if unit in seen:
                break
            seen.add(unit)
        return unit

    def born(self, year: int) -> frozenset[str]:
        """Return the names that a rename made after `year` (no unit yet that year)."""
        return frozenset(
            c.successor
            for c in self.changes.values()
            if c.kind == "renamed" and c.since.year > year
        )


def parse_change(where: str, entry: Mapping[str, Any]) -> Change | None:
    """Return the change recorded on a units.yaml entry, or None; ChangeError when malformed."""
    keys = [k for k in KEYS if k in entry]
    if not keys:
        if "since" in entry:
            raise ChangeError(f"{where}: 有 since 但没有 renamed_to / merged_into / split_into")
        return None
    if len(keys) > 1:
        raise ChangeError(f"{where}: {'、'.join(keys)} 只能写一个")
    key, old = keys[0], str(entry.get("name", "")).strip()
    since = _date(where, entry.get("since"))
    value = entry[key]
    if key == "split_into":
        if not isinstance(value, Mapping) or not value:
            raise ChangeError(f"{where}: split_into 须是「单位: [举措编号, …]」的映射")
        parts = []
        for name, ids in value.items():
            if name == "__line__":
                continue
            if not isinstance(ids, list) or not ids:
                raise ChangeError(f"{where}: split_into 中「{name}」须列出举措编号")
            parts.append((str(name).strip(), tuple(str(i).strip() for i in ids)))
        return Change(old, "split", since, parts=tuple(parts))
    if not isinstance(value, str) or not value.strip():
        raise ChangeError(f"{where}: {key} 须是单位名称")
    return Change(old, KEYS[key], since, successor=value.strip())


def _date(where: str, value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ChangeError(f"{where}: since 须是日期 YYYY-MM-DD（实际为「{value}」）")


def check(
    path: Path, changes: Iterable[Change], units: Iterable[str], measures: Mapping[str, set[str]]
) -> Succession:
    """Validate the changes against the units and measures (unit → its measure ids).

    Successors exist and differ from the old unit, no unit changes twice, no cycles, a split
    gives every measure of the old unit to exactly one of the units it lists.
    """
    known = set(units)
    found: dict[str, Change] = {}
    for c in changes:
        for name in c.successors:
            if name not in known:
                raise ChangeError(f"{path}: 「{c.old}」的继任单位「{name}」不在 units 中")
            if name == c.old:
                raise ChangeError(f"{path}: 「{c.old}」不能{VERBS[c.kind]}自己")
        if c.kind == "split":
            owed = measures.get(c.old, set())
            given = [i for _, ids in c.parts for i in ids]
            twice = sorted({i for i in given if given.count(i) > 1})
            missing, extra = sorted(owed - set(given)), sorted(set(given) - owed)
            if missing or extra or twice:
                problems = [
                    f"未分配 {'、'.join(missing)}" if missing else "",
                    f"不是它的举措 {'、'.join(extra)}" if extra else "",
                    f"重复分配 {'、'.join(twice)}" if twice else "",
                ]
                detail = "；".join(p for p in problems if p)
                raise ChangeError(f"{path}: 「{c.old}」的拆分须恰好覆盖它的每项举措：{detail}")
        found[c.old] = c
    for old in found:  # a chain must end: A → B → A would hand duties round for ever
        _acyclic(path, found, [old])
    return Succession(found)


def _acyclic(path: Path, found: Mapping[str, Change], chain: list[str]) -> None:
    change = found.get(chain[-1])
    for name in change.successors if change is not None else ():
        if name in chain:
            raise ChangeError(f"{path}: 单位变更成环：{' → '.join([*chain, name])}")
        _acyclic(path, found, [*chain, name])

"""The plan: the document's table as frozen data, loaded and validated from data/*.yaml."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.documents.succession import Change, ChangeError, Succession, check, parse_change


def _shipped_data() -> Path:
    # The checkout's data/ (also under `pip install -e`), else ./data (the Docker image's).
    beside = Path(__file__).resolve().parents[2] / "data"
    return beside if beside.is_dir() else Path.cwd() / "data"


# The notice's data as shipped with the program (tracked by git, copied into the image): read
# only. A coordinator's unit changes are written into a data folder of their own (FENGONG_DATA).
SHIPPED_DATA = _shipped_data()
DATA_DIR = Path(os.environ["FENGONG_DATA"]) if os.environ.get("FENGONG_DATA") else SHIPPED_DATA


def is_shipped(folder: Path) -> bool:
    """Tell whether `folder` is the program's own data folder, kept as shipped."""
    return folder.resolve() == SHIPPED_DATA.resolve()


class PlanError(ValueError):
    """The data files are inconsistent; the message names the file and the entry."""


@dataclass(frozen=True)
class Unit:
    """A responsible unit: the name the document uses, its official name and its short forms."""

    name: str
    full_name: str
    aliases: tuple[str, ...] = ()
    # Spellings found in the document that are errors for this unit (kept, never dropped).
    misspellings: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        """Return every name that refers to this unit, canonical first."""
        return (self.name, self.full_name, *self.aliases)


@dataclass(frozen=True)
class Correction:
    """A unit name the document misspells, and the unit it means."""

    written: str
    unit: str


@dataclass(frozen=True)
class Measure:
    """One row of the table: a work measure (工作举措) and the units responsible for it."""

    id: str
    task: int
    text: str
    units: tuple[str, ...]
    # True where the row binds every provincial unit ("省级有关部门（单位）").
    all_provincial: bool = False
    corrections: tuple[Correction, ...] = ()
    # The cell's own remark on the units, e.g. "按职责分工负责，下同".
    unit_note: str = ""
    # The units that lead (牵头); the others in `units` support (配合). Empty: not stated.
    lead: tuple[str, ...] = ()
    # What the document writes for everyone of a kind ("各省级人民政府", "各区、县级市").
    catch_all: tuple[str, ...] = ()
    # The item's own number in the document ("（十）", "10"), "" when it has none.
    doc_number: str = ""
    # The deadline (完成时限) as written, "" when none.
    deadline: str = ""
    # The units that guide (指导) the work rather than carry it out.
    guide: tuple[str, ...] = ()

    @property
    def supporting(self) -> tuple[str, ...]:
        """Return the units that support (配合) when a lead or guide is stated, else ()."""
        if not (self.lead or self.guide):
            return ()
        return tuple(u for u in self.units if u not in self.lead and u not in self.guide)

    def role_of(self, unit: str) -> str:
        """Return the unit's role as the document states it: 牵头, 指导, 配合, or ""."""
        if unit in self.lead:
            return "牵头"
        if unit in self.guide:
            return "指导"
        return "配合" if unit in self.supporting else ""

    @property
    def index(self) -> int:
        """Return k of the id N.k."""
        return int(self.id.split(".")[1])


@dataclass(frozen=True)
class Task:
    """A main task (主要任务) with its measures in document order."""

    number: int
    title: str
    measures: tuple[Measure, ...]
    # The task's own number in the document ("二", "（一）"), "" when it is `number`.
    doc_number: str = ""


@dataclass(frozen=True)
class Document:
    """The notice's metadata and the reporting rule of its last task."""

    number: str
    title: str
    issuer: str
    date: dt.date
    period: tuple[int, int]
    # Empty when the document states no reporting rule.
    report_to: str = ""
    report_rule: str = ""
    # The task that states the reporting rule (16 in the notice); 0 when none is known.
    report_task: int = 0


@dataclass(frozen=True)
class Plan:
    """The whole responsibility division: document, tasks, measures and units."""

    document: Document
    tasks: tuple[Task, ...]
    units: tuple[Unit, ...]
    collective_terms: tuple[str, ...] = ()
    # Units renamed, merged or split since the document (units.yaml): who holds their duties.
    succession: Succession = field(default_factory=Succession, repr=False, compare=False)
    _measures: Mapping[str, Measure] = field(default_factory=dict, repr=False, compare=False)
    _units: Mapping[str, Unit] = field(default_factory=dict, repr=False, compare=False)
    _by_unit: Mapping[str, tuple[Measure, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        measures = {m.id: m for t in self.tasks for m in t.measures}
        by_unit: dict[str, list[Measure]] = {u.name: [] for u in self.units}
        for m in measures.values():
            for name in m.units:
                by_unit.setdefault(name, []).append(m)
        object.__setattr__(self, "_measures", measures)
        object.__setattr__(self, "_units", {u.name: u for u in self.units})
        object.__setattr__(self, "_by_unit", {k: tuple(v) for k, v in by_unit.items()})

    @property
    def measures(self) -> tuple[Measure, ...]:
        """Return every measure in document order."""
        return tuple(self._measures.values())

    def measure(self, measure_id: str) -> Measure | None:
        """Return the measure with this id, or None."""
        return self._measures.get(measure_id)

    def task(self, number: int) -> Task | None:
        """Return task `number` (1-based), or None."""
        return self.tasks[number - 1] if 1 <= number <= len(self.tasks) else None

    def unit(self, name: str) -> Unit | None:
        """Return the unit with this canonical name, or None."""
        return self._units.get(name)

    def measures_of(self, unit: str) -> tuple[Measure, ...]:
        """Return the measures naming `unit` explicitly, in document order."""
        return self._by_unit.get(unit, ())

    def shared_measures(self) -> tuple[Measure, ...]:
        """Return the measures that bind every provincial unit (11.1, 16.1)."""
        return tuple(m for m in self._measures.values() if m.all_provincial)

    def duties_of(self, unit: str) -> tuple[Measure, ...]:
        """Return the unit's own and inherited measures, then the shared ones it is not in."""
        own = self.measures_of(unit)
        if self.succession:
            mine = {m.id for m in own} | {m.id for m in self.inherited(unit)}
            own = tuple(m for m in self._measures.values() if m.id in mine)
        named = {m.id for m in own}
        return own + tuple(m for m in self.shared_measures() if m.id not in named)

    def is_responsible(self, unit: str, measure: Measure) -> bool:
        """Tell whether `unit` must report on `measure` (named, inherited, or bound as a
        provincial unit)."""
        return unit in measure.units or measure.all_provincial or bool(self.origins(unit, measure))

    def holder(self, unit: str, measure_id: str) -> str:
        """Return the unit holding `unit`'s duty in a measure after the recorded changes."""
        return self.succession.holder(unit, measure_id)

    def origins(self, unit: str, measure: Measure) -> tuple[str, ...]:
        """Return the units the measure names whose duty `unit` took over ("（原…）")."""
        if not self.succession:
            return ()
        return tuple(u for u in measure.units if u != unit and self.holder(u, measure.id) == unit)

    def inherited(self, unit: str) -> tuple[Measure, ...]:
        """Return the measures `unit` took over from units that changed, in document order."""
        return tuple(m for m in self._measures.values() if self.origins(unit, m))

    def as_of(self, year: int) -> Plan:
        """Return the plan as it stands in `year`: the units of that year, the changes made by it.

        A unit changed in or before `year` is gone (its successor reports its measures); a
        name a later rename brings is not there yet.
        """
        if not self.succession:
            return self
        succession = self.succession.until(year)
        # A name a later rename brings, unless the document itself names it.
        unborn = {n for n in self.succession.born(year) if not self.measures_of(n)}
        gone = set(succession.changes) | unborn
        units = tuple(u for u in self.units if u.name not in gone)
        return Plan(self.document, self.tasks, units, self.collective_terms, succession)

    def reported_by(self, reported: Mapping[str, Set[str]], unit: str) -> set[str]:
        """Return the measures `unit` has a note on in `reported`, its predecessors' included."""
        done = set(reported.get(unit, ()))
        for old in self.succession.changes:
            done |= {i for i in reported.get(old, ()) if self.holder(old, i) == unit}
        return done


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that remembers the line of every mapping, for error messages."""


def _construct_mapping(
    loader: yaml.SafeLoader | yaml.CSafeLoader, node: yaml.MappingNode
) -> dict[Any, Any]:
    # YAML lets a repeated key silently replace the first: in a hand-edited file that loses
    # an entry, so it is an error here.
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"重复的键「{key}」", key_node.start_mark
            )
        seen.add(key)
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _fast_loader() -> type[Any]:
    """Return _LineLoader on libyaml's parser, where PyYAML has it (else _LineLoader itself).

    It reads the shipped data files about 8× faster (12 ms instead of 100 ms: most of the
    start-up of `python -m bot ask`); the pure-Python parser's complaints are the ones
    `yaml_error` says in Chinese, so a file it refuses is read again by that one.
    """
    base = getattr(yaml, "CSafeLoader", None)
    if base is None:
        return _LineLoader
    loader: type[Any] = type("_CLineLoader", (base,), {})
    loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    return loader


_FAST_LOADER = _fast_loader()


# The parser's usual complaints, said in Chinese (any other is quoted, its first line only).
_YAML_PROBLEMS = (
    ("cannot start any token", "这里有不允许的字符（缩进只能用空格，不能用 Tab）"),
    ("mapping values are not allowed", "这里不能出现冒号（值里有冒号时请给整个值加引号）"),
    ("expected ',' or ']'", "方括号 [ ] 没有正确闭合"),
    ("expected ',' or '}'", "花括号 { } 没有正确闭合"),
    ("found unexpected end of stream", "文件在引号或括号闭合之前就结束了"),
    ("expected the node content", "这里缺少内容（括号、引号或冒号后的值不完整）"),
    ("could not find expected ':'", "缺少冒号"),
    ("did not find expected key", "缩进不一致"),
    ("did not find expected '-' indicator", "列表项的缩进不一致"),
    ("expected <block end>", "缩进不一致"),
)


def yaml_error(path: Path, error: yaml.YAMLError) -> str:
    """Say in Chinese which file, line and column a YAML error is at, and what is wrong."""
    mark = getattr(error, "problem_mark", None)
    where = f" 第{mark.line + 1}行第{mark.column + 1}列" if mark is not None else ""
    problem = str(getattr(error, "problem", None) or error).splitlines()[0]
    said = next((zh for en, zh in _YAML_PROBLEMS if en in problem), None)
    if said is None:  # our own complaints (重复的键) are Chinese already
        said = problem if not problem.isascii() else f"解析器提示「{problem[:80]}」"
    return f"{path}:{where} YAML 格式错误：{said}"


def read_yaml(path: Path) -> Any:
    """Parse a data file; mappings carry their line as "__line__" for error messages."""
    try:
        text = path.read_text(encoding="utf-8")
        try:
            return yaml.load(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:  # said as the pure-Python parser says it (or read by it)
            return yaml.load(text, Loader=_LineLoader)
    except FileNotFoundError:
        raise PlanError(f"{path}: 文件不存在") from None
    except yaml.YAMLError as e:
        raise PlanError(yaml_error(path, e)) from None
    except ValueError as e:  # a date that does not exist (since: 2024-02-30)
        raise PlanError(f"{path}: 日期不存在（{e}）") from None


def _where(path: Path, entry: Mapping[str, Any] | None) -> str:
    line = entry.get("__line__") if isinstance(entry, Mapping) else None
    return f"{path}:{line}" if line else str(path)


def _text(path: Path, entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str | int) or not str(value).strip():
        raise PlanError(f"{_where(path, entry)}: 条目缺少「{key}」或为空")
    return str(value).strip()


def _strings(path: Path, entry: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = entry.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise PlanError(f"{_where(path, entry)}: 「{key}」必须是非空字符串的列表")
    return tuple(v.strip() for v in value)


def parse_units(path: Path, raw: Any) -> tuple[tuple[Unit, ...], tuple[str, ...]]:
    """Build the units and the collective terms from units.yaml content."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("units"), list):
        raise PlanError(f"{path}: 需要顶层键 units（单位列表）")
    units: list[Unit] = []
    claimed: dict[str, str] = {}
    for entry in raw["units"]:
        if not isinstance(entry, Mapping):
            raise PlanError(f"{path}: units 的每一项必须是映射")
        unit = Unit(
            name=_text(path, entry, "name"),
            full_name=_text(path, entry, "full_name"),
            aliases=_strings(path, entry, "aliases"),
            misspellings=_strings(path, entry, "misspellings"),
        )
        for alias in {*unit.names(), *unit.misspellings}:
            owner = claimed.setdefault(alias, unit.name)
            if owner != unit.name:
                raise PlanError(
                    f"{_where(path, entry)}: 名称「{alias}」同时属于「{owner}」和「{unit.name}」"
                )
        if any(u.name == unit.name for u in units):
            raise PlanError(f"{_where(path, entry)}: 单位「{unit.name}」重复")
        units.append(unit)
    collective = _strings(path, raw, "collective")
    return tuple(units), collective


def _document(path: Path, raw: Mapping[str, Any]) -> Document:
    doc = raw.get("document")
    if not isinstance(doc, Mapping):
        raise PlanError(f"{path}: 缺少 document（文件信息）")
    period = doc.get("period")
    date = doc.get("date")
    if not isinstance(period, Mapping) or not isinstance(date, dt.date):
        raise PlanError(f"{_where(path, doc)}: document 需要 date（日期）和 period（start/end）")
    reporting = doc.get("reporting")  # a document may state no reporting rule
    to, rule, task = (
        (_text(path, reporting, "to"), _text(path, reporting, "rule"), reporting.get("task"))
        if reporting is not None
        else ("", "", 0)
    )
    return Document(
        number=_text(path, doc, "number"),
        title=_text(path, doc, "title"),
        issuer=_text(path, doc, "issuer"),
        date=date,
        period=(int(_text(path, period, "start")), int(_text(path, period, "end"))),
        report_to=to,
        report_rule=rule,
        report_task=task if isinstance(task, int) else 0,
    )


def parse_plan(path: Path, raw: Any, units: tuple[Unit, ...], collective: tuple[str, ...]) -> Plan:
    """Build and validate a Plan from plan.yaml content and the known units."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("tasks"), list):
        raise PlanError(f"{path}: 需要顶层键 document 和 tasks")
    known = {u.name for u in units}
    seen: set[str] = set()
    tasks: list[Task] = []
    for t_entry in raw["tasks"]:
        number = int(_text(path, t_entry, "number"))
        if number != len(tasks) + 1:
            raise PlanError(f"{_where(path, t_entry)}: 任务编号 {number} 重复或不连续")
        measures: list[Measure] = []
        for m_entry in t_entry.get("measures") or []:
            mid = _text(path, m_entry, "id")
            if mid in seen:
                raise PlanError(f"{_where(path, m_entry)}: 举措编号 {mid} 重复")
            if mid != f"{number}.{len(measures) + 1}":
                raise PlanError(f"{_where(path, m_entry)}: 举措编号 {mid} 与位置不符")
            seen.add(mid)
            m_units = _strings(path, m_entry, "units")
            for name in (
                *m_units,
                *_strings(path, m_entry, "lead"),
                *_strings(path, m_entry, "guide"),
            ):
                if name not in known:
                    raise PlanError(f"{_where(path, m_entry)}: 举措 {mid} 的单位「{name}」未知")
            corrections = tuple(
                Correction(written=_text(path, c, "written"), unit=_text(path, c, "unit"))
                for c in m_entry.get("corrections") or []
            )
            measures.append(
                Measure(
                    id=mid,
                    task=number,
                    text=_text(path, m_entry, "text"),
                    units=m_units,
                    all_provincial=bool(m_entry.get("all_provincial", False)),
                    corrections=corrections,
                    unit_note=str(m_entry.get("unit_note", "")),
                    lead=_strings(path, m_entry, "lead"),
                    catch_all=_strings(path, m_entry, "catch_all"),
                    doc_number=str(m_entry.get("doc_number", "")),
                    deadline=str(m_entry.get("deadline", "")),
                    guide=_strings(path, m_entry, "guide"),
                )
            )
        if not measures:
            raise PlanError(f"{_where(path, t_entry)}: 任务 {number} 没有举措")
        tasks.append(
            Task(
                number=number,
                title=_text(path, t_entry, "title"),
                measures=tuple(measures),
                doc_number=str(t_entry.get("doc_number", "")),
            )
        )
    return Plan(_document(path, raw), tuple(tasks), units, collective)


def parse_changes(path: Path, raw: Any, plan: Plan) -> Plan:
    """Return the plan with the unit changes of units.yaml content, validated (see succession)."""
    changes: list[Change] = []
    try:
        for entry in raw["units"]:
            change = parse_change(_where(path, entry), entry)
            if change is not None:
                changes.append(change)
        owned = {u.name: {m.id for m in plan.measures_of(u.name)} for u in plan.units}
        succession = check(path, changes, (u.name for u in plan.units), owned)
    except ChangeError as e:
        raise PlanError(str(e)) from None
    if not succession:
        return plan
    return Plan(plan.document, plan.tasks, plan.units, plan.collective_terms, succession)


def load_plan(data_dir: Path = DATA_DIR) -> Plan:
    """Load and validate data/plan.yaml and data/units.yaml; raise PlanError naming the entry."""
    units_path, plan_path = data_dir / "units.yaml", data_dir / "plan.yaml"
    raw_units = read_yaml(units_path)
    units, collective = parse_units(units_path, raw_units)
    plan = parse_plan(plan_path, read_yaml(plan_path), units, collective)
    return parse_changes(units_path, raw_units, plan)

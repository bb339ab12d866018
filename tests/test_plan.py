"""Loading the data files: validation that fails loudly, naming the file and the entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.ask.lexicon import load_lexicon
from bot.documents import plan
from bot.documents.plan import DATA_DIR, PlanError, load_plan


@pytest.fixture
def data(tmp_path: Path) -> Path:
    for name in ("plan.yaml", "units.yaml", "lexicon.yaml"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_plan_model() -> None:
    plan = load_plan()
    assert len(plan.tasks) == 16
    assert len(plan.measures) == 31
    assert [m.id for m in plan.shared_measures()] == ["11.1", "16.1"]
    assert [m.id for m in plan.measures_of("省委编办")] == ["1.1", "1.2"]
    assert [m.id for m in plan.duties_of("省委编办")] == ["1.1", "1.2", "11.1", "16.1"]
    assert plan.is_responsible("省委编办", plan.measure("16.1"))
    assert not plan.is_responsible("省委编办", plan.measure("2.1"))
    assert plan.unit("省邮政分公司").full_name == "中国邮政集团有限公司四川省分公司"
    assert "中国邮政四川省分公司" in plan.unit("省邮政分公司").aliases
    assert plan.document.period == (2022, 2024)
    every_unit = {u for m in plan.measures for u in m.units}
    assert every_unit == {u.name for u in plan.units}


def test_unknown_unit(data: Path) -> None:
    _edit(data / "plan.yaml", "    - 省烟草专卖局\n", "    - 省火星局\n")
    with pytest.raises(PlanError, match=r"plan\.yaml:\d+: 举措 2\.3 的单位「省火星局」未知"):
        load_plan(data)


def test_duplicate_measure_id(data: Path) -> None:
    _edit(data / "plan.yaml", "- id: '1.2'", "- id: '1.1'")
    with pytest.raises(PlanError, match=r"plan\.yaml:\d+: 举措编号 1\.1 重复"):
        load_plan(data)


def test_empty_text(data: Path) -> None:
    _edit(data / "plan.yaml", "text: 持续开展农村困难残疾人实用技术培训。", "text: ''")
    with pytest.raises(PlanError, match=r"plan\.yaml:\d+: 条目缺少「text」或为空"):
        load_plan(data)


def test_alias_claimed_by_two_units(data: Path) -> None:
    _edit(data / "units.yaml", "aliases: [省教育厅]", "aliases: [省教育厅, 人社厅]")
    with pytest.raises(PlanError, match="名称「人社厅」同时属于"):
        load_plan(data)


def test_duplicate_unit(data: Path) -> None:
    _edit(data / "units.yaml", "  - name: 财政厅\n", "  - name: 民政厅\n")
    with pytest.raises(PlanError, match=r"units\.yaml:\d+: 单位「民政厅」重复"):
        load_plan(data)


def test_malformed_yaml_names_the_line(data: Path) -> None:
    path = data / "plan.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[20] = "    text: [unclosed"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(PlanError, match=r"plan\.yaml: 第\d+行第\d+列 YAML 格式错误：[^a-z]+$"):
        load_plan(data)


def test_missing_file(data: Path) -> None:
    (data / "units.yaml").unlink()
    with pytest.raises(PlanError, match=r"units\.yaml: 文件不存在"):
        load_plan(data)


def test_lexicon_validation(data: Path) -> None:
    _edit(data / "lexicon.yaml", "  视障: [盲人]", "  视障: 盲人")
    with pytest.raises(PlanError, match="同义词「视障」的值必须是列表"):
        load_lexicon(data)


def test_a_repeated_key_is_an_error_not_a_silent_replacement(data: Path) -> None:
    """A hand-edited file that repeats a key would otherwise lose the first entry."""
    _edit(data / "lexicon.yaml", "  视障: [盲人]", "  视障: [盲人]\n  视障: [视力]")
    said = r"lexicon\.yaml: 第\d+行第\d+列 YAML 格式错误：重复的键「视障」$"
    with pytest.raises(PlanError, match=said):
        load_lexicon(data)


@pytest.mark.parametrize("name", ["plan.yaml", "units.yaml", "lexicon.yaml"])
def test_libyamls_parser_reads_the_data_files_as_the_pure_one_does(name: str) -> None:
    """The data files are read by libyaml where PyYAML has it (8× faster at every start)."""
    if yaml.__with_libyaml__:
        assert issubclass(plan._FAST_LOADER, yaml.CSafeLoader)
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    fast = yaml.load(text, Loader=plan._FAST_LOADER)
    assert fast == yaml.load(text, Loader=plan._LineLoader)  # their lines too ("__line__")

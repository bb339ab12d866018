"""Unit changes in units.yaml: what check-data accepts and refuses; writing them keeps the file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.cli import main
from bot.documents.plan import load_plan
from bot.documents.succession import Change
from bot.documents.unitsfile import forget, record
from tests.unitdata import RURAL_ENTRY, add, copy_data, merge_by_hand

FIN_ENTRY = "    aliases: [地方金融监管局, 金融监管局, 金融局, 地方金融监督管理局, 省金融监管局]\n"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return copy_data(tmp_path)


def check(data: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check-data", "--data", str(data)])
    out, err = capsys.readouterr()
    return code, out + err


def test_check_data_accepts_a_merger_a_rename_and_a_split(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    merge_by_hand(data)
    add(data, FIN_ENTRY, "    renamed_to: 省财政厅金融处\n    since: 2024-05-01\n")
    (data / "units.yaml").write_text(
        (data / "units.yaml").read_text(encoding="utf-8")
        + "  - name: 省财政厅金融处\n    full_name: 四川省财政厅金融处\n",
        encoding="utf-8",
    )
    # 省工商联's own measures (the shared ones are every unit's, not split).
    own = [m.id for m in load_plan(data).measures_of("省工商联")]
    first, *rest = own
    add(
        data,
        "    aliases: [工商联, 工商业联合会]\n",
        f"    split_into:\n      经济和信息化厅: [{first}]\n      民政厅: [{', '.join(rest)}]\n"
        "    since: 2023-07-01\n",
    )
    code, out = check(data, capsys)
    assert code == 0, out
    plan = load_plan(data)
    assert plan.holder("省工商联", first) == "经济和信息化厅"
    assert plan.holder("省工商联", rest[-1]) == "民政厅"
    assert plan.holder("省乡村振兴局", "6.3") == "农业农村厅"
    assert [u.name for u in plan.as_of(2023).units].count("省财政厅金融处") == 0
    assert "省财政厅金融处" in [u.name for u in plan.as_of(2024).units]


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        (
            "    merged_into: 农业农村局\n    since: 2024-01-01\n",
            "继任单位「农业农村局」不在 units 中",
        ),
        ("    merged_into: 农业农村厅\n    since: 2024-02-30\n", "日期不存在"),
        ("    merged_into: 农业农村厅\n    since: 明年\n", "since 须是日期"),
        ("    merged_into: 农业农村厅\n", "since 须是日期"),
        ("    since: 2024-01-01\n", "有 since 但没有"),
        ("    merged_into: 省乡村振兴局\n    since: 2024-01-01\n", "不能并入自己"),
        (
            "    merged_into: 农业农村厅\n    renamed_to: 农业农村厅\n    since: 2024-01-01\n",
            "只能写一个",
        ),
        (
            "    split_into:\n      农业农村厅: [6.1]\n    since: 2024-01-01\n",
            "未分配 6.3",
        ),
        (
            "    split_into:\n      农业农村厅: [6.1, 6.3]\n      民政厅: [6.3, 7.1]\n"
            "    since: 2024-01-01\n",
            "不是它的举措 7.1；重复分配 6.3",
        ),
    ],
)
def test_check_data_refuses_a_broken_change(
    data: Path, capsys: pytest.CaptureFixture[str], lines: str, error: str
) -> None:
    add(data, RURAL_ENTRY, lines)
    code, out = check(data, capsys)
    assert code == 2
    assert error in out
    assert "units.yaml" in out


def test_check_data_refuses_a_cycle(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    merge_by_hand(data)
    add(
        data,
        "    aliases: [省农业农村厅, 农业厅, 农业农村部门]\n",
        "    renamed_to: 省乡村振兴局\n    since: 2024-02-01\n",
    )
    code, out = check(data, capsys)
    assert code == 2
    assert "单位变更成环" in out
    assert "农业农村厅 → 省乡村振兴局 → 农业农村厅" in out


def test_recording_keeps_comments_and_forgetting_restores_the_file(data: Path) -> None:
    path = data / "units.yaml"
    before = path.read_text(encoding="utf-8")
    change = Change("省地方金融监管局", "renamed", dt.date(2024, 5, 1), "省地方金融管理局")
    new = {"name": "省地方金融管理局", "full_name": "四川省地方金融管理局", "aliases": ["x局"]}

    assert record(path, change, new) is True

    after = path.read_text(encoding="utf-8")
    assert after.count("#") == before.count("#")
    assert FIN_ENTRY + "    renamed_to: 省地方金融管理局\n    since: 2024-05-01\n" in after
    assert after.endswith(
        "  - name: 省地方金融管理局\n    full_name: 四川省地方金融管理局\n    aliases: [x局]\n"
    )
    assert load_plan(data).succession.change("省地方金融监管局") == change
    assert forget(path, "省地方金融监管局", "省地方金融管理局") is True
    assert path.read_text(encoding="utf-8") == before


def test_a_file_that_cannot_be_edited_in_place_is_rewritten_and_says_so(data: Path) -> None:
    path = data / "units.yaml"
    # A flow-style list of units: no line of its own to insert into.
    plan = load_plan(data)
    entries = ", ".join(f"{{name: {u.name}, full_name: {u.full_name}}}" for u in plan.units)
    path.write_text(f"# 注释\ncollective: [省级有关部门（单位）]\nunits: [{entries}]\n", "utf-8")
    change = Change("省乡村振兴局", "merged", dt.date(2024, 1, 1), "农业农村厅")

    assert record(path, change) is False

    assert "# 注释" not in path.read_text(encoding="utf-8")
    assert load_plan(data).holder("省乡村振兴局", "6.3") == "农业农村厅"
    assert not list(data.glob(".*.tmp"))  # the temporary file was renamed, not left behind


def test_import_doc_keeps_the_changes_of_the_units_it_rewrites(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A units.yaml without 省烟草专卖局 is written anew by the import: its changes stay.
    text = (data / "units.yaml").read_text(encoding="utf-8")
    entry = (
        "  - name: 省烟草专卖局\n    full_name: 四川省烟草专卖局\n"
        "    aliases: [烟草专卖局, 烟草局]\n"
    )
    assert entry in text
    (data / "units.yaml").write_text(text.replace(entry, ""), encoding="utf-8")
    merge_by_hand(data)
    add(
        data,
        "    aliases: [工商联, 工商业联合会]\n",
        "    split_into:\n      经济和信息化厅: [3.1]\n      民政厅: [7.3, 15.1]\n"
        "    since: 2023-07-01\n",
    )

    code = main(["import-doc", str(data / "notice.txt"), "--out", str(data)])

    assert code == 0, capsys.readouterr().err
    written = (data / "units.yaml").read_text(encoding="utf-8")
    assert "name: 省烟草专卖局" in written
    assert "__line__" not in written
    plan = load_plan(data)
    assert plan.holder("省乡村振兴局", "6.3") == "农业农村厅"
    assert plan.holder("省工商联", "7.3") == "民政厅"


def test_a_rename_into_a_unit_of_the_document_keeps_it_in_the_years_before(data: Path) -> None:
    add(data, FIN_ENTRY, "    renamed_to: 财政厅\n    since: 2024-05-01\n")
    plan = load_plan(data)
    assert "财政厅" in [u.name for u in plan.as_of(2023).units]
    assert "省地方金融监管局" not in [u.name for u in plan.as_of(2024).units]
    assert "6.1" in [m.id for m in plan.as_of(2024).duties_of("财政厅")]

"""The importer: the seed notice parsed exactly as published."""

from __future__ import annotations

import pytest
import yaml

from bot.documents.importer import dump_plan, parse_document
from bot.documents.plan import DATA_DIR, PlanError, Unit, load_plan, parse_units, read_yaml

SEED = DATA_DIR / "notice.txt"  # a copy of the published notice, as received


@pytest.fixture(scope="module")
def units() -> tuple[tuple[Unit, ...], tuple[str, ...]]:
    path = DATA_DIR / "units.yaml"
    return parse_units(path, read_yaml(path))


@pytest.fixture(scope="module")
def parsed(units: tuple[tuple[Unit, ...], tuple[str, ...]]) -> dict:
    return parse_document(SEED.read_text(encoding="utf-8"), *units)


def test_seed_imports_to_the_committed_plan(parsed: dict) -> None:
    committed = (DATA_DIR / "plan.yaml").read_text(encoding="utf-8")
    assert dump_plan(parsed) == committed


def test_document_metadata(parsed: dict) -> None:
    doc = parsed["document"]
    assert doc["number"] == "川残工委〔2022〕4号"
    assert doc["issuer"] == "四川省人民政府残疾人工作委员会"
    assert str(doc["date"]) == "2022-08-12"
    assert doc["period"] == {"start": 2022, "end": 2024}
    assert "促进残疾人就业三年行动方案" in doc["title"]
    assert " " not in doc["title"]
    assert doc["reporting"]["to"] == "省政府残疾人工作委员会"
    assert "每年年底" in doc["reporting"]["rule"]


def test_table_shape(parsed: dict) -> None:
    tasks = parsed["tasks"]
    assert [t["number"] for t in tasks] == list(range(1, 17))
    assert sum(len(t["measures"]) for t in tasks) == 31
    assert [len(t["measures"]) for t in tasks] == [3, 3, 1, 3, 2, 3, 4, 2, 1, 3, 1, 1, 1, 1, 1, 1]
    assert tasks[10]["title"] == "组织保障"


def test_continuation_rows_blank_lines_and_p_tags(parsed: dict) -> None:
    measures = {m["id"]: m for t in parsed["tasks"] for m in t["measures"]}
    # 7.4 follows a blank line inside task 7; 14.1 is wrapped in <p> tags.
    assert measures["7.4"]["text"].startswith("促进残疾人高校毕业生在常住地")
    assert "<p>" not in measures["14.1"]["text"]
    assert measures["14.1"]["units"][-1] == "省残联"
    assert all("<" not in u for m in measures.values() for u in m["units"])


def test_annotation_is_not_a_unit(parsed: dict) -> None:
    first = parsed["tasks"][0]["measures"][0]
    assert first["units"] == ["省委组织部", "省委编办", "人力资源社会保障厅", "省残联"]
    assert first["unit_note"] == "按职责分工负责，下同"


def test_misspelled_unit_is_corrected_and_recorded(parsed: dict) -> None:
    m82 = parsed["tasks"][7]["measures"][1]
    assert "省市场监管局" in m82["units"]
    assert m82["corrections"] == [{"written": "省市市场监管局", "unit": "省市场监管局"}]


def test_collective_term_binds_every_provincial_unit(parsed: dict) -> None:
    flagged = [m["id"] for t in parsed["tasks"] for m in t["measures"] if m.get("all_provincial")]
    assert flagged == ["11.1", "16.1"]
    units = [u for t in parsed["tasks"] for m in t["measures"] for u in m["units"]]
    assert "省级有关部门（单位）" not in units


def test_a_unit_missing_from_units_yaml_is_taken_as_written(
    units: tuple[tuple[Unit, ...], tuple[str, ...]],
) -> None:
    text = SEED.read_text(encoding="utf-8").replace("省烟草专卖局\n", "省火星局\n", 1)
    parsed = parse_document(text, *units)
    assert parsed["tasks"][1]["measures"][2]["units"] == ["省火星局"]


def test_catch_all_is_kept_on_the_measure(parsed: dict) -> None:
    m111 = parsed["tasks"][10]["measures"][0]
    assert m111["catch_all"] == ["省级有关部门（单位）"]
    assert m111["units"] == ["省政府残疾人工作委员会", "人力资源社会保障厅", "省残联"]


def test_missing_table_is_refused(units: tuple[tuple[Unit, ...], tuple[str, ...]]) -> None:
    text = SEED.read_text(encoding="utf-8").split("序号")[0]
    with pytest.raises(PlanError, match="责任分工表"):
        parse_document(text, *units)


def test_committed_plan_loads() -> None:
    plan = load_plan()
    assert yaml.safe_load((DATA_DIR / "plan.yaml").read_text(encoding="utf-8"))
    assert plan.measure("8.2") is not None
    assert plan.measure("8.2").corrections[0].written == "省市市场监管局"

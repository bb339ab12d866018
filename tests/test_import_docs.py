"""Every real document in ../shared/docs imports as a careful reader counts it (SOURCES.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.documents.importer import Imported, import_file
from tests.shared import MISSING, SHARED

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=MISSING)
ROOT = Path(__file__).resolve().parent.parent

# file: (tasks, measures, units) as the report counts them.
COUNTS = {
    "guangzhou2012_rencai_jiju_633.txt": (4, 44, 32),
    "guobanfa2018-117_zhenzhua_shigan.txt": (1, 30, 21),
    "guobanfa2018-121_tiyu_jingsai.txt": (4, 21, 29),
    "guobanfa2018-128_wufei_chengshi.txt": (6, 39, 20),
    "guobanfa2018-129_xiaofei_fupin.txt": (5, 17, 31),
    "guofa2018-39_cujin_jiuye.txt": (5, 15, 12),
    "guofa2018-42_nongye_jixiehua.txt": (7, 18, 16),
    "guofa2019-3_zonghe_baoshuiqu.txt": (5, 21, 13),
    "gz2023_jiatingyisheng_fengongbiao.docx": (24, 39, 20),
    "gz2023_jiatingyisheng_fengongbiao.xlsx": (24, 39, 20),
}


def _measures(imported: Imported) -> list[dict[str, Any]]:
    return [m for t in imported.plan["tasks"] for m in t["measures"]]


def _holding(imported: Imported, phrase: str) -> dict[str, Any]:
    found = [m for m in _measures(imported) if phrase in m["text"]]
    assert len(found) == 1, phrase
    return found[0]


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_counts_match_a_careful_reading(name: str) -> None:
    imported = import_file(SHARED / name)
    tasks, measures, units = COUNTS[name]
    assert f"任务 {tasks} 项，举措 {measures} 项，单位 {units} 个" in imported.report()
    names = [u["name"] for u in imported.units["units"]]
    assert "/" not in names
    # no clause read as a unit's name ("商务部指导", "X等和各省级人民政府")
    assert not [n for n in names if any(w in n for w in ("指导", "负责", "等和", "等有关"))]
    assert "疑似不是单位名称" not in "\n".join(imported.report())


def test_wufei_inline_brackets_with_guide_and_a_standing_rule() -> None:
    imported = import_file(SHARED / "guobanfa2018-128_wufei_chengshi.txt")
    titles = [t["title"] for t in imported.plan["tasks"]]
    assert titles[0] == "强化顶层设计引领，发挥政府宏观指导作用"
    first = _measures(imported)[0]
    assert first["lead"] == ["生态环境部"]
    assert "国家统计局" in first["units"]
    assert "试点城市政府" not in first["units"]
    # "（生态环境部指导，试点城市政府负责落实。以下均需试点城市政府落实，不再列出）"
    second = _measures(imported)[1]
    assert second["guide"] == ["生态环境部"]
    assert second["units"] == ["生态环境部", "试点城市政府"]
    # a later bracket names the ministries only; the pilot cities are implied
    standards = _holding(imported, "健全标准体系")
    assert standards["units"] == ["市场监管总局", "工业和信息化部", "试点城市政府"]
    assert "guide" not in standards
    recycling = _holding(imported, "发展“互联网+”固体废物处理产业")
    assert recycling["guide"] == ["商务部"]
    assert recycling["units"] == ["商务部", "供销合作总社", "试点城市政府"]
    assert all("试点城市政府" in m["units"] for m in _measures(imported)[1:])
    assert "牵头规则：逐条写明（牵头、指导）" in imported.report()


def test_guangzhou_labels_groups_and_roles() -> None:
    imported = import_file(SHARED / "guangzhou2012_rencai_jiju_633.txt")
    first = _measures(imported)[0]
    assert first["lead"] == ["市发展改革委"]
    assert first["units"] == ["市发展改革委", "市委组织部", "市人力资源和社会保障局"]
    assert first["catch_all"] == ["各区、县级市"]
    report = "\n".join(imported.report())
    assert "角色（不是单位，不约束全体）：各项目牵头单位" in report
    assert "地方政府等群体（只约束所列举措）：各区、县级市、各有关区、县级市" in report
    # "配合单位：各有关单位" beside a named lead binds nobody else
    assert not any(m.get("all_provincial") for m in _measures(imported))
    lead_only = [m for m in _measures(imported) if m["units"] == ["市人力资源和社会保障局"]]
    assert any(m["lead"] == ["市人力资源和社会保障局"] for m in lead_only)


@pytest.mark.parametrize(
    "name", ["gz2023_jiatingyisheng_fengongbiao.docx", "gz2023_jiatingyisheng_fengongbiao.xlsx"]
)
def test_gz_table_group_lead_and_divisions(name: str) -> None:
    imported = import_file(SHARED / name)
    first = _measures(imported)[0]
    assert first["lead"] == ["各区政府", "基层处"]
    assert first["units"] == ["各区政府", "基层处", "市卫生健康委", "医政处"]
    assert "catch_all" not in first
    # "药政处，中医药处、人事处": mixed separators; "/" is an empty cell
    team = _holding(imported, "家庭医生可以家庭医生个人为签约主体")
    assert team["units"] == [
        *("各区政府", "基层处", "市卫生健康委", "市人社局", "药政处", "中医药处", "人事处")
    ]
    training = _holding(imported, "做实做细基层医生全科能力提升工程")
    assert training["units"] == ["各区政府", "市卫生健康委", "基层处"]


def test_national_brackets_tails_and_groups() -> None:
    jiuye = import_file(SHARED / "guofa2018-39_cujin_jiuye.txt")
    names = [u["name"] for u in jiuye.units["units"]]
    assert "人力资源社会保障部等有关部门和单位" not in names
    assert "教育部" in names
    fupin = import_file(SHARED / "guobanfa2018-129_xiaofei_fupin.txt")
    first = _measures(fupin)[0]
    assert first["units"][-1] == "全国总工会"
    assert first["catch_all"] == ["各省级人民政府"]
    sport = import_file(SHARED / "guobanfa2018-121_tiyu_jingsai.txt")
    # five items hold two brackets: each bracket is a measure, the second without a number
    assert len([m for m in _measures(sport) if "doc_number" not in m]) == 5


def test_a_group_named_as_a_unit_is_asked_without_its_各() -> None:
    imported = import_file(SHARED / "gz2023_jiatingyisheng_fengongbiao.docx")
    group = next(u for u in imported.units["units"] if u["name"] == "各区政府")
    assert group["aliases"] == ["区政府", "区里"]  # and as people say it (roles6)


def test_the_readme_import_example_is_what_the_import_prints(tmp_path: Path) -> None:
    source = tmp_path / "国发〔2018〕42号.txt"
    shutil.copy(SHARED / "guofa2018-42_nongye_jixiehua.txt", source)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "import-doc", source.name, "--out", "data-2025"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme[readme.index("   文件：国务院关于加快推进农业机械化") :]
    shown = shown[: shown.index("   ```")]
    assert [row.removeprefix("   ") for row in shown.splitlines()] == done.stdout.splitlines()


def test_the_gz_table_imported_twice_is_named_once_shown_without_a_stop_and_warned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from bot.ask.assistant import Assistant
    from bot.ask.catalog import load_catalog
    from bot.ask.compose import answer_reply
    from bot.cli import main
    from bot.reply import render_plain

    title = "关于推进广州市家庭医生签约服务高质量发展工作的任务分工表"
    data = tmp_path / "data"
    data.mkdir()
    for suffix in ("xlsx", "docx"):
        source = SHARED / f"gz2023_jiatingyisheng_fengongbiao.{suffix}"
        assert main(["import-doc", str(source), "--out", str(data / suffix)]) == 0
        first = capsys.readouterr().out.splitlines()[0]
        assert first == f"文件：{title}"  # no number: the title once

    assistant = Assistant.load(data / "xlsx")
    unit = assistant.plan.units[0].name
    reply = answer_reply(assistant.plan, assistant.answer(f"{unit}负责哪些"))
    shown = render_plain(reply)
    assert "【" in shown
    assert "。】" not in shown

    assert main(["check-data", "--data", str(data)]) == 0
    checked = capsys.readouterr().out
    assert f"提示：{data / 'docx'} 和 {data / 'xlsx'} 是同一份文件（{title}）" in checked
    caplog.set_level("WARNING")
    load_catalog(data)
    assert "是同一份文件" in caplog.text


UNDATED = """关于推进社区服务的实施意见
为做好社区服务工作，提出以下实施意见。
一、主要任务
1.建设社区服务中心。每个街道建成一个综合服务中心。（牵头单位：市民政局，配合单位：市财政局）
2.培养社区工作者。开展社区工作者培训。（牵头单位：市人社局，配合单位：市民政局）
"""


def test_a_document_without_any_date_is_taken_as_issued_today_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import datetime as dt

    import yaml

    from bot.cli import import_doc
    from bot.clock import TZ
    from tests.fakes.clock import FakeClock

    source = tmp_path / "社区服务.txt"
    source.write_text(UNDATED, encoding="utf-8")
    clock = FakeClock(dt.datetime(2026, 12, 7, 10, 0, tzinfo=TZ))
    import_doc(source, tmp_path / "data", clock=clock)
    report = capsys.readouterr().out
    assert "未找到成文日期：按今天（2026-12-07）计，报送年份从 2026 年起" in report
    assert "--date" in report
    plan = yaml.safe_load((tmp_path / "data" / "plan.yaml").read_text(encoding="utf-8"))
    assert plan["document"]["date"] == dt.date(2026, 12, 7)
    assert plan["document"]["period"] == {"start": 2026, "end": 2026}
    assert len(plan["tasks"][0]["measures"]) == 2


def test_the_date_of_issue_given_on_the_command_line_is_the_one_taken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    from bot.cli import main

    source = tmp_path / "社区服务.txt"
    source.write_text(UNDATED, encoding="utf-8")
    out = tmp_path / "data"
    assert main(["import-doc", str(source), "--out", str(out), "--date", "2012-09-19"]) == 0
    assert "成文日期：按 --date 指定为 2012-09-19" in capsys.readouterr().out
    plan = yaml.safe_load((out / "plan.yaml").read_text(encoding="utf-8"))
    assert str(plan["document"]["date"]) == "2012-09-19"
    assert plan["document"]["period"]["start"] == 2012


def test_a_date_that_does_not_exist_is_refused_before_anything_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    source = tmp_path / "社区服务.txt"
    source.write_text(UNDATED, encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        main(["import-doc", str(source), "--out", str(tmp_path / "d"), "--date", "2012-02-30"])
    assert stopped.value.code == 2
    assert "不是有效的日期：请写 年-月-日" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()

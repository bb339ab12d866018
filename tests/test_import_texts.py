"""The documents in tests/data/blind/texts import as a careful reader counts them (SOURCES.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from bot.documents.importer import Dates, Imported, import_file

TEXTS = Path(__file__).resolve().parent / "data" / "blind" / "texts"
# None of them states its date of issue: the import takes today's.
TODAY = Dates(today=dt.date(2026, 12, 7))

# file: (tasks, measures, units) as the report counts them.
COUNTS = {
    "gz2012_minzhu_fazhi.txt": (8, 33, 37),
    "gz2012_minsheng_xingfu.txt": (10, 59, 43),
    "gz2012_keji_chuangxin.txt": (2, 21, 36),
    "gz2012_dangjian_chuangxin.txt": (7, 35, 23),
    # 43 named units and the group 各地级以上市人民政府, named in a table's cell
    "gd2025_shuzi_guangdong.txt": (19, 58, 44),
    "zj2026_rengongzhineng_renwu.txt": (24, 113, 38),
}


def _import(name: str) -> Imported:
    return import_file(TEXTS / name, dates=TODAY)


def _measures(imported: Imported) -> dict[str, dict[str, Any]]:
    return {m["doc_number"]: m for t in imported.plan["tasks"] for m in t["measures"]}


def _names(imported: Imported) -> list[str]:
    return [u["name"] for u in imported.units["units"]]


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_counts_match_a_careful_reading(name: str) -> None:
    imported = _import(name)
    tasks, measures, units = COUNTS[name]
    report = imported.report()
    assert f"任务 {tasks} 项，举措 {measures} 项，单位 {units} 个" in report
    assert "疑似不是单位名称" not in "\n".join(report)
    assert imported.unplaced == []


def test_dangjian_an_explaining_bracket_names_no_units() -> None:
    imported = _import("gz2012_dangjian_chuangxin.txt")
    m = _measures(imported)
    assert sorted(m, key=int) == [str(n) for n in range(2, 37)]  # item 1 names no unit
    # "（即村民民主提事、民主决事……民主参与）" explains the text; the unit bracket follows it
    democracy = m["27"]
    assert "（即村民民主提事、民主决事、民主理事、民主监事和新村民民主参与）" in democracy["text"]
    assert democracy["units"] == ["市委组织部", "市民政局", "市农业局"]
    assert democracy["lead"] == ["市委组织部"]
    assert not [n for n in _names(imported) if "民主" in n]
    assert m["5"]["units"] == m["5"]["lead"] == ["市委组织部"]  # 牵头单位 only
    assert m["18"]["lead"] == ["市“两新”组织党工委"]
    assert m["18"]["units"] == [
        *("市“两新”组织党工委", "市非公有制经济组织党工委", "市社会组织党工委")
    ]
    assert "广州广播电视台" in _names(imported)
    assert sum("市委组织部" in x["units"] for x in m.values()) == 33
    assert imported.plan["tasks"][0]["title"] == "思想理论武装行动计划"


def test_shuzi_guangdong_levels_shared_groups_and_title_lines() -> None:
    imported = _import("gd2025_shuzi_guangdong.txt")
    titles = [t["title"] for t in imported.plan["tasks"]]
    # The title lines are the tasks (a section's line above its first subsection's is not);
    # each row's 工作任务 is its measure's own title.
    assert titles[:3] == [
        *("打造数字技术创新高地", "深化数据要素市场化配置改革", '深入开展"人工智能+"行动')
    ]
    assert "加快培育数字化发展引擎" not in titles
    m = _measures(imported)
    assert len(m) == 58
    assert not {"31", "32", "33", "46"} & m.keys()
    first = m["1"]
    assert first["text"].startswith("实施关键核心技术攻关。优化鹏城、广州国家实验室")
    # "省科技厅、工业和信息化厅按职责分工负责，各地级以上市人民政府结合实际落实"
    assert first["units"] == ["省科技厅", "省工业和信息化厅", "各地级以上市人民政府"]
    assert "lead" not in first
    assert "结合实际" in first["unit_note"]
    # "省政务和数据局牵头，省国资委等单位按职责分工负责"
    assert m["5"]["lead"] == ["省政务和数据局"]
    assert m["5"]["units"] == ["省政务和数据局", "省国资委"]
    assert m["12"]["lead"] == m["12"]["units"] == ["省工业和信息化厅", "省广电局"]
    assert m["20"]["lead"] == ["人民银行广东省分行"]
    assert m["20"]["units"] == [
        *("人民银行广东省分行", "省委金融办", "广东金融监管局", "中国证监会广东监管局")
    ]
    assert m["37"]["units"] == ["海关总署广东分署", "广东海事局"]
    assert m["48"]["units"] == ["省法院", "省检察院"]
    assert m["58"]["units"] == [
        *("省委网信办", "省保密局", "省密码管理局", "省公安厅", "省政务和数据局", "省通信管理局")
    ]
    assert m["62"]["units"] == []
    assert m["62"]["catch_all"] == ["省有关部门"]
    names = _names(imported)
    assert not [n for n in names if n.endswith(("厅", "局", "院")) and n[0] not in "省人中海广"]
    report = "\n".join(imported.report())
    assert "「工业和信息化厅」" not in report  # not offered as a misspelling any more
    assert "兜底表述（不是单位）：各有关单位、省各有关单位、省有关部门" in report


def test_zhejiang_ai_columns_read_by_role() -> None:
    imported = _import("zj2026_rengongzhineng_renwu.txt")
    tasks = imported.plan["tasks"]
    # 类别 (5) and 任务组 (24) group the rows, the finer one is the task; 工作任务 is the measure
    assert tasks[0]["title"] == "聚力推动“GPU浙江造”。"
    assert tasks[1]["title"] == "推动电子设计自动化（EDA）串链整合。"
    m = _measures(imported)
    assert sorted(m, key=int) == [str(n) for n in range(1, 115) if n != 6]
    assert not [x for x in m.values() if x["text"] == "推动芯片全链发展"]
    assert m["2"]["text"].startswith("在产业链协同创新、强链补链等相关项目中设立TPU")
    assert m["2"]["lead"] == ["省经信厅"]
    assert m["2"]["units"] == ["省经信厅", "省发展改革委", "省科技厅"]
    assert m["2"]["deadline"] == "2026年12月"
    assert [x["id"] for x in tasks[0]["measures"]] == ["1.1", "1.2", "1.3"]
    # "省经信厅、省科技厅按职责分工负责" in the lead column: two leads
    assert m["12"]["lead"] == ["省经信厅", "省科技厅"]
    assert sum(len(x.get("lead", [])) == 2 for x in m.values()) == 13
    # "无" names no co-unit
    assert sum(x["units"] == x["lead"] for x in m.values()) == 28
    # "省市场监管局（省知识产权局）": one unit with its other name as an alias
    assert m["34"]["lead"] == ["省市场监管局"]
    market = next(u for u in imported.units["units"] if u["name"] == "省市场监管局")
    assert market["aliases"][0] == "省知识产权局"
    assert "知识产权局" in market["aliases"]
    assert {"杭州市", "杭州市政府"} <= set(_names(imported))

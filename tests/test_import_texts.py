"""The documents in tests/data/blind/texts import as a careful reader counts them (SOURCES.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.documents.importer import UNTITLED, Dates, Imported, import_file
from bot.documents.plan import PlanError, Unit

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
    # Round 9: half-width punctuation as web pages give it (SOURCES.md there).
    "sanmenxia2023_zhongdian_gongzuo_zeren.txt": (1, 10, 8),  # 7 departments + 1 group
    "liangshan_minsheng_fenjie_p5.txt": (3, 8, 19),
    "henan2023_yuzheng5_zhongdian_gongzuo.txt": (1, 4, 11),
    # Round 10 (importer10): labelled lines, [ ] brackets, a cell a line (SOURCES.md there).
    "luan2021_zhongdian_gongzuo_zeren.txt": (1, 5, 10),  # + catch-all 市政府各部门、各直属机构
    "jiayu2021_zhongdian_gongzuo_zeren.txt": (1, 5, 5),  # + the group 各镇人民政府
    "lishui2023_zhengfu_gongzuo_baogao_zeren.txt": (2, 10, 16),  # + 各县(市、区)政府
    "yuncheng2017_yingji_guihua_zeren.txt": (1, 1, 0),  # a catch-all and two groups only
    "jiaxing2023_zhengfu_gongzuo_baogao_zeren.txt": (1, 1, 1),
    "huoshan2025_kaifaqu_zhongdian_gongzuo.txt": (1, 3, 4),
    "xianyang2022_fangguanfu_gongzuo_yaodian.txt": (1, 1, 2),  # in Traditional characters
    # Round 11 (importer11): 〔责任单位:……〕 brackets and a unit stated once (SOURCES.md there).
    "sichuan2022_xiandai_liutong.txt": (1, 2, 4),  # + the group 相关市(州)人民政府, "下同"
    # a .docx table run together: 4 projects, 6 rows of content, 3 leaders who are no units
    "changzhou_zhonglou2021_minsheng_shishi.txt": (4, 6, 14),
    # Round 12: a web table, a row a line with " | " between cells, 项目内容 and 当前进度 columns
    "cangnan2022_minsheng_shishi_jindu.txt": (1, 13, 7),
    "hebei2026_minsheng_gongcheng.txt": (1, 6, 4),  # (责任单位:X、Y)
    "shapingba2022_yuqi_mubiao_fenjie.txt": (1, 10, 7),  # a cell a line: 2022年预期目标
    # 人民大垸、荒湖管理区: two 管理区; + the group 各乡、镇人民政府 and the catch-all 市直各部门
    "jianli2022_zhengfu_gongzuo_baogao_fenjie.txt": (2, 6, 10),
    "heilongjiang2013_zhengfu_gongzuo_fengong.txt": (2, 11, 17),  # 主办/协办, items run on
    "shanxi2008_mubiao_zeren_fenjie.txt": (3, 6, 7),  # "(一)省监察厅牵头的工作" headings
    "tongzhou2021_shiwuwu_renwu_fengong.txt": (1, 8, 6),  # "牵头单位:区X" lines
    "tongchuan2025_zhengfu_gongzuo_baogao_fengong.txt": (2, 11, 7),
    "wujiang2024_zhongdian_gongzuo_fenjie.txt": (1, 11, 12),  # ★ marks the lead; leaders
    "lianjiang2021_wei_min_ban_shishi.txt": (1, 7, 8),  # "主办单位:X,协办单位:Y" lines
    "fengyang2023_minsheng_shishi_50xiang.txt": (3, 9, 6),
    # Round 12 (importer12): layouts and habits of seven more documents (SOURCES.md there).
    "tianjin2006_shiyiwu_guihua_fengong.txt": (1, 5, 6),  # several measures a line
    "chuzhou2020_shizhengfu_zhongdian_gongzuo.txt": (1, 3, 13),  # + 各县、市、区政府
    "jiangxi2017_poyuwandu_xiaokang_fengong.txt": (1, 2, 3),
    "jiamusi2018_shuiwuran_fangzhi_zhongdian.txt": (1, 1, 3),  # + 各县(市)区政府, stated once
    "haicheng2023_zhengfu_gongzuo_baogao_fengong.txt": (1, 7, 5),  # + 各开发区、镇(街道)
    "ningbo2019_zhengfu_gongzuo_baogao_zeren.txt": (1, 7, 7),  # + 市级其他有关部门
    "zhoushan2020_shizhengfu_zhongdian_gongzuo.txt": (1, 4, 6),  # + 2 groups
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
    # "省市场监管局（省知识产权局）": one unit named as written, found by either name
    assert m["34"]["lead"] == ["省市场监管局（省知识产权局）"]
    market = next(u for u in imported.units["units"] if u["name"] == m["34"]["lead"][0])
    assert market["aliases"][:2] == ["省市场监管局", "省知识产权局"]
    assert "知识产权局" in market["aliases"]
    assert {"杭州市", "杭州市政府"} <= set(_names(imported))


# Layouts of round 6 (#18): the two blind documents (texts/) and the starts of five more pages
# (layouts/, see its SOURCES.md), each as a careful reader counts it: (tasks, measures, units).
LAYOUTS = Path(__file__).resolve().parent / "data" / "layouts"
ROUND6 = {
    TEXTS / "changshu2018_zhengfu_gongzuo_renwu.txt": (1, 8, 5),
    # 12 bodies and the group 相关乡镇办 (SOURCES.md counts the 13 together)
    TEXTS / "xianan2023_zhengfu_gongzuo_baogao.txt": (2, 12, 12),
    LAYOUTS / "lishan2023_zhongdian_renwu.txt": (1, 6, 7),
    LAYOUTS / "yuefu2021_zhengfu_gongzuo_fengong.txt": (1, 4, 3),
    LAYOUTS / "xian2022_fangguanfu_fengong.txt": (1, 2, 4),
    LAYOUTS / "baotou2011_zhongdian_renwu.txt": (1, 3, 2),
    LAYOUTS / "caidian2023_mubiao_renwu.txt": (1, 3, 2),
}


def _round6(path: Path) -> tuple[Imported, dict[str, dict[str, Any]], str]:
    imported = import_file(path, dates=TODAY)
    return imported, _measures(imported), "\n".join(imported.report())


@pytest.mark.parametrize("path", sorted(ROUND6), ids=lambda p: p.stem)
def test_round6_layouts_count_as_a_careful_reader(path: Path) -> None:
    imported, _, report = _round6(path)
    tasks, measures, units = ROUND6[path]
    assert f"任务 {tasks} 项，举措 {measures} 项，单位 {units} 个" in report
    assert "疑似不是单位名称" not in report
    assert imported.unplaced == []
    assert imported.dated == ""  # each gives its date of issue (or its year)


def test_changshu_a_table_flattened_to_text() -> None:
    imported, m, report = _round6(TEXTS / "changshu2018_zhengfu_gongzuo_renwu.txt")
    assert "版式：按行排列、空格分隔的表格" in report
    # the header glued to the notice's last line is not part of the title or of a measure
    document = imported.plan["document"]
    assert document["title"] == "市政府办公室关于分解落实2018年政府工作任务的通知"
    assert document["number"] == "常政办发〔2018〕32号"
    assert document["issuer"] == "常熟市人民政府办公室"
    assert document["date"] == dt.date(2018, 2, 24)
    assert imported.plan["tasks"][0]["title"] == "经济社会发展主要预期目标分解(11项)"
    assert sorted(m, key=int) == [str(n) for n in range(1, 9)]
    assert m["1"]["text"] == "地区生产总值增长7%以上,服务业增加值占GDP比重47.1%."
    # the column is 牵头责任单位: every unit in it leads
    assert m["1"]["units"] == m["1"]["lead"] == ["发改委"]
    assert m["7"]["units"] == m["7"]["lead"] == ["发改委", "经信委", "科技局"]
    assert m["8"]["text"].endswith("外贸进出口总额保持增长.")
    assert m["8"]["units"] == ["商务局"]


def test_xianan_leaders_are_no_units_and_roles_are_read() -> None:
    imported, m, report = _round6(TEXTS / "xianan2023_zhengfu_gongzuo_baogao.txt")
    names = _names(imported)
    for leader in ("杜新国", "洪声耀", "陈浩", "丁玲", "刘伍寿"):
        assert not [n for n in names if leader in n]
    assert m["1"]["units"] == m["1"]["lead"] == ["区发改局"]
    assert m["1"]["unit_note"] == "责任领导：杜新国"
    assert m["7"]["lead"] == ["区发改局", "区农业农村局"]
    assert m["7"]["unit_note"] == "责任领导：杜新国、丁玲"
    assert m["11"]["units"] == ["市生态环境局咸安分局"]
    # 牵头单位 leads, 责任单位 (、 and , mixed) share the work, 相关乡镇办 is a group
    road = m["12"]
    assert road["lead"] == ["区交通运输局"]
    assert road["units"] == [
        *("区交通运输局", "区发改局", "区自然资源和规划局", "区林业局", "区经发集团")
    ]
    assert road["catch_all"] == ["相关乡镇办"]
    assert "地方政府等群体（只约束所列举措）：相关乡镇办" in report


def test_a_leaders_field_ends_at_the_next_label(tmp_path: Path) -> None:
    text = (
        "2023年重点工作任务责任分解方案\n一、主要目标\n"
        "1.地区生产总值增长8%以上。(责任领导:张三、李四,牵头单位:区发改局,责任单位:区财政局)\n"
        "2.粮食产量稳定。(分管领导:王五 牵头单位:区农业农村局)\n"
    )
    path = tmp_path / "leaders.txt"
    path.write_text(text, encoding="utf-8")
    m = _measures(import_file(path, dates=TODAY))
    assert m["1"]["units"] == ["区发改局", "区财政局"]
    assert m["1"]["lead"] == ["区发改局"]
    assert m["1"]["unit_note"] == "责任领导：张三、李四"
    assert m["2"]["units"] == m["2"]["lead"] == ["区农业农村局"]
    assert m["2"]["unit_note"] == "分管领导：王五"


def test_lishan_label_lines_under_each_item() -> None:
    imported, m, report = _round6(LAYOUTS / "lishan2023_zhongdian_renwu.txt")
    assert imported.plan["document"]["number"] == "鞍立政发〔2023〕2号"
    assert imported.plan["document"]["date"] == dt.date(2023, 3, 28)
    # "牵头单位:" and "责任单位:" on lines of their own, half-width colons
    assert m["1"]["lead"] == ["区发改局"]
    assert m["1"]["units"] == ["区发改局", "立山经济开发区"]
    assert m["1"]["catch_all"] == ["全区经济运行各专班"]
    assert m["3"]["units"] == ["区发改局", "立山经济开发区"]
    assert m["3"]["catch_all"] == ["各街道", "区直各部门"]
    assert m["5"]["units"] == ["区财政局", "立山经济开发区", "税务局"]
    assert "兜底表述（不是单位）：区直各部门、各相关单位" in report


def test_yuefu_leader_lines_and_a_division_line() -> None:
    imported, m, report = _round6(LAYOUTS / "yuefu2021_zhengfu_gongzuo_fengong.txt")
    assert imported.plan["document"]["number"] == "粤府〔2021〕22号"
    # "分管省领导:林克庆" names a person: a note, not a unit; "部门分工:X牵头,各地、各部门配合"
    assert m["1"]["units"] == m["1"]["lead"] == ["省发展改革委"]
    assert m["1"]["unit_note"] == "分管省领导：林克庆"
    assert m["1"]["catch_all"] == ["各地", "各部门"]
    assert "all_provincial" not in m["1"]  # a lead is named: the catch-all binds no one else
    assert m["4"]["lead"] == ["省商务厅"]
    assert m["4"]["unit_note"] == "分管省领导：张新"
    assert not [n for n in _names(imported) if n in ("林克庆", "张新")]
    assert "兜底表述（不是单位）：各部门" in report


def test_xian_a_table_with_bars_between_cells_and_merged_cells() -> None:
    imported, m, report = _round6(LAYOUTS / "xian2022_fangguanfu_fengong.txt")
    assert "版式：竖线分隔的表格" in report
    assert imported.plan["document"]["title"].endswith("工作要点》分工方案")
    assert imported.plan["document"]["issuer"] == "西安市人民政府办公厅"  # signed above the date
    assert list(m) == ["(1)", "(2)"]
    first, second = m["(1)"], m["(2)"]
    assert first["text"].startswith("全面准确依法编制市、区(县)行政许可事项清单")
    # "市行政审批局市司法局": two units written without a separator; 责任单位 beside 牵头单位
    assert first["lead"] == ["市行政审批局", "市司法局"]
    assert first["units"] == ["市行政审批局", "市司法局", "各区县政府", "西咸新区管委会"]
    assert first["catch_all"] == ["市级相关单位"]
    assert first["deadline"] == "2022年9月底"
    # the second row's first two cells are merged with the first row's
    assert second["lead"] == first["lead"]
    assert second["units"] == first["units"]
    assert imported.plan["tasks"][0]["title"].startswith("按照国务院要求")


def test_baotou_lead_and_carry_out_in_one_bracket() -> None:
    imported, m, _ = _round6(LAYOUTS / "baotou2011_zhongdian_renwu.txt")
    assert imported.plan["document"]["date"] == dt.date(2011, 4, 6)  # 二○一一年四月六日
    # "(市经信委、市国土资源局牵头落实)": half-width brackets, both lead
    assert m["1"]["units"] == m["1"]["lead"] == ["市经信委"]
    assert m["3"]["units"] == m["3"]["lead"] == ["市经信委", "市国土资源局"]


def test_caidian_unit_lines_under_numbered_items() -> None:
    imported, m, _ = _round6(LAYOUTS / "caidian2023_mubiao_renwu.txt")
    assert imported.plan["document"]["number"] == "蔡政办〔2023〕1号"  # in the page's own table
    assert m["(一)"]["text"] == "地区生产总值增长7%以上"
    assert m["(一)"]["units"] == ["区发展和改革局"]
    assert "lead" not in m["(一)"]  # 责任单位 alone: no lead stated
    assert m["(二)"]["units"] == ["区科技和经信局"]


def test_a_spaced_header_without_rows_keeps_the_refusal(tmp_path: Path) -> None:
    text = "关于某事的通知 附件:分解表 序号 工作任务 牵头责任单位\n一、总体要求\n1 做好工作\n"
    path = tmp_path / "no_rows.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanError, match="找不到责任分工表"):
        import_file(path, dates=TODAY)


def test_a_flattened_table_tells_of_a_line_that_is_no_row(tmp_path: Path) -> None:
    wrapped = "这一行是上一行的续行,没有序号也没有单位,比三十个字更长,不能当作标题来读."
    text = (
        "某市人民政府办公室文件 某政办发〔2018〕1号 关于分解任务的通知 各部门: "
        "附件 序号 工作任务 牵头单位\n"
        f"一、主要目标\n1 地区生产总值增长7%. 发改委\n{wrapped}\n"
        "2 一般公共预算收入增长8%. 财政局、税务局\n"
    )
    path = tmp_path / "wrapped.txt"
    path.write_text(text, encoding="utf-8")
    imported = import_file(path, dates=TODAY)
    m = _measures(imported)
    assert m["2"]["units"] == m["2"]["lead"] == ["财政局", "税务局"]
    assert imported.unplaced == [f"不是表格的一行：{wrapped[:40]}"]
    assert "无法归位的行 1 行：" in imported.report()


def test_wuhan_dash_headings_are_tasks_and_working_groups_a_group() -> None:
    # Items 204–211 under two "——" section headings; 市疫情防控指挥部各工作组 is every working
    # group of the command, a group named by the item (no unit, and not everyone).
    imported, m, report = _round6(TEXTS / "wuhan2023_zhengfu_gongzuo_baogao_p9.txt")
    titles = [t["title"] for t in imported.plan["tasks"]]
    assert titles == ["推进教育高质量发展", "加快建设健康武汉"]
    health = imported.plan["tasks"][1]["measures"]
    assert [x["doc_number"] for x in health] == ["209", "210", "211"]
    assert imported.unplaced == []
    assert "任务 2 项，举措 8 项，单位 9 个" in report
    assert "市疫情防控指挥部各工作组" in m["209"]["catch_all"]
    assert "市疫情防控指挥部各工作组" not in _names(imported)
    assert m["204"]["lead"] == ["市教育局"]
    assert "lead" not in m["205"]


def test_a_dash_line_that_is_a_sentence_is_no_heading(tmp_path: Path) -> None:
    path = tmp_path / "dash.txt"
    path.write_text(
        "某市重点工作分工方案\n一、稳增长\n1.扩大有效投资。(牵头单位:市发改委)\n"
        "——加快项目建设，确保按期开工。(责任单位:市住建局)\n",
        encoding="utf-8",
    )
    tasks = import_file(path, dates=TODAY).plan["tasks"]
    measures = [x for t in tasks for x in t["measures"]]
    assert [t["title"] for t in tasks] == ["稳增长"]
    assert [x["units"] for x in measures] == [["市发改委"], ["市住建局"]]


def test_sanmenxia_a_bracket_of_units_with_no_verb() -> None:
    imported = _import("sanmenxia2023_zhongdian_gongzuo_zeren.txt")
    m = _measures(imported)
    assert sorted(m, key=int) == [str(n) for n in range(1, 11)]
    assert imported.plan["document"]["number"] == "三政办〔2023〕1号"
    # "(市发展改革委,各县〔市、区〕政府)": half-width, no verb; each body named is responsible,
    # the group too (not split at the 、 inside 〔〕); nobody is named the lead
    assert m["1"]["text"] == "地区生产总值增长7%以上。"
    assert m["1"]["units"] == ["市发展改革委", "各县〔市、区〕政府"]
    assert "lead" not in m["1"]
    assert "catch_all" not in m["1"]
    # the list's 市 is the second department's too
    assert m["10"]["units"] == ["市人力资源社会保障局", "市农业农村局", "各县〔市、区〕政府"]
    assert all("各县〔市、区〕政府" in x["units"] for x in m.values())
    assert "其中地方政府群体（作为单位列出）：各县〔市、区〕政府" in imported.report()
    group = next(u for u in imported.units["units"] if u["name"] == "各县〔市、区〕政府")
    assert {"各县区政府", "县市区政府", "各县市区政府"} <= set(group["aliases"])


def test_a_verbless_bracket_inside_a_sentence_is_no_duty(tmp_path: Path) -> None:
    text = (
        "2023年重点工作责任分解\n一、主要目标\n"
        "1.支持市场监管部门(市知识产权局)开展专利保护。(市市场监管局负责)\n"
        "2.粮食产量稳定。(市农业农村局)\n"
        "3.外贸进出口保持增长。(市商务局、海关等)\n"
        "4.修订市政府工作规则(试行)\n"
    )
    path = tmp_path / "inside.txt"
    path.write_text(text, encoding="utf-8")
    m = _measures(import_file(path, dates=TODAY))
    assert sorted(m) == ["1", "2", "3"]  # "(试行)" names no body
    assert m["1"]["text"] == "支持市场监管部门(市知识产权局)开展专利保护。"
    assert m["1"]["units"] == ["市市场监管局"]
    assert m["2"]["units"] == ["市农业农村局"]
    assert m["3"]["units"] == ["市商务局", "海关"]


def test_liangshan_a_headings_bracket_covers_its_task() -> None:
    imported = _import("liangshan_minsheng_fenjie_p5.txt")
    # the page starts at an item: no title to read, and the report says so
    assert imported.plan["document"]["title"] == UNTITLED
    assert "未找到文件标题：请在第一行写上标题再导入一次" in imported.report()
    tasks = imported.plan["tasks"]
    assert [t["title"] for t in tasks] == [
        *("扎实推进民生工程", "大力实施开发式扶贫", "加强就业和社会保障工作")
    ]
    # (一) has no numbered items: its heading's bracket covers the paragraph below it
    [livelihood] = tasks[0]["measures"]
    assert livelihood["text"].startswith("扎实推进民生工程。大力实施就业促进")
    assert livelihood["text"].endswith("不断改善人民生活。")
    assert livelihood["lead"] == ["州政府民生办"]
    assert len(livelihood["units"]) == 17
    # (二)'s heading names the task's lead; items carry their own brackets, some verbless
    poverty = {m["doc_number"]: m for m in tasks[1]["measures"]}
    assert sorted(poverty) == ["1", "2", "3"]
    assert poverty["2"]["units"] == ["州民宗委", "州扶贫两资办"]
    assert poverty["3"]["units"] == ["州国土资源局", "州扶贫两资办"]
    assert all(m["lead"] == ["州扶贫两资办"] for m in poverty.values())
    jobs = {m["doc_number"]: m for m in tasks[2]["measures"]}
    assert jobs["1"]["units"] == jobs["1"]["lead"] == ["州劳动保障局"]
    assert jobs["4"]["units"] == ["州民政局", "州残联", "州劳动保障局"]
    assert jobs["4"]["lead"] == ["州劳动保障局"]
    # 州 is a level: the unit is also said without it, and by its usual contraction
    aliases = {u["name"]: u["aliases"] for u in imported.units["units"]}
    assert "民政局" in aliases["州民政局"]
    assert "残联" in aliases["州残联"]
    assert "国土局" in aliases["州国土资源局"]


def test_henan_the_first_unit_carries_the_level_for_the_list() -> None:
    imported = _import("henan2023_yuzheng5_zhongdian_gongzuo.txt")
    m = _measures(imported)
    document = imported.plan["document"]
    assert document["number"] == "豫政〔2023〕5号"
    # the issuer's line above "关于……的通知" is part of the title
    assert document["title"] == (
        "河南省人民政府关于明确政府工作报告提出的2023年重点工作责任单位的通知"
    )
    assert document["issuer"] == "河南省人民政府"
    # "(省发展改革委牵头,省商务厅、财政厅……等相关部门按职责分工负责)"
    assert m["2"]["lead"] == ["省发展改革委"]
    assert m["2"]["units"] == [
        *("省发展改革委", "省商务厅", "省财政厅", "省文化和旅游厅", "省工业和信息化厅"),
        "省住房城乡建设厅",
    ]
    assert "lead" not in m["1"]
    # bodies of a national line keep the name the document writes: 税务局 is no 省's department
    assert m["4"]["units"] == [
        *("省住房城乡建设厅", "省财政厅", "省自然资源厅", "税务局", "省地方金融监管局"),
        *("人行郑州中心支行", "河南银保监局"),
    ]


def test_two_bodies_one_character_apart_are_flagged_only_as_a_slip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "某市2024年重点工作责任分解\n2024年3月1日\n一、重点任务\n"
        "1.完善社会救助。(市民政局、市财政局负责)\n"
        "2.发展体育和教育事业。(市教育局、市体育局负责)\n"
        "3.做好养老服务。(市民证局负责)\n"
    )
    source = tmp_path / "slip.txt"
    source.write_text(text, encoding="utf-8")
    assert main(["import-doc", str(source), "--out", str(tmp_path / "doc")]) == 0
    report = capsys.readouterr().out
    # 政 and 证 sound alike (a pinyin keyboard's slip); 民政/财政, 教育/体育 are two bodies
    assert "「市民政局」与「市民证局」只差一个字，可能是笔误" in report
    assert "「市民政局」与「市财政局」" not in report
    assert "「市教育局」与「市体育局」" not in report
    # without the sounds (documents alone), every pair one character apart is named
    assert "「市教育局」与「市体育局」只差一个字" in "\n".join(
        import_file(source, dates=TODAY).report()
    )


# Round 10 (#18, importer10): layouts new to the importer, each pinned on its real document.


def test_luan_labelled_lines_name_a_leader_a_lead_and_partners() -> None:
    imported = _import("luan2021_zhongdian_gongzuo_zeren.txt")
    m = _measures(imported)
    assert sorted(m, key=int) == ["1", "2", "3", "4", "5"]
    assert m["2"]["text"] == "规上工业增加值增长9.5%以上。"
    # 牵头责任单位 leads, 协同责任单位 supports; "等" ends the list
    assert m["2"]["lead"] == ["市经信局"]
    assert m["2"]["units"] == ["市经信局", "市发改委", "市农业农村局", "市税务局", "六安供电公司"]
    # 牵头负责领导 is a person: the measure's note, never a unit
    assert m["2"]["unit_note"].startswith("牵头负责领导：束学龙")
    assert not {"束学龙", "谢忠"} & set(_names(imported))
    assert m["1"]["deadline"] == "2021年12月31日"
    assert m["1"]["catch_all"] == ["市政府各部门", "各直属机构"]
    # a government's own departments are everyone, not a group of local governments
    assert "兜底表述（不是单位）：市政府各部门、各直属机构" in imported.report()


def test_jiayu_square_brackets_and_a_body_with_two_names() -> None:
    imported = _import("jiayu2021_zhongdian_gongzuo_zeren.txt")
    m = _measures(imported)
    # "[牵头单位:县发改局(粮食局);责任单位:……]": [ ] when a name holds ( )
    assert m["(一)"]["text"] == "地区生产总值增长11%。"
    assert m["(一)"]["lead"] == ["县发改局(粮食局)"]
    assert m["(一)"]["units"] == ["县发改局(粮食局)", "嘉鱼经济开发区"]
    assert m["(一)"]["catch_all"] == ["各镇人民政府"]
    body = next(u for u in imported.units["units"] if u["name"] == "县发改局(粮食局)")
    assert {"县发改局", "粮食局", "发改局"} <= set(body["aliases"])
    # a title over four lines
    assert imported.plan["document"]["title"].endswith("涉及嘉鱼的重点事项进行责任分解的通知")


def test_a_body_written_bare_and_with_its_other_name_is_one_unit(tmp_path: Path) -> None:
    text = (
        "某县2024年重点工作责任分解\n一、主要目标\n"
        "1.粮食产量稳定。(县发改局负责)\n"
        "2.固定资产投资增长。(县发改局(粮食局)牵头,县财政局配合)\n"
    )
    path = tmp_path / "two_names.txt"
    path.write_text(text, encoding="utf-8")
    imported = import_file(path, dates=TODAY)
    m = _measures(imported)
    assert m["1"]["units"] == ["县发改局(粮食局)"]
    assert m["2"]["lead"] == ["县发改局(粮食局)"]
    assert _names(imported) == ["县发改局(粮食局)", "县财政局"]


def test_lishui_responsibility_lines_a_rule_stated_once_and_separate_leads() -> None:
    imported = _import("lishui2023_zhengfu_gongzuo_baogao_zeren.txt")
    m = _measures(imported)
    assert sorted(m, key=int) == [str(n) for n in range(1, 11)]
    # "(除标注“分别牵头”外,列第一位为牵头或汇总单位,下同)" on item 4: its first unit
    # leads, and the first of each list after it
    assert m["4"]["lead"] == ["市发改委"]
    assert len(m["4"]["units"]) == 12
    assert m["10"]["lead"] == ["市双招双引办"]
    assert m["10"]["catch_all"] == ["各县(市、区)政府"]
    # "市人力社保局、市农业农村局分别牵头": both lead, and 分别牵头 is no part of a name
    assert m["6"]["lead"] == m["6"]["units"] == ["市人力社保局", "市农业农村局"]
    assert not [n for n in _names(imported) if "牵头" in n]
    assert "牵头规则：列第一位为牵头或汇总单位,下同" in imported.report()
    # "二、" / "(一)全力以赴拼经济稳增长促发展。" / "10.……": 1–9 sat right under "一、", 10
    # runs on under (一), its task
    titles = [t["title"] for t in imported.plan["tasks"]]
    assert titles == ["全市经济社会发展主要预期目标", "全力以赴拼经济稳增长促发展"]
    assert imported.not_measures == []


def test_yuncheng_a_bracket_on_its_own_line_covers_the_points_above() -> None:
    imported = _import("yuncheng2017_yingji_guihua_zeren.txt")
    (task,) = imported.plan["tasks"]
    assert task["title"] == "“一案三制”建设"
    (measure,) = task["measures"]
    # "1.完善应急预案体系" / "(1)……" … "(4)……" / "(责任单位:……)": one measure, four points
    assert measure["doc_number"] == "1"
    assert measure["text"].startswith("完善应急预案体系(1)加强应急预案管理")
    assert "(4)加强应急预案的培训宣传" in measure["text"]
    assert measure["catch_all"] == ["市直各有关单位", "各县(市、区)人民政府", "各开发区管委会"]
    assert imported.not_measures == []


def test_a_table_a_cell_a_line() -> None:
    jiaxing = _import("jiaxing2023_zhengfu_gongzuo_baogao_zeren.txt")
    assert jiaxing.layout == "一格一行的表格"
    assert _measures(jiaxing)["1"]["units"] == ["市发展改革委"]
    # "序号 |" / "重点工作 |" / "责任领导 |" …: bars closing each cell, a leaders' column
    huoshan = _import("huoshan2025_kaifaqu_zhongdian_gongzuo.txt")
    m = _measures(huoshan)
    assert m["1"]["units"] == ["招商工作部", "安商工作部"]
    assert m["1"]["unit_note"] == "责任领导：叶林"
    assert m["1"]["deadline"] == "全年"
    # "工作机 制": where the cell wrapped, not a space of the text
    assert "优化“重点项目直通车”“无忧办”工作机制," in m["1"]["text"]
    assert not {"叶林", "马振明", "张云峰"} & set(_names(huoshan))


def test_a_table_a_cell_a_line_with_a_heading_row(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "某市2024年重点工作责任分解",
            *("序号", "工作任务", "牵头单位", "配合单位"),
            "一、稳增长",
            *("1", "地区生产总值增长6%。", "市发改委", "市统计局"),
            *("2", "财政收入增长5%。", "市财政局", "市税务局"),
            "二、惠民生",
            *("3", "城镇新增就业1万人。", "市人社局", "各区政府"),
        ]
    )
    path = tmp_path / "cells.txt"
    path.write_text(text + "\n", encoding="utf-8")
    imported = import_file(path, dates=TODAY)
    tasks = imported.plan["tasks"]
    assert [(t["title"], len(t["measures"])) for t in tasks] == [("稳增长", 2), ("惠民生", 1)]
    m = _measures(imported)
    assert m["2"]["lead"] == ["市财政局"]
    assert m["2"]["units"] == ["市财政局", "市税务局"]
    assert m["3"]["units"] == ["市人社局", "各区政府"]


def test_labels_led_by_a_dash_and_a_table_with_full_width_bars(tmp_path: Path) -> None:
    head = "某市2024年重点工作任务分工\n"
    dashes = tmp_path / "dashes.txt"
    dashes.write_text(
        head + "一、稳增长\n1.地区生产总值增长6%。\n——牵头单位：市发改委\n"
        "——配合单位：市统计局、市财政局\n——完成时限：2024年12月\n"
        "2.财政收入增长5%。\n——牵头单位：市财政局\n——配合单位：市税务局\n",
        encoding="utf-8",
    )
    bars = tmp_path / "bars.txt"
    bars.write_text(
        head + "序号｜工作任务｜牵头单位｜配合单位\n"
        "1｜地区生产总值增长6%。｜市发改委｜市统计局、市财政局\n"
        "2｜财政收入增长5%。｜市财政局｜市税务局\n",
        encoding="utf-8",
    )
    for path in (dashes, bars):
        m = _measures(import_file(path, dates=TODAY))
        assert m["1"]["text"] == "地区生产总值增长6%。", path.name
        assert m["1"]["lead"] == ["市发改委"]
        assert m["1"]["units"] == ["市发改委", "市统计局", "市财政局"]
        assert m["2"]["units"] == ["市财政局", "市税务局"]
    assert _measures(import_file(dashes, dates=TODAY))["1"]["deadline"] == "2024年12月"


@pytest.mark.parametrize(
    "rule",
    [
        "责任分解中，列第一位的责任单位为牵头单位或汇总单位。",  # 杭州 2020
        "在责任单位中，排名第一的责任单位为牵头单位，其他列入单位为参与单位。",  # 鄂州 2010
    ],
)
def test_a_lead_rule_in_the_notice_holds_for_every_item(tmp_path: Path, rule: str) -> None:
    path = tmp_path / "rule.txt"
    path.write_text(
        f"某市2024年重点工作责任分解\n{rule}\n一、主要目标\n"
        "1.地区生产总值增长6%。(市发改委、市统计局)\n",
        encoding="utf-8",
    )
    assert _measures(import_file(path, dates=TODAY))["1"]["lead"] == ["市发改委"]


def test_xianyang_a_text_in_traditional_characters_is_read_in_simplified() -> None:
    imported = _import("xianyang2022_fangguanfu_gongzuo_yaodian.txt")
    assert "原文为繁体字：已按简体字读取" in imported.report()
    (measure,) = _measures(imported).values()
    assert measure["text"].startswith("全面实施行政许可事项清单管理。")
    # "(市政府辦公室、……牽頭,市級各有關部門及各縣市區政府按職責分工負責)"
    assert measure["lead"] == ["市政府办公室", "市行政审批制度改革工作领导小组办公室"]
    assert measure["catch_all"] == ["市级各有关部门", "各县市区政府"]
    assert imported.plan["tasks"][0]["title"] == "坚持系统集成,推动审批全链条最佳化"


def test_a_simplified_text_keeps_its_few_traditional_forms(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_text(
        "某市2024年重点工作责任分解\n一、主要目标\n"
        "1.做好乾隆故居和著名景区的保护修缮工作，推进文旅融合发展。(市文旅局负责)\n",
        encoding="utf-8",
    )
    imported = import_file(path, dates=TODAY)
    assert not imported.simplified
    assert _measures(imported)["1"]["text"].startswith("做好乾隆故居")


def test_a_reimport_keeps_the_entry_a_body_had_under_one_of_its_names(tmp_path: Path) -> None:
    path = tmp_path / "market.txt"
    path.write_text(
        "某省2024年重点工作责任分解\n一、主要目标\n"
        "1.加强知识产权保护。(省市场监管局（省知识产权局）负责)\n",
        encoding="utf-8",
    )
    assert _measures(import_file(path, dates=TODAY))["1"]["units"] == [
        "省市场监管局（省知识产权局）"
    ]
    # a units file written before bodies were named as written: its entry stays the unit
    before = Unit("省市场监管局", "省市场监管局", ("省知识产权局", "市场监管局"))
    imported = import_file(path, (before,), dates=TODAY)
    assert _measures(imported)["1"]["units"] == ["省市场监管局"]
    assert _names(imported) == ["省市场监管局"]


def test_sichuan_tortoise_shell_brackets_and_a_group_stated_once() -> None:
    imported = _import("sichuan2022_xiandai_liutong.txt")
    m = _measures(imported)
    assert sorted(m) == ["(一)", "(二)"]
    # "〔责任单位:省发展改革委、省市场监管局、商务厅、省大数据中心按职责分工负责。具体任务均涉及
    # 相关市(州)人民政府,不再做分工,下同。〕": no lead; the group binds this item and the next
    first = m["(一)"]
    assert first["text"].endswith("争取将成都市纳入国家要素市场化配置综合改革试点。")
    assert first["units"] == ["省发展改革委", "省市场监管局", "省商务厅", "省大数据中心"]
    assert "lead" not in first
    assert first["catch_all"] == ["相关市(州)人民政府"]
    assert m["(二)"]["units"] == ["省市场监管局"]
    assert m["(二)"]["catch_all"] == ["相关市(州)人民政府"]
    assert not any(m.get("all_provincial") for m in m.values())  # a group, not everyone
    trade = next(u for u in imported.units["units"] if u["name"] == "省商务厅")
    assert "商务厅" in trade["aliases"]  # written bare in a list of 省…: the province's
    report = imported.report()
    assert "写明一次、其后各条均适用：相关市(州)人民政府" in report
    assert "地方政府等群体（只约束所列举措）：相关市(州)人民政府" in report
    assert imported.plan["document"]["issuer"] == "四川省发展和改革委员会"


def test_a_number_in_tortoise_shell_brackets_is_no_unit(tmp_path: Path) -> None:
    path = tmp_path / "number.txt"
    path.write_text(
        "某省2024年重点工作责任分解\n一、主要目标\n"
        "(一)落实《关于加强残疾人就业的通知》(川府发〔2022〕4号)要求。〔责任单位:省财政厅〕\n"
        "(二)加强就业服务。〔责任单位:省人社厅。以下均需各市政府落实,不再列出〕\n"
        "(三)加强培训。〔责任单位:省教育厅〕\n",
        encoding="utf-8",
    )
    m = _measures(import_file(path, dates=TODAY))
    assert m["(一)"]["text"] == "落实《关于加强残疾人就业的通知》(川府发〔2022〕4号)要求。"
    assert m["(一)"]["units"] == ["省财政厅"]
    # "以下": the items after this one; a group stated so is one, not a unit
    assert "catch_all" not in m["(二)"]
    assert m["(三)"]["units"] == ["省教育厅"]
    assert m["(三)"]["catch_all"] == ["各市政府"]


def _by_id(imported: Imported) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for t in imported.plan["tasks"] for m in t["measures"]}


def _run_together(tmp_path: Path, table: str) -> dict[str, dict[str, Any]]:
    path = tmp_path / "together.txt"
    path.write_text(f"2024年为民办实事项目分解表\n{table}\n", encoding="utf-8")
    return _by_id(import_file(path, dates=TODAY))


def test_changzhou_a_table_with_its_cells_run_together() -> None:
    imported = _import("changzhou_zhonglou2021_minsheng_shishi.txt")
    assert imported.plan["document"]["title"] == "2021年重大民生实事项目目标任务责任分解表"
    titles = [t["title"] for t in imported.plan["tasks"]]
    assert titles == ["增加教育资源供给", "促进就业稳定增长", "老城厢复兴发展", "优化养老服务"]
    m = _by_id(imported)
    assert sorted(m) == ["1.1", "2.1", "3.1", "3.2", "4.1", "4.2"]
    # "……4580个。何海平教育局经开区高新园(邹区镇)各街道市国有公司2促进就业……"
    # the project's name, run into its content, is the task's title
    assert m["1.1"]["text"].startswith("实施新建、改扩建学校")
    assert m["1.1"]["text"].endswith("中小学4580个。")
    assert m["1.1"]["units"] == ["教育局", "经开区", "高新园(邹区镇)", "各街道", "市国有公司"]
    assert m["1.1"]["lead"] == ["教育局"]
    assert m["1.1"]["unit_note"] == "责任领导：何海平"
    # the site's chunk marker "2、" inside "高新园(邹区镇)" is no part of it
    assert m["2.1"]["units"] == ["人社局", "高新园(邹区镇)", "各街道"]
    # a merged row: two sub-rows, each with its own leader and units
    assert m["3.1"]["units"] == ["文体旅局", "晋陵公司", "轨道公司"]
    assert m["3.2"]["text"].startswith("推进大庙弄核心区改造")
    assert m["3.2"]["units"] == ["住建局", "五星街道", "南大街街道", "荷花池街道"]
    assert m["3.2"]["unit_note"] == "责任领导：芮春祥"
    # two sub-rows sharing the units printed after the first
    assert m["4.2"]["text"].startswith("提升改造8家城乡社区居家养老服务中心(站)。")
    assert m["4.2"]["units"] == m["4.1"]["units"] == ["民政局", "高新园(邹区镇)", "各街道"]
    assert m["4.2"]["lead"] == ["民政局"]
    names = _names(imported)
    assert not {"何海平", "芮春祥", "张菁"} & {n for u in names for n in (u, u[:3], u[:2])}
    report = imported.report()
    assert "版式：单元格连在一起的表格（无分隔符：项目名称、领导、单位按规则分开，请核对）" in (
        report
    )
    assert "领导（人名，不作为单位）：何海平、芮春祥、张菁" in report
    park = next(u for u in imported.units["units"] if u["name"] == "高新园(邹区镇)")
    assert {"高新园", "邹区镇"} <= set(park["aliases"])


def test_a_table_run_together_without_leaders_or_a_lead_column(tmp_path: Path) -> None:
    m = _run_together(
        tmp_path,
        "1、序号项目名称工作内容责任单位1道路提升完成背街小巷改造20条。区住建局区城管局"
        "2学校建设推进新建小学2所。区教育\n"
        "2、局3社区养老建成日间照料中心5个。区民政局",
    )
    assert m["1.1"]["text"] == "完成背街小巷改造20条。"
    assert m["1.1"]["units"] == ["区住建局", "区城管局"]
    assert "lead" not in m["1.1"]
    assert m["2.1"]["units"] == ["区教育局"]
    assert m["3.1"]["units"] == ["区民政局"]


def test_a_table_run_together_that_cannot_be_read_is_refused_helpfully(tmp_path: Path) -> None:
    path = tmp_path / "unreadable.txt"
    path.write_text(
        "2024年为民办实事项目分解表\n序号项目名称主要内容牵头单位1道路提升完成背街小巷改造\n",
        encoding="utf-8",
    )
    with pytest.raises(PlanError, match=r"表头（序号、项目名称、主要内容、牵头单位）.*\.xlsx"):
        import_file(path, dates=TODAY)


def test_tortoise_shell_labels_and_a_department_written_without_its_level(
    tmp_path: Path,
) -> None:
    path = tmp_path / "labels.txt"
    path.write_text(
        "某省2024年重点工作责任分解\n一、主要目标\n"
        "(一)扩大有效投资。〔牵头单位：省发展改革委；配合单位：省财政厅、省商务厅〕\n"
        "(二)促进消费。〔商务厅牵头，省财政厅配合〕\n",
        encoding="utf-8",
    )
    imported = import_file(path, dates=TODAY)
    m = _measures(imported)
    assert m["(一)"]["units"] == ["省发展改革委", "省财政厅", "省商务厅"]
    assert m["(一)"]["lead"] == ["省发展改革委"]
    # "商务厅" where the document also writes "省商务厅": one body
    assert m["(二)"]["units"] == ["省商务厅", "省财政厅"]
    assert m["(二)"]["lead"] == ["省商务厅"]
    assert _names(imported) == ["省发展改革委", "省财政厅", "省商务厅"]
    trade = next(u for u in imported.units["units"] if u["name"] == "省商务厅")
    assert "商务厅" in trade["aliases"]


def test_a_table_run_together_with_a_deadline_column(tmp_path: Path) -> None:
    m = _run_together(
        tmp_path,
        "序号项目名称主要内容牵头单位配合单位完成时限1道路提升完成背街小巷改造20条。"
        "区住建局区城管局2024年底前2学校建设推进新建小学2所。区教育局各街道全年",
    )
    assert sorted(m) == ["1.1", "2.1"]
    assert m["1.1"]["units"] == ["区住建局", "区城管局"]
    assert m["1.1"]["deadline"] == "2024年底前"
    assert m["2.1"]["units"] == ["区教育局", "各街道"]
    assert m["2.1"]["deadline"] == "全年"


def test_a_leaders_name_before_a_body_with_its_level(tmp_path: Path) -> None:
    m = _run_together(
        tmp_path,
        "序号项目名称主要内容分管领导牵头单位配合单位1道路提升完成背街小巷改造20条。"
        "吴敏区卫健委区城管局2学校建设推进新建小学2所。周立波区教育局各街道",
    )
    assert m["1.1"]["units"] == ["区卫健委", "区城管局"]
    assert m["1.1"]["unit_note"] == "责任领导：吴敏"
    assert m["2.1"]["units"] == ["区教育局", "各街道"]
    assert m["2.1"]["unit_note"] == "责任领导：周立波"


def test_cangnan_a_table_with_bars_a_content_column_and_the_pages_fields() -> None:
    imported = _import("cangnan2022_minsheng_shishi_jindu.txt")
    m = _measures(imported)
    # 序号 | 项目内容 | 当前进度 | 牵头单位 | 备注: the 项目内容 is the measure, progress no unit
    assert m["7"]["text"] == "开工建设矾山镇、马站镇等2家中心敬老院。"
    assert m["7"]["units"] == m["7"]["lead"] == ["县民政局"]
    assert m["12"]["units"] == ["县文广旅体局"]
    assert [n for n, x in m.items() if x["units"] == ["县教育局"]] == ["1", "8", "9"]
    # "来源:苍南县人民政府办公室" and "发布日期:2022-12-14" above the table: the page's own fields
    document = imported.plan["document"]
    assert document["issuer"] == "苍南县人民政府办公室"
    assert document["date"] == dt.date(2022, 12, 14)


def test_a_project_name_column_titles_its_content(tmp_path: Path) -> None:
    path = tmp_path / "projects.txt"
    path.write_text(
        "某区2024年民生实事项目分工表\n"
        "序号 | 项目名称 | 建设内容 | 责任单位\n"
        "1 | 幼儿园扩容 | 新增公办学位500个。 | 区教育局\n"
        "2 | 养老服务 | 建成社区养老服务站3个。 | 区民政局、各街道\n",
        encoding="utf-8",
    )
    tasks = import_file(path, dates=TODAY).plan["tasks"]
    # a project's name titles its row; its 建设内容 is the measure
    assert [t["title"] for t in tasks] == ["幼儿园扩容", "养老服务"]
    assert [m["text"] for t in tasks for m in t["measures"]] == [
        "新增公办学位500个。",
        "建成社区养老服务站3个。",
    ]
    assert tasks[0]["measures"][0]["units"] == ["区教育局"]


def test_heilongjiang_host_and_assist_and_items_run_into_one_line() -> None:
    m = _measures(_import("heilongjiang2013_zhengfu_gongzuo_fengong.txt"))
    # "(一)……(省发改委负责)(二)公共财政收入……(省财政厅主办,省国税局、地税局协办)": two items
    assert m["(一)"]["units"] == ["省发改委"]
    second = m["(二)"]
    assert second["text"] == "公共财政收入增长13%左右。"
    assert second["units"] == ["省财政厅", "省国税局", "省地税局"]
    assert second["lead"] == ["省财政厅"]  # 主办 leads, 协办 supports
    assert m["2"]["text"].startswith("重点抓好哈尔滨中小型燃气轮机")
    assert m["2"]["lead"] == ["省工信委"]
    assert m["2"]["units"] == ["省工信委", "省发改委"]
    # "(省发改委、农委、统计局分别负责)": the list's level is each one's
    assert m["(七)"]["units"] == ["省发改委", "省农委", "省统计局"]


def test_shanxi_headings_name_the_lead_and_support_lines_follow() -> None:
    imported = _import("shanxi2008_mubiao_zeren_fenjie.txt")
    m = _by_id(imported)
    # "(一)省监察厅牵头的工作" over an unnumbered paragraph: that paragraph, led by 省监察厅
    assert m["1.1"]["text"].startswith("加强行政监察工作")
    assert m["1.1"]["lead"] == m["1.1"]["units"] == ["省监察厅"]
    # "协同单位:省直各部门和各市人民政府。" after the text: a catch-all and a group
    assert m["1.2"]["lead"] == ["省审计厅"]
    assert m["1.2"]["catch_all"] == ["省直各部门", "各市人民政府"]
    # "(三)省编办牵头的工作" over 1. and 2.: both led by 省编办; "省农业厅等省直有关部门"
    assert m["2.1"]["units"] == ["省编办"]
    assert m["2.2"]["units"] == ["省编办", "省财政厅", "省人事厅", "省农业厅"]
    assert "省直有关部门" in m["2.2"]["catch_all"]
    # "一、孟学农省长负责的工作": a leader, no unit
    assert not any("省长" in u for u in _names(imported))


def test_a_list_writes_a_kind_of_body_once_for_several_names(tmp_path: Path) -> None:
    path = tmp_path / "shared.txt"
    path.write_text(
        "某市2022年重点工作分解方案\n"
        "1.地区生产总值增长10%左右。(牵头单位:市发改局;责任单位:人民大垸、荒湖管理区)\n"
        "2.做好财政保障。(发展改革、财政部门负责)\n",
        encoding="utf-8",
    )
    m = _measures(import_file(path, dates=TODAY))
    assert m["1"]["units"] == ["市发改局", "人民大垸管理区", "荒湖管理区"]
    assert m["2"]["units"] == ["发展改革部门", "财政部门"]


def test_shapingba_a_targets_column_a_cell_a_line() -> None:
    m = _measures(_import("shapingba2022_yuqi_mubiao_fenjie.txt"))
    assert m["1"]["text"] == "地区生产总值增长5.5%左右"
    assert [n for n, x in m.items() if x["units"] == ["区发展改革委"]] == ["1", "2", "10"]


def test_wujiang_a_star_marks_the_lead_in_a_table_of_merged_rows() -> None:
    imported = _import("wujiang2024_zhongdian_gongzuo_fenjie.txt")
    m = _measures(imported)
    # "1 | 主要预期目标 | 1.地区生产总值…… | 钱 宇 | ★区发改委、统计局"; the next rows share
    # the 序号 and 项目 cells above and number their own texts
    assert sorted(m, key=int) == [str(n) for n in range(1, 12)]
    assert m["1"]["text"] == "地区生产总值增长5%以上。"
    assert m["1"]["lead"] == ["区发改委"]
    assert m["1"]["units"] == ["区发改委", "统计局"]
    # "2.一般公共预算收入…… | ★区财政局、税务局": one bar, no leader's cell
    assert m["2"]["lead"] == ["区财政局"]
    assert m["2"]["units"] == ["区财政局", "税务局"]
    assert imported.plan["tasks"][0]["title"] == "2024年全区经济社会发展主要预期目标"
    assert "领导（人名，不作为单位）：钱宇、方勇、王嵘" in imported.report()
def _in_order(imported: Imported) -> list[dict[str, Any]]:
    return [m for t in imported.plan["tasks"] for m in t["measures"]]


def test_heilongjiang_zhuban_leads_xieban_supports_and_items_run_on() -> None:
    imported = _import("heilongjiang2013_zhengfu_gongzuo_fengong.txt")
    m = _measures(imported)
    numbers = [f"({n})" for n in "一二三四五六七八九"]
    assert list(m) == [*numbers, "1", "2"]  # "(一)……(A负责)(二)……": two items on one line
    assert m["(二)"]["text"] == "公共财政收入增长13%左右。"
    assert m["(二)"]["units"] == ["省财政厅", "省国税局", "省地税局"]  # 主办, then 协办
    assert m["(二)"]["lead"] == ["省财政厅"]
    assert m["(三)"]["lead"] == ["省发改委"]
    assert "省金融办" in m["(三)"]["units"]
    assert "lead" not in m["(一)"]  # 负责 alone: responsible, no lead named
    # "省发改委、农委、统计局分别负责": each responsible, the list's level for each
    assert m["(七)"]["units"] == ["省发改委", "省农委", "省统计局"]
    assert "lead" not in m["(七)"]
    assert m["2"]["units"] == ["省工信委", "省发改委"]
    assert m["2"]["lead"] == ["省工信委"]
    assert not [n for n in _names(imported) if n.endswith(("主办", "协办"))]
    assert imported.plan["document"]["date"] == dt.date(2013, 3, 27)  # "发布日期:2013-03-27"


def test_items_run_on_after_a_host_and_assist_bracket(tmp_path: Path) -> None:
    path = tmp_path / "run_on.txt"
    path.write_text(
        "关于分解任务的通知\n一、目标\n"
        "1.甲指标增长5%。(市发改委负责)2.乙指标增长6%。(市财政局主办,市税务局协办)\n",
        encoding="utf-8",
    )
    m = _measures(import_file(path, dates=TODAY))
    assert list(m) == ["1", "2"]
    assert m["2"]["lead"] == ["市财政局"]
    assert m["2"]["units"] == ["市财政局", "市税务局"]
    assert "unit_note" not in m["2"]  # 主办 and 协办 are roles, not remarks


def test_a_body_holding_zhengxie_ban_is_no_verb(tmp_path: Path) -> None:
    path = tmp_path / "zhengxie.txt"
    path.write_text(
        "关于分解任务的通知\n一、目标\n1.做好提案办理。(市政府办公厅、市政协办公厅负责)\n",
        encoding="utf-8",
    )
    imported = import_file(path, dates=TODAY)
    assert _names(imported) == ["市政府办公厅", "市政协办公厅"]
    assert "疑似不是单位名称" not in "\n".join(imported.report())


def test_tianjin_several_measures_on_a_line_under_a_heading_of_their_own() -> None:
    imported = _import("tianjin2006_shiyiwu_guihua_fengong.txt")
    ms = _in_order(imported)
    # "1.主要指标的责任部门。" heads the five; it is not the first one's text
    assert ms[0]["text"] == "常住人口控制在1150万人左右。"
    assert ms[0]["lead"] == ["市人口计生委", "市公安局"]
    # the bracket wrapped to the start of the next line covers the sentence above it
    assert ms[3]["text"] == "耕地保有量保持在国务院确定的我市2010年耕地保有量面积。"
    assert ms[3]["units"] == ["市国土房管局"]
    assert ms[4]["units"] == ["市环保局"]
    # the page starts in the notice's first paragraph: no title to read
    assert imported.plan["document"]["title"] == UNTITLED


def test_jiangxi_a_lead_rule_inside_the_first_bracket_and_a_title_above_the_preamble() -> None:
    imported = _import("jiangxi2017_poyuwandu_xiaokang_fengong.txt")
    m = _measures(imported)
    assert imported.plan["document"]["title"] == "支持鄱余万都滨湖四县小康攻坚重点工作责任分工方案"
    # "列第一位的为牵头部门,下同": the second item's lead too
    assert m["1"]["lead"] == m["2"]["lead"] == ["省发改委"]
    assert m["2"]["units"] == ["省发改委", "省交通运输厅", "省财政厅"]
    assert "列第一位的为牵头部门" in "\n".join(imported.report())


def test_chuzhou_a_list_ending_in_deng_then_a_group() -> None:
    imported = _import("chuzhou2020_shizhengfu_zhongdian_gongzuo.txt")
    m = _measures(imported)
    assert imported.plan["document"]["title"].startswith("滁州市人民政府关于")  # no 【column】
    assert imported.plan["document"]["issuer"] == "滁州市人民政府"
    assert m["2"]["lead"] == ["市财政局"]
    assert m["2"]["units"][-2:] == ["滁州经开区管委会", "中新苏滁高新区管委会"]
    assert "市人行" in m["2"]["units"]
    assert m["2"]["catch_all"] == ["各县、市、区政府"]  # one group, not 各县 + 市 + 区政府
    assert "领导（人名，不作为单位）：金力" in imported.report()


def test_shapingba_a_table_of_targets_a_cell_a_line() -> None:
    imported = _import("shapingba2022_yuqi_mubiao_fenjie.txt")
    m = _measures(imported)
    assert list(m) == [str(n) for n in range(1, 11)]
    assert m["1"]["text"] == "地区生产总值增长5.5%左右"
    assert m["7"]["units"] == ["区税务局"]
    assert m["10"]["units"] == ["区发展改革委"]
    # the signed date is garbled ("2022121日"); the page's "发布日期:2022-01-21" is read
    assert imported.plan["document"]["date"] == dt.date(2022, 1, 21)


def test_jiamusi_a_standing_group_with_an_exception_and_a_bracket_closed_twice() -> None:
    imported = _import("jiamusi2018_shuiwuran_fangzhi_zhongdian.txt")
    (measure,) = _in_order(imported)
    assert measure["units"] == ["市水务局", "市工信委", "市城乡建设局"]
    assert measure["lead"] == ["市水务局"]
    assert measure["catch_all"] == ["各县(市)区政府"]
    # "以下均需各县(市)区政府落实,区政府无相关工作职能的,由……负责相关工作,不再列出)]"
    assert imported.standing == ["各县(市)区政府"]
    assert "区政府无相关工作职能的" in measure["unit_note"]
    assert imported.plan["document"]["issuer"] == "佳木斯市人民政府办公室"


def test_haicheng_ge_shared_by_the_areas_after_it_and_a_spaced_name() -> None:
    imported = _import("haicheng2023_zhengfu_gongzuo_baogao_fengong.txt")
    m = _measures(imported)
    # not the notice's "现将《海城市关于……方案》印发给你们": a 关于 quoted is not the title's
    assert imported.plan["document"]["title"].startswith("海城市关于贯彻落实2023年《辽宁省")
    # "海城市关于……" names a place: the issuer is the body signed above the date
    assert imported.plan["document"]["issuer"] == "海城市人民政府"
    assert m["1"]["catch_all"] == ["各有关部门", "各开发区、镇(街道)"]
    assert m["1"]["lead"] == ["市发展和改革局"]
    assert "镇(街道)" not in _names(imported)
    assert m["7"]["catch_all"][0] == "各主要经济指标牵头单位"  # a role
    report = imported.report()
    assert "领导（人名，不作为单位）：刘兴达、汪忠野、刘哲、王丽敏" in report  # "刘 哲"


def test_ningbo_other_bodies_of_the_city_and_its_parks_are_no_units() -> None:
    imported = _import("ningbo2019_zhengfu_gongzuo_baogao_zeren.txt")
    m = _measures(imported)
    assert m["1"]["units"] == ["市发改委"]
    assert m["1"]["catch_all"] == ["市级其他有关部门", "各区县(市)政府、开发园区管委会"]
    assert m["7"]["units"] == ["市发改委", "市生态环境局", "市经信局", "市科技局"]
    assert "开发园区管委会" not in _names(imported)


def test_the_report_says_what_to_check(tmp_path: Path) -> None:
    path = tmp_path / "check.txt"
    path.write_text(
        "关于分解任务的通知\n一、目标\n"
        "1.甲工作。(商务部统筹推进,市财政局负责)乙工作。(市发改委负责)丙工作没有写单位。\n",
        encoding="utf-8",
    )
    report = import_file(path, dates=TODAY).report()
    text = "\n".join(report)
    # a "unit" holding a verb: flagged, and the report says what to check and how to fix it
    assert "疑似不是单位名称（含动词），请核对：商务部统筹推进" in report
    assert "单位名称里不应带" in text
    assert "再导入一次" in text
    # a paragraph with text and no unit
    assert "无法归位的行 1 行：" in report
    assert "有文字、却没有找到责任单位" in text
    assert "漏写了责任单位" in text


def test_zhoushan_a_lead_rule_in_brackets_on_a_label_line_and_metadata_above_the_title() -> None:
    imported = _import("zhoushan2020_shizhengfu_zhongdian_gongzuo.txt")
    m = _measures(imported)
    document = imported.plan["document"]
    # 索引号, 文号, 成文日期…… fill the first 16 lines; the title is the "关于……的通知" below them
    assert document["title"] == (
        "舟山市人民政府办公室关于印发2020年市政府重点工作任务责任分解的通知"
    )
    assert document["number"] == "舟政办发〔2020〕4号"
    assert document["date"] == dt.date(2020, 2, 27)  # "2020 年 2 月 27 日", spaced
    # "责任单位:市发改委、市财政局(列第一位者为工作牵头或汇总单位,下同)"
    assert m["1"]["units"] == ["市发改委", "市财政局"]
    assert m["1"]["lead"] == ["市发改委"]
    assert m["3"]["lead"] == ["市投资促进中心"]  # 下同
    assert m["2"]["catch_all"] == ["各县(区)政府", "各功能区管委会"]
    assert "列第一位者为工作牵头或汇总单位" in "\n".join(imported.report())


def test_a_text_copied_from_a_pdf_and_a_name_abbreviated_after_its_first_mention(
    tmp_path: Path,
) -> None:
    path = tmp_path / "pdf.txt"
    path.write_text(
        "某市人民政府办公室关于印发2024年重点工作任务分工方案的通知\n一、推动经济稳定增长\n"
        "1.加快推进重大项目建设，全年新开工项目100个以上，完成投资\n"
        "200亿元。（市发展改革委牵头，市财政局、市自然资源\n和规划局配合）\n"
        "2.扩大有效消费，举办各类促消费活动50场以上。（市商务局\n负责）\n"
        "— 2 —\n"
        "3.稳定外贸外资。（牵头单位：市商务局；配合单位：市发改委、\n市财政局）\n"
        "第 3 页\n"
        "4.深化改革。（发改委牵头，财政局配合）\n",
        encoding="utf-8",
    )
    imported = import_file(path, dates=TODAY)
    m = _measures(imported)
    # lines broken mid-sentence, mid-bracket and mid-name are one paragraph
    assert m["1"]["text"] == "加快推进重大项目建设，全年新开工项目100个以上，完成投资200亿元。"
    assert m["1"]["units"] == ["市发展改革委", "市财政局", "市自然资源和规划局"]
    # the page numbers between are no text of an item
    assert m["2"]["text"] == "扩大有效消费，举办各类促消费活动50场以上。"
    assert imported.unplaced == []
    # 市发改委 / 发改委 after 市发展改革委: one body, named in full, found by the short names
    assert m["3"]["units"] == ["市商务局", "市发展改革委", "市财政局"]
    assert m["4"]["lead"] == ["市发展改革委"]
    assert _names(imported) == ["市发展改革委", "市财政局", "市自然资源和规划局", "市商务局"]
    planning = next(u for u in imported.units["units"] if u["name"] == "市发展改革委")
    assert {"市发改委", "发改委"} <= set(planning["aliases"])


def test_two_bodies_whose_names_contract_alike_stay_two(tmp_path: Path) -> None:
    path = tmp_path / "two.txt"
    path.write_text(
        "关于分解任务的通知\n一、目标\n1.甲。（市发展改革委负责）\n2.乙。（市发展和改革委负责）\n"
        "3.丙。（市发改委负责）\n",
        encoding="utf-8",
    )
    names = _names(import_file(path, dates=TODAY))
    # two full names contract to 市发改委: which one it stands for is not said
    assert names == ["市发展改革委", "市发展和改革委", "市发改委"]


def test_a_title_line_with_page_marks_before_guanyu_takes_the_signed_issuer() -> None:
    # "北京市!!!通州区!!!关于印发……": no body before 关于; the office signed above the date is
    document = _import("tongzhou2021_shiwuwu_renwu_fengong.txt").plan["document"]
    assert document["issuer"] == "北京市通州区人民政府办公室"

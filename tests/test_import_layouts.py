"""The importer on documents of other layouts: bracketed items, .docx and .xlsx tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
import yaml

from bot.ask.lexicon import load_lexicon
from bot.cli import main
from bot.documents.importer import Imported, dump_plan, dump_units, import_file
from bot.documents.plan import DATA_DIR, PlanError, load_plan
from bot.documents.shortname import short_forms, unit_aliases
from tests.shared import SHARED, needs_shared

NATIONAL = """\
国务院关于做好某项工作的
若干意见
国发〔2030〕7号
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
为做好某项工作，现提出以下意见。
一、总体要求
（一）指导思想。坚持稳中求进。
（二）基本原则。坚持问题导向。
二、加强就业服务
（三）开展职业培训。组织开展技能培训。（人力资源社会保障部、财政部负责）
（四）完善服务网络。建设就业服务站。（人力资源社会保障部、国家发展改革委等负责。列第一位者为牵头单位，下同）
三、强化保障
（五）加大资金投入。统筹安排资金。（财政部会同有关部门负责）
（六）落实地方责任。各地要抓好落实。（各省级人民政府负责）
（七）推动数据共享。依托平台共享数据。（国家发展改革委、海关总署等有关部门负责）
（八）加强工作宣传。做好政策解读。（各有关部门和单位、地方各级人民政府负责）
（九）开展督查评估。定期开展督查。（人力资源社会保障部、财政部按职责分工负责）
（十）强化统计监测。完善统计制度。（人力资源社会保障部牵头负责）
（十一）总结推广经验。及时总结典型经验。（国家发展改革委负责）
这一段写在条目的括号之后。
国务院
2030年3月1日
（此件公开发布）
"""

CITY = """\
某市人民政府办公室关于印发某市就业工作任务分工的通知
某府办〔2031〕2号
一、稳定就业岗位
1.扩大企业招聘。组织专场招聘会。（牵头单位：市人力资源和社会保障局，配合单位：市财政局、市教育局，各区、县级市）
2、支持创业带动。落实创业担保贷款。（牵头单位：市财政局；配合单位：市人力资源和社会保障局；完成时限：2031年12月底）
二、兜底帮扶
3.做好困难帮扶。（省级有关部门（单位）负责）
2031年2月1日
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def measures(imported: Imported) -> dict[str, dict[str, Any]]:
    return {m.get("doc_number", m["id"]): m for t in imported.plan["tasks"] for m in t["measures"]}


@pytest.fixture
def national(tmp_path: Path) -> Imported:
    return import_file(write(tmp_path, "national.txt", NATIONAL))


def test_bracketed_items_become_measures_grouped_by_heading(national: Imported) -> None:
    tasks = national.plan["tasks"]
    assert [(t["number"], t.get("doc_number"), t["title"]) for t in tasks] == [
        (1, "二", "加强就业服务"),
        (2, "三", "强化保障"),
    ]
    # numbered straight through across headings, past ten
    assert list(measures(national)) == [f"（{n}）" for n in "三四五六七八九十"] + ["（十一）"]
    m = measures(national)["（三）"]
    assert m["id"] == "1.1"
    assert m["text"] == "开展职业培训。组织开展技能培训。"
    assert m["units"] == ["人力资源社会保障部", "财政部"]
    doc = national.plan["document"]
    assert doc["number"] == "国发〔2030〕7号"
    assert doc["title"] == "国务院关于做好某项工作的若干意见"
    assert doc["issuer"] == "国务院"
    assert str(doc["date"]) == "2030-03-01"


def test_the_lead_rule_applies_from_where_it_is_stated(national: Imported) -> None:
    m = measures(national)
    assert "lead" not in m["（三）"]  # before the rule: no lead stated
    assert m["（四）"]["lead"] == ["人力资源社会保障部"]
    assert m["（四）"]["units"] == ["人力资源社会保障部", "国家发展改革委"]
    assert m["（七）"]["lead"] == ["国家发展改革委"]
    assert m["（七）"]["units"] == ["国家发展改革委", "海关总署"]
    assert m["（五）"]["lead"] == ["财政部"]  # X会同有关部门
    assert m["（五）"]["units"] == ["财政部"]
    assert m["（十）"]["lead"] == ["人力资源社会保障部"]  # X牵头负责
    assert national.lead_rule == "列第一位者为牵头单位，下同"


def test_catch_alls_are_not_units_and_never_split(national: Imported, tmp_path: Path) -> None:
    m = measures(national)
    assert m["（六）"]["units"] == []
    assert m["（六）"]["catch_all"] == ["各省级人民政府"]
    assert "all_provincial" not in m["（六）"]  # binds provinces, not the document's units
    assert m["（八）"]["catch_all"] == ["各有关部门和单位", "地方各级人民政府"]
    assert m["（八）"]["all_provincial"] is True  # binds every department of the document
    city = measures(import_file(write(tmp_path, "city.txt", CITY)))
    assert city["1"]["catch_all"] == ["各区、县级市"]
    assert city["3"]["catch_all"] == ["省级有关部门（单位）"]
    names = [u["name"] for u in national.units["units"]]
    assert not any("各" in n or "有关" in n for n in names)
    assert national.units["collective"] == [
        "各省级人民政府",
        "各有关部门和单位",
        "地方各级人民政府",
    ]


def test_labelled_lead_and_supporting_units_and_deadline(tmp_path: Path) -> None:
    imported = import_file(write(tmp_path, "city.txt", CITY))
    m = measures(imported)
    assert m["1"]["units"] == ["市人力资源和社会保障局", "市财政局", "市教育局"]
    assert m["1"]["lead"] == ["市人力资源和社会保障局"]
    assert m["2"]["lead"] == ["市财政局"]
    assert m["2"]["units"] == ["市财政局", "市人力资源和社会保障局"]
    assert m["2"]["deadline"] == "2031年12月底"
    assert m["2"]["text"] == "支持创业带动。落实创业担保贷款。"  # "2、" numbering
    plan_dir = tmp_path / "city"
    plan_dir.mkdir()
    (plan_dir / "plan.yaml").write_text(dump_plan(imported.plan), encoding="utf-8")
    (plan_dir / "units.yaml").write_text(dump_units(imported.units), encoding="utf-8")
    loaded = load_plan(plan_dir).measure("1.1")
    assert loaded is not None
    assert loaded.lead == ("市人力资源和社会保障局",)
    assert loaded.supporting == ("市财政局", "市教育局")
    assert loaded.catch_all == ("各区、县级市",)
    assert loaded.doc_number == "1"


def test_lists_without_units_are_not_measures_and_stray_lines_are_reported(
    national: Imported,
) -> None:
    assert national.not_measures == ["一 总体要求", "（一） 指导思想", "（二） 基本原则"]
    assert national.unplaced == ["（十一） 之后：这一段写在条目的括号之后。"]
    report = "\n".join(national.report())
    assert "任务 2 项，举措 9 项" in report
    assert "兜底表述（不是单位）：各有关部门和单位\n" in report
    assert "地方政府等群体（只约束所列举措）：各省级人民政府、地方各级人民政府" in report
    assert "牵头规则：列第一位者为牵头单位，下同" in report
    assert "这一段写在条目的括号之后" in report
    assert "指导思想" in report


def test_docx_table_found_by_its_headers(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("某省关于印发重点任务分工方案的通知")
    document.add_paragraph("某办发〔2032〕5号")
    table = document.add_table(rows=4, cols=5)
    rows = [
        ["序号", "重点任务", "工作措施", "牵头单位", "配合单位"],
        ["1", "稳就业", "开展招聘活动", "省人力资源社会保障厅", "省教育厅、省财政厅"],
        ["", "", "落实就业补贴", "省财政厅", "省人力资源社会保障厅"],
        ["2", "强保障", "完善统计制度", "省统计局", "各市（州）人民政府"],
    ]
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    table.cell(1, 1).merge(table.cell(2, 1))  # the task's cell spans its two measures
    document.add_paragraph("2032年4月1日")
    path = tmp_path / "plan.docx"
    document.save(str(path))
    imported = import_file(path)
    tasks = imported.plan["tasks"]
    assert [(t["title"], len(t["measures"])) for t in tasks] == [("稳就业", 2), ("强保障", 1)]
    first, second = tasks[0]["measures"]
    assert first["text"] == "开展招聘活动"
    assert first["lead"] == ["省人力资源社会保障厅"]
    assert first["units"] == ["省人力资源社会保障厅", "省教育厅", "省财政厅"]
    assert second["lead"] == ["省财政厅"]
    # a table's column names responsible bodies: local governments there are units too
    assert tasks[1]["measures"][0]["units"] == ["省统计局", "各市（州）人民政府"]
    assert "catch_all" not in tasks[1]["measures"][0]
    assert imported.layout == "Word 表格"


def test_xlsx_table_with_a_deadline_column(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["某市关于印发2033年民生实事分工的通知"])
    sheet.append(["2033年1月5日"])
    sheet.append(["序号", "工作任务", "责任单位", "完成时限"])
    sheet.append([1, "新建养老服务中心", "市民政局、市财政局（按职责分工负责）", "2033年6月"])
    sheet.append([2, "改造老旧小区", "市住房和城乡建设局", "2033年12月"])
    sheet.append([3, "开展义诊活动", None, None])
    path = tmp_path / "plan.xlsx"
    book.save(path)
    imported = import_file(path)
    m = measures(imported)
    assert list(m) == ["1", "2"]
    assert m["1"]["units"] == ["市民政局", "市财政局"]
    assert m["1"]["unit_note"] == "按职责分工负责"
    assert m["1"]["deadline"] == "2033年6月"
    assert imported.unplaced == ["缺少举措或责任单位：3｜开展义诊活动｜｜"]
    assert imported.plan["document"]["period"] == {"start": 2033, "end": 2033}


def test_short_forms_people_also_use() -> None:
    assert "市监局" in short_forms("市市场监管局")
    assert "行政审批局" in short_forms("市行政审批服务局")
    assert "供销社" in short_forms("供销合作总社")
    assert {"央行", "人行"} <= set(short_forms("人民银行"))
    assert "高新区管委会" in short_forms("宝鸡高新区管委会")
    # a place's customs, zone and trade union, said without the place
    assert "海关" in short_forms("吴江海关")
    assert "经济开发区" in short_forms("监利经济开发区")
    assert "工会" in short_forms("县总工会")
    assert "县工" not in short_forms("县总工会")  # no fragment that starts 县工信局


def test_short_forms_follow_general_rules() -> None:
    assert "人社部" in short_forms("人力资源社会保障部")
    assert "发改委" in short_forms("国家发展改革委")
    assert "市人社局" in short_forms("市人力资源和社会保障局")
    assert "财政" in short_forms("财政部")
    assert "工信部" in short_forms("工业和信息化部")
    assert "市场监管局" in short_forms("市场监管总局")
    assert "农业农村" not in short_forms("农业农村部")  # a topic more often than a unit
    assert not any(f.startswith("场") for f in short_forms("市场监管总局"))
    # a short form two units could claim belongs to neither
    aliases = unit_aliases(["市财政局", "区财政局"])
    assert "财政局" not in aliases["市财政局"]
    assert "财政局" not in aliases["区财政局"]


def test_a_generated_folder_answers_unit_questions(tmp_path: Path) -> None:
    out = tmp_path / "national"
    code = main(["import-doc", str(write(tmp_path, "national.txt", NATIONAL)), "--out", str(out)])
    assert code == 0
    units = yaml.safe_load((out / "units.yaml").read_text(encoding="utf-8"))
    by_name = {u["name"]: u["aliases"] for u in units["units"]}
    assert "人社部" in by_name["人力资源社会保障部"]
    assert "发改委" in by_name["国家发展改革委"]
    from bot.ask.assistant import Assistant

    answer = Assistant.load(out).answer("人社部负责哪些")
    assert answer.units == ("人力资源社会保障部",)
    # the general question scaffolding is shared; the examples are the document's own
    lexicon = load_lexicon(out)
    assert "谁负责" in lexicon.stop
    assert lexicon.examples == (
        "人力资源社会保障部负责哪些任务？",
        "开展职业培训由谁负责？",
        "第1项任务",
        "1.1",
    )
    assert Assistant.load(out).answer(lexicon.examples[1]).measures[0].id == "1.1"
    (out / "lexicon.yaml").unlink()
    assert load_lexicon(out).stop == load_lexicon(DATA_DIR).stop
    assert load_lexicon(out).examples == ()


def test_a_file_without_any_responsibility_is_refused(tmp_path: Path) -> None:
    text = "关于某事的通知\n一、总体要求\n（一）坚持稳中求进。\n2030年1月1日\n"
    with pytest.raises(PlanError, match="找不到责任分工表"):
        import_file(write(tmp_path, "empty.txt", text))


@needs_shared
@pytest.mark.parametrize(
    ("name", "tasks", "count", "rule", "catch_all"),
    [
        (
            "guofa2018-42_nongye_jixiehua.txt",
            7,
            18,
            "列第一位者为牵头单位，下同",
            "各省级人民政府",
        ),
        ("guofa2019-3_zonghe_baoshuiqu.txt", 5, 21, "排在第一位的部门为牵头部门，下同", None),
    ],
)
def test_the_shared_documents_import(
    tmp_path: Path, name: str, tasks: int, count: int, rule: str, catch_all: str | None
) -> None:
    imported = import_file(SHARED / name)
    assert len(imported.plan["tasks"]) == tasks
    assert sum(len(t["measures"]) for t in imported.plan["tasks"]) == count
    assert imported.lead_rule == rule
    assert imported.unplaced == []
    assert imported.units["collective"] == ([catch_all] if catch_all else [])
    first = imported.plan["tasks"][0]["measures"][0]
    assert first["lead"] == first["units"][:1]
    out = tmp_path / "doc"
    assert main(["import-doc", str(SHARED / name), "--out", str(out)]) == 0
    assert len(load_plan(out).measures) == count


def test_clauses_name_lead_supporting_and_a_deadline(tmp_path: Path) -> None:
    text = """\
某省关于印发某方案责任分工的通知
一、重点任务
（一）建设服务平台。建成省级平台。（省发展改革委牵头，省财政厅等按职责分工负责）
（二）培训技能人才。每年培训一万人。（省人力资源社会保障厅负责，省教育厅、省民政厅配合）
（三）完善补贴政策。出台补贴办法。（省财政厅负责，2031年底前完成）
2030年5月6日
"""
    m = measures(import_file(write(tmp_path, "clauses.txt", text)))
    assert m["（一）"]["lead"] == ["省发展改革委"]
    assert m["（一）"]["units"] == ["省发展改革委", "省财政厅"]
    assert m["（二）"]["lead"] == ["省人力资源社会保障厅"]
    assert m["（二）"]["units"] == ["省人力资源社会保障厅", "省教育厅", "省民政厅"]
    assert m["（三）"]["units"] == ["省财政厅"]
    assert m["（三）"]["deadline"] == "2031年底前完成"


def test_units_named_mid_paragraph_and_on_label_lines(tmp_path: Path) -> None:
    text = """\
某省关于印发某行动分工的通知
一、重点任务
（一）加强就业帮扶。开展招聘活动。（省人力资源社会保障厅负责）落实税费优惠。（省税务局负责）
（二）建设实训基地。每个市建一个基地。
责任单位：省教育厅、省财政厅
完成时限：2031年底
（三）完善工作机制（省民政厅负责）
1.建立台账。
①按月更新。
2.定期调度。
（四）加强宣传引导。做好政策解读。责任单位：省委宣传部
2030年5月6日
"""
    imported = import_file(write(tmp_path, "labels.txt", text))
    m = measures(imported)
    # each bracket covers the sentences before it: two measures in one paragraph
    assert m["（一）"]["text"] == "加强就业帮扶。开展招聘活动。"
    assert m["（一）"]["units"] == ["省人力资源社会保障厅"]
    after = imported.plan["tasks"][0]["measures"][1]
    assert (after["text"], after["units"]) == ("落实税费优惠。", ["省税务局"])
    assert m["（二）"]["text"] == "建设实训基地。每个市建一个基地。"
    assert m["（二）"]["units"] == ["省教育厅", "省财政厅"]
    assert m["（二）"]["deadline"] == "2031年底"
    # sub-points that name no units are part of the measure above them
    assert m["（三）"]["text"] == "完善工作机制1.建立台账。①按月更新。2.定期调度。"
    assert m["（四）"]["text"] == "加强宣传引导。做好政策解读。"
    assert m["（四）"]["units"] == ["省委宣传部"]
    assert imported.not_measures == []
    assert imported.unplaced == []


def test_docx_paragraphs_numbered_by_word_itself(tmp_path: Path) -> None:
    document = docx.Document()
    for text in (
        "某市关于印发某工作要点的通知",
        "2031年3月3日",
        "稳定就业",
        "开展春风行动。（市人社局负责）",
        "兜底保障",
        "做好困难帮扶。（市民政局、市财政局负责）",
    ):
        document.add_paragraph(text)
    path = tmp_path / "auto.docx"
    document.save(str(path))
    tasks = import_file(path).plan["tasks"]
    assert [(t["title"], [m["units"] for m in t["measures"]]) for t in tasks] == [
        ("稳定就业", [["市人社局"]]),
        ("兜底保障", [["市民政局", "市财政局"]]),
    ]


def test_rule_in_the_preamble_wrapped_brackets_and_lead_marks(tmp_path: Path) -> None:
    text = """\
某省人民政府办公厅关于印发某方案任务分工的通知
各项任务中，排在第一位的部门为牵头部门。
一、重点任务
（一）建设服务平台。建成省级平台。（省发展改革委、
省财政厅负责）
（二）完善补贴政策。出台补贴办法。（省财政厅、省发展改革委（牵头）负责）
（三）加强督促检查。（国务院各有关部门负责）
2030年5月6日印发
"""
    imported = import_file(write(tmp_path, "rule.txt", text))
    m = measures(imported)
    assert imported.lead_rule == "排在第一位的部门为牵头部门"
    assert m["（一）"]["units"] == ["省发展改革委", "省财政厅"]
    assert m["（一）"]["lead"] == ["省发展改革委"]
    assert m["（一）"]["text"] == "建设服务平台。建成省级平台。"
    assert m["（二）"]["lead"] == ["省发展改革委"]
    assert m["（三）"]["catch_all"] == ["国务院各有关部门"]
    assert m["（三）"]["all_provincial"] is True
    assert str(imported.plan["document"]["date"]) == "2030-05-06"


def test_a_table_typed_with_bars(tmp_path: Path) -> None:
    text = """\
某市关于印发某工作分工的通知
| 序号 | 工作任务 | 责任单位 | 完成时限 |
| --- | --- | --- | --- |
| 1 | 新建社区食堂 | 市民政局（牵头）、市商务局 | 2031年底 |
| 2 | 开展技能培训 | 市人力资源和社会保障局 | 持续推进 |
2031年1月2日
"""
    imported = import_file(write(tmp_path, "bars.txt", text))
    m = measures(imported)
    assert m["1"]["text"] == "新建社区食堂"
    assert m["1"]["lead"] == ["市民政局"]
    assert m["1"]["units"] == ["市民政局", "市商务局"]
    assert m["2"]["deadline"] == "持续推进"
    assert imported.layout == "竖线分隔的表格"


def test_a_bare_workbook_takes_its_title_from_the_file(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["序号", "工作任务", "牵头单位", "配合单位", "完成时限"])
    sheet.append([1, "建设数据平台", "市数据局", "市财政局", "2034年9月"])
    path = tmp_path / "数据工作分工.xlsx"
    book.save(path)
    imported = import_file(path)
    doc = imported.plan["document"]
    assert doc["title"] == "数据工作分工"
    assert doc["date"].year == 2034
    only = imported.plan["tasks"][0]["measures"][0]
    assert only["lead"] == ["市数据局"]
    assert only["units"] == ["市数据局", "市财政局"]
    assert only["deadline"] == "2034年9月"


def test_a_likely_misspelling_is_reported_and_a_hand_entry_fixes_it(tmp_path: Path) -> None:
    text = """\
某省关于印发某方案分工的通知
一、重点任务
（一）加强市场监管。（省市场监管局负责）
（二）规范网络交易。（省市市场监管局、省商务厅负责）
2030年5月6日
"""
    source = write(tmp_path, "typo.txt", text)
    out = tmp_path / "doc"
    assert main(["import-doc", str(source), "--out", str(out)]) == 0
    report = "\n".join(import_file(source).report())
    assert "「省市场监管局」与「省市市场监管局」只差一个字" in report
    units = yaml.safe_load((out / "units.yaml").read_text(encoding="utf-8"))
    entries = [u for u in units["units"] if u["name"] != "省市市场监管局"]
    for entry in entries:
        if entry["name"] == "省市场监管局":
            entry["misspellings"] = ["省市市场监管局"]
            entry["aliases"].append("市监局")
    units["units"] = entries
    (out / "units.yaml").write_text(yaml.safe_dump(units, allow_unicode=True), encoding="utf-8")
    assert main(["import-doc", str(source), "--out", str(out)]) == 0
    plan = load_plan(out)
    fixed = plan.measure("1.2")
    assert fixed is not None
    assert fixed.units == ("省市场监管局", "省商务厅")
    assert fixed.corrections[0].written == "省市市场监管局"
    unit = plan.unit("省市场监管局")
    assert unit is not None
    assert "市监局" in unit.aliases  # the hand-written refinement survives the re-import


def test_table_columns_read_by_content_groups_measures_and_an_alias(tmp_path: Path) -> None:
    rows = [
        "某省数据工作任务清单",
        "2031年1月2日",
        "序号\t类别\t任务组\t工作任务\t牵头单位\t配合单位\t完成时限",
        "1\t建设平台\t建好数据平台。\t建设省级数据平台。\t省数据局\t无\t2031年6月",
        "2\t建设平台\t建好数据平台。\t接入各市数据。\t省数据局\t省财政厅\t2031年12月",
        "3\t建设平台\t完善标准。\t制定数据标准。\t省市场监管局（省标准化局）\t省数据局\t持续推进",
    ]
    imported = import_file(write(tmp_path, "list.txt", "\n".join(rows) + "\n"))
    # 类别 and 任务组 span rows: the finer groups the measures; 工作任务 differs on every row
    tasks = imported.plan["tasks"]
    assert [(t["title"], len(t["measures"])) for t in tasks] == [
        ("建好数据平台。", 2),
        ("完善标准。", 1),
    ]
    m = measures(imported)
    assert m["1"]["text"] == "建设省级数据平台。"
    assert m["1"]["units"] == m["1"]["lead"] == ["省数据局"]  # "无": no co-unit
    assert m["2"]["deadline"] == "2031年12月"
    assert m["3"]["units"] == ["省市场监管局（省标准化局）", "省数据局"]
    market = next(u for u in imported.units["units"] if u["name"] == m["3"]["units"][0])
    assert market["aliases"][:2] == ["省市场监管局", "省标准化局"]


def test_title_lines_in_a_tab_table_and_a_level_written_once_for_a_list(tmp_path: Path) -> None:
    rows = [
        "广东省某工作要点",
        "2031年1月2日",
        "序号\t工作任务\t工作内容\t责任单位",
        "推进数字政府",
        "1\t建设平台\t建设政务平台。\t省政务数据局牵头，省财政厅、发展改革委按职责分工负责",
        "2\t开放数据\t开放公共数据。\t省数据局、科技厅按职责分工负责，各市人民政府结合实际落实",
        "强化保障",
        "3\t培养人才\t培养数字人才。\t人力资源社会保障厅、省教育厅按职责分工负责",
        "4\t保障资金\t安排资金。\t省财政厅、人力资源社会保障厅、广东海事局按职责分工负责",
    ]
    imported = import_file(write(tmp_path, "points.txt", "\n".join(rows) + "\n"))
    tasks = imported.plan["tasks"]
    assert [(t["title"], len(t["measures"])) for t in tasks] == [
        ("推进数字政府", 2),
        ("强化保障", 2),
    ]
    m = measures(imported)
    assert m["1"]["text"] == "建设平台。建设政务平台。"  # the row's own title, then its text
    assert m["1"]["lead"] == ["省政务数据局"]
    assert m["1"]["units"] == ["省政务数据局", "省财政厅", "省发展改革委"]
    # a group and what it is told to do: "各市人民政府结合实际落实"
    assert m["2"]["units"] == ["省数据局", "省科技厅", "各市人民政府"]
    assert "结合实际" in m["2"]["unit_note"]
    # written first in a list, 人力资源社会保障厅 is named so; 广东海事局 holds its own place
    assert m["4"]["units"] == ["省财政厅", "人力资源社会保障厅", "广东海事局"]


def test_a_bracket_explaining_the_text_and_a_group_told_what_to_do(tmp_path: Path) -> None:
    text = """\
某市关于推进基层民主的实施意见
2031年1月2日
一、主要任务
1.推行五民主工作法（即民主提事、民主决事和民主参与），保障群众权利。（牵头单位：市民政局）
2.做好临时救助。（县级以上人民政府民政部门负责，各区政府结合实际落实）
"""
    imported = import_file(write(tmp_path, "explain.txt", text))
    m = measures(imported)
    assert list(m) == ["1", "2"]
    assert m["1"]["units"] == ["市民政局"]
    assert "（即民主提事、民主决事和民主参与）" in m["1"]["text"]
    # a body named after a government is whole; a group's verb phrase is no part of its name
    assert m["2"]["units"] == ["县级以上人民政府民政部门"]
    assert m["2"]["catch_all"] == ["各区政府"]

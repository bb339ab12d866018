"""A year's targets (预期目标) said plainly, and the details only a measure stating them answers.

Government work-report splits (政府工作报告分工) open with the same economic and environmental
targets; people ask for them in everyday words (固投, 兜里的钱, 蓝天, 减排, 雾霾). These hold on
a document of that kind imported as a user would (#18).
"""

from __future__ import annotations

import pytest

from bot.ask.engine import Engine
from bot.documents.plan import Plan
from tests.test_engine_reading import engine_of

TARGETS = """某区人民政府办公室关于印发2024年区政府工作报告目标任务分解的通知
2024年1月10日
序号 | 2024年预期目标 | 责任单位
1 | 固定资产投资增长6%左右 | 区发展改革委
2 | 社会消费品零售总额增长8%左右 | 区商务委
3 | 区级税收增长6%左右 | 区税务局
4 | 全体居民人均可支配收入增长6%左右 | 区人力社保局
5 | 空气质量优良天数比例完成年度目标任务 | 区生态环境局
6 | 细颗粒物(PM2.5)年均浓度达到市级要求 | 区生态环境局
7 | 主要污染物排放总量削减完成上级下达任务 | 区生态环境局
8 | 不发生重特大生产安全责任事故 | 区应急管理局
9 | 单位地区生产总值能耗下降3% | 区发展改革委
10 | 森林覆盖率达到36.5% | 区园林绿化局
11 | 北运河水质达到Ⅳ类 | 区水务局
"""


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Engine]:
    out = tmp_path_factory.mktemp("targets")
    source = out / "targets.txt"
    source.write_text(TARGETS, encoding="utf-8")
    return engine_of(out, source)


def _texts(targets: tuple[Plan, Engine], question: str) -> list[str]:
    plan, engine = targets
    by_id = {m.id: m.text for t in plan.tasks for m in t.measures}
    return [by_id[m.id] for m in engine.answer(question).measures]


@pytest.mark.parametrize(
    ("question", "target"),
    [
        ("固投谁牵头", "固定资产投资"),
        ("消费指标谁管", "社会消费品零售总额"),
        ("收税那块增长是谁的活", "税收"),
        ("老百姓兜里的钱涨不涨谁管", "可支配收入"),
        ("蓝天谁负责", "空气质量"),
        ("雾霾那块指标找谁", "细颗粒物"),  # 那块指标: the kind asked, no topic
        ("减排任务落到哪个局", "污染物排放"),
        ("别出大的安全事故，这个归谁", "安全责任事故"),
        ("节能降耗谁负责", "能耗"),
        ("种树绿化那个指标谁牵头", "森林覆盖率"),
        ("河水要到四类标准谁来抓", "Ⅳ类"),
    ],
)
def test_a_target_said_plainly_finds_it(
    targets: tuple[Plan, Engine], question: str, target: str
) -> None:
    assert target in _texts(targets, question)[0]


@pytest.mark.parametrize("question", ["房价谁负责", "今年学校扩招谁负责"])
def test_what_the_targets_do_not_name_is_not_found(
    targets: tuple[Plan, Engine], question: str
) -> None:
    assert _texts(targets, question) == []


@pytest.mark.parametrize(
    "question",
    [
        "报刊亭一个月租金好多",  # 好多 at the end asks a sum, in south-western speech
        "人工智能专业今年高考招多少人",  # a number of people only a text stating one answers
        "残疾人考公务员招多少人",
        "就业年龄段 具体是多少岁到多少岁",  # a group named by its age states no age
        "个体户营业执照咋办",  # how to get a licence: a procedure no measure describes
        "盲人按摩店执照咋办",
    ],
)
def test_a_detail_the_notice_never_states_is_not_found(engine: Engine, question: str) -> None:
    answer = engine.answer(question)
    assert answer.measures == ()


def test_the_former_name_of_a_body_is_that_body(engine: Engine) -> None:
    answer = engine.answer("原来扶贫办那块 现在乡村振兴局 分了啥")
    assert answer.units == ("省乡村振兴局",)
    assert {"6.1", "6.3"} <= {m.id for m in answer.measures}

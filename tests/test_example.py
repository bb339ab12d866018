"""Every text that shows an example names the loaded document's own units, measures and rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.ask.assistant import Assistant
from bot.clock import TZ
from bot.commands import BY_NAME
from bot.documents.example import NOTE_TEXT, example
from bot.reply import render_plain
from bot.store import Store
from handlers.console import LOCAL_USER, Console
from tests.cores import make_core
from tests.fakes.clock import FakeClock
from tests.test_catalog import ZONGBAO
from tests.test_cli import main

# What only the notice (川残工委〔2022〕4号) says: none of it may reach another document's user.
NOTICE_ONLY = ("人社厅", "残疾", "盲人", "5.1 ", "省政府", "全省", "残工委", "教育厅", "按摩")


@pytest.fixture(scope="module")
def zongbao(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    root = tmp_path_factory.mktemp("zongbao")
    source = root / "zongbao.txt"
    source.write_text(ZONGBAO, encoding="utf-8")
    assert main(["import-doc", str(source), "--out", str(root / "doc")]) == 0
    return Assistant.load(root / "doc")


@pytest.fixture
async def console(zongbao: Assistant, tmp_path: Path) -> AsyncIterator[Console]:
    clock = FakeClock(dt.datetime(2019, 6, 1, 9, 0, tzinfo=TZ))
    async with await Store.open(tmp_path / "bot.sqlite3", clock) as store:
        yield Console(make_core(zongbao, store, {LOCAL_USER.id}, clock), out_dir=tmp_path)


def test_the_examples_come_from_the_document(zongbao: Assistant) -> None:
    plan = zongbao.plan
    sample = example(plan, zongbao.lexicon.examples)
    unit = next(u for u in plan.units if sample.unit in u.names())
    assert sample.measure in [m.id for m in plan.duties_of(unit.name)]
    assert 1 <= sample.task <= len(plan.tasks)
    assert sample.year in range(plan.document.period[0], plan.document.period[1] + 1)
    assert sample.note == f"/note {sample.measure} {NOTE_TEXT}"


def test_the_notice_keeps_its_own_examples() -> None:
    sample = Assistant.load().example()
    assert (sample.unit, sample.topic, sample.year) == ("人社厅", "盲人按摩", 2024)


async def test_no_text_of_the_notice_reaches_another_documents_user(console: Console) -> None:
    plan = console.core.catalog.default.assistant.plan
    sample = console.core.catalog.default.assistant.example()
    said = {
        typed: await console.handle(typed)
        for typed in (
            "/start",
            "/help",
            "/unit",
            "/task abc",
            "/find",
            "/bind",
            "/report 2019",
            "/remind_test",
            "什么时候报送？报给谁？",
            f"/bind {sample.unit}",
        )
    }
    # The local user is a coordinator: approve their own request, then file badly.
    said["批准"] = await console.handle("批准")
    said["/note x"] = await console.handle("/note 进展很好")
    for typed, out in said.items():
        for word in NOTICE_ONLY:
            assert word not in out, (typed, word, out)
    assert f"/unit {sample.unit}" in said["/help"]
    assert f"例如：/task {sample.task}" in said["/task abc"]
    assert f"例如：/find {sample.topic}" in said["/find"]
    assert f"/note {sample.measure} " in said["/help"]
    reporting = said["什么时候报送？报给谁？"]
    assert f"{plan.document.number}没有关于报送工作进度的条款" in reporting
    assert "：。" not in reporting
    assert "报送对象：文件未写明" in reporting
    own = plan.duties_of(next(u.name for u in plan.units if sample.unit in u.names()))
    assert f"例如：/note {own[0].id} {NOTE_TEXT}" in said["/note x"]


async def test_a_reminder_of_a_document_naming_no_recipient_reads_right(console: Console) -> None:
    plan = console.core.catalog.default.assistant.plan
    unit = plan.units[0].name
    reply = console.core.reminders.unit_reminder(unit, 2019, list(plan.duties_of(unit)))
    assert reply is not None
    text = render_plain(reply)
    assert "向报送" not in text
    assert "请各责任单位在截止前报送本年度工作进展（截止 2019 年 12 月 31 日）" in text


def test_the_other_unit_is_an_ordinary_responsible_unit_not_the_committee(
    zongbao: Assistant,
) -> None:
    for assistant in (Assistant.load(), zongbao):
        plan = assistant.plan
        sample = assistant.example()
        other = next(u for u in plan.units if sample.other in u.names())
        assert sample.other != sample.unit
        assert plan.duties_of(other.name)
        assert other.name not in (plan.document.report_to or "")
    assert Assistant.load().example().other == "残联"  # 28 duties; not 省政府残工委
    usage = BY_NAME["unit_change"].example_of(Assistant.load().example())
    assert usage == "/unit_change 残联 更名为 新名称 2024-01-01"


def test_a_unit_the_document_does_not_name_is_said_to_be_absent(zongbao: Assistant) -> None:
    from bot.ask.compose import answer_reply

    plan = zongbao.plan
    assert not any("人社厅" in u.names() for u in plan.units)
    reply = answer_reply(plan, zongbao.answer("人社厅负责哪些任务？"), zongbao.lexicon.examples)
    text = render_plain(reply)
    assert f"{plan.document.number}的责任单位中没有「人社厅」。" in text
    assert "没有找到与" not in text
    # The line that promises examples is the one right before them.
    assert text.splitlines()[1].endswith("例如：")
    assert text.splitlines()[2].startswith("可输入：")
    plain = render_plain(answer_reply(plan, zongbao.answer("有关部门负责哪些")))
    assert "没有找到与" in plain  # not a unit's name: the usual answer

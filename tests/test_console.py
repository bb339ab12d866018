"""The terminal chat: the Console driven directly, `chat()` on streams, and `python -m bot`."""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import docx
import pytest
from PIL import Image

from bot.ask.assistant import Assistant
from bot.clock import TZ, fixed_clock
from bot.commands import COMMANDS
from bot.office.report import report_title
from bot.outcome import Outcome
from bot.store import Store
from handlers.console import LOCAL_USER, PROMPT, Console, chat, log_to_file
from tests.cores import make_core
from tests.fakes.clock import FakeClock

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2024, 12, 1, 9, 30, tzinfo=TZ)


@pytest.fixture
async def console(assistant: Assistant, tmp_path: Path) -> AsyncIterator[Console]:
    clock = fixed_clock(NOW)
    async with await Store.open(tmp_path / "bot.sqlite3", clock) as store:
        yield Console(make_core(assistant, store, {LOCAL_USER.id}, clock), out_dir=tmp_path)


# -- questions -------------------------------------------------------------------------------


async def test_question_about_a_unit(console: Console, assistant: Assistant) -> None:
    out = await console.handle("人社厅负责什么")
    assert "人力资源社会保障厅（四川省人力资源和社会保障厅）" in out
    for measure in assistant.plan.duties_of("人力资源社会保障厅"):
        assert f"[{measure.id} 详情]" in out
    assert "共同职责" in out


async def test_question_is_stripped(console: Console) -> None:
    out = await console.handle("  举措7.2 \n")
    assert "举措 7.2（主要任务7：实施残疾人就业帮扶行动）" in out
    assert "责任单位：教育厅、人力资源社会保障厅、省残联" in out


async def test_no_match_offers_examples(console: Console, assistant: Assistant) -> None:
    out = await console.handle("明天成都会下雨吗")
    assert "没有找到与「明天成都会下雨吗」相关的内容" in out
    assert f"[{assistant.lexicon.examples[0]}]" in out


# -- commands --------------------------------------------------------------------------------


async def test_report_and_progress_save_their_files(
    console: Console, assistant: Assistant, tmp_path: Path
) -> None:
    out = await console.handle("/report 人社厅 2024")
    path = tmp_path / "落实情况报告-人力资源社会保障厅-2024.docx"
    assert f"文件已保存：{path}" in out
    document = docx.Document(str(path))
    assert document.paragraphs[0].text == report_title(assistant.plan, 2024, "人力资源社会保障厅")

    out = await console.handle("/progress")
    picture = tmp_path / "报送进度-2024.png"
    assert f"文件已保存：{picture}" in out
    with Image.open(picture) as image:
        assert image.format == "PNG"


@pytest.mark.parametrize("command", ["/help", "/HELP", "/help@fengong_bot"])
async def test_help(console: Console, command: str) -> None:
    out = await console.handle(command)
    assert "使用说明" in out
    sample = console.core.catalog.default.assistant.example()
    for command in COMMANDS:
        assert f"/{command.name}" in out
        assert command.example_of(sample) in out


async def test_unit_command(console: Console) -> None:
    out = await console.handle("/unit 人设厅")
    assert "已将「人设厅」理解为「人力资源社会保障厅」" in out
    assert "[7.2 详情]" in out
    out = await console.handle("/unit 卫生局")
    assert "没有找到名为「卫生局」的单位" in out
    assert "省卫生健康委" in out
    assert "请在命令后写单位名称" in await console.handle("/unit")


async def test_task_command(console: Console, assistant: Assistant) -> None:
    out = await console.handle("/task 八")
    assert f"主要任务8：{assistant.plan.tasks[7].title}" in out
    assert "[8.1 详情]" in out
    assert "没有第十七项任务" in await console.handle("/task 十七")
    assert "请写任务编号 1–16" in await console.handle("/task abc")


async def test_find_command(console: Console) -> None:
    assert "请在命令后写关键词" in await console.handle("/find")
    out = await console.handle("/find 报刊亭")
    assert "2.2 【实施国有企业安排残疾人就业行动】" in out


async def test_unknown_command(console: Console) -> None:
    out = await console.handle("/frobnicate 1")
    assert "/frobnicate" in out
    assert "/help" in out


# -- typing a button's label -----------------------------------------------------------------


@pytest.fixture
def pressed(console: Console, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the actions the console presses (a typed label answers like the question would,
    so only this tells a press from a question)."""
    actions: list[str] = []
    press = console.press

    async def spy(action: str) -> Outcome | None:
        actions.append(action)
        return await press(action)

    monkeypatch.setattr(console, "press", spy)
    return actions


async def test_typing_a_button_label_presses_it(
    console: Console, assistant: Assistant, pressed: list[str]
) -> None:
    out = await console.handle("盲人按摩归哪个单位")
    assert "[8.2 详情]" in out
    assert pressed == []
    detail = await console.handle("[8.2 详情]")
    assert pressed == ["m:8.2"]
    measure = assistant.plan.measure("8.2")
    assert measure is not None
    assert measure.text in detail
    assert "原文写作「省市市场监管局」" in detail


async def test_typing_a_label_without_brackets(
    console: Console, assistant: Assistant, pressed: list[str]
) -> None:
    await console.handle("第七项主要任务")
    measure = assistant.plan.measure("7.3")
    assert measure is not None
    assert measure.text in await console.handle("7.3 详情")
    assert pressed == ["m:7.3"]


async def test_typing_an_example_label_asks_it(
    console: Console, assistant: Assistant, pressed: list[str]
) -> None:
    await console.handle("今天刮风吗")
    example = assistant.lexicon.examples[0]
    out = await console.handle(f"[{example}]")
    assert pressed == ["ex:0"]
    assert out == await console.handle(example)
    assert "没有找到" not in out


async def test_an_earlier_answers_buttons_can_still_be_pressed(
    console: Console, pressed: list[str]
) -> None:
    await console.handle("盲人按摩归哪个单位")
    await console.handle("举措7.2")  # a measure's detail has no buttons
    out = await console.handle("[8.2 详情]")
    assert pressed == ["m:8.2"]  # as on a chat app, where it stays under its message
    assert "举措 8.2" in out


async def test_a_button_is_pressed_by_its_number_under_the_last_answer(
    console: Console, pressed: list[str]
) -> None:
    listed = await console.handle("盲人按摩归哪个单位")
    assert "可输入编号或按钮文字：1 [8.1 详情]" in listed
    out = await console.handle("1")
    assert pressed == ["m:8.1"]
    assert "举措 8.1" in out
    # Beyond the last answer's buttons a number is a question again.
    await console.handle("99")
    assert pressed == ["m:8.1"]


# -- chat() on streams -----------------------------------------------------------------------


class TTYInput(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_chat_from_a_pipe_answers_each_line_without_prompt(console: Console) -> None:
    stdin = io.StringIO("人社厅负责什么\n\n   \n举措7.2\n")
    stdout = io.StringIO()
    await chat(console, stdin, stdout)
    out = stdout.getvalue()
    assert PROMPT not in out
    assert "您好" not in out
    assert out.index("人力资源社会保障厅（") < out.index("举措 7.2（")
    # One answer per non-blank line, each followed by a blank line.
    assert out.count("\n\n举措 7.2（") == 1
    assert out.endswith("\n\n")


async def test_chat_on_a_terminal_greets_and_prompts(console: Console) -> None:
    stdin = TTYInput("7.2\n")
    stdout = io.StringIO()
    await chat(console, stdin, stdout)
    out = stdout.getvalue()
    assert out.startswith("您好，我是分工助手。")
    assert out.count(PROMPT) == 2  # before the question, and before end of input
    assert "举措 7.2（" in out


async def test_chat_at_once_end_of_input(console: Console) -> None:
    stdout = io.StringIO()
    await chat(console, io.StringIO(""), stdout)
    assert stdout.getvalue() == ""


# -- python -m bot ---------------------------------------------------------------------------


def test_piped_question_to_python_m_bot(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FENGONG_"))}
    env["FENGONG_DB"] = str(tmp_path / "bot.sqlite3")
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        input="人社厅负责什么\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "人力资源社会保障厅（四川省人力资源和社会保障厅）" in result.stdout
    assert "负责 " in result.stdout
    assert "[1.1 详情]" in result.stdout
    assert PROMPT not in result.stdout
    assert "TELEGRAM_BOT_TOKEN" not in result.stdout


# -- follow-ups and reporting -------------------------------------------------------------------


async def test_follow_ups_are_read_against_the_conversation(console: Console) -> None:
    await console.handle("盲人按摩归谁管")
    out = await console.handle("那卫健委呢")
    assert out.splitlines()[0] == "按「盲人按摩」在省卫生健康委的职责中查找："
    assert "[8.1 详情]" in out
    assert "[8.2 详情]" not in out
    await console.handle("第8项任务")
    assert (await console.handle("第二条呢")).startswith("按第8项任务所列的第 2 条")
    await console.handle("人社厅负责哪些")
    # A complete question replaces the context.
    out = await console.handle("报刊亭岗位归谁管")
    assert not out.startswith("按")
    assert "[2.2 详情]" in out


async def test_the_conversation_is_forgotten_after_ten_minutes(
    assistant: Assistant, tmp_path: Path
) -> None:
    clock = FakeClock(NOW)
    async with await Store.open(tmp_path / "bot.sqlite3", clock) as store:
        console = Console(make_core(assistant, store, {LOCAL_USER.id}, clock))
        await console.handle("盲人按摩归谁管")
        clock.advance(minutes=11)
        out = await console.handle("那卫健委呢")
    assert not out.startswith("按")
    assert "省卫生健康委" in out


async def test_a_member_asks_what_is_still_missing(assistant: Assistant, tmp_path: Path) -> None:
    clock = FakeClock(NOW)  # 2024-12-01: 30 days before the deadline
    async with await Store.open(tmp_path / "bot.sqlite3", clock) as store:
        console = Console(make_core(assistant, store, {LOCAL_USER.id}, clock))
        await store.members.bind(LOCAL_USER.id, LOCAL_USER.name, "民政厅", LOCAL_USER.id)
        await store.notes.add("民政厅", "5.1", 2024, LOCAL_USER.id, LOCAL_USER.name, "已完成")
        out = await console.handle("我们单位还差哪些没报？")
    assert "还有 30 天" in out
    assert "「民政厅」2024 年还有 2 项举措未报送：" in out
    assert "[报送 11.1]" in out
    assert "[报送 16.1]" in out
    assert "[报送 5.1]" not in out


def test_no_channel_and_no_terminal_says_so_and_exits_2(tmp_path: Path) -> None:
    """`docker run` without -i and without any channel setting: stdin is /dev/null."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FENGONG_"))}
    env = {k: v for k, v in env.items() if not k.startswith("WECOM_")}
    env["FENGONG_DB"] = str(tmp_path / "bot.sqlite3")
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("错误：没有配置任何渠道（TELEGRAM_BOT_TOKEN 或 WECOM_*")
    assert "docker run -it" in result.stderr
    assert result.stdout == ""


def test_the_terminal_chats_log_goes_to_a_file_with_secrets_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = logging.getLogger()
    before = root.handlers[:]
    terminal = io.StringIO()
    root.addHandler(logging.StreamHandler(terminal))
    monkeypatch.setenv("FENGONG_DB_PASSWORD", "hunter2-secret")
    try:
        log_to_file(tmp_path / "var" / "fengong.log")
        logging.getLogger("bot.scheduler").warning("reminder:2024:30 sent, hunter2-secret")
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
        for handler in before:
            if handler not in root.handlers:
                root.addHandler(handler)
    assert terminal.getvalue() == ""
    logged = (tmp_path / "var" / "fengong.log").read_text(encoding="utf-8")
    assert "reminder:2024:30" in logged
    assert "hunter2-secret" not in logged


async def test_earlier_labels_are_kept_within_a_bound(
    console: Console, pressed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("handlers.console.MAX_BUTTONS", 2)
    await console.handle("盲人按摩归哪个单位")  # 8.1 详情, 8.2 详情 …
    await console.handle("第8项任务")
    await console.handle("教育厅 职业教育")
    await console.handle("[8.1 详情]")
    assert pressed == []  # pushed out by the newer labels: read as a question


async def test_a_number_typed_as_a_notes_text_is_the_note(console: Console) -> None:
    await console.handle("/bind 人社厅")
    await console.handle("批准")
    asked = await console.handle("/note 5.1")
    assert "1 [取消]" in asked
    filed = await console.handle("12")  # the note's text, not the 取消 button
    assert "已记录「人力资源社会保障厅」举措 5.1" in filed
    assert "12" in filed

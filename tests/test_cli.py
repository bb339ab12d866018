"""The command line, run as users and the scorer run it: `python -m bot …` in a subprocess."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from bot.cli import main
from bot.clock import TZ
from bot.documents.plan import load_plan
from bot.store import Store
from tests.fakes.clock import FakeClock
from tests.test_office import IDLE, idle_unit_data

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SEED = DATA / "notice.txt"  # the published notice, as received


def run_bot(
    *args: str | Path, stdin: str = "", tmp: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot` with `args`, none of the caller's settings but `env`."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FENGONG_"))}
    env = kept | (env or {})
    if tmp is not None:
        env["FENGONG_DB"] = str(tmp / "bot.sqlite3")
    return subprocess.run(
        [sys.executable, "-m", "bot", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    target.mkdir()
    for name in ("plan.yaml", "units.yaml", "lexicon.yaml"):
        shutil.copy(DATA / name, target / name)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# -- ask ---------------------------------------------------------------------------------------


def test_ask_json_answers_each_line_in_order() -> None:
    plan = load_plan()
    questions = [
        "人社厅负责什么",
        "第八项主要任务",
        "举措７．２",
        "视障人员就业有什么政策",
        "明天会下雨吗",
    ]
    result = run_bot("ask", "--json", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(questions)
    answers = [json.loads(ln) for ln in lines]
    for question, answer in zip(questions, answers, strict=True):
        assert set(answer) == {"query", "units", "tasks", "measures", "no_match"}
        assert answer["query"] == question
    unit, task, measure, topic, none = answers
    assert unit["units"] == ["人力资源社会保障厅"]
    assert unit["measures"] == [m.id for m in plan.duties_of("人力资源社会保障厅")]
    assert task["tasks"] == [8]
    assert task["measures"] == [m.id for m in plan.tasks[7].measures]
    assert measure["measures"] == ["7.2"]
    assert topic["measures"]
    assert topic["no_match"] is False
    assert none == {
        "query": "明天会下雨吗",
        "units": [],
        "tasks": [],
        "measures": [],
        "no_match": True,
    }


def test_ask_json_chat_reads_follow_ups_and_restarts_at_empty_lines() -> None:
    lines = ["盲人按摩归谁管", "那卫健委呢", "", "那卫健委呢", "什么时候报送工作进度"]
    result = run_bot("ask", "--json", "--chat", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    answers = [json.loads(ln) for ln in result.stdout.splitlines()]
    assert [a["query"] for a in answers] == lines
    _, follow_up, empty, fresh, reporting = answers
    assert follow_up["units"] == ["省卫生健康委"]
    assert follow_up["measures"] == ["8.1"]
    assert empty["no_match"] is True
    # After the empty line: a new chat, so the whole of 卫健委's duties.
    duties = [m.id for m in load_plan().duties_of("省卫生健康委")]
    assert fresh["measures"] == duties
    assert reporting["about"] == "reporting"
    assert "about" not in follow_up


def test_ask_json_without_chat_reads_every_line_alone() -> None:
    result = run_bot("ask", "--json", stdin="盲人按摩归谁管\n那卫健委呢\n")
    assert result.returncode == 0, result.stderr
    follow_up = json.loads(result.stdout.splitlines()[1])
    assert follow_up["measures"] == [m.id for m in load_plan().duties_of("省卫生健康委")]


def test_ask_json_survives_blank_and_undecodable_lines() -> None:
    stdin = "\n".join(["", "教育厅", "\udcff\udcfe", "7.2"]) + "\n"
    # Pin what a UTF-8 locale does (C.UTF-8 / UTF-8 mode): bad bytes become lone surrogates.
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:surrogateescape"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json"],
        input=stdin.encode("utf-8", "surrogateescape"),
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    answers = [json.loads(ln) for ln in result.stdout.decode("utf-8").splitlines()]
    assert [a["no_match"] for a in answers] == [True, False, True, False]
    assert answers[1]["units"] == ["教育厅"]
    assert answers[3]["measures"] == ["7.2"]


def test_ask_prints_readable_text() -> None:
    result = run_bot("ask", "举措8.2由谁负责")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "举措 8.2" in out
    assert "责任单位：人力资源社会保障厅、省市场监管局、省残联" in out
    assert "原文写作「省市市场监管局」" in out
    assert "{" not in out


# Libraries `ask` has no use for: each is slow to load (together most of a second).
NOT_FOR_ASKING = (
    *("asyncpg", "aiosqlite", "bot.store", "asyncio", "bot.offload"),
    *("aiohttp", "telegram", "matplotlib", "openpyxl", "docx", "socket"),
)


@pytest.mark.parametrize("question", ["人社厅负责什么", "残联负责哪些", "大学生就业"])
def test_asking_loads_no_database_channel_or_office_library(question: str) -> None:
    """`python -m bot ask` answers in a fraction of a second: it loads what answering needs."""
    code = (
        f"import sys; from bot.cli import main; main(['ask', {question!r}]);"
        f"print(*[m for m in {NOT_FOR_ASKING!r} if m in sys.modules], file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()  # answered
    assert done.stderr.strip() == ""


def test_ask_joins_words_into_one_question(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ask", "教育厅", "职业院校"])
    out = capsys.readouterr().out
    assert code == 0
    assert "教育厅（四川省教育厅）" in out
    assert out.count("详情]") >= 1
    assert "10.3 【" in out


# -- check-data ------------------------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run the command line in this process (fast), returning (exit code, stdout, stderr)."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def entry_line(text: str, old: str) -> int:
    """The line of the measure entry (its `- id:`) that contains the first `old`."""
    lines = text[: text.index(old)].count("\n") + 1
    before = text.splitlines()[:lines]
    return max(i + 1 for i, ln in enumerate(before) if ln.startswith("  - id: "))


def test_check_data_passes_on_the_committed_data() -> None:
    result = run_bot("check-data")
    assert result.returncode == 0, result.stderr
    plan = load_plan()
    counts = f"{len(plan.tasks)} 项任务、{len(plan.measures)} 项举措、{len(plan.units)} 个单位"
    assert counts in result.stdout


def test_check_data_rejects_a_broken_plan_in_a_subprocess(data: Path) -> None:
    plan_path = data / "plan.yaml"
    line = entry_line(plan_path.read_text(encoding="utf-8"), "    - 省烟草专卖局\n")
    edit(plan_path, "    - 省烟草专卖局\n", "    - 省火星局\n")
    result = run_bot("check-data", "--data", data)
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"错误：{plan_path}:{line}: " in result.stderr
    assert "单位「省火星局」未知" in result.stderr


@pytest.mark.parametrize("where", ["after", "before"])
def test_check_data_passes_on_a_copy(
    capsys: pytest.CaptureFixture[str], data: Path, where: str
) -> None:
    args = ("check-data", "--data", data) if where == "after" else ("--data", data, "check-data")
    code, out, err = cli(capsys, *args)
    assert code == 0, err
    assert "数据检查通过" in out


def test_check_data_warns_of_a_unit_that_no_measure_names(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = idle_unit_data(tmp_path / "data")

    code, out, err = cli(capsys, "check-data", "--data", data)

    assert code == 0, err
    assert f"提示：单位「{IDLE}」没有负责的举措" in out
    assert "数据检查通过" in out


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    - 省烟草专卖局\n", "    - 省火星局\n", "单位「省火星局」未知"),
        ("  - id: '2.2'\n", "  - id: '2.1'\n", "举措编号 2.1 重复"),
        (
            "    text: 持续开展农村困难残疾人实用技术培训。\n",
            "    text: ''\n",
            "条目缺少「text」或为空",
        ),
        ("    units:\n    - 省烟草专卖局\n", "    units: 省烟草专卖局\n", "「units」必须是"),
    ],
    ids=["unknown-unit", "duplicate-id", "empty-text", "units-not-a-list"],
)
@pytest.mark.parametrize("where", ["after", "before"])
def test_check_data_rejects_a_broken_plan(
    capsys: pytest.CaptureFixture[str], data: Path, old: str, new: str, message: str, where: str
) -> None:
    plan_path = data / "plan.yaml"
    line = entry_line(plan_path.read_text(encoding="utf-8"), old)
    edit(plan_path, old, new)
    args = ("check-data", "--data", data) if where == "after" else ("--data", data, "check-data")
    code, out, err = cli(capsys, *args)
    assert code == 2
    assert out == ""
    assert f"错误：{plan_path}:{line}: " in err
    assert message in err


def test_check_data_names_the_line_of_a_yaml_error(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    plan_path = data / "plan.yaml"
    edit(plan_path, "  - id: '1.2'\n", "\t- id: '1.2'\n")
    line = plan_path.read_text(encoding="utf-8").splitlines().index("\t- id: '1.2'") + 1
    code, out, err = cli(capsys, "check-data", "--data", data)
    assert code == 2
    assert out == ""
    said = "这里有不允许的字符（缩进只能用空格，不能用 Tab）"
    assert f"{plan_path}: 第{line}行第1列 YAML 格式错误：{said}" in err


def test_check_data_rejects_a_broken_units_file(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    edit(data / "units.yaml", "aliases: [医保局,", "aliases: [人社厅, 医保局,")
    code, _, err = cli(capsys, "check-data", "--data", data)
    assert code == 2
    assert str(data / "units.yaml") in err
    assert "「人社厅」同时属于" in err


def test_check_data_rejects_a_broken_lexicon(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    edit(data / "lexicon.yaml", "  视障: [盲人]\n", "  视障: 盲人\n")
    code, _, err = cli(capsys, "check-data", "--data", data)
    assert code == 2
    assert str(data / "lexicon.yaml") in err
    assert "视障" in err


def test_check_data_on_a_missing_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = cli(capsys, "check-data", "--data", tmp_path / "nowhere")
    assert code == 2
    assert f"数据目录 {tmp_path / 'nowhere'} 不存在" in err
    assert "FENGONG_DATA" in err


def test_a_data_folder_without_any_document_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = cli(capsys, "check-data", "--data", tmp_path)
    assert code == 2
    assert f"数据目录 {tmp_path} 中没有文件" in err
    assert "FENGONG_DATA" in err
    assert "import-doc" in err


# -- import-doc ------------------------------------------------------------------------------


def test_import_doc_reproduces_the_committed_plan(tmp_path: Path) -> None:
    out = tmp_path / "doc"
    out.mkdir()
    shutil.copy(DATA / "units.yaml", out / "units.yaml")
    result = run_bot("import-doc", SEED, "--out", out)
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    assert "任务 16 项，举措 31 项" in result.stdout
    assert (out / "plan.yaml").read_bytes() == (DATA / "plan.yaml").read_bytes()
    # The hand-written units.yaml names every unit: it is kept as it is.
    assert (out / "units.yaml").read_bytes() == (DATA / "units.yaml").read_bytes()


def test_import_doc_into_a_data_dir_validates_and_counts(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    (data / "plan.yaml").unlink()
    code, out, err = cli(capsys, "--data", data, "import-doc", SEED)
    assert code == 0, err
    assert "16 项任务、31 项举措" in out
    assert (data / "plan.yaml").read_bytes() == (DATA / "plan.yaml").read_bytes()
    assert not list(data.glob("*.tmp"))


def test_import_doc_says_when_the_instances_sharing_a_database_cannot_be_told(
    capsys: pytest.CaptureFixture[str], data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FENGONG_DB", "postgresql://bot:Secr3t-x@127.0.0.1:1/fengong")
    (data / "plan.yaml").unlink()
    code, out, err = cli(capsys, "--data", data, "import-doc", SEED)
    assert code == 0, err  # the files are written all the same
    assert (data / "plan.yaml").read_bytes() == (DATA / "plan.yaml").read_bytes()
    assert "未能通知共用数据库的各实例" in out
    assert "下次启动时读取" in out
    assert "Secr3t-x" not in out + err


def test_import_doc_adds_a_unit_the_hand_written_units_lack(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    seed = tmp_path / "notice.txt"
    seed.write_text(
        SEED.read_text(encoding="utf-8").replace("省烟草专卖局\n", "省火星局\n", 1),
        encoding="utf-8",
    )
    out = tmp_path / "doc"
    out.mkdir()
    shutil.copy(DATA / "units.yaml", out / "units.yaml")
    code, printed, err = cli(capsys, "import-doc", seed, "--out", out)
    assert code == 0, err
    assert "省火星局" in printed
    units = (out / "units.yaml").read_text(encoding="utf-8")
    assert "name: 省火星局" in units
    assert "人社厅" in units  # the hand-written short forms are kept
    assert load_plan(out).measure("2.3").units == ("省火星局",)


def test_import_doc_refuses_an_unreadable_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "notice.docx"
    bad.write_bytes(b"not a zip file")
    code, _, err = cli(capsys, "import-doc", bad, "--out", tmp_path / "doc")
    assert code == 2
    assert "无法作为 Word 文件" in err
    assert not (tmp_path / "doc").exists()


# -- export ----------------------------------------------------------------------------------


async def _file_notes(db: Path) -> None:
    clock = FakeClock(dt.datetime(2024, 11, 2, 10, 0, tzinfo=TZ))
    async with await Store.open(db, clock) as store:
        await store.notes.add("省烟草专卖局", "2.3", 2024, "u1", "张三", "放宽零售点间距")
        await store.notes.add("教育厅", "7.1", 2023, "u2", "李四", "去年的记录")


def test_export_writes_the_years_workbook(tmp_path: Path) -> None:
    asyncio.run(_file_notes(tmp_path / "bot.sqlite3"))
    out = tmp_path / "out.xlsx"

    result = run_bot("export", "--year", "2024", out, tmp=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "已导出 2024 年进展汇总" in result.stdout
    book = openpyxl.load_workbook(out)
    notes = list(book["进展记录"].iter_rows(min_row=2, values_only=True))
    assert [(row[1], row[2], row[4]) for row in notes] == [
        ("省烟草专卖局", "2.3", "放宽零售点间距")
    ]
    silent = [row[0] for row in book["未报送单位"].iter_rows(min_row=2, values_only=True)]
    assert "省烟草专卖局" not in silent
    assert "教育厅" in silent  # its note is from 2023


async def _file_odd_characters(db: Path) -> None:
    clock = FakeClock(dt.datetime(2024, 11, 2, 10, 0, tzinfo=TZ))
    async with await Store.open(db, clock) as store:
        await store.notes.add("教育厅", "1.1", 2024, "u1", "张\u202e三", "今年完成\ufffe培训")
        # A stranger's display name, sent once with /bind, stays in the audit trail.
        await store.audit.record("tg:9", "\uffff路人\u202e", "bind", "教育厅", "申请绑定")


def test_export_of_notes_and_names_no_xml_can_hold(tmp_path: Path) -> None:
    asyncio.run(_file_odd_characters(tmp_path / "bot.sqlite3"))
    out = tmp_path / "out.xlsx"

    result = run_bot("export", "--year", "2024", out, tmp=tmp_path)

    assert result.returncode == 0, result.stderr
    book = openpyxl.load_workbook(out)
    [note] = book["进展记录"].iter_rows(min_row=2, values_only=True)
    assert (note[4], note[5]) == ("今年完成培训", "张三")
    names = [row[1] for row in book["操作记录"].iter_rows(min_row=2, values_only=True)]
    assert "路人" in names


def test_export_without_a_database_says_so(tmp_path: Path) -> None:
    result = run_bot("export", "--year", "2024", tmp_path / "out.xlsx", tmp=tmp_path)
    assert result.returncode == 2
    assert "数据库" in result.stderr
    assert "不存在" in result.stderr
    assert not (tmp_path / "out.xlsx").exists()


# -- the database cannot be opened ------------------------------------------------------------


def run_on_db(db: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FENGONG_"))}
    env["FENGONG_DB"] = str(db)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )


def test_a_corrupt_database_is_named_with_what_to_do(tmp_path: Path) -> None:
    db = tmp_path / "fengong.db"
    db.write_bytes(b"SQLite format 2\0" + b"garbage" * 1000)
    result = run_on_db(db, "run", stdin="人社厅负责什么\n")
    assert result.returncode == 2, result.stderr
    assert str(db) in result.stderr
    assert "已损坏" in result.stderr
    assert "备份" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_directory_is_created(tmp_path: Path) -> None:
    db = tmp_path / "fresh" / "var" / "fengong.db"
    result = run_on_db(db, "run", stdin="人社厅负责什么\n")
    assert result.returncode == 0, result.stderr
    assert "人力资源社会保障厅" in result.stdout
    assert db.is_file()


def test_a_directory_that_cannot_be_created_is_named(tmp_path: Path) -> None:
    (tmp_path / "var").write_text("a file where the directory should be", encoding="utf-8")
    db = tmp_path / "var" / "fengong.db"
    result = run_on_db(db, "run", stdin="人社厅负责什么\n")
    assert result.returncode == 2, result.stderr
    assert str(tmp_path / "var") in result.stderr
    assert "目录" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def read_only_db(tmp_path: Path) -> Iterator[Path]:
    """A database file nobody can write to, root included."""
    db = tmp_path / "fengong.db"
    asyncio.run(_file_notes(db))
    if os.geteuid() != 0:
        db.chmod(0o444)
        yield db
        return
    # File modes do not stop root; the immutable attribute does (needs CAP_LINUX_IMMUTABLE).
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True, check=False).returncode:
        pytest.skip("running as root without chattr +i: no read-only file root cannot write")
    try:
        yield db
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)


def test_a_read_only_database_is_named_with_what_to_do(read_only_db: Path) -> None:
    result = run_on_db(read_only_db, "run", stdin="人社厅负责什么\n")
    assert result.returncode == 2, result.stderr
    assert str(read_only_db) in result.stderr
    assert "只读" in result.stderr
    assert "Traceback" not in result.stderr


# -- what a newcomer runs into (#19) ------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("export", "--year", "2024"),
        ("report", "--year", "2024", "--unit", "人社厅"),
        ("progress-image", "--year", "2024"),
    ],
)
def test_an_output_into_a_missing_folder_is_refused_in_chinese(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: tuple[str, ...],
) -> None:
    db = tmp_path / "bot.sqlite3"
    asyncio.run(_file_notes(db))
    monkeypatch.setenv("FENGONG_DB", str(db))
    target = tmp_path / "no-such-folder" / "out.bin"
    code, _, err = cli(capsys, *command, target)
    assert code == 2
    assert f"输出文件夹 {target.parent} 不存在" in err
    assert "mkdir -p" in err
    assert not target.parent.exists()


def test_ask_into_a_pipe_closed_early_ends_without_a_traceback() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FENGONG_"))}
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "ask"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env,
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write("人社厅负责什么\n".encode() * 300)
        process.stdin.close()
        assert process.stdout.readline()  # like `| head -1`: one line, then the pipe closes
        process.stdout.close()
        assert process.stderr is not None
        err = process.stderr.read().decode("utf-8", "replace")
        assert process.wait(timeout=60) == 0, err
    assert "Traceback" not in err
    assert "BrokenPipe" not in err


def test_ask_chat_does_not_answer_the_blank_separator() -> None:
    result = run_bot("ask", "--chat", stdin="盲人按摩归谁管\n\n那卫健委呢\n")
    assert result.returncode == 0, result.stderr
    assert "请输入要查询的问题" not in result.stdout
    # Exactly the two answers, the second read afresh (not as a follow-up on 盲人按摩).
    alone = [run_bot("ask", q).stdout for q in ("盲人按摩归谁管", "那卫健委呢")]
    assert result.stdout == "".join(alone)


def test_the_backup_message_names_the_readme_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "bot.sqlite3"
    asyncio.run(_file_notes(db))
    monkeypatch.setenv("FENGONG_DB", str(db))
    code, out, _ = cli(capsys, "backup", tmp_path / "copy.db")
    assert code == 0
    section = re.search(r"README「(.+?)」", out)
    assert section, out
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"\n## [^\n]*{section.group(1)}[^\n]*\n", readme), section.group(1)


def test_the_bot_on_a_missing_data_folder_names_it_and_fengong_data(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FENGONG_"))}
    env |= {"FENGONG_DATA": str(tmp_path / "nodata"), "FENGONG_DB": str(tmp_path / "x.db")}
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        input="人社厅负责什么\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"数据目录 {tmp_path / 'nodata'} 不存在" in result.stderr
    assert "FENGONG_DATA" in result.stderr


def test_fengong_db_naming_a_folder_stops_with_one_line(tmp_path: Path) -> None:
    result = run_on_db(tmp_path, "run", stdin="人社厅负责什么\n")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"错误：FENGONG_DB 应指向数据库文件（如 var/fengong.db），而「{tmp_path}」是一个文件夹；"
        f"例如写 {tmp_path}/fengong.db。"
    ]


@pytest.mark.parametrize("command", ["export", "report", "progress-image"])
def test_a_year_outside_the_reporting_years_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    db = tmp_path / "bot.sqlite3"
    asyncio.run(_file_notes(db))
    monkeypatch.setenv("FENGONG_DB", str(db))
    target = tmp_path / "out.bin"
    code, _, err = cli(capsys, command, "--year", "2030", target)
    assert code == 2
    assert "2030 年不在本文件的报送年度（2022–2024 年）内" in err
    assert not target.exists()


def test_doc_on_a_data_folder_of_one_document_says_none_is_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "bot.sqlite3"
    asyncio.run(_file_notes(db))
    monkeypatch.setenv("FENGONG_DB", str(db))
    code, _, err = cli(capsys, "export", "--year", "2024", "--doc", "3号文", tmp_path / "x.xlsx")
    assert code == 2
    assert "只有一份文件，不用写 --doc" in err
    assert "（（" not in err


def test_the_first_make_run_says_it_is_installing_before_it_does(tmp_path: Path) -> None:
    planned = subprocess.run(
        ["make", "-n", "run", f"VENV={tmp_path / 'venv'}"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    said = next(i for i, step in enumerate(planned) if "正在安装依赖" in step and "1 分钟" in step)
    installs = next(i for i, step in enumerate(planned) if "pip install" in step)
    assert said < installs


def test_import_into_the_shipped_data_folder_itself_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from bot.documents.plan import SHIPPED_DATA

    before = {p.name: p.read_bytes() for p in SHIPPED_DATA.iterdir() if p.is_file()}
    source = tmp_path / "其他文件.txt"
    shutil.copy(SHIPPED_DATA / "notice.txt", source)

    code, _, err = cli(capsys, "import-doc", source, "--out", SHIPPED_DATA, "--replace")

    assert code == 2
    assert "程序自带的数据文件夹" in err
    assert f"--out {SHIPPED_DATA}/其他文件" in err
    assert {p.name: p.read_bytes() for p in SHIPPED_DATA.iterdir() if p.is_file()} == before

"""Where `import-doc` writes: never over another document unasked, backed up, atomically (#17).

Also what a replaced document's notes become: the bot loaded on the new document shows them
apart (/notes marks them, /export lists them on a sheet of their own), never counts them for
the new document's measures (/progress), and answers every command.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from bot.cli import main
from bot.clock import TZ
from bot.config import Config
from bot.core import Core
from bot.documents.plan import DATA_DIR, load_plan
from bot.store import Store
from handlers.console import LOCAL_USER, Console
from tests.fakes.clock import FakeClock

SEED_NUMBER = "川残工委〔2022〕4号"
JIUYE_NUMBER = "川办发〔2024〕7号"
JIUYE_TEXT = f"""\
四川省人民政府办公厅关于促进就业创业的若干措施
{JIUYE_NUMBER}
一、扩大就业岗位
（一）支持企业吸纳就业。对吸纳就业的企业给予一次性补贴。（人力资源社会保障厅、财政厅负责）
（二）开发公益性岗位。统筹开发乡村公益性岗位。（人力资源社会保障厅负责）
二、优化创业服务
（三）加强创业培训。面向高校毕业生开展创业培训。（教育厅、人力资源社会保障厅负责）
四川省人民政府办公厅
2024年3月1日
"""
HRSS = "人力资源社会保障厅"
OLD_NOTE = "去年建立了机关单位残疾人就业统计制度"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A copy of the seed's data folder (its units.yaml, lexicon.yaml hand-written)."""
    root = tmp_path / "data"
    root.mkdir()
    for name in ("notice.txt", "plan.yaml", "units.yaml", "lexicon.yaml"):
        shutil.copy(DATA_DIR / name, root / name)
    return root


@pytest.fixture
def jiuye(tmp_path: Path) -> Path:
    source = tmp_path / "jiuye.txt"
    source.write_text(JIUYE_TEXT, encoding="utf-8")
    return source


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


# -- another document is never written over unasked ------------------------------------------


def test_without_out_another_document_is_refused_and_nothing_written(
    capsys: pytest.CaptureFixture[str], data: Path, jiuye: Path
) -> None:
    before = contents(data)
    code, _, err = run(capsys, "--data", data, "import-doc", jiuye)
    assert code == 2
    assert f"中已有另一份文件（{SEED_NUMBER}），要导入的是 {JIUYE_NUMBER}" in err
    assert f"加 --out {data / 'jiuye'}" in err  # a folder of its own, beside the seed's
    assert "加 --replace" in err
    assert contents(data) == before
    assert sorted(p.name for p in data.iterdir()) == sorted(before)


def test_the_suggested_folder_is_a_second_document(
    capsys: pytest.CaptureFixture[str], data: Path, jiuye: Path
) -> None:
    code, out, err = run(capsys, "--data", data, "import-doc", jiuye, "--out", data / "jiuye")
    assert code == 0, err
    assert "原有文件已备份" not in out
    assert load_plan(data / "jiuye").document.number == JIUYE_NUMBER
    assert load_plan(data).document.number == SEED_NUMBER
    code, out, _ = run(capsys, "--data", data, "check-data")
    assert code == 0
    assert out.count("数据检查通过") == 2


def test_replace_backs_up_the_old_files_first(
    capsys: pytest.CaptureFixture[str], data: Path, jiuye: Path
) -> None:
    before = contents(data)
    code, out, err = run(capsys, "--data", data, "import-doc", jiuye, "--replace")
    assert code == 0, err
    backups = [p for p in data.iterdir() if p.name.startswith(".backup-")]
    assert len(backups) == 1
    assert f"原有文件已备份到 {backups[0]}/" in out
    for name in ("plan.yaml", "units.yaml", "lexicon.yaml"):
        assert (backups[0] / name).read_bytes() == before[name]
    assert load_plan(data).document.number == JIUYE_NUMBER
    # The new document's own units, not the old one's 29 (they would have no measures here).
    units = yaml.safe_load((data / "units.yaml").read_text(encoding="utf-8"))
    assert [u["name"] for u in units["units"]] == [HRSS, "财政厅", "教育厅"]
    # The data folder's shared lexicon (question scaffolding) is hand-written: kept.
    assert (data / "lexicon.yaml").read_bytes() == before["lexicon.yaml"]
    # The backup is hidden: the catalog does not load it as a second document.
    code, out, _ = run(capsys, "--data", data, "check-data")
    assert (code, out.count("数据检查通过")) == (0, 1)


def test_re_importing_the_same_document_refreshes_it_with_a_backup(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    units = (data / "units.yaml").read_bytes()
    code, out, err = run(capsys, "--data", data, "import-doc", data / "notice.txt")
    assert code == 0, err
    assert "原有文件已备份到" in out
    assert (data / "plan.yaml").read_bytes() == (DATA_DIR / "plan.yaml").read_bytes()
    assert (data / "units.yaml").read_bytes() == units  # hand-written, names every unit


# -- where it writes ---------------------------------------------------------------------------


def test_out_that_is_a_file_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, jiuye: Path
) -> None:
    target = tmp_path / "plan.yaml"
    target.write_text("x", encoding="utf-8")
    code, _, err = run(capsys, "import-doc", jiuye, "--out", target)
    assert code == 2
    assert f"{target} 是一个文件，不是文件夹" in err
    assert target.read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize("where", ["/", "home"])
def test_out_at_a_folder_of_other_things_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, jiuye: Path, where: str
) -> None:
    if where == "/":
        target = Path("/")
    else:
        target = tmp_path / "home"
        target.mkdir()
        (target / "notes.txt").write_text("mine", encoding="utf-8")
    before = sorted(os.listdir(target))
    code, _, err = run(capsys, "import-doc", jiuye, "--out", target)
    assert code == 2
    assert "不是空文件夹，也不是导入过文件的文件夹" in err
    assert "请用 --out 指定一个新文件夹" in err
    assert sorted(os.listdir(target)) == before


def test_the_documents_own_folder_is_fine(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "jiuye"
    folder.mkdir()
    source = folder / "jiuye.txt"
    source.write_text(JIUYE_TEXT, encoding="utf-8")
    code, _, err = run(capsys, "import-doc", source, "--out", folder)
    assert code == 0, err
    assert load_plan(folder).document.number == JIUYE_NUMBER


def test_a_planted_symlink_is_never_written_through(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, jiuye: Path
) -> None:
    out = tmp_path / "doc"
    assert run(capsys, "import-doc", jiuye, "--out", out)[0] == 0
    (out / "lexicon.yaml").unlink()
    victim, other = tmp_path / "victim.txt", tmp_path / "other.txt"
    victim.write_text("keep", encoding="utf-8")
    other.write_text("keep too", encoding="utf-8")
    (out / "plan.yaml.tmp").symlink_to(victim)
    (out / "units.yaml.tmp").symlink_to(victim)
    (out / "lexicon.yaml").symlink_to(tmp_path / "nowhere.yaml")  # dangling
    code, _, err = run(capsys, "import-doc", jiuye, "--out", out)
    assert code == 0, err
    assert victim.read_text(encoding="utf-8") == "keep"
    assert not (tmp_path / "nowhere.yaml").exists()
    for name in ("plan.yaml", "units.yaml", "lexicon.yaml"):
        assert not (out / name).is_symlink()
        assert oct((out / name).stat().st_mode & 0o777) == "0o644"
    assert load_plan(out).document.number == JIUYE_NUMBER
    # Replacing a plan.yaml that is a symlink replaces the link, not the file it points to.
    (out / "plan.yaml").unlink()
    (out / "plan.yaml").symlink_to(other)
    code, _, err = run(capsys, "import-doc", jiuye, "--out", out, "--replace")
    assert code == 0, err
    assert other.read_text(encoding="utf-8") == "keep too"
    assert not (out / "plan.yaml").is_symlink()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp") and not p.is_symlink()]


# -- a replaced document's notes ---------------------------------------------------------------


async def console_on(data: Path, db: Path, clock: FakeClock, out: Path) -> tuple[Core, Console]:
    config = Config(coordinators=frozenset({LOCAL_USER.id}), data_dir=data, db_path=db)
    core = await Core.open(config, clock=clock)
    return core, Console(core, out_dir=out)


@pytest.mark.parametrize("started", [True, False], ids=["bot-started", "replaced-at-once"])
async def test_a_replaced_documents_notes_stay_its_own(
    capsys: pytest.CaptureFixture[str],
    data: Path,
    jiuye: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    started: bool,
) -> None:
    clock = FakeClock(dt.datetime(2024, 3, 2, 9, 0, tzinfo=TZ))
    db = tmp_path / "bot.db"
    # A member of 人社厅 files a note on the seed's 1.1 as before notes recorded their
    # document: the bot's first start on the new schema claims it for the seed, and so does
    # an import that replaces the seed before the bot ever started again.
    async with await Store.open(db, clock) as store:
        await store.members.bind(LOCAL_USER.id, "我", HRSS, "test")
        await store.notes.add(HRSS, "1.1", 2024, LOCAL_USER.id, "我", OLD_NOTE)
    if started:
        core, console = await console_on(data, db, clock, tmp_path)
        assert OLD_NOTE in await console.handle("/notes")
        await core.close()

    monkeypatch.setenv("FENGONG_DB", str(db))
    code, _, err = await asyncio.to_thread(
        run, capsys, "--data", data, "import-doc", jiuye, "--replace"
    )
    assert code == 0, err

    core, console = await console_on(data, db, clock, tmp_path)
    try:
        notes = await console.handle("/notes")
        assert OLD_NOTE in notes
        assert f"此前文件 {SEED_NUMBER} 的记录，不计入当前文件" in notes
        assert "支持企业吸纳就业" not in notes  # not filed under the new 1.1
        progress = await console.handle("/progress")
        assert f"{HRSS}：0/3 项举措已报送" in progress
        await console.handle("/export")
        book = load_workbook(tmp_path / "进展汇总-2024.xlsx")
        assert book["进展记录"].max_row == 1  # no note of this document
        apart = [[c.value for c in row] for row in book["不在当前文件中的记录"].iter_rows()]
        assert apart[1][1:5] == [SEED_NUMBER, HRSS, "1.1", OLD_NOTE]
        # A note filed now counts for the new document.
        filed = await console.handle("/note 1.1 今年新增补贴企业20家")
        assert "已记录" in filed
        assert f"{HRSS}：1/3 项举措已报送" in await console.handle("/progress")
        notes = await console.handle("/notes")
        assert notes.index("今年新增补贴企业20家") < notes.index(OLD_NOTE)
        assert "此前文件的 1 条在后" in notes
    finally:
        await core.close()


async def test_a_renumbered_document_keeps_its_notes(
    capsys: pytest.CaptureFixture[str],
    data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Imported once without its 文号 (the title stands for it), then again with it: the same
    # document (same title), refreshed without --replace, its notes still its own.
    folder, source = data / "jiuye", tmp_path / "jiuye.txt"
    source.write_text(JIUYE_TEXT.replace(f"{JIUYE_NUMBER}\n", ""), encoding="utf-8")
    assert run(capsys, "--data", data, "import-doc", source, "--out", folder)[0] == 0
    untitled = load_plan(folder).document.number
    assert untitled == "四川省人民政府办公厅关于促进就业创业的若干措施"
    db = tmp_path / "bot.db"
    clock = FakeClock(dt.datetime(2024, 3, 2, 9, 0, tzinfo=TZ))
    async with await Store.open(db, clock) as store:
        await store.document("jiuye", untitled).notes.add(HRSS, "1.1", 2024, "u1", "张三", "补贴")
    source.write_text(JIUYE_TEXT, encoding="utf-8")
    monkeypatch.setenv("FENGONG_DB", str(db))
    code, out, err = await asyncio.to_thread(
        run, capsys, "--data", data, "import-doc", source, "--out", folder
    )
    assert code == 0, err
    assert "原有文件已备份到" in out
    assert load_plan(folder).document.number == JIUYE_NUMBER
    async with await Store.open(db, clock) as store:
        jiuye = store.document("jiuye", JIUYE_NUMBER)
        assert [n.text for n in await jiuye.notes.find()] == ["补贴"]
        assert await jiuye.notes.earlier() == []
        assert await jiuye.notes.reported_measures(2024) == {HRSS: {"1.1"}}
    # Another document of the same title (another 文号) is another document.
    source.write_text(JIUYE_TEXT.replace(JIUYE_NUMBER, "川办发〔2025〕1号"), encoding="utf-8")
    code, _, err = await asyncio.to_thread(
        run, capsys, "--data", data, "import-doc", source, "--out", folder
    )
    assert code == 2
    assert f"已有另一份文件（{JIUYE_NUMBER}），要导入的是 川办发〔2025〕1号" in err

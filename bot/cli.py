"""Command line: `python -m bot [run|ask|import-doc|check-data|export|backup|report|…]`."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from bot import redact
from bot.ask import guard
from bot.ask.assistant import Assistant
from bot.ask.catalog import ROOT, Catalog, check_default, discover, load_catalog, twins
from bot.ask.dialog import Dialog
from bot.ask.lexicon import load_lexicon
from bot.ask.reporting import reporting_years
from bot.ask.text import sound
from bot.clock import Clock, system_clock
from bot.config import ConfigError, load_config, postgres_url
from bot.documents import pattern
from bot.documents.plan import (
    DATA_DIR,
    SHIPPED_DATA,
    PlanError,
    load_plan,
    parse_changes,
    parse_plan,
    parse_units,
    read_yaml,
)
from bot.documents.succession import KEYS as CHANGE_KEYS
from bot.reply import render_plain

if TYPE_CHECKING:
    from bot.store import Store

EXIT_DATA = 2
ALL_UNITS = "全部"


class UsageError(ValueError):
    """A command-line argument names nothing the plan knows; the message is Chinese."""


T = TypeVar("T")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


# The one conversation of `ask --chat`; an empty line starts it afresh.
CLI_CHAT = "cli"


def ask(
    catalog: Catalog, questions: Sequence[str], as_json: bool, chat: bool = False, doc: str = ""
) -> None:
    """Print the answer to each question (or to each line of standard input).

    With `chat`, the lines are one conversation: a follow-up is read against the lines before
    it, and an empty line starts a new conversation. Without it every line stands alone. With
    several documents each question is answered from the one it names, else from `doc` (a
    folder, number or title words), else the default.
    """
    chosen = catalog.find(doc) if doc else None
    if doc and chosen is None:
        names = "、".join(f"{d.id or '（数据目录本身）'} {d.number}" for d in catalog.docs)
        raise UsageError(f"找不到文件「{doc}」；可选：{names}")
    # Answered in this thread as they come: nothing else waits, so no event loop is needed.
    with guard.here():
        _done(_ask(catalog, questions, as_json, chat, chosen.id if chosen else None))


def _done(work: Coroutine[Any, Any, T]) -> T:
    """Return the result of a coroutine that never waits (its guarded work runs `here`)."""
    try:
        work.send(None)
    except StopIteration as finished:
        result: T = finished.value
        return result
    work.close()
    raise RuntimeError("an answer waited for something other than its own work")


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's work on the database in an event loop (asyncio loads only for it)."""
    import asyncio

    return asyncio.run(work)


async def _ask(
    catalog: Catalog, questions: Sequence[str], as_json: bool, chat: bool, doc: str | None
) -> None:
    source = questions or (ln.rstrip("\n") for ln in sys.stdin)
    dialog = Dialog() if chat or doc is not None else None
    if dialog is not None and doc is not None:
        dialog.choose(CLI_CHAT, doc)
    for question in source:
        if dialog is not None and (not chat or not question.strip()):
            dialog.forget(CLI_CHAT)  # a new conversation (each line is one without --chat)
        if chat and not question.strip() and not as_json:
            continue  # the separator asks nothing (--json keeps one line out per line in)
        kind, arg = await catalog.converse(question, dialog, CLI_CHAT)
        if as_json:
            data = catalog.to_json(kind, arg, question)
            print(json.dumps(data, ensure_ascii=False), flush=True)
        else:
            print(render_plain(await catalog.reply(kind, arg)), end="\n\n")


async def _open(database: str | Path) -> Store:
    """Open the database (the store's modules load only for the commands that use one)."""
    from bot.store import Store

    return await Store.open(database)


def import_doc(
    source: Path,
    out: Path,
    replace: bool = False,
    data_dir: Path = DATA_DIR,
    db_path: Callable[[], str | Path] | None = None,
    issued: dt.date | None = None,
    clock: Clock = system_clock,
) -> None:
    """Import the document at `source` into out/plan.yaml and out/units.yaml, and report.

    A folder already holding another document is written only with `replace`, after its files
    are backed up (and its notes in the database `db_path()` marked as its own); re-importing
    the same document (same number; or its title, where it had none) refreshes it, backed up.
    """
    from bot.documents import docfile, docfolder

    suggest = data_dir / source.stem
    if out.resolve() == SHIPPED_DATA.resolve():
        raise UsageError(
            f"{out} 是程序自带的数据文件夹，保持原样，不导入新文件：请用 --out 写入一个子文件夹，"
            f"例如 --out {out}/{source.stem}（见 README「多份文件」一节）。"
        )
    docfolder.check_target(out, suggest, source)
    before = docfolder.current_number(out)
    units_path = out / "units.yaml"
    hand = units_path.read_text(encoding="utf-8") if units_path.exists() else ""
    raw = read_yaml(units_path) if hand else {}
    refine, collective = parse_units(units_path, raw) if hand else ((), ())
    # Only this command reads documents (python-docx, openpyxl): `ask` starts without them.
    from bot.documents.importer import (
        GENERATED,
        Dates,
        dump_lexicon,
        dump_plan,
        dump_units,
        import_file,
    )

    dates = Dates(issued, clock().date())
    with docfile.deadline(source):
        imported = import_file(source, refine, collective, dates)
        measures = sum(len(t["measures"]) for t in imported.plan["tasks"])
        docfile.check_counts(source, measures, len(imported.units["units"]))
        number = str(imported.plan["document"]["number"])
        title = str(imported.plan["document"]["title"])
        # The same document, imported before without its 文号 (its title stood for it), may
        # come with it now; two documents of one title but two 文号 are two documents.
        other = before is not None and before not in (number, title)
        if other and not replace:
            raise UsageError(_occupied(out, before or "（无法读取的 plan.yaml）", number, suggest))
        if other:  # the old document's units and short forms are not this one's
            hand, refine = "", ()
            imported = import_file(source, dates=dates)
        else:  # changes recorded on the units of this document stay recorded
            carry_changes(raw, imported.units)
        plan_text, units_text = dump_plan(imported.plan), dump_units(imported.units)
        # Validate before anything is written: a plan with holes never reaches the data folder.
        units, collective = parse_units(units_path, yaml.safe_load(units_text))
        plan = parse_plan(out / "plan.yaml", yaml.safe_load(plan_text), units, collective)
        parse_changes(units_path, yaml.safe_load(units_text), plan)
    known = {u.name for u in refine}
    # A hand-written units.yaml that already names every unit is kept as it is.
    keep = bool(hand) and not hand.startswith(GENERATED) and {u.name for u in units} <= known
    print("\n".join(imported.report(alike=_sound_alike)))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PlanError(f"无法建立文件夹 {out}（{e.strerror}）") from None
    if before and before != number and db_path is not None:
        # The replaced document's notes keep its number; a renumbered one's take the new one.
        kept = (before, "") if other else (number, before)
        _keep_notes(db_path(), data_dir, out, *kept)
    saved = docfolder.back_up(out, system_clock()) if before is not None else None
    lexicon = out / "lexicon.yaml"
    # An imported document's lexicon holds its examples: a new document needs its own. The
    # data folder's shared lexicon (hand-written) is never replaced.
    fresh = not lexicon.exists() or (
        other and lexicon.read_text(encoding="utf-8").startswith(GENERATED)
    )
    files = [("plan.yaml", plan_text), ("units.yaml", "" if keep else units_text)]
    files += [("lexicon.yaml", dump_lexicon(imported.plan) if fresh else "")]
    for name, text in files:
        if text:
            docfolder.write(out, name, text)
    written = "、".join(name for name, text in files if text)
    counts = f"{len(plan.tasks)} 项任务、{len(plan.measures)} 项举措、{len(plan.units)} 个单位"
    print(f"已写入 {out}/ 下的 {written}：{counts}")
    if saved is not None:
        print(f"原有文件已备份到 {saved}/")
    if other:
        print(
            f"已用 {number} 替换 {before or '原文件'}：原文件的进展记录仍保留，"
            "/notes 和 /export 中标为“此前文件”的记录，不计入新文件的举措。"
        )
    if db_path is not None:
        _announce(db_path, data_dir, out)


def _issued(text: str) -> dt.date:
    """Parse --date: a date of issue as 年-月-日 (2012-09-19)."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"「{text}」不是有效的日期：请写 年-月-日，如 2012-09-19"
        ) from None


def _sound_alike(a: str, b: str) -> bool:
    """Tell whether two characters are typed alike on a pinyin keyboard (残联, 残连)."""
    return sound(a) == sound(b)


def _keep_notes(db_path: str | Path, data_dir: Path, out: Path, number: str, former: str) -> None:
    """Record `number` on the folder's notes that name no document yet, or name `former`."""
    folder, root = out.resolve(), data_dir.resolve()
    doc = ROOT if folder == root else folder.name if folder.parent == root else None
    if doc is None or (isinstance(db_path, Path) and not db_path.exists()):
        return  # no notes there; else the bot's next start records the loaded document's

    async def claim() -> None:
        async with await _open(db_path) as store:
            await store.document(doc, number).notes.claim(former)

    _run(claim())


def _announce(db_path: Callable[[], str | Path], data_dir: Path, out: Path) -> None:
    """Count a change of a document the data folder serves, in a PostgreSQL database: the
    instances sharing it reload the document, or add a new one, without a restart."""
    folder, root = out.resolve(), data_dir.resolve()
    doc = ROOT if folder == root else folder.name if folder.parent == root else None
    if doc is None or doc.startswith("."):
        return  # not served from there (the console's staging folder, another place)
    database = db_path()
    if isinstance(database, Path):
        return  # one instance on its SQLite file reads the folder at its next start

    async def bump(doc: str) -> None:
        async with await _open(database) as store:
            await store.generations.bump(doc)

    from bot.store.errors import StoreError

    try:
        _run(bump(doc))
    except StoreError as e:  # the files are written all the same
        said = redact.masked(str(e))
        print(f"注意：未能通知共用数据库的各实例（{said}），它们在下次启动时读取这份文件。")


def _occupied(out: Path, before: str, number: str, suggest: Path) -> str:
    """Say that `out` holds another document, and the two ways on."""
    return (
        f"{out}/ 中已有另一份文件（{before}），要导入的是 {number}。"
        "为免覆盖已有文件及其单位名称，未写入任何内容。\n"
        f"  · 两份文件并存：加 --out {suggest}"
        "（数据目录下每个子文件夹是一份文件，机器人同时提供）；\n"
        f"  · 用新文件替换 {before}：加 --replace（原有文件先备份；原文件的进展记录保留，"
        "标为此前文件的记录）。"
    )


def carry_changes(old: Any, new: dict[str, Any]) -> None:
    """Keep the unit changes (renamed_to, merged_into, split_into, since) of the old file."""
    entries = old.get("units") if isinstance(old, dict) else None
    kept = {
        e.get("name"): {k: _plain(e[k]) for k in (*CHANGE_KEYS, "since") if k in e}
        for e in entries or []
        if isinstance(e, dict)
    }
    for entry in new.get("units", []):
        entry.update(kept.get(entry.get("name")) or {})


def _plain(value: Any) -> Any:
    """Return a value read by read_yaml without the line numbers it adds to mappings."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "__line__"}
    return value


def check_data(data_dir: Path) -> None:
    """Validate the data files of every document; raise PlanError on the first problem."""
    found = discover(data_dir)
    named = []
    for doc_id, folder in found:
        plan = load_plan(folder)
        named.append((doc_id, plan.document.number, plan.document.title))
        load_lexicon(folder)
        for unit in plan.units:
            if not plan.duties_of(unit.name):
                print(
                    f"提示：单位「{unit.name}」没有负责的举措（plan.yaml 中没有举措列出它），"
                    "不计入 /progress 的进度；如是多列或漏列，请修改 units.yaml 或 plan.yaml。"
                )
        counts = f"{len(plan.tasks)} 项任务、{len(plan.measures)} 项举措、{len(plan.units)} 个单位"
        which = f"（{doc_id or data_dir}：{plan.document.number}）" if len(found) > 1 else ""
        print(f"数据检查通过{which}：{counts}")
    for said in twins(data_dir, named):
        print(f"提示：{said}")


def document(data_dir: Path, text: str) -> tuple[str, Path]:
    """Return the id and folder of the document `text` names (folder, number, title words)."""
    if not text.strip():
        return "", data_dir
    found = dict(discover(data_dir))
    if text.strip() in found:
        return text.strip(), found[text.strip()]
    doc = load_catalog(data_dir).find(text)
    if doc is None:
        named = "、".join(i for i in found if i)
        if not named:  # the data folder holds one document: nothing to choose
            raise UsageError(
                f"找不到文件「{text}」：数据目录 {data_dir} 只有一份文件，不用写 --doc"
            )
        raise UsageError(f"找不到文件「{text}」；可写文件夹名（{named}）、文号或标题中的词")
    return doc.id, found[doc.id]


async def _workbook(year: int, db_path: str | Path, data_dir: Path, doc: str = "") -> bytes:
    # openpyxl loads slowly; only the export needs it.
    from bot.office.export import export_year

    async with await _open(db_path) as store:
        plan = load_plan(data_dir)
        return await export_year(store.document(doc, plan.document.number), plan, year)


def _render(work: Coroutine[Any, Any, bytes]) -> bytes:
    """Run a render (workbook, report, picture) here: a one-shot command starts no worker."""
    from bot import offload

    with offload.here():
        return _run(work)


def export(
    year: int, target: Path, db_path: str | Path, data_dir: Path = DATA_DIR, doc_text: str = ""
) -> None:
    """Write a year's Excel summary (of one document) from the database to `target`."""
    _check_target(target)
    _database(db_path)
    doc, folder = document(data_dir, doc_text)
    _check_year(year, folder)
    data = _render(_workbook(year, db_path, folder, doc))
    _write(target, data)
    print(f"已导出 {year} 年进展汇总：{target}")


def backup(target: Path, db_path: str | Path) -> None:
    """Copy the live database to `target` (safe while the bot runs)."""
    from bot.backup import backup as copy_database

    if isinstance(db_path, str):
        raise ConfigError(
            "FENGONG_DB 是 PostgreSQL 数据库：请用 PostgreSQL 自己的工具备份（pg_dump），"
            "backup 命令只复制 SQLite 文件。"
        )
    written = copy_database(db_path, target)
    print(f"已将数据库 {db_path} 备份到 {written}。恢复方法见 README「备份与恢复」一节。")


def migrate_db(target: str, db_path: str | Path) -> None:
    """Copy the SQLite database into the empty PostgreSQL one at `target`; print a summary."""
    from bot.store.transfer import copy_database

    url = postgres_url(target)
    if url is None:
        raise ConfigError("--to 应为 PostgreSQL 地址：postgresql://用户名:密码@主机:端口/数据库名")
    if isinstance(db_path, str):
        raise ConfigError("FENGONG_DB 应为要复制的 SQLite 文件，而它已是 PostgreSQL 地址。")
    if not db_path.is_file():
        raise ConfigError(f"数据库 {db_path} 不存在（FENGONG_DB），没有可迁移的内容。")
    copied = _run(copy_database(db_path, url))
    for table, rows in copied.rows.items():
        print(f"  {table}：{rows} 行")
    print(
        f"已将 SQLite 数据库 {db_path} 复制到 PostgreSQL {copied.target}："
        f"{len(copied.rows)} 张表、共 {sum(copied.rows.values())} 行，每张表的行数已核对一致。"
        "把 FENGONG_DB 设为该 PostgreSQL 地址后重新启动机器人即可使用。"
    )


def resolve_unit(text: str | None, data_dir: Path) -> str | None:
    """Return the canonical unit for any name the engine knows; None for 全部 (or no name)."""
    if text is None or text.strip() == ALL_UNITS:
        return None
    plan = load_plan(data_dir)
    if plan.unit(text.strip()):
        return text.strip()
    assistant = Assistant.load(data_dir)
    units = assistant.answer(text).units
    if len(units) == 1:
        return units[0]
    if units:
        raise UsageError(f"「{text}」对应多个单位（{'、'.join(units)}），请只写一个")
    sample = assistant.example().unit
    raise UsageError(f"找不到单位「{text}」；请写单位名称（如 {sample}），或写「{ALL_UNITS}」")


def _check_year(year: int, folder: Path) -> None:
    """Refuse a year that is none of the document's reporting years (its file would be empty)."""
    years = reporting_years(load_config().reminders, load_plan(folder))
    if years and year not in years:
        span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
        raise UsageError(
            f"{year} 年不在本文件的报送年度（{span} 年）内：请写其中一年，如 --year {years[-1]}"
        )


def _check_target(target: Path) -> None:
    """Refuse, before any work, an output file whose folder does not exist."""
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"输出文件夹 {folder} 不存在：请先创建（mkdir -p {folder}）或换一个路径")


def _write(target: Path, data: bytes) -> None:
    """Write an output file; a folder that is missing or not writable is said in Chinese."""
    _check_target(target)
    try:
        target.write_bytes(data)
    except OSError as e:
        raise UsageError(f"无法写入 {target}：{e.strerror or e}") from e


def _database(db_path: str | Path) -> str | Path:
    """Return FENGONG_DB's database: a PostgreSQL URL, or a SQLite file that exists."""
    if isinstance(db_path, Path) and not db_path.exists():
        raise ConfigError(f"数据库 {db_path} 不存在（FENGONG_DB）")
    return db_path


async def _report(
    year: int, unit: str | None, db_path: str | Path, data_dir: Path, doc: str = ""
) -> bytes:
    from bot.office.report import year_report

    async with await _open(db_path) as store:
        plan = load_plan(data_dir)
        return await year_report(store.document(doc, plan.document.number), plan, year, unit)


def report(
    year: int,
    unit_text: str | None,
    target: Path,
    db_path: str | Path,
    data_dir: Path,
    doc_text: str = "",
) -> None:
    """Write a year's report (.docx) of one unit, or the committee's, to `target`."""
    _check_target(target)
    doc, folder = document(data_dir, doc_text)
    _check_year(year, folder)
    unit = resolve_unit(unit_text, folder)
    data = _render(_report(year, unit, _database(db_path), folder, doc))
    _write(target, data)
    print(f"已生成{unit or '全部单位'} {year} 年度落实情况报告：{target}")


async def _picture(year: int, db_path: str | Path, data_dir: Path, doc: str = "") -> bytes:
    from bot.office.heatmap import progress_picture

    async with await _open(db_path) as store:
        plan, today = load_plan(data_dir), system_clock().date()
        return await progress_picture(store.document(doc, plan.document.number), plan, year, today)


def progress_image(
    year: int, target: Path, db_path: str | Path, data_dir: Path, doc_text: str = ""
) -> None:
    """Write a year's progress picture (PNG heat map of units x main tasks) to `target`."""
    _check_target(target)
    doc, folder = document(data_dir, doc_text)
    _check_year(year, folder)
    data = _render(_picture(year, _database(db_path), folder, doc))
    _write(target, data)
    print(f"已生成 {year} 年报送进度图：{target}")


def run(data_dir: Path) -> None:
    """Start the bot: WeCom (WECOM_*) and/or Telegram (TELEGRAM_BOT_TOKEN), else the terminal."""
    config = dataclasses.replace(load_config(), data_dir=data_dir)
    check_default(data_dir, config.default_doc)
    from handlers.run import run as run_channels

    run_channels(config)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="分工助手")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="数据目录（默认 data/）")
    # --data is also accepted after the command (check-data --data DIR); SUPPRESS keeps the
    # value given before the command when it is not repeated after it.
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--data", type=Path, default=argparse.SUPPRESS, help="数据目录")
    # Which document's members and notes (export, report, progress-image); "": the folder's own.
    which = argparse.ArgumentParser(add_help=False)
    which.add_argument(
        "--doc", default="", help="有多份文件时导出哪一份（文件夹名、文号或标题中的词）"
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", parents=[data], help="启动机器人（默认）")
    p_ask = sub.add_parser("ask", parents=[data], help="提问并打印答案")
    p_ask.add_argument("question", nargs="*", help="问题；省略时逐行读取标准输入")
    p_ask.add_argument("--json", action="store_true", help="每个问题输出一行 JSON")
    p_ask.add_argument(
        "--chat", action="store_true", help="各行属于同一段对话（追问按上文理解），空行开始新对话"
    )
    p_ask.add_argument(
        "--doc", default="", help="有多份文件时，未写明文号的问题按哪份回答（文件夹名或文号）"
    )
    p_imp = sub.add_parser(
        "import-doc", parents=[data], help="导入责任分工文件（.txt/.docx/.xlsx）"
    )
    p_imp.add_argument("source", type=Path)
    p_imp.add_argument("--out", type=Path, default=None, help="写入的数据目录（默认 --data）")
    p_imp.add_argument(
        "--replace", action="store_true", help="文件夹中已有另一份文件时，备份后替换它"
    )
    p_imp.add_argument(
        "--date", type=_issued, default=None, help="成文日期（年-月-日），文件中没有或写错时用"
    )
    sub.add_parser("check-data", parents=[data], help="校验数据文件，出错时退出码为 2")
    p_exp = sub.add_parser("export", parents=[which], help="导出某年进展汇总（Excel）")
    p_exp.add_argument("--year", type=int, required=True)
    p_exp.add_argument("out", type=Path)
    p_bak = sub.add_parser("backup", help="备份数据库（机器人运行时也可以）")
    p_bak.add_argument("out", type=Path, help="备份文件")
    p_mig = sub.add_parser(
        "migrate-db", help="把 SQLite 数据库（FENGONG_DB）复制到一个空的 PostgreSQL 数据库"
    )
    p_mig.add_argument(
        "--to", required=True, metavar="postgresql://…", help="目标数据库的地址（须为空库）"
    )
    p_rep = sub.add_parser("report", parents=[data, which], help="生成某年度落实情况报告（Word）")
    p_rep.add_argument("--year", type=int, required=True)
    p_rep.add_argument("--unit", default=None, help=f"单位名称；省略或写「{ALL_UNITS}」为汇总报告")
    p_rep.add_argument("out", type=Path)
    p_img = sub.add_parser(
        "progress-image", parents=[data, which], help="生成某年报送进度图（PNG）"
    )
    p_img.add_argument("--year", type=int, required=True)
    p_img.add_argument("out", type=Path)
    return parser


def _told() -> tuple[type[Exception], ...]:
    """Return the errors said in one Chinese line (the store's load only when one is raised)."""
    from bot.store.errors import StoreError

    return (PlanError, ConfigError, StoreError, UsageError)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    redact.install()
    try:
        if args.command == "ask":
            config = load_config()
            with pattern.kept(config.cache):
                ask(
                    load_catalog(args.data, config.default_doc, config.reminders),
                    [" ".join(args.question)] if args.question else [],
                    args.json,
                    args.chat,
                    args.doc,
                )
        elif args.command == "import-doc":
            out = args.out or args.data
            # The database is looked up only when notes need their document recorded.
            db = lambda: load_config().database  # noqa: E731
            import_doc(args.source, out, args.replace, args.data, db, args.date)
        elif args.command == "check-data":
            check_data(args.data)
        elif args.command == "export":
            export(args.year, args.out, load_config().database, args.data, args.doc)
        elif args.command == "backup":
            backup(args.out, load_config().database)
        elif args.command == "migrate-db":
            migrate_db(args.to, load_config().database)
        elif args.command == "report":
            report(args.year, args.unit, args.out, load_config().database, args.data, args.doc)
        elif args.command == "progress-image":
            progress_image(args.year, args.out, load_config().database, args.data, args.doc)
        else:
            run(args.data)
    except _told() as e:
        # A server's error may echo the URL or the token it was sent: masked like the log.
        print(f"错误：{redact.masked(str(e))}", file=sys.stderr)
        return EXIT_DATA
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `ask | head` closed the pipe: stop quietly, and keep Python's exit-time flush quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0

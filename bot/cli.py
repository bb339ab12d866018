"""Command line: `python -m bot [run|ask|import-doc|check-data]`."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import redact
from bot.assistant import Assistant
from bot.config import ConfigError, load_config
from bot.importer import import_document
from bot.lexicon import load_lexicon
from bot.plan import DATA_DIR, PlanError, load_plan, parse_units, read_yaml
from bot.reply import render_plain
from bot.store import Store, StoreError

EXIT_DATA = 2
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def ask(assistant: Assistant, questions: Sequence[str], as_json: bool) -> None:
    """Print the answer to each question (or to each line of standard input)."""
    source = questions or (ln.rstrip("\n") for ln in sys.stdin)
    for question in source:
        if as_json:
            print(json.dumps(assistant.answer(question).to_json(), ensure_ascii=False), flush=True)
        else:
            print(render_plain(assistant.ask(question)), end="\n\n")


def import_doc(source: Path, data_dir: Path, out: Path | None) -> None:
    """Parse the notice at `source` and write plan.yaml (validated before it is written)."""
    units_path = data_dir / "units.yaml"
    units, collective = parse_units(units_path, read_yaml(units_path))
    text = import_document(source, units, collective)
    target = out or data_dir / "plan.yaml"
    tmp = target.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    plan = load_plan(target.parent) if target.parent == data_dir else None
    counts = f"{len(plan.tasks)} 项任务、{len(plan.measures)} 项举措" if plan else ""
    print(f"已写入 {target} {counts}".rstrip())


def check_data(data_dir: Path) -> None:
    """Validate the data files; raise PlanError on the first problem."""
    plan = load_plan(data_dir)
    load_lexicon(data_dir)
    counts = f"{len(plan.tasks)} 项任务、{len(plan.measures)} 项举措、{len(plan.units)} 个单位"
    print(f"数据检查通过：{counts}")


async def _workbook(year: int, db_path: Path, data_dir: Path) -> bytes:
    # openpyxl loads slowly; only the export needs it.
    from bot.export import export_year

    async with await Store.open(db_path) as store:
        return await export_year(store, load_plan(data_dir), year)


def export(year: int, target: Path, db_path: Path, data_dir: Path = DATA_DIR) -> None:
    """Write a year's Excel summary from the database to `target`."""
    if not db_path.exists():
        raise ConfigError(f"数据库 {db_path} 不存在（FENGONG_DB）")
    target.write_bytes(asyncio.run(_workbook(year, db_path, data_dir)))
    print(f"已导出 {year} 年进展汇总：{target}")


def run(data_dir: Path) -> None:
    """Start the bot: Telegram when TELEGRAM_BOT_TOKEN is set, otherwise the terminal chat."""
    config = dataclasses.replace(load_config(), data_dir=data_dir)
    if config.telegram_token:
        from handlers.telegram.app import run_telegram

        run_telegram(config)
        return
    from handlers.console import run_console

    run_console(config)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="分工助手")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="数据目录（默认 data/）")
    # --data is also accepted after the command (check-data --data DIR); SUPPRESS keeps the
    # value given before the command when it is not repeated after it.
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--data", type=Path, default=argparse.SUPPRESS, help="数据目录")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", parents=[data], help="启动机器人（默认）")
    p_ask = sub.add_parser("ask", parents=[data], help="提问并打印答案")
    p_ask.add_argument("question", nargs="*", help="问题；省略时逐行读取标准输入")
    p_ask.add_argument("--json", action="store_true", help="每个问题输出一行 JSON")
    p_imp = sub.add_parser("import-doc", parents=[data], help="从通知原文导入 plan.yaml")
    p_imp.add_argument("source", type=Path)
    p_imp.add_argument("--out", type=Path, default=None)
    sub.add_parser("check-data", parents=[data], help="校验数据文件，出错时退出码为 2")
    p_exp = sub.add_parser("export", help="导出某年进展汇总（Excel）")
    p_exp.add_argument("--year", type=int, required=True)
    p_exp.add_argument("out", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    redact.install()
    try:
        if args.command == "ask":
            ask(
                Assistant.load(args.data),
                [" ".join(args.question)] if args.question else [],
                args.json,
            )
        elif args.command == "import-doc":
            import_doc(args.source, args.data, args.out)
        elif args.command == "check-data":
            check_data(args.data)
        elif args.command == "export":
            export(args.year, args.out, load_config().db_path, args.data)
        else:
            run(args.data)
    except (PlanError, ConfigError, StoreError) as e:
        print(f"错误：{e}", file=sys.stderr)
        return EXIT_DATA
    except KeyboardInterrupt:
        return 130
    return 0

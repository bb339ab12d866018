"""Loading a further document while the bot runs: upload, import report, then 启用.

An upload is imported (as `python -m bot import-doc --out`) into DATA/.staged/NAME, which the
catalog does not read (a dot-folder); 启用 moves it to DATA/NAME and serves it at once, with
its own members, notes and reminders (other instances on the database: at their next look,
see `Core.follow`). Nothing is written outside the data folder.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.ask.assistant import Assistant
from bot.ask.catalog import Doc, discover
from bot.config import ConfigError
from bot.core import Core
from bot.documents.plan import PlanError

STAGED = ".staged"
MAX_UPLOAD = 10 * 1024 * 1024
SUFFIXES = (".txt", ".docx", ".xlsx")
# What to do with the formats government offices send most often besides those.
_WORD = "请用 WPS 或 Word 打开，另存为 .docx 后再上传。"
_CONVERT = {
    ".pdf": "PDF 请用 WPS 打开后另存为 .docx（或复制全文存为 .txt）再上传。",
    ".doc": _WORD,
    ".wps": _WORD,
    ".xls": "请用 WPS 或 Excel 打开，另存为 .xlsx 后再上传。",
    ".et": "请用 WPS 或 Excel 打开，另存为 .xlsx 后再上传。",
}
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
IMPORT_SECONDS = 60


@dataclass(frozen=True)
class Staged:
    """An uploaded document's import: its folder name, the report, and whether it loads."""

    name: str
    report: tuple[str, ...]
    ok: bool


def check_upload(name: str, filename: str, size: int, loaded: set[str]) -> str | None:
    """Say what is wrong with an upload before it is read, or None."""
    if not NAME.fullmatch(name):
        return "文件夹名只能用小写字母、数字、- 和 _（1–32 个字，字母或数字开头），例如 zongbao。"
    if name in loaded:
        return f"已经有名为 {name} 的文件在使用中，请换一个文件夹名。"
    if (suffix := Path(filename).suffix.lower()) not in SUFFIXES:
        known = _CONVERT.get(suffix, "")
        return f"只能上传 .txt、.docx 或 .xlsx 文件。{known}"
    if size > MAX_UPLOAD:
        return "文件太大：最多 10 MB。"
    if size == 0:
        return "文件是空的。"
    return None


async def stage(data_dir: Path, name: str, filename: str, data: bytes) -> Staged:
    """Import an upload into DATA/.staged/NAME and say what was found.

    The import runs as `python -m bot import-doc` in a child process: its time is bounded
    (killed after IMPORT_SECONDS) and a document that breaks the importer breaks only it.
    """
    folder = data_dir / STAGED / name
    source = folder.parent / f"{name}.upload{Path(filename).suffix.lower()}"
    await asyncio.to_thread(_fresh, folder, source, data)
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "import-doc", str(source), "--out", str(folder),
        "--data", str(data_dir),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with asyncio.timeout(IMPORT_SECONDS):
            out, err = await child.communicate()
    except TimeoutError:
        child.kill()
        await child.wait()
        out, err = b"", f"导入超过 {IMPORT_SECONDS} 秒仍未完成，已放弃。".encode()
    source.unlink(missing_ok=True)
    # The server's paths are nobody's business on a web page.
    lines = [
        ln.replace(str(data_dir), "数据文件夹")
        for ln in (out or err).decode("utf-8", "replace").splitlines()
    ]
    problem = "" if child.returncode == 0 else "无法导入："
    if not problem:
        try:  # what 启用 will load: refused now rather than then
            await asyncio.to_thread(Assistant.load, folder)
        except (PlanError, ConfigError, ValueError, KeyError, OSError) as e:
            problem, lines = "导入的文件无法加载：", [str(e)]
    if problem:
        await asyncio.to_thread(shutil.rmtree, folder, True)
        return Staged(name, (problem, *lines[-20:]), False)
    return Staged(name, tuple(lines), True)


def _fresh(folder: Path, source: Path, data: bytes) -> None:
    """Empty the staging folder of an earlier upload of the same name, and save the file."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(data)


async def upload(core: Core, name: str, filename: str, data: bytes) -> Staged:
    """Check an upload for the core's data folder, then import it (see `stage`)."""
    loaded = {d.id for d in core.catalog.docs}
    problem = check_upload(name, filename, len(data), loaded)
    if problem:
        return Staged(name, (problem,), False)
    return await stage(core.config.data_dir, name, filename, data)


def staged(data_dir: Path) -> list[str]:
    """Return the names of imported documents waiting for 启用."""
    folder = data_dir / STAGED
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "plan.yaml").is_file())


async def enable(core: Core, name: str) -> str:
    """Move a staged document into the data folder and serve it now; return what happened."""
    data_dir = core.config.data_dir
    if name not in staged(data_dir):
        return "没有这个待启用的文件，请重新上传。"
    target = data_dir / name
    if target.exists() or name in {d.id for d in core.catalog.docs}:
        return f"数据文件夹中已有 {name}，请换一个文件夹名重新上传。"
    (data_dir / STAGED / name).rename(target)
    if name not in {doc_id for doc_id, _ in discover(data_dir)}:
        return "启用失败：移动后未能找到该文件。"
    assistant = await asyncio.to_thread(
        Assistant.load, target, core.config.reminders, core.clock
    )
    doc = Doc(name, assistant)
    core.serve(doc)
    # The other instances read the same data folder: they add it at their next look.
    await core.store.generations.bump(name)
    return f"已启用：{doc.label}（文件夹 {name}）。在聊天中发送 /doc 可切换到它。"

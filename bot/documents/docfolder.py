"""Writing an imported document's folder: only where it belongs, backed up, atomically.

`import-doc` writes plan.yaml, units.yaml and lexicon.yaml into a folder. It refuses a target
that is a file, or a folder holding other things than a document (the filesystem root, a home
folder; the document's own folder is fine); it backs up the files it replaces into a hidden
`.backup-…` folder beside them (the catalog skips hidden folders); and it writes each file
through a fresh temporary file of its own (O_EXCL, never an existing name, hence never
through a planted symlink), renamed over the old one only once complete.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import yaml

from bot.documents.plan import PlanError

FILES = ("plan.yaml", "units.yaml", "lexicon.yaml")
BACKUP = ".backup-"


def check_target(out: Path, suggest: Path, source: Path) -> None:
    """Refuse an --out that is a file, or a folder of other things than a document.

    A folder is a document's when it holds plan.yaml or units.yaml, or the document itself.
    """
    if out.exists() and not out.is_dir():
        raise PlanError(
            f"{out} 是一个文件，不是文件夹：导入结果要写入一个文件夹。"
            f"请用 --out 指定新文件夹，例如 --out {suggest}"
        )
    if not out.is_dir() or any((out / name).is_file() for name in FILES[:2]):
        return
    if source.resolve().parent == out.resolve():
        return
    try:
        others = [p.name for p in out.iterdir() if not p.name.startswith(".")]
    except OSError as e:
        raise PlanError(f"无法读取文件夹 {out}（{e.strerror}）") from None
    if others:
        raise PlanError(
            f"{out} 不是空文件夹，也不是导入过文件的文件夹（其中没有 plan.yaml）。"
            "为免在其中写入或覆盖别的文件，未写入任何内容。"
            f"请用 --out 指定一个新文件夹，例如 --out {suggest}"
        )


def current_number(folder: Path) -> str | None:
    """Return the number (文号) of the document in `folder`; "" if unreadable, None if none."""
    path = folder / "plan.yaml"
    if not path.exists():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return str(data["document"]["number"])
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError):
        return ""


def back_up(folder: Path, now: dt.datetime) -> Path | None:
    """Copy the folder's document files into a new hidden folder; return it (None: nothing)."""
    present = [name for name in FILES if (folder / name).is_file()]
    if not present:
        return None
    stamp = f"{BACKUP}{now:%Y%m%d-%H%M%S}"
    try:
        for n in range(1, 100):
            target = folder / (stamp if n == 1 else f"{stamp}-{n}")
            try:
                target.mkdir()  # a new folder, never an existing one (nor a symlink)
                break
            except FileExistsError:
                continue
        else:
            raise PlanError(f"无法在 {folder} 中建立备份文件夹：同名文件夹太多")
        for name in present:
            shutil.copy2(folder / name, target / name, follow_symlinks=False)
    except OSError as e:
        raise PlanError(f"无法备份 {folder} 中的文件（{e.strerror}），未写入任何内容") from None
    return target


def write(folder: Path, name: str, text: str) -> None:
    """Write `text` to folder/name atomically, through a new temporary file in that folder."""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    except OSError as e:
        raise PlanError(f"无法在 {folder} 中写入 {name}（{e.strerror}）") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # as before: the bot may run as another user than the import
        os.replace(tmp, folder / name)  # replaces a symlink itself, never writes through it
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise PlanError(f"无法在 {folder} 中写入 {name}（{e.strerror}）") from None
        raise

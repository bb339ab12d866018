"""A copy of the notice's data folder for a test, and unit changes written into it by hand."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RURAL, AGRI = "省乡村振兴局", "农业农村厅"  # 6.1 and 6.3 name the bureau; 6.1 names both
# the last line of the bureau's entry in units.yaml
RURAL_ENTRY = "    aliases: [乡村振兴局, 乡振局, 扶贫办, 省扶贫办]\n"


def copy_data(tmp_path: Path) -> Path:
    """Copy data/ into the test's folder (commands write into its units.yaml)."""
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "data", folder)
    return folder


def add(data: Path, after: str, lines: str) -> None:
    """Insert `lines` into units.yaml after the first `after`, as a person editing it would."""
    path = data / "units.yaml"
    text = path.read_text(encoding="utf-8")
    assert after in text
    path.write_text(text.replace(after, after + lines, 1), encoding="utf-8")


def merge_by_hand(data: Path, since: str = "2024-01-01") -> None:
    """Record in units.yaml that the bureau merged into the department on `since`."""
    add(data, RURAL_ENTRY, f"    merged_into: {AGRI}\n    since: {since}\n")

"""The project's shared folder of real documents (shared/docs), which some tests read.

It is found beside the clone (../shared), beside the folder of worktrees, or where
FENGONG_SHARED points. Without it these tests are skipped with a reason that says what to do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest


def _locate() -> Path:
    named = os.environ.get("FENGONG_SHARED")
    if named:
        return Path(named) / "docs"
    for parent in Path(__file__).resolve().parents[1:4]:
        if (parent / "shared" / "docs").is_dir():
            return parent / "shared" / "docs"
    return Path("shared-not-found")


SHARED = _locate()
MISSING = (
    "needs the project's shared documents (shared/docs, see README.md): put the shared "
    "folder beside this clone as ../shared, or set FENGONG_SHARED=/path/to/shared"
)
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=MISSING)


def shared_documents() -> list[Any]:
    """Return every document of shared/docs as a test parameter (one skipped one without)."""
    if not SHARED.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING), id="no-shared")]
    files = sorted(p for p in SHARED.iterdir() if p.suffix in (".txt", ".docx", ".xlsx"))
    return [pytest.param(p, id=p.name) for p in files if p.name != "SOURCES.md"]

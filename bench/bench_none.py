"""Honest "not found", calibrated across documents (#18): questions written for one document,
asked of another on a different matter.

Run: .venv/bin/python bench/bench_none.py [-v]

A question the writers wrote for document A (a topic it answers, or one it does not) is,
nearly always, one that document B on another matter does not answer: asked of B it should get
"not found" (with the nearest measures offered, or none), never measures as the answer. For
each pair of documents, both ways, this prints the false-answer rate (the share of A's
questions that B answers with measures) and how many B only offers as the nearest; and the
accuracy of A's own rows on A (score.py's rules, as tests/test_blind.py scores them). Rows a
reading of B's text found B does answer are left out (CROSS_ANSWERED). A question naming one of
B's units is left out too: B answering with that unit's measures is no false answer.
With -v every false answer is listed (question, B's first measure).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.ask.engine import Engine  # noqa: E402
from bot.ask.lexicon import load_lexicon  # noqa: E402
from bot.cli import main  # noqa: E402
from bot.documents.plan import SHIPPED_DATA, load_plan  # noqa: E402
from tests.shared import SHARED as SHARED_DOCS  # noqa: E402

SHARED = SHARED_DOCS.parent
SETS = ROOT / "tests" / "data" / "blind"
NOTICE = "notice"
# Pairs of documents on different matters, decided from their titles: each is asked the
# other's questions.
PAIRS = (
    ("guofa2018-42_nongye_jixiehua", NOTICE),  # farm machinery × disabled people's jobs
    ("guofa2019-3_zonghe_baoshuiqu", "gz2023_jiatingyisheng_fengongbiao"),  # bonded zones ×
    # family doctors
    ("guobanfa2018-121_tiyu_jingsai", "guobanfa2018-128_wufei_chengshi"),  # sports × waste
    ("guangzhou2012_rencai_jiju_633", "guobanfa2018-129_xiaofei_fupin"),  # talent × poverty
)
# Questions of A that B does answer, found by reading B's text: (B, question) -> where.
CROSS_ANSWERED = {
    ("guobanfa2018-129_xiaofei_fupin", "给农民搞种养技术培训的是哪项"): "3.1 推广先进适用种养技术",
}
# A question naming an item by its number (第15条谁牵头) asks any document about its own item.
_REFERENCE = re.compile(r"第\s*[\d一二三四五六七八九十（(）)]+\s*[条项款点]")
SOURCES = {"gz2023_jiatingyisheng_fengongbiao": "gz2023_jiatingyisheng_fengongbiao.docx"}
KINDS = ("topic", "none")


@dataclass
class Figures:
    """One direction of a pair: A's questions asked of B, and A's own accuracy."""

    asked: int = 0
    answered: int = 0
    offered: int = 0
    right: int = 0
    rows: int = 0

    @property
    def false_rate(self) -> float:
        """Return the share of the questions asked that B answered with measures."""
        return self.answered / self.asked if self.asked else 0.0


def load_score() -> ModuleType:
    """Load ../shared/eval/score.py (its resolve and judge)."""
    spec = importlib.util.spec_from_file_location("score", SHARED / "eval" / "score.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.open = _read  # it leaves its files to the collector
    return module


def _read(path: str, *args: Any, **kwargs: Any) -> io.StringIO:
    with open(path, *args, **kwargs) as file:
        return io.StringIO(file.read())


def set_files(doc: str) -> list[Path]:
    """Return the kept single-question sets of a document (conversations left out)."""
    if doc == NOTICE:
        found = sorted(SETS.glob("notice-round*.jsonl"))
        return [*found, SETS / "notice-everyday.jsonl", SHARED / "eval" / "dev.jsonl"]
    found = sorted(p for p in (SETS / "docs").glob(f"{doc}*.jsonl") if "_xlsx" not in p.name)
    return [*found, SHARED / "eval" / "docs-dev.jsonl"]


def rows_of(doc: str, data: Path, score: ModuleType) -> list[dict[str, Any]]:
    """Return the document's rows (ids resolved against its imported plan), one per question."""
    rows: dict[str, dict[str, Any]] = {}
    for path in set_files(doc):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else None
            if not row or "context" in row:
                continue
            if doc != NOTICE and Path(row.get("doc", "")).stem != Path(SOURCES.get(doc, doc)).stem:
                continue
            rows.setdefault(row["q"], row)
    found = list(rows.values())
    if doc != NOTICE:
        found = score.resolve(found, str(data / "plan.yaml"))
    return found


def imported(doc: str, into: Path) -> Path:
    """Return the data folder of a document, imported by `import-doc` (the notice ships)."""
    if doc == NOTICE:
        return SHIPPED_DATA
    name = SOURCES.get(doc, f"{doc}.txt")
    source = SETS / "texts" / name
    source = source if source.is_file() else SHARED / "docs" / name
    out = into / doc
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["import-doc", str(source), "--out", str(out)]) == 0
    return out


def engine(data: Path) -> Engine:
    """Build the engine of a data folder."""
    return Engine(load_plan(data), load_lexicon(data))


def measure(
    pairs: tuple[tuple[str, str], ...] = PAIRS, verbose: bool = False, own: bool = True
) -> dict[tuple[str, str], Figures]:
    """Return each direction's figures, (A, B) -> A's questions asked of B (and, with `own`,
    A's accuracy on its own rows)."""
    score = load_score()
    with tempfile.TemporaryDirectory() as tmp:
        docs = {d for pair in pairs for d in pair}
        data = {d: imported(d, Path(tmp)) for d in sorted(docs)}
        engines = {d: engine(data[d]) for d in sorted(docs)}
        rows = {d: rows_of(d, data[d], score) for d in sorted(docs)}
    out: dict[tuple[str, str], Figures] = {}
    for one, other in pairs:
        for a, b in ((one, other), (other, one)):
            fig = Figures()
            for row in rows[a]:
                if own:
                    fig.rows += 1
                    fig.right += bool(score.judge(row, engines[a].answer(row["q"]).to_json()))
                if (
                    row["kind"] not in KINDS
                    or (b, row["q"]) in CROSS_ANSWERED
                    or _REFERENCE.search(row["q"])
                ):
                    continue
                got = engines[b].answer(row["q"])
                if got.units:
                    continue
                fig.asked += 1
                if got.measures:
                    fig.answered += 1
                    if verbose:
                        first = got.measures[0]
                        print(f"  {a} -> {b}: {row['q']}  ->  {first.id} {first.text[:40]}")
                elif got.nearest:
                    fig.offered += 1
            out[(a, b)] = fig
    return out


def run() -> None:
    """Print the false-answer rate and accuracy per direction of each pair."""
    parser = argparse.ArgumentParser()
    parser.add_argument("-v", action="store_true", help="list every false answer")
    args = parser.parse_args()
    figures = measure(verbose=args.v)
    print(f"{'questions of A asked of B':64} false  offered  A's own")
    asked = answered = right = rows = 0
    for (a, b), fig in figures.items():
        print(
            f"{a[:30]:30} -> {b[:30]:30} {fig.answered:3}/{fig.asked:<3} "
            f"{fig.false_rate:6.1%} {fig.offered:4}   {fig.right}/{fig.rows}"
        )
        asked, answered = asked + fig.asked, answered + fig.answered
        right, rows = right + fig.right, rows + fig.rows
    print(f"all: false answers {answered}/{asked} = {answered / asked:.1%}; ", end="")
    print(f"own rows right (each document once per pair way) {right}/{rows}")


if __name__ == "__main__":
    run()

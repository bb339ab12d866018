"""The topic ranking on a large plan: the measures listed are those that scoring every measure
holding a word lists, in the same order with the same scores, found by scoring few of them.

The large plan is the shipped one repeated (every task again with its sentences shuffled and
random units), as bench/bench_ask.py's 100x plan; the questions are the kept blind sets' on the
notice (tests/data/blind), asked alone and in their conversations' context.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
from collections import defaultdict
from pathlib import Path

import pytest

from bot.ask.engine import BM25_K1, MAX_TOPIC, MIN_TOPICAL, RELATIVE_CUTOFF, Engine
from bot.ask.lexicon import load_lexicon
from bot.documents.plan import Plan, load_plan

SETS = Path(__file__).resolve().parent / "data" / "blind"
Terms = list[tuple[str, dict[int, int], float, bool]]


def larger(plan: Plan, factor: int) -> Plan:
    """Return `plan` `factor` times larger, as bench/bench_ask.py makes its 10x and 100x plans."""
    path = Path(__file__).resolve().parent.parent / "bench" / "bench_ask.py"
    spec = importlib.util.spec_from_file_location("bench_ask", path)
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    made: Plan = bench.synthetic(plan, factor)
    return made


def every_measure_scored(
    engine: Engine, terms: Terms, allowed: range | set[int], whole: set[int]
) -> tuple[list[int], dict[int, float]] | None:
    """Rank as the engine did before it bounded the work: every measure holding a word scored."""
    scores: dict[int, float] = defaultdict(float)
    topical: dict[int, float] = defaultdict(float)
    norm, saturation = engine._norm, BM25_K1 + 1
    for _, docs, idf, on_topic in terms:
        for i, tf in docs.items():
            if i in allowed:
                score = idf * tf * saturation / (tf + norm[i])
                scores[i] += score
                if on_topic:
                    topical[i] += score
    if not topical or max(topical.values()) < MIN_TOPICAL:
        return None
    ranked = sorted(scores, key=lambda i: (-scores[i], i))
    best = scores[ranked[0]]
    kept = (i for i in ranked if scores[i] >= best * RELATIVE_CUTOFF or i in whole)
    return list(itertools.islice(kept, MAX_TOPIC)), scores


def questions() -> list[str]:
    out: list[str] = []
    for path in sorted(SETS.glob("notice-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            out += [*row.get("context", []), row["q"]]
    return list(dict.fromkeys(out))[::3]  # a third of them: about 500


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(larger(load_plan(), 10), load_lexicon())


def rankings(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, asked: list[str]
) -> list[tuple[Terms, range | set[int], set[int], tuple[list[int], dict[int, float]] | None]]:
    """Return each ranking the engine made answering `asked`: its words, measures, result."""
    made = []
    top = Engine._top

    def recorded(
        self: Engine, terms: Terms, allowed: range | set[int], whole: set[int]
    ) -> tuple[list[int], dict[int, float]] | None:
        result = top(self, terms, allowed, whole)
        made.append((terms, allowed, whole, result))
        return result

    monkeypatch.setattr(Engine, "_top", recorded)
    for question in asked:
        engine.answer(question)
    return made


def test_a_large_plan_lists_what_scoring_every_measure_lists(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = rankings(engine, monkeypatch, questions())
    assert len(made) > 300
    assert sum(isinstance(allowed, set) for _, allowed, _, _ in made) > 20  # within a unit's
    listed = 0
    for terms, allowed, whole, result in made:
        expected = every_measure_scored(engine, terms, allowed, whole)
        assert (result is None) == (expected is None), [t for t, _, _, _ in terms]
        if result is not None and expected is not None:
            assert result[0] == expected[0], [t for t, _, _, _ in terms]
            # The same scores to the last bit: ties and thresholds fall alike.
            assert [result[1][i] for i in result[0]] == [expected[1][i] for i in expected[0]]
            listed += 1
    assert listed > 250


def test_a_large_plan_is_ranked_by_scoring_few_measures(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every word of this question is held by dozens or hundreds of the 310 measures.
    ((terms, _, _, result),) = rankings(engine, monkeypatch, ["机关事业单位按比例安排残疾人就业"])
    holding = set().union(*(docs for _, docs, _, _ in terms))
    assert len(holding) > 250
    assert result is not None
    ranked, scored = result
    assert engine._measures[ranked[0]].id == "1.1"
    assert len(scored) < len(holding) / 4

"""Hostile questions timed: the worst case of each family, and random long texts.

Run: .venv/bin/python bench/bench_adversarial.py [--rounds 20] [--texts 300]

Each family of tests/test_engine_adversarial.py repeated to 4,096 characters (the longest
message Telegram delivers), answered --rounds times: p99 and max per family, as the bot reads
it (its first MAX_QUESTION characters) and read whole (the bound lifted: does any pattern
backtrack?). Then --texts random texts of those pieces, up to 4,096 characters, both ways.
Wall and CPU time: on the shared machine the wall time includes other processes' turns.
Bounds (issue 9): 50 ms per answer, 0.5 s for a whole 4,096-character reading. The tests
prove what makes them hold without a clock; this prints the times.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.ask import engine as engine_module  # noqa: E402
from bot.ask.engine import Engine  # noqa: E402
from bot.ask.lexicon import load_lexicon  # noqa: E402
from bot.documents.plan import load_plan  # noqa: E402
from tests.test_engine_adversarial import (  # noqa: E402
    FAMILIES,
    LONGEST,
    NUMERALS,
    SEPARATORS,
    SPACES,
    WORDS,
)

ANSWER_BOUND = 0.050  # seconds per answer
WHOLE_BOUND = 0.5  # seconds for a whole 4,096-character reading


def timings(engine: Engine, texts: Sequence[str], rounds: int) -> list[tuple[float, float]]:
    """Return (wall, CPU) seconds of each answer, over `rounds` passes of the texts."""
    out = []
    for _ in range(rounds):
        for text in texts:
            wall, cpu = time.perf_counter(), time.thread_time()
            engine.answer(text)
            out.append((time.perf_counter() - wall, time.thread_time() - cpu))
    return out


def whole(engine: Engine, texts: Sequence[str], rounds: int) -> list[tuple[float, float]]:
    """Return (wall, CPU) seconds of each answer with the texts read whole (the bound lifted)."""
    kept = engine_module.MAX_QUESTION
    engine_module.MAX_QUESTION = 10 * LONGEST
    try:
        return timings(engine, texts, rounds)
    finally:
        engine_module.MAX_QUESTION = kept


def report(name: str, samples: list[tuple[float, float]], bound: float) -> str:
    """Format p99 and max of wall and CPU time in ms, and whether the wall max is in bound."""
    figures = []
    for column in zip(*samples, strict=True):
        p99 = statistics.quantiles(column, n=100, method="inclusive")[98]
        figures.append(f"p99 {p99 * 1e3:7.2f} max {max(column) * 1e3:7.2f}")
    verdict = "ok" if max(wall for wall, _ in samples) < bound else "OVER"
    return f"{name:34s} wall {figures[0]}   CPU {figures[1]}   {verdict}"


def random_texts(count: int, seed: int = 9) -> list[str]:
    """Return texts of numbers, separators, blanks and words: runs of pieces or a unit repeated."""
    rng = random.Random(seed)

    def piece() -> str:
        kind = rng.randrange(4)
        if kind == 0:
            return (
                str(rng.randint(0, 120))
                if rng.random() < 0.5
                else "".join(rng.choices(NUMERALS, k=rng.randint(1, 4)))
            )
        if kind == 1:
            return rng.choice(SEPARATORS)
        if kind == 2:
            return "".join(rng.choices(SPACES, k=rng.randint(0, 6)))
        return rng.choice(WORDS)

    texts = []
    for _ in range(count):
        if rng.random() < 0.3:
            text = "".join(piece() for _ in range(rng.randint(1, 60)))
        else:
            unit = "".join(piece() for _ in range(rng.randint(1, 8))) or "1"
            text = unit * rng.randint(1, LONGEST)
        texts.append(text[:LONGEST])
    return texts


def main(argv: Sequence[str]) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--texts", type=int, default=300)
    args = parser.parse_args(argv)
    engine = Engine(load_plan(), load_lexicon())
    engine.answer("盲人按摩")  # load what the first answer loads (OpenCC's tables)
    print(f"{len(FAMILIES)} families x {LONGEST} characters x {args.rounds} rounds")
    print(f"-- as the bot reads them (bound {ANSWER_BOUND * 1e3:.0f} ms per answer)")
    answers: list[tuple[float, float]] = []
    for name, unit in FAMILIES.items():
        samples = timings(engine, [(unit * LONGEST)[:LONGEST]], args.rounds)
        answers += samples
        print(report(name, samples, ANSWER_BOUND))
    print(report("all families", answers, ANSWER_BOUND))
    print(f"-- read whole (bound {WHOLE_BOUND * 1e3:.0f} ms per reading)")
    readings: list[tuple[float, float]] = []
    for name, unit in FAMILIES.items():
        samples = whole(engine, [(unit * LONGEST)[:LONGEST]], args.rounds)
        readings += samples
        print(report(name, samples, WHOLE_BOUND))
    print(report("all families", readings, WHOLE_BOUND))
    texts = random_texts(args.texts)
    mean = statistics.mean(map(len, texts))
    print(f"-- {len(texts)} random texts (mean {mean:.0f} characters), once each")
    print(report("as the bot reads them", timings(engine, texts, 1), ANSWER_BOUND))
    print(report("read whole", whole(engine, texts, 1), WHOLE_BOUND))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

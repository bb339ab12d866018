"""Latency (and dev-set accuracy) of the question engine against a BM25 + jieba baseline.

Run: .venv/bin/python bench/bench_ask.py [--rounds 20] [--cpu]
Prints p50/p99 per question for both, on the real plan and on a synthetic plan 100x larger.
With --cpu the engine and the baseline are timed by the CPU time of the answering thread, not
the wall clock: on a busy machine the other processes' turns stay out of the figures.
With --warm each engine first answers every question once, untimed: what the process does once,
on the first question that needs it (patterns compiled, the concept map's table of subjects),
stays out of the figures (bench_startup.py measures it). Without it the 100x plan's p99, over
its 2 rounds, is mostly those first answers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import jieba
from rank_bm25 import BM25Okapi

from bot.ask.assistant import Assistant
from bot.ask.dialog import Dialog
from bot.ask.engine import Engine
from bot.ask.lexicon import load_lexicon
from bot.documents.plan import Measure, Plan, Task, load_plan

DEV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"
DIALOG = DEV.with_name("dialog-dev.jsonl")
FALLBACK = ["人社厅负责什么", "盲人按摩归谁管", "第8项任务", "7.2", "教育厅 大学生", "今天天气"]


class Baseline:
    """Plain keyword search: jieba words, BM25 over measure texts, top 8."""

    def __init__(self, plan: Plan) -> None:
        self.ids = [m.id for m in plan.measures]
        docs = [jieba.lcut(m.text + plan.tasks[m.task - 1].title) for m in plan.measures]
        self.bm25 = BM25Okapi(docs)

    def answer(self, question: str) -> list[str]:
        scores = self.bm25.get_scores(jieba.lcut(question))
        ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
        return [self.ids[i] for i in ranked[:8] if scores[i] > 0]


def synthetic(plan: Plan, factor: int, seed: int = 7) -> Plan:
    """Return a plan `factor` times larger: tasks repeated with shuffled sentences and units."""
    rng = random.Random(seed)
    units = [u.name for u in plan.units]
    tasks = []
    for copy in range(factor):
        for task in plan.tasks:
            number = copy * len(plan.tasks) + task.number
            measures = []
            for k, m in enumerate(task.measures, start=1):
                sentences = m.text.split("。")
                rng.shuffle(sentences)
                measures.append(
                    Measure(
                        id=f"{number}.{k}",
                        task=number,
                        text="。".join(sentences),
                        units=tuple(rng.sample(units, k=min(len(m.units), len(units)))),
                        all_provincial=m.all_provincial,
                    )
                )
            tasks.append(Task(number, task.title, tuple(measures)))
    return Plan(plan.document, tuple(tasks), plan.units, plan.collective_terms)


def timings(
    fn: Callable[[str], object],
    questions: Sequence[str],
    rounds: int,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Return the seconds each call took, over `rounds` passes of the questions."""
    out = []
    for _ in range(rounds):
        for q in questions:
            start = clock()
            fn(q)
            out.append(clock() - start)
    return out


def report(name: str, samples: list[float]) -> str:
    """Format p50/p99 in milliseconds."""
    cuts = statistics.quantiles(samples, n=100)
    return f"{name:28s} p50 {cuts[49] * 1e3:7.3f} ms   p99 {cuts[98] * 1e3:7.3f} ms"


def accuracy(rows: list[dict[str, object]], answer: Callable[[str], list[str]]) -> float:
    """Share of dev rows whose first answer is one of the gold measures (a simple check)."""
    hits = 0
    for row in rows:
        gold = row["measures"]
        got = answer(str(row["q"]))
        hits += (not gold and not got) or bool(got and isinstance(gold, list) and got[0] in gold)
    return hits / len(rows)


def conversation_timings(assistant: Assistant, chats: list[list[str]], rounds: int) -> list[float]:
    """Return the seconds each message of the chats took to read in context and answer.

    As the bot does it: through the guard's worker threads. A fresh assistant each round:
    remembered answers would otherwise make every round after the first a lookup (the worker
    threads are kept, as in a running bot).
    """

    async def run() -> list[float]:
        out = []
        for _ in range(rounds):
            fresh = Assistant(
                assistant.plan, assistant.lexicon, assistant.engine, guard=assistant.guard
            )
            dialog = Dialog()
            for number, lines in enumerate(chats):
                for text in lines:
                    start = time.perf_counter()
                    kind, arg = await fresh.converse(text, dialog, str(number))
                    fresh.to_json(kind, arg, text)
                    out.append(time.perf_counter() - start)
        return out

    return asyncio.run(run())


def main(argv: Sequence[str]) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--cpu", action="store_true", help="time the thread's CPU, not wall")
    parser.add_argument("--warm", action="store_true", help="answer every question once first")
    args = parser.parse_args(argv)
    jieba.setLogLevel(60)
    rows = [json.loads(ln) for ln in DEV.open(encoding="utf-8")] if DEV.exists() else []
    questions = [str(r["q"]) for r in rows] or FALLBACK
    lexicon = load_lexicon()
    real = load_plan()
    print(f"{len(questions)} questions x {args.rounds} rounds")
    clock = time.thread_time if args.cpu else time.perf_counter
    for label, plan, rounds in (("real", real, args.rounds), ("100x", synthetic(real, 100), 2)):
        start = time.perf_counter()
        engine = Engine(plan, lexicon)
        built = time.perf_counter() - start
        baseline = Baseline(plan)
        print(f"-- {label} plan: {len(plan.measures)} measures (engine built in {built:.2f} s)")
        if args.warm:
            timings(engine.answer, questions, 1)
        print(report("engine", timings(engine.answer, questions, rounds, clock)))
        print(report("baseline BM25+jieba", timings(baseline.answer, questions, rounds, clock)))
        if label == "real" and rows:
            mine = accuracy(rows, lambda q, e=engine: [m.id for m in e.answer(q).measures])
            base = accuracy(rows, baseline.answer)
            print(f"first answer right on dev set: engine {mine:.1%}, baseline {base:.1%}")
            chats = (
                [
                    [*r["context"], r["q"]]
                    for r in (json.loads(ln) for ln in DIALOG.open(encoding="utf-8"))
                ]
                if DIALOG.exists()
                else [["盲人按摩归谁管", "那卫健委呢"], ["第8项任务", "第二条呢"]]
            )
            assistant = Assistant(plan, lexicon, engine)
            samples = conversation_timings(assistant, chats, rounds)
            print(report("conversation (in context)", samples))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Start-up: how long `python -m bot ask 人社厅负责什么` takes, as a whole process.

Run: .venv/bin/python bench/bench_startup.py [--runs 9] [--cold] [--question Q] [DIR ...]
Each DIR is a checkout of the project (default: this one), run with this interpreter; with
several, runs alternate between them so that a busy machine slows each alike. Prints the
median and the fastest wall and CPU (user + system) time of each.

The bot's modules run from bytecode compiled by a first run, as an installed bot's do (pip
compiles them); it is kept in a temporary folder (PYTHONPYCACHEPREFIX), not in the
checkouts, also where the environment says not to write it (PYTHONDONTWRITEBYTECODE). So
are the patterns that first run compiled (FENGONG_CACHE, as `ask` keeps them in var/cache).
With --cold every run compiles every module and every pattern of the bot from its source
again.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUESTION = "人社厅负责什么"


def run_once(directory: Path, env: dict[str, str], question: str) -> tuple[float, float]:
    """Run `python -m bot ask` once in `directory`; return its wall and CPU seconds."""
    command = [sys.executable, "-m", "bot", "ask", question]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=directory, env=env, capture_output=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def measure(
    dirs: list[Path], runs: int, env: dict[str, str], question: str
) -> dict[Path, list[tuple[float, float]]]:
    """Time `runs` runs in each checkout, alternating, after one run each that is not timed."""
    times: dict[Path, list[tuple[float, float]]] = {d: [] for d in dirs}
    for directory in dirs:
        run_once(directory, env, question)  # compile and cache the bytecode first
    for _ in range(runs):
        for directory in dirs:
            times[directory].append(run_once(directory, env, question))
    return times


def main() -> None:
    """Time the start-up of each checkout given."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--cold", action="store_true", help="compile the modules in every run")
    parser.add_argument("dirs", nargs="*", type=Path, default=[Path(__file__).parents[1]])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as cache:
        env = dict(os.environ)
        if args.cold:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            env.pop("PYTHONPYCACHEPREFIX", None)
            env["FENGONG_CACHE"] = "off"
        else:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = cache
            # The compiled patterns too (bot/documents/pattern.py): kept by the untimed run.
            env["FENGONG_CACHE"] = str(Path(cache, "fengong"))
        times = measure(args.dirs, args.runs, env, args.question)
    for directory, runs in times.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        wall = f"wall median {statistics.median(walls):.3f} s (fastest {min(walls):.3f})"
        cpu = f"CPU median {statistics.median(cpus):.3f} s (fastest {min(cpus):.3f})"
        print(f"{directory}: {wall}, {cpu} over {len(runs)} runs")


if __name__ == "__main__":
    main()

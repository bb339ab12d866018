"""Start-up: how long `python -m bot ask 人社厅负责什么` takes, as a whole process.

Run: .venv/bin/python bench/bench_startup.py [--runs 9] [DIR ...]
Each DIR is a checkout of the project (default: this one), run with this interpreter; with
several, runs alternate between them so that a busy machine slows each alike. Prints the
median and the fastest wall and CPU (user + system) time of each.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMAND = [sys.executable, "-m", "bot", "ask", "人社厅负责什么"]


def run_once(directory: Path) -> tuple[float, float]:
    """Run the command once in `directory`; return its wall and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(COMMAND, cwd=directory, capture_output=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> None:
    """Time the start-up of each checkout given."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("dirs", nargs="*", type=Path, default=[Path(__file__).parents[1]])
    args = parser.parse_args()
    times: dict[Path, list[tuple[float, float]]] = {d: [] for d in args.dirs}
    for directory in args.dirs:
        run_once(directory)  # compile and cache the bytecode first
    for _ in range(args.runs):
        for directory in args.dirs:
            times[directory].append(run_once(directory))
    for directory, runs in times.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        wall = f"wall median {statistics.median(walls):.3f} s (fastest {min(walls):.3f})"
        cpu = f"CPU median {statistics.median(cpus):.3f} s (fastest {min(cpus):.3f})"
        print(f"{directory}: {wall}, {cpu} over {len(runs)} runs")


if __name__ == "__main__":
    main()

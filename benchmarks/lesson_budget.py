"""Wall time and peak memory of each lesson, against the course's budgets.

Usage::

    python benchmarks/lesson_budget.py [--dataset shop] [--check] [--write] [notebooks]

Each notebook is executed headless (as ``make run`` does) in a fresh process.
Two memory figures: the largest resident set of any one process (the kernel),
read from ``getrusage(RUSAGE_CHILDREN)`` in a wrapper process per notebook, and
the peak of the whole tree below the runner (the kernel and what it starts,
e.g. Spark's JVM), summed over processes every 0.2 s as proportional set
sizes (shared pages split between the processes sharing them, so a forked
JVM is not counted twice). Budgets (DESIGN.md): 60 s per lesson on shop
(lesson 00: 30 s, two-tower: 90 s, sequential and Spark: 120 s, the
comparison: 180 s), 1.5 GB per lesson (lesson 00: 1 GB; Spark: the largest
process 1.5 GB, Python and the JVM together 2 GB), the whole course under 10
minutes. ``--check`` exits non-zero when a lesson fails or exceeds a memory
budget; time budgets are printed and flagged, not enforced (a shared
machine's timings flake). ``--write`` (every lesson, none failed) records
the figures in ``benchmarks/results/lesson_budget_<dataset>.csv``, where
``benchmarks/readme.py`` reads them for the README's budget table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil
from protocol import made_by, write_committed_table

from recsys_helpers import environment

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "tools" / "notebook_runner.py"
COURSE_BUDGET_S = 600.0


def tree_budget(name: str) -> float:
    """Megabytes allowed for the kernel and its child processes together.

    2 GB for the lessons that start Spark (09, and 11 for SparkALS): Python
    and the JVM together, as DESIGN.md allows a Spark lesson.
    """
    spark = "scaling_out" in name or "comparison" in name
    return 2048.0 if spark else budget(name)[1]


def budget(name: str) -> tuple[float, float]:
    """(seconds, megabytes of the largest process) allowed for a lesson."""
    if name.startswith("00_"):
        return 30.0, 1024.0
    if "two_tower" in name:
        return 90.0, 1536.0
    if "sequential" in name or "scaling_out" in name:
        return 120.0, 1536.0
    if "comparison" in name:
        return 180.0, 1536.0
    return 60.0, 1536.0


def _tree_mb(runner: psutil.Process) -> float:
    """Summed proportional set size (RSS where PSS is unknown) below ``runner``."""
    total = 0
    for child in runner.children(recursive=True):
        try:
            info = child.memory_full_info()
            total += getattr(info, "pss", info.rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue  # ended (or not ours) between the listing and the read
    return total / 2**20


class _TreeSampler(threading.Thread):
    """Samples the memory of a process tree until told to stop; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.runner = psutil.Process(pid)
        self.peak_mb = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            try:
                self.peak_mb = max(self.peak_mb, _tree_mb(self.runner))
            except psutil.NoSuchProcess:
                return


def measure_one(notebook: Path) -> dict[str, float]:
    """Execute one notebook in a child process; wall seconds and peak MBs."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        with subprocess.Popen(
            [sys.executable, str(RUNNER), "--output-dir", out, str(notebook)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            sampler = _TreeSampler(process.pid)
            sampler.start()
            _, stderr = process.communicate()
            sampler.done.set()
            sampler.join()
        if process.returncode:
            # the cell that failed and its error, without the runner's traceback
            message = stderr.split("CellExecutionError:")[-1]
            sys.exit(f"{notebook.name} failed:{message[-3000:]}")
        seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "peak_mb": peak_kb / 1024, "tree_mb": sampler.peak_mb}


def write(dataset: str, rows: list[dict]) -> str:
    """Record a whole course's figures for the README; say what was done.

    ``rows`` holds the lessons that ran without error: every lesson must be
    there, in order, or nothing is written.
    """
    every = sorted(path.stem for path in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
    if [row["lesson"] for row in rows] != every:
        return "not written: --write needs every lesson, each executed without error"
    target = ROOT / "benchmarks" / "results" / f"lesson_budget_{dataset}.csv"
    header = made_by(
        "lesson_budget.py",
        f"dataset {dataset}; wall seconds, peak MB of the largest process and "
        "of the kernel's process tree (PSS), each with its budget",
    )
    table = pd.DataFrame(rows).drop(columns="flags")
    write_committed_table(table, target, header, index=False, digits=1)
    return f"wrote {target.relative_to(ROOT)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--dataset", default="shop")
    parser.add_argument("--check", action="store_true", help="fail over budget")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--write", action="store_true", help="record them for benchmarks/readme.py"
    )
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # wrapper mode: a fresh process per notebook isolates rusage
        print(json.dumps(measure_one(args.one)))
        return 0
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    env = environment.quiet_env({"RECSYS_DATASET": args.dataset})
    rows, over = [], []
    print(f"dataset: {args.dataset}, cores: {os.cpu_count()}")
    print(
        "| lesson | wall s (budget) | peak MB, largest process (budget) "
        "| peak MB, kernel and children (budget) |\n|---|---|---|---|"
    )
    for notebook in notebooks:
        result = subprocess.run(
            [sys.executable, __file__, "--one", str(notebook)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            print(f"| {notebook.name} | FAILED | |\n{result.stderr[-3000:]}")
            over.append(f"{notebook.name} failed")
            continue
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        seconds_budget, mb_budget = budget(notebook.name)
        flags = ""
        if figures["seconds"] > seconds_budget:
            flags += " over time"
        tree_mb_budget = tree_budget(notebook.name)
        if figures["peak_mb"] > mb_budget:
            flags += " over memory"
            over.append(f"{notebook.name}: {figures['peak_mb']:.0f} MB")
        if figures["tree_mb"] > tree_mb_budget:
            flags += " over memory (tree)"
            over.append(f"{notebook.name}: {figures['tree_mb']:.0f} MB in all")
        print(
            f"| {notebook.stem} | {figures['seconds']:.1f} ({seconds_budget:.0f}) "
            f"| {figures['peak_mb']:.0f} ({mb_budget:.0f}) "
            f"| {figures['tree_mb']:.0f} ({tree_mb_budget:.0f}) |{flags}"
        )
        rows.append(
            {
                "lesson": notebook.stem,
                **figures,
                "seconds_budget": seconds_budget,
                "peak_mb_budget": mb_budget,
                "tree_mb_budget": tree_mb_budget,
                "flags": flags.strip(),
            }
        )
    total = sum(r["seconds"] for r in rows)
    print(f"\ncourse total: {total:.1f} s (budget {COURSE_BUDGET_S:.0f} s)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {"dataset": args.dataset, "lessons": rows, "total_s": total}, indent=2
            )
        )
    if args.write:
        print(write(args.dataset, rows))
    # Time budgets are reported, not enforced: a shared machine's timings flake.
    if args.check and over:
        print("over the memory budget or failed: " + "; ".join(over))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

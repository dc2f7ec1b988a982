"""Analytics figures: score-series points/s per core, the incremental update cost per
execution (p50/p99 µs), and the backtest on the report seeds.

    .venv/bin/python bench/analytics.py [--quick]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from wfmon.analytics.baseline import WorkflowBaseline
from wfmon.analytics.corpus.generator import generate
from wfmon.analytics.report import run_backtest
from wfmon.analytics.scoreseries import score_file

TARGET_POINTS_S = 50_000
TARGET_UPDATE_US = 1000.0


def score_series_rate(points: int) -> float:
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.csv"
        with source.open("w") as f:
            f.write("timestamp,value\n")
            for i in range(points):
                f.write(f"{1_700_000_000 + 60 * i},{50 * rng.lognormvariate(0, 0.35):.3f}\n")
        start = time.process_time()
        score_file(source, Path(tmp) / "out.csv")
        return points / (time.process_time() - start)


def update_costs() -> tuple[float, float, int]:
    """µs per execution through a WorkflowBaseline (every series of the run), replaying the
    corpus' largest journey (order-placement: 26 series) and all the others."""
    corpus = generate(101)
    baselines: dict[str, WorkflowBaseline] = {}
    costs: list[float] = []
    clock = time.perf_counter_ns
    for run in corpus.runs:
        baseline = baselines.setdefault(run.workflow, WorkflowBaseline(run.workflow))
        start = clock()
        baseline.observe(run)
        costs.append((clock() - start) / 1000.0)
    costs.sort()
    series = max(len(b.series) for b in baselines.values())
    return statistics.median(costs), costs[int(0.99 * len(costs))], series


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller runs, no backtest")
    args = parser.parse_args()
    rate = score_series_rate(50_000 if args.quick else 500_000)
    print(
        f"score-series: {rate:,.0f} points/s per core (target >= {TARGET_POINTS_S:,}): "
        f"ratio {rate / TARGET_POINTS_S:.1f}"
    )
    p50, p99, series = update_costs()
    print(
        f"incremental update per execution: p50 {p50:.0f} µs, p99 {p99:.0f} µs "
        f"(largest workflow {series} series; target < {TARGET_UPDATE_US:.0f} µs): "
        f"ratio {p99 / TARGET_UPDATE_US:.2f}"
    )
    if args.quick:
        return
    report = run_backtest(progress=lambda m: print(f"  {m}", flush=True))
    for target in report.targets():
        verdict = "" if target.passed is None else "PASS" if target.passed else "FAIL"
        print(
            f"{verdict}  {target.name}: {target.actual} (target {target.goal}; {target.baseline})"
        )


if __name__ == "__main__":
    main()

"""Parallel seams: the first parallel call, the 2-worker speed-up, training under contention.

Three measurements of issue 13 (items 7 and 8), side by side in one run:

1. First parallel call: ``pairwise_distances(X, n_jobs=2)`` on 20 sequences of 50 points in a
   fresh process whose disk cache is warm (a previous process compiled the kernels): the
   workers must load the kernels from the cache, not compile them (target: under 1 s), and the
   second call for comparison.
2. 2-worker speed-up on 200 sequences of 256 points: joblib processes (``engine="joblib"``) and
   numba threads (``engine="numba"``), ``n_jobs=2`` against ``n_jobs=1`` (target: joblib at
   least 1.7x on an idle 2-core machine).
3. With ``--contention``: a torch aligner's fit time with two competing busy processes against
   the idle time (target: at most 1.5x).

Run ``python benchmarks/bench_parallel.py [--quick] [--contention]``; the load average is
printed at the start, since every ratio here depends on an idle machine.
"""

import argparse
import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    best_time,
    emit,
    environment_lines,
    format_seconds,
    random_walk,
    run_python,
    table,
)

_FIRST_CALL = """
import json, time
import numpy as np
rng = np.random.default_rng(0)
X = rng.standard_normal((20, 50))
import alignkit
start = time.perf_counter()
first = alignkit.pairwise_distances(X, n_jobs=2)
first_s = time.perf_counter() - start
start = time.perf_counter()
second = alignkit.pairwise_distances(X, n_jobs=2)
second_s = time.perf_counter() - start
reference = alignkit.pairwise_distances(X, n_jobs=1)
print(json.dumps({"first": first_s, "second": second_s,
                  "agree": bool(np.allclose(first, reference, rtol=1e-12, atol=0))}))
"""


def first_parallel_call(report):
    # Warm the disk cache (and joblib's worker start) in a process of its own first.
    run_python(_FIRST_CALL)
    result = run_python(_FIRST_CALL)
    emit(report, "### 1. First parallel call (fresh process, warm disk cache)")
    emit(report)
    emit(
        report,
        table(
            ["call", "time", "same as n_jobs=1"],
            [
                [
                    "first pairwise_distances(n_jobs=2), 20 x 50",
                    format_seconds(result["first"]),
                    result["agree"],
                ],
                ["second call", format_seconds(result["second"]), result["agree"]],
            ],
        ),
    )
    emit(report)
    emit(report, f"Target: first call under 1 s: {'met' if result['first'] < 1 else 'NOT met'}")
    emit(report)


def speedup(report, quick):
    import alignkit

    n_sequences, n_timepoints = (60, 128) if quick else (200, 256)
    X = [random_walk(n_timepoints, seed) for seed in range(n_sequences)]
    alignkit.pairwise_distances(X[:4], n_jobs=2)
    alignkit.pairwise_distances(X[:4], n_jobs=2, engine="numba")
    rows, ratios = [], {}
    for engine in ("joblib", "numba"):
        one = best_time(lambda e=engine: alignkit.pairwise_distances(X, n_jobs=1, engine=e), 3)
        two = best_time(lambda e=engine: alignkit.pairwise_distances(X, n_jobs=2, engine=e), 3)
        ratios[engine] = one / two
        rows.append([engine, format_seconds(one), format_seconds(two), f"{one / two:.2f}x"])
    emit(report, f"### 2. Speed-up of 2 workers, {n_sequences} x {n_timepoints}, full window")
    emit(report)
    emit(report, table(["engine", "n_jobs=1", "n_jobs=2", "speed-up"], rows))
    emit(report)
    met = ratios["joblib"] >= 1.7
    emit(report, f"Target: joblib speed-up >= 1.7x: {'met' if met else 'NOT met'}")
    emit(report)


def _busy(stop_at):
    while time.time() < stop_at:
        sum(i * i for i in range(10_000))


def _fit_seconds():
    from alignkit import DeepCTWAligner
    from alignkit.datasets import make_nonlinear_views

    pairs, _ = make_nonlinear_views(n_pairs=8, random_state=0)
    start = time.perf_counter()
    DeepCTWAligner(max_epochs=3, random_state=0).fit(pairs)
    return time.perf_counter() - start


def contention(report):
    idle = min(_fit_seconds() for _ in range(2))
    stop_at = time.time() + 10 * idle + 30
    busy = [multiprocessing.Process(target=_busy, args=(stop_at,)) for _ in range(2)]
    for process in busy:
        process.start()
    try:
        loaded = min(_fit_seconds() for _ in range(2))
    finally:
        for process in busy:
            process.terminate()
    emit(report, "### 3. DeepCTWAligner fit with two competing busy processes")
    emit(report)
    emit(
        report,
        table(
            ["idle", "two busy processes", "ratio"],
            [[format_seconds(idle), format_seconds(loaded), f"{loaded / idle:.2f}x"]],
        ),
    )
    emit(report)
    emit(report, f"Target: ratio <= 1.5x: {'met' if loaded / idle <= 1.5 else 'NOT met'}")
    emit(report)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--contention", action="store_true", help="also time torch training")
    args = parser.parse_args()
    report = []
    emit(report, "## Parallel seams")
    emit(report)
    for line in environment_lines():
        emit(report, line)
    emit(report)
    first_parallel_call(report)
    speedup(report, args.quick)
    if args.contention:
        contention(report)


if __name__ == "__main__":
    main()

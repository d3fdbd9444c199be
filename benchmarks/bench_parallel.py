"""Parallel seams: the first parallel call, the 2-worker speed-up, training under contention.

Three measurements of issue 13 (items 7 and 8), side by side in one run:

1. First parallel call: ``pairwise_distances(X, n_jobs=2)`` on 20 sequences of 50 points in a
   fresh process whose disk cache is warm (a previous process compiled the kernels): the
   workers must load the kernels from the cache, not compile them (target: under 1 s), and the
   second call for comparison.
2. 2-worker speed-up on 200 sequences of 256 points: joblib processes (``engine="joblib"``) and
   numba threads (``engine="numba"``), ``n_jobs=2`` against ``n_jobs=1`` (target: joblib at
   least 1.7x on an idle 2-core machine).
3. With ``--contention``: the fit time of two torch aligners (DeepCTW, soft attention) with two
   competing busy processes against the idle time, with ``n_threads=None`` (the default, which
   leaves the CPUs other processes use), with one thread (the fair-share bound: three busy tasks
   on two cores give 1.5x) and with the physical cores (torch's own default) (target: at most
   1.5x with the default). ``--contention-only`` runs this part alone.

Run ``python benchmarks/bench_parallel.py [--quick] [--contention | --contention-only]``; the
load average is printed at the start (and before each part of 3), since every ratio here
depends on an idle machine.
"""

import argparse
import multiprocessing
import os
import sys
import time

import numpy as np

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


def _busy(ready, stop_at):
    # A session of its own, as another user's job has: with the kernel's autogroup
    # scheduling, children in this session would share its one slice of CPU instead.
    os.setsid()
    ready.set()
    while time.time() < stop_at:
        sum(i * i for i in range(10_000))


def _torch_cases():
    """(name, estimator factory, fit data): a torch aligner of each kind of network."""
    from alignkit import DeepCTWAligner, SoftAttentionAligner
    from alignkit.datasets import make_nonlinear_views, make_warped_copy

    views, _ = make_nonlinear_views(n_pairs=8, random_state=0)
    copies, _ = make_warped_copy(n_pairs=32, n_timepoints=20, random_state=0)
    return [
        (
            "DeepCTWAligner, 8 pairs, 10 epochs",
            lambda n_threads: DeepCTWAligner(max_epochs=10, random_state=0, n_threads=n_threads),
            views,
        ),
        (
            "SoftAttentionAligner, 32 pairs of 20, 3 epochs",
            lambda n_threads: SoftAttentionAligner(
                max_epochs=3, random_state=0, n_threads=n_threads
            ),
            copies,
        ),
    ]


def _fit_times(settings, physical, label):
    """Best fit time of every case and ``n_threads`` setting, and the load average before.

    Best of 3; one fit with the physical cores, which can take minutes under contention.
    Each time also goes to standard error as it is measured.
    """
    load = os.getloadavg()
    times = {}
    for name, make, data in _torch_cases():
        make(1).fit(data)  # warm up: imports, numba kernels, torch's first allocations
        for n_threads in settings:
            best = np.inf
            for _ in range(1 if n_threads == physical else 3):
                start = time.perf_counter()
                make(n_threads).fit(data)
                best = min(best, time.perf_counter() - start)
            times[name, n_threads] = best
            print(f"{label}: {name}, n_threads={n_threads}: {best:.3f} s", file=sys.stderr)
    return times, load


def contention(report):
    import joblib

    from alignkit.estimators._torch_base import resolve_n_threads

    physical = joblib.cpu_count(only_physical_cores=True)
    # The default; one thread (the fair-share bound: 3 busy tasks on 2 cores give 1.5x); torch's
    # own default, the physical cores.
    settings = list(dict.fromkeys([None, 1, physical]))
    resolved_idle = resolve_n_threads(None)
    idle, idle_load = _fit_times(settings, physical, "idle")
    context = multiprocessing.get_context("fork")
    ready = [context.Event() for _ in range(2)]
    stop_at = time.time() + 600
    busy = [context.Process(target=_busy, args=(event, stop_at)) for event in ready]
    for process in busy:
        process.start()
    try:
        for event in ready:
            event.wait(30)
        resolved_busy = resolve_n_threads(None)
        loaded, loaded_load = _fit_times(settings, physical, "two busy")
    finally:
        for process in busy:
            process.terminate()
            process.join()
    emit(report, "### 3. Torch aligners' fit with two competing busy processes")
    emit(report)
    emit(
        report,
        f"Load average (1, 5, 15 min) before the idle runs: {_format_load(idle_load)}; before "
        f"the runs with two busy processes: {_format_load(loaded_load)}. {physical} physical "
        f"cores; n_threads=None resolved to {resolved_idle} before the idle runs and to "
        f"{resolved_busy} while the busy processes ran (each in a session of its own). Best of 3 "
        "fits, one with the physical cores.",
    )
    emit(report)
    rows = []
    for name, _, _ in _torch_cases():
        for n_threads in settings:
            ratio = loaded[name, n_threads] / idle[name, n_threads]
            rows.append(
                [
                    name,
                    _setting_name(n_threads, physical),
                    format_seconds(idle[name, n_threads]),
                    format_seconds(loaded[name, n_threads]),
                    f"{ratio:.2f}x",
                ]
            )
    emit(report, table(["fit", "n_threads", "idle", "two busy processes", "ratio"], rows))
    emit(report)
    worst = max(loaded[name, None] / idle[name, None] for name, _, _ in _torch_cases())
    emit(
        report, f"Target: ratio <= 1.5x with n_threads=None: {'met' if worst <= 1.5 else 'NOT met'}"
    )
    emit(report)


def _setting_name(n_threads, physical):
    if n_threads is None:
        return "None (default)"
    return f"{n_threads} (torch's default)" if n_threads == physical else str(n_threads)


def _format_load(load):
    return ", ".join(f"{value:.2f}" for value in load)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--contention", action="store_true", help="also time torch training")
    parser.add_argument("--contention-only", action="store_true", help="time torch training alone")
    args = parser.parse_args()
    report = []
    emit(report, "## Parallel seams")
    emit(report)
    for line in environment_lines():
        emit(report, line)
    emit(report)
    if not args.contention_only:
        first_parallel_call(report)
        speedup(report, args.quick)
    if args.contention or args.contention_only:
        contention(report)


if __name__ == "__main__":
    main()

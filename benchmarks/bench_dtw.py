"""Time alignkit's DTW against aeon, dtaidistance and tslearn on the same data, in one run.

Run ``.venv/bin/python benchmarks/bench_dtw.py [--quick] [--output FILE]``; see
benchmarks/README.md for what each case measures and how the ratios are computed.
"""

import argparse
import os
import sys
import tempfile
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_engine  # noqa: E402
from _common import (  # noqa: E402
    add_target,
    compare,
    emit,
    environment_lines,
    format_seconds,
    identity,
    load_average,
    not_installed,
    optional_import,
    peak_memory,
    random_walk,
    ratio_line,
    run_python,
    square,
    table,
    targets_table,
)

import alignkit  # noqa: E402
from alignkit.validation import window_bounds  # noqa: E402

# tslearn warns about its optional hdf5 support on import.
warnings.filterwarnings("ignore", message="h5py not installed")
# aeon's KNN passes uint64 indices to its numba kernel; unrelated to timing.
warnings.filterwarnings("ignore", message="unsafe cast from uint64 to int64")
aeon_distances = optional_import("aeon.distances")
dtai = optional_import("dtaidistance.dtw")
ts_metrics = optional_import("tslearn.metrics")

FULL = {"sizes": (1000, 4000), "window_n": 4000, "mem_n": 100_000}
QUICK = {"sizes": (300, 1000), "window_n": 1000, "mem_n": 20_000}
MAX_PEER_SECONDS = 60.0


def check_band(report, n_timepoints, radius):
    """Say whether alignkit's ``window=radius`` is exactly ``|i - j| <= radius`` (equal lengths).

    The peers' settings for that band are tslearn ``sakoe_chiba_radius=radius``,
    dtaidistance ``window=radius + 1`` and aeon ``window=radius / n``. alignkit's
    band is checked cell by cell rather than assumed; a mismatch also shows as ✗.
    """
    rows = np.arange(n_timepoints)
    lo, hi, _ = window_bounds(radius, n_timepoints, n_timepoints)
    if not (
        np.array_equal(lo, np.maximum(rows - radius, 0))
        and np.array_equal(hi, np.minimum(rows + radius + 1, n_timepoints))
    ):
        emit(report, f"WARNING: alignkit window={radius} is not the band |i - j| <= {radius}.")


def full_window_contenders(a, b):
    """``{name: (call, to_sum)}`` for a full-window distance between ``a`` and ``b``."""
    contenders = {"alignkit": (lambda: alignkit.dtw_distance(a, b, squared=True), identity)}
    if aeon_distances is not None:
        contenders["aeon"] = (lambda: aeon_distances.dtw_distance(a, b), identity)
    if dtai is not None:
        contenders["dtaidistance"] = (lambda: dtai.distance_fast(a, b, use_pruning=False), square)
        contenders["dtaidistance (pruning)"] = (lambda: dtai.distance_fast(a, b), square)
    if ts_metrics is not None:
        contenders["tslearn"] = (lambda: ts_metrics.dtw(a, b), square)
    return contenders


def fastest_peer_line(report, times):
    ratio_line(report, times, [("alignkit", "aeon")])
    peers = {name: t for name, t in times.items() if name != "alignkit" and t}
    if peers and times["alignkit"]:
        fastest = min(peers, key=peers.get)
        emit(
            report,
            f"- alignkit / fastest peer ({fastest}): {times['alignkit'] / peers[fastest]:.2f}",
        )


def case_full_window(report, sizes, targets):
    emit(report, "\n## 1. DTW distance, full window\n")
    not_installed(
        report, [("aeon", aeon_distances), ("dtaidistance", dtai), ("tslearn", ts_metrics)]
    )
    all_times = {}
    for n in sizes:
        contenders = full_window_contenders(random_walk(n, seed=1), random_walk(n, seed=2))
        emit(report, f"\n### n = m = {n} ({n * n:,} cells)\n")
        times = all_times[n] = compare(report, contenders, n * n)
        emit(report, "")
        fastest_peer_line(report, times)
        add_target(
            targets,
            f"distance, full window, n = {n}: <= 0.5x aeon",
            times["alignkit"] / times["aeon"] if times.get("aeon") and times["alignkit"] else None,
            0.5,
            f"{times['alignkit'] / n**2 * 1e9:.2f} ns/cell" if times["alignkit"] else "",
        )
    largest = max(sizes)
    add_target(
        targets,
        f"moonshot: 1 ns per cell (full window, n = {largest})",
        all_times[largest]["alignkit"] and all_times[largest]["alignkit"] / largest**2 * 1e9,
        1.0,
        "ns/cell",
    )
    return all_times


def case_window(report, n):
    radius = n // 10
    emit(report, f"\n## 2. DTW distance, Sakoe-Chiba band |i - j| <= {radius} (10%), n = m = {n}\n")
    a, b = random_walk(n, seed=3), random_walk(n, seed=4)
    check_band(report, n, radius)
    emit(
        report,
        f"Settings for the same cells: alignkit window={radius}, tslearn "
        f"sakoe_chiba_radius={radius}, dtaidistance window={radius + 1}, "
        f"aeon window={radius}/{n}.",
    )
    contenders = {
        "alignkit": (lambda: alignkit.dtw_distance(a, b, window=radius, squared=True), identity)
    }
    if aeon_distances is not None:
        contenders["aeon"] = (
            lambda: aeon_distances.dtw_distance(a, b, window=radius / n),
            identity,
        )
    if dtai is not None:
        contenders["dtaidistance"] = (
            lambda: dtai.distance_fast(a, b, window=radius + 1, use_pruning=False),
            square,
        )
    if ts_metrics is not None:
        contenders["tslearn"] = (
            lambda: ts_metrics.dtw(
                a, b, global_constraint="sakoe_chiba", sakoe_chiba_radius=radius
            ),
            square,
        )
    cells = n * (2 * radius + 1) - radius * (radius + 1)
    emit(report, f"\n{cells:,} cells in the band\n")
    emit(report, "")
    fastest_peer_line(report, compare(report, contenders, cells))


COLD_START = """
import json, sys, time
start = time.perf_counter()
import numpy as np
{imports}
imported = time.perf_counter()
a = np.cumsum(np.random.default_rng(0).standard_normal(300))
b = np.cumsum(np.random.default_rng(1).standard_normal(250))
{call}
done = time.perf_counter()
print(json.dumps({{"import": imported - start, "call": done - imported}}))
"""

# The least any numba library can cost: one trivial cache=True function.
FLOOR_MODULE = """
from numba import njit


@njit(cache=True)
def total(values):
    result = 0.0
    for value in values:
        result += value
    return result
"""

COLD_CALLS = {
    "alignkit.dtw_distance": ("import alignkit", "alignkit.dtw_distance(a, b)"),
    "alignkit.dtw (path)": ("import alignkit", "alignkit.dtw(a, b)"),
    "aeon dtw_distance": ("from aeon.distances import dtw_distance", "dtw_distance(a, b)"),
    "numba floor (trivial cached function)": (
        "sys.path.insert(0, {cache!r})\nimport _floor",
        "_floor.total(a)",
    ),
}


def cold_runs(imports, call, n_runs):
    """Import and first-call times of ``n_runs`` fresh processes sharing one new cache."""
    with tempfile.TemporaryDirectory() as cache:
        with open(os.path.join(cache, "_floor.py"), "w") as module:
            module.write(FLOOR_MODULE)
        code = COLD_START.format(imports=imports.format(cache=cache), call=call)
        return [run_python(code, env={"NUMBA_CACHE_DIR": cache}) for _ in range(n_runs)]


def case_cold_start(report, quick, targets):
    emit(report, "\n## 7. First call in a new process (imports + first call, timed inside it)\n")
    emit(
        report,
        "Each row uses its own empty NUMBA_CACHE_DIR: run 1 compiles and fills it, "
        "later runs load from it. 'import' includes numpy. Target for "
        "alignkit.dtw_distance: run 2 under 0.5 s.\n",
    )
    rows, best, run2 = [], {}, {}
    for name, (imports, call) in COLD_CALLS.items():
        if name.startswith("aeon") and aeon_distances is None:
            continue
        if quick and not name.startswith(("alignkit.dtw_distance", "numba floor")):
            continue
        runs = cold_runs(imports, call, 3 if quick else 7)
        warm = [run["import"] + run["call"] for run in runs[1:]]
        best[name], run2[name] = min(warm), warm[0]
        rows.append(
            [
                name,
                format_seconds(runs[0]["import"] + runs[0]["call"]),
                format_seconds(runs[1]["import"]),
                format_seconds(runs[1]["call"]),
                format_seconds(warm[0]),
                format_seconds(best[name]),
                "✓" if warm[0] < 0.5 else "✗",
            ]
        )
    floor_name = next(name for name in best if name.startswith("numba floor"))
    floor = best[floor_name]
    for row in rows:
        row.append(format_seconds(best[row[0]] - floor))
    emit(
        report,
        table(
            [
                "call",
                "run 1 (empty cache)",
                "run 2 import",
                "run 2 first call",
                "run 2 total",
                f"best of runs 2-{len(runs)}",
                "run 2 < 0.5 s",
                "best minus floor",
            ],
            rows,
        ),
    )
    add_target(
        targets,
        "(foundation issue) import + first call in a new process, warm cache: < 0.5 s",
        run2["alignkit.dtw_distance"],
        0.5,
        f"s (run 2); the numba floor's run 2: {run2[floor_name]:.2f} s",
    )


def memory_setups(n, radius):
    """``{(library, window): setup code defining run(a, b)}`` for the memory case."""
    setups = {
        ("alignkit", "1%"): "import alignkit\n"
        f"run = lambda a, b: alignkit.dtw_distance(a, b, window={radius}, squared=True)",
        ("alignkit", "full"): "import alignkit\n"
        "run = lambda a, b: alignkit.dtw_distance(a, b, squared=True)",
    }
    if aeon_distances is not None:
        setups[("aeon", "1%")] = (
            "from aeon.distances import dtw_distance\n"
            f"run = lambda a, b: dtw_distance(a, b, window={radius / n!r})"
        )
        setups[("aeon", "full")] = (
            "from aeon.distances import dtw_distance\nrun = lambda a, b: dtw_distance(a, b)"
        )
    if dtai is not None:
        setups[("dtaidistance", "1%")] = (
            "from dtaidistance import dtw\n"
            f"run = lambda a, b: dtw.distance_fast(a, b, window={radius} + 1, "
            "use_pruning=False) ** 2"
        )
        setups[("dtaidistance", "full")] = (
            "from dtaidistance import dtw\n"
            "run = lambda a, b: dtw.distance_fast(a, b, use_pruning=False) ** 2"
        )
    return setups


def case_memory(report, n, full_times, targets):
    radius = n // 100
    emit(report, f"\n## 8. Peak memory of distance-only DTW, n = m = {n:,}\n")
    check_band(report, n, radius)
    emit(
        report,
        f"Band: |i - j| <= {radius} (1%). Peak resident memory growth during the "
        "call, in a fresh process, after inputs exist and code is compiled.\n",
    )
    largest = max(full_times)
    per_cell = {name: t / largest**2 for name, t in full_times[largest].items() if t}
    rows, growth = [], {}
    for (library, window), setup in memory_setups(n, radius).items():
        cells = n * n if window == "full" else n * (2 * radius + 1)
        estimate = per_cell.get(library, 0.0) * cells
        if library != "alignkit" and estimate > MAX_PEER_SECONDS:
            rows.append([library, window, f"skipped: about {estimate:.0f} s expected", "-", "-"])
            continue
        result = peak_memory(setup, n)
        if library == "alignkit":
            growth[window] = result["mib"]
        rows.append(
            [
                library,
                window,
                f"{result['mib']:.1f}",
                format_seconds(result["seconds"]),
                f"{result['value']:.6g}",
            ]
        )
    rows.append(
        [
            "tslearn",
            "both",
            f"skipped: allocates the full {n}x{n} matrix ({n * n * 8 / 2**30:.0f} GiB)",
            "-",
            "-",
        ]
    )
    emit(report, table(["library", "window", "peak growth (MiB)", "time", "summed cost"], rows))
    emit(
        report,
        f"\nMeasured by {result['method']}; the inputs themselves are {2 * n * 8 / 2**20:.1f} MiB.",
    )
    add_target(
        targets,
        f"distance-only DTW n = {n:,}: adds < 10 MB",
        max(growth.values()) * 2**20 / 1e6,
        10.0,
        "MB, the larger of the 1% band and the full window",
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--output", help="also write the Markdown report to this file")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    report, targets = [], []
    started = time.perf_counter()
    emit(report, "# alignkit DTW benchmark" + (" (--quick)" if args.quick else ""))
    emit(report, "\n" + "\n".join(environment_lines()))
    full_times = case_full_window(report, settings["sizes"], targets)
    case_window(report, settings["window_n"])
    bench_engine.run_cases(report, args.quick, targets)
    case_cold_start(report, args.quick, targets)
    case_memory(report, settings["mem_n"], full_times, targets)
    bench_engine.run_cases(report, args.quick, targets, later=True)
    emit(report, "\n## Targets (measured <= limit: met)\n\n" + targets_table(targets))
    emit(report, f"\nLoad average at end: {load_average()}")
    emit(report, f"Total benchmark time: {time.perf_counter() - started:.0f} s")
    if args.output:
        with open(args.output, "w") as handle:
            handle.write("\n".join(report) + "\n")


if __name__ == "__main__":
    main()

"""Time alignkit's DTW against aeon, dtaidistance and tslearn on the same data, in one run.

Run ``.venv/bin/python benchmarks/bench_dtw.py [--quick] [--output FILE]``; see
benchmarks/README.md for what each case measures and how the ratios are computed.
"""

import argparse
import math
import os
import sys
import tempfile
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    best_time,
    environment_lines,
    first_call,
    format_seconds,
    optional_import,
    random_walk,
    run_python,
    table,
)

import alignkit  # noqa: E402
from alignkit.validation import check_window  # noqa: E402

# tslearn warns about its optional hdf5 support on import.
warnings.filterwarnings("ignore", message="h5py not installed")
# aeon's KNN passes uint64 indices to its numba kernel; unrelated to timing.
warnings.filterwarnings("ignore", message="unsafe cast from uint64 to int64")
aeon_distances = optional_import("aeon.distances")
dtai = optional_import("dtaidistance.dtw")
ts_metrics = optional_import("tslearn.metrics")

FULL = {"sizes": (1000, 4000), "window_n": 4000, "path_n": 2000, "knn_test": None, "mem_n": 100_000}
QUICK = {"sizes": (300, 1000), "window_n": 1000, "path_n": 500, "knn_test": 30, "mem_n": 20_000}
MAX_PEER_SECONDS = 60.0
REL_TOL = 1e-9


def emit(report, text=""):
    print(text, flush=True)
    report.append(text)


def not_installed(report, names):
    for name, module in names:
        if module is None:
            emit(report, f"- {name}: not installed, skipped")


def check_band(report, n_timepoints, radius):
    """Say whether alignkit's ``window=radius`` is exactly ``|i - j| <= radius`` (equal lengths).

    The peers' settings for that band are tslearn ``sakoe_chiba_radius=radius``,
    dtaidistance ``window=radius + 1`` and aeon ``window=radius / n``. alignkit's
    band is checked cell by cell rather than assumed; a mismatch also shows as ✗.
    """
    rows = np.arange(n_timepoints)
    lo, hi, _ = check_window(radius).bounds(n_timepoints, n_timepoints)
    if not (
        np.array_equal(lo, np.maximum(rows - radius, 0))
        and np.array_equal(hi, np.minimum(rows + radius + 1, n_timepoints))
    ):
        emit(report, f"WARNING: alignkit window={radius} is not the band |i - j| <= {radius}.")


def compare(report, contenders, cells, reference="alignkit"):
    """Check every value against alignkit's, then time the ones that agree.

    ``contenders`` maps a name to ``(func, to_sum)`` where ``to_sum`` turns the
    returned value into the summed squared cost. Returns ``{name: best seconds}``.
    """
    rows, times = [], {}
    ref_value = None
    for name, (func, to_sum) in contenders.items():
        value, first = first_call(func)
        value = to_sum(value)
        if name == reference:
            ref_value = value
        agrees = math.isclose(value, ref_value, rel_tol=REL_TOL)
        best = best_time(func) if agrees else None
        times[name] = best
        rows.append([name, f"{value:.6f}", "✓" if agrees else "✗ (not timed)", best, first])
    base = times[reference]
    out = []
    for name, value, check, best, first in rows:
        ratio = "-" if best is None or name == reference else f"{best / base:.2f}"
        per_cell = "-" if best is None else f"{best / cells * 1e9:.3f}"
        out.append(
            [name, value, check, format_seconds(best), per_cell, ratio, format_seconds(first)]
        )
    headers = [
        "library",
        "summed cost",
        "agrees",
        "best time",
        "ns/cell",
        "peer/alignkit",
        "first call",
    ]
    emit(report, table(headers, out))
    peers = {k: v for k, v in times.items() if k != reference and v is not None}
    if peers:
        fastest = min(peers, key=peers.get)
        emit(report, f"\nalignkit / fastest peer ({fastest}): {base / peers[fastest]:.2f}")
    return times


def square(value):
    return value * value


def identity(value):
    return value


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


def case_full_window(report, sizes):
    emit(report, "\n## 1. DTW distance, full window\n")
    not_installed(
        report, [("aeon", aeon_distances), ("dtaidistance", dtai), ("tslearn", ts_metrics)]
    )
    all_times = {}
    for n in sizes:
        contenders = full_window_contenders(random_walk(n, seed=1), random_walk(n, seed=2))
        emit(report, f"\n### n = m = {n} ({n * n:,} cells)\n")
        all_times[n] = compare(report, contenders, n * n)
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
    compare(report, contenders, cells)


def path_cost(a, b, path):
    path = np.asarray(path, dtype=np.int64)
    return float(np.sum((a[path[:, 0]] - b[path[:, 1]]) ** 2))


def case_path(report, n):
    emit(report, f"\n## 3. Warping path, full window, n = m = {n}\n")
    emit(report, "'summed cost' is the cost of the returned path, recomputed here.\n")
    a, b = random_walk(n, seed=5), random_walk(n, seed=6)
    contenders = {"alignkit": (lambda: alignkit.dtw(a, b).path, lambda p: path_cost(a, b, p))}
    if aeon_distances is not None:
        contenders["aeon"] = (
            lambda: aeon_distances.dtw_alignment_path(a, b)[0],
            lambda p: path_cost(a, b, p),
        )
    if dtai is not None:
        contenders["dtaidistance"] = (
            lambda: dtai.warping_path_fast(a, b),
            lambda p: path_cost(a, b, p),
        )
    if ts_metrics is not None:
        contenders["tslearn"] = (lambda: ts_metrics.dtw_path(a, b)[0], lambda p: path_cost(a, b, p))
    compare(report, contenders, n * n)
    reference = alignkit.dtw(a, b).path
    same = [
        name
        for name, (func, _) in contenders.items()
        if np.array_equal(np.asarray(func(), dtype=np.int64), reference)
    ]
    emit(report, f"\nIdentical paths to alignkit's: {', '.join(same)}")


def alignkit_1nn(train, train_labels, test):
    predictions = []
    for sequence in test:
        costs = [alignkit.dtw_distance(sequence, other, squared=True) for other in train]
        predictions.append(train_labels[int(np.argmin(costs))])
    return np.asarray(predictions)


def case_knn(report, n_test):
    emit(report, "\n## 4. 1-NN classification on GunPoint, full-window DTW\n")
    datasets = optional_import("aeon.datasets")
    if datasets is None:
        emit(report, "aeon not installed (it bundles GunPoint): skipped")
        return
    x_train, y_train = datasets.load_gunpoint(split="train")
    x_test, y_test = datasets.load_gunpoint(split="test")
    x_test, y_test = x_test[:n_test], y_test[:n_test]
    train, test = x_train[:, 0, :], x_test[:, 0, :]
    emit(report, f"{len(train)} train x {len(test)} test series of length {train.shape[1]}\n")
    contenders = {"alignkit (dtw_distance loop)": lambda: alignkit_1nn(train, y_train, test)}
    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier as AeonKNN

    contenders["aeon KNeighborsTimeSeriesClassifier"] = lambda: (
        AeonKNN(distance="dtw").fit(x_train, y_train).predict(x_test)
    )
    neighbors = optional_import("tslearn.neighbors")
    if neighbors is not None:
        contenders["tslearn KNeighborsTimeSeriesClassifier"] = lambda: (
            neighbors.KNeighborsTimeSeriesClassifier(n_neighbors=1, metric="dtw")
            .fit(train[:, :, None], y_train)
            .predict(test[:, :, None])
        )
    rows, reference, base = [], None, None
    for name, func in contenders.items():
        predictions = func()
        reference = predictions if reference is None else reference
        same = np.array_equal(predictions, reference)
        best = best_time(func, repeat=3)
        base = best if base is None else base
        rows.append(
            [
                name,
                f"{np.mean(predictions == y_test):.4f}",
                "✓" if same else "✗",
                format_seconds(best),
                f"{best / base:.2f}",
            ]
        )
    emit(
        report,
        table(["classifier", "accuracy", "same predictions", "best time", "time / alignkit"], rows),
    )
    tiny_a, tiny_b = train[0, :2].copy(), train[1, :2].copy()
    fixed = best_time(lambda: alignkit.dtw_distance(tiny_a, tiny_b, squared=True))
    line = (
        f"\nFixed per-call cost (two 2-point series): alignkit.dtw_distance {format_seconds(fixed)}"
    )
    if aeon_distances is not None:
        aeon_fixed = best_time(lambda: aeon_distances.dtw_distance(tiny_a, tiny_b))
        line += f", aeon dtw_distance {format_seconds(aeon_fixed)}"
    emit(report, line + f"; the loop above makes {len(train) * len(test):,} calls.")


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


def case_cold_start(report, quick):
    emit(report, "\n## 5. First call in a new process (imports + first call, timed inside it)\n")
    emit(
        report,
        "Each row uses its own empty NUMBA_CACHE_DIR: run 1 compiles and fills it, "
        "later runs load from it. 'import' includes numpy. Target for "
        "alignkit.dtw_distance: run 2 under 0.5 s.\n",
    )
    rows, best = [], {}
    for name, (imports, call) in COLD_CALLS.items():
        if name.startswith("aeon") and aeon_distances is None:
            continue
        if quick and not name.startswith(("alignkit.dtw_distance", "numba floor")):
            continue
        runs = cold_runs(imports, call, 3 if quick else 7)
        warm = [run["import"] + run["call"] for run in runs[1:]]
        best[name] = min(warm)
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
    floor = best[next(name for name in best if name.startswith("numba floor"))]
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


MEMORY = """
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {here!r})
import numpy as np
from _common import random_walk
{setup}
a, b = random_walk({n}, seed=7), random_walk({n}, seed=8)
small_a, small_b = random_walk(50, seed=7), random_walk(50, seed=8)
run(small_a, small_b)  # compile or load numba code outside the measurement

def rss_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])

try:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset the peak RSS (VmHWM) to the current RSS
    method = "VmHWM after clear_refs"
except OSError:
    method = "ru_maxrss"
before = rss_kib("VmRSS:")
start = time.perf_counter()
value = run(a, b)
seconds = time.perf_counter() - start
peak = rss_kib("VmHWM:") if method != "ru_maxrss" else resource.getrusage(
    resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"mib": (peak - before) / 1024, "seconds": seconds, "method": method,
                   "value": float(value)}}))
"""


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


def case_memory(report, n, full_times):
    radius = n // 100
    emit(report, f"\n## 6. Peak memory of distance-only DTW, n = m = {n:,}\n")
    check_band(report, n, radius)
    emit(
        report,
        f"Band: |i - j| <= {radius} (1%). Peak resident memory growth during the "
        "call, in a fresh process, after inputs exist and code is compiled.\n",
    )
    largest = max(full_times)
    per_cell = {name: t / largest**2 for name, t in full_times[largest].items() if t}
    rows = []
    for (library, window), setup in memory_setups(n, radius).items():
        cells = n * n if window == "full" else n * (2 * radius + 1)
        estimate = per_cell.get(library, 0.0) * cells
        if library != "alignkit" and estimate > MAX_PEER_SECONDS:
            rows.append([library, window, f"skipped: about {estimate:.0f} s expected", "-", "-"])
            continue
        code = MEMORY.format(here=os.path.dirname(os.path.abspath(__file__)), setup=setup, n=n)
        result = run_python(code)
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--output", help="also write the Markdown report to this file")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    report = []
    started = time.perf_counter()
    emit(report, "# alignkit DTW benchmark" + (" (--quick)" if args.quick else ""))
    emit(report, "\n" + "\n".join(environment_lines()))
    full_times = case_full_window(report, settings["sizes"])
    case_window(report, settings["window_n"])
    case_path(report, settings["path_n"])
    case_knn(report, settings["knn_test"])
    case_cold_start(report, args.quick)
    case_memory(report, settings["mem_n"], full_times)
    emit(report, f"\nTotal benchmark time: {time.perf_counter() - started:.0f} s")
    if args.output:
        with open(args.output, "w") as handle:
            handle.write("\n".join(report) + "\n")


if __name__ == "__main__":
    main()

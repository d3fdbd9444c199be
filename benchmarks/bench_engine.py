"""Cases of the DTW engine beyond one distance: path, 1-NN, pairwise, soft-DTW, path memory.

``bench_dtw.py`` runs these cases with its own in one report; run
``.venv/bin/python benchmarks/bench_engine.py [--quick]`` for these alone. See
benchmarks/README.md for what each case measures.
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    add_target,
    best_time,
    compare,
    emit,
    environment_lines,
    first_call,
    format_seconds,
    identity,
    load_average,
    not_installed,
    optional_import,
    path_cost,
    peak_memory,
    random_walk,
    ratio_line,
    table,
    targets_table,
)

import alignkit  # noqa: E402

warnings.filterwarnings("ignore", message="h5py not installed")
warnings.filterwarnings("ignore", message="unsafe cast from uint64 to int64")
aeon_distances = optional_import("aeon.distances")
dtai = optional_import("dtaidistance.dtw")
ts_metrics = optional_import("tslearn.metrics")
ts_soft = optional_import("tslearn.metrics.softdtw_variants")

FULL = {
    "path_n": 4000,
    "knn_test": None,
    "pairwise": (200, 256),
    "soft_n": 1000,
    "path_mem": 50_000,
}
QUICK = {"path_n": 1000, "knn_test": 30, "pairwise": (40, 128), "soft_n": 300, "path_mem": 10_000}


def case_path(report, n, targets):
    emit(report, f"\n## 3. Warping path, full window, n = m = {n}\n")
    emit(
        report,
        "'summed cost' is the cost of the returned path, recomputed here. "
        "'time / reference' is relative to alignkit method='matrix', which "
        f"method='auto' picks at this size ({8 * n * n / 2**20:.0f} MiB of matrix).\n",
    )
    not_installed(report, [("aeon", aeon_distances), ("dtaidistance", dtai)])
    a, b = random_walk(n, seed=5), random_walk(n, seed=6)
    cost = lambda path: path_cost(a, b, path)  # noqa: E731
    contenders = {
        "alignkit matrix": (lambda: alignkit.dtw(a, b, method="matrix").path, cost),
        "alignkit linear": (lambda: alignkit.dtw(a, b, method="linear").path, cost),
    }
    if aeon_distances is not None:
        contenders["aeon"] = (lambda: aeon_distances.dtw_alignment_path(a, b)[0], cost)
    if dtai is not None:
        contenders["dtaidistance"] = (lambda: dtai.warping_path_fast(a, b), cost)
    if ts_metrics is not None:
        contenders["tslearn"] = (lambda: ts_metrics.dtw_path(a, b)[0], cost)
    times = compare(report, contenders, n * n, reference="alignkit matrix")
    emit(report, "")
    ratio_line(
        report,
        times,
        [(m, p) for m in ("alignkit matrix", "alignkit linear") for p in ("aeon", "dtaidistance")],
    )
    reference = alignkit.dtw(a, b, method="matrix").path
    same = [
        name
        for name, (func, _) in contenders.items()
        if np.array_equal(np.asarray(func(), dtype=np.int64), reference)
    ]
    emit(report, f"\nIdentical paths to alignkit matrix's: {', '.join(same)}")
    peers = [times.get(name) for name in ("aeon", "dtaidistance")]
    for method in ("matrix", "linear"):
        ours = times.get(f"alignkit {method}")
        add_target(
            targets,
            f"warping path n = {n}, method={method!r}: <= 0.5x aeon and dtaidistance",
            max(ours / peer for peer in peers) if ours and all(peers) else None,
            0.5,
            "time / the faster of the two" + (" (auto's choice)" if method == "matrix" else ""),
        )


def gunpoint(n_test):
    datasets = optional_import("aeon.datasets")
    if datasets is None:
        return None
    x_train, y_train = datasets.load_gunpoint(split="train")
    x_test, y_test = datasets.load_gunpoint(split="test")
    return x_train, y_train, x_test[:n_test], y_test[:n_test]


def case_knn(report, n_test, targets):
    emit(report, "\n## 4. 1-NN classification on GunPoint, full-window DTW (fit + predict)\n")
    data = gunpoint(n_test)
    if data is None:
        emit(report, "aeon not installed (it bundles GunPoint): skipped")
        return
    x_train, y_train, x_test, y_test = data
    # aeon's layout is (n_cases, n_channels, n_timepoints); alignkit and tslearn
    # read a 2-D array as univariate rows.
    train, test = x_train[:, 0, :], x_test[:, 0, :]
    emit(report, f"{len(train)} train x {len(test)} test series of length {train.shape[1]}\n")
    pruned = alignkit.KNeighborsDTWClassifier()
    full = alignkit.KNeighborsDTWClassifier(lower_bounds=False)
    contenders = {
        "alignkit KNeighborsDTWClassifier": lambda: pruned.fit(train, y_train).predict(test),
        "alignkit, lower_bounds=False": lambda: full.fit(train, y_train).predict(test),
    }
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
    rows, times, reference = [], {}, None
    for name, func in contenders.items():
        predictions, first = first_call(func)
        reference = predictions if reference is None else reference
        same = np.array_equal(predictions, reference)
        times[name] = best_time(func, repeat=3)
        rows.append(
            [
                name,
                f"{np.mean(predictions == y_test):.4f}",
                "✓" if same else "✗",
                format_seconds(times[name]),
                f"{times[name] / times['alignkit KNeighborsDTWClassifier']:.2f}",
                format_seconds(first),
            ]
        )
    headers = ["classifier", "accuracy", "same predictions", "best time", "time / alignkit"]
    emit(report, table([*headers, "first call"], rows))
    stats = pruned.kneighbors(test, return_distance=False, return_stats=True)[1]
    emit(
        report,
        f"\nalignkit pruning over {stats['n_pairs']:,} pairs: {stats['lb_kim']:.1%} pruned by "
        f"LB_Kim, {stats['lb_keogh']:.1%} by LB_Keogh, {stats['early_abandon']:.1%} abandoned "
        f"early; {stats['cells']:.1%} of the DP cells computed, **{1 - stats['cells']:.1%} "
        "pruned**.\n",
    )
    aeon_name = "aeon KNeighborsTimeSeriesClassifier"
    ratio_line(report, times, [("alignkit KNeighborsDTWClassifier", aeon_name)])
    identical = all(row[2] == "✓" for row in rows)
    add_target(
        targets,
        f"1-NN GunPoint ({len(test)} test): <= 0.25x aeon, identical predictions",
        times["alignkit KNeighborsDTWClassifier"] / times[aeon_name] if identical else None,
        0.25,
        f"{1 - stats['cells']:.1%} of DP cells pruned; "
        + ("identical predictions" if identical else "predictions DIFFER"),
    )


def case_pairwise(report, size, targets):
    count, length = size
    emit(report, f"\n## 5. Pairwise distances, {count} x {length} random walks, full window\n")
    not_installed(report, [("dtaidistance", dtai)])
    X = np.stack([random_walk(length, seed=100 + k) for k in range(count)])
    pairs = count * (count - 1) // 2
    emit(
        report,
        f"Distances with the square root (dtaidistance's convention); {pairs:,} pairs of the "
        f"upper triangle, {pairs * length * length:,} cells. Load average at start: "
        f"{load_average()}.\n",
    )
    contenders = {
        "alignkit n_jobs=1": lambda: alignkit.pairwise_distances(X, n_jobs=1),
        "alignkit n_jobs=2": lambda: alignkit.pairwise_distances(X, n_jobs=2),
        "alignkit n_jobs=1 engine='numba'": lambda: alignkit.pairwise_distances(
            X, n_jobs=1, engine="numba"
        ),
        "alignkit n_jobs=2 engine='numba'": lambda: alignkit.pairwise_distances(
            X, n_jobs=2, engine="numba"
        ),
    }
    if dtai is not None:
        contenders["dtaidistance parallel=True"] = lambda: dtai.distance_matrix_fast(
            X, parallel=True
        )
    times = compare(
        report,
        {name: (func, identity) for name, func in contenders.items()},
        pairs * length * length,
        reference="alignkit n_jobs=1",
        label="sum of the matrix",
    )
    emit(report, f"\nLoad average at end: {load_average()}.\n")
    dtai_name = "dtaidistance parallel=True"
    speedups = [
        (name, name.replace("n_jobs=2", "n_jobs=1")) for name in times if "n_jobs=2" in name
    ]
    ratio_line(
        report,
        times,
        [(name, dtai_name) for name in contenders if name.startswith("alignkit")]
        + [(one, two) for two, one in speedups],
    )
    best_two = min((t for name, t in times.items() if "n_jobs=2" in name and t), default=None)
    add_target(
        targets,
        f"pairwise {count} x {length}: <= 0.5x dtaidistance distance_matrix_fast(parallel=True)",
        best_two / times[dtai_name] if best_two and times.get(dtai_name) else None,
        0.5,
        "alignkit with 2 workers, the faster engine",
    )
    for two, one in speedups:
        if times[two] and times[one]:
            engine = "numba threads" if "numba" in two else "joblib processes"
            add_target(
                targets,
                f"pairwise: 2 workers >= 1.7x faster than 1 ({engine}), idle machine",
                times[one] / times[two],
                1.7,
                "speed-up; the machine was not idle (load average in case 5)",
                at_least=True,
            )


def tslearn_soft_grad(a, b):
    """tslearn's soft-DTW value and gradient in ``a``, as its soft-DTW barycenter computes them."""
    cost = ts_soft.SquaredEuclidean(a, b)
    soft = ts_soft.SoftDTW(cost.compute(), gamma=1.0)
    value = soft.compute()
    return value, cost.jacobian_product(soft.grad())


def case_soft(report, n, targets):
    emit(report, f"\n## 6. Soft-DTW value and gradient, gamma = 1, n = m = {n}\n")
    if ts_soft is None:
        emit(report, "tslearn not installed: skipped")
        return
    emit(
        report,
        "tslearn's gradient is the chain its soft-DTW barycenter uses: `SoftDTW(D).grad()` "
        "(the expected alignment) times the Jacobian of `SquaredEuclidean`. The gradient "
        "arrays are compared too.\n",
    )
    a, b = random_walk(n, seed=11), random_walk(n, seed=12)
    value = {
        "alignkit": (lambda: alignkit.soft_dtw(a, b, gamma=1.0), identity),
        "tslearn": (lambda: ts_metrics.soft_dtw(a, b, gamma=1.0), identity),
    }
    emit(report, "### value\n")
    value_times = compare(report, value, n * n, label="value")
    grad = {
        "alignkit": (lambda: alignkit.soft_dtw_grad(a, b, gamma=1.0), tuple),
        "tslearn": (lambda: tslearn_soft_grad(a, b), tuple),
    }
    emit(report, "\n### value and gradient\n")
    grad_times = compare(report, grad, n * n, label="value")
    for what, times in (("value", value_times), ("gradient", grad_times)):
        add_target(
            targets,
            f"soft-DTW {what}, n = {n}: <= 0.5x tslearn",
            times["alignkit"] / times["tslearn"] if times.get("tslearn") else None,
            0.5,
        )


PATH_SETUP = """
import alignkit
run = lambda a, b: alignkit.dtw(a, b)  # method="auto"
warm = lambda a, b: alignkit.dtw(a, b, method="linear")

def summarise(a, b, alignment):
    path = alignment.path
    cost = float(((a[path[:, 0]] - b[path[:, 1]]) ** 2).sum())
    return {"path_cost": cost, "distance": alignkit.dtw_distance(a, b, squared=True),
            "length": len(path)}
"""


def case_path_memory(report, n, targets):
    emit(report, f"\n## 9. Peak memory of an exact warping path, n = m = {n:,}\n")
    emit(
        report,
        f"`alignkit.dtw(a, b)` with method='auto': a matrix would need "
        f"{8 * n * n / 2**30:.1f} GiB, so it takes the linear-memory path. Fresh process; "
        "the peers allocate the full matrix and are not run.\n",
    )
    result = peak_memory(PATH_SETUP, n)
    exact = np.isclose(result["path_cost"], result["distance"], rtol=1e-9, atol=0)
    emit(
        report,
        table(
            ["call", "peak process RSS (MiB)", "growth (MiB)", "time", "path cost = distance"],
            [
                [
                    "alignkit.dtw",
                    f"{result['peak_mib']:.1f}",
                    f"{result['mib']:.1f}",
                    format_seconds(result["seconds"]),
                    f"{'✓' if exact else '✗'} ({result['path_cost']:.6g})",
                ]
            ],
        ),
    )
    emit(report, f"\nMeasured by {result['method']}; path of {result['length']:,} steps.")
    add_target(
        targets,
        f"exact path n = {n:,}: completes in < 1 GB",
        result["peak_mib"] / 1024 if exact else None,
        1.0,
        f"peak process RSS in GiB; {result['mib']:.0f} MiB added by the call, "
        f"{result['seconds']:.1f} s",
    )


def run_cases(report, quick, targets, later=False):
    """Cases 3-6 (``later=False``) or case 9 (``later=True``) at full or quick sizes."""
    settings = QUICK if quick else FULL
    if later:
        case_path_memory(report, settings["path_mem"], targets)
        return
    case_path(report, settings["path_n"], targets)
    case_knn(report, settings["knn_test"], targets)
    case_pairwise(report, settings["pairwise"], targets)
    case_soft(report, settings["soft_n"], targets)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    args = parser.parse_args(argv)
    report, targets = [], []
    started = time.perf_counter()
    emit(report, "# alignkit DTW engine benchmark" + (" (--quick)" if args.quick else ""))
    emit(report, "\n" + "\n".join(environment_lines()))
    run_cases(report, args.quick, targets)
    run_cases(report, args.quick, targets, later=True)
    emit(report, "\n## Targets\n\n" + targets_table(targets))
    emit(report, f"\nTotal benchmark time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

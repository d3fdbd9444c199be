"""Time alignkit's clustering against tslearn's and aeon's on bundled UCR sets, in one run.

Run ``.venv/bin/python benchmarks/bench_clustering.py [--quick] [--max-iter N]``.

Data: aeon's bundled GunPoint and ArrowHead (train and test together, as
aeon loads them; Trace is not bundled with aeon), and the train split of
JapaneseVowels (unequal lengths, DTW k-means against tslearn only, since aeon's
k-means takes equal lengths), ``n_clusters`` the number of classes. Every
library starts from the same initial centres (distinct sequences drawn with a
fixed seed) and runs the same ``max_iter``; the DBA updates run at most 30
iterations each (tslearn's DTW k-means always runs its
DBA with 30). Reported per contender: the inertia in alignkit's units (under DTW the
sum over sequences of the squared DTW distance to the centre; tslearn's mean
is multiplied by the number of sequences, aeon's DTW is already squared; under
soft-DTW the sum of the soft-DTW values from each sequence to the centre of its
label, computed for both models by one function with alignkit's ``soft_dtw``,
the note adding the mean of their squares, tslearn's definition; aeon's
soft-DTW k-means is its BA averaging under ``distance="soft_dtw"``, Petitjean's
update along the soft alignment's path rather than tslearn's and alignkit's
gradient descent on the soft-DTW barycenter objective, and its
``soft_dtw_distance`` returns the absolute value of a negative soft-DTW, so its
own ``inertia_`` is not the objective either), the
adjusted Rand index against the true classes, the wall time and the
process (CPU) time, which other jobs on a shared machine do not inflate
(after a compiling warm-up fit on a few sequences), and the peak growth of the resident
memory during the fit (``VmHWM`` after resetting it through
``/proc/self/clear_refs``). K-medoids runs PAM against aeon's
``TimeSeriesKMedoids`` under MSM (the same distance and units in both) and
under DTW (alignkit on the summed squared costs, aeon's DTW units, the matrix
included in the time); alignkit keeps the best of 10 starts on its one matrix
(``n_init=10``, a few milliseconds of PAM), aeon runs one. ``--quick`` runs GunPoint
only. The bundled sets are small: every library's memory grows by about a MiB or less,
so memory ratios are printed only
where the peer's growth is at least 1 MiB. Last, the time and memory of the DTW
silhouette of ``--silhouette-n`` random walks of length 128 (2,000 takes about a minute
on one core).
Then the memory case: DTW k-means (5 clusters, 5 iterations) on ``--memory-n`` random
walks of length 256 (1,000 by default; tslearn takes over a minute), where tslearn's peak
growth is large enough to measure; ``--memory-only`` runs it alone.
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import emit, environment_lines, format_seconds, load_average, table  # noqa: E402

warnings.filterwarnings("ignore")  # tslearn's h5py notice, aeon's deprecation notices


def _rss_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def measure(function):
    """``(result, (wall seconds, process seconds), peak MiB growth)`` of one call.

    The process time (CPU time of all the process's threads) is the fairer
    measure on a shared machine: other jobs slow the wall clock, not it.
    """
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # reset the peak resident memory to the current one
    except OSError:
        pass
    before = _rss_kib("VmRSS:")
    start, cpu_start = time.perf_counter(), time.process_time()
    result = function()
    seconds = (time.perf_counter() - start, time.process_time() - cpu_start)
    return result, seconds, (_rss_kib("VmHWM:") - before) / 1024


def _seconds(seconds):
    return f"{format_seconds(seconds[0])} (cpu {format_seconds(seconds[1])})"


def _datasets(quick):
    from aeon.datasets import load_arrow_head, load_gunpoint

    loaders = {"GunPoint": load_gunpoint, "ArrowHead": load_arrow_head}
    for name, loader in list(loaders.items())[: 1 if quick else 2]:
        X, y = loader()
        X = np.ascontiguousarray(X.transpose(0, 2, 1), dtype=np.float64)  # (n, t, channels)
        yield name, X, np.unique(y, return_inverse=True)[1]


def _kmeans_contenders(metric, max_iter, n_clusters, init):
    from tslearn.clustering import TimeSeriesKMeans as TslearnKMeans

    from alignkit.estimators._clustering import TimeSeriesKMeans

    n_bary = 30
    contenders = {
        "alignkit": lambda X: TimeSeriesKMeans(
            n_clusters, metric=metric, max_iter=max_iter, init=init, max_iter_barycenter=n_bary
        ).fit(X),
        "tslearn": lambda X: TslearnKMeans(
            n_clusters, metric=metric, max_iter=max_iter, init=init.copy(),
            max_iter_barycenter=n_bary,
        ).fit(X),
    }  # fmt: skip
    from aeon.clustering import TimeSeriesKMeans as AeonKMeans

    # aeon's soft-DTW k-means: its BA averaging under distance="soft_dtw" (Petitjean's
    # update on the soft alignment's path), gamma = 1 as alignkit's and tslearn's.
    distance, params = ("dtw", {}) if metric == "dtw" else ("soft_dtw", {"gamma": 1.0})
    contenders["aeon"] = lambda X: AeonKMeans(
        n_clusters, init=init.transpose(0, 2, 1), distance=distance, n_init=1,
        max_iter=max_iter, averaging_method="ba", distance_params=params or None,
        average_params={"max_iters": n_bary, **params},
    ).fit(X.transpose(0, 2, 1))  # fmt: skip
    return contenders


def _soft_inertia(X, model, gamma=1.0):
    """``(sum, mean of squares)`` of the soft-DTW values from each sequence to its centre.

    Both fitted models are measured by this one function, with alignkit's
    ``soft_dtw``, from their ``cluster_centers_`` and ``labels_``. The sum is
    the soft-DTW k-means objective (alignkit's ``inertia_``); the mean of the
    squares is tslearn's definition of ``inertia_`` (``_compute_inertia`` in
    ``tslearn.clustering.utils``: the mean of the squared values to the
    assigned centres; tslearn records it at the last assignment, before the
    last centre update, so its own ``inertia_`` is not this number).
    """
    from alignkit.distances import soft_dtw

    centres = np.asarray(model.cluster_centers_, dtype=np.float64)
    if centres.shape[1:] != X.shape[1:]:  # aeon's (n_clusters, n_channels, n_timepoints)
        centres = centres.transpose(0, 2, 1)
    values = np.array([soft_dtw(x, centres[k], gamma=gamma) for x, k in zip(X, model.labels_)])
    return float(values.sum()), float(np.mean(values**2))


def _inertia(name, model, metric, X):
    """The inertia in alignkit's units, and a note: DTW's summed squared cost, or soft-DTW's
    objective from :func:`_soft_inertia` (the same function for both models)."""
    if metric == "softdtw":
        total, mean_square = _soft_inertia(X, model)
        own = model.inertia_ * (len(X) if name == "tslearn" else 1)  # aeon's: the sum
        return total, f"mean sq {mean_square:.6g}; own inertia_ {own:.6g}"
    if name == "tslearn":
        return model.inertia_ * len(X), ""  # tslearn's inertia is the mean
    return model.inertia_, ""  # aeon's DTW is already squared, as alignkit's inertia


def _kmeans_rows(name, X, y, metric, max_iter, rng):
    from sklearn.metrics import adjusted_rand_score

    n_clusters = len(np.unique(y))
    init = X[rng.choice(len(X), n_clusters, replace=False)].copy()
    rows, times = [], {}
    for contender, fit in _kmeans_contenders(metric, max_iter, n_clusters, init).items():
        fit(X[:8].copy() if contender != "aeon" else X[:8])  # compile outside the timing
        model, seconds, mib = measure(lambda fit=fit: fit(X))
        times[contender] = (seconds, mib)
        labels = model.labels_
        inertia, note = _inertia(contender, model, metric, X)
        rows.append(
            [name, metric, contender, f"{inertia:.6g}", f"{adjusted_rand_score(y, labels):.3f}",
             _seconds(seconds), f"{mib:.1f}", note]
        )  # fmt: skip
        if contender == "alignkit" and metric == "dtw":
            skipped = model.n_dtw_skipped_ / max(model.n_dtw_pairs_, 1)
            rows[-1][-1] = f"{skipped:.0%} of {model.n_dtw_pairs_} DTWs skipped"
    return rows, times


def _unequal_rows(max_iter):
    """DTW k-means on JapaneseVowels (train; 12 channels, 7 to 29 timepoints) vs tslearn.

    tslearn gets the collection NaN-padded (its variable-length format); aeon's
    k-means takes equal lengths only.
    """
    from aeon.datasets import load_japanese_vowels
    from sklearn.metrics import adjusted_rand_score
    from tslearn.clustering import TimeSeriesKMeans as TslearnKMeans
    from tslearn.utils import to_time_series_dataset

    from alignkit.estimators._clustering import TimeSeriesKMeans

    X, y = load_japanese_vowels(split="train")
    sequences = [np.ascontiguousarray(x.T, dtype=np.float64) for x in X]
    y = np.unique(y, return_inverse=True)[1]
    n_clusters = len(np.unique(y))
    start = np.random.RandomState(0).choice(len(sequences), n_clusters, replace=False)
    init = [sequences[i] for i in start]
    padded, padded_init = to_time_series_dataset(sequences), to_time_series_dataset(init)
    fits = {
        "alignkit": lambda data: TimeSeriesKMeans(
            n_clusters, max_iter=max_iter, init=init, max_iter_barycenter=30
        ).fit(data[0]),
        "tslearn": lambda data: TslearnKMeans(
            n_clusters, metric="dtw", max_iter=max_iter, init=padded_init.copy()
        ).fit(data[1]),
    }
    rows, times = [], {}
    for contender, fit in fits.items():
        fit((sequences[:20], padded[:20]))  # compile outside the timing
        model, seconds, mib = measure(lambda fit=fit: fit((sequences, padded)))
        times[contender] = seconds
        inertia = model.inertia_ * (len(sequences) if contender == "tslearn" else 1)
        rows.append(
            ["JapaneseVowels", "dtw", contender, f"{inertia:.6g}",
             f"{adjusted_rand_score(y, model.labels_):.3f}", _seconds(seconds),
             f"{mib:.1f}", "unequal lengths"]
        )  # fmt: skip
    return rows, [ours / theirs for ours, theirs in zip(times["alignkit"], times["tslearn"])]


def _kmedoids_fits(X, n_clusters, metric, max_iter):
    """The alignkit and aeon k-medoids fits of one metric, as argument-less callables."""
    from aeon.clustering import TimeSeriesKMedoids as AeonKMedoids

    from alignkit.core.window import Window
    from alignkit.distances._pairwise import pairwise_costs
    from alignkit.estimators._clustering import TimeSeriesKMedoids

    sequences = list(X)
    if metric == "msm":
        ours = TimeSeriesKMedoids(
            n_clusters, metric="msm", method="pam", max_iter=max_iter, random_state=0, n_init=10
        )
        fit_ours = lambda: ours.fit(X)  # noqa: E731
    else:  # aeon's DTW is the summed squared cost: cluster on the same matrix
        ours = TimeSeriesKMedoids(
            n_clusters, metric="precomputed", method="pam", max_iter=max_iter, random_state=0,
            n_init=10,
        )  # fmt: skip
        fit_ours = lambda: ours.fit(pairwise_costs(sequences, None, Window()))  # noqa: E731
    theirs = AeonKMedoids(
        n_clusters, distance=metric, method="pam", init="random", n_init=1,
        max_iter=max_iter, random_state=0,
    )  # fmt: skip
    # Compile both outside the timing.
    TimeSeriesKMedoids(2, metric=metric).fit(X[:6])
    AeonKMedoids(2, distance=metric, n_init=1, max_iter=2).fit(X[:6].transpose(0, 2, 1))
    return {"alignkit": fit_ours, "aeon": lambda: theirs.fit(X.transpose(0, 2, 1))}


def _kmedoids_rows(name, X, y, max_iter):
    from sklearn.metrics import adjusted_rand_score

    n_clusters = len(np.unique(y))
    rows, times = [], {}
    for metric in ("msm", "dtw"):
        for contender, fit in _kmedoids_fits(X, n_clusters, metric, max_iter).items():
            model, seconds, mib = measure(fit)
            times[contender, metric] = seconds
            rows.append(
                [name, metric, contender, f"{model.inertia_:.6g}",
                 f"{adjusted_rand_score(y, model.labels_):.3f}", _seconds(seconds),
                 f"{mib:.1f}"]
            )  # fmt: skip
    return rows, times


def _memory_ratio(ours, theirs):
    """The ratio of the peak growths, where the peer's is big enough to measure."""
    return f"{ours / theirs:.3f}" if theirs >= 1.0 else "- (peer grew < 1 MiB)"


def _memory_line(n_sequences, n_timepoints):
    """DTW k-means on random walks large enough for the peers' memory growth to be measured."""
    from tslearn.clustering import TimeSeriesKMeans as TslearnKMeans

    from alignkit.estimators._clustering import TimeSeriesKMeans

    rng = np.random.default_rng(0)
    X = np.cumsum(rng.standard_normal((n_sequences, n_timepoints)), axis=1)
    options = {"n_clusters": 5, "max_iter": 5, "random_state": 0}
    TimeSeriesKMeans(**options).fit(X[:20])  # compile outside the timing
    TslearnKMeans(**options, metric="dtw").fit(X[:20, :, None])
    _, ours_s, ours_mib = measure(lambda: TimeSeriesKMeans(**options).fit(X))
    _, theirs_s, theirs_mib = measure(
        lambda: TslearnKMeans(**options, metric="dtw").fit(X[:, :, None])
    )
    return (
        f"DTW k-means, {n_sequences} random walks of length {n_timepoints}, 5 clusters, 5 "
        f"iterations: alignkit {_seconds(ours_s)}, peak growth {ours_mib:.1f} MiB; tslearn "
        f"{_seconds(theirs_s)}, peak growth {theirs_mib:.1f} MiB; memory ratio "
        f"{_memory_ratio(ours_mib, theirs_mib)}, time ratio {ours_s[0] / theirs_s[0]:.3f}"
    )


def _silhouette_line(n_sequences):
    """Time and peak memory growth of the DTW silhouette of random walks of length 128."""
    from alignkit.estimators._clustering import silhouette_score

    rng = np.random.default_rng(0)
    X = np.cumsum(rng.standard_normal((n_sequences, 128)), axis=1)
    labels = rng.integers(0, 4, n_sequences)
    silhouette_score(X[:10], labels[:10] % 2)  # compile outside the timing
    score, seconds, mib = measure(lambda: silhouette_score(X, labels))
    return (
        f"silhouette under DTW, {n_sequences} random walks of length 128, 4 random clusters: "
        f"{_seconds(seconds)}, peak growth {mib:.1f} MiB (the matrix is "
        f"{8 * n_sequences**2 / 2**20:.1f} MiB), score {score:.4f}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="GunPoint only")
    parser.add_argument("--max-iter", type=int, default=3)
    parser.add_argument("--silhouette-n", type=int, default=500, help="series of length 128")
    parser.add_argument(
        "--memory-n", type=int, default=1000, help="random walks of length 256 (0: skip)"
    )
    parser.add_argument("--memory-only", action="store_true", help="the memory case alone")
    args = parser.parse_args()
    max_iter = args.max_iter
    report = []
    for line in environment_lines():
        emit(report, line)
    emit(report, f"- k-means max_iter={max_iter}, DBA / soft-DTW barycenter iterations 30")
    if args.memory_only:
        emit(report, _memory_line(args.memory_n, 256))
        return
    kmeans_rows, kmedoids_rows, ratios = [], [], []
    for name, X, y in _datasets(args.quick):
        for metric in ("dtw", "softdtw"):
            rows, times = _kmeans_rows(name, X, y, metric, max_iter, np.random.RandomState(0))
            kmeans_rows += rows
            ours_s, ours_mib = times["alignkit"]
            for peer in ("tslearn", "aeon"):
                if peer in times:
                    ratios.append(
                        [name, f"k-means {metric}", peer, f"{ours_s[0] / times[peer][0][0]:.3f}",
                         f"{ours_s[1] / times[peer][0][1]:.3f}",
                         _memory_ratio(ours_mib, times[peer][1])]
                    )  # fmt: skip
        rows, times = _kmedoids_rows(name, X, y, 300)
        kmedoids_rows += rows
        for metric in ("msm", "dtw"):
            ours, theirs = times["alignkit", metric], times["aeon", metric]
            ratios.append(
                [name, f"k-medoids {metric}", "aeon", f"{ours[0] / theirs[0]:.3f}",
                 f"{ours[1] / theirs[1]:.3f}", ""]
            )  # fmt: skip
    rows, ratio = _unequal_rows(max_iter)
    kmeans_rows += rows
    ratios.append(
        ["JapaneseVowels", "k-means dtw", "tslearn", f"{ratio[0]:.3f}", f"{ratio[1]:.3f}", ""]
    )
    headers = ["data", "metric", "library", "inertia", "ARI", "time", "peak MiB", "note"]
    emit(report)
    emit(report, "k-means (same initial centres, same max_iter)")
    emit(report, table(headers, kmeans_rows))
    emit(report)
    emit(
        report,
        "k-medoids (PAM; alignkit the best of 10 k-medoids++ starts on its one matrix, aeon "
        "one start from random medoids)",
    )
    emit(report, table(headers[:-1], kmedoids_rows))
    emit(report)
    emit(report, "alignkit over the peer (time, peak memory growth)")
    headers = ["data", "task", "peer", "time ratio", "cpu time ratio", "memory ratio"]
    emit(report, table(headers, ratios))
    emit(report)
    if args.silhouette_n:
        emit(report, _silhouette_line(args.silhouette_n))
        emit(report)
    if args.memory_n:
        emit(report, _memory_line(args.memory_n, 256))
        emit(report)
    emit(report, f"- load average at the end: {load_average()}")


if __name__ == "__main__":
    main()

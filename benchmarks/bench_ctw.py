"""Canonical time warping: alignkit's ``CTWAligner`` against tslearn's ``ctw_path`` (issue 4).

Aligns a pair of 1000-frame sequences with 20 and 30 channels that share a
known time warp, times both aligners and scores their paths against the
ground truth; DTW and the uniform warp are scored for reference. Run
``.venv/bin/python benchmarks/bench_ctw.py [--quick]``; see benchmarks/README.md.
"""

import argparse
import functools
import importlib
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    best_time,
    emit,
    environment_lines,
    first_call,
    format_seconds,
    load_average,
    optional_import,
    table,
)

import alignkit  # noqa: E402
from alignkit.datasets import make_warped_spirals, warp_to_path  # noqa: E402
from alignkit.metrics import path_distance  # noqa: E402

warnings.filterwarnings("ignore", message="h5py not installed")

CHANNELS = (20, 30)


def make_pair(n_timepoints, noise, seed):
    """Two warped spirals resampled to ``n_timepoints`` frames and lifted to 20 and 30 channels.

    ``make_warped_spirals`` gives copies of different lengths; resampling each
    linearly over its own frames is one more known time warp, so the latent
    positions follow and the true path stays exact. Each 3-channel copy is
    then lifted by its own random linear map, plus Gaussian noise of
    ``noise`` times the lifted signal's standard deviation.

    Returns ``(a, b, true_path, (a3, b3))``, ``a3``/``b3`` being the pair
    before lifting (same channels, so plain DTW can run on them).
    """
    rng = np.random.default_rng(seed)
    # The copies have about 0.6 * n_latent frames (mean speed of U[0.3, 0.9]).
    sequences, _, positions = make_warped_spirals(
        n_timepoints=int(n_timepoints / 0.6), return_positions=True, random_state=seed
    )
    resampled, latent = [], []
    for sequence, position in zip(sequences, positions):
        frames = np.linspace(0.0, len(sequence) - 1.0, n_timepoints)
        own = np.arange(len(sequence), dtype=float)
        resampled.append(np.column_stack([np.interp(frames, own, c) for c in sequence.T]))
        latent.append(np.interp(frames, own, position))
    true_path = warp_to_path(np.interp(latent[1], latent[0], np.arange(n_timepoints)), n_timepoints)
    lifted = []
    for sequence, n_channels in zip(resampled, CHANNELS):
        view = sequence @ rng.standard_normal((sequence.shape[1], n_channels))
        view += noise * view.std() * rng.standard_normal(view.shape)
        lifted.append(np.ascontiguousarray(view))
    return lifted[0], lifted[1], true_path, tuple(resampled)


class _CountingDTW:
    """Wraps tslearn's ``dtw_path`` inside its CTW module to count the rounds it really runs."""

    def __init__(self, module):
        self.module, self.original, self.calls = module, module.dtw_path, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.original(*args, **kwargs)

    def __enter__(self):
        self.module.dtw_path = self
        return self

    def __exit__(self, *exc):
        self.module.dtw_path = self.original


def methods(tslearn_ctw):
    """``name -> align(a, b, a3, b3)`` returning ``(path, rounds)``; rounds ``None`` if moot."""

    def ctw(**params):
        def run(a, b, a3, b3):
            result = alignkit.CTWAligner(**params).align(a, b)
            return result.path, result.n_iter

        return run

    def tslearn(a, b, a3, b3):
        # ctw_path runs one DTW on the truncated inputs, then one per CCA round.
        with _CountingDTW(tslearn_ctw) as counter:
            path, _, _ = tslearn_ctw.ctw_path(a, b)
        return np.asarray(path, dtype=np.int64), counter.calls - 1

    entries = {
        "alignkit CTWAligner()": ctw(),
        "alignkit CTWAligner(max_iter=1)": ctw(max_iter=1),
        # The lift has rank 3: three components skip the noise ones 0.95 energy keeps.
        "alignkit CTWAligner(n_components=3)": ctw(n_components=3),
    }
    if tslearn_ctw is not None:
        entries["tslearn ctw_path (max_iter=100)"] = tslearn
    entries["DTW on the 3-channel pair (ref.)"] = lambda a, b, a3, b3: (
        alignkit.dtw(a3, b3).path,
        None,
    )
    entries["uniform warp (ref.)"] = lambda a, b, a3, b3: (
        alignkit.UniformAligner().align(a3, b3).path,
        None,
    )
    return entries


def score(entries, n_timepoints, noise, seeds):
    """Per method: path errors and rounds over the pairs of ``seeds``."""
    errors = {name: [] for name in entries}
    rounds = {name: [] for name in entries}
    for seed in seeds:
        a, b, true_path, (a3, b3) = make_pair(n_timepoints, noise, seed)
        for name, align in entries.items():
            path, n_rounds = align(a, b, a3, b3)
            errors[name].append(path_distance(path, true_path))
            rounds[name].append(n_rounds)
    return errors, rounds


def time_all(entries, pair, repeat):
    """Per method: ``(first call, best time)`` on one pair, first call excluded from the best."""
    times = {}
    for name, align in entries.items():
        call = functools.partial(align, *pair)
        _, first = first_call(call)
        times[name] = (first, best_time(call, repeat=repeat))
    return times


def format_rounds(values):
    if values[0] is None:
        return "-"
    if min(values) == max(values):
        return str(values[0])
    return f"{np.mean(values):.1f} ({min(values)}-{max(values)})"


def report_table(entries, times, errors, rounds, timed_rounds):
    reference = times["alignkit CTWAligner()"][1]
    rows = []
    for name in entries:
        first, best = times[name]
        per_round = "-" if timed_rounds[name] is None else format_seconds(best / timed_rounds[name])
        rows.append(
            [
                name,
                format_seconds(first),
                format_seconds(best),
                f"{best / reference:.2f}",
                format_rounds(rounds[name]),
                per_round,
                f"{np.mean(errors[name]):.2f} ± {np.std(errors[name]):.2f}",
            ]
        )
    headers = [
        "method",
        "first call",
        "best time",
        "time / alignkit CTW",
        "rounds",
        "time / round",
        "error (frames)",
    ]
    return table(headers, rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 frames, 2 pairs, 2 repeats")
    parser.add_argument("--pairs", type=int, default=None, help="pairs scored (default 5)")
    parser.add_argument("--noise", type=float, default=0.1, help="relative noise (default 0.1)")
    args = parser.parse_args(argv)
    n_timepoints, repeat = (200, 2) if args.quick else (1000, 5)
    seeds = range(args.pairs or (2 if args.quick else 5))

    report = []
    emit(report, "# CTW benchmark: alignkit CTWAligner vs tslearn ctw_path\n")
    for line in environment_lines():
        emit(report, line)
    tslearn_ctw = None
    if optional_import("tslearn") is not None:
        tslearn_ctw = importlib.import_module("tslearn.metrics.ctw")
    else:
        emit(report, "- tslearn: not installed, skipped")
    entries = methods(tslearn_ctw)

    a, b, true_path, (a3, b3) = make_pair(n_timepoints, args.noise, seeds[0])
    emit(report, f"\nPair: a {a.shape}, b {b.shape}, true path length {len(true_path)}; ")
    emit(report, f"errors: mean ± std over {len(seeds)} pairs (seeds 0-{seeds[-1]}).\n")
    times = time_all(entries, (a, b, a3, b3), repeat)
    timed_rounds = {name: align(a, b, a3, b3)[1] for name, align in entries.items()}
    errors, rounds = score(entries, n_timepoints, args.noise, seeds)
    emit(report, report_table(entries, times, errors, rounds, timed_rounds))
    emit(report)
    emit(report, "- times: pair 0 only, best of the repeats; time / round uses pair 0's rounds.")
    emit(
        report,
        "- error: alignkit.metrics.path_distance to the true path (frames, lower is better).",
    )
    emit(report, "- DTW runs on the pair before lifting (same channels); the affine maps' large")
    emit(report, "  offsets make every cell costly, so it favours short, near-diagonal paths.")
    emit(report, f"- load average at end: {load_average()}")
    return report


if __name__ == "__main__":
    main()

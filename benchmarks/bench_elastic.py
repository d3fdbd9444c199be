"""Time alignkit's elastic distances (ERP, EDR, LCSS, MSM, TWE, ADTW) against aeon, in one run.

Run ``.venv/bin/python benchmarks/bench_elastic.py [--quick] [--length N] [--pairs P]``.
Two tables, each timed side by side and interleaved (alignkit, then aeon,
then alignkit again ...), best of several, in CPU seconds of this process
(``time.process_time``: both libraries run on one thread here):

- single pairs of z-normalised random walks of lengths ``N`` (default 1000)
  and up to ``N / 8`` shorter, through the public ``*_distance`` functions,
  without a window and with aeon's ``window=0.1`` (equal lengths there);
- a ``50 x 50`` matrix of length-300 walks: ``pairwise_distances(metric=...)``
  against ``aeon.distances.pairwise_distance(method=...)``.

Before timing, the values are compared: MSM, TWE, ADTW and LCSS must agree
with aeon to 1e-9; ERP and EDR follow the papers' first row and column where
aeon does not (see docs/user_guide/elastic.rst), so the share of equal values
is reported.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    emit,
    environment_lines,
    format_seconds,
    load_average,
    optional_import,
    random_walk,
    table,
)

from alignkit import distances  # noqa: E402

# name -> (parameters, must agree with aeon to 1e-9)
CASES = {
    "erp": ({"g": 0.0}, False),
    "edr": ({"epsilon": 0.25}, False),
    "lcss": ({"epsilon": 0.5}, True),
    "msm": ({"c": 1.0}, True),
    "twe": ({"nu": 0.001, "lmbda": 1.0}, True),
    "adtw": ({"warp_penalty": 1.0}, True),
}


def _znorm(x):
    return (x - x.mean()) / x.std()


def _pairs(n_pairs, length):
    """Pairs of z-normalised random walks of unequal lengths around ``length``."""
    rng = np.random.default_rng(0)
    pairs = []
    for k in range(n_pairs):
        m = int(length - rng.integers(0, length // 8 + 1))
        pairs.append((_znorm(random_walk(length, 2 * k)), _znorm(random_walk(m, 2 * k + 1))))
    return pairs


def _agreement(ours, theirs, pairs, params):
    equal = 0
    for a, b in pairs:
        value, expected = ours(a, b, **params), theirs(a[None], b[None], **params)
        equal += abs(value - expected) <= 1e-9 * max(abs(expected), 1e-300)
    return equal / len(pairs)


def _side_by_side(ours, theirs, repeat):
    """Best CPU time of each of two calls, interleaved so that both see the same load."""
    ours()
    theirs()
    best = [np.inf, np.inf]
    for _ in range(repeat):
        for slot, call in enumerate((ours, theirs)):
            start = time.process_time()
            call()
            best[slot] = min(best[slot], time.process_time() - start)
    return best


def _pair_rows(aeon, pairs, length):
    rows = []
    radius = int(0.1 * length)
    equal_pairs = [(a[: len(b)], b) for a, b in pairs]  # aeon's window=0.1 is |i - j| <= radius
    for name, (params, exact) in CASES.items():
        ours = getattr(distances, f"{name}_distance")
        theirs = getattr(aeon, f"{name}_distance")
        share = _agreement(ours, theirs, pairs, params)
        if exact and share < 1.0:
            raise SystemExit(f"{name}: alignkit and aeon disagree on {1 - share:.0%} of pairs")
        for label, chosen, window, their_window in (
            ("full", pairs, None, None),
            ("window 0.1", equal_pairs, radius, 0.1),
        ):
            ours_time, their_time = _side_by_side(
                lambda f=ours, c=chosen, w=window, p=params: [f(a, b, window=w, **p) for a, b in c],
                lambda f=theirs, c=chosen, w=their_window, p=params: [
                    f(a[None], b[None], window=w, **p) for a, b in c
                ],
                repeat=5,
            )
            rows.append(
                [
                    name,
                    label,
                    f"{share:.0%}",
                    format_seconds(ours_time / len(pairs)),
                    format_seconds(their_time / len(pairs)),
                    f"{ours_time / their_time:.3f}",
                ]
            )
    return rows


def _matrix_rows(aeon, n_series, length):
    X = np.stack([_znorm(random_walk(length, 1000 + k)) for k in range(n_series)])
    rows = []
    for name, (params, exact) in CASES.items():
        ours, theirs = None, None

        def run_ours(name=name, params=params):
            nonlocal ours
            ours = distances.pairwise_distances(X, metric=name, metric_params=params)

        def run_theirs(name=name, params=params):
            nonlocal theirs
            theirs = aeon.pairwise_distance(X[:, None, :], method=name, **params)

        ours_time, their_time = _side_by_side(run_ours, run_theirs, repeat=3)
        agree = np.allclose(ours, theirs, rtol=1e-9, atol=0.0)
        if exact and not agree:
            raise SystemExit(f"{name}: alignkit's and aeon's matrices differ")
        rows.append(
            [
                name,
                "yes" if agree else "no (see above)",
                format_seconds(ours_time),
                format_seconds(their_time),
                f"{ours_time / their_time:.3f}",
            ]
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="length 256, a 20 x 20 matrix of 128")
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    length, n_series, matrix_length = (256, 20, 128) if args.quick else (args.length, 50, 300)
    report = []
    for line in environment_lines():
        emit(report, line)
    aeon = optional_import("aeon.distances")
    if aeon is None:
        emit(report, "aeon is not installed: nothing to compare")
        return
    pairs = _pairs(args.pairs, length)
    headers = ["distance", "window", "equal to aeon", "alignkit / pair", "aeon / pair", "ratio"]
    emit(report)
    emit(report, f"{args.pairs} pairs, lengths {length} and up to {length // 8} shorter")
    emit(report)
    emit(report, table(headers, _pair_rows(aeon, pairs, length)))
    emit(report)
    emit(report, f"{n_series} x {n_series} matrix of series of length {matrix_length}")
    emit(report)
    headers = ["distance", "equal to aeon (1e-9)", "alignkit", "aeon", "ratio"]
    emit(report, table(headers, _matrix_rows(aeon, n_series, matrix_length)))
    emit(report)
    emit(report, f"- load average at the end: {load_average()}")


if __name__ == "__main__":
    main()

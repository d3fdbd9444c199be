"""Time alignkit's elastic distances (ERP, EDR, LCSS, MSM, TWE, ADTW) against aeon, in one run.

Run ``.venv/bin/python benchmarks/bench_elastic.py [--quick] [--pairs N] [--length L]``.
Both libraries get the same pairs of random walks (aeon's the transposed
``(n_channels, n_timepoints)`` arrays, built once outside the timing) and are
called through their public ``*_distance`` functions, pair after pair; the
table gives the time per pair and alignkit's time over aeon's. Before timing,
the values are compared: MSM, TWE, ADTW and LCSS must agree to 1e-9; ERP and
EDR follow the papers' first row and column where aeon does not (see
docs/user_guide/elastic.rst), so the share of equal values is reported.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    best_time,
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


def _pairs(n_pairs, length):
    """Pairs of z-normalised random walks of unequal lengths around ``length``."""
    rng = np.random.default_rng(0)
    pairs = []
    for k in range(n_pairs):
        m = int(length - rng.integers(0, length // 8 + 1))
        a, b = random_walk(length, 2 * k), random_walk(m, 2 * k + 1)
        pairs.append(((a - a.mean()) / a.std(), (b - b.mean()) / b.std()))
    return pairs


def _agreement(ours, theirs, pairs, params):
    equal = 0
    for a, b in pairs:
        value, expected = ours(a, b, **params), theirs(a, b, **params)
        equal += abs(value - expected) <= 1e-9 * max(abs(expected), 1e-300)
    return equal / len(pairs)


def _time(function, pairs, window, params):
    """Best time of one pass over all pairs."""
    return best_time(lambda: [function(a, b, window=window, **params) for a, b in pairs], repeat=3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 pairs of length 128")
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--length", type=int, default=256)
    args = parser.parse_args()
    n_pairs, length = (50, 128) if args.quick else (args.pairs, args.length)
    report = []
    for line in environment_lines():
        emit(report, line)
    emit(report, f"- load average at the start: {load_average()}")
    aeon = optional_import("aeon.distances")
    if aeon is None:
        emit(report, "aeon is not installed: nothing to compare")
        return
    pairs = _pairs(n_pairs, length)
    transposed = [(a[None, :], b[None, :]) for a, b in pairs]
    radius = int(0.1 * length)
    equal_pairs = [(a[: len(b)], b) for a, b in pairs]  # aeon's window=0.1 is |i - j| <= radius
    equal_transposed = [(a[None, :], b[None, :]) for a, b in equal_pairs]
    rows = []
    for name, (params, exact) in CASES.items():
        ours = getattr(distances, f"{name}_distance")
        theirs = getattr(aeon, f"{name}_distance")
        share = _agreement(ours, theirs, pairs[:20], params)
        if exact and share < 1.0:
            raise SystemExit(f"{name}: alignkit and aeon disagree on {1 - share:.0%} of pairs")
        for label, ours_pairs, their_pairs, ours_window, their_window in (
            ("full", pairs, transposed, None, None),
            ("window 0.1", equal_pairs, equal_transposed, radius, 0.1),
        ):
            ours_time = _time(ours, ours_pairs, ours_window, params)
            their_time = _time(theirs, their_pairs, their_window, params)
            rows.append(
                [
                    name,
                    label,
                    f"{share:.0%}",
                    format_seconds(ours_time / n_pairs),
                    format_seconds(their_time / n_pairs),
                    f"{ours_time / their_time:.3f}",
                ]
            )
    emit(report)
    emit(report, f"{n_pairs} pairs, lengths {length} and up to {length // 8} shorter")
    emit(report)
    headers = ["distance", "window", "equal to aeon", "alignkit / pair", "aeon / pair", "ratio"]
    emit(report, table(headers, rows))
    emit(report)
    emit(report, f"- load average at the end: {load_average()}")


if __name__ == "__main__":
    main()

"""Linear-memory DTW path (Hirschberg) against independent truths.

Truths: the dense reference DP over geometric window cell sets and the
exhaustive path enumeration in ``_reference.py``; the banded-matrix
:func:`alignkit.dtw` and the two-row :func:`alignkit.dtw_distance` as peers.
``base_cells`` is varied so that tiny problems go through the divide and
conquer (``0`` splits down to single rows) as well as the matrix base case.
"""

import math
import tracemalloc

import numpy as np
import pytest
from _reference import (
    all_paths,
    assert_valid_path,
    band_cells,
    brute_force_dtw,
    itakura_cells,
    local_cost,
    path_cost,
    reference_backtrack,
    reference_dtw,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import alignkit
from alignkit.distances._linear_path import BASE_CELLS, linear_memory_bytes, linear_memory_path
from alignkit.exceptions import WindowError
from alignkit.validation import window_bounds

VALUES = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)
SMALL_INTS = st.integers(-2, 2).map(float)
WINDOWS = st.one_of(
    st.none(),
    st.integers(0, 45),
    st.floats(0.0, 1.0),
    st.tuples(st.just("sakoe_chiba"), st.integers(0, 6)),
    st.tuples(st.just("sakoe_chiba"), st.floats(0.0, 1.0)),
    st.tuples(st.just("itakura"), st.floats(1.0, 4.0)),
)
BASES = st.sampled_from([0, 1, 4, 30, BASE_CELLS])


def pairs(max_length=40, elements=VALUES):
    """Two sequences of 1..``max_length`` frames with the same 1 or 2 channels."""

    def two(n_channels):
        shape = st.tuples(st.integers(1, max_length), st.just(n_channels))
        sequence = hnp.arrays(np.float64, shape, elements=elements)
        return st.tuples(sequence, sequence)

    return st.integers(1, 2).flatmap(two)


def window_cells(window, n, m):
    """The window's cell set, rebuilt geometrically by ``_reference.py``."""
    if window is None:
        return np.ones((n, m), dtype=bool)
    kind, value = window if isinstance(window, tuple) else ("sakoe_chiba", window)
    if kind == "itakura":
        return itakura_cells(n, m, value)
    radius = value if isinstance(value, int) else math.floor(value * max(n, m) + 0.5)
    return band_cells(n, m, radius)


def count_optimal_paths_in(a, b, mask, rel=1e-9):
    """Number of paths inside ``mask`` within ``rel`` (relative) of the optimum."""
    cost = local_cost(a, b)
    acc = reference_dtw(a, b, mask)
    tol = rel * max(1.0, acc[-1, -1])
    n, m = cost.shape
    count = np.zeros((n, m), dtype=object)
    count[0, 0] = 1
    for i in range(n):
        for j in range(m):
            if (i, j) == (0, 0) or not mask[i, j]:
                continue
            for pi, pj in ((i - 1, j - 1), (i - 1, j), (i, j - 1)):
                if pi >= 0 and pj >= 0 and abs(acc[pi, pj] + cost[i, j] - acc[i, j]) <= tol:
                    count[i, j] += count[pi, pj]
    return int(count[-1, -1])


def solve(a, b, window, base_cells=BASE_CELLS):
    lo, hi, _ = window_bounds(window, len(a), len(b))
    return linear_memory_path(a, b, lo, hi, base_cells=base_cells)


def _close(actual, expected):
    return actual == pytest.approx(expected, rel=1e-9, abs=1e-12)


@settings(max_examples=60)
@given(pairs(), WINDOWS, BASES)
def test_optimal_cost_and_valid_path_inside_window(pair, window, base_cells):
    a, b = pair
    n, m = len(a), len(b)
    cells = window_cells(window, n, m)
    path, total = solve(a, b, window, base_cells)
    assert_valid_path(path, n, m)
    assert cells[path[:, 0], path[:, 1]].all()
    assert _close(total, reference_dtw(a, b, cells)[-1, -1])
    assert _close(total, alignkit.dtw(a, b, window=window, squared=True).distance)
    assert _close(path_cost(a, b, path), total)


@settings(max_examples=40)
@given(pairs(max_length=25), WINDOWS, BASES)
def test_unique_optimum_gives_the_same_path(pair, window, base_cells):
    a, b = pair
    cells = window_cells(window, len(a), len(b))
    path, _ = solve(a, b, window, base_cells)
    if count_optimal_paths_in(a, b, cells) == 1:
        np.testing.assert_array_equal(path, reference_backtrack(reference_dtw(a, b, cells)))
        np.testing.assert_array_equal(path, alignkit.dtw(a, b, window=window).path)


@settings(max_examples=40)
@given(pairs(max_length=6), WINDOWS, BASES)
def test_cost_equals_exhaustive_enumeration(pair, window, base_cells):
    a, b = pair
    cells = window_cells(window, len(a), len(b))
    path, total = solve(a, b, window, base_cells)
    assert _close(total, brute_force_dtw(a, b, cells))
    assert any(np.array_equal(path, p) for p in all_paths(len(a), len(b)))


@settings(max_examples=40)
@given(pairs(max_length=20, elements=SMALL_INTS), WINDOWS, BASES)
def test_ties_still_give_an_optimal_path(pair, window, base_cells):
    a, b = pair
    n, m = len(a), len(b)
    cells = window_cells(window, n, m)
    path, total = solve(a, b, window, base_cells)
    assert_valid_path(path, n, m)
    assert cells[path[:, 0], path[:, 1]].all()
    assert _close(path_cost(a, b, path), reference_dtw(a, b, cells)[-1, -1])
    if base_cells >= n * m:
        # One matrix with the same tie-breaking as the reference backtrack.
        np.testing.assert_array_equal(path, reference_backtrack(reference_dtw(a, b, cells)))


@pytest.mark.parametrize("window", [None, 0, 7, 0.1, ("itakura", 1.5), ("itakura", 3.0)])
@pytest.mark.parametrize(("n", "m", "n_channels"), [(300, 300, 1), (257, 400, 2), (500, 90, 1)])
@pytest.mark.parametrize("base_cells", [0, 256, BASE_CELLS])
def test_random_continuous_data_matches_matrix_path(window, n, m, n_channels, base_cells):
    # Continuous random data has a unique optimal path (almost surely).
    rng = np.random.default_rng(n * m + n_channels)
    a = rng.normal(size=(n, n_channels)).cumsum(axis=0)
    b = rng.normal(size=(m, n_channels)).cumsum(axis=0)
    expected = alignkit.dtw(a, b, window=window, squared=True)
    path, total = solve(a, b, window, base_cells)
    np.testing.assert_array_equal(path, expected.path)
    assert _close(total, expected.distance)


def test_one_row_and_one_column_problems():
    a = np.arange(5.0)[:, None]
    for x, y in ((a, a[:1]), (a[:1], a), (a[:1], a[:1])):
        path, total = solve(x, y, None, base_cells=0)
        np.testing.assert_array_equal(path, reference_backtrack(reference_dtw(x, y)))
        assert _close(total, reference_dtw(x, y)[-1, -1])


@pytest.mark.parametrize("base_cells", [0, BASE_CELLS])
def test_bounds_without_a_path_raise(base_cells):
    a = np.zeros((3, 1))
    lo = np.array([0, 2, 2], dtype=np.int64)
    hi = np.array([1, 3, 3], dtype=np.int64)
    with pytest.raises(WindowError, match=r"no continuous warping path from \(0, 0\) to \(2, 2\)"):
        linear_memory_path(a, a, lo, hi, base_cells=base_cells)


def test_decreasing_bounds_are_refused():
    a = np.zeros((3, 1))
    lo = np.array([0, 1, 0], dtype=np.int64)
    hi = np.full(3, 3, dtype=np.int64)
    with pytest.raises(ValueError, match="needs non-decreasing bounds"):
        linear_memory_path(a, a, lo, hi)
    with pytest.raises(ValueError, match="needs non-decreasing bounds"):
        linear_memory_path(a, a, np.zeros(3, dtype=np.int64), hi[::-1] - np.arange(3))


def test_long_pair_in_linear_memory():
    n = 20_000
    rng = np.random.default_rng(7)
    a = rng.normal(size=(n, 1))
    b = rng.normal(size=(n, 1))
    solve(a[:300], b[:300], None, base_cells=0)  # compile outside the trace
    lo, hi, _ = window_bounds(None, n, n)
    tracemalloc.start()
    try:
        path, total = linear_memory_path(a, b, lo, hi)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20
    assert peak <= linear_memory_bytes(n, n) + 2**16
    assert_valid_path(path, n, n)
    assert _close(total, alignkit.dtw_distance(a, b, squared=True))
    cost = np.sum((a[path[:, 0], 0] - b[path[:, 1], 0]) ** 2)
    assert _close(cost, total)

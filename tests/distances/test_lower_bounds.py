"""Lower bounds and PrunedDTW against independent truths.

- Every bound is at most the exact DTW (``alignkit.dtw_distance``, itself
  checked against brute force in test_dtw.py) under the same window, for
  random pairs of any lengths, channels and windows (hypothesis).
- Envelopes equal a direct min/max over the window's cells (tests/_reference.py
  builds the cells geometrically) and tslearn's ``lb_envelope``.
- Equalities that follow from the definitions: with radius 0 and equal
  lengths LB_Keogh is the squared Euclidean distance, which is the DTW.
- PrunedDTW equals ``alignkit.dtw_distance`` exactly whenever the distance
  is within the upper bound and is ``inf`` otherwise, and computes no more
  cells than abandoning whole rows (counted on the reference DP matrix).
"""

import importlib

import numpy as np
import pytest
from _reference import band_cells, cells_from_bounds, itakura_cells, reference_dtw
from hypothesis import given
from hypothesis import strategies as st

import alignkit
from alignkit.distances._lower_bounds import envelope, lb_improved, lb_keogh, lb_kim
from alignkit.exceptions import AlignkitMemoryError, InvalidInputError
from alignkit.kernels._numba._bounds import FULL, RADIUS, window_bounds, window_spec
from alignkit.kernels._numba._pruned import diagonal_cost, dtw_pruned
from alignkit.validation import check_window

# A bound may exceed the exact value by rounding only.
RTOL = 1e-12


def _random_mask(rng, n, m):
    """A path's cells plus random cells: a mask that admits a path and is not monotone."""
    mask = rng.random((n, m)) < 0.3
    i = j = 0
    mask[0, 0] = True
    while (i, j) != (n - 1, m - 1):
        moves = [(di, dj) for di, dj in ((1, 0), (0, 1), (1, 1)) if i + di < n and j + dj < m]
        di, dj = moves[rng.integers(len(moves))]
        i, j = i + di, j + dj
        mask[i, j] = True
    return mask


@st.composite
def pairs_and_windows(draw, equal_lengths=False):
    n = draw(st.integers(1, 12))
    m = n if equal_lengths else draw(st.integers(1, 12))
    channels = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(n, channels)), rng.normal(size=(m, channels))
    kind = draw(st.sampled_from(["none", "radius", "fraction", "itakura", "mask"]))
    window = {
        "none": None,
        "radius": draw(st.integers(0, 5)),
        "fraction": draw(st.floats(0.0, 1.0)),
        "itakura": ("itakura", draw(st.floats(1.0, 4.0))),
        "mask": _random_mask(rng, n, m),
    }[kind]
    return a, b, window


def _at_most(bound, exact):
    assert bound <= exact * (1 + RTOL) + 1e-300, (bound, exact)


@given(pairs_and_windows())
def test_every_bound_is_below_dtw(case):
    a, b, window = case
    exact = alignkit.dtw_distance(a, b, window=window, squared=True)
    kim = lb_kim(a, b, squared=True)
    keogh_ab = lb_keogh(a, b, window=window, squared=True)
    window_ba = window.T.copy() if isinstance(window, np.ndarray) else window
    keogh_ba = lb_keogh(b, a, window=window_ba, squared=True)
    improved = lb_improved(a, b, window=window, squared=True)
    for bound in (kim, keogh_ab, keogh_ba, improved):
        _at_most(bound, exact)
    assert improved >= keogh_ab
    # The square-root convention keeps the inequality.
    _at_most(lb_improved(a, b, window=window), alignkit.dtw_distance(a, b, window=window))


@given(pairs_and_windows(equal_lengths=True))
def test_multivariate_keogh_is_the_sum_over_channels(case):
    a, b, window = case
    per_channel = sum(
        lb_keogh(a[:, k], b[:, k], window=window, squared=True) for k in range(a.shape[1])
    )
    assert lb_keogh(a, b, window=window, squared=True) == pytest.approx(per_channel, rel=1e-12)


@given(st.integers(1, 15), st.integers(1, 15), st.integers(0, 6), st.integers(0, 2**32 - 1))
def test_envelope_is_min_max_over_band_cells(n, m, radius, seed):
    b = np.random.default_rng(seed).normal(size=(m, 2))
    cells = band_cells(n, m, radius)
    lower, upper = envelope(b, window=radius, n_timepoints=n)
    for i in range(n):
        np.testing.assert_array_equal(lower[i], b[cells[i]].min(axis=0))
        np.testing.assert_array_equal(upper[i], b[cells[i]].max(axis=0))


def test_envelope_under_itakura_matches_its_cells():
    b = np.random.default_rng(3).normal(size=(20, 1))
    cells = itakura_cells(20, 20, 2.0)
    lower, upper = envelope(b, window=("itakura", 2.0))
    for i in range(20):
        assert lower[i, 0] == b[cells[i], 0].min()
        assert upper[i, 0] == b[cells[i], 0].max()


def test_envelope_and_keogh_match_tslearn():
    metrics = importlib.import_module("tslearn.metrics")
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(40, 1)), rng.normal(size=(40, 1))
    down, up = metrics.lb_envelope(b, radius=3)
    lower, upper = envelope(b, window=3)
    np.testing.assert_allclose(lower, down)
    np.testing.assert_allclose(upper, up)
    expected = metrics.lb_keogh(a, envelope_candidate=(down, up))
    assert lb_keogh(a, b, window=3) == pytest.approx(expected, rel=1e-12)


@given(st.integers(1, 20), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_radius_zero_keogh_is_euclidean_which_is_dtw(n, channels, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(n, channels)), rng.normal(size=(n, channels))
    euclidean = float(((a - b) ** 2).sum())
    assert lb_keogh(a, b, window=0, squared=True) == pytest.approx(euclidean, rel=1e-12)
    assert alignkit.dtw_distance(a, b, window=0, squared=True) == pytest.approx(euclidean)


def test_kim_counts_first_and_last_cells():
    # Only the endpoints differ, by 2 and 3: every path pays exactly 4 + 9.
    a = np.zeros(10)
    b = np.zeros(10)
    a[0], a[-1] = 2.0, 3.0
    assert lb_kim(a, b, squared=True) == 13.0
    assert alignkit.dtw_distance(a, b, squared=True) == 13.0
    assert lb_kim([1.0], [4.0]) == 3.0


def test_improved_is_strictly_tighter_on_a_known_pair():
    a, b = [3.0, 0.0, 0.0, 0.0, 3.0], [0.0, 1.0, 3.0, 1.0, 0.0]
    assert lb_keogh(a, b, window=1, squared=True) < lb_improved(a, b, window=1, squared=True)


def test_bounds_validate_their_input():
    with pytest.raises(InvalidInputError, match="channels"):
        lb_keogh(np.zeros((4, 2)), np.zeros((4, 1)))
    with pytest.raises(InvalidInputError, match="NaN"):
        lb_kim([0.0, np.nan], [0.0, 1.0])
    with pytest.raises(ValueError, match="n_timepoints"):
        envelope([1.0, 2.0], n_timepoints=0)


def _remainder(a, b, lo, hi):
    """Suffix sums of the LB_Keogh terms of ``a`` against the envelope of ``b``."""
    from alignkit.kernels._numba._lower_bounds import envelope as env_kernel
    from alignkit.kernels._numba._lower_bounds import lb_keogh_terms

    lower, upper = env_kernel(b, lo, hi)
    terms = np.empty(len(a))
    lb_keogh_terms(a, lower, upper, terms)
    return np.concatenate([np.cumsum(terms[::-1])[::-1], [0.0]])


def _row_abandon_cells(a, b, mask, upper_bound, remainder):
    """Cells of row-by-row early abandoning: whole rows until a row's minimum exceeds the bound."""
    acc = reference_dtw(a, b, mask)
    cells = 0
    for i in range(len(a)):
        cells += int(mask[i].sum())
        # A relative margin: the reference sums in another order.
        if acc[i].min() + remainder[i + 1] > upper_bound * (1 + 1e-9):
            break
    return cells


@given(pairs_and_windows(), st.sampled_from([0.0, 0.5, 0.9, 1.0, 1.0 + 1e-12, 1.5, np.inf]))
def test_pruned_dtw_is_exact_within_the_bound_and_inf_above(case, fraction):
    a, b, window = case
    parsed = check_window(window, shape=(len(a), len(b)))
    if parsed.mask is not None:
        return
    exact = alignkit.dtw_distance(a, b, window=window, squared=True)
    lo, hi = window_bounds(len(a), len(b), *window_spec(parsed, len(a), len(b)))
    upper_bound = fraction * exact
    total, cells = dtw_pruned(a, b, lo, hi, upper_bound, np.empty(0))
    if exact <= upper_bound:
        assert total == exact
    else:
        assert total == np.inf
    mask = cells_from_bounds(lo, hi, len(b))
    assert cells <= _row_abandon_cells(a, b, mask, upper_bound, np.zeros(len(a) + 1))
    full, cells = dtw_pruned(a, b, lo, hi, np.inf, np.empty(0))
    assert full == exact
    assert cells == int(np.sum(hi - lo))


@given(
    st.integers(2, 20),
    st.integers(0, 4),
    st.integers(0, 2**32 - 1),
    st.sampled_from([0.5, 1.0 + 1e-9, 1.5]),
)
def test_pruned_dtw_with_keogh_remainder_is_exact_within_the_bound(n, radius, seed, fraction):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(n, 1)), rng.normal(size=(n, 1))
    lo, hi = window_bounds(n, n, RADIUS, radius, 0.0)
    remainder = _remainder(a, b, lo, hi)
    exact = alignkit.dtw_distance(a, b, window=radius, squared=True)
    total, cells = dtw_pruned(a, b, lo, hi, fraction * exact, remainder)
    if fraction > 1:
        assert total == exact
    else:
        assert total == np.inf
    # Never more cells than abandoning whole rows with the same remainder.
    mask = cells_from_bounds(lo, hi, n)
    assert cells <= _row_abandon_cells(a, b, mask, fraction * exact, remainder)


def test_pruned_dtw_skips_cells_of_a_row_that_are_above_the_bound():
    # Equal sequences: the diagonal costs 0 and every cell off it costs more
    # than the bound, so each row computes the diagonal cell and at most its
    # two neighbours instead of the whole band.
    a = np.linspace(0.0, 10.0, 30)[:, None]
    lo, hi = window_bounds(30, 30, FULL, 0, 0.0)
    total, cells = dtw_pruned(a, a.copy(), lo, hi, 0.01, np.empty(0))
    assert total == 0.0
    assert cells <= 3 * 30 < 30 * 30


@given(pairs_and_windows(equal_lengths=True))
def test_diagonal_cost_is_an_upper_bound_of_dtw(case):
    a, b, window = case
    if isinstance(window, np.ndarray):
        # A mask need not contain the diagonal; every band window does.
        return
    exact = alignkit.dtw_distance(a, b, window=window, squared=True)
    euclidean = float(((a - b) ** 2).sum())
    total, cells = diagonal_cost(a, b, np.inf)
    assert exact <= total == pytest.approx(euclidean, rel=1e-12)
    assert cells == len(a)
    assert diagonal_cost(a, b, 0.5 * euclidean)[0] == (np.inf if euclidean > 0 else 0.0)


@pytest.mark.parametrize("bad", [2.7, 0, -1, True, "3"])
def test_envelope_n_timepoints_must_be_a_positive_int(bad):
    # Issue 13, item 4: 2.7 was truncated to 2.
    with pytest.raises(InvalidInputError, match="'n_timepoints' parameter of envelope must be"):
        envelope([0.0, 1.0, 2.0], n_timepoints=bad)


def test_envelope_huge_n_timepoints_is_refused_before_allocating():
    with pytest.raises(AlignkitMemoryError, match="n_timepoints=1000000000000"):
        envelope([0.0, 1.0, 2.0], n_timepoints=10**12)

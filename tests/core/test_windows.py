"""Windows: band and Itakura cell sets against geometric truths, masks, and bad windows.

Cell sets are rebuilt independently in ``_reference.py`` with exact rational
arithmetic (the diagonal is the set of cells whose open square the straight
segment from (0, 0) to (n-1, m-1) crosses).
"""

import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from _reference import (
    band_cells,
    brute_force_dtw,
    cells_from_bounds,
    diagonal_cells,
    itakura_cells,
    reference_dtw,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import alignkit
from alignkit import distances
from alignkit.core.window import Window
from alignkit.exceptions import InvalidInputError, WindowError
from alignkit.validation import check_window, window_bounds

LENGTHS = st.integers(1, 30)
SLOPES = st.sampled_from([1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 7 / 3])
BAND_WINDOWS = st.one_of(
    st.integers(0, 35),
    st.floats(0.0, 1.0),
    st.tuples(st.just("sakoe_chiba"), st.integers(0, 8)),
)
WINDOWS = st.one_of(st.none(), BAND_WINDOWS, st.tuples(st.just("itakura"), st.floats(1.0, 5.0)))


def allowed(window, n, m):
    """Dense cell set of a window for an n by m problem, from alignkit's bounds."""
    lo, hi, cell_ok = window_bounds(window, n, m)
    return cells_from_bounds(lo, hi, m, cell_ok)


@settings(max_examples=100)
@given(LENGTHS, LENGTHS, WINDOWS)
def test_transposed_problem_has_transposed_cells(n, m, window):
    np.testing.assert_array_equal(allowed(window, m, n), allowed(window, n, m).T)


@settings(max_examples=100)
@given(LENGTHS, LENGTHS, WINDOWS)
def test_diagonal_cells_always_inside(n, m, window):
    cells = allowed(window, n, m)
    assert not np.any(diagonal_cells(n, m) & ~cells)


@pytest.mark.parametrize("n", range(1, 13))
@pytest.mark.parametrize("m", range(1, 13))
def test_radius_zero_is_exactly_the_diagonal(n, m):
    np.testing.assert_array_equal(allowed(0, n, m), diagonal_cells(n, m))


@pytest.mark.parametrize("n", [1, 2, 5, 17])
def test_equal_lengths_radius_is_absolute_index_difference(n):
    grid = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    for radius in range(n + 2):
        np.testing.assert_array_equal(allowed(radius, n, n), grid <= radius)
        np.testing.assert_array_equal(allowed(("sakoe_chiba", radius), n, n), grid <= radius)


@settings(max_examples=100)
@given(LENGTHS, LENGTHS, st.integers(0, 8))
def test_band_is_diagonal_widened_along_the_longer_axis(n, m, radius):
    np.testing.assert_array_equal(allowed(radius, n, m), band_cells(n, m, radius))


@settings(max_examples=60)
@given(LENGTHS, LENGTHS, st.integers(0, 10))
def test_radius_at_least_longer_length_is_full(n, m, extra):
    full = np.ones((n, m), dtype=bool)
    np.testing.assert_array_equal(allowed(max(n, m) + extra, n, m), full)
    np.testing.assert_array_equal(allowed(1.0, n, m), full)
    np.testing.assert_array_equal(allowed(None, n, m), full)


@settings(max_examples=100)
@given(LENGTHS, LENGTHS, st.floats(0.0, 1.0))
def test_fraction_is_rounded_radius_of_longer_length(n, m, fraction):
    radius = math.floor(fraction * max(n, m) + 0.5)
    expected = allowed(radius, n, m)
    np.testing.assert_array_equal(allowed(fraction, n, m), expected)
    np.testing.assert_array_equal(allowed(("sakoe_chiba", fraction), n, m), expected)


@pytest.mark.parametrize("slope", [1.0, 1.25, 1.5, 2.0, 3.0, 7 / 3])
@pytest.mark.parametrize("n", [1, 2, 3, 8, 21])
def test_itakura_equal_lengths_is_exact_parallelogram(n, slope):
    # Equal lengths: slopes [1/s, s] from (0, 0) and from (n-1, n-1) in index units.
    cells = np.zeros((n, n), dtype=bool)
    for i in range(n):
        for j in range(n):
            from_start = i <= slope * j and j <= slope * i
            from_end = (n - 1 - i) <= slope * (n - 1 - j) and (n - 1 - j) <= slope * (n - 1 - i)
            cells[i, j] = from_start and from_end
    expected = cells | diagonal_cells(n, n)
    np.testing.assert_array_equal(allowed(("itakura", slope), n, n), expected)
    np.testing.assert_array_equal(expected, itakura_cells(n, n, slope))


@settings(max_examples=100)
@given(LENGTHS, LENGTHS, SLOPES)
def test_itakura_unequal_lengths_is_normalised_parallelogram(n, m, slope):
    np.testing.assert_array_equal(allowed(("itakura", slope), n, m), itakura_cells(n, m, slope))


def test_itakura_slope_one_is_the_diagonal():
    for n, m in [(5, 5), (4, 9), (9, 4), (1, 6)]:
        np.testing.assert_array_equal(allowed(("itakura", 1.0), n, m), diagonal_cells(n, m))


def test_infinite_itakura_slope_is_rejected_or_the_limit():
    """``max_slope=inf`` must behave as a very large slope (or be refused), never asymmetrically."""
    for n, m in [(5, 5), (4, 7), (7, 4)]:
        try:
            cells = allowed(("itakura", float("inf")), n, m)
        except WindowError:
            continue
        np.testing.assert_array_equal(cells, allowed(("itakura", 1e12), n, m))


def _pair(max_length=25):
    channels = st.integers(1, 2)
    return channels.flatmap(
        lambda c: st.tuples(
            *[
                hnp.arrays(
                    np.float64,
                    st.tuples(st.integers(1, max_length), st.just(c)),
                    elements=st.floats(-5, 5, allow_nan=False, allow_subnormal=False),
                )
                for _ in range(2)
            ]
        )
    )


@settings(max_examples=100)
@given(_pair(), WINDOWS)
def test_dtw_under_window_equals_reference_dp_on_same_cells(pair, window):
    a, b = pair
    cells = allowed(window, len(a), len(b))
    expected = reference_dtw(a, b, mask=cells)
    alignment = alignkit.dtw(a, b, window=window, squared=True, return_cost_matrix=True)
    assert alignment.distance == pytest.approx(expected[-1, -1], rel=1e-9, abs=1e-9)
    assert alignkit.dtw_distance(a, b, window=window, squared=True) == pytest.approx(
        expected[-1, -1], rel=1e-9, abs=1e-9
    )
    assert np.all(cells[alignment.path[:, 0], alignment.path[:, 1]])
    np.testing.assert_array_equal(np.isinf(alignment.cost_matrix), np.isinf(expected))


@settings(max_examples=60)
@given(_pair(max_length=6), WINDOWS)
def test_dtw_under_window_equals_exhaustive_enumeration(pair, window):
    a, b = pair
    cells = allowed(window, len(a), len(b))
    expected = brute_force_dtw(a, b, mask=cells)
    assert alignkit.dtw(a, b, window=window, squared=True).distance == pytest.approx(
        expected, rel=1e-9, abs=1e-9
    )


# ---------------------------------------------------------------------------------------------
# Masks
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, m", [(10, 10), (8, 13), (13, 8)])
def test_mask_equal_to_band_gives_band_result(n, m):
    rng = np.random.default_rng(n * m)
    a, b = rng.normal(size=n), rng.normal(size=m)
    for window in (0, 2, ("itakura", 2.0)):
        mask = allowed(window, n, m)
        banded = alignkit.dtw(a, b, window=window)
        masked = alignkit.dtw(a, b, window=mask)
        assert masked.distance == pytest.approx(banded.distance, rel=1e-12)
        np.testing.assert_array_equal(masked.path, banded.path)
        assert alignkit.dtw_distance(a, b, window=mask) == pytest.approx(banded.distance)


@settings(max_examples=60)
@given(_pair(max_length=12), st.data())
def test_random_mask_with_holes_equals_reference(pair, data):
    a, b = pair
    n, m = len(a), len(b)
    holes = data.draw(hnp.arrays(np.bool_, (n, m)))
    mask = holes | diagonal_cells(n, m)
    expected = reference_dtw(a, b, mask=mask)[-1, -1]
    alignment = alignkit.dtw(a, b, window=mask, squared=True)
    assert alignment.distance == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert np.all(mask[alignment.path[:, 0], alignment.path[:, 1]])
    assert alignkit.dtw_distance(a, b, window=mask, squared=True) == pytest.approx(
        expected, rel=1e-9, abs=1e-9
    )


def test_mask_that_disconnects_start_and_end_raises():
    # Every row has a cell and both corners are allowed, yet no path exists.
    mask = np.array([[1, 0, 0], [0, 0, 1], [0, 0, 1]], dtype=bool)
    assert brute_force_dtw(np.zeros(3), np.zeros(3), mask=mask) == np.inf
    for function in (alignkit.dtw, alignkit.dtw_distance):
        with pytest.raises(
            WindowError, match=r"no continuous warping path from \(0, 0\) to \(2, 2\)"
        ):
            function(np.zeros(3), np.zeros(3), window=mask)


def test_mask_with_empty_row_or_blocked_corner_raises():
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False
    with pytest.raises(WindowError, match=r"window mask row 1 has no allowed cell"):
        alignkit.dtw(np.zeros(3), np.zeros(5), window=mask)
    mask = np.ones((3, 5), dtype=bool)
    mask[-1, -1] = False
    with pytest.raises(WindowError, match=r"window mask must allow cells \(0, 0\) and"):
        alignkit.dtw_distance(np.zeros(3), np.zeros(5), window=mask)


def test_mask_with_wrong_shape_names_both_shapes():
    mask = np.ones((4, 6), dtype=bool)
    for function in (alignkit.dtw, alignkit.dtw_distance):
        with pytest.raises(
            WindowError, match=r"window mask has shape \(4, 6\) but the sequences need \(6, 4\)"
        ):
            function(np.zeros(6), np.zeros(4), window=mask)


def test_mask_must_be_boolean():
    with pytest.raises(WindowError, match=r"window mask must have dtype bool, got int64"):
        alignkit.dtw(np.zeros(3), np.zeros(3), window=np.ones((3, 3), dtype=np.int64))


def test_aligner_refuses_a_mask():
    with pytest.raises(InvalidInputError, match=r"DTWAligner window cannot be a mask"):
        alignkit.DTWAligner(window=np.ones((3, 3), dtype=bool)).fit([np.zeros(3)] * 2)


# ---------------------------------------------------------------------------------------------
# Malformed windows
# ---------------------------------------------------------------------------------------------

BAD_WINDOWS = [
    (-1, r"window radius must be >= 0, got -1"),
    (np.int64(-3), r"window radius must be >= 0, got -3"),
    (1.5, r"window as a float is a fraction .* must lie in \[0, 1\], got 1.5"),
    (-0.1, r"window as a float .* got -0.1"),
    (float("nan"), r"window as a float .* got nan"),
    (True, r"window must be an int radius or a float fraction, got True"),
    (("itakura", 0.5), r"window Itakura max_slope must be a finite number >= 1, got 0.5"),
    (("itakura", float("nan")), r"window Itakura max_slope must be a finite number >= 1, got nan"),
    (("itakura", "2"), r"window Itakura max_slope must be a finite number >= 1, got '2'"),
    (("sakoe_chiba", -2), r"window radius must be >= 0, got -2"),
    (("sakoe_chiba", 2.5), r"window as a float .* got 2.5"),
    (("diagonal", 3), r"window kind 'diagonal' is unknown; use 'sakoe_chiba' or 'itakura'"),
    ("itakura", r"window must be None, an int radius, .* got 'itakura'"),
    ([1, 2], r"window must be None, an int radius, .* got \[1, 2\]"),
    ({"radius": 2}, r"window must be None, an int radius, .*got \{'radius': 2\}"),
    (np.ones(3, dtype=bool), r"window must be None, an int radius"),
]


@pytest.mark.parametrize("window, message", BAD_WINDOWS)
def test_bad_window_raises_with_message(window, message):
    with pytest.raises(WindowError, match=message):
        check_window(window)
    with pytest.raises(WindowError, match=message):
        alignkit.dtw(np.zeros(3), np.zeros(4), window=window)
    with pytest.raises(WindowError, match=message):
        alignkit.dtw_distance(np.zeros(3), np.zeros(4), window=window)
    with pytest.raises(WindowError, match=message):
        alignkit.DTWAligner(window=window).fit([np.zeros(3), np.zeros(4)])


def test_window_error_is_a_value_error():
    with pytest.raises(ValueError):
        alignkit.dtw_distance(np.zeros(3), np.zeros(3), window=-1)


# -- Huge radii (issue 13, item 1): a radius of at least both lengths is no constraint ---------

HUGE = [sys.maxsize, 2**63, 10**30]


def test_window_value_resolves_and_clamps_to_the_problem():
    assert check_window(sys.maxsize).resolve(4, 5) == Window()
    assert check_window(5).resolve(4, 5) == Window()
    assert check_window(4).resolve(4, 5) == Window(radius=4)
    assert check_window(0.1).resolve(40, 30) == Window(radius=4)
    assert check_window(1.0).resolve(7, 3) == Window()
    assert check_window(10**30).resolve(8, 9) == Window()
    assert check_window(0.5).resolve(8, 9) == Window(radius=5)  # round(4.5) = 5, halves up
    assert check_window(("itakura", 2)).resolve(5, 6) == Window(slope=2.0)
    mask = np.eye(3, dtype=bool)
    assert check_window(mask) == check_window(mask.copy())
    assert hash(check_window(mask)) == hash(check_window(mask.copy()))
    with pytest.raises(ValueError, match="at most one"):
        Window(radius=1, slope=2.0)


@pytest.mark.parametrize("radius", HUGE)
def test_huge_radius_equals_no_window_everywhere(radius):
    rng = np.random.default_rng(0)
    a, b = np.array([0.0, 1, 2, 3, 5]), np.array([1.0, 2, 3, 4])
    assert alignkit.dtw_distance(a, b, window=radius) == alignkit.dtw_distance(a, b)
    assert alignkit.dtw_distance(a, b) == pytest.approx(math.sqrt(2))
    full, huge = alignkit.dtw(a, b), alignkit.dtw(a, b, window=radius)
    np.testing.assert_array_equal(huge.path, full.path)
    assert huge.distance == full.distance
    for method in ("matrix", "linear"):
        assert alignkit.dtw(a, b, window=radius, method=method).distance == full.distance
    assert distances.lb_keogh(a, b, window=radius) == distances.lb_keogh(a, b)
    assert distances.lb_improved(a, b, window=radius) == distances.lb_improved(a, b)
    for got, expected in zip(distances.envelope(b, window=radius), distances.envelope(b)):
        np.testing.assert_array_equal(got, expected)
    value, grad = distances.soft_dtw_grad(a, b, window=radius)
    expected_value, expected_grad = distances.soft_dtw_grad(a, b)
    assert value == expected_value
    np.testing.assert_array_equal(grad, expected_grad)
    X = [rng.normal(size=n) for n in (6, 9, 7)]
    np.testing.assert_array_equal(
        distances.pairwise_distances(X, window=radius), distances.pairwise_distances(X)
    )
    np.testing.assert_array_equal(distances.dba(X, window=radius), distances.dba(X))
    series = rng.normal(size=40)
    query = series[10:16] + 0.01
    got = distances.subsequence_search(query, series, window=radius, k=2)
    expected = distances.subsequence_search(query, series, window=len(series), k=2)
    assert [(m.start, m.end, m.distance) for m in got] == [
        (m.start, m.end, m.distance) for m in expected
    ]


@pytest.mark.parametrize("radius", HUGE)
def test_huge_radius_in_estimators_equals_no_window(radius):
    X, y = [[0.0, 1, 2], [1.0, 2, 3], [5.0, 5, 4, 3]], [0, 1, 1]
    clf = alignkit.KNeighborsDTWClassifier(window=radius).fit(X, y)
    plain = alignkit.KNeighborsDTWClassifier().fit(X, y)
    query = [[0.5, 1.5, 2.5, 3.0]]
    for got, expected in zip(clf.kneighbors(query, 2), plain.kneighbors(query, 2)):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(
        alignkit.DTWAligner(window=radius).fit_transform(X), alignkit.DTWAligner().fit_transform(X)
    )


def test_huge_radius_in_the_cli(tmp_path, capsys):
    from alignkit.cli import main

    np.savetxt(tmp_path / "a.csv", [0.0, 1, 2, 3, 5])
    np.savetxt(tmp_path / "b.csv", [1.0, 2, 3, 4])
    code = main(["align", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--window",
                 str(sys.maxsize)])  # fmt: skip
    assert code == 0
    assert f"distance: {math.sqrt(2)!r}" in capsys.readouterr().out


def test_huge_radius_does_not_crash_the_interpreter():
    # These crashed the process (uninitialised bounds): run them in a child process.
    code = (
        "import sys, alignkit\n"
        "from alignkit.distances import lb_keogh\n"
        "print(lb_keogh([0., 1, 2, 3], [1., 2, 3, 4], window=sys.maxsize))\n"
        "clf = alignkit.KNeighborsDTWClassifier(window=sys.maxsize).fit([[0., 1, 2], [1., 2, 3]],"
        " [0, 1])\n"
        "print(clf.predict([[0., 1, 2]]).tolist())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == [repr(distances.lb_keogh([0.0, 1, 2, 3], [1.0, 2, 3, 4])),
                                           "[0]"]  # fmt: skip


def test_real_number_windows_are_fractions():
    # fractions.Fraction and numpy floats are numbers.Real: fractions of the longer length.
    a, b = np.sin(np.linspace(0, 6, 40)), np.cos(np.linspace(0, 6, 30))
    expected = alignkit.dtw_distance(a, b, window=0.1)
    windows = (Fraction(1, 10), np.float32(0.1), np.float64(0.1), ("sakoe_chiba", Fraction(1, 10)))
    for window in windows:
        assert alignkit.dtw_distance(a, b, window=window) == expected
    assert check_window(Fraction(1, 10)) == Window(fraction=0.1)
    assert alignkit.dtw_distance(a, b, window=np.int64(4)) == alignkit.dtw_distance(a, b, window=4)
    with pytest.raises(WindowError, match="fraction"):
        check_window(Fraction(3, 2))

"""path_distance against a brute-force double loop; dataset generators against their definitions."""

import numpy as np
import pytest
from _reference import assert_valid_path
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import alignkit
from alignkit import UniformAligner
from alignkit.datasets import make_ecg_pair, make_warped_collection, warp_to_path
from alignkit.exceptions import InvalidInputError
from alignkit.metrics import path_distance


def brute_force_path_distance(p, q):
    """Mean over both paths of each point's Euclidean distance to the nearest point of the other."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    to_q = [min(np.hypot(*(x - y)) for y in q) for x in p]
    to_p = [min(np.hypot(*(y - x)) for x in p) for y in q]
    return (sum(to_q) + sum(to_p)) / (len(p) + len(q))


POINTS = hnp.arrays(
    np.int64, st.tuples(st.integers(1, 15), st.just(2)), elements=st.integers(0, 20)
)


@settings(max_examples=80)
@given(POINTS, POINTS)
def test_path_distance_equals_brute_force(p, q):
    expected = brute_force_path_distance(p, q)
    assert path_distance(p, q) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert path_distance(q, p) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@settings(max_examples=40)
@given(POINTS)
def test_path_distance_is_zero_for_equal_paths(p):
    assert path_distance(p, p) == 0.0
    assert path_distance(p.tolist(), p[::-1]) == 0.0


def test_path_distance_hand_value():
    # (0, 1) is 1 away from both points of the diagonal path: total 1 over 5 points.
    assert path_distance([[0, 0], [1, 1]], [[0, 0], [0, 1], [1, 1]]) == pytest.approx(0.2)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((0, 2)), r"path_a must be a non-empty array of shape \(path_length, 2\)"),
        (np.zeros((3, 3)), r"got shape \(3, 3\)"),
        (np.zeros(4), r"got shape \(4,\)"),
        ([[0, 0], [np.nan, 1]], r"path_a must hold finite numbers"),
    ],
)
def test_path_distance_refuses_bad_paths(bad, message):
    with pytest.raises(InvalidInputError, match=message):
        path_distance(bad, [[0, 0]])


# ---------------------------------------------------------------------------------------------
# warp_to_path
# ---------------------------------------------------------------------------------------------


@st.composite
def warps(draw):
    # One frame of b (m = 1) has its own test below.
    n = draw(st.integers(1, 30))
    m = draw(st.integers(2, 30))
    positions = draw(
        hnp.arrays(np.float64, m, elements=st.floats(-2.0, n + 1.0, allow_subnormal=False))
    )
    return np.sort(positions), n


def _expected_rows(positions, n):
    """Rounded (halves up), clipped positions; the first and last are pinned to the corners."""
    rows = [min(max(int(np.floor(p + 0.5)), 0), n - 1) for p in positions]
    rows[0] = 0
    rows[-1] = n - 1
    return rows


@settings(max_examples=100)
@given(warps())
def test_warp_to_path_is_valid_and_passes_through_rounded_positions(warp):
    positions, n = warp
    m = len(positions)
    path = warp_to_path(positions, n)
    assert_valid_path(path, n, m)
    cells = {tuple(cell) for cell in path.tolist()}
    rows = _expected_rows(positions, n)
    for j in range(1, m - 1):
        assert (rows[j], j) in cells
    # Frames of a that b skips stay with the earlier frame of b: one column per frame of a.
    for i in range(n):
        columns = sorted(j for ii, j in cells if ii == i)
        assert len(columns) == 1 or i == rows[columns[0]]


@pytest.mark.parametrize("n", [1, 2, 5])
def test_warp_to_path_single_frame_of_b(n):
    # Every frame of a is matched to the only frame of b.
    path = warp_to_path([0.0], n)
    np.testing.assert_array_equal(path, np.c_[np.arange(n), np.zeros(n, dtype=int)])


def test_warp_to_path_identity_and_docstring_case():
    np.testing.assert_array_equal(
        warp_to_path(np.arange(5.0), 5), np.c_[np.arange(5), np.arange(5)]
    )
    np.testing.assert_array_equal(
        warp_to_path([0.0, 2.0, 3.0], 4), [[0, 0], [1, 0], [2, 1], [3, 2]]
    )


@pytest.mark.parametrize(
    "positions, message",
    [
        ([], r"positions must be a non-empty 1-D array of finite numbers"),
        ([0.0, np.nan], r"non-empty 1-D array of finite numbers"),
        ([[0.0, 1.0]], r"non-empty 1-D array"),
        ([0.0, 2.0, 1.0], r"positions must be non-decreasing"),
    ],
)
def test_warp_to_path_refuses_bad_positions(positions, message):
    with pytest.raises(InvalidInputError, match=message):
        warp_to_path(positions, 4)


# ---------------------------------------------------------------------------------------------
# Generators
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("random_state", [0, 1, 2])
def test_ecg_pair_dtw_beats_uniform_baseline(random_state):
    a, b, true_path = make_ecg_pair(random_state=random_state)
    assert a.shape == (300, 1) and b.shape == (240, 1)
    assert_valid_path(true_path, 300, 240)
    dtw_error = path_distance(alignkit.dtw(a, b).path, true_path)
    uniform_error = path_distance(UniformAligner().align(a, b).path, true_path)
    assert dtw_error < uniform_error


def test_ecg_pair_is_reproducible_and_sized():
    first = make_ecg_pair(n_timepoints_a=120, n_timepoints_b=150, random_state=5)
    second = make_ecg_pair(n_timepoints_a=120, n_timepoints_b=150, random_state=5)
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)
    assert_valid_path(first[2], 120, 150)
    with pytest.raises(InvalidInputError, match=r"n_beats must be an int >= 2, got 1"):
        make_ecg_pair(n_beats=1)


def test_warped_collection_shapes_labels_and_seed():
    X, y = make_warped_collection(
        n_sequences=30, n_timepoints=(20, 25), n_classes=3, random_state=4
    )
    assert len(X) == 30 and y.shape == (30,)
    assert set(np.unique(y)) <= {0, 1, 2}
    assert all(x.ndim == 2 and x.shape[1] == 1 and 20 <= len(x) <= 25 for x in X)
    X_again, y_again = make_warped_collection(
        n_sequences=30, n_timepoints=(20, 25), n_classes=3, random_state=4
    )
    np.testing.assert_array_equal(y, y_again)
    for x, x_again in zip(X, X_again):
        np.testing.assert_array_equal(x, x_again)

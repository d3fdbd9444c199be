"""DTW against independent truths: a dense reference DP, exhaustive path enumeration, peers.

The reference DP and the enumeration live in ``_reference.py`` and share no
code with alignkit's kernels; the peers (dtw-python, tslearn, aeon) are
separate implementations with documented conventions.
"""

import importlib

import numpy as np
import pytest
from _reference import (
    all_paths,
    as_2d,
    assert_valid_path,
    band_cells,
    brute_force_dtw,
    count_optimal_paths,
    diagonal_cells,
    local_cost,
    path_cost,
    reference_backtrack,
    reference_dtw,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import alignkit
from alignkit.exceptions import InvalidInputError

VALUES = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)
SMALL_INTS = st.integers(-3, 3).map(float)


def _sequence(n_channels, max_length, elements=VALUES):
    shape = st.tuples(st.integers(1, max_length), st.just(n_channels))
    return hnp.arrays(np.float64, shape, elements=elements)


def pairs(max_length=25, max_channels=3, elements=VALUES):
    """Two sequences with the same number of channels and independent lengths."""
    return st.integers(1, max_channels).flatmap(
        lambda c: st.tuples(_sequence(c, max_length, elements), _sequence(c, max_length, elements))
    )


WINDOWS = st.one_of(
    st.none(),
    st.integers(0, 30),
    st.floats(0.0, 1.0),
    st.tuples(st.just("sakoe_chiba"), st.integers(0, 6)),
    st.tuples(st.just("sakoe_chiba"), st.floats(0.0, 1.0)),
    st.tuples(st.just("itakura"), st.floats(1.0, 4.0)),
)


def _close(actual, expected):
    return actual == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=80)
@given(pairs())
def test_distance_equals_reference_dp(pair):
    a, b = pair
    expected = reference_dtw(a, b)[-1, -1]
    assert _close(alignkit.dtw(a, b, squared=True).distance, expected)
    assert _close(alignkit.dtw(a, b).distance, np.sqrt(expected))
    assert _close(alignkit.dtw_distance(a, b, squared=True), expected)
    assert _close(alignkit.dtw_distance(a, b), np.sqrt(expected))


@settings(max_examples=80)
@given(pairs(max_length=6))
def test_distance_equals_exhaustive_path_enumeration(pair):
    a, b = pair
    best = brute_force_dtw(a, b)
    alignment = alignkit.dtw(a, b, squared=True)
    assert _close(alignment.distance, best)
    assert _close(alignkit.dtw_distance(a, b, squared=True), best)
    assert any(np.array_equal(alignment.path, p) for p in all_paths(len(a), len(b)))


@settings(max_examples=80)
@given(pairs(), WINDOWS)
def test_path_is_valid_and_its_cost_is_the_distance(pair, window):
    a, b = pair
    alignment = alignkit.dtw(a, b, window=window, squared=True)
    assert_valid_path(alignment.path, len(a), len(b))
    assert alignment.shape == (len(a), len(b))
    assert _close(path_cost(a, b, alignment.path), alignment.distance)
    np.testing.assert_array_equal(alignment.index_a, alignment.path[:, 0])
    np.testing.assert_array_equal(alignment.index_b, alignment.path[:, 1])


@settings(max_examples=80)
@given(pairs(max_length=12, elements=SMALL_INTS))
def test_symmetry_distance_always_path_when_optimum_unique(pair):
    # Small integers make every cost exact, so ties are detected exactly.
    a, b = pair
    forward = alignkit.dtw(a, b, squared=True)
    backward = alignkit.dtw(b, a, squared=True)
    assert forward.distance == backward.distance
    assert alignkit.dtw_distance(b, a, squared=True) == forward.distance
    if count_optimal_paths(a, b, tol=0.0) == 1:
        np.testing.assert_array_equal(backward.path, forward.path[:, ::-1])
    else:
        assert path_cost(b, a, backward.path) == path_cost(a, b, forward.path)


def test_symmetry_of_paths_on_random_floats():
    rng = np.random.default_rng(0)
    for _ in range(30):
        a = rng.normal(size=(rng.integers(2, 30), 2))
        b = rng.normal(size=(rng.integers(2, 30), 2))
        assert count_optimal_paths(a, b) == 1
        forward, backward = alignkit.dtw(a, b), alignkit.dtw(b, a)
        np.testing.assert_array_equal(backward.path, forward.path[:, ::-1])
        np.testing.assert_array_equal(forward.path, reference_backtrack(reference_dtw(a, b)))


@settings(max_examples=50)
@given(pairs(), WINDOWS)
def test_self_distance_is_zero(pair, window):
    a, _ = pair
    assert alignkit.dtw(a, a, window=window).distance == 0.0
    assert alignkit.dtw_distance(a, a, window=window) == 0.0


@settings(max_examples=100)
@given(pairs(), WINDOWS, st.booleans())
def test_dtw_distance_equals_dtw_for_every_window(pair, window, squared):
    a, b = pair
    expected = alignkit.dtw(a, b, window=window, squared=squared).distance
    assert _close(alignkit.dtw_distance(a, b, window=window, squared=squared), expected)
    assert _close(alignkit.dtw_distance(b, a, window=window, squared=squared), expected)


@settings(max_examples=60)
@given(pairs(), st.integers(0, 6))
def test_cost_matrix_matches_reference_under_band(pair, radius):
    a, b = pair
    n, m = len(a), len(b)
    expected = reference_dtw(a, b, mask=band_cells(n, m, radius))
    alignment = alignkit.dtw(a, b, window=radius, squared=True, return_cost_matrix=True)
    assert alignment.cost_matrix.shape == (n, m)
    np.testing.assert_array_equal(np.isinf(alignment.cost_matrix), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(
        alignment.cost_matrix[finite], expected[finite], rtol=1e-9, atol=1e-9
    )
    assert _close(alignment.distance, expected[-1, -1])


@settings(max_examples=40)
@given(pairs())
def test_cost_matrix_full_window_and_no_matrix_by_default(pair):
    a, b = pair
    expected = reference_dtw(a, b)
    alignment = alignkit.dtw(a, b, return_cost_matrix=True)
    np.testing.assert_allclose(alignment.cost_matrix, expected, rtol=1e-9, atol=1e-9)
    assert alignkit.dtw(a, b).cost_matrix is None


def test_repeated_frame_has_zero_cost():
    alignment = alignkit.dtw([1.0, 2.0, 3.0], [1.0, 2.0, 2.0, 3.0])
    assert alignment.distance == 0.0
    assert path_cost([1, 2, 3], [1, 2, 2, 3], alignment.path) == 0.0
    assert_valid_path(alignment.path, 3, 4)


def test_hand_computed_unequal_lengths():
    # Optimal: 0-0, 1-0 or 1-1, 2-1: costs 0 + 1 + 0 = 1 (0-0, 1-1 costs 0 + 1; ...).
    a, b = [0.0, 1.0, 2.0], [0.0, 2.0]
    assert alignkit.dtw_distance(a, b, squared=True) == brute_force_dtw(a, b) == 1.0


def test_univariate_equals_single_channel_column():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=17), rng.normal(size=23)
    flat = alignkit.dtw(a, b, window=3)
    column = alignkit.dtw(a[:, None], b[:, None], window=3)
    assert flat.distance == column.distance
    np.testing.assert_array_equal(flat.path, column.path)
    assert alignkit.dtw_distance(a, b[:, None]) == alignkit.dtw_distance(a[:, None], b)


def test_multichannel_cost_is_summed_over_channels():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(12, 3)), rng.normal(size=(9, 3))
    padded = alignkit.dtw(np.c_[a, np.zeros(12)], np.c_[b, np.zeros(9)], squared=True)
    assert _close(padded.distance, alignkit.dtw(a, b, squared=True).distance)
    assert _close(padded.distance, reference_dtw(a, b)[-1, -1])


@pytest.mark.parametrize("length", [1, 5])
def test_length_one_sequence(length):
    rng = np.random.default_rng(3)
    single, other = rng.normal(size=1), rng.normal(size=length)
    expected = float(np.sum((other - single[0]) ** 2))
    alignment = alignkit.dtw(single, other, squared=True)
    assert _close(alignment.distance, expected)
    np.testing.assert_array_equal(alignment.path, np.c_[np.zeros(length), np.arange(length)])
    transposed = alignkit.dtw(other, single, squared=True)
    np.testing.assert_array_equal(transposed.path, alignment.path[:, ::-1])
    for window in (None, 0, 0.5, ("itakura", 2.0)):
        assert _close(alignkit.dtw_distance(single, other, window=window, squared=True), expected)


def test_radius_zero_equal_lengths_is_euclidean():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(40, 2)), rng.normal(size=(40, 2))
    assert _close(alignkit.dtw_distance(a, b, window=0), np.linalg.norm(a - b))
    np.testing.assert_array_equal(
        alignkit.dtw(a, b, window=0).path, np.c_[np.arange(40), np.arange(40)]
    )


def test_radius_zero_unequal_lengths_follows_diagonal_cells():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=7), rng.normal(size=12)
    expected = reference_dtw(a, b, mask=diagonal_cells(7, 12))[-1, -1]
    assert _close(alignkit.dtw(a, b, window=0, squared=True).distance, expected)


# ---------------------------------------------------------------------------------------------
# Peer libraries as oracles. Conventions differ; each test names the one it relies on.
# ---------------------------------------------------------------------------------------------


def _random_pairs(seed, count, equal=False, n_channels=1):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(2, 40))
        m = n if equal else int(rng.integers(2, 40))
        yield rng.normal(size=(n, n_channels)), rng.normal(size=(m, n_channels))


@pytest.mark.parametrize("n_channels", [1, 3])
def test_dtw_python_full_window(n_channels):
    """dtw-python with symmetric1 and sqeuclidean local cost is our squared distance.

    Random normal inputs have a unique optimum (checked), so the paths must be
    the same set of cells whatever the tie-breaking rule.
    """
    dtw_python = importlib.import_module("dtw")
    for a, b in _random_pairs(10 + n_channels, 20, n_channels=n_channels):
        peer = dtw_python.dtw(a, b, dist_method="sqeuclidean", step_pattern=dtw_python.symmetric1)
        ours = alignkit.dtw(a, b, squared=True)
        assert _close(ours.distance, peer.distance)
        assert count_optimal_paths(a, b) == 1
        peer_path = np.c_[peer.index1, peer.index2]
        assert {tuple(c) for c in ours.path} == {tuple(c) for c in peer_path}


def test_dtw_python_sakoe_chiba_equal_lengths():
    """dtw-python's ``sakoechiba`` window is ``|i - j| <= window_size``: our int radius.

    dtw-python does not slant the band for unequal lengths, so only equal
    lengths are compared.
    """
    dtw_python = importlib.import_module("dtw")
    rng = np.random.default_rng(20)
    for a, b in _random_pairs(21, 20, equal=True):
        radius = int(rng.integers(0, len(a)))
        peer = dtw_python.dtw(
            a,
            b,
            dist_method="sqeuclidean",
            step_pattern=dtw_python.symmetric1,
            window_type="sakoechiba",
            window_args={"window_size": radius},
        )
        ours = alignkit.dtw(a, b, window=radius, squared=True)
        assert _close(ours.distance, peer.distance)
        assert {tuple(c) for c in ours.path} == set(zip(peer.index1, peer.index2))


def test_tslearn_full_window_and_equal_length_band():
    """tslearn returns the square root of the summed squared cost: our default.

    Its Sakoe-Chiba band is ``|i - j| <= r`` for equal lengths; for unequal
    lengths it widens by the length difference, which we check by passing
    tslearn's own mask to alignkit.
    """
    metrics = importlib.import_module("tslearn.metrics")
    rng = np.random.default_rng(30)
    for a, b in _random_pairs(31, 15, n_channels=2):
        assert _close(alignkit.dtw_distance(a, b), metrics.dtw(a, b))
        mask = metrics.sakoe_chiba_mask(len(a), len(b), radius=2)
        peer = metrics.dtw(a, b, global_constraint="sakoe_chiba", sakoe_chiba_radius=2)
        assert _close(alignkit.dtw(a, b, window=mask).distance, peer)
        assert _close(alignkit.dtw_distance(a, b, window=mask), peer)
    for a, b in _random_pairs(32, 15, equal=True):
        radius = int(rng.integers(0, len(a)))
        peer = metrics.dtw(a, b, global_constraint="sakoe_chiba", sakoe_chiba_radius=radius)
        assert _close(alignkit.dtw_distance(a, b, window=radius), peer)
        path, peer_distance = metrics.dtw_path(
            a, b, global_constraint="sakoe_chiba", sakoe_chiba_radius=radius
        )
        assert {tuple(c) for c in alignkit.dtw(a, b, window=radius).path} == set(path)


def test_aeon_full_window_and_equal_length_band():
    """aeon returns the summed squared cost (no square root): our ``squared=True``.

    aeon takes multichannel series as ``(n_channels, n_timepoints)``. Its
    ``window`` is a fraction ``w`` and the radius is ``int(w * min(n, m))``
    around an interpolated diagonal; for equal lengths that is ``|i - j| <= r``
    with ``w = (r + 0.5) / n`` (the half avoids ``int`` truncating
    ``r / n * n`` to ``r - 1``). For unequal lengths aeon's band differs from
    ours (fraction of the shorter length, different diagonal), so it is not
    compared.
    """
    distances = importlib.import_module("aeon.distances")
    rng = np.random.default_rng(40)
    for a, b in _random_pairs(41, 15, n_channels=2):
        peer = distances.dtw_distance(a.T, b.T)
        assert _close(alignkit.dtw_distance(a, b, squared=True), peer)
    for a, b in _random_pairs(42, 15, equal=True):
        n = len(a)
        radius = int(rng.integers(0, n))
        peer = distances.dtw_distance(a[:, 0], b[:, 0], window=(radius + 0.5) / n)
        assert _close(alignkit.dtw_distance(a, b, window=radius, squared=True), peer)


def test_local_cost_reference_is_squared_euclidean():
    # Guard for the yardstick itself: compare with a vectorised formula.
    rng = np.random.default_rng(50)
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    vectorised = ((as_2d(a)[:, None, :] - as_2d(b)[None, :, :]) ** 2).sum(axis=2)
    np.testing.assert_allclose(local_cost(a, b), vectorised)


def test_overflowing_squared_cost_is_reported_with_the_arguments():
    # Issue 13, item 2: inputs around 1e154 overflow the squared cost; inf and a false
    # "no continuous warping path" were returned.
    from alignkit.distances import pairwise_distances

    a, b = np.array([0.0, 1e155, 2.0]), np.array([0.0, -1e155])
    message = r"summed squared DTW cost between a and b overflows float64 .* 1e\+155"
    with pytest.raises(InvalidInputError, match=message):
        alignkit.dtw_distance(a, b)
    for method in ("matrix", "linear"):
        with pytest.raises(InvalidInputError, match=message):
            alignkit.dtw(a, b, method=method)
    for engine in ("joblib", "numba"):
        with pytest.raises(InvalidInputError, match=r"between X\[0\] and X\[1\] overflows"):
            pairwise_distances([np.zeros(3), a, b], engine=engine)
        with pytest.raises(InvalidInputError, match=r"between X\[1\] and Y\[0\] overflows"):
            pairwise_distances([b, a], [b], engine=engine)
    # Large values that do not overflow are fine.
    assert np.isfinite(alignkit.dtw_distance(a / 1e10, b / 1e10))


@pytest.mark.parametrize("value", ["no", "", 0, 1, None, 1.0, np.array(True)])
@pytest.mark.parametrize(
    "function, name",
    [
        ("dtw_distance", "squared"),
        ("dtw", "squared"),
        ("dtw", "return_cost_matrix"),
        ("dtw", "open_begin"),
        ("dtw", "open_end"),
    ],
)
def test_flags_that_are_not_booleans_are_refused(function, name, value):
    # Issue 13, item 4: squared="no" was read by truthiness. The message is scikit-learn's
    # for a "boolean" constraint (the oracle), with the function and the argument.
    from sklearn.utils._param_validation import InvalidParameterError as SklearnError
    from sklearn.utils._param_validation import validate_parameter_constraints

    from alignkit.exceptions import InvalidParameterError

    with pytest.raises(SklearnError) as expected:
        validate_parameter_constraints({name: ["boolean"]}, {name: value}, function)
    with pytest.raises(InvalidParameterError) as raised:
        getattr(alignkit, function)([0.0, 1.0, 2.0], [0.0, 2.0], **{name: value})
    assert str(raised.value) == str(expected.value)
    assert f"'{name}' parameter of {function}" in str(raised.value)


def test_numpy_booleans_are_read_as_booleans():
    a, b = [0.0, 1.0, 2.0], [0.0, 2.0]
    assert alignkit.dtw_distance(a, b, squared=np.True_) == brute_force_dtw(a, b)
    assert alignkit.dtw_distance(a, b, squared=np.False_) == np.sqrt(brute_force_dtw(a, b))
    alignment = alignkit.dtw(a, b, squared=np.True_, return_cost_matrix=np.True_)
    assert alignment.distance == brute_force_dtw(a, b)
    np.testing.assert_allclose(alignment.cost_matrix, reference_dtw(a, b))

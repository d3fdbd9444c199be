"""Tests of alignkit-shapedtw against independent truths.

Descriptors are checked against loop-by-loop numpy definitions written here,
the aligner against plain DTW (its ``subsequence_length=1`` reduction), aeon's
``shape_dtw_alignment_path`` (a peer implementation) and known time warps.
"""

import importlib
import pickle

import numpy as np
import pytest
from alignkit_shapedtw import ShapeDTWAligner, shape_descriptors
from sklearn.base import clone

import alignkit
from alignkit.datasets import make_ecg_pair, warp_to_path
from alignkit.exceptions import InvalidInputError, WindowError
from alignkit.metrics import path_distance

# --- brute-force definitions --------------------------------------------------------------


def brute_subsequence(x, t, length):
    """Subsequence of length ``length`` centred on ``t``, ends padded by repetition."""
    half = length // 2
    return np.array([x[min(max(t + k - half, 0), len(x) - 1)] for k in range(length)])


def brute_parts(s, n_parts):
    length = len(s)
    return [s[(k * length) // n_parts : ((k + 1) * length) // n_parts] for k in range(n_parts)]


def brute_paa(s, n_segments):
    return [np.mean(part) for part in brute_parts(s, n_segments)]


def brute_slope(s, n_intervals):
    return [np.polyfit(np.arange(len(part)), part, 1)[0] for part in brute_parts(s, n_intervals)]


def brute_descriptor(s, descriptor, paa_segments, n_intervals, weight):
    if descriptor == "raw":
        return list(s)
    if descriptor == "paa":
        return brute_paa(s, paa_segments)
    if descriptor == "derivative":
        return [s[k + 1] - s[k] for k in range(len(s) - 1)]
    if descriptor == "slope":
        return brute_slope(s, n_intervals)
    return brute_slope(s, n_intervals) + [weight * v for v in brute_paa(s, paa_segments)]


def brute_descriptors(x, length, descriptor, paa_segments=5, n_intervals=5, weight=1.0):
    x = np.asarray(x, dtype=float).reshape(len(x), -1)
    rows = []
    for t in range(len(x)):
        row = []
        for channel in range(x.shape[1]):
            s = brute_subsequence(x[:, channel], t, length)
            row += brute_descriptor(s, descriptor, paa_segments, n_intervals, weight)
        rows.append(row)
    return np.array(rows)


def assert_valid_path(path, n, m):
    assert path.dtype == np.int64 and path.shape[1] == 2
    assert path[0].tolist() == [0, 0]
    assert path[-1].tolist() == [n - 1, m - 1]
    steps = np.diff(path, axis=0)
    assert np.all((steps >= 0) & (steps <= 1)), "path must be monotone and continuous"
    assert np.all(steps.sum(axis=1) >= 1), "path must advance at every step"


def random_walk(rng, length, n_channels=1):
    return rng.standard_normal((length, n_channels)).cumsum(axis=0)


# --- descriptors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "descriptor, length, params",
    [
        ("raw", 1, {}),
        ("raw", 7, {}),
        ("paa", 7, {"paa_segments": 3}),
        ("paa", 9, {"paa_segments": 9}),
        ("paa", 5, {"paa_segments": 1}),
        ("derivative", 3, {}),
        ("derivative", 11, {}),
        ("slope", 9, {"n_intervals": 4}),
        ("slope", 15, {"n_intervals": 5}),
        ("slope", 3, {"n_intervals": 1}),
        ("compound", 11, {"paa_segments": 4, "n_intervals": 3, "compound_weight": 0.5}),
    ],
)
@pytest.mark.parametrize("n_timepoints, n_channels", [(20, 1), (4, 2), (1, 3)])
def test_descriptors_match_brute_force(descriptor, length, params, n_timepoints, n_channels):
    rng = np.random.default_rng(length + n_timepoints)
    x = rng.standard_normal((n_timepoints, n_channels))
    expected = brute_descriptors(
        x,
        length,
        descriptor,
        params.get("paa_segments", 5),
        params.get("n_intervals", 5),
        params.get("compound_weight", 1.0),
    )
    actual = shape_descriptors(x, subsequence_length=length, descriptor=descriptor, **params)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12)


def test_descriptors_of_1d_input_are_one_channel():
    x = np.arange(6.0) ** 2
    np.testing.assert_allclose(
        shape_descriptors(x, 3, "derivative"), brute_descriptors(x, 3, "derivative")
    )


def test_slope_of_a_line_is_its_slope_and_derivative_ignores_offsets():
    # Away from the padded ends, every interval of the line 3 t + 7 has slope 3.
    line = 3.0 * np.arange(30) + 7.0
    slopes = shape_descriptors(line, 9, "slope", n_intervals=4)
    np.testing.assert_allclose(slopes[4:-4], 3.0)
    x = np.sin(np.arange(25) / 3.0)
    np.testing.assert_allclose(
        shape_descriptors(x + 5.0, 7, "derivative"),
        shape_descriptors(x, 7, "derivative"),
        atol=1e-12,
    )


@pytest.mark.parametrize(
    "params, match",
    [
        ({"subsequence_length": 4}, "odd"),
        ({"subsequence_length": 0}, r"\[1, "),
        ({"subsequence_length": 5.0}, "must be an int"),
        ({"subsequence_length": True}, "must be an int"),
        ({"descriptor": "hog1d"}, "descriptor must be one of"),
        ({"descriptor": "derivative", "subsequence_length": 1}, "for descriptor 'derivative'"),
        ({"descriptor": "paa", "subsequence_length": 5, "paa_segments": 6}, "paa_segments"),
        ({"descriptor": "paa", "paa_segments": 0}, "paa_segments"),
        ({"descriptor": "slope", "subsequence_length": 7, "n_intervals": 4}, "two points"),
        ({"descriptor": "compound", "compound_weight": -1.0}, "compound_weight"),
        ({"descriptor": "compound", "compound_weight": np.nan}, "compound_weight"),
    ],
)
def test_bad_parameters_raise_clear_errors(params, match):
    x = np.arange(10.0)
    with pytest.raises(InvalidInputError, match=match):
        shape_descriptors(x, **{"subsequence_length": 15, **params})
    aligner = ShapeDTWAligner(**params)
    with pytest.raises(InvalidInputError, match="ShapeDTWAligner .*" + match):
        aligner.fit([x, x + 1.0])
    with pytest.raises(InvalidInputError, match=match):
        aligner.align(x, x)


def test_unused_parameters_are_not_checked():
    # subsequence_length=1 cannot hold 5 PAA segments, but "raw" does not use them.
    aligner = ShapeDTWAligner(subsequence_length=1, descriptor="raw").fit([np.arange(4.0)] * 2)
    assert aligner.descriptor_params_ == {"subsequence_length": 1, "descriptor": "raw"}


def test_fit_rejects_bad_window_reference_and_channels():
    X = [np.arange(5.0), np.arange(6.0)]
    with pytest.raises(InvalidInputError, match="mask"):
        ShapeDTWAligner(window=np.ones((5, 6), dtype=bool)).fit(X)
    with pytest.raises(WindowError):
        ShapeDTWAligner(window=-1).fit(X)
    with pytest.raises(InvalidInputError, match="'medoid' or an array"):
        ShapeDTWAligner(reference="mean").fit(X)
    with pytest.raises(InvalidInputError, match="channels"):
        ShapeDTWAligner(reference=np.zeros((5, 2))).fit(X)
    with pytest.raises(InvalidInputError, match="channels"):
        ShapeDTWAligner().align(np.zeros((5, 2)), np.zeros((5, 3)))


# --- reductions and oracles -------------------------------------------------------------------


@pytest.mark.parametrize("window", [None, 3, 0.2, ("itakura", 2.0)])
@pytest.mark.parametrize("n_channels", [1, 3])
def test_length_one_raw_is_plain_dtw(window, n_channels):
    rng = np.random.default_rng(n_channels)
    a, b = random_walk(rng, 37, n_channels), random_walk(rng, 29, n_channels)
    shape = ShapeDTWAligner(subsequence_length=1, descriptor="raw", window=window).align(a, b)
    plain = alignkit.dtw(a, b, window=window)
    np.testing.assert_array_equal(shape.path, plain.path)
    assert shape.distance == pytest.approx(plain.distance, rel=1e-12)
    assert shape.shape == plain.shape == (37, 29)


def test_length_one_raw_aligner_is_dtw_aligner():
    X, _ = alignkit.datasets.make_warped_collection(n_sequences=8, random_state=3)
    shape = ShapeDTWAligner(subsequence_length=1).fit(X)
    plain = alignkit.DTWAligner().fit(X)
    assert shape.reference_index_ == plain.reference_index_
    np.testing.assert_allclose(shape.transform(X), plain.transform(X), rtol=1e-12)


@pytest.mark.parametrize(
    "reach, shapes", [(3, ((30, 1), (25, 1))), (2, ((18, 2), (23, 2))), (7, ((40, 1), (40, 1)))]
)
def test_raw_descriptor_matches_aeon(reach, shapes):
    aeon_distances = importlib.import_module("aeon.distances")
    rng = np.random.default_rng(reach)
    a, b = (random_walk(rng, *shape) for shape in shapes)
    aeon_path, aeon_squared = aeon_distances.shape_dtw_alignment_path(a.T, b.T, reach=reach)
    ours = ShapeDTWAligner(subsequence_length=2 * reach + 1).align(a, b)
    np.testing.assert_array_equal(ours.path, np.asarray(aeon_path))
    # aeon reports the summed squared original differences along the path; we its root.
    assert ours.distance**2 == pytest.approx(aeon_squared, rel=1e-9)


@pytest.mark.parametrize("descriptor", ["raw", "paa", "derivative", "slope", "compound"])
def test_paths_are_valid_and_distance_bounded_by_dtw(descriptor):
    rng = np.random.default_rng(11)
    a, b = random_walk(rng, 33, 2), random_walk(rng, 21, 2)
    for window in (None, 2, ("itakura", 1.5)):
        aligner = ShapeDTWAligner(
            subsequence_length=9,
            descriptor=descriptor,
            paa_segments=3,
            n_intervals=2,
            window=window,
        )
        alignment = aligner.align(a, b)
        assert_valid_path(alignment.path, 33, 21)
        # Plain DTW minimises the same summed cost over every path of the window.
        assert alignment.distance >= alignkit.dtw(a, b, window=window).distance - 1e-9


def test_align_accepts_a_mask():
    rng = np.random.default_rng(5)
    a, b = random_walk(rng, 12), random_walk(rng, 10)
    mask = np.zeros((12, 10), dtype=bool)
    for i in range(12):
        mask[i, max(0, i - 3) : min(10, i + 1)] = True
    path = ShapeDTWAligner(subsequence_length=3, window=mask).align(a, b).path
    assert_valid_path(path, 12, 10)
    assert mask[path[:, 0], path[:, 1]].all()


# --- known warps ----------------------------------------------------------------------------


def offset_pair(noise=0.05, seed=0):
    """``b`` is ``a`` along a known warp, shifted up by 1: same shapes, other values."""
    rng = np.random.default_rng(seed)
    n, m = 150, 120

    def signal(t):
        return np.sin(4 * np.pi * t) + 0.5 * np.sin(10 * np.pi * t + 1.0)

    u = np.linspace(0.0, 1.0, m)
    positions = u + 0.08 * np.sin(2 * np.pi * u)
    a = signal(np.linspace(0.0, 1.0, n)) + noise * rng.standard_normal(n)
    b = 1.0 + signal(positions) + noise * rng.standard_normal(m)
    return a, b, warp_to_path(positions * (n - 1), n)


@pytest.mark.parametrize("descriptor", ["derivative", "slope"])
def test_offset_shapes_align_where_dtw_makes_singularities(descriptor):
    a, b, truth = offset_pair()
    dtw_error = path_distance(alignkit.dtw(a, b).path, truth)
    aligner = ShapeDTWAligner(subsequence_length=11, descriptor=descriptor, n_intervals=2)
    shape_error = path_distance(aligner.align(a, b).path, truth)
    assert dtw_error > 3.0
    assert shape_error < 1.5
    assert shape_error < dtw_error / 3


def test_offset_invariance_of_the_derivative_path():
    a, b, _ = offset_pair(noise=0.0)
    aligner = ShapeDTWAligner(subsequence_length=7, descriptor="derivative")
    np.testing.assert_array_equal(aligner.align(a, b).path, aligner.align(a, b - 1.0).path)


def test_raw_shapes_beat_dtw_on_noisy_ecg():
    a, b, truth = make_ecg_pair()
    dtw_error = path_distance(alignkit.dtw(a, b).path, truth)
    shape_error = path_distance(ShapeDTWAligner(subsequence_length=11).align(a, b).path, truth)
    assert shape_error < 0.7 * dtw_error


# --- estimator ------------------------------------------------------------------------------


def test_transform_puts_every_sequence_on_the_reference_timeline():
    X, _ = alignkit.datasets.make_warped_collection(n_sequences=6, random_state=0)
    aligner = ShapeDTWAligner(subsequence_length=5, descriptor="slope", n_intervals=2).fit(X)
    reference = aligner.reference_
    assert reference is not None and aligner.n_channels_ == 1
    np.testing.assert_array_equal(reference, X[aligner.reference_index_])
    out = aligner.transform(X)
    assert out.shape == (6, len(reference), 1)
    # The reference aligned to itself: identical descriptors, so the diagonal, so itself.
    np.testing.assert_allclose(out[aligner.reference_index_], reference)


def test_medoid_minimises_summed_squared_distances():
    X, _ = alignkit.datasets.make_warped_collection(n_sequences=7, random_state=2)
    aligner = ShapeDTWAligner(subsequence_length=7, descriptor="derivative").fit(X)
    totals = [sum(aligner.align(x, z).distance ** 2 for z in X) for x in X]
    assert aligner.reference_index_ == int(np.argmin(totals))


def test_given_reference_and_parallel_jobs():
    X, _ = alignkit.datasets.make_warped_collection(n_sequences=5, random_state=4)
    reference = np.sin(np.linspace(0, 6, 30))
    serial = ShapeDTWAligner(subsequence_length=5, reference=reference).fit(X)
    assert serial.reference_index_ is None
    np.testing.assert_array_equal(serial.reference_, reference[:, None])
    parallel = clone(serial).set_params(n_jobs=2).fit(X)
    np.testing.assert_allclose(parallel.transform(X), serial.transform(X))
    medoid = ShapeDTWAligner(subsequence_length=5, n_jobs=2).fit(X)
    assert medoid.reference_index_ == ShapeDTWAligner(subsequence_length=5).fit(X).reference_index_


def test_clone_pickle_and_unfitted_transform():
    from sklearn.exceptions import NotFittedError

    aligner = ShapeDTWAligner(
        subsequence_length=5,
        descriptor="compound",
        paa_segments=3,
        n_intervals=2,
        compound_weight=0.3,
    )
    assert clone(aligner).get_params() == aligner.get_params()
    with pytest.raises(NotFittedError):
        aligner.transform([np.arange(5.0)])
    X = [np.arange(8.0), np.arange(9.0) ** 0.5]
    fitted = aligner.fit(X)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))

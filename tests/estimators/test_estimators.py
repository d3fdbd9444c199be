"""DTWAligner, UniformAligner and the Alignment helpers against independent truths.

The medoid is recomputed from the reference DP, transforms are re-averaged
by hand along reference paths, and UniformAligner's path and resampling are
rebuilt from their definitions (straight-line rounding, ``np.interp``).
"""

import pickle

import numpy as np
import pytest
from _reference import (
    assert_valid_path,
    itakura_cells,
    local_cost,
    reference_backtrack,
    reference_dtw,
    straight_path,
)
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

import alignkit
from alignkit import Alignment, DTWAligner, UniformAligner
from alignkit.datasets import make_warped_collection
from alignkit.exceptions import AlignkitMemoryError, InvalidInputError
from alignkit.preprocessing import Flatten


def _collection(seed, count=8, n_channels=1, lengths=(10, 30)):
    rng = np.random.default_rng(seed)
    return [
        rng.normal(size=(int(rng.integers(*lengths)), n_channels)).cumsum(axis=0)
        for _ in range(count)
    ]


def _average_along(path, sequence, n_target):
    """Row j: mean of the frames of ``sequence`` that ``path`` matches to target frame j."""
    out = np.zeros((n_target, sequence.shape[1]))
    for j in range(n_target):
        frames = [sequence[i] for i, jj in path if jj == j]
        out[j] = np.mean(frames, axis=0)
    return out


# ---------------------------------------------------------------------------------------------
# DTWAligner
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("window", [None, ("itakura", 2.0)])
@pytest.mark.parametrize("n_channels", [1, 2])
def test_medoid_minimises_summed_reference_costs(window, n_channels):
    """The medoid has the smallest sum of DTW costs (summed squared distances) to the others."""
    X = _collection(n_channels, n_channels=n_channels)
    count = len(X)
    costs = np.zeros((count, count))
    for p in range(count):
        for q in range(count):
            mask = None if window is None else itakura_cells(len(X[p]), len(X[q]), window[1])
            costs[p, q] = reference_dtw(X[p], X[q], mask=mask)[-1, -1]
    aligner = DTWAligner(window=window).fit(X)
    assert aligner.reference_index_ == int(np.argmin(costs.sum(axis=1)))
    np.testing.assert_array_equal(aligner.reference_, X[aligner.reference_index_])
    assert aligner.n_channels_ == n_channels


def test_transform_row_is_mean_of_matched_frames():
    X = _collection(10, n_channels=2)
    aligner = DTWAligner().fit(X)
    reference = aligner.reference_
    transformed = aligner.transform(X)
    assert transformed.shape == (len(X), len(reference), 2)
    for k, sequence in enumerate(X):
        path = reference_backtrack(reference_dtw(sequence, reference))
        expected = _average_along(path.tolist(), sequence, len(reference))
        np.testing.assert_allclose(transformed[k], expected, rtol=1e-12, atol=1e-12)


def test_exact_time_warped_copy_transforms_back_to_reference():
    rng = np.random.default_rng(11)
    reference = rng.normal(size=(25, 2))
    copies = [np.repeat(reference, rng.integers(1, 4, size=25), axis=0) for _ in range(4)]
    aligner = DTWAligner(reference=reference).fit(copies)
    assert aligner.reference_index_ is None
    for copy in copies:
        assert alignkit.dtw_distance(copy, reference) == 0.0
    transformed = aligner.transform(copies)
    for row in transformed:
        np.testing.assert_allclose(row, reference, rtol=1e-14, atol=0)


def test_given_reference_is_used_as_is():
    X = _collection(12)
    reference = np.linspace(-1, 1, 17)
    aligner = DTWAligner(reference=reference, window=3).fit(X)
    np.testing.assert_array_equal(aligner.reference_, reference[:, None])
    assert aligner.transform(X).shape == (len(X), 17, 1)
    single = aligner.transform([X[0]])[0]
    path = alignkit.dtw(X[0], reference, window=3).path
    np.testing.assert_allclose(single, _average_along(path.tolist(), X[0], 17))


def test_align_matches_dtw_with_the_window():
    X = _collection(13, count=2)
    aligner = DTWAligner(window=("itakura", 1.5))
    alignment = aligner.align(X[0], X[1])
    expected = alignkit.dtw(X[0], X[1], window=("itakura", 1.5))
    np.testing.assert_array_equal(alignment.path, expected.path)
    assert alignment.distance == expected.distance


def test_three_d_input_gives_same_result_as_list():
    rng = np.random.default_rng(14)
    X3 = rng.normal(size=(6, 20, 2)).cumsum(axis=1)
    from_array = DTWAligner().fit(X3)
    from_list = DTWAligner().fit(list(X3))
    assert from_array.reference_index_ == from_list.reference_index_
    np.testing.assert_array_equal(from_array.transform(X3), from_list.transform(list(X3)))


def test_two_jobs_give_the_same_result_as_one():
    X = _collection(15, count=12, n_channels=2)
    serial = DTWAligner(window=4, n_jobs=1).fit(X)
    parallel = DTWAligner(window=4, n_jobs=2).fit(X)
    assert parallel.reference_index_ == serial.reference_index_
    np.testing.assert_array_equal(parallel.transform(X), serial.transform(X))


def test_transform_requires_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        DTWAligner().transform([np.zeros(3)])


@pytest.mark.parametrize(
    "make",
    [
        lambda: DTWAligner(window=3),
        lambda: DTWAligner(reference=np.linspace(0, 1, 9)),
        lambda: UniformAligner(n_timepoints=12),
    ],
)
def test_clone_and_pickle_round_trips_give_identical_transforms(make):
    X = _collection(16, count=6)
    fitted = make().fit(X)
    expected = fitted.transform(X)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(X), expected)
    refitted = clone(fitted).fit(X)
    np.testing.assert_array_equal(refitted.transform(X), expected)
    assert clone(fitted).get_params().keys() == fitted.get_params().keys()


def test_pipeline_and_grid_search_on_variable_length_lists():
    """Aligning beats (or ties) uniform resampling on timing-jittered classes.

    The classes of ``make_warped_collection`` differ in frequency, so uniform
    resampling already separates them well; DTW must do at least as well.
    """
    dtw_scores, uniform_scores = [], []
    for seed in (1, 2):
        X, y = make_warped_collection(n_sequences=60, n_classes=3, random_state=seed)
        assert len({len(x) for x in X}) > 1
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.5, random_state=0, stratify=y
        )
        pipeline = Pipeline(
            [
                ("dtwaligner", DTWAligner()),
                ("flatten", Flatten()),
                ("logisticregression", LogisticRegression(max_iter=2000)),
            ]
        )
        search = GridSearchCV(pipeline, {"dtwaligner__window": [None, 0.1, 0.3]}, cv=3)
        search.fit(X_train, y_train)
        assert search.best_params_["dtwaligner__window"] in (None, 0.1, 0.3)
        dtw_scores.append(search.score(X_test, y_test))
        uniform = Pipeline(
            [
                ("uniformaligner", UniformAligner()),
                ("flatten", Flatten()),
                ("logisticregression", LogisticRegression(max_iter=2000)),
            ]
        )
        uniform_scores.append(uniform.fit(X_train, y_train).score(X_test, y_test))
    assert np.mean(dtw_scores) >= np.mean(uniform_scores)
    assert np.mean(dtw_scores) > 0.9


# ---------------------------------------------------------------------------------------------
# UniformAligner
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 7, 12])
@pytest.mark.parametrize("m", [1, 2, 5, 7, 20])
def test_uniform_path_is_rounded_straight_line(n, m):
    rng = np.random.default_rng(n * 100 + m)
    a, b = rng.normal(size=(n, 2)), rng.normal(size=(m, 2))
    alignment = UniformAligner().align(a, b)
    expected = straight_path(n, m)
    np.testing.assert_array_equal(alignment.path, expected)
    assert_valid_path(alignment.path, n, m)
    cost = local_cost(a, b)[expected[:, 0], expected[:, 1]].sum()
    assert alignment.distance == pytest.approx(np.sqrt(cost), rel=1e-12)
    assert alignment.distance >= alignkit.dtw_distance(a, b) - 1e-12


def _interp_resample(sequence, length):
    sequence = np.asarray(sequence, dtype=float).reshape(len(sequence), -1)
    if len(sequence) == 1:
        return np.repeat(sequence, length, axis=0)
    positions = np.linspace(0, len(sequence) - 1, length)
    return np.stack(
        [np.interp(positions, np.arange(len(sequence)), column) for column in sequence.T], axis=1
    )


@pytest.mark.parametrize(
    "n_timepoints, expected_length", [("max", 29), ("min", 1), ("median", 14), (10, 10)]
)
def test_uniform_transform_is_linear_interpolation(n_timepoints, expected_length):
    rng = np.random.default_rng(17)
    X = [rng.normal(size=(length, 2)) for length in (14, 29, 1, 20, 9)]
    aligner = UniformAligner(n_timepoints=n_timepoints).fit(X)
    assert aligner.n_timepoints_ == expected_length
    transformed = aligner.transform(X)
    assert transformed.shape == (5, expected_length, 2)
    for k, sequence in enumerate(X):
        np.testing.assert_allclose(
            transformed[k], _interp_resample(sequence, expected_length), rtol=1e-12, atol=1e-12
        )


@pytest.mark.parametrize("bad", [0, -3, 2.5, "mean", None, True])
def test_uniform_bad_n_timepoints(bad):
    with pytest.raises(
        InvalidInputError, match=r"'n_timepoints' parameter of UniformAligner must be an int in"
    ):
        UniformAligner(n_timepoints=bad).fit([np.zeros(3)])


def test_uniform_huge_n_timepoints_is_refused_before_allocating():
    # Issue 13, item 5: the whole output is estimated before any allocation.
    aligner = UniformAligner(n_timepoints=10**10).fit([np.zeros(3)])
    with pytest.raises(AlignkitMemoryError, match="n_timepoints=10000000000"):
        aligner.transform([np.zeros(3), np.ones(4)])


# ---------------------------------------------------------------------------------------------
# Alignment helpers
# ---------------------------------------------------------------------------------------------


def _example_alignment(seed=18, n=9, m=13):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(n, 3)), rng.normal(size=(m, 3))
    return a, b, alignkit.dtw(a, b, return_cost_matrix=True)


def test_warp_and_warping_matrices():
    a, b, alignment = _example_alignment()
    a_warped, b_warped = alignment.warp(a, b)
    for k, (i, j) in enumerate(alignment.path):
        np.testing.assert_array_equal(a_warped[k], a[i])
        np.testing.assert_array_equal(b_warped[k], b[j])
    w_a, w_b = alignment.warping_matrices()
    assert w_a.shape == (len(a), len(alignment)) and w_b.shape == (len(b), len(alignment))
    np.testing.assert_allclose(a.T @ w_a, a_warped.T)
    np.testing.assert_allclose(b.T @ w_b, b_warped.T)
    np.testing.assert_array_equal(w_a.sum(axis=0), np.ones(len(alignment)))


def test_warp_to_b_and_to_a_against_loops():
    a, b, alignment = _example_alignment()
    path = alignment.path.tolist()
    np.testing.assert_allclose(alignment.warp_to_b(a), _average_along(path, a, len(b)))
    swapped = [(j, i) for i, j in path]
    np.testing.assert_allclose(alignment.warp_to_a(b), _average_along(swapped, b, len(a)))
    np.testing.assert_allclose(
        alignment.warp_to_b(a[:, 0]), _average_along(path, a[:, :1], len(b))[:, 0]
    )


def test_helpers_refuse_wrong_lengths():
    a, b, alignment = _example_alignment()
    with pytest.raises(
        ValueError, match=r"a has 8 timepoints but this alignment was computed for 9"
    ):
        alignment.warp(a[:-1], b)
    with pytest.raises(ValueError, match=r"b has 12 timepoints .* computed for 13"):
        alignment.warp(a, b[:-1])
    with pytest.raises(ValueError, match=r"a has 8 timepoints"):
        alignment.warp_to_b(a[:-1])
    with pytest.raises(ValueError, match=r"b has 0 timepoints"):
        alignment.warp_to_a(np.float64(1.0))


def test_alignment_pickles():
    _, _, alignment = _example_alignment()
    restored = pickle.loads(pickle.dumps(alignment))
    assert isinstance(restored, Alignment)
    np.testing.assert_array_equal(restored.path, alignment.path)
    assert restored.path.dtype == np.int64
    assert restored.distance == alignment.distance
    assert restored.shape == alignment.shape
    np.testing.assert_array_equal(restored.cost_matrix, alignment.cost_matrix)
    assert len(restored) == len(alignment)
    assert repr(restored) == repr(alignment)

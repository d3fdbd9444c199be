"""k-NN under DTW: pruned search equals brute force, published UCR errors, aeon as an oracle.

Truths: the UCR archive's 1-NN DTW error rates on GunPoint (Dau et al. 2019),
aeon's ``KNeighborsTimeSeriesClassifier(distance="dtw")`` predictions, and
brute force over ``alignkit.dtw_distance`` (a stable sort of every distance,
so ties go to the smaller training index).
"""

import importlib

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

import alignkit
from alignkit.distances import pairwise_distances
from alignkit.estimators._neighbors import (
    DTWDistances,
    KNeighborsDTWClassifier,
    KNeighborsDTWRegressor,
)
from alignkit.exceptions import InvalidInputError, WindowError

_DATA_MODEL = {
    "check_n_features_in": (
        "no n_features_in_: a 2-D X holds univariate sequences whose number of timepoints "
        "(its columns) may change between fit and predict; n_channels_ is the fixed width"
    ),
    "check_n_features_in_after_fitting": (
        "predict accepts another number of columns (timepoints) than fit saw, by design"
    ),
    "check_estimators_empty_data_messages": (
        "a (12, 0) array is 12 empty univariate sequences; the InvalidInputError (a "
        "ValueError) names the empty sequence instead of scikit-learn's '0 feature(s)' wording"
    ),
    "check_classifiers_train": (
        "predict accepts sequences of another length (columns of a 2-D X) than fit saw"
    ),
    "check_transformer_general": (
        "transform accepts sequences of another length (columns of a 2-D X) than fit saw"
    ),
}


_NOT_FOR = {
    KNeighborsDTWClassifier: {"check_transformer_general"},
    KNeighborsDTWRegressor: {"check_transformer_general", "check_classifiers_train"},
    DTWDistances: {"check_classifiers_train"},
}


def _expected_failures(estimator):
    skip = _NOT_FOR[type(estimator)]
    return {name: reason for name, reason in _DATA_MODEL.items() if name not in skip}


@parametrize_with_checks(
    [KNeighborsDTWClassifier(), KNeighborsDTWRegressor(), DTWDistances()],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def gunpoint():
    datasets = importlib.import_module("aeon.datasets")
    out = {}
    for split in ("train", "test"):
        X, y = datasets.load_classification("GunPoint", split=split)
        out[split] = ([np.ascontiguousarray(case.T) for case in X], np.asarray(y), X)
    return out


@pytest.fixture(scope="module")
def gunpoint_distances(gunpoint):
    (train, _, _), (test, _, _) = gunpoint["train"], gunpoint["test"]
    return np.array([[alignkit.dtw_distance(a, b) for b in train] for a in test])


@pytest.mark.parametrize("window, published", [(None, 0.0933), (0, 0.0867)])
def test_gunpoint_reproduces_published_one_nn_error(gunpoint, window, published):
    (train, y_train, _), (test, y_test, _) = gunpoint["train"], gunpoint["test"]
    clf = KNeighborsDTWClassifier(window=window).fit(train, y_train)
    assert round(float(np.mean(clf.predict(test) != y_test)), 4) == published
    # Pruning did work: fewer DP cells than a brute-force search.
    _, stats = clf.kneighbors(test, return_distance=False, return_stats=True)
    assert stats["cells"] < 0.5
    assert stats["n_pairs"] == len(train) * len(test)


def test_gunpoint_pruned_dtw_keeps_the_brute_force_neighbours_with_few_cells(
    gunpoint, gunpoint_distances
):
    (train, y_train, _), (test, _, _) = gunpoint["train"], gunpoint["test"]
    clf = KNeighborsDTWClassifier(n_neighbors=3).fit(train, y_train)
    before = clf.__dict__.copy()
    _, indices, stats = clf.kneighbors(test, return_stats=True)
    np.testing.assert_array_equal(
        indices, np.argsort(gunpoint_distances, axis=1, kind="stable")[:, :3]
    )
    # PrunedDTW computes 4.4% of the cells here; abandoning whole rows
    # (the search before PrunedDTW) computed 14.6%.
    assert stats["cells"] < 0.08
    assert stats["early_abandon"] > 0
    # The search leaves the estimator as it was.
    assert clf.__dict__.keys() == before.keys()


def test_gunpoint_matches_aeon_one_nn(gunpoint):
    distance_based = importlib.import_module("aeon.classification.distance_based")
    (train, y_train, raw_train), (test, _, raw_test) = gunpoint["train"], gunpoint["test"]
    aeon = distance_based.KNeighborsTimeSeriesClassifier(distance="dtw").fit(raw_train, y_train)
    ours = KNeighborsDTWClassifier().fit(train, y_train)
    np.testing.assert_array_equal(ours.predict(test), aeon.predict(raw_test))


def test_gunpoint_three_nn_distance_weights_match_brute_force(gunpoint, gunpoint_distances):
    (train, y_train, _), (test, _, _) = gunpoint["train"], gunpoint["test"]
    order = np.argsort(gunpoint_distances, axis=1, kind="stable")[:, :3]
    nearest = np.take_along_axis(gunpoint_distances, order, axis=1)
    classes = np.unique(y_train)
    votes = np.zeros((len(test), len(classes)))
    for row in range(len(test)):
        for col in range(3):
            votes[row, np.searchsorted(classes, y_train[order[row, col]])] += (
                1.0 / nearest[row, col]
            )
    clf = KNeighborsDTWClassifier(n_neighbors=3, weights="distance").fit(train, y_train)
    distances, indices = clf.kneighbors(test)
    np.testing.assert_array_equal(indices, order)
    np.testing.assert_allclose(distances, nearest, rtol=1e-12)
    np.testing.assert_allclose(clf.predict_proba(test), votes / votes.sum(1, keepdims=True))
    np.testing.assert_array_equal(clf.predict(test), classes[np.argmax(votes, axis=1)])


def test_precomputed_knn_pipeline_matches_the_classifier(gunpoint):
    (train, y_train, _), (test, _, _) = gunpoint["train"], gunpoint["test"]
    for k in (1, 3):
        pipe = make_pipeline(DTWDistances(), KNeighborsClassifier(k, metric="precomputed"))
        ours = KNeighborsDTWClassifier(n_neighbors=k).fit(train, y_train)
        np.testing.assert_array_equal(pipe.fit(train, y_train).predict(test), ours.predict(test))


def test_svm_on_a_dtw_kernel_in_a_pipeline(gunpoint, gunpoint_distances):
    (train, y_train, _), (test, _, _) = gunpoint["train"], gunpoint["test"]
    sigma = 2.0
    pipe = make_pipeline(
        DTWDistances(),
        FunctionTransformer(lambda d: np.exp(-d / sigma)),
        SVC(kernel="precomputed"),
    )
    gram = np.exp(-np.array([[alignkit.dtw_distance(a, b) for b in train] for a in train]) / sigma)
    reference = SVC(kernel="precomputed").fit(gram, y_train)
    np.testing.assert_array_equal(
        pipe.fit(train, y_train).predict(test),
        reference.predict(np.exp(-gunpoint_distances / sigma)),
    )


def _random_collection(rng, count, lengths, channels):
    return [rng.normal(size=(rng.integers(*lengths), channels)) for _ in range(count)]


@pytest.mark.parametrize("window", [None, 0, 2, 0.3, ("itakura", 1.5)])
@pytest.mark.parametrize("lengths, channels", [((12, 13), 1), ((12, 13), 2), ((6, 16), 1)])
def test_pruned_search_equals_brute_force_with_ties(window, lengths, channels):
    rng = np.random.default_rng(hash((str(window), lengths, channels)) % 2**32)
    train = _random_collection(rng, 25, lengths, channels)
    # Duplicates make exact ties; near copies make close calls.
    train += [train[3].copy(), train[0] + 1e-12, train[3].copy()]
    test = _random_collection(rng, 10, lengths, channels) + [train[3].copy()]
    brute = np.array([[alignkit.dtw_distance(a, b, window=window) for b in train] for a in test])
    order = np.argsort(brute, axis=1, kind="stable")
    for k in (1, 4, len(train)):
        for lower_bounds in (True, False):
            clf = KNeighborsDTWClassifier(k, window=window, lower_bounds=lower_bounds)
            clf.fit(train, np.arange(len(train)) % 3)
            distances, indices = clf.kneighbors(test)
            np.testing.assert_array_equal(indices, order[:, :k])
            np.testing.assert_allclose(
                distances, np.take_along_axis(brute, order[:, :k], axis=1), rtol=1e-12
            )


def test_kneighbors_of_the_training_set_exclude_each_sequence():
    rng = np.random.default_rng(11)
    train = _random_collection(rng, 15, (8, 12), 1)
    brute = np.array([[alignkit.dtw_distance(a, b) for b in train] for a in train])
    np.fill_diagonal(brute, np.inf)
    clf = KNeighborsDTWClassifier(n_neighbors=2).fit(train, np.arange(15) % 2)
    np.testing.assert_array_equal(
        clf.kneighbors(return_distance=False), np.argsort(brute, axis=1, kind="stable")[:, :2]
    )


@pytest.mark.parametrize("weights", ["uniform", "distance", lambda d: 1.0 / (1.0 + d)])
def test_regressor_is_the_weighted_mean_of_brute_force_neighbours(weights):
    rng = np.random.default_rng(12)
    train, test = _random_collection(rng, 20, (8, 14), 2), _random_collection(rng, 6, (8, 14), 2)
    y = rng.normal(size=(20, 2))
    brute = np.array([[alignkit.dtw_distance(a, b, window=3) for b in train] for a in test])
    order = np.argsort(brute, axis=1, kind="stable")[:, :4]
    d = np.take_along_axis(brute, order, axis=1)
    if isinstance(weights, str):
        w = np.ones_like(d) if weights == "uniform" else 1.0 / d
    else:
        w = weights(d)
    expected = (w[:, :, None] * y[order]).sum(axis=1) / w.sum(axis=1)[:, None]
    reg = KNeighborsDTWRegressor(n_neighbors=4, window=3, weights=weights).fit(train, y)
    np.testing.assert_allclose(reg.predict(test), expected, rtol=1e-10)
    reg_1d = KNeighborsDTWRegressor(n_neighbors=4, window=3, weights=weights).fit(train, y[:, 0])
    np.testing.assert_allclose(reg_1d.predict(test), expected[:, 0], rtol=1e-10)


def test_pruning_stats_without_bounds_count_every_cell(gunpoint):
    (train, y_train, _), (test, _, _) = gunpoint["train"], gunpoint["test"]
    clf = KNeighborsDTWClassifier(window=0.1, lower_bounds=False).fit(train, y_train)
    _, _, stats = clf.kneighbors(test[:5], return_stats=True)
    assert stats == {
        "n_pairs": 5 * len(train),
        "lb_kim": 0.0,
        "lb_keogh": 0.0,
        "early_abandon": 0.0,
        "cells": 1.0,
    }


def test_n_jobs_gives_the_same_neighbours(gunpoint):
    (train, y_train, _), (test, _, _) = gunpoint["train"], gunpoint["test"]
    one = KNeighborsDTWClassifier(n_neighbors=2, window=5).fit(train, y_train)
    two = KNeighborsDTWClassifier(n_neighbors=2, window=5, n_jobs=2).fit(train, y_train)
    indices_one, stats_one = one.kneighbors(test[:20], return_distance=False, return_stats=True)
    indices_two, stats_two = two.kneighbors(test[:20], return_distance=False, return_stats=True)
    np.testing.assert_array_equal(indices_one, indices_two)
    assert stats_one == stats_two


def test_invalid_arguments_are_named():
    X, y = [np.zeros(5), np.ones(6)], [0, 1]
    with pytest.raises(ValueError, match="'n_neighbors' parameter of KNeighborsDTWClassifier"):
        KNeighborsDTWClassifier(n_neighbors=0).fit(X, y)
    with pytest.raises(ValueError, match="'weights' parameter of KNeighborsDTWRegressor must be"):
        KNeighborsDTWRegressor(weights="far").fit(X, y)
    with pytest.raises(WindowError, match="mask"):
        KNeighborsDTWClassifier(window=np.ones((5, 5), dtype=bool)).fit(X, y)
    with pytest.raises(ValueError, match="y has 3 labels but X holds 2 sequences"):
        KNeighborsDTWClassifier().fit(X, [0, 1, 1])
    clf = KNeighborsDTWClassifier().fit(X, y)
    with pytest.raises(ValueError, match="n_neighbors <= n_samples_fit"):
        clf.kneighbors(X, n_neighbors=3)
    with pytest.raises(InvalidInputError, match="channels"):
        clf.predict([np.zeros((5, 2))])


@pytest.mark.parametrize(
    "make, parameter",
    [
        (lambda: KNeighborsDTWClassifier(lower_bounds=None), "lower_bounds"),
        (lambda: KNeighborsDTWClassifier(lower_bounds="no"), "lower_bounds"),
        (lambda: KNeighborsDTWClassifier(n_jobs=2.5), "n_jobs"),
        (lambda: KNeighborsDTWRegressor(n_neighbors=True), "n_neighbors"),
    ],
)
def test_parameters_are_not_read_by_truthiness(make, parameter):
    # Issue 13, item 4: lower_bounds=None and n_jobs=2.5 were read by truthiness.
    with pytest.raises(InvalidInputError, match=f"'{parameter}' parameter of"):
        make().fit([np.zeros(5), np.ones(6)], [0, 1])


def test_dtw_distances_squared_must_be_a_bool():
    with pytest.raises(InvalidInputError, match="'squared' parameter of DTWDistances"):
        DTWDistances(squared="no").fit([np.zeros(5), np.ones(6)])
    with pytest.raises(InvalidInputError, match="'squared' parameter of pairwise_distances"):
        pairwise_distances([np.zeros(5), np.ones(6)], squared="no")


def test_a_weights_callable_that_returns_nan_is_named():
    # Issue 13, item 4: NaN weights always predicted class 0.
    X, y = [np.zeros(5), np.ones(6), np.full(5, 2.0)], [0, 1, 1]
    clf = KNeighborsDTWClassifier(n_neighbors=2, weights=lambda d: d * np.nan).fit(X, y)
    with pytest.raises(InvalidInputError, match=r"weights callable returned nan for neighbour 0"):
        clf.predict([np.ones(5)])


def test_overflowing_costs_are_reported_not_returned_as_neighbour_n_samples_fit():
    # Issue 13, item 2: the neighbour index n_samples_fit_ came back and predict raised IndexError.
    X, y = [np.array([0.0, 1e155, 2.0]), np.array([0.0, -1e155])], [0, 1]
    clf = KNeighborsDTWClassifier().fit(X, y)
    with pytest.raises(InvalidInputError, match=r"costs from X\[0\] to the training .* overflow"):
        clf.predict([np.array([0.0, -3e155, 1.0])])


def test_kernel_output_is_the_gaussian_of_the_distances(gunpoint, gunpoint_distances):
    (train, y_train, _), (test, y_test, _) = gunpoint["train"], gunpoint["test"]
    train_distances = np.array([[alignkit.dtw_distance(a, b) for b in train] for a in train])
    nearest = [
        min(d for j, d in enumerate(row) if j != i and d > 0)
        for i, row in enumerate(train_distances)
    ]
    sigma = float(np.median(nearest))
    model = DTWDistances(output="kernel").fit(train)
    assert model.sigma_ == pytest.approx(sigma, rel=1e-12)
    np.testing.assert_allclose(
        model.transform(test), np.exp(-(gunpoint_distances**2) / (2 * sigma**2)), rtol=1e-10
    )
    np.testing.assert_allclose(
        DTWDistances(output="kernel", sigma=3.0).fit_transform(train),
        np.exp(-(train_distances**2) / 18.0),
        rtol=1e-10,
        atol=1e-300,
    )
    # The point of the kernel: an SVM on it classifies as well as 1-NN; the distances passed
    # as a kernel (what the old docstring suggested) do not.
    svm = make_pipeline(DTWDistances(output="kernel"), SVC(kernel="precomputed"))
    svm_accuracy = np.mean(svm.fit(train, y_train).predict(test) == y_test)
    knn_accuracy = np.mean(
        KNeighborsDTWClassifier(n_neighbors=1).fit(train, y_train).predict(test) == y_test
    )
    wrong = make_pipeline(DTWDistances(), SVC(kernel="precomputed"))
    wrong_accuracy = np.mean(wrong.fit(train, y_train).predict(test) == y_test)
    assert svm_accuracy >= knn_accuracy - 0.05
    assert svm_accuracy > wrong_accuracy + 0.1


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"output": "kernel", "squared": True}, "'squared' parameter of DTWDistances"),
        ({"output": "kernel", "sigma": 0.0}, "'sigma' parameter of DTWDistances"),
        ({"output": "kernel", "sigma": float("inf")}, "'sigma' parameter of DTWDistances"),
        ({"output": "similarity"}, "'output' parameter of DTWDistances"),
    ],
)
def test_kernel_output_parameters_are_checked(params, match):
    from alignkit.exceptions import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=match):
        DTWDistances(**params).fit([np.arange(5.0), np.arange(6.0)])


# --- elastic metrics (issue 15, item 3) ---------------------------------------------------

ELASTIC = [
    ("msm", {}),
    ("msm", {"c": 0.3, "independent": False}),
    ("twe", {"nu": 0.01}),
    ("adtw", {"warp_penalty": 0.2}),
    ("lcss", {"epsilon": 0.7}),
    ("erp", {"g": 0.1}),
    ("edr", {}),
]


def _aeon_matrix(metric, params, queries, train):
    """aeon's distances (ERP and EDR, where aeon departs from the papers: alignkit's own)."""
    aeon_distances = importlib.import_module("aeon.distances")
    if metric in ("erp", "edr"):
        function = getattr(alignkit.distances, f"{metric}_distance")
        return np.array([[function(a, b, **params) for b in train] for a in queries])
    function = getattr(aeon_distances, f"{metric}_distance")
    return np.array([[function(a.T, b.T, **params) for b in train] for a in queries])


@pytest.mark.parametrize(("metric", "params"), ELASTIC)
def test_elastic_metrics_equal_sklearn_on_a_precomputed_matrix(metric, params):
    """Oracle: scikit-learn's KNeighborsClassifier(metric='precomputed') on aeon's distances."""
    rng = np.random.default_rng(len(metric) + len(params))
    # Random walks: LCSS and EDR count matches, which i.i.d. noise barely has.
    train = [np.cumsum(s, axis=0) for s in _random_collection(rng, 24, (12, 30), 2)]
    train.append(train[5].copy())  # an exact tie, broken by training index
    test = [np.cumsum(s, axis=0) for s in _random_collection(rng, 9, (12, 30), 2)]
    y = np.arange(len(train)) % 3
    D = _aeon_matrix(metric, params, test, train)
    for k in (1, 3):
        ours = KNeighborsDTWClassifier(k, metric=metric, metric_params=params).fit(train, y)
        oracle = KNeighborsClassifier(k, metric="precomputed", algorithm="brute").fit(
            _aeon_matrix(metric, params, train, train), y
        )
        distances, indices = ours.kneighbors(test)
        np.testing.assert_array_equal(indices, np.argsort(D, axis=1, kind="stable")[:, :k])
        np.testing.assert_allclose(
            distances, np.take_along_axis(D, indices, axis=1), rtol=1e-9, atol=1e-12
        )
        # scikit-learn breaks ties at the k-th distance its own way: compare the rows without.
        ranked = np.sort(D, axis=1)
        clear = ranked[:, k - 1] < ranked[:, k]
        assert clear.sum() >= len(test) // 3
        np.testing.assert_array_equal(ours.predict(test)[clear], oracle.predict(D)[clear])
        np.testing.assert_allclose(
            ours.predict_proba(test)[clear], oracle.predict_proba(D)[clear], rtol=1e-12
        )


def test_elastic_regressor_and_self_exclusion_match_brute_force():
    rng = np.random.default_rng(3)
    train = _random_collection(rng, 15, (8, 12), 1)
    targets = rng.normal(size=15)
    D = _aeon_matrix("twe", {}, train, train)
    reg = KNeighborsDTWRegressor(3, metric="twe", window=4, weights="distance")
    reg.fit(train, targets)
    windowed = np.array(
        [[alignkit.distances.twe_distance(a, b, window=4) for b in train] for a in train]
    )
    np.fill_diagonal(windowed, np.inf)
    order = np.argsort(windowed, axis=1, kind="stable")[:, :3]
    np.testing.assert_array_equal(reg.kneighbors(return_distance=False), order)
    distances, _, stats = reg.kneighbors(train[:4], return_stats=True)
    assert stats["n_pairs"] == 4 * 15 and stats["cells"] == 1.0 and stats["lb_kim"] == 0.0
    full = KNeighborsDTWRegressor(2, metric="twe").fit(train, targets)
    nearest = np.argsort(D[:4], axis=1, kind="stable")[:, :2]
    np.testing.assert_allclose(full.predict(train[:4]), targets[nearest].mean(axis=1))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"metric": "euclid"}, "'metric' parameter of KNeighborsDTWClassifier"),
        ({"metric": "msm", "metric_params": {"g": 1.0}}, "'metric_params' .* 'g'"),
        ({"metric": "msm", "metric_params": {"c": -1.0}}, "'c' parameter of msm_distance"),
        ({"metric_params": {"c": 1.0}}, "'metric_params' parameter of KNeighborsDTWClassifier"),
        ({"metric": "lcss", "metric_params": [1.0]}, "'metric_params' parameter"),
    ],
)
def test_bad_metrics_are_named(params, match):
    from alignkit.exceptions import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=match):
        KNeighborsDTWClassifier(**params).fit([np.zeros(5), np.ones(6)], [0, 1])

"""DDTW and WDTW as ``metric=`` of pairwise_distances, the k-NN estimators and k-medoids.

The truth is the pair functions (:func:`alignkit.distances.ddtw`,
:func:`alignkit.distances.wdtw`, tested against aeon in test_variants.py) and
aeon's ``ddtw_distance`` / ``wdtw_distance`` on the same pairs.
"""

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from alignkit import KNeighborsDTWClassifier, TimeSeriesKMedoids
from alignkit.distances import ddtw, pairwise_distances, wdtw
from alignkit.exceptions import InvalidInputError, InvalidParameterError


def _collection(count, seed, low=6, high=15, channels=1):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(int(rng.integers(low, high)), channels)) for _ in range(count)]


def _pair_matrix(function, X, Y, **kwargs):
    return np.array([[function(a, b, **kwargs).distance for b in Y] for a in X])


@pytest.mark.parametrize("window", [None, 3, 0.3])
@pytest.mark.parametrize("squared", [False, True])
def test_ddtw_matrix_equals_the_pair_function(window, squared):
    X, Y = _collection(7, 0, channels=2), _collection(4, 1, channels=2)
    for kind in ("keogh", "central"):
        params = {"kind": kind}
        D = pairwise_distances(
            X, metric="ddtw", metric_params=params, window=window, squared=squared
        )
        truth = _pair_matrix(ddtw, X, X, kind=kind, window=window, squared=squared)
        np.testing.assert_allclose(D, truth, rtol=1e-12, atol=1e-12)
        assert np.all(np.diag(D) == 0) and np.array_equal(D, D.T)
        D = pairwise_distances(
            X, Y, metric="ddtw", metric_params=params, window=window, squared=squared, n_jobs=2
        )
        truth = _pair_matrix(ddtw, X, Y, kind=kind, window=window, squared=squared)
        np.testing.assert_allclose(D, truth, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("window", [None, 4])
def test_wdtw_matrix_equals_the_pair_function_and_aeon(window):
    from aeon.distances import wdtw_distance

    X, Y = _collection(6, 2), _collection(3, 3)
    for params in ({}, {"g": 0.3}, {"g": 0.0, "max_weight": 2.0}):
        D = pairwise_distances(X, Y, metric="wdtw", metric_params=params, window=window, n_jobs=2)
        np.testing.assert_allclose(D, _pair_matrix(wdtw, X, Y, window=window, **params), rtol=1e-12)
        S = pairwise_distances(X, metric="wdtw", metric_params=params, window=window, squared=True)
        np.testing.assert_allclose(
            S, _pair_matrix(wdtw, X, X, window=window, squared=True, **params), rtol=1e-12
        )
    if window is None:  # aeon's window is a fraction of the length, not a radius
        aeon = [[wdtw_distance(a.T, b.T, g=0.3) for b in X] for a in X]
        S = pairwise_distances(X, metric="wdtw", metric_params={"g": 0.3}, squared=True)
        np.testing.assert_allclose(S, aeon, rtol=1e-9)


def test_ddtw_squared_matrix_equals_aeon():
    from aeon.distances import ddtw_distance

    X = _collection(6, 4)
    S = pairwise_distances(X, metric="ddtw", squared=True)
    np.testing.assert_allclose(S, [[ddtw_distance(a.T, b.T) for b in X] for a in X], rtol=1e-9)


@pytest.mark.parametrize(
    ("metric", "params", "match"),
    [
        ("ddtw", {"kind": "forward"}, "'kind' parameter of ddtw"),
        ("ddtw", {"g": 1.0}, "'metric_params' parameter of pairwise_distances has 'g'"),
        ("wdtw", {"g": -1.0}, "'g' parameter of wdtw"),
        ("wdtw", {"max_weight": 0.0}, "'max_weight' parameter of wdtw"),
    ],
)
def test_bad_variant_params_name_the_parameter(metric, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        pairwise_distances(_collection(3, 5), metric=metric, metric_params=params)


def test_ddtw_refuses_a_sequence_too_short_for_its_derivative():
    X = _collection(3, 6) + [np.zeros((2, 1))]
    with pytest.raises(InvalidInputError, match=r"X\[3\] has 2 timepoints"):
        pairwise_distances(X, metric="ddtw")


@pytest.mark.parametrize("metric", ["ddtw", "wdtw"])
def test_knn_and_kmedoids_under_a_variant_agree_with_the_matrix(metric):
    rng = np.random.default_rng(7)
    X_train, X_test = _collection(20, 8), _collection(6, 9)
    y = rng.integers(0, 3, 20)
    ours = KNeighborsDTWClassifier(n_neighbors=3, metric=metric).fit(X_train, y)
    oracle = KNeighborsClassifier(n_neighbors=3, metric="precomputed").fit(
        pairwise_distances(X_train, metric=metric), y
    )
    D_test = pairwise_distances(X_test, X_train, metric=metric)
    np.testing.assert_array_equal(ours.predict(X_test), oracle.predict(D_test))
    distances, indices = ours.kneighbors(X_test)
    np.testing.assert_allclose(distances, np.sort(D_test, axis=1)[:, :3], rtol=1e-12)
    medoids = TimeSeriesKMedoids(n_clusters=3, metric=metric, random_state=0).fit(X_train)
    on_matrix = TimeSeriesKMedoids(n_clusters=3, metric="precomputed", random_state=0)
    on_matrix.fit(pairwise_distances(X_train, metric=metric))
    np.testing.assert_array_equal(medoids.medoid_indices_, on_matrix.medoid_indices_)
    assert medoids.inertia_ == pytest.approx(on_matrix.inertia_, rel=1e-12)
    with pytest.raises(InvalidParameterError, match="KNeighborsDTWClassifier"):
        KNeighborsDTWClassifier(metric=metric, metric_params={"c": 1.0}).fit(X_train, y)

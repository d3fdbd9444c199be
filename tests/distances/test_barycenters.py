"""DBA and soft-DTW barycenters against independent truths.

- the DBA objective (summed squared DTW cost, computed here with ``dtw_distance``)
  never increases with more iterations, and beats the arithmetic mean of uniformly
  resampled copies on time-warped copies of one template;
- tslearn 0.10's ``dtw_barycenter_averaging`` from the same start as a comparison point;
- the soft-DTW barycenter is a stationary point of its objective (finite differences
  of ``soft_dtw``), and matches tslearn's ``softdtw_barycenter`` from the same start.
"""

import importlib

import numpy as np
import pytest

from alignkit import dtw_distance
from alignkit.datasets import make_warped_collection
from alignkit.distances._barycenters import dba, soft_dtw_barycenter
from alignkit.distances._soft_dtw import soft_dtw
from alignkit.exceptions import InvalidInputError, WindowError


def _dba_objective(X, average, window=None):
    return sum(dtw_distance(x, average, window=window, squared=True) for x in X)


def _warped_copies(count=8, seed=0):
    X, y = make_warped_collection(
        n_sequences=2 * count, n_timepoints=(30, 50), n_classes=2, noise=0.02, random_state=seed
    )
    return [x for x, label in zip(X, y) if label == 0]


def _resampled_mean(X, length):
    grid = np.linspace(0.0, 1.0, length)
    resampled = [np.interp(grid, np.linspace(0.0, 1.0, len(x)), x[:, 0]) for x in X]
    return np.mean(resampled, axis=0)[:, None]


@pytest.mark.parametrize("window", [None, 5])
def test_dba_objective_never_increases(window):
    X = _warped_copies(seed=1)
    costs = [_dba_objective(X, dba(X, n_iter=k, tol=0.0, window=window), window) for k in range(6)]
    assert all(later <= earlier + 1e-9 for earlier, later in zip(costs, costs[1:]))
    assert costs[-1] < costs[0]


def test_dba_beats_resampled_arithmetic_mean():
    X = _warped_copies(seed=2)
    average = dba(X)
    mean = _resampled_mean(X, len(average))
    assert _dba_objective(X, average) < 0.5 * _dba_objective(X, mean)


def test_dba_keeps_init_length_and_channels():
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(n, 3)) for n in (10, 14, 12)]
    init = rng.normal(size=(7, 3))
    assert dba(X, init=init).shape == (7, 3)
    assert dba(X, n_iter=0, init=init) == pytest.approx(init)
    medoid = dba(X, n_iter=0)
    assert any(medoid.shape == x.shape and np.array_equal(medoid, x) for x in X)
    first = dba(X, init="random", random_state=3)
    np.testing.assert_array_equal(first, dba(X, init="random", random_state=3))


def test_dba_on_identical_sequences_returns_them():
    x = np.sin(np.linspace(0, 5, 20))[:, None]
    np.testing.assert_allclose(dba([x, x, x]), x)


def test_dba_comparable_to_tslearn_from_same_start():
    barycenters = importlib.import_module("tslearn.barycenters")
    X = _warped_copies(seed=3)
    init = dba(X, n_iter=0)
    ours = dba(X, init=init)
    padded = np.full((len(X), max(map(len, X)), 1), np.nan)
    for k, x in enumerate(X):
        padded[k, : len(x)] = x
    theirs = barycenters.dtw_barycenter_averaging(padded, init_barycenter=init, max_iter=30)
    assert _dba_objective(X, ours) <= 1.05 * _dba_objective(X, theirs)


def _soft_objective(X, z, gamma, weights):
    return sum(w * soft_dtw(z, x, gamma=gamma) for x, w in zip(X, weights))


def test_soft_barycenter_is_stationary():
    X = _warped_copies(count=5, seed=4)
    gamma = 1.0
    z = soft_dtw_barycenter(X, gamma=gamma, n_iter=300, tol=1e-10)
    weights = np.ones(len(X))
    step = 1e-5
    grad = np.zeros_like(z)
    for index in np.ndindex(*z.shape):
        up, down = z.copy(), z.copy()
        up[index] += step
        down[index] -= step
        grad[index] = (
            _soft_objective(X, up, gamma, weights) - _soft_objective(X, down, gamma, weights)
        ) / (2 * step)
    start = dba(X, n_iter=0)
    start_grad = np.zeros_like(start)
    for index in np.ndindex(*start.shape):
        up, down = start.copy(), start.copy()
        up[index] += step
        down[index] -= step
        start_grad[index] = (
            _soft_objective(X, up, gamma, weights) - _soft_objective(X, down, gamma, weights)
        ) / (2 * step)
    assert np.linalg.norm(grad) < 1e-3 * np.linalg.norm(start_grad)
    assert _soft_objective(X, z, gamma, weights) < _soft_objective(X, start, gamma, weights)


@pytest.mark.parametrize("gamma", [0.1, 1.0])
def test_soft_barycenter_matches_tslearn(gamma):
    barycenters = importlib.import_module("tslearn.barycenters")
    rng = np.random.default_rng(5)
    t = np.linspace(0, 1, 25)
    X = np.stack(
        [np.sin(6 * (t + 0.05 * rng.normal())) + 0.05 * rng.normal(size=25) for _ in range(6)]
    )
    X = X[:, :, None]
    init = X.mean(axis=0)
    ours = soft_dtw_barycenter(X, gamma=gamma, init=init, n_iter=200, tol=1e-8)
    theirs = barycenters.softdtw_barycenter(X, gamma=gamma, init=init, max_iter=200, tol=1e-8)
    weights = np.ones(len(X))
    np.testing.assert_allclose(ours, theirs, atol=1e-3)
    assert _soft_objective(X, ours, gamma, weights) == pytest.approx(
        _soft_objective(X, theirs, gamma, weights), rel=1e-6, abs=1e-6
    )


def test_soft_barycenter_zero_weight_ignores_sequence():
    rng = np.random.default_rng(6)
    X = [rng.normal(size=(n, 2)) for n in (9, 11, 10)]
    init = rng.normal(size=(8, 2))
    with_zero = soft_dtw_barycenter(X, init=init, weights=[1.0, 2.0, 0.0], tol=1e-10)
    without = soft_dtw_barycenter(X[:2], init=init, weights=[1.0, 2.0], tol=1e-10)
    np.testing.assert_allclose(with_zero, without, atol=1e-8)
    assert soft_dtw_barycenter(X, n_iter=0).shape == dba(X, n_iter=0).shape


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_iter": -1}, "n_iter"),
        ({"n_iter": 1.5}, "n_iter"),
        ({"tol": -1.0}, "tol"),
        ({"init": "mean"}, "init"),
        ({"init": np.zeros((4, 2))}, "channels"),
    ],
)
def test_invalid_parameters(kwargs, match):
    X = [np.arange(5.0), np.arange(6.0)]
    for function in (dba, soft_dtw_barycenter):
        with pytest.raises(InvalidInputError, match=match):
            function(X, **kwargs)


def test_invalid_soft_parameters_and_window():
    X = [np.arange(5.0), np.arange(6.0)]
    with pytest.raises(InvalidInputError, match="gamma"):
        soft_dtw_barycenter(X, gamma=0.0)
    for weights in ([1.0], [1.0, -1.0], [0.0, 0.0], [1.0, np.nan]):
        with pytest.raises(InvalidInputError, match="weights"):
            soft_dtw_barycenter(X, weights=weights)
    with pytest.raises(WindowError, match="mask"):
        dba(X, window=np.ones((5, 6), dtype=bool))
    with pytest.raises(InvalidInputError, match="empty"):
        dba([])

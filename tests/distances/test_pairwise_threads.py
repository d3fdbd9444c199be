"""``pairwise_distances(engine="numba")`` equals the joblib engine and pair-by-pair DTW."""

import numpy as np
import pytest

import alignkit
from alignkit.distances._pairwise import pairwise_distances
from alignkit.exceptions import InvalidInputError


def _collection(count, seed, channels=1):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(rng.integers(5, 30), channels)) for _ in range(count)]


@pytest.mark.parametrize("window", [None, 2, 0.3, ("itakura", 2.0)])
@pytest.mark.parametrize("n_jobs", [1, 2, 3])
def test_threads_match_pair_by_pair_dtw(window, n_jobs):
    X = _collection(9, 0, channels=2)
    Y = _collection(4, 1, channels=2)
    symmetric = pairwise_distances(X, window=window, engine="numba", n_jobs=n_jobs)
    cross = pairwise_distances(X, Y, window=window, engine="numba", n_jobs=n_jobs)
    for a, x in enumerate(X):
        for b, y in enumerate(X):
            expected = 0.0 if a == b else alignkit.dtw_distance(x, y, window=window)
            assert symmetric[a, b] == pytest.approx(expected, rel=1e-12, abs=0)
        for b, y in enumerate(Y):
            assert cross[a, b] == pytest.approx(
                alignkit.dtw_distance(x, y, window=window), rel=1e-12
            )


def test_threads_and_joblib_agree_on_squared_costs():
    X = _collection(12, 2)
    np.testing.assert_allclose(
        pairwise_distances(X, squared=True, engine="numba", n_jobs=2),
        pairwise_distances(X, squared=True, n_jobs=1),
        rtol=1e-12,
    )


def test_unknown_engine_is_named():
    with pytest.raises(InvalidInputError, match="'engine' parameter of pairwise_distances must be"):
        pairwise_distances(_collection(3, 3), engine="threads")

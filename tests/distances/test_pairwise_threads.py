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


@pytest.mark.parametrize("cells_per_task", [300, 3_000])
@pytest.mark.parametrize("n_jobs", [1, 2, 3])
def test_many_short_rounds_give_the_same_matrix(cells_per_task, n_jobs, monkeypatch):
    # Issue 13, item 11: the work runs in rounds that return to Python (for
    # Ctrl-C); rounds end inside rows, and every pair is still computed.
    from alignkit.distances import _pairwise
    from alignkit.kernels._numba import _threaded

    kernel = _threaded.dtw_pairs_threads
    calls = []

    def counted(*args):
        calls.append(args[7].shape[0] - 1)
        return kernel(*args)

    monkeypatch.setattr(_pairwise, "_CELLS_PER_TASK", cells_per_task)
    monkeypatch.setattr(_threaded, "dtw_pairs_threads", counted)
    X = _collection(7, 4, channels=2)
    Y = _collection(8, 3, channels=2)
    symmetric = pairwise_distances(X + Y, window=3, engine="numba", n_jobs=n_jobs, squared=True)
    cross = pairwise_distances(X, Y, window=3, engine="numba", n_jobs=n_jobs, squared=True)
    for a, x in enumerate(X + Y):
        for b, y in enumerate(X + Y):
            expected = 0.0 if a == b else alignkit.dtw_distance(x, y, window=3, squared=True)
            assert symmetric[a, b] == pytest.approx(expected, rel=1e-12, abs=0)
    for a, x in enumerate(X):
        for b, y in enumerate(Y):
            expected = alignkit.dtw_distance(x, y, window=3, squared=True)
            assert cross[a, b] == pytest.approx(expected, rel=1e-12, abs=0)
    assert all(chunks == n_jobs for chunks in calls)
    assert len(calls) > 4


@pytest.mark.parametrize("symmetric", [False, True])
@pytest.mark.parametrize("n_chunks", [1, 2, 5, 17, 200])
def test_work_cuts_split_the_pairs_into_equal_shares(symmetric, n_chunks):
    from alignkit.distances._pairwise import _pair_work, _work_cuts

    rng = np.random.default_rng(n_chunks)
    x_lengths = rng.integers(1, 40, size=23)
    y_lengths = x_lengths if symmetric else rng.integers(1, 40, size=11)
    work = _pair_work(x_lengths, y_lengths, symmetric)
    cuts = _work_cuts(x_lengths, y_lengths, symmetric, work, n_chunks)
    # Brute force: the pairs in row-major order, and the chunk each cut puts them in.
    pairs = [
        (a, b)
        for a in range(len(x_lengths))
        for b in range(a + 1 if symmetric else 0, len(y_lengths))
    ]
    starts = [tuple(cut) for cut in cuts[:-1]]
    shares = np.zeros(n_chunks)
    for a, b in pairs:
        chunk = sum(1 for start in starts if start <= (a, b)) - 1
        shares[chunk] += x_lengths[a] * y_lengths[b]
    assert shares.sum() == work[-1]
    largest_pair = max(x_lengths[a] * y_lengths[b] for a, b in pairs)
    assert shares.max() <= work[-1] / n_chunks + largest_pair
    assert list(map(tuple, cuts)) == sorted(map(tuple, cuts))


def test_joblib_blocks_are_bounded_by_work(monkeypatch):
    # A block is one kernel call: small enough that Ctrl-C is seen between blocks.
    from alignkit.distances import _pairwise

    monkeypatch.setattr(_pairwise, "_CELLS_PER_TASK", 2_000)
    X = _collection(9, 10)
    blocks = []
    original = _pairwise._row_blocks

    def recorded(*args):
        blocks.extend(original(*args))
        return blocks

    monkeypatch.setattr(_pairwise, "_row_blocks", recorded)
    distances = pairwise_distances(X, squared=True)
    assert len(blocks) > 4  # not only the four blocks per worker
    for a, x in enumerate(X):
        for b, y in enumerate(X):
            expected = 0.0 if a == b else alignkit.dtw_distance(x, y, squared=True)
            assert distances[a, b] == pytest.approx(expected, rel=1e-12, abs=0)

"""pairwise_distances against the pair-by-pair DTW, on every input form and joblib backend."""

import importlib

import joblib
import numpy as np
import pytest

import alignkit
from alignkit.distances._pairwise import _row_blocks, pairwise_distances
from alignkit.exceptions import InvalidInputError, WindowError


def _collection(seed, count, channels=1, lengths=(5, 30)):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(rng.integers(*lengths), channels)) for _ in range(count)]


def _brute_force(X, Y, window, squared):
    return np.array(
        [[alignkit.dtw_distance(a, b, window=window, squared=squared) for b in Y] for a in X]
    )


@pytest.mark.parametrize("window", [None, 0, 3, 0.2, ("itakura", 2.0)])
@pytest.mark.parametrize("squared", [False, True])
def test_matches_pairwise_dtw_on_unequal_lengths(window, squared):
    X, Y = _collection(0, 9, channels=2), _collection(1, 5, channels=2)
    np.testing.assert_allclose(
        pairwise_distances(X, Y, window=window, squared=squared),
        _brute_force(X, Y, window, squared),
        rtol=1e-12,
    )
    symmetric = pairwise_distances(X, window=window, squared=squared)
    np.testing.assert_allclose(symmetric, _brute_force(X, X, window, squared), rtol=1e-12)
    np.testing.assert_array_equal(symmetric, symmetric.T)
    assert np.all(np.diag(symmetric) == 0.0)


def test_two_d_and_three_d_arrays_are_collections():
    rng = np.random.default_rng(2)
    rows = rng.normal(size=(6, 12))
    expected = _brute_force(list(rows), list(rows), 2, False)
    np.testing.assert_allclose(pairwise_distances(rows, window=2), expected, rtol=1e-12)
    # A 3-D array padded with NaN holds sequences of different lengths.
    padded = np.full((3, 10, 2), np.nan)
    sequences = _collection(3, 3, channels=2, lengths=(4, 11))
    for k, sequence in enumerate(sequences):
        padded[k, : len(sequence)] = sequence
    np.testing.assert_allclose(
        pairwise_distances(padded, sequences[:2]),
        _brute_force(sequences, sequences[:2], None, False),
        rtol=1e-12,
    )


@pytest.mark.parametrize("block_size", [1, 2, 7, 100])
def test_block_size_does_not_change_the_result(block_size):
    X = _collection(4, 8)
    expected = _brute_force(X, X, None, True)
    np.testing.assert_allclose(
        pairwise_distances(X, squared=True, block_size=block_size), expected, rtol=1e-12
    )
    np.testing.assert_allclose(
        pairwise_distances(X, X[:3], squared=True, block_size=block_size),
        expected[:, :3],
        rtol=1e-12,
    )


@pytest.mark.parametrize("count, n_blocks", [(10, 3), (200, 8), (7, 20)])
def test_triangle_blocks_cover_every_row_with_balanced_pairs(count, n_blocks):
    blocks = _row_blocks(count, count, True, n_blocks, None)
    assert blocks[0][0] == 0 and blocks[-1][1] == count
    assert all(stop == start for (_, stop), (start, _) in zip(blocks[:-1], blocks[1:]))
    pairs = [sum(count - 1 - row for row in range(start, stop)) for start, stop in blocks]
    assert sum(pairs) == count * (count - 1) // 2
    if count >= 100:
        # Equal work: no block holds much more than its share plus one row.
        assert max(pairs) <= count * (count - 1) / 2 / n_blocks + count


def test_workers_give_the_same_matrix():
    X = _collection(5, 12)
    expected = pairwise_distances(X)
    np.testing.assert_array_equal(pairwise_distances(X, n_jobs=2), expected)
    with joblib.parallel_config(backend="threading"):
        np.testing.assert_array_equal(pairwise_distances(X, n_jobs=2, block_size=1), expected)


def test_verbose_reports_progress(capsys):
    pairwise_distances(_collection(6, 6), verbose=10, block_size=2)
    captured = capsys.readouterr()
    # Rows [0, 2), [2, 4), [4, 6) of the upper triangle hold 5 + 4, 3 + 2 and 1 + 0 pairs.
    lines = captured.err.splitlines()
    assert [line.split(" | ")[0] for line in lines] == [
        "pairwise DTW 9/15 pairs 60%",
        "pairwise DTW 14/15 pairs 93%",
        "pairwise DTW 15/15 pairs 100%",
    ]
    assert lines[-1].endswith("elapsed") and captured.out == ""


def test_dask_distributed_backend():
    distributed = importlib.import_module("dask.distributed")
    X, Y = _collection(7, 8), _collection(8, 4)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_config(backend="dask"),
    ):
        symmetric = pairwise_distances(X, window=3)
        rectangular = pairwise_distances(X, Y, window=3)
    np.testing.assert_allclose(symmetric, _brute_force(X, X, 3, False), rtol=1e-12)
    np.testing.assert_allclose(rectangular, _brute_force(X, Y, 3, False), rtol=1e-12)


def test_invalid_arguments_are_named():
    X = _collection(9, 3)
    with pytest.raises(WindowError, match="mask"):
        pairwise_distances(X, window=np.ones((5, 5), dtype=bool))
    with pytest.raises(InvalidInputError, match=r"Y\[0\] has 2 channels"):
        pairwise_distances(X, [np.zeros((4, 2))])
    with pytest.raises(InvalidInputError, match="X is empty"):
        pairwise_distances([])
    with pytest.raises(ValueError, match="block_size"):
        pairwise_distances(X, block_size=0)
    with pytest.raises(TypeError, match="block_size"):
        pairwise_distances(X, block_size=2.5)


def _estimate_from_message(call):
    """The bytes a call says it needs, read from its error under ``max_memory=0``."""
    import re

    from alignkit import config_context
    from alignkit.exceptions import AlignkitMemoryError

    with config_context(max_memory=0), pytest.raises(AlignkitMemoryError) as error:
        call()
    return int(re.search(r"needs about ([\d,]+) bytes", str(error.value)).group(1).replace(",", ""))


@pytest.mark.parametrize(("engine", "n_jobs"), [("joblib", 1), ("joblib", 2), ("numba", 2)])
@pytest.mark.parametrize("cross", [False, True])
def test_memory_of_the_whole_call_is_checked_before_allocating(engine, n_jobs, cross, monkeypatch):
    # Issue 13, item 5: pairwise_distances never consulted max_memory (30,000
    # series ran 116 s and died with a bare MemoryError).
    import tracemalloc

    from alignkit import config_context
    from alignkit.distances import _pairwise
    from alignkit.exceptions import AlignkitMemoryError
    from alignkit.kernels._numba import _pruned, _threaded

    # Many short sequences: the matrix dominates, and the estimate stays under
    # 1 MiB, where the message gives it to the byte.
    X = _collection(10, 160, channels=2, lengths=(3, 7))
    Y = _collection(11, 120, channels=2, lengths=(3, 7)) if cross else None
    options = {"engine": engine, "n_jobs": n_jobs}

    def call():
        with joblib.parallel_config(backend="threading"):
            return pairwise_distances(X, Y, **options)

    expected = call()
    estimate = _estimate_from_message(call)
    # The matrix and the packed inputs at least, and a copy of them for each
    # joblib worker; at most a few matrices' worth beside them.
    n_y = len(Y) if cross else len(X)
    packed = 8 * 2 * (sum(map(len, X)) + (sum(map(len, Y)) if cross else 0))
    matrix = 8 * len(X) * n_y
    copies = 1 + (n_jobs if engine == "joblib" else 0)
    assert matrix + copies * packed <= estimate <= 4 * matrix + copies * packed

    def refuse(*args, **kwargs):
        raise AssertionError("allocated under the cap")

    with monkeypatch.context() as patch:
        for module, name in [(_pairwise, "pack"), (_pruned, "dtw_block")]:
            patch.setattr(module, name, refuse)
        patch.setattr(_threaded, "dtw_pairs_threads", refuse)
        tracemalloc.start()
        try:
            with config_context(max_memory=estimate - 1), pytest.raises(AlignkitMemoryError):
                call()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < matrix / 2
    with config_context(max_memory=estimate):
        np.testing.assert_array_equal(call(), expected)


def test_the_audits_thirty_thousand_series_are_refused_at_once():
    import time

    from alignkit.exceptions import AlignkitMemoryError

    X = np.random.default_rng(12).normal(size=(30_000, 8))
    started = time.perf_counter()
    # The default max_memory is 4 GiB; the matrix alone is 30,000 ** 2 * 8 bytes (6.7 GiB).
    with pytest.raises(AlignkitMemoryError, match=r"30000 by 30000 sequences.* 6,8\d\d MiB"):
        pairwise_distances(X, engine="numba", n_jobs=2)
    assert time.perf_counter() - started < 10.0


# --- elastic metrics (issue 15, item 3) ---------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "params"),
    [("msm", {"c": 0.5}), ("twe", {}), ("lcss", {"epsilon": 0.5}), ("erp", {"g": 0.2})],
)
def test_elastic_metrics_equal_the_pair_functions(metric, params):
    from alignkit import distances

    rng = np.random.default_rng(4)
    X = [np.cumsum(rng.standard_normal((15 + k, 2)), axis=0) for k in range(6)]
    Y = X[:3]
    function = getattr(distances, f"{metric}_distance")
    got = pairwise_distances(X, metric=metric, metric_params=params, window=0.3, n_jobs=2)
    expected = np.array([[function(x, y, window=0.3, **params) for y in X] for x in X])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    rect = pairwise_distances(X, Y, metric=metric, metric_params=params, window=0.3)
    np.testing.assert_allclose(rect, expected[:, :3], rtol=1e-12, atol=1e-12)


def test_elastic_metrics_match_aeon_pairwise():
    aeon_distances = pytest.importorskip("aeon.distances")
    rng = np.random.default_rng(5)
    X = rng.standard_normal((5, 30, 1))
    for metric in ("msm", "twe", "lcss"):
        ours = pairwise_distances(X, metric=metric)
        theirs = aeon_distances.pairwise_distance(np.transpose(X, (0, 2, 1)), method=metric)
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"metric": "msm", "squared": True}, "'squared' parameter .* metric='dtw' only"),
        ({"metric": "msm", "metric_params": {"g": 1.0}}, "'metric_params' .* 'g'"),
        ({"metric_params": {"c": 1.0}}, "'metric_params' parameter .* elastic"),
        ({"metric": "msm", "metric_params": {"c": -1.0}}, "'c' parameter of msm_distance"),
        ({"metric": "euclid"}, "'metric' parameter of pairwise_distances"),
    ],
)
def test_elastic_metric_errors_name_the_parameter(kwargs, match):
    from alignkit.exceptions import InvalidParameterError

    X = [np.arange(5.0), np.arange(6.0)]
    with pytest.raises(InvalidParameterError, match=match):
        pairwise_distances(X, **kwargs)


def test_pack_views_consecutive_rows_and_copies_the_rest():
    from alignkit.distances._pairwise import pack
    from alignkit.validation import check_collection

    rng = np.random.default_rng(3)
    for X in (rng.normal(size=(6, 9)), rng.normal(size=(6, 9, 2))):
        sequences = check_collection(X)
        flat, offsets = pack(sequences, view=True)
        assert np.shares_memory(flat, X)  # no copy of the rows
        np.testing.assert_array_equal(flat, np.concatenate(sequences))
        np.testing.assert_array_equal(offsets, np.arange(7) * 9)
        assert not np.shares_memory(pack(sequences)[0], X)  # a copy unless asked
    X = rng.normal(size=(6, 9))
    for sequences in (check_collection(X[::-1]), check_collection([X[0], X[2]])):
        flat, offsets = pack(sequences, view=True)  # not one after the other: a copy
        assert not np.shares_memory(flat, X) and flat.flags.c_contiguous
        np.testing.assert_array_equal(flat, np.concatenate(sequences))
    X.flags.writeable = False
    flat, _ = pack(check_collection(X), view=True)
    assert np.shares_memory(flat, X) and not flat.flags.writeable  # the caller's flag
    ragged = check_collection([X[0], X[1, :4]])  # consecutive in memory, lengths 9 and 4
    flat, offsets = pack(ragged, view=True)
    np.testing.assert_array_equal(flat[:, 0], np.concatenate([X[0], X[1, :4]]))
    np.testing.assert_array_equal(offsets, [0, 9, 13])

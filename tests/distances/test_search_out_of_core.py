"""Out-of-core z-normalised search: memmaps, streams of blocks, Dask (issue 14, item 2)."""

import itertools
import tracemalloc

import numpy as np
import pytest

import alignkit
from alignkit.distances import dtw_distance, subsequence_search
from alignkit.distances._zsearch import ONE_PASS_CHUNK, ONE_PASS_K, znormalize, znormalized_search
from alignkit.exceptions import InvalidInputError
from alignkit.kernels._numba._search import EPOCH, tighten


def _walk(rng, length, channels=1):
    return np.cumsum(rng.standard_normal((length, channels)), axis=0)


def _brute_force(query, series, radius, k, zone):
    """Every window's DTW (alignkit.dtw_distance of numpy z-normalisations), greedy picks."""
    n = len(query)
    query_z = znormalize(query)
    costs = np.array(
        [
            dtw_distance(query_z, znormalize(series[s : s + n]), window=radius, squared=True)
            for s in range(len(series) - n + 1)
        ]
    )
    found = []
    for start in np.lexsort((np.arange(len(costs)), costs)):
        if all(abs(start - other) >= n + zone for _, other in found):
            found.append((costs[start], int(start)))
            if len(found) == k:
                break
    return found


def _search(query, series, **kwargs):
    matches, stats = subsequence_search(query, series, znormalize=True, return_stats=True, **kwargs)
    return [(m.start, m.distance) for m in matches], matches, stats


def _memmap(tmp_path, values, dtype=np.float64):
    array = np.lib.format.open_memmap(tmp_path / "series.npy", "w+", dtype, values.shape)
    array[:] = values
    array.flush()
    return np.load(tmp_path / "series.npy", mmap_mode="r")


@pytest.mark.parametrize(("channels", "k"), [(1, 1), (1, 4), (2, 3)])
def test_memmap_gives_the_in_memory_matches_bit_for_bit(tmp_path, channels, k):
    rng = np.random.default_rng(channels + k)
    values = _walk(rng, 70_000, channels)
    query = values[33_000:33_080] + 0.3 * rng.standard_normal((80, channels))
    series = _memmap(tmp_path, values[:, 0] if channels == 1 else values)
    expected, in_memory, _ = _search(query, values, k=k, window=7)
    # Out of core, k >= 3 is one pass over seeded chunks: the same as k passes, bit for bit.
    passes, _ = znormalized_search(query, values, 7, k, 40, one_pass=False)
    squared = subsequence_search(query, values, k=k, window=7, znormalize=True, squared=True)
    assert [(m.distance, m.start) for m in squared] == passes
    found, matches, stats = _search(query, series, k=k, window=7)
    # One chunk of up to 2**20 starts (k >= 3: chunks of 2**15, a seed for each).
    assert stats["chunks"] == (1 if k < ONE_PASS_K else -(-(70_000 - 79) // ONE_PASS_CHUNK))
    assert found == expected  # same starts, identical distances
    # Two workers: one worker's single chunk, read whole and searched in two threads, as in
    # memory (k passes: too short for one pass over seeded chunks).
    threaded, threaded_matches, stats = _search(query, series, k=k, window=7, n_jobs=2)
    assert stats["passes"] == k
    assert threaded == expected
    for a, b in zip(in_memory, threaded_matches):
        np.testing.assert_array_equal(a.path, b.path)
    chunked, chunked_matches, stats = _search(query, series, k=k, window=7, chunk_size=EPOCH)
    assert stats["chunks"] == -(-(70_000 - 79) // EPOCH)
    assert chunked == expected
    for a, b in zip(in_memory, chunked_matches):
        np.testing.assert_array_equal(a.path, b.path)


@pytest.mark.parametrize("offset", [-40, -1, 0, 1, 37])
def test_a_match_across_a_chunk_border_is_found_once(offset):
    # Exact copies of a pattern planted across the border of two chunks (16384) and
    # nearby, closer than the exclusion zone of each other: brute force decides.
    rng = np.random.default_rng(100 + offset)
    series = _walk(rng, 2 * EPOCH + 3000)
    n, zone, radius = 32, 16, 3
    pattern = rng.standard_normal((n, 1)).cumsum(axis=0)
    border = 2 * EPOCH
    for start in (border + offset, border + offset + n + 5, border + offset - n - 20):
        series[start : start + n] = pattern + 0.05 * rng.standard_normal((n, 1))
    expected = _brute_force(pattern, series, radius, 4, zone)
    found, _, stats = _search(
        pattern, series, k=4, window=radius, exclusion_zone=zone, chunk_size=EPOCH
    )
    assert stats["chunks"] == 3
    assert [start for start, _ in found] == [start for _, start in expected]
    np.testing.assert_allclose(
        [d**2 for _, d in found], [cost for cost, _ in expected], rtol=1e-9, atol=1e-12
    )
    in_memory, _, _ = _search(pattern, series, k=4, window=radius, exclusion_zone=zone)
    assert found == in_memory


def test_a_stream_of_blocks_of_any_sizes_is_the_series_end_to_end():
    rng = np.random.default_rng(5)
    values = _walk(rng, 40_000, 2)
    query = values[27_000:27_050] + 0.2 * rng.standard_normal((50, 2))
    expected, _, _ = _search(query, values, k=3, window=4)
    # Sizes from 0 (empty blocks) and below the query's length to several chunks.
    sizes = itertools.cycle([0, 7, 1, 30_000 // 7, 49, 0, 12_345, 3])
    edges, total = [0], 0
    while total < len(values):
        total = min(len(values), total + next(sizes))
        edges.append(total)
    blocks = [values[a:b] for a, b in zip(edges[:-1], edges[1:])]
    assert any(len(b) == 0 for b in blocks) and any(0 < len(b) < 50 for b in blocks)
    found, _, stats = _search(query, iter(blocks), k=3, window=4, chunk_size=EPOCH)
    assert found == expected
    assert stats["chunks"] == -(-(40_000 - 49) // EPOCH)
    # 1-D blocks of a univariate series, from a generator.
    walk = values[:, 0]
    expected, _, _ = _search(query[:, 0], walk, k=2, window=4)
    found, _, _ = _search(
        query[:, 0], (walk[i : i + 999] for i in range(0, len(walk), 999)), k=2, window=4
    )
    assert found == expected


def test_threads_over_chunks_give_the_same_matches():
    rng = np.random.default_rng(8)
    values = _walk(rng, 60_000)
    query = values[10_000:10_064] + 0.3 * rng.standard_normal((64, 1))
    expected, _, _ = _search(query, values, k=5, window=6)
    found, _, _ = _search(query, values, k=5, window=6, chunk_size=EPOCH, n_jobs=2)
    assert found == expected


def test_nan_is_reported_at_its_timepoint_in_the_whole_series(tmp_path):
    rng = np.random.default_rng(9)
    values = _walk(rng, 30_000)
    values[21_111] = np.nan
    series = _memmap(tmp_path, values)
    with pytest.raises(InvalidInputError, match="series holds NaN at timepoint 21111, channel 0"):
        subsequence_search(values[:40], series, window=3, znormalize=True)
    with pytest.raises(InvalidInputError, match="series holds NaN at timepoint 21111, channel 0"):
        subsequence_search(values[:40], series, window=3, znormalize=True, n_jobs=2)
    values[21_111] = np.inf
    blocks = iter(np.array_split(values, 17))
    with pytest.raises(InvalidInputError, match="series holds inf at timepoint 21111"):
        subsequence_search(values[:40], blocks, window=3, znormalize=True)


def test_bad_streams_are_refused_clearly():
    query = np.arange(20.0)
    with pytest.raises(
        InvalidInputError, match="series has 15 timepoints, fewer than the query's 20"
    ):
        subsequence_search(query, iter([np.ones(10), np.ones(5)]), window=2, znormalize=True)
    with pytest.raises(InvalidInputError, match="block of series from timepoint 10 has 2 channels"):
        subsequence_search(query, iter([np.ones(10), np.ones((5, 2))]), window=2, znormalize=True)
    with pytest.raises(InvalidInputError, match="block of series from timepoint 0"):
        subsequence_search(query, iter([np.ones((2, 2, 2))]), window=2, znormalize=True)


def test_other_searches_read_a_stream_whole():
    rng = np.random.default_rng(10)
    values = _walk(rng, 600)
    query = values[300:320] + 0.1
    expected = subsequence_search(query, values, k=2)
    found = subsequence_search(query, iter(np.array_split(values, 7)), k=2)
    assert [(m.start, m.end, m.distance) for m in found] == [
        (m.start, m.end, m.distance) for m in expected
    ]
    with alignkit.config_context(max_memory=1000):
        with pytest.raises(alignkit.exceptions.AlignkitMemoryError, match="stream of series"):
            subsequence_search(query, iter(np.array_split(values, 7)), k=2)


def test_an_array_above_max_memory_is_searched_in_chunks():
    rng = np.random.default_rng(12)
    values = _walk(rng, 40_000)
    query = values[5_000:5_032] + 0.1 * rng.standard_normal((32, 1))
    expected, _, stats = _search(query, values, k=2, window=3)
    assert "chunks" not in stats
    with alignkit.config_context(max_memory=2**20):  # 1 MiB: the series is 320 kB x 4
        found, _, stats = _search(query, values, k=2, window=3)
    assert stats["chunks"] == -(-(40_000 - 31) // (4 * EPOCH))  # 1 MiB / 32 bytes per start
    assert found == expected


def _memory_peak(function):
    tracemalloc.start()
    try:
        result = function()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _large_memmap(tmp_path, length, seed):
    """A random walk written to disk block by block (never whole in memory)."""
    rng = np.random.default_rng(seed)
    array = np.lib.format.open_memmap(tmp_path / "walk.npy", "w+", np.float64, (length,))
    level = 0.0
    for first in range(0, length, 2**20):
        steps = rng.standard_normal(min(2**20, length - first))
        array[first : first + len(steps)] = level + np.cumsum(steps)
        level = array[first + len(steps) - 1]
    array.flush()
    return np.load(tmp_path / "walk.npy", mmap_mode="r")


def test_memmap_memory_stays_of_the_order_of_a_chunk(tmp_path):
    series = _large_memmap(tmp_path, 4_000_000, 1)  # 32 MB on disk
    query = series[3_100_000:3_100_128] + 0.01
    with alignkit.config_context(max_memory=8 * 2**20):
        (match,), peak = _memory_peak(
            lambda: subsequence_search(query, series, window=6, znormalize=True)
        )
    assert match.start == 3_100_000
    # Chunks of 262144 starts (8 MiB / 32 bytes): a few MB traced, not the 32 MB series.
    assert peak < 12 * 2**20, peak


@pytest.mark.slow
def test_a_160_mb_memmap_is_searched_under_a_64_mb_limit(tmp_path):
    series = _large_memmap(tmp_path, 20_000_000, 2)
    query = series[17_654_321 : 17_654_321 + 256] * 2.0 + 1.0  # same shape once z-normalised
    with alignkit.config_context(max_memory=64 * 2**20):
        (match,), peak = _memory_peak(
            lambda: subsequence_search(query, series, window=25, znormalize=True)
        )
    assert match.start == 17_654_321 and match.distance < 1e-6
    assert peak < 48 * 2**20, peak


def test_dask_cluster_runs_the_chunks_with_the_same_matches(tmp_path):
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_config

    rng = np.random.default_rng(13)
    values = _walk(rng, 50_000)
    query = values[31_000:31_060] + 0.3 * rng.standard_normal((60, 1))
    expected, _, _ = _search(query, values, k=3, window=5)
    with distributed.Client(
        processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None
    ) as client:
        with distributed.get_task_stream(client) as tasks, parallel_config(backend="dask"):
            found, _, stats = _search(query, values, k=3, window=5, chunk_size=EPOCH)
        assert found == expected
        assert stats["chunks"] == 7
        assert len(tasks.data) >= 7  # the chunks ran as tasks of the cluster
        # A memmap one worker reads as one chunk is still a task of the cluster (with
        # threads it would be searched in this process), not searched here.
        with distributed.get_task_stream(client) as tasks, parallel_config(backend="dask"):
            found, _, stats = _search(query, _memmap(tmp_path, values), k=3, window=5)
        assert found == expected
        assert stats["chunks"] == 2 and stats["passes"] == 1  # k = 3: chunks of 2**15
        assert len(tasks.data) >= 1


def _greedy_kth(starts, distances, k, separation):
    """The k-th distance the exact greedy pick keeps (brute force), or inf."""
    kept = []
    for index in np.lexsort((starts, distances)):
        if all(abs(starts[index] - other) >= separation for other in kept):
            kept.append(starts[index])
            if len(kept) == k:
                return distances[index]
    return np.inf


def test_tighten_threshold_bounds_the_kth_match_of_any_superset():
    # The threshold from a subset of windows never falls below the k-th match of the
    # whole set, whatever the other windows are: windows above it are never needed.
    rng = np.random.default_rng(14)
    for _trial in range(300):
        k = int(rng.integers(1, 4))
        separation = int(rng.integers(1, 6))
        starts = rng.permutation(60)[: int(rng.integers(5, 60))].astype(np.int64)
        distances = rng.integers(0, 8, len(starts)).astype(float)  # many ties
        subset = rng.random(len(starts)) < 0.5
        kept, threshold = tighten(
            starts[subset].copy(), distances[subset].copy(), int(subset.sum()), 2 * k - 1,
            separation,
        )  # fmt: skip
        assert _greedy_kth(starts, distances, k, separation) <= threshold
        assert kept == int((distances[subset] <= threshold).sum())

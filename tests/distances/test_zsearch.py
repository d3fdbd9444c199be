"""The UCR-style z-normalised search against brute force (issue 14, item 1)."""

import numpy as np
import pytest

from alignkit.distances._zsearch import STAT_NAMES, znormalize, znormalized_search
from alignkit.kernels._numba import _search


def _banded_dtw(x, y, radius):
    """Plain O(n^2) DTW of two equal-length sequences in a Sakoe-Chiba band (squared cost)."""
    n = len(x)
    cost = np.full((n + 1, n + 1), np.inf)
    cost[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(max(1, i - radius), min(n, i + radius) + 1):
            local = float(((x[i - 1] - y[j - 1]) ** 2).sum())
            cost[i, j] = local + min(cost[i - 1, j], cost[i, j - 1], cost[i - 1, j - 1])
    return cost[n, n]


def _brute_force(query, series, radius, k, zone):
    n = len(query)
    query_z = znormalize(query)
    costs = np.array(
        [
            _banded_dtw(query_z, znormalize(series[s : s + n]), radius)
            for s in range(len(series) - n + 1)
        ]
    )
    blocked = np.zeros(len(costs), dtype=bool)
    found = []
    for start in np.lexsort((np.arange(len(costs)), costs)):
        if len(found) == k:
            break
        if blocked[start]:
            continue
        found.append((costs[start], int(start)))
        blocked[max(start - n - zone + 1, 0) : start + n + zone] = True
    return found


def _exhaustive(query, series, radius, k, zone):
    """Every window's DTW by alignkit.dtw_distance (numpy z-normalisation), then greedy picks."""
    from alignkit.distances import dtw_distance

    n = len(query)
    query_z = znormalize(query)
    costs = np.array(
        [
            dtw_distance(query_z, znormalize(series[s : s + n]), window=radius, squared=True)
            for s in range(len(series) - n + 1)
        ]
    )
    blocked = np.zeros(len(costs), dtype=bool)
    found = []
    for start in np.lexsort((np.arange(len(costs)), costs)):
        if len(found) == k:
            break
        if not blocked[start]:
            found.append((costs[start], int(start)))
            blocked[max(start - n - zone + 1, 0) : start + n + zone] = True
    return found


def _walk(rng, length, channels=1):
    return np.cumsum(rng.standard_normal((length, channels)), axis=0)


@pytest.mark.parametrize(
    ("length", "n", "radius", "channels", "k"),
    [
        (300, 12, 2, 1, 1),
        (400, 20, 3, 1, 3),
        (250, 16, 15, 2, 2),
        (200, 7, 0, 1, 2),
        (120, 5, 1, 3, 1),
        (500, 10, 2, 2, 6),
    ],
)
@pytest.mark.parametrize("one_pass", [False, True])
def test_matches_brute_force(length, n, radius, channels, k, one_pass):
    rng = np.random.default_rng(length + n)
    series = _walk(rng, length, channels)
    query = series[length // 2 : length // 2 + n] + 0.3 * rng.standard_normal((n, channels))
    zone = n // 2
    expected = _brute_force(query, series, radius, k, zone)
    found, stats = znormalized_search(query, series, radius, k, zone, one_pass=one_pass)
    assert [start for _, start in found] == [start for _, start in expected]
    np.testing.assert_allclose([d for d, _ in found], [d for d, _ in expected], rtol=1e-9)
    assert stats["windows"] >= len(series) - n + 1
    assert set(STAT_NAMES) <= set(stats)


def test_seeded_long_series_matches_the_unpruned_scan():
    # Long enough for the coarse seed (4096 coarse windows) and several epochs.
    rng = np.random.default_rng(7)
    series = _walk(rng, 60_000)
    query = series[41_000:41_064] + 0.5 * rng.standard_normal((64, 1))
    found, stats = znormalized_search(query, series, 5, 2, 32)
    expected = _exhaustive(query, series, 5, 2, 32)
    assert [start for _, start in found] == [start for _, start in expected]
    np.testing.assert_allclose([d for d, _ in found], [d for d, _ in expected], rtol=1e-9)
    # Pruning did the work: almost no window reached a full DTW.
    assert stats["dtw_completed"] < 0.01 * stats["windows"]
    assert stats["pruned_by_kim"] + stats["pruned_by_keogh_eq"] > 0.5 * stats["windows"]


@pytest.mark.parametrize("one_pass", [False, True])
def test_threads_give_the_same_matches(monkeypatch, one_pass):
    from alignkit.distances import _zsearch

    monkeypatch.setattr(_zsearch, "MIN_CHUNK", 4096)  # chunks of this small test's series
    assert len(_zsearch._chunks(40_000, 2)) == 2
    rng = np.random.default_rng(3)
    series = _walk(rng, 40_000, 2)
    query = series[9_000:9_040] + 0.2 * rng.standard_normal((40, 2))
    one, _ = znormalized_search(query, series, 4, 3, 20, n_jobs=1, one_pass=one_pass)
    two, _ = znormalized_search(query, series, 4, 3, 20, n_jobs=2, one_pass=one_pass)
    assert one == two  # the same starts and bit-identical distances


@pytest.mark.parametrize(("k", "channels"), [(3, 1), (7, 1), (4, 2)])
def test_one_pass_over_seeded_chunks_equals_k_passes_bit_for_bit(k, channels):
    # Several chunks of ONE_PASS_CHUNK starts, each long enough for its own coarse seed.
    from alignkit.distances import _zsearch

    rng = np.random.default_rng(20 + k)
    series = _walk(rng, 3 * _zsearch.ONE_PASS_CHUNK + 5_000, channels)
    query = series[52_000:52_100] + 0.4 * rng.standard_normal((100, channels))
    passes, stats = znormalized_search(query, series, 6, k, 50)
    assert stats["passes"] == k  # the default: under ONE_PASS_MIN_CHUNKS chunks, k passes
    one, stats = znormalized_search(query, series, 6, k, 50, one_pass=True)
    assert stats["passes"] == 1 and stats["chunks"] == 4
    assert len(one) == k
    assert one == passes  # the same starts, bit-identical distances
    two, _ = znormalized_search(query, series, 6, k, 50, n_jobs=2, one_pass=True)
    assert two == passes


def test_one_pass_is_the_default_from_three_matches_on_a_long_series(monkeypatch):
    from alignkit.distances import _zsearch

    # Chunks of one epoch, so that a short series has ONE_PASS_MIN_CHUNKS of them.
    monkeypatch.setattr(_zsearch, "ONE_PASS_CHUNK", 16_384)
    rng = np.random.default_rng(31)
    series = _walk(rng, 8 * 16_384 + 63)
    query = series[70_000:70_064] + 0.4 * rng.standard_normal((64, 1))
    passes, stats = znormalized_search(query, series, 4, 2, 32)
    assert stats["passes"] == 2  # k = 2: two passes
    one, stats = znormalized_search(query, series, 4, 4, 32)
    assert stats["passes"] == 1 and stats["chunks"] == 8
    assert one == znormalized_search(query, series, 4, 4, 32, one_pass=False)[0]
    assert one[:2] == passes
    # In threads, one pass from ONE_PASS_MIN_CHUNKS_THREADS chunks on (12 here).
    threads, stats = znormalized_search(query, series, 4, 4, 32, n_jobs=2)
    assert stats["passes"] == 4 and "chunks" not in stats and threads == one
    longer = _walk(rng, 12 * 16_384 + 63)
    _, stats = znormalized_search(query, longer, 4, 4, 32, n_jobs=2)
    assert stats["passes"] == 1 and stats["chunks"] == 12


@pytest.mark.parametrize(("count", "workers"), [(999_873, 2), (249_969, 2), (3_000_001, 4)])
def test_chunks_cover_the_starts_on_epochs_and_end_in_one_epoch_chunks(count, workers):
    from alignkit.distances import _zsearch

    chunks = _zsearch._chunks(count, workers, _zsearch.CHUNKS_PER_THREAD)
    edges = [first for first, _ in chunks] + [chunks[-1][1]]
    assert edges[0] == 0 and edges[-1] == count
    assert all(b > a for a, b in zip(edges[:-1], edges[1:]))  # contiguous, none empty
    assert all(edge % _search.EPOCH == 0 for edge in edges[:-1])
    # The last round (what the threads take last) is in chunks of one epoch, the very
    # last one up to one and a half.
    sizes = [last - first for first, last in chunks]
    tail = [size for size in sizes[-2 * workers :]]
    assert all(size == _search.EPOCH for size in tail[:-1])
    assert _search.EPOCH // 2 <= tail[-1] < 3 * _search.EPOCH // 2
    assert max(sizes) <= 2 * -(-count // (workers * _zsearch.CHUNKS_PER_THREAD)) + _search.EPOCH


@pytest.mark.parametrize("kind", ["planted", "sine"])
def test_threads_seed_in_regions_and_keep_every_match(monkeypatch, kind):
    # With threads, each thread seeds a region of its own (two coarse levels down, then
    # one, then full resolution) and starts the scan: the matches stay the exact ones
    # (a sine is nowhere in a random walk, so its regions' seeds are poor ones).
    from alignkit.distances import _zsearch

    monkeypatch.setattr(_zsearch, "MIN_CHUNK", 4096)
    monkeypatch.setattr(_zsearch, "MIN_COARSE_WINDOWS", 256)
    monkeypatch.setattr(_zsearch, "MIN_COARSE_QUERY", 4)
    seeded = []
    region_seeds = _zsearch._region_seeds

    def spy(*args):
        tasks = region_seeds(*args)
        seeded.append(tasks is not None and len(tasks))
        return tasks

    monkeypatch.setattr(_zsearch, "_region_seeds", spy)
    rng = np.random.default_rng(11)
    series = _walk(rng, 40_000)
    if kind == "planted":
        query = series[23_000:23_064] + 0.3 * rng.standard_normal((64, 1))
    else:
        query = np.sin(np.linspace(0, 9, 64))[:, None] + 0.05 * rng.standard_normal((64, 1))
    two, _ = znormalized_search(query, series, 3, 3, 32, n_jobs=2, one_pass=False)
    assert seeded and all(count == 2 for count in seeded)  # one region per thread, each pass
    seeded.clear()
    one, _ = znormalized_search(query, series, 3, 3, 32, n_jobs=1, one_pass=False)
    assert not seeded
    assert two == one  # the same starts and bit-identical distances
    expected = _exhaustive(query, series, 3, 3, 32)
    assert [start for _, start in two] == [start for _, start in expected]
    np.testing.assert_allclose([d for d, _ in two], [d for d, _ in expected], rtol=1e-9)


def test_a_region_pruned_by_the_others_seeds_from_two_levels_down(monkeypatch):
    # Run one after the other, the second region's scan one level down finds nothing
    # below the first region's (the planted match is there): it refines its own best
    # window two levels down instead. The threshold ends just above the best window's
    # distance, so the scan from it keeps that window.
    from alignkit.distances import _zsearch

    monkeypatch.setattr(_zsearch, "MIN_COARSE_WINDOWS", 256)
    monkeypatch.setattr(_zsearch, "MIN_COARSE_QUERY", 4)
    seen = []
    refine = _zsearch._refine

    def spy(problem, blocked, start_c, levels=1):
        seen.append(levels)
        return refine(problem, blocked, start_c, levels)

    monkeypatch.setattr(_zsearch, "_refine", spy)
    rng = np.random.default_rng(12)
    series = _walk(rng, 40_000)
    query = series[5_000:5_064] + 0.05 * rng.standard_normal((64, 1))
    query_z = znormalize(query)
    problem = _zsearch._Problem(series, query_z, 3)
    blocked = np.zeros(problem.count, dtype=np.bool_)
    coarse = _zsearch._coarse(series, query_z, blocked, 3)
    shared = np.full(1, np.inf)
    tasks = _zsearch._region_seeds(problem, blocked, coarse, 2, shared)
    for task in tasks:
        task()
    # Each region: a refine one level up, then at full resolution one level up or two.
    assert seen == [1, 1, 1, 2]
    start, distance, _ = problem.scan(0, problem.count, blocked, np.inf)
    assert start == 5_000
    assert shared[0] == np.nextafter(distance, np.inf)


def test_constant_windows_are_zeros_after_normalisation():
    # A flat stretch z-normalises to zeros (as alignkit's exhaustive search does).
    rng = np.random.default_rng(4)
    series = _walk(rng, 200)
    series[100:130] = 5.0
    query = np.zeros((10, 1))  # a flat query is zeros too: it matches a flat window exactly
    found, _ = znormalized_search(query, series, 2, 1, 5)
    assert found[0] == (0.0, 100)


def test_series_envelope_is_the_sliding_min_and_max():
    rng = np.random.default_rng(5)
    series = rng.standard_normal(50)
    lower, upper = _search.series_envelope(series, 3)
    for t in range(50):
        chunk = series[max(0, t - 3) : t + 4]
        assert lower[t] == chunk.min() and upper[t] == chunk.max()


@pytest.mark.parametrize("channels", [1, 3])
def test_envelope_of_any_range_and_radius_is_the_brute_force_min_and_max(channels):
    # The block method (van Herk / Gil-Werman) against min/max of each clipped window:
    # radii from 0 to beyond the series, ranges [first, last) of every kind (a thread's
    # chunk), ties (values rounded to one decimal), windows clipped at both ends.
    rng = np.random.default_rng(6)
    for _ in range(400):
        length = int(rng.integers(1, 60))
        radius = int(rng.integers(0, 70))
        series = np.round(rng.standard_normal((length, channels)), 1)
        if channels == 1:
            series = series[:, 0]
        first = int(rng.integers(0, length))
        last = int(rng.integers(first, length + 1))
        lower = np.full_like(series, np.nan)
        upper = np.full_like(series, np.nan)
        _search.series_envelope_into(series, radius, first, last, lower, upper)
        for t in range(length):
            window = series[max(0, t - radius) : t + radius + 1]
            if first <= t < last:
                np.testing.assert_array_equal(lower[t], window.min(axis=0))
                np.testing.assert_array_equal(upper[t], window.max(axis=0))
            else:  # outside the range: not written
                assert np.all(np.isnan(lower[t])) and np.all(np.isnan(upper[t]))


def test_thread_pool_runs_every_chunk_in_order_and_reraises():
    from alignkit.distances import _zsearch

    chunks = [(i, i + 1) for i in range(9)]
    seen = []

    def work(first, last):
        seen.append(first)
        return first * 10

    assert _zsearch._run_chunks(work, chunks, 2) == [10 * i for i in range(9)]
    assert sorted(seen) == list(range(9))

    def fails(first, last):
        if first == 4:
            raise ValueError("chunk 4")
        return first

    with pytest.raises(ValueError, match="chunk 4"):
        _zsearch._run_chunks(fails, chunks, 2)
    # The pool is still usable, and a call nested inside a chunk does not deadlock.
    nested = _zsearch._run_chunks(
        lambda first, last: sum(_zsearch._run_chunks(work, chunks, 2)), chunks[:3], 2
    )
    assert nested == [sum(10 * i for i in range(9))] * 3


def test_thread_pool_runs_before_and_head_first_while_the_others_take_chunks():
    import threading

    from alignkit.distances import _zsearch

    chunks = [(i, i + 1) for i in range(6)]
    taken = threading.Event()
    where = {}

    def work(first, last):
        taken.set()
        return first

    def before():
        where["before"] = threading.current_thread()
        # The pool's thread takes chunks without waiting for this to finish.
        assert taken.wait(10)

    def head():
        where["head"] = threading.current_thread()

    assert _zsearch._run_chunks(work, chunks, 2, before, head) == list(range(6))
    assert where["before"] is threading.current_thread()
    assert where["head"] is not threading.current_thread()

    started = threading.Event()

    def fails():
        started.set()
        raise ValueError("failed first")

    def waits(first, last):
        assert started.wait(10)  # the head has started: its error is not dropped
        return first

    with pytest.raises(ValueError, match="failed first"):
        _zsearch._run_chunks(work, chunks, 2, fails)
    started.clear()
    with pytest.raises(ValueError, match="failed first"):
        _zsearch._run_chunks(waits, chunks, 2, None, fails)
    # One thread: head, before, then every chunk, in the calling thread.
    order = []
    _zsearch._run_chunks(
        lambda a, b: order.append(a),
        chunks,
        1,
        lambda: order.append("before"),
        lambda: order.append("head"),
    )
    assert order == ["head", "before", *range(6)]
    assert _zsearch._run_chunks(work, chunks, 2) == list(range(6))  # still usable


# --- through subsequence_search -----------------------------------------------------------


def test_subsequence_search_uses_the_cascade_and_agrees_with_the_exhaustive_search():
    from alignkit.core.window import Window
    from alignkit.distances import subsequence_search
    from alignkit.distances._subsequence import _search_windows
    from alignkit.distances.step_patterns import symmetric1

    rng = np.random.default_rng(11)
    series = _walk(rng, 3000)
    query = series[1700:1750] + 0.4 * rng.standard_normal((50, 1))
    matches, stats = subsequence_search(
        query, series, k=3, window=4, znormalize=True, return_stats=True
    )
    assert stats["method"] == "cascade"
    exhaustive = _search_windows(query, series, symmetric1, Window(radius=4), 3, 25)
    assert [m.start for m in matches] == [int(path[0, 1]) for _, path in exhaustive]
    np.testing.assert_allclose(
        [m.distance for m in matches], [np.sqrt(total) for total, _ in exhaustive], rtol=1e-9
    )
    for match, (_, path) in zip(matches, exhaustive):
        np.testing.assert_array_equal(match.path, path)
        assert match.end == match.start + 49
    # Other windows and patterns keep the exhaustive search.
    _, stats = subsequence_search(
        query, series, window=("itakura", 2.0), znormalize=True, return_stats=True
    )
    assert stats["method"] == "exhaustive"


def test_n_jobs_zero_is_refused_by_name():
    from alignkit.distances import subsequence_search
    from alignkit.exceptions import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="'n_jobs' parameter of subsequence_search"):
        subsequence_search([1.0, 2.0], [0.0, 1.0, 2.0], znormalize=True, n_jobs=0)


def test_real_series_from_a_bundled_ucr_set_matches_brute_force():
    # GunPoint's test series end to end (150 x 150 points), a query from the train split.
    datasets = pytest.importorskip("aeon.datasets")
    from alignkit.distances import subsequence_search

    test, _ = datasets.load_gunpoint(split="test")
    train, _ = datasets.load_gunpoint(split="train")
    series = test[:, 0, :].reshape(-1, 1)[:6000]
    query = train[3, 0, 20:100].reshape(-1, 1)
    matches = subsequence_search(query, series, k=2, window=8, znormalize=True)
    expected = _exhaustive(query, series, 8, 2, 40)
    assert [m.start for m in matches] == [start for _, start in expected]
    np.testing.assert_allclose(
        [m.distance**2 for m in matches], [d for d, _ in expected], rtol=1e-9
    )


def _problem_arrays(series, query, radius):
    from alignkit.distances._zsearch import _Problem

    problem = _Problem(series, znormalize(query), radius)
    return problem, np.zeros(problem.count, dtype=np.bool_)


def test_a_shared_threshold_prunes_and_keeps_ties_at_earlier_starts():
    # The threshold another thread publishes (just above a distance it found) prunes
    # every window above it, but a window of the same distance is still found.
    rng = np.random.default_rng(21)
    series = _walk(rng, 3000)
    series[2500:2520] = series[400:420]  # two windows of the same shape
    query = series[400:420] + 0.0
    problem, blocked = _problem_arrays(series, query, 2)
    start, distance, _ = problem.scan(0, problem.count, blocked, np.inf)
    assert start == 400 and distance < 1e-20
    # Another chunk found the later copy and published just above its distance.
    later = problem.scan(2000, problem.count, blocked, np.inf)
    shared = np.full(1, np.nextafter(later[1], np.inf))
    assert problem.scan(0, 2000, blocked, np.inf, shared)[:2] == (400, distance)
    # A threshold below everything prunes all the windows; the shared value only goes down.
    shared = np.full(1, -1.0)
    start, distance, stats = problem.scan(0, problem.count, blocked, np.inf, shared)
    assert (start, distance) == (-1, np.inf) and shared[0] == -1.0
    assert stats[_search.STAT_DTW] == 0


def test_candidates_hold_every_window_up_to_the_kth_match():
    # One pass of search_candidates keeps, among others, every window whose distance is
    # at most the k-th greedy match of brute force, and no window above its threshold.
    rng = np.random.default_rng(22)
    series = _walk(rng, 1500)
    query = series[700:730] + 0.4 * rng.standard_normal((30, 1))
    n, zone, radius, k = 30, 15, 3, 3
    problem, _ = _problem_arrays(series, query, radius)
    shared = np.full(1, np.inf)
    starts, distances, threshold, _ = _search.search_candidates(
        problem.series, problem.query, problem.order, problem.q_lower, problem.q_upper, radius,
        0, problem.count, np.inf, 2 * k - 1, n + zone, shared,
    )  # fmt: skip
    expected = _brute_force(query, series, radius, k, zone)
    assert threshold >= expected[-1][0] and shared[0] == threshold
    assert (distances <= threshold).all() and (np.diff(starts) > 0).all()
    every = {
        s: _banded_dtw(znormalize(query), znormalize(series[s : s + n]), radius)
        for s in range(len(series) - n + 1)
    }
    needed = {s for s, cost in every.items() if cost <= expected[-1][0]}
    assert needed <= set(starts.tolist())
    for s, d in zip(starts, distances):
        np.testing.assert_allclose(d, every[int(s)], rtol=1e-9)


def test_thread_pool_is_started_again_in_a_forked_child():
    import multiprocessing

    from alignkit.distances import _zsearch

    chunks = [(i, i + 1) for i in range(4)]
    assert _zsearch._run_chunks(lambda a, b: a, chunks, 2) == [0, 1, 2, 3]  # parent's pool
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:  # the child inherits the parent's dead-thread pool object
        assert pool.apply(_zsearch._run_chunks, (_first, chunks, 2)) == [0, 1, 2, 3]


def _first(first, last):
    return first


@pytest.mark.parametrize("channels", [1, 2])
def test_lazy_envelope_across_segments_keeps_every_match(channels):
    # The series' envelope is computed per segment of SEGMENT starts, when a window of it
    # first reaches LB_Keogh against the series: a series of several segments, searched
    # for k matches, against every window's DTW; windows reached that bound.
    rng = np.random.default_rng(30 + channels)
    length = 2 * _search.SEGMENT + 300
    series = _walk(rng, length, channels)
    n = 24
    query = series[1500 : 1500 + n] + 0.3 * rng.standard_normal((n, channels))
    found, stats = znormalized_search(query, series, 4, 4, 12)
    expected = _exhaustive(query, series, 4, 4, 12)
    assert [start for _, start in found] == [start for _, start in expected]
    np.testing.assert_allclose([d for d, _ in found], [d for d, _ in expected], rtol=1e-9)
    reached = stats["pruned_by_keogh_ec"] + stats["dtw_abandoned"] + stats["dtw_completed"]
    assert reached > 10


@pytest.mark.parametrize("channels", [1, 3])
def test_coarse_copy_is_the_mean_of_each_block_of_timepoints(channels):
    from alignkit.kernels._numba._search import coarsen_into

    series = np.random.default_rng(5).standard_normal((4 * 50 + 3, channels))
    out = np.full((50, channels), np.nan)
    source = np.ascontiguousarray(series[:, 0]) if channels == 1 else series
    target = out[:, 0] if channels == 1 else out
    none = np.empty((0,) + target.shape[1:])
    coarsen_into(source, 4, 0, 30, target, none)
    coarsen_into(source, 4, 30, 50, target, none)  # two chunks, as two threads write it
    blocks = series[:200].reshape(50, 4, channels)
    expected = (((blocks[:, 0] + blocks[:, 1]) + blocks[:, 2]) + blocks[:, 3]) * 0.25
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_allclose(out, blocks.mean(axis=1), rtol=1e-12)
    # The next coarser copy in the same pass, in chunks whose edges are multiples of 4:
    # the same bits as a second pass over the first copy, the groups of 4 of it.
    again = np.full_like(out, np.nan)
    twice = np.full((12, channels), np.nan)
    pair = [again[:, 0], twice[:, 0]] if channels == 1 else [again, twice]
    coarsen_into(source, 4, 0, 28, *pair)
    coarsen_into(source, 4, 28, 50, *pair)
    np.testing.assert_array_equal(again, expected)
    groups = expected[:48].reshape(12, 4, channels)
    np.testing.assert_array_equal(
        twice, (((groups[:, 0] + groups[:, 1]) + groups[:, 2]) + groups[:, 3]) * 0.25
    )


@pytest.mark.parametrize("channels", [1, 2])
def test_coarse_copy_says_whether_the_values_it_read_were_finite(channels):
    from alignkit.kernels._numba._search import coarsen_into

    series = np.random.default_rng(6).standard_normal((4 * 40 + 2, channels))
    out = np.empty((40, channels))
    twice = np.empty((10, channels))

    def finite(values, first=0, last=40):
        source = np.ascontiguousarray(values[:, 0]) if channels == 1 else values
        pair = [out[:, 0], twice[:, 0]] if channels == 1 else [out, twice]
        return coarsen_into(source, 4, first, last, *pair)

    assert finite(series)
    for bad in (np.nan, np.inf, -np.inf):
        for timepoint in (0, 57, 159):
            values = series.copy()
            values[timepoint, channels - 1] = bad
            assert not finite(values)
            # Only the blocks of [first, last) are read: a chunk without it is finite.
            block = timepoint // 4
            assert finite(values, 0, block) and finite(values, block + 1, 40)
    values = series.copy()
    values[160:] = np.nan  # the tail no block reaches
    assert finite(values)
    # Finite values whose sum overflows read as not finite (the caller then checks them).
    values = series.copy()
    values[8:12] = 1e308
    assert not finite(values)


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("k", [1, 3, "one pass"])
@pytest.mark.parametrize(("bad", "timepoint"), [(np.nan, 0), (np.inf, 33_333), (-np.inf, 70_001)])
def test_search_refuses_nan_and_inf_in_its_copy_pass_at_their_timepoint(
    monkeypatch, n_jobs, k, bad, timepoint
):
    # The in-memory cascade checks the series in the pass that makes its coarse copies
    # (not in validation): the same error as check_sequence, the first bad timepoint,
    # in the copied blocks and in the tail no block reaches (70_001 of 70_002); the
    # one pass over chunks (k >= 3 on long series) checks it before its chunks.
    from alignkit import subsequence_search
    from alignkit.distances import _zsearch
    from alignkit.exceptions import InvalidInputError
    from alignkit.validation import check_sequence

    one_pass = k == "one pass"
    if one_pass:
        monkeypatch.setattr(_zsearch, "ONE_PASS_MIN_CHUNKS", 1)
        monkeypatch.setattr(_zsearch, "ONE_PASS_MIN_CHUNKS_THREADS", 1)
        k = _zsearch.ONE_PASS_K

    rng = np.random.default_rng(8)
    series = np.cumsum(rng.standard_normal(70_002))
    query = series[1000:1128] + 0.1  # two coarse levels: threads seed in regions
    series[timepoint] = bad
    series[timepoint + 1 :: 9_000] = np.nan  # later ones are not the first
    with pytest.raises(InvalidInputError) as expected:
        check_sequence(series, name="series")
    assert f"timepoint {timepoint}, channel 0" in str(expected.value)
    completed = []
    complete = _zsearch._CopyParts.complete
    monkeypatch.setattr(
        _zsearch._CopyParts, "complete", lambda self, i: completed.append(i) or complete(self, i)
    )
    with pytest.raises(InvalidInputError) as raised:
        subsequence_search(query, series, k=k, window=3, znormalize=True, n_jobs=n_jobs)
    assert str(raised.value) == str(expected.value)
    # Two threads: the regions' tasks made the copy (the tail, 70_001, before them).
    in_regions = n_jobs == 2 and not one_pass and timepoint < 70_000
    assert bool(completed) == in_regions


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_search_reads_huge_finite_values_whose_copy_overflows(n_jobs):
    # Finite values whose block sums overflow are not refused as NaN: the exact check
    # finds nothing, and the search goes on (its own overflow report, issue 13 item 2).
    # Two threads: the regions' copy (a 128-point query has two coarse levels).
    from alignkit import subsequence_search

    rng = np.random.default_rng(9)
    series = np.cumsum(rng.standard_normal(70_000))
    series[20_000:20_004] = 1.7e308
    query = series[5_000:5_128] + 0.1
    (match,) = subsequence_search(query, series, window=3, znormalize=True, n_jobs=n_jobs)
    assert match.start == 5_000


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_nan_in_one_channel_of_a_multichannel_series_is_refused_at_its_timepoint(n_jobs):
    from alignkit import subsequence_search
    from alignkit.exceptions import InvalidInputError

    rng = np.random.default_rng(16)
    series = _walk(rng, 70_000, 2)
    query = series[3_000:3_128] + 0.1
    series[41_234, 1] = np.nan
    with pytest.raises(InvalidInputError, match="series holds NaN at timepoint 41234, channel 1"):
        subsequence_search(query, series, window=3, znormalize=True, n_jobs=n_jobs)


def test_nan_in_a_series_shorter_than_the_query_is_refused_first():
    from alignkit import subsequence_search
    from alignkit.exceptions import InvalidInputError

    with pytest.raises(InvalidInputError, match="series holds NaN at timepoint 1"):
        subsequence_search(np.arange(10.0), [0.0, np.nan, 2.0], znormalize=True, window=2)


def test_coarse_blocked_starts_cover_every_coarse_window_when_n_is_no_multiple_of_4():
    # The last coarse window of a query of 131 points stands for a start past the last
    # one: the blocked array still has one entry per coarse window (it stays unblocked).
    from alignkit.distances import _zsearch

    series = _walk(np.random.default_rng(17), 40_000)
    query = znormalize(series[100:231])
    blocked = np.zeros(len(series) - 131 + 1, dtype=np.bool_)
    blocked[-5:] = True
    blocked[:9] = True
    series_c, query_c, blocked_c, _, _ = _zsearch._coarse(series, query, blocked, 3)
    assert len(blocked_c) == len(series_c) - len(query_c) + 1
    np.testing.assert_array_equal(blocked_c[:3], [True, True, True])
    assert not blocked_c[3] and blocked_c[-2] and not blocked_c[-1]


def test_k_passes_share_one_copy_pass_over_the_series(monkeypatch):
    # The coarse copies do not depend on what is blocked: k passes make them once.
    from alignkit.kernels._numba import _search as kernels

    copied = []
    coarsen_into = kernels.coarsen_into

    def spy(source, *args):
        copied.append(len(source))
        return coarsen_into(source, *args)

    monkeypatch.setattr(kernels, "coarsen_into", spy)
    rng = np.random.default_rng(10)
    series = _walk(rng, 80_000)
    query = series[7_000:7_128] + 0.3 * rng.standard_normal((128, 1))
    found, stats = znormalized_search(query, series, 6, 4, 64, one_pass=False)
    assert stats["passes"] == 4 and len(found) == 4
    assert copied.count(len(series)) == 1
    # Each match's distance is its window's DTW (dtw_distance as the oracle).
    from alignkit.distances import dtw_distance

    for distance, start in found:
        window = znormalize(series[start : start + 128])
        expected = dtw_distance(znormalize(query), window, window=6, squared=True)
        np.testing.assert_allclose(distance, expected, rtol=1e-9)


def _copy_parts(series, n=128, workers=2, check=True):
    """A search's copies and their parts, none handed to the pool yet."""
    from alignkit.distances import _zsearch

    copies = _zsearch._allocate_copies(series, n, levels=2)
    edges = _zsearch._region_edges(len(copies[1]) - n // 16 + 1, workers)
    return copies, _zsearch._CopyParts(series, copies, edges, check)


def test_copy_parts_are_made_by_whoever_comes_first_and_equal_one_pass():
    # A region's task copies its own part, then the parts nobody took (a pool thread busy
    # elsewhere has not started its task): the copies equal those made in one pass.
    from alignkit.distances import _zsearch

    series = _walk(np.random.default_rng(13), 90_001)
    expected = _zsearch._copies(series, 128)
    copies, parts = _copy_parts(series)
    assert len(parts.parts) == 2 and parts.parts[-1][1] == len(copies[0])
    parts.complete(1)  # the second region's task alone: it makes both parts
    assert parts.taken == [True, True]
    parts.complete(0)  # the first one's task then finds its part made
    for made, reference in zip(copies, expected):
        np.testing.assert_array_equal(made, reference)
    # In threads, each task started as the pool starts it: the same copies.
    copies, parts = _copy_parts(series, workers=3)
    _zsearch._run_chunks(lambda a, b: None, [(0, 1)] * 3, 3, lambda: parts.complete(0), [
        lambda: parts.complete(1), lambda: parts.complete(2)
    ])  # fmt: skip
    for made, reference in zip(copies, expected):
        np.testing.assert_array_equal(made, reference)


def test_a_failed_copy_part_raises_in_every_region(monkeypatch):
    from alignkit.kernels._numba import _search as kernels

    series = _walk(np.random.default_rng(14), 90_001)
    copies, parts = _copy_parts(series)
    coarsen_into = kernels.coarsen_into

    def fails(source, factor, first, *args):
        if first > 0:
            raise MemoryError("the second part")
        return coarsen_into(source, factor, first, *args)

    monkeypatch.setattr(kernels, "coarsen_into", fails)
    with pytest.raises(MemoryError, match="the second part"):
        parts.complete(0)  # takes the second part too, which fails
    with pytest.raises(MemoryError, match="the second part"):
        parts.complete(1)  # and the other region's task raises it too


@pytest.mark.parametrize("shape", [(5, 1), (128, 1), (1000, 3), (33, 2)])
def test_znormalize_is_numpys_mean_and_std_to_the_bit(shape):
    from alignkit.kernels._numba._search import FLAT

    rng = np.random.default_rng(shape[0])
    for values in (rng.standard_normal(shape) * 1e3 + 7, np.cumsum(rng.standard_normal(shape), 0)):
        values[:, -1] = 4.25 if shape[1] > 1 else values[:, -1]  # a constant channel
        mean, std = values.mean(axis=0), values.std(axis=0)
        flat = std < FLAT * np.maximum(1.0, np.abs(mean))
        expected = (values - mean) / np.where(flat, np.inf, std)
        np.testing.assert_array_equal(znormalize(values), expected)

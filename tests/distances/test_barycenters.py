"""DBA and soft-DTW barycenters against independent truths.

- the DBA objective (summed squared DTW cost, computed here with ``dtw_distance``)
  never increases with more iterations, and beats the arithmetic mean of uniformly
  resampled copies on time-warped copies of one template;
- tslearn 0.10's ``dtw_barycenter_averaging`` from the same start as a comparison point;
- the soft-DTW barycenter is a stationary point of its objective (finite differences
  of ``soft_dtw``), and matches tslearn's ``softdtw_barycenter`` from the same start;
- the batched, pruned DBA step returns bit for bit the average of a brute-force DBA
  written here (full DP matrix in Python, the backtrack's tie rule, ``np.bincount``),
  ties, channels, unequal lengths and windows included, with a bound too low to hold
  the path (its rerun), in lockstep groups of lanes (full, padded, one per length,
  bounds mixed within a group), with first bounds given (as k-means gives its
  assignment costs), and on the per-member route taken for large matrices.
"""

import importlib

import numpy as np
import pytest

from alignkit import dtw_distance
from alignkit.datasets import make_warped_collection
from alignkit.distances._barycenters import dba, dba_average, soft_dtw_barycenter
from alignkit.distances._soft_dtw import soft_dtw
from alignkit.exceptions import InvalidInputError, WindowError
from alignkit.kernels._numba._bounds import band_bounds
from alignkit.validation import check_window


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


def _brute_path(x, y, lo, hi):
    """Full DP matrix in Python, then the backtrack: ties prefer (i-1, j-1), (i-1, j)."""
    n, m = len(x), len(y)
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(n):
        for j in range(lo[i], hi[i]):
            cost = 0.0
            for k in range(x.shape[1]):
                diff = x[i, k] - y[j, k]
                cost += diff * diff
            acc[i + 1, j + 1] = cost + min(acc[i, j], acc[i, j + 1], acc[i + 1, j])
    i, j, path = n - 1, m - 1, [(n - 1, m - 1)]
    while i > 0 or j > 0:
        diag, up, left = acc[i, j], acc[i, j + 1], acc[i + 1, j]
        if diag <= up and diag <= left:
            i, j = i - 1, j - 1
        elif up <= left:
            i -= 1
        else:
            j -= 1
        path.append((i, j))
    return acc[n, m], np.array(path[::-1])


def _brute_dba(X, window, average, n_iter, tol):
    """DBA from ``average``, one brute-force path per member, the stopping rule of dba."""

    def assign(z):
        sums, counts, total = np.zeros(z.shape), np.zeros(len(z)), 0.0
        for x in X:
            lo, hi, _ = band_bounds(window.resolve(len(x), len(z)), len(x), len(z))
            cost, path = _brute_path(x, z, lo, hi)
            for k in range(z.shape[1]):
                sums[:, k] += np.bincount(path[:, 1], weights=x[path[:, 0], k], minlength=len(z))
            counts += np.bincount(path[:, 1], minlength=len(z))
            total += cost
        return total, sums, counts

    cost, sums, counts = assign(average)
    for _ in range(n_iter):
        candidate = sums / counts[:, None]
        new_cost, sums, counts = assign(candidate)
        if new_cost <= cost:
            average = candidate
        if new_cost >= cost * (1.0 - tol):
            break
        cost = new_cost
    return average


@pytest.mark.parametrize("seed", range(16))
def test_dba_equals_brute_force_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    n_channels = 1 + seed % 2
    lengths = rng.integers(2, 14, size=rng.integers(2, 6))
    if seed % 3 == 0:
        lengths[:] = lengths[0]
    window = check_window([None, 2, 0.3, ("itakura", 2.0)][seed % 4])
    init_length = int(rng.integers(2, 14))
    if seed < 12:  # 0/1 values: ties between paths at almost every cell
        X = [rng.integers(0, 2, size=(n, n_channels)).astype(float) for n in lengths]
        init = rng.integers(0, 2, size=(init_length, n_channels)).astype(float)
    else:
        X = [rng.normal(size=(n, n_channels)) for n in lengths]
        init = rng.normal(size=(init_length, n_channels))
    expected = _brute_dba(X, window, init.copy(), 8, 0.0)
    np.testing.assert_array_equal(dba_average(X, window, init.copy(), 8, 0.0), expected)


def test_dba_step_bound_too_low_reruns_exactly():
    from alignkit.kernels._numba._barycenters import dba_step

    rng = np.random.default_rng(7)
    X = [rng.integers(0, 2, size=(n, 2)).astype(float) for n in (12, 9, 15)]
    average = rng.integers(0, 2, size=(11, 2)) + 0.5 * rng.integers(0, 2, size=(11, 2))
    flat = np.concatenate(X)
    offsets = np.array([0, 12, 21, 36])
    rows = [band_bounds(check_window(None), len(x), 11) for x in X]
    lo = np.concatenate([r[0] for r in rows])
    hi = np.concatenate([r[1] for r in rows])
    truth = [_brute_path(x, average, r[0], r[1]) for x, r in zip(X, rows)]
    for scale in (np.inf, 1.0, 0.5, 0.0):
        bounds = np.array([scale * cost if scale != np.inf else np.inf for cost, _ in truth])
        steps = np.zeros((3, 15 + 11 - 2), dtype=np.uint8)
        n_steps = np.full(3, -1)
        sums, counts = np.zeros((11, 2)), np.zeros(11)
        costs, _ = dba_step(
            flat, np.ascontiguousarray(flat.T), offsets, lo, hi, offsets[:-1], average, steps,
            n_steps, bounds, sums, counts,
        )  # fmt: skip
        np.testing.assert_array_equal(costs, [cost for cost, _ in truth])
        for k, (_, path) in enumerate(truth):
            moves = np.diff(path, axis=0)
            coded = np.where(moves.sum(axis=1) == 2, 0, np.where(moves[:, 0] == 1, 1, 2))
            np.testing.assert_array_equal(steps[k, : n_steps[k]], coded[::-1])


@pytest.mark.parametrize("seed", range(12))
def test_dba_lockstep_groups_equal_brute_force_bit_for_bit(seed):
    # More members than one group of lanes: full groups, a partial group padded,
    # several lengths (one group per length), a length held by one member; 0/1 values
    # tie at almost every cell.
    from alignkit.kernels._numba._barycenters import LANES

    rng = np.random.default_rng(100 + seed)
    n_channels = 1 + seed % 2
    counts = [LANES + 3, LANES, 2 * LANES + 1, 1][: 1 + seed % 4]
    lengths = [int(n) for n in rng.choice(np.arange(4, 16), size=len(counts), replace=False)]
    X = [
        rng.integers(0, 2, size=(n, n_channels)).astype(float)
        if seed % 3
        else rng.normal(size=(n, n_channels))
        for n, count in zip(lengths, counts)
        for _ in range(count)
    ]
    X = [X[k] for k in rng.permutation(len(X))]  # lengths interleaved in member order
    window = check_window([None, 2, 0.3, ("itakura", 2.0)][seed % 4])
    init = rng.integers(0, 2, size=(int(rng.integers(3, 14)), n_channels)).astype(float)
    expected = _brute_dba(X, window, init.copy(), 8, 0.0)
    np.testing.assert_array_equal(dba_average(X, window, init.copy(), 8, 0.0), expected)


@pytest.mark.parametrize("scale", [1.0, 0.5, 0.0, 2.0])
def test_dba_first_bounds_change_nothing(scale):
    # Bounds of the costs to the first average (k-means passes its assignment's):
    # exact, too low (those members run again unbounded), or loose.
    rng = np.random.default_rng(11)
    X = [rng.integers(0, 3, size=(int(n), 1)).astype(float) for n in rng.integers(8, 12, 20)]
    window = check_window(None)
    init = X[0].copy()
    first = [_brute_path(x, init, *band_bounds(window, len(x), len(init))[:2])[0] for x in X]
    bounds = scale * np.array(first)
    expected = _brute_dba(X, window, init.copy(), 6, 0.0)
    np.testing.assert_array_equal(
        dba_average(X, window, init.copy(), 6, 0.0, bounds=bounds), expected
    )


def test_dba_step_mixed_bounds_in_lockstep_groups():
    # One kernel call over two lengths and more members than a group of lanes, bounds
    # exact, too low (the member runs again alone), absent and loose: every cost and
    # path equals the full DP's; the sums are added member after member.
    from alignkit.kernels._numba._barycenters import LANES, dba_step

    rng = np.random.default_rng(12)
    lengths = [9 if k % 3 else 13 for k in range(2 * LANES + 3)]
    X = [rng.integers(0, 2, size=(n, 2)).astype(float) for n in lengths]
    average = rng.integers(0, 2, size=(10, 2)) + 0.5 * rng.integers(0, 2, size=(10, 2))
    window = check_window(1)
    flat = np.concatenate(X)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    tables = {n: band_bounds(window.resolve(n, 10), n, 10) for n in (9, 13)}
    lo = np.concatenate([tables[9][0], tables[13][0]])
    hi = np.concatenate([tables[9][1], tables[13][1]])
    row_starts = np.array([0 if n == 9 else 9 for n in lengths])
    truth = [_brute_path(x, average, *tables[len(x)][:2]) for x in X]
    scales = [(1.0, 0.5, np.inf, 3.0)[k % 4] for k in range(len(X))]
    bounds = np.array([s * cost if s != np.inf else np.inf for s, (cost, _) in zip(scales, truth)])
    steps = np.zeros((len(X), 13 + 10 - 2), dtype=np.uint8)
    n_steps = np.full(len(X), -1)
    sums, counts = np.zeros((10, 2)), np.zeros(10)
    costs, _ = dba_step(
        flat, np.ascontiguousarray(flat.T), offsets, lo, hi, row_starts, average, steps,
        n_steps, bounds, sums, counts,
    )  # fmt: skip
    np.testing.assert_array_equal(costs, [cost for cost, _ in truth])
    expected_sums, expected_counts = np.zeros((10, 2)), np.zeros(10)
    for k, (x, (_, path)) in enumerate(zip(X, truth)):
        moves = np.diff(path, axis=0)
        coded = np.where(moves.sum(axis=1) == 2, 0, np.where(moves[:, 0] == 1, 1, 2))
        np.testing.assert_array_equal(steps[k, : n_steps[k]], coded[::-1])
        for c in range(2):
            expected_sums[:, c] += np.bincount(path[:, 1], weights=x[path[:, 0], c], minlength=10)
        expected_counts += np.bincount(path[:, 1], minlength=10)
    np.testing.assert_array_equal(sums, expected_sums)
    np.testing.assert_array_equal(counts, expected_counts)


def test_dba_step_prunes_once_a_path_is_known():
    from alignkit.distances._barycenters import _band_rows, _DBAStep

    X = _warped_copies(count=8, seed=9)
    average = dba(X, n_iter=0)
    band_cells = sum(len(x) * len(average) for x in X)
    step = _DBAStep(X, _band_rows(X, check_window(None), len(average)), len(average))
    for k in range(4):
        cells = step.n_cells
        cost, sums, counts = step(average)
        assert cost == pytest.approx(_dba_objective(X, average), rel=1e-12)
        if k:  # bounded by the previous paths: far fewer cells than the full matrices
            assert step.n_cells - cells < 0.6 * band_cells
        average = sums / counts[:, None]


def test_dba_per_member_route_for_large_matrices_agrees(monkeypatch):
    # Above a size the path driver keeps no matrix (linear-memory paths): DBA then
    # aligns member by member; on data without ties both routes find the same paths.
    from alignkit.distances import _barycenters, _dtw

    rng = np.random.default_rng(8)
    X = [np.cumsum(rng.normal(size=(n, 1)), axis=0) for n in (50, 60, 55)]
    init = X[1].copy()
    batched = dba(X, init=init, n_iter=4, tol=0.0)
    monkeypatch.setattr(_dtw, "_LINEAR_THRESHOLD", 1000)  # every 8 * n * m is larger
    assert _barycenters._band_rows(X, check_window(None), len(init)) is None
    per_member = dba(X, init=init, n_iter=4, tol=0.0)
    np.testing.assert_allclose(batched, per_member, rtol=0, atol=1e-12)
    assert _dba_objective(X, batched) < _dba_objective(X, init)


def test_dba_overflow_names_the_sequence():
    X = [np.array([0.0, 1.0, 2.0]), np.array([0.0, 1e200, 0.0])]
    with pytest.raises(InvalidInputError, match=r"X\[1\].*overflows"):
        dba(X, init=np.zeros(3))


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


def test_soft_dtw_barycenter_runs_blas_on_one_thread_and_restores_it(monkeypatch):
    # L-BFGS-B's tiny vector operations woke OpenBLAS' threads, which spun on the other
    # cores; the optimisation runs with BLAS on one thread, and the setting comes back.
    import scipy.optimize
    from threadpoolctl import threadpool_info, threadpool_limits

    from alignkit.distances import soft_dtw_barycenter

    def blas_threads():
        return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]

    real_minimize = scipy.optimize.minimize
    seen = []

    def spy(*args, **kwargs):
        seen.append(blas_threads())
        return real_minimize(*args, **kwargs)

    monkeypatch.setattr(scipy.optimize, "minimize", spy)
    X = np.random.default_rng(0).standard_normal((4, 12, 1))
    with threadpool_limits(2, user_api="blas"):
        before = blas_threads()
        average = soft_dtw_barycenter(X, gamma=1.0, n_iter=5)
        assert blas_threads() == before
    assert seen and all(threads == [1] * len(threads) for threads in seen)
    # Without the limit, the same average.
    import contextlib

    from alignkit.distances import _barycenters

    monkeypatch.setattr(scipy.optimize, "minimize", real_minimize)
    monkeypatch.setattr(_barycenters, "_one_blas_thread", contextlib.nullcontext)
    np.testing.assert_array_equal(average, soft_dtw_barycenter(X, gamma=1.0, n_iter=5))


def test_soft_dtw_barycenter_evaluates_no_point_twice(monkeypatch):
    # The starting point is measured before L-BFGS-B starts, and L-BFGS-B's first call
    # asks for it again: that one comes from the first evaluation.
    from alignkit.distances import soft_dtw_barycenter
    from alignkit.kernels._numba import _barycenters as kernels

    real = kernels.soft_dtw_objective
    points = []

    def spy(flat, offsets, z, gamma, weights):
        points.append(z.copy())
        return real(flat, offsets, z, gamma, weights)

    monkeypatch.setattr(kernels, "soft_dtw_objective", spy)
    X = np.random.default_rng(1).standard_normal((5, 10, 1))
    soft_dtw_barycenter(X, gamma=1.0, n_iter=10)
    assert len(points) >= 3
    for a in range(len(points)):
        for b in range(a):
            assert not np.array_equal(points[a], points[b])

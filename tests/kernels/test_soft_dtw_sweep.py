"""The scaled soft-DTW forward pass (``exp(-R / gamma)`` per anti-diagonal) against the log domain.

Truths:

- the log-domain pass :func:`_forward` (the kernel before the scaled pass, kept as its
  fallback): values to 1e-12 relative, gradients to 1e-12 of their largest entry, the
  expected alignment to 1e-12;
- a dense log-domain recursion written here in Python (``np.logaddexp``), on small pairs;
- the weights of each reachable cell are a probability distribution over its predecessors;
- the batched callers (assignment matrix, barycenter objective) equal per-pair loops to
  1e-13 (the same operations, compiled inside another function).
"""

import numpy as np
import pytest

from alignkit.kernels._numba import _soft_dtw
from alignkit.kernels._numba._barycenters import soft_dtw_cross, soft_dtw_objective
from alignkit.validation import window_bounds

NO_MASK = np.zeros((0, 0), dtype=np.bool_)
NO_WORK = (np.empty(0), np.empty(0), np.empty(0))


def _full(n, m):
    return np.zeros(n, dtype=np.int64), np.full(n, m, dtype=np.int64)


def _scaled(x, y, lo, hi, gamma, keep_weights=True):
    work = _soft_dtw.weights_workspace(int(np.sum(hi - lo)))
    return _soft_dtw._scaled_forward(x, y, lo, hi, gamma, keep_weights, work)


def _log_domain(x, y, lo, hi, gamma):
    return _soft_dtw._forward(x, y, lo, hi, NO_MASK, gamma, True)


def _dense_reference(x, y, gamma):
    """R[n-1, m-1] by the recursion in Python, log-sum-exp by ``np.logaddexp``."""
    n, m = len(x), len(y)
    R = np.full((n + 1, m + 1), np.inf)
    R[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            terms = -np.array([R[i - 1, j - 1], R[i - 1, j], R[i, j - 1]]) / gamma
            cost = np.sum((x[i - 1] - y[j - 1]) ** 2)
            R[i, j] = cost - gamma * np.logaddexp.reduce(terms)
    return R[n, m]


def _random_pair(rng, n, m, channels, scale):
    return rng.standard_normal((n, channels)) * scale, rng.standard_normal((m, channels)) * scale


def _bands(rng, n, m):
    """The full window and a Sakoe-Chiba band of random radius."""
    yield _full(n, m)
    lo, hi, _ = window_bounds(int(rng.integers(1, max(2, max(n, m)))), n, m)
    yield lo, hi


def _assert_backward_matches(x, y, scaled, reference):
    _, w_scaled, ranges = scaled
    _, w_log, ranges_log = reference
    for a, b in zip(ranges, ranges_log):
        np.testing.assert_array_equal(a, b)
    grad = _soft_dtw.soft_dtw_grad_x(x, y, w_scaled, ranges)
    grad_log = _soft_dtw.soft_dtw_grad_x(x, y, w_log, ranges_log)
    assert np.max(np.abs(grad - grad_log)) <= 1e-12 * np.max(np.abs(grad_log))
    alignment = _soft_dtw.soft_dtw_expected_alignment(x, y, w_scaled, ranges)
    alignment_log = _soft_dtw.soft_dtw_expected_alignment(x, y, w_log, ranges_log)
    np.testing.assert_allclose(alignment, alignment_log, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_scaled_pass_matches_the_log_domain_on_random_pairs(seed):
    rng = np.random.default_rng(seed)
    n, m, channels = (int(rng.integers(1, high)) for high in (70, 70, 4))
    gamma = float(10 ** rng.uniform(-1, 1))
    x, y = _random_pair(rng, n, m, channels, 10 ** rng.uniform(-1, 0.3))
    for lo, hi in _bands(rng, n, m):
        value, ok, weights, ranges = _scaled(x, y, lo, hi, gamma)
        reference = _log_domain(x, y, lo, hi, gamma)
        assert ok  # well-scaled inputs: no fallback
        assert abs(value - reference[0]) <= 1e-12 * max(abs(reference[0]), 1.0)
        _assert_backward_matches(x, y, (value, weights, ranges), reference)
        # The public kernels take the scaled pass here, and return its numbers.
        public = _soft_dtw.soft_dtw_value(x, y, lo, hi, NO_MASK, gamma)
        assert public == pytest.approx(_scaled(x, y, lo, hi, gamma, False)[0], rel=1e-13)


@pytest.mark.parametrize("seed", range(4))
def test_scaled_pass_matches_a_dense_python_recursion(seed):
    rng = np.random.default_rng(100 + seed)
    n, m = int(rng.integers(1, 12)), int(rng.integers(1, 12))
    x, y = _random_pair(rng, n, m, 2, 1.0)
    for gamma in (0.1, 1.0, 5.0):
        value, ok, _, _ = _scaled(x, y, *_full(n, m), gamma)
        expected = _dense_reference(x, y, gamma)
        assert ok
        assert abs(value - expected) <= 1e-12 * max(abs(expected), 1.0)


def test_weights_of_every_reachable_cell_sum_to_one():
    rng = np.random.default_rng(7)
    x, y = _random_pair(rng, 23, 31, 1, 1.0)
    lo, hi = _full(23, 31)
    _, ok, (w_diag, w_up, w_left), (_, _, offsets) = _scaled(x, y, lo, hi, 0.5)
    assert ok
    total = (w_diag + w_up + w_left)[: offsets[-1]]
    np.testing.assert_allclose(total, 1.0, rtol=0, atol=1e-15)
    assert np.all(w_diag[: offsets[-1]] >= 0) and np.all(w_left[: offsets[-1]] >= 0)


def test_cells_far_above_their_diagonal_are_bounded_and_the_result_kept():
    # A ramp against itself at gamma = 0.2. On anti-diagonal 2k, cell (k, k) costs at most
    # its diagonal path, 0, and cell (0, 2k) exactly its one path along row 0: their
    # soft-DTW values differ by more than gamma * 2000 ln 2, more than a diagonal of q
    # holds, so corner cells are set to 0 under the bound; the optimum is near 0, the bound
    # holds, and the value and gradient still equal the log domain's.
    n = 201
    x = np.linspace(0.0, 3.0, n)[:, None]
    y = x + 0.01 * np.sin(np.arange(n))[:, None]
    gamma = 0.2
    k = (n - 1) // 2
    row_zero = np.sum((x[0] - y[: 2 * k + 1]) ** 2)
    diagonal_path = np.sum((x[: k + 1] - y[: k + 1]) ** 2)
    assert (row_zero - diagonal_path) / gamma > 2000 * np.log(2)
    lo, hi = _full(n, n)
    reference = _log_domain(x, y, lo, hi, gamma)
    value, ok, weights, ranges = _scaled(x, y, lo, hi, gamma)
    assert ok
    assert abs(value - reference[0]) <= 1e-12 * max(abs(reference[0]), 1.0)
    _assert_backward_matches(x, y, (value, weights, ranges), reference)


def test_a_bound_too_loose_falls_back():
    # Row 0 against a ramp: the optimum itself costs about 600, far above the cells set
    # to 0 times the paths after them, so the scaled pass cannot vouch for its value.
    n = 200
    x = np.zeros((n, 1))
    y = np.linspace(0.0, 3.0, n)[:, None]
    lo, hi = _full(n, n)
    assert not _scaled(x, y, lo, hi, 0.2)[1]
    reference = _soft_dtw._forward(x, y, lo, hi, NO_MASK, 0.2, False)[0]
    assert _soft_dtw.soft_dtw_value(x, y, lo, hi, NO_MASK, 0.2) == reference


@pytest.mark.parametrize("gamma, scale", [(1e-3, 10.0), (0.01, 30.0)])
def test_falls_back_to_the_log_domain_where_scaling_fails(gamma, scale):
    # Local costs of ~1e4 against gamma 1e-3: every exp(-cost / gamma) spans more than
    # float64, the scaled pass hands the pair back, and the public kernels return the
    # log-domain numbers unchanged.
    rng = np.random.default_rng(3)
    x, y = _random_pair(rng, 40, 35, 1, scale)
    lo, hi = _full(40, 35)
    assert not _scaled(x, y, lo, hi, gamma)[1]
    reference = _log_domain(x, y, lo, hi, gamma)
    value_only = _soft_dtw._forward(x, y, lo, hi, NO_MASK, gamma, False)[0]
    assert _soft_dtw.soft_dtw_value(x, y, lo, hi, NO_MASK, gamma) == value_only
    value, weights, _ = _soft_dtw.soft_dtw_forward(x, y, lo, hi, NO_MASK, gamma)
    assert value == reference[0]
    for a, b in zip(weights, reference[1]):
        np.testing.assert_array_equal(a, b)


def test_unreachable_end_falls_back_and_is_inf():
    # Bounds that leave a gap between rows: no path, soft-DTW is inf in both passes.
    x = np.zeros((4, 1))
    y = np.zeros((6, 1))
    lo = np.array([0, 0, 4, 4], dtype=np.int64)
    hi = np.array([2, 2, 6, 6], dtype=np.int64)
    assert not _scaled(x, y, lo, hi, 1.0, False)[1]
    assert _soft_dtw.soft_dtw_value(x, y, lo, hi, NO_MASK, 1.0) == np.inf


def _pack(sequences):
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in sequences])]).astype(np.int64)
    return np.ascontiguousarray(np.concatenate(sequences)), offsets


def test_batched_kernels_equal_per_pair_loops():
    rng = np.random.default_rng(11)
    sequences = [rng.standard_normal((int(k), 2)) for k in rng.integers(5, 40, 7)]
    centres = [rng.standard_normal((int(k), 2)) for k in (12, 30)]
    flat, offsets = _pack(sequences)
    c_flat, c_offsets = _pack(centres)
    cross = soft_dtw_cross(flat, offsets, c_flat, c_offsets, 0.7)
    for a, x in enumerate(sequences):
        for b, y in enumerate(centres):
            lo, hi = _full(len(x), len(y))
            expected = _soft_dtw.soft_dtw_value(x, y, lo, hi, NO_MASK, 0.7)
            assert cross[a, b] == pytest.approx(expected, rel=1e-13)
    z = centres[0]
    member_weights = np.array([1.0, 0.0, 2.0, 0.5, 1.0, 3.0, 1.0])
    total, grad, values = soft_dtw_objective(flat, offsets, z, 0.7, member_weights)
    expected_total, expected_grad = 0.0, np.zeros(z.shape)
    lo = np.zeros(len(z), dtype=np.int64)
    for k, x in enumerate(sequences):
        if member_weights[k] == 0.0:
            assert values[k] == 0.0
            continue
        hi = np.full(len(z), len(x), dtype=np.int64)
        value, weights, ranges = _soft_dtw.soft_dtw_forward(z, x, lo, hi, NO_MASK, 0.7)
        assert values[k] == pytest.approx(value, rel=1e-13)
        expected_total += member_weights[k] * value
        expected_grad += member_weights[k] * _soft_dtw.soft_dtw_grad_x(z, x, weights, ranges)
    assert total == pytest.approx(expected_total, rel=1e-13)
    np.testing.assert_allclose(grad, expected_grad, rtol=0, atol=1e-13 * np.max(np.abs(grad)))

"""Soft-DTW: value, expected alignment, gradient and divergence against independent truths.

- a dense reference written here from Algorithms 1 and 2 of Cuturi & Blondel (2017);
- tslearn 0.10 as an oracle (same definition: squared Euclidean local cost, true value);
- central finite differences for the gradient;
- the exact sandwich ``dtw - gamma * log(#paths) <= soft_dtw <= dtw``;
- aeon 1.6, whose ``soft_dtw_distance(x, y, gamma)`` uses the same gamma and cost but
  takes (n_channels, n_timepoints) arrays, returns the absolute value, and returns
  plain DTW (0) when both inputs are equal: we compare magnitudes on distinct inputs.
"""

import importlib
import os

import numpy as np
import pytest
from _reference import local_cost

from alignkit import dtw, dtw_distance
from alignkit.distances._soft_dtw import (
    soft_dtw,
    soft_dtw_alignment,
    soft_dtw_divergence,
    soft_dtw_grad,
)
from alignkit.exceptions import InvalidInputError, WindowError
from alignkit.validation import window_bounds

CASES = [(1, 1, 1), (1, 6, 2), (6, 1, 1), (7, 5, 1), (6, 9, 3), (13, 10, 2), (20, 31, 1)]
GAMMAS = [0.05, 1.0, 10.0]


def _softmin(values, gamma):
    values = np.asarray(values)
    low = values.min()
    if not np.isfinite(low):
        return np.inf
    return low - gamma * np.log(np.sum(np.exp(-(values - low) / gamma)))


def reference_soft_dtw(a, b, gamma, mask=None):
    """Algorithms 1 and 2 of the paper on padded (n + 2, m + 2) matrices, in Python loops."""
    cost = local_cost(a, b)
    n, m = cost.shape
    if mask is not None:
        cost = np.where(mask, cost, np.inf)
    R = np.full((n + 2, m + 2), np.inf)
    R[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            R[i, j] = cost[i - 1, j - 1] + _softmin(
                [R[i - 1, j - 1], R[i - 1, j], R[i, j - 1]], gamma
            )
    D = np.zeros((n + 2, m + 2))
    D[1 : n + 1, 1 : m + 1] = cost
    R[:, m + 1] = -np.inf
    R[n + 1, :] = -np.inf
    R[n + 1, m + 1] = R[n, m]
    E = np.zeros((n + 2, m + 2))
    E[n + 1, m + 1] = 1.0
    with np.errstate(invalid="ignore"):
        for j in range(m, 0, -1):
            for i in range(n, 0, -1):
                if not np.isfinite(R[i, j]):
                    continue  # a cell no path reaches carries no probability
                terms = [
                    (E[i + 1, j], R[i + 1, j] - R[i, j] - D[i + 1, j]),
                    (E[i, j + 1], R[i, j + 1] - R[i, j] - D[i, j + 1]),
                    (E[i + 1, j + 1], R[i + 1, j + 1] - R[i, j] - D[i + 1, j + 1]),
                ]
                E[i, j] = sum(e * np.exp(x / gamma) for e, x in terms if e > 0)
    return R[n, m], E[1 : n + 1, 1 : m + 1]


def _pair(n, m, d, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(m, d))


def _band_mask(window, n, m):
    lo, hi, _ = window_bounds(window, n, m)
    mask = np.zeros((n, m), dtype=bool)
    for i in range(n):
        mask[i, lo[i] : hi[i]] = True
    return mask


@pytest.mark.parametrize("n, m, d", CASES)
@pytest.mark.parametrize("gamma", GAMMAS)
def test_value_and_alignment_match_paper_recursions(n, m, d, gamma):
    a, b = _pair(n, m, d, seed=n * 100 + m)
    value, alignment = reference_soft_dtw(a, b, gamma)
    np.testing.assert_allclose(soft_dtw(a, b, gamma=gamma), value, rtol=1e-12, atol=1e-12)
    ours, ours_alignment = soft_dtw_alignment(a, b, gamma=gamma)
    np.testing.assert_allclose(ours, value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours_alignment, alignment, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("window", [2, 0.2, ("itakura", 1.5), 0])
@pytest.mark.parametrize("n, m", [(12, 12), (9, 15), (16, 7)])
def test_windows_match_reference_with_inf_outside(window, n, m):
    a, b = _pair(n, m, 2, seed=7)
    mask = _band_mask(window, n, m)
    value, alignment = reference_soft_dtw(a, b, 0.5, mask)
    np.testing.assert_allclose(soft_dtw(a, b, gamma=0.5, window=window), value, rtol=1e-12)
    ours, ours_alignment = soft_dtw_alignment(a, b, gamma=0.5, window=window)
    np.testing.assert_allclose(ours, value, rtol=1e-12)
    np.testing.assert_allclose(ours_alignment, alignment, rtol=1e-10, atol=1e-13)
    assert np.all(ours_alignment[~mask] == 0.0)


def test_boolean_mask_window_with_unreachable_cells():
    a, b = _pair(8, 8, 1, seed=3)
    mask = np.ones((8, 8), dtype=bool)
    mask[2, 3:] = False  # row 2 keeps only columns 0..2, so cells to the right of it...
    mask[1, 5] = False
    mask[4, 1] = False  # ...and (4, 1) is cut; (5, 0) is then reachable only downward
    value, alignment = reference_soft_dtw(a, b, 1.0, mask)
    ours, ours_alignment = soft_dtw_alignment(a, b, gamma=1.0, window=mask)
    np.testing.assert_allclose(ours, value, rtol=1e-12)
    np.testing.assert_allclose(soft_dtw(a, b, gamma=1.0, window=mask), value, rtol=1e-12)
    np.testing.assert_allclose(ours_alignment, alignment, rtol=1e-10, atol=1e-13)
    assert np.all(np.isfinite(ours_alignment))


@pytest.mark.parametrize("n, m, d", CASES)
def test_tslearn_oracle(n, m, d):
    tslearn_metrics = importlib.import_module("tslearn.metrics")
    a, b = _pair(n, m, d, seed=n + 17 * m)
    for gamma in GAMMAS:
        expected = tslearn_metrics.soft_dtw(a, b, gamma=gamma)
        np.testing.assert_allclose(soft_dtw(a, b, gamma=gamma), expected, rtol=1e-12, atol=1e-12)
        alignment, value = tslearn_metrics.soft_dtw_alignment(a, b, gamma=gamma)
        ours, ours_alignment = soft_dtw_alignment(a, b, gamma=gamma)
        np.testing.assert_allclose(ours, value, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours_alignment, alignment, rtol=1e-10, atol=1e-13)


def test_tslearn_local_cost_is_squared_euclidean():
    """One frame each: soft-DTW is the local cost, which must be the squared distance."""
    tslearn_metrics = importlib.import_module("tslearn.metrics")
    a, b = np.array([[1.0, 2.0]]), np.array([[4.0, 6.0]])
    assert tslearn_metrics.soft_dtw(a, b, gamma=1.0) == pytest.approx(25.0)
    assert soft_dtw(a, b, gamma=1.0) == pytest.approx(25.0)


@pytest.mark.parametrize("n, m, d", [(5, 7, 1), (9, 6, 3), (1, 4, 2), (12, 12, 2)])
@pytest.mark.parametrize("window", [None, 2])
def test_gradient_matches_central_differences(n, m, d, window):
    a, b = _pair(n, m, d, seed=11 * n + m)
    value, grad = soft_dtw_grad(a, b, gamma=0.7, window=window)
    assert value == pytest.approx(soft_dtw(a, b, gamma=0.7, window=window), rel=1e-13)
    step = 1e-6
    numeric = np.zeros_like(a)
    for index in np.ndindex(*a.shape):
        up, down = a.copy(), a.copy()
        up[index] += step
        down[index] -= step
        numeric[index] = (
            soft_dtw(up, b, gamma=0.7, window=window) - soft_dtw(down, b, gamma=0.7, window=window)
        ) / (2 * step)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6)


def test_gradient_is_chain_rule_through_alignment():
    a, b = _pair(10, 8, 2, seed=5)
    _, alignment = soft_dtw_alignment(a, b, gamma=0.3)
    _, grad = soft_dtw_grad(a, b, gamma=0.3)
    expected = 2 * (alignment.sum(axis=1)[:, None] * a - alignment @ b)
    np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n, m, d", CASES)
def test_small_gamma_tends_to_squared_dtw(n, m, d):
    """``min - gamma * log(#paths) <= softmin <= min``, with at most 3 ** (n + m) paths."""
    a, b = _pair(n, m, d, seed=n * m)
    exact = dtw_distance(a, b, squared=True)
    for gamma in (1e-2, 1e-4):
        value = soft_dtw(a, b, gamma=gamma)
        assert exact - gamma * (n + m) * np.log(3) - 1e-9 <= value <= exact + 1e-9


def test_alignment_structure():
    a, b = _pair(15, 11, 2, seed=2)
    _, alignment = soft_dtw_alignment(a, b, gamma=1.0)
    assert alignment[0, 0] == pytest.approx(1.0)
    assert alignment[-1, -1] == pytest.approx(1.0)
    assert np.all(alignment >= 0) and np.all(alignment <= 1 + 1e-12)
    assert np.all(alignment.sum(axis=1) >= 1 - 1e-12)
    assert np.all(alignment.sum(axis=0) >= 1 - 1e-12)


def test_small_gamma_alignment_is_the_dtw_path():
    from alignkit import dtw

    a, b = _pair(12, 9, 1, seed=4)
    _, alignment = soft_dtw_alignment(a, b, gamma=1e-4)
    path = dtw(a, b).path
    indicator = np.zeros_like(alignment)
    indicator[path[:, 0], path[:, 1]] = 1.0
    np.testing.assert_allclose(alignment, indicator, atol=1e-6)


def test_extreme_gammas_do_not_overflow():
    """Large costs over a tiny or huge gamma: exp(-cost / gamma) alone would under/overflow.

    For a tiny gamma, Algorithm 2 as written loses accuracy (it divides a
    difference of large, nearly equal numbers by gamma), so there the truths
    are the DTW sandwich and the exact ``E[0, 0] = E[n-1, m-1] = 1`` instead.
    """
    a, b = _pair(30, 25, 1, seed=9)
    a *= 100.0
    exact = dtw_distance(a, b, squared=True)
    for gamma in (1e-6, 1e-3):
        value, alignment = soft_dtw_alignment(a, b, gamma=gamma)
        assert exact - gamma * 55 * np.log(3) - 1e-6 <= value <= exact + 1e-6
        assert alignment[0, 0] == pytest.approx(1.0, abs=1e-12)
        assert alignment[-1, -1] == 1.0
        assert np.all((alignment >= 0) & (alignment <= 1 + 1e-12))
    for gamma in (10.0, 1e4):
        value, alignment = reference_soft_dtw(a, b, gamma)
        ours, ours_alignment = soft_dtw_alignment(a, b, gamma=gamma)
        np.testing.assert_allclose(ours, value, rtol=1e-12)
        np.testing.assert_allclose(ours_alignment, alignment, rtol=1e-9, atol=1e-12)


def test_divergence_properties():
    rng = np.random.default_rng(0)
    for _ in range(10):
        a = rng.normal(size=(rng.integers(1, 12), 2))
        b = rng.normal(size=(rng.integers(1, 12), 2))
        for gamma in (0.1, 1.0, 10.0):
            forward = soft_dtw_divergence(a, b, gamma=gamma)
            assert forward > 0
            assert forward == pytest.approx(soft_dtw_divergence(b, a, gamma=gamma), rel=1e-12)
            expected = soft_dtw(a, b, gamma=gamma) - 0.5 * (
                soft_dtw(a, a, gamma=gamma) + soft_dtw(b, b, gamma=gamma)
            )
            assert forward == pytest.approx(expected, rel=1e-12)
            assert soft_dtw_divergence(a, a, gamma=gamma) == 0.0


def test_divergence_matches_tslearn_normalized():
    tslearn_metrics = importlib.import_module("tslearn.metrics")
    a, b = _pair(9, 13, 2, seed=8)
    expected = tslearn_metrics.soft_dtw_normalized(a, b, gamma=0.5)
    assert soft_dtw_divergence(a, b, gamma=0.5) == pytest.approx(expected, rel=1e-12)


def test_divergence_refuses_mask():
    with pytest.raises(WindowError, match="mask"):
        soft_dtw_divergence([1.0, 2.0], [1.0, 2.0], window=np.ones((2, 2), dtype=bool))


@pytest.mark.parametrize("gamma", [0.1, 1.0, 5.0])
def test_aeon_returns_the_absolute_value(gamma):
    aeon_distances = importlib.import_module("aeon.distances")
    a, b = _pair(8, 11, 2, seed=1)
    ours = soft_dtw(a, b, gamma=gamma)
    theirs = aeon_distances.soft_dtw_distance(a.T, b.T, gamma=gamma)
    assert theirs == pytest.approx(abs(ours), rel=1e-12)
    # gamma=5 gives a negative value here: the case aeon gets wrong.
    if gamma == 5.0:
        assert ours < 0


@pytest.mark.parametrize("gamma", [0, -1.0, np.inf, np.nan, True, "1", None])
def test_invalid_gamma_names_gamma(gamma):
    for function in (soft_dtw, soft_dtw_alignment, soft_dtw_grad, soft_dtw_divergence):
        with pytest.raises(InvalidInputError, match="gamma"):
            function([1.0, 2.0], [1.0], gamma=gamma)


def test_invalid_inputs():
    with pytest.raises(InvalidInputError, match="channels"):
        soft_dtw(np.zeros((3, 2)), np.zeros((3, 1)))
    with pytest.raises(InvalidInputError, match="NaN"):
        soft_dtw([1.0, np.nan], [1.0])
    with pytest.raises(WindowError):
        soft_dtw([1.0, 2.0], [1.0, 2.0], window=np.ones((3, 3), dtype=bool))
    blocked = np.array([[True, False, False], [False, False, True], [False, False, True]])
    with pytest.raises(WindowError, match="no continuous warping path"):
        soft_dtw_grad([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], window=blocked)


def test_memory_limit_is_checked():
    from alignkit import config_context
    from alignkit.exceptions import AlignkitMemoryError

    a, b = _pair(200, 200, 1, seed=0)
    with config_context(max_memory=100_000):
        assert np.isfinite(soft_dtw(a, b))  # O(n) memory: not limited
        with pytest.raises(AlignkitMemoryError):
            soft_dtw_grad(a, b)


def _estimate_from_message(call):
    """The bytes a call says it needs, read from its error under ``max_memory=0``."""
    import re

    from alignkit import config_context
    from alignkit.exceptions import AlignkitMemoryError

    with config_context(max_memory=0), pytest.raises(AlignkitMemoryError) as error:
        call()
    return int(re.search(r"needs about ([\d,]+) bytes", str(error.value)).group(1).replace(",", ""))


_BACKWARD = {"alignment": soft_dtw_alignment, "grad": soft_dtw_grad}
# Bytes per cell of the window and per entry of the n x m matrix, as documented.
_DOCUMENTED = {
    ("numba", "alignment"): (24, 8),
    ("numba", "grad"): (24, 0),
    ("torch", "alignment"): (64, 16),
    ("torch", "grad"): (40, 0),
}


@pytest.mark.parametrize(("backend", "call"), sorted(_DOCUMENTED))
@pytest.mark.parametrize("window", [None, 5])
def test_memory_is_checked_once_per_call_before_allocating(backend, call, window, monkeypatch):
    # Issue 13, item 5: each allocation was checked alone, so a call grew past the cap.
    import tracemalloc

    from alignkit import config_context
    from alignkit.exceptions import AlignkitMemoryError

    if backend == "torch":
        pytest.importorskip("torch")
    a, b = _pair(60, 45, 2, seed=3)
    function = _BACKWARD[call]
    expected = function(a, b, gamma=0.5, window=window, backend=backend)
    estimate = _estimate_from_message(
        lambda: function(a, b, gamma=0.5, window=window, backend=backend)
    )
    lo, hi, _ = window_bounds(window, 60, 45)
    n_cells = sum(1 for i in range(60) for j in range(45) if lo[i] <= j < hi[i])
    per_cell, per_entry = _DOCUMENTED[backend, call]
    assert estimate == per_cell * n_cells + per_entry * 60 * 45
    # Just below the estimate: refused before any kernel runs or any array is made.
    from alignkit.kernels._numba import _soft_dtw as numba_kernels

    def refuse(*args, **kwargs):
        raise AssertionError("a kernel ran under the cap")

    with monkeypatch.context() as patch:
        patch.setattr(numba_kernels, "soft_dtw_forward", refuse)
        if backend == "torch":
            from alignkit.kernels._torch import _soft_dtw as torch_kernels

            patch.setattr(torch_kernels, "soft_dtw_batch", refuse)
            patch.setattr(torch_kernels, "soft_dtw_batch_cost", refuse)
        tracemalloc.start()
        try:
            with config_context(max_memory=estimate - 1), pytest.raises(AlignkitMemoryError):
                function(a, b, gamma=0.5, window=window, backend=backend)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 * 60 * 45 / 2
    # At the estimate: the same result as without a cap.
    with config_context(max_memory=estimate):
        value, array = function(a, b, gamma=0.5, window=window, backend=backend)
    assert value == expected[0]
    np.testing.assert_array_equal(array, expected[1])


def test_torch_value_and_divergence_memory_is_checked():
    pytest.importorskip("torch")
    from alignkit import config_context
    from alignkit.exceptions import AlignkitMemoryError

    a, b = _pair(30, 50, 1, seed=2)
    # The torch plan holds 24 bytes a cell; the divergence's largest term is (b, b).
    assert _estimate_from_message(lambda: soft_dtw(a, b, backend="torch")) == 24 * 30 * 50
    divergence = _estimate_from_message(lambda: soft_dtw_divergence(a, b, backend="torch"))
    assert divergence == 24 * 50 * 50
    with config_context(max_memory=divergence - 1), pytest.raises(AlignkitMemoryError):
        soft_dtw_divergence(a, b, backend="torch")
    with config_context(max_memory=divergence):
        assert soft_dtw_divergence(a, b, backend="torch") == pytest.approx(
            soft_dtw_divergence(a, b), rel=1e-12
        )
    with config_context(max_memory=0):  # the Numba value and divergence are O(n)
        assert soft_dtw_divergence(a, b) > 0


_RSS_SCRIPT = """
import sys
import numpy as np
import alignkit
from alignkit.distances import soft_dtw_alignment

def peak():  # VmHWM: this process's own peak (ru_maxrss starts at the parent's after exec)
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024

backend, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
a, b = rng.normal(size=(n, 1)), rng.normal(size=(n, 1))
soft_dtw_alignment(a[:4], b[:4], backend=backend)
before = peak()
with alignkit.config_context(max_memory=int(sys.argv[3])):
    soft_dtw_alignment(a, b, backend=backend)
print("ran", peak() - before)
"""


def test_the_whole_alignment_stays_within_its_estimate():
    # The audit's case: 1870 x 1870 grew 107 MiB under a 93 MiB cap. The peak
    # resident growth of a fresh process is the truth the estimate must cover
    # (measured the same way, torch's alignment grows 80 bytes a cell).
    import subprocess
    import sys

    from alignkit import config_context
    from alignkit.exceptions import AlignkitMemoryError

    if not os.path.exists("/proc/self/status"):
        pytest.skip("reads the peak resident size from Linux's /proc/self/status")
    n = 1870
    estimate = 32 * n * n
    a, b = _pair(n, n, 1, seed=0)
    with config_context(max_memory=93 * 2**20), pytest.raises(AlignkitMemoryError, match="107 MiB"):
        soft_dtw_alignment(a, b)
    result = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, "numba", str(n), str(estimate)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    outcome, growth = result.stdout.split()
    assert outcome == "ran"
    # O(n) buffers come on top of the n x m ones; memory the process freed
    # before may be reused, so the growth can fall short of the allocation.
    assert 0.5 * estimate < int(growth) <= estimate + 2**22


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_overflowing_squared_cost_is_reported_with_the_arguments(backend):
    # Issue 13, item 2: values around 1e154 overflow the squared cost; soft-DTW
    # raised a false "the window admits no continuous warping path".
    if backend == "torch":
        pytest.importorskip("torch")
    a, b = np.array([0.0, 1e155, 2.0]), np.array([0.0, -1e155])
    message = r"summed squared DTW cost between a and b overflows float64 .* 1e\+155"
    for function in (soft_dtw, soft_dtw_alignment, soft_dtw_grad, soft_dtw_divergence):
        for window in (None, 1):
            with pytest.raises(InvalidInputError, match=message):
                function(a, b, window=window, backend=backend)
    # A mask that admits a path: still the overflow; one that admits none: the window.
    b = np.array([0.0, -1e155, 1.0])
    with pytest.raises(InvalidInputError, match=message):
        soft_dtw(a, b, window=np.ones((3, 3), dtype=bool), backend=backend)
    blocked = np.array([[True, False, False], [False, False, True], [False, False, True]])
    with pytest.raises(WindowError, match="no continuous warping path"):
        soft_dtw(a, b, window=blocked, backend=backend)


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_large_values_that_do_not_overflow_keep_working(backend):
    if backend == "torch":
        pytest.importorskip("torch")
    a, b = _pair(5, 4, 2, seed=6)
    a, b = a * 1e150, b * 1e150  # squared costs near 1e300, path sums below 1.8e308
    value, _ = reference_soft_dtw(a, b, gamma=1.0)
    assert np.isfinite(value)
    assert soft_dtw(a, b, backend=backend) == pytest.approx(value, rel=1e-12)
    ours, ours_alignment = soft_dtw_alignment(a, b, backend=backend)
    assert ours == pytest.approx(value, rel=1e-12)
    # gamma = 1 against costs near 1e300 is hard DTW: E is the indicator of the DTW path
    # (the reference's Algorithm 2 loses all precision at this scale).
    path = dtw(a, b).path
    indicator = np.zeros((5, 4))
    indicator[path[:, 0], path[:, 1]] = 1.0
    np.testing.assert_array_equal(ours_alignment, indicator)
    _, grad = soft_dtw_grad(a, b, backend=backend)
    _, numba_grad = soft_dtw_grad(a, b)
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, numba_grad, rtol=1e-12)

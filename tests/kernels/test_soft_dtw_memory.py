"""The memory-linear backward pass of the torch soft-DTW (recomputed weights) against truths.

- the stored-weights backward pass (``recompute=False``, Algorithm 2 of Cuturi & Blondel
  with every weight kept): the recomputed pass must give the same values and gradients to
  the last bit, in float32 and float64, with bands, masks and unequal lengths in one batch;
- the Numba backend (``alignkit.distances._soft_dtw.soft_dtw_grad``): gradients to 1e-8;
- central finite differences (``torch.autograd.gradcheck``);
- the peak resident memory of a fresh interpreter (``VmHWM``, reset through
  ``/proc/self/clear_refs``), which sees torch's CPU allocations where ``tracemalloc`` does not.
"""

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from alignkit.distances._soft_dtw import soft_dtw_grad
from alignkit.validation import check_window

torch = pytest.importorskip("torch")
from alignkit.kernels._torch import _soft_dtw  # noqa: E402

torch.set_num_threads(1)

WINDOWS = [None, 2, 0.25, ("itakura", 2.0)]


def _batch(seed, n_pairs=5, max_n=23, max_m=19, n_channels=2):
    rng = np.random.default_rng(seed)
    x_lengths = rng.integers(1, max_n + 1, n_pairs)
    y_lengths = rng.integers(1, max_m + 1, n_pairs)
    x_lengths[0], y_lengths[0] = max_n, max_m
    x_lengths[1], y_lengths[1] = 1, max_m  # a one-frame sequence every time
    x = rng.standard_normal((n_pairs, max_n, n_channels))
    y = rng.standard_normal((n_pairs, max_m, n_channels))
    return x, y, x_lengths, y_lengths


def _run(x, y, x_lengths, y_lengths, recompute, dtype=torch.float64, gamma=0.5, **options):
    xt = torch.tensor(x, dtype=dtype, requires_grad=True)
    yt = torch.tensor(y, dtype=dtype, requires_grad=True)
    values = _soft_dtw.soft_dtw_batch(
        xt, yt, x_lengths, y_lengths, gamma=gamma, recompute=recompute, **options
    )
    # Unequal upstream gradients, so that every pair's scale reaches its gradient.
    (values * torch.arange(1, len(x) + 1, dtype=dtype)).sum().backward()
    return values.detach(), xt.grad, yt.grad


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("window", WINDOWS)
def test_recomputed_gradients_equal_the_stored_ones_bit_for_bit(window, dtype):
    x, y, x_lengths, y_lengths = _batch([WINDOWS.index(window), dtype.itemsize])
    options = {"window": check_window(window)}
    stored = _run(x, y, x_lengths, y_lengths, False, dtype, **options)
    recomputed = _run(x, y, x_lengths, y_lengths, True, dtype, **options)
    assert stored[1].abs().sum() > 0
    for got, expected in zip(recomputed, stored):
        assert torch.equal(got, expected)


def test_recomputed_gradients_with_a_mask_and_tiny_pairs_equal_the_stored_ones():
    # 1 x 1, 1 x 2 and 2 x 2 pairs have one to three diagonals: segments of one diagonal.
    for n, m in [(1, 1), (1, 2), (2, 2), (3, 1), (40, 3)]:
        x, y, x_lengths, y_lengths = _batch(n * 100 + m, n_pairs=3, max_n=n, max_m=m)
        stored = _run(x, y, x_lengths, y_lengths, False)
        recomputed = _run(x, y, x_lengths, y_lengths, True)
        for got, expected in zip(recomputed, stored):
            assert torch.equal(got, expected)
    rng = np.random.default_rng(3)
    x, y, x_lengths, y_lengths = _batch(4)
    mask = torch.tensor(rng.random((len(x), x.shape[1], y.shape[1])) < 0.7)
    mask |= torch.eye(x.shape[1], y.shape[1], dtype=torch.bool)  # keeps a path
    stored = _run(x, y, x_lengths, y_lengths, False, mask=mask)
    recomputed = _run(x, y, x_lengths, y_lengths, True, mask=mask)
    for got, expected in zip(recomputed, stored):
        assert torch.equal(got, expected)


@pytest.mark.parametrize("window", [None, 3])
def test_recomputed_gradients_of_a_cost_matrix_equal_the_stored_ones(window):
    rng = np.random.default_rng(8)
    cost = rng.uniform(0, 2, (4, 31, 26))
    grads = []
    for recompute in (False, True):
        tensor = torch.tensor(cost, requires_grad=True)
        values = _soft_dtw.soft_dtw_batch_cost(
            tensor, [31, 9, 1, 20], [26, 26, 4, 1], gamma=0.3, window=check_window(window),
            recompute=recompute,
        )  # fmt: skip
        values.sum().backward()
        grads.append((values.detach(), tensor.grad))
    assert torch.equal(grads[0][0], grads[1][0]) and torch.equal(grads[0][1], grads[1][1])


@pytest.mark.parametrize("window", [None, 4])
def test_recomputed_gradients_equal_the_numba_backend(window):
    x, y, x_lengths, y_lengths = _batch(11, max_n=60, max_m=47)
    values, grad_x, grad_y = _run(x, y, x_lengths, y_lengths, True, window=check_window(window))
    for b in range(len(x)):
        a, c = x[b, : x_lengths[b]], y[b, : y_lengths[b]]
        value, expected_x = soft_dtw_grad(a, c, gamma=0.5, window=window)
        _, expected_y = soft_dtw_grad(c, a, gamma=0.5, window=window)
        assert values[b].item() == pytest.approx(value, rel=1e-9, abs=1e-12)
        scale = (b + 1) * max(np.abs(expected_x).max(), np.abs(expected_y).max())
        np.testing.assert_allclose(
            grad_x[b, : x_lengths[b]].numpy(), (b + 1) * expected_x, rtol=1e-8, atol=1e-10 * scale
        )
        np.testing.assert_allclose(
            grad_y[b, : y_lengths[b]].numpy(), (b + 1) * expected_y, rtol=1e-8, atol=1e-10 * scale
        )
        assert not grad_x[b, x_lengths[b] :].any() and not grad_y[b, y_lengths[b] :].any()


def test_recomputed_backward_passes_gradcheck():
    x, y, x_lengths, y_lengths = _batch(7, n_pairs=3, max_n=9, max_m=7)
    inputs = (torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True))

    def total(a, b):
        return _soft_dtw.soft_dtw_batch(a, b, x_lengths, y_lengths, gamma=0.5, recompute=True)

    assert torch.autograd.gradcheck(total, inputs)


def _saved_numel(values, x, y):
    return sum(t.numel() for t in values.grad_fn.saved_tensors) - x.numel() - y.numel()


def test_the_default_recomputes_only_above_the_store_limit(monkeypatch):
    n, m, batch = 120, 100, 2
    x = torch.randn(batch, n, 1, dtype=torch.float64, requires_grad=True)
    y = torch.randn(batch, m, 1, dtype=torch.float64)
    stored = _soft_dtw.soft_dtw_batch(x, y)
    assert _saved_numel(stored, x, y) == 3 * n * m * batch  # three weights per cell
    monkeypatch.setattr(_soft_dtw, "STORE_LIMIT", 3 * n * m * batch * 8 - 1)
    recomputed = _soft_dtw.soft_dtw_batch(x, y)
    # Two checkpoint diagonals (at most min(n, m) cells each) per segment after the first.
    n_diagonals = n + m - 1
    n_segments = math.ceil(n_diagonals / _soft_dtw._segment_length(n_diagonals))
    assert 0 < _saved_numel(recomputed, x, y) <= 2 * (n_segments - 1) * min(n, m) * batch
    assert torch.equal(stored, recomputed)
    grads = [torch.autograd.grad(values.sum(), x)[0] for values in (stored, recomputed)]
    assert torch.equal(grads[0], grads[1])


def _peak_memory(n_timepoints, recompute):
    """Peak resident memory (MiB) one soft-DTW forward + backward adds, in a fresh process."""
    code = textwrap.dedent(
        f"""
        import torch
        from alignkit.kernels._torch._soft_dtw import soft_dtw_batch

        def peak_kib():
            with open("/proc/self/status") as status:
                return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))

        torch.set_num_threads(1)
        x = torch.randn(1, {n_timepoints}, 1, dtype=torch.float64, requires_grad=True)
        y = torch.randn(1, {n_timepoints}, 1, dtype=torch.float64)
        soft_dtw_batch(x[:, :8], y[:, :8], recompute={recompute}).sum().backward()
        # Reset the peak (Linux): a numba compilation on the warm-up call must not hide ours.
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        before = peak_kib()
        soft_dtw_batch(x, y, recompute={recompute}).sum().backward()
        print((peak_kib() - before) / 1024)
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return float(completed.stdout.split()[-1])


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="resets the peak resident memory through /proc"
)
def test_recomputing_keeps_the_peak_memory_of_a_long_pair_small():
    # 1,500 x 1,500 in float64: the stored weights alone are 3 * 2.25e6 * 8 bytes = 51 MiB.
    stored = _peak_memory(1500, False)
    recomputed = _peak_memory(1500, True)
    assert stored > 40
    assert recomputed < stored / 4

"""Torch soft-DTW kernels, the soft-DTW torch backend and SoftDTWLoss against independent truths.

- central finite differences (``torch.autograd.gradcheck`` in float64) for the
  analytic backward pass, with respect to the sequences and to a cost matrix;
- the Numba backend (``alignkit.distances._soft_dtw``): values to 1e-9 relative, gradients and
  expected alignments to 1e-8;
- the dense textbook recursion of ``tests/distances/test_soft_dtw.py`` (Algorithms 1 and 2
  of Cuturi & Blondel, in Python loops) for values and expected alignments;
- the divergence's defining formula and its zero at ``x == y``;
- the same pair alone and inside a padded batch (padding filled with NaN).
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from alignkit.distances._soft_dtw import (
    soft_dtw,
    soft_dtw_alignment,
    soft_dtw_divergence,
    soft_dtw_grad,
)
from alignkit.exceptions import InvalidInputError, WindowError
from alignkit.validation import check_window

# The textbook recursion lives with the soft-DTW tests; load it by path, so that this file
# also runs alone (not only after pytest has put tests/distances on sys.path).
_spec = importlib.util.spec_from_file_location(
    "_soft_dtw_reference", Path(__file__).parent / "distances" / "test_soft_dtw.py"
)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
reference_soft_dtw = _module.reference_soft_dtw

torch = pytest.importorskip("torch")
from alignkit.kernels._torch._soft_dtw import soft_dtw_batch, soft_dtw_batch_cost  # noqa: E402
from alignkit.losses import SoftDTWLoss  # noqa: E402

torch.set_num_threads(1)

WINDOWS = [None, 1, 0.3, ("itakura", 2.0)]


def _batch(seed, n_pairs=6, max_n=14, max_m=12, n_channels=2, pad=0, fill=0.0):
    rng = np.random.default_rng(seed)
    x_lengths = rng.integers(1, max_n + 1, n_pairs)
    y_lengths = rng.integers(1, max_m + 1, n_pairs)
    x_lengths[-1], y_lengths[-1] = max_n, 1
    x = np.full((n_pairs, x_lengths.max() + pad, n_channels), fill)
    y = np.full((n_pairs, y_lengths.max() + pad, n_channels), fill)
    for b in range(n_pairs):
        x[b, : x_lengths[b]] = rng.standard_normal((x_lengths[b], n_channels))
        y[b, : y_lengths[b]] = rng.standard_normal((y_lengths[b], n_channels))
    return x, y, x_lengths, y_lengths


def _values_and_grads(x, y, x_lengths, y_lengths, gamma, window, dtype=torch.float64):
    xt = torch.tensor(x, dtype=dtype, requires_grad=True)
    yt = torch.tensor(y, dtype=dtype, requires_grad=True)
    values = soft_dtw_batch(xt, yt, x_lengths, y_lengths, gamma=gamma, window=check_window(window))
    values.sum().backward()
    return values.detach().numpy(), xt.grad.numpy(), yt.grad.numpy()


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("gamma", [0.05, 1.0, 10.0])
def test_values_and_gradients_equal_the_numba_backend(window, gamma):
    x, y, x_lengths, y_lengths = _batch([WINDOWS.index(window), int(gamma * 100)])
    values, grad_x, grad_y = _values_and_grads(x, y, x_lengths, y_lengths, gamma, window)
    for b in range(len(x)):
        a, c = x[b, : x_lengths[b]], y[b, : y_lengths[b]]
        value, expected_x = soft_dtw_grad(a, c, gamma=gamma, window=window)
        _, expected_y = soft_dtw_grad(c, a, gamma=gamma, window=window)
        assert values[b] == pytest.approx(value, rel=1e-9, abs=1e-12)
        scale = max(np.abs(expected_x).max(), np.abs(expected_y).max())
        np.testing.assert_allclose(
            grad_x[b, : x_lengths[b]], expected_x, rtol=1e-8, atol=1e-10 * scale
        )
        np.testing.assert_allclose(
            grad_y[b, : y_lengths[b]], expected_y, rtol=1e-8, atol=1e-10 * scale
        )
        assert not grad_x[b, x_lengths[b] :].any() and not grad_y[b, y_lengths[b] :].any()


def test_values_and_alignment_equal_the_textbook_recursion():
    x, y, x_lengths, y_lengths = _batch(4, n_channels=1)
    cost = torch.tensor((x[:, :, None, 0] - y[:, None, :, 0]) ** 2, requires_grad=True)
    values = soft_dtw_batch_cost(cost, x_lengths, y_lengths, gamma=0.7)
    values.sum().backward()
    for b in range(len(x)):
        n, m = x_lengths[b], y_lengths[b]
        value, expected = reference_soft_dtw(x[b, :n, 0], y[b, :m, 0], 0.7)
        assert values[b].item() == pytest.approx(value, rel=1e-10)
        np.testing.assert_allclose(cost.grad[b, :n, :m].numpy(), expected, atol=1e-12)
        assert not cost.grad[b, n:].any() and not cost.grad[b, :, m:].any()


@pytest.mark.parametrize("window", [None, 1, ("itakura", 1.5)])
def test_gradcheck_with_respect_to_the_sequences(window):
    x, y, x_lengths, y_lengths = _batch(7, n_pairs=3, max_n=6, max_m=5)
    inputs = (torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True))

    def total(a, b):
        return soft_dtw_batch(a, b, x_lengths, y_lengths, gamma=0.5, window=check_window(window))

    assert torch.autograd.gradcheck(total, inputs)


@pytest.mark.parametrize("window", [None, 1])
def test_gradcheck_with_respect_to_a_cost_matrix(window):
    rng = np.random.default_rng(9)
    cost = torch.tensor(rng.uniform(0, 2, (3, 6, 5)), requires_grad=True)
    mask = torch.ones(3, 6, 5, dtype=torch.bool)
    mask[0, 2, 1] = mask[1, 0, 1] = False

    def total(c):
        parsed = check_window(window)
        return soft_dtw_batch_cost(c, [6, 4, 2], [5, 5, 3], gamma=0.3, window=parsed, mask=mask)

    assert torch.autograd.gradcheck(total, (cost,))


def test_padding_never_changes_a_value_or_a_gradient():
    x, y, x_lengths, y_lengths = _batch(12, pad=3, fill=np.nan)
    values, grad_x, grad_y = _values_and_grads(x, y, x_lengths, y_lengths, 0.5, 2)
    assert np.isfinite(grad_x).all() and np.isfinite(grad_y).all()
    for b in range(len(x)):
        n, m = x_lengths[b], y_lengths[b]
        alone = _values_and_grads(x[b : b + 1, :n], y[b : b + 1, :m], None, None, 0.5, 2)
        assert values[b] == alone[0][0]
        np.testing.assert_array_equal(grad_x[b, :n], alone[1][0])
        np.testing.assert_array_equal(grad_y[b, :m], alone[2][0])


def test_float32_is_close_to_float64():
    x, y, x_lengths, y_lengths = _batch(13, max_n=40, max_m=35)
    exact = _values_and_grads(x, y, x_lengths, y_lengths, 1.0, None)
    single = _values_and_grads(x, y, x_lengths, y_lengths, 1.0, None, dtype=torch.float32)
    for got, expected in zip(single, exact):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_lengths_beyond_1024_work():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((1100, 1)), rng.standard_normal((1030, 1))
    value, grad = soft_dtw_grad(a, b, gamma=1.0, window=40)
    got, got_grad = soft_dtw_grad(a, b, gamma=1.0, window=40, backend="torch")
    assert got == pytest.approx(value, rel=1e-9)
    np.testing.assert_allclose(got_grad, grad, rtol=1e-7, atol=1e-9 * np.abs(grad).max())


# --------------------------------------------------------------- alignkit.distances._soft_dtw


@pytest.mark.parametrize("window", [None, 2, "mask"])
def test_soft_module_torch_backend_equals_numba(window):
    rng = np.random.default_rng(17)
    a, b = rng.standard_normal((9, 2)), rng.standard_normal((7, 2))
    if window == "mask":
        window = rng.random((9, 7)) < 0.8
        window[0, 0] = window[-1, -1] = True
        window[np.arange(7), np.arange(7)] = True
        window[7:, 6] = True
    for function in (soft_dtw, soft_dtw_grad, soft_dtw_alignment):
        expected = function(a, b, gamma=0.4, window=window)
        got = function(a, b, gamma=0.4, window=window, backend="torch", device="cpu")
        if function is soft_dtw:
            assert isinstance(got, float)
            assert got == pytest.approx(expected, rel=1e-9)
        else:
            assert got[0] == pytest.approx(expected[0], rel=1e-9)
            assert isinstance(got[1], np.ndarray) and got[1].shape == expected[1].shape
            np.testing.assert_allclose(got[1], expected[1], rtol=1e-8, atol=1e-12)
    if not isinstance(window, np.ndarray):
        assert soft_dtw_divergence(a, b, window=window, backend="torch") == pytest.approx(
            soft_dtw_divergence(a, b, window=window), rel=1e-9
        )


def test_soft_module_torch_backend_reports_windows_without_path():
    mask = np.zeros((3, 3), dtype=bool)
    mask[0, 0] = mask[2, 2] = mask[1, 0] = mask[2, 0] = True  # row 2 only reachable at (2, 0)
    mask[1, 2] = True
    with pytest.raises(WindowError, match="admits no continuous warping path"):
        soft_dtw([0.0, 1.0, 2.0], [0.0, 1.0, 2.0], window=mask, backend="torch")


# ---------------------------------------------------------------------------- SoftDTWLoss


@pytest.mark.parametrize("window", [None, 2])
def test_loss_normalize_is_the_divergence_and_zero_on_equal_inputs(window):
    x, y, x_lengths, y_lengths = _batch(21, pad=2)
    loss = SoftDTWLoss(gamma=0.8, normalize=True, reduction="none", window=window)
    values = loss(torch.tensor(x), torch.tensor(y), x_lengths, y_lengths).numpy()
    for b in range(len(x)):
        a, c = x[b, : x_lengths[b]], y[b, : y_lengths[b]]
        expected = soft_dtw_divergence(a, c, gamma=0.8, window=window)
        assert values[b] == pytest.approx(expected, rel=1e-9, abs=1e-12)
        assert expected > 0
    same = loss(torch.tensor(x), torch.tensor(x), x_lengths, x_lengths)
    np.testing.assert_allclose(same.numpy(), 0.0, atol=1e-12)


def test_loss_reductions_and_gradient():
    x, y, x_lengths, y_lengths = _batch(22)
    xt = torch.tensor(x, requires_grad=True)
    per_pair = SoftDTWLoss(reduction="none")(xt, torch.tensor(y), x_lengths, y_lengths)
    expected = [soft_dtw(x[b, : x_lengths[b]], y[b, : y_lengths[b]]) for b in range(len(x))]
    np.testing.assert_allclose(per_pair.detach().numpy(), expected, rtol=1e-9)
    total = SoftDTWLoss(reduction="sum")(xt, torch.tensor(y), x_lengths, y_lengths)
    mean = SoftDTWLoss()(xt, torch.tensor(y), x_lengths, y_lengths)
    assert total.item() == pytest.approx(sum(expected), rel=1e-12)
    assert mean.item() == pytest.approx(np.mean(expected), rel=1e-12)
    mean.backward()
    for b in range(len(x)):
        _, grad = soft_dtw_grad(x[b, : x_lengths[b]], y[b, : y_lengths[b]])
        np.testing.assert_allclose(xt.grad[b, : x_lengths[b]].numpy(), grad / len(x), rtol=1e-8,
                                   atol=1e-12)  # fmt: skip


def test_loss_trains_a_sequence_towards_its_target():
    target = torch.sin(torch.linspace(0, 6, 30, dtype=torch.float64))[None, :, None]
    x = torch.zeros(1, 25, 1, dtype=torch.float64, requires_grad=True)
    loss = SoftDTWLoss(gamma=0.1, normalize=True)
    optimizer = torch.optim.Adam([x], lr=0.1)
    start = loss(x, target).item()
    for _ in range(60):
        optimizer.zero_grad()
        value = loss(x, target)
        value.backward()
        optimizer.step()
    assert loss(x, target).item() < 0.05 * start


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"gamma": 0.0}, "'gamma' parameter of SoftDTWLoss must be a float in the range"),
        ({"gamma": -1.0}, "'gamma' parameter of SoftDTWLoss must be a float in the range"),
        ({"gamma": True}, "'gamma' parameter of SoftDTWLoss must be a float in the range"),
        ({"reduction": "max"}, "'reduction' parameter of SoftDTWLoss must be a str among"),
        ({"normalize": "no"}, "'normalize' parameter of SoftDTWLoss must be"),
    ],
)
def test_loss_bad_parameters(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        SoftDTWLoss(**kwargs)


def test_kernel_bad_inputs_are_named():
    # gamma is checked at the public boundary (SoftDTWLoss, soft_dtw), not in the kernel.
    with pytest.raises(InvalidInputError, match="'gamma' parameter of soft_dtw must be"):
        soft_dtw([0.0, 1.0], [0.0], gamma=-1.0, backend="torch")
    with pytest.raises(InvalidInputError, match="mask must be a bool tensor of shape"):
        soft_dtw_batch(torch.zeros(1, 3, 1), torch.zeros(1, 2, 1), mask=torch.ones(1, 2, 2))
    with pytest.raises(InvalidInputError, match="cost must be a torch.Tensor of shape"):
        soft_dtw_batch_cost(torch.zeros(3, 2))
    with pytest.raises(InvalidInputError, match=r"x_lengths\[1\] = 4 is outside \[1, 3\]"):
        soft_dtw_batch_cost(torch.zeros(2, 3, 2), x_lengths=[1, 4])

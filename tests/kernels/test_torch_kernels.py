"""Torch DTW kernels, backend dispatch and DTWAligner(backend="torch") against independent truths.

- the Numba backend (``alignkit.dtw``, ``alignkit.dtw_distance``): on the CPU in
  float64 the distances agree to 1e-9 relative and the paths are identical, also
  on integer data full of tied optima, where only the same tie-breaking agrees;
- the textbook DP and backtrack of ``tests/_reference.py`` over exact window
  cell sets (``band_cells``, ``itakura_cells``), which share no code with alignkit;
- the same pair alone and inside a padded batch (padding filled with NaN);
- a fresh interpreter where ``import torch`` fails (an import hook), for the
  optional-dependency contract.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from _reference import band_cells, itakura_cells, reference_backtrack, reference_dtw
from sklearn.base import clone

import alignkit
from alignkit import DTWAligner
from alignkit.exceptions import InvalidInputError
from alignkit.kernels.dispatch import resolve_backend
from alignkit.validation import check_window

torch = pytest.importorskip("torch")
from alignkit.kernels._torch._dtw import dtw_batch, paths_to_list  # noqa: E402

torch.set_num_threads(1)

WINDOWS = [None, 0, 2, 0.15, ("itakura", 2.0)]


def _batch(rng, n_pairs, max_n, max_m, n_channels, integer=False, pad=0, fill=0.0):
    """Random pairs of random lengths (1 included), padded with ``fill`` to the batch maximum."""
    x_lengths = rng.integers(1, max_n + 1, n_pairs)
    y_lengths = rng.integers(1, max_m + 1, n_pairs)
    x_lengths[0], y_lengths[0] = 1, max_m  # a one-frame sequence every time
    if integer:
        draw = lambda shape: rng.integers(0, 3, shape).astype(float)  # noqa: E731
    else:
        draw = lambda shape: rng.standard_normal(shape)  # noqa: E731
    x = np.full((n_pairs, x_lengths.max() + pad, n_channels), fill)
    y = np.full((n_pairs, y_lengths.max() + pad, n_channels), fill)
    for b in range(n_pairs):
        x[b, : x_lengths[b]] = draw((x_lengths[b], n_channels))
        y[b, : y_lengths[b]] = draw((y_lengths[b], n_channels))
    return x, y, x_lengths, y_lengths


def _torch_dtw(x, y, x_lengths, y_lengths, window, dtype=torch.float64):
    distances, paths, path_lengths = dtw_batch(
        torch.tensor(x, dtype=dtype),
        torch.tensor(y, dtype=dtype),
        x_lengths,
        y_lengths,
        window=check_window(window),
        squared=True,
        return_paths=True,
    )
    return distances.numpy(), paths_to_list(paths, path_lengths)


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("n_channels", [1, 3])
@pytest.mark.parametrize("integer", [False, True])
def test_distances_and_paths_equal_the_numba_backend(window, n_channels, integer):
    rng = np.random.default_rng([WINDOWS.index(window), n_channels, integer])
    x, y, x_lengths, y_lengths = _batch(rng, 12, 25, 30, n_channels, integer=integer)
    distances, paths = _torch_dtw(x, y, x_lengths, y_lengths, window)
    for b in range(len(x)):
        a, c = x[b, : x_lengths[b]], y[b, : y_lengths[b]]
        expected = alignkit.dtw(a, c, window=window, squared=True)
        assert distances[b] == pytest.approx(expected.distance, rel=1e-9, abs=1e-300)
        assert distances[b] == pytest.approx(
            alignkit.dtw_distance(a, c, window=window, squared=True), rel=1e-9, abs=1e-300
        )
        np.testing.assert_array_equal(paths[b], expected.path)


@pytest.mark.parametrize(
    "window, cells",
    [
        (None, lambda n, m: np.ones((n, m), dtype=bool)),
        (1, lambda n, m: band_cells(n, m, 1)),
        (("itakura", 1.5), lambda n, m: itakura_cells(n, m, 1.5)),
    ],
)
def test_against_the_textbook_dp_over_exact_window_cells(window, cells):
    rng = np.random.default_rng(5)
    x, y, x_lengths, y_lengths = _batch(rng, 8, 12, 14, 2, integer=True)
    distances, paths = _torch_dtw(x, y, x_lengths, y_lengths, window)
    for b in range(len(x)):
        a, c = x[b, : x_lengths[b]], y[b, : y_lengths[b]]
        acc = reference_dtw(a, c, mask=cells(len(a), len(c)))
        assert distances[b] == pytest.approx(acc[-1, -1], rel=1e-12)
        np.testing.assert_array_equal(paths[b], reference_backtrack(acc))


def test_mask_windows_equal_the_numba_backend():
    rng = np.random.default_rng(6)
    x, y, x_lengths, y_lengths = _batch(rng, 6, 15, 12, 1, integer=True)
    masks = np.zeros((len(x), x.shape[1], y.shape[1]), dtype=bool)
    for b in range(len(x)):
        n, m = x_lengths[b], y_lengths[b]
        cells = rng.random((n, m)) < 0.6
        cells |= band_cells(n, m, 0)  # keeps a path
        masks[b, :n, :m] = cells
    distances, paths, path_lengths = dtw_batch(
        torch.tensor(x), torch.tensor(y), x_lengths, y_lengths, mask=torch.tensor(masks),
        squared=True, return_paths=True,
    )  # fmt: skip
    for b, path in enumerate(paths_to_list(paths, path_lengths)):
        n, m = x_lengths[b], y_lengths[b]
        expected = alignkit.dtw(x[b, :n], y[b, :m], window=masks[b, :n, :m], squared=True)
        assert distances[b].item() == pytest.approx(expected.distance, rel=1e-9, abs=1e-300)
        np.testing.assert_array_equal(path, expected.path)


def test_padding_never_changes_a_result():
    rng = np.random.default_rng(11)
    x, y, x_lengths, y_lengths = _batch(rng, 6, 20, 16, 2, pad=5, fill=np.nan)
    distances, paths = _torch_dtw(x, y, x_lengths, y_lengths, 3)
    for b in range(len(x)):
        alone, alone_paths = _torch_dtw(
            x[b : b + 1, : x_lengths[b]], y[b : b + 1, : y_lengths[b]], None, None, 3
        )
        assert distances[b] == alone[0]
        np.testing.assert_array_equal(paths[b], alone_paths[0])


def test_float32_is_close_to_float64_and_square_root_by_default():
    rng = np.random.default_rng(3)
    x, y, x_lengths, y_lengths = _batch(rng, 5, 40, 40, 2)
    exact, _ = _torch_dtw(x, y, x_lengths, y_lengths, None)
    single, _ = _torch_dtw(x, y, x_lengths, y_lengths, None, dtype=torch.float32)
    np.testing.assert_allclose(single, exact, rtol=1e-5)
    rooted = dtw_batch(torch.tensor(x), torch.tensor(y), x_lengths, y_lengths)
    np.testing.assert_allclose(rooted.numpy(), np.sqrt(exact), rtol=1e-12)
    assert rooted.dtype == torch.float64


def test_univariate_two_d_batches_are_accepted():
    x = torch.tensor([[0.0, 1.0, 2.0]], dtype=torch.float64)
    y = torch.tensor([[0.0, 2.0]], dtype=torch.float64)
    assert dtw_batch(x, y, squared=True).tolist() == [1.0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"x_lengths": [0, 2]}, r"x_lengths\[0\] = 0 is outside \[1, 3\]"),
        ({"y_lengths": [1, 9]}, r"y_lengths\[1\] = 9 is outside \[1, 2\]"),
        ({"x_lengths": [1.0, 2.0]}, "x_lengths must hold 2 integers"),
        ({"window": check_window(np.ones((3, 2), dtype=bool))}, "window cannot be a mask"),
        (
            {"mask": torch.ones(2, 3, 3, dtype=torch.bool)},
            r"mask must be a bool tensor of shape \(2, 3, 2\)",
        ),
    ],
)
def test_bad_lengths_and_windows_are_named(kwargs, message):
    x, y = torch.zeros(2, 3, 1), torch.zeros(2, 2, 1)
    with pytest.raises(InvalidInputError, match=message):
        dtw_batch(x, y, **kwargs)


def test_mismatched_batches_are_refused():
    with pytest.raises(InvalidInputError, match="same batch size and number of channels"):
        dtw_batch(torch.zeros(2, 3, 1), torch.zeros(2, 3, 2))
    with pytest.raises(InvalidInputError, match="share dtype"):
        dtw_batch(torch.zeros(1, 3, 1), torch.zeros(1, 3, 1, dtype=torch.float64))
    with pytest.raises(InvalidInputError, match="must be a torch.Tensor"):
        dtw_batch(np.zeros((1, 3, 1)), torch.zeros(1, 3, 1))


# ---------------------------------------------------------------------------- dispatch


def test_resolve_backend_rules():
    assert resolve_backend("numba", None, n_pairs=1, length=10, what="t") == ("numba", None)
    assert resolve_backend("torch", "cpu", n_pairs=1, length=10, what="t") == (
        "torch",
        torch.device("cpu"),
    )
    # On the CPU, auto is Numba at any size (the torch CPU kernels are slower).
    assert resolve_backend("auto", "cpu", n_pairs=10**6, length=10**4, what="t")[0] == "numba"
    with alignkit.config_context(backend="torch"):
        assert resolve_backend(None, "cpu", n_pairs=1, length=10, what="t")[0] == "torch"


def test_resolve_backend_auto_on_a_gpu_uses_the_work_threshold(monkeypatch):
    """The GPU branch of "auto", with device resolution faked (no GPU needed)."""
    from alignkit.kernels import _torch as torch_kernels
    from alignkit.kernels.dispatch import AUTO_MIN_WORK

    gpu = torch.device("cuda", 0)
    monkeypatch.setattr(torch_kernels, "resolve_device", lambda device, what: gpu)
    assert AUTO_MIN_WORK == 2**16
    big = resolve_backend("auto", "cuda", n_pairs=64, length=1024, what="t")
    assert big == ("torch", gpu)
    exact = resolve_backend("auto", "auto", n_pairs=2**8, length=2**8, what="t")
    assert exact == ("torch", gpu)  # n_pairs * length == AUTO_MIN_WORK
    small = resolve_backend("auto", "cuda", n_pairs=2**8, length=2**8 - 1, what="t")
    assert small == ("numba", None)


def test_resolve_backend_errors_name_the_caller():
    with pytest.raises(InvalidInputError, match="caller: backend must be"):
        resolve_backend("cuda", None, n_pairs=1, length=1, what="caller")
    with pytest.raises(InvalidInputError, match="backend='numba' runs on the CPU"):
        resolve_backend("numba", "cuda:0", n_pairs=1, length=1, what="caller")
    if not torch.cuda.is_available():
        with pytest.raises(InvalidInputError, match="asks for a CUDA GPU"):
            resolve_backend("torch", "cuda", n_pairs=1, length=1, what="caller")


# ---------------------------------------------------------------------------- DTWAligner


@pytest.mark.parametrize("window", [None, 3, ("itakura", 2.0)])
@pytest.mark.parametrize("reference", ["medoid", "given"])
def test_dtw_aligner_torch_transform_equals_numba(window, reference):
    rng = np.random.default_rng(21)
    X = [np.cumsum(rng.standard_normal((n, 2)), axis=0) for n in rng.integers(15, 45, 12)]
    reference = X[4] if reference == "given" else reference
    numba = DTWAligner(window=window, reference=reference).fit(X)
    torched = DTWAligner(window=window, reference=reference, backend="torch", device="cpu").fit(X)
    assert (numba.backend_, numba.device_) == ("numba", "cpu")
    assert (torched.backend_, torched.device_) == ("torch", "cpu")
    assert torched.reference_index_ == numba.reference_index_
    np.testing.assert_array_equal(torched.transform(X), numba.transform(X))


def test_dtw_aligner_torch_batches_in_chunks(monkeypatch):
    from alignkit.estimators import _dtw

    monkeypatch.setattr(_dtw, "_TORCH_BATCH_CELLS", 2000)
    rng = np.random.default_rng(8)
    X = [rng.standard_normal(n) for n in rng.integers(10, 40, 9)]
    torched = DTWAligner(backend="torch").fit(X)
    numba = DTWAligner().fit(X)
    assert torched.reference_index_ == numba.reference_index_
    np.testing.assert_array_equal(torched.transform(X), numba.transform(X))


def test_dtw_aligner_params_and_clone():
    aligner = DTWAligner(backend="torch", device="cpu")
    assert aligner.get_params()["backend"] == "torch"
    assert clone(aligner).get_params()["device"] == "cpu"
    assert DTWAligner().get_params()["backend"] == "numba"
    with pytest.raises(InvalidInputError, match="backend must be"):
        DTWAligner(backend="gpu").fit([np.zeros(3), np.ones(4)])


def test_without_torch_construct_and_clone_work_and_fit_names_the_extra():
    code = textwrap.dedent(
        """
        import sys

        class NoTorch:
            # Blocks torch as if not installed. sys.modules["torch"] = None would
            # also block it, but scipy's array-API helpers then crash on the None.
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ModuleNotFoundError(f"No module named {name!r}")

        sys.meta_path.insert(0, NoTorch())
        import numpy as np
        from sklearn.base import clone
        import alignkit
        aligner = clone(alignkit.DTWAligner(backend="torch", device="cuda"))
        assert aligner.get_params()["backend"] == "torch"
        auto = alignkit.DTWAligner(backend="auto").fit([np.zeros(3), np.ones(4)])
        assert auto.backend_ == "numba", auto.backend_
        try:
            aligner.fit([np.zeros(3), np.ones(4)])
        except ImportError as error:
            print(error)
        else:
            raise SystemExit("fit did not raise")
        assert "torch" not in sys.modules
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "alignkit[torch]" in completed.stdout


# ---------------------------------------------------------------------------- GPU


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (torch sees none)")
def test_cuda_equals_cpu():
    from alignkit.kernels._torch._soft_dtw import soft_dtw_batch

    rng = np.random.default_rng(2)
    x, y, x_lengths, y_lengths = _batch(rng, 16, 70, 60, 3)
    for window in (None, check_window(5)):
        cpu = dtw_batch(torch.tensor(x), torch.tensor(y), x_lengths, y_lengths, window=window,
                        return_paths=True)  # fmt: skip
        gpu = dtw_batch(torch.tensor(x).cuda(), torch.tensor(y).cuda(), x_lengths, y_lengths,
                        window=window, return_paths=True)  # fmt: skip
        np.testing.assert_allclose(gpu[0].cpu().numpy(), cpu[0].numpy(), rtol=1e-9)
        np.testing.assert_array_equal(gpu[1].cpu().numpy(), cpu[1].numpy())
        xs = [torch.tensor(x, device=device, requires_grad=True) for device in ("cpu", "cuda")]
        values = [soft_dtw_batch(v, torch.tensor(y, device=v.device), x_lengths, y_lengths,
                                 gamma=0.5, window=window) for v in xs]  # fmt: skip
        for value in values:
            value.sum().backward()
        np.testing.assert_allclose(values[1].detach().cpu().numpy(), values[0].detach().numpy(),
                                   rtol=1e-9)  # fmt: skip
        np.testing.assert_allclose(xs[1].grad.cpu().numpy(), xs[0].grad.numpy(), rtol=1e-8,
                                   atol=1e-10)  # fmt: skip


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the fallback of a GPU-less machine")
def test_aligner_fitted_on_a_missing_gpu_warns_and_uses_the_cpu():
    import pickle

    rng = np.random.default_rng(4)
    X = [rng.standard_normal(n) for n in (12, 15, 20)]
    aligner = DTWAligner(backend="torch", device="cpu").fit(X)
    expected = aligner.transform(X)
    aligner.device_ = "cuda:0"  # as if fitted on a GPU machine and unpickled here
    restored = pickle.loads(pickle.dumps(aligner))
    with pytest.warns(RuntimeWarning, match="fitted on device 'cuda:0'.*using the CPU"):
        np.testing.assert_array_equal(restored.transform(X), expected)

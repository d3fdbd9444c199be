"""The global alignment kernel against tslearn and against a sum over every path.

Truths: tslearn's ``gak``, ``unnormalized_gak``, ``cdist_gak`` and ``sigma_gak``
(the kernel without a window, and the bandwidth heuristic); the definition
itself, a sum over every warping path (``tests/_reference.all_paths``) of the
product of local kernels, restricted to the window's cells as
``tests/_reference`` builds them geometrically; positive semi-definiteness
(Cuturi et al. 2007) from the eigenvalues of the matrix.
"""

import math

import numpy as np
import pytest
from _reference import all_paths, band_cells, itakura_cells, local_cost

from alignkit.distances._gak import gak, pairwise_gak, sigma_gak
from alignkit.exceptions import InvalidInputError, InvalidParameterError, WindowError

tslearn_metrics = pytest.importorskip("tslearn.metrics")


def _random_collection(rng, n_sequences, n_channels, lengths=(3, 40)):
    return [rng.normal(size=(int(rng.integers(*lengths)), n_channels)) for _ in range(n_sequences)]


def _path_sum(a, b, sigma, cells=None):
    """The unnormalised kernel as its definition: a sum over every path inside ``cells``."""
    gauss = np.exp(-local_cost(a, b) / (2 * sigma**2))
    kappa = gauss / (2 - gauss)
    total = 0.0
    for path in all_paths(len(kappa), kappa.shape[1]):
        if cells is None or cells[path[:, 0], path[:, 1]].all():
            total += np.prod(kappa[path[:, 0], path[:, 1]])
    return total


@pytest.mark.parametrize("n_channels", [1, 2, 3])
@pytest.mark.parametrize("sigma", [0.3, 1.0, 4.0])
def test_pair_values_equal_tslearn(n_channels, sigma):
    rng = np.random.default_rng(n_channels * 10 + int(sigma * 10))
    for a, b in zip(_random_collection(rng, 4, n_channels), _random_collection(rng, 4, n_channels)):
        expected = tslearn_metrics.gak(a, b, sigma=sigma)
        np.testing.assert_allclose(gak(a, b, sigma=sigma), expected, rtol=1e-9)
        raw = tslearn_metrics.unnormalized_gak(a, b, sigma=sigma)
        np.testing.assert_allclose(gak(a, b, sigma=sigma, normalized=False), raw, rtol=1e-9)


@pytest.mark.parametrize("n_channels", [1, 3])
def test_matrix_equals_tslearn_cdist_gak(n_channels):
    rng = np.random.default_rng(n_channels)
    X = _random_collection(rng, 9, n_channels)
    Y = _random_collection(rng, 4, n_channels)
    for sigma in (0.5, 2.0):
        expected = tslearn_metrics.cdist_gak(X, sigma=sigma)
        np.testing.assert_allclose(pairwise_gak(X, sigma=sigma), expected, rtol=1e-9)
        expected = tslearn_metrics.cdist_gak(X, Y, sigma=sigma)
        np.testing.assert_allclose(pairwise_gak(X, Y, sigma=sigma), expected, rtol=1e-9)


def test_nan_padded_array_is_read_as_tslearn_reads_it():
    from tslearn.utils import to_time_series_dataset

    rng = np.random.default_rng(4)
    X = _random_collection(rng, 6, 2)
    padded = to_time_series_dataset(X)  # (6, longest, 2), NaN after each sequence's end
    assert np.isnan(padded).any()
    np.testing.assert_array_equal(pairwise_gak(padded), pairwise_gak(X))
    np.testing.assert_allclose(pairwise_gak(padded), tslearn_metrics.cdist_gak(padded), rtol=1e-9)
    assert sigma_gak(padded, random_state=0) == sigma_gak(X, random_state=0)


def test_long_series_stay_exact_in_log_space():
    # The unnormalised kernel of 700 timepoints is beyond float64; tslearn then
    # redoes its recursion in log space too.
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(700, 2)), rng.normal(size=(650, 2))
    expected = tslearn_metrics.gak(a, b, sigma=3.0)
    assert 0 < expected < 1
    np.testing.assert_allclose(gak(a, b, sigma=3.0), expected, rtol=1e-9)
    with pytest.raises(InvalidInputError, match=r"unnormalised .* of a and b is exp\("):
        gak(a, b, sigma=3.0, normalized=False)
    with pytest.raises(InvalidInputError, match=r"X\[0\] and X\[0\]"):
        pairwise_gak([a, b], sigma=3.0, normalized=False)


def _window_cells(window, n, m):
    if isinstance(window, tuple):
        return itakura_cells(n, m, window[1])
    radius = window if isinstance(window, int) else math.floor(window * max(n, m) + 0.5)
    return band_cells(n, m, radius)


@pytest.mark.parametrize("window", [0, 1, 2, 0.3, ("itakura", 2.0)])
def test_windowed_kernel_is_the_sum_over_the_paths_inside(window):
    rng = np.random.default_rng(7)
    for n, m in [(5, 5), (4, 6), (6, 3)]:
        a, b = rng.normal(size=(n, 2)), rng.normal(size=(m, 2))
        raw = _path_sum(a, b, 1.5, _window_cells(window, n, m))
        value = gak(a, b, sigma=1.5, window=window, normalized=False)
        np.testing.assert_allclose(value, raw, rtol=1e-9)
        self_a = _path_sum(a, a, 1.5, _window_cells(window, n, n))
        self_b = _path_sum(b, b, 1.5, _window_cells(window, m, m))
        normalized = gak(a, b, sigma=1.5, window=window)
        np.testing.assert_allclose(normalized, raw / math.sqrt(self_a * self_b), rtol=1e-9)
    X = [rng.normal(size=(length, 1)) for length in (3, 5, 6, 4)]
    matrix = pairwise_gak(X, sigma=1.5, window=window)
    pairs = [[gak(x, y, sigma=1.5, window=window) for y in X] for x in X]
    np.testing.assert_allclose(matrix, pairs, rtol=1e-12)


def test_mask_window_and_full_window():
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(5, 1)), rng.normal(size=(4, 1))
    mask = rng.random((5, 4)) < 0.7
    mask[0, 0] = mask[-1, -1] = True
    mask[np.arange(4), np.arange(4)] = True
    mask[4, 3] = True
    value = gak(a, b, sigma=0.8, window=mask, normalized=False)
    np.testing.assert_allclose(value, _path_sum(a, b, 0.8, mask), rtol=1e-9)
    # Without a window, and with one that covers every cell, the kernel is tslearn's.
    raw = tslearn_metrics.unnormalized_gak(a, b, sigma=0.8)
    np.testing.assert_allclose(_path_sum(a, b, 0.8), raw, rtol=1e-9)
    for window in (None, 5, 1.0):
        np.testing.assert_allclose(gak(a, b, sigma=0.8, window=window, normalized=False), raw)


@pytest.mark.parametrize("sigma", [0.2, 1.0, 5.0])
def test_matrix_is_symmetric_positive_semidefinite_with_unit_diagonal(sigma):
    rng = np.random.default_rng(int(sigma * 10))
    X = _random_collection(rng, 25, 2, lengths=(5, 30))
    K = pairwise_gak(X, sigma=sigma)
    np.testing.assert_array_equal(K, K.T)
    np.testing.assert_allclose(np.diag(K), 1.0, rtol=1e-12)
    eigenvalues = np.linalg.eigvalsh(K)
    assert eigenvalues.min() >= -1e-10 * eigenvalues.max()
    raw = pairwise_gak(X, sigma=sigma, normalized=False)
    # Tiny raw entries are subnormal floats (few digits): compare those absolutely.
    normalised = raw / np.sqrt(np.outer(np.diag(raw), np.diag(raw)))
    np.testing.assert_allclose(normalised, K, rtol=1e-9, atol=1e-250)
    assert np.linalg.eigvalsh(raw).min() >= -1e-10 * np.abs(raw).max()


def test_parallel_threads_give_the_same_matrix():
    rng = np.random.default_rng(11)
    X = _random_collection(rng, 30, 1)
    Y = _random_collection(rng, 7, 1)
    for window in (None, 3):
        serial = pairwise_gak(X, Y, window=window)
        np.testing.assert_array_equal(pairwise_gak(X, Y, window=window, n_jobs=2), serial)
        np.testing.assert_array_equal(pairwise_gak(X, n_jobs=2), pairwise_gak(X))


def test_sigma_gak_equals_tslearn():
    rng = np.random.default_rng(3)
    X = _random_collection(rng, 12, 2)
    for seed, n_samples in [(0, 100), (1, 50), (2, 5000)]:
        expected = tslearn_metrics.sigma_gak(X, n_samples=n_samples, random_state=seed)
        value = sigma_gak(X, n_samples=n_samples, random_state=seed)
        np.testing.assert_allclose(value, expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: gak([1.0, np.nan], [1.0]), InvalidInputError, r"\ba\b.*NaN"),
        (lambda: gak([1.0], []), InvalidInputError, r"\bb\b.*empty"),
        (lambda: gak(np.ones((3, 2)), np.ones((3, 1))), InvalidInputError, "channels"),
        (lambda: gak([1.0], [1.0], sigma=0.0), InvalidParameterError, "'sigma'.*Got 0.0"),
        (lambda: gak([1.0], [1.0], sigma=-1.0), InvalidParameterError, "'sigma'"),
        (lambda: gak([1.0], [1.0], sigma=np.nan), InvalidParameterError, "'sigma'"),
        (lambda: gak([1.0], [1.0], sigma=np.inf), InvalidParameterError, "'sigma'"),
        (lambda: pairwise_gak([[1.0], [2.0, np.nan]]), InvalidInputError, r"X\[1\].*NaN"),
        (lambda: pairwise_gak([[1.0]], [np.ones((2, 2))]), InvalidInputError, r"Y\[0\]"),
        (lambda: pairwise_gak([], sigma=1.0), InvalidInputError, "X is empty"),
        (lambda: pairwise_gak([[1.0]], sigma=-2), InvalidParameterError, "'sigma'"),
        (lambda: pairwise_gak([[1.0, 2.0]], window=np.ones((2, 2), bool)), WindowError, "mask"),
        (lambda: gak([1.0, 2.0], [1.0, 2.0], window=np.eye(2, dtype=bool)), WindowError, "mask"),
        (lambda: sigma_gak([[1.0, 2.0]], n_samples=1), InvalidParameterError, "'n_samples'"),
    ],
)
def test_bad_input_is_refused_with_its_name(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_scaled_linear_recursion_equals_log_space_and_hands_over_on_underflow():
    from alignkit.kernels._numba._bounds import band_bounds
    from alignkit.kernels._numba._gak import gak_log, gak_log_scaled, gak_log_space
    from alignkit.validation import check_window

    rng = np.random.default_rng(12)
    # (n, m, sigma, exact without a window, exact within radius 4): the local kernels
    # of a tiny sigma underflow in linear space (exp(-|x - y| ** 2 / 2e-4) is 0).
    cases = [(40, 35, 2.0, True, True), (30, 30, 0.01, False, False)]
    for n, m, sigma, *exact in cases:
        a, b = rng.normal(size=(n, 2)), rng.normal(size=(m, 2))
        for window, expected in zip((None, 4), exact):
            lo, hi, cell_ok = band_bounds(check_window(window), n, m)
            value, is_exact = gak_log_scaled(a, b, lo, hi, cell_ok, sigma)
            assert is_exact == expected
            logs = gak_log_space(a, b, lo, hi, cell_ok, sigma)
            assert np.isfinite(logs)
            if is_exact:
                np.testing.assert_allclose(value, logs, rtol=1e-12)
            np.testing.assert_allclose(gak_log(a, b, lo, hi, cell_ok, sigma), logs, rtol=1e-12)


def test_a_hard_window_is_not_a_kernel_for_unequal_lengths():
    # Identical timepoints make every local kernel 1, so k counts the paths: one
    # path for each self-kernel under radius 0, several for the 4 by 6 staircase.
    a, b = np.zeros(4), np.zeros(6)
    paths = sum(band_cells(4, 6, 0)[p[:, 0], p[:, 1]].all() for p in all_paths(4, 6))
    assert paths > 1
    assert gak(a, b, window=0) == pytest.approx(paths, rel=1e-12)
    # Without a window: path counts (Delannoy numbers), and Cauchy-Schwarz holds.
    counts = {(n, m): len(all_paths(n, m)) for n, m in [(4, 6), (4, 4), (6, 6)]}
    expected = counts[4, 6] / math.sqrt(counts[4, 4] * counts[6, 6])
    assert gak(a, b) == pytest.approx(expected, rel=1e-12) and expected < 1

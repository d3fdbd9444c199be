"""The global alignment kernel: :func:`gak`, :func:`pairwise_gak` and :func:`sigma_gak`.

The kernel's log is computed (exactly, at any length) by the kernels of
:mod:`alignkit.kernels._numba._gak`; the drivers here (:func:`log_gak_matrix`,
:func:`gak_matrix`, :func:`sigma_heuristic`) take validated collections and a
parsed window, and are what the estimators call.
"""

import math

import numpy as np
from joblib import effective_n_jobs
from numpy.typing import ArrayLike

from ..core.parallel import Parallel, delayed
from ..core.params import Integral, Interval, Real, validate_params
from ..core.progress import progress_bar, progress_requested
from ..core.window import Window
from ..exceptions import InvalidInputError, WindowError
from ..validation import (
    CollectionLike,
    WindowLike,
    check_collection,
    check_memory,
    check_pair,
    check_window,
)
from ._pairwise import band_window, pack

__all__ = ["gak", "pairwise_gak", "sigma_gak"]

_SIGMA = {"sigma": [Interval(Real, 0, None, closed="neither")], "normalized": ["boolean"]}

# The log of the largest float64: an unnormalised kernel whose log exceeds it overflows.
_LOG_MAX = math.log(np.finfo(np.float64).max)

# DP cells of one task (0.1 to 1 s: 5 to 50 ns a cell): Ctrl-C is seen between tasks.
_CELLS_PER_TASK = 2 * 10**7

_DEFINITION = """
    With the Gaussian ``g(x, y) = exp(-|x - y| ** 2 / (2 * sigma ** 2))`` of
    two timepoints and the local kernel ``kappa = g / (2 - g)`` (Cuturi
    2011), the unnormalised kernel is the sum over every alignment (warping
    path) ``pi`` of ``a`` and ``b`` of the product of ``kappa`` over the
    aligned cells::

        k(a, b) = sum_pi prod_(i, j) in pi kappa(a[i], b[j])

    and the normalised kernel is ``k(a, b) / sqrt(k(a, a) * k(b, b))``, one
    for ``a == b`` and in ``(0, 1]``. Its log is computed exactly, so the
    normalised kernel stays exact for any length (the unnormalised one grows
    like the Delannoy numbers and leaves float64 beyond about 400 timepoints).
    These are tslearn's ``unnormalized_gak`` and ``gak`` (tslearn's kernel has
    no window: it is ``window=None``). With a window the sum runs over the
    paths inside it, the self-kernels of the normalisation under the same
    window for their own lengths.

    Positive definiteness: ``kappa / (1 + kappa) = g / 2`` is positive
    definite, so without a window the kernel (and its normalised form) is
    positive definite on sequences of any lengths (Cuturi et al. 2007;
    Cuturi 2011). A hard window (a Sakoe-Chiba band, an Itakura
    parallelogram) restricts the sum to a set of paths that depends on the
    lengths, and nothing guarantees it: on random sequences of unequal
    lengths, a radius of 0 or an Itakura window gives indefinite matrices and
    normalised values above 1. Cuturi (2011) weights the cells by the
    triangular kernel ``max(0, 1 - |i - j| / T)`` instead, which keeps the
    kernel positive definite.
"""

_REFERENCES = """
    .. [1] M. Cuturi, J.-P. Vert, O. Birkenes and T. Matsui, "A kernel for
       time series based on global alignments", ICASSP 2007.
    .. [2] M. Cuturi, "Fast global alignment kernels", ICML 2011.
"""


def _log_pair(a: np.ndarray, b: np.ndarray, window: Window, sigma: float) -> float:
    """Log of the unnormalised kernel of one validated pair under a parsed window."""
    from ..kernels._numba._bounds import band_bounds
    from ..kernels._numba._gak import gak_log

    lo, hi, cell_ok = band_bounds(window.resolve(len(a), len(b)), len(a), len(b))
    return float(gak_log(a, b, lo, hi, cell_ok, sigma))


def _unnormalised(log_value: float, what: str) -> float:
    """``exp(log_value)``, refused with a clear error where it overflows float64."""
    if log_value > _LOG_MAX:
        raise InvalidInputError(
            f"the unnormalised global alignment kernel of {what} is exp({log_value:.6g}), "
            "beyond the largest float64 (exp(709.8)); use normalized=True, which is computed "
            "in log space, or a larger sigma"
        )
    return math.exp(log_value)


@validate_params(_SIGMA)
def gak(
    a: ArrayLike,
    b: ArrayLike,
    *,
    sigma: float = 1.0,
    window: WindowLike = None,
    normalized: bool = True,
) -> float:
    """Global alignment kernel of two sequences (Cuturi et al. 2007).

    Parameters
    ----------
    a : array-like of shape (n,) or (n, n_channels)
        First sequence.
    b : array-like of shape (m,) or (m, n_channels)
        Second sequence, with the channels of ``a``; its length may differ.
    sigma : float, default=1.0
        Bandwidth of the Gaussian local kernel, ``> 0`` and finite
        (:func:`sigma_gak` suggests one for a collection).
    window : None, int, float, tuple or ndarray of bool, default=None
        Constraint on the alignments summed over, as in :func:`alignkit.dtw`.
        ``None`` (every alignment) is tslearn's kernel and the positive
        definite one. A mask is accepted only with ``normalized=False`` (the
        self-kernels of the normalisation have other shapes).
    normalized : bool, default=True
        Return ``k(a, b) / sqrt(k(a, a) * k(b, b))`` (tslearn's ``gak``)
        rather than ``k(a, b)`` (tslearn's ``unnormalized_gak``).

    Returns
    -------
    value : float
        The kernel value, positive (0 only where it underflows); normalised
        and without a window, at most 1.

    Raises
    ------
    InvalidInputError
        If a sequence is empty, holds NaN or inf, the channels differ, or the
        unnormalised value overflows float64.
    InvalidParameterError
        If ``sigma`` is not a finite number ``> 0`` or ``normalized`` is not a
        bool.
    WindowError
        If the window is malformed, is a mask with ``normalized=True``, or
        admits no path.

    See Also
    --------
    pairwise_gak : The kernel matrix of two collections.
    sigma_gak : tslearn's bandwidth heuristic.
    alignkit.soft_dtw : ``-gamma`` times the log of a sum over alignments too.

    Notes
    -----
    {definition}
    References
    ----------
    {references}
    Examples
    --------
    >>> from alignkit.distances import gak
    >>> round(gak([1.0, 2.0, 3.0], [1.0, 2.0, 2.0, 3.0], sigma=2.0), 6)
    0.839337
    >>> round(gak([1.0, 2.0, 3.0], [1.0, 2.0, 2.0, 3.0], sigma=2.0, normalized=False), 4)
    15.3582
    >>> gak([0.0, 1.0, 2.0], [0.0, 1.0, 2.0])
    1.0
    """
    a, b = check_pair(a, b)
    parsed = check_window(window, shape=(len(a), len(b)))
    if normalized and parsed.mask is not None:
        raise WindowError(
            "window cannot be a mask when normalized=True: the self-kernels k(a, a) and "
            "k(b, b) of the normalisation need a window for their own shapes; use None, a "
            "radius, a fraction or ('itakura', max_slope)"
        )
    sigma = float(sigma)
    log_value = _log_pair(a, b, parsed, sigma)
    if not normalized:
        return _unnormalised(log_value, "a and b")
    log_aa = _log_pair(a, a, parsed, sigma)
    log_bb = _log_pair(b, b, parsed, sigma)
    return math.exp(log_value - 0.5 * (log_aa + log_bb))


def _row_blocks(x_lengths, y_lengths, upper, n_workers):
    """Row ranges ``[start, stop)`` of about equal DP work, at most ``_CELLS_PER_TASK`` each."""
    # Cells of row a: its length times the lengths of the columns it computes.
    columns = (
        np.cumsum(y_lengths[::-1])[::-1] if upper else np.full(len(x_lengths), y_lengths.sum())
    )
    work = np.cumsum(x_lengths * columns, dtype=np.float64)
    n_blocks = max(4 * n_workers, math.ceil(work[-1] / _CELLS_PER_TASK))
    ends = np.searchsorted(work, work[-1] * np.arange(1, n_blocks) / n_blocks) + 1
    edges = np.unique(np.clip(np.concatenate([[0], ends, [len(work)]]), 0, len(work)))
    return [(int(start), int(stop)) for start, stop in zip(edges[:-1], edges[1:])]


def log_gak_matrix(
    x_sequences: list[np.ndarray],
    y_sequences: list[np.ndarray] | None,
    sigma: float,
    window: Window,
    n_jobs: int | None = None,
    verbose: int = 0,
) -> np.ndarray:
    """Logs of the unnormalised kernels between validated collections (a driver).

    ``window`` is a parsed band (no mask). ``y_sequences=None`` means
    ``x_sequences``: only the upper triangle is computed and then mirrored,
    so the matrix is exactly symmetric. The blocks of rows run as joblib
    tasks in threads (the kernels release the GIL); a truthy ``verbose``
    shows a progress bar of the pairs, counted here as blocks arrive.
    """
    from ..kernels._numba._bounds import window_spec
    from ..kernels._numba._gak import gak_log_rows

    upper = y_sequences is None
    y_sequences = x_sequences if upper else y_sequences
    x_flat, x_off = pack(x_sequences, view=True)
    y_flat, y_off = (x_flat, x_off) if upper else pack(y_sequences, view=True)
    n_x, n_y = len(x_sequences), len(y_sequences)
    check_memory(
        16 * n_x * n_y,
        f"the global alignment kernel matrix of {n_x} by {n_y} sequences (and its logs)",
    )
    spec = window_spec(window, int(np.diff(x_off).max()), int(np.diff(y_off).max()))
    blocks = _row_blocks(np.diff(x_off), np.diff(y_off), upper, effective_n_jobs(n_jobs))
    parts = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")(
        delayed(gak_log_rows)(x_flat, x_off, y_flat, y_off, start, stop, upper, *spec, sigma)
        for start, stop in blocks
    )
    n_pairs = n_x * (n_x + 1) // 2 if upper else n_x * n_y  # the upper one with its diagonal
    with progress_bar(n_pairs, "pairwise GAK", verbose, unit="pairs") as bar:
        logs = []
        for (start, stop), part in zip(blocks, parts):  # in order, counted as they arrive
            logs.append(part)
            rows = stop - start  # row a of the upper triangle holds n_y - a pairs
            bar.update(rows * n_y - (rows * (start + stop - 1) // 2 if upper else 0))
    logs = np.concatenate(logs, axis=0)
    if upper:
        lower = np.tril_indices(n_x, k=-1)
        logs[lower] = logs.T[lower]
    return logs


def _self_logs(sequences, sigma, window, n_jobs):
    """Log self-kernels ``log k(s, s)`` of a validated collection."""
    from ..kernels._numba._bounds import window_spec
    from ..kernels._numba._gak import gak_log_pair

    longest = max(len(s) for s in sequences)
    spec = window_spec(window, longest, longest)
    values = Parallel(n_jobs=n_jobs, prefer="threads")(
        delayed(gak_log_pair)(s, s, *spec, sigma) for s in sequences
    )
    return np.asarray(values, dtype=np.float64)


def gak_matrix(
    x_sequences: list[np.ndarray],
    y_sequences: list[np.ndarray] | None,
    sigma: float,
    window: Window,
    normalized: bool = True,
    n_jobs: int | None = None,
    verbose: int = 0,
    names: tuple[str, str] = ("X", "Y"),
) -> np.ndarray:
    """The kernel matrix of :func:`pairwise_gak` on validated collections (a driver).

    ``names`` name the collections if an unnormalised value overflows;
    ``verbose`` shows a progress bar of the matrix's pairs.
    """
    logs = log_gak_matrix(x_sequences, y_sequences, sigma, window, n_jobs, verbose)
    if not normalized:
        if logs.max() > _LOG_MAX:
            i, j = np.unravel_index(np.argmax(logs), logs.shape)
            y_name = names[0] if y_sequences is None else names[1]
            _unnormalised(float(logs[i, j]), f"{names[0]}[{i}] and {y_name}[{j}]")
        return np.exp(logs)
    if y_sequences is None:
        x_logs = y_logs = np.diag(logs).copy()
    else:
        x_logs = _self_logs(x_sequences, sigma, window, n_jobs)
        y_logs = _self_logs(y_sequences, sigma, window, n_jobs)
    # One sum per entry, so that entries (i, j) and (j, i) round alike.
    logs -= 0.5 * (x_logs[:, None] + y_logs[None, :])
    return np.exp(logs, out=logs)


@validate_params(
    {
        **_SIGMA,
        "n_jobs": [Interval(Integral, None, None, closed="neither"), None],
        "verbose": ["verbose"],
    }
)
def pairwise_gak(
    X: CollectionLike,
    Y: CollectionLike | None = None,
    *,
    sigma: float = 1.0,
    window: WindowLike = None,
    normalized: bool = True,
    n_jobs: int | None = None,
    verbose: int = 0,
) -> np.ndarray:
    """Global alignment kernel between every sequence of ``X`` and every one of ``Y``.

    Parameters
    ----------
    X : list of array-like, or ndarray
        Collection of sequences: a list (lengths may differ), a 3-D array
        ``(n_sequences, n_timepoints, n_channels)`` or a 2-D array of
        univariate rows (see :func:`alignkit.validation.check_collection`).
    Y : list of array-like, or ndarray, default=None
        Second collection, with the channels of ``X``. ``None`` means ``X``:
        only the upper triangle is computed and the matrix is exactly
        symmetric.
    sigma : float, default=1.0
        Bandwidth of the Gaussian local kernel, ``> 0`` and finite.
    window : None, int, float or tuple, default=None
        Constraint on the alignments, as in :func:`alignkit.dtw` (masks are
        not accepted: they fit one pair of lengths). ``None`` is tslearn's
        ``cdist_gak`` and the positive definite kernel.
    normalized : bool, default=True
        Normalise every entry by the self-kernels of its two sequences.
    n_jobs : int, default=None
        Number of joblib workers (threads: the kernels release the GIL).
        ``None`` means 1 unless inside :func:`joblib.parallel_config`; ``-1``
        means all cores.
    verbose : int, default=0
        When positive, show a progress bar of the pairs on standard error (as
        blocks of rows complete), with the rate and the time left;
        ``alignkit.set_config(progress=True)`` shows it for every call.

    Returns
    -------
    K : ndarray of shape (n_sequences_X, n_sequences_Y)
        The kernel matrix; with ``normalized=True`` and ``Y=None`` its
        diagonal is one.

    Raises
    ------
    InvalidInputError
        If a collection is empty or holds an invalid sequence (NaN, inf,
        empty), the channels differ, or an unnormalised value overflows
        float64 (the message names the pair).
    InvalidParameterError
        If ``sigma`` is not a finite number ``> 0``, or another parameter has
        the wrong type.
    WindowError
        If the window is malformed or a mask.
    AlignkitMemoryError
        If the matrix would need more than ``max_memory`` bytes.

    See Also
    --------
    gak : The kernel of one pair.
    sigma_gak : tslearn's bandwidth heuristic.
    alignkit.KernelKMeans : Kernel k-means under this kernel.

    Notes
    -----
    {definition}
    The matrix feeds scikit-learn's estimators that take a precomputed
    kernel, e.g. ``SVC(kernel="precomputed")``.

    References
    ----------
    {references}
    Examples
    --------
    >>> from alignkit.distances import pairwise_gak
    >>> K = pairwise_gak([[1.0, 2.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0]], sigma=2.0)
    >>> K.round(6)
    array([[1.      , 0.656297],
           [0.656297, 1.      ]])
    """
    x_sequences = check_collection(X, "X")
    y_sequences = None if Y is None else check_collection(Y, "Y", x_sequences[0].shape[1])
    parsed = band_window(window)
    return gak_matrix(
        x_sequences,
        y_sequences,
        float(sigma),
        parsed,
        normalized,
        n_jobs,
        progress_requested(verbose),
    )


def sigma_heuristic(sequences: list[np.ndarray], n_samples: int, random_state) -> float:
    """tslearn's ``sigma_gak`` on a validated collection (a driver).

    ``random_state`` is a seed, a ``RandomState`` or None; the draws are
    tslearn's (``choice`` of ``n_samples`` timepoints among all of them).
    """
    from sklearn.utils import check_random_state

    points = np.concatenate(sequences, axis=0)
    rng = check_random_state(random_state)
    chosen = points[rng.choice(len(points), size=n_samples, replace=len(points) < n_samples)]
    upper = np.triu_indices(n_samples, k=1)
    differences = chosen[upper[0]] - chosen[upper[1]]
    distances = np.sqrt(np.einsum("ij,ij->i", differences, differences))
    longest = max(len(s) for s in sequences)
    return float(np.median(distances) * math.sqrt(longest))


@validate_params(
    {"n_samples": [Interval(Integral, 2, None, closed="left")], "random_state": ["random_state"]}
)
def sigma_gak(
    X: CollectionLike,
    *,
    n_samples: int = 100,
    random_state: int | np.random.RandomState | None = None,
) -> float:
    """A bandwidth for the global alignment kernel: tslearn's heuristic (Cuturi 2011).

    The median Euclidean distance between ``n_samples`` timepoints drawn at
    random from the whole collection, times the square root of the longest
    length.

    Parameters
    ----------
    X : list of array-like, or ndarray
        Collection of sequences (see
        :func:`alignkit.validation.check_collection`).
    n_samples : int, default=100
        Number of timepoints drawn (with replacement only when the
        collection holds fewer), at least 2.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws. With the same seed the draws, hence the value, are
        tslearn's ``sigma_gak(X, n_samples, random_state)``.

    Returns
    -------
    sigma : float
        The suggested ``sigma`` of :func:`gak` and :func:`pairwise_gak`;
        zero when the drawn timepoints are mostly identical (then pick one).

    Raises
    ------
    InvalidInputError
        If the collection is empty or holds an invalid sequence.
    InvalidParameterError
        If ``n_samples`` is not an int ``>= 2`` or ``random_state`` is
        invalid.

    See Also
    --------
    gak, pairwise_gak

    References
    ----------
    .. [1] M. Cuturi, "Fast global alignment kernels", ICML 2011.

    Examples
    --------
    >>> from alignkit.distances import sigma_gak
    >>> round(sigma_gak([[1.0, 2.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0]], n_samples=200,
    ...                 random_state=0), 6)
    2.0
    """
    return sigma_heuristic(check_collection(X, "X"), n_samples, random_state)


for _function in (gak, pairwise_gak):
    _function.__doc__ = _function.__doc__.format(definition=_DEFINITION, references=_REFERENCES)

"""DTW variants: derivative DTW (DDTW) and weighted DTW (WDTW)."""

import numpy as np
from numpy.typing import ArrayLike

from ..core.results import Alignment
from ..exceptions import InvalidInputError
from ..validation import WindowLike, check_memory, check_pair, check_sequence, check_window

__all__ = ["derivative", "ddtw", "wdtw", "wdtw_weights"]


def derivative(sequence: ArrayLike, kind: str = "keogh") -> np.ndarray:
    """Derivative estimate of a sequence, as used by derivative DTW.

    Parameters
    ----------
    sequence : array-like of shape (n_timepoints,) or (n_timepoints, n_channels)
        At least 3 timepoints for ``"keogh"``, 2 for ``"central"``.
    kind : {"keogh", "central"}, default="keogh"
        - ``"keogh"``: Keogh & Pazzani (2001),
          ``d_i = ((x_i - x_{i-1}) + (x_{i+1} - x_{i-1}) / 2) / 2`` for the
          interior points; the first and last values copy their neighbours so
          the length (and so the path's indices) is kept.
        - ``"central"``: central differences (``numpy.gradient``), one-sided
          at the ends.

    Returns
    -------
    derivative : ndarray of shape (n_timepoints, n_channels)

    Examples
    --------
    >>> from alignkit.distances import derivative
    >>> derivative([0.0, 1.0, 4.0, 9.0]).ravel().tolist()
    [1.5, 1.5, 3.5, 3.5]
    """
    return _derivative(check_sequence(sequence, name="sequence"), kind, "sequence")


def _derivative(x, kind, name):
    """:func:`derivative` of a validated sequence; ``name`` is the argument, for messages."""
    if kind == "keogh":
        if len(x) < 3:
            raise InvalidInputError(
                f"{name} has {len(x)} timepoints; the Keogh derivative needs at least 3"
            )
        inner = ((x[1:-1] - x[:-2]) + (x[2:] - x[:-2]) / 2.0) / 2.0
        return np.ascontiguousarray(np.concatenate([inner[:1], inner, inner[-1:]]))
    if kind == "central":
        if len(x) < 2:
            raise InvalidInputError(f"{name} has 1 timepoint; a derivative needs at least 2")
        return np.ascontiguousarray(np.gradient(x, axis=0))
    raise InvalidInputError(f"derivative kind must be 'keogh' or 'central', got {kind!r}")


def ddtw(
    a: ArrayLike,
    b: ArrayLike,
    *,
    kind: str = "keogh",
    window: WindowLike = None,
    squared: bool = False,
) -> Alignment:
    """Derivative dynamic time warping (Keogh & Pazzani, SDM 2001).

    DTW between derivative estimates of ``a`` and ``b``: the path follows
    the shapes (rises and falls) rather than the values, which avoids the
    singularities plain DTW makes when one sequence is offset or scaled.

    Parameters
    ----------
    a : array-like of shape (n,) or (n, n_channels)
        First sequence: at least 3 timepoints for ``"keogh"``, 2 for
        ``"central"``.
    b : array-like of shape (m,) or (m, n_channels)
        Second sequence, with the same channels as ``a`` and the same
        minimum length.
    kind : {"keogh", "central"}, default="keogh"
        Derivative estimate (see :func:`derivative`).
    window : None, int, float, tuple or ndarray of bool, default=None
        Constraint on the path, as in :func:`alignkit.dtw`. It applies to the
        sequences the DTW runs on: for ``"keogh"``, the ``n - 2`` and
        ``m - 2`` interior derivatives (a mask has shape ``(n - 2, m - 2)``).
    squared : bool, default=False
        Return the summed squared cost of the derivatives instead of its
        square root.

    Returns
    -------
    alignment : Alignment
        Path over the original indices and the DTW distance of the
        derivatives.

    Notes
    -----
    With ``"keogh"`` the DTW runs on the interior derivatives only (the
    endpoints have no two-sided estimate), as aeon's ``ddtw_distance`` does:
    with ``squared=True`` the distances are equal. The path is then mapped back
    to the original indices, shifted by one, with the first and last
    timepoints matched to each other. ``"central"`` keeps every timepoint
    (one-sided differences at the ends).

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.distances import ddtw
    >>> a = np.array([0.0, 1.0, 3.0, 2.0, 5.0, 4.0])
    >>> ddtw(a, a + 4.0).distance  # an offset is invisible
    0.0
    """
    from ._dtw import dtw_alignment

    a, b = check_pair(a, b)
    da, db = _derivative(a, kind, "a"), _derivative(b, kind, "b")
    n, m = len(da), len(db)
    if kind == "central":
        return dtw_alignment(da, db, check_window(window, shape=(n, m)), squared=squared)
    inner_a, inner_b = np.ascontiguousarray(da[1:-1]), np.ascontiguousarray(db[1:-1])
    parsed = check_window(window, shape=(n - 2, m - 2))
    inner = dtw_alignment(inner_a, inner_b, parsed, squared=squared)
    path = np.concatenate([[[0, 0]], inner.path + 1, [[n - 1, m - 1]]])
    return Alignment(path, inner.distance, (n, m))


def wdtw_weights(length: int, g: float = 0.05, max_weight: float = 1.0) -> np.ndarray:
    """Logistic weights of weighted DTW, indexed by the phase difference ``|i - j|``.

    Parameters
    ----------
    length : int
        Number of weights: the longer sequence's length.
    g : float, default=0.05
        Steepness: 0 weights every phase difference alike (plain DTW up to a
        factor ``max_weight / 2``); large values penalise any lag.
    max_weight : float, default=1.0
        Upper bound of the weights.

    Returns
    -------
    weights : ndarray of shape (length,)
        ``max_weight / (1 + exp(-g * (k - length / 2)))`` for ``k = 0 .. length-1``.

    Examples
    --------
    >>> from alignkit.distances import wdtw_weights
    >>> wdtw_weights(4, g=0.0).tolist()
    [0.5, 0.5, 0.5, 0.5]
    """
    for name, value in (("g", g), ("max_weight", max_weight)):
        if isinstance(value, bool) or not np.isfinite(value) or value < 0:
            raise InvalidInputError(f"{name} must be a finite number >= 0, got {value!r}")
    phase = np.arange(length, dtype=np.float64)
    return max_weight / (1.0 + np.exp(-g * (phase - length / 2.0)))


def wdtw(
    a: ArrayLike,
    b: ArrayLike,
    *,
    g: float = 0.05,
    max_weight: float = 1.0,
    window: WindowLike = None,
    squared: bool = False,
) -> Alignment:
    """Weighted dynamic time warping (Jeong, Jeong & Omitaomu, Pattern Recognition 2011).

    The local cost of matching ``a[i]`` with ``b[j]`` is
    ``w[|i - j|] * ||a[i] - b[j]||^2`` with logistic weights
    (:func:`wdtw_weights` over ``max(n, m)``), so large phase differences cost
    more: a soft version of a window.

    Parameters
    ----------
    a : array-like of shape (n,) or (n, n_channels)
        First sequence.
    b : array-like of shape (m,) or (m, n_channels)
        Second sequence, with the same channels as ``a``.
    g : float, default=0.05
        Steepness of the weights.
    max_weight : float, default=1.0
        Upper bound of the weights.
    window : None, int, float or tuple, default=None
        Band or Itakura window as in :func:`alignkit.dtw` (no mask).
    squared : bool, default=False
        Return the summed weighted cost instead of its square root.

    Returns
    -------
    alignment : Alignment
        The path minimising the summed weighted cost, and the distance: that
        sum with ``squared=True``, its square root otherwise.

    Notes
    -----
    With ``squared=True`` the distance equals aeon's ``wdtw_distance`` for the
    same ``g`` (aeon uses ``max_weight=1``).

    Examples
    --------
    >>> from alignkit.distances import wdtw
    >>> wdtw([0.0, 1.0, 2.0], [0.0, 1.0, 2.0]).distance
    0.0
    """
    from ..kernels._numba._bounds import band_bounds
    from ..kernels._numba._dtw import backtrack_banded
    from ..kernels._numba._weighted import wdtw_banded_matrix

    a, b = check_pair(a, b)
    n, m = len(a), len(b)
    weights = wdtw_weights(max(n, m), g, max_weight)
    parsed = check_window(window, shape=(n, m))
    if parsed.mask is not None:
        raise InvalidInputError("wdtw window cannot be a mask; use a band or ('itakura', s)")
    lo, hi, _ = band_bounds(parsed, n, m)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(hi - lo, out=offsets[1:])
    check_memory(8 * int(offsets[-1]), f"a WDTW path between sequences of lengths {n} and {m}")
    acc = wdtw_banded_matrix(a, b, lo, hi, offsets, weights)
    path = backtrack_banded(acc, offsets, lo, hi, m)
    total = float(acc[-1])
    return Alignment(path, total if squared else np.sqrt(total), (n, m))

"""Lower bounds of the DTW distance: :func:`lb_kim`, :func:`lb_keogh`, :func:`lb_improved`.

A lower bound costs O(n) instead of the O(n * r) of DTW; when it already
exceeds the best distance found so far, the DTW of that pair need not be
computed (nearest-neighbour search, :class:`~alignkit.KNeighborsDTWClassifier`).
Every bound is in the units of :func:`alignkit.dtw_distance` with the same
``squared`` flag, so ``lb_*(a, b, window=w) <= dtw_distance(a, b, window=w)``.
"""

import numpy as np
from numpy.typing import ArrayLike

from ..core.params import Integral, Interval, validate_params
from ..core.window import Window
from ..validation import WindowLike, check_memory, check_pair, check_sequence, check_window

__all__ = ["envelope", "lb_improved", "lb_keogh", "lb_kim"]

_NOTES = """
    Bounds are computed on the summed squared cost of :func:`alignkit.dtw`
    and square-rooted unless ``squared=True``; the square root is monotone,
    so the inequality holds in both conventions.

    The envelope of ``b`` along ``a`` is, for every timepoint ``i`` of
    ``a``, the channel-wise minimum and maximum of ``b`` over the columns
    ``[lo_i, hi_i)`` that the window allows in row ``i``. For equal lengths
    and a Sakoe-Chiba radius ``r`` that is the textbook ``b[i-r : i+r+1]``.
    For unequal lengths the band follows the slanted diagonal (see
    :ref:`windows`) and the same construction stays a valid bound, because
    the proof below only uses that the path visits every row inside the
    window. A mask window is widened to its monotone hull (which only
    loosens the bound).

    Multivariate LB_Keogh is the sum over channels of the per-channel bound
    (LB_MV). Proof: a warping path visits every row ``i`` at some cell
    ``(i, j_i)`` with ``lo_i <= j_i < hi_i``; distinct rows give distinct
    cells and costs are non-negative, so
    ``DTW(a, b) >= sum_i sum_k (a[i, k] - b[j_i, k]) ** 2``. Since
    ``b[j_i, k]`` lies in ``[L[i, k], U[i, k]]``, each term is at least the
    squared distance from ``a[i, k]`` to that interval, whose sum over ``i``
    and ``k`` is LB_Keogh.
"""


def _finish(total, squared):
    return float(total) if squared else float(np.sqrt(total))


def row_bounds(window: Window, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-decreasing per-row bounds ``(lo, hi)`` of a parsed window for ``n`` by ``m``."""
    from ..kernels._numba._bounds import band_bounds
    from ..kernels._numba._lower_bounds import monotone_hull

    lo, hi, _ = band_bounds(window, n, m)
    return (lo, hi) if window.mask is None else monotone_hull(lo, hi)


def _transposed(window):
    """The window of the transposed problem (bands are symmetric; masks transpose)."""
    if window.mask is None:
        return window
    return Window(mask=np.ascontiguousarray(window.mask.T))


def envelope_of(b: np.ndarray, window: Window, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The driver of :func:`envelope`: a validated ``b``, a parsed window, ``n`` rows."""
    from ..kernels._numba._lower_bounds import envelope as _envelope

    lo, hi = row_bounds(window, n, len(b))
    return _envelope(b, lo, hi)


@validate_params({"n_timepoints": [Interval(Integral, 1, None, closed="left"), None]})
def envelope(
    sequence: ArrayLike, *, window: WindowLike = None, n_timepoints: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper envelope of a sequence under a DTW window.

    Parameters
    ----------
    sequence : array-like of shape (m,) or (m, n_channels)
        The sequence ``b`` whose envelope is taken.
    window : None, int, float, tuple or ndarray of bool, default=None
        Window of the pair, as in :func:`alignkit.dtw`.
    n_timepoints : int, default=None
        Length ``n`` of the sequence the envelope is compared with (the rows of
        the window). ``None`` means ``m``.

    Returns
    -------
    lower : ndarray of shape (n_timepoints, n_channels)
        ``lower[i]`` is the channel-wise minimum of ``b`` over the columns the
        window allows in row ``i``.
    upper : ndarray of shape (n_timepoints, n_channels)
        The channel-wise maximum over the same columns.

    See Also
    --------
    lb_keogh : The bound built on this envelope.

    Notes
    -----
    Computed in O(n + m) time per channel with monotone deques (Lemire 2009).

    Examples
    --------
    >>> from alignkit.distances import envelope
    >>> lower, upper = envelope([0.0, 3.0, 1.0, 2.0], window=1)
    >>> lower.ravel().tolist(), upper.ravel().tolist()
    ([0.0, 0.0, 1.0, 1.0], [3.0, 3.0, 3.0, 2.0])
    """
    b = check_sequence(sequence, name="sequence")
    n = len(b) if n_timepoints is None else int(n_timepoints)
    check_memory(2 * 8 * n * b.shape[1], f"the envelope over n_timepoints={n} rows")
    return envelope_of(b, check_window(window, shape=(n, len(b))), n)


def lb_kim(a: ArrayLike, b: ArrayLike, *, squared: bool = False) -> float:
    """LB_Kim lower bound of the DTW distance, from the first and last timepoints.

    Parameters
    ----------
    a : array-like of shape (n,) or (n, n_channels)
        First sequence.
    b : array-like of shape (m,) or (m, n_channels)
        Second sequence, with the same channels as ``a``.
    squared : bool, default=False
        Return the bound of the summed squared cost instead of its square root.

    Returns
    -------
    bound : float
        At most ``dtw_distance(a, b, window=w, squared=squared)`` for every window ``w``.

    See Also
    --------
    lb_keogh : A tighter bound that costs O(n).

    Notes
    -----
    The hierarchical form of the UCR suite (Rakthanmanon et al. 2012): for
    ``k = 0, 1, 2`` the cheapest cell of the layer ``max(i, j) == k``, and
    the same from the end. Every path crosses every layer, since
    ``max(i, j)`` grows by at most one per step, and the layers are disjoint
    while ``2 * depth <= max(n, m)`` (the depth shrinks for short sequences),
    so the sum of the minima is at most the cost of any path, whatever the
    window. It costs O(1).

    References
    ----------
    .. [1] S.-W. Kim, S. Park and W. W. Chu, "An index-based approach for
       similarity search supporting time warping in large sequence
       databases", ICDE 2001.
    .. [2] T. Rakthanmanon et al., "Searching and mining trillions of time
       series subsequences under dynamic time warping", KDD 2012.

    Examples
    --------
    >>> from alignkit.distances import lb_kim
    >>> lb_kim([0.0, 1.0, 2.0, 5.0], [1.0, 1.0, 2.0, 3.0], squared=True)
    5.0
    """
    from ..kernels._numba import _lower_bounds

    a, b = check_pair(a, b)
    return _finish(_lower_bounds.lb_kim(a, b), squared)


def lb_keogh(
    a: ArrayLike, b: ArrayLike, *, window: WindowLike = None, squared: bool = False
) -> float:
    """LB_Keogh lower bound: the distance from ``a`` to the envelope of ``b``.

    Parameters
    ----------
    a : array-like of shape (n,) or (n, n_channels)
        Sequence compared with the envelope.
    b : array-like of shape (m,) or (m, n_channels)
        Sequence whose envelope is taken, with the same channels as ``a``.
    window : None, int, float, tuple or ndarray of bool, default=None
        Window of the DTW distance being bounded, as in :func:`alignkit.dtw`.
    squared : bool, default=False
        Return the bound of the summed squared cost instead of its square root.

    Returns
    -------
    bound : float
        At most ``dtw_distance(a, b, window=window, squared=squared)``.
        ``lb_keogh(b, a)`` is the other direction, also a bound.

    See Also
    --------
    envelope : The envelope of ``b``.
    lb_improved : A tighter bound.

    Notes
    -----
    ``sum_i sum_k d(a[i, k], [L[i, k], U[i, k]]) ** 2`` with ``L``, ``U`` the
    envelope of ``b`` (:func:`envelope`).
    {notes}

    References
    ----------
    .. [1] E. Keogh and C. A. Ratanamahatana, "Exact indexing of dynamic time
       warping", Knowledge and Information Systems 7(3), 2005.

    Examples
    --------
    >>> from alignkit.distances import lb_keogh
    >>> lb_keogh([0.0, 5.0, 0.0, 0.0], [0.0, 1.0, 2.0, 1.0], window=1, squared=True)
    11.0
    """
    from ..kernels._numba._lower_bounds import lb_keogh as _lb_keogh

    a, b = check_pair(a, b)
    lower, upper = envelope_of(b, check_window(window, shape=(len(a), len(b))), len(a))
    return _finish(_lb_keogh(a, lower, upper), squared)


def lb_improved(
    a: ArrayLike, b: ArrayLike, *, window: WindowLike = None, squared: bool = False
) -> float:
    """LB_Improved lower bound (Lemire 2009), at least as tight as LB_Keogh.

    Parameters
    ----------
    a : array-like of shape (n,) or (n, n_channels)
        First sequence.
    b : array-like of shape (m,) or (m, n_channels)
        Second sequence, with the same channels as ``a``.
    window : None, int, float, tuple or ndarray of bool, default=None
        Window of the DTW distance being bounded, as in :func:`alignkit.dtw`.
    squared : bool, default=False
        Return the bound of the summed squared cost instead of its square root.

    Returns
    -------
    bound : float
        ``lb_keogh(a, b) <= bound <= dtw_distance(a, b)`` under the same window.

    See Also
    --------
    lb_keogh : The first term of this bound.

    Notes
    -----
    With ``h`` the projection of ``a`` onto the envelope of ``b``,
    ``LB_Improved(a, b) = LB_Keogh(a, b) + LB_Keogh(b, h)``, the second term
    using the transposed window. For a cell ``(i, j)`` of the path,
    ``b[j]`` lies in the envelope of row ``i``, so ``a[i] - h[i]`` and
    ``h[i] - b[j]`` have the same sign and
    ``(a[i] - b[j]) ** 2 >= (a[i] - h[i]) ** 2 + (h[i] - b[j]) ** 2``
    channel by channel. Summing over the path, the first part visits every
    row (at least LB_Keogh(a, b)) and the second every column (at least
    LB_Keogh(b, h)).
    {notes}

    References
    ----------
    .. [1] D. Lemire, "Faster retrieval with a two-pass dynamic-time-warping
       lower bound", Pattern Recognition 42(9), 2009.

    Examples
    --------
    >>> from alignkit.distances import lb_improved, lb_keogh
    >>> import alignkit
    >>> a, b = [3.0, 0.0, 0.0, 0.0, 3.0], [0.0, 1.0, 3.0, 1.0, 0.0]
    >>> lb_keogh(a, b, window=1, squared=True), lb_improved(a, b, window=1, squared=True)
    (9.0, 13.0)
    >>> alignkit.dtw_distance(a, b, window=1, squared=True)
    29.0
    """
    from ..kernels._numba._lower_bounds import lb_improved as _lb_improved

    a, b = check_pair(a, b)
    parsed = check_window(window, shape=(len(a), len(b)))
    lower, upper = envelope_of(b, parsed, len(a))
    lo_t, hi_t = row_bounds(_transposed(parsed), len(b), len(a))
    return _finish(_lb_improved(a, b, lower, upper, lo_t, hi_t), squared)


lb_keogh.__doc__ = lb_keogh.__doc__.replace("{notes}", _NOTES)
lb_improved.__doc__ = lb_improved.__doc__.replace("{notes}", _NOTES)

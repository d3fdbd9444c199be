"""Dynamic time warping between two sequences: :func:`dtw` and :func:`dtw_distance`."""

import numpy as np

from .core.result import Alignment
from .validation import check_memory, check_sequence, check_window

__all__ = ["dtw", "dtw_distance"]

_DEFINITION = """
    The local cost of matching ``a[i]`` with ``b[j]`` is the squared Euclidean
    distance over channels, ``sum_k (a[i, k] - b[j, k]) ** 2`` (dependent
    multivariate DTW, DTW_D). The best path minimises the sum of local costs
    under the symmetric1 step pattern (steps (1, 1), (1, 0), (0, 1), all
    weighted 1). With ``squared=False`` (default) the distance is the square
    root of that sum, the value tslearn, dtaidistance and pyts return; with
    ``squared=True`` it is the sum itself, the value aeon's ``dtw_distance``
    returns. Both give the same nearest neighbours.
"""


def _pair(a, b):
    a = check_sequence(a, name="a")
    b = check_sequence(b, name="b", n_channels=a.shape[1])
    return a, b


def _finish(total, squared):
    return float(total) if squared else float(np.sqrt(total))


def dtw(a, b, *, window=None, squared=False, return_cost_matrix=False):
    """Align two sequences with dynamic time warping.

    Parameters
    ----------
    a : array-like of shape (n,) or (n, n_channels)
        First sequence.
    b : array-like of shape (m,) or (m, n_channels)
        Second sequence, with the same channels as ``a``.
    window : None, int, float, tuple or ndarray of bool, default=None
        Constraint on the path (see :ref:`windows`):

        - ``None``: no constraint.
        - ``int r``: Sakoe-Chiba band of radius ``r`` timepoints around the
          diagonal from ``(0, 0)`` to ``(n-1, m-1)``.
        - ``float w`` in ``[0, 1]``: radius ``round(w * max(n, m))``, the UCR
          archive's convention (``w=0.1`` is a 10% window).
        - ``("itakura", max_slope)``: Itakura parallelogram.
        - boolean mask of shape ``(n, m)``: cells a path may visit.
    squared : bool, default=False
        Return the summed squared cost instead of its square root.
    return_cost_matrix : bool, default=False
        Also return the accumulated cost matrix (dense, ``inf`` outside the
        window), in the units of the summed cost.

    Returns
    -------
    alignment : Alignment
        The optimal path, its distance and, if asked, the cost matrix.

    Raises
    ------
    InvalidInputError
        If a sequence is empty, not finite, or the channels differ.
    WindowError
        If the window is malformed or admits no path.
    AlignkitMemoryError
        If the band would need more than ``max_memory`` bytes.

    See Also
    --------
    dtw_distance : The distance alone, in O(min(n, m)) memory.

    Notes
    -----
    {definition}
    Bands always contain the straight diagonal, so they admit a path for
    any lengths; for unequal lengths the band follows the slanted diagonal.
    The path is stored over the band only: O(n * r) memory for a radius ``r``.
    Among equally good paths the backtrack prefers the diagonal step, then the
    step that advances ``a`` alone, then ``b`` alone.

    References
    ----------
    .. [1] H. Sakoe and S. Chiba, "Dynamic programming algorithm optimization
       for spoken word recognition", IEEE Trans. ASSP 26(1), 1978.

    Examples
    --------
    >>> import alignkit
    >>> alignment = alignkit.dtw([0.0, 1.0, 2.0], [0.0, 2.0])
    >>> alignment.path.tolist()
    [[0, 0], [1, 0], [2, 1]]
    >>> alignment.distance
    1.0
    """
    from .kernels._numba import _dtw

    a, b = _pair(a, b)
    n, m = len(a), len(b)
    parsed = check_window(window, shape=(n, m))
    if parsed.mask is None:
        check_memory(8 * n * 2, "the window bounds")
    lo, hi, cell_ok = parsed.bounds(n, m)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(hi - lo, out=offsets[1:])
    check_memory(
        8 * int(offsets[-1]) + (8 * n * m if return_cost_matrix else 0),
        f"a DTW path between sequences of lengths {n} and {m}",
    )
    acc = _dtw.dtw_banded_matrix(a, b, lo, hi, offsets, cell_ok)
    total = acc[-1]
    if not np.isfinite(total):
        raise_no_path(n, m)
    path = _dtw.backtrack_banded(acc, offsets, lo, hi, m)
    cost_matrix = None
    if return_cost_matrix:
        cost_matrix = np.full((n, m), np.inf)
        for i in range(n):
            cost_matrix[i, lo[i] : hi[i]] = acc[offsets[i] : offsets[i + 1]]
    return Alignment(path, _finish(total, squared), (n, m), cost_matrix)


def raise_no_path(n, m):
    from .exceptions import WindowError

    raise WindowError(
        f"the window admits no continuous warping path from (0, 0) to ({n - 1}, {m - 1})"
    )


def dtw_distance(a, b, *, window=None, squared=False):
    """Dynamic time warping distance between two sequences, without the path.

    Parameters
    ----------
    a : array-like of shape (n,) or (n, n_channels)
        First sequence.
    b : array-like of shape (m,) or (m, n_channels)
        Second sequence, with the same channels as ``a``.
    window : None, int, float, tuple or ndarray of bool, default=None
        Constraint on the path, as in :func:`dtw`.
    squared : bool, default=False
        Return the summed squared cost instead of its square root.

    Returns
    -------
    distance : float

    Notes
    -----
    {definition}
    Without a mask this keeps two rows of ``min(n, m) + 1`` values.

    Examples
    --------
    >>> import alignkit
    >>> alignkit.dtw_distance([0.0, 1.0, 2.0], [0.0, 2.0], squared=True)
    1.0
    """
    from .kernels._numba import _dtw

    a, b = _pair(a, b)
    parsed = check_window(window, shape=(len(a), len(b)))
    if parsed.mask is not None:
        return dtw(a, b, window=parsed, squared=squared).distance
    total = _dtw.dtw_distance_pair(a, b, parsed.kind, parsed.param)
    return _finish(total, squared)


dtw.__doc__ = dtw.__doc__.replace("{definition}", _DEFINITION)
dtw_distance.__doc__ = dtw_distance.__doc__.replace("{definition}", _DEFINITION)

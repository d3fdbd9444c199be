"""Private driver: an exact DTW warping path in O(n + m) memory.

:func:`linear_memory_path` allocates every buffer the divide-and-conquer
kernel (:mod:`alignkit.kernels._numba._linear_path`) needs and calls it; the
public :func:`alignkit.dtw` chooses it over the banded matrix when the matrix
would not fit in memory. :func:`linear_memory_bytes` is the estimate that
choice compares with the matrix's.
"""

import numpy as np

from ..exceptions import WindowError

__all__ = ["BASE_CELLS", "linear_memory_bytes", "linear_memory_path"]

BASE_CELLS = 2**16
"""Rectangles with at most this many window cells are solved with a banded matrix (512 KiB)."""


def linear_memory_bytes(n: int, m: int, base_cells: int = BASE_CELLS) -> int:
    """Bytes :func:`linear_memory_path` allocates for an ``n`` by ``m`` problem.

    The output path (``16 * (n + m - 1)``), four rows of ``m + 2`` costs, the
    base-case matrix and its row offsets; the window bounds (``16 * n``) are
    the caller's and not counted.

    Parameters
    ----------
    n, m : int
        Lengths of the two sequences.
    base_cells : int, default=BASE_CELLS
        Largest rectangle solved with a matrix.

    Returns
    -------
    n_bytes : int

    Examples
    --------
    >>> from alignkit.distances._linear_path import linear_memory_bytes
    >>> linear_memory_bytes(50_000, 50_000)  # about 4 MiB
    4124344
    """
    base = min(base_cells, n * m)
    return 16 * (n + m - 1) + 32 * (m + 2) + 8 * base + 8 * (min(n, base) + 1)


def linear_memory_path(
    a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, *, base_cells: int = BASE_CELLS
) -> tuple[np.ndarray, float]:
    """Optimal DTW path and its summed cost, in memory linear in ``n + m``.

    Hirschberg's divide and conquer: the rows are halved, a forward pass over
    the top half and a backward (cost-to-go) pass over the bottom half find
    where an optimal path crosses between them, and each half is solved alone
    inside its own corner-to-corner rectangle with the window clipped to it.
    About twice the cells of the matrix DP for a full window; for a band of
    radius ``r`` about ``log2(n * r / base_cells)`` times.

    Parameters
    ----------
    a : ndarray of shape (n, n_channels)
        First sequence, float64, validated.
    b : ndarray of shape (m, n_channels)
        Second sequence, float64, validated, same channels.
    lo, hi : ndarray of int64 of shape (n,)
        Non-decreasing per-row column bounds ``[lo[i], hi[i])``, as
        ``check_window(window).bounds(n, m)`` gives for any window but a mask.
    base_cells : int, default=BASE_CELLS
        Rectangles with at most this many window cells are solved with a
        banded matrix and a backtrack (ties: diagonal, then ``(i-1, j)``, then
        ``(i, j-1)``, as :func:`alignkit.dtw`). 0 divides down to single rows.

    Returns
    -------
    path : ndarray of int64 of shape (path_length, 2)
        An optimal warping path from ``(0, 0)`` to ``(n-1, m-1)``; the one
        :func:`alignkit.dtw` returns whenever the optimum is unique or the
        whole problem has at most ``base_cells`` cells.
    total_cost : float
        Summed squared local cost along ``path`` (the ``squared=True`` distance).

    Raises
    ------
    ValueError
        If ``lo`` or ``hi`` decreases somewhere (a mask's bounds may).
    WindowError
        If the bounds admit no path.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.distances._linear_path import linear_memory_path
    >>> a = np.array([[0.0], [1.0], [2.0]])
    >>> b = np.array([[0.0], [2.0]])
    >>> lo, hi = np.zeros(3, dtype=np.int64), np.full(3, 2, dtype=np.int64)
    >>> path, total = linear_memory_path(a, b, lo, hi, base_cells=0)
    >>> path.tolist(), total
    ([[0, 0], [1, 0], [2, 1]], 1.0)
    """
    from ..kernels._numba import _linear_path as kernels

    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    lo = np.ascontiguousarray(lo, dtype=np.int64)
    hi = np.ascontiguousarray(hi, dtype=np.int64)
    if not (kernels.non_decreasing(lo) and kernels.non_decreasing(hi)):
        raise ValueError(
            "linear_memory_path needs non-decreasing bounds (any window but a mask); "
            "align under a mask with the banded matrix"
        )
    n, m = len(a), len(b)
    base = max(min(int(base_cells), n * m), 0)
    path = np.empty((n + m - 1, 2), dtype=np.int64)
    length = kernels.linear_path(
        a,
        b,
        lo,
        hi,
        base,
        np.empty((4, m + 2)),
        np.empty(base),
        np.empty(min(n, base) + 1, dtype=np.int64),
        np.empty((kernels.STACK_ROWS, 4), dtype=np.int64),
        path,
    )
    if length < 0:
        raise WindowError(
            f"the window admits no continuous warping path from (0, 0) to ({n - 1}, {m - 1})"
        )
    path = path[:length]
    return path, float(kernels.path_cost(a, b, path))

"""Alignments read from attention weights: the hard monotone path and image maps."""

import numbers

import numpy as np
from numpy.typing import ArrayLike

from ..core.results import Alignment
from ..exceptions import InvalidInputError
from ..kernels._numba._attention import accumulate_cost
from ..kernels._numba._dtw import backtrack_banded
from ..validation import _as_numeric_array

__all__ = ["AttentionAlignment", "attention_path", "upsample_attention"]

_TINY = 1e-12  # floor of attention weights before the log of the hard-path cost


class AttentionAlignment(Alignment):
    """An :class:`~alignkit.Alignment` read from soft attention weights.

    Parameters
    ----------
    path : array-like of shape (path_length, 2)
        The hard path extracted from the attention by :func:`attention_path`:
        pairs ``(i, j)`` (source frame, target frame), monotone and continuous
        from ``(0, 0)`` to ``(n - 1, m - 1)``; stored as int64.
    distance : float
        The path's summed ``-log`` attention weight (the cost
        :func:`attention_path` returns).
    shape : tuple of int
        ``(n, m)``, the lengths of the source and the target.
    soft_matrix : array-like of shape (n, m)
        ``soft_matrix[i, j]`` is the attention that target frame ``b[j]``
        puts on source frame ``a[i]``; every column sums to 1. It is the
        transpose of the matrix :meth:`SoftAttentionAligner.attention` returns,
        so that it is indexed like ``path``. Stored as float64.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit import AttentionAlignment
    >>> alignment = AttentionAlignment([[0, 0], [1, 1]], 0.0, (2, 2), np.eye(2))
    >>> alignment.soft_matrix.sum(axis=0).tolist()
    [1.0, 1.0]
    """

    __slots__ = ("soft_matrix",)

    def __init__(
        self, path: ArrayLike, distance: float, shape: tuple[int, int], soft_matrix: ArrayLike
    ):
        super().__init__(path, distance, shape)
        self.soft_matrix = np.asarray(soft_matrix, dtype=np.float64)

    def __getstate__(self):
        # Alignment.__getstate__ reads self.__slots__, which here names only the new slot.
        names = Alignment.__slots__ + AttentionAlignment.__slots__
        return {name: getattr(self, name) for name in names}


def _check_matrix(value, name):
    """A finite, non-empty 2-D float64 array (not a sequence: no layout is read)."""
    # The shared reading of numbers: refuses text, complex, sparse and masked holes.
    array = _as_numeric_array(value, name, None)
    if array.ndim != 2 or 0 in array.shape:
        raise InvalidInputError(f"{name} must be a non-empty 2-D array, got shape {array.shape}")
    array = np.ascontiguousarray(array, dtype=np.float64)
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        row, col = bad[0]
        raise InvalidInputError(
            f"{name} must be finite, got {name}[{row}, {col}] = {array[row, col]}"
        )
    return array


def attention_path(attention: ArrayLike) -> tuple[np.ndarray, float]:
    """The monotone path that collects the most attention: DTW on ``-log`` weights.

    Parameters
    ----------
    attention : array-like of shape (m, n)
        Attention of each of ``m`` target frames over ``n`` source frames
        (rows are probability vectors), as returned by
        :meth:`SoftAttentionAligner.attention`.

    Returns
    -------
    path : ndarray of shape (path_length, 2), dtype int64
        Pairs ``(i, j)`` (source frame, target frame), monotone and
        continuous from ``(0, 0)`` to ``(n - 1, m - 1)``, minimising
        ``sum -log(max(attention[j, i], 1e-12))`` over the cells visited with
        the symmetric steps ``(1, 1)``, ``(1, 0)`` and ``(0, 1)``.
    cost : float
        That minimum.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit import attention_path
    >>> attention = np.array([[0.9, 0.1, 0.0], [0.0, 0.2, 0.8]])
    >>> path, cost = attention_path(attention)
    >>> path.tolist()
    [[0, 0], [1, 1], [2, 1]]
    """
    weights = _check_matrix(attention, "attention")
    if (weights < 0).any():
        row, col = np.argwhere(weights < 0)[0]
        raise InvalidInputError(
            f"attention weights must be non-negative, got attention[{row}, {col}] = "
            f"{weights[row, col]}"
        )
    cost = -np.log(np.maximum(weights.T, _TINY))
    n, m = cost.shape
    acc = accumulate_cost(np.ascontiguousarray(cost))
    # The full band of the DTW engine's backtrack (same tie order as alignkit.dtw).
    offsets = np.arange(n + 1, dtype=np.int64) * m
    lo, hi = np.zeros(n, dtype=np.int64), np.full(n, m, dtype=np.int64)
    return backtrack_banded(acc, offsets, lo, hi, m), float(acc[-1])


def upsample_attention(
    weights: ArrayLike, grid_shape: tuple[int, int], image_shape: tuple[int, int]
) -> np.ndarray:
    """Spread grid-cell attention evenly over the pixels each cell covers.

    The grid of :class:`SoftAttentionAligner` with ``input="grid"`` pools
    twice by 2, so cell ``(r, c)`` covers pixels ``[4r, 4r + 4) x [4c, 4c + 4)``
    (clipped at the image edge). Each cell's weight is divided among its
    pixels, so every map keeps its total.

    Parameters
    ----------
    weights : array-like of shape (n_steps, grid_height * grid_width)
        Attention over the cells, row-major.
    grid_shape : tuple of int
        ``(grid_height, grid_width)``, i.e. ``ceil(height / 4), ceil(width / 4)``.
    image_shape : tuple of int
        ``(height, width)`` of the image.

    Returns
    -------
    maps : ndarray of shape (n_steps, height, width)

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit import upsample_attention
    >>> maps = upsample_attention(np.array([[0.0, 1.0]]), (1, 2), (4, 6))
    >>> maps[0, 0].tolist()  # cell 1 covers 4 rows x 2 columns
    [0.0, 0.0, 0.0, 0.0, 0.125, 0.125]
    >>> float(maps.sum())
    1.0
    """
    height, width = _check_shape(image_shape, "image_shape")
    grid_height, grid_width = _check_shape(grid_shape, "grid_shape")
    if -(-height // 4) != grid_height or -(-width // 4) != grid_width:
        raise InvalidInputError(
            f"grid_shape {tuple(grid_shape)} does not match image_shape {tuple(image_shape)}: "
            "expected (ceil(height / 4), ceil(width / 4))"
        )
    weights = _check_matrix(weights, "weights")
    if weights.shape[1] != grid_height * grid_width:
        raise InvalidInputError(
            f"weights must have shape (n_steps, {grid_height * grid_width}), got {weights.shape}"
        )
    rows, cols = np.arange(height) // 4, np.arange(width) // 4
    area = np.outer(np.bincount(rows), np.bincount(cols))
    cells = weights.reshape(-1, grid_height, grid_width) / area
    return cells[:, rows][:, :, cols]


def _check_shape(shape, name):
    """A ``(height, width)`` pair of positive ints."""
    valid = (
        isinstance(shape, (tuple, list))
        and len(shape) == 2
        and all(
            isinstance(size, numbers.Integral) and not isinstance(size, (bool, np.bool_))
            for size in shape
        )
        and all(size >= 1 for size in shape)
    )
    if not valid:
        raise InvalidInputError(f"{name} must be a pair of positive ints, got {shape!r}")
    return int(shape[0]), int(shape[1])

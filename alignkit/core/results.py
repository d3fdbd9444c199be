"""The :class:`Alignment` result returned by every explicit aligner."""

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from scipy.sparse import csr_array

__all__ = ["Alignment"]


class Alignment:
    """An alignment between two sequences ``a`` (length n) and ``b`` (length m).

    Parameters
    ----------
    path : ndarray of shape (path_length, 2), dtype int64
        Matched index pairs ``(i, j)``, monotone and continuous, from
        ``(0, 0)`` to ``(n-1, m-1)``.
    distance : float
        The alignment's distance, as defined by the function that made it
        (see :func:`alignkit.dtw`).
    shape : tuple of int
        ``(n, m)``, the lengths of ``a`` and ``b``.
    cost_matrix : ndarray of shape (n, m), default=None
        Accumulated cost matrix (``inf`` outside the window), if requested.
    normalized_distance : float, default=None
        The distance divided by the step pattern's normaliser (see
        :class:`alignkit.distances.step_patterns.StepPattern`), None where the pattern
        defines none.

    Attributes
    ----------
    index_a, index_b : ndarray of shape (path_length,)
        The two columns of ``path``.

    Examples
    --------
    >>> import alignkit
    >>> alignment = alignkit.dtw([1.0, 2.0, 3.0], [1.0, 2.0, 2.0, 3.0])
    >>> alignment.distance
    0.0
    >>> alignment.path.tolist()
    [[0, 0], [1, 1], [1, 2], [2, 3]]
    """

    __slots__ = ("path", "distance", "shape", "cost_matrix", "normalized_distance")

    def __init__(
        self,
        path: ArrayLike,
        distance: float,
        shape: tuple[int, int],
        cost_matrix: np.ndarray | None = None,
        normalized_distance: float | None = None,
    ):
        self.path = np.asarray(path, dtype=np.int64)
        self.distance = float(distance)
        self.shape = (int(shape[0]), int(shape[1]))
        self.cost_matrix = cost_matrix
        self.normalized_distance = (
            None if normalized_distance is None else float(normalized_distance)
        )

    def __getstate__(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state):
        self.normalized_distance = None  # absent from pickles made before it existed
        for name, value in state.items():
            setattr(self, name, value)

    def __repr__(self):
        return (
            f"Alignment(distance={self.distance:.6g}, shape={self.shape}, "
            f"path_length={len(self.path)})"
        )

    def __len__(self):
        return len(self.path)

    @property
    def index_a(self) -> np.ndarray:
        return self.path[:, 0]

    @property
    def index_b(self) -> np.ndarray:
        return self.path[:, 1]

    def warp(self, a: ArrayLike, b: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Both sequences along the common path.

        Parameters
        ----------
        a : array-like of shape (n, ...)
            The first sequence (rows are timepoints), indexed by the path's first column.
        b : array-like of shape (m, ...)
            The second sequence, indexed by the path's second column.

        Returns
        -------
        a_warped, b_warped : ndarray of shape (path_length, ...)
            ``a[index_a]`` and ``b[index_b]``: row ``k`` of each is the
            ``k``-th matched pair.
        """
        a, b = self._check_lengths(a, b)
        return a[self.index_a], b[self.index_b]

    def warping_matrices(self) -> tuple["csr_array", "csr_array"]:
        """Sparse selection matrices of the path.

        Returns
        -------
        W_a : scipy.sparse.csr_array of shape (n, path_length)
        W_b : scipy.sparse.csr_array of shape (m, path_length)
            Binary matrices with ``W_a[i, k] = 1`` when ``path[k, 0] == i``,
            so that ``a.T @ W_a`` equals ``warp(a, b)[0].T``.
        """
        from scipy import sparse

        length = len(self.path)
        columns = np.arange(length)
        ones = np.ones(length)
        w_a = sparse.csr_array((ones, (self.index_a, columns)), shape=(self.shape[0], length))
        w_b = sparse.csr_array((ones, (self.index_b, columns)), shape=(self.shape[1], length))
        return w_a, w_b

    def warp_to_b(self, a: ArrayLike) -> np.ndarray:
        """Put ``a`` on the timeline of ``b``.

        Parameters
        ----------
        a : array-like of shape (n, ...)
            The first sequence (rows are timepoints), indexed by the path's first column.

        Returns
        -------
        a_on_b : ndarray of shape (m, ...)
            Row ``j`` is the mean of the rows of ``a`` matched to ``b[j]``;
            NaN for rows of ``b`` that the path does not visit (possible only
            with ``open_begin`` or ``open_end``).
        """
        return _average_onto(
            np.asarray(a, dtype=float),
            self.index_a,
            self.index_b,
            self.shape[0],
            self.shape[1],
            "a",
        )

    def warp_to_a(self, b: ArrayLike) -> np.ndarray:
        """Put ``b`` on the timeline of ``a``.

        Parameters
        ----------
        b : array-like of shape (m, ...)
            The second sequence (rows are timepoints), indexed by the path's second column.

        Returns
        -------
        b_on_a : ndarray of shape (n, ...)
            Row ``i`` is the mean of the rows of ``b`` matched to ``a[i]``;
            NaN for rows of ``a`` that the path does not visit.
        """
        return _average_onto(
            np.asarray(b, dtype=float),
            self.index_b,
            self.index_a,
            self.shape[1],
            self.shape[0],
            "b",
        )

    def _check_lengths(self, a, b):
        a = np.asarray(a)
        b = np.asarray(b)
        for name, seq, length in (("a", a, self.shape[0]), ("b", b, self.shape[1])):
            if seq.ndim == 0 or len(seq) != length:
                raise ValueError(
                    f"{name} has {0 if seq.ndim == 0 else len(seq)} timepoints but this "
                    f"alignment was computed for {length}"
                )
        return a, b


def _average_onto(values, source_index, target_index, source_length, target_length, name):
    if values.ndim == 0 or len(values) != source_length:
        raise ValueError(
            f"{name} has {0 if values.ndim == 0 else len(values)} timepoints but this "
            f"alignment was computed for {source_length}"
        )
    sums = np.zeros((target_length,) + values.shape[1:])
    np.add.at(sums, target_index, values[source_index])
    counts = np.bincount(target_index, minlength=target_length)
    counts = counts.reshape((-1,) + (1,) * (values.ndim - 1)).astype(float)
    return np.divide(sums, counts, out=np.full_like(sums, np.nan), where=counts > 0)

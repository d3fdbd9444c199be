"""Scores for alignments."""

import numpy as np
from scipy.spatial import cKDTree

from .exceptions import InvalidInputError

__all__ = ["path_distance"]


def _check_path(path, name):
    array = np.asarray(path)
    if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
        raise InvalidInputError(
            f"{name} must be a non-empty array of shape (path_length, 2), got shape {array.shape}"
        )
    if not np.issubdtype(array.dtype, np.number) or not np.isfinite(array).all():
        raise InvalidInputError(f"{name} must hold finite numbers")
    return array.astype(np.float64)


def path_distance(path_a, path_b):
    """Alignment error between two warping paths, in frames.

    The symmetric mean nearest-point distance used by the CTW/GTW papers:
    each point of one path is matched to the nearest point of the other, and
    the Euclidean distances are averaged over both paths.

    Parameters
    ----------
    path_a : array-like of shape (length_a, 2)
        A path, e.g. :attr:`Alignment.path`.
    path_b : array-like of shape (length_b, 2)
        Another path over the same pair of sequences, e.g. the ground truth.

    Returns
    -------
    error : float
        ``(sum_p min_q |p - q| + sum_q min_p |q - p|) / (length_a + length_b)``;
        0 when the paths hold the same points.

    References
    ----------
    .. [1] F. Zhou and F. De la Torre, "Generalized canonical time warping",
       IEEE TPAMI 38(2), 2016.

    Examples
    --------
    >>> from alignkit.metrics import path_distance
    >>> path_distance([[0, 0], [1, 1]], [[0, 0], [1, 1]])
    0.0
    >>> path_distance([[0, 0], [1, 1]], [[0, 0], [0, 1], [1, 1]])
    0.2
    """
    a = _check_path(path_a, "path_a")
    b = _check_path(path_b, "path_b")
    to_b, _ = cKDTree(b).query(a)
    to_a, _ = cKDTree(a).query(b)
    return float((to_b.sum() + to_a.sum()) / (len(a) + len(b)))

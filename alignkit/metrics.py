"""Scores for alignments."""

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

from .exceptions import InvalidInputError

__all__ = ["path_distance"]


def _check_path(path, name):
    if isinstance(path, np.ma.MaskedArray):
        # np.asarray drops a mask: the masked points would be measured silently.
        if np.ma.getmaskarray(path).any():
            raise InvalidInputError(
                f"{name} is a masked array with masked entries; pass only the points to "
                "measure, of shape (path_length, 2)"
            )
        path = path.data
    array = np.asarray(path)
    if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
        raise InvalidInputError(
            f"{name} must be a non-empty array of shape (path_length, 2), got shape {array.shape}"
        )
    if array.dtype == object:  # numbers held as objects (e.g. from pandas) are numbers
        try:
            array = np.array(array.tolist(), dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"{name} must hold real numbers (frame indices), got non-numeric objects"
            ) from None
    # Complex points would lose their imaginary part in the float conversion (and a
    # complex path then measure 0.0 from its real part); booleans are not frame indices.
    if array.dtype.kind not in "iuf":
        raise InvalidInputError(
            f"{name} must hold real numbers (frame indices), got dtype {array.dtype}"
        )
    array = array.astype(np.float64)
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        row = int(np.argmax(bad))
        raise InvalidInputError(
            f"{name} must hold finite numbers, got {name}[{row}] = {array[row].tolist()}"
        )
    return array


def path_distance(path_a: ArrayLike, path_b: ArrayLike) -> float:
    """Alignment error between two warping paths, in frames.

    The symmetric mean nearest-point distance used by the CTW/GTW papers:
    each point of one path is matched to the nearest point of the other, and
    the Euclidean distances are averaged over both paths.

    Parameters
    ----------
    path_a : array-like of shape (length_a, 2)
        A path, e.g. ``Alignment.path``: integer frame indices, or real
        (fractional) positions, which are measured as they are, never rounded.
    path_b : array-like of shape (length_b, 2)
        Another path over the same pair of sequences, e.g. the ground truth.

    Returns
    -------
    error : float
        ``(sum_p min_q |p - q| + sum_q min_p |q - p|) / (length_a + length_b)``;
        0 when the paths hold the same points.

    Raises
    ------
    InvalidInputError
        If a path is not of shape ``(path_length, 2)`` with at least one point,
        holds something other than real numbers (complex, boolean, text), holds
        NaN or infinity, or is a masked array with masked entries.

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
    # Squared coordinates overflow above about 1e154: measure huge paths scaled by a power
    # of two (exact), and refuse only an error that itself exceeds float64.
    exponent = max(int(np.frexp(max(np.abs(a).max(), np.abs(b).max()))[1]), 0)
    exponent = exponent if exponent > 500 else 0
    a, b = np.ldexp(a, -exponent), np.ldexp(b, -exponent)
    to_b, _ = cKDTree(b).query(a)
    to_a, _ = cKDTree(a).query(b)
    error = np.ldexp((to_b.sum() + to_a.sum()) / (len(a) + len(b)), exponent)
    if not np.isfinite(error):
        raise InvalidInputError(
            "the distance between path_a and path_b overflows float64 (their coordinates "
            "reach about 1e308); rescale both paths"
        )
    return float(error)

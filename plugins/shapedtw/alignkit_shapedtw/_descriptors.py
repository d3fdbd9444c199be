"""Shape descriptors: one feature vector per timepoint, from the subsequence centred on it.

Every descriptor offered here is a linear map of the subsequence, so a
sequence's descriptors are one matrix product over a sliding-window view of
the edge-padded sequence: no Python loop over timepoints.
"""

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from alignkit.exceptions import InvalidInputError
from alignkit.validation import check_sequence

__all__ = ["DESCRIPTORS", "check_descriptor_params", "descriptors_of", "shape_descriptors"]

DESCRIPTORS = ("raw", "paa", "derivative", "slope", "compound")


def _check_int(value, name, low, high, owner, why=""):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InvalidInputError(f"{owner} {name} must be an int, got {value!r}")
    if not low <= value <= high:
        raise InvalidInputError(f"{owner} {name} must lie in [{low}, {high}]{why}, got {value}")
    return int(value)


def check_descriptor_params(
    subsequence_length: int,
    descriptor: str,
    paa_segments: int = 5,
    n_intervals: int = 5,
    compound_weight: float = 1.0,
    owner: str = "shape_descriptors",
) -> dict[str, Any]:
    """Validate descriptor parameters; return them as a dict for :func:`shape_descriptors`.

    Only the parameters the chosen descriptor uses are checked, so that, for
    instance, ``subsequence_length=1`` with ``descriptor="raw"`` is valid even
    though the default ``paa_segments=5`` could not split a length-1 window.

    Parameters
    ----------
    subsequence_length : int
        Odd length ``>= 1`` of the subsequence (``>= 3`` for descriptors
        built from differences or slopes).
    descriptor : {"raw", "paa", "derivative", "slope", "compound"}
        The descriptor.
    paa_segments : int, default=5
        Number of PAA segments, in ``[1, subsequence_length]``.
    n_intervals : int, default=5
        Number of slope intervals, in ``[1, subsequence_length // 2]`` so
        that every interval holds at least two points.
    compound_weight : float, default=1.0
        Finite weight ``>= 0`` of the PAA part of the compound descriptor.
    owner : str, default="shape_descriptors"
        Name used at the start of error messages.

    Returns
    -------
    params : dict
        Keyword arguments of :func:`shape_descriptors`, with the unused
        parameters dropped.

    Raises
    ------
    InvalidInputError
        If a parameter the descriptor uses is out of range.

    Examples
    --------
    >>> from alignkit_shapedtw._descriptors import check_descriptor_params
    >>> check_descriptor_params(5, "paa", paa_segments=2)
    {'subsequence_length': 5, 'descriptor': 'paa', 'paa_segments': 2}
    """
    if not isinstance(descriptor, str) or descriptor not in DESCRIPTORS:
        raise InvalidInputError(
            f"{owner} descriptor must be one of {', '.join(map(repr, DESCRIPTORS))}, "
            f"got {descriptor!r}"
        )
    needs_shape = descriptor in ("derivative", "slope", "compound")
    length = _check_int(
        subsequence_length,
        "subsequence_length",
        3 if needs_shape else 1,
        np.iinfo(np.int32).max,
        owner,
        f" for descriptor {descriptor!r}" if needs_shape else "",
    )
    if length % 2 == 0:
        raise InvalidInputError(
            f"{owner} subsequence_length must be odd (the subsequence is centred on its "
            f"timepoint), got {length}; use {length + 1}"
        )
    params = {"subsequence_length": length, "descriptor": descriptor}
    if descriptor in ("paa", "compound"):
        params["paa_segments"] = _check_int(
            paa_segments, "paa_segments", 1, length, owner, " (at most subsequence_length)"
        )
    if descriptor in ("slope", "compound"):
        params["n_intervals"] = _check_int(
            n_intervals,
            "n_intervals",
            1,
            length // 2,
            owner,
            " (every interval needs two points: at most subsequence_length // 2)",
        )
    if descriptor == "compound":
        if (
            isinstance(compound_weight, (bool, np.bool_))
            or not isinstance(compound_weight, numbers.Real)
            or not np.isfinite(compound_weight)
            or compound_weight < 0
        ):
            raise InvalidInputError(
                f"{owner} compound_weight must be a finite number >= 0, got {compound_weight!r}"
            )
        params["compound_weight"] = float(compound_weight)
    return params


def _segment_edges(length, n_segments):
    """Edges ``floor(k * length / n_segments)``, k = 0..n_segments: near-equal contiguous parts."""
    return (np.arange(n_segments + 1) * length) // n_segments


def _paa_matrix(length, n_segments):
    edges = _segment_edges(length, n_segments)
    matrix = np.zeros((length, n_segments))
    for k in range(n_segments):
        matrix[edges[k] : edges[k + 1], k] = 1.0 / (edges[k + 1] - edges[k])
    return matrix


def _slope_matrix(length, n_intervals):
    # The least-squares slope of y over t is sum((t - mean t) * y) / sum((t - mean t)^2):
    # a fixed linear weighting of the interval's values.
    edges = _segment_edges(length, n_intervals)
    matrix = np.zeros((length, n_intervals))
    for k in range(n_intervals):
        centred = np.arange(edges[k + 1] - edges[k]) - (edges[k + 1] - edges[k] - 1) / 2.0
        matrix[edges[k] : edges[k + 1], k] = centred / np.sum(centred**2)
    return matrix


def _derivative_matrix(length):
    matrix = np.zeros((length, length - 1))
    columns = np.arange(length - 1)
    matrix[columns, columns] = -1.0
    matrix[columns + 1, columns] = 1.0
    return matrix


def _descriptor_matrix(
    subsequence_length, descriptor, paa_segments=5, n_intervals=5, compound_weight=1.0
):
    """Matrix ``M`` of shape (subsequence_length, n_features): descriptor = subsequence @ M."""
    if descriptor == "raw":
        return np.eye(subsequence_length)
    if descriptor == "paa":
        return _paa_matrix(subsequence_length, paa_segments)
    if descriptor == "derivative":
        return _derivative_matrix(subsequence_length)
    if descriptor == "slope":
        return _slope_matrix(subsequence_length, n_intervals)
    return np.hstack(
        [
            _slope_matrix(subsequence_length, n_intervals),
            compound_weight * _paa_matrix(subsequence_length, paa_segments),
        ]
    )


def descriptors_of(sequence: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """Descriptors of a validated ``(n_timepoints, n_channels)`` float64 sequence.

    ``params`` comes from :func:`check_descriptor_params`; nothing is checked here.
    """
    length = params["subsequence_length"]
    half = length // 2
    padded = np.pad(sequence, ((half, half), (0, 0)), mode="edge")
    # windows[t, c] is channel c's subsequence centred on timepoint t.
    windows = np.lib.stride_tricks.sliding_window_view(padded, length, axis=0)
    features = windows @ _descriptor_matrix(**params)
    return np.ascontiguousarray(features.reshape(len(sequence), -1))


def shape_descriptors(
    sequence: ArrayLike,
    subsequence_length: int = 15,
    descriptor: str = "raw",
    *,
    paa_segments: int = 5,
    n_intervals: int = 5,
    compound_weight: float = 1.0,
) -> np.ndarray:
    """Shape descriptor of every timepoint of a sequence (Zhao & Itti, 2018).

    The sequence is padded at both ends by repeating its first and last
    values ``subsequence_length // 2`` times; timepoint ``t`` is described by
    the subsequence of length ``subsequence_length`` centred on it.

    Parameters
    ----------
    sequence : array-like of shape (n_timepoints,) or (n_timepoints, n_channels)
        The sequence.
    subsequence_length : int, default=15
        Odd length ``l`` of the subsequence; ``l >= 3`` for "derivative",
        "slope" and "compound".
    descriptor : {"raw", "paa", "derivative", "slope", "compound"}, default="raw"
        What describes a subsequence ``s`` of length ``l``:

        - ``"raw"``: ``s`` itself (``l`` features);
        - ``"paa"``: piecewise aggregate approximation, the means of
          ``paa_segments`` contiguous segments (``paa_segments`` features);
        - ``"derivative"``: first differences ``s[k+1] - s[k]``
          (``l - 1`` features);
        - ``"slope"``: least-squares slope, against the index, of each of
          ``n_intervals`` contiguous intervals (``n_intervals`` features);
        - ``"compound"``: ``"slope"`` followed by ``compound_weight`` times
          ``"paa"`` (``n_intervals + paa_segments`` features).

        Segments and intervals split ``s`` at indices
        ``floor(k * l / n_parts)``, ``k = 0, ..., n_parts``.
    paa_segments : int, default=5
        Number of PAA segments, ``1 <= paa_segments <= l``.
    n_intervals : int, default=5
        Number of slope intervals, ``1 <= n_intervals <= l // 2``.
    compound_weight : float, default=1.0
        Weight ``>= 0`` of the PAA part of the compound descriptor.

    Returns
    -------
    descriptors : ndarray of shape (n_timepoints, n_channels * n_features)
        Row ``t`` is the descriptor of timepoint ``t``: the descriptors of the
        channels, channel 0 first, concatenated.

    Raises
    ------
    InvalidInputError
        If the sequence is invalid (see
        :func:`alignkit.validation.check_sequence`) or a parameter the
        descriptor uses is out of range.

    Notes
    -----
    The compound descriptor pairs a value-free description of shape (the
    slopes, unchanged by an offset) with a coarse description of the values
    (the PAA), as the paper's compound descriptors pair HOG1D with a DWT
    approximation; ``compound_weight`` trades one against the other and is
    best chosen by cross-validation, as in the paper.

    References
    ----------
    .. [1] J. Zhao and L. Itti, "shapeDTW: shape Dynamic Time Warping",
       Pattern Recognition 74, 171-184, 2018.

    Examples
    --------
    >>> from alignkit_shapedtw import shape_descriptors
    >>> shape_descriptors([0.0, 1.0, 3.0], subsequence_length=3)
    array([[0., 0., 1.],
           [0., 1., 3.],
           [1., 3., 3.]])
    >>> shape_descriptors([0.0, 1.0, 3.0], subsequence_length=3, descriptor="derivative")
    array([[0., 1.],
           [1., 2.],
           [2., 0.]])
    """
    params = check_descriptor_params(
        subsequence_length, descriptor, paa_segments, n_intervals, compound_weight
    )
    return descriptors_of(check_sequence(sequence, name="sequence"), params)

"""UniformAligner: uniform time warping, the baseline of alignment papers."""

import numpy as np

from ..base import SequenceAligner, _resample
from ..core.params import Integral, Interval, StrOptions, check_estimator_params
from ..core.results import Alignment
from ..validation import check_collection, check_memory

__all__ = ["UniformAligner", "uniform_path"]


def uniform_path(n: int, m: int) -> np.ndarray:
    """The straight-line path between lengths ``n`` and ``m``.

    Over ``L = max(n, m)`` steps, step ``t`` matches
    ``round(t (n - 1) / (L - 1))`` with ``round(t (m - 1) / (L - 1))``
    (halves round up), so the path is monotone and continuous.

    Parameters
    ----------
    n, m : int
        Lengths of the two sequences, at least 1.

    Returns
    -------
    path : ndarray of shape (max(n, m), 2), dtype int64

    Examples
    --------
    >>> from alignkit.estimators._uniform import uniform_path
    >>> uniform_path(3, 5).tolist()
    [[0, 0], [1, 1], [1, 2], [2, 3], [2, 4]]
    """
    length = max(n, m)
    if length == 1:
        return np.zeros((1, 2), dtype=np.int64)
    steps = np.arange(length)
    path = np.empty((length, 2), dtype=np.int64)
    for column, size in enumerate((n, m)):
        # Integer arithmetic: floor((2 t (size-1) + (L-1)) / (2 (L-1))) rounds halves up.
        path[:, column] = (2 * steps * (size - 1) + (length - 1)) // (2 * (length - 1))
    return path


class UniformAligner(SequenceAligner):
    """Uniform time warping: resample every sequence linearly to one length.

    The reference point that alignment papers report against: no
    optimisation, just a straight line between the start and end points.

    Parameters
    ----------
    n_timepoints : int or {"max", "min", "median"}, default="max"
        Common length. A string takes that statistic of the training lengths.

    Attributes
    ----------
    n_timepoints_ : int
        The common length.
    n_channels_ : int
        Number of channels seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit import UniformAligner
    >>> X = [np.arange(3.0), np.arange(5.0)]
    >>> UniformAligner().fit_transform(X)[0, :, 0]
    array([0. , 0.5, 1. , 1.5, 2. ])
    """

    _alignkit_tags = frozenset({"explicit", "baseline"})

    _parameter_constraints = {
        "n_timepoints": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"max", "min", "median"}),
        ],
    }

    def __init__(self, n_timepoints: int | str = "max"):
        self.n_timepoints = n_timepoints

    def _fit_timeline(self, X):
        """Learn the common length."""
        check_estimator_params(self)
        sequences = check_collection(X, name="X")
        lengths = [len(s) for s in sequences]
        rules = {"max": max, "min": min, "median": lambda v: int(np.median(v))}
        if isinstance(self.n_timepoints, str):
            self.n_timepoints_ = int(rules[self.n_timepoints](lengths))
        else:
            self.n_timepoints_ = int(self.n_timepoints)
        self.n_channels_ = sequences[0].shape[1]

    def _to_timeline(self, sequences):
        """Every sequence resampled linearly to ``n_timepoints_``."""
        check_memory(
            8 * len(sequences) * self.n_timepoints_ * self.n_channels_,
            f"{len(sequences)} sequences resampled to n_timepoints={self.n_timepoints_}",
        )
        return [_resample(s, self.n_timepoints_) for s in sequences]

    def _align_checked(self, a, b):
        """The uniform path between two sequences and its cost."""
        path = uniform_path(len(a), len(b))
        cost = float(np.sum((a[path[:, 0]] - b[path[:, 1]]) ** 2))
        return Alignment(path, np.sqrt(cost), (len(a), len(b)))

"""ShapeDTWAligner: dynamic time warping over shape descriptors, as an alignkit aligner."""

from functools import partial

import numpy as np
from joblib import Parallel, effective_n_jobs
from numpy.typing import ArrayLike

from alignkit import Alignment, config_context, dtw
from alignkit.base import SequenceAligner
from alignkit.core.parallel import delayed
from alignkit.exceptions import InvalidInputError

from ._descriptors import check_descriptor_params, descriptors_of

__all__ = ["ShapeDTWAligner"]


def _shape_alignment(a, b, features_a, features_b, window):
    """shapeDTW path of two validated sequences given their descriptors, and its distance."""
    # The descriptors are (n_timepoints, n_features) by construction, whatever layout the
    # user's input was stated in.
    with config_context(sequence_layout="ntc"):
        path = dtw(features_a, features_b, window=window, squared=True).path
    squared_cost = np.sum((a[path[:, 0]] - b[path[:, 1]]) ** 2)
    return Alignment(path, np.sqrt(squared_cost), (len(a), len(b)))


def _pair_cost(pair, sequences, features, window):
    i, j = pair
    return (
        _shape_alignment(sequences[i], sequences[j], features[i], features[j], window).distance ** 2
    )


def _warp_onto(index, sequences, features, reference, reference_features, window):
    alignment = _shape_alignment(
        sequences[index], reference, features[index], reference_features, window
    )
    return alignment.warp_to_b(sequences[index])


def _apply(func, items):
    return [func(item) for item in items]


def _parallel_map(func, items, n_jobs):
    """``[func(item) for item in items]``, in one chunk per joblib worker.

    One chunk per worker pickles the shared arguments of ``func`` once per
    worker rather than once per item.
    """
    workers = min(effective_n_jobs(n_jobs), len(items))
    if workers <= 1:
        return [func(item) for item in items]
    edges = np.linspace(0, len(items), workers + 1).astype(int)
    parts = Parallel(n_jobs=n_jobs)(
        delayed(_apply)(func, items[start:stop]) for start, stop in zip(edges[:-1], edges[1:])
    )
    return [result for part in parts for result in part]


class ShapeDTWAligner(SequenceAligner):
    """Align sequences with shapeDTW: DTW over local shape descriptors.

    Every timepoint is described by the shape of the subsequence of length
    ``subsequence_length`` centred on it (see
    :func:`~alignkit_shapedtw.shape_descriptors`); dynamic time warping over
    these descriptor sequences gives the path, which then aligns the original
    sequences. Matching neighbourhoods instead of single values avoids the
    singularities pointwise DTW makes when two sequences share a shape but
    not its values.

    Parameters
    ----------
    subsequence_length : int, default=15
        Odd length of the subsequence describing each timepoint; the sequence
        is padded at both ends by repeating its end values. ``1`` with
        ``descriptor="raw"`` is plain DTW.
    descriptor : {"raw", "paa", "derivative", "slope", "compound"}, default="raw"
        The shape descriptor (see :func:`~alignkit_shapedtw.shape_descriptors`).
        Multichannel sequences get one descriptor per channel, concatenated.
    paa_segments : int, default=5
        Number of PAA segments, for "paa" and "compound".
    n_intervals : int, default=5
        Number of slope intervals, for "slope" and "compound".
    compound_weight : float, default=1.0
        Weight of the PAA part of the "compound" descriptor.
    window : None, int, float or tuple, default=None
        Constraint on the warping path over the descriptor sequences, as in
        :func:`alignkit.dtw` (``align`` also accepts a boolean mask).
    reference : "medoid" or array-like of shape (n_timepoints, n_channels), default="medoid"
        The reference timeline. ``"medoid"`` picks the training sequence with
        the smallest sum of squared shapeDTW distances to all the others; an
        array is used as given.
    n_jobs : int, default=None
        Number of joblib workers for the medoid and for ``transform``.
        ``None`` means 1 unless inside :func:`joblib.parallel_config`;
        ``-1`` means all cores.

    Attributes
    ----------
    reference_ : ndarray of shape (n_timepoints, n_channels)
        The reference sequence.
    reference_index_ : int or None
        Index of the medoid in the training collection, or ``None`` when the
        reference was given.
    window_ : Window
        The parsed window.
    descriptor_params_ : dict
        The validated parameters of the descriptor in use.
    n_channels_ : int
        Number of channels seen in ``fit``.

    See Also
    --------
    alignkit_shapedtw.shape_descriptors : The descriptors.
    alignkit.DTWAligner : Pointwise DTW.

    Notes
    -----
    The path minimises the summed squared Euclidean distance between the
    descriptors of matched timepoints (symmetric1 steps, as
    :func:`alignkit.dtw`). The reported distance is that of the ORIGINAL
    sequences along this path, ``sqrt(sum over (i, j) in P of ||a_i - b_j||^2)``,
    the DTW distance convention of
    :func:`alignkit.dtw` evaluated on the shapeDTW path [1]_; it is at least
    the plain DTW distance, which minimises the same sum over all paths.
    Row ``j`` of a transformed sequence is the mean of the frames matched to
    reference frame ``j``. Finding the medoid computes all
    ``N (N - 1) / 2`` pairwise alignments of the training set.

    References
    ----------
    .. [1] J. Zhao and L. Itti, "shapeDTW: shape Dynamic Time Warping",
       Pattern Recognition 74, 171-184, 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit_shapedtw import ShapeDTWAligner
    >>> X = [np.sin(np.linspace(0, 6, n)) for n in (40, 50, 60)]
    >>> aligner = ShapeDTWAligner(subsequence_length=5, descriptor="derivative").fit(X)
    >>> aligner.reference_index_
    1
    >>> aligner.transform(X).shape
    (3, 50, 1)
    >>> alignment = aligner.align(X[0], X[0] + 1.0)
    >>> bool(np.all(alignment.path[:, 0] == alignment.path[:, 1]))
    True
    """

    _alignkit_tags = frozenset({"explicit", "numba"})

    def __init__(
        self,
        subsequence_length: int = 15,
        descriptor: str = "raw",
        paa_segments: int = 5,
        n_intervals: int = 5,
        compound_weight: float = 1.0,
        window: int | float | tuple | None = None,
        reference: str | ArrayLike = "medoid",
        n_jobs: int | None = None,
    ):
        self.subsequence_length = subsequence_length
        self.descriptor = descriptor
        self.paa_segments = paa_segments
        self.n_intervals = n_intervals
        self.compound_weight = compound_weight
        self.window = window
        self.reference = reference
        self.n_jobs = n_jobs

    def _descriptor_params(self):
        return check_descriptor_params(
            self.subsequence_length,
            self.descriptor,
            self.paa_segments,
            self.n_intervals,
            self.compound_weight,
            owner=type(self).__name__,
        )

    def _fit_timeline(self, X):
        """Learn the reference sequence."""
        self.descriptor_params_ = self._descriptor_params()
        self._fit_window()
        if isinstance(self.reference, str) and self.reference != "medoid":
            raise InvalidInputError(
                f"ShapeDTWAligner reference must be 'medoid' or an array, got {self.reference!r}"
            )
        self._fit_reference(X, self._medoid)

    def _medoid(self, sequences):
        """The medoid of the checked collection under squared shapeDTW, and its index."""
        count = len(sequences)
        features = [descriptors_of(sequence, self.descriptor_params_) for sequence in sequences]
        pairs = [(i, j) for i in range(count) for j in range(i + 1, count)]
        cost = partial(_pair_cost, sequences=sequences, features=features, window=self.window_)
        costs = np.zeros((count, count))
        if pairs:
            rows, columns = np.asarray(pairs).T
            costs[rows, columns] = _parallel_map(cost, pairs, self.n_jobs)
        costs += costs.T
        index = int(np.argmin(costs.sum(axis=1)))
        return sequences[index], index

    def _to_timeline(self, sequences):
        """Every sequence warped onto the reference timeline along its shapeDTW path."""
        features = [descriptors_of(sequence, self.descriptor_params_) for sequence in sequences]
        warp = partial(
            _warp_onto,
            sequences=sequences,
            features=features,
            reference=self.reference_,
            reference_features=descriptors_of(self.reference_, self.descriptor_params_),
            window=self.window_,
        )
        return _parallel_map(warp, list(range(len(sequences))), self.n_jobs)

    def _align_checked(self, a, b):
        """The shapeDTW path of a checked pair; its distance is that of ``a`` and ``b``."""
        params = self._descriptor_params()
        return _shape_alignment(
            a, b, descriptors_of(a, params), descriptors_of(b, params), self.window
        )

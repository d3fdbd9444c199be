"""ShapeDTWAligner: dynamic time warping over shape descriptors, as an alignkit aligner."""

from functools import partial

import numpy as np
from joblib import Parallel, effective_n_jobs

from alignkit import Alignment, dtw
from alignkit.base import SequenceAligner
from alignkit.core.parallel import delayed
from alignkit.exceptions import InvalidInputError
from alignkit.validation import check_collection, check_sequence, check_window

from ._descriptors import check_descriptor_params, descriptors_of

__all__ = ["ShapeDTWAligner"]


def _shape_alignment(a, b, features_a, features_b, window):
    """shapeDTW path of two validated sequences given their descriptors, and its distance."""
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
        subsequence_length=15,
        descriptor="raw",
        paa_segments=5,
        n_intervals=5,
        compound_weight=1.0,
        window=None,
        reference="medoid",
        n_jobs=None,
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

    def fit(self, X, y=None):
        """Learn the reference sequence.

        Parameters
        ----------
        X : list of array-like, or ndarray
            Collection of sequences (see :func:`alignkit.validation.check_collection`).
        y : None
            Ignored; present for Pipeline compatibility.

        Returns
        -------
        self : ShapeDTWAligner
        """
        self.descriptor_params_ = self._descriptor_params()
        self.window_ = check_window(self.window)
        if self.window_.mask is not None:
            raise InvalidInputError(
                "ShapeDTWAligner window cannot be a mask (sequence lengths vary); "
                "use a radius, a fraction or ('itakura', max_slope)"
            )
        if isinstance(self.reference, str):
            if self.reference != "medoid":
                raise InvalidInputError(
                    "ShapeDTWAligner reference must be 'medoid' or an array, "
                    f"got {self.reference!r}"
                )
            sequences = check_collection(X, name="X")
            self.reference_index_ = self._medoid_index(sequences)
            self.reference_ = sequences[self.reference_index_]
        else:
            self.reference_ = check_sequence(self.reference, name="reference")
            check_collection(X, name="X", n_channels=self.reference_.shape[1])
            self.reference_index_ = None
        self.n_channels_ = self.reference_.shape[1]
        return self

    def _medoid_index(self, sequences):
        count = len(sequences)
        features = [descriptors_of(sequence, self.descriptor_params_) for sequence in sequences]
        pairs = [(i, j) for i in range(count) for j in range(i + 1, count)]
        cost = partial(_pair_cost, sequences=sequences, features=features, window=self.window_)
        costs = np.zeros((count, count))
        if pairs:
            rows, columns = np.asarray(pairs).T
            costs[rows, columns] = _parallel_map(cost, pairs, self.n_jobs)
        costs += costs.T
        return int(np.argmin(costs.sum(axis=1)))

    def transform(self, X):
        """Warp every sequence onto the reference timeline along its shapeDTW path.

        Parameters
        ----------
        X : list of array-like, or ndarray
            Collection of sequences with ``n_channels_`` channels.

        Returns
        -------
        X_aligned : ndarray of shape (n_sequences, n_timepoints, n_channels)
            ``n_timepoints`` is ``len(reference_)`` and ``n_channels`` is ``n_channels_``.
        """
        sequences = self._check_fitted_collection(X)
        features = [descriptors_of(sequence, self.descriptor_params_) for sequence in sequences]
        warp = partial(
            _warp_onto,
            sequences=sequences,
            features=features,
            reference=self.reference_,
            reference_features=descriptors_of(self.reference_, self.descriptor_params_),
            window=self.window_,
        )
        return np.stack(_parallel_map(warp, list(range(len(sequences))), self.n_jobs))

    def align(self, a, b):
        """Align one pair with shapeDTW (fitting is not needed).

        Parameters
        ----------
        a : array-like of shape (n,) or (n, n_channels)
        b : array-like of shape (m,) or (m, n_channels)

        Returns
        -------
        alignment : Alignment
            The shapeDTW path, and as distance the square root of the summed
            squared differences of the original ``a`` and ``b`` along it.
        """
        params = self._descriptor_params()
        a = check_sequence(a, name="a")
        b = check_sequence(b, name="b", n_channels=a.shape[1])
        return _shape_alignment(
            a, b, descriptors_of(a, params), descriptors_of(b, params), self.window
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags

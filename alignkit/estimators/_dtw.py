"""DTWAligner: warp every sequence of a collection onto a reference timeline."""

from functools import partial

import numpy as np

from ..base import BaseAligner
from ..elastic import dtw
from ..exceptions import InvalidInputError
from ..pairwise import medoid_index
from ..parallel import map_sequences
from ..validation import check_collection, check_sequence, check_window

__all__ = ["DTWAligner"]


def _warp_onto(sequence, reference, window):
    return dtw(sequence, reference, window=window, squared=True).warp_to_b(sequence)


class DTWAligner(BaseAligner):
    """Align sequences to a reference with dynamic time warping.

    ``fit`` learns a reference sequence from a collection; ``transform``
    warps every sequence onto the reference's timeline, so that a collection
    of sequences of different lengths becomes one array that any
    scikit-learn estimator can use.

    Parameters
    ----------
    window : None, int, float or tuple, default=None
        Constraint on the warping path, as in :func:`alignkit.dtw`: ``None``
        (no constraint), an int Sakoe-Chiba radius, a float fraction of the
        longer length in ``[0, 1]``, or ``("itakura", max_slope)``.
    reference : {"medoid", "dba", "soft_dtw"} or array-like of shape (n_timepoints, n_channels), \
            default="medoid"
        The reference timeline. ``"medoid"`` picks the training sequence with
        the smallest sum of DTW costs to all the others; ``"dba"`` averages the
        collection with DTW barycenter averaging (:func:`alignkit.dba`, from
        the medoid); ``"soft_dtw"`` with the soft-DTW barycenter
        (:func:`alignkit.soft_dtw_barycenter`, gamma 1); an array is used as
        given.
    n_jobs : int, default=None
        Number of joblib workers for the medoid and for ``transform``.
        ``None`` means 1 unless inside :func:`joblib.parallel_config`;
        ``-1`` means all cores.
    verbose : int, default=0
        joblib verbosity (progress of batch work).

    Attributes
    ----------
    reference_ : ndarray of shape (n_timepoints, n_channels)
        The reference sequence.
    reference_index_ : int or None
        Index of the medoid in the training collection, or ``None`` when the
        reference is a barycenter or was given.
    window_ : Window
        The parsed window.
    n_channels_ : int
        Number of channels seen in ``fit``.

    See Also
    --------
    alignkit.dtw : Align one pair.
    UniformAligner : Linear resampling to a common length (the baseline).

    Notes
    -----
    Row ``j`` of a transformed sequence is the mean of the frames matched to
    reference frame ``j`` by the optimal path, so every output has the
    reference's length. Finding the medoid computes all ``N (N - 1) / 2``
    pairwise distances of the training set.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit import DTWAligner
    >>> X = [np.sin(np.linspace(0, 6, n)) for n in (40, 50, 60)]
    >>> aligner = DTWAligner().fit(X)
    >>> aligner.reference_index_
    1
    >>> aligner.transform(X).shape
    (3, 50, 1)
    """

    def __init__(self, window=None, reference="medoid", n_jobs=None, verbose=0):
        self.window = window
        self.reference = reference
        self.n_jobs = n_jobs
        self.verbose = verbose

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
        self : DTWAligner
        """
        self.window_ = check_window(self.window)
        if self.window_.mask is not None:
            raise InvalidInputError(
                "DTWAligner window cannot be a mask (sequence lengths vary); "
                "use a radius, a fraction or ('itakura', max_slope)"
            )
        if isinstance(self.reference, str):
            sequences = check_collection(X, name="X")
            self.reference_, self.reference_index_ = self._learn_reference(sequences)
        else:
            self.reference_ = check_sequence(self.reference, name="reference")
            check_collection(X, name="X", n_channels=self.reference_.shape[1])
            self.reference_index_ = None
        self.n_channels_ = self.reference_.shape[1]
        return self

    def _learn_reference(self, sequences):
        if self.reference == "medoid":
            index = medoid_index(sequences, self.window_, n_jobs=self.n_jobs, verbose=self.verbose)
            return sequences[index], index
        if self.reference == "dba":
            from ..barycenters import dba

            return dba(sequences, window=self.window_), None
        if self.reference == "soft_dtw":
            from ..barycenters import soft_dtw_barycenter

            return soft_dtw_barycenter(sequences), None
        raise InvalidInputError(
            "DTWAligner reference must be 'medoid', 'dba', 'soft_dtw' or an array, "
            f"got {self.reference!r}"
        )

    def transform(self, X):
        """Warp every sequence onto the reference timeline.

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
        warp = partial(_warp_onto, reference=self.reference_, window=self.window_)
        return np.stack(map_sequences(warp, sequences, self.n_jobs, self.verbose))

    def align(self, a, b):
        """Align one pair with this aligner's window (fitting is not needed).

        Parameters
        ----------
        a : array-like of shape (n,) or (n, n_channels)
        b : array-like of shape (m,) or (m, n_channels)

        Returns
        -------
        alignment : Alignment
            See :func:`alignkit.dtw`.
        """
        return dtw(a, b, window=self.window)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags

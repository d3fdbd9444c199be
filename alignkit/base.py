"""Base classes of every aligner: the estimator contract.

An aligner is a scikit-learn transformer over collections of sequences that
also aligns one pair with :meth:`BaseAligner.align`. ``__init__`` only stores
parameters; ``fit`` validates and sets attributes ending in ``_``.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["BaseAligner"]


class BaseAligner(TransformerMixin, BaseEstimator):
    """Base class for aligners.

    Subclasses implement :meth:`align` (one pair) and ``fit`` / ``transform``
    over collections. ``transform`` returns an array of shape
    ``(n_sequences, n_timepoints, n_channels)`` on a common timeline, so an
    aligner can stand first in a :class:`~sklearn.pipeline.Pipeline`.
    """

    def align(self, a, b):
        """Align one pair of sequences.

        Parameters
        ----------
        a : array-like of shape (n,) or (n, n_channels)
        b : array-like of shape (m,) or (m, n_channels)

        Returns
        -------
        alignment : Alignment
        """
        raise NotImplementedError(f"{type(self).__name__} must implement align (abstract)")

    def _check_fitted_collection(self, X):
        from .validation import check_collection

        check_is_fitted(self)
        return check_collection(X, name="X", n_channels=self.n_channels_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.three_d_array = True
        return tags


def stack_sequences(sequences):
    """Stack equal-length sequences into one ``(n_sequences, n_timepoints, n_channels)`` array."""
    return np.stack(sequences, axis=0)

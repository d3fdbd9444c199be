"""Small transformers that connect aligners to flat scikit-learn estimators."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["Flatten"]


class Flatten(TransformerMixin, BaseEstimator):
    """Flatten aligned collections ``(n_sequences, n_timepoints, n_channels)`` to 2-D.

    Put it after an aligner so that the next step sees one feature vector per
    sequence of length ``n_timepoints * n_channels``.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.preprocessing import Flatten
    >>> Flatten().fit_transform(np.zeros((4, 10, 2))).shape
    (4, 20)
    """

    def fit(self, X, y=None):
        """Do nothing (stateless); present for Pipeline compatibility.

        Parameters
        ----------
        X : array-like of shape (n_sequences, ...)
        y : None
            Ignored.

        Returns
        -------
        self : Flatten
        """
        return self

    def transform(self, X):
        """Reshape to ``(n_sequences, -1)``.

        Parameters
        ----------
        X : array-like of shape (n_sequences, ...)

        Returns
        -------
        X_flat : ndarray of shape (n_sequences, n_features)
        """
        X = np.asarray(X)
        return X.reshape(len(X), -1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.three_d_array = True
        return tags

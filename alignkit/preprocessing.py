"""Small transformers that connect aligners to flat scikit-learn estimators."""

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, TransformerMixin

from .exceptions import InvalidInputError

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

    def fit(self, X: ArrayLike, y: None = None) -> "Flatten":
        """Do nothing (stateless); present for Pipeline compatibility.

        Parameters
        ----------
        X : array-like of shape (n_sequences, ...)
            Ignored.
        y : None
            Ignored.

        Returns
        -------
        self : Flatten
        """
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Reshape to ``(n_sequences, -1)``.

        Parameters
        ----------
        X : array-like of shape (n_sequences, ...)
            Sequences of one shape, e.g. the output of an aligner's ``transform``.

        Returns
        -------
        X_flat : ndarray of shape (n_sequences, n_features)

        Raises
        ------
        InvalidInputError
            If ``X`` is a scalar, or a list of sequences of different shapes
            (not aligned to one length: put an aligner first).
        """
        try:
            X = np.asarray(X)
        except ValueError:
            shapes = [np.shape(x) for x in X]
            raise InvalidInputError(
                "X must hold sequences of one shape to be flattened (align them first, "
                f"e.g. with DTWAligner); got shapes {shapes[:5]}{' ...' if len(shapes) > 5 else ''}"
            ) from None
        if X.ndim == 0:
            raise InvalidInputError(
                f"X must be a collection of sequences, got the scalar {X.item()!r}"
            )
        return X.reshape(len(X), -1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.three_d_array = True
        return tags

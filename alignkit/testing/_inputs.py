"""The three aligner families and the small, seeded input each takes.

The family is read from the aligner's class: its registry tags
(``_alignkit_tags``, see :func:`alignkit.core.registry.class_tags`) say
``"image"`` or ``"multimodal"`` (paired input); otherwise its scikit-learn
input tags decide, so that a plugin aligner that declares no registry tags
is still classified:

- ``"sequence"``: ``input_tags.two_d_array`` is True. A collection of
  sequences in (lengths differ), aligned sequences out; ``fit(X, y)`` with
  ``y`` the labels a Pipeline passes through.
- ``"image"``: tag ``"image"``, or ``input_tags.three_d_array`` without
  ``two_d_array``. A stack of images ``(n_images, channels, height,
  width)``; an aligner with ``predict`` is a classifier fitted on labels,
  one without is a registration transformer fitted on the images alone.
- ``"paired"``: tag ``"multimodal"``, or neither input tag. A list of
  ``(a, b)`` pairs whose two sides differ in length and in channel count;
  ``fit(X)`` without ``y``.

The inputs are tiny and seeded, so that the whole contract of a learned
aligner runs in about a second.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import clone
from sklearn.utils import get_tags

from ..core.registry import class_tags

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

__all__ = ["CheckInput", "aligner_family", "make_check_input", "seeded_clone"]

# Methods whose output a fitted aligner must reproduce (after pickling, on
# read-only input, when refitted), in this order, where the family offers them.
_OUTPUT_METHODS = {
    "sequence": ("transform",),
    "paired": ("transform", "score"),
    "image": ("transform", "predict", "predict_proba"),
}


def aligner_family(aligner: "BaseEstimator") -> str:
    """The family of an aligner, read from its class's registry and input tags.

    Parameters
    ----------
    aligner : estimator
        An aligner instance.

    Returns
    -------
    family : {"sequence", "paired", "image"}
        ``"image"`` for the registry tag ``"image"``, ``"paired"`` for
        ``"multimodal"``; without either, ``"sequence"`` when
        ``input_tags.two_d_array`` is set (collections of sequences),
        ``"image"`` when only ``input_tags.three_d_array`` is (stacks of
        images), ``"paired"`` otherwise (lists of ``(a, b)`` pairs).

    Examples
    --------
    >>> from alignkit import CTWAligner, DTWAligner, STNAligner
    >>> from alignkit.testing import aligner_family
    >>> [aligner_family(a) for a in (DTWAligner(), CTWAligner(), STNAligner())]
    ['sequence', 'paired', 'image']
    """
    declared = class_tags(type(aligner))
    if "image" in declared:
        return "image"
    if "multimodal" in declared:
        return "paired"
    input_tags = get_tags(aligner).input_tags
    if input_tags.two_d_array:
        return "sequence"
    if input_tags.three_d_array:
        return "image"
    return "paired"


@dataclass(frozen=True)
class CheckInput:
    """What the checks feed one aligner: built by :func:`make_check_input`.

    Parameters
    ----------
    family : {"sequence", "paired", "image"}
        The aligner's family (:func:`aligner_family`).
    X : list or ndarray
        What ``fit``, ``transform`` and the other fitted methods take.
    y : ndarray or None
        The labels ``fit`` takes, or None.
    pair : tuple of ndarray or None
        Two sequences of different lengths for ``align``, or None for images.
    output_methods : tuple of str
        The methods whose outputs the checks compare, in order.
    """

    family: str
    X: object
    y: object
    pair: tuple
    output_methods: tuple

    def fit(self, estimator: "BaseEstimator") -> Any:
        """Fit ``estimator`` on this input.

        Parameters
        ----------
        estimator : estimator
            The aligner to fit.

        Returns
        -------
        fitted : object
            What ``fit`` returned (``estimator`` itself for a correct aligner).
        """
        if self.y is None:
            return estimator.fit(self.X)
        return estimator.fit(self.X, self.y)

    def fitted_clone(self, aligner: "BaseEstimator") -> "BaseEstimator":
        """A ``seeded_clone`` of ``aligner``, fitted on this input.

        Parameters
        ----------
        aligner : estimator
            The aligner to clone; it is not modified.

        Returns
        -------
        estimator : estimator
            The fitted clone.
        """
        estimator = seeded_clone(aligner)
        self.fit(estimator)
        return estimator

    def outputs(self, estimator: "BaseEstimator", X: Any = None) -> dict[str, Any]:
        """The outputs of a fitted aligner on ``X`` (default: this input's ``X``).

        Parameters
        ----------
        estimator : estimator
            A fitted aligner.
        X : list or ndarray, default=None
            Input of the same family, for example a read-only copy.

        Returns
        -------
        outputs : dict
            Method name to output, for each of ``output_methods``.
        """
        X = self.X if X is None else X
        results = {}
        for method in self.output_methods:
            if method == "score" and self.y is not None:
                results[method] = estimator.score(X, self.y)
            else:
                results[method] = getattr(estimator, method)(X)
        return results


def _sequences(n_channels, random_state):
    from ..datasets._sequences import make_warped_collection

    X, y = make_warped_collection(n_sequences=8, n_timepoints=(15, 25), random_state=random_state)
    if n_channels == 1:
        return X, y
    rng = np.random.default_rng(random_state)
    # Extra channels that follow the first one, so a shared warp still explains them.
    return [
        np.hstack(
            [s]
            + [np.sin((k + 1) * s) + 0.05 * rng.normal(size=s.shape) for k in range(n_channels - 1)]
        )
        for s in X
    ], y


def _pairs():
    from ..datasets._sequences import make_nonlinear_views

    pairs, _ = make_nonlinear_views(
        n_pairs=6, n_timepoints=24, n_channels=(2, 3), n_noise=0, noise=0.1, random_state=0
    )
    return [(np.ascontiguousarray(a), np.ascontiguousarray(b)) for a, b in pairs]


def _images():
    from ..datasets._images import make_digit_canvas

    canvas = make_digit_canvas(24, kind="T", digit_size=8, n_clutter=1, random_state=1)
    images = np.ascontiguousarray(canvas.images[:, None], dtype=np.float64)
    # Two classes (the digit's parity), so that every split of the few images keeps both.
    labels = (canvas.labels % 2).astype(np.int64)
    return images, labels


def make_check_input(aligner: "BaseEstimator", multivariate: bool = False) -> CheckInput:
    """The input the checks feed ``aligner``, chosen by its family.

    Parameters
    ----------
    aligner : estimator
        An aligner instance.
    multivariate : bool, default=False
        Sequence family only: sequences of three channels instead of one.

    Returns
    -------
    check_input : CheckInput
        Eight sequences of 15 to 25 timepoints with two classes; six
        ``(a, b)`` pairs of 2 and 3 channels and different lengths; or 24
        one-channel 20 x 20 images, with two classes for an aligner that
        has ``predict``.

    Examples
    --------
    >>> from alignkit import CTWAligner
    >>> from alignkit.testing import make_check_input
    >>> data = make_check_input(CTWAligner())
    >>> data.family, len(data.X), data.X[0][0].shape[1], data.X[0][1].shape[1]
    ('paired', 6, 2, 3)
    """
    family = aligner_family(aligner)
    methods = tuple(m for m in _OUTPUT_METHODS[family] if callable(getattr(aligner, m, None)))
    if family == "sequence":
        X, y = _sequences(3 if multivariate else 1, random_state=0)
        pair = next((s, t) for s in X for t in X if len(s) != len(t))
        return CheckInput(family, X, y, pair, methods)
    if family == "paired":
        X = _pairs()
        pair = next((a, b) for a, b in X if len(a) != len(b))
        return CheckInput(family, X, None, pair, methods)
    images, labels = _images()
    y = labels if callable(getattr(aligner, "predict", None)) else None
    return CheckInput(family, images, y, None, methods)


def seeded_clone(aligner: "BaseEstimator") -> "BaseEstimator":
    """An unfitted clone of ``aligner``, with ``random_state=0`` where it was None.

    Parameters
    ----------
    aligner : estimator
        An aligner instance.

    Returns
    -------
    clone : estimator
        Two fits of the clone on the same input must give the same results.
    """
    estimator = clone(aligner)
    if "random_state" in estimator.get_params(deep=False) and estimator.random_state is None:
        estimator.set_params(random_state=0)
    return estimator

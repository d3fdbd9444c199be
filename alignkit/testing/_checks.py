"""Checks of parameters, ``align``, ``transform``, Pipelines and NaN input.

See :func:`alignkit.testing.check_aligner`. Each check takes one aligner
instance, works on clones, and raises AssertionError naming the aligner and
the check.
"""

from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import clone, is_classifier

from ..core.results import Alignment
from ..exceptions import InvalidInputError
from ._inputs import make_check_input, seeded_clone
from ._report import aligner_check, expect_error, require

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

__all__ = [
    "check_get_params_clone",
    "check_fit_transform",
    "check_align",
    "check_pipeline",
    "check_rejects_nan",
    "check_classifier",
]

_STEPS = {(1, 0), (0, 1), (1, 1)}


def _same_value(left, right):
    if hasattr(left, "get_params") and not isinstance(left, type):
        # clone copies nested estimators, so compare them by type and parameters.
        return type(left) is type(right) and not _changed(
            left.get_params(deep=False), right.get_params(deep=False)
        )
    if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
        return np.array_equal(left, right)
    try:
        return bool(left is right or left == right)
    except (TypeError, ValueError):  # ambiguous comparisons count as changes
        return False


def _changed(params, other):
    if set(params) != set(other):
        return sorted(set(params) ^ set(other))
    return [key for key in params if not _same_value(params[key], other[key])]


@aligner_check
def check_get_params_clone(aligner: "BaseEstimator") -> None:
    """``get_params`` rebuilds an equal aligner; ``clone`` and ``set_params`` keep every parameter.

    Parameters
    ----------
    aligner : estimator
        An aligner instance; it is not modified.

    Examples
    --------
    >>> from alignkit import UniformAligner
    >>> from alignkit.testing import check_get_params_clone
    >>> check_get_params_clone(UniformAligner(n_timepoints=30))
    """
    name = "check_get_params_clone"
    params = aligner.get_params(deep=False)
    # Rebuilt first: an __init__ that alters its parameters then fails here, not in clone.
    for how in ("rebuilt", "clone"):
        copy = type(aligner)(**params) if how == "rebuilt" else clone(aligner)
        require(type(copy) is type(aligner), aligner, name, f"{how} copy has type {type(copy)}")
        changed = _changed(params, copy.get_params(deep=False))
        require(not changed, aligner, name, f"{how} copy changed parameter(s) {changed}")
    copy = type(aligner)()
    require(copy.set_params(**params) is copy, aligner, name, "set_params must return self")
    changed = _changed(params, copy.get_params(deep=False))
    require(not changed, aligner, name, f"set_params round trip changed parameter(s) {changed}")


@aligner_check
def check_fit_transform(aligner: "BaseEstimator") -> None:
    """``fit`` returns self; ``transform`` gives one common timeline as a 3-D float array.

    Sequence aligners only. On univariate and on three-channel collections
    of different lengths the output must have shape ``(n_sequences,
    n_timepoints, n_channels)``, be finite floats, and keep ``n_timepoints``
    when another collection is transformed.

    Parameters
    ----------
    aligner : estimator
        A sequence aligner instance; clones are fitted.

    Examples
    --------
    >>> from alignkit import UniformAligner
    >>> from alignkit.testing import check_fit_transform
    >>> check_fit_transform(UniformAligner())
    """
    name = "check_fit_transform"
    for n_channels in (1, 3):
        data = make_check_input(aligner, multivariate=n_channels > 1)
        X = data.X
        estimator = seeded_clone(aligner)
        require(data.fit(estimator) is estimator, aligner, name, "fit must return self")
        X_aligned = estimator.transform(X)
        require(isinstance(X_aligned, np.ndarray), aligner, name, "transform must return ndarray")
        require(
            X_aligned.ndim == 3 and X_aligned.shape[::2] == (len(X), n_channels),
            aligner,
            name,
            f"transform of {len(X)} sequences of {n_channels} channel(s) gave shape "
            f"{X_aligned.shape}, expected ({len(X)}, n_timepoints, {n_channels})",
        )
        require(
            np.issubdtype(X_aligned.dtype, np.floating), aligner, name, f"dtype {X_aligned.dtype}"
        )
        require(np.isfinite(X_aligned).all(), aligner, name, "transform output holds NaN or inf")
        # Their longest, shortest and median lengths all differ from the whole collection's.
        subset = estimator.transform(X[4:6])
        require(
            subset.shape == (2, X_aligned.shape[1], n_channels),
            aligner,
            name,
            f"transform of 2 of the sequences gave shape {subset.shape}, expected "
            f"(2, {X_aligned.shape[1]}, {n_channels}): the common timeline must not depend on "
            "the input",
        )


@aligner_check
def check_align(aligner: "BaseEstimator") -> None:
    """``align(a, b)`` after ``fit`` returns a valid :class:`~alignkit.Alignment`.

    ``a`` and ``b`` differ in length (and, for paired aligners, in channel
    count). The path is int64 of shape ``(path_length, 2)``, starts at
    ``(0, 0)``, ends at ``(n - 1, m - 1)`` and moves by ``(1, 0)``,
    ``(0, 1)`` or ``(1, 1)``; ``shape`` is ``(n, m)``; the distance is
    finite and non-negative.

    Parameters
    ----------
    aligner : estimator
        A sequence or paired aligner instance; a clone is fitted first.

    Examples
    --------
    >>> from alignkit import DTWAligner
    >>> from alignkit.testing import check_align
    >>> check_align(DTWAligner(window=0.2))
    """
    name = "check_align"
    data = make_check_input(aligner)
    estimator = data.fitted_clone(aligner)
    a, b = data.pair
    alignment = estimator.align(a, b)
    require(isinstance(alignment, Alignment), aligner, name, "align must return an Alignment")
    path = alignment.path
    require(
        isinstance(path, np.ndarray) and path.dtype == np.int64, aligner, name, "path must be int64"
    )
    require(
        path.ndim == 2 and path.shape[1] == 2 and len(path) > 0,
        aligner,
        name,
        f"path has shape {path.shape}, expected (path_length, 2)",
    )
    ends = (tuple(path[0].tolist()), tuple(path[-1].tolist()))
    expected = ((0, 0), (len(a) - 1, len(b) - 1))
    require(
        ends == expected,
        aligner,
        name,
        f"path runs {ends[0]} -> {ends[1]}, expected {expected[0]} -> {expected[1]}",
    )
    bad = {tuple(step) for step in np.diff(path, axis=0).tolist()} - _STEPS
    require(not bad, aligner, name, f"path takes steps {sorted(bad)}; allowed: {sorted(_STEPS)}")
    require(
        tuple(alignment.shape) == (len(a), len(b)),
        aligner,
        name,
        f"shape is {alignment.shape}, expected {(len(a), len(b))}",
    )
    distance = alignment.distance
    require(np.isfinite(distance) and distance >= 0, aligner, name, f"distance is {distance}")


@aligner_check
def check_pipeline(aligner: "BaseEstimator") -> None:
    """The aligner stands first in a Pipeline: aligner, Flatten, LogisticRegression.

    Sequence aligners only.

    Parameters
    ----------
    aligner : estimator
        A sequence aligner instance; a clone is used.

    Examples
    --------
    >>> from alignkit import UniformAligner
    >>> from alignkit.testing import check_pipeline
    >>> check_pipeline(UniformAligner())
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from ..preprocessing import Flatten

    name = "check_pipeline"
    data = make_check_input(aligner)
    pipeline = Pipeline(
        [("align", seeded_clone(aligner)), ("flat", Flatten()), ("classify", LogisticRegression())]
    )
    predicted = pipeline.fit(data.X, data.y).predict(data.X)
    shape = predicted.shape
    require(shape == (len(data.X),), aligner, name, f"Pipeline predicted shape {shape}")
    require(set(predicted) <= set(data.y), aligner, name, "Pipeline predicted labels not in y")


def _with_nan(data):
    """A copy of the input with one NaN in its second sample (in ``a`` for pairs)."""
    if data.family == "image":
        images = data.X.copy()
        images[1, 0, images.shape[2] // 2, images.shape[3] // 2] = np.nan
        return images
    if data.family == "paired":
        pairs = [(a.copy(), b.copy()) for a, b in data.X]
        pairs[1][0][len(pairs[1][0]) // 2, 0] = np.nan
        return pairs
    sequences = [sequence.copy() for sequence in data.X]
    sequences[1][len(sequences[1]) // 2, 0] = np.nan
    return sequences


@aligner_check
def check_rejects_nan(aligner: "BaseEstimator") -> None:
    """``fit``, ``transform``, ``predict`` and ``align`` reject input holding NaN.

    Each must raise :class:`~alignkit.exceptions.InvalidInputError`; the
    NaN is in one sequence, in one side of one pair, or in one pixel.

    Parameters
    ----------
    aligner : estimator
        An aligner instance; clones are used.

    Examples
    --------
    >>> from alignkit import UniformAligner
    >>> from alignkit.testing import check_rejects_nan
    >>> check_rejects_nan(UniformAligner())
    """
    data = make_check_input(aligner)
    X_nan = _with_nan(data)

    def fit_nan():
        estimator = seeded_clone(aligner)
        return estimator.fit(X_nan) if data.y is None else estimator.fit(X_nan, data.y)

    name = "check_rejects_nan"
    expect_error(aligner, name, InvalidInputError, "fit with a NaN", fit_nan)
    fitted = data.fitted_clone(aligner)
    for method in data.output_methods:
        if method != "score":
            apply = getattr(fitted, method)
            expect_error(aligner, name, InvalidInputError, f"{method} with a NaN", apply, X_nan)
    if data.pair is not None:
        a_nan = X_nan[1][0] if data.family == "paired" else X_nan[1]
        expect_error(
            aligner, name, InvalidInputError, "align with a NaN", fitted.align, a_nan, data.pair[1]
        )


@aligner_check
def check_classifier(aligner: "BaseEstimator") -> None:
    """An image aligner that predicts labels is a scikit-learn classifier.

    ``is_classifier`` is True; after ``fit``, ``classes_`` holds the sorted
    labels; ``predict`` returns one of them per image; ``predict_proba``,
    where present, has one row per image that sums to 1 and whose largest
    entry is the predicted class; ``score`` is the accuracy of ``predict``.

    Parameters
    ----------
    aligner : estimator
        An image aligner with ``predict``; a clone is fitted.

    Examples
    --------
    >>> from alignkit import GlimpseAligner
    >>> from alignkit.testing import check_classifier
    >>> check_classifier(GlimpseAligner(n_glimpses=2, max_epochs=1))
    """
    name = "check_classifier"
    require(is_classifier(aligner), aligner, name, "is_classifier is False; use ClassifierMixin")
    data = make_check_input(aligner)
    estimator = data.fitted_clone(aligner)
    classes = getattr(estimator, "classes_", None)
    require(
        classes is not None and np.array_equal(classes, np.unique(data.y)),
        aligner,
        name,
        f"classes_ is {classes!r}, expected the sorted labels {np.unique(data.y)!r}",
    )
    predicted = np.asarray(estimator.predict(data.X))
    require(
        predicted.shape == (len(data.X),) and set(predicted.tolist()) <= set(classes.tolist()),
        aligner,
        name,
        f"predict gave shape {predicted.shape} with labels {sorted(set(predicted.tolist()))}",
    )
    if callable(getattr(estimator, "predict_proba", None)):
        proba = np.asarray(estimator.predict_proba(data.X))
        require(
            proba.shape == (len(data.X), len(classes)) and np.allclose(proba.sum(axis=1), 1.0),
            aligner,
            name,
            f"predict_proba gave shape {proba.shape}, rows summing to {proba.sum(axis=1)[:3]}...",
        )
        agree = np.array_equal(classes[np.argmax(proba, axis=1)], predicted)
        require(agree, aligner, name, "predict is not the most probable class of predict_proba")
    accuracy = float(np.mean(predicted == data.y))
    score = estimator.score(data.X, data.y)
    require(np.isclose(score, accuracy), aligner, name, f"score is {score}, accuracy is {accuracy}")

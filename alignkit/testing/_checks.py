"""The aligner contract, one check per function (see :func:`alignkit.testing.check_aligner`)."""

import pickle

import numpy as np
from sklearn.base import clone

from ..core.results import Alignment
from ..exceptions import InvalidInputError

__all__ = [
    "check_get_params_clone",
    "check_fit_transform",
    "check_align",
    "check_pickle",
    "check_pipeline",
    "check_rejects_nan",
    "ALIGNER_CHECKS",
]

_STEPS = {(1, 0), (0, 1), (1, 1)}


def _name(aligner):
    return type(aligner).__name__


def _require(condition, aligner, message):
    # An explicit raise, not assert: the checks must also run under python -O.
    if not condition:
        raise AssertionError(f"{_name(aligner)}: {message}")


def _collection():
    """Eight univariate sequences of lengths 15..25, two classes, fixed seed."""
    from ..datasets._sequences import make_warped_collection

    return make_warped_collection(n_sequences=8, n_timepoints=(15, 25), random_state=0)


def _expect_invalid_input(aligner, action, what):
    try:
        action()
    except InvalidInputError:
        return
    except Exception as error:
        raise AssertionError(
            f"{_name(aligner)}: {what} raised {type(error).__name__} ({error}); "
            "expected alignkit.exceptions.InvalidInputError"
        ) from error
    raise AssertionError(f"{_name(aligner)}: {what} did not raise InvalidInputError")


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


def check_get_params_clone(aligner):
    """``get_params`` rebuilds an equal aligner, and ``clone`` keeps every parameter.

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
    params = aligner.get_params(deep=False)
    # Rebuilt first: an __init__ that alters its parameters then fails here, not in clone.
    for how in ("rebuilt", "clone"):
        copy = type(aligner)(**params) if how == "rebuilt" else clone(aligner)
        _require(type(copy) is type(aligner), aligner, f"{how} copy has type {_name(copy)}")
        changed = _changed(params, copy.get_params(deep=False))
        _require(not changed, aligner, f"{how} copy changed parameter(s) {changed}")
    copy = clone(aligner)
    _require(copy.set_params(**params) is copy, aligner, "set_params must return self")


def check_fit_transform(aligner):
    """``fit`` returns self; ``transform`` gives one common timeline as a 3-D float array.

    The collection holds univariate sequences of different lengths. The
    output must have shape ``(n_sequences, n_timepoints, 1)``, be finite
    floats, and keep ``n_timepoints`` when another collection is
    transformed.

    Parameters
    ----------
    aligner : estimator
        An aligner instance; a clone is fitted.

    Examples
    --------
    >>> from alignkit import UniformAligner
    >>> from alignkit.testing import check_fit_transform
    >>> check_fit_transform(UniformAligner())
    """
    X, y = _collection()
    estimator = clone(aligner)
    _require(estimator.fit(X, y) is estimator, aligner, "fit must return self")
    X_aligned = estimator.transform(X)
    _require(isinstance(X_aligned, np.ndarray), aligner, "transform must return an ndarray")
    _require(
        X_aligned.ndim == 3 and X_aligned.shape[0] == len(X) and X_aligned.shape[2] == 1,
        aligner,
        f"transform of {len(X)} univariate sequences gave shape {X_aligned.shape}, expected "
        f"({len(X)}, n_timepoints, 1)",
    )
    _require(np.issubdtype(X_aligned.dtype, np.floating), aligner, f"dtype is {X_aligned.dtype}")
    _require(np.isfinite(X_aligned).all(), aligner, "transform output holds NaN or inf")
    # Their longest, shortest and median lengths all differ from the whole collection's.
    subset = estimator.transform(X[4:6])
    _require(
        subset.shape == (2, X_aligned.shape[1], 1),
        aligner,
        f"transform of 2 of the sequences gave shape {subset.shape}, expected "
        f"(2, {X_aligned.shape[1]}, 1): the common timeline must not depend on the input",
    )


def check_align(aligner):
    """``align(a, b)`` returns a valid :class:`~alignkit.Alignment` for unequal lengths.

    The path is int64 of shape ``(path_length, 2)``, starts at ``(0, 0)``,
    ends at ``(n - 1, m - 1)`` and moves by ``(1, 0)``, ``(0, 1)`` or
    ``(1, 1)``; the distance is finite and non-negative.

    Parameters
    ----------
    aligner : estimator
        An aligner instance; a clone is fitted first.

    Examples
    --------
    >>> from alignkit import DTWAligner
    >>> from alignkit.testing import check_align
    >>> check_align(DTWAligner(window=0.2))
    """
    X, y = _collection()
    a, b = next((s, t) for s in X for t in X if len(s) != len(t))
    alignment = clone(aligner).fit(X, y).align(a, b)
    _require(isinstance(alignment, Alignment), aligner, "align must return an Alignment")
    path = alignment.path
    _require(isinstance(path, np.ndarray) and path.dtype == np.int64, aligner, "path must be int64")
    _require(
        path.ndim == 2 and path.shape[1] == 2 and len(path) > 0,
        aligner,
        f"path has shape {path.shape}, expected (path_length, 2)",
    )
    ends = (tuple(path[0].tolist()), tuple(path[-1].tolist()))
    expected = ((0, 0), (len(a) - 1, len(b) - 1))
    _require(
        ends == expected,
        aligner,
        f"path runs {ends[0]} -> {ends[1]}, expected {expected[0]} -> {expected[1]}",
    )
    bad = {tuple(step) for step in np.diff(path, axis=0).tolist()} - _STEPS
    _require(not bad, aligner, f"path takes steps {sorted(bad)}; allowed: {sorted(_STEPS)}")
    distance = alignment.distance
    _require(np.isfinite(distance) and distance >= 0, aligner, f"distance is {distance}")


def check_pickle(aligner):
    """A fitted aligner survives a pickle round trip with the same ``transform``.

    Parameters
    ----------
    aligner : estimator
        An aligner instance; a clone is fitted.

    Examples
    --------
    >>> from alignkit import UniformAligner
    >>> from alignkit.testing import check_pickle
    >>> check_pickle(UniformAligner())
    """
    X, y = _collection()
    estimator = clone(aligner).fit(X, y)
    restored = pickle.loads(pickle.dumps(estimator))
    _require(type(restored) is type(estimator), aligner, "unpickled object changed type")
    try:
        np.testing.assert_allclose(
            restored.transform(X), estimator.transform(X), rtol=1e-7, atol=1e-10
        )
    except AssertionError as error:
        raise AssertionError(f"{_name(aligner)}: unpickled transform differs: {error}") from None


def check_pipeline(aligner):
    """The aligner stands first in a Pipeline: aligner, Flatten, LogisticRegression.

    Parameters
    ----------
    aligner : estimator
        An aligner instance; a clone is used.

    Examples
    --------
    >>> from alignkit import UniformAligner
    >>> from alignkit.testing import check_pipeline
    >>> check_pipeline(UniformAligner())
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from ..preprocessing import Flatten

    X, y = _collection()
    pipeline = Pipeline(
        [("align", clone(aligner)), ("flatten", Flatten()), ("classify", LogisticRegression())]
    )
    predicted = pipeline.fit(X, y).predict(X)
    _require(predicted.shape == (len(X),), aligner, f"Pipeline predicted {predicted.shape}")
    _require(set(predicted) <= set(y), aligner, "Pipeline predicted labels not in y")


def check_rejects_nan(aligner):
    """``fit``, ``transform`` and ``align`` reject a sequence holding NaN.

    Each must raise :class:`~alignkit.exceptions.InvalidInputError`.

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
    X, y = _collection()
    X_nan = [sequence.copy() for sequence in X]
    X_nan[1][len(X_nan[1]) // 2, 0] = np.nan
    _expect_invalid_input(aligner, lambda: clone(aligner).fit(X_nan, y), "fit with a NaN")
    fitted = clone(aligner).fit(X, y)
    _expect_invalid_input(aligner, lambda: fitted.transform(X_nan), "transform with a NaN")
    _expect_invalid_input(aligner, lambda: fitted.align(X_nan[1], X[0]), "align with a NaN")


ALIGNER_CHECKS = (
    check_get_params_clone,
    check_fit_transform,
    check_align,
    check_pickle,
    check_pipeline,
    check_rejects_nan,
)

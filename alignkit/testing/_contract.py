"""Checks of the estimator contract that every family shares.

Fit returns self and is reproducible; inputs are neither modified nor
required to be writable; a fitted aligner survives pickle and joblib; a
method that needs ``fit`` says so; ``n_jobs`` changes nothing but the speed.
Each check feeds the aligner the input of its family
(:func:`alignkit.testing.make_check_input`).
"""

import copy
import inspect
import os
import pickle
import tempfile
from typing import TYPE_CHECKING

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from ._inputs import make_check_input, seeded_clone
from ._report import (
    aligner_check,
    assert_same_outputs,
    describe_difference,
    expect_error,
    require,
)

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

__all__ = [
    "check_fit_returns_self",
    "check_fit_idempotent",
    "check_dont_overwrite_input",
    "check_readonly_memmap_input",
    "check_pickle",
    "check_not_fitted",
    "check_n_jobs_invariance",
]

# Methods that need no fitted state: construction, parameters, fitting itself,
# and align, which a sequence aligner answers from its parameters alone.
_NO_FIT_NEEDED = {"fit", "fit_transform", "fit_predict", "partial_fit", "align"}
# Methods inherited from scikit-learn that need fit; its other ones do not
# (get_params, set_output, get_metadata_routing, set_*_request...).
_SKLEARN_FITTED = {"transform", "predict", "predict_proba", "predict_log_proba", "score"}


@aligner_check
def check_fit_returns_self(aligner: "BaseEstimator") -> None:
    """``fit`` on the family's input returns the aligner itself.

    Parameters
    ----------
    aligner : estimator
        An aligner instance; a clone is fitted.

    Examples
    --------
    >>> from alignkit import UniformAligner
    >>> from alignkit.testing import check_fit_returns_self
    >>> check_fit_returns_self(UniformAligner())
    """
    estimator = seeded_clone(aligner)
    returned = make_check_input(aligner).fit(estimator)
    require(
        returned is estimator,
        aligner,
        "check_fit_returns_self",
        f"fit returned {type(returned).__name__} {returned!r:.60}, it must return self",
    )


@aligner_check
def check_fit_idempotent(aligner: "BaseEstimator") -> None:
    """Fitting twice with the same ``random_state`` gives the same outputs.

    The same aligner refitted, and a second clone fitted, must reproduce the
    first fit's outputs (``transform``, and ``predict``, ``predict_proba``
    or ``score`` where the family has them). A ``random_state`` of None is
    set to 0 first.

    Parameters
    ----------
    aligner : estimator
        An aligner instance; clones are fitted.

    Examples
    --------
    >>> from alignkit import DTWAligner
    >>> from alignkit.testing import check_fit_idempotent
    >>> check_fit_idempotent(DTWAligner(window=2))
    """
    name = "check_fit_idempotent"
    data = make_check_input(aligner)
    estimator = data.fitted_clone(aligner)
    first = data.outputs(estimator)
    data.fit(estimator)
    assert_same_outputs(aligner, name, "after a second fit,", data.outputs(estimator), first)
    other = clone(estimator)
    data.fit(other)
    assert_same_outputs(
        aligner, name, "a second aligner with the same random_state:", data.outputs(other), first
    )


@aligner_check
def check_dont_overwrite_input(aligner: "BaseEstimator") -> None:
    """``fit``, the fitted methods and ``align`` leave their input arrays unchanged.

    Parameters
    ----------
    aligner : estimator
        An aligner instance; a clone is fitted.

    Examples
    --------
    >>> from alignkit import UniformAligner
    >>> from alignkit.testing import check_dont_overwrite_input
    >>> check_dont_overwrite_input(UniformAligner())
    """
    name = "check_dont_overwrite_input"
    data = make_check_input(aligner)
    before = copy.deepcopy((data.X, data.y, data.pair))
    estimator = seeded_clone(aligner)
    steps = [("fit", lambda: data.fit(estimator))]
    steps.append((" / ".join(data.output_methods), lambda: data.outputs(estimator)))
    if data.pair is not None:
        steps.append(("align", lambda: estimator.align(*data.pair)))
    for step, run in steps:
        run()
        now = (data.X, data.y, data.pair)
        for what, current, original in zip(("X", "y", "the align pair"), now, before):
            _require_identical(aligner, name, current, original, f"{step} modified {what}")


def _require_identical(aligner, name, value, original, message):
    """Require ``value`` to equal ``original`` exactly; ``message`` begins the failure's text."""
    problem = describe_difference(value, original, rtol=0, atol=0)
    require(problem is None, aligner, name, f"{message}: {problem}")


def _arrays(value):
    """Every ndarray inside nested lists and tuples."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, (list, tuple)):
        return [array for item in value for array in _arrays(item)]
    return []


@aligner_check
def check_readonly_memmap_input(aligner: "BaseEstimator") -> None:
    """Read-only memory-mapped input (``joblib.load(..., mmap_mode="r")``) works.

    ``fit``, the fitted methods and ``align`` on memory-mapped copies of the
    input (what joblib workers receive) give the same outputs as on the
    in-memory input.

    Parameters
    ----------
    aligner : estimator
        An aligner instance; clones are fitted.

    Examples
    --------
    >>> from alignkit import UniformAligner
    >>> from alignkit.testing import check_readonly_memmap_input
    >>> check_readonly_memmap_input(UniformAligner())
    """
    name = "check_readonly_memmap_input"
    data = make_check_input(aligner)
    expected = data.fitted_clone(aligner)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "input.joblib")
        joblib.dump((data.X, data.y, data.pair), path)
        X, y, pair = joblib.load(path, mmap_mode="r")
        arrays = _arrays((X, y, pair))
        mapped = all(isinstance(a, np.memmap) and not a.flags.writeable for a in arrays)
        require(mapped, aligner, name, "joblib did not memory-map the input read-only")
        estimator = seeded_clone(aligner)
        estimator.fit(X) if y is None else estimator.fit(X, y)
        assert_same_outputs(
            aligner,
            name,
            "fitted and applied on read-only memory maps,",
            data.outputs(estimator, X),
            data.outputs(expected),
        )
        if pair is not None:
            path, expected_path = estimator.align(*pair).path, expected.align(*data.pair).path
            _require_identical(aligner, name, path, expected_path, "align of memory maps differs")
        del X, y, pair, arrays, estimator  # release the maps before the folder is removed


@aligner_check
def check_pickle(aligner: "BaseEstimator") -> None:
    """A fitted aligner gives the same outputs after pickle and after ``joblib.dump``/``load``.

    The outputs compared are ``transform`` (and ``predict``,
    ``predict_proba`` or ``score`` where the family has them) and the path
    of ``align``.

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
    name = "check_pickle"
    data = make_check_input(aligner)
    estimator = data.fitted_clone(aligner)
    expected = data.outputs(estimator)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "aligner.joblib")
        joblib.dump(estimator, path)
        restored = {
            "unpickled": pickle.loads(pickle.dumps(estimator)),
            "joblib-loaded": joblib.load(path),
        }
    for how, loaded in restored.items():
        require(type(loaded) is type(estimator), aligner, name, f"{how} object changed type")
        assert_same_outputs(aligner, name, how, data.outputs(loaded), expected)
        if data.pair is not None:
            path, expected_path = (e.align(*data.pair).path for e in (loaded, estimator))
            _require_identical(aligner, name, path, expected_path, f"{how} align path differs")


def _fitted_methods(aligner):
    """Public methods of the aligner that need a fitted model."""
    names = []
    for attribute in dir(type(aligner)):
        if attribute.startswith("_") or attribute in _NO_FIT_NEEDED:
            continue
        owner = next(c for c in type(aligner).__mro__ if attribute in vars(c))
        if isinstance(vars(owner)[attribute], (property, classmethod, staticmethod)):
            continue
        try:
            bound = getattr(aligner, attribute)
        except AttributeError:  # hidden by available_if in this configuration
            continue
        if not inspect.ismethod(bound):
            continue
        from_sklearn = owner.__module__.split(".")[0] == "sklearn"
        if (from_sklearn and attribute in _SKLEARN_FITTED) or not (
            from_sklearn or attribute.startswith(("get_", "set_"))
        ):
            names.append(attribute)
    return names


@aligner_check
def check_not_fitted(aligner: "BaseEstimator") -> None:
    """Every public method that needs ``fit`` raises ``NotFittedError`` before it.

    The methods are the aligner's own public methods (``transform``,
    ``predict``, ``score``, ``align_pairs``...), except ``fit*``,
    ``get_*``/``set_*`` and ``align``, which a sequence aligner answers from
    its parameters alone.

    Parameters
    ----------
    aligner : estimator
        An aligner instance; an unfitted clone is used.

    Examples
    --------
    >>> from alignkit import DTWAligner
    >>> from alignkit.testing import check_not_fitted
    >>> check_not_fitted(DTWAligner())
    """
    name = "check_not_fitted"
    data = make_check_input(aligner)
    estimator = clone(aligner)
    for method in _fitted_methods(estimator):
        bound = getattr(estimator, method)
        parameters = list(inspect.signature(bound).parameters.values())
        args = [data.X] if parameters else []
        if len(parameters) > 1 and parameters[1].name == "y":
            args.append(data.y)
        expect_error(aligner, name, NotFittedError, f"{method} before fit", bound, *args)


@aligner_check
def check_n_jobs_invariance(aligner: "BaseEstimator") -> None:
    """``n_jobs`` of None, 1 and 2 give the same outputs.

    Only for aligners with an ``n_jobs`` parameter.

    Parameters
    ----------
    aligner : estimator
        An aligner instance with ``n_jobs``; clones are fitted.

    Examples
    --------
    >>> from alignkit import DTWAligner
    >>> from alignkit.testing import check_n_jobs_invariance
    >>> check_n_jobs_invariance(DTWAligner(window=2))
    """
    name = "check_n_jobs_invariance"
    require("n_jobs" in aligner.get_params(deep=False), aligner, name, "the aligner has no n_jobs")
    data = make_check_input(aligner)
    serial = seeded_clone(aligner).set_params(n_jobs=None)
    data.fit(serial)
    expected = data.outputs(serial)
    for n_jobs in (1, 2):
        estimator = seeded_clone(aligner).set_params(n_jobs=n_jobs)
        data.fit(estimator)
        outputs = data.outputs(estimator)
        assert_same_outputs(aligner, name, f"with n_jobs={n_jobs},", outputs, expected)

"""Contract checks for aligners, for plugin authors and alignkit's own tests.

:func:`check_aligner` runs every check that applies to one aligner;
:func:`aligner_checks_generator` yields them one by one and
:func:`parametrize_with_aligner_checks` turns them into one pytest test per
(aligner, check) pair, like scikit-learn's ``check_estimator`` and
``parametrize_with_checks``. The checks complement scikit-learn's, which do
not know about collections of sequences of different lengths, lists of
``(a, b)`` pairs, images, or :meth:`align`.

Each aligner is fed the small input of its family (:func:`aligner_family`,
read from its scikit-learn input tags; :func:`make_check_input`):

- every family: :func:`check_get_params_clone`, :func:`check_fit_returns_self`,
  :func:`check_fit_idempotent`, :func:`check_dont_overwrite_input`,
  :func:`check_readonly_memmap_input`, :func:`check_pickle`,
  :func:`check_not_fitted`, :func:`check_rejects_nan`, and
  :func:`check_n_jobs_invariance` where the aligner has ``n_jobs``;
- sequence aligners: :func:`check_fit_transform`, :func:`check_align`,
  :func:`check_pipeline`;
- paired aligners: :func:`check_align`;
- image aligners that predict labels: :func:`check_classifier`.

A failing check raises :class:`AssertionError` whose message names the
aligner and the check.
"""

import inspect
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import (
    _same_value,
    check_align,
    check_classifier,
    check_fit_transform,
    check_get_params_clone,
    check_pipeline,
    check_rejects_nan,
)
from ._contract import (
    check_dont_overwrite_input,
    check_fit_idempotent,
    check_fit_returns_self,
    check_n_jobs_invariance,
    check_not_fitted,
    check_pickle,
    check_readonly_memmap_input,
)
from ._inputs import CheckInput, aligner_family, make_check_input

if TYPE_CHECKING:
    import pytest
    from sklearn.base import BaseEstimator

__all__ = [
    "CheckInput",
    "aligner_checks_generator",
    "aligner_family",
    "check_align",
    "check_aligner",
    "check_classifier",
    "check_dont_overwrite_input",
    "check_fit_idempotent",
    "check_fit_returns_self",
    "check_fit_transform",
    "check_get_params_clone",
    "check_n_jobs_invariance",
    "check_not_fitted",
    "check_pickle",
    "check_pipeline",
    "check_readonly_memmap_input",
    "check_rejects_nan",
    "make_check_input",
    "parametrize_with_aligner_checks",
]

_COMMON_CHECKS = (
    check_get_params_clone,
    check_fit_returns_self,
    check_fit_idempotent,
    check_dont_overwrite_input,
    check_readonly_memmap_input,
    check_pickle,
    check_not_fitted,
)
_FAMILY_CHECKS = {
    "sequence": (check_fit_transform, check_align, check_pipeline, check_rejects_nan),
    "paired": (check_align, check_rejects_nan),
    "image": (check_rejects_nan,),
}


def _check_instance(aligner):
    if isinstance(aligner, type):
        raise TypeError(
            f"pass an aligner instance, not the class {aligner.__name__} "
            f"(write {aligner.__name__}())"
        )
    if not callable(getattr(aligner, "fit", None)):
        raise TypeError(f"{aligner!r} is not an estimator (it has no fit method)")


def _checks_for(aligner):
    family = aligner_family(aligner)
    checks = _COMMON_CHECKS + _FAMILY_CHECKS[family]
    if family == "image" and callable(getattr(aligner, "predict", None)):
        checks += (check_classifier,)
    if "n_jobs" in aligner.get_params(deep=False):
        checks += (check_n_jobs_invariance,)
    return checks


def _aligner_id(aligner):
    """The changed-parameters repr without whitespace, as scikit-learn's test ids.

    Arrays are shown by their shape only, so that a template image does not
    fill the test id.
    """
    defaults = inspect.signature(type(aligner)).parameters
    shown = []
    for key, value in aligner.get_params(deep=False).items():
        default = defaults[key].default if key in defaults else inspect.Parameter.empty
        if default is not inspect.Parameter.empty and _same_value(value, default):
            continue
        text = f"array{value.shape}" if isinstance(value, np.ndarray) else repr(value)
        shown.append(f"{key}={text}")
    return re.sub(r"\s", "", f"{type(aligner).__name__}({','.join(shown)})")


def aligner_checks_generator(
    aligner: "BaseEstimator",
    *,
    expected_failed_checks: dict[str, str] | None = None,
    mark: str | None = None,
) -> Iterator[tuple[Any, Callable[..., None]]]:
    """Yield ``(aligner, check)`` for every check that applies to ``aligner``.

    The alignkit counterpart of scikit-learn's ``estimator_checks_generator``
    (``check_estimator(generate_only=True)`` in older releases): call
    ``check(aligner)`` to run one.

    Parameters
    ----------
    aligner : estimator
        An aligner instance (not a class).
    expected_failed_checks : dict, default=None
        Check name (``"check_pickle"``) to the reason it is expected to fail.
    mark : {None, "xfail", "skip"}, default=None
        What to do with an expected failure: yield it as is (None), as a
        ``pytest.param`` marked ``xfail(strict=True)`` with the reason, or
        skip it (not yielded).

    Yields
    ------
    aligner : estimator
        ``aligner`` itself (each check works on clones).
    check : callable
        ``check(aligner)`` raises AssertionError naming the aligner and the
        check when the aligner fails it.

    Examples
    --------
    >>> from alignkit import UniformAligner
    >>> from alignkit.testing import aligner_checks_generator
    >>> [check.__name__ for _, check in aligner_checks_generator(UniformAligner())][:3]
    ['check_get_params_clone', 'check_fit_returns_self', 'check_fit_idempotent']
    """
    _check_instance(aligner)
    expected = dict(expected_failed_checks or {})
    unknown = set(expected) - {check.__name__ for check in _checks_for(aligner)}
    if unknown:
        raise ValueError(
            f"expected_failed_checks names checks that do not apply to "
            f"{type(aligner).__name__}: {sorted(unknown)}"
        )
    for check in _checks_for(aligner):
        reason = expected.get(check.__name__)
        if reason is None or mark is None:
            yield aligner, check
        elif mark == "xfail":
            import pytest

            yield pytest.param(aligner, check, marks=pytest.mark.xfail(strict=True, reason=reason))
        elif mark != "skip":
            raise ValueError(f"mark must be None, 'xfail' or 'skip', got {mark!r}")


def check_aligner(
    aligner: "BaseEstimator", expected_failed_checks: dict[str, str] | None = None
) -> None:
    """Run every aligner contract check that applies to ``aligner``.

    The checks depend on the aligner's family (see :mod:`alignkit.testing`).
    ``aligner`` itself is never fitted; each check works on clones.

    Parameters
    ----------
    aligner : estimator
        An aligner instance (not a class).
    expected_failed_checks : dict, default=None
        Check name to the reason it is expected to fail; those checks are
        not run.

    Raises
    ------
    AssertionError
        At the first failing check, naming the aligner and the check.
    TypeError
        If ``aligner`` is a class or has no ``fit`` method.

    Examples
    --------
    >>> from alignkit import UniformAligner
    >>> from alignkit.testing import check_aligner
    >>> check_aligner(UniformAligner())
    """
    generated = aligner_checks_generator(
        aligner, expected_failed_checks=expected_failed_checks, mark="skip"
    )
    for estimator, check in generated:
        check(estimator)


def parametrize_with_aligner_checks(
    aligners: Sequence["BaseEstimator"],
    expected_failed_checks: Callable[["BaseEstimator"], dict[str, str]] | None = None,
) -> "pytest.MarkDecorator":
    """A pytest decorator that runs every applicable aligner check on every aligner.

    The decorated test takes two arguments, ``aligner`` and ``check``, and
    should call ``check(aligner)``. Test ids read
    ``DTWAligner(window=3)-check_align``.

    Parameters
    ----------
    aligners : list of estimator
        Aligner instances (not classes).
    expected_failed_checks : callable, default=None
        ``expected_failed_checks(aligner)`` returns a dict from check name to
        the reason that aligner is expected to fail it; those tests are
        marked ``xfail(strict=True)``, so a fixed failure is noticed.

    Returns
    -------
    decorator : pytest.mark.parametrize
        Requires pytest (imported when this function is called).

    Examples
    --------
    >>> from alignkit import DTWAligner, UniformAligner
    >>> from alignkit.testing import parametrize_with_aligner_checks
    >>> @parametrize_with_aligner_checks([DTWAligner(window=3), UniformAligner()])
    ... def test_aligner_contract(aligner, check):
    ...     check(aligner)
    """
    import pytest

    aligners = list(aligners)
    for aligner in aligners:
        _check_instance(aligner)
    cases, ids = [], []
    for aligner in aligners:
        expected = expected_failed_checks(aligner) if expected_failed_checks else None
        for case in aligner_checks_generator(
            aligner, expected_failed_checks=expected, mark="xfail"
        ):
            check = case.values[1] if hasattr(case, "values") else case[1]
            cases.append(case)
            ids.append(f"{_aligner_id(aligner)}-{check.__name__}")
    return pytest.mark.parametrize(("aligner", "check"), cases, ids=ids)

"""Contract checks for aligners, for plugin authors and alignkit's own tests.

:func:`check_aligner` runs every check on one aligner;
:func:`parametrize_with_aligner_checks` turns them into one pytest test per
(aligner, check) pair, like scikit-learn's ``parametrize_with_checks``. The
checks complement scikit-learn's, which do not know about collections of
sequences of different lengths or about :meth:`align`.

Each check is also public on its own: :func:`check_get_params_clone`,
:func:`check_fit_transform`, :func:`check_align`, :func:`check_pickle`,
:func:`check_pipeline` and :func:`check_rejects_nan`. A failing check raises
:class:`AssertionError` with a message naming the aligner and the problem.
"""

import re

from ._checks import (
    ALIGNER_CHECKS,
    check_align,
    check_fit_transform,
    check_get_params_clone,
    check_pickle,
    check_pipeline,
    check_rejects_nan,
)

__all__ = [
    "check_aligner",
    "parametrize_with_aligner_checks",
    "check_get_params_clone",
    "check_fit_transform",
    "check_align",
    "check_pickle",
    "check_pipeline",
    "check_rejects_nan",
]


def _check_instance(aligner):
    if isinstance(aligner, type):
        raise TypeError(
            f"pass an aligner instance, not the class {aligner.__name__} "
            f"(write {aligner.__name__}())"
        )
    if not callable(getattr(aligner, "fit", None)):
        raise TypeError(f"{aligner!r} is not an estimator (it has no fit method)")


def check_aligner(aligner):
    """Run every aligner contract check on ``aligner``.

    The checks, in order: :func:`check_get_params_clone`,
    :func:`check_fit_transform`, :func:`check_align`, :func:`check_pickle`,
    :func:`check_pipeline`, :func:`check_rejects_nan`. ``aligner`` itself is
    never fitted; each check works on clones.

    Parameters
    ----------
    aligner : estimator
        An aligner instance (not a class).

    Raises
    ------
    AssertionError
        At the first failing check, naming the aligner and the problem.
    TypeError
        If ``aligner`` is a class or has no ``fit`` method.

    Examples
    --------
    >>> from alignkit import UniformAligner
    >>> from alignkit.testing import check_aligner
    >>> check_aligner(UniformAligner())
    """
    _check_instance(aligner)
    for check in ALIGNER_CHECKS:
        check(aligner)


def _aligner_id(aligner):
    # The changed-parameters repr, without whitespace, as scikit-learn's test ids.
    return re.sub(r"\s", "", repr(aligner))


def parametrize_with_aligner_checks(aligners):
    """A pytest decorator that runs every aligner check on every aligner.

    The decorated test takes two arguments, ``aligner`` and ``check``, and
    should call ``check(aligner)``. Test ids read ``DTWAligner(window=3)-check_align``.

    Parameters
    ----------
    aligners : list of estimator
        Aligner instances (not classes).

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
    cases = [(aligner, check) for aligner in aligners for check in ALIGNER_CHECKS]
    ids = [f"{_aligner_id(aligner)}-{check.__name__}" for aligner, check in cases]
    return pytest.mark.parametrize(("aligner", "check"), cases, ids=ids)

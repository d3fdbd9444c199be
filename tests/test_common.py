"""Common checks over every registered aligner: built-ins and whatever plugins are installed.

scikit-learn's ``parametrize_with_checks`` runs its estimator checks on an
instance of each aligner; alignkit's ``parametrize_with_aligner_checks`` runs
the sequence-alignment contract (unequal lengths, ``align``, pickling,
Pipelines, NaN rejection) that scikit-learn's checks cannot express.
"""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import alignkit
from alignkit import Alignment, UniformAligner
from alignkit.core.registry import get_registry
from alignkit.testing import (
    check_align,
    check_aligner,
    check_fit_transform,
    check_get_params_clone,
    check_pickle,
    check_rejects_nan,
    parametrize_with_aligner_checks,
)

ALIGNERS = [spec.estimator() for spec in get_registry().specs()]
# The contract checks feed collections of sequences; multimodal aligners take
# collections of (a, b) pairs and image aligners take images, so they have their
# contract tested in their own files (tests/test_ctw.py, tests/test_stn.py...).
SINGLE_VIEW = [
    spec.estimator()
    for spec in get_registry().specs()
    if not {"multimodal", "image"} & set(spec.tags)
]

# Failures that follow from the data model, not from bugs: a 2-D array X is a
# collection of univariate sequences (rows), so its "features" are timepoints,
# and the number of timepoints legitimately differs between fit and transform.
_INHERENT_FAILURES = {
    "check_n_features_in": (
        "no n_features_in_: a 2-D X holds univariate sequences whose number of timepoints "
        "(its columns) may change between fit and transform; n_channels_ is the fixed width"
    ),
    "check_n_features_in_after_fitting": (
        "no n_features_in_, and transform accepts another number of columns (timepoints) "
        "than fit saw, by design (sequences of any length are aligned)"
    ),
    "check_transformer_general": (
        "transform must accept a different number of timepoints (columns of a 2-D X) than "
        "fit saw: aligning sequences of other lengths is the point of an aligner"
    ),
    "check_estimators_empty_data_messages": (
        "a (12, 0) array is 12 empty univariate sequences; the InvalidInputError (a "
        "ValueError) names the empty sequence instead of using scikit-learn's '0 feature(s)' "
        "wording"
    ),
}


def expected_failed_checks(estimator):
    """The scikit-learn checks every aligner is expected to fail, with the reason."""
    return dict(_INHERENT_FAILURES)


def test_every_registered_aligner_is_checked():
    assert {"dtw", "uniform"} <= {spec.name for spec in get_registry().specs()}
    assert [type(a) for a in ALIGNERS] == [s.estimator for s in get_registry().specs()]


@parametrize_with_checks(ALIGNERS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_aligner(estimator, check):
    check(estimator)


@parametrize_with_aligner_checks(SINGLE_VIEW)
def test_aligner_contract(aligner, check):
    check(aligner)


def test_check_aligner_runs_on_every_registered_aligner():
    for spec in get_registry().specs():
        if not {"multimodal", "image"} & set(spec.tags):
            check_aligner(alignkit.get_aligner(spec.name))


class _ReversedPathAligner(UniformAligner):
    """Broken: its path runs backwards."""

    def align(self, a, b):
        alignment = super().align(a, b)
        return Alignment(alignment.path[::-1].copy(), alignment.distance, alignment.shape)


class _NaNTolerantAligner(UniformAligner):
    """Broken: align does not validate its input."""

    def align(self, a, b):
        return super().align(np.nan_to_num(a), np.nan_to_num(b))


class _InputLengthAligner(UniformAligner):
    """Broken: the common length follows each transformed collection."""

    def transform(self, X):
        return UniformAligner(n_timepoints="max").fit(X).transform(X)


class _LossyPickleAligner(UniformAligner):
    """Broken: pickling changes the fitted state."""

    def __getstate__(self):
        state = dict(super().__getstate__())
        state["n_timepoints_"] += 1
        return state


class _ParamChangingAligner(UniformAligner):
    """Broken: __init__ changes the parameter it stores."""

    def __init__(self, n_timepoints=10):
        self.n_timepoints = n_timepoints + 1


@pytest.mark.parametrize(
    ("check", "aligner", "message"),
    [
        (check_align, _ReversedPathAligner(), "_ReversedPathAligner: path runs"),
        (check_rejects_nan, _NaNTolerantAligner(), "align with a NaN did not raise"),
        (check_fit_transform, _InputLengthAligner(), "must not depend on the input"),
        (check_pickle, _LossyPickleAligner(), "unpickled transform differs"),
        (check_get_params_clone, _ParamChangingAligner(), r"changed parameter\(s\) \['n_timep"),
    ],
    ids=["reversed_path", "nan_tolerant", "input_length", "lossy_pickle", "param_changing"],
)
def test_checks_catch_broken_aligners(check, aligner, message):
    with pytest.raises(AssertionError, match=message):
        check(aligner)
    with pytest.raises(AssertionError, match=message):
        check_aligner(aligner)


def test_checks_pass_on_the_unbroken_parent():
    check_aligner(UniformAligner(n_timepoints=10))


def test_checks_need_an_instance():
    with pytest.raises(TypeError, match="instance"):
        check_aligner(UniformAligner)
    with pytest.raises(TypeError, match="instance"):
        parametrize_with_aligner_checks([UniformAligner])


# scikit-learn cannot build inputs for aligners of images or of (a, b) pairs, so
# parametrize_with_checks skips them; the checks that need no data still apply.
_INPUT_FREE_CHECKS = (
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
)


@pytest.mark.parametrize("check_name", _INPUT_FREE_CHECKS)
@pytest.mark.parametrize(
    "aligner",
    [a for a in ALIGNERS if not a.__sklearn_tags__().input_tags.two_d_array],
    ids=lambda a: type(a).__name__,
)
def test_input_free_sklearn_checks(aligner, check_name):
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check_name)(type(aligner).__name__, aligner)

"""Common checks over every registered aligner: built-ins and whatever plugins are installed.

scikit-learn's ``parametrize_with_checks`` runs its estimator checks on an
instance of each aligner; alignkit's ``parametrize_with_aligner_checks`` runs
the aligner contract of each family (sequence collections of unequal lengths,
``(a, b)`` pairs of unequal lengths and channels, images): clone and
parameters, fit returning self and reproducible, input not modified,
read-only memory maps, pickle and joblib, NotFittedError, ``n_jobs``,
``align``, Pipelines, NaN rejection. Each test id names the aligner and the
check.
"""

import importlib.util

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

import alignkit
from alignkit import (
    Alignment,
    CTWAligner,
    DeepCTWAligner,
    DTWAligner,
    GlimpseAligner,
    SoftAttentionAligner,
    STNAligner,
    UniformAligner,
)
from alignkit.core.registry import get_registry
from alignkit.testing import (
    aligner_checks_generator,
    aligner_family,
    check_align,
    check_aligner,
    check_classifier,
    check_dont_overwrite_input,
    check_fit_idempotent,
    check_fit_returns_self,
    check_fit_transform,
    check_get_params_clone,
    check_n_jobs_invariance,
    check_not_fitted,
    check_pickle,
    check_readonly_memmap_input,
    check_rejects_nan,
    make_check_input,
    parametrize_with_aligner_checks,
)

ALIGNERS = [spec.estimator() for spec in get_registry().specs()]


def _has_torch():
    try:
        return importlib.util.find_spec("torch") is not None
    except ImportError:  # an import hook that refuses torch, as tests/_no_torch.py installs
        return False


HAS_TORCH = _has_torch()

# Tiny settings: each learned aligner trains for 2 epochs on a few samples, so
# its whole contract runs in about a second.
_TEMPLATE = make_check_input(STNAligner()).X[0]
_TINY_ATTENTION = {"max_epochs": 2, "hidden_size": 8, "attention_size": 8, "batch_size": 8}
_TINY_GLIMPSE = {"n_glimpses": 2, "patch_size": 4, "n_scales": 2, "glimpse_hidden": 16}
_TINY_GLIMPSE.update(loc_hidden=8, core_hidden=16, max_epochs=2, batch_size=16)
_NUMBA_ALIGNERS = {
    "dtw": [DTWAligner(), DTWAligner(window=0.3, reference="dba")],
    "uniform": [UniformAligner(), UniformAligner(n_timepoints=12)],
    "ctw": [CTWAligner(), CTWAligner(n_components=1, init="uniform", output="a")],
}
_TORCH_ALIGNERS = {
    "deep_ctw": [
        DeepCTWAligner(max_epochs=2, hidden_layer_sizes=(8,), n_outputs=4, n_components=2)
    ],
    "soft_attention": [
        SoftAttentionAligner(mode="align", **_TINY_ATTENTION),
        SoftAttentionAligner(mode="predict", **_TINY_ATTENTION),
    ],
    "stn": [
        STNAligner(max_epochs=2, batch_size=16),
        STNAligner(mode="registration", template=_TEMPLATE, max_epochs=2, batch_size=16),
    ],
    "glimpse": [GlimpseAligner(**_TINY_GLIMPSE)],
}
_PLUGIN_ALIGNERS = {"shapedtw": [{"subsequence_length": 5}]}


# The torch backend of an aligner that also runs on Numba.
_TORCH_BACKENDS = {"dtw": [DTWAligner(backend="torch")]}


def _conformance_aligners():
    aligners = {**_NUMBA_ALIGNERS, **(_TORCH_ALIGNERS if HAS_TORCH else {})}
    if HAS_TORCH:
        for name, variants in _TORCH_BACKENDS.items():
            aligners[name] = aligners[name] + variants
    for spec in get_registry().specs():
        if spec.name in _PLUGIN_ALIGNERS:
            aligners[spec.name] = [spec.estimator(**p) for p in _PLUGIN_ALIGNERS[spec.name]]
        elif spec.name not in aligners and spec.distribution != "alignkit":
            aligners[spec.name] = [spec.estimator()]  # another plugin, at its defaults
    return aligners


CONFORMANCE = _conformance_aligners()

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


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Train the tiny torch models on one thread: two threads collapse on a busy machine."""
    if not HAS_TORCH:
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_every_registered_aligner_is_checked():
    names = {spec.name for spec in get_registry().specs()}
    assert {"ctw", "dtw", "uniform"} <= names
    if HAS_TORCH:
        assert {"deep_ctw", "glimpse", "soft_attention", "stn"} <= names
    assert [type(a) for a in ALIGNERS] == [s.estimator for s in get_registry().specs()]
    # Without torch the learned aligners can be built but not fitted.
    assert set(CONFORMANCE) == (names if HAS_TORCH else names - set(_TORCH_ALIGNERS))
    for name, aligners in CONFORMANCE.items():
        assert {type(a) for a in aligners} == {get_registry().get(name).estimator}


@pytest.mark.parametrize(
    ("aligner", "family"),
    [
        (DTWAligner(), "sequence"),
        (UniformAligner(), "sequence"),
        (CTWAligner(), "paired"),
        (DeepCTWAligner(), "paired"),
        (SoftAttentionAligner(), "paired"),
        (STNAligner(), "image"),
        (STNAligner(mode="registration"), "image"),
        (GlimpseAligner(), "image"),
    ],
    ids=lambda value: type(value).__name__ if hasattr(value, "fit") else value,
)
def test_family_is_read_from_the_class(aligner, family):
    assert aligner_family(aligner) == family
    data = make_check_input(aligner)
    assert data.family == family
    if family == "paired":
        # Both sides differ in length and in channel count.
        assert {a.shape[1] for a, _ in data.X} == {2} and {b.shape[1] for _, b in data.X} == {3}
        assert any(len(a) != len(b) for a, b in data.X)
        assert len(data.pair[0]) != len(data.pair[1])


@parametrize_with_checks(ALIGNERS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_aligner(estimator, check):
    check(estimator)


@parametrize_with_aligner_checks(
    [aligner for aligners in CONFORMANCE.values() for aligner in aligners]
)
def test_aligner_contract(aligner, check):
    check(aligner)


def test_check_aligner_runs_on_every_registered_sequence_aligner():
    for spec in get_registry().specs():
        aligner = alignkit.get_aligner(spec.name)
        if aligner_family(aligner) == "sequence":
            check_aligner(aligner)


def test_generator_yields_the_checks_of_each_family():
    def names(aligner):
        return [check.__name__ for _, check in aligner_checks_generator(aligner)]

    common = [
        "check_get_params_clone",
        "check_fit_returns_self",
        "check_fit_idempotent",
        "check_dont_overwrite_input",
        "check_readonly_memmap_input",
        "check_pickle",
        "check_not_fitted",
    ]
    sequence = ["check_fit_transform", "check_align", "check_pipeline", "check_rejects_nan"]
    assert names(UniformAligner()) == common + sequence
    assert names(DTWAligner()) == common + sequence + ["check_n_jobs_invariance"]
    assert names(CTWAligner()) == common + ["check_align", "check_rejects_nan"]
    assert names(STNAligner()) == common + ["check_rejects_nan", "check_classifier"]
    assert names(STNAligner(mode="registration")) == common + ["check_rejects_nan"]
    assert names(GlimpseAligner()) == common + ["check_rejects_nan", "check_classifier"]
    generated = list(aligner_checks_generator(UniformAligner(n_timepoints=7)))
    assert all(aligner.n_timepoints == 7 for aligner, _ in generated)


def test_expected_failures_become_strict_xfails_or_are_skipped():
    reason = "a reason"
    expected = {"check_pickle": reason}
    cases = list(
        aligner_checks_generator(UniformAligner(), expected_failed_checks=expected, mark="xfail")
    )
    marked = [case for case in cases if hasattr(case, "marks")]
    assert len(marked) == 1 and marked[0].values[1] is check_pickle
    (xfail,) = marked[0].marks
    assert xfail.name == "xfail" and xfail.kwargs == {"strict": True, "reason": reason}
    skipped = aligner_checks_generator(
        UniformAligner(), expected_failed_checks=expected, mark="skip"
    )
    assert check_pickle not in [check for _, check in skipped]
    with pytest.raises(ValueError, match=r"do not apply to CTWAligner: \['check_pipeline'\]"):
        list(aligner_checks_generator(CTWAligner(), expected_failed_checks={"check_pipeline": "x"}))
    with pytest.raises(ValueError, match="mark must be"):
        list(aligner_checks_generator(UniformAligner(), expected_failed_checks=expected, mark="x"))


def test_check_aligner_leaves_out_expected_failures():
    broken = _LossyPickleAligner()
    with pytest.raises(AssertionError, match="failed check_pickle"):
        check_aligner(broken)
    check_aligner(broken, expected_failed_checks={"check_pickle": "loses n_timepoints_"})


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
        check_is_fitted(self)
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


class _NoneReturningAligner(UniformAligner):
    """Broken: fit returns None."""

    def fit(self, X, y=None):
        super().fit(X, y)


class _UnseededAligner(UniformAligner):
    """Broken: fit draws from an unseeded generator."""

    def fit(self, X, y=None):
        super().fit(X, y)
        self.offset_ = np.random.default_rng().normal()
        return self

    def transform(self, X):
        return super().transform(X) + self.offset_


class _MutatingAligner(UniformAligner):
    """Broken: fit centres the caller's sequences in place."""

    def fit(self, X, y=None):
        for sequence in X:
            sequence -= sequence.mean()
        return super().fit(X, y)


class _WritableOnlyAligner(UniformAligner):
    """Broken: transform writes into its input (values unchanged), so read-only input fails."""

    def transform(self, X):
        for sequence in X:
            sequence *= 1.0
        return super().transform(X)


class _UnfittedTransformAligner(UniformAligner):
    """Broken: transform reads a fitted attribute without checking that fit ran."""

    def transform(self, X):
        return np.stack([np.resize(s, (self.n_timepoints_, 1)) for s in X])


class _NJobsDependentAligner(UniformAligner):
    """Broken: the result depends on n_jobs."""

    def __init__(self, n_timepoints="max", n_jobs=None):
        super().__init__(n_timepoints=n_timepoints)
        self.n_jobs = n_jobs

    def transform(self, X):
        return super().transform(X) * (self.n_jobs or 1)


class _UncheckedPairedAligner(CTWAligner):
    """Broken: align of a fitted paired aligner returns a truncated path."""

    def align(self, a, b):
        alignment = super().align(a, b)
        return Alignment(alignment.path[:-1].copy(), alignment.distance, alignment.shape)


@pytest.mark.parametrize(
    ("check", "aligner", "message"),
    [
        (check_align, _ReversedPathAligner(), "_ReversedPathAligner failed check_align: path runs"),
        (check_rejects_nan, _NaNTolerantAligner(), "align with a NaN did not raise"),
        (check_fit_transform, _InputLengthAligner(), "must not depend on the input"),
        (check_pickle, _LossyPickleAligner(), "unpickled transform differs"),
        (check_get_params_clone, _ParamChangingAligner(), r"changed parameter\(s\) \['n_timep"),
        (check_fit_returns_self, _NoneReturningAligner(), "fit returned NoneType"),
        (check_fit_idempotent, _UnseededAligner(), "after a second fit, transform differs"),
        (check_dont_overwrite_input, _MutatingAligner(), "fit modified X: item 0: values differ"),
        (
            check_readonly_memmap_input,
            _WritableOnlyAligner(),
            "check_readonly_memmap_input: ValueError: .*read-only",
        ),
        (
            check_not_fitted,
            _UnfittedTransformAligner(),
            "check_not_fitted: transform before fit raised AttributeError",
        ),
        (check_n_jobs_invariance, _NJobsDependentAligner(), "with n_jobs=2, transform differs"),
        (check_align, _UncheckedPairedAligner(), "_UncheckedPairedAligner failed check_align"),
    ],
    ids=[
        "reversed_path",
        "nan_tolerant",
        "input_length",
        "lossy_pickle",
        "param_changing",
        "fit_returns_none",
        "unseeded",
        "mutating",
        "writes_input",
        "unfitted_transform",
        "n_jobs_dependent",
        "paired_truncated_path",
    ],
)
def test_checks_catch_broken_aligners(check, aligner, message):
    with pytest.raises(AssertionError, match=message):
        check(aligner)
    with pytest.raises(AssertionError, match=message):
        check_aligner(aligner)


class _LabelPredictingEstimator(BaseEstimator):
    """Broken: predicts labels without being a classifier."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def test_check_classifier_needs_a_classifier():
    with pytest.raises(AssertionError, match="failed check_classifier: is_classifier is False"):
        check_classifier(_LabelPredictingEstimator())


def test_checks_pass_on_the_unbroken_parents():
    check_aligner(UniformAligner(n_timepoints=10))
    check_aligner(CTWAligner())


class _CrashingAligner(UniformAligner):
    """Broken: transform raises an error of its own."""

    def transform(self, X):
        raise TypeError("boom")


def test_an_error_inside_the_aligner_names_the_aligner_and_the_check():
    message = "_CrashingAligner failed check_fit_idempotent: TypeError: boom"
    with pytest.raises(AssertionError, match=message) as info:
        check_aligner(_CrashingAligner())
    assert isinstance(info.value.__cause__, TypeError)


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

"""AlignerSpec validation, the Registry API and the public look-ups."""

import threading

import pytest
from sklearn.base import BaseEstimator

import alignkit
from alignkit import AlignerSpec, CTWAligner, DTWAligner, UniformAligner
from alignkit.base import PairedAligner, SequenceAligner
from alignkit.core.registry import (
    PluginFailure,
    Registry,
    class_tags,
    get_registry,
    reset_registry,
)
from alignkit.exceptions import DuplicateAlignerError, InvalidInputError, UnknownAlignerError


@pytest.fixture(autouse=True)
def fresh_registry():
    """Each test builds its own process registry, and leaves none behind."""
    reset_registry()
    yield
    reset_registry()


class NotAnEstimator:
    """A class without fit."""


class Untagged(BaseEstimator):
    """An aligner class that declares no tags."""

    def fit(self, X, y=None):
        return self


class OtherUntagged(Untagged):
    """Another aligner class without tags."""


class Tagged(Untagged):
    """A tagged aligner."""

    _alignkit_tags = frozenset({"explicit", "numba"})


class TaggedTorch(Tagged):
    """A tagged aligner with one more backend."""

    _alignkit_tags = frozenset({"torch"})


def make_registry():
    """Three specs of classes that declare no tags, so the spec's tags are exactly given."""
    registry = Registry()
    registry.add(AlignerSpec("dtw", Untagged, tags={"explicit", "numba"}, distribution="a"))
    registry.add(AlignerSpec("uniform", OtherUntagged, tags={"explicit"}, distribution="a"))
    registry.add(AlignerSpec("soft_dtw", Untagged, tags={"numba"}, distribution="b"))
    return registry


@pytest.mark.parametrize("name", ["dtw", "soft_dtw", "ctw2", "a"])
def test_spec_accepts_lowercase_identifiers(name):
    assert AlignerSpec(name, DTWAligner).name == name


@pytest.mark.parametrize("name", ["", "DTW", "soft-dtw", "2dtw", "_dtw", "soft dtw", "dtw\n", 3])
def test_spec_rejects_bad_names(name):
    with pytest.raises(InvalidInputError, match="lowercase identifier"):
        AlignerSpec(name, DTWAligner)


@pytest.mark.parametrize("estimator", [DTWAligner(), NotAnEstimator, "dtw", None])
def test_spec_rejects_estimators_that_are_not_classes_with_fit(estimator):
    with pytest.raises(TypeError, match="class with a fit method"):
        AlignerSpec("dtw", estimator)


def test_spec_coerces_tags_to_frozenset():
    spec = AlignerSpec("dtw", Untagged, tags=["numba", "explicit", "numba"])
    assert spec.tags == frozenset({"numba", "explicit"})
    assert isinstance(spec.tags, frozenset)
    assert AlignerSpec("dtw", Untagged).tags == frozenset()


def test_class_tags_are_the_union_over_the_mro():
    assert class_tags(Untagged) == frozenset()
    assert class_tags(Tagged) == {"explicit", "numba"}
    assert class_tags(TaggedTorch) == {"explicit", "numba", "torch"}
    # The family bases bring theirs: paired input is multimodal.
    assert class_tags(CTWAligner) == {"explicit", "temporal", "multimodal", "numba"}
    assert class_tags(PairedAligner) == {"temporal", "multimodal"}
    assert class_tags(SequenceAligner) == {"temporal"}


def test_spec_reads_tags_from_the_class_and_adds_explicit_ones():
    assert AlignerSpec("mine", TaggedTorch).tags == {"explicit", "numba", "torch"}
    # A plugin whose class declares no tags passes them (and may add to declared ones).
    assert AlignerSpec("mine", Untagged, tags={"fake"}).tags == {"fake"}
    assert AlignerSpec("mine", Tagged, tags={"fast"}).tags == {"explicit", "numba", "fast"}


@pytest.mark.parametrize("declared", ["numba", ("numba", 3)])
def test_bad_class_tags_name_the_class(declared):
    bad = type("BadTags", (Untagged,), {"_alignkit_tags": declared})
    with pytest.raises(TypeError, match="BadTags._alignkit_tags must be an iterable of str"):
        AlignerSpec("bad", bad)


def test_spec_description_defaults_to_the_docstring_summary():
    assert AlignerSpec("mine", TaggedTorch).description == "A tagged aligner with one more backend."
    assert AlignerSpec("mine", TaggedTorch, description="Mine.").description == "Mine."
    undocumented = type("Undocumented", (Untagged,), {"__doc__": None})
    assert AlignerSpec("mine", undocumented).description == ""


@pytest.mark.parametrize("tags", ["numba", [1, "numba"]])
def test_spec_rejects_str_tags_and_non_str_tags(tags):
    with pytest.raises(TypeError, match="tags"):
        AlignerSpec("dtw", DTWAligner, tags=tags)


def test_spec_is_frozen_and_hashable():
    spec = AlignerSpec("dtw", DTWAligner, tags={"numba"})
    with pytest.raises(AttributeError):
        spec.name = "other"
    assert spec == AlignerSpec("dtw", DTWAligner, tags=["numba"])
    assert len({spec, AlignerSpec("dtw", DTWAligner, tags=["numba"])}) == 1


def test_registry_add_get_names_specs():
    registry = make_registry()
    assert registry.names() == ["dtw", "soft_dtw", "uniform"]
    assert [spec.name for spec in registry.specs()] == ["dtw", "soft_dtw", "uniform"]
    assert registry.get("uniform").estimator is OtherUntagged
    assert "dtw" in registry and "ctw" not in registry
    assert len(registry) == 3


def test_registry_add_is_typed():
    with pytest.raises(TypeError, match="AlignerSpec"):
        Registry().add(("dtw", DTWAligner))


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (None, ["dtw", "soft_dtw", "uniform"]),
        ((), ["dtw", "soft_dtw", "uniform"]),
        ("numba", ["dtw", "soft_dtw"]),
        ({"numba"}, ["dtw", "soft_dtw"]),
        (["explicit", "numba"], ["dtw"]),
        ({"torch"}, []),
    ],
)
def test_registry_filter_keeps_specs_with_all_tags(tags, expected):
    assert [spec.name for spec in make_registry().filter(tags=tags)] == expected


def test_duplicate_name_names_both_distributions():
    registry = Registry()
    registry.add(AlignerSpec("dtw", DTWAligner, distribution="alignkit", version="0.1"))
    duplicate = AlignerSpec("dtw", UniformAligner, distribution="alignkit-other", version="2.0")
    with pytest.raises(DuplicateAlignerError) as info:
        registry.add(duplicate)
    assert "'dtw'" in str(info.value)
    assert "alignkit 0.1" in str(info.value)
    assert "alignkit-other 2.0" in str(info.value)
    assert registry.get("dtw").estimator is DTWAligner  # the first registration is kept


def test_unknown_name_lists_known_names_and_suggests_the_closest():
    registry = make_registry()
    with pytest.raises(UnknownAlignerError) as info:
        registry.get("dwt")
    message = str(info.value)
    assert "did you mean 'dtw'?" in message
    assert "'dtw', 'soft_dtw', 'uniform'" in message
    assert isinstance(info.value, KeyError)


def test_unknown_name_without_close_match_has_no_suggestion():
    with pytest.raises(UnknownAlignerError) as info:
        make_registry().get("xyzzy")
    assert "did you mean" not in str(info.value)
    assert "Known aligners: 'dtw', 'soft_dtw', 'uniform'." in str(info.value)


def test_unknown_name_suggestion_ignores_case():
    with pytest.raises(UnknownAlignerError, match="did you mean 'uniform'"):
        make_registry().get("Uniform")


def test_unknown_name_mentions_failed_plugins():
    registry = make_registry()
    registry.failures.append(PluginFailure("broken", "alignkit-broken", "1.0", "ImportError: no"))
    with pytest.raises(UnknownAlignerError, match="failed to load: 'broken'"):
        registry.get("broken")


def test_builtins_are_registered_by_alignkit():
    registry = get_registry()
    assert {"dtw", "uniform"} <= set(registry.names())
    for name, estimator in (("dtw", DTWAligner), ("uniform", UniformAligner)):
        spec = registry.get(name)
        assert spec.estimator is estimator
        assert spec.distribution == "alignkit"
        assert spec.version == alignkit.__version__
        assert spec.description
        assert {"explicit", "temporal"} <= spec.tags
    assert "numba" in registry.get("dtw").tags


# The tags the built-ins had when _builtin.py restated them by hand (plus the torch
# backend of DTWAligner, which that list forgot): now read from the classes.
BUILTIN_TAGS = {
    "ctw": {"explicit", "temporal", "multimodal", "numba"},
    "deep_ctw": {"explicit", "temporal", "multimodal", "numba", "torch"},
    "dtw": {"explicit", "temporal", "numba", "torch"},
    "glimpse": {"implicit", "spatial", "image", "torch"},
    "soft_attention": {"implicit", "temporal", "multimodal", "torch"},
    "stn": {"implicit", "spatial", "image", "torch"},
    "uniform": {"explicit", "temporal", "baseline"},
}


def test_builtin_tags_are_read_from_the_classes():
    registry = get_registry()
    for name, expected in BUILTIN_TAGS.items():
        spec = registry.get(name)
        assert spec.tags == expected, name
        assert spec.tags == class_tags(spec.estimator), name
        summary = spec.estimator.__doc__.strip().splitlines()[0]
        assert spec.description == summary, name


def test_builtin_registration_restates_no_tags():
    from alignkit.estimators._builtin import alignkit_register_aligners

    class Recording(Registry):
        def add(self, spec):
            added.append(spec)
            super().add(spec)

    added = []
    alignkit_register_aligners(Recording())
    for spec in added:
        assert spec == AlignerSpec(spec.name, spec.estimator), spec.name


def test_list_aligners_torch_includes_dtw():
    torch = alignkit.list_aligners(tags={"torch"})
    assert {"dtw", "deep_ctw", "soft_attention", "stn", "glimpse"} <= set(torch)
    assert "ctw" not in torch and "uniform" not in torch
    assert alignkit.list_aligners(tags={"multimodal", "explicit"})[:2] == ["ctw", "deep_ctw"]


def test_list_aligners_is_sorted_and_filters_by_tags():
    names = alignkit.list_aligners()
    assert names == sorted(names)
    assert {"dtw", "uniform"} <= set(names)
    numba = alignkit.list_aligners(tags={"numba"})
    assert "dtw" in numba and "uniform" not in numba
    assert set(numba) == {s.name for s in get_registry().specs() if "numba" in s.tags}


def test_get_aligner_passes_params_and_returns_new_instances():
    first = alignkit.get_aligner("dtw", window=3, reference="medoid")
    second = alignkit.get_aligner("dtw", window=3)
    assert type(first) is DTWAligner
    assert first.get_params()["window"] == 3
    assert first is not second
    assert alignkit.get_aligner("uniform", n_timepoints=7).n_timepoints == 7


def test_get_aligner_lets_constructor_errors_through():
    with pytest.raises(TypeError, match="no_such_param"):
        alignkit.get_aligner("dtw", no_such_param=1)


def test_get_aligner_unknown_name():
    with pytest.raises(UnknownAlignerError, match="did you mean 'dtw'"):
        alignkit.get_aligner("dtww")


def test_registry_is_built_once_and_shared_between_threads():
    results = []
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        results.append(get_registry())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert all(registry is results[0] for registry in results)
    assert get_registry() is results[0]
    reset_registry()
    assert get_registry() is not results[0]

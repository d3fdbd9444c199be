"""The alignkit-shapedtw distribution, seen from alignkit: entry point, registry, contract.

These tests prove the plugin contract with a real, separately installed
distribution (``plugins/shapedtw``, installed in editable mode by the
Makefile); they fail where it is not installed.
"""

from importlib import metadata

import alignkit_shapedtw as shapedtw
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline

import alignkit
from alignkit.base import SequenceAligner
from alignkit.core.registry import class_tags, get_registry
from alignkit.datasets import make_warped_collection
from alignkit.preprocessing import Flatten


def _shapedtw_entry_point():
    matches = [ep for ep in metadata.entry_points(group="alignkit") if ep.name == "shapedtw"]
    assert len(matches) == 1, f"expected one 'shapedtw' entry point, found {matches}"
    return matches[0]


def test_entry_point_is_declared_by_the_distribution():
    entry_point = _shapedtw_entry_point()
    assert entry_point.value == "alignkit_shapedtw.plugin"
    assert entry_point.dist.name == "alignkit-shapedtw"
    assert entry_point.dist.version == metadata.version("alignkit-shapedtw")
    module = entry_point.load()
    assert callable(module.alignkit_register_aligners)


def test_get_aligner_builds_the_plugin_estimator():
    aligner = alignkit.get_aligner("shapedtw", subsequence_length=5)
    assert isinstance(aligner, shapedtw.ShapeDTWAligner)
    assert aligner.get_params()["subsequence_length"] == 5


def test_registry_records_the_distribution():
    assert "shapedtw" in alignkit.list_aligners()
    spec = get_registry().get("shapedtw")
    assert spec.estimator is shapedtw.ShapeDTWAligner
    assert spec.distribution == "alignkit-shapedtw"
    assert spec.version == metadata.version("alignkit-shapedtw")
    assert "shapedtw" in alignkit.list_aligners(tags={"explicit"})
    assert not [failure for failure in get_registry().failures if failure.name == "shapedtw"]


def test_plugin_tags_are_read_from_its_class():
    # The plugin registers without tags: the class declares them, its family base adds one.
    assert issubclass(shapedtw.ShapeDTWAligner, SequenceAligner)
    spec = get_registry().get("shapedtw")
    assert spec.tags == class_tags(shapedtw.ShapeDTWAligner) == {"explicit", "temporal", "numba"}
    assert "shapedtw" in alignkit.list_aligners(tags={"temporal", "numba"})
    assert "shapedtw" not in alignkit.list_aligners(tags={"multimodal"})


def test_plugin_aligner_in_a_pipeline_beats_chance():
    X, y = make_warped_collection(n_sequences=40, n_timepoints=(30, 50), random_state=0)
    pipeline = Pipeline(
        [
            ("align", alignkit.get_aligner("shapedtw", subsequence_length=5)),
            ("flat", Flatten()),
            ("clf", LogisticRegression()),
        ]
    )
    cv = StratifiedKFold(n_splits=4, shuffle=True, random_state=0)
    scores = cross_val_score(pipeline, X, y, cv=cv)
    # Two balanced-ish classes: chance is the majority-class rate.
    chance = max(np.mean(y), 1 - np.mean(y))
    assert scores.mean() > chance + 0.15


@pytest.mark.parametrize(
    "params",
    [
        {"subsequence_length": 5},
        {"subsequence_length": 7, "descriptor": "compound", "paa_segments": 3, "n_intervals": 2},
    ],
)
def test_plugin_aligner_passes_the_aligner_checks(params):
    from alignkit.testing import check_aligner

    check_aligner(alignkit.get_aligner("shapedtw", **params))


def test_plugin_reads_aeon_layout_once_under_nct():
    # Its descriptors are alignkit's layout whatever the user's input layout was: under
    # sequence_layout="nct" only the user's sequences are transposed.
    rng = np.random.default_rng(0)
    a, b = np.cumsum(rng.standard_normal((2, 40, 1)), axis=1)
    expected = shapedtw.ShapeDTWAligner().align(a, b)
    with alignkit.config_context(sequence_layout="nct"):
        got = shapedtw.ShapeDTWAligner().align(a.T, b.T)
    np.testing.assert_array_equal(got.path, expected.path)
    assert got.distance == expected.distance

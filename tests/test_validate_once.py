"""Validate once: every public entry point checks each input exactly once, then calls drivers.

The check functions are replaced, wherever a module of alignkit looks them up,
by counters that record the outermost calls only (``check_pair`` calling
``check_sequence`` is one validation of the pair, not three).
"""

import sys

import numpy as np
import pytest

import alignkit
from alignkit import validation
from alignkit.distances import dba, dtw_distance, pairwise_distances, soft_dtw_divergence

CHECKS = ("check_sequence", "check_pair", "check_collection", "check_window")


@pytest.fixture
def counts(monkeypatch):
    """Counts of the outermost calls of each check function during the test."""
    # Import the modules the entry points use, so that their names are patched too.
    import alignkit.distances._barycenters  # noqa: F401
    import alignkit.estimators._dtw  # noqa: F401

    tally = dict.fromkeys(CHECKS, 0)
    depth = [0]

    def counting(name, original):
        def check(*args, **kwargs):
            if depth[0] == 0:
                tally[name] += 1
            depth[0] += 1
            try:
                return original(*args, **kwargs)
            finally:
                depth[0] -= 1

        return check

    for name in CHECKS:
        original = getattr(validation, name)
        counter = counting(name, original)
        for module in list(sys.modules.values()):
            if getattr(module, "__name__", "").startswith("alignkit") and (
                getattr(module, name, None) is original
            ):
                monkeypatch.setattr(module, name, counter)
    return tally


def _expect(pair=0, collection=0, window=0):
    """The expected counts; no entry point validates a lone sequence here."""
    return {
        "check_sequence": 0,
        "check_pair": pair,
        "check_collection": collection,
        "check_window": window,
    }


def _collection(n_sequences=20, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(15, 30, size=n_sequences)
    return [np.cumsum(rng.normal(size=(int(n), 2)), axis=0) for n in lengths]


@pytest.mark.parametrize("reference", ["medoid", "dba", "soft_dtw"])
@pytest.mark.parametrize("window", [None, 3, 0.2])
def test_dtw_aligner_fit_transform_validates_once(counts, reference, window):
    X = _collection()
    aligner = alignkit.DTWAligner(reference=reference, window=window).fit(X)
    assert counts == _expect(pair=0, collection=1, window=1)
    out = aligner.transform(X)
    assert out.shape[0] == 20
    # transform validates its own X once and reuses the window parsed in fit.
    assert counts == _expect(pair=0, collection=2, window=1)


def test_dba_validates_once(counts):
    dba(_collection(), window=2, n_iter=3)
    assert counts == _expect(pair=0, collection=1, window=1)


def test_soft_dtw_divergence_validates_once(counts):
    rng = np.random.default_rng(1)
    soft_dtw_divergence(rng.normal(size=12), rng.normal(size=9), gamma=0.5, window=4)
    assert counts == _expect(pair=1, collection=0, window=1)


def test_soft_dtw_divergence_torch_validates_once(counts):
    pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    soft_dtw_divergence(rng.normal(size=12), rng.normal(size=9), window=4, backend="torch")
    assert counts == _expect(pair=1, collection=0, window=1)


def test_pairwise_and_independent_distance_validate_once(counts):
    pairwise_distances(_collection(6), window=3)
    assert counts == _expect(pair=0, collection=1, window=1)
    rng = np.random.default_rng(3)
    dtw_distance(rng.normal(size=(8, 3)), rng.normal(size=(7, 3)), multivariate="independent")
    assert counts["check_pair"] == 1 and counts["check_window"] == 2


def test_the_counters_see_nested_public_calls(counts):
    # The test of the test: a function that calls public functions is caught.
    def twice(a, b):
        return alignkit.dtw(a, b).distance + alignkit.dtw(b, a).distance

    twice([0.0, 1.0], [1.0, 2.0])
    assert counts["check_pair"] == 2


def test_dtw_aligner_on_torch_validates_once(counts):
    pytest.importorskip("torch")
    X = _collection()
    aligner = alignkit.DTWAligner(window=3, backend="torch", device="cpu").fit(X)
    aligner.transform(X)
    assert counts == _expect(collection=2, window=1)


def test_k_neighbors_and_dtw_distances_validate_once(counts):
    X, y = _collection(8), [0, 1] * 4
    alignkit.KNeighborsDTWClassifier(window=2).fit(X, y).predict(X[:3])
    assert counts == _expect(collection=2, window=1)
    alignkit.DTWDistances(window=0.1).fit(X).transform(X[:3])
    assert counts == _expect(collection=4, window=2)

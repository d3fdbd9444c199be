"""DDTW, WDTW and DTW_I against peers, references and published numbers."""

import importlib

import numpy as np
import pytest
from _reference import assert_valid_path, reference_dtw

import alignkit
from alignkit.distances._variants import ddtw, derivative, wdtw, wdtw_weights
from alignkit.exceptions import InvalidInputError

aeon_distances = importlib.import_module("aeon.distances")

PAIRS = [(30, 30), (30, 41), (41, 25), (3, 3), (3, 9)]


def _pair(n, m, seed=0, channels=1):
    rng = np.random.default_rng(seed + 7 * n + m)
    return rng.normal(size=(n, channels)), rng.normal(size=(m, channels))


def test_keogh_derivative_matches_its_formula():
    x = np.array([0.0, 1.0, 4.0, 9.0, 7.0])
    inner = [((x[i] - x[i - 1]) + (x[i + 1] - x[i - 1]) / 2) / 2 for i in range(1, 4)]
    expected = [inner[0], *inner, inner[-1]]
    np.testing.assert_allclose(derivative(x).ravel(), expected)
    np.testing.assert_allclose(derivative(x, "central").ravel(), np.gradient(x))


@pytest.mark.parametrize("n, m", PAIRS)
def test_ddtw_equals_aeon(n, m):
    a, b = _pair(n, m)
    alignment = ddtw(a, b, squared=True)
    assert alignment.distance == pytest.approx(aeon_distances.ddtw_distance(a.T, b.T), rel=1e-12)
    assert_valid_path(alignment.path, n, m)


def test_ddtw_ignores_an_offset_but_dtw_does_not():
    t = np.linspace(0, 1, 60)
    a, b = np.sin(7 * t), np.sin(7 * t) + 2.0
    assert ddtw(a, b).distance == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_array_equal(ddtw(a, b).path, np.column_stack([np.arange(60)] * 2))
    assert alignkit.dtw(a, b).distance > 1.0


def test_ddtw_central_is_dtw_of_gradients():
    a, b = _pair(20, 26)
    expected = alignkit.dtw(np.gradient(a, axis=0), np.gradient(b, axis=0))
    alignment = ddtw(a, b, kind="central")
    assert alignment.distance == expected.distance
    np.testing.assert_array_equal(alignment.path, expected.path)


@pytest.mark.parametrize("g", [0.0, 0.05, 0.3, 2.0])
@pytest.mark.parametrize("n, m", PAIRS)
def test_wdtw_equals_aeon_and_a_weighted_reference(n, m, g):
    a, b = _pair(n, m)
    alignment = wdtw(a, b, g=g, squared=True)
    assert alignment.distance == pytest.approx(
        aeon_distances.wdtw_distance(a.T, b.T, g=g), rel=1e-12
    )
    weights = wdtw_weights(max(n, m), g)
    phase = np.abs(np.subtract.outer(np.arange(n), np.arange(m)))
    # The weighted DP is DTW with the weights folded into the local cost.
    scale = np.sqrt(weights[phase])
    cost = ((a[:, None, 0] - b[None, :, 0]) * scale) ** 2
    acc = _weighted_reference(cost)
    assert alignment.distance == pytest.approx(acc, rel=1e-12)
    i, j = alignment.path.T
    assert np.sum(weights[np.abs(i - j)] * (a[i, 0] - b[j, 0]) ** 2) == pytest.approx(acc)
    assert_valid_path(alignment.path, n, m)


def _weighted_reference(cost):
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(n):
        for j in range(m):
            acc[i + 1, j + 1] = cost[i, j] + min(acc[i, j], acc[i, j + 1], acc[i + 1, j])
    return acc[n, m]


def test_wdtw_with_zero_steepness_is_half_of_dtw():
    a, b = _pair(25, 31)
    expected = reference_dtw(a, b)[-1, -1] / 2
    assert wdtw(a, b, g=0.0, squared=True).distance == pytest.approx(expected, rel=1e-12)


def test_wdtw_window_and_bad_arguments():
    a, b = _pair(30, 30)
    assert wdtw(a, b, window=2).distance >= wdtw(a, b).distance
    with pytest.raises(InvalidInputError, match="g must be a finite number >= 0"):
        wdtw(a, b, g=-1.0)
    with pytest.raises(InvalidInputError, match="cannot be a mask"):
        wdtw(a, b, window=np.ones((30, 30), dtype=bool))
    with pytest.raises(InvalidInputError, match="Keogh derivative needs at least 3"):
        ddtw([1.0, 2.0], [1.0, 2.0, 3.0])


def test_independent_is_the_sum_of_per_channel_costs():
    a, b = _pair(20, 27, channels=3)
    per_channel = [reference_dtw(a[:, [k]], b[:, [k]])[-1, -1] for k in range(3)]
    value = alignkit.dtw_distance(a, b, multivariate="independent", squared=True)
    assert value == pytest.approx(sum(per_channel), rel=1e-12)
    assert alignkit.dtw_distance(a, b, multivariate="independent") == pytest.approx(
        np.sqrt(sum(per_channel)), rel=1e-12
    )
    with pytest.raises(InvalidInputError, match="multivariate must be"):
        alignkit.dtw_distance(a, b, multivariate="both")


def _one_nn_accuracy(train, y_train, test, y_test, **kwargs):
    predictions = []
    for query in test:
        distances = [alignkit.dtw_distance(query, item, **kwargs) for item in train]
        predictions.append(y_train[int(np.argmin(distances))])
    return float(np.mean(np.asarray(predictions) == y_test))


def test_basic_motions_dtw_i_and_dtw_d_reproduce_published_accuracy():
    datasets = importlib.import_module("aeon.datasets")
    X_train, y_train = datasets.load_classification("BasicMotions", split="train")
    X_test, y_test = datasets.load_classification("BasicMotions", split="test")
    train = [np.ascontiguousarray(x.T) for x in X_train]
    test = [np.ascontiguousarray(x.T) for x in X_test]
    # UEA archive (Bagnall et al. 2018): 1-NN DTW_I 1.000, DTW_D 0.975, full window.
    independent = _one_nn_accuracy(train, y_train, test, y_test, multivariate="independent")
    dependent = _one_nn_accuracy(train, y_train, test, y_test)
    assert independent == 1.0
    assert dependent == 0.975


@pytest.mark.parametrize("reference", ["dba", "soft_dtw"])
def test_dtw_aligner_barycenter_references(reference):
    from alignkit.distances._barycenters import dba, soft_dtw_barycenter

    X, _ = alignkit.datasets.make_warped_collection(8, random_state=0)
    aligner = alignkit.DTWAligner(reference=reference, window=0.2).fit(X)
    if reference == "dba":
        expected = dba(X, window=0.2)
    else:
        expected = soft_dtw_barycenter(X)
    np.testing.assert_allclose(aligner.reference_, expected)
    assert aligner.reference_index_ is None
    assert aligner.transform(X).shape == (8, len(expected), 1)


def test_dtw_aligner_unknown_reference_is_named():
    with pytest.raises(InvalidInputError, match="'reference' parameter of DTWAligner must be"):
        alignkit.DTWAligner(reference="mean").fit([[1.0, 2.0], [2.0, 3.0]])

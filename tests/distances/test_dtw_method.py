"""``dtw(method=...)``: the banded matrix and the linear-memory path agree."""

import numpy as np
import pytest
from _reference import reference_dtw

import alignkit
from alignkit.exceptions import AlignkitMemoryError, InvalidInputError


def _walks(n, m, seed):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(size=n)), np.cumsum(rng.normal(size=m))


@pytest.mark.parametrize("window", [None, 3, 0.2, ("itakura", 2.0)])
def test_linear_and_matrix_give_the_same_optimum(window):
    a, b = _walks(90, 70, 0)
    matrix = alignkit.dtw(a, b, window=window, method="matrix", squared=True)
    linear = alignkit.dtw(a, b, window=window, method="linear", squared=True)
    assert linear.distance == pytest.approx(matrix.distance, rel=1e-12)
    # Random continuous data: the optimum is unique, so the paths are equal.
    np.testing.assert_array_equal(linear.path, matrix.path)


def test_auto_switches_to_linear_memory_under_a_small_limit():
    a, b = _walks(400, 300, 1)
    expected = reference_dtw(a, b)[-1, -1]
    with alignkit.config_context(max_memory=600_000):
        with pytest.raises(AlignkitMemoryError, match="max_memory"):
            alignkit.dtw(a, b, method="matrix")
        alignment = alignkit.dtw(a, b, squared=True)
    assert alignment.distance == pytest.approx(expected, rel=1e-12)
    cost = np.sum((a[alignment.index_a] - b[alignment.index_b]) ** 2)
    assert cost == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"window": np.ones((5, 6), dtype=bool)},
        {"return_cost_matrix": True},
        {"step_pattern": "symmetric2"},
        {"open_end": True},
    ],
)
def test_linear_refuses_what_it_cannot_do(kwargs):
    with pytest.raises(InvalidInputError, match="method='linear' supports"):
        alignkit.dtw(np.zeros(5), np.zeros(6), method="linear", **kwargs)


def test_unknown_method_is_named():
    with pytest.raises(InvalidInputError, match="method must be 'auto', 'matrix' or 'linear'"):
        alignkit.dtw([0.0], [0.0], method="fast")

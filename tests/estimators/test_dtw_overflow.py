"""DTWAligner refuses squared costs that overflow float64 on both backends (issue 13, item 2).

With values around 1e154 the summed squared DTW cost is ``inf``: the torch
medoid then took the argmin of infinite sums and picked the overflowing
sequence. Large values that do not overflow must give the brute-force medoid.
"""

import numpy as np
import pytest

from alignkit import DTWAligner, dtw_distance
from alignkit.exceptions import InvalidInputError

BACKENDS = ["numba", "torch"]


def _collection(seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(rng.integers(4, 9), 2)) * scale for _ in range(6)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_overflowing_sequence_is_named_not_picked_as_medoid(backend):
    if backend == "torch":
        pytest.importorskip("torch")
    X = _collection(0)
    X[2] = X[2].copy()
    X[2][1, 0] = 1e155
    aligner = DTWAligner(backend=backend, window=3)
    with pytest.raises(InvalidInputError, match=r"between X\[0\] and X\[2\] overflows float64"):
        aligner.fit(X)


def test_torch_transform_names_the_overflowing_sequence():
    pytest.importorskip("torch")
    X = _collection(1)
    aligner = DTWAligner(backend="torch").fit(X)
    bad = [X[0], X[1].copy()]
    bad[1][0, 1] = -1e155
    with pytest.raises(InvalidInputError, match=r"between X\[1\] and reference_ overflows"):
        aligner.transform(bad)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("window", [None, 2])
def test_large_values_that_do_not_overflow_give_the_brute_force_medoid(backend, window):
    if backend == "torch":
        pytest.importorskip("torch")
    # Squared differences near 1e300: every pair's sum, and every row of sums, stays finite.
    X = _collection(2, scale=1e150)
    sums = [sum(dtw_distance(a, b, window=window, squared=True) for b in X) for a in X]
    assert np.all(np.isfinite(sums))
    aligner = DTWAligner(backend=backend, window=window).fit(X)
    assert aligner.reference_index_ == int(np.argmin(sums))
    warped = aligner.transform(X)
    assert np.all(np.isfinite(warped))

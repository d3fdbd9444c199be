"""Weighted DTW kernels (Jeong et al. 2011): local cost ``w[|i - j|] * ||a_i - b_j||^2``."""

import numpy as np
from numba import njit

from ._dtw import _min3, _sqeuclidean
from ._flags import JIT_OPTIONS

_INF = np.inf


@njit(**JIT_OPTIONS)
def wdtw_banded_matrix(x, y, lo, hi, offsets, weights):
    """Accumulated weighted cost over the band (row ``i`` at ``acc[offsets[i]:]``).

    ``lo``/``hi`` must be non-decreasing: two dense rows then give
    branch-free neighbour reads, and the only stale slot a row can read is its
    left neighbour, reset each row.
    """
    n = x.shape[0]
    m = y.shape[0]
    acc = np.empty(offsets[n], dtype=np.float64)
    prev = np.full(m + 1, _INF)
    cur = np.full(m + 1, _INF)
    prev[0] = 0.0
    for i in range(n):
        cur[lo[i]] = _INF
        left = _INF
        base = offsets[i] - lo[i]
        for j in range(lo[i], hi[i]):
            cost = weights[abs(i - j)] * _sqeuclidean(x, i, y, j)
            left = cost + _min3(prev[j], prev[j + 1], left)
            cur[j + 1] = left
            acc[base + j] = left
        prev, cur = cur, prev
    return acc

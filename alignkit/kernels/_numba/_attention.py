"""The DP of the hard attention path: symmetric1 accumulation of a given local-cost matrix.

Used by :func:`alignkit.attention_path` (DTW on ``-log`` attention weights);
the backtrack is the DTW engine's ``backtrack_banded`` over the full band.
"""

import numpy as np
from numba import njit

from ._flags import JIT_OPTIONS

__all__ = ["accumulate_cost"]


@njit(**JIT_OPTIONS)
def accumulate_cost(cost):
    """Symmetric1 accumulated cost of a precomputed local-cost matrix, row-major and flat."""
    n, m = cost.shape
    acc = np.empty(n * m)
    for i in range(n):
        for j in range(m):
            if i == 0 and j == 0:
                best = 0.0
            elif i == 0:
                best = acc[j - 1]
            elif j == 0:
                best = acc[(i - 1) * m]
            else:
                best = min(acc[(i - 1) * m + j - 1], acc[(i - 1) * m + j], acc[i * m + j - 1])
            acc[i * m + j] = cost[i, j] + best
    return acc

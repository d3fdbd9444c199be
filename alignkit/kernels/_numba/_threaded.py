"""Distance matrices on numba's thread pool, inside one process.

The rows are cut beforehand into one chunk per requested worker, with about
the same number of pairs each, and ``prange`` runs over the chunks: the
number of busy threads follows ``n_jobs`` without touching numba's global
thread count.
"""

import numpy as np
from numba import njit, prange

from ._dtw import dtw_distance_pair
from ._flags import JIT_OPTIONS


@njit(parallel=True, **JIT_OPTIONS)
def dtw_matrix_threads(x_flat, x_off, y_flat, y_off, kind, radius, value, row_edges, upper):
    """Summed-cost matrix between two packed collections, one thread per row chunk.

    Chunk ``c`` holds rows ``row_edges[c]:row_edges[c + 1]``. With ``upper``
    (``x`` and ``y`` the same collection) only entries right of the diagonal
    are computed; the others stay zero.
    """
    n_x = x_off.shape[0] - 1
    n_y = y_off.shape[0] - 1
    out = np.zeros((n_x, n_y))
    for chunk in prange(row_edges.shape[0] - 1):
        for a in range(row_edges[chunk], row_edges[chunk + 1]):
            x = x_flat[x_off[a] : x_off[a + 1]]
            for b in range(a + 1 if upper else 0, n_y):
                out[a, b] = dtw_distance_pair(
                    x, y_flat[y_off[b] : y_off[b + 1]], kind, radius, value
                )
    return out

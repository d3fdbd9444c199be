"""Distance matrices on numba's thread pool, inside one process.

The driver cuts the pairs into rounds of bounded work and each round into
one chunk per requested worker, with about the same number of DP cells
each; ``prange`` runs over the chunks of one round: the number of busy
threads follows ``n_jobs`` without touching numba's global thread count.
Between rounds the driver is back in Python, so Ctrl-C
(``KeyboardInterrupt``) stops a long matrix within a round's time.
"""

from numba import njit, prange

from ._dtw import dtw_distance_pair
from ._flags import JIT_OPTIONS


@njit(parallel=True, **JIT_OPTIONS)
def dtw_pairs_threads(x_flat, x_off, y_flat, y_off, kind, radius, value, cuts, upper, out):
    """Fill the entries of ``out`` between consecutive cuts, one thread per chunk.

    ``out`` is the summed-cost matrix between two packed collections, of
    shape ``(n_x, n_y)``. The pairs are taken in row-major order (with
    ``upper``, ``x`` and ``y`` the same collection, only those right of the
    diagonal); ``cuts[c] = (row, column)`` is the first pair of chunk ``c``,
    ``(row, n_y)`` meaning the start of row ``row + 1``, and chunk ``c`` ends
    where chunk ``c + 1`` starts. Other entries are left as they are.
    """
    n_y = y_off.shape[0] - 1
    for chunk in prange(cuts.shape[0] - 1):
        first_row, first_col = cuts[chunk, 0], cuts[chunk, 1]
        last_row, last_col = cuts[chunk + 1, 0], cuts[chunk + 1, 1]
        for a in range(first_row, min(last_row + 1, x_off.shape[0] - 1)):
            x = x_flat[x_off[a] : x_off[a + 1]]
            start = first_col if a == first_row else (a + 1 if upper else 0)
            stop = last_col if a == last_row else n_y
            for b in range(start, stop):
                out[a, b] = dtw_distance_pair(
                    x, y_flat[y_off[b] : y_off[b + 1]], kind, radius, value
                )

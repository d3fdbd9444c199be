"""Driver of the exact z-normalised search: seeding, passes for k matches, parallel chunks.

The kernel (:mod:`alignkit.kernels._numba._search`) scans start positions with the
UCR Suite's cascade of lower bounds against a best-so-far distance. Two things decide
its speed besides the bounds themselves:

- **The seed.** A scan that starts from ``inf`` spends most of its time before the
  best-so-far comes down. The seed is the exact distance of one real window, found by
  the same search on a 4x coarser copy (means of 4 timepoints, recursively) and
  refined at full resolution around the coarse match; the full scan then only has to
  beat it. The seed is an upper bound of the best distance, so the result stays exact.
- **Chunks.** With ``n_jobs`` the starts are split into contiguous chunks scanned in
  threads (the kernel releases the GIL) against the same seed; the best of the chunks
  (ties: the earliest start) is the best of the whole scan, because a window's
  statistics depend only on its start.

``k`` matches take ``k`` passes: after each, the starts whose window would come
closer than ``exclusion_zone`` to the match are blocked, as the exhaustive search does.
"""

import numpy as np

STAT_NAMES = (
    "windows",
    "pruned_by_kim",
    "pruned_by_keogh_eq",
    "pruned_by_keogh_ec",
    "dtw_abandoned",
    "dtw_completed",
)

COARSEN = 4  # timepoints averaged per coarse timepoint
MIN_COARSE_QUERY = 8  # the coarse query must stay this long to be selective
MIN_COARSE_WINDOWS = 4096  # below this many coarse windows a seed is not worth it
MIN_CHUNK = 65_536  # starts per thread: below this, starting threads costs more than it saves


def znormalize(array):
    """Z-normalise each channel (population std); a constant channel becomes zeros."""
    from ..kernels._numba._search import FLAT

    mean = array.mean(axis=0)
    std = array.std(axis=0)
    flat = std < FLAT * np.maximum(1.0, np.abs(mean))
    return np.ascontiguousarray((array - mean) / np.where(flat, np.inf, std))


class _Problem:
    """The arrays the kernel needs for one series and query (query already z-normalised)."""

    def __init__(self, series, query, radius, n_jobs=None):
        from ..kernels._numba._search import series_envelope, series_envelope_into

        self.n = len(query)
        self.radius = min(radius, self.n - 1)
        univariate = series.shape[1] == 1
        self.series = np.ascontiguousarray(series[:, 0] if univariate else series)
        self.query = np.ascontiguousarray(query[:, 0] if univariate else query)
        self.q_lower, self.q_upper = series_envelope(self.query, self.radius)
        magnitude = np.abs(query).sum(axis=1)
        self.order = np.argsort(-magnitude, kind="stable").astype(np.int64)
        self.count = len(series) - self.n + 1
        self.n_jobs = n_jobs
        self.env_lower = np.empty_like(self.series)
        self.env_upper = np.empty_like(self.series)
        _run_chunks(
            lambda first, last: series_envelope_into(
                self.series, self.radius, first, last, self.env_lower, self.env_upper
            ),
            _chunks(len(series), n_jobs),
        )

    def scan(self, first, last, blocked, bsf):
        from ..kernels._numba._search import search_best

        return search_best(
            self.series,
            self.query,
            self.order,
            self.q_lower,
            self.q_upper,
            self.env_lower,
            self.env_upper,
            self.radius,
            first,
            last,
            blocked,
            bsf,
        )


def _run_chunks(func, chunks):
    """``func(first, last)`` for every chunk, in threads when there are several."""
    if len(chunks) == 1:
        return [func(*chunks[0])]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(chunks)) as pool:
        futures = [pool.submit(func, first, last) for first, last in chunks]
        return [future.result() for future in futures]


def _coarse(series, query, blocked, radius):
    """The 4x coarser problem, or None when it would be too short to be a useful seed."""
    n = len(query)
    n_coarse = n // COARSEN
    windows = len(series) // COARSEN - n_coarse + 1
    if n_coarse < MIN_COARSE_QUERY or windows < MIN_COARSE_WINDOWS:
        return None
    usable = (len(series) // COARSEN) * COARSEN
    series_c = series[:usable].reshape(-1, COARSEN, series.shape[1]).mean(axis=1)
    query_c = znormalize(query[: n_coarse * COARSEN].reshape(-1, COARSEN, query.shape[1]).mean(1))
    # A coarse window is blocked when the full-resolution start it stands for is.
    blocked_c = blocked[: windows * COARSEN : COARSEN].copy()
    return series_c, query_c, blocked_c, -(-radius // COARSEN)


def _seed(series, query, radius, blocked, problem):
    """An upper bound of the best distance: a real window's, from a coarser search."""
    coarse = _coarse(series, query, blocked, radius)
    if coarse is None:
        return np.inf
    series_c, query_c, blocked_c, radius_c = coarse
    start_c, _, _ = _best(series_c, query_c, radius_c, blocked_c, None, problem.n_jobs)
    if start_c < 0:
        return np.inf
    centre = start_c * COARSEN
    first = max(0, centre - COARSEN)
    last = min(problem.count, centre + COARSEN + 1)
    _, distance, _ = problem.scan(first, last, blocked, np.inf)
    return distance


def _best(series, query, radius, blocked, problem, n_jobs, stats=None):
    """Best unblocked start, its squared distance and the scan's counts."""
    if problem is None:
        problem = _Problem(series, query, radius, n_jobs)
    seed = _seed(series, query, radius, blocked, problem)
    # Beat the seed or equal it: the scan then recomputes the seed's window itself and
    # keeps the earliest of equal windows.
    threshold = np.nextafter(seed, np.inf) if np.isfinite(seed) else np.inf
    results = _run_chunks(
        lambda first, last: problem.scan(first, last, blocked, threshold),
        _chunks(problem.count, n_jobs),
    )
    best_start, best_distance = -1, np.inf
    for start, distance, counts in results:
        if stats is not None:
            stats += counts
        if start >= 0 and (distance < best_distance or best_start < 0):
            best_start, best_distance = start, distance
    return best_start, best_distance, problem


def _chunks(count, n_jobs):
    if n_jobs is None or n_jobs == 1 or count < 2 * MIN_CHUNK:
        return [(0, count)]
    from joblib import effective_n_jobs

    workers = min(effective_n_jobs(n_jobs), count // MIN_CHUNK)
    edges = np.linspace(0, count, workers + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def znormalized_search(query, series, radius, k, zone, n_jobs=None):
    """The ``k`` best non-overlapping windows of the query's length under banded DTW.

    Parameters
    ----------
    query : ndarray of shape (n, n_channels)
        Validated query (not yet z-normalised).
    series : ndarray of shape (m, n_channels)
        Validated series, ``m >= n``.
    radius : int
        Sakoe-Chiba radius (``n - 1`` or more: no constraint).
    k, zone : int
        Number of matches and exclusion zone, as in ``subsequence_search``.
    n_jobs : int, default=None
        Threads for the scan.

    Returns
    -------
    found : list of (float, int)
        ``(summed squared cost, start)``, best first.
    stats : dict
        How many windows each stage of the cascade pruned, summed over the passes.
    """
    from ..kernels._numba._search import N_STATS

    query_z = znormalize(query)
    n = len(query)
    problem = _Problem(series, query_z, radius, n_jobs)
    blocked = np.zeros(problem.count, dtype=np.bool_)
    counts = np.zeros(N_STATS, dtype=np.int64)
    found = []
    while len(found) < k:
        start, distance, _ = _best(series, query_z, radius, blocked, problem, n_jobs, counts)
        if start < 0:
            break
        found.append((float(distance), int(start)))
        blocked[max(start - n - zone + 1, 0) : start + n + zone] = True
    stats = dict(zip(STAT_NAMES, (int(value) for value in counts)))
    stats["passes"] = len(found) + (len(found) < k)
    return found, stats

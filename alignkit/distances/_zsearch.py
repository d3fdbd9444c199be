"""Driver of the exact z-normalised search: seeding, passes for k matches, parallel chunks.

The kernel (:mod:`alignkit.kernels._numba._search`) scans start positions with the
UCR Suite's cascade of lower bounds against a best-so-far distance. Two things decide
its speed besides the bounds themselves:

- **The seed.** A scan that starts from ``inf`` spends most of its time before the
  best-so-far comes down. The seed is the exact distance of one real window, found by
  the same search on a 4x coarser copy (means of 4 timepoints, recursively) and
  refined at full resolution around the coarse match; the full scan then only has to
  beat it. The seed is an upper bound of the best distance, so the result stays exact.
  In threads, the seed is found in regions, one per thread, without a barrier between
  the levels: each thread takes the best window of its region two levels down, refines
  it one level up, scans its region of that level against a threshold the regions
  share, refines what it finds at full resolution, lowers the shared threshold of the
  full scan with it and starts that scan (the short coarse scans, each a parallel step
  of its own, scaled badly: a hand-over between threads costs about 0.1 ms here).
- **Chunks.** With ``n_jobs`` the starts are split into contiguous chunks scanned in
  threads (the kernel releases the GIL) against the same seed; the best of the chunks
  (ties: the earliest start) is the best of the whole scan, because a window's
  statistics depend only on its start.

``k`` matches take ``k`` passes: after each, the starts whose window would come
closer than ``exclusion_zone`` to the match are blocked, as the exhaustive search does.
From ``ONE_PASS_K`` matches on, the later passes cost the most (the later matches' distances
are far above the best one's, and each pass scans against them), so on a series of
``ONE_PASS_MIN_CHUNKS`` chunks of ``ONE_PASS_CHUNK`` starts or more the search is one
pass instead, as out of core (below): over those chunks, each with a coarse seed of its
own, whose windows bound the ``k``-th match before the scan.

Threads share one threshold (a one-element array the kernel reads at every block and
lowers to just above each distance it finds: a chunk that finds a good window early
lets the others prune with it), and the starts are cut into several chunks per
thread, taken by the threads as they come free, so that a chunk whose windows are
dearer to prune does not hold the others up (the last round in chunks of one epoch,
so the threads finish within one epoch's scan of each other). Each thread's first
task is its region's part of the coarse copy (in the first pass; it also refuses NaN
and inf when validation left them to the search) and its region's seed, so a pass is
handed to the threads once: a pool kept for the process (the calling thread is one of
its workers), since a search of 10^6 points is over in about ten milliseconds, and
waking a thread costs about 0.1 ms here.

**Out of core** (:func:`chunked_search`): a series that is not held in memory (a
``np.memmap``, an iterator of blocks) is read in chunks of starts, each with the
timepoints its windows and envelope reach, and each chunk is searched once, on its
own (a joblib task: threads, or a Dask cluster through joblib's backend). Instead of
``k`` passes, a chunk keeps every window whose distance is at most a threshold that
the ``k``-th match of the whole series cannot exceed (see
:func:`alignkit.kernels._numba._search.tighten`); the parent merges the chunks'
windows and picks the matches greedily, as one pass over the whole series would.
Chunks start at multiples of the kernel's epoch, so every window's statistics, and
hence every distance, are bit-identical to the in-memory search.
"""

import functools
import os
import threading

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
MIN_COPY_THREADS = 1 << 17  # coarse timepoints from which the coarse copy runs in threads
MIN_CHUNK = 16_384  # starts per thread: below this, starting threads costs more than it saves
CHUNKS_PER_THREAD = 8  # chunks taken by the threads as they come free: balances the load
MAX_OVERLAP = 1 << 20  # coarse timepoints up to which threads seed in regions (no barrier)
# From ONE_PASS_K matches on, and ONE_PASS_MIN_CHUNKS chunks of ONE_PASS_CHUNK starts, one
# pass over those chunks, each with a coarse seed of its own: the seeds bound the k-th
# match from the start, where k passes scan k times against the looser distances of the
# later matches (10^6 points, k = 5: 3x faster; k = 10: 5x; 3 x 10^5 points: 1.1x-2.9x).
# With fewer seeds the bound is loose (1.5 x 10^5 points, k = 5: up to 3x slower), and
# for k = 2 the two passes are as fast.
ONE_PASS_K = 3
ONE_PASS_CHUNK = 1 << 15
ONE_PASS_MIN_CHUNKS = 8
# In threads, from 12 chunks: at 3 x 10^5 points (9 chunks) two threads took 1.3x-2.5x
# longer in one pass than in k passes in four of six cases, and at 5 x 10^5 (15) 1.3x-2.5x
# less in five of six (k = 3, 5, 10; 128, r = 6 and 256, r = 25).
ONE_PASS_MIN_CHUNKS_THREADS = 12
SPLIT_TAIL = True  # the last round of chunks in one-epoch chunks (False: as the others)


@functools.cache
def _kernels():
    """The search's Numba kernels, imported on first use (``import alignkit`` stays light;
    a function-level import on every call costs a few microseconds, dozens per search)."""
    from ..kernels._numba import _search

    return _search


def znormalize(array):
    """Z-normalise each channel (population std); a constant channel becomes zeros."""
    # numpy's mean and std, step by step as they compute them (the same bits), without
    # computing the mean twice: this runs several times in every search.
    count = len(array)
    mean = np.add.reduce(array, axis=0) / count
    centred = array - mean
    std = np.sqrt(np.add.reduce(centred * centred, axis=0) / count)
    flat = std < _kernels().FLAT * np.maximum(1.0, np.abs(mean))
    return np.ascontiguousarray(centred / np.where(flat, np.inf, std))


def _kernel_view(array):
    """A validated ``(n, n_channels)`` array as the kernels take it: 1-D when univariate."""
    return np.ascontiguousarray(array[:, 0] if array.shape[1] == 1 else array)


class _Problem:
    """The arrays the kernel needs for one series and query (query already z-normalised)."""

    def __init__(self, series, query, radius):
        self.n = len(query)
        self.radius = min(radius, self.n - 1)
        self.series = _kernel_view(series)
        self.query = _kernel_view(query)
        self.q_lower, self.q_upper = _kernels().series_envelope(self.query, self.radius)
        magnitude = np.abs(query).sum(axis=1)
        self.order = np.argsort(-magnitude, kind="stable").astype(np.int64)
        self.count = len(series) - self.n + 1

    def scan(self, first, last, blocked, bsf, shared=None):
        if shared is None:
            shared = np.full(1, np.inf)
        return _kernels().search_best(
            self.series,
            self.query,
            self.order,
            self.q_lower,
            self.q_upper,
            self.radius,
            first,
            last,
            blocked,
            bsf,
            shared,
        )


def _run_chunks(func, chunks, workers=None, before=None, head=None):
    """``func(first, last)`` for every chunk, in ``workers`` threads (default: one each).

    The threads are kept between calls (:func:`_pool`): a search at 10^6 points is
    over in about ten milliseconds, and starting threads for each call would cost a
    noticeable part of it. ``before`` and ``head`` (callables, or None) run
    first, ``before`` in the calling thread and ``head`` in one of the others (in
    the calling thread, first, when there are none) while the rest already take
    chunks; the threads then take chunks too. ``head`` may be a list: one first task
    for each of the other threads, in turn (those beyond the threads started, when
    there are fewer chunks than ``workers``, do not run).
    """
    workers = min(workers or len(chunks), len(chunks))
    pool = _pool(workers) if workers > 1 else None
    heads = list(head) if isinstance(head, (list, tuple)) else [head]
    if pool is None:  # one thread, or called from one of the pool's threads: run here
        for task in heads + [before]:
            if task is not None:
                task()
        return [func(first, last) for first, last in chunks]
    # ``workers`` queues, each taking the next chunk as it comes free (the chunks are
    # listed in series order; the results come back in it).
    from concurrent.futures import wait

    chunks = list(chunks)
    results = [None] * len(chunks)
    indices = iter(range(len(chunks)))
    lock = threading.Lock()
    failed = []

    def drain(task=None):
        if task is not None:
            try:
                task()
            except BaseException:
                failed.append(True)
                raise
        while not failed:
            with lock:
                index = next(indices, None)
            if index is None:
                return
            try:
                results[index] = func(*chunks[index])
            except BaseException:
                failed.append(True)  # the other workers stop taking chunks
                raise

    futures = [pool.submit(drain, heads[i] if i < len(heads) else None) for i in range(workers - 1)]
    try:
        drain(before)  # the calling thread is one of the workers
    finally:
        for future in futures:
            future.cancel()  # not started yet (the pool is busy elsewhere): not needed
        wait(futures)  # no thread is left writing into the arrays after this returns
    for future in futures:
        if not future.cancelled():
            future.result()
    return results


_POOLS = {}


def _pool(workers):
    """A thread pool of ``workers - 1`` threads kept for this process (None inside one)."""
    if getattr(threading.current_thread(), "_alignkit_search", False):
        return None
    key = (os.getpid(), workers)  # a forked child starts its own threads
    pool = _POOLS.get(key)
    if pool is None:
        from concurrent.futures import ThreadPoolExecutor

        def mark():
            threading.current_thread()._alignkit_search = True

        pool = _POOLS.setdefault(
            key,
            ThreadPoolExecutor(workers - 1, thread_name_prefix="alignkit-search", initializer=mark),
        )
    return pool


def _coarse_size(length, n):
    """Timepoints and query length of the 4x coarser problem, or None if too short."""
    n_coarse = n // COARSEN
    length_c = length // COARSEN
    if n_coarse < MIN_COARSE_QUERY or length_c - n_coarse + 1 < MIN_COARSE_WINDOWS:
        return None
    return length_c, n_coarse


def _copies(series, n, n_jobs=None, check=False):
    """The coarser copies of ``series`` that a search for a query of ``n`` timepoints
    seeds with: 4x, 16x, ... coarser, as long as each level stays long enough
    (:func:`_coarse_size`; an empty list when the first is too short).

    The first two levels come from one pass over the series, in threads where it is
    long (``n_jobs``), and the copies do not depend on what is blocked, so the ``k``
    passes of a search share them. With ``check``, that pass also refuses NaN and inf
    in the series (the error of :func:`alignkit.validation.check_sequence`, naming
    the timepoint): the validation then costs no pass of its own.
    """
    copies = _allocate_copies(series, n)
    channels = series.shape[1]
    finite = True
    if copies:
        out = _kernel_view(copies[0])  # views: written in place
        out2 = _kernel_view(copies[1] if len(copies) > 1 else np.empty((0, channels)))
        source = _kernel_view(series)
        # In threads only where the copy takes a millisecond or so (handing it out costs
        # more); the chunks' edges are multiples of the epoch, hence of COARSEN.
        copy_jobs = n_jobs if len(copies[0]) >= MIN_COPY_THREADS else None
        finite = all(
            _run_chunks(
                lambda first, last: _kernels().coarsen_into(
                    source, COARSEN, first, last, out, out2
                ),
                _chunks(len(copies[0]), copy_jobs),
            )
        )
        empty = np.empty((0,) + out.shape[1:])
        for level in range(2, len(copies)):  # short: one pass each, on the level above
            coarser, finer = _kernel_view(copies[level]), _kernel_view(copies[level - 1])
            _kernels().coarsen_into(finer, COARSEN, 0, len(coarser), coarser, empty)
    if check and not (finite and _tail_finite(series, copies)):
        _refuse_non_finite(series)
    return copies


def _allocate_copies(series, n, levels=None):
    """Empty arrays for the coarser copies :func:`_copies` makes (at most ``levels``)."""
    sizes = []
    length, query = len(series), n
    while (size := _coarse_size(length, query)) is not None and len(sizes) != levels:
        sizes.append(size[0])
        length, query = size
    return [np.empty((length_c, series.shape[1])) for length_c in sizes]


def _tail_finite(series, copies):
    """Whether the timepoints no block of the first copy reaches are finite."""
    read = COARSEN * len(copies[0]) if copies else 0
    return bool(np.isfinite(series[read:]).all())


def _refuse_non_finite(series):
    """Raise check_sequence's error for the first NaN or inf of ``series``, if any (none:
    a copy's sum of finite values overflowed)."""
    from ..validation import _check_finite

    _check_finite(series, "series", None)


class _CopyParts:
    """The first two coarse copies of a series, in one part per region (:func:`_region_seeds`).

    A region's task copies its own part, then any part no task has taken yet (a thread
    of the pool may still be busy elsewhere), then waits for the others: the copy needs
    no step of its own, handed out to the threads and waited for. With ``check``, NaN
    and inf found in the copy are refused (:func:`_copies`).
    """

    def __init__(self, series, copies, edges, check):
        self.series, self.check = series, check
        self.source = _kernel_view(series)
        self.out, self.out2 = _kernel_view(copies[0]), _kernel_view(copies[1])
        bounds = [COARSEN * edge for edge in edges[:-1]] + [len(copies[0])]
        self.parts = list(zip(bounds[:-1], bounds[1:]))
        self.taken = [False] * len(self.parts)
        self.done = [threading.Event() for _ in self.parts]
        self.finite = [True] * len(self.parts)
        self.error = None
        self.lock = threading.Lock()

    def _copy(self, index):
        claimed = False
        try:
            with self.lock:
                if self.taken[index]:
                    return
                claimed = True  # before ``taken``: an interrupt between the two sets ``done``
                self.taken[index] = True
            first, last = self.parts[index]
            self.finite[index] = _kernels().coarsen_into(
                self.source, COARSEN, first, last, self.out, self.out2
            )
        except BaseException as error:
            self.error = error  # raised by every region's task
        finally:
            if claimed:  # never left unset: the other regions wait for it
                self.done[index].set()

    def complete(self, index):
        """Copy part ``index`` and the parts nobody took, and wait for the rest."""
        for other in [index] + [i for i in range(len(self.parts)) if i != index]:
            self._copy(other)
        for event in self.done:
            event.wait()
        if self.error is not None:
            raise self.error
        if self.check and not all(self.finite):
            _refuse_non_finite(self.series)  # every region raises the same error
            self.check = False  # finite values whose sum overflowed: checked once


def _region_edges(count_cc, workers):
    """Region edges on the starts two coarse levels down (multiples of the kernel's
    block), or None when the regions would be shorter than a block."""
    block = _kernels().BLOCK
    edges = [count_cc * i // workers // block * block for i in range(workers)] + [count_cc]
    return edges if len(set(edges)) > workers else None


def _region_parts(series, n, workers, check):
    """The copies and their :class:`_CopyParts` when a search in threads seeds in
    regions (:func:`_region_seeds`), else None (the copies are then made up front)."""
    if workers < 2 or len(series) // COARSEN > MAX_OVERLAP:
        return None
    copies = _allocate_copies(series, n, levels=2)
    if len(copies) < 2:
        return None
    edges = _region_edges(len(copies[1]) - n // COARSEN**2 + 1, workers)
    if edges is None:
        return None
    if check and not _tail_finite(series, copies):
        _refuse_non_finite(series)
    return copies, _CopyParts(series, copies, edges, check)


def _coarse(series, query, blocked, radius, n_jobs=None, copies=None):
    """The 4x coarser problem, or None when it would be too short to be a useful seed.

    ``(series_c, query_c, blocked_c, radius_c, copies_c)``: ``copies`` are the coarser
    copies of ``series`` (:func:`_copies`; made here when None), and ``copies_c`` those
    of ``series_c``, the levels below it.
    """
    if copies is None:
        copies = _copies(series, len(query), n_jobs)
    if not copies:
        return None
    series_c = copies[0]
    n_coarse = len(query) // COARSEN
    query_c = znormalize(query[: n_coarse * COARSEN].reshape(-1, COARSEN, query.shape[1]).mean(1))
    # A coarse window is blocked when the full-resolution start it stands for is.
    windows = len(series_c) - n_coarse + 1
    blocked_c = np.zeros(windows, dtype=np.bool_)
    if blocked.any():  # (a pass with nothing blocked yet keeps the zeros)
        # The last coarse window can stand for a start past the last one (when the
        # query's length is no multiple of COARSEN): that one stays unblocked.
        below = blocked[: windows * COARSEN : COARSEN]
        blocked_c[: len(below)] = below
    return series_c, query_c, blocked_c, -(-radius // COARSEN), copies[1:]


def _seed(series, query, radius, blocked, problem, n_jobs):
    """An upper bound of the best distance: a real window's, from a coarser search."""
    return _seed_window(series, query, radius, blocked, problem, n_jobs)[1]


def _seed_window(series, query, radius, blocked, problem, n_jobs):
    """The start and distance of the window :func:`_seed` finds, or ``(-1, inf)``."""
    return _seed_from(_coarse(series, query, blocked, radius, n_jobs), problem, blocked, n_jobs)


def _seed_from(coarse, problem, blocked, n_jobs):
    """:func:`_seed_window` from the coarse problem :func:`_coarse` made (or None)."""
    if coarse is None:
        return -1, np.inf
    series_c, query_c, blocked_c, radius_c, copies_c = coarse
    start_c, _, _ = _best(series_c, query_c, radius_c, blocked_c, None, n_jobs, copies=copies_c)
    return _refine(problem, blocked, start_c)


def _refine(problem, blocked, start_c, levels=1):
    """The best window at full resolution for the start ``start_c`` found ``levels``
    coarse levels down, as ``(start, distance)``, or ``(-1, inf)``.

    One level down, the starts within ``COARSEN`` of ``start_c * COARSEN``; two, the
    starts that refining level by level could reach.
    """
    if start_c < 0:
        return -1, np.inf
    centre = start_c * COARSEN**levels
    reach = sum(COARSEN**level for level in range(1, levels + 1))
    first = max(0, centre - reach)
    last = min(problem.count, centre + reach + 1)
    start, distance, _ = problem.scan(first, last, blocked, np.inf)
    return start, distance


def _best(series, query, radius, blocked, problem, n_jobs, stats=None, copies=None, parts=None):
    """Best unblocked start, its squared distance and the scan's counts (``copies``:
    the coarser copies of ``series``, made here when None; ``parts``: their
    :class:`_CopyParts` when the region tasks are to make them)."""
    if problem is None:
        problem = _Problem(series, query, radius)
    chunks = _chunks(problem.count, n_jobs, CHUNKS_PER_THREAD)
    workers = _workers(problem.count, n_jobs)
    overlap = workers > 1 and len(series) // COARSEN <= MAX_OVERLAP
    coarse = _coarse(series, query, blocked, radius, n_jobs, copies)
    shared = np.full(1, np.inf)
    before = head = None
    tasks = _region_seeds(problem, blocked, coarse, workers, shared, parts) if overlap else None
    if tasks is None and parts is not None:
        raise AssertionError("the region tasks were to make the copies")  # _region_parts
    if tasks is not None:
        before, head = tasks[0], tasks[1:]
    else:
        # Beat the seed or equal it: the scan then recomputes the seed's window itself and
        # keeps the earliest of equal windows.
        shared[0] = np.nextafter(_seed_from(coarse, problem, blocked, n_jobs)[1], np.inf)
    threshold = shared[0]
    results = _run_chunks(
        lambda first, last: problem.scan(first, last, blocked, threshold, shared),
        chunks,
        workers,
        before,
        head,
    )
    best_start, best_distance = -1, np.inf
    for start, distance, counts in results:
        if stats is not None:
            stats += counts
        # Chunks in series order: on equal distances the earliest start wins.
        if start >= 0 and distance < best_distance:
            best_start, best_distance = start, distance
    return best_start, best_distance, problem


def _lowering(shared):
    """A function that lowers the shared threshold to just above a distance (under a
    lock: two regions lowering it at once must not leave the higher one)."""
    lock = threading.Lock()

    def lower(distance):
        threshold = np.nextafter(distance, np.inf)
        with lock:
            if threshold < shared[0]:
                shared[0] = threshold

    return lower


def _region_seeds(problem, blocked, coarse, workers, shared, parts=None):
    """One first task per thread, or None: each seeds one of ``workers`` regions of the
    starts, and all lower the shared threshold (``coarse`` with two levels of copies).

    A region's task finds its best window two coarse levels down (from ``inf``, as one
    thread seeds the coarsest level), refines it one level up, scans its region of that
    level against a threshold the regions share, and refines the best window it finds
    (or, when the other regions' windows pruned all of its own, its window two levels
    down) at full resolution. Any real window's distance bounds the best one, so the
    matches stay exact; the regions need no barrier between the levels. With ``parts``
    (:class:`_CopyParts`), each task first completes the copies the levels are read from.
    """
    if coarse is None:
        return None
    series_c, query_c, blocked_c, radius_c, copies_c = coarse
    below = _coarse(series_c, query_c, blocked_c, radius_c, None, copies_c)
    if below is None:
        return None
    series_cc, query_cc, blocked_cc, radius_cc, _ = below
    problem_c = _Problem(series_c, query_c, radius_c)
    problem_cc = _Problem(series_cc, query_cc, radius_cc)
    count_cc = problem_cc.count
    edges = _region_edges(count_cc, workers)
    if edges is None:
        return None
    shared_c = np.full(1, np.inf)
    lower, lower_c = _lowering(shared), _lowering(shared_c)

    def task(index, first, last):
        def seed():
            if parts is not None:
                parts.complete(index)
            start_cc, _, _ = problem_cc.scan(first, last, blocked_cc, np.inf)
            if start_cc < 0:
                return
            lower_c(_refine(problem_c, blocked_c, start_cc)[1])
            last_c = problem_c.count if last == count_cc else last * COARSEN
            start_c, _, _ = problem_c.scan(
                first * COARSEN, last_c, blocked_c, shared_c[0], shared_c
            )
            if start_c >= 0:
                lower(_refine(problem, blocked, start_c)[1])
            else:
                lower(_refine(problem, blocked, start_cc, levels=2)[1])

        return seed

    return [task(i, a, b) for i, (a, b) in enumerate(zip(edges[:-1], edges[1:]))]


def _workers(count, n_jobs):
    """Threads for ``count`` starts: one per MIN_CHUNK starts at most."""
    if n_jobs is None or n_jobs == 1 or count < 2 * MIN_CHUNK:
        return 1
    if n_jobs < 0:  # as joblib counts them (the threads are this module's own)
        from joblib import effective_n_jobs

        n_jobs = effective_n_jobs(n_jobs)
    return max(1, min(n_jobs, count // MIN_CHUNK))


def _chunks(count, n_jobs, per_thread=1):
    """Contiguous ``[first, last)`` ranges of starts: ``per_thread`` for every thread."""
    workers = _workers(count, n_jobs)
    if workers == 1:
        return [(0, count)]
    # Whole rounds of chunks (each at least a quarter of MIN_CHUNK), so no thread idles.
    pieces = workers * max(1, min(per_thread, count // (workers * (MIN_CHUNK // 4))))
    epoch = _kernels().EPOCH
    # Edges on multiples of the kernel's epoch: a chunk that starts inside an epoch first
    # runs the window sums from the epoch's start, up to EPOCH - 1 windows of extra work.
    edges = [0] + [
        min(count, (count * i // pieces + epoch // 2) // epoch * epoch) for i in range(1, pieces)
    ]
    if SPLIT_TAIL and pieces > workers:
        # Taken as the threads come free: the last round in chunks of one epoch, so that
        # the threads end within one epoch's scan of each other (not one chunk's).
        tail = edges[-workers]
        edges = edges[:-workers] + list(range(tail, count - epoch // 2, epoch))
    edges.append(count)
    return [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def znormalized_search(query, series, radius, k, zone, n_jobs=None, one_pass=None, checked=True):
    """The ``k`` best non-overlapping windows of the query's length under banded DTW.

    Parameters
    ----------
    query : ndarray of shape (n, n_channels)
        Validated query (not yet z-normalised).
    series : ndarray of shape (m, n_channels)
        Validated series, ``m >= n`` (NaN and inf refused here unless ``checked``).
    radius : int
        Sakoe-Chiba radius (``n - 1`` or more: no constraint).
    k, zone : int
        Number of matches and exclusion zone, as in ``subsequence_search``.
    n_jobs : int, default=None
        Threads for the scan.
    one_pass : bool, default=None
        Search in one pass over chunks of ``ONE_PASS_CHUNK`` starts, each with a
        coarse seed of its own (:func:`chunked_search`), instead of ``k`` passes.
        ``None``: from ``ONE_PASS_K`` matches on, for ``ONE_PASS_MIN_CHUNKS`` chunks
        or more (``ONE_PASS_MIN_CHUNKS_THREADS`` in threads). The matches are the same.
    checked : bool, default=True
        Whether the series was checked for NaN and inf. False: the search refuses
        them itself, in the pass that makes its coarse copies
        (:class:`~alignkit.exceptions.InvalidInputError`, naming the timepoint).

    Returns
    -------
    found : list of (float, int)
        ``(summed squared cost, start)``, best first.
    stats : dict
        How many windows each stage of the cascade pruned, summed over the passes
        (one pass: over the chunks, and ``chunks``).
    """

    n = len(query)
    if one_pass is None:
        count = len(series) - n + 1
        threads = _workers(count, n_jobs) > 1
        chunks = ONE_PASS_MIN_CHUNKS_THREADS if threads else ONE_PASS_MIN_CHUNKS
        one_pass = k >= ONE_PASS_K and count >= chunks * ONE_PASS_CHUNK
    if one_pass:
        if not checked:
            from ..validation import _check_finite

            _check_finite(series, "series", None)

        def chunks():  # the series is validated already: its blocks as they are
            return array_chunks(series, n, min(radius, n - 1), ONE_PASS_CHUNK, _as_is)

        found, stats = chunked_search(
            query, chunks(), radius, k, zone, n_jobs or 1, chunks, threads=True
        )
        return [(distance, start) for distance, start, _ in found], stats
    query_z = znormalize(query)
    problem = _Problem(series, query_z, radius)
    blocked = np.zeros(problem.count, dtype=np.bool_)
    counts = np.zeros(_kernels().N_STATS, dtype=np.int64)
    # The copies for every pass: made by the first pass's region tasks in threads, else
    # up front.
    regions = _region_parts(series, n, _workers(problem.count, n_jobs), not checked)
    copies, parts = regions or (_copies(series, n, n_jobs, check=not checked), None)
    found = []
    while len(found) < k:
        start, distance, _ = _best(
            series, query_z, radius, blocked, problem, n_jobs, counts, copies, parts
        )
        if start < 0:
            break
        found.append((float(distance), int(start)))
        blocked[max(start - n - zone + 1, 0) : start + n + zone] = True
    stats = dict(zip(STAT_NAMES, (int(value) for value in counts)))
    stats["passes"] = len(found) + (len(found) < k)
    return found, stats


# --- out of core -------------------------------------------------------------------------


def _as_is(block, origin):
    return block


def chunk_layout(radius, chunk_size):
    """Starts per chunk and the timepoints read before a chunk's first start.

    Both are multiples of the kernel's epoch, so that a chunk's local timepoint 0
    falls on an epoch of the whole series (its windows' statistics are then the same).
    """

    epoch = _kernels().EPOCH
    chunk = -(-max(int(chunk_size), 1) // epoch) * epoch
    return chunk, -(-radius // epoch) * epoch


def array_chunks(series, n, radius, chunk_size, finish):
    """``(origin, data, first, last)`` for the chunks of an array held on disk or in memory.

    ``data = finish(series[origin:stop], origin)`` (validated float64) holds the windows
    of the starts ``origin + first .. origin + last - 1`` and their envelope.
    """
    total = len(series)
    count = total - n + 1
    chunk, pad = chunk_layout(radius, chunk_size)
    for first in range(0, count, chunk):
        last = min(count, first + chunk)
        origin = max(0, first - pad)
        stop = min(total, last + n - 1 + radius)
        yield origin, finish(series[origin:stop], origin), first - origin, last - origin


def stream_chunks(pieces, n, radius, chunk_size, finish, seen):
    """The chunks of a stream of blocks (any sizes), as :func:`array_chunks` gives them.

    ``finish(piece, origin)`` validates one block; ``seen[0]`` counts the timepoints
    read. Only the current chunk, the overlap it shares with the next and the block
    being read are held.
    """
    chunk, pad = chunk_layout(radius, chunk_size)
    held, origin, first = [], 0, 0
    for piece in pieces:
        block = finish(piece, seen[0])
        if len(block) == 0:
            continue
        seen[0] += len(block)
        held.append(block)
        while seen[0] >= first + chunk + n - 1 + radius:
            data = held[0] if len(held) == 1 else np.concatenate(held)
            stop = first + chunk + n - 1 + radius
            start = max(0, first - pad)
            yield start, data[start - origin : stop - origin], first - start, first + chunk - start
            first += chunk
            # Keep only what the next chunk reads.
            previous, origin = origin, max(0, first - pad)
            held = [data[origin - previous :]]
    count = seen[0] - n + 1
    if first < count:
        data = held[0] if len(held) == 1 else np.concatenate(held)
        start = max(0, first - pad)
        yield start, data[start - origin :], first - start, count - start


def _scan_chunk(query_z, data, origin, first, last, radius, n_select, separation, bound):
    """One chunk's candidate windows: global starts, distances, windows, threshold, counts.

    ``bound`` (a one-element array) is the tightest threshold known: shared by the
    tasks that run in threads of this process, a copy in other processes.
    """

    problem = _Problem(data, query_z, radius)
    threshold = bound[0]
    if n_select == 1 and not np.isfinite(threshold):
        # One match: a coarse seed, as in memory (any real window's distance bounds it).
        blocked = np.zeros(problem.count, dtype=np.bool_)
        threshold = _seed(data, query_z, problem.radius, blocked, problem, None)
        bound[0] = min(bound[0], threshold)
    starts, distances, threshold, counts = _kernels().search_candidates(
        problem.series,
        problem.query,
        problem.order,
        problem.q_lower,
        problem.q_upper,
        problem.radius,
        first,
        last,
        threshold,
        n_select,
        separation,
        bound,
    )
    n = len(query_z)
    windows = np.stack([data[s : s + n] for s in starts]) if len(starts) else None
    return starts + origin, distances, windows, threshold, counts


def _seed_chunk(query_z, data, origin, first, last, radius):
    """A real window of one chunk and its distance (a coarse seed), or ``(-1, inf)``.

    The distance is computed on the chunk as the search computes it (the same epochs),
    bit for bit, so that the window is kept when the seed is the threshold.
    """
    data = data[: last + len(query_z) - 1]
    problem = _Problem(data, query_z, radius)
    blocked = np.zeros(problem.count, dtype=np.bool_)
    start, distance = _seed_window(data, query_z, problem.radius, blocked, problem, None)
    return (origin + start if start >= 0 else -1), distance


class _Candidates:
    """The windows merged from the chunks that can still be among the matches."""

    def __init__(self, n_select, separation):
        self.n_select, self.separation = n_select, separation
        self.starts = np.zeros(0, dtype=np.int64)
        self.distances = np.zeros(0)
        self.windows = {}

    def add(self, starts, distances, windows, bound):

        self.starts = np.concatenate((self.starts, starts))
        self.distances = np.concatenate((self.distances, distances))
        self.windows.update(zip(starts.tolist(), windows if windows is not None else ()))
        # The candidates of all chunks together give a threshold no chunk saw alone.
        _, threshold = _kernels().tighten(
            self.starts.copy(), self.distances.copy(), len(self.starts), self.n_select,
            self.separation,
        )  # fmt: skip
        bound[0] = min(bound[0], threshold)
        keep = self.distances <= bound[0]
        for start in self.starts[~keep].tolist():
            del self.windows[start]
        self.starts, self.distances = self.starts[keep], self.distances[keep]

    def pick(self, k):
        """The greedy matches: increasing distance (ties: earliest), none in conflict."""
        kept = []
        for index in np.lexsort((self.starts, self.distances)):
            start = int(self.starts[index])
            if all(abs(start - other) >= self.separation for _, other, _ in kept):
                kept.append((float(self.distances[index]), start, self.windows[start]))
                if len(kept) == k:
                    break
        return kept


def chunked_search(query, chunks, radius, k, zone, n_jobs=None, reread=None, threads=False):
    """The ``k`` best windows of a series given in chunks, each chunk searched once.

    Parameters
    ----------
    query : ndarray of shape (n, n_channels)
        Validated query (not yet z-normalised).
    chunks : iterable of (int, ndarray, int, int)
        ``(origin, data, first, last)`` from :func:`array_chunks` or
        :func:`stream_chunks`.
    reread : callable, default=None
        For a series that can be read twice (an array, a memmap): returns the
        chunks again. A first pass then finds a coarse seed in every chunk,
        and the search starts from the threshold those windows give, as the
        in-memory search starts from its seed.
    radius, k, zone : int
        As in :func:`znormalized_search`.
    n_jobs : int, default=None
        Workers for joblib (threads, or the backend of an enclosing
        ``joblib.parallel_config``, e.g. Dask): the chunks are independent tasks.
    threads : bool, default=False
        Run the chunks in threads of this process whatever the enclosing
        backend (a series held in memory).

    Returns
    -------
    found : list of (float, int, ndarray)
        ``(summed squared cost, start, window)``, best first; ``window`` is the
        series' raw ``(n, n_channels)`` values at the match.
    stats : dict
        The cascade's counts summed over the chunks, and ``chunks``.
    """
    from ..core.parallel import Parallel, delayed

    query_z = znormalize(query)
    n = len(query)
    n_select, separation = 2 * k - 1, n + zone
    bound = np.full(1, np.inf)
    candidates = _Candidates(n_select, separation)
    counts = np.zeros(_kernels().N_STATS, dtype=np.int64)
    backend = {"backend": "threading"} if threads else {"prefer": "threads"}
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered", **backend)
    if reread is not None:
        seeds = [
            seed
            for seed in parallel(
                delayed(_seed_chunk)(query_z, data, origin, first, last, min(radius, n - 1))
                for origin, data, first, last in reread()
            )
            if seed[0] >= 0
        ]
        if seeds:
            starts, distances = (np.array(values) for values in zip(*seeds))
            bound[0] = _kernels().tighten(
                starts.astype(np.int64), distances, len(seeds), n_select, separation
            )[1]
    tasks = (
        delayed(_scan_chunk)(
            query_z, data, origin, first, last, min(radius, n - 1), n_select, separation, bound
        )
        for origin, data, first, last in chunks
    )
    n_chunks = 0
    for starts, distances, windows, threshold, chunk_counts in parallel(tasks):
        bound[0] = min(bound[0], threshold)
        candidates.add(starts, distances, windows, bound)
        counts += chunk_counts
        n_chunks += 1
    found = candidates.pick(k)
    stats = dict(zip(STAT_NAMES, (int(value) for value in counts)))
    stats["passes"] = 1
    stats["chunks"] = n_chunks
    return found, stats

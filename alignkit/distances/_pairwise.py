"""DTW distance matrices between collections: :func:`pairwise_distances`.

The rows of the matrix are cut into blocks; each block is one joblib task
that receives both collections packed into flat arrays (one pickle per task,
not per pair) and runs a jitted loop over its pairs. Without ``Y`` only the
upper triangle is computed and the blocks hold about the same number of
pairs. Any joblib backend works, Dask distributed included.

Two bounds hold for every call. Memory: the whole call (the matrix, the
packed inputs, each worker's copies and blocks) is estimated against
``max_memory`` before anything large is allocated. Ctrl-C: no kernel call
runs more than about ``_CELLS_PER_TASK`` DP cells per thread (a fraction of a
second), so a ``KeyboardInterrupt`` is raised between calls within a second
or so, whichever engine runs.
"""

import numpy as np
from joblib import effective_n_jobs

from ..core.parallel import Parallel, delayed
from ..core.params import Integral, Interval, StrOptions, validate_params
from ..core.progress import progress_bar, progress_requested
from ..core.window import Window
from ..exceptions import InvalidInputError, InvalidParameterError, WindowError
from ..validation import CollectionLike, WindowLike, check_collection, check_memory, check_window
from ._variant_matrix import VARIANT_METRICS, ddtw_inputs, wdtw_matrix

__all__ = ["medoid_index", "medoid_of", "pairwise_costs", "pairwise_distances"]

# Blocks per worker: enough for balanced load and a useful progress report.
_BLOCKS_PER_WORKER = 4

# DP cells one kernel call may compute per thread before it returns to Python
# (about 0.3 s at 1 ns a cell): Ctrl-C is seen between calls, at the cost of
# one thread-pool launch (or one joblib task) per 3e8 cells a thread.
_CELLS_PER_TASK = 3 * 10**8

# Bytes of the O(n) buffers one pairwise DP holds (bounds, three diagonals),
# per timepoint of the longer sequence of a pair.
_DP_BYTES_PER_TIMEPOINT = 64


def pack(sequences: list[np.ndarray], view: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate sequences: sequence ``k`` is ``flat[offsets[k]:offsets[k + 1]]``.

    With ``view=True``, sequences that already lie one after the other in
    one array (the rows of a validated 2-D or 3-D float64 collection) are not
    copied: ``flat`` is a view of that memory, for a call that only reads it
    and does not keep it (a fitted estimator keeps a copy, so that changing
    the caller's array later does not change the model).
    """
    offsets = np.zeros(len(sequences) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in sequences], out=offsets[1:])
    flat = _consecutive_view(sequences, int(offsets[-1])) if view else None
    if flat is not None:
        return flat, offsets
    return np.ascontiguousarray(np.concatenate(sequences, axis=0)), offsets


def _root(array):
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _consecutive_view(sequences, total):
    """``sequences`` as one ``(total, n_channels)`` view, if they are consecutive.

    The view is writeable where the sequences are (numba compiles one kernel
    per writeable flag); callers only read it.
    """
    first = sequences[0]
    if first.dtype != np.float64 or first.ndim != 2 or total == 0:
        return None
    n_channels = first.shape[1]
    row = 8 * n_channels
    start = first.__array_interface__["data"][0]
    root = _root(first)
    address = start
    for sequence in sequences:
        if (
            sequence.dtype != np.float64
            or sequence.shape[1:] != (n_channels,)
            or not sequence.flags.c_contiguous
            or sequence.__array_interface__["data"][0] != address
            or _root(sequence) is not root
        ):
            return None
        address += row * len(sequence)
    low = root.__array_interface__["data"][0]
    if not root.flags.c_contiguous or start < low or address > low + root.nbytes:
        return None
    return np.lib.stride_tricks.as_strided(first, shape=(total, n_channels), strides=(row, 8))


# The elastic distances of alignkit.distances._elastic that pairwise_distances computes.
ELASTIC_METRICS = ("adtw", "edr", "erp", "lcss", "msm", "twe")
# Every metric besides DTW: the elastic family and the DTW variants of
# alignkit.distances._variant_matrix.
NON_DTW_METRICS = (*ELASTIC_METRICS, *VARIANT_METRICS)


def _row_blocks(n_rows, n_cols, symmetric, n_blocks, block_size):
    """Row ranges ``[start, stop)``: fixed ``block_size`` rows, or ``n_blocks`` of equal work."""
    if block_size is not None:
        edges = np.arange(0, n_rows + block_size, block_size)
    else:
        pairs_per_row = n_cols - 1 - np.arange(n_rows) if symmetric else np.full(n_rows, n_cols)
        work = np.cumsum(pairs_per_row)
        targets = work[-1] * np.arange(1, n_blocks) / n_blocks
        edges = np.concatenate([[0], np.searchsorted(work, targets, side="right"), [n_rows]])
    edges = np.unique(np.clip(edges, 0, n_rows))
    return [(int(start), int(stop)) for start, stop in zip(edges[:-1], edges[1:])]


def band_window(window: WindowLike, name: str = "window") -> Window:
    """Parse a window for a whole collection: masks fit one pair of lengths and are refused."""
    parsed = check_window(window, name=name)
    if parsed.mask is not None:
        raise WindowError(
            f"{name} cannot be a mask for a collection (sequence lengths vary); use None, "
            "a radius, a fraction or ('itakura', max_slope)"
        )
    return parsed


@validate_params(
    {
        "squared": ["boolean"],
        "n_jobs": [Interval(Integral, None, None, closed="neither"), None],
        "verbose": ["verbose"],
        "block_size": [Interval(Integral, 1, None, closed="left"), None],
        "engine": [StrOptions({"joblib", "numba"})],
        "metric": [StrOptions({"dtw", *NON_DTW_METRICS})],
        "metric_params": [dict, None],
    }
)
def pairwise_distances(
    X: CollectionLike,
    Y: CollectionLike | None = None,
    *,
    window: WindowLike = None,
    squared: bool = False,
    n_jobs: int | None = None,
    verbose: int = 0,
    block_size: int | None = None,
    engine: str = "joblib",
    metric: str = "dtw",
    metric_params: dict | None = None,
) -> np.ndarray:
    """DTW (or elastic) distances between every sequence of ``X`` and every one of ``Y``.

    Parameters
    ----------
    X : list of array-like, or ndarray
        Collection of sequences: a list (lengths may differ), a 3-D array
        ``(n_sequences, n_timepoints, n_channels)`` or a 2-D array of
        univariate rows (see :func:`alignkit.validation.check_collection`).
    Y : list of array-like, or ndarray, default=None
        Second collection, with the channels of ``X``. ``None`` means ``X``,
        and then only the upper triangle is computed.
    window : None, int, float or tuple, default=None
        Constraint on every path, as in :func:`alignkit.dtw` (masks are not
        accepted: they fit one pair of lengths).
    squared : bool, default=False
        Return summed squared costs instead of their square roots.
    n_jobs : int, default=None
        Number of joblib workers. ``None`` means 1 unless inside
        :func:`joblib.parallel_config` (which also selects the backend, e.g.
        ``"dask"``); ``-1`` means all cores. The kernels run single-threaded
        inside each worker.
    verbose : int, default=0
        When positive, show a progress bar of the pairs on standard error (as
        blocks of rows, or rounds of the ``"numba"`` engine, complete), with
        the rate and the time left; ``alignkit.set_config(progress=True)``
        shows it for every call (see ``alignkit.core.progress``).
    block_size : int, default=None
        Rows of the matrix per task. ``None`` makes four tasks per worker
        with about the same number of pairs each.
    engine : {"joblib", "numba"}, default="joblib"
        ``"joblib"`` runs blocks as joblib tasks (threads by default, since
        the kernels release the GIL; processes or a cluster through
        :func:`joblib.parallel_config`). ``"numba"`` runs
        ``n_jobs`` threads of numba's pool inside this process, in rounds of
        one chunk per thread with about the same number of DP cells each (no
        pickling, no process start-up; ``block_size`` does not apply, and the
        progress bar moves once per round). Either way no kernel call runs
        for more than a fraction of a second (unless ``block_size`` asks for
        bigger blocks), so Ctrl-C stops a long call within a second or two.
    metric : {"dtw", "adtw", "ddtw", "edr", "erp", "lcss", "msm", "twe", "wdtw"}, \
default="dtw"
        The distance. The elastic ones are
        ``alignkit.distances.<metric>_distance`` (see
        :doc:`/user_guide/elastic`), computed by block kernels over the
        packed collections on either engine, like DTW (``squared`` is DTW's,
        DDTW's and WDTW's). ``"ddtw"`` and ``"wdtw"`` are the distances of
        :func:`alignkit.distances.ddtw` and :func:`alignkit.distances.wdtw`
        (DDTW on DTW's block kernels over the derivatives, WDTW pair by pair
        in joblib threads).
    metric_params : dict, default=None
        Keyword arguments of the elastic distance (for example ``{"c": 0.5}``
        for MSM; ``kind`` for DDTW; ``g`` and ``max_weight`` for WDTW),
        checked once for the whole call.

    Returns
    -------
    distances : ndarray of shape (n_sequences_X, n_sequences_Y)
        ``distances[a, b] == alignkit.dtw_distance(X[a], Y[b], window=window,
        squared=squared)``; symmetric with a zero diagonal when ``Y`` is None.

    Raises
    ------
    InvalidInputError
        If a collection is empty or invalid, or the channels differ.
    WindowError
        If the window is malformed or a mask.
    AlignkitMemoryError
        If the whole call would need more than ``max_memory`` bytes: the
        ``(n_sequences_X, n_sequences_Y)`` matrix, the packed inputs and each
        worker's scratch (with joblib workers, a copy of the inputs and up to
        three blocks of rows), estimated before anything large is allocated.

    See Also
    --------
    alignkit.dtw_distance : The distance of one pair.
    alignkit.DTWDistances : This matrix as a scikit-learn transformer.

    Examples
    --------
    >>> from alignkit.distances import pairwise_distances
    >>> X = [[0.0, 1.0, 2.0], [0.0, 2.0], [1.0, 1.0, 1.0, 1.0]]
    >>> pairwise_distances(X, squared=True)
    array([[0., 1., 2.],
           [1., 0., 4.],
           [2., 4., 0.]])
    >>> pairwise_distances(X, [[0.0, 2.0]], squared=True).ravel()
    array([1., 0., 4.])
    """
    parsed = band_window(window)
    x_sequences = check_collection(X, name="X")
    y_sequences = (
        None if Y is None else check_collection(Y, name="Y", n_channels=x_sequences[0].shape[1])
    )
    if metric != "dtw":
        return _elastic_matrix(
            x_sequences, y_sequences, metric, window, metric_params, squared, engine, n_jobs,
            verbose=progress_requested(verbose),
        )  # fmt: skip
    if metric_params:
        raise InvalidParameterError(
            "The 'metric_params' parameter of pairwise_distances applies to the elastic "
            f"metrics; metric='dtw' takes window and squared. Got {metric_params!r} instead."
        )
    distances = pairwise_costs(
        x_sequences,
        y_sequences,
        parsed,
        n_jobs=n_jobs,
        verbose=progress_requested(verbose),
        block_size=block_size,
        engine=engine,
    )
    return distances if squared else np.sqrt(distances, out=distances)


def _variant_matrix(
    x_sequences, y_sequences, metric, window, params, squared, n_jobs, first_row, verbose
):
    """DDTW's matrix (DTW's of the derivatives, on DTW's kernels) or WDTW's (pair by pair)."""
    parsed = band_window(window)
    symmetric = y_sequences is None
    if metric == "ddtw":
        x_d, y_d = ddtw_inputs(x_sequences, y_sequences, params, first_row=first_row)
        costs = pairwise_costs(x_d, y_d, parsed, n_jobs=n_jobs, verbose=verbose)
    else:
        costs = wdtw_matrix(x_sequences, y_sequences, parsed, params, n_jobs, verbose)
    if not np.isfinite(costs).all():
        i, j = np.argwhere(~np.isfinite(costs))[0]
        raise InvalidInputError(
            f"the {metric.upper()} cost between X[{first_row + i}] and "
            f"{'X' if symmetric else 'Y'}[{j}] overflows float64; rescale the sequences"
        )
    return costs if squared else np.sqrt(costs, out=costs)


def _elastic_matrix(
    x_sequences, y_sequences, metric, window, params, squared, engine, n_jobs, first_row=0,
    verbose=False,
):  # fmt: skip
    """The matrix of an elastic distance: block kernels over the packed collections.

    ``params`` are checked once for the whole call; the pairs run in rounds
    of at most ``_CELLS_PER_TASK`` DP cells a thread, on numba's threads
    (``engine="numba"``) or as joblib tasks of row blocks, so Ctrl-C stops a
    long call between rounds or tasks. ``window`` is the user's (a band);
    ``first_row`` is the index of ``x_sequences[0]`` in an error message; a
    truthy ``verbose`` shows a progress bar of the pairs, counted per round or
    block as it completes.
    """

    from ..kernels._numba import _elastic as kernels
    from ..kernels._numba._bounds import window_spec
    from ._elastic import matrix_arguments

    if metric in VARIANT_METRICS:
        return _variant_matrix(
            x_sequences, y_sequences, metric, window, params, squared, n_jobs, first_row, verbose
        )
    if squared:
        raise InvalidParameterError(
            f"The 'squared' parameter of pairwise_distances applies to metric='dtw' only "
            f"(the {metric.upper()} distance has no square root to leave out). Got True instead."
        )
    parsed = band_window(window)
    symmetric = y_sequences is None
    y_sequences = x_sequences if symmetric else y_sequences
    kind, x_par, y_par, g, p1 = matrix_arguments(metric, params, x_sequences, y_sequences)
    n_workers = max(1, effective_n_jobs(n_jobs))
    x_flat, x_off = pack(x_sequences, view=True)
    y_flat, y_off = (x_flat, x_off) if symmetric else pack(y_sequences, view=True)
    x_lengths, y_lengths = np.diff(x_off), np.diff(y_off)
    work = _pair_work(x_lengths, y_lengths, symmetric)
    n_rows, n_cols = len(x_sequences), len(y_sequences)
    spec = window_spec(parsed, int(x_lengths.max()), int(y_lengths.max()))
    packed = (kind, x_flat, x_off, y_flat, y_off, x_par, y_par, g, p1, spec, symmetric)
    n_pairs = _pairs_before(n_rows, n_cols, symmetric)
    bar = progress_bar(n_pairs, f"pairwise {metric.upper()}", verbose, unit="pairs")
    if engine == "numba":
        _check_call_memory(x_sequences, y_sequences, symmetric, n_workers, None)
        distances = np.zeros((n_rows, n_cols))
        n_rounds = max(1, -(-int(work[-1]) // (n_workers * _CELLS_PER_TASK)))
        cuts = _work_cuts(x_lengths, y_lengths, symmetric, work, n_rounds * n_workers)
        with bar:
            for first in range(0, n_rounds * n_workers, n_workers):
                chunk_cuts = cuts[first : first + n_workers + 1]
                kernels.elastic_pairs_threads(*packed, 0, chunk_cuts, distances)
                row, column = chunk_cuts[-1]
                bar.update(_pairs_before(int(row), n_cols, symmetric, int(column)) - bar.n)
    else:
        n_blocks = max(_BLOCKS_PER_WORKER * n_workers, -(-int(work[-1]) // _CELLS_PER_TASK))
        blocks = _row_blocks(n_rows, n_cols, symmetric, n_blocks, None)
        _check_call_memory(x_sequences, y_sequences, symmetric, n_workers, blocks)
        distances = np.zeros((n_rows, n_cols))
        tasks = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator_unordered")(
            delayed(kernels.elastic_block)(*packed, rows) for rows in blocks
        )
        with bar:
            for start, block in tasks:
                distances[start : start + len(block)] = block
                stop = start + len(block)
                bar.update(
                    _pairs_before(stop, n_cols, symmetric) - _pairs_before(start, n_cols, symmetric)
                )
    if symmetric:
        _mirror_upper_triangle(distances)
    if not np.isfinite(distances).all():
        i, j = np.argwhere(~np.isfinite(distances))[0]
        raise InvalidInputError(
            f"the {metric.upper()} cost between X[{first_row + i}] and "
            f"{'X' if symmetric else 'Y'}[{j}] "
            "overflows float64; rescale the sequences"
        )
    return distances


def pairwise_costs(
    x_sequences: list[np.ndarray],
    y_sequences: list[np.ndarray] | None,
    window: Window,
    *,
    n_jobs: int | None = None,
    verbose: int = 0,
    block_size: int | None = None,
    engine: str = "joblib",
) -> np.ndarray:
    """The driver of :func:`pairwise_distances`: summed squared costs of validated collections.

    ``x_sequences`` and ``y_sequences`` are lists of float64 C-contiguous
    ``(n_timepoints_i, n_channels)`` arrays (``y_sequences=None`` means
    ``x_sequences``, upper triangle only), ``window`` a parsed band window
    (no mask); nothing is checked again. A truthy ``verbose`` shows a progress
    bar of the pairs, counted here as blocks (or numba rounds) finish.
    """
    from ..kernels._numba._bounds import window_spec

    symmetric = y_sequences is None
    if symmetric:
        y_sequences = x_sequences
    x_lengths = np.array([len(s) for s in x_sequences], dtype=np.int64)
    y_lengths = np.array([len(s) for s in y_sequences], dtype=np.int64)
    n_workers = max(1, effective_n_jobs(n_jobs))
    work = _pair_work(x_lengths, y_lengths, symmetric)
    if engine == "numba":
        blocks = None
    elif block_size is not None:
        blocks = _row_blocks(len(x_lengths), len(y_lengths), symmetric, None, block_size)
    else:
        n_blocks = max(_BLOCKS_PER_WORKER * n_workers, -(-int(work[-1]) // _CELLS_PER_TASK))
        blocks = _row_blocks(len(x_lengths), len(y_lengths), symmetric, n_blocks, None)
    _check_call_memory(x_sequences, y_sequences, symmetric, n_workers, blocks)
    x_flat, x_off = pack(x_sequences, view=True)
    y_flat, y_off = (x_flat, x_off) if symmetric else pack(y_sequences, view=True)
    spec = window_spec(window, int(x_lengths.max()), int(y_lengths.max()))
    n_pairs = _pairs_before(len(x_lengths), len(y_lengths), symmetric)
    packed = (x_flat, x_off, y_flat, y_off, spec, symmetric)
    with progress_bar(n_pairs, "pairwise DTW", verbose, unit="pairs") as bar:
        if engine == "numba":
            distances = _numba_threads(*packed, n_workers, work, bar)
        else:
            distances = _joblib_blocks(*packed, blocks, n_jobs, bar)
    if symmetric:
        _mirror_upper_triangle(distances)
    _check_finite_costs(distances, x_sequences, y_sequences, symmetric)
    return distances


def _joblib_blocks(x_flat, x_off, y_flat, y_off, spec, symmetric, blocks, n_jobs, bar):
    """The matrix from its row ``blocks`` run as joblib tasks; ``bar`` counts each one's pairs."""
    n_y = len(y_off) - 1
    distances = np.zeros((len(x_off) - 1, n_y))
    # The kernel releases the GIL: threads need no pickling and no worker start (the first
    # call stays fast); a joblib.parallel_config backend (loky, dask) overrides this soft hint.
    tasks = Parallel(n_jobs=n_jobs, return_as="generator_unordered", prefer="threads")(
        delayed(_dtw_block)(x_flat, x_off, y_flat, y_off, *spec, start, stop, symmetric)
        for start, stop in blocks
    )
    for start, stop, part in tasks:  # counted here, as blocks arrive
        distances[start:stop] = part
        bar.update(_pairs_before(stop, n_y, symmetric) - _pairs_before(start, n_y, symmetric))
    return distances


def _pair_work(x_lengths, y_lengths, symmetric):
    """Cumulative DP cells over the rows: row ``a`` costs ``w[a + 1] - w[a]``.

    A pair ``(a, b)`` is counted as ``len(x[a]) * len(y[b])`` cells.
    """
    columns = np.concatenate([[0], np.cumsum(y_lengths)])
    first = np.minimum(np.arange(len(x_lengths)) + 1, len(y_lengths)) if symmetric else 0
    row_work = x_lengths * (columns[-1] - columns[first])
    return np.concatenate([[0], np.cumsum(row_work)])


def _check_call_memory(x_sequences, y_sequences, symmetric, n_workers, blocks):
    """Refuse a call whose matrix, packed inputs and per-worker scratch exceed ``max_memory``.

    With the joblib engine (``blocks`` given) each worker may hold its own
    copy of the packed inputs (a process pool pickles them), the block it
    computes and two finished blocks waiting in this process (joblib
    dispatches two tasks per worker ahead); numba threads share the inputs
    and the matrix.
    """
    n_x, n_y = len(x_sequences), len(y_sequences)
    n_channels = x_sequences[0].shape[1]
    packed = 8 * n_channels * sum(len(s) for s in x_sequences)
    if not symmetric:
        packed += 8 * n_channels * sum(len(s) for s in y_sequences)
    longest = max(max(len(s) for s in x_sequences), max(len(s) for s in y_sequences))
    scratch = _DP_BYTES_PER_TIMEPOINT * longest
    if blocks is not None:
        scratch += packed + 3 * 8 * n_y * max(stop - start for start, stop in blocks)
    n_bytes = 8 * n_x * n_y + packed + n_workers * scratch
    check_memory(
        n_bytes,
        f"the pairwise distance matrix of {n_x} by {n_y} sequences "
        f"(the matrix, the packed inputs and the scratch of {n_workers} worker(s))",
    )


def _mirror_upper_triangle(distances, rows_per_step=1024):
    """Copy the strict upper triangle onto the zero lower one, in place (no n x n temporary)."""
    n = distances.shape[0]
    for start in range(0, n, rows_per_step):
        stop = min(start + rows_per_step, n)
        distances[start:stop, :start] = distances[:start, start:stop].T
        block = distances[start:stop, start:stop]
        block += np.triu(block, k=1).T


def _dtw_block(*args):
    """Call the block kernel by import, so that a worker loads it from Numba's disk cache.

    joblib pickles a Numba dispatcher by value, and the copy a worker rebuilds
    compiles again without the cache (seconds per worker); this function is
    pickled by reference instead. Returns ``(row_start, row_stop, block)``:
    blocks arrive in any order.
    """
    from ..kernels._numba._pruned import dtw_block

    return args[-3], args[-2], dtw_block(*args)


def _check_finite_costs(distances, x_sequences, y_sequences, symmetric):
    """Name the first pair whose summed squared cost overflowed float64."""
    from ._dtw import check_cost_finite

    # Costs are sums of squares (never NaN): the largest is finite unless one overflowed.
    if np.isfinite(distances.max(initial=0.0)):
        return
    i, j = np.argwhere(~np.isfinite(distances))[0]
    name_b = f"X[{j}]" if symmetric else f"Y[{j}]"
    check_cost_finite(distances[i, j], f"X[{i}]", name_b, x_sequences[i], y_sequences[j])


def _pairs_before(row, n_y, symmetric, column=None):
    """Pairs before ``(row, column)`` in row-major order (``column=None``: the row's first)."""
    if symmetric:  # rows of the strict upper triangle: row r holds n_y - 1 - r pairs
        before = row * (n_y - 1) - row * (row - 1) // 2
        return before if column is None else before + column - (row + 1)
    return row * n_y + (0 if column is None else column)


def _numba_threads(x_flat, x_off, y_flat, y_off, spec, symmetric, n_threads, work, bar):
    """The matrix on ``n_threads`` numba threads, in rounds of at most ``_CELLS_PER_TASK`` each.

    Each round is cut into ``n_threads`` chunks of about the same estimated
    work (cuts fall between pairs, not only between rows), and returns to
    Python, where a pending ``KeyboardInterrupt`` is raised and ``bar``
    counts the round's pairs.
    """
    from ..kernels._numba._threaded import dtw_pairs_threads

    n_x, n_y = len(x_off) - 1, len(y_off) - 1
    distances = np.zeros((n_x, n_y))
    n_rounds = max(1, -(-int(work[-1]) // (n_threads * _CELLS_PER_TASK)))
    cuts = _work_cuts(np.diff(x_off), np.diff(y_off), symmetric, work, n_rounds * n_threads)
    done = 0
    for first in range(0, n_rounds * n_threads, n_threads):
        dtw_pairs_threads(
            x_flat, x_off, y_flat, y_off, *spec, cuts[first : first + n_threads + 1],
            symmetric, distances,
        )  # fmt: skip
        row, column = cuts[first + n_threads]
        reached = _pairs_before(int(row), n_y, symmetric, int(column))
        bar.update(reached - done)
        done = reached
    return distances


def _work_cuts(x_lengths, y_lengths, symmetric, work, n_chunks):
    """``(row, column)`` of the first pair of each of ``n_chunks`` equal-work chunks, and the end.

    Pairs are in row-major order; pair ``(a, b)`` costs ``len(x[a]) *
    len(y[b])`` cells and row ``a`` spans ``[work[a], work[a + 1])``.
    """
    n_x, n_y = len(x_lengths), len(y_lengths)
    columns = np.concatenate([[0], np.cumsum(y_lengths)])
    targets = work[-1] * (np.arange(n_chunks) / n_chunks)  # floats: no int64 overflow
    rows = np.clip(np.searchsorted(work, targets, side="right") - 1, 0, n_x - 1)
    first = np.minimum(rows + 1, n_y) if symmetric else np.zeros_like(rows)
    within = (targets - work[rows]) / x_lengths[rows] + columns[first]
    cols = np.clip(np.searchsorted(columns, within, side="right") - 1, first, n_y)
    cuts = np.stack([rows, cols], axis=1)
    return np.ascontiguousarray(np.vstack([cuts, [[n_x - 1, n_y]]]), dtype=np.int64)


def medoid_index(
    sequences: CollectionLike,
    window: WindowLike = None,
    n_jobs: int | None = None,
    verbose: int = 0,
) -> int:
    """Index of the sequence with the smallest sum of summed squared DTW costs to the others.

    Parameters
    ----------
    sequences : list of array-like, or ndarray
        Collection of sequences, as in :func:`~alignkit.pairwise_distances`.
    window : None, int, float, tuple or Window, default=None
        Constraint on every path, as in :func:`~alignkit.pairwise_distances`.
    n_jobs : int, default=None
        Number of joblib workers for the pairwise costs, as in
        :func:`~alignkit.pairwise_distances`: ``None`` means 1 unless inside
        :func:`joblib.parallel_config`; ``-1`` means all cores.
    verbose : int, default=0
        When positive, show a progress bar of the pairs, as in
        :func:`~alignkit.pairwise_distances`.

    Returns
    -------
    index : int
        Index in ``sequences`` of the medoid; the first index in case of ties.

    Examples
    --------
    >>> from alignkit.distances import medoid_index
    >>> medoid_index([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]])
    1
    """
    sequences = check_collection(sequences, name="sequences")
    return medoid_of(sequences, band_window(window), n_jobs, progress_requested(verbose))


def medoid_of(
    sequences: list[np.ndarray], window: Window, n_jobs: int | None = None, verbose: int = 0
) -> int:
    """The driver of :func:`medoid_index`: validated sequences and a parsed band window.

    A truthy ``verbose`` shows the progress bar of :func:`pairwise_costs`.
    """
    costs = pairwise_costs(sequences, None, window, n_jobs=n_jobs, verbose=verbose)
    return int(np.argmin(costs.sum(axis=1)))

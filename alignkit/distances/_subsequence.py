"""Subsequence search: the best matches of a short query inside a long series."""

import heapq
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from .._config import get_config
from ..core.params import Integral, Interval, validate_params
from ..core.window import Window
from ..exceptions import InvalidInputError, InvalidParameterError
from ..validation import (
    WindowLike,
    _check_finite,
    _sequence,
    _sequence_array,
    check_memory,
    check_sequence,
    check_window,
)
from .step_patterns import (
    StepPattern,
    align_pattern,
    check_open_ends,
    check_step_pattern,
    symmetric1,
)

__all__ = ["Match", "subsequence_search"]

# A window whose standard deviation is below this fraction of max(1, |mean|)
# is constant up to rounding, and z-normalises to zeros.
_FLAT = 1e-10

# Starts per chunk of an out-of-core search when ``chunk_size`` is not given (fewer when
# max_memory asks for it); the in-memory search holds about this many float64 copies of
# the series (the series, its two envelopes, the coarse copies).
_DEFAULT_CHUNK = 2**20
_IN_MEMORY_COPIES = 4
_MIN_SPLIT = 2**16  # starts per chunk, at least, when a series is split between workers


class Match(NamedTuple):
    """One match of a query inside a series, found by :func:`subsequence_search`.

    Parameters
    ----------
    start : int
        First matched timepoint of the series.
    end : int
        Last matched timepoint of the series (included).
    distance : float
        DTW distance between the query and ``series[start:end + 1]``.
    path : ndarray of shape (path_length, 2), dtype int64
        Matched pairs ``(query index, series index)``, in series coordinates:
        from ``(0, start)`` to ``(len(query) - 1, end)``.

    Examples
    --------
    >>> from alignkit.distances import subsequence_search
    >>> match = subsequence_search([1.0, 2.0], [0.0, 1.0, 2.0, 0.0])[0]
    >>> match.start, match.end, match.distance
    (1, 2, 0.0)
    """

    start: int
    end: int
    distance: float
    path: np.ndarray


@validate_params(
    {
        "k": [Interval(Integral, 1, None, closed="left")],
        "exclusion_zone": [Interval(Integral, 0, None, closed="left"), None],
        "znormalize": ["boolean"],
        "squared": ["boolean"],
        "n_jobs": [Interval(Integral, None, None, closed="neither"), None],
        "chunk_size": [Interval(Integral, 1, None, closed="left"), None],
        "return_stats": ["boolean"],
    }
)
def subsequence_search(
    query: ArrayLike,
    series: ArrayLike,
    *,
    k: int = 1,
    window: WindowLike = None,
    exclusion_zone: int | None = None,
    znormalize: bool = False,
    step_pattern: str | StepPattern = "symmetric1",
    squared: bool = False,
    n_jobs: int | None = None,
    chunk_size: int | None = None,
    return_stats: bool = False,
) -> list[Match] | tuple[list[Match], dict[str, int]]:
    """The ``k`` best non-overlapping DTW matches of a query inside a long series.

    Parameters
    ----------
    query : array-like of shape (n,) or (n, n_channels)
        The short sequence to look for.
    series : array-like of shape (m,) or (m, n_channels), np.memmap, or iterator of arrays
        The long sequence to search, with the same channels as ``query``. An
        iterator (a generator, ``iter(blocks)``) of blocks of shape ``(b,)``
        or ``(b, n_channels)``, of any sizes (empty ones too), is the series
        they make end to end, read once. See "Out of core" in Notes.
    k : int, default=1
        Number of matches to return (fewer if the series has no room for more).
    window : None, int, float, tuple or ndarray of bool, default=None
        Constraint on the warping inside each match, in columns counted from
        the match's start, as in :func:`alignkit.dtw` for an ``n`` by ``n``
        problem (``n = len(query)``). Without ``znormalize`` a Sakoe-Chiba
        band (an int radius ``r``, or a float fraction giving
        ``r = round(fraction * n)``) is ``|i - j| <= r`` not clipped at
        column ``n``, so matches may be up to ``r`` timepoints shorter or
        longer than the query; an Itakura parallelogram or an ``(n, n)``
        mask keeps the query's length. See Notes.
    exclusion_zone : int, default=None
        Timepoints on each side of a reported match where no other match may
        reach; ``None`` means ``len(query) // 2``. Matches never overlap.
    znormalize : bool, default=False
        Compare z-normalised shapes, as the UCR suite does (see Notes).
    step_pattern : str or StepPattern, default="symmetric1"
        Step pattern, as in :func:`alignkit.dtw`. Without ``znormalize`` it
        must allow an open begin (normalised by ``"N"`` or not normalised).
    squared : bool, default=False
        Report the summed squared cost instead of its square root.
    n_jobs : int, default=None
        Threads for the z-normalised search in a Sakoe-Chiba band (the
        series is split into chunks scanned in parallel; the matches are the
        same). ``None`` is one thread, ``-1`` all cores. Other searches use
        one thread. Out of core, the number of joblib workers for the chunks
        (``None``: joblib's default, one unless inside
        ``joblib.parallel_config``, whose backend, e.g. Dask, runs them).
    chunk_size : int, default=None
        Search the z-normalised Sakoe-Chiba case out of core, in chunks of
        this many starts (rounded up to a multiple of 8192), each read with
        the ``len(query) - 1`` timepoints after it and the band's radius on
        both sides. ``None`` does so only for a ``np.memmap``, an iterator,
        or an array whose in-memory search would hold more than
        ``max_memory`` bytes (see :func:`alignkit.get_config`), in chunks of
        up to 2**20 starts (2**15 for ``k >= 3``: a seed for each).
    return_stats : bool, default=False
        Also return how many windows each stage of the z-normalised search's
        cascade pruned (see Notes); for the other searches the counts are of
        the windows or ends considered.

    Returns
    -------
    matches : list of Match
        Best first (ties: earlier end first).
    stats : dict
        Only with ``return_stats=True``: ``windows`` (starts scanned, over
        all passes), ``pruned_by_kim``, ``pruned_by_keogh_eq``,
        ``pruned_by_keogh_ec``, ``dtw_abandoned``, ``dtw_completed`` and
        ``passes``, plus ``method`` (``"cascade"`` or ``"exhaustive"``);
        out of core, and in memory when one pass over chunks ran (see
        Notes), also ``chunks``.

    Raises
    ------
    InvalidInputError
        If an argument is malformed, the series is shorter than the query
        with ``znormalize=True``, or the pattern does not allow an open begin.
    WindowError
        If ``window`` is malformed.

    See Also
    --------
    alignkit.dtw : ``open_begin`` and ``open_end`` give one subsequence match.

    Notes
    -----
    Without ``znormalize``, this is subsequence DTW (open begin and open
    end): the cost of ending at column ``j`` of the series is the cheapest
    alignment of the whole query with any ``series[s:j + 1]``, all ends
    computed in one pass over the series in ``O(n)`` memory per column. The
    candidates, one per end with its best start, are taken in increasing
    cost; a candidate is kept when its span stays more than
    ``exclusion_zone`` timepoints away from every match kept before it.
    With a ``window`` the cost of the match ``series[s:e + 1]`` is the DTW
    of the query and that span whose path, from ``(0, s)`` to
    ``(n - 1, e)``, stays inside the window placed at column ``s``; the
    candidate for an end is its cheapest start (the earliest on ties), one
    windowed DP per start.

    With ``znormalize=True`` the matches have the query's length, as in the
    UCR suite: the query and every window ``series[s:s + n]`` are
    z-normalised (per channel, population standard deviation; a window
    constant up to rounding becomes zeros), the cost of a window is the DTW
    distance between the two under ``window`` and ``step_pattern``, and the
    windows are then kept in increasing cost as above. Windows are visited
    in increasing LB_Kim (first and last frames), and a window's DTW is
    computed only while its bound could beat the best distance found, so
    the result is exact. Up to two matches take a pass each (the starts a
    match excludes are blocked for the next); from three on, on a series of
    eight chunks of 2**15 starts or more (about 2.6 x 10^5; twelve, about
    3.9 x 10^5, when ``n_jobs`` gives two threads or more), one pass over
    those chunks, each with a coarse seed of its own, whose windows bound
    the ``k``-th match from the start (as out of core, below): the same
    matches, 3x faster at ``k = 5`` and 5x at ``k = 10`` on 10^6 points
    (fewer seeds bound it too loosely, and a pass per match is faster).
    The cost is squared Euclidean, as dtaidistance's
    ``subsequence_alignment`` with ``penalty=0``, whose match ``distance``
    is the square root of the same sum.

    **Out of core.** A z-normalised search in a Sakoe-Chiba band reads a
    ``np.memmap``, an iterator of blocks, or any array given ``chunk_size``,
    chunk by chunk: each chunk is validated when it is read (NaN and inf are
    reported at their timepoint in the whole series), searched as a task of
    its own, and freed, so memory stays of the order of the chunk (a few
    chunks with ``n_jobs``), not of the series. An array or a memmap is read
    twice: a coarse seed in every chunk first, whose windows give the
    search its first threshold, as the seed does in memory; an iterator is
    read once. Every window's statistics are those of one pass over the
    whole series, so the matches and distances are the same as in memory
    (bit for bit). A chunk keeps each window whose distance is at most that
    of the ``(2k - 1)``-th window a greedy pick keeps among the windows
    known (the ``k``-th match of the whole series is never above it), and
    the matches are then picked from all the chunks' windows in increasing
    distance, as above: a match across the border of two chunks is found
    once. With
    ``joblib.parallel_config(backend="dask")`` the chunks run on the Dask
    cluster. An array or memmap that one worker would read as a single
    chunk (``chunk_size=None``, up to 2**20 starts within ``max_memory``)
    is, with several workers in threads (not under a process or Dask
    backend), read as that chunk and searched as in memory, in this
    process's threads: the same matches, faster than chunks of their own.
    The other searches read an iterator whole (refused above
    ``max_memory``) and a memmap as an array.

    References
    ----------
    .. [1] M. Mueller, "Information Retrieval for Music and Motion",
       Springer, 2007, section 4.4 (subsequence DTW).
    .. [2] T. Rakthanmanon et al., "Searching and mining trillions of time
       series subsequences under dynamic time warping", KDD 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.distances import subsequence_search
    >>> series = np.r_[np.zeros(5), 1.0, 2.0, 1.0, np.zeros(5), 1.0, 2.0, 2.0, 1.0]
    >>> matches = subsequence_search([1.0, 2.0, 1.0], series, k=2)
    >>> [(match.start, match.end, match.distance) for match in matches]
    [(5, 7, 0.0), (13, 16, 0.0)]

    A stream of blocks (here three pieces of a random walk) gives the matches
    of the whole series, at their place in it:

    >>> walk = np.cumsum(np.random.default_rng(0).standard_normal(30_000))
    >>> query = walk[20_000:20_100]
    >>> blocks = iter(np.array_split(walk, 3))
    >>> found = subsequence_search(query, blocks, window=5, znormalize=True)
    >>> found[0].start, bool(found[0].distance < 1e-6)
    (20000, True)
    """
    if n_jobs == 0:
        raise InvalidParameterError(
            "The 'n_jobs' parameter of subsequence_search must be a nonzero int (-1: all "
            "cores) or None. Got 0 instead."
        )
    pattern = check_step_pattern(step_pattern)
    query = check_sequence(query, name="query")
    k = int(k)
    n = len(query)
    zone = n // 2 if exclusion_zone is None else int(exclusion_zone)
    parsed = check_window(window, shape=(n, n)) if znormalize else None
    radius = _band_radius(parsed, n) if znormalize else None
    if pattern is symmetric1 and radius is not None:
        out_of_core = _out_of_core_source(series, query.shape[1], chunk_size)
        if out_of_core is not None:
            found, stats = _search_out_of_core(
                query, out_of_core, parsed, radius, k, zone, n_jobs, chunk_size
            )
            return _matches(found, squared, stats, return_stats)
    if isinstance(series, Iterator):
        series = _read_whole(series, query.shape[1])
    # The cascade refuses NaN and inf in the pass that makes its coarse copies (a series
    # shorter than the query: here, before the length's error, as for the others).
    cascade = znormalize and pattern is symmetric1 and radius is not None
    transpose = get_config()["sequence_layout"] == "nct"
    series = _sequence(series, "series", None, query.shape[1], transpose, finite=False)
    checked = not cascade or len(series) < n
    if checked:
        _check_finite(series, "series", None)
    if znormalize:
        _check_long_enough(len(series), n)
        if cascade:
            found, stats = _cascade(query, series, parsed, radius, k, zone, n_jobs, checked=checked)
        else:
            found = _search_windows(query, series, pattern, parsed, k, zone)
            stats = {"windows": len(series) - n + 1, "method": "exhaustive"}
    else:
        check_open_ends(pattern, True, True)
        if window is None:
            found = _search_subsequences(query, series, pattern, k, zone)
        else:
            band = _relative_band(check_window(window, shape=(n, n)), n, len(series))
            found = _search_in_band(query, series, pattern, band, k, zone)
        stats = {"windows": len(series), "method": "exhaustive"}
    return _matches(found, squared, stats, return_stats)


def _matches(found, squared, stats, return_stats):
    matches = [
        Match(int(path[0, 1]), int(path[-1, 1]), _finish(total, squared), path)
        for total, path in found
    ]
    return (matches, stats) if return_stats else matches


def _check_long_enough(length, n):
    if length < n:
        raise InvalidInputError(
            f"series has {length} timepoints, fewer than the query's {n}; "
            "with znormalize=True every match has the query's length"
        )


def _out_of_core_source(series, n_channels, chunk_size):
    """``("stream", iterator)`` or ``("array", 2-D view)`` to read in chunks, or None."""
    if isinstance(series, Iterator):
        return "stream", series
    if chunk_size is None and not isinstance(series, np.memmap):
        if not isinstance(series, np.ndarray):
            return None
        if _IN_MEMORY_COPIES * 8 * series.size <= get_config()["max_memory"]:
            return None
    transpose = get_config()["sequence_layout"] == "nct"
    array = _sequence_array(series, "series", None, transpose)
    _check_channels(array, n_channels, None)
    return "array", array


def _check_channels(block, n_channels, origin):
    if block.shape[1] != n_channels:
        where = "series" if origin is None else f"the block of series from timepoint {origin}"
        raise InvalidInputError(
            f"{where} has {block.shape[1]} channels but {n_channels} were expected (the query's)"
        )


def _finish_block(block, origin):
    """A chunk as float64 C-contiguous, NaN and inf refused at their timepoint in the series."""
    block = np.ascontiguousarray(block, dtype=np.float64)
    finite = np.isfinite(block)
    if not finite.all():
        timepoint, channel = np.argwhere(~finite)[0]
        value = block[timepoint, channel]
        raise InvalidInputError(
            f"series holds {'NaN' if np.isnan(value) else value} at timepoint "
            f"{origin + timepoint}, channel {channel}; sequences must be finite (remove or "
            "interpolate missing values first)"
        )
    return block


def _stream_block(n_channels, transpose):
    """Validate one block of a stream: 1-D or 2-D, numeric, the query's channels."""

    def finish(piece, origin):
        if np.size(piece) == 0:
            return np.zeros((0, n_channels))
        where = f"the block of series from timepoint {origin}"
        block = _sequence_array(piece, where, None, transpose)
        _check_channels(block, n_channels, origin)
        return _finish_block(block, origin)

    return finish


def _read_whole(blocks, n_channels):
    """An iterator of blocks end to end, for the searches that need the whole series."""
    finish = _stream_block(n_channels, get_config()["sequence_layout"] == "nct")
    held, length = [], 0
    for piece in blocks:
        block = finish(piece, length)
        length += len(block)
        check_memory(8 * length * n_channels, "Reading the stream of series whole")
        held.append(block)
    return np.concatenate(held) if held else np.zeros((0, n_channels))


def _search_out_of_core(query, source, window, radius, k, zone, n_jobs, chunk_size):
    """The z-normalised banded search of a memmap, an array or a stream, chunk by chunk."""
    from joblib import effective_n_jobs
    from joblib.parallel import get_active_backend

    from ._zsearch import ONE_PASS_CHUNK, ONE_PASS_K, array_chunks, chunked_search, stream_chunks

    n, n_channels = query.shape
    kind, series = source
    if chunk_size is None:
        # One chunk's float64 arrays (its data, two envelopes, coarse copies), per worker.
        workers = max(1, effective_n_jobs(n_jobs))
        per_start = _IN_MEMORY_COPIES * 8 * n_channels
        limit = get_config()["max_memory"]
        if (
            kind == "array"
            and workers > 1
            and len(series) - n < min(_DEFAULT_CHUNK, limit // per_start)
            and getattr(get_active_backend(prefer="threads")[0], "uses_threads", False)
        ):
            # One worker reads it as one chunk: read it so, and search it in threads of
            # this process, as an array (chunks of their own, each with its own seed and
            # a joblib task, take longer than one worker does). Not where the chunks
            # would run elsewhere (processes, a Dask cluster).
            return _search_read_whole(query, series, window, radius, k, zone, workers)
        chunk_size = max(1, min(_DEFAULT_CHUNK, limit // (per_start * workers)))
        if k >= ONE_PASS_K:  # a seed for every chunk of ONE_PASS_CHUNK starts, as in memory
            chunk_size = min(chunk_size, ONE_PASS_CHUNK)
        if kind == "array" and workers > 1:
            # At least two chunks per worker, so that all of them have work.
            chunk_size = min(chunk_size, max(_MIN_SPLIT, -(-len(series) // (2 * workers))))
    if kind == "array":
        _check_long_enough(len(series), n)

        def reread():
            return array_chunks(series, n, radius, chunk_size, _finish_block)

        chunks = reread()
    else:
        seen = [0]
        transpose = get_config()["sequence_layout"] == "nct"
        finish = _stream_block(n_channels, transpose)
        chunks, reread = stream_chunks(series, n, radius, chunk_size, finish, seen), None
    found, stats = chunked_search(query, chunks, radius, k, zone, n_jobs, reread)
    if kind == "stream":
        _check_long_enough(seen[0], n)
    found = [(total, _window_path(query, values, start, window)) for total, start, values in found]
    stats["method"] = "cascade"
    return found, stats


def _cascade(query, series, window, radius, k, zone, n_jobs, checked=True):
    """The z-normalised banded search of a validated series held in memory, with paths
    (``checked``: whether NaN and inf were refused already)."""
    from ._zsearch import znormalized_search

    found, stats = znormalized_search(query, series, radius, k, zone, n_jobs, checked=checked)
    n = len(query)
    found = [
        (total, _window_path(query, series[start : start + n], start, window))
        for total, start in found
    ]
    stats["method"] = "cascade"
    return found, stats


def _search_read_whole(query, series, window, radius, k, zone, n_jobs):
    """:func:`_search_out_of_core` of an array that one worker would read as one chunk."""
    _check_long_enough(len(series), len(query))
    found, stats = _cascade(query, _finish_block(series, 0), window, radius, k, zone, n_jobs)
    stats.setdefault("chunks", 1)  # k passes over the one chunk (or one pass over chunks)
    return found, stats


def _band_radius(window, n):
    """The Sakoe-Chiba radius of a parsed window (``n - 1``: none), or None for other kinds."""
    if window.mask is not None:
        return None
    if window.kind == "sakoe_chiba":
        return min(window.radius_for(n, n), n - 1)
    if window.kind == "full":
        return n - 1
    return None


def _window_path(query, values, start, window):
    """The DTW path of the z-normalised query and ``values`` (the window at ``start``), in
    series coordinates."""
    from ._zsearch import znormalize

    path = align_pattern(znormalize(query), znormalize(values), symmetric1, window)[0]
    path[:, 1] += start
    return path


def _finish(total, squared):
    return float(total) if squared else float(np.sqrt(total))


def _search_subsequences(query, series, pattern, k, zone):
    from ..kernels._numba import _steps

    di, dj, weight, starts = pattern.kernel_arrays()
    cost, first = _steps.subsequence_profile(query, series, di, dj, weight, starts)
    if not np.isfinite(cost).all():
        # The ends the pattern can reach at all (all of them for symmetric1): the same
        # search over zeros is finite there.
        zeros = np.zeros((len(query), 1)), np.zeros((len(series), 1))
        reachable, _ = _steps.subsequence_profile(*zeros, di, dj, weight, starts)
        _check_profile_finite(cost, np.isfinite(reachable), query, series)
    found = []
    for start, end in _pick(cost, first, k, zone):
        # The best path ending at ``end``, open at its begin so that its first
        # cells are weighted as in the one-pass search (the same summed cost);
        # the span reaches back to the column of the pattern's virtual origin.
        begin = max(start - int(dj.max()), 0)
        path = align_pattern(query, series[begin : end + 1], pattern, Window(), open_begin=True)[0]
        path[:, 1] += begin
        found.append((cost[end], path))
    return found


def _check_profile_finite(cost, reachable, query, series):
    """Raise when the cost of a reachable end overflowed float64, instead of dropping it."""
    overflowed = np.flatnonzero(reachable & ~np.isfinite(cost))
    if overflowed.size:
        largest = max(float(np.max(np.abs(query))), float(np.max(np.abs(series))))
        raise InvalidInputError(
            f"the summed squared DTW cost between query and series overflows float64 for the "
            f"match ending at timepoint {overflowed[0]} of series (their values reach "
            f"{largest:.3g}; squared differences above about 1.8e308 are inf); rescale them, "
            "e.g. divide both by their largest absolute value"
        )


def _relative_band(window, n, n_series):
    """Allowed cells of a match, in columns from its start: a dense ``(n, width)`` mask."""
    from ..kernels._numba._bounds import band_bounds

    if window.mask is not None:
        return window.mask
    if window.kind == "sakoe_chiba":
        # A fraction is of the query's length; a radius beyond the series reaches nothing more.
        if window.fraction is not None:
            radius = window.radius_for(n, n)
        else:
            radius = min(window.radius, n_series)
        rows, cols = np.indices((n, n + radius))
        return np.abs(rows - cols) <= radius
    lo, hi, _ = band_bounds(window, n, n)
    cols = np.arange(n)
    return (cols >= lo[:, None]) & (cols < hi[:, None])


def _pick(cost, first, k, zone):
    """Ends in increasing cost (ties: earlier end), kept when far enough from the kept ones."""
    ends = np.flatnonzero(np.isfinite(cost))
    kept = []
    for end in ends[np.lexsort((ends, cost[ends]))]:
        start = first[end]
        if all(start > e + zone or end < s - zone for s, e in kept):
            kept.append((int(start), int(end)))
            if len(kept) == k:
                break
    return kept


def _search_in_band(query, series, pattern, band, k, zone):
    from ..kernels._numba._pruned import banded_subsequence_costs

    di, dj, weight, starts = pattern.kernel_arrays()
    lo = np.argmax(band, axis=1).astype(np.int64)
    hi = (band.shape[1] - np.argmax(band[:, ::-1], axis=1)).astype(np.int64)
    cell_ok = np.concatenate([band[i, lo[i] : hi[i]] for i in range(len(band))])
    if cell_ok.all():
        cell_ok = np.zeros(0, dtype=np.bool_)
    cost, first = banded_subsequence_costs(
        query, series, di, dj, weight, starts, lo, hi, cell_ok, pattern is symmetric1
    )
    if not np.isfinite(cost).all():
        # The ends the band can reach at all: the same search over zeros is finite there.
        reachable, _ = banded_subsequence_costs(
            np.zeros((len(query), 1)),
            np.zeros((len(series), 1)),
            di,
            dj,
            weight,
            starts,
            lo,
            hi,
            cell_ok,
            pattern is symmetric1,
        )
        _check_profile_finite(cost, np.isfinite(reachable), query, series)
    found = []
    for start, end in _pick(cost, first, k, zone):
        window = Window(mask=np.ascontiguousarray(band[:, : end - start + 1]))
        path = align_pattern(query, series[start : end + 1], pattern, window)[0]
        path[:, 1] += start
        found.append((cost[end], path))
    return found


def _znormalize_windows(series, n):
    """Per-window, per-channel mean and scale of every ``series[s:s + n]``."""
    views = np.lib.stride_tricks.sliding_window_view(series, n, axis=0)
    mean = views.mean(axis=2)
    std = views.std(axis=2)
    flat = std < _FLAT * np.maximum(1.0, np.abs(mean))
    return mean, np.where(flat, np.inf, std)


def _znormalize(sequence):
    mean, scale = _znormalize_windows(sequence, len(sequence))
    return np.ascontiguousarray((sequence - mean) / scale)


def _search_windows(query, series, pattern, window, k, zone):
    n = len(query)
    query = _znormalize(query)
    mean, scale = _znormalize_windows(series, n)
    count = len(mean)
    starts = np.arange(count)
    first = (series[:count] - mean) / scale
    bound = ((first - query[0]) ** 2).sum(axis=1)
    if n > 1:
        last = (series[n - 1 :] - mean) / scale
        bound += pattern.final_weight() * ((last - query[-1]) ** 2).sum(axis=1)
    order = starts[np.lexsort((starts, bound))]
    blocked = np.zeros(count, dtype=bool)
    computed = []
    kept = []
    position = 0
    while len(kept) < k:
        while computed and blocked[computed[0][1]]:
            heapq.heappop(computed)
        while position < count and blocked[order[position]]:
            position += 1
        best = computed[0][0] if computed else np.inf
        if position < count and bound[order[position]] <= best:
            start = int(order[position])
            position += 1
            candidate = _window(series, mean, scale, start, n)
            heapq.heappush(computed, (_window_cost(query, candidate, pattern, window), start))
            continue
        if not computed:
            break
        total, start = heapq.heappop(computed)
        kept.append((total, start))
        blocked[max(start - n - zone + 1, 0) : start + n + zone] = True
    found = []
    for total, start in kept:
        candidate = _window(series, mean, scale, start, n)
        path = align_pattern(query, candidate, pattern, window)[0]
        path[:, 1] += start
        found.append((total, path))
    return found


def _window(series, mean, scale, start, n):
    return np.ascontiguousarray((series[start : start + n] - mean[start]) / scale[start])


def _window_cost(query, candidate, pattern, window):
    if pattern is symmetric1 and window.mask is None:
        from ..kernels._numba import _dtw
        from ..kernels._numba._bounds import window_spec

        spec = window_spec(window, len(query), len(candidate))
        return float(_dtw.dtw_distance_pair(query, candidate, *spec))
    return align_pattern(query, candidate, pattern, window)[1]

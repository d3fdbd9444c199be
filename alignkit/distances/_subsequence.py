"""Subsequence search: the best matches of a short query inside a long series."""

import heapq
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ..core.params import Integral, Interval, validate_params
from ..core.window import Window
from ..exceptions import InvalidInputError
from ..validation import WindowLike, check_sequence, check_window
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
) -> list[Match]:
    """The ``k`` best non-overlapping DTW matches of a query inside a long series.

    Parameters
    ----------
    query : array-like of shape (n,) or (n, n_channels)
        The short sequence to look for.
    series : array-like of shape (m,) or (m, n_channels)
        The long sequence to search, with the same channels as ``query``.
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

    Returns
    -------
    matches : list of Match
        Best first (ties: earlier end first).

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
    the result is exact. The cost is squared Euclidean, as dtaidistance's
    ``subsequence_alignment`` with ``penalty=0``, whose match ``distance``
    is the square root of the same sum.

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
    """
    pattern = check_step_pattern(step_pattern)
    query = check_sequence(query, name="query")
    series = check_sequence(series, name="series", n_channels=query.shape[1])
    k = int(k)
    n = len(query)
    zone = n // 2 if exclusion_zone is None else int(exclusion_zone)
    if znormalize:
        if len(series) < n:
            raise InvalidInputError(
                f"series has {len(series)} timepoints, fewer than the query's {n}; "
                "with znormalize=True every match has the query's length"
            )
        parsed = check_window(window, shape=(n, n))
        found = _search_windows(query, series, pattern, parsed, k, zone)
    else:
        check_open_ends(pattern, True, True)
        if window is None:
            found = _search_subsequences(query, series, pattern, k, zone)
        else:
            band = _relative_band(check_window(window, shape=(n, n)), n, len(series))
            found = _search_in_band(query, series, pattern, band, k, zone)
    return [
        Match(int(path[0, 1]), int(path[-1, 1]), _finish(total, squared), path)
        for total, path in found
    ]


def _finish(total, squared):
    return float(total) if squared else float(np.sqrt(total))


def _search_subsequences(query, series, pattern, k, zone):
    from ..kernels._numba import _steps

    di, dj, weight, starts = pattern.kernel_arrays()
    cost, first = _steps.subsequence_profile(query, series, di, dj, weight, starts)
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

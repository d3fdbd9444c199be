"""Exact z-normalised subsequence search under banded DTW: the UCR Suite's cascade.

One pass over the start positions of a series keeps the best-so-far distance and
drops a window as soon as a lower bound reaches it (Rakthanmanon et al., KDD 2012):

1. LB_Kim: the first and last cells of every path, then the cheapest of the
   cells next to them (three layers at each end);
2. LB_Keogh of the z-normalised window against the query's envelope, visiting the
   query's timepoints in decreasing magnitude (the largest terms first), with
   early abandoning;
3. LB_Keogh of the query against the window's envelope (the series' envelope,
   z-normalised per window; computed for a segment of starts when one of its
   windows first gets this far, which most segments never do);
4. DTW with early abandoning: a row is abandoned when its smallest cell plus the
   tightest bound's remaining terms reaches the best-so-far.

Every bound is a true lower bound of the banded DTW of the two z-normalised
sequences, so the result is exact: the same window and distance as computing every
DTW. Costs are summed squared differences over the channels (dependent DTW).

The running sums of a window restart at every multiple of ``EPOCH``, as in the UCR
Suite, so that rounding does not build up along a long series; they are sums of the
differences to the value at the restart, which keeps the squares small (the UCR Suite
sums raw squares, whose rounding grows with the series' level). A window's statistics
depend only on its start, so any split of the scan gives the same distances.
"""

import numpy as np
from numba import njit
from numba.extending import overload

from ._flags import JIT_OPTIONS, VECTOR_JIT_OPTIONS

EPOCH = 8192  # a multiple of BLOCK
BLOCK = 256
SEGMENT = 1024  # starts per computation of the series' envelope
_INF = np.inf
MAX_FLOAT = float(np.finfo(np.float64).max)
FLAT = 1e-10  # a window whose std is below FLAT * max(1, |mean|) is constant: it becomes 0

# Indices into the statistics array.
STAT_WINDOWS, STAT_KIM, STAT_EQ, STAT_EC, STAT_ABANDONED, STAT_DTW = range(6)
N_STATS = 6


# One source for both layouts: a univariate series is passed 1-D, so that Numba compiles
# the channel loops away; a multivariate one 2-D ``(n_timepoints, n_channels)``.
def _get(array, t, c):
    """``array[t, c]``, or ``array[t]`` for a 1-D array."""


def _put(array, t, c, value):
    """Set ``array[t, c]``, or ``array[t]`` for a 1-D array."""


def _channels(array):
    """The number of channels: 1 for a 1-D array."""


@overload(_get, inline="always")
def _get_overload(array, t, c):
    if array.ndim == 1:
        return lambda array, t, c: array[t]
    return lambda array, t, c: array[t, c]


@overload(_put, inline="always")
def _put_overload(array, t, c, value):
    if array.ndim == 1:

        def put_1d(array, t, c, value):
            array[t] = value

        return put_1d

    def put_2d(array, t, c, value):
        array[t, c] = value

    return put_2d


@overload(_channels, inline="always")
def _channels_overload(array):
    if array.ndim == 1:
        return lambda array: 1
    return lambda array: array.shape[1]


@njit(**JIT_OPTIONS)
def envelope_into(series, radius, first, last, lower, upper, origin):
    """Sliding min and max of ``series[t - radius : t + radius + 1]`` for ``t`` in
    ``[first, last)``, per channel, written into ``lower[t - origin]`` and
    ``upper[t - origin]``.

    Van Herk and Gil-Werman's method, without branches on the data: the windows that
    lie wholly inside the series are cut by blocks of ``w = 2 radius + 1`` timepoints
    aligned on the first window; a window that does not start a block covers the end
    of one block and the beginning of the next, so its minimum is the smaller of the
    suffix minimum of the first part and the running prefix minimum of the second.
    Each timepoint is read twice, whatever the radius. The windows clipped by the
    series' ends run on a running minimum from that end. Minima are of the same
    values, so the envelope is the same numbers as any other exact method gives.
    """
    length = series.shape[0]
    channels = _channels(series)
    w = 2 * radius + 1
    inner_first = max(first, radius)
    inner_last = min(last, length - radius)
    suffix_min = np.empty(w)
    suffix_max = np.empty(w)
    for c in range(channels):
        # Windows clipped at the start: [0, t + radius].
        low, high = _INF, -_INF
        reach = 0
        for t in range(first, min(last, radius)):
            stop = min(length, t + radius + 1)
            while reach < stop:
                value = _get(series, reach, c)
                low = min(low, value)
                high = max(high, value)
                reach += 1
            _put(lower, t - origin, c, low)
            _put(upper, t - origin, c, high)
        # Windows clipped at the end (and not at the start): [t - radius, length).
        low, high = _INF, -_INF
        reach = length
        for t in range(last - 1, max(first, radius, length - radius) - 1, -1):
            while reach > t - radius:
                reach -= 1
                value = _get(series, reach, c)
                low = min(low, value)
                high = max(high, value)
            _put(lower, t - origin, c, low)
            _put(upper, t - origin, c, high)
        # Whole windows, block by block: window t starts at a = t - radius.
        a = inner_first - radius
        while a < inner_last - radius:
            count = min(w, inner_last - radius - a)  # windows starting in this block
            # Suffix extremes of the block [a, a + w).
            low, high = _INF, -_INF
            for i in range(w - 1, -1, -1):
                value = _get(series, a + i, c)
                low = min(low, value)
                high = max(high, value)
                suffix_min[i] = low
                suffix_max[i] = high
            _put(lower, a + radius - origin, c, low)
            _put(upper, a + radius - origin, c, high)
            # Prefix extremes of the next block, up to each window's end a + i + w - 1.
            low, high = _INF, -_INF
            for i in range(1, count):
                value = _get(series, a + w + i - 1, c)
                low = min(low, value)
                high = max(high, value)
                _put(lower, a + i + radius - origin, c, min(suffix_min[i], low))
                _put(upper, a + i + radius - origin, c, max(suffix_max[i], high))
            a += w


@njit(**JIT_OPTIONS)
def coarsen_into(series, factor, first, last, out, out2):
    """``out[t] = mean(series[factor * t : factor * (t + 1)])`` per channel, for ``t`` in
    ``[first, last)``: the timepoints summed in order, then scaled by ``1 / factor``.

    One pass over the series (numpy's strided sums read it once per offset);
    the order of the sums is fixed, so any split into chunks gives the same bits.
    ``out2`` (empty: none) takes the next coarser copy, ``out2[g]`` the same mean of
    ``out[factor * g : factor * (g + 1)]``, for the groups inside ``[first, last)``
    that ``out2`` holds: bit for bit what a second call on ``out`` would write.

    Returns whether every sum of ``series`` values was finite: False when the values
    read hold NaN or inf (a sum of them is not finite), or when finite values' sum
    overflowed. The search checks the series for NaN and inf this way, in the same
    pass (and the same threads) as the copy.
    """
    channels = _channels(series)
    scale = 1.0 / factor
    finite = True
    for t in range(first, last):
        for c in range(channels):
            total = _block_sum(series, factor * t, factor, c)
            if not abs(total) <= MAX_FLOAT:  # NaN or inf (a branch: cheaper than &=)
                finite = False
            _put(out, t, c, total * scale)
    for g in range(-(-first // factor), min(last // factor, out2.shape[0])):
        for c in range(channels):
            _put(out2, g, c, _block_sum(out, factor * g, factor, c) * scale)
    return finite


@njit(inline="always", **JIT_OPTIONS)
def _block_sum(array, start, factor, c):
    """``array[start] + ... + array[start + factor - 1]`` of channel ``c``, in that order
    (unrolled for 4, the search's factor: twice as fast)."""
    if factor == 4:
        return (
            (_get(array, start, c) + _get(array, start + 1, c)) + _get(array, start + 2, c)
        ) + _get(array, start + 3, c)
    total = _get(array, start, c)
    for offset in range(1, factor):
        total += _get(array, start + offset, c)
    return total


@njit(**JIT_OPTIONS)
def series_envelope_into(series, radius, first, last, lower, upper):
    """Sliding min and max of ``series[t - radius : t + radius + 1]`` for ``t`` in
    ``[first, last)``, per channel, written into ``lower`` and ``upper``
    (:func:`envelope_into` at origin 0)."""
    envelope_into(series, radius, first, last, lower, upper, 0)


@njit(**JIT_OPTIONS)
def series_envelope(series, radius):
    """Sliding min and max of ``series[t - radius : t + radius + 1]``, per channel."""
    lower = np.empty_like(series)
    upper = np.empty_like(series)
    series_envelope_into(series, radius, 0, series.shape[0], lower, upper)
    return lower, upper


@njit(inline="always", **JIT_OPTIONS)
def _cell(window, i, query, j):
    total = 0.0
    for c in range(_channels(query)):
        diff = _get(window, i, c) - _get(query, j, c)
        total += diff * diff
    return total


@njit(inline="always", **JIT_OPTIONS)
def _norm(series, t, c, mean, scale, w):
    """The z-normalised value of ``series[t, c]`` in window ``w`` of the block."""
    return (_get(series, t, c) - _get(mean, w, c)) * _get(scale, w, c)


@njit(**JIT_OPTIONS)
def _kim_layers(series, start, query, mean, scale, w, bound, bsf, buffer):
    """LB_Kim's next layers: ``bound`` (first and last cells) plus the cheapest cells of
    the two layers after the first cell and before the last (windows of 6 or more)."""
    n = query.shape[0]
    if n < 6:
        return bound
    channels = _channels(query)
    for offset in range(3):
        for c in range(channels):
            _put(buffer, offset, c, _norm(series, start + offset, c, mean, scale, w))
            end = n - 1 - offset
            _put(buffer, end, c, _norm(series, start + end, c, mean, scale, w))
    for layer in (1, 2):
        for from_end in (False, True):
            best = np.inf
            for step in range(layer + 1):
                for i, j in ((layer, step), (step, layer)):
                    if from_end:
                        i, j = n - 1 - i, n - 1 - j
                    value = _cell(buffer, i, query, j)
                    if value < best:
                        best = value
            bound += best
            if bound >= bsf:
                return bound
    return bound


@njit(inline="always", **JIT_OPTIONS)
def _excursion(value, low, high):
    """Squared distance of ``value`` to the interval ``[low, high]``."""
    if value > high:
        return (value - high) * (value - high)
    if value < low:
        return (value - low) * (value - low)
    return 0.0


@njit(**JIT_OPTIONS)
def _keogh_query_envelope(series, start, order, lower, upper, mean, scale, w, bsf, terms):
    """LB_Keogh of the window against the query's envelope, largest query terms first."""
    n = lower.shape[0]
    channels = _channels(lower)
    bound = 0.0
    for rank in range(n):
        i = order[rank]
        term = 0.0
        for c in range(channels):
            value = _norm(series, start + i, c, mean, scale, w)
            term += _excursion(value, _get(lower, i, c), _get(upper, i, c))
        terms[i] = term
        bound += term
        if bound >= bsf:
            return bound
    return bound


@njit(**JIT_OPTIONS)
def _keogh_data_envelope(query, order, env_lower, env_upper, start, mean, scale, w, bsf, terms):
    """LB_Keogh of the query against the window's envelope (the series', z-normalised)."""
    n = query.shape[0]
    channels = _channels(query)
    bound = 0.0
    for rank in range(n):
        i = order[rank]
        term = 0.0
        for c in range(channels):
            high = _norm(env_upper, start + i, c, mean, scale, w)
            low = _norm(env_lower, start + i, c, mean, scale, w)
            term += _excursion(_get(query, i, c), low, high)
        terms[i] = term
        bound += term
        if bound >= bsf:
            return bound
    return bound


@njit(**JIT_OPTIONS)
def _dtw_abandoning(window, query, radius, remaining, bsf, previous, current):
    """Banded DTW of two length-n sequences, abandoned when it cannot beat ``bsf``.

    ``remaining[i]`` bounds the cost of rows ``i..n-1`` from below (0 past the end).
    The rows are stored in ``2 * radius + 1`` cells, column ``j`` of row ``i`` at
    ``j - i + radius``.
    """
    n = query.shape[0]
    width = 2 * radius + 1
    for k in range(width):
        previous[k] = np.inf
    for i in range(n):
        for k in range(width):
            current[k] = np.inf
        row_min = np.inf
        lo = max(0, i - radius)
        hi = min(n - 1, i + radius)
        for j in range(lo, hi + 1):
            k = j - i + radius
            if i == 0 and j == 0:
                best = 0.0
            else:
                best = np.inf
                if i > 0:
                    up = previous[k + 1] if k + 1 < width else np.inf  # (i - 1, j)
                    if up < best:
                        best = up
                    diagonal = previous[k]  # (i - 1, j - 1)
                    if j > 0 and diagonal < best:
                        best = diagonal
                if k > 0 and j > 0:
                    left = current[k - 1]  # (i, j - 1)
                    if left < best:
                        best = left
            value = best + _cell(window, j, query, i)
            current[k] = value
            if value < row_min:
                row_min = value
        if row_min + remaining[min(i + radius + 1, n)] >= bsf:
            return np.inf
        previous, current = current, previous
    return previous[radius]


@njit(**VECTOR_JIT_OPTIONS)
def _block_bounds(series, block, count, n, offset, sums, squares, query, mean, scale, kim):
    """Mean, inverse std and first-and-last LB_Kim of the ``count`` windows of a block.

    Branch-free, so that Numba vectorises it over the windows.
    """
    channels = _channels(query)
    for w in range(count):
        kim[w] = 0.0
    for c in range(channels):
        first_q = _get(query, 0, c)
        last_q = _get(query, n - 1, c)
        for w in range(count):
            shift = _get(sums, w, c) / n
            variance = max(_get(squares, w, c) / n - shift * shift, 0.0)
            std = np.sqrt(variance)
            average = _get(offset, w, c) + shift
            inverse = 1.0 / std
            flat = std < FLAT * max(1.0, abs(average))
            inverse = 0.0 if flat else inverse
            _put(mean, w, c, average)
            _put(scale, w, c, inverse)
            head = (_get(series, block + w, c) - average) * inverse - first_q
            tail = (_get(series, block + w + n - 1, c) - average) * inverse - last_q
            kim[w] += head * head + (tail * tail if n > 1 else 0.0)


@njit(**JIT_OPTIONS)
def _scan(
    series, query, order, q_lower, q_upper, radius, first, last, blocked, bsf, shared, n_select,
    separation,
):  # fmt: skip
    """The cascade over the starts ``[first, last)``: :func:`search_best` when
    ``n_select`` is 0, else :func:`search_candidates` (``bsf`` is then its threshold).

    The series' envelope (for LB_Keogh of the query against the window) is computed
    when a window of a segment of ``SEGMENT`` starts first reaches that bound, for the
    timepoints the segment's windows cover, into a buffer of that size: most segments
    never need it, and the buffer stays in cache.

    Returns ``(best_start, best_distance, starts, distances, threshold, stats)``.
    """
    n = query.shape[0]
    channels = _channels(query)
    collect = n_select > 0
    stats = np.zeros(N_STATS, dtype=np.int64)
    # Per-window statistics of one block of starts (1-D for a univariate series).
    offsets = np.empty_like(series[:BLOCK])
    sums = np.empty_like(series[:BLOCK])
    squares = np.empty_like(series[:BLOCK])
    mean = np.empty_like(series[:BLOCK])
    scale = np.empty_like(series[:BLOCK])
    kim = np.empty(BLOCK)
    running_offset = np.zeros(channels)
    running_sums = np.zeros(channels)
    running_squares = np.zeros(channels)
    buffer = np.empty_like(query)
    window = np.empty_like(query)
    env_lower = np.empty_like(series[: SEGMENT + n - 1])
    env_upper = np.empty_like(series[: SEGMENT + n - 1])
    env_origin = -1  # the first start of the segment whose envelope the buffers hold
    terms_eq = np.zeros(n)
    terms_ec = np.zeros(n)
    remaining = np.zeros(n + 1)
    previous = np.empty(2 * radius + 1)
    current = np.empty(2 * radius + 1)
    best_start = -1
    best_distance = np.inf
    # Collecting: keep the threshold's ties, pruning only what is strictly above it.
    threshold = bsf
    if collect:
        bsf = np.nextafter(threshold, np.inf)
    starts = np.empty(64 if collect else 0, dtype=np.int64)
    distances = np.empty(64 if collect else 0)
    n_found = 0
    next_tighten = n_select
    for block in range(first - first % EPOCH, last, BLOCK):
        count = min(BLOCK, last - block)
        for w in range(count):
            start = block + w
            if start % EPOCH == 0:
                # Restart the running sums at fixed positions, so that a window's statistics
                # do not depend on where the scan began; sum the differences to the
                # window's first value, which keeps the squares small on a long series.
                for c in range(channels):
                    running_offset[c] = _get(series, start, c)
                    running_sums[c] = 0.0
                    running_squares[c] = 0.0
                    for t in range(start, start + n):
                        value = _get(series, t, c) - running_offset[c]
                        running_sums[c] += value
                        running_squares[c] += value * value
            else:
                for c in range(channels):
                    old = _get(series, start - 1, c) - running_offset[c]
                    new = _get(series, start + n - 1, c) - running_offset[c]
                    running_sums[c] += new - old
                    running_squares[c] += new * new - old * old
            for c in range(channels):
                _put(offsets, w, c, running_offset[c])
                _put(sums, w, c, running_sums[c])
                _put(squares, w, c, running_squares[c])
        if block + count <= first:
            continue
        _block_bounds(series, block, count, n, offsets, sums, squares, query, mean, scale, kim)
        if shared[0] < threshold and collect:
            threshold = shared[0]
            bsf = np.nextafter(threshold, np.inf)
        elif shared[0] < bsf and not collect:
            bsf = shared[0]
        for w in range(max(0, first - block), count):
            start = block + w
            if blocked[start]:
                continue
            stats[STAT_WINDOWS] += 1
            if kim[w] >= bsf:
                stats[STAT_KIM] += 1
                continue
            if _kim_layers(series, start, query, mean, scale, w, kim[w], bsf, buffer) >= bsf:
                stats[STAT_KIM] += 1
                continue
            bound_eq = _keogh_query_envelope(
                series, start, order, q_lower, q_upper, mean, scale, w, bsf, terms_eq
            )
            if bound_eq >= bsf:
                stats[STAT_EQ] += 1
                continue
            segment = start - start % SEGMENT
            if segment != env_origin:
                stop = min(segment + SEGMENT + n - 1, series.shape[0])
                envelope_into(series, radius, segment, stop, env_lower, env_upper, segment)
                env_origin = segment
            bound_ec = _keogh_data_envelope(
                query, order, env_lower, env_upper, start - segment, mean, scale, w, bsf, terms_ec
            )
            if bound_ec >= bsf:
                stats[STAT_EC] += 1
                continue
            terms = terms_eq if bound_eq > bound_ec else terms_ec
            remaining[n] = 0.0
            for i in range(n - 1, -1, -1):
                remaining[i] = remaining[i + 1] + terms[i]
            for t in range(n):
                for c in range(channels):
                    _put(window, t, c, _norm(series, start + t, c, mean, scale, w))
            distance = _dtw_abandoning(window, query, radius, remaining, bsf, previous, current)
            if distance >= bsf:
                stats[STAT_ABANDONED] += 1
                continue
            stats[STAT_DTW] += 1
            if not collect:
                bsf = best_distance = distance
                best_start = start
                published = np.nextafter(distance, np.inf)
                if published < shared[0]:
                    shared[0] = published
                continue
            if n_found == len(starts):
                starts = np.concatenate((starts, np.empty_like(starts)))
                distances = np.concatenate((distances, np.empty_like(distances)))
            starts[n_found] = start
            distances[n_found] = distance
            n_found += 1
            if n_found >= next_tighten:
                n_found, found = tighten(starts, distances, n_found, n_select, separation)
                if found < threshold:
                    threshold = found
                    bsf = np.nextafter(threshold, np.inf)
                    if threshold < shared[0]:
                        shared[0] = threshold
                next_tighten = max(2 * n_found, n_found + n_select)
    if collect:
        n_found, found = tighten(starts, distances, n_found, n_select, separation)
        threshold = min(threshold, found)
        if threshold < shared[0]:
            shared[0] = threshold
    return (
        best_start,
        best_distance,
        starts[:n_found].copy(),
        distances[:n_found].copy(),
        threshold,
        stats,
    )


@njit(**JIT_OPTIONS)
def search_best(
    series, query, order, q_lower, q_upper, radius, first, last, blocked, bsf, shared,
):  # fmt: skip
    """Best window start in ``[first, last)`` (ties: the earliest) and its squared distance.

    ``query`` is z-normalised; ``q_lower``/``q_upper`` its envelope;
    ``blocked[s]`` skips start ``s``; ``bsf`` is an initial
    threshold (``inf``, or a known distance to beat). ``shared[0]`` is a threshold
    shared by the scans of other chunks running at the same time: read at every block
    and lowered to just above each distance found (so that an equal distance at an
    earlier start elsewhere is still found). Returns ``(start, distance, stats)``;
    ``start`` is -1 (distance ``inf``) when no window beats the thresholds.
    """
    best_start, best_distance, _, _, _, stats = _scan(
        series, query, order, q_lower, q_upper, radius, first, last, blocked, bsf, shared, 0, 0
    )
    return best_start, best_distance, stats


@njit(**JIT_OPTIONS)
def tighten(starts, distances, count, n_select, separation):
    """Keep the candidates that can still be among the matches; return (kept, threshold).

    The threshold is the distance of the ``n_select``-th window that a greedy pick in
    increasing distance keeps among ``starts[:count]`` (two windows conflict when their
    starts are closer than ``separation``), ``inf`` while fewer can be picked. Any
    ``n_select`` such windows are pairwise compatible, so with ``n_select = 2 k - 1``
    the ``k``-th match of the whole series is at most the threshold: a window above it
    can never be needed. The kept candidates (distance at most the threshold) stay in
    their order, compacted to the front.
    """
    order = np.argsort(distances[:count], kind="mergesort")
    picked = np.empty(n_select, dtype=np.int64)
    n_picked = 0
    threshold = np.inf
    for index in order:
        start = starts[index]
        free = True
        for p in range(n_picked):
            if abs(start - picked[p]) < separation:
                free = False
                break
        if free:
            picked[n_picked] = start
            n_picked += 1
            if n_picked == n_select:
                threshold = distances[index]
                break
    kept = 0
    for index in range(count):
        if distances[index] <= threshold:
            starts[kept] = starts[index]
            distances[kept] = distances[index]
            kept += 1
    return kept, threshold


@njit(**JIT_OPTIONS)
def search_candidates(
    series, query, order, q_lower, q_upper, radius, first, last, threshold, n_select,
    separation, shared,
):  # fmt: skip
    """Every window start in ``[first, last)`` whose distance can be among the matches.

    A one-pass alternative to ``k`` passes of :func:`search_best`, for chunks searched
    apart: a window is kept when its distance is at most ``threshold``, which starts at
    the given value (``inf``, or a bound from other chunks) and is tightened as in
    :func:`tighten`. ``shared[0]`` is such a bound shared with the scans of other
    chunks running at the same time: read at every block and lowered to each tighter
    threshold found. Returns ``(starts, distances, threshold, stats)``, the starts in
    increasing order.
    """
    blocked = np.zeros(last, dtype=np.bool_)
    _, _, starts, distances, threshold, stats = _scan(
        series, query, order, q_lower, q_upper, radius, first, last, blocked, threshold, shared,
        n_select, separation,
    )  # fmt: skip
    return starts, distances, threshold, stats

"""Dynamic time warping between two sequences: :func:`dtw` and :func:`dtw_distance`."""

import numpy as np
from numpy.typing import ArrayLike

from ..core.params import check_param
from ..core.results import Alignment
from ..core.window import Window
from ..exceptions import InvalidInputError, WindowError
from ..validation import WindowLike, check_memory, check_pair, check_window
from .step_patterns import (
    StepPattern,
    align_pattern,
    check_open_ends,
    check_step_pattern,
    symmetric1,
)

__all__ = ["dtw", "dtw_alignment", "dtw_cost", "dtw_distance", "pair_window"]

# Above this many bytes of banded matrix, method="auto" switches to linear memory.
_LINEAR_THRESHOLD = 2**25

_DEFINITION = """
    The local cost of matching ``a[i]`` with ``b[j]`` is the squared Euclidean
    distance over channels, ``sum_k (a[i, k] - b[j, k]) ** 2`` (dependent
    multivariate DTW, DTW_D). The best path minimises the sum of local costs
    under the symmetric1 step pattern (steps (1, 1), (1, 0), (0, 1), all
    weighted 1). With ``squared=False`` (default) the distance is the square
    root of that sum, the value tslearn, dtaidistance and pyts return; with
    ``squared=True`` it is the sum itself, the value aeon's ``dtw_distance``
    returns. Both give the same nearest neighbours.
"""


def _check_method(method, parsed, return_cost_matrix, pattern, open_ends):
    if method not in ("auto", "matrix", "linear"):
        raise InvalidInputError(f"method must be 'auto', 'matrix' or 'linear', got {method!r}")
    if method == "linear" and (
        parsed.mask is not None or return_cost_matrix or pattern is not symmetric1 or open_ends
    ):
        raise InvalidInputError(
            "method='linear' supports the symmetric1 step pattern without open ends, "
            "a mask window or return_cost_matrix; use method='matrix' for those"
        )


def _check_flags(owner, **flags):
    """Refuse flags that are not booleans: ``squared="no"`` is not read as true.

    One check per flag instead of :func:`~alignkit.core.params.validate_params`,
    which binds the signature on every call: these functions are called once
    per pair.
    """
    for name, value in flags.items():
        if value is not True and value is not False:
            check_param(name, value, ["boolean"], owner)


def _finish(total, squared):
    return float(total) if squared else float(np.sqrt(total))


def dtw(
    a: ArrayLike,
    b: ArrayLike,
    *,
    window: WindowLike = None,
    squared: bool = False,
    return_cost_matrix: bool = False,
    step_pattern: str | StepPattern = "symmetric1",
    open_begin: bool = False,
    open_end: bool = False,
    method: str = "auto",
) -> Alignment:
    """Align two sequences with dynamic time warping.

    Parameters
    ----------
    a : array-like of shape (n,) or (n, n_channels)
        First sequence.
    b : array-like of shape (m,) or (m, n_channels)
        Second sequence, with the same channels as ``a``.
    window : None, int, float, tuple or ndarray of bool, default=None
        Constraint on the path (see :ref:`windows`):

        - ``None``: no constraint.
        - ``int r``: Sakoe-Chiba band of radius ``r`` timepoints around the
          diagonal from ``(0, 0)`` to ``(n-1, m-1)``.
        - ``float w`` in ``[0, 1]``: radius ``round(w * max(n, m))``, the UCR
          archive's convention (``w=0.1`` is a 10% window).
        - ``("itakura", max_slope)``: Itakura parallelogram.
        - boolean mask of shape ``(n, m)``: cells a path may visit.
    squared : bool, default=False
        Return the summed squared cost instead of its square root.
    return_cost_matrix : bool, default=False
        Also return the accumulated cost matrix (dense, ``inf`` outside the
        window), in the units of the summed cost.
    step_pattern : str or StepPattern, default="symmetric1"
        The local moves and their weights: ``"symmetric1"``, ``"symmetric2"``,
        ``"asymmetric"``, ``"symmetricP05"``, ``"symmetricP1"``,
        ``"symmetricP2"``, ``"asymmetricP05"``, ``"asymmetricP1"``,
        ``"asymmetricP2"`` or a :class:`~alignkit.distances.step_patterns.StepPattern`
        of your own (see :func:`~alignkit.distances.step_patterns.check_step_pattern`).
    open_begin : bool, default=False
        Let the path start at any ``(0, j)``: ``a`` is matched to a part of
        ``b`` that need not begin at ``b[0]``. Needs a pattern normalised by
        ``"N"`` or not normalised (symmetric1).
    open_end : bool, default=False
        Let the path end at any ``(n-1, j)``: ``a`` is matched to a part of
        ``b`` that need not end at ``b[-1]``. The end is the column with the
        smallest normalised distance (the summed cost for symmetric1).
    method : {"auto", "matrix", "linear"}, default="auto"
        How the symmetric1 path is found. ``"matrix"`` stores the accumulated
        cost over the window's cells. ``"linear"`` finds an exact optimal path
        by divide and conquer (Hirschberg) in O(n + m) memory, at about twice
        the time of :func:`dtw_distance`; among equally good paths it may pick
        another one than ``"matrix"``; it takes neither a mask nor
        ``return_cost_matrix``. ``"auto"`` uses the matrix unless it would
        exceed 32 MiB (or ``max_memory``, if lower): above that the
        linear method is faster too (fresh pages for a large matrix cost more).

    Returns
    -------
    alignment : Alignment
        The optimal path, its distance, its ``normalized_distance`` (None for
        symmetric1) and, if asked, the cost matrix.

    Raises
    ------
    InvalidParameterError
        If ``squared``, ``return_cost_matrix``, ``open_begin`` or
        ``open_end`` is not a boolean.
    InvalidInputError
        If a sequence is empty, not finite, or the channels differ; if the
        step pattern is unknown, cannot join the two lengths, or does not
        allow ``open_begin``.
    WindowError
        If the window is malformed or admits no path.
    AlignkitMemoryError
        If the band would need more than ``max_memory`` bytes.

    See Also
    --------
    dtw_distance : The distance alone, in O(n + m) memory.

    Notes
    -----
    {definition}
    Bands always contain the straight diagonal, so they admit a path for
    any lengths; for unequal lengths the band follows the slanted diagonal.
    The path is stored over the band only: O(n * r) memory for a radius ``r``,
    or in O(n + m) memory with ``method="linear"``.
    Among equally good paths the backtrack prefers the diagonal step, then the
    step that advances ``a`` alone, then ``b`` alone.

    Other step patterns follow dtw-python's definitions exactly (the same
    tables, ``D[0, 0] = c(0, 0)``, the same normalisations and open ends), with
    the squared Euclidean local cost: the summed cost equals dtw-python's
    ``distance`` with ``dist_method="sqeuclidean"`` and ``normalized_distance``
    its ``normalizedDistance`` (with ``squared=True``; with ``squared=False``
    both are square roots). Every cell of the path, including the cells a
    multi-step pattern passes through, lies inside the window. Open ends are
    also allowed with symmetric1, which dtw-python refuses: the summed cost
    is then minimised, as in subsequence DTW (Mueller 2007).

    References
    ----------
    .. [1] H. Sakoe and S. Chiba, "Dynamic programming algorithm optimization
       for spoken word recognition", IEEE Trans. ASSP 26(1), 1978.

    Examples
    --------
    >>> import alignkit
    >>> alignment = alignkit.dtw([0.0, 1.0, 2.0], [0.0, 2.0])
    >>> alignment.path.tolist()
    [[0, 0], [1, 0], [2, 1]]
    >>> alignment.distance
    1.0

    With the symmetric2 step pattern the distance can be normalised by the
    summed lengths, and with an open end ``a`` may match a prefix of ``b``:

    >>> alignkit.dtw([0.0, 1.0, 2.0], [0.0, 2.0], step_pattern="symmetric2",
    ...              squared=True).normalized_distance
    0.2
    >>> alignkit.dtw([0.0, 1.0], [0.0, 1.0, 5.0, 5.0], step_pattern="asymmetric",
    ...              open_end=True).path.tolist()
    [[0, 0], [1, 1]]
    """
    _check_flags(
        "dtw",
        squared=squared,
        return_cost_matrix=return_cost_matrix,
        open_begin=open_begin,
        open_end=open_end,
    )
    pattern = check_step_pattern(step_pattern)
    check_open_ends(pattern, open_begin, open_end)
    a, b = check_pair(a, b)
    parsed = check_window(window, shape=(len(a), len(b)))
    _check_method(method, parsed, return_cost_matrix, pattern, open_begin or open_end)
    return dtw_alignment(
        a,
        b,
        parsed,
        pattern=pattern,
        squared=squared,
        return_cost_matrix=return_cost_matrix,
        open_begin=open_begin,
        open_end=open_end,
        method=method,
    )


def pair_window(window: Window, n: int, m: int) -> Window:
    """A parsed window for one ``n`` by ``m`` pair: a mask is checked against that shape.

    For callers that parse a window once and align many pairs with it.
    """
    return window if window.mask is None else check_window(window, shape=(n, m))


def dtw_alignment(
    a: np.ndarray,
    b: np.ndarray,
    window: Window,
    *,
    pattern: StepPattern = symmetric1,
    squared: bool = False,
    return_cost_matrix: bool = False,
    open_begin: bool = False,
    open_end: bool = False,
    method: str = "auto",
) -> Alignment:
    """The driver of :func:`dtw`: validated inputs in, an :class:`Alignment` out.

    ``a`` and ``b`` are float64 C-contiguous ``(n, n_channels)`` arrays with
    the same channels, ``window`` a parsed :class:`~alignkit.core.window.Window`
    (a mask of shape ``(n, m)``), ``pattern`` a ``StepPattern`` that allows the
    open ends asked for; nothing is checked again.
    """
    n, m = len(a), len(b)
    window = window.resolve(n, m)
    if pattern is not symmetric1 or open_begin or open_end:
        path, total, normalized, cost_matrix = align_pattern(
            a,
            b,
            pattern,
            window,
            open_begin=open_begin,
            open_end=open_end,
            keep_matrix=return_cost_matrix,
        )
        if normalized is not None:
            normalized = _finish(normalized, squared)
        return Alignment(path, _finish(total, squared), (n, m), cost_matrix, normalized)
    return _symmetric1_alignment(a, b, window, squared, return_cost_matrix, method)


def _symmetric1_alignment(a, b, parsed, squared, return_cost_matrix, method):
    """The fast symmetric1 path: banded matrix, or linear memory for large problems."""
    from .._config import get_config
    from ..kernels._numba import _dtw
    from ..kernels._numba._bounds import band_bounds

    n, m = len(a), len(b)
    lo, hi, cell_ok = band_bounds(parsed, n, m)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(hi - lo, out=offsets[1:])
    matrix_bytes = 8 * int(offsets[-1]) + (8 * n * m if return_cost_matrix else 0)
    linear = method == "linear" or (
        method == "auto"
        and parsed.mask is None
        and not return_cost_matrix
        and matrix_bytes > min(get_config()["max_memory"], _LINEAR_THRESHOLD)
    )
    what = f"a DTW path between sequences of lengths {n} and {m}"
    if linear:
        from ._linear_path import linear_memory_bytes, linear_memory_path

        check_memory(linear_memory_bytes(n, m), f"{what} in linear memory")
        try:
            path, total = linear_memory_path(a, b, lo, hi)
        except WindowError:
            # A band always holds a path, so the summed cost overflowed: dtw_cost says so.
            dtw_cost(a, b, parsed)
            raise
        return Alignment(path, _finish(total, squared), (n, m))
    check_memory(matrix_bytes, what)
    acc = _dtw.dtw_banded_matrix(a, b, lo, hi, offsets, cell_ok)
    total = acc[-1]
    if not np.isfinite(total):
        if parsed.mask is None:  # a band holds the diagonal path: only overflow makes it inf
            check_cost_finite(total, "a", "b", a, b)
        _raise_no_path(n, m)
    path = _dtw.backtrack_banded(acc, offsets, lo, hi, m)
    cost_matrix = None
    if return_cost_matrix:
        cost_matrix = np.full((n, m), np.inf)
        for i in range(n):
            cost_matrix[i, lo[i] : hi[i]] = acc[offsets[i] : offsets[i + 1]]
    return Alignment(path, _finish(total, squared), (n, m), cost_matrix)


def check_cost_finite(total: float, name_a: str, name_b: str, a: np.ndarray, b: np.ndarray) -> None:
    """Raise when a summed squared cost overflowed float64 (a band always has a finite path).

    ``name_a`` and ``name_b`` name the sequences in the message (``"X[3]"``).
    """
    if np.isfinite(total):
        return
    largest = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    raise InvalidInputError(
        f"the summed squared DTW cost between {name_a} and {name_b} overflows float64 "
        f"(their values reach {largest:.3g}; squared differences above about 1.8e308 are "
        "inf); rescale the sequences, e.g. divide them by their largest absolute value"
    )


def _raise_no_path(n, m):
    raise WindowError(
        f"the window admits no continuous warping path from (0, 0) to ({n - 1}, {m - 1})"
    )


def dtw_distance(
    a: ArrayLike,
    b: ArrayLike,
    *,
    window: WindowLike = None,
    squared: bool = False,
    step_pattern: str | StepPattern = "symmetric1",
    multivariate: str = "dependent",
) -> float:
    """Dynamic time warping distance between two sequences, without the path.

    Parameters
    ----------
    a : array-like of shape (n,) or (n, n_channels)
        First sequence.
    b : array-like of shape (m,) or (m, n_channels)
        Second sequence, with the same channels as ``a``.
    window : None, int, float, tuple or ndarray of bool, default=None
        Constraint on the path, as in :func:`dtw`.
    squared : bool, default=False
        Return the summed squared cost instead of its square root.
    step_pattern : str or StepPattern, default="symmetric1"
        The local moves and their weights, as in :func:`dtw`.
    multivariate : {"dependent", "independent"}, default="dependent"
        ``"dependent"`` (DTW_D) warps all channels along one path with the
        squared Euclidean cost over channels. ``"independent"`` (DTW_I) warps
        each channel on its own and adds the summed costs of the channels
        (the square root is taken of that total unless ``squared``), as the
        UEA archive defines it (Shokoohi-Yekta et al. 2017).

    Returns
    -------
    distance : float

    Raises
    ------
    InvalidParameterError
        If ``squared`` is not a boolean.
    InvalidInputError
        If a sequence is empty or not finite, the channels differ, the step
        pattern or ``multivariate`` is unknown, or the summed squared cost
        overflows float64.
    WindowError
        If the window is malformed or admits no path.

    Notes
    -----
    {definition}
    With symmetric1 and no mask this keeps three anti-diagonals of
    ``min(n, m) + 2`` values and copies of the inputs, O(n + m) memory; other
    step patterns store the band, as :func:`dtw` does.

    Examples
    --------
    >>> import alignkit
    >>> alignkit.dtw_distance([0.0, 1.0, 2.0], [0.0, 2.0], squared=True)
    1.0
    """
    _check_flags("dtw_distance", squared=squared)
    pattern = check_step_pattern(step_pattern)
    a, b = check_pair(a, b)
    if multivariate not in ("dependent", "independent"):
        raise InvalidInputError(
            f"multivariate must be 'dependent' or 'independent', got {multivariate!r}"
        )
    parsed = check_window(window, shape=(len(a), len(b)))
    if multivariate == "independent" and a.shape[1] > 1:
        total = sum(
            dtw_cost(
                np.ascontiguousarray(a[:, [k]]), np.ascontiguousarray(b[:, [k]]), parsed, pattern
            )
            for k in range(a.shape[1])
        )
        return _finish(total, squared)
    return _finish(dtw_cost(a, b, parsed, pattern), squared)


def dtw_cost(
    a: np.ndarray, b: np.ndarray, window: Window, pattern: StepPattern = symmetric1
) -> float:
    """The driver of :func:`dtw_distance`: the summed cost of validated inputs (dependent).

    Inputs as in :func:`dtw_alignment`; symmetric1 without a mask runs in
    O(n + m) memory.
    """
    from ..kernels._numba import _dtw
    from ..kernels._numba._bounds import window_spec

    n, m = len(a), len(b)
    if window.mask is not None or pattern is not symmetric1:
        return dtw_alignment(a, b, window, pattern=pattern, squared=True).distance
    total = float(_dtw.dtw_distance_pair(a, b, *window_spec(window, n, m)))
    check_cost_finite(total, "a", "b", a, b)
    return total


dtw.__doc__ = dtw.__doc__.replace("{definition}", _DEFINITION)
dtw_distance.__doc__ = dtw_distance.__doc__.replace("{definition}", _DEFINITION)

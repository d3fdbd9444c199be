"""DTW step patterns: the local moves a warping path may take, and their weights.

A :class:`StepPattern` is a table in the format of dtw-python's ``mx``
matrices (Giorgino 2009), so any pattern of the literature can be written
down, and the named patterns below are the classic ones: symmetric1,
symmetric2, asymmetric (Sakoe & Chiba 1978; Rabiner & Juang 1993) and Sakoe
and Chiba's slope-constrained patterns of Table I, with ``P`` = 1/2, 1 and 2.
"""

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ..exceptions import InvalidInputError

if TYPE_CHECKING:
    from ..core.window import Window

__all__ = [
    "StepPattern",
    "check_step_pattern",
    "symmetric1",
    "symmetric2",
    "asymmetric",
    "symmetricP05",
    "symmetricP1",
    "symmetricP2",
    "asymmetricP05",
    "asymmetricP1",
    "asymmetricP2",
]

_NORMALIZATIONS = ("N+M", "N", "M", None)
_MAX_PATTERNS = 127  # the kernels store the chosen pattern as int8


class StepPattern:
    """A DTW step pattern defined by a table, as in dtw-python.

    Parameters
    ----------
    table : array-like of shape (n_rows, 4)
        Rows ``(pattern, delta_i, delta_j, weight)``. Pattern ids are the
        integers ``1 .. n_patterns``, each pattern's rows contiguous and in
        increasing id order. Within a pattern, the first row is the origin
        cell ``(i - delta_i, j - delta_j)`` with weight ``-1``; every later row
        is a cell the path passes through, contributing ``weight`` times its
        local cost. Rows go from the origin towards ``(i, j)``, each one
        ``delta_i`` and ``delta_j`` no larger than the row before and not equal
        to it; the last is usually ``(0, 0)``, the cell being filled.
    normalization : {"N+M", "N", "M"} or None, default=None
        What the distance is divided by to give ``normalized_distance``: the
        sum of the lengths, the length of ``a`` (the query), the matched
        length of ``b``, or nothing (the pattern is not normalisable).
    name : str, default=None
        Name shown by ``repr``.

    Attributes
    ----------
    table : ndarray of shape (n_rows, 4)
        The validated table (read-only).
    n_patterns : int
        Number of patterns (alternatives in the recurrence).

    See Also
    --------
    alignkit.dtw : Uses a step pattern through its ``step_pattern`` argument.

    Notes
    -----
    The accumulated cost is

    .. math:: D(i, j) = \\min_p \\Big( D(i - d^p_{i,0}, j - d^p_{j,0})
              + \\sum_{k \\geq 1} w^p_k \\, c(i - d^p_{i,k}, j - d^p_{j,k}) \\Big)

    with ``D(0, 0) = c(0, 0)``, the convention of dtw-python. Ties go to the
    pattern with the smaller id. The path lists every cell of every pattern it
    takes, so it is monotone; it is continuous when consecutive rows of each
    pattern differ by at most one in each coordinate (true of every named
    pattern except ``asymmetric``, whose third pattern skips a column of ``b``,
    as in dtw-python's ``index2``).

    References
    ----------
    .. [1] T. Giorgino, "Computing and visualizing dynamic time warping
       alignments in R: the dtw package", Journal of Statistical Software
       31(7), 2009.
    .. [2] H. Sakoe and S. Chiba, "Dynamic programming algorithm optimization
       for spoken word recognition", IEEE Trans. ASSP 26(1), 1978 (Table I).
    .. [3] L. Rabiner and B.-H. Juang, "Fundamentals of Speech Recognition",
       Prentice Hall, 1993, section 4.7.

    Examples
    --------
    A symmetric pattern whose diagonal step costs three times a side step:

    >>> import alignkit
    >>> from alignkit.distances.step_patterns import StepPattern
    >>> heavy_diagonal = StepPattern(
    ...     [[1, 1, 1, -1], [1, 0, 0, 3],
    ...      [2, 1, 0, -1], [2, 0, 0, 1],
    ...      [3, 0, 1, -1], [3, 0, 0, 1]],
    ...     normalization=None, name="heavy_diagonal")
    >>> heavy_diagonal.n_patterns
    3
    >>> alignkit.dtw([0.0, 1.0], [0.0, 1.0], step_pattern=heavy_diagonal).path.tolist()
    [[0, 0], [1, 1]]
    """

    __slots__ = ("table", "normalization", "name", "_arrays")

    def __init__(self, table: ArrayLike, normalization: str | None = None, name: str | None = None):
        self.table = _check_table(table)
        if normalization not in _NORMALIZATIONS:
            raise InvalidInputError(
                f"normalization must be one of 'N+M', 'N', 'M' or None, got {normalization!r}"
            )
        self.normalization = normalization
        self.name = name
        self._arrays = None

    @property
    def n_patterns(self) -> int:
        return int(self.table[-1, 0])

    def __repr__(self):
        label = self.name if self.name is not None else f"{len(self.table)} rows"
        return f"StepPattern({label}, normalization={self.normalization!r})"

    def __getstate__(self):
        return {name: getattr(self, name) for name in ("table", "normalization", "name")}

    def __setstate__(self, state):
        for name, value in state.items():
            setattr(self, name, value)
        self._arrays = None

    def kernel_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The table as the arrays the Numba kernels take.

        Returns
        -------
        di, dj : ndarray of shape (n_rows,), dtype int64
            Row and column offsets of each table row.
        weight : ndarray of shape (n_rows,), dtype float64
            Weights (``-1`` on origin rows).
        starts : ndarray of shape (n_patterns + 1,), dtype int64
            Pattern ``p`` (0-based) is rows ``starts[p] .. starts[p + 1] - 1``.
        """
        if self._arrays is None:
            table = self.table
            ids = table[:, 0].astype(np.int64)
            starts = np.searchsorted(ids, np.arange(1, self.n_patterns + 2)).astype(np.int64)
            self._arrays = (
                np.ascontiguousarray(table[:, 1], dtype=np.int64),
                np.ascontiguousarray(table[:, 2], dtype=np.int64),
                np.ascontiguousarray(table[:, 3], dtype=np.float64),
                starts,
            )
        return self._arrays

    def final_weight(self) -> float:
        """The smallest weight any pattern puts on the cell it fills.

        Every path pays at least this times the local cost of its last cell,
        which makes a lower bound (LB_Kim) valid for any pattern.

        Returns
        -------
        weight : float
        """
        di, dj, weight, starts = self.kernel_arrays()
        lowest = np.inf
        for p in range(self.n_patterns):
            rows = slice(starts[p] + 1, starts[p + 1])
            ends = (di[rows] == 0) & (dj[rows] == 0)
            lowest = min(lowest, float(weight[rows][ends].sum()))
        return lowest


def _check_table(table):
    try:
        table = np.array(table, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"step pattern table must be numeric: {exc}") from None
    if table.ndim != 2 or table.shape[1] != 4 or len(table) == 0:
        raise InvalidInputError(
            "step pattern table must have shape (n_rows, 4) with rows "
            f"(pattern, delta_i, delta_j, weight), got shape {table.shape}"
        )
    if not np.isfinite(table).all():
        raise InvalidInputError("step pattern table must hold finite numbers")
    integral = table[:, :3]
    if (integral != np.round(integral)).any() or (integral[:, 1:] < 0).any():
        raise InvalidInputError("pattern ids and deltas must be integers, deltas >= 0")
    ids = table[:, 0].astype(np.int64)
    n_patterns = int(ids.max())
    if ids[0] != 1 or (np.diff(ids) < 0).any() or (np.diff(ids) > 1).any():
        raise InvalidInputError(
            "pattern ids must be 1, 2, ... with each pattern's rows contiguous, "
            f"got ids {ids.tolist()}"
        )
    if n_patterns > _MAX_PATTERNS:
        raise InvalidInputError(f"a step pattern has at most {_MAX_PATTERNS} patterns")
    for p in range(1, n_patterns + 1):
        _check_pattern(table[ids == p], p)
    table.setflags(write=False)
    return table


def _check_pattern(rows, p):
    if rows[0, 3] != -1 or (rows[0, 1] == 0 and rows[0, 2] == 0):
        raise InvalidInputError(
            f"pattern {p} must start with its origin: a row with weight -1 and "
            "(delta_i, delta_j) != (0, 0)"
        )
    if (rows[1:, 3] < 0).any():
        raise InvalidInputError(
            f"pattern {p}: only the first row (the origin) may have weight -1; "
            "the other weights must be >= 0"
        )
    steps = -np.diff(rows[:, 1:3], axis=0)
    if (steps < 0).any() or (steps.sum(axis=1) == 0).any():
        raise InvalidInputError(
            f"pattern {p}: each row must move towards (0, 0), with delta_i and "
            "delta_j no larger than the row before and not both equal to it"
        )


def _table(*values):
    return np.array(values, dtype=np.float64).reshape(-1, 4)


# Tables as in dtw-python 1.9.0 (stepPattern.py) and Sakoe & Chiba 1978, Table I.
# symmetric1 and symmetric2 list the diagonal, then (i-1, j), then (i, j-1), so
# that ties break as in alignkit's symmetric1 kernel.
symmetric1 = StepPattern(
    _table(1, 1, 1, -1, 1, 0, 0, 1, 2, 1, 0, -1, 2, 0, 0, 1, 3, 0, 1, -1, 3, 0, 0, 1),
    None,
    "symmetric1",
)
symmetric2 = StepPattern(
    _table(1, 1, 1, -1, 1, 0, 0, 2, 2, 1, 0, -1, 2, 0, 0, 1, 3, 0, 1, -1, 3, 0, 0, 1),
    "N+M",
    "symmetric2",
)
asymmetric = StepPattern(
    _table(1, 1, 0, -1, 1, 0, 0, 1, 2, 1, 1, -1, 2, 0, 0, 1, 3, 1, 2, -1, 3, 0, 0, 1),
    "N",
    "asymmetric",
)
symmetricP05 = StepPattern(
    _table(
        *(1, 1, 3, -1, 1, 0, 2, 2, 1, 0, 1, 1, 1, 0, 0, 1),
        *(2, 1, 2, -1, 2, 0, 1, 2, 2, 0, 0, 1),
        *(3, 1, 1, -1, 3, 0, 0, 2),
        *(4, 2, 1, -1, 4, 1, 0, 2, 4, 0, 0, 1),
        *(5, 3, 1, -1, 5, 2, 0, 2, 5, 1, 0, 1, 5, 0, 0, 1),
    ),
    "N+M",
    "symmetricP05",
)
asymmetricP05 = StepPattern(
    _table(
        *(1, 1, 3, -1, 1, 0, 2, 1 / 3, 1, 0, 1, 1 / 3, 1, 0, 0, 1 / 3),
        *(2, 1, 2, -1, 2, 0, 1, 0.5, 2, 0, 0, 0.5),
        *(3, 1, 1, -1, 3, 0, 0, 1),
        *(4, 2, 1, -1, 4, 1, 0, 1, 4, 0, 0, 1),
        *(5, 3, 1, -1, 5, 2, 0, 1, 5, 1, 0, 1, 5, 0, 0, 1),
    ),
    "N",
    "asymmetricP05",
)
symmetricP1 = StepPattern(
    _table(
        *(1, 1, 2, -1, 1, 0, 1, 2, 1, 0, 0, 1),
        *(2, 1, 1, -1, 2, 0, 0, 2),
        *(3, 2, 1, -1, 3, 1, 0, 2, 3, 0, 0, 1),
    ),
    "N+M",
    "symmetricP1",
)
asymmetricP1 = StepPattern(
    _table(
        *(1, 1, 2, -1, 1, 0, 1, 0.5, 1, 0, 0, 0.5),
        *(2, 1, 1, -1, 2, 0, 0, 1),
        *(3, 2, 1, -1, 3, 1, 0, 1, 3, 0, 0, 1),
    ),
    "N",
    "asymmetricP1",
)
symmetricP2 = StepPattern(
    _table(
        *(1, 2, 3, -1, 1, 1, 2, 2, 1, 0, 1, 2, 1, 0, 0, 1),
        *(2, 1, 1, -1, 2, 0, 0, 2),
        *(3, 3, 2, -1, 3, 2, 1, 2, 3, 1, 0, 2, 3, 0, 0, 1),
    ),
    "N+M",
    "symmetricP2",
)
asymmetricP2 = StepPattern(
    _table(
        *(1, 2, 3, -1, 1, 1, 2, 2 / 3, 1, 0, 1, 2 / 3, 1, 0, 0, 2 / 3),
        *(2, 1, 1, -1, 2, 0, 0, 1),
        *(3, 3, 2, -1, 3, 2, 1, 1, 3, 1, 0, 1, 3, 0, 0, 1),
    ),
    "N",
    "asymmetricP2",
)

_NAMED = {
    pattern.name: pattern
    for pattern in (
        symmetric1,
        symmetric2,
        asymmetric,
        symmetricP05,
        symmetricP1,
        symmetricP2,
        asymmetricP05,
        asymmetricP1,
        asymmetricP2,
    )
}


def check_step_pattern(step_pattern: str | StepPattern, name: str = "step_pattern") -> StepPattern:
    """Resolve a step pattern given by name or as a :class:`StepPattern`.

    Parameters
    ----------
    step_pattern : str or StepPattern
        One of ``"symmetric1"``, ``"symmetric2"``, ``"asymmetric"``,
        ``"symmetricP05"``, ``"symmetricP1"``, ``"symmetricP2"``,
        ``"asymmetricP05"``, ``"asymmetricP1"``, ``"asymmetricP2"``, or a
        pattern object.
    name : str, default="step_pattern"
        Argument name used in error messages.

    Returns
    -------
    step_pattern : StepPattern

    Raises
    ------
    InvalidInputError
        If the name is unknown or the value is neither a name nor a pattern.

    Examples
    --------
    >>> from alignkit.distances.step_patterns import check_step_pattern
    >>> check_step_pattern("symmetric2")
    StepPattern(symmetric2, normalization='N+M')
    """
    if isinstance(step_pattern, StepPattern):
        return step_pattern
    if isinstance(step_pattern, str) and step_pattern in _NAMED:
        return _NAMED[step_pattern]
    raise InvalidInputError(
        f"{name} must be a StepPattern or one of {', '.join(map(repr, _NAMED))}, "
        f"got {step_pattern!r}"
    )


def check_open_ends(pattern: StepPattern, open_begin: bool, open_end: bool) -> None:
    """Check that a pattern allows the open ends asked for.

    Parameters
    ----------
    pattern : StepPattern
    open_begin, open_end : bool

    Raises
    ------
    InvalidInputError
        If ``open_begin`` is asked with a pattern normalised by ``"N+M"`` or
        ``"M"``, whose distances for different starts are not comparable
        (Tormene et al. 2009; dtw-python raises the same error).

    Examples
    --------
    >>> from alignkit.exceptions import InvalidInputError
    >>> from alignkit.distances.step_patterns import asymmetric, check_open_ends, symmetric2
    >>> check_open_ends(asymmetric, open_begin=True, open_end=True)
    >>> try:
    ...     check_open_ends(symmetric2, open_begin=True, open_end=True)
    ... except InvalidInputError:
    ...     print("refused")
    refused
    """
    for flag, value in (("open_begin", open_begin), ("open_end", open_end)):
        if not isinstance(value, (bool, np.bool_)):
            raise InvalidInputError(f"{flag} must be True or False, got {value!r}")
    if open_begin and pattern.normalization not in ("N", None):
        raise InvalidInputError(
            f"open_begin=True needs a step pattern normalised by 'N' (asymmetric, "
            f"asymmetricP05, asymmetricP1, asymmetricP2) or not normalised "
            f"(symmetric1); {pattern!r} is normalised by {pattern.normalization!r}, so "
            "distances of alignments that start in different columns are not comparable"
        )


def _normalizers(normalization, n, columns):
    """What the summed cost of a path ending at ``(n-1, j)`` is divided by."""
    columns = np.asarray(columns, dtype=np.float64)
    if normalization == "N+M":
        return n + columns + 1.0
    if normalization == "N":
        return np.full_like(columns, float(n))
    if normalization == "M":
        return columns + 1.0
    return np.ones_like(columns)


def align_pattern(
    x: np.ndarray,
    y: np.ndarray,
    pattern: StepPattern,
    window: "Window",
    *,
    open_begin: bool = False,
    open_end: bool = False,
    keep_matrix: bool = False,
) -> tuple[np.ndarray, float, float | None, np.ndarray | None]:
    """Optimal path under a step pattern: the driver of the table-driven kernel.

    Parameters
    ----------
    x, y : ndarray of shape (n, n_channels) and (m, n_channels), float64
        Validated sequences.
    pattern : StepPattern
    window : Window
        A parsed window (:func:`alignkit.validation.check_window`); a mask
        has the shape ``(n, m)``.
    open_begin, open_end : bool, default=False
        Let the path start at any ``(0, j)`` / end at any ``(n-1, j)``.
    keep_matrix : bool, default=False
        Also return the dense accumulated cost matrix.

    Returns
    -------
    path : ndarray of shape (path_length, 2), dtype int64
    total : float
        Summed weighted cost of the path.
    normalized : float or None
        ``total`` divided by the pattern's normaliser, None if it has none.
    cost_matrix : ndarray of shape (n, m) or None

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.distances.step_patterns import align_pattern, symmetric2
    >>> from alignkit.validation import check_window
    >>> x = np.array([[0.0], [1.0], [2.0]])
    >>> y = np.array([[0.0], [2.0]])
    >>> path, total, normalized, _ = align_pattern(x, y, symmetric2, check_window(None))
    >>> path.tolist(), total, normalized
    ([[0, 0], [1, 0], [2, 1]], 1.0, 0.2)
    """
    from ..kernels._numba import _steps
    from ..kernels._numba._bounds import band_bounds
    from ..validation import check_memory

    n, m = len(x), len(y)
    lo, hi, cell_ok = band_bounds(window, n, m)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(hi - lo, out=offsets[1:])
    check_memory(
        9 * int(offsets[-1]) + (8 * n * m if keep_matrix else 0),
        f"a step-pattern DTW path between sequences of lengths {n} and {m}",
    )
    di, dj, weight, starts = pattern.kernel_arrays()
    if pattern is symmetric1:
        acc, move = _steps.symmetric1_matrix(x, y, lo, hi, offsets, cell_ok, bool(open_begin))
    else:
        acc, move = _steps.steps_matrix(
            x, y, di, dj, weight, starts, lo, hi, offsets, cell_ok, bool(open_begin)
        )
    last_row = acc[offsets[n - 1] : offsets[n]]
    last_columns = np.arange(lo[n - 1], hi[n - 1])
    scores = last_row / _normalizers(pattern.normalization, n, last_columns)
    if open_end:
        # First minimum, as dtw-python's nanargmin.
        end = int(last_columns[np.argmin(scores)]) if np.isfinite(scores).any() else m - 1
    else:
        end = m - 1
    position = end - lo[n - 1]
    if not (0 <= position < len(last_row)) or not np.isfinite(last_row[position]):
        _raise_no_path(n, m, pattern, window)
    total = float(last_row[position])
    normalized = None if pattern.normalization is None else float(scores[position])
    path = _steps.steps_backtrack(move, offsets, lo, di, dj, starts, n - 1, end, bool(open_begin))
    cost_matrix = None
    if keep_matrix:
        cost_matrix = np.full((n, m), np.inf)
        for i in range(n):
            cost_matrix[i, lo[i] : hi[i]] = acc[offsets[i] : offsets[i + 1]]
    return path, total, normalized, cost_matrix


def _raise_no_path(n, m, pattern, window):
    from ..exceptions import WindowError

    if window.resolve(n, m).is_full:
        raise InvalidInputError(
            f"no warping path fits the step pattern {pattern!r}: its slope "
            f"constraints cannot join sequences of lengths {n} and {m}"
        )
    raise WindowError(
        f"no warping path between sequences of lengths {n} and {m} fits both the "
        f"window and the step pattern {pattern!r}"
    )

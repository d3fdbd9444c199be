"""The elastic distances aeon offers besides DTW: ERP, EDR, LCSS, MSM, TWE and ADTW.

Each distance has ``<name>_distance(a, b, *, window=None, <params>)`` here and
``<name>_path(a, b, ...) -> (path, distance)`` in
:mod:`alignkit.distances._elastic_paths`, with aeon's parameter names and
defaults. The drivers (``<name>_cost``) take validated float64 arrays and a
parsed :class:`~alignkit.core.window.Window`, for estimators and batch code;
:func:`matrix_arguments` checks the parameters of a whole matrix once, for the
block kernels of :func:`~alignkit.pairwise_distances`.
"""

import numpy as np
from numpy.typing import ArrayLike

from ..core.params import Interval, Real, check_params
from ..core.window import Window
from ..exceptions import InvalidInputError, InvalidParameterError, WindowError
from ..validation import WindowLike, check_memory, check_pair, check_window

__all__ = [
    "adtw_distance",
    "edr_distance",
    "erp_distance",
    "lcss_distance",
    "msm_distance",
    "twe_distance",
]

# The reference of ERP's gaps, unused by the other sweeps (which need an array there).
_NO_GAP = np.zeros(1)

_NONNEGATIVE = [Interval(Real, 0, None, closed="left")]
_REAL = [Interval(Real, None, None, closed="neither")]

# Paragraphs shared by the docstrings (formatted in at the end of the module), here and in
# _elastic_paths.
_DOC = {
    "pair": """a : array-like of shape (n,) or (n, n_channels)
        First sequence.
    b : array-like of shape (m,) or (m, n_channels)
        Second sequence, with the same channels as ``a``.""",
    "window": """window : None, int, float, tuple or ndarray of bool, default=None
        Constraint on the alignment, as in :func:`alignkit.dtw` (see
        :ref:`elastic-windows`). aeon's ``window=w`` is, for two sequences of
        length ``n``, the band ``|i - j| <= int(w * n)``: pass
        ``window=int(w * n)``. For unequal lengths aeon centres its band on
        another diagonal; pass ``aeon.distances.create_bounding_matrix(n, m, w)``
        as a mask for the very same band.""",
    "g": """g : float, default=0.0
        The reference value of a gap, the same in every channel.
    g_arr : array-like of shape (n_channels,), default=None
        One reference value per channel; replaces ``g`` when given.""",
    "c": """c : float, default=1.0
        The cost of a split or a merge, ``>= 0``.""",
    "lcss_epsilon": """epsilon : float, default=1.0
        Points match when their Euclidean distance is at most ``epsilon``.""",
    "nu_lmbda": """nu : float, default=0.001
        Stiffness, ``>= 0``: the cost per timepoint of shift between two
        matched points.
    lmbda : float, default=1.0
        The constant cost of a deletion, ``>= 0``.""",
}


def _check(owner, constraints, a, b, window, **values):
    """The boundary of every public function: parameters, then the pair and the window."""
    _check_params(owner, constraints, **values)
    a, b = check_pair(a, b)
    return a, b, check_window(window, shape=(len(a), len(b)))


def _plain(constraints, value):
    """Whether ``value`` plainly satisfies ``constraints`` (a finite number, a bool or None)."""
    if value is None or type(value) is bool:
        return ("boolean" if value is not None else None) in constraints
    if not isinstance(value, (float, int)) or not np.isfinite(value):
        return False
    return any(
        constraint.is_satisfied_by(value)
        for constraint in constraints
        if isinstance(constraint, Interval)
    )


def _check_params(owner, constraints, **values):
    """``validate_params``' check in a few microseconds: plain values skip scikit-learn's.

    Anything else goes through :func:`~alignkit.core.params.check_params`, which
    raises in the one message format; then infinite numbers are refused.
    """
    for name, value in values.items():
        if not _plain(constraints[name], value):
            check_params({name: constraints[name]}, {name: value}, owner)
            if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
                _finite(owner, **{name: value})


def _finite(owner, **values):
    """Refuse infinite parameter values, in the message format of :mod:`alignkit.core.params`."""
    for name, value in values.items():
        if not np.isfinite(value):
            raise InvalidParameterError(
                f"The {name!r} parameter of {owner} must be finite. Got {value!r} instead."
            )


def _run(name, a, b, window, keep, kind, p0=0.0, p1=0.0, g=_NO_GAP):
    """The value of distance ``name`` over the window's cells, and the moves (or None).

    ``kind``, ``p0``, ``p1`` and ``g`` are the kernels' (see
    :mod:`alignkit.kernels._numba._elastic`). The distance alone over a band
    runs the anti-diagonal ``sweep``; a path or a mask runs the row kernel.
    Both give the same value to the last bit.
    """
    from ..kernels._numba import _elastic as kernels
    from ..kernels._numba._bounds import band_bounds

    n, m = len(a), len(b)
    lo, hi, _ = band_bounds(window, n, m)
    moves = None
    if keep:
        check_memory(n * m, f"the {name} path between sequences of lengths {n} and {m}")
        moves = np.full((n, m), kernels.STOP, dtype=np.uint8)
    if moves is None and window.mask is None and kind != kernels.MSM_DEPENDENT:
        value = float(kernels.sweep(kind, a, b, g, p0, p1, lo, hi))
    else:
        value = float(kernels.rows(kind, a, b, g, p0, p1, lo, hi, window.mask, moves))
    if not np.isfinite(value):
        if window.mask is not None:
            raise WindowError(f"the window admits no alignment from (0, 0) to ({n - 1}, {m - 1})")
        raise InvalidInputError(
            f"the {name} cost between a and b overflows float64; rescale the sequences"
        )
    return value, moves


def squared_threshold(epsilon: float, strict: bool) -> float:
    """The largest float ``t`` with ``sqrt(t) <= epsilon`` (``< epsilon`` if ``strict``), or -1.

    The kernels compare squared distances with ``t``: the same pairs match as
    when the square root is compared with ``epsilon``, without a root per cell.
    """

    def matches(value):
        root = np.sqrt(value)
        return root < epsilon if strict else root <= epsilon

    threshold = epsilon * epsilon
    while threshold >= 0.0 and not matches(threshold):
        threshold = np.nextafter(threshold, -np.inf)
    while matches(np.nextafter(threshold, np.inf)):
        threshold = np.nextafter(threshold, np.inf)
    return float(threshold) if threshold >= 0.0 and matches(threshold) else -1.0


# ERP ------------------------------------------------------------------------------------


def _erp_reference(g, g_arr, n_channels, owner):
    if g_arr is None:
        return np.full(n_channels, float(g))
    reference = np.ascontiguousarray(g_arr, dtype=np.float64)
    if reference.shape != (n_channels,) or not np.all(np.isfinite(reference)):
        raise InvalidParameterError(
            f"The 'g_arr' parameter of {owner} must be a finite array of shape "
            f"({n_channels},), one value per channel. Got shape {reference.shape} instead."
        )
    return reference


def erp_cost(a: np.ndarray, b: np.ndarray, window: Window, g: np.ndarray, keep: bool = False):
    """The driver of :func:`erp_distance`: ``g`` holds one reference value per channel.

    Returns the distance and, with ``keep``, the moves for :func:`_path`.
    """
    from ..kernels._numba._elastic import ERP

    return _run("ERP", a, b, window, keep, ERP, g=g)


_ERP_PARAMS = {"g": _REAL, "g_arr": ["array-like", None]}


def erp_distance(
    a: ArrayLike,
    b: ArrayLike,
    *,
    window: WindowLike = None,
    g: float = 0.0,
    g_arr: ArrayLike | None = None,
) -> float:
    """Edit distance with real penalty (ERP; Chen & Ng, VLDB 2004).

    An edit distance over real values: a point is matched to a point at their
    Euclidean distance, or left out (a gap) at its Euclidean distance to the
    reference value ``g``. ERP is a metric.

    Parameters
    ----------
    {pair}
    {window}
    {g}

    Returns
    -------
    distance : float
        ``D(n, m)`` of the recurrence in the Notes.

    See Also
    --------
    erp_path : The alignment and the distance.

    Notes
    -----
    ``D(i, j) = min(D(i-1, j-1) + ||a_i - b_j||, D(i-1, j) + ||a_i - g||,
    D(i, j-1) + ||b_j - g||)`` with ``D(0, 0) = 0`` and the first row and
    column the *cumulative* gap costs, as Chen & Ng define them. aeon 1.x sets
    every cell of the first row and column to the *total* gap cost of the whole
    sequence, so its value is larger whenever the best alignment starts with a
    gap; where it does not, the two are equal.

    Examples
    --------
    >>> from alignkit.distances import erp_distance
    >>> erp_distance([0.0, 1.0, 2.0], [0.0, 2.0])
    1.0
    """
    a, b, parsed = _check("erp_distance", _ERP_PARAMS, a, b, window, g=g, g_arr=g_arr)
    return erp_cost(a, b, parsed, _erp_reference(g, g_arr, a.shape[1], "erp_distance"))[0]


# EDR ------------------------------------------------------------------------------------


def edr_epsilon(a: np.ndarray, b: np.ndarray, epsilon: float | None) -> float:
    """EDR's threshold: ``epsilon``, or aeon's default (a quarter of the larger std)."""
    if epsilon is not None:
        return float(epsilon)
    return max(float(np.std(a)), float(np.std(b))) / 4.0


def edr_cost(a: np.ndarray, b: np.ndarray, window: Window, epsilon: float, keep: bool = False):
    """The driver of :func:`edr_distance`: the number of edits over ``max(n, m)``."""
    from ..kernels._numba._elastic import EDR

    threshold = squared_threshold(epsilon, strict=True)
    edits, moves = _run("EDR", a, b, window, keep, EDR, threshold)
    return edits / max(len(a), len(b)), moves


_EDR_PARAMS = {"epsilon": [Interval(Real, 0, None, closed="left"), None]}


def edr_distance(
    a: ArrayLike,
    b: ArrayLike,
    *,
    window: WindowLike = None,
    epsilon: float | None = None,
) -> float:
    """Edit distance on real sequences (EDR; Chen, Özsu & Oria, SIGMOD 2005).

    The edit distance of two sequences whose points are equal when their
    Euclidean distance is below ``epsilon``: every substitution, insertion and
    deletion costs 1, and the count is divided by the longer length. Not a
    metric (no triangle inequality).

    Parameters
    ----------
    {pair}
    {window}
    epsilon : float, default=None
        The matching threshold, ``>= 0``; None is aeon's default, a quarter of
        the larger of the standard deviations of ``a`` and ``b`` (each over all
        its values).

    Returns
    -------
    distance : float
        In ``[0, 1]``: the fewest edits over ``max(n, m)``.

    See Also
    --------
    edr_path : The alignment and the distance.
    lcss_distance : Counts the matches instead of the edits.

    Notes
    -----
    ``D(i, j) = min(D(i-1, j-1) + s, D(i-1, j) + 1, D(i, j-1) + 1)`` with
    ``s = 0`` if ``||a_i - b_j|| < epsilon`` and 1 otherwise; ``D(i, 0) = i``,
    ``D(0, j) = j`` (Chen et al.'s definition). aeon 1.x starts from a first row
    and column of zeros, so that leading points of either sequence are left out
    at no cost, and its value is smaller or equal.

    Examples
    --------
    >>> from alignkit.distances import edr_distance
    >>> edr_distance([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 5.0, 3.0], epsilon=0.5)
    0.25
    """
    a, b, parsed = _check("edr_distance", _EDR_PARAMS, a, b, window, epsilon=epsilon)
    return edr_cost(a, b, parsed, edr_epsilon(a, b, epsilon))[0]


# LCSS -----------------------------------------------------------------------------------


def lcss_cost(a: np.ndarray, b: np.ndarray, window: Window, epsilon: float, keep: bool = False):
    """The driver of :func:`lcss_distance`: one minus the matches over ``min(n, m)``."""
    from ..kernels._numba._elastic import LCSS

    threshold = squared_threshold(epsilon, strict=False)
    matches, moves = _run("LCSS", a, b, window, keep, LCSS, threshold)
    return max(1.0 - matches / min(len(a), len(b)), 0.0), moves


_LCSS_PARAMS = {"epsilon": _NONNEGATIVE}


def lcss_distance(
    a: ArrayLike,
    b: ArrayLike,
    *,
    window: WindowLike = None,
    epsilon: float = 1.0,
) -> float:
    """Longest common subsequence distance (LCSS; Vlachos, Kollios & Gunopulos, ICDE 2002).

    The longest subsequences of ``a`` and ``b`` whose paired points lie
    within ``epsilon`` (Euclidean distance) of each other, as a distance:
    one minus their length over the shorter length. Not a metric.

    Parameters
    ----------
    {pair}
    {window}
        Only pairs inside the window may match.
    {lcss_epsilon}

    Returns
    -------
    distance : float
        In ``[0, 1]``: ``1 - L / min(n, m)`` for ``L`` matched pairs.

    See Also
    --------
    lcss_path : The matched pairs and the distance.
    edr_distance : Counts the edits instead of the matches.

    Notes
    -----
    ``L(i, j) = L(i-1, j-1) + 1`` if ``||a_i - b_j|| <= epsilon``, else
    ``max(L(i-1, j), L(i, j-1))``, with zeros on the first row and column and
    outside the window; the same as aeon.

    Examples
    --------
    >>> from alignkit.distances import lcss_distance
    >>> lcss_distance([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 9.0, 3.0], epsilon=0.5)
    0.25
    """
    a, b, parsed = _check("lcss_distance", _LCSS_PARAMS, a, b, window, epsilon=epsilon)
    return lcss_cost(a, b, parsed, float(epsilon))[0]


# MSM ------------------------------------------------------------------------------------


def msm_cost(
    a: np.ndarray, b: np.ndarray, window: Window, c: float, independent: bool, keep: bool = False
):
    """The driver of :func:`msm_distance`; ``keep`` needs one channel or ``independent=False``."""
    from ..kernels._numba._elastic import MSM, MSM_DEPENDENT

    if not independent:
        return _run("MSM", a, b, window, keep, MSM_DEPENDENT, c)
    total, moves = 0.0, None
    for k in range(a.shape[1]):
        x, y = np.ascontiguousarray(a[:, k : k + 1]), np.ascontiguousarray(b[:, k : k + 1])
        value, moves = _run("MSM", x, y, window, keep, MSM, c)
        total += value
    return total, moves


_MSM_PARAMS = {"independent": ["boolean"], "c": _NONNEGATIVE}


def msm_distance(
    a: ArrayLike,
    b: ArrayLike,
    *,
    window: WindowLike = None,
    independent: bool = True,
    c: float = 1.0,
) -> float:
    """Move-split-merge distance (MSM; Stefan, Athitsos & Das, IEEE TKDE 2013).

    The cheapest way to turn ``a`` into ``b`` with three operations: move a
    point to another value (at the absolute difference), split a point in two
    or merge two equal neighbours (each at ``c``, plus the distance to the
    nearer neighbour when the new point is not between them). MSM is a metric.

    Parameters
    ----------
    {pair}
    {window}
    independent : bool, default=True
        True adds up the univariate MSM of each channel (MSM_I, each channel
        aligned on its own). False aligns all channels at once (MSM_D), with
        squared Euclidean move costs and the split test on the ball whose
        diameter joins the two neighbours, as aeon defines it; with one channel
        that differs from the univariate MSM (the costs are squared).
    {c}

    Returns
    -------
    distance : float

    See Also
    --------
    msm_path : The alignment and the distance.

    Notes
    -----
    ``D(i, j) = min(D(i-1, j-1) + |a_i - b_j|, D(i-1, j) + C(a_i, a_{{i-1}}, b_j),
    D(i, j-1) + C(b_j, a_i, b_{{j-1}}))``, ``D(0, 0) = |a_0 - b_0|``, where
    ``C(x, y, z) = c`` if ``x`` lies between ``y`` and ``z``, else
    ``c + min(|x - y|, |x - z|)``. The same as aeon.

    Examples
    --------
    >>> from alignkit.distances import msm_distance
    >>> msm_distance([1.0, 2.0, 2.0, 3.0], [1.0, 2.0, 3.0])  # merge the two 2s
    1.0
    """
    a, b, parsed = _check("msm_distance", _MSM_PARAMS, a, b, window, independent=independent, c=c)
    return msm_cost(a, b, parsed, float(c), independent)[0]


# TWE ------------------------------------------------------------------------------------


def twe_cost(
    a: np.ndarray, b: np.ndarray, window: Window, nu: float, lmbda: float, keep: bool = False
):
    """The driver of :func:`twe_distance`."""
    from ..kernels._numba._elastic import TWE

    return _run("TWE", a, b, window, keep, TWE, nu, lmbda)


_TWE_PARAMS = {"nu": _NONNEGATIVE, "lmbda": _NONNEGATIVE}


def twe_distance(
    a: ArrayLike,
    b: ArrayLike,
    *,
    window: WindowLike = None,
    nu: float = 0.001,
    lmbda: float = 1.0,
) -> float:
    """Time warp edit distance (TWE; Marteau, IEEE TPAMI 2009).

    An edit distance whose matches cost the distances of the two points and of
    their predecessors plus a stiffness penalty on the time shift, and whose
    deletions cost the step to the previous point plus ``nu + lmbda``. TWE is
    a metric.

    Parameters
    ----------
    {pair}
    {window}
    {nu_lmbda}

    Returns
    -------
    distance : float

    See Also
    --------
    twe_path : The alignment and the distance.

    Notes
    -----
    With ``a_{{-1}} = b_{{-1}} = 0`` and Euclidean point distances ``d``:
    ``D(i, j) = min(D(i-1, j-1) + d(a_i, b_j) + d(a_{{i-1}}, b_{{j-1}}) + 2 nu |i - j|,
    D(i-1, j) + d(a_i, a_{{i-1}}) + nu + lmbda, D(i, j-1) + d(b_j, b_{{j-1}}) + nu + lmbda)``,
    the same as aeon.

    Examples
    --------
    >>> from alignkit.distances import twe_distance
    >>> twe_distance([0.0, 1.0, 2.0], [0.0, 1.0, 2.0])
    0.0
    """
    a, b, parsed = _check("twe_distance", _TWE_PARAMS, a, b, window, nu=nu, lmbda=lmbda)
    return twe_cost(a, b, parsed, float(nu), float(lmbda))[0]


# ADTW -----------------------------------------------------------------------------------


def adtw_cost(a: np.ndarray, b: np.ndarray, window: Window, warp_penalty: float, keep=False):
    """The driver of :func:`adtw_distance`."""
    from ..kernels._numba._elastic import ADTW

    return _run("ADTW", a, b, window, keep, ADTW, warp_penalty)


_ADTW_PARAMS = {"warp_penalty": _NONNEGATIVE}


def adtw_distance(
    a: ArrayLike,
    b: ArrayLike,
    *,
    window: WindowLike = None,
    warp_penalty: float = 1.0,
) -> float:
    """Amerced dynamic time warping (ADTW; Herrmann & Webb, Pattern Recognition 2023).

    DTW with the squared Euclidean cost in which every step off the diagonal
    costs ``warp_penalty`` more: a soft alternative to a window. Not a metric.

    Parameters
    ----------
    {pair}
    {window}
    warp_penalty : float, default=1.0
        The cost of a step that advances one sequence alone, ``>= 0``; 0 is
        DTW (:func:`alignkit.dtw_distance` with ``squared=True``).

    Returns
    -------
    distance : float
        The summed squared cost plus the penalties, as aeon returns it.

    See Also
    --------
    adtw_path : The alignment and the distance.

    Notes
    -----
    ``D(i, j) = ||a_i - b_j||^2 + min(D(i-1, j-1), D(i-1, j) + w, D(i, j-1) + w)``
    with ``D(0, 0) = ||a_0 - b_0||^2``.

    Examples
    --------
    >>> from alignkit.distances import adtw_distance
    >>> adtw_distance([0.0, 1.0, 2.0], [0.0, 2.0], warp_penalty=0.5)
    1.5
    """
    a, b, parsed = _check("adtw_distance", _ADTW_PARAMS, a, b, window, warp_penalty=warp_penalty)
    return adtw_cost(a, b, parsed, float(warp_penalty))[0]


# Matrices -------------------------------------------------------------------------------

# metric -> (parameter constraints, defaults), as the *_distance functions declare them.
_METRICS = {
    "erp": (_ERP_PARAMS, {"g": 0.0, "g_arr": None}),
    "edr": (_EDR_PARAMS, {"epsilon": None}),
    "lcss": (_LCSS_PARAMS, {"epsilon": 1.0}),
    "msm": (_MSM_PARAMS, {"independent": True, "c": 1.0}),
    "twe": (_TWE_PARAMS, {"nu": 0.001, "lmbda": 1.0}),
    "adtw": (_ADTW_PARAMS, {"warp_penalty": 1.0}),
}


def matrix_arguments(metric, params, x_sequences, y_sequences, owner="pairwise_distances"):
    """Check the keyword arguments of ``<metric>_distance`` once, for a whole matrix.

    ``owner`` is the function or estimator whose ``metric_params`` they are.

    Returns ``(kind, x_par, y_par, g, p1)`` for
    :func:`~alignkit.kernels._numba._elastic.elastic_pairs`: ``*_par[k]`` is
    ``(scale, p0)`` of sequence ``k`` (a pair takes the ``p0`` of the sequence
    of larger scale: EDR's default threshold follows the larger std; the
    other metrics have one ``p0``).
    """
    from ..kernels._numba import _elastic as kernels

    constraints, defaults = _METRICS[metric]
    function = f"{metric}_distance"
    unknown = sorted(set(params or {}) - set(constraints))
    if unknown:
        raise InvalidParameterError(
            f"The 'metric_params' parameter of {owner} has {unknown[0]!r}, which "
            f"{function} does not take; it takes {', '.join(sorted(constraints))}."
        )
    _check_params(function, constraints, **(params or {}))
    values = {**defaults, **(params or {})}
    g, p0, p1 = _NO_GAP, 0.0, 0.0
    kind = getattr(kernels, metric.upper())
    if metric == "erp":
        g = _erp_reference(values["g"], values["g_arr"], x_sequences[0].shape[1], function)
    elif metric == "edr" and values["epsilon"] is None:

        def per_sequence(sequences):
            scales = np.array([float(np.std(s)) for s in sequences])
            return np.stack([scales, [squared_threshold(v / 4.0, True) for v in scales]], 1)

        return kind, per_sequence(x_sequences), per_sequence(y_sequences), g, p1
    elif metric in ("edr", "lcss"):
        p0 = squared_threshold(float(values["epsilon"]), strict=metric == "edr")
    elif metric == "msm":
        kind = kernels.MSM if values["independent"] else kernels.MSM_DEPENDENT
        p0 = float(values["c"])
    elif metric == "twe":
        p0, p1 = float(values["nu"]), float(values["lmbda"])
    else:
        p0 = float(values["warp_penalty"])
    x_par = np.tile([0.0, p0], (len(x_sequences), 1))
    y_par = np.tile([0.0, p0], (len(y_sequences), 1))
    return kind, x_par, y_par, g, float(p1)


for _function in (
    erp_distance,
    edr_distance,
    lcss_distance,
    msm_distance,
    twe_distance,
    adtw_distance,
):
    _function.__doc__ = _function.__doc__.format(**_DOC)
del _function

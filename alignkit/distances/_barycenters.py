"""Averages of sequences under time warping: DBA and the soft-DTW barycenter."""

import numpy as np
from numpy.typing import ArrayLike

from ..core.params import Integral, Interval, Real, StrOptions, validate_params
from ..core.progress import progress_bar, progress_requested
from ..core.window import Window
from ..exceptions import InvalidInputError, WindowError
from ..validation import (
    CollectionLike,
    WindowLike,
    check_collection,
    check_sequence,
    check_window,
)

__all__ = ["dba", "dba_average", "soft_dtw_average", "soft_dtw_barycenter"]


def _shared_window(window):
    if isinstance(window, np.ndarray) and window.ndim == 2:
        raise WindowError(
            "a barycenter window cannot be a mask (sequence lengths vary); "
            "use a radius, a fraction or ('itakura', max_slope)"
        )
    return check_window(window)


def _initial(sequences, init, window, random_state):
    n_channels = sequences[0].shape[1]
    if isinstance(init, str):  # "medoid" or "random": the constraints refused the rest
        if init == "medoid":
            from ._pairwise import medoid_of

            return sequences[medoid_of(sequences, window)].copy()
        if init == "random":
            from sklearn.utils import check_random_state

            rng = check_random_state(random_state)
            return sequences[int(rng.randint(len(sequences)))].copy()
    return check_sequence(init, name="init", n_channels=n_channels).copy()


def _raise_overflow(index, sequence, average):
    from ._dtw import check_cost_finite

    # A band (never a mask here) always holds a path: the summed cost overflowed.
    check_cost_finite(np.inf, f"X[{index}]", "the average", sequence, average)


def _check_total(total, average):
    if not np.isfinite(total):
        raise InvalidInputError(
            f"the summed squared DTW cost of X to its average overflows float64 (about "
            f"{np.max(np.abs(average)):.3g} at most in the average); rescale X"
        )


def _dba_assign(sequences, average, window):
    """Summed squared DTW cost to ``average``, and the per-frame sums and counts of matches.

    One :func:`~alignkit.distances._dtw.dtw_alignment` per member: the route of
    members whose DTW matrix the path driver would not keep (it then takes the
    linear-memory path, whose ties may fall otherwise than the banded matrix's).
    """
    from ._dtw import dtw_alignment

    length, n_channels = average.shape
    sums = np.zeros((length, n_channels))
    counts = np.zeros(length)
    total = 0.0
    for index, sequence in enumerate(sequences):
        try:
            alignment = dtw_alignment(sequence, average, window, squared=True)
        except InvalidInputError:
            _raise_overflow(index, sequence, average)
            raise
        rows, cols = alignment.path[:, 0], alignment.path[:, 1]
        for k in range(n_channels):
            sums[:, k] += np.bincount(cols, weights=sequence[rows, k], minlength=length)
        counts += np.bincount(cols, minlength=length)
        total += alignment.distance
    _check_total(total, average)
    return total, sums, counts


def _band_rows(sequences, window, length):
    """Row bounds of the members' bands against ``length`` frames: one table per length.

    Returns ``(lo, hi, starts)``: member ``k``'s bounds are ``lo`` and ``hi``
    from ``starts[k]`` on, shared by the members of its length (no copy per
    member).

    ``None`` when a member's banded matrix exceeds what
    :func:`~alignkit.distances._dtw.dtw_alignment` keeps in memory.
    """
    from .._config import get_config
    from ..kernels._numba._bounds import band_bounds
    from ._dtw import _LINEAR_THRESHOLD

    limit = min(get_config()["max_memory"], _LINEAR_THRESHOLD)
    tables, first, start = [], {}, 0
    for n in sorted({len(s) for s in sequences}):
        lo, hi, _ = band_bounds(window.resolve(n, length), n, length)
        if 8 * int(np.sum(hi - lo)) > limit:
            return None
        tables.append((lo, hi))
        first[n], start = start, start + n
    starts = np.array([first[len(s)] for s in sequences], dtype=np.int64)
    lo = np.ascontiguousarray(np.concatenate([t[0] for t in tables]), dtype=np.int64)
    hi = np.ascontiguousarray(np.concatenate([t[1] for t in tables]), dtype=np.int64)
    return lo, hi, starts


class _DBAStep:
    """The DBA assignment of a fixed set of members, one kernel call per average.

    Each call's paths are kept (a byte per move) and bound the next call's
    DTWs from above, which prunes most cells without changing a path (see
    :mod:`alignkit.kernels._numba._barycenters`). The sums, counts and
    total are the same numbers as :func:`_dba_assign`'s. ``bounds``, upper
    bounds of the members' costs to the first call's average (or None),
    prune that call too. ``n_cells`` counts the DP cells computed over all
    calls.
    """

    def __init__(self, sequences, rows, length, bounds=None):
        from ._pairwise import pack

        self.sequences = sequences
        self.flat, self.offsets = pack(sequences)
        self.flat_t = np.ascontiguousarray(self.flat.T)
        self.lo, self.hi, self.row_starts = rows
        longest = max(len(s) for s in sequences)
        self.steps = np.zeros((len(sequences), longest + length - 2), dtype=np.uint8)
        self.n_steps = np.full(len(sequences), -1, dtype=np.int64)
        # Bounds of the costs to the first average only: later averages have the paths.
        self.bounds = np.full(len(sequences), np.inf)
        if bounds is not None:
            self.bounds[:] = bounds
        self.n_cells = 0

    def __call__(self, average):
        from ..kernels._numba._barycenters import dba_step

        average = np.ascontiguousarray(average, dtype=np.float64)
        sums = np.zeros(average.shape)
        counts = np.zeros(len(average))
        costs, n_cells = dba_step(
            self.flat, self.flat_t, self.offsets, self.lo, self.hi, self.row_starts, average,
            self.steps, self.n_steps, self.bounds, sums, counts,
        )  # fmt: skip
        self.n_cells += n_cells
        self.bounds[:] = np.inf
        if not np.all(np.isfinite(costs)):
            index = int(np.argmax(~np.isfinite(costs)))
            _raise_overflow(index, self.sequences[index], average)
        total = 0.0
        for cost in costs.tolist():  # in member order, as the per-member loop adds
            total += cost
        _check_total(total, average)
        return total, sums, counts


def _dba_assigner(sequences, window, length, bounds=None):
    """The assignment of :func:`dba_average`: batched where the members' matrices fit.

    ``bounds`` (upper bounds of the members' DTW costs to the first average,
    or None) prune the batched route's first call.
    """
    rows = _band_rows(sequences, window, length)
    if rows is None:
        return lambda average: _dba_assign(sequences, average, window)
    return _DBAStep(sequences, rows, length, bounds)


@validate_params(
    {
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "init": [StrOptions({"medoid", "random"}), "array-like"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }
)
def dba(
    X: CollectionLike,
    *,
    n_iter: int = 30,
    init: str | ArrayLike = "medoid",
    window: WindowLike = None,
    tol: float = 1e-5,
    random_state: int | np.random.RandomState | None = None,
    verbose: int = 0,
) -> np.ndarray:
    """DTW barycenter averaging (Petitjean et al., 2011).

    Parameters
    ----------
    X : list of array-like, or ndarray
        Collection of sequences (see :func:`alignkit.validation.check_collection`);
        lengths may differ.
    n_iter : int, default=30
        Maximum number of refinement iterations; 0 returns the initial average.
    init : {"medoid", "random"} or array-like of shape (n_timepoints, n_channels), \
default="medoid"
        Initial average: the sequence with the smallest sum of squared DTW
        costs to the others, a sequence drawn at random, or a given array.
        The result has the initial average's length.
    window : None, int, float or tuple, default=None
        Constraint on every warping path, as in :func:`alignkit.dtw` (not a mask).
    tol : float, default=1e-5
        Stop when an iteration lowers the objective by at most ``tol`` times
        its previous value.
    random_state : int, RandomState instance or None, default=None
        Seed for ``init="random"``; unused otherwise.
    verbose : int, default=0
        When positive, show a progress bar of the iterations on standard
        error, with the objective, the rate and the time left;
        ``alignkit.set_config(progress=True)`` shows it for every call.

    Returns
    -------
    average : ndarray of shape (n_timepoints, n_channels)

    Raises
    ------
    InvalidInputError
        If the collection, ``init``, ``n_iter`` or ``tol`` is invalid.
    WindowError
        If the window is malformed or a mask.

    See Also
    --------
    soft_dtw_barycenter : The smooth counterpart under soft-DTW.

    Notes
    -----
    The objective is ``sum_k dtw_distance(X[k], average, squared=True)``.
    Each iteration aligns every sequence to the current average with DTW and
    replaces every frame of the average by the mean of the frames matched to
    it. For fixed paths the mean minimises the summed cost, and the new best
    paths cost no more than the old ones, so the objective never increases
    (a majorisation-minimisation); the average with the lowest objective seen
    is returned.

    References
    ----------
    .. [1] F. Petitjean, A. Ketterlin and P. Gancarski, "A global averaging
       method for dynamic time warping, with applications to clustering",
       Pattern Recognition 44(3), 2011.

    Examples
    --------
    >>> from alignkit.distances import dba
    >>> X = [[0.0, 1.0, 2.0, 1.0], [0.0, 0.0, 1.0, 3.0, 1.0], [0.0, 1.0, 3.0, 1.0, 1.0]]
    >>> dba(X).round(3).ravel().tolist()
    [0.0, 0.0, 1.0, 2.667, 1.0]

    The peaks 2, 3 and 3 are matched to the same frame and averaged.
    """
    sequences = check_collection(X, name="X")
    window = _shared_window(window)
    start = _initial(sequences, init, window, random_state)
    return dba_average(sequences, window, start, n_iter, tol, progress_requested(verbose))


def dba_average(
    sequences: list[np.ndarray],
    window: Window,
    average: np.ndarray | None = None,
    n_iter: int = 30,
    tol: float = 1e-5,
    verbose: bool = False,
    bounds: np.ndarray | None = None,
) -> np.ndarray:
    """The driver of :func:`dba`: validated sequences, a parsed window, a starting average.

    ``average=None`` starts from the medoid; a truthy ``verbose`` shows a
    progress bar of the iterations. ``bounds`` may give upper bounds of the
    members' summed squared DTW costs to the starting average (k-means has
    them from its assignment step); they only save work, the result is the
    same (a bound too low costs a second sweep of that member).
    """
    if average is None:
        average = _initial(sequences, "medoid", window, None)
    assign = _dba_assigner(sequences, window, len(average), bounds)
    cost, sums, counts = assign(average)
    with progress_bar(n_iter, "DBA", verbose, unit="iterations") as bar:
        for k in range(n_iter):
            # Every frame of the average is on every path, so no count is zero.
            candidate = sums / counts[:, None]
            new_cost, sums, counts = assign(candidate)
            if new_cost <= cost:
                average = candidate
            bar.update(1, objective=min(new_cost, cost))
            if new_cost >= cost * (1.0 - tol):
                bar.set_total(k + 1)
                break
            cost = new_cost
    return average


def _check_weights(weights, count):
    if weights is None:
        return np.ones(count)
    values = np.asarray(weights, dtype=np.float64)
    if values.shape != (count,):
        raise InvalidInputError(
            f"weights must have shape ({count},), one per sequence, got {values.shape}"
        )
    if not np.all(np.isfinite(values)) or np.any(values < 0) or not np.any(values > 0):
        raise InvalidInputError("weights must be finite, >= 0 and not all zero")
    return values


@validate_params(
    {
        "gamma": [Interval(Real, 0, np.inf, closed="neither")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "init": [StrOptions({"medoid"}), "array-like", None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
    }
)
def soft_dtw_barycenter(
    X: CollectionLike,
    *,
    gamma: float = 1.0,
    n_iter: int = 100,
    init: str | ArrayLike | None = None,
    weights: ArrayLike | None = None,
    tol: float = 1e-6,
    verbose: int = 0,
) -> np.ndarray:
    """Soft-DTW barycenter (Cuturi & Blondel, 2017).

    Parameters
    ----------
    X : list of array-like, or ndarray
        Collection of sequences (see :func:`alignkit.validation.check_collection`);
        lengths may differ.
    gamma : float, default=1.0
        Smoothing of the soft minimum, ``> 0``.
    n_iter : int, default=100
        Maximum number of L-BFGS-B iterations.
    init : None, "medoid" or array-like of shape (n_timepoints, n_channels), default=None
        Starting point; ``None`` and ``"medoid"`` take the DTW medoid of ``X``.
        The result has the starting point's length.
    weights : array-like of shape (n_sequences,), default=None
        Non-negative weight of each sequence; ``None`` weighs each by 1.
    tol : float, default=1e-6
        ``tol`` of :func:`scipy.optimize.minimize` (L-BFGS-B's ``ftol`` and ``gtol``).
    verbose : int, default=0
        When positive, show a progress bar of the iterations on standard
        error, with the objective, the rate and the time left;
        ``alignkit.set_config(progress=True)`` shows it for every call.

    Returns
    -------
    barycenter : ndarray of shape (n_timepoints, n_channels)

    Raises
    ------
    InvalidInputError
        If the collection, ``gamma``, ``init``, ``weights``, ``n_iter`` or
        ``tol`` is invalid.

    See Also
    --------
    dba : The barycenter under (hard) DTW.
    alignkit.soft_dtw_grad : The gradient used here.

    Notes
    -----
    Minimises ``sum_k weights[k] * soft_dtw(z, X[k], gamma=gamma)`` over ``z``
    with L-BFGS-B, from the gradient of :func:`alignkit.soft_dtw_grad`.
    The objective is smooth but not convex; the result is a local minimum
    near ``init``. With ``weights=None`` the objective and the stopping rule
    are those of tslearn's ``softdtw_barycenter``.

    References
    ----------
    .. [1] M. Cuturi and M. Blondel, "Soft-DTW: a differentiable loss function
       for time-series", ICML 2017.

    Examples
    --------
    >>> from alignkit.distances import soft_dtw_barycenter
    >>> X = [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]]
    >>> soft_dtw_barycenter(X, gamma=0.01).round(2).ravel().tolist()
    [0.0, 1.0, 2.0]
    """
    sequences = check_collection(X, name="X")
    weights = _check_weights(weights, len(sequences))
    start = None if init is None else _initial(sequences, init, Window(), None)
    return soft_dtw_average(
        sequences, float(gamma), n_iter, start, weights, tol, progress_requested(verbose)
    )


_CONTROLLER = []


def _one_blas_thread():
    """A context in which BLAS computes on one thread (the process' setting, restored after).

    L-BFGS-B's vector operations are far too small to share, yet OpenBLAS wakes its
    threads for them, and they spin on the other cores: a soft-DTW k-means fit spent 50%
    more CPU than wall time, and ran about 15% slower than with one thread. The
    controller is made once (making one scans the loaded libraries, about 1 ms).
    """
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def soft_dtw_average(
    sequences: list[np.ndarray],
    gamma: float = 1.0,
    n_iter: int = 100,
    start: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    tol: float = 1e-6,
    verbose: bool = False,
    values_out: list | None = None,
) -> np.ndarray:
    """The driver of :func:`soft_dtw_barycenter`: validated sequences and parameters.

    ``start=None`` starts from the medoid; ``weights=None`` weighs every
    sequence 1; a truthy ``verbose`` shows a progress bar of the L-BFGS-B
    iterations. A list ``values_out`` receives the soft-DTW values of the
    sequences to the returned average, as its objective measured them (k-means
    needs them for its next assignment).
    """
    from scipy.optimize import minimize

    from ..kernels._numba._barycenters import soft_dtw_objective
    from ._pairwise import pack
    from ._soft_dtw import _finite, check_soft_memory

    if start is None:
        start = _initial(sequences, "medoid", Window(), None)
    if weights is None:
        weights = np.ones(len(sequences))
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    for length in {len(s) for s in sequences}:
        check_soft_memory("grad", "numba", len(start) * length, len(start), length)
    flat, offsets = pack(sequences)

    def evaluate(z, name):
        total, grad, values = soft_dtw_objective(
            flat, offsets, np.ascontiguousarray(z), gamma, weights
        )
        for index in np.flatnonzero(~np.isfinite(values)):  # the first one raises
            _finite(values[index], z, sequences[index], None, (name, f"X[{index}]"))
        if not (np.isfinite(total) and np.isfinite(grad).all()):
            raise InvalidInputError(
                f"the weighted soft-DTW objective of X from {name} overflows float64; rescale X"
            )
        return total, grad, values

    # The start must be measurable; a trial point of L-BFGS-B that overflows (a step far
    # out from huge values) counts as infinitely bad, and the best point seen is returned.
    first = evaluate(start, "the starting point (init)")
    best = [first[0], start, first[2]]
    # L-BFGS-B evaluates the starting point first: that is the evaluation just made.
    known = [start.ravel().copy(), first]

    def objective(point):
        z = point.reshape(start.shape)
        if known and np.array_equal(point, known[0]):
            total, grad, _ = known[1]
            known.clear()
            return total, grad.ravel()
        try:
            total, grad, values = evaluate(z, "the barycenter")
        except InvalidInputError:
            return np.inf, np.zeros_like(point)
        if total < best[0]:
            best[:] = [total, z.copy(), values]
        return total, grad.ravel()

    if n_iter == 0:
        if values_out is not None:
            values_out.append(best[2])
        return start
    with (
        progress_bar(n_iter, "soft-DTW barycenter", verbose, unit="iterations") as bar,
        _one_blas_thread(),
    ):
        minimize(
            objective,
            start.ravel(),
            method="L-BFGS-B",
            jac=True,
            tol=tol,
            options={"maxiter": n_iter},
            callback=lambda _: bar.update(1, objective=best[0]),
        )
        bar.set_total(bar.n)
    if values_out is not None:
        values_out.append(best[2])
    return best[1]

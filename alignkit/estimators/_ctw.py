"""CTWAligner: canonical time warping of two modalities (Zhou and De la Torre, NIPS 2009)."""

import numpy as np
from numpy.typing import ArrayLike

from ..base import PAIRED_OUTPUTS, PairedAligner, PairsLike, check_pairs
from ..core.params import Integral, Interval, Real, StrOptions, check_estimator_params
from ..core.results import Alignment
from ..exceptions import InvalidInputError
from ..metrics import path_distance
from ..multiview._cca import ctw_objective, multiset_cca
from ..validation import WindowLike
from ._uniform import uniform_path

__all__ = ["CTWAligner", "CTWAlignment"]


class CTWAlignment(Alignment):
    """An :class:`~alignkit.Alignment` found by canonical time warping.

    Parameters
    ----------
    path : ndarray of shape (path_length, 2)
        The warping path, as for :class:`~alignkit.Alignment`.
    distance : float
        The DTW distance between the projected (canonical) sequences.
    shape : tuple of int
        ``(n, m)``: the lengths of ``a`` and ``b``.
    projections : tuple of ndarray
        ``(V_a, V_b)`` of shapes ``(n_channels_a, n_components)`` and
        ``(n_channels_b, n_components)``.
    offsets : tuple of ndarray
        ``(mean_a, mean_b)``: the means of the warped frames, subtracted before
        projecting (the homogeneous coordinate of the reference code).
    objective_history : ndarray of shape (n_iter,)
        The CTW objective after the spatial (CCA) step of each round.
    n_iter : int
        Number of rounds run.
    converged : bool
        Whether the path moved at most ``tol`` in the last round.

    Examples
    --------
    >>> from alignkit import CTWAligner
    >>> from alignkit.datasets import make_warped_spirals
    >>> (a, b), _ = make_warped_spirals(random_state=0)
    >>> alignment = CTWAligner().align(a, b)
    >>> alignment.projections[0].shape[0], alignment.converged
    (3, True)
    """

    __slots__ = ("projections", "offsets", "objective_history", "n_iter", "converged")

    def __init__(
        self,
        path: ArrayLike,
        distance: float,
        shape: tuple[int, int],
        projections: tuple[np.ndarray, np.ndarray],
        offsets: tuple[np.ndarray, np.ndarray],
        objective_history: np.ndarray,
        n_iter: int,
        converged: bool,
    ):
        super().__init__(path, distance, shape)
        self.projections = projections
        self.offsets = offsets
        self.objective_history = np.asarray(objective_history, dtype=np.float64)
        self.n_iter = int(n_iter)
        self.converged = bool(converged)

    def __getstate__(self):
        # Alignment.__getstate__ reads self.__slots__, which here names only the new slots.
        names = Alignment.__slots__ + CTWAlignment.__slots__
        return {name: getattr(self, name) for name in names}

    def __repr__(self):
        return (
            f"CTWAlignment(distance={self.distance:.6g}, shape={self.shape}, "
            f"path_length={len(self.path)}, n_iter={self.n_iter}, converged={self.converged})"
        )


def _paths_key(paths):
    return b"|".join(path.tobytes() for path in paths)


class _State:
    """Projections and offsets of one round, for every pair."""

    def __init__(self, pairs, paths, reg, n_components):
        warped = [(a[p[:, 0]], b[p[:, 1]]) for (a, b), p in zip(pairs, paths)]
        # One offset per pair and view: the warped mean (the homogeneous coordinate).
        self.offsets = [(wa.mean(axis=0), wb.mean(axis=0)) for wa, wb in warped]
        views = [
            np.vstack([wa - oa for (wa, _), (oa, _) in zip(warped, self.offsets)]),
            np.vstack([wb - ob for (_, wb), (_, ob) in zip(warped, self.offsets)]),
        ]
        try:
            projections, self.correlations, self.n_components = multiset_cca(
                views, reg=reg, n_components=n_components
            )
        except InvalidInputError as error:
            message = str(error).replace("view 0", "view a").replace("view 1", "view b")
            raise InvalidInputError(f"CTWAligner: {message}") from None
        self.projections = tuple(projections)
        self.objective = ctw_objective(views, projections, reg=reg)


def _project(sequence, offset, projection):
    return (sequence - offset) @ projection


def _dtw_paths(pairs, projections, offsets, window):
    from ..distances._dtw import dtw_alignment, pair_window
    from ..validation import check_window

    parsed = check_window(window)
    return [
        dtw_alignment(
            np.ascontiguousarray(_project(a, oa, projections[0]), dtype=np.float64),
            np.ascontiguousarray(_project(b, ob, projections[1]), dtype=np.float64),
            pair_window(parsed, len(a), len(b)),
        )
        for (a, b), (oa, ob) in zip(pairs, offsets)
    ]


def _mean_change(new_paths, paths):
    return float(np.mean([path_distance(p, q) for p, q in zip(new_paths, paths)]))


class CTWAligner(PairedAligner):
    """Canonical time warping (CTW): align two modalities with different channels.

    CTW alternates canonical correlation analysis (CCA) on the currently
    aligned frames, which finds projections ``V_a`` and ``V_b`` of the two
    modalities into a shared space, and dynamic time warping (DTW) of the
    projected sequences, which finds the path. The two sequences may differ in
    length and in number of channels.

    ``fit(X)`` on a list of ``(a, b)`` pairs learns ONE pair of projections
    shared by all pairs (pooled warped covariances, per-pair DTW), so that
    held-out pairs of the same two modalities align with
    :meth:`~alignkit.base.PairedAligner.align_pairs`, :meth:`~alignkit.base.PairedAligner.align` or
    :meth:`~alignkit.base.PairedAligner.transform` without refitting. Before ``fit``,
    ``align(a, b)`` runs CTW on that one pair (it learns projections of the
    pair alone).

    Parameters
    ----------
    n_components : int or float, default=0.95
        Canonical dimension: an int count, or a float in ``(0, 1)``: the
        smallest number of components holding that fraction of the summed
        canonical correlations. Resolved in the first round, then frozen.
        With many noisy channels the energy rule keeps noise components and
        CCA overfits the starting path: pass an int (the expected latent
        dimension) or ``reg > 0`` there (see ``benchmarks/results.md``).
    reg : float, default=0.0
        Ridge in ``[0, 1)``: covariances become ``(1 - reg) C + reg I``.
        Needed when a view has constant or collinear channels.
    init : {"uniform", "dtw"}, default="uniform"
        First path: the uniform (straight-line) warp, or DTW of the raw
        sequences (needs equal channel counts).
    window : None, int, float, tuple or ndarray, default=None
        DTW window, as for :func:`alignkit.dtw`.
    max_iter : int, default=50
        Maximum number of rounds (one CCA step and one DTW step each).
    tol : float, default=0.01
        Stop when the path moves at most this, in frames
        (:func:`~alignkit.metrics.path_distance`, averaged over pairs).
    output : {"concat", "a", "b"}, default="concat"
        What :meth:`~alignkit.base.PairedAligner.transform` returns on ``a``'s timeline:
        both views' canonical variates side by side, or one of them.
    n_timepoints : int, default=None
        If given, :meth:`~alignkit.base.PairedAligner.transform` resamples every output
        linearly to this length, so it always returns one array (e.g. before a
        classifier).

    Attributes
    ----------
    projections_ : tuple of ndarray
        ``(V_a, V_b)``, of shapes ``(n_channels_a, n_components_)`` and
        ``(n_channels_b, n_components_)``, normalised so that
        ``V_a^T S_a V_a + V_b^T S_b V_b = I`` with ``S = (1 - reg) C + reg I``
        of the pooled warped covariances ``C``.
    correlations_ : ndarray of shape (n_correlations,)
        Canonical correlations of the last round, in descending order
        (``n_correlations`` is the smaller channel count).
    n_components_ : int
        Canonical dimension.
    objective_history_ : ndarray of shape (n_rounds,)
        The objective after each round's CCA step (see Notes).
    n_iter_ : int
        Number of rounds run.
    converged_ : bool
        Whether the paths moved at most ``tol`` in the last round (False
        after ``max_iter`` rounds or a detected cycle).
    n_channels_ : tuple of int
        Channel counts ``(n_channels_a, n_channels_b)`` that every pair given
        to :meth:`~alignkit.base.PairedAligner.transform` must have (see
        :mod:`alignkit.base`).

    See Also
    --------
    DTWAligner : DTW onto a reference, for one modality.

    Notes
    -----
    With warped, centred frames ``A`` and ``B`` (``L`` rows, stacked over
    pairs) the objective is

    .. math::

        J = \\frac{1}{L} \\lVert A V_a - B V_b \\rVert_F^2
            + \\frac{reg}{1 - reg} (\\lVert V_a \\rVert_F^2 + \\lVert V_b \\rVert_F^2)
          = \\frac{b}{1 - reg} - \\sum_{k \\le b} \\rho_k

    at the CCA solution (``b`` components, correlations ``rho``). Each
    frame is centred by its pair's warped mean, which the reference
    MATLAB code learns through a homogeneous coordinate. The CCA step
    maximises the correlations for the current paths and the DTW step
    minimises the residual for the current projections; the constraint
    depends on the paths, so a round can raise ``J`` (rarely, and slightly);
    such a round is discarded and the iterations stop, so
    ``objective_history_`` never increases. A path that returns to an earlier
    one (a cycle) also stops the iterations. Unlike tslearn's ``ctw_path`` (tslearn issue 728), the
    iterations do run until the path settles.

    References
    ----------
    .. [1] F. Zhou and F. De la Torre, "Canonical time warping for alignment
       of human behavior", NIPS 2009.

    Examples
    --------
    >>> from alignkit import CTWAligner, dtw
    >>> from alignkit.datasets import make_warped_spirals
    >>> from alignkit.metrics import path_distance
    >>> (a, b), (_, true_path) = make_warped_spirals(random_state=1)
    >>> ctw = CTWAligner().align(a, b)
    >>> path_distance(ctw.path, true_path) < path_distance(dtw(a, b).path, true_path)
    True
    """

    _alignkit_tags = frozenset({"explicit", "numba"})
    _parameter_constraints = {
        "n_components": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="neither"),
        ],
        "reg": [Interval(Real, 0, 1, closed="left")],
        "init": [StrOptions({"uniform", "dtw"})],
        "window": "no_validation",  # parsed by the DTW window check
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "output": [StrOptions(set(PAIRED_OUTPUTS))],
        "n_timepoints": [None, Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_components: int | float = 0.95,
        reg: float = 0.0,
        init: str = "uniform",
        window: WindowLike = None,
        max_iter: int = 50,
        tol: float = 0.01,
        output: str = "concat",
        n_timepoints: int | None = None,
    ):
        self.n_components = n_components
        self.reg = reg
        self.init = init
        self.window = window
        self.max_iter = max_iter
        self.tol = tol
        self.output = output
        self.n_timepoints = n_timepoints

    def _initial_paths(self, pairs):
        if self.init == "uniform":
            return [uniform_path(len(a), len(b)) for a, b in pairs]
        if pairs[0][0].shape[1] != pairs[0][1].shape[1]:
            raise InvalidInputError(
                "CTWAligner init='dtw' compares raw frames, so a and b need the same number of "
                f"channels (got {pairs[0][0].shape[1]} and {pairs[0][1].shape[1]}); "
                "use init='uniform'"
            )
        from ..distances._dtw import dtw_alignment, pair_window
        from ..validation import check_window

        parsed = check_window(self.window)
        return [dtw_alignment(a, b, pair_window(parsed, len(a), len(b))).path for a, b in pairs]

    def _alternate(self, pairs):
        """Alternate CCA and DTW from the initial paths; return the final state and results."""
        check_estimator_params(self)
        paths = self._initial_paths(pairs)
        seen = {_paths_key(paths)}
        n_components, history, converged = self.n_components, [], False
        previous = None
        for _ in range(self.max_iter):
            state = _State(pairs, paths, self.reg, n_components)
            if history and state.objective > history[-1] * (1 + 1e-8) + 1e-12:
                # The CCA constraint moves with the paths, so a round can raise J:
                # keep the last round that did not, and stop.
                state, alignments = previous
                break
            n_components = state.n_components  # frozen after the first round
            history.append(state.objective)
            alignments = _dtw_paths(pairs, state.projections, state.offsets, self.window)
            previous = (state, alignments)
            new_paths = [alignment.path for alignment in alignments]
            change = _mean_change(new_paths, paths)
            key = _paths_key(new_paths)
            paths = new_paths
            if change <= self.tol:
                converged = True
                break
            if key in seen:  # a cycle: CTW would oscillate for ever
                break
            seen.add(key)
        return state, alignments, np.asarray(history), converged

    def _align_unfitted(self, a, b):
        """Canonical time warping of one validated pair, learning its own projections."""
        state, alignments, history, converged = self._alternate([(a, b)])
        return CTWAlignment(
            alignments[0].path,
            alignments[0].distance,
            (len(a), len(b)),
            state.projections,
            state.offsets[0],
            history,
            len(history),
            converged,
        )

    def fit(self, X: PairsLike, y: None = None) -> "CTWAligner":
        """Learn one pair of projections shared by a collection of pairs.

        Parameters
        ----------
        X : list of (array-like, array-like)
            Pairs ``(a, b)``: every ``a`` has ``n_channels_a`` channels and every
            ``b`` ``n_channels_b``; lengths may differ.
        y : None
            Ignored.

        Returns
        -------
        self : CTWAligner
        """
        pairs = check_pairs(X)
        state, _, history, converged = self._alternate(pairs)
        self.projections_ = state.projections
        self.correlations_ = state.correlations
        self.n_components_ = state.n_components
        self.objective_history_ = history
        self.n_iter_ = len(history)
        self.converged_ = converged
        self.n_channels_ = (pairs[0][0].shape[1], pairs[0][1].shape[1])
        return self

    def _align_fitted(self, pairs):
        """Per pair: its alignment with the fitted projections, and both sides' variates."""
        aligned = []
        for a, b in pairs:
            alignment = self._align_fixed(a, b)
            offset_a, offset_b = alignment.offsets
            variates = (
                _project(a, offset_a, self.projections_[0]),
                _project(b, offset_b, self.projections_[1]),
            )
            aligned.append((alignment, *variates))
        return aligned

    def _align_fixed(self, a, b):
        """CTW of one pair with the projections fixed: DTW alternates with the offsets.

        From the uniform path, DTW of the projected sequences alternates with
        the update of the pair's offsets (warped means) until the path moves at
        most ``tol`` or ``max_iter`` rounds. With the projections fixed, each
        step minimises the summed squared residual
        ``sum_t ||V_a^T (a_t - mean_a) - V_b^T (b_t - mean_b)||^2`` along the
        path, so it never increases; it is what ``objective_history`` holds.
        """
        path, history, converged = uniform_path(len(a), len(b)), [], False
        for _ in range(self.max_iter):
            warped_a, warped_b = a[path[:, 0]], b[path[:, 1]]
            offsets = (warped_a.mean(axis=0), warped_b.mean(axis=0))
            residual = _project(warped_a, offsets[0], self.projections_[0]) - _project(
                warped_b, offsets[1], self.projections_[1]
            )
            history.append(float(np.sum(residual**2)))
            alignment = _dtw_paths([(a, b)], self.projections_, [offsets], self.window)[0]
            change = path_distance(alignment.path, path)
            path = alignment.path
            if change <= self.tol:
                converged = True
                break
        return CTWAlignment(
            path,
            alignment.distance,
            (len(a), len(b)),
            self.projections_,
            offsets,
            history,
            len(history),
            converged,
        )

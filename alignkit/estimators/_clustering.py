"""Clustering under elastic distances: k-means with barycenters, k-medoids, silhouette.

:class:`TimeSeriesKMeans` alternates an assignment step (every sequence to its
nearest centre under DTW, searched with LB_Kim, LB_Keogh and PrunedDTW so that
most exact DTWs are skipped without changing any label) and an update step
(each centre replaced by the DBA or soft-DTW barycenter of its members,
started from the centre). :class:`TimeSeriesKMedoids` clusters on one pairwise
matrix of any alignkit distance, or a precomputed one, by alternating or by
PAM swaps. :func:`silhouette_score` reuses one pairwise matrix.
"""

import numpy as np
from joblib import effective_n_jobs
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..core.parallel import Parallel, delayed
from ..core.params import (
    Integral,
    Interval,
    Real,
    StrOptions,
    check_estimator_params,
    validate_params,
)
from ..core.progress import progress_bar, progress_requested
from ..distances._pairwise import (
    NON_DTW_METRICS,
    _elastic_matrix,
    band_window,
    pack,
    pairwise_costs,
)
from ..exceptions import InvalidInputError, InvalidParameterError
from ..validation import CollectionLike, WindowLike, check_collection

__all__ = ["TimeSeriesKMeans", "TimeSeriesKMedoids", "silhouette_score"]

# Stopping rules of the barycenter updates, those of tslearn's TimeSeriesKMeans (DBA's
# relative tolerance; L-BFGS-B's tol of tslearn's softdtw_barycenter).
_DBA_TOL = 1e-5
_SOFT_DTW_TOL = 1e-3


def _too_few_distinct(n_clusters, what="X"):
    return InvalidInputError(
        f"{what} holds fewer than n_clusters={n_clusters} sequences at a positive distance "
        "from each other (for DTW, sequences that differ only by repeated timepoints are "
        "identical), so no n_clusters distinct centres exist; lower n_clusters"
    )


def _check_n_clusters(n_clusters, n_sequences, name="X"):
    if n_clusters > n_sequences:
        raise InvalidParameterError(
            f"n_clusters={n_clusters} is larger than the number of sequences in {name} "
            f"({n_sequences}); it must be at most {n_sequences}"
        )


def _as_centres(sequences):
    """An ``(n, n_timepoints, n_channels)`` array when the lengths agree, else the list."""
    if len({len(s) for s in sequences}) == 1:
        return np.stack(sequences)
    return [s.copy() for s in sequences]


def _seed_plus_plus(n_points, n_clusters, costs_from, rng, n_clusters_name="X"):
    """Greedy k-means++ seeding (Arthur & Vassilvitskii 2007, scikit-learn's variant).

    ``costs_from(indices)`` returns the ``(len(indices), n_points)`` costs from
    those points to every point; each new seed is the best of ``2 + log(k)``
    candidates drawn with probability proportional to the cost to the nearest seed.
    """
    n_trials = 2 + int(np.log(n_clusters))
    seeds = [int(rng.randint(n_points))]
    closest = costs_from(seeds)[0]
    for _ in range(1, n_clusters):
        total = closest.sum()
        if not total > 0:
            raise _too_few_distinct(n_clusters, n_clusters_name)
        draws = np.searchsorted(np.cumsum(closest), rng.uniform(size=n_trials) * total)
        candidates = np.unique(np.clip(draws, 0, n_points - 1))
        candidates = candidates[closest[candidates] > 0]
        if candidates.size == 0:  # a draw of exactly 0 landed on a seed
            candidates = np.array([int(np.argmax(closest))])
        trial = np.minimum(closest, costs_from(list(candidates)))
        best = int(np.argmin(trial.sum(axis=1)))
        seeds.append(int(candidates[best]))
        closest = trial[best]
    return seeds


def _nearest_chunk(q_flat, q_off, train, spec):
    from ..kernels._numba._pruned import knn_search

    return knn_search(q_flat, q_off, *train, *spec, 1, True)


def nearest_centres(sequences, centres, window, n_jobs):
    """Nearest centre and its summed squared DTW cost for every sequence, exactly.

    Runs the pruned search of the k-NN estimators (LB_Kim, LB_Keogh both
    ways, PrunedDTW) with the centres as the training set; ties go to the
    lowest centre index, as an ``argmin`` over the full matrix. Returns
    ``(labels, costs, stats)`` with ``stats`` the search's counters.
    """
    from ..distances._lower_bounds import envelope_of
    from ..kernels._numba._bounds import window_spec

    envelopes = [envelope_of(c, window, len(c)) for c in centres]
    c_flat, c_off = pack(centres)
    train = (c_flat, c_off, pack([e[0] for e in envelopes])[0], pack([e[1] for e in envelopes])[0])
    q_flat, q_off = pack(sequences, view=True)
    longest = max(int(np.diff(q_off).max()), int(np.diff(c_off).max()))
    spec = window_spec(window, longest, longest)
    workers = max(1, min(effective_n_jobs(n_jobs), len(sequences)))
    edges = np.linspace(0, len(sequences), workers + 1).astype(int)
    chunks = [q_off[start : stop + 1] for start, stop in zip(edges[:-1], edges[1:])]
    if workers == 1:
        parts = [_nearest_chunk(q_flat, chunks[0], train, spec)]
    else:  # the kernel releases the GIL
        parts = Parallel(n_jobs=n_jobs, prefer="threads")(
            delayed(_nearest_chunk)(q_flat, offsets, train, spec) for offsets in chunks
        )
    costs = np.concatenate([part[0][:, 0] for part in parts])
    labels = np.concatenate([part[1][:, 0] for part in parts])
    if not np.all(np.isfinite(costs)):
        index = int(np.argmax(~np.isfinite(costs)))
        raise InvalidInputError(
            f"the summed squared DTW costs from X[{index}] to the centres overflow float64; "
            "rescale X"
        )
    return labels, costs, np.sum([part[2] for part in parts], axis=0)


def _soft_row(sequence, centres, gamma):
    from ..core.window import Window
    from ..distances._soft_dtw import soft_dtw_value

    return [soft_dtw_value(sequence, c, gamma, Window()) for c in centres]


def _soft_values(sequences, centres, gamma, n_jobs, known):
    """:func:`soft_dtw_matrix`, with the values ``known = (labels, own)`` filled in.

    ``own[k]`` (or None) holds the values of the sequences labelled ``k`` to
    centre ``k``, in sequence order; the others are computed, a column at a time.
    """
    if known is None or all(own is None for own in known[1]):
        return soft_dtw_matrix(sequences, centres, gamma, n_jobs)
    labels, own = known
    values = np.empty((len(sequences), len(centres)))
    for k, centre in enumerate(centres):
        rows = np.arange(len(sequences))
        if own[k] is not None:
            members = labels == k
            values[members, k] = own[k]
            rows = np.flatnonzero(~members)
        if len(rows):
            column = soft_dtw_matrix([sequences[i] for i in rows], [centre], gamma, n_jobs)
            values[rows, k] = column[:, 0]
    return values


def soft_dtw_matrix(sequences, centres, gamma, n_jobs):
    """Soft-DTW values from every sequence to every centre: one kernel call per thread.

    The sequences are split into one chunk per joblib thread (the kernel
    releases the GIL).
    """
    from ..kernels._numba._barycenters import soft_dtw_cross

    c_flat, c_off = pack(centres)
    workers = max(1, min(effective_n_jobs(n_jobs), len(sequences)))
    edges = np.linspace(0, len(sequences), workers + 1).astype(int)
    chunks = [pack(sequences[start:stop], view=True) for start, stop in zip(edges[:-1], edges[1:])]
    if workers == 1:
        parts = [soft_dtw_cross(*chunks[0], c_flat, c_off, gamma)]
    else:
        parts = Parallel(n_jobs=n_jobs, prefer="threads")(
            delayed(soft_dtw_cross)(q_flat, q_off, c_flat, c_off, gamma) for q_flat, q_off in chunks
        )
    values = np.concatenate(parts, axis=0)
    if not np.all(np.isfinite(values)):  # the driver names the overflow
        row, col = np.argwhere(~np.isfinite(values))[0]
        _soft_row(sequences[row], [centres[col]], gamma)
    return values


def _reseed_empty(labels, costs, centres, sequences, n_clusters, self_cost=None):
    """Give every empty cluster the sequence farthest from its centre (in a cluster of 2+).

    Under DTW a sequence costs 0 to itself, and a farthest cost of 0 means too
    few distinct sequences; under soft-DTW ``self_cost(sequence)`` gives that
    cost (soft-DTW values have no floor, so there is no such test).
    """
    floor = 0.0 if self_cost is None else -np.inf
    counts = np.bincount(labels, minlength=n_clusters)
    for empty in np.flatnonzero(counts == 0):
        movable = np.where(counts[labels] > 1, costs, -np.inf)
        farthest = int(np.argmax(movable))
        if not movable[farthest] > floor:
            raise _too_few_distinct(n_clusters)
        counts[labels[farthest]] -= 1
        counts[empty] = 1
        labels[farthest] = empty
        costs[farthest] = 0.0 if self_cost is None else self_cost(sequences[farthest])
        centres[empty] = sequences[farthest].copy()


class TimeSeriesKMeans(TransformerMixin, ClusterMixin, BaseEstimator):
    """K-means under DTW (DBA barycenters) or soft-DTW (soft-DTW barycenters).

    Parameters
    ----------
    n_clusters : int, default=3
        Number of clusters, at most the number of sequences.
    metric : {"dtw", "softdtw"}, default="dtw"
        ``"dtw"``: sequences go to the centre with the smallest DTW distance
        and centres are DBA averages (:func:`alignkit.dba`).
        ``"softdtw"``: the smallest soft-DTW value, and soft-DTW barycenters
        (:func:`alignkit.soft_dtw_barycenter`).
    window : None, int, float or tuple, default=None
        Constraint on every DTW path, as in :func:`alignkit.dtw` (not a
        mask); ``metric="dtw"`` only.
    gamma : float, default=1.0
        Smoothing of soft-DTW, ``> 0``; ``metric="softdtw"`` only.
    max_iter : int, default=50
        Maximum number of update steps.
    tol : float, default=1e-6
        Stop when an iteration lowers the inertia by at most ``tol`` times
        its previous value.
    n_init : int, default=1
        Number of runs from different k-means++ or random seeds; the run with
        the lowest inertia is kept. An array ``init`` runs once.
    max_iter_barycenter : int, default=10
        Maximum number of iterations of each barycenter update.
    init : {"k-means++", "random"} or array-like, default="k-means++"
        ``"k-means++"``: greedy k-means++ seeding on the summed squared DTW
        costs (for either metric, since soft-DTW values can be negative).
        ``"random"``: ``n_clusters`` distinct sequences drawn at random. An
        array of shape ``(n_clusters, n_timepoints, n_channels)`` or a list of
        ``n_clusters`` sequences: the initial centres.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation.
    n_jobs : int, default=None
        Number of joblib threads for the assignment steps, the seeding and the
        barycenter updates (one cluster per task).
        ``None`` means 1 unless inside :func:`joblib.parallel_config`.
    verbose : int, default=0
        When positive, show a progress bar of the iterations on standard
        error (at most ``n_init * max_iter``; the time left assumes
        ``max_iter`` iterations for every run still to come), with the run,
        the current inertia and the best inertia of the runs so far.
        ``alignkit.set_config(progress=True)`` shows it for every fit.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_timepoints, n_channels) or list
        The centres; a list of arrays when their lengths differ (each centre
        keeps the length of the sequence or array it started from).
    labels_ : ndarray of shape (n_sequences,)
        Cluster of every training sequence, nearest to the final centres.
    inertia_ : float
        ``"dtw"``: the sum over sequences of the squared DTW distance to their
        centre (tslearn reports this sum divided by the number of sequences).
        ``"softdtw"``: the sum of the soft-DTW values to their centre, the
        objective the barycenters minimise.
    n_iter_ : int
        Number of update steps of the kept run.
    n_dtw_pairs_ : int
        Sequence-centre pairs of all DTW assignment steps of the kept run.
    n_dtw_skipped_ : int
        Of those, the pairs whose exact DTW was not needed: pruned by a lower
        bound or abandoned part way by PrunedDTW (0 for ``"softdtw"``).
    n_channels_ : int
        Number of channels seen in ``fit``.
    window_ : Window
        The parsed window.

    See Also
    --------
    TimeSeriesKMedoids : Centres that are training sequences, under any distance.
    alignkit.dba : The barycenter of the DTW update step.

    Notes
    -----
    Empty clusters: when an assignment leaves a cluster empty, the sequence
    farthest from its own centre (in a cluster that keeps a member) becomes
    its centre. When no sequence is at a positive distance from its centre,
    ``X`` has fewer than ``n_clusters`` distinct sequences and ``fit`` raises
    :class:`~alignkit.exceptions.InvalidInputError` (so does k-means++).

    The DTW assignment is exact: a centre is pruned only when a lower bound
    proves it farther than the best one so far (with a relative margin of
    ``1e-9``, so ties are never pruned), hence the labels and the inertia
    equal those of the full distance matrix.

    Both update steps start from the current centre and the DBA one returns
    no worse an average, so under DTW the inertia never increases.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit import TimeSeriesKMeans
    >>> t = np.linspace(0, 1, 20)
    >>> X = [np.sin(6 * t), np.sin(6 * t ** 1.2), np.cos(6 * t), np.cos(6 * t ** 1.2)]
    >>> km = TimeSeriesKMeans(n_clusters=2, random_state=0).fit(X)
    >>> km.labels_[0] == km.labels_[1] != km.labels_[2] == km.labels_[3]
    np.True_
    >>> km.cluster_centers_.shape
    (2, 20, 1)
    """

    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "metric": [StrOptions({"dtw", "softdtw"})],
        "window": "no_validation",  # parsed by band_window in fit
        "gamma": [Interval(Real, 0, np.inf, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "max_iter_barycenter": [Interval(Integral, 0, None, closed="left")],
        "init": [StrOptions({"k-means++", "random"}), "array-like"],
        "random_state": ["random_state"],
        "n_jobs": [Interval(Integral, None, None, closed="neither"), None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_clusters: int = 3,
        metric: str = "dtw",
        window: WindowLike = None,
        gamma: float = 1.0,
        max_iter: int = 50,
        tol: float = 1e-6,
        n_init: int = 1,
        max_iter_barycenter: int = 10,
        init: str | ArrayLike = "k-means++",
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
        verbose: int = 0,
    ):
        self.n_clusters = n_clusters
        self.metric = metric
        self.window = window
        self.gamma = gamma
        self.max_iter = max_iter
        self.tol = tol
        self.n_init = n_init
        self.max_iter_barycenter = max_iter_barycenter
        self.init = init
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def fit(self, X: CollectionLike, y: None = None) -> "TimeSeriesKMeans":
        """Cluster the sequences of ``X``.

        Parameters
        ----------
        X : list of array-like, or ndarray
            Sequences (see :func:`alignkit.validation.check_collection`);
            lengths may differ.
        y : None
            Ignored.

        Returns
        -------
        self : TimeSeriesKMeans
        """
        check_estimator_params(self)
        if self.metric == "softdtw" and self.window is not None:
            raise InvalidParameterError(
                "The 'window' parameter of TimeSeriesKMeans applies to metric='dtw' only (the "
                f"soft-DTW barycenter has no window). Got {self.window!r} instead."
            )
        self.window_ = band_window(self.window)
        sequences = check_collection(X, name="X")
        _check_n_clusters(self.n_clusters, len(sequences))
        self.n_channels_ = sequences[0].shape[1]
        rng = check_random_state(self.random_state)
        given = not isinstance(self.init, str)
        best = None
        n_runs = 1 if given else self.n_init
        self._progress = progress_bar(
            n_runs * self.max_iter,
            "TimeSeriesKMeans",
            progress_requested(self.verbose),
            unit="iterations",
            every=max(self.max_iter // 10, 1),  # a log line every tenth of one run at most
        )
        with self._progress:  # counts the iterations of _fit_once
            for run in range(n_runs):
                self._progress.update(0, run=f"{run + 1}/{n_runs}")
                result = self._fit_once(sequences, self._initial_centres(sequences, rng))
                if best is None or result[2] < best[2]:
                    best = result
                self._progress.update(0, best=best[2])
                self._progress.set_total(self._progress.total - (self.max_iter - result[3]))
        del self._progress
        centres, self.labels_, self.inertia_, self.n_iter_, stats = best
        self.cluster_centers_ = _as_centres(centres)
        self.n_dtw_pairs_, self.n_dtw_skipped_ = stats
        return self

    def _initial_centres(self, sequences, rng):
        n = len(sequences)
        if not isinstance(self.init, str):
            centres = check_collection(self.init, name="init", n_channels=self.n_channels_)
            if len(centres) != self.n_clusters:
                raise InvalidInputError(
                    f"init holds {len(centres)} centres but n_clusters={self.n_clusters}; "
                    "they must match"
                )
            return [c.copy() for c in centres]
        if self.init == "random":
            indices = rng.choice(n, self.n_clusters, replace=False)
        else:
            indices = _seed_plus_plus(
                n,
                self.n_clusters,
                lambda rows: pairwise_costs(
                    [sequences[i] for i in rows], sequences, self.window_, n_jobs=self.n_jobs
                ),
                rng,
            )
        return [sequences[i].copy() for i in indices]

    def _assign(self, sequences, centres, known=None):
        """``(labels, costs, n_pairs, n_skipped)`` of the nearest centres.

        ``known``: ``(labels, own)`` of the update that made ``centres``, ``own[k]``
        the soft-DTW values of centre ``k``'s members to it (or None), which the
        barycenter's objective measured at that centre; only the other values are
        computed.
        """
        if self.metric == "softdtw":
            values = _soft_values(sequences, centres, float(self.gamma), self.n_jobs, known)
            labels = np.argmin(values, axis=1)
            return labels, values[np.arange(len(labels)), labels], 0, 0
        from ..kernels._numba import _pruned as p

        labels, costs, stats = nearest_centres(sequences, centres, self.window_, self.n_jobs)
        skipped = stats[p.STAT_KIM] + stats[p.STAT_KEOGH] + stats[p.STAT_ABANDONED]
        return labels, costs, int(stats[p.STAT_PAIRS]), int(skipped)

    def _self_cost(self):
        if self.metric == "dtw":
            return None
        return lambda sequence: _soft_row(sequence, [sequence], float(self.gamma))[0]

    def _update(self, members, centre, costs):
        from ..distances._barycenters import dba_average, soft_dtw_average

        if self.metric == "softdtw":
            own = []
            average = soft_dtw_average(
                members, float(self.gamma), self.max_iter_barycenter, centre, None,
                _SOFT_DTW_TOL, values_out=own,
            )  # fmt: skip
            return average, own[0]
        # The assignment's DTW costs to the centre bound DBA's first alignments.
        average = dba_average(
            members, self.window_, centre, self.max_iter_barycenter, _DBA_TOL, bounds=costs
        )
        return average, None

    def _update_all(self, sequences, labels, centres, costs):
        """Every centre's barycenter update; in joblib threads when ``n_jobs`` asks.

        ``costs`` are the assignment's costs of every sequence to its centre.
        Returns the new centres and ``(labels, own)`` for :meth:`_assign`.
        """
        indices = [np.flatnonzero(labels == k) for k in range(len(centres))]
        jobs = [([sequences[i] for i in rows], c, costs[rows]) for rows, c in zip(indices, centres)]
        if effective_n_jobs(self.n_jobs) == 1:
            results = [self._update(*job) for job in jobs]
        else:
            results = Parallel(n_jobs=self.n_jobs, prefer="threads")(
                delayed(self._update)(*job) for job in jobs
            )
        return [average for average, _ in results], (labels.copy(), [own for _, own in results])

    def _fit_once(self, sequences, centres):
        labels, costs, n_pairs, n_skipped = self._assign(sequences, centres)
        _reseed_empty(labels, costs, centres, sequences, self.n_clusters, self._self_cost())
        inertia = float(costs.sum())
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):
            centres, known = self._update_all(sequences, labels, centres, costs)
            labels, costs, pairs, skipped = self._assign(sequences, centres, known)
            _reseed_empty(labels, costs, centres, sequences, self.n_clusters, self._self_cost())
            n_pairs, n_skipped = n_pairs + pairs, n_skipped + skipped
            previous, inertia = inertia, float(costs.sum())
            self._progress.update(1, iteration=n_iter, inertia=inertia)
            if previous - inertia <= self.tol * abs(previous):
                break
        return centres, labels, inertia, n_iter, (n_pairs, n_skipped)

    def predict(self, X: CollectionLike) -> np.ndarray:
        """Index of the nearest centre of every sequence.

        Parameters
        ----------
        X : list of array-like, or ndarray
            Sequences with ``n_channels_`` channels.

        Returns
        -------
        labels : ndarray of shape (n_sequences,)
        """
        check_is_fitted(self)
        sequences = check_collection(X, name="X", n_channels=self.n_channels_)
        return self._assign(sequences, list(self.cluster_centers_))[0]

    def fit_predict(self, X: CollectionLike, y: None = None) -> np.ndarray:
        """Fit and return ``labels_``.

        Parameters
        ----------
        X : list of array-like, or ndarray
            Sequences, as in :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        labels : ndarray of shape (n_sequences,)
        """
        return self.fit(X).labels_

    def transform(self, X: CollectionLike) -> np.ndarray:
        """Distances from every sequence to every centre.

        Parameters
        ----------
        X : list of array-like, or ndarray
            Sequences with ``n_channels_`` channels.

        Returns
        -------
        distances : ndarray of shape (n_sequences, n_clusters)
            DTW distances (:func:`alignkit.dtw_distance`) or soft-DTW values.
        """
        check_is_fitted(self)
        sequences = check_collection(X, name="X", n_channels=self.n_channels_)
        centres = list(self.cluster_centers_)
        if self.metric == "softdtw":
            return soft_dtw_matrix(sequences, centres, float(self.gamma), self.n_jobs)
        return np.sqrt(pairwise_costs(sequences, centres, self.window_, n_jobs=self.n_jobs))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.three_d_array = True
        return tags


_MEDOID_METRICS = {"dtw", "precomputed", *NON_DTW_METRICS}


def check_precomputed(D, name="X"):
    """A square, symmetric, finite, non-negative matrix with a zero diagonal, as float64."""
    matrix = np.asarray(D, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
        raise InvalidInputError(
            f"{name} must be a square (n_sequences, n_sequences) distance matrix with "
            f"metric='precomputed', got shape {matrix.shape}"
        )
    bad = ~np.isfinite(matrix) | (matrix < 0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InvalidInputError(
            f"{name}[{i}, {j}] is {matrix[i, j]}; precomputed distances must be finite and >= 0"
        )
    asymmetric = ~np.isclose(matrix, matrix.T, rtol=1e-9, atol=0.0)
    if asymmetric.any():
        i, j = np.argwhere(asymmetric)[0]
        raise InvalidInputError(
            f"{name} is not symmetric: {name}[{i}, {j}] = {matrix[i, j]} but "
            f"{name}[{j}, {i}] = {matrix[j, i]}; a precomputed distance matrix must be symmetric"
        )
    diagonal = np.flatnonzero(np.diag(matrix) != 0)
    if diagonal.size:
        i = diagonal[0]
        raise InvalidInputError(
            f"{name}[{i}, {i}] is {matrix[i, i]}; a precomputed distance matrix has a zero diagonal"
        )
    return matrix


def distance_matrix(x_sequences, y_sequences, metric, window, metric_params, n_jobs, verbose=False):
    """The driver of the k-medoids and silhouette matrices (``y_sequences=None``: ``X``).

    A truthy ``verbose`` shows the progress bar of the pairs.
    """
    if metric == "dtw":
        if metric_params:
            raise InvalidParameterError(
                "The 'metric_params' parameter applies to the elastic metrics; metric='dtw' "
                f"takes window only. Got {metric_params!r} instead."
            )
        costs = pairwise_costs(
            x_sequences, y_sequences, band_window(window), n_jobs=n_jobs, verbose=verbose
        )
        return np.sqrt(costs, out=costs)
    return _elastic_matrix(
        x_sequences, y_sequences, metric, window, metric_params, False, "joblib", n_jobs,
        verbose=verbose,
    )  # fmt: skip


def _medoid_labels(D, medoids):
    """Nearest medoid of every point (each medoid in its own cluster) and the distances."""
    to_medoids = D[:, medoids]
    labels = np.argmin(to_medoids, axis=1)
    labels[medoids] = np.arange(len(medoids))
    return labels, to_medoids[np.arange(len(D)), labels]


def _alternate(D, medoids, max_iter):
    """Voronoi iteration: each medoid moves to the member with the smallest summed distance."""
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        labels, _ = _medoid_labels(D, medoids)
        moved = medoids.copy()
        for k in range(len(medoids)):
            members = np.flatnonzero(labels == k)
            within = D[np.ix_(members, members)].sum(axis=1)
            # Keep the current medoid on a tie, so the cost strictly falls or the loop ends.
            if within.min() < within[members == medoids[k]][0]:
                moved[k] = members[np.argmin(within)]
        if np.array_equal(moved, medoids):
            break
        medoids = moved
    return medoids, n_iter


def _pam_swaps(D, medoids, max_iter):
    """PAM's SWAP phase: apply the best cost-lowering (medoid, non-medoid) swap until none."""
    n = len(D)
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        order = np.argsort(D[:, medoids], axis=1, kind="stable")
        rows = np.arange(n)
        nearest = D[rows, medoids[order[:, 0]]]
        second = D[rows, medoids[order[:, 1]]] if len(medoids) > 1 else np.full(n, np.inf)
        current = nearest.sum()
        best_gain, best_swap = 0.0, None
        for k in range(len(medoids)):
            # Distances once medoid k is removed, then with each candidate added.
            without = np.where(order[:, 0] == k, second, nearest)
            totals = np.minimum(D, without[None, :]).sum(axis=1)
            totals[medoids] = np.inf
            candidate = int(np.argmin(totals))
            gain = current - totals[candidate]
            if gain > best_gain * (1.0 + 1e-12) and gain > 1e-12 * current:
                best_gain, best_swap = gain, (k, candidate)
        if best_swap is None:
            break
        medoids = medoids.copy()
        medoids[best_swap[0]] = best_swap[1]
    return medoids, n_iter


def _distinct_count(D, limit):
    """Greedy count (up to ``limit``) of points at a positive distance from each other."""
    chosen = [0]
    for i in range(1, len(D)):
        if len(chosen) >= limit:
            break
        if np.all(D[i, chosen] > 0):
            chosen.append(i)
    return len(chosen)


class TimeSeriesKMedoids(TransformerMixin, ClusterMixin, BaseEstimator):
    """K-medoids under DTW, any elastic distance of alignkit, or a precomputed matrix.

    Parameters
    ----------
    n_clusters : int, default=3
        Number of clusters, at most the number of sequences.
    metric : {"dtw", "adtw", "ddtw", "edr", "erp", "lcss", "msm", "twe", "wdtw", \
"precomputed"}, default="dtw"
        The distance, as in :func:`alignkit.pairwise_distances`
        (DTW in the units of :func:`alignkit.dtw_distance`, square-rooted).
        ``"precomputed"``: ``X`` is a symmetric distance matrix.
    metric_params : dict, default=None
        Keyword arguments of the elastic distance (``{"c": 0.5}`` for MSM).
    window : None, int, float or tuple, default=None
        Constraint on every path, as in :func:`alignkit.dtw` (not a mask).
    method : {"alternate", "pam"}, default="alternate"
        ``"alternate"``: each medoid moves to the member of its cluster with
        the smallest summed distance, until no medoid moves. ``"pam"``: the
        swap of a medoid and a non-medoid that lowers the cost the most is
        applied, until no swap lowers it (Kaufman & Rousseeuw's SWAP phase).
    init : {"k-medoids++", "random"}, default="k-medoids++"
        ``"k-medoids++"``: k-means++ seeding weighted by the distance to the
        nearest medoid. ``"random"``: distinct sequences drawn at random.
    max_iter : int, default=300
        Maximum number of alternations or swaps.
    n_init : int, default=1
        Number of initialisations, each followed by the search, on the one
        distance matrix; the run with the lowest ``inertia_`` is kept (the
        first of equal ones).
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisations.
    n_jobs : int, default=None
        Number of joblib threads for the distance matrix.
    verbose : int, default=0
        When positive, progress bars on standard error: the pairs of the
        distance matrix, then the runs with their inertia;
        ``alignkit.set_config(progress=True)`` shows them for every fit.

    Attributes
    ----------
    medoid_indices_ : ndarray of shape (n_clusters,)
        Indices in ``X`` of the medoids.
    cluster_centers_ : ndarray of shape (n_clusters, n_timepoints, n_channels), list or None
        The medoid sequences (a list when their lengths differ; ``None``
        with ``metric="precomputed"``).
    labels_ : ndarray of shape (n_sequences,)
        Cluster of every sequence: its nearest medoid (a medoid is in its own).
    inertia_ : float
        Sum of the distances of the sequences to their medoid.
    n_iter_ : int
        Number of alternations or swap rounds of the kept run.
    n_channels_ : int
        Number of channels seen in ``fit`` (not set with ``metric="precomputed"``).

    See Also
    --------
    TimeSeriesKMeans : Centres that are barycenters.
    alignkit.pairwise_distances : The matrix clustered here.

    Notes
    -----
    ``fit`` raises :class:`~alignkit.exceptions.InvalidInputError` when
    ``X`` holds fewer than ``n_clusters`` sequences at a positive distance
    from each other (for example identical sequences): the medoids would
    not be distinct.

    References
    ----------
    .. [1] L. Kaufman and P. J. Rousseeuw, "Clustering by means of medoids",
       in Statistical Data Analysis Based on the L1-Norm, 1987.

    Examples
    --------
    >>> from alignkit import TimeSeriesKMedoids
    >>> X = [[0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [5.0, 6.0, 5.0], [5.0, 6.0, 6.0]]
    >>> km = TimeSeriesKMedoids(n_clusters=2, method="pam", random_state=0).fit(X)
    >>> km.labels_.tolist(), float(km.inertia_)
    ([0, 0, 1, 1], 1.0)
    """

    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "metric": [StrOptions(_MEDOID_METRICS)],
        "metric_params": [dict, None],
        "window": "no_validation",  # parsed in fit
        "method": [StrOptions({"alternate", "pam"})],
        "init": [StrOptions({"k-medoids++", "random"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Interval(Integral, None, None, closed="neither"), None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_clusters: int = 3,
        metric: str = "dtw",
        metric_params: dict | None = None,
        window: WindowLike = None,
        method: str = "alternate",
        init: str = "k-medoids++",
        max_iter: int = 300,
        n_init: int = 1,
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
        verbose: int = 0,
    ):
        self.n_clusters = n_clusters
        self.metric = metric
        self.metric_params = metric_params
        self.window = window
        self.method = method
        self.init = init
        self.max_iter = max_iter
        self.n_init = n_init
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def fit(self, X: CollectionLike | ArrayLike, y: None = None) -> "TimeSeriesKMedoids":
        """Find the medoids of ``X``.

        Parameters
        ----------
        X : list of array-like, ndarray, or ndarray of shape (n_sequences, n_sequences)
            Sequences (see :func:`alignkit.validation.check_collection`), or
            their distance matrix with ``metric="precomputed"``.
        y : None
            Ignored.

        Returns
        -------
        self : TimeSeriesKMedoids
        """
        check_estimator_params(self)
        verbose = progress_requested(self.verbose)
        if self.metric == "precomputed":
            D = check_precomputed(X)
            sequences = None
        else:
            band_window(self.window)
            sequences = check_collection(X, name="X")
            _check_n_clusters(self.n_clusters, len(sequences))
            self.n_channels_ = sequences[0].shape[1]
            D = distance_matrix(
                sequences, None, self.metric, self.window, self.metric_params, self.n_jobs,
                verbose=verbose,
            )  # fmt: skip
        _check_n_clusters(self.n_clusters, len(D))
        if _distinct_count(D, self.n_clusters) < self.n_clusters:
            raise _too_few_distinct(self.n_clusters)
        rng = check_random_state(self.random_state)
        best = None
        with progress_bar(self.n_init, type(self).__name__, verbose, unit="runs") as bar:
            for _ in range(self.n_init):
                run = self._search(D, rng)
                if best is None or run[2] < best[2]:
                    best = run
                bar.update(1, inertia=run[2], best=best[2])
        medoids, self.n_iter_, self.inertia_ = best
        self.medoid_indices_ = medoids
        self.labels_, _ = _medoid_labels(D, medoids)
        self._medoids = None if sequences is None else [sequences[i] for i in medoids]
        self.cluster_centers_ = None if sequences is None else _as_centres(self._medoids)
        return self

    def _search(self, D, rng):
        """One run: seed the medoids, search; ``(medoids, n_iter, inertia)``."""
        if self.init == "random":
            medoids = self._random_medoids(D, rng)
        else:
            medoids = np.array(_seed_plus_plus(len(D), self.n_clusters, lambda r: D[r], rng))
        search = _pam_swaps if self.method == "pam" else _alternate
        medoids, n_iter = search(D, medoids, self.max_iter)
        _, distances = _medoid_labels(D, medoids)
        return medoids, n_iter, float(distances.sum())

    def _random_medoids(self, D, rng):
        """Distinct random points, each at a positive distance from those drawn before."""
        medoids = []
        for i in rng.permutation(len(D)):
            if all(D[i, m] > 0 for m in medoids):
                medoids.append(int(i))
                if len(medoids) == self.n_clusters:
                    return np.array(medoids)
        raise _too_few_distinct(self.n_clusters)

    def transform(self, X: CollectionLike | ArrayLike) -> np.ndarray:
        """Distances from every sequence to every medoid.

        Parameters
        ----------
        X : list of array-like, ndarray, or ndarray of shape (n_queries, n_sequences_fit)
            Sequences, or with ``metric="precomputed"`` their distances to the
            training sequences.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_clusters)
        """
        check_is_fitted(self)
        if self.metric == "precomputed":
            matrix = np.asarray(X, dtype=np.float64)
            if matrix.ndim != 2 or matrix.shape[1] != len(self.labels_):
                raise InvalidInputError(
                    f"X must have shape (n_queries, {len(self.labels_)}) with "
                    f"metric='precomputed' (distances to the training sequences), got "
                    f"{matrix.shape}"
                )
            return matrix[:, self.medoid_indices_]
        sequences = check_collection(X, name="X", n_channels=self.n_channels_)
        return distance_matrix(
            sequences, self._medoids, self.metric, self.window, self.metric_params, self.n_jobs
        )

    def predict(self, X: CollectionLike | ArrayLike) -> np.ndarray:
        """Index of the nearest medoid of every sequence.

        Parameters
        ----------
        X : list of array-like, ndarray, or ndarray of shape (n_queries, n_sequences_fit)
            As in :meth:`transform`.

        Returns
        -------
        labels : ndarray of shape (n_queries,)
        """
        return np.argmin(self.transform(X), axis=1)

    def fit_predict(self, X: CollectionLike | ArrayLike, y: None = None) -> np.ndarray:
        """Fit and return ``labels_``.

        Parameters
        ----------
        X : list of array-like, ndarray, or ndarray of shape (n_sequences, n_sequences)
            As in :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        labels : ndarray of shape (n_sequences,)
        """
        return self.fit(X).labels_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.three_d_array = True
        tags.input_tags.pairwise = self.metric == "precomputed"
        return tags


@validate_params(
    {
        "labels": ["array-like"],
        "metric": [StrOptions({"dtw", *NON_DTW_METRICS})],
        "metric_params": [dict, None],
        "n_jobs": [Interval(Integral, None, None, closed="neither"), None],
    }
)
def silhouette_score(
    X: CollectionLike,
    labels: ArrayLike,
    *,
    metric: str = "dtw",
    window: WindowLike = None,
    metric_params: dict | None = None,
    n_jobs: int | None = None,
) -> float:
    """Mean silhouette coefficient of a clustering under DTW or an elastic distance.

    Parameters
    ----------
    X : list of array-like, or ndarray
        Sequences (see :func:`alignkit.validation.check_collection`).
    labels : array-like of shape (n_sequences,)
        Cluster of every sequence; between 2 and ``n_sequences - 1`` clusters.
    metric : {"dtw", "adtw", "ddtw", "edr", "erp", "lcss", "msm", "twe", "wdtw"}, \
default="dtw"
        The distance, as in :func:`alignkit.pairwise_distances`.
    window : None, int, float or tuple, default=None
        Constraint on every path, as in :func:`alignkit.dtw` (not a mask).
    metric_params : dict, default=None
        Keyword arguments of the elastic distance.
    n_jobs : int, default=None
        Number of joblib threads for the distance matrix.

    Returns
    -------
    score : float
        In ``[-1, 1]``; higher is a better separated clustering.

    See Also
    --------
    sklearn.metrics.silhouette_score : Applied here to the precomputed matrix.

    Notes
    -----
    One pairwise matrix (the upper triangle, in parallel), then
    ``sklearn.metrics.silhouette_score(D, labels, metric="precomputed")``:
    for each sequence, ``(b - a) / max(a, b)`` with ``a`` its mean distance
    to the rest of its cluster and ``b`` the smallest mean distance to
    another cluster. It needs ``8 * n_sequences ** 2`` bytes for the matrix.

    Examples
    --------
    >>> from alignkit import silhouette_score
    >>> X = [[0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [5.0, 6.0, 5.0], [5.0, 6.0, 6.0]]
    >>> round(silhouette_score(X, [0, 0, 1, 1]), 4)
    0.9467
    """
    from sklearn.metrics import silhouette_score as _silhouette

    band_window(window)
    sequences = check_collection(X, name="X")
    values = np.asarray(labels)
    if values.shape != (len(sequences),):
        raise InvalidInputError(
            f"labels must have shape ({len(sequences)},), one per sequence of X, got {values.shape}"
        )
    n_labels = len(np.unique(values))
    if not 2 <= n_labels <= len(sequences) - 1:
        raise InvalidInputError(
            f"labels hold {n_labels} clusters; the silhouette needs between 2 and "
            f"n_sequences - 1 = {len(sequences) - 1}"
        )
    D = distance_matrix(sequences, None, metric, window, metric_params, n_jobs)
    return float(_silhouette(D, values, metric="precomputed"))

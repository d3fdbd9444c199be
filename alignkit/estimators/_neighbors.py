"""Nearest neighbours under DTW: exact, pruned k-NN estimators and a distance transformer.

:class:`KNeighborsDTWClassifier` and :class:`KNeighborsDTWRegressor` search the
training collection with lower bounds (LB_Kim, LB_Keogh in both directions)
and PrunedDTW (pruned, early-abandoning DTW), and find exactly the neighbours of a brute-force
search; ``kneighbors(X, return_stats=True)`` reports the work the pruning
saved. :class:`DTWDistances` turns a collection into its DTW distances to
the training collection, for scikit-learn estimators that take a precomputed
metric or kernel.
"""

import numbers
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import numpy as np
from joblib import effective_n_jobs
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from ..core.parallel import Parallel, delayed
from ..core.params import Integral, Interval, StrOptions, check_estimator_params
from ..distances._pairwise import NON_DTW_METRICS, band_window, pack, pairwise_costs
from ..exceptions import InvalidInputError, InvalidParameterError
from ..validation import CollectionLike, WindowLike, check_collection

__all__ = ["DTWDistances", "KNeighborsDTWClassifier", "KNeighborsDTWRegressor"]

_PARAMETERS = """
    n_neighbors : int, default=1
        Number of neighbours used by ``predict`` and, by default, ``kneighbors``.
    window : None, int, float or tuple, default=None
        Constraint on every warping path, as in :func:`alignkit.dtw`: ``None``
        (no constraint), an int Sakoe-Chiba radius, a float fraction of the
        longer length in ``[0, 1]``, or ``("itakura", max_slope)``.
    weights : {"uniform", "distance"} or callable, default="uniform"
        ``"uniform"``: every neighbour counts the same. ``"distance"``: a
        neighbour counts ``1 / distance`` (neighbours at distance zero, when
        any, take all the weight). A callable maps the array of distances to
        an array of weights of the same shape.
    n_jobs : int, default=None
        Number of joblib workers over the query sequences. ``None`` means 1
        unless inside :func:`joblib.parallel_config`; ``-1`` means all cores.
    lower_bounds : bool, default=True
        Prune with lower bounds and PrunedDTW (``metric="dtw"``: the bounds
        hold for DTW only). The neighbours are the same either way; ``False``
        computes every DTW in full.
    metric : {"dtw", "adtw", "ddtw", "edr", "erp", "lcss", "msm", "twe", "wdtw"}, \
default="dtw"
        The distance, as in :func:`alignkit.pairwise_distances`:
        DTW, or ``alignkit.distances.<metric>_distance``, whose distances to
        every training sequence are computed in full (no bound prunes them).
    metric_params : dict, default=None
        Keyword arguments of the elastic distance (``{"c": 0.5}`` for MSM),
        checked in ``fit``.
"""

_ATTRIBUTES = """
    window_ : Window
        The parsed window.
    n_channels_ : int
        Number of channels seen in ``fit``.
    n_samples_fit_ : int
        Number of training sequences.
"""

_NOTES = """
    Search (per query): LB_Kim of every training sequence and, for equal
    lengths, LB_Keogh of the query against the training envelope (computed
    once in ``fit``); candidates are visited by increasing bound, and the
    search stops at the first bound above the current k-th best distance.
    A visited candidate of equal length is pruned when LB_Keogh of the
    training sequence against the query envelope exceeds the k-th best
    (the UCR suite's cascade, Rakthanmanon et al. 2012); otherwise its DTW
    runs along the sequence with the tighter LB_Keogh, as PrunedDTW (Silva
    and Batista 2016) under an upper bound: the k-th best, or the cost of
    the diagonal path when lower. Cells whose cost plus the LB_Keogh of the
    remaining rows exceeds the bound are skipped at the start and end of
    each row, and the DTW is abandoned at the first row without a cell
    under the bound. Pairs of unequal lengths use LB_Kim and PrunedDTW under
    the k-th best only. ``kneighbors(X, return_stats=True)`` reports the
    work done.

    The elastic metrics (``metric`` other than ``"dtw"``) search by brute
    force over the block kernels of :func:`~alignkit.pairwise_distances`.

    Ties are broken by training index, as a stable sort of the brute-force
    distances would (comparisons carry a relative margin of ``1e-9`` so that
    rounding in a bound never prunes a tie), hence the results equal a
    brute-force search exactly.
"""


@contextmanager
def _targets_error():
    """scikit-learn's refusal of ``y`` (NaN, text targets, wrong shape) as an alignkit error.

    The message keeps scikit-learn's wording ("Unknown label type", "Input y
    contains NaN"), which its estimator checks look for.
    """
    try:
        yield
    except ValueError as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(f"y is invalid: {exc}") from None


def _weights(distances, weights):
    """Weights of the neighbours, as scikit-learn's neighbours estimators define them."""
    if weights == "uniform":
        return np.ones_like(distances)
    if weights == "distance":
        with np.errstate(divide="ignore"):
            inverse = 1.0 / distances
        exact = np.isinf(inverse)
        rows = exact.any(axis=1)
        inverse[rows] = exact[rows]
        return inverse
    values = np.asarray(weights(distances), dtype=np.float64)
    if values.shape != distances.shape:
        raise InvalidInputError(
            f"weights callable returned shape {values.shape} for distances of shape "
            f"{distances.shape}; it must return one weight per neighbour"
        )
    bad = ~(np.isfinite(values) & (values >= 0))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InvalidInputError(
            f"weights callable returned {values[row, col]} for neighbour {col} of query {row}; "
            "weights must be finite and >= 0"
        )
    return values


def _search_chunk(q_flat, q_off, train, spec, k, use_bounds):
    from ..kernels._numba._pruned import knn_search

    return knn_search(q_flat, q_off, *train, *spec, k, use_bounds)


def _stats_dict(stats):
    from ..kernels._numba import _pruned as p

    pairs = max(stats[p.STAT_PAIRS], 1.0)
    return {
        "n_pairs": int(stats[p.STAT_PAIRS]),
        "lb_kim": float(stats[p.STAT_KIM] / pairs),
        "lb_keogh": float(stats[p.STAT_KEOGH] / pairs),
        "early_abandon": float(stats[p.STAT_ABANDONED] / pairs),
        "cells": float(stats[p.STAT_CELLS] / max(stats[p.STAT_ALL_CELLS], 1.0)),
    }


class _DTWNeighbors(BaseEstimator):
    """Shared fit and neighbour search of the k-NN estimators."""

    _parameter_constraints = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "window": "no_validation",  # parsed by check_window in fit
        "weights": [StrOptions({"uniform", "distance"}), callable],
        "n_jobs": [Interval(Integral, None, None, closed="neither"), None],
        "lower_bounds": ["boolean"],
        "metric": [StrOptions({"dtw", *NON_DTW_METRICS})],
        "metric_params": [dict, None],
    }

    def __init__(
        self,
        n_neighbors: int = 1,
        window: WindowLike = None,
        weights: str | Callable[[np.ndarray], np.ndarray] = "uniform",
        n_jobs: int | None = None,
        lower_bounds: bool = True,
        metric: str = "dtw",
        metric_params: dict | None = None,
    ):
        self.n_neighbors = n_neighbors
        self.window = window
        self.weights = weights
        self.n_jobs = n_jobs
        self.lower_bounds = lower_bounds
        self.metric = metric
        self.metric_params = metric_params

    def _fit_collection(self, X, y):
        from ..distances._elastic import matrix_arguments
        from ..distances._lower_bounds import envelope_of
        from ..distances._variant_matrix import VARIANT_METRICS, check_variant_params

        check_estimator_params(self)
        if y is None:
            raise InvalidInputError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        self.window_ = band_window(self.window)
        sequences = check_collection(X, name="X")
        if len(sequences) != len(y):
            raise InvalidInputError(
                f"y has {len(y)} labels but X holds {len(sequences)} sequences; they must match"
            )
        self.n_channels_ = sequences[0].shape[1]
        self.n_samples_fit_ = len(sequences)
        if self.metric != "dtw":
            owner = type(self).__name__
            if self.metric in VARIANT_METRICS:
                check_variant_params(self.metric, self.metric_params, owner)
            else:
                matrix_arguments(
                    self.metric, self.metric_params, sequences[:1], sequences[:1], owner
                )
            self._train = (sequences,)
            return
        if self.metric_params:
            raise InvalidParameterError(
                f"The 'metric_params' parameter of {type(self).__name__} applies to the elastic "
                f"metrics; metric='dtw' takes window. Got {self.metric_params!r} instead."
            )
        envelopes = [envelope_of(s, self.window_, len(s)) for s in sequences]
        t_flat, t_off = pack(sequences)
        t_lower, _ = pack([lower for lower, _ in envelopes])
        t_upper, _ = pack([upper for _, upper in envelopes])
        self._train = (t_flat, t_off, t_lower, t_upper)

    def kneighbors(
        self,
        X: CollectionLike | None = None,
        n_neighbors: int | None = None,
        return_distance: bool = True,
        return_stats: bool = False,
    ) -> np.ndarray | tuple[Any, ...]:
        """Find the nearest training sequences of each sequence of ``X``.

        Parameters
        ----------
        X : list of array-like, or ndarray, default=None
            Query collection with ``n_channels_`` channels. ``None`` queries
            the training sequences, each excluding itself.
        n_neighbors : int, default=None
            Number of neighbours; ``None`` means ``self.n_neighbors``.
        return_distance : bool, default=True
            Also return the distances.
        return_stats : bool, default=False
            Also return the work done by this search (the estimator is not
            modified).

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors)
            DTW distances (square roots of the summed squared costs), or
            those of ``metric``, sorted; only when ``return_distance``.
        indices : ndarray of shape (n_queries, n_neighbors)
            Indices of the neighbours in the training collection; equal
            distances are ordered by index.
        stats : dict
            Only when ``return_stats``: ``"n_pairs"`` (query-training pairs
            searched), the fractions of pairs pruned by ``"lb_kim"``, by
            ``"lb_keogh"`` and abandoned part way by ``"early_abandon"``,
            and ``"cells"``: the DP cells computed (with the local costs of
            the diagonal-path upper bounds) as a fraction of the DP cells of
            a brute-force search (the elastic metrics prune nothing: 1.0).

        Examples
        --------
        >>> import numpy as np
        >>> from alignkit import KNeighborsDTWClassifier
        >>> X = [np.sin(np.linspace(0, 6, 30) + shift) for shift in (0.0, 1.0, 2.0, 3.0)]
        >>> clf = KNeighborsDTWClassifier().fit(X, [0, 0, 1, 1])
        >>> indices, stats = clf.kneighbors(X[:1], return_distance=False, return_stats=True)
        >>> indices.tolist(), stats["n_pairs"]
        ([[0]], 4)
        """
        check_is_fitted(self)
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        exclude_self = X is None
        available = self.n_samples_fit_ - exclude_self
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"n_neighbors must be an int >= 1, got {k!r}")
        if k > available:
            raise ValueError(
                f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {k}, "
                f"n_samples_fit = {self.n_samples_fit_}, n_samples = {available}"
            )
        queries = (
            None if exclude_self else check_collection(X, name="X", n_channels=self.n_channels_)
        )
        search = self._search_dtw if self.metric == "dtw" else self._search_elastic
        distances, indices, stats = search(queries, k + exclude_self)
        if exclude_self:
            distances, indices = _drop_self(distances, indices)
        out = (distances, indices) if return_distance else (indices,)
        if return_stats:
            out += (stats,)
        return out if len(out) > 1 else out[0]

    def _search_dtw(self, queries, k):
        """DTW distances, indices and stats of the ``k`` nearest (pruned search)."""
        q_flat, q_off = self._train[:2] if queries is None else pack(queries)
        squared, indices, stats = self._search(q_flat, q_off, k)
        if not np.isfinite(squared).all():
            # Every band holds a finite path: an empty slot means the squared cost overflowed.
            query = int(np.argwhere(~np.isfinite(squared))[0][0])
            raise InvalidInputError(
                f"the summed squared DTW costs from X[{query}] to the training sequences "
                "overflow float64 (values of magnitude around 1e154 or more); rescale the "
                "sequences, e.g. divide them by their largest absolute value"
            )
        return np.sqrt(squared), indices, stats

    def _search_elastic(self, queries, k):
        """Brute force under an elastic metric: every distance, in blocks of queries.

        A block holds about 2**22 distances (32 MiB), so memory stays bounded
        for any number of queries; a stable sort breaks ties by training index.
        """
        from ..distances._pairwise import _elastic_matrix

        (train,) = self._train
        queries = train if queries is None else queries
        step = max(1, 2**22 // len(train))
        distances, indices = [], []
        for start in range(0, len(queries), step):
            block = _elastic_matrix(
                queries[start : start + step], train, self.metric, self.window_,
                self.metric_params, False, "joblib", self.n_jobs, first_row=start,
            )  # fmt: skip
            order = np.argsort(block, axis=1, kind="stable")[:, :k]
            distances.append(np.take_along_axis(block, order, axis=1))
            indices.append(order)
        n_pairs = len(queries) * len(train)
        stats = {"n_pairs": n_pairs, "lb_kim": 0.0, "lb_keogh": 0.0, "early_abandon": 0.0}
        return np.concatenate(distances), np.concatenate(indices), {**stats, "cells": 1.0}

    def _search(self, q_flat, q_off, k):
        n_queries = len(q_off) - 1
        workers = min(effective_n_jobs(self.n_jobs), n_queries)
        edges = np.linspace(0, n_queries, max(workers, 1) + 1).astype(int)
        from ..kernels._numba._bounds import window_spec

        longest = max(int(np.diff(q_off).max()), int(np.diff(self._train[1]).max()))
        spec = window_spec(self.window_, longest, longest)
        args = (self._train, spec, k, bool(self.lower_bounds))
        chunks = [(q_flat, q_off[start : stop + 1]) for start, stop in zip(edges[:-1], edges[1:])]
        if workers <= 1:
            parts = [_search_chunk(*chunks[0], *args)]
        else:
            parts = Parallel(n_jobs=self.n_jobs)(
                delayed(_search_chunk)(flat, offsets, *args) for flat, offsets in chunks
            )
        stats = _stats_dict(np.sum([part[2] for part in parts], axis=0))
        squared = np.concatenate([part[0] for part in parts])
        return squared, np.concatenate([part[1] for part in parts]), stats

    def _neighbour_weights(self, X):
        distances, indices = self.kneighbors(X)
        return _weights(distances, self.weights), indices

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.three_d_array = True
        return tags


def _drop_self(squared, indices):
    """Remove each training query from its own neighbours (or the farthest one if absent)."""
    rows = np.arange(len(indices))
    is_self = indices == rows[:, None]
    is_self[~is_self.any(axis=1), -1] = True
    keep = ~is_self
    k = indices.shape[1] - 1
    return squared[keep].reshape(-1, k), indices[keep].reshape(-1, k)


class KNeighborsDTWClassifier(ClassifierMixin, _DTWNeighbors):
    """K-nearest-neighbour classifier under DTW, exact and pruned with lower bounds.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    {attributes}

    See Also
    --------
    KNeighborsDTWRegressor : The same search for regression.
    DTWDistances : DTW distances for scikit-learn's ``metric="precomputed"``.
    alignkit.distances.lb_keogh : The lower bound used for pruning.

    Notes
    -----
    {notes}

    References
    ----------
    .. [1] T. Rakthanmanon et al., "Searching and mining trillions of time
       series subsequences under dynamic time warping", KDD 2012.
    .. [2] D. F. Silva and G. E. A. P. A. Batista, "Speeding up all-pairwise
       dynamic time warping matrix calculation", SDM 2016 (PrunedDTW).

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit import KNeighborsDTWClassifier
    >>> X = [np.sin(np.linspace(0, 6, 30)), np.cos(np.linspace(0, 6, 30)),
    ...      np.sin(np.linspace(0.3, 6.3, 30))]
    >>> clf = KNeighborsDTWClassifier(window=3).fit(X, ["sin", "cos", "sin"])
    >>> clf.predict([np.cos(np.linspace(0.2, 6.2, 30))]).tolist()
    ['cos']
    """

    def fit(self, X: CollectionLike, y: ArrayLike) -> "KNeighborsDTWClassifier":
        """Store the validated training collection and its labels.

        Parameters
        ----------
        X : list of array-like, or ndarray
            Training sequences (see :func:`alignkit.validation.check_collection`).
        y : array-like of shape (n_sequences,)
            Class labels.

        Returns
        -------
        self : KNeighborsDTWClassifier
        """
        if y is not None:
            with _targets_error():
                y = column_or_1d(y, warn=True)
                check_classification_targets(y)
        self._fit_collection(X, y)
        self.classes_, self._y = np.unique(y, return_inverse=True)
        return self

    def predict_proba(self, X: CollectionLike) -> np.ndarray:
        """Class probabilities: the weighted share of each class among the neighbours.

        Parameters
        ----------
        X : list of array-like, or ndarray
            Query sequences with ``n_channels_`` channels.

        Returns
        -------
        proba : ndarray of shape (n_queries, n_classes)
            Columns follow ``classes_``.
        """
        weights, indices = self._neighbour_weights(X)
        proba = np.zeros((len(indices), len(self.classes_)))
        rows = np.repeat(np.arange(len(indices)), indices.shape[1])
        np.add.at(proba, (rows, self._y[indices].ravel()), weights.ravel())
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X: CollectionLike) -> np.ndarray:
        """Predict the class of every sequence (ties go to the smallest label).

        Parameters
        ----------
        X : list of array-like, or ndarray
            Query sequences with ``n_channels_`` channels.

        Returns
        -------
        y_pred : ndarray of shape (n_queries,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class KNeighborsDTWRegressor(RegressorMixin, _DTWNeighbors):
    """K-nearest-neighbour regressor under DTW, exact and pruned with lower bounds.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    KNeighborsDTWClassifier : The same search for classification.

    Notes
    -----
    The prediction is the (weighted) mean of the neighbours' targets.
    {notes}

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit import KNeighborsDTWRegressor
    >>> X = [np.sin(np.linspace(0, f, 40)) for f in (2.0, 4.0, 6.0, 8.0)]
    >>> reg = KNeighborsDTWRegressor(n_neighbors=2).fit(X, [2.0, 4.0, 6.0, 8.0])
    >>> float(reg.predict([np.sin(np.linspace(0, 4.5, 40))])[0])
    5.0
    """

    def fit(self, X: CollectionLike, y: ArrayLike) -> "KNeighborsDTWRegressor":
        """Store the validated training collection and its targets.

        Parameters
        ----------
        X : list of array-like, or ndarray
            Training sequences (see :func:`alignkit.validation.check_collection`).
        y : array-like of shape (n_sequences,) or (n_sequences, n_outputs)
            Targets.

        Returns
        -------
        self : KNeighborsDTWRegressor
        """
        if y is not None:
            with _targets_error():
                y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        self._fit_collection(X, y)
        self._y = y
        return self

    def predict(self, X: CollectionLike) -> np.ndarray:
        """Predict the target of every sequence.

        Parameters
        ----------
        X : list of array-like, or ndarray
            Query sequences with ``n_channels_`` channels.

        Returns
        -------
        y_pred : ndarray of shape (n_queries,) or (n_queries, n_outputs)
        """
        weights, indices = self._neighbour_weights(X)
        targets = self._y[indices]
        if targets.ndim == 3:
            weights = weights[:, :, None]
        return (weights * targets).sum(axis=1) / weights.sum(axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


for _estimator in (KNeighborsDTWClassifier, KNeighborsDTWRegressor):
    _estimator.__doc__ = (
        _estimator.__doc__.replace("    {parameters}", _PARAMETERS.strip("\n"))
        .replace("    {attributes}", _ATTRIBUTES.strip("\n"))
        .replace("    {notes}", _NOTES.strip("\n"))
    )


class DTWDistances(TransformerMixin, BaseEstimator):
    """DTW distances to the training sequences, as features.

    ``transform(X)`` returns the ``(n_sequences, n_train)`` matrix of DTW
    distances from each sequence of ``X`` to each training sequence: the
    input of scikit-learn estimators with ``metric="precomputed"`` (k-NN,
    DBSCAN, ...), in a Pipeline. With ``output="kernel"`` it returns the
    Gaussian DTW kernel ``exp(-d**2 / (2 * sigma**2))`` instead, for
    ``SVC(kernel="precomputed")`` and other kernel methods, which expect large
    values for similar sequences (a distance matrix given to them as a kernel
    is wrong without any error).

    Parameters
    ----------
    window : None, int, float or tuple, default=None
        Constraint on every warping path, as in :func:`alignkit.dtw`.
    squared : bool, default=False
        Summed squared costs instead of their square roots.
    n_jobs : int, default=None
        Number of joblib workers (see :func:`alignkit.pairwise_distances`).
    output : {"distance", "kernel"}, default="distance"
        What ``transform`` returns: DTW distances, or the Gaussian kernel of
        them. The Gaussian DTW kernel is not positive definite in general
        (DTW is not a Hilbertian metric): SVMs work with it in practice, and
        the global alignment kernel (Cuturi et al., 2007) is the positive
        definite alternative.
    sigma : float or "auto", default="auto"
        Bandwidth of the kernel (``output="kernel"``): ``"auto"`` takes the
        median, over the training sequences, of the DTW distance to the
        nearest other (distinct) training sequence, computed in ``fit``. On
        GunPoint, ArrowHead and ItalyPowerDemand an SVM on this kernel is
        within 0.02 of 1-NN's accuracy; the median of all distances is far too
        wide (0.70 against 0.93 on GunPoint).

    Attributes
    ----------
    window_ : Window
        The parsed window.
    sigma_ : float
        The bandwidth used (only with ``output="kernel"``).
    train_ : list of ndarray of shape (n_timepoints_i, n_channels)
        The validated training sequences.
    n_channels_ : int
        Number of channels seen in ``fit``.

    See Also
    --------
    alignkit.pairwise_distances : The function computing the matrix.
    KNeighborsDTWClassifier : k-NN with pruning, without the full matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from alignkit import DTWDistances
    >>> X = [np.sin(np.linspace(0, 6, 30)), np.cos(np.linspace(0, 6, 30))]
    >>> model = make_pipeline(DTWDistances(), KNeighborsClassifier(1, metric="precomputed"))
    >>> model.fit(X, ["sin", "cos"]).predict([np.cos(np.linspace(0.2, 6.2, 30))]).tolist()
    ['cos']

    The kernel output feeds an SVM:

    >>> from sklearn.svm import SVC
    >>> svm = make_pipeline(DTWDistances(output="kernel"), SVC(kernel="precomputed"))
    >>> svm.fit(X, ["sin", "cos"]).predict([np.cos(np.linspace(0.2, 6.2, 30))]).tolist()
    ['cos']
    """

    _parameter_constraints = {
        "window": "no_validation",  # parsed by check_window in fit
        "squared": ["boolean"],
        "n_jobs": [Interval(Integral, None, None, closed="neither"), None],
        "output": [StrOptions({"distance", "kernel"})],
        "sigma": [Interval(numbers.Real, 0, None, closed="neither"), StrOptions({"auto"})],
    }

    def __init__(
        self,
        window: WindowLike = None,
        squared: bool = False,
        n_jobs: int | None = None,
        output: str = "distance",
        sigma: float | str = "auto",
    ):
        self.window = window
        self.squared = squared
        self.n_jobs = n_jobs
        self.output = output
        self.sigma = sigma

    def fit(self, X: CollectionLike, y: None = None) -> "DTWDistances":
        """Store the validated training collection.

        Parameters
        ----------
        X : list of array-like, or ndarray
            Training sequences (see :func:`alignkit.validation.check_collection`).
        y : None
            Ignored; present for Pipeline compatibility.

        Returns
        -------
        self : DTWDistances
        """
        self._fit(X)
        return self

    def _fit(self, X):
        """Fit; return the training costs when the bandwidth needed them, else None."""
        check_estimator_params(self)
        if self.output == "kernel" and self.squared:
            raise InvalidParameterError(
                "The 'squared' parameter of DTWDistances must be False with output='kernel' "
                "(the kernel is of the distance itself). Got True instead."
            )
        if (
            self.output == "kernel"
            and isinstance(self.sigma, float)
            and not np.isfinite(self.sigma)
        ):
            raise InvalidParameterError(
                f"The 'sigma' parameter of DTWDistances must be finite. Got {self.sigma!r} instead."
            )
        self.window_ = band_window(self.window)
        self.train_ = check_collection(X, name="X")
        self.n_channels_ = self.train_[0].shape[1]
        costs = None
        if self.output == "kernel":
            if self.sigma == "auto":
                costs = pairwise_costs(self.train_, None, self.window_, n_jobs=self.n_jobs)
                # Each sequence's distance to its nearest distinct neighbour (duplicates and
                # the diagonal left out); with all sequences equal any bandwidth gives ones.
                distances = np.sqrt(np.where(costs > 0, costs, np.inf))
                nearest = distances.min(axis=1)
                nearest = nearest[np.isfinite(nearest)]
                self.sigma_ = float(np.median(nearest)) if nearest.size else 1.0
            else:
                self.sigma_ = float(self.sigma)
        return costs

    def _output(self, costs):
        if self.output == "kernel":
            return np.exp(-costs / (2.0 * self.sigma_**2))
        return costs if self.squared else np.sqrt(costs)

    def transform(self, X: CollectionLike) -> np.ndarray:
        """DTW distances (or the kernel) from every sequence of ``X`` to every training one.

        Parameters
        ----------
        X : list of array-like, or ndarray
            Sequences with ``n_channels_`` channels.

        Returns
        -------
        distances : ndarray of shape (n_sequences, n_train)
            DTW distances, or with ``output="kernel"`` the kernel values
            ``exp(-d**2 / (2 * sigma_**2))``.
        """
        check_is_fitted(self)
        sequences = check_collection(X, name="X", n_channels=self.n_channels_)
        costs = pairwise_costs(sequences, self.train_, self.window_, n_jobs=self.n_jobs)
        return self._output(costs)

    def fit_transform(self, X: CollectionLike, y: None = None) -> np.ndarray:
        """Fit, then the symmetric distances of the training set (its upper triangle only).

        Parameters
        ----------
        X : list of array-like, or ndarray
            Training sequences.
        y : None
            Ignored.

        Returns
        -------
        distances : ndarray of shape (n_train, n_train)
        """
        costs = self._fit(X)
        if costs is None:
            costs = pairwise_costs(self.train_, None, self.window_, n_jobs=self.n_jobs)
        return self._output(costs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = []
        return tags

"""Kernel k-means under the global alignment kernel (or any precomputed kernel).

The cluster means live in the kernel's feature space and are never formed:
the squared distance of a sequence ``x`` to the mean of cluster ``C`` is read
from the kernel matrix (Dhillon, Guan and Kulis 2004)::

    |phi(x) - m_C| ** 2 = K(x, x) - 2 / |C| sum_(c in C) K(x, c)
                          + 1 / |C| ** 2 sum_(c, c' in C) K(c, c')
"""

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted

from ..core.params import Integral, Interval, Real, StrOptions, check_estimator_params
from ..core.progress import progress_bar, progress_requested
from ..distances._gak import gak_matrix, sigma_heuristic
from ..distances._pairwise import band_window
from ..exceptions import InvalidInputError, NonNumericInputError
from ..validation import CollectionLike, WindowLike, check_collection

__all__ = ["KernelKMeans"]

# Squared feature-space distances at most this (relative to the largest
# self-kernel) are "the same point": rounding, not a real spread.
_SAME_POINT = 1e-12


def _cluster_sums(K, labels, n_clusters):
    """``(sums, counts)``: ``sums[i, j] = sum_(c in C_j) K[i, c]`` and the cluster sizes."""
    members = np.zeros((len(labels), n_clusters))
    members[np.arange(len(labels)), labels] = 1.0
    return K @ members, members.sum(axis=0)


def _cluster_terms(K, labels, n_clusters):
    """``(sums, counts, sq_norms)`` of a square kernel, ``sq_norms[j] = |m_j| ** 2``."""
    sums, counts = _cluster_sums(K, labels, n_clusters)
    within = np.bincount(labels, weights=sums[np.arange(len(labels)), labels], minlength=n_clusters)
    with np.errstate(divide="ignore", invalid="ignore"):
        sq_norms = within / counts**2
    return sums, counts, sq_norms


def _distances(sums, counts, sq_norms, self_kernels):
    """Squared feature-space distances to the cluster means; ``inf`` to an empty cluster."""
    with np.errstate(divide="ignore", invalid="ignore"):
        distances = self_kernels[:, None] - 2.0 * sums / counts + sq_norms
    distances[:, counts == 0] = np.inf
    return distances


def _fill_empty(labels, nearest, n_clusters, scale):
    """Move, into each empty cluster, the sequence farthest from its own cluster's mean.

    ``nearest`` holds each sequence's distance to the mean it is assigned to.
    Only sequences of clusters with more than one member move. If even the
    farthest coincides with its mean, every cluster holds copies of one
    point, so there are fewer distinct sequences than clusters.
    """
    counts = np.bincount(labels, minlength=n_clusters)
    nearest = nearest.copy()
    for empty in np.flatnonzero(counts == 0):
        movable = np.where(counts[labels] > 1, nearest, -np.inf)
        farthest = int(np.argmax(movable))
        if not movable[farthest] > _SAME_POINT * scale:
            raise InvalidInputError(
                f"X holds fewer distinct sequences (in the kernel's feature space) than "
                f"n_clusters={n_clusters}: the clusters cannot all be non-empty; use a smaller "
                "n_clusters"
            )
        counts[labels[farthest]] -= 1
        labels[farthest] = empty
        counts[empty] = 1
        nearest[farthest] = 0.0
    return labels


class KernelKMeans(ClusterMixin, BaseEstimator):
    """Kernel k-means of sequences under the global alignment kernel.

    Lloyd's iterations in the feature space of a kernel (Dhillon et al.
    2004): each sequence joins the cluster whose mean is nearest, the means
    follow, until no label changes, the inertia changes by less than
    ``tol``, or ``max_iter`` iterations. The means are never formed; every
    distance is read from the kernel matrix (``n_sequences ** 2`` entries,
    computed once).

    Parameters
    ----------
    n_clusters : int, default=2
        Number of clusters, at most the number of sequences.
    kernel : {"gak", "precomputed"}, default="gak"
        ``"gak"``: the normalised global alignment kernel of
        :func:`alignkit.distances.pairwise_gak` (positive definite without a
        window). ``"precomputed"``: ``X`` is a square, symmetric kernel
        matrix (positive semi-definite for the distances to be Euclidean),
        and ``predict`` takes the kernel between new samples and the
        training samples.
    sigma : float or "auto", default=1.0
        Bandwidth of the kernel (``> 0``); ``"auto"`` is
        :func:`alignkit.distances.sigma_gak` of the training collection,
        drawn from ``random_state``. Ignored with ``kernel="precomputed"``.
    window : None, int, float or tuple, default=None
        Constraint on the alignments of the kernel, as in
        :func:`alignkit.distances.pairwise_gak`. A window may make the kernel
        indefinite (see there).
    max_iter : int, default=50
        Maximum number of iterations of one run.
    tol : float, default=1e-6
        A run stops when its inertia changes by less than ``tol`` between two
        iterations (or when no label changes).
    n_init : int, default=1
        Number of runs from random labellings; the run of lowest inertia is
        kept.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial labellings (and of ``sigma="auto"``).
    n_jobs : int, default=None
        Number of joblib threads computing the kernel. ``None`` means 1
        unless inside :func:`joblib.parallel_config`; ``-1`` means all cores.
    verbose : int, default=0
        When positive, show progress bars on standard error: the pairs of the
        kernel matrix, then the iterations of ``fit`` (at most ``n_init *
        max_iter``; the time left assumes ``max_iter`` iterations for every run
        still to come) with the run and the current inertia.
        ``alignkit.set_config(progress=True)`` shows them for every call.

    Attributes
    ----------
    labels_ : ndarray of int64 of shape (n_sequences,)
        The cluster of every training sequence.
    inertia_ : float
        Sum of the squared feature-space distances of the training sequences
        to the means of their clusters.
    n_iter_ : int
        Iterations of the kept run.
    sigma_ : float or None
        The bandwidth used (``None`` with ``kernel="precomputed"``).
    window_ : Window
        The parsed window.
    cluster_sq_norms_ : ndarray of shape (n_clusters,)
        Squared feature-space norm of every cluster mean, for ``predict``.
    train_ : list of ndarray or None
        The training sequences (``None`` with ``kernel="precomputed"``).
    n_channels_ : int or None
        Number of channels of the training sequences.
    n_samples_fit_ : int
        Number of training samples.
    n_features_in_ : int
        With ``kernel="precomputed"`` only: the number of columns of the
        kernel, ``n_samples_fit_`` (sequences have no fixed number of features).

    See Also
    --------
    alignkit.distances.pairwise_gak : The kernel matrix.
    alignkit.distances.sigma_gak : The bandwidth of ``sigma="auto"``.

    Notes
    -----
    The first labelling of every run is drawn as tslearn's
    ``KernelKMeans`` draws it (``randint(n_clusters, size=n_sequences)`` of a
    ``RandomState``, after the ``sigma="auto"`` draws), so with the same seed
    both start alike. The iterations differ: tslearn's distance to a cluster
    is ``2 - 2 * mean_(c in C) K(x, c)``, which leaves out the squared norm
    of the cluster mean (it is 1 only when the members coincide), so its
    assignment step is not kernel k-means'. Over a whole partition the
    norms cancel (``sum_(x in C) mean_(c in C) K(x, c) = |C| * |m_C| ** 2``),
    so at a partition both stop at, tslearn's inertia is twice this one.

    An empty cluster (from the random first labelling or an iteration)
    receives the sequence farthest from its cluster's mean, taken from a
    cluster of several members; tslearn instead restarts the run. Fewer
    distinct sequences than clusters is refused.

    References
    ----------
    .. [1] I. S. Dhillon, Y. Guan and B. Kulis, "Kernel k-means, spectral
       clustering and normalized cuts", KDD 2004.
    .. [2] M. Cuturi, "Fast global alignment kernels", ICML 2011.

    Examples
    --------
    >>> from alignkit.datasets import make_warped_collection
    >>> from alignkit import KernelKMeans
    >>> from sklearn.metrics import adjusted_rand_score
    >>> X, y = make_warped_collection(n_sequences=20, n_timepoints=(30, 40), random_state=0)
    >>> model = KernelKMeans(n_clusters=2, sigma="auto", random_state=0).fit(X)
    >>> adjusted_rand_score(y, model.labels_)
    1.0
    """

    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "kernel": [StrOptions({"gak", "precomputed"})],
        "sigma": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "window": "no_validation",  # parsed by band_window in fit
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Interval(Integral, None, None, closed="neither"), None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_clusters: int = 2,
        kernel: str = "gak",
        sigma: float | str = 1.0,
        window: WindowLike = None,
        max_iter: int = 50,
        tol: float = 1e-6,
        n_init: int = 1,
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
        verbose: int = 0,
    ):
        self.n_clusters = n_clusters
        self.kernel = kernel
        self.sigma = sigma
        self.window = window
        self.max_iter = max_iter
        self.tol = tol
        self.n_init = n_init
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def fit(self, X: CollectionLike | ArrayLike, y: None = None) -> "KernelKMeans":
        """Cluster the training sequences (or the samples of a precomputed kernel).

        Parameters
        ----------
        X : list of array-like, or ndarray
            The sequences (see :func:`alignkit.validation.check_collection`),
            or with ``kernel="precomputed"`` a square symmetric kernel matrix
            of shape ``(n_samples, n_samples)``.
        y : None
            Ignored; present for Pipeline compatibility.

        Returns
        -------
        self : KernelKMeans

        Raises
        ------
        InvalidInputError
            If ``X`` is invalid (an invalid sequence, a kernel matrix that is
            not square, not finite or not symmetric), ``n_clusters`` exceeds
            the number of samples, or ``X`` has fewer distinct samples than
            ``n_clusters``.
        """
        check_estimator_params(self)
        self.window_ = band_window(self.window)
        rng = check_random_state(self.random_state)
        K = self._fit_kernel(X, rng)
        n_samples = len(K)
        if self.n_clusters > n_samples:
            raise InvalidInputError(
                f"n_clusters={self.n_clusters} is larger than the number of samples in X "
                f"({n_samples}); use n_clusters <= {n_samples}"
            )
        self_kernels = np.diag(K).copy()
        best = None
        verbose = progress_requested(self.verbose)
        total = self.n_init * self.max_iter
        every = max(self.max_iter // 10, 1)  # a log line every tenth of one run at most
        with progress_bar(total, "KernelKMeans", verbose, unit="iterations", every=every) as bar:
            for run in range(self.n_init):
                labels = rng.randint(self.n_clusters, size=n_samples).astype(np.int64)
                result = self._run(K, self_kernels, labels, run, bar)
                bar.set_total(bar.total - (self.max_iter - result[2]))  # converged early
                if best is None or result[1] < best[1]:
                    best = result
        self.labels_, self.inertia_, self.n_iter_ = best
        _, _, self.cluster_sq_norms_ = _cluster_terms(K, self.labels_, self.n_clusters)
        self.n_samples_fit_ = n_samples
        return self

    def _fit_kernel(self, X, rng):
        """The training kernel matrix; sets ``train_``, ``n_channels_`` and ``sigma_``."""
        if self.kernel == "precomputed":
            self.train_, self.n_channels_, self.sigma_ = None, None, None
            K = _check_kernel_matrix(X)
            self.n_features_in_ = len(K)
            return K
        self.train_ = check_collection(X, name="X")
        self.n_channels_ = self.train_[0].shape[1]
        if self.sigma == "auto":
            self.sigma_ = sigma_heuristic(self.train_, 100, rng)
            if not self.sigma_ > 0:
                raise InvalidInputError(
                    "sigma='auto' found a bandwidth of 0: the timepoints drawn from X are "
                    "mostly identical; give sigma a value"
                )
        else:
            self.sigma_ = float(self.sigma)
        verbose = progress_requested(self.verbose)
        return gak_matrix(self.train_, None, self.sigma_, self.window_, True, self.n_jobs, verbose)

    def _run(self, K, self_kernels, labels, run, bar):
        """One run of Lloyd's iterations from ``labels``: ``(labels, inertia, n_iter)``.

        ``bar`` counts every iteration, with the run, the iteration and the inertia.
        """
        scale = max(float(self_kernels.max()), 1.0)
        terms = _cluster_terms(K, labels, self.n_clusters)
        distances = _distances(*terms, self_kernels)
        if np.any(terms[1] == 0):
            nearest = distances.min(axis=1)
            labels = _fill_empty(labels, nearest, self.n_clusters, scale)
            terms = _cluster_terms(K, labels, self.n_clusters)
            distances = _distances(*terms, self_kernels)
        rows = np.arange(len(labels))
        inertia = float(distances[rows, labels].sum())
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):
            new_labels = distances.argmin(axis=1)
            new_labels = _fill_empty(
                new_labels, distances[rows, new_labels], self.n_clusters, scale
            )
            converged = np.array_equal(new_labels, labels)
            if not converged:
                labels = new_labels
                distances = _distances(*_cluster_terms(K, labels, self.n_clusters), self_kernels)
                previous, inertia = inertia, float(distances[rows, labels].sum())
                converged = abs(previous - inertia) < self.tol
            bar.update(1, run=f"{run + 1}/{self.n_init}", iteration=n_iter, inertia=inertia)
            if converged:
                break
        return labels, inertia, n_iter

    def predict(self, X: CollectionLike | ArrayLike) -> np.ndarray:
        """The cluster whose mean is nearest to every sequence of ``X``.

        Parameters
        ----------
        X : list of array-like, or ndarray
            Sequences with ``n_channels_`` channels, or with
            ``kernel="precomputed"`` the kernel between the new samples and
            the training samples, of shape ``(n_queries, n_samples_fit_)``.

        Returns
        -------
        labels : ndarray of int64 of shape (n_sequences,)
        """
        check_is_fitted(self)
        if self.kernel == "precomputed":
            K = _check_kernel_rows(X, self.n_samples_fit_)
        else:
            sequences = check_collection(X, name="X", n_channels=self.n_channels_)
            K = gak_matrix(
                sequences,
                self.train_,
                self.sigma_,
                self.window_,
                True,
                self.n_jobs,
                progress_requested(self.verbose),
                names=("X", "train_"),
            )
        sums, counts = _cluster_sums(K, self.labels_, self.n_clusters)
        # K(x, x) is the same for every cluster: it does not change the nearest one.
        distances = _distances(sums, counts, self.cluster_sq_norms_, np.zeros(len(K)))
        return distances.argmin(axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.three_d_array = self.kernel != "precomputed"
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags


def _kernel_array(X, what):
    """``X`` as a finite 2-D float64 array (scikit-learn's checks and wording), or an error."""
    try:
        return check_array(X, dtype=np.float64, ensure_min_samples=1, ensure_min_features=1)
    except TypeError as exc:
        raise NonNumericInputError(f"X must be {what}: {exc}") from None
    except ValueError as exc:
        raise InvalidInputError(f"X must be {what}: {exc}") from None


def _check_kernel_matrix(X):
    """A precomputed training kernel: square, finite and symmetric."""
    K = _kernel_array(X, "a square kernel matrix (n_samples, n_samples) with kernel='precomputed'")
    if K.shape[0] != K.shape[1] or K.shape[0] == 0:
        raise InvalidInputError(
            f"X must be a square kernel matrix with kernel='precomputed', got shape {K.shape}"
        )
    tolerance = 1e-10 * max(float(np.abs(K).max()), 1e-300)
    asymmetric = np.abs(K - K.T) > tolerance
    if asymmetric.any():
        i, j = np.argwhere(asymmetric)[0]
        raise InvalidInputError(
            f"X must be a symmetric kernel matrix with kernel='precomputed': X[{i}, {j}] = "
            f"{float(K[i, j])!r} but X[{j}, {i}] = {float(K[j, i])!r}"
        )
    return K


def _check_kernel_rows(X, n_samples_fit):
    """A precomputed kernel between new samples and the ``n_samples_fit`` training samples."""
    K = _kernel_array(X, f"a kernel matrix (n_queries, {n_samples_fit}) with kernel='precomputed'")
    if K.shape[1] != n_samples_fit:
        raise InvalidInputError(
            f"X has {K.shape[1]} features, but KernelKMeans is expecting {n_samples_fit} "
            "features as input: with kernel='precomputed', X holds one column per training "
            "sample"
        )
    return K

"""Kernel k-means against tslearn, against Lloyd's k-means on an explicit feature map, and on truth.

Truths: tslearn's ``KernelKMeans(kernel="gak")`` with the same seeds (the same
first labelling; tslearn's inertia is twice the kernel k-means objective at a
partition both stop at, see the Notes of KernelKMeans); scikit-learn's Lloyd
``KMeans`` on an explicit feature map of the kernel (``K = F F^T`` from its
eigendecomposition), started from the means of the same first labelling; the
classes of ``make_warped_collection``; brute force over every partition of a
tiny set.
"""

import itertools
import re
import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from alignkit.datasets import make_warped_collection
from alignkit.distances._gak import pairwise_gak, sigma_gak
from alignkit.estimators._clustering_kernel import KernelKMeans
from alignkit.exceptions import InvalidInputError, InvalidParameterError

_DATA_MODEL = {
    "check_n_features_in": (
        "no n_features_in_ under the GAK kernel: a 2-D X holds univariate sequences whose "
        "number of timepoints (its columns) may change between fit and predict"
    ),
    "check_n_features_in_after_fitting": (
        "no n_features_in_, and predict accepts another number of columns (timepoints) than "
        "fit saw, by design"
    ),
    "check_estimators_empty_data_messages": (
        "a (12, 0) array is 12 empty univariate sequences; the InvalidInputError (a "
        "ValueError) names the empty sequence instead of scikit-learn's '0 feature(s)' wording"
    ),
}
_PRECOMPUTED = {
    "check_clustering": (
        "with kernel='precomputed' X is a square kernel matrix; the check fits a (50, 2) "
        "feature array, refused as not square"
    ),
}


def _expected_failures(estimator):
    return _PRECOMPUTED if estimator.kernel == "precomputed" else _DATA_MODEL


@parametrize_with_checks(
    [KernelKMeans(), KernelKMeans(sigma="auto", window=1), KernelKMeans(kernel="precomputed")],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def three_classes():
    return make_warped_collection(
        n_sequences=24, n_timepoints=(30, 45), n_classes=3, noise=0.05, random_state=2
    )


def _tslearn_fit(X, sigma, seed, n_init=1):
    clustering = pytest.importorskip("tslearn.clustering")
    from tslearn.utils import to_time_series_dataset

    model = clustering.KernelKMeans(
        n_clusters=3, kernel="gak", kernel_params={"sigma": sigma}, random_state=seed, n_init=n_init
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(to_time_series_dataset(X))


# Seeds from which both reach the same partition (from seed 1 this one stops at a
# local minimum of the kernel k-means objective that tslearn's rule steps over).
@pytest.mark.parametrize(("sigma", "seed"), [(2.0, 0), (2.0, 3), (2.0, 5), ("auto", 3)])
def test_same_seeds_give_tslearns_partition_and_half_its_inertia(three_classes, sigma, seed):
    X, _ = three_classes
    theirs = _tslearn_fit(X, sigma, seed)
    ours = KernelKMeans(n_clusters=3, sigma=sigma, random_state=seed).fit(X)
    if sigma == "auto":
        assert ours.sigma_ == pytest.approx(theirs.sigma_gak_, rel=1e-12)
    assert adjusted_rand_score(theirs.labels_, ours.labels_) == 1.0
    np.testing.assert_allclose(ours.inertia_, theirs.inertia_ / 2, rtol=1e-9)


def _feature_map(K):
    values, vectors = np.linalg.eigh(K)
    return vectors * np.sqrt(np.clip(values, 0, None))


@pytest.mark.parametrize("seed", range(10, 16))
def test_iterations_are_lloyds_on_an_explicit_feature_map(three_classes, seed):
    X, _ = three_classes
    K = pairwise_gak(X, sigma=1.0)
    features = _feature_map(K)
    first = np.random.RandomState(seed).randint(3, size=len(X))
    assert len(np.unique(first)) == 3  # no empty cluster to re-seed: Lloyd's alone
    means = np.stack([features[first == j].mean(axis=0) for j in range(3)])
    lloyd = KMeans(3, init=means, n_init=1, tol=0, max_iter=100, algorithm="lloyd").fit(features)
    for model in (
        KernelKMeans(n_clusters=3, sigma=1.0, tol=0, max_iter=100, random_state=seed).fit(X),
        KernelKMeans(3, kernel="precomputed", tol=0, max_iter=100, random_state=seed).fit(K),
    ):
        np.testing.assert_array_equal(model.labels_, lloyd.labels_)
        np.testing.assert_allclose(model.inertia_, lloyd.inertia_, rtol=1e-9)
        assert model.n_iter_ == lloyd.n_iter_
        np.testing.assert_array_equal(model.predict(X if model.train_ else K), model.labels_)


def test_well_separated_classes_are_found():
    X, y = make_warped_collection(
        n_sequences=40, n_timepoints=(40, 60), n_classes=3, noise=0.05, random_state=4
    )
    for sigma in (1.0, "auto"):
        model = KernelKMeans(n_clusters=3, sigma=sigma, n_init=10, random_state=0).fit(X)
        assert adjusted_rand_score(y, model.labels_) >= 0.9
    windowed = KernelKMeans(n_clusters=3, window=0.2, n_init=10, random_state=0).fit(X)
    assert adjusted_rand_score(y, windowed.labels_) >= 0.9
    fresh, labels = make_warped_collection(
        n_sequences=20, n_timepoints=(40, 60), n_classes=3, noise=0.05, random_state=4
    )
    assert adjusted_rand_score(labels, model.predict(fresh)) >= 0.9


def _best_partition_inertia(K, n_clusters):
    """The smallest kernel k-means objective over every labelling with no empty cluster."""
    best = np.inf
    for labels in itertools.product(range(n_clusters), repeat=len(K)):
        labels = np.array(labels)
        if len(np.unique(labels)) < n_clusters:
            continue
        total = sum(
            np.trace(K[np.ix_(labels == j, labels == j)])
            - K[np.ix_(labels == j, labels == j)].sum() / np.sum(labels == j)
            for j in range(n_clusters)
        )
        best = min(best, total)
    return best


def test_empty_clusters_are_reseeded_from_the_farthest_sequence():
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(c, 0.05, size=(2, 2)) for c in (0.0, 3.0, 6.0)])
    K = np.exp(-((points[:, None] - points[None]) ** 2).sum(-1) / 2)
    # Seeds whose first labelling of 6 points into 3 clusters leaves one empty.
    seeds = [
        s for s in range(50) if len(np.unique(np.random.RandomState(s).randint(3, size=6))) < 3
    ]
    assert seeds
    best = _best_partition_inertia(K, 3)
    for seed in seeds[:5]:
        model = KernelKMeans(3, kernel="precomputed", random_state=seed).fit(K)
        assert np.bincount(model.labels_, minlength=3).min() >= 1
        np.testing.assert_allclose(model.inertia_, best, rtol=1e-9)


def test_n_jobs_and_precomputed_give_the_same_clustering(three_classes):
    X, _ = three_classes
    serial = KernelKMeans(n_clusters=3, window=3, random_state=1).fit(X)
    threads = KernelKMeans(n_clusters=3, window=3, random_state=1, n_jobs=2).fit(X)
    np.testing.assert_array_equal(threads.labels_, serial.labels_)
    assert threads.inertia_ == serial.inertia_
    K = pairwise_gak(X, window=3)
    precomputed = KernelKMeans(n_clusters=3, kernel="precomputed", random_state=1).fit(K)
    np.testing.assert_array_equal(precomputed.labels_, serial.labels_)
    fresh = [x[::2] for x in X[:5]]
    K_fresh = pairwise_gak(fresh, X, window=3)
    np.testing.assert_array_equal(precomputed.predict(K_fresh), serial.predict(fresh))


def test_sigma_auto_is_sigma_gak_of_the_training_set(three_classes):
    X, _ = three_classes
    model = KernelKMeans(n_clusters=3, sigma="auto", random_state=7).fit(X)
    assert model.sigma_ == sigma_gak(X, random_state=7)


def test_verbose_prints_the_inertia(three_classes, capsys):
    X, _ = three_classes
    model = KernelKMeans(n_clusters=3, max_iter=10, verbose=1, random_state=0).fit(X)
    captured = capsys.readouterr()
    n = len(X)
    lines = captured.err.splitlines()
    kernel = [line for line in lines if line.startswith("pairwise GAK ")]
    assert kernel[-1].startswith(f"pairwise GAK {n * (n + 1) // 2}/{n * (n + 1) // 2} pairs 100%")
    # max_iter=10: a line every iteration, then the closing one if the run stopped early.
    fit = [line for line in lines if line.startswith("KernelKMeans ")]
    iterations = [int(re.search(r"iteration=(\d+)", line).group(1)) for line in fit]
    every = list(range(1, model.n_iter_ + 1))
    assert iterations == (every if model.n_iter_ == 10 else every + [model.n_iter_])
    assert fit[-1].startswith(f"KernelKMeans {model.n_iter_}/{model.n_iter_} iterations 100%")
    assert fit[-1].endswith(f"inertia={model.inertia_:.6g}") and captured.out == ""
    KernelKMeans(n_clusters=3, random_state=0).fit(X)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("model", "X", "error", "message"),
    [
        (KernelKMeans(n_clusters=5), [[1.0, 2.0]] * 4, InvalidInputError, "n_clusters=5 .* 4"),
        (KernelKMeans(n_clusters=2), [[1.0, 2.0, 3.0]] * 6, InvalidInputError, "n_clusters=2"),
        (KernelKMeans(sigma=-1.0), [[1.0], [2.0]], InvalidParameterError, "'sigma'"),
        (KernelKMeans(sigma=np.nan), [[1.0], [2.0]], InvalidParameterError, "'sigma'"),
        (KernelKMeans(), [[1.0, np.nan], [2.0]], InvalidInputError, r"X\[0\].*NaN"),
        (KernelKMeans(kernel="precomputed"), np.ones((3, 2)), InvalidInputError, "X .*square"),
        (
            KernelKMeans(kernel="precomputed"),
            np.array([[1.0, 0.5], [0.4, 1.0]]),
            InvalidInputError,
            r"X must be a symmetric .*X\[0, 1\] = 0.5 but X\[1, 0\] = 0.4",
        ),
        (KernelKMeans(kernel="precomputed"), np.eye(2) * np.nan, InvalidInputError, "X .*NaN"),
        (KernelKMeans(n_init=0), [[1.0], [2.0]], InvalidParameterError, "'n_init'"),
    ],
)
def test_bad_input_is_refused_with_its_name(model, X, error, message):
    with pytest.raises(error, match=message):
        model.fit(X)


def test_predict_refuses_a_kernel_of_the_wrong_width():
    model = KernelKMeans(kernel="precomputed", random_state=0).fit(np.eye(3))
    with pytest.raises(
        InvalidInputError, match="X has 2 features, but KernelKMeans is expecting 3"
    ):
        model.predict(np.ones((1, 2)))

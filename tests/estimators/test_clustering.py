"""Clustering under DTW: k-means against tslearn, k-medoids against brute force and aeon.

Truths: tslearn's ``TimeSeriesKMeans`` started from the same centres (labels
and inertia under DTW), brute-force DTW (``tests/_reference.py``) for the
assignment step, every choice of ``k`` medoids for PAM, aeon's
``TimeSeriesKMedoids`` cost, a silhouette written from its definition, and
the known classes of ``make_warped_collection``.
"""

import itertools
import re
import warnings

import numpy as np
import pytest
from _reference import reference_dtw
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics import silhouette_score as sklearn_silhouette
from sklearn.utils.estimator_checks import parametrize_with_checks

from alignkit.datasets import make_warped_collection
from alignkit.distances import pairwise_distances
from alignkit.estimators._clustering import (
    TimeSeriesKMeans,
    TimeSeriesKMedoids,
    silhouette_score,
)
from alignkit.exceptions import InvalidInputError, InvalidParameterError


def _dtw_cost(a, b):
    return reference_dtw(a, b)[-1, -1]


@pytest.fixture(scope="module")
def classes():
    """Three well-separated classes of warped templates, equal lengths."""
    X, y = make_warped_collection(
        n_sequences=30, n_timepoints=32, n_classes=3, noise=0.3, random_state=0
    )
    return np.stack(X), y


@pytest.fixture(scope="module")
def tslearn_kmeans():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tslearn's h5py notice
        from tslearn.clustering import TimeSeriesKMeans as TslearnKMeans
    return TslearnKMeans


def _initial(X, k, seed):
    return X[np.random.RandomState(seed).choice(len(X), k, replace=False)].copy()


@pytest.mark.parametrize("seed", [1, 2])
def test_dtw_kmeans_equals_tslearn_from_the_same_centres(classes, tslearn_kmeans, seed):
    X, _ = classes
    init = _initial(X, 3, seed)
    theirs = tslearn_kmeans(n_clusters=3, metric="dtw", max_iter=20, init=init.copy()).fit(X)
    ours = TimeSeriesKMeans(n_clusters=3, max_iter=20, init=init, max_iter_barycenter=30).fit(X)
    assert adjusted_rand_score(theirs.labels_, ours.labels_) == 1.0
    # tslearn's inertia is the mean over the sequences, ours the sum (scikit-learn's).
    assert ours.inertia_ / len(X) == pytest.approx(theirs.inertia_, rel=1e-6)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, atol=1e-9)


def test_softdtw_kmeans_labels_equal_tslearn_and_find_the_classes(classes, tslearn_kmeans):
    X, y = classes
    init = _initial(X, 3, 1)
    theirs = tslearn_kmeans(
        n_clusters=3, metric="softdtw", max_iter=20, init=init.copy(), max_iter_barycenter=30
    ).fit(X)
    ours = TimeSeriesKMeans(
        n_clusters=3, metric="softdtw", max_iter=20, init=init, max_iter_barycenter=30
    ).fit(X)
    assert adjusted_rand_score(theirs.labels_, ours.labels_) == 1.0
    assert adjusted_rand_score(y, ours.labels_) >= 0.9
    # Our inertia is the summed soft-DTW value to the centre (the barycenter objective);
    # tslearn squares those values. The L-BFGS-B runs differ in the last digits only.
    # The assignment reuses the values the barycenter's objective measured (members to
    # their own centre): the labels and inertia are those of the full soft-DTW matrix.
    matrix = ours.transform(X)
    np.testing.assert_array_equal(ours.labels_, matrix.argmin(axis=1))
    values = matrix[np.arange(len(X)), ours.labels_]
    assert ours.inertia_ == pytest.approx(values.sum(), rel=1e-12)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, atol=0.05)


def test_assignment_is_exact_and_skips_dtws_on_variable_lengths():
    X, y = make_warped_collection(
        n_sequences=24, n_timepoints=(20, 30), n_classes=2, noise=0.1, random_state=3
    )
    km = TimeSeriesKMeans(n_clusters=2, init="k-means++", random_state=0).fit(X)
    assert isinstance(km.cluster_centers_, list | np.ndarray)
    brute = np.array([[_dtw_cost(x, c) for c in km.cluster_centers_] for x in X])
    np.testing.assert_array_equal(km.labels_, np.argmin(brute, axis=1))
    assert km.inertia_ == pytest.approx(brute.min(axis=1).sum(), rel=1e-9)
    np.testing.assert_allclose(km.transform(X), np.sqrt(brute), rtol=1e-9)
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    assert adjusted_rand_score(y, km.labels_) >= 0.9
    assert 0 < km.n_dtw_skipped_ < km.n_dtw_pairs_


def test_lb_keogh_skips_dtws_with_a_window(classes):
    X, y = classes
    km = TimeSeriesKMeans(n_clusters=3, window=4, random_state=0).fit(X)
    brute = pairwise_distances(X, list(km.cluster_centers_), window=4, squared=True)
    np.testing.assert_array_equal(km.labels_, np.argmin(brute, axis=1))
    assert km.inertia_ == pytest.approx(brute.min(axis=1).sum(), rel=1e-9)
    assert km.n_dtw_skipped_ > 0.3 * km.n_dtw_pairs_
    assert adjusted_rand_score(y, km.labels_) >= 0.9


def test_inertia_never_increases_and_n_init_keeps_the_best(classes):
    X, _ = classes
    runs = [
        TimeSeriesKMeans(n_clusters=4, init="random", max_iter=1 + i, random_state=5).fit(X)
        for i in range(4)
    ]
    inertias = [run.inertia_ for run in runs]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(inertias, inertias[1:]))
    single = [
        TimeSeriesKMeans(n_clusters=4, init="random", random_state=s).fit(X).inertia_
        for s in range(3)
    ]
    best = TimeSeriesKMeans(n_clusters=4, init="random", n_init=3, random_state=0).fit(X)
    assert best.inertia_ <= max(single)
    again = clone(best).fit(X)
    np.testing.assert_array_equal(again.labels_, best.labels_)


def test_verbose_shows_the_iterations_and_their_inertia(classes, capsys):
    X, _ = classes
    params = dict(n_clusters=4, init="random", max_iter=10, random_state=5)
    model = TimeSeriesKMeans(verbose=1, **params).fit(X)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert captured.out == "" and all(line.startswith("TimeSeriesKMeans ") for line in lines)
    # max_iter=10: a line every iteration; iteration k shows the inertia of a fit of k.
    shown = dict(re.findall(r"iteration=(\d+) inertia=(\S+)", captured.err))
    assert sorted(map(int, shown)) == list(range(1, model.n_iter_ + 1))
    for k in range(1, min(model.n_iter_, 3) + 1):
        expected = TimeSeriesKMeans(**{**params, "max_iter": k}).fit(X).inertia_
        assert shown[str(k)] == f"{expected:.6g}"
    assert lines[-1].startswith(f"TimeSeriesKMeans {model.n_iter_}/{model.n_iter_} iterations")
    assert lines[-1].endswith(f"best={model.inertia_:.6g}")
    # n_init runs: the closing line counts them all and shows the best inertia kept.
    best = TimeSeriesKMeans(verbose=1, **{**params, "n_init": 2}).fit(X)
    closing = capsys.readouterr().err.splitlines()[-1]
    assert "run=2/2" in closing and closing.endswith(f"best={best.inertia_:.6g}")
    TimeSeriesKMeans(**params).fit(X)
    assert capsys.readouterr().err == ""


def test_empty_cluster_is_reseeded_from_the_farthest_sequence():
    X = np.array([[0.0, 0.0, 0.0], [0.1, 0.0, 0.0], [5.0, 5.0, 5.0], [5.0, 5.1, 5.0]])
    # Two centres far from everything: one takes all, the other is empty and reseeded.
    init = np.array([[2.0, 2.0, 2.0], [100.0, 100.0, 100.0]])
    km = TimeSeriesKMeans(n_clusters=2, init=init, max_iter=5).fit(X)
    assert sorted(np.bincount(km.labels_).tolist()) == [2, 2]
    assert km.labels_[0] == km.labels_[1] != km.labels_[2] == km.labels_[3]


def _brute_force_medoids(D, k):
    return min(D[:, list(c)].min(axis=1).sum() for c in itertools.combinations(range(len(D)), k))


@pytest.mark.parametrize("seed", range(4))
def test_pam_reaches_the_optimum_and_alternate_improves_its_init(seed):
    X, _ = make_warped_collection(
        n_sequences=10, n_timepoints=(10, 14), n_classes=3, noise=0.5, random_state=seed
    )
    D = pairwise_distances(X)
    optimum = _brute_force_medoids(D, 3)
    pam = TimeSeriesKMedoids(n_clusters=3, method="pam", init="random", random_state=seed)
    pam.fit(X)
    assert pam.inertia_ == pytest.approx(optimum, rel=1e-12)
    assert pam.inertia_ == pytest.approx(D[:, pam.medoid_indices_].min(axis=1).sum())
    alt = TimeSeriesKMedoids(n_clusters=3, init="random", max_iter=1, random_state=seed)
    start = alt.fit(X).inertia_  # one alternation from the random medoids
    full = clone(alt).set_params(max_iter=300).fit(X)
    assert optimum - 1e-9 <= full.inertia_ <= start + 1e-9
    precomputed = TimeSeriesKMedoids(n_clusters=3, metric="precomputed", method="pam")
    precomputed.set_params(init="random", random_state=seed).fit(D)
    np.testing.assert_array_equal(precomputed.medoid_indices_, pam.medoid_indices_)
    assert precomputed.cluster_centers_ is None
    np.testing.assert_array_equal(pam.predict(X), pam.labels_)


def test_kmedoids_n_init_keeps_the_best_run_and_reaches_the_optimum():
    X, _ = make_warped_collection(
        n_sequences=12, n_timepoints=(10, 14), n_classes=3, noise=0.5, random_state=3
    )
    D = pairwise_distances(X)
    optimum = _brute_force_medoids(D, 3)
    runs = []
    for seed in range(6):  # single random runs of the alternating search: some stop early
        single = TimeSeriesKMedoids(n_clusters=3, init="random", random_state=seed).fit(X)
        runs.append(single.inertia_)
        many = clone(single).set_params(n_init=30).fit(X)
        # The first run of n_init=30 is the single run (same seed): the best is no worse.
        assert many.inertia_ <= single.inertia_ + 1e-12
        assert many.inertia_ == pytest.approx(optimum, rel=1e-12)
        assert many.inertia_ == pytest.approx(
            D[np.arange(12), many.medoid_indices_[many.labels_]].sum()
        )
    assert max(runs) > optimum * (1 + 1e-9), "the data should trap some single runs"


def test_kmedoids_verbose_shows_the_matrix_and_the_runs(capsys):
    X, _ = make_warped_collection(n_sequences=9, n_timepoints=(10, 14), random_state=0)
    model = TimeSeriesKMedoids(n_clusters=2, n_init=3, random_state=0, verbose=1).fit(X)
    lines = capsys.readouterr().err.splitlines()
    assert any(line.startswith("pairwise DTW 36/36 pairs 100%") for line in lines), lines
    assert lines[-1].startswith("TimeSeriesKMedoids 3/3 runs 100%"), lines
    assert float(lines[-1].split("best=")[1].split()[0]) == pytest.approx(model.inertia_, rel=1e-5)
    TimeSeriesKMedoids(n_clusters=2, metric="msm", verbose=1).fit(X)
    assert "pairwise MSM 36/36 pairs 100%" in capsys.readouterr().err
    TimeSeriesKMedoids(n_clusters=2).fit(X)
    assert capsys.readouterr().err == ""


def test_kmedoids_cost_no_worse_than_aeon():
    from aeon.clustering import TimeSeriesKMedoids as AeonKMedoids

    X, _ = make_warped_collection(
        n_sequences=14, n_timepoints=20, n_classes=3, noise=0.4, random_state=7
    )
    X = np.stack(X)
    D = pairwise_distances(X, metric="msm")
    optimum = _brute_force_medoids(D, 3)
    ours = TimeSeriesKMedoids(n_clusters=3, metric="msm", method="pam", random_state=0).fit(X)
    assert ours.inertia_ == pytest.approx(optimum, rel=1e-12)
    theirs = AeonKMedoids(n_clusters=3, distance="msm", method="pam", random_state=0)
    theirs.fit(X.transpose(0, 2, 1))
    assert ours.inertia_ <= theirs.inertia_ * (1 + 1e-9)
    # The same units: aeon's cost is a cost of some medoids under the same MSM.
    assert theirs.inertia_ >= optimum * (1 - 1e-9)
    centres = [
        np.flatnonzero((X == c).all(axis=(1, 2)))[0]
        for c in theirs.cluster_centers_.transpose(0, 2, 1)
    ]
    assert theirs.inertia_ == pytest.approx(D[:, centres].min(axis=1).sum(), rel=1e-9)


def test_silhouette_equals_its_definition():
    X, y = make_warped_collection(
        n_sequences=12, n_timepoints=(12, 18), n_classes=3, noise=0.3, random_state=1
    )
    D = np.array([[np.sqrt(_dtw_cost(a, b)) for b in X] for a in X])
    scores = []
    for i in range(len(X)):
        own = (y == y[i]) & (np.arange(len(X)) != i)
        a = D[i, own].mean() if own.any() else 0.0
        b = min(D[i, y == c].mean() for c in set(y) - {y[i]})
        scores.append(0.0 if not own.any() else (b - a) / max(a, b))
    assert silhouette_score(X, y, n_jobs=2) == pytest.approx(np.mean(scores), rel=1e-9)
    erp = pairwise_distances(X, metric="erp")
    assert silhouette_score(X, y, metric="erp") == pytest.approx(
        sklearn_silhouette(erp, y, metric="precomputed")
    )


@pytest.mark.parametrize("estimator", [TimeSeriesKMeans, TimeSeriesKMedoids])
def test_bad_input_names_the_argument(estimator):
    X = [[0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [5.0, 5.0, 1.0]]
    with pytest.raises(InvalidParameterError, match=r"n_clusters=4 .*X \(3\)"):
        estimator(n_clusters=4).fit(X)
    with pytest.raises(InvalidInputError, match=r"X\[1\].*NaN"):
        estimator(n_clusters=2).fit([[0.0, 1.0], [np.nan, 1.0], [2.0, 2.0]])
    identical = [[1.0, 2.0, 3.0]] * 3 + [[1.0, 1.0, 2.0, 3.0]]  # DTW-identical too
    with pytest.raises(InvalidInputError, match="fewer than n_clusters=2"):
        estimator(n_clusters=2, random_state=0).fit(identical)
    with pytest.raises(InvalidParameterError, match="n_clusters"):
        estimator(n_clusters=0).fit(X)


def test_identical_sequences_with_random_init_raise_too():
    identical = np.ones((5, 4))
    with pytest.raises(InvalidInputError, match="fewer than n_clusters=3"):
        TimeSeriesKMeans(n_clusters=3, init="random", random_state=0).fit(identical)
    with pytest.raises(InvalidInputError, match="fewer than n_clusters=3"):
        TimeSeriesKMedoids(n_clusters=3, init="random", random_state=0).fit(identical)


def test_precomputed_matrix_must_be_square_and_symmetric():
    km = TimeSeriesKMedoids(n_clusters=2, metric="precomputed")
    with pytest.raises(InvalidInputError, match=r"X must be a square.*\(3, 4\)"):
        km.fit(np.zeros((3, 4)))
    D = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.5, 3.0, 0.0]])
    with pytest.raises(InvalidInputError, match=r"X is not symmetric: X\[0, 2\]"):
        km.fit(D)
    diagonal = np.ones((3, 3))
    np.fill_diagonal(diagonal, [0.0, 2.0, 0.0])
    with pytest.raises(InvalidInputError, match=r"X\[1, 1\] is 2.0; .*zero diagonal"):
        km.fit(diagonal)
    D[2, 0] = np.nan
    with pytest.raises(InvalidInputError, match=r"X\[2, 0\] is nan; .*finite"):
        km.fit(D)


def test_kmeans_parameter_errors():
    X = [[0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [5.0, 5.0, 1.0]]
    with pytest.raises(InvalidParameterError, match="'window' parameter .*metric='dtw'"):
        TimeSeriesKMeans(n_clusters=2, metric="softdtw", window=1).fit(X)
    with pytest.raises(InvalidInputError, match="init holds 1 centres but n_clusters=2"):
        TimeSeriesKMeans(n_clusters=2, init=[[0.0, 1.0]]).fit(X)
    with pytest.raises(InvalidParameterError, match="'gamma' parameter"):
        TimeSeriesKMeans(metric="softdtw", gamma=-1.0).fit(X)
    with pytest.raises(InvalidInputError, match="labels hold 1 clusters"):
        silhouette_score(X, [0, 0, 0])


_PUBLIC = [TimeSeriesKMeans, TimeSeriesKMedoids, silhouette_score]
_CHECKED = {"GL08", "SS01", "SS02", "SS03", "SS04", "SS06", "PR01", "PR02", "PR03", "PR04"}
_CHECKED |= {"PR07", "PR10", "RT01"}


@pytest.mark.parametrize(
    "name",
    [f"alignkit.estimators._clustering.{obj.__name__}" for obj in _PUBLIC]
    + [
        f"alignkit.estimators._clustering.{cls.__name__}.{method}"
        for cls in _PUBLIC[:2]
        for method in ("fit", "predict", "fit_predict", "transform")
    ],
)
def test_docstrings_are_complete(name):
    from numpydoc import validate

    errors = [(c, m) for c, m in validate.validate(name)["errors"] if c in _CHECKED]
    assert not errors


@pytest.mark.parametrize(
    "estimator", [TimeSeriesKMeans(n_clusters=2), TimeSeriesKMedoids(n_clusters=2)]
)
def test_fitted_attributes_and_defaults_are_documented(estimator):
    import ast
    import inspect

    from numpydoc import docscrape

    doc = docscrape.ClassDoc(type(estimator))
    stated = {e.name: e.type.rpartition("default=")[2] for e in doc["Parameters"]}
    for name, parameter in inspect.signature(type(estimator)).parameters.items():
        assert ast.literal_eval(stated[name].strip()) == parameter.default, name
    X, _ = make_warped_collection(n_sequences=8, n_timepoints=12, random_state=0)
    estimator.fit(X)
    fitted = {k for k in vars(estimator) if k.endswith("_") and not k.startswith("_")}
    assert fitted <= {e.name for e in doc["Attributes"]}


# The data model of alignkit's collections, as for the k-NN estimators
# (tests/estimators/test_neighbors.py): a 2-D X is univariate sequences.
_DATA_MODEL = {
    "check_n_features_in": (
        "no n_features_in_: a 2-D X holds univariate sequences whose number of timepoints "
        "(its columns) may change between fit and predict; n_channels_ is the fixed width"
    ),
    "check_n_features_in_after_fitting": (
        "predict accepts another number of columns (timepoints) than fit saw, by design"
    ),
    "check_estimators_empty_data_messages": (
        "a (12, 0) array is 12 empty univariate sequences; the InvalidInputError (a "
        "ValueError) names the empty sequence instead of scikit-learn's '0 feature(s)' wording"
    ),
    "check_transformer_general": (
        "transform accepts sequences of another length (columns of a 2-D X) than fit saw"
    ),
}


@parametrize_with_checks(
    [
        TimeSeriesKMeans(n_clusters=2, max_iter=3, max_iter_barycenter=2),
        TimeSeriesKMedoids(n_clusters=2),
    ],
    expected_failed_checks=lambda estimator: _DATA_MODEL,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)

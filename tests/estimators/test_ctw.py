"""CTWAligner against ground-truth warps, DTW and uniform warping."""

import importlib
import pickle

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from alignkit.core.results import Alignment
from alignkit.datasets import make_warped_spirals, warp_views
from alignkit.distances._dtw import dtw
from alignkit.estimators import _ctw
from alignkit.estimators._ctw import CTWAligner, CTWAlignment
from alignkit.estimators._uniform import uniform_path
from alignkit.exceptions import InvalidInputError, InvalidParameterError
from alignkit.metrics import path_distance
from alignkit.preprocessing import Flatten


def _spiral_errors(seeds, **params):
    errors = {"ctw": [], "dtw": [], "uniform": []}
    histories = []
    for seed in seeds:
        (a, b), (_, true_path) = make_warped_spirals(random_state=seed)
        alignment = CTWAligner(**params).align(a, b)
        histories.append(alignment.objective_history)
        errors["ctw"].append(path_distance(alignment.path, true_path))
        errors["dtw"].append(path_distance(dtw(a, b).path, true_path))
        errors["uniform"].append(path_distance(uniform_path(len(a), len(b)), true_path))
    return {name: float(np.mean(values)) for name, values in errors.items()}, histories


def _is_non_increasing(history, rtol=1e-8):
    return bool(np.all(np.diff(history) <= rtol * np.abs(history[:-1])))


def test_spirals_beat_dtw_and_uniform():
    errors, histories = _spiral_errors(range(20))
    assert errors["ctw"] < 0.5 * errors["dtw"]
    assert errors["ctw"] < errors["uniform"]
    assert all(_is_non_increasing(history) for history in histories)


@pytest.mark.slow
def test_spirals_reproduce_published_protocol():
    # 100 pairs; an independent re-run of the protocol gave UTW 6.6, DTW 8.5, CTW 3.0 frames.
    errors, histories = _spiral_errors(range(100))
    assert errors["ctw"] <= 3.0
    assert errors["ctw"] < 0.5 * errors["dtw"]
    assert errors["ctw"] < errors["uniform"]
    # A round that raises the objective is discarded and stops the iterations
    # (the CCA constraint moves with the path; see the Notes of CTWAligner).
    assert all(_is_non_increasing(history) for history in histories)


def test_objective_equals_correlation_form():
    (a, b), _ = make_warped_spirals(random_state=3)
    for reg in (0.0, 0.3):
        aligner = CTWAligner(reg=reg).fit([(a, b)])
        expected = (
            aligner.n_components_ / (1 - reg) - aligner.correlations_[: aligner.n_components_].sum()
        )
        # The last objective is that of the last CCA step.
        assert aligner.objective_history_[-1] == pytest.approx(expected, rel=1e-9)


def test_align_matches_fit_on_one_pair():
    (a, b), _ = make_warped_spirals(random_state=4)
    alignment = CTWAligner().align(a, b)
    fitted = CTWAligner().fit([(a, b)])
    for mine, theirs in zip(alignment.projections, fitted.projections_):
        np.testing.assert_allclose(mine, theirs)
    np.testing.assert_allclose(alignment.objective_history, fitted.objective_history_)
    assert alignment.n_iter == fitted.n_iter_ and alignment.converged == fitted.converged_
    # The returned distance is DTW's on the projected sequences the path came from.
    projected = [(s - o) @ v for s, o, v in zip((a, b), alignment.offsets, alignment.projections)]
    check = dtw(*projected)
    np.testing.assert_array_equal(alignment.path, check.path)
    assert alignment.distance == pytest.approx(check.distance)


def test_uniform_init_one_round_is_dtw_on_first_cca():
    # max_iter=1: one CCA on the uniform warp, then DTW of the projections.
    from alignkit.multiview._cca import multiset_cca

    (a, b), _ = make_warped_spirals(random_state=5)
    path = uniform_path(len(a), len(b))
    (v_a, v_b), _, _ = multiset_cca([a[path[:, 0]], b[path[:, 1]]], n_components=0.95)
    mean_a, mean_b = a[path[:, 0]].mean(axis=0), b[path[:, 1]].mean(axis=0)
    expected = dtw((a - mean_a) @ v_a, (b - mean_b) @ v_b).path
    alignment = CTWAligner(max_iter=1).align(a, b)
    np.testing.assert_array_equal(alignment.path, expected)
    assert alignment.n_iter == 1


def test_init_dtw_and_window():
    (a, b), (_, true_path) = make_warped_spirals(random_state=6)
    by_dtw = CTWAligner(init="dtw").align(a, b)
    assert path_distance(by_dtw.path, true_path) < path_distance(dtw(a, b).path, true_path)
    windowed = CTWAligner(window=0.2).align(a, b)
    radius = int(np.floor(0.2 * max(len(a), len(b)) + 0.5))
    line = windowed.path[:, 0] * (len(b) - 1) / (len(a) - 1)
    assert np.all(np.abs(windowed.path[:, 1] - line) <= radius + 1)
    with pytest.raises(InvalidInputError, match="init='dtw'.*same number of channels"):
        CTWAligner(init="dtw").align(a, b[:, :2])


def test_cycle_stops_the_iterations(monkeypatch):
    (a, b), _ = make_warped_spirals(random_state=7)
    first, second = dtw(a, b), dtw(a[::-1], b[::-1])
    calls = []

    def alternating(pairs, projections, offsets, window):
        calls.append(None)
        return [first if len(calls) % 2 else second]

    class FlatObjective(_ctw._State):
        # A constant objective, so that only the cycle can stop the iterations.
        def __init__(self, *args):
            super().__init__(*args)
            self.objective = 1.0

    monkeypatch.setattr(_ctw, "_dtw_paths", alternating)
    monkeypatch.setattr(_ctw, "_State", FlatObjective)
    alignment = CTWAligner(max_iter=50).align(a, b)
    # Round 1 gives `first`, round 2 `second`, round 3 `first` again: a cycle.
    assert alignment.n_iter == 3 and not alignment.converged
    assert len(calls) == 3


def test_a_round_that_raises_the_objective_is_discarded(monkeypatch):
    (a, b), _ = make_warped_spirals(random_state=7)
    objectives = iter([3.0, 2.0, 2.5, 1.0])

    class RisingObjective(_ctw._State):
        def __init__(self, *args):
            super().__init__(*args)
            self.objective = next(objectives)

    monkeypatch.setattr(_ctw, "_State", RisingObjective)
    # Neither convergence nor a cycle may stop the run first.
    monkeypatch.setattr(_ctw, "_mean_change", lambda new, old: 1.0)
    monkeypatch.setattr(_ctw, "_paths_key", lambda paths: object())
    alignment = CTWAligner(max_iter=50).align(a, b)
    # Round 3 raises J from 2.0 to 2.5: it is dropped and the iterations stop.
    np.testing.assert_array_equal(alignment.objective_history, [3.0, 2.0])
    assert alignment.n_iter == 2 and not alignment.converged


def test_channel_counts_differ():
    (a, b), (_, true_path) = make_warped_spirals(random_state=8)
    rng = np.random.default_rng(0)
    b_wide = b @ rng.normal(size=(3, 5))  # 5 channels, rank 3: needs reg
    with pytest.raises(InvalidInputError, match=r"view b is singular.*reg"):
        CTWAligner().align(a, b_wide)
    alignment = CTWAligner(reg=1e-3).align(a[:, :2], b_wide)
    assert alignment.projections[0].shape[0] == 2 and alignment.projections[1].shape[0] == 5
    assert path_distance(alignment.path, true_path) < path_distance(
        uniform_path(len(a), len(b)), true_path
    )


def _recording(seed, n_timepoints=120):
    """Two modalities (3 and 4 channels) of one latent 2-D signal, fixed maps per modality."""
    maps = np.random.default_rng(0)
    map_a, map_b = maps.normal(size=(2, 3)), maps.normal(size=(2, 4))
    rng = np.random.default_rng(seed)
    time = np.linspace(0, 1, n_timepoints)
    latent = np.column_stack(
        [
            np.sin(2 * np.pi * (1 + rng.uniform()) * time + rng.uniform(0, 6)),
            np.cos(2 * np.pi * (2 + rng.uniform()) * time),
        ]
    )
    noise = 0.1 * rng.normal(size=(n_timepoints, 7))
    return np.hstack([latent @ map_a, latent @ map_b]) + noise


def _pairs(seeds):
    pairs, truths = [], []
    for seed in seeds:
        (a, b), (_, truth) = warp_views(
            _recording(seed), [[0, 1, 2], [3, 4, 5, 6]], random_state=seed
        )
        pairs.append((a, b))
        truths.append(truth)
    return pairs, truths


def test_learned_projections_align_held_out_pairs():
    train, _ = _pairs(range(10))
    test, truths = _pairs(range(100, 110))
    aligner = CTWAligner().fit(train)
    assert aligner.n_channels_ == (3, 4)
    assert aligner.projections_[0].shape == (3, aligner.n_components_)
    alignments = aligner.align_pairs(test)
    ctw_error = np.mean([path_distance(x.path, t) for x, t in zip(alignments, truths)])
    uniform_error = np.mean(
        [path_distance(uniform_path(len(a), len(b)), t) for (a, b), t in zip(test, truths)]
    )
    assert ctw_error < 0.5 * uniform_error
    # Projections fixed: each DTW and offset step minimises the residual, which never grows.
    assert all(_is_non_increasing(x.objective_history) for x in alignments)
    for x, (a, b) in zip(alignments, test):
        residual = (a[x.index_a] - x.offsets[0]) @ aligner.projections_[0] - (
            b[x.index_b] - x.offsets[1]
        ) @ aligner.projections_[1]
        assert x.distance == pytest.approx(np.sqrt(np.sum(residual**2)))


def test_transform_outputs():
    train, _ = _pairs(range(6))
    aligner = CTWAligner(n_components=2).fit(train)
    concat = aligner.transform(train)
    assert isinstance(concat, list) and len(concat) == 6  # lengths of a differ
    alignments = aligner.align_pairs(train)
    for output, (a, b), alignment in zip(concat, train, alignments):
        assert output.shape == (len(a), 4)
        offset_a, offset_b = alignment.offsets
        np.testing.assert_allclose(output[:, :2], (a - offset_a) @ aligner.projections_[0])
        # b's variates are averaged onto a's frames along the path.
        variates_b = (b - offset_b) @ aligner.projections_[1]
        for i in (0, len(a) // 2, len(a) - 1):
            expected = variates_b[alignment.index_b[alignment.index_a == i]].mean(axis=0)
            np.testing.assert_allclose(output[i, 2:], expected)
    only_b = aligner.set_params(output="b", n_timepoints=50).transform(train)
    assert isinstance(only_b, np.ndarray) and only_b.shape == (6, 50, 2)
    np.testing.assert_allclose(only_b[:, 0], np.stack([c[0, 2:] for c in concat]))


def test_pipeline_gridsearch_and_pickle():
    pairs, _ = _pairs(range(24))
    # Labels: whether the first latent signal of _recording runs above 1.5 cycles.
    labels = np.array([int(np.random.default_rng(s).uniform() > 0.5) for s in range(24)])
    pipeline = Pipeline(
        [
            ("align", CTWAligner(n_timepoints=30, output="a")),
            ("flatten", Flatten()),
            ("classify", LogisticRegression(max_iter=500)),
        ]
    )
    predicted = pipeline.fit(pairs, labels).predict(pairs)
    assert predicted.shape == (24,) and set(predicted) <= {0, 1}
    search = GridSearchCV(
        CTWAligner(),
        {"n_components": [1, 2], "reg": [0.0, 0.1], "window": [None, 0.3]},
        cv=3,
    ).fit(pairs)
    assert search.best_params_["n_components"] in (1, 2)
    assert -1.0 <= search.best_score_ <= 1.0
    restored = pickle.loads(pickle.dumps(search.best_estimator_))
    for mine, theirs in zip(
        restored.transform(pairs[:3]), search.best_estimator_.transform(pairs[:3])
    ):
        np.testing.assert_allclose(mine, theirs)
    alignment = restored.align(*pairs[0])
    copy = pickle.loads(pickle.dumps(alignment))
    assert isinstance(copy, CTWAlignment) and isinstance(copy, Alignment)
    np.testing.assert_array_equal(copy.path, alignment.path)
    np.testing.assert_array_equal(copy.objective_history, alignment.objective_history)
    assert (copy.n_iter, copy.converged, copy.shape) == (
        alignment.n_iter,
        alignment.converged,
        alignment.shape,
    )


def test_score_is_held_out_correlation():
    pairs, _ = _pairs(range(8))
    aligner = CTWAligner(n_components=1).fit(pairs[:6])
    correlations = []
    for (a, b), alignment in zip(pairs[6:], aligner.align_pairs(pairs[6:])):
        u = ((a - alignment.offsets[0]) @ aligner.projections_[0])[alignment.index_a, 0]
        v = ((b - alignment.offsets[1]) @ aligner.projections_[1])[alignment.index_b, 0]
        correlations.append(np.corrcoef(u, v)[0, 1])
    assert aligner.score(pairs[6:]) == pytest.approx(np.mean(correlations))


def test_invalid_input():
    pairs, _ = _pairs(range(3))
    bad = [(a.copy(), b) for a, b in pairs]
    bad[1][0][5, 2] = np.nan
    with pytest.raises(InvalidInputError, match=r"X\[1\]\[0\].*NaN"):
        CTWAligner().fit(bad)
    with pytest.raises(InvalidInputError, match=r"X\[2\]\[1\] has 3 channels but 4"):
        CTWAligner().fit(pairs[:2] + [(pairs[2][0], pairs[2][1][:, :3])])
    with pytest.raises(InvalidInputError, match=r"X\[0\]\[1\] has 1 timepoint"):
        CTWAligner().fit([(pairs[0][0], pairs[0][1][:1])])
    with pytest.raises(InvalidInputError, match=r"a has 1 timepoint"):
        CTWAligner().align(pairs[0][0][:1], pairs[0][1])
    with pytest.raises(InvalidInputError, match=r"X\[0\] must be a pair"):
        CTWAligner().fit([pairs[0][0]])
    with pytest.raises(InvalidInputError, match="list of \\(a, b\\) pairs"):
        CTWAligner().fit([])
    fitted = CTWAligner().fit(pairs)
    with pytest.raises(InvalidInputError, match=r"X\[0\]\[0\] has 2 channels but 3"):
        fitted.transform([(pairs[0][0][:, :2], pairs[0][1])])
    with pytest.raises(InvalidInputError, match="n_components=5"):
        CTWAligner(n_components=5).fit(pairs)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"init": "random"}, "init"),
        ({"max_iter": 0}, "max_iter"),
        ({"tol": -1.0}, "tol"),
        ({"output": "both"}, "output"),
        ({"n_timepoints": 0}, "n_timepoints"),
        ({"reg": 1.0}, "reg"),
        ({"max_iter": True}, "max_iter"),
        ({"max_iter": 3.0}, "max_iter"),
        ({"n_components": 1.0}, "n_components"),
        ({"n_timepoints": 2.5}, "n_timepoints"),
    ],
)
def test_bad_parameters(params, match):
    pairs, _ = _pairs(range(2))
    with pytest.raises(InvalidParameterError, match=f"'{match}' parameter of CTWAligner"):
        CTWAligner(**params).fit(pairs)
    # Checked at inference too, where set_params can change them after fit.
    fitted = CTWAligner().fit(pairs).set_params(**params)
    with pytest.raises(InvalidParameterError, match=match):
        fitted.transform(pairs)


def test_align_after_fit_uses_the_fitted_projections():
    train, _ = _pairs(range(10))
    held_out, _ = _pairs([200])
    a, b = held_out[0]
    unfitted = CTWAligner(n_components=2).align(a, b)
    aligner = CTWAligner(n_components=2).fit(train)
    fitted = aligner.align(a, b)
    assert isinstance(fitted, CTWAlignment)
    for mine, learned in zip(fitted.projections, aligner.projections_):
        np.testing.assert_array_equal(mine, learned)
    # The fitted-model alignment, computed by hand: DTW of the projected sequences,
    # alternating with the warped-mean offsets from the uniform path, until it settles.
    path = uniform_path(len(a), len(b))
    for _ in range(aligner.max_iter):
        offsets = (a[path[:, 0]].mean(axis=0), b[path[:, 1]].mean(axis=0))
        projected = [(s - o) @ v for s, o, v in zip((a, b), offsets, aligner.projections_)]
        new_path = dtw(*projected).path
        settled = path_distance(new_path, path) <= aligner.tol
        path = new_path
        if settled:
            break
    np.testing.assert_array_equal(fitted.path, path)
    np.testing.assert_array_equal(fitted.path, aligner.align_pairs([(a, b)])[0].path)
    # Before fit, align learns projections of the pair alone, which differ.
    assert not np.allclose(unfitted.projections[0], fitted.projections[0])
    with pytest.raises(InvalidInputError, match=r"a has 2 channels but 3"):
        aligner.align(a[:, :2], b)


@pytest.mark.parametrize("scale", [1e154, 1e200])
def test_overflowing_input_is_refused_with_its_name(scale):
    # Issue 13 item 2: CTW raised LinAlgError ("Eigenvalues did not converge").
    pairs, _ = _pairs(range(3))
    huge = pairs[:1] + [(pairs[1][0], pairs[1][1] * scale)] + pairs[2:]
    with pytest.raises(InvalidInputError, match=r"X\[1\]\[1\] is too large.*overflows float64"):
        CTWAligner().fit(huge)
    with pytest.raises(InvalidInputError, match=r"^a is too large"):
        CTWAligner().align(pairs[0][0] * scale, pairs[0][1])
    fitted = CTWAligner().fit(pairs)
    with pytest.raises(InvalidInputError, match=r"X\[1\]\[1\] is too large"):
        fitted.transform(huge)
    # Just below the limit still aligns.
    assert np.isfinite(CTWAligner().align(pairs[0][0] * 1e150, pairs[0][1]).distance)


@pytest.fixture
def count_sequence_checks(monkeypatch):
    """Count the sequence checks of the paired boundary (alignkit.base.check_sequence)."""
    import alignkit.base

    calls = []
    original = alignkit.base.check_sequence

    def counting(sequence, name="sequence", index=None, n_channels=None):
        calls.append(name)
        return original(sequence, name=name, index=index, n_channels=n_channels)

    monkeypatch.setattr(alignkit.base, "check_sequence", counting)
    return calls


@pytest.mark.parametrize("method", ["transform", "score", "align_pairs"])
def test_each_pair_is_validated_once_per_call(count_sequence_checks, method):
    pairs, _ = _pairs(range(4))
    aligner = CTWAligner(n_components=2).fit(pairs)
    assert sorted(count_sequence_checks) == sorted(f"X[{k}][{s}]" for k in range(4) for s in (0, 1))
    count_sequence_checks.clear()
    getattr(aligner, method)(pairs)
    # Today's transform and score validated every pair twice (once more in align_pairs).
    assert sorted(count_sequence_checks) == sorted(f"X[{k}][{s}]" for k in range(4) for s in (0, 1))
    count_sequence_checks.clear()
    aligner.align(*pairs[0])
    assert sorted(count_sequence_checks) == ["a", "b"]


def test_fit_then_transform_validates_each_input_once(count_sequence_checks):
    pairs, _ = _pairs(range(5))
    CTWAligner(n_components=2).fit(pairs).transform(pairs)
    assert len(count_sequence_checks) == 2 * 2 * len(pairs)
    assert len(set(count_sequence_checks)) == 2 * len(pairs)


def _basic_motions_pairs(split, seed):
    datasets = importlib.import_module("aeon.datasets")
    X, y = datasets.load_classification("BasicMotions", split=split)
    rng = np.random.RandomState(seed)
    pairs, truths = [], []
    for recording in X:
        # Channels 0-2: accelerometer (view a); 3-5: gyroscope (view b).
        (a, b), (_, truth) = warp_views(recording.T, [[0, 1, 2], [3, 4, 5]], random_state=rng)
        pairs.append((a, b))
        truths.append(truth)
    return pairs, truths


@pytest.mark.slow
def test_basic_motions_held_out_alignment():
    train, _ = _basic_motions_pairs("train", 0)
    test, truths = _basic_motions_pairs("test", 1)
    # Model selection without ground truth: held-out canonical correlation.
    search = GridSearchCV(CTWAligner(), {"n_components": [1, 2, 3], "reg": [0.0, 0.1]}, cv=4).fit(
        train
    )
    alignments = search.best_estimator_.align_pairs(test)
    ctw_error = np.mean([path_distance(x.path, t) for x, t in zip(alignments, truths)])
    dtw_error = np.mean([path_distance(dtw(a, b).path, t) for (a, b), t in zip(test, truths)])
    # Measured: CTW 1.96 (n_components=1), DTW 4.77, uniform 2.27 frames.
    assert ctw_error <= 0.5 * dtw_error


def test_clone_contract():
    from alignkit.testing import check_get_params_clone

    check_get_params_clone(CTWAligner(n_components=2, reg=0.1, window=0.2, output="a"))

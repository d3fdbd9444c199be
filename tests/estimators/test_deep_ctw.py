"""DeepCTWAligner: the loss against direct computations, the estimator contract, and the
must-show comparison with linear CTW on nonlinear views (issue 5)."""

import pickle
import time

import numpy as np
import pytest
from scipy import linalg
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from alignkit.datasets import make_nonlinear_views
from alignkit.distances import dtw
from alignkit.estimators._ctw import CTWAligner
from alignkit.estimators._deep_ctw import DeepCTWAligner, _centre_paths
from alignkit.estimators._uniform import uniform_path
from alignkit.exceptions import InvalidInputError
from alignkit.metrics import path_distance
from alignkit.multiview._cca import linear_cca, multiset_cca
from alignkit.preprocessing import Flatten
from alignkit.testing import check_get_params_clone

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

# Imported after the torch guard: a failure to import alignkit's own kernel is an error, not a skip.
from alignkit.kernels._torch._cca import canonical_correlations  # noqa: E402

FAST = {
    "max_epochs": 3,
    "hidden_layer_sizes": (16,),
    "n_outputs": 4,
    "n_components": 2,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def pairs():
    return make_nonlinear_views(n_pairs=8, n_timepoints=80, random_state=0)[0]


def _views(seed=0, n_frames=300):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_frames, 2))
    h_a = np.hstack([latent, rng.normal(size=(n_frames, 2))]) @ rng.normal(size=(4, 4))
    h_b = np.hstack([np.tanh(latent), rng.normal(size=(n_frames, 3))]) @ rng.normal(size=(5, 5))
    return h_a + 0.1 * rng.normal(size=h_a.shape), h_b


def _inverse_sqrt(matrix):
    return linalg.inv(linalg.sqrtm(matrix)).real


def _direct_correlations(h_a, h_b, reg_a, reg_b):
    """``svd(S_aa^{-1/2} S_ab S_bb^{-1/2})`` with SciPy's matrix square root."""
    h_a, h_b = h_a - h_a.mean(axis=0), h_b - h_b.mean(axis=0)
    n_frames = len(h_a)
    s_aa = h_a.T @ h_a / (n_frames - 1) + reg_a * np.eye(h_a.shape[1])
    s_bb = h_b.T @ h_b / (n_frames - 1) + reg_b * np.eye(h_b.shape[1])
    s_ab = h_a.T @ h_b / (n_frames - 1)
    return linalg.svdvals(_inverse_sqrt(s_aa) @ s_ab @ _inverse_sqrt(s_bb))


def _loss(h_a, h_b, reg_a=1e-3, reg_b=1e-2):
    return canonical_correlations(torch.as_tensor(h_a), torch.as_tensor(h_b), reg_a, reg_b).numpy()


# -- the loss ---------------------------------------------------------------------------


@pytest.mark.parametrize("regs", [(0.0, 0.0), (1e-3, 1e-2), (0.5, 0.0)])
def test_correlations_equal_direct_computation(regs):
    h_a, h_b = _views()
    np.testing.assert_allclose(_loss(h_a, h_b, *regs), _direct_correlations(h_a, h_b, *regs)[:4])


def test_correlations_equal_generalised_eigenproblem():
    # Without ridge the canonical correlations are the eigenvalues of the CCA
    # eigenproblem solved by alignkit.multiview._cca.multiset_cca (an independent code path).
    h_a, h_b = _views(1)
    _, expected, _ = multiset_cca([h_a, h_b], reg=0.0, n_components=4)
    np.testing.assert_allclose(_loss(h_a, h_b, 0.0, 0.0), expected, rtol=1e-9)
    # With ridge: the eigenvalues of [[0, S_ab], [S_ba, 0]] v = rho blkdiag(S_aa + r_a I, ...) v.
    h_a, h_b = h_a - h_a.mean(axis=0), h_b - h_b.mean(axis=0)
    covariance = np.hstack([h_a, h_b]).T @ np.hstack([h_a, h_b]) / (len(h_a) - 1)
    blocks = np.zeros_like(covariance)
    blocks[:4, :4] = covariance[:4, :4] + 1e-3 * np.eye(4)
    blocks[4:, 4:] = covariance[4:, 4:] + 1e-2 * np.eye(5)
    cross = covariance - linalg.block_diag(covariance[:4, :4], covariance[4:, 4:])
    eigenvalues = np.sort(linalg.eigh(cross, blocks, eigvals_only=True))[::-1][:4]
    np.testing.assert_allclose(_loss(h_a, h_b), eigenvalues, rtol=1e-9)


def test_loss_avoids_the_reference_code_bugs():
    h_a, h_b = _views(2)
    h_a, h_b = h_a - h_a.mean(axis=0), h_b - h_b.mean(axis=0)
    n_frames = len(h_a)
    s_aa = h_a.T @ h_a / (n_frames - 1) + 1e-3 * np.eye(4)
    s_bb = h_b.T @ h_b / (n_frames - 1) + 1e-2 * np.eye(5)
    s_ab = h_a.T @ h_b / (n_frames - 1)
    l_a, l_b = np.linalg.cholesky(s_aa), np.linalg.cholesky(s_bb)
    # Bug 3 of the reference: L_a^{-1} S_ab L_b^{-1} instead of L_a^{-1} S_ab L_b^{-T}.
    wrong = linalg.svdvals(linalg.inv(l_a) @ s_ab @ linalg.inv(l_b)).sum()
    # Bugs 1 and 2: the ridge on every entry, and one view's ridge used for both.
    everywhere = _direct_correlations(h_a, h_b + 0.0, 0.0, 0.0)
    total = _loss(h_a, h_b).sum()
    assert total == pytest.approx(_direct_correlations(h_a, h_b, 1e-3, 1e-2).sum(), rel=1e-10)
    assert abs(total - wrong) > 1e-3
    assert abs(_loss(h_a, h_b, 0.5, 0.0).sum() - _loss(h_a, h_b, 0.5, 0.5).sum()) > 1e-3
    assert abs(total - everywhere.sum()) > 1e-6


def test_loss_gradient_passes_gradcheck():
    h_a, h_b = _views(3, n_frames=40)
    inputs = (
        torch.tensor(h_a, dtype=torch.float64, requires_grad=True),
        torch.tensor(h_b, dtype=torch.float64, requires_grad=True),
    )
    # The gradient flows through the frames chosen by a path: repeated frames add up.
    path = torch.as_tensor(np.sort(np.r_[np.arange(40), [3, 3, 17]]))

    def total(a, b):
        return canonical_correlations(a[path], b[path], 1e-3, 1e-2).sum()

    assert torch.autograd.gradcheck(total, inputs, eps=1e-6, atol=1e-6)


def test_linear_cca_whitens_and_diagonalises():
    h_a, h_b = _views(4)
    (w_a, w_b), means, correlations = linear_cca(h_a, h_b, 1e-3, 1e-2, 3)
    variates_a, variates_b = (h_a - means[0]) @ w_a, (h_b - means[1]) @ w_b
    n_frames = len(h_a)
    s_aa = variates_a.T @ variates_a / (n_frames - 1) + 1e-3 * w_a.T @ w_a
    np.testing.assert_allclose(s_aa, np.eye(3), atol=1e-10)
    np.testing.assert_allclose(
        variates_a.T @ variates_b / (n_frames - 1), np.diag(correlations[:3]), atol=1e-10
    )
    np.testing.assert_allclose(correlations, _direct_correlations(h_a, h_b, 1e-3, 1e-2)[:4])


# -- the estimator contract -------------------------------------------------------------


def test_fit_records_history_and_paths(pairs):
    aligner = DeepCTWAligner(**FAST).fit(pairs)
    assert aligner.n_iter_ == 3 and len(aligner.loss_curve_) == 3
    assert len(aligner.paths_) == len(pairs)
    assert aligner.projections_[0].shape == (4, 2) and aligner.n_channels_ == (12, 17)
    assert not aligner.encoder_a_.training
    # The recorded loss is minus the total correlation, between -n_outputs and 0.
    assert all(-4 <= loss <= 0 for loss in aligner.loss_curve_)


def test_reproducible_with_random_state(pairs):
    # A fixed thread count: None follows the machine's load, and torch splits some sums.
    first = DeepCTWAligner(**FAST, n_threads=1).fit(pairs)
    second = DeepCTWAligner(**FAST, n_threads=1).fit(pairs)
    assert first.loss_curve_ == second.loss_curve_
    for p, q in zip(first.paths_, second.paths_):
        np.testing.assert_array_equal(p, q)
    other = DeepCTWAligner(**{**FAST, "random_state": 1}).fit(pairs)
    assert other.loss_curve_ != first.loss_curve_


def test_warm_start_continues(pairs):
    aligner = DeepCTWAligner(**{**FAST, "max_epochs": 2, "warm_start": True}).fit(pairs)
    weights = aligner.encoder_a_[0].weight.detach().clone()
    aligner.fit(pairs)
    assert aligner.n_iter_ == 4 and len(aligner.loss_curve_) == 4
    assert not torch.equal(weights, aligner.encoder_a_[0].weight)
    cold = DeepCTWAligner(**{**FAST, "max_epochs": 2}).fit(pairs)
    cold.fit(pairs)
    assert cold.n_iter_ == 2


def test_early_stopping_stops_and_validates(pairs):
    # tol=1.0: no improvement ever counts, so training stops after the patience.
    aligner = DeepCTWAligner(
        **{**FAST, "max_epochs": 50},
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=2,
        tol=1.0,
    ).fit(pairs)
    assert aligner.n_iter_ == 3
    assert len(aligner.validation_scores_) == 3
    assert len(aligner.paths_) == 6  # two of the 8 pairs were held out


def test_pickle_round_trip_aligns_identically(pairs):
    aligner = DeepCTWAligner(**FAST).fit(pairs[:6])
    restored = pickle.loads(pickle.dumps(aligner))
    for pair in pairs[6:]:
        np.testing.assert_array_equal(restored.align(*pair).path, aligner.align(*pair).path)
    for mine, theirs in zip(restored.transform(pairs[6:]), aligner.transform(pairs[6:])):
        np.testing.assert_array_equal(mine, theirs)


def test_clone_and_get_params():
    aligner = DeepCTWAligner(n_components=3, reg=(1e-3, 1e-2), hidden_layer_sizes=(8,))
    check_get_params_clone(aligner)
    assert clone(aligner).get_params() == aligner.get_params()


def test_grid_search_over_n_components(pairs):
    search = GridSearchCV(DeepCTWAligner(**FAST), {"n_components": [1, 2]}, cv=2).fit(pairs)
    assert search.best_params_["n_components"] in (1, 2)
    assert -1.0 <= search.best_score_ <= 1.0
    assert len(search.best_estimator_.align_pairs(pairs[:2])) == 2


def test_pipeline_with_classifier(pairs):
    labels = np.arange(len(pairs)) % 2
    pipeline = Pipeline(
        [
            ("align", DeepCTWAligner(**FAST, n_timepoints=20)),
            ("flatten", Flatten()),
            ("classify", LogisticRegression()),
        ]
    )
    assert pipeline.fit(pairs, labels).predict(pairs).shape == (len(pairs),)
    assert pipeline[0].transform(pairs).shape == (len(pairs), 20, 4)


def test_transform_outputs(pairs):
    aligner = DeepCTWAligner(**FAST, output="b").fit(pairs)
    outputs = aligner.transform(pairs[:3])
    assert isinstance(outputs, list)  # the pairs differ in length
    assert [len(o) for o in outputs] == [len(a) for a, _ in pairs[:3]]
    assert all(o.shape[1] == 2 for o in outputs)


def test_paired_methods_use_the_trained_model(pairs, monkeypatch):
    import alignkit.base

    aligner = DeepCTWAligner(**FAST).fit(pairs[:6])
    held_out = pairs[6:]
    # By hand: encode the standardised sequences, project, DTW of the variates.
    expected = []
    for a, b in held_out:
        variates = []
        for side, sequence in enumerate((a, b)):
            scaled = (sequence - aligner.input_means_[side]) / aligner.input_scales_[side]
            encoder = (aligner.encoder_a_, aligner.encoder_b_)[side]
            with torch.no_grad():
                output = encoder(torch.as_tensor(scaled, dtype=torch.float32)).double().numpy()
            variates.append((output - aligner.output_means_[side]) @ aligner.projections_[side])
        expected.append((dtw(*variates), variates))
    for (a, b), (reference, _) in zip(held_out, expected):
        alignment = aligner.align(a, b)
        np.testing.assert_array_equal(alignment.path, reference.path)
        assert alignment.distance == pytest.approx(reference.distance)
    for alignment, (reference, _) in zip(aligner.align_pairs(held_out), expected):
        np.testing.assert_array_equal(alignment.path, reference.path)
    output = aligner.set_params(output="a").transform(held_out)
    for got, (_, variates) in zip(output, expected):
        np.testing.assert_allclose(got, variates[0], rtol=1e-6, atol=1e-8)
    # score: Pearson correlation per component along the path, averaged.
    correlations = [
        np.corrcoef(v_a[r.index_a, k], v_b[r.index_b, k])[0, 1]
        for r, (v_a, v_b) in expected
        for k in range(aligner.n_components)
    ]
    assert aligner.score(held_out) == pytest.approx(np.mean(correlations), rel=1e-6)
    # Each of these calls validates every pair once.
    calls = []
    original = alignkit.base.check_sequence
    monkeypatch.setattr(
        alignkit.base,
        "check_sequence",
        lambda sequence, **kwargs: calls.append(kwargs["name"]) or original(sequence, **kwargs),
    )
    for method in (aligner.transform, aligner.score, aligner.align_pairs):
        calls.clear()
        method(held_out)
        assert sorted(calls) == sorted(f"X[{k}][{s}]" for k in range(2) for s in (0, 1))


def test_align_needs_fit():
    from sklearn.exceptions import NotFittedError

    a, b = make_nonlinear_views(n_pairs=1, n_timepoints=30, random_state=0)[0][0]
    for method, args in (("align", (a, b)), ("align_pairs", ([(a, b)],))):
        with pytest.raises(NotFittedError, match="not fitted"):
            getattr(DeepCTWAligner(), method)(*args)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"hidden_layer_sizes": (16, 0)}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": 16}, "hidden_layer_sizes"),
        ({"reg": (1e-3,)}, "reg"),
        ({"reg": (1e-3, -1.0)}, "reg"),
        ({"n_outputs": True}, "n_outputs"),
        ({"steps_per_realign": 1.0}, "steps_per_realign"),
        ({"activation": "sigmoid"}, "activation"),
        ({"output": "both"}, "output"),
        ({"max_epochs": 0}, "max_epochs"),
    ],
)
def test_bad_parameters_name_the_parameter(pairs, params, name):
    from alignkit.exceptions import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of DeepCTWAligner"):
        DeepCTWAligner(**{**FAST, **params}).fit(pairs)


def test_overflowing_input_is_refused_with_its_name(pairs):
    # Issue 13 item 2: the standardisation overflowed and the loss curve was all zeros.
    huge = [pairs[0], (pairs[1][0] * 1e160, pairs[1][1])]
    with pytest.raises(InvalidInputError, match=r"X\[1\]\[0\] is too large.*overflows"):
        DeepCTWAligner(**FAST).fit(huge)


def test_bad_input(pairs):
    with pytest.raises(InvalidInputError, match=r"X\[1\] must be a pair"):
        DeepCTWAligner(**FAST).fit([pairs[0], (pairs[1][0],)])
    nan = pairs[1][1].copy()
    nan[3, 2] = np.nan
    with pytest.raises(InvalidInputError, match=r"X\[1\]\[1\]"):
        DeepCTWAligner(**FAST).fit([pairs[0], (pairs[1][0], nan)])
    aligner = DeepCTWAligner(**FAST).fit(pairs)
    with pytest.raises(InvalidInputError, match=r"X\[0\]\[1\] has 16 channels but 17"):
        aligner.align_pairs([(pairs[0][0], pairs[0][1][:, 1:])])
    with pytest.raises(InvalidInputError, match="n_components=5 exceeds"):
        DeepCTWAligner(**{**FAST, "n_components": 5}).fit(pairs)
    with pytest.raises(InvalidInputError, match="'reg' parameter of DeepCTWAligner"):
        DeepCTWAligner(**FAST, reg=-1.0).fit(pairs)
    with pytest.raises(InvalidInputError, match="'encoder_a' parameter of DeepCTWAligner"):
        DeepCTWAligner(**FAST, encoder_a="cnn").fit(pairs)
    with pytest.raises(InvalidInputError, match="'path_prior' parameter of DeepCTWAligner"):
        DeepCTWAligner(**FAST, path_prior="uniform").fit(pairs)
    with pytest.raises(Exception, match="not fitted"):
        DeepCTWAligner().align(*pairs[0])


class _TemporalEncoder(torch.nn.Module):
    """A 1-D convolution over time: not frame-wise, so it needs whole sequences."""

    def __init__(self, n_channels, n_outputs):
        super().__init__()
        self.conv = torch.nn.Conv1d(n_channels, n_outputs, kernel_size=3, padding=1)

    def forward(self, sequence):
        return torch.tanh(self.conv(sequence.T[None]))[0].T


def test_custom_modules_are_copied_and_trained(pairs):
    encoder_a, encoder_b = _TemporalEncoder(12, 6), _TemporalEncoder(17, 6)
    before = encoder_a.conv.weight.detach().clone()
    aligner = DeepCTWAligner(
        encoder_a=encoder_a, encoder_b=encoder_b, n_components=2, max_epochs=3, random_state=0
    ).fit(pairs)
    assert isinstance(aligner.encoder_a_, _TemporalEncoder)
    assert aligner.encoder_a_ is not encoder_a
    assert torch.equal(encoder_a.conv.weight, before)  # the user's module is untouched
    assert not torch.equal(aligner.encoder_a_.conv.weight, before)
    assert aligner.projections_[0].shape == (6, 2)
    bad = DeepCTWAligner(encoder_a=torch.nn.Flatten(0), encoder_b=encoder_b, max_epochs=1)
    with pytest.raises(InvalidInputError, match="encoder_a must map"):
        bad.fit(pairs)


def _mean_curve(paths, lengths, grid):
    """Mean over paths of the normalised b position matched with each a position."""
    curves = []
    for path, (n, m) in zip(paths, lengths):
        u, inverse = np.unique(path[:, 0] / (n - 1), return_inverse=True)
        v = np.bincount(inverse, path[:, 1] / (m - 1)) / np.bincount(inverse)
        curves.append(np.interp(grid, u, v))
    return np.mean(curves, axis=0)


def test_centre_paths_removes_the_shared_lead_only():
    rng = np.random.default_rng(0)
    grid = np.linspace(0, 1, 101)
    lengths = [(int(rng.integers(80, 120)), int(rng.integers(80, 120))) for _ in range(30)]
    paths, truths = [], []
    for n, m in lengths:
        # Each pair: its own mild warp (the truth) plus a lead shared by all.
        u = np.linspace(0, 1, n)
        own = u + 0.04 * rng.standard_normal() * np.sin(np.pi * u)
        truths.append(np.column_stack([np.arange(n), np.rint(own * (m - 1))]).astype(np.intp))
        shared = np.clip(own + 0.12 * np.sin(np.pi * u), 0, 1)  # b lags by up to 12 %
        paths.append(np.column_stack([np.arange(n), np.rint(shared * (m - 1))]).astype(np.intp))
    assert np.abs(_mean_curve(paths, lengths, grid) - grid).max() > 0.1
    centred = _centre_paths(paths, lengths)
    # The mean is back on the diagonal, to rounding (half a frame of ~100).
    assert np.abs(_mean_curve(centred, lengths, grid) - grid).max() < 0.01
    for path, fixed, truth, (_, m) in zip(paths, centred, truths, lengths):
        np.testing.assert_array_equal(fixed[:, 0], path[:, 0])
        assert fixed[:, 1].min() >= 0 and fixed[:, 1].max() <= m - 1
        # Each pair keeps its own deviation: what is left is the truth, to a frame or two.
        assert np.abs(fixed[:, 1] - truth[:, 1]).max() <= 2
    # Paths that already average to the diagonal come back unchanged (to rounding).
    mirrored = [paths[0], np.column_stack([paths[0][:, 0], lengths[0][1] - 1 - paths[0][::-1, 1]])]
    assert np.abs(_centre_paths(mirrored, lengths[:1] * 2)[0] - mirrored[0]).max() <= 1


# -- learning: nonlinear views ----------------------------------------------------------


def _errors(nonlinearity, seed, n_pairs, deep_params):
    data, truths = make_nonlinear_views(
        n_pairs=2 * n_pairs, nonlinearity=nonlinearity, random_state=seed
    )
    train, test, truths = data[:n_pairs], data[n_pairs:], truths[n_pairs:]
    start = time.process_time()
    deep = DeepCTWAligner(**deep_params).fit(train)
    seconds = time.process_time() - start
    ctw = CTWAligner().fit(train)

    def mean_error(paths):
        return float(np.mean([path_distance(p, t) for p, t in zip(paths, truths)]))

    return {
        "deep": mean_error([a.path for a in deep.align_pairs(test)]),
        "ctw": mean_error([a.path for a in ctw.align_pairs(test)]),
        "uniform": mean_error([uniform_path(len(a), len(b)) for a, b in test]),
        "seconds": seconds,
    }


def test_deep_ctw_learns_nonlinear_views_fast():
    # Over three initialisations, so that one lucky or unlucky draw decides nothing.
    # Measured (random_state 0, 1, 2): trained 1.66, 1.87, 1.82 frames; the same encoders
    # never updated (linear CCA on random tanh features) 2.23, 2.31, 2.78; CTW 3.61;
    # uniform 7.06. Per draw, trained / frozen ranges 0.66-0.91 (0.91 at random_state=3).
    # With path_prior="diagonal": 1.39, 1.41, 1.39 (1.45 at random_state=3).
    trained, frozen, centred = [], [], []
    for random_state in range(3):
        params = {"max_epochs": 50, "random_state": random_state}
        trained.append(_errors(3.0, 1, 8, params))
        frozen.append(_errors(3.0, 1, 8, {**params, "learning_rate": 0.0}))
        centred.append(_errors(3.0, 1, 8, {**params, "path_prior": "diagonal"}))
    deep = np.mean([run["deep"] for run in trained])
    assert max(run["seconds"] for run in trained) < 15
    assert all(run["deep"] < 0.6 * run["ctw"] for run in trained)
    assert all(run["deep"] < 0.3 * run["uniform"] for run in trained)
    assert deep < 0.85 * np.mean([run["deep"] for run in frozen])
    # The warps of make_nonlinear_views are unbiased, so the prior holds (nearly: see the
    # user guide) and pins the shared re-timing that the initial weights pin otherwise.
    assert all(run["deep"] < 0.45 * run["ctw"] for run in centred)
    assert np.mean([run["deep"] for run in centred]) < 0.9 * deep


@pytest.mark.slow
@pytest.mark.parametrize("nonlinearity, ratio", [(3.0, 0.75), (1.5, 0.9)])
def test_deep_ctw_beats_ctw_on_nonlinear_views(nonlinearity, ratio):
    # Fit on 20 pairs, evaluate on 20 held-out pairs, averaged over 4 data sets. Measured
    # (DeepCTW / CTW, frames): 3.0: 1.68 / 2.94 (seeds 0-3: 1.65/1.93, 1.20/3.55, 1.84/3.27,
    # 2.03/3.00); 1.5: 1.77 / 2.33 (1.50/2.12, 1.38/2.17, 2.04/2.41, 2.15/2.63).
    # The ratio holds for the mean, not for every data set: at 3.0, seed 0 gives 0.85, and
    # other random_state values give 0.85-1.49 there (0.68-1.03 on seed 3); see the user
    # guide ("Limits") for why (a global reparametrisation of the latent, not per-pair error).
    runs = [_errors(nonlinearity, seed, 20, {"random_state": 0}) for seed in range(4)]
    deep, ctw = (np.mean([run[key] for run in runs]) for key in ("deep", "ctw"))
    assert max(run["seconds"] for run in runs) < 60
    assert deep <= ratio * ctw


@pytest.mark.slow
@pytest.mark.parametrize("nonlinearity, ratio", [(3.0, 0.75), (1.5, 0.9)])
def test_deep_ctw_with_diagonal_prior_beats_ctw_for_every_initialisation(nonlinearity, ratio):
    # The protocol per data set and per initialisation, with path_prior="diagonal".
    # Measured DeepCTW / CTW (random_state 0-2): 3.0: 0.31-0.47 on data seeds 1-3;
    # 1.5: 0.48-0.53. Data seed 0 is left out because the prior is wrong there: its 20
    # training pairs have an average lead of b (RMS 3.4 % of the length, against 1.0-1.2 %
    # on seeds 1-3), and forcing it to zero gives 3.6 frames (1.9x CTW); see the user guide.
    for seed in (1, 2, 3):
        for random_state in range(3):
            run = _errors(
                nonlinearity, seed, 20, {"random_state": random_state, "path_prior": "diagonal"}
            )
            assert run["seconds"] < 60
            assert run["deep"] <= ratio * run["ctw"], (seed, random_state, run)


# -- make_nonlinear_views ---------------------------------------------------------------


def test_nonlinear_views_shapes_and_determinism():
    data, truths = make_nonlinear_views(n_pairs=3, n_channels=(4, 6), n_noise=1, random_state=5)
    assert len(data) == len(truths) == 3
    for (a, b), truth in zip(data, truths):
        assert a.shape[1] == 5 and b.shape[1] == 7
        assert truth[0].tolist() == [0, 0] and truth[-1].tolist() == [len(a) - 1, len(b) - 1]
        assert np.all(np.diff(truth, axis=0) >= 0)
    again, _ = make_nonlinear_views(n_pairs=3, n_channels=(4, 6), n_noise=1, random_state=5)
    for (a, b), (c, d) in zip(data, again):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    other, _ = make_nonlinear_views(n_pairs=3, n_channels=(4, 6), n_noise=1, random_state=6)
    assert not np.array_equal(data[0][0][0], other[0][0][0])


def test_nonlinear_views_true_path_matches_latent_positions():
    data, truths, positions = make_nonlinear_views(
        n_pairs=5, nonlinearity=3.0, return_positions=True, random_state=1
    )
    for (a, b), truth, (position_a, position_b) in zip(data, truths, positions):
        assert len(position_a) == len(a) and len(position_b) == len(b)
        # Frame j of b shows latent position p_b[j], which is frame interp(p_b[j]) of a.
        frame_in_a = np.interp(position_b, position_a, np.arange(len(a)))
        for j in range(len(b)):
            matched = truth[truth[:, 1] == j, 0]
            assert np.min(np.abs(matched - frame_in_a[j])) <= 0.5 + 1e-9


def test_nonlinear_views_share_one_map_per_modality():
    data, _ = make_nonlinear_views(n_pairs=4, n_noise=0, random_state=2)
    # Every sequence starts and ends at the same latent point, so the first
    # and last frames of one modality coincide across pairs (one map per modality).
    for side in (0, 1):
        for pair in data[1:]:
            np.testing.assert_allclose(pair[side][[0, -1]], data[0][side][[0, -1]])
    assert data[0][0].shape[1] == 10 and data[0][1].shape[1] == 15
    assert not np.allclose(data[0][0][0], data[0][0][-1])  # the views do move


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_pairs": 0}, "'n_pairs' parameter .* must be an int in the range \\[1, inf\\)"),
        ({"nonlinearity": -1.0}, "'nonlinearity' parameter .* must be a float in the range"),
        ({"n_channels": (3,)}, "'n_channels' parameter .* must be a pair"),
        ({"n_channels": (3, 0)}, r"'n_channels\[1\]' parameter .* must be an int"),
        ({"noise": float("nan")}, "'noise' parameter .* must be a float in the range"),
    ],
)
def test_nonlinear_views_bad_parameters(params, message):
    with pytest.raises(InvalidInputError, match=message):
        make_nonlinear_views(**params)

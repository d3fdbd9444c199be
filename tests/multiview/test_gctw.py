"""Generalised canonical time warping (alignkit.multiview._gctw) and its basis/Gauss-Newton core."""

import itertools

import numpy as np
import pytest

from alignkit.datasets import make_warped_spirals, warp_to_path
from alignkit.estimators._uniform import uniform_path
from alignkit.exceptions import InvalidInputError, WindowError
from alignkit.kernels._numba._asymmetric import asymmetric_dtw
from alignkit.metrics import path_distance
from alignkit.multiview._basis import (
    basis_bank,
    fit_weights,
    gauss_newton_step,
    simplex_qp,
    warp_energy,
)
from alignkit.multiview._cca import ctw_objective, multiset_cca
from alignkit.multiview._gctw import MultiAlignment, _asymmetric_dtw, gctw

DEFAULT_BASES = (("pol", 3, 0.4), ("tan", 3, 0.6, 1.0))
SEEDS = range(10)


def _true_paths(positions):
    """Ground-truth path between every pair, from the latent position of each frame."""
    truths = {}
    for k, j in itertools.combinations(range(len(positions)), 2):
        frames = np.arange(len(positions[k]), dtype=float)
        in_k = np.interp(positions[j], positions[k], frames)
        truths[k, j] = warp_to_path(in_k, len(positions[k]))
    return truths


def _mean_error(paths_of, truths):
    return np.mean([path_distance(paths_of(k, j), truth) for (k, j), truth in truths.items()])


@pytest.fixture(scope="module")
def spiral_triples():
    triples = []
    for seed in SEEDS:
        sequences, _, positions = make_warped_spirals(
            n_sequences=3, return_positions=True, random_state=seed
        )
        triples.append((sequences, _true_paths(positions)))
    return triples


@pytest.fixture(scope="module")
def spiral_results(spiral_triples):
    return {
        warping: [gctw(sequences, warping=warping) for sequences, _ in spiral_triples]
        for warping in ("dtw", "gtw")
    }


# --- bases ---------------------------------------------------------------------------


@pytest.mark.parametrize("n_latent, n_frames", [(2, 2), (50, 30), (120, 200)])
@pytest.mark.parametrize(
    "bases", [DEFAULT_BASES, (("pol", 5, 0.5), ("tan", 5, 1.0, 1.0)), (("tan", 1, 2.0, 0.0),)]
)
def test_bases_are_monotone_and_anchored(n_latent, n_frames, bases):
    bank = basis_bank(n_latent, n_frames, bases)
    assert bank.shape == (n_latent, sum(spec[1] for spec in bases))
    assert np.all(np.diff(bank, axis=0) >= 0)
    np.testing.assert_allclose(bank[0], 0.0, atol=1e-12)
    np.testing.assert_allclose(bank[-1], n_frames - 1.0)
    # Any non-negative weights summing to 1 give a monotone, anchored warp.
    weights = np.random.default_rng(0).dirichlet(np.ones(bank.shape[1]), size=20)
    warps = bank @ weights.T
    assert np.all(np.diff(warps, axis=0) >= -1e-12)
    np.testing.assert_allclose(warps[[0, -1]], [[0.0] * 20, [n_frames - 1.0] * 20], atol=1e-9)


def test_polynomial_bases_follow_their_definition():
    # x ** w with w in logspace(-s, s, k) on x in [0, 1], scaled to frames.
    x = np.linspace(0.0, 1.0, 11)
    expected = np.column_stack([x**w for w in (10**-0.4, 1.0, 10**0.4)]) * 7
    np.testing.assert_allclose(basis_bank(11, 8, [("pol", 3, 0.4)]), expected)


def test_fit_weights_recovers_the_uniform_warp():
    bank = basis_bank(40, 25, DEFAULT_BASES)
    weights = fit_weights(bank, np.linspace(0.0, 24.0, 40))
    np.testing.assert_allclose(bank @ weights, np.linspace(0.0, 24.0, 40), atol=1e-4)
    assert np.all(weights >= 0) and weights.sum() == pytest.approx(1.0)


def test_simplex_qp_matches_a_grid_search():
    rng = np.random.default_rng(3)
    grid = np.array(
        [(a, b, 1 - a - b) for a in np.linspace(0, 1, 201) for b in np.linspace(0, 1, 201)]
    )
    grid = grid[grid[:, 2] >= -1e-12]
    for _ in range(5):
        root = rng.normal(size=(3, 3))
        hessian, linear = root @ root.T, rng.normal(size=3) * 3
        x = simplex_qp(hessian, linear, np.full(3, 1 / 3), [3])
        values = 0.5 * np.einsum("ni,ij,nj->n", grid, hessian, grid) + grid @ linear
        assert np.all(x >= 0) and x.sum() == pytest.approx(1.0)
        assert 0.5 * x @ hessian @ x + linear @ x <= values.min() + 1e-9


# --- Gauss-Newton ----------------------------------------------------------------------


def _toy_pair(true_weights, n_latent=100, n_frames=80):
    """A reference on the latent timeline and a copy whose true warp lies in the bases."""

    def signal(u):
        return np.column_stack([np.sin(2 * np.pi * 1.3 * u), np.cos(2 * np.pi * 0.6 * u) + u])

    banks = [
        basis_bank(n_latent, n_latent, [("pol", 1, 0.0)]),  # the identity, fixed
        basis_bank(n_latent, n_frames, DEFAULT_BASES),
    ]
    true_warp = banks[1] @ true_weights
    latent = np.linspace(0.0, 1.0, n_latent)
    # Frame f of the copy shows the latent instant the true warp sends to f.
    copy = signal(np.interp(np.arange(n_frames), true_warp, latent))
    return [signal(latent), copy], banks, true_warp


@pytest.mark.parametrize(
    "true_weights",
    [
        [0.1, 0.2, 0.0, 0.0, 0.5, 0.2],
        [0.0, 0.3, 0.4, 0.3, 0.0, 0.0],
        [0.6, 0.0, 0.0, 0.0, 0.0, 0.4],
    ],
)
def test_gauss_newton_recovers_a_warp_in_the_span(true_weights):
    sequences, banks, true_warp = _toy_pair(np.asarray(true_weights))
    uniform = fit_weights(banks[1], np.linspace(0.0, 79.0, 100))
    weights = np.concatenate([[1.0], uniform])
    energies = [warp_energy(sequences, banks, weights)]
    for _ in range(15):
        weights = gauss_newton_step(sequences, banks, weights)
        energies.append(warp_energy(sequences, banks, weights))
    assert np.all(np.diff(energies) <= 0)
    assert np.abs(banks[1] @ weights[1:] - true_warp).max() < 0.1


# --- asymmetric DTW against the mean ----------------------------------------------------


def test_asymmetric_dtw_matches_exhaustive_search():
    rng = np.random.default_rng(1)
    for n_frames, n_latent in [(1, 3), (4, 4), (4, 7), (5, 8)]:
        sequence, reference = rng.normal(size=(n_frames, 2)), rng.normal(size=(n_latent, 2))
        best = np.inf
        # A path advances the sequence by 0 or 1 frame at each of the n_latent - 1 steps.
        for moves in itertools.combinations(range(n_latent - 1), n_frames - 1):
            steps = np.zeros(n_latent, dtype=np.int64)
            steps[np.asarray(moves, dtype=np.int64) + 1] = 1
            path = np.cumsum(steps)
            best = min(best, np.sum((sequence[path] - reference) ** 2))
        path = _asymmetric_dtw(sequence, reference, None)
        assert path[0] == 0 and path[-1] == n_frames - 1
        assert set(np.diff(path)) <= {0, 1}
        assert np.sum((sequence[path] - reference) ** 2) == pytest.approx(best)


def _asymmetric_dtw_numpy(sequence, reference, bounds):
    """The NumPy dynamic programme GCTW used before its Numba kernel: the reference."""
    n_frames, n_latent = len(sequence), len(reference)
    cost = (
        np.sum(sequence**2, axis=1)[:, None]
        + np.sum(reference**2, axis=1)[None, :]
        - 2.0 * sequence @ reference.T
    )
    cost = np.maximum(cost, 0.0)
    if bounds is not None:
        columns = np.arange(n_latent)[None, :]
        cost[(columns < bounds[0][:, None]) | (columns >= bounds[1][:, None])] = np.inf
    total = np.full(n_frames, np.inf)
    total[0] = cost[0, 0]
    advance = np.zeros((n_frames, n_latent), dtype=bool)
    for j in range(1, n_latent):
        moved = np.concatenate([[np.inf], total[:-1]])
        advance[:, j] = moved <= total
        total = cost[:, j] + np.minimum(moved, total)
    if not np.isfinite(total[-1]):
        return None, np.inf
    path = np.empty(n_latent, dtype=np.int64)
    frame = n_frames - 1
    for j in range(n_latent - 1, -1, -1):
        path[j] = frame
        frame -= int(advance[frame, j])
    return path, total[-1]


def _random_band(rng, n_frames, n_latent):
    lo = np.sort(rng.integers(0, n_latent, size=n_frames))
    hi = np.minimum(lo + rng.integers(1, n_latent + 1, size=n_frames), n_latent)
    lo[0] = 0
    hi[-1] = n_latent
    return lo, hi


@pytest.mark.parametrize("seed", range(40))
def test_asymmetric_dtw_kernel_matches_the_numpy_programme(seed):
    rng = np.random.default_rng(seed)
    n_frames = int(rng.integers(1, 12))
    n_latent = int(rng.integers(n_frames, 20))
    n_channels = int(rng.integers(1, 4))
    # Small integers make ties common, where "ties prefer advancing" decides the path.
    if seed % 2:
        sequence = rng.integers(-2, 3, size=(n_frames, n_channels)).astype(float)
        reference = rng.integers(-2, 3, size=(n_latent, n_channels)).astype(float)
    else:
        sequence = rng.normal(size=(n_frames, n_channels))
        reference = rng.normal(size=(n_latent, n_channels))
    bounds = None if seed % 4 < 2 else _random_band(rng, n_frames, n_latent)
    expected, total = _asymmetric_dtw_numpy(sequence, reference, bounds)
    lo, hi = (
        (np.zeros(n_frames, np.int64), np.full(n_frames, n_latent, np.int64))
        if bounds is None
        else bounds
    )
    path, kernel_total = asymmetric_dtw(sequence, reference, lo, hi)
    if expected is None:
        assert kernel_total == np.inf
        with pytest.raises(WindowError, match="window admits no path"):
            _asymmetric_dtw(sequence, reference, bounds)
        return
    np.testing.assert_array_equal(path, expected)
    assert kernel_total == pytest.approx(total, rel=1e-12, abs=1e-12)
    np.testing.assert_array_equal(_asymmetric_dtw(sequence, reference, bounds), expected)


def test_asymmetric_dtw_takes_read_only_and_strided_input():
    rng = np.random.default_rng(3)
    sequence = np.asfortranarray(rng.normal(size=(6, 3)))
    reference = rng.normal(size=(18, 3))[::2]
    sequence.setflags(write=False)
    expected, _ = _asymmetric_dtw_numpy(sequence, reference, None)
    np.testing.assert_array_equal(_asymmetric_dtw(sequence, reference, None), expected)


# --- spirals: accuracy -------------------------------------------------------------------


def test_spiral_triples_gtw_beats_pctw_and_both_beat_uniform(spiral_triples, spiral_results):
    errors = {"uniform": [], "dtw": [], "gtw": []}
    for index, (sequences, truths) in enumerate(spiral_triples):
        lengths = [len(s) for s in sequences]
        errors["uniform"].append(
            _mean_error(lambda k, j, n=lengths: uniform_path(n[k], n[j]), truths)
        )
        for warping in ("dtw", "gtw"):
            errors[warping].append(_mean_error(spiral_results[warping][index].path_between, truths))
    means = {name: np.mean(values) for name, values in errors.items()}
    # Measured on these seeds: uniform 7.0, pCTW 5.2, GTW (warm start) 1.4 frames.
    assert means["gtw"] <= means["dtw"] < means["uniform"]
    assert means["gtw"] < 0.5 * means["uniform"]


def test_warm_start_beats_restarting_from_uniform(spiral_triples, spiral_results):
    warm = [
        _mean_error(result.path_between, truths)
        for result, (_, truths) in zip(spiral_results["gtw"], spiral_triples)
    ]
    cold = [
        _mean_error(gctw(sequences, warping="gtw", warm_start=False).path_between, truths)
        for sequences, truths in spiral_triples
    ]
    # Measured on these seeds: warm 1.4, cold (ZCTW's released gtw.m) 2.1 frames.
    assert np.mean(warm) < np.mean(cold)


# --- spirals: the iterations -------------------------------------------------------------


def test_objective_history_is_non_increasing(spiral_results):
    for warping, results in spiral_results.items():
        guarded = 0
        for result in results:
            history = result.objective_history
            assert len(history) == result.n_iter >= 1
            assert np.all(np.diff(history) <= 1e-8 * np.abs(history[:-1]))
            guarded += result.stop_reason == "objective_increase"
        # The safeguard is a backstop, not what ends most runs.
        assert guarded <= 2, warping


def test_result_is_consistent_with_its_warps(spiral_triples, spiral_results):
    for warping in ("dtw", "gtw"):
        sequences = spiral_triples[0][0]
        result = spiral_results[warping][0]
        views = result.warp(sequences)
        n_components = result.projections[0].shape[1]
        projections, correlations, _ = multiset_cca(views, 0.0, n_components)
        np.testing.assert_allclose(result.correlations, correlations, atol=1e-10)
        assert ctw_objective(views, result.projections) == pytest.approx(
            result.objective_history[-1], rel=1e-10
        )


def test_paths_and_pairwise_paths_are_valid(spiral_triples, spiral_results):
    sequences = spiral_triples[0][0]
    lengths = [len(s) for s in sequences]
    dtw_result, gtw_result = spiral_results["dtw"][0], spiral_results["gtw"][0]
    assert dtw_result.paths.dtype == np.int64 and dtw_result.paths.shape == (max(lengths), 3)
    assert set(np.unique(np.diff(dtw_result.paths, axis=0))) <= {0, 1}
    assert gtw_result.paths.dtype == np.float64 and gtw_result.rounded_paths.dtype == np.int64
    assert len(gtw_result.weights) == 3 and all(
        w.sum() == pytest.approx(1) for w in gtw_result.weights
    )
    for result, (k, j) in itertools.product((dtw_result, gtw_result), [(0, 1), (2, 0), (1, 2)]):
        path = result.path_between(k, j)
        assert path[0].tolist() == [0, 0] and path[-1].tolist() == [lengths[k] - 1, lengths[j] - 1]
        assert set(map(tuple, np.diff(path, axis=0))) <= {(0, 1), (1, 0), (1, 1)}


def test_window_constrains_the_dtw_warps(spiral_triples):
    sequences = spiral_triples[1][0]
    n_latent = max(len(s) for s in sequences)
    unconstrained = gctw(sequences, max_iter=3)
    wide = gctw(sequences, max_iter=3, window=n_latent)
    np.testing.assert_array_equal(wide.paths, unconstrained.paths)
    narrow = gctw(sequences, max_iter=3, window=5)
    latent = np.arange(n_latent)[:, None]
    diagonal = latent * (np.array([len(s) for s in sequences]) - 1) / (n_latent - 1)
    assert np.abs(narrow.paths - diagonal).max() <= 6
    with pytest.raises(WindowError):
        gctw(sequences, window=("itakura", 0.5))


def test_smoothness_smooths_the_gtw_warps(spiral_triples):
    sequences = spiral_triples[2][0]
    rough = gctw(sequences, warping="gtw", max_iter=10)
    smooth = gctw(sequences, warping="gtw", max_iter=10, smoothness=100.0)
    uniform_roughness = sum((len(s) - 1) ** 2 / (len(rough.paths) - 1) for s in sequences)

    def roughness(result):
        return np.sum(np.diff(result.paths, axis=0) ** 2)

    assert uniform_roughness - 1e-6 <= roughness(smooth) < roughness(rough)


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sequences, match",
    [
        ([np.zeros((5, 2))], "at least 2"),
        (np.zeros((5, 2)), "at least 2"),
        ([np.ones((5, 2)), np.array([[0.0, 1.0], [np.nan, 2.0]])], r"sequences\[1\] holds NaN"),
        ([np.ones((5, 2)), np.ones((1, 2))], "single timepoint"),
    ],
)
def test_bad_sequences_raise(sequences, match):
    with pytest.raises(InvalidInputError, match=match):
        gctw(sequences)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"warping": "gn"}, "'warping' parameter of gctw must be a str among"),
        ({"bases": ()}, "non-empty"),
        ({"bases": (("poly", 3, 0.4),)}, r"bases\[0\]"),
        ({"bases": (("pol", 3),)}, r"takes \(n_bases, spread\)"),
        ({"bases": (("pol", 0, 0.4),)}, "n_bases must be"),
        ({"bases": (("tan", 3, 0.0, 1.0),)}, "slope must be"),
        ({"bases": (("tan", 3, 1.0, -1.0),)}, "spread must be"),
        ({"max_iter": 0}, "'max_iter' parameter of gctw"),
        ({"tol": -1.0}, "'tol' parameter of gctw"),
        ({"warm_start": "yes"}, "'warm_start' parameter of gctw"),
        ({"window": 3}, "window applies"),
        ({"n_timepoints": 1}, "'n_timepoints' parameter of gctw"),
    ],
)
def test_bad_gtw_options_raise(kwargs, match):
    sequences = [np.random.default_rng(0).normal(size=(n, 2)) for n in (20, 25, 30)]
    with pytest.raises(InvalidInputError, match=match):
        gctw(sequences, **{"warping": "gtw", **kwargs})


def test_bad_dtw_options_raise():
    sequences = [np.random.default_rng(0).normal(size=(n, 2)) for n in (20, 25, 30)]
    with pytest.raises(InvalidInputError, match="at least the longest length 30"):
        gctw(sequences, n_timepoints=25)
    with pytest.raises(InvalidInputError, match="smoothness applies"):
        gctw(sequences, smoothness=1.0)
    with pytest.raises(InvalidInputError, match="not a mask"):
        gctw(sequences, window=np.ones((30, 30), dtype=bool))


def test_singular_views_need_reg():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 1))
    sequences = [np.hstack([base, base]), rng.normal(size=(40, 2)), rng.normal(size=(35, 2))]
    with pytest.raises(InvalidInputError, match="singular"):
        gctw(sequences)
    assert gctw(sequences, reg=0.1, max_iter=2).n_iter >= 1


def test_multialignment_checks_its_paths():
    projections = [np.eye(1)] * 3
    with pytest.raises(InvalidInputError, match=r"shape \(n_latent, 3\)"):
        MultiAlignment(np.zeros((4, 2)), projections, [1.0], [0.0], 1, True, "tol", (2, 2, 2))
    with pytest.raises(InvalidInputError, match="non-decreasing"):
        MultiAlignment([[1, 0], [0, 1]], projections[:2], [1.0], [0.0], 1, True, "tol", (2, 2))
    with pytest.raises(InvalidInputError, match="within the sequence lengths"):
        MultiAlignment([[0, 0], [2, 1]], projections[:2], [1.0], [0.0], 1, True, "tol", (2, 2))
    result = MultiAlignment([[0, 0], [1, 1]], projections[:2], [1.0], [0.0], 1, True, "tol", (2, 2))
    with pytest.raises(InvalidInputError, match="out of range"):
        result.path_between(0, 2)
    with pytest.raises(InvalidInputError, match="lengths"):
        result.warp([np.zeros(2), np.zeros(3)])


@pytest.mark.parametrize("warping", ["dtw", "gtw"])
def test_overflowing_covariance_names_the_sequence(warping):
    # Issue 13, item 2: inputs around 1e154 overflow the view covariance (LinAlgError before).
    sequences, _ = make_warped_spirals(n_sequences=3, random_state=0)
    huge = [sequences[0], sequences[1] * 1e154, sequences[2]]
    with pytest.raises(
        InvalidInputError, match=r"covariance of sequences\[1\] overflows float64.* 7\.59e\+155"
    ):
        gctw(huge, warping=warping, max_iter=3)


@pytest.mark.parametrize("warping", ["dtw", "gtw"])
@pytest.mark.parametrize("scale", [1e150, 1e-100])
def test_large_and_small_values_that_do_not_overflow_give_the_unscaled_alignment(warping, scale):
    # GCTW is invariant to scaling one view (CCA normalises it away): the unscaled run
    # is the truth for a view scaled close to, but below, the overflow.
    sequences, _ = make_warped_spirals(n_sequences=3, random_state=0)
    reference = gctw(sequences, warping=warping, max_iter=10)
    scaled = gctw([sequences[0], sequences[1] * scale, sequences[2]], warping=warping, max_iter=10)
    np.testing.assert_allclose(scaled.paths, reference.paths, rtol=0, atol=1e-9)
    np.testing.assert_allclose(scaled.correlations, reference.correlations, rtol=1e-9)
    np.testing.assert_allclose(
        scaled.projections[1] * scale, reference.projections[1], rtol=1e-6, atol=1e-12
    )

"""SoftAttentionAligner, make_warped_copy and make_digit_captions, against known truths.

Truths: the source frame each copied frame shows (``make_warped_copy``), the
digit's bounding box on the canvas (``make_digit_captions``), a brute-force
enumeration of all monotone paths (the hard-path DTW), the uniform diagonal
path and the box's share of the canvas (uniform attention) as baselines, and
the same pair evaluated alone or padded inside a batch (masks).
"""

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold

from alignkit.datasets._attention import make_digit_captions, make_warped_copy
from alignkit.estimators._attention_alignment import (
    AttentionAlignment,
    attention_path,
    upsample_attention,
)
from alignkit.estimators._soft_attention import SoftAttentionAligner, _check_pairs
from alignkit.estimators._uniform import uniform_path
from alignkit.exceptions import InvalidInputError
from alignkit.metrics import path_distance

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from alignkit.kernels._torch import _attention  # noqa: E402
from alignkit.kernels._torch._attention import _annotate, _loss  # noqa: E402


def _mass(weights, sources):
    """Mean attention on the true source frame, over target frames and pairs."""
    return float(np.mean([w[np.arange(len(s)), s].mean() for w, s in zip(weights, sources)]))


def _errors(model, pairs, paths):
    learned = np.mean([path_distance(al.path, p) for al, p in zip(model.align_pairs(pairs), paths)])
    uniform = np.mean(
        [path_distance(uniform_path(len(a), len(b)), p) for (a, b), p in zip(pairs, paths)]
    )
    return learned, uniform


def _task(n_train, n_test, **options):
    train, _, _ = make_warped_copy(n_pairs=n_train, random_state=0, return_sources=True, **options)
    test, paths, sources = make_warped_copy(
        n_pairs=n_test, random_state=1, return_sources=True, **options
    )
    return train, test, paths, sources


@pytest.fixture(scope="module")
def small_task():
    return _task(150, 40, n_timepoints=(8, 10))


@pytest.fixture(scope="module")
def fitted(small_task):
    return SoftAttentionAligner(max_epochs=25, random_state=0).fit(small_task[0])


# -- make_warped_copy -------------------------------------------------------------------


def _is_warping_path(path, n, m):
    steps = np.diff(path, axis=0)
    return (
        path[0].tolist() == [0, 0]
        and path[-1].tolist() == [n - 1, m - 1]
        and ((steps == [1, 0]) | (steps == [0, 1]) | (steps == [1, 1])).all(axis=1).all()
    )


@pytest.mark.parametrize("content_repeats", [False, True])
def test_warped_copy_copies_the_source_frames(content_repeats):
    pairs, paths, sources = make_warped_copy(
        n_pairs=30,
        n_timepoints=(5, 9),
        noise=0.0,
        content_repeats=content_repeats,
        return_sources=True,
        random_state=3,
    )
    for (a, b), path, source in zip(pairs, paths, sources):
        assert 5 <= len(a) <= 9 and a.shape[1] == b.shape[1] == 4
        np.testing.assert_array_equal(b, a[source])
        assert np.all(np.diff(source) >= 0)
        counts = np.bincount(source, minlength=len(a))
        assert counts.max() <= 2
        if content_repeats:
            expected = np.where(a[:, 0] < -0.4307, 0, np.where(a[:, 0] > 0.4307, 2, 1))
            if expected.sum() > 0:
                np.testing.assert_array_equal(counts, expected)
        assert _is_warping_path(path, len(a), len(b))
        # Every copied frame's true match is on the path; skipped frames go with j - 1.
        points = {tuple(p) for p in path.tolist()}
        assert all((int(i), j) in points for j, i in enumerate(source))
        assert len(path) == len(b) + np.sum(counts == 0)
        assert {i for i, _ in points} == set(range(len(a)))


def test_warped_copy_reverse_is_the_mirror_image():
    pairs, paths, sources = make_warped_copy(
        n_pairs=10, noise=0.0, reverse=True, return_sources=True, random_state=0
    )
    for (a, b), path, source in zip(pairs, paths, sources):
        np.testing.assert_array_equal(b, a[source])
        assert np.all(np.diff(source) <= 0)
        mirrored = path.copy()
        mirrored[:, 0] = len(a) - 1 - mirrored[:, 0]
        assert _is_warping_path(mirrored, len(a), len(b))


def test_warped_copy_noise_reproducibility_and_uniform_error():
    first, paths = make_warped_copy(n_pairs=200, noise=0.5, random_state=5)
    second, _ = make_warped_copy(n_pairs=200, noise=0.5, random_state=5)
    for (a1, b1), (a2, b2) in zip(first, second):
        np.testing.assert_array_equal(a1, a2)
        np.testing.assert_array_equal(b1, b2)
    _, _, sources = make_warped_copy(n_pairs=200, noise=0.5, random_state=5, return_sources=True)
    residual = np.vstack([b - a[s] for (a, b), s in zip(first, sources)])
    assert abs(residual.std() - 0.5) < 0.03
    # The default lengths make the diagonal a poor guess (the "about 0.8").
    uniform = np.mean(
        [path_distance(uniform_path(len(a), len(b)), p) for (a, b), p in zip(first, paths)]
    )
    assert 0.65 < uniform < 0.9


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_pairs": 0}, "n_pairs"),
        ({"n_timepoints": 1}, "n_timepoints"),
        ({"n_timepoints": (9, 5)}, "n_timepoints"),
        ({"n_timepoints": 2.5}, "n_timepoints"),
        ({"n_channels": 0}, "n_channels"),
        ({"noise": -1.0}, "noise"),
    ],
)
def test_warped_copy_bad_arguments(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        make_warped_copy(**kwargs)


# -- the hard path ----------------------------------------------------------------------


def _all_monotone_paths(n, m):
    """Every symmetric1 path from (0, 0) to (n-1, m-1), by recursion."""
    if n == 1 and m == 1:
        return [[(0, 0)]]
    paths = []
    for di, dj in ((1, 1), (1, 0), (0, 1)):
        if n - di >= 1 and m - dj >= 1:
            for head in _all_monotone_paths(n - di, m - dj):
                paths.append(head + [(n - 1, m - 1)])
    return paths


@pytest.mark.parametrize(("n", "m"), [(1, 1), (1, 4), (3, 1), (2, 3), (4, 4), (5, 3)])
def test_attention_path_matches_brute_force(n, m):
    rng = np.random.default_rng(n * 10 + m)
    for _ in range(5):
        attention = rng.dirichlet(np.ones(n) * 0.5, size=m)
        path, cost = attention_path(attention)
        costs = {
            tuple(p): sum(-np.log(max(attention[j, i], 1e-12)) for i, j in p)
            for p in _all_monotone_paths(n, m)
        }
        best = min(costs.values())
        assert cost == pytest.approx(best, rel=1e-12)
        assert costs[tuple(map(tuple, path.tolist()))] == pytest.approx(best, rel=1e-12)


def test_attention_path_bad_input():
    with pytest.raises(InvalidInputError, match="2-D"):
        attention_path(np.ones(3))
    with pytest.raises(InvalidInputError, match="non-negative"):
        attention_path(-np.ones((2, 2)))


# -- learning (fast) --------------------------------------------------------------------


def test_align_mode_learns_the_copy(small_task, fitted):
    _, test, paths, sources = small_task
    weights = fitted.attention(test)
    assert all(w.shape == (len(b), len(a)) for w, (a, b) in zip(weights, test))
    np.testing.assert_allclose([w.sum(axis=1) for w in weights[:1]][0], 1.0, rtol=1e-5)
    # Untrained, the mass is about 1 / 9; 25 epochs reach 0.57-0.74 over random_state 0-3
    # (path errors 0.14-0.17, loss ratios 0.02-0.04).
    assert _mass(weights, sources) >= 0.5
    learned, uniform = _errors(fitted, test, paths)
    assert learned <= 0.3 and learned <= 0.5 * uniform
    assert fitted.loss_curve_[-1] < 0.1 * fitted.loss_curve_[0]
    assert fitted.score(test) > -0.1


def test_align_returns_soft_and_hard_alignment(small_task, fitted):
    a, b = small_task[1][0]
    alignment = fitted.align(a, b)
    assert isinstance(alignment, AttentionAlignment)
    assert alignment.shape == (len(a), len(b))
    np.testing.assert_allclose(alignment.soft_matrix, fitted.attention([(a, b)])[0].T)
    path, cost = attention_path(alignment.soft_matrix.T)
    np.testing.assert_array_equal(alignment.path, path)
    assert alignment.distance == pytest.approx(cost)
    restored = pickle.loads(pickle.dumps(alignment))
    np.testing.assert_array_equal(restored.soft_matrix, alignment.soft_matrix)
    np.testing.assert_array_equal(restored.path, alignment.path)


def test_transform_returns_the_attended_contexts(small_task, fitted):
    pairs = small_task[1][:5]
    contexts = fitted.transform(pairs)
    assert len(contexts) == 5
    model = fitted.model_
    for (a, b), context, weights in zip(pairs, contexts, fitted.attention(pairs)):
        with torch.no_grad():
            source = torch.as_tensor(a[None], dtype=torch.float32)
            states, _ = model["encoder"](source)
            annotations = (model["merge"](states) + model["skip"](source))[0].numpy()
        assert context.shape == (len(b), fitted.hidden_size)
        np.testing.assert_allclose(context, weights @ annotations, atol=1e-5)


def test_predict_mode_trains_and_decodes():
    train, test, _, _ = _task(60, 5, n_timepoints=(5, 7), content_repeats=True)
    model = SoftAttentionAligner(mode="predict", max_epochs=4, random_state=0).fit(train)
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    decoded = model.predict([a for a, _ in test])
    for (a, _), frames in zip(test, decoded):
        assert frames.shape[1] == 4
        assert 1 <= len(frames) <= int(np.ceil(model.max_length_ratio_ * len(a))) + 1
    weights = model.attention(test)
    assert all(w.shape == (len(b), len(a)) for w, (a, b) in zip(weights, test))


# -- masks ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["align", "predict"])
@pytest.mark.parametrize("attention_score", ["additive", "dot", "general", "location"])
def test_padding_does_not_change_results(mode, attention_score):
    pairs, _ = make_warped_copy(n_pairs=8, n_timepoints=(4, 9), random_state=0)
    model = SoftAttentionAligner(
        mode=mode, attention_score=attention_score, max_epochs=1, random_state=0
    ).fit(pairs)
    alone = model.attention(pairs)
    with torch.no_grad():
        checked = _check_pairs(pairs, model._fitted_spec())
        batch = model._batch(_attention, checked)  # padded to the longest source and target
        padded = model._forward(_attention, batch)[2].numpy()
    for k, ((a, b), weights) in enumerate(zip(pairs, alone)):
        np.testing.assert_allclose(padded[k, : len(b), : len(a)], weights, atol=1e-6)
        assert (padded[k, :, len(a) :] == 0).all()
    scores = [model.score([pair]) for pair in pairs]
    assert np.isfinite(scores).all()


# -- estimator contract -----------------------------------------------------------------


def test_random_state_reproducible_and_seed_sensitive():
    pairs, _ = make_warped_copy(n_pairs=40, n_timepoints=6, random_state=0)
    first = SoftAttentionAligner(max_epochs=2, random_state=4, n_threads=1).fit(pairs)
    second = SoftAttentionAligner(max_epochs=2, random_state=4, n_threads=1).fit(pairs)
    other = SoftAttentionAligner(max_epochs=2, random_state=5).fit(pairs)
    assert first.loss_curve_ == second.loss_curve_
    np.testing.assert_array_equal(first.attention(pairs)[0], second.attention(pairs)[0])
    assert other.loss_curve_ != first.loss_curve_


def test_pickle_roundtrip(fitted, small_task):
    pairs = small_task[1][:3]
    restored = pickle.loads(pickle.dumps(fitted))
    for before, after in zip(fitted.attention(pairs), restored.attention(pairs)):
        np.testing.assert_array_equal(before, after)
    assert restored.score(pairs) == fitted.score(pairs)


def test_clone_and_get_params_without_torch():
    code = textwrap.dedent(
        """
        import sys
        from sklearn.base import clone
        from alignkit.estimators._soft_attention import SoftAttentionAligner
        model = clone(SoftAttentionAligner(mode="predict", hidden_size=8))
        assert model.get_params()["hidden_size"] == 8
        assert "torch" not in sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    params = clone(SoftAttentionAligner(attention_score="dot")).get_params()
    assert params["attention_score"] == "dot" and params["mode"] == "auto"


def test_grid_search_over_score():
    pairs, _ = make_warped_copy(n_pairs=160, n_timepoints=(6, 8), random_state=0)
    search = GridSearchCV(
        SoftAttentionAligner(max_epochs=25, random_state=0),
        {"attention_score": ["additive", "location"], "hidden_size": [16, 32]},
        cv=KFold(2),
    ).fit(pairs)
    # Content-blind location attention cannot find the copied frames, at either size
    # (measured over random_state 0-1: additive -0.06 to -0.26, location -0.80 to -0.99).
    assert search.best_params_["attention_score"] == "additive"
    scores = dict(
        zip(map(str, search.cv_results_["params"]), search.cv_results_["mean_test_score"])
    )
    for size in (16, 32):
        additive = scores[str({"attention_score": "additive", "hidden_size": size})]
        location = scores[str({"attention_score": "location", "hidden_size": size})]
        assert additive > location
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_n_init_keeps_the_training_with_the_lowest_loss():
    pairs, _ = make_warped_copy(n_pairs=30, n_timepoints=6, random_state=0)
    # A fixed thread count: None follows the machine's load, and torch splits some sums.
    model = SoftAttentionAligner(max_epochs=3, n_init=3, random_state=7, n_threads=1).fit(pairs)
    assert len(model.init_losses_) == 3 and len(set(model.init_losses_)) == 3
    assert model.loss_curve_[-1] == min(model.init_losses_)
    # The kept training is the single fit with the seed drawn for it.
    seeds = np.random.RandomState(7).randint(np.iinfo(np.int32).max, size=3)
    best = int(seeds[int(np.argmin(model.init_losses_))])
    single = SoftAttentionAligner(max_epochs=3, random_state=best, n_threads=1).fit(pairs)
    assert single.loss_curve_ == model.loss_curve_ and single.init_losses_ == [
        single.loss_curve_[-1]
    ]
    np.testing.assert_array_equal(model.attention(pairs[:2])[1], single.attention(pairs[:2])[1])
    assert model.get_params()["n_init"] == 3 and model.get_params()["random_state"] == 7
    # warm_start continues the kept training (one more epoch, no new restarts).
    model.set_params(warm_start=True, max_epochs=1).fit(pairs)
    assert model.n_iter_ == 4 and model.loss_curve_[:3] == single.loss_curve_


def test_warm_start_continues():
    pairs, _ = make_warped_copy(n_pairs=30, n_timepoints=6, random_state=0)
    model = SoftAttentionAligner(max_epochs=2, warm_start=True, random_state=0).fit(pairs)
    model.fit(pairs)
    assert model.n_iter_ == 4 and len(model.loss_curve_) == 4


# -- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"mode": "copy"}, "mode"),
        ({"input": "image"}, "input"),
        ({"target_type": "labels"}, "target_type"),
        ({"doubly_stochastic": -1.0}, "doubly_stochastic"),
        ({"attention_score": "concat"}, "attention_score"),
        ({"hidden_size": 0}, "hidden_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"learning_rate": "fast"}, "learning_rate"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"n_init": 0}, "n_init"),
    ],
)
def test_bad_parameters(params, match):
    pairs, _ = make_warped_copy(n_pairs=4, random_state=0)
    with pytest.raises(InvalidInputError, match=match):
        SoftAttentionAligner(**params).fit(pairs)


def test_bad_input(fitted):
    with pytest.raises(InvalidInputError, match="non-empty list"):
        SoftAttentionAligner().fit([])
    with pytest.raises(InvalidInputError, match=r"X\[1\] must be a pair"):
        SoftAttentionAligner().fit([(np.ones((3, 4)), np.ones((3, 4))), np.ones((3, 4))])
    with pytest.raises(InvalidInputError, match=r"X\[0\]\[1\] has 2 channels but 4"):
        fitted.attention([(np.ones((3, 4)), np.ones((3, 2)))])
    with pytest.raises(InvalidInputError, match=r"X\[0\]\[0\]"):
        fitted.align(np.full((3, 4), np.nan), np.ones((3, 4)))
    with pytest.raises(InvalidInputError, match="mode='predict'"):
        fitted.predict([np.ones((3, 4))])


def test_location_rejects_longer_sources():
    pairs, _ = make_warped_copy(n_pairs=6, n_timepoints=5, random_state=0)
    model = SoftAttentionAligner(attention_score="location", max_epochs=1, random_state=0)
    model.fit(pairs)
    with pytest.raises(InvalidInputError, match=r"X\[0\]\[0\] has 7 timepoints.*at most 5"):
        model.attention([(np.ones((7, 4)), np.ones((3, 4)))])


def test_unfitted_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        SoftAttentionAligner().attention([(np.ones((3, 4)), np.ones((3, 4)))])


# -- the protocol (slow) --------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("reverse", [False, True])
def test_align_mode_protocol(reverse):
    """350 training pairs, 4-d frames, random repeats, additive scores, held-out pairs."""
    train, test, paths, sources = _task(350, 100, reverse=reverse)
    # 60 epochs gave 0.738-0.844 over random_state 0-2; 100 epochs (about 20 CPU s) give
    # 0.795-0.842 over random_state 0-3 with path errors 0.164-0.172 (forward copies).
    model = SoftAttentionAligner(max_epochs=100, random_state=0).fit(train)
    mass = _mass(model.attention(test), sources)
    assert mass >= 0.75
    if not reverse:  # the hard path is monotone, so it is scored on forward copies
        learned, uniform = _errors(model, test, paths)
        assert learned <= 0.30 and learned <= 0.5 * uniform  # measured: 0.165 vs 0.784


@pytest.mark.slow
def test_predict_mode_protocol_content_repeats():
    train, test, paths, sources = _task(350, 100, content_repeats=True)
    model = SoftAttentionAligner(mode="predict", max_epochs=100, random_state=0).fit(train)
    assert _mass(model.attention(test), sources) >= 0.45  # measured: 0.687
    learned, uniform = _errors(model, test, paths)
    assert learned <= 0.45  # measured: 0.337 (uniform path: 0.770)


# -- grid input (Show, Attend and Tell) on digit canvases -------------------------------


def _box_fraction(maps, box):
    """Attention mass inside a box with fractional pixel edges, by pixel overlap."""
    height, width = maps.shape
    rows, cols = np.arange(height), np.arange(width)
    inside_rows = np.clip(np.minimum(rows + 1, box[2]) - np.maximum(rows, box[0]), 0, 1)
    inside_cols = np.clip(np.minimum(cols + 1, box[3]) - np.maximum(cols, box[1]), 0, 1)
    return float((maps * np.outer(inside_rows, inside_cols)).sum())


def _caption_task(n_train, n_test, **options):
    """Train and held-out captions of disjoint source digits (and transforms)."""
    order = np.random.RandomState(0).permutation(1797)
    train, _ = make_digit_captions(n_train, source_indices=order[:1400], random_state=0, **options)
    test, canvas = make_digit_captions(
        n_test, source_indices=order[1400:], random_state=1, **options
    )
    return train, test, canvas


def _class_token_scores(model, test, canvas):
    """Box mass at the class token, the box's share of the canvas, class accuracy."""
    maps = model.attention(test, upsample=True)
    fraction = np.mean([_box_fraction(m[0], box) for m, box in zip(maps, canvas.boxes)])
    boxes, side = canvas.boxes, canvas.images.shape[1]
    share = np.mean((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])) / side**2
    decoded = model.predict(canvas.images)
    accuracy = np.mean([d[0] == caption[0] for d, (_, caption) in zip(decoded, test)])
    return fraction, share, accuracy


def test_digit_captions_name_the_digit():
    pairs, canvas = make_digit_captions(30, kind="TC", random_state=2)
    again, _ = make_digit_captions(30, kind="TC", random_state=2)
    for (image, caption), label, (image_again, _) in zip(pairs, canvas.labels, again):
        assert caption.tolist() == [str(label), "odd" if label % 2 else "even"]
        np.testing.assert_array_equal(image, image_again)
    np.testing.assert_array_equal(np.stack([image for image, _ in pairs]), canvas.images)
    # The box moves: "T" translates the digit.
    assert np.ptp(canvas.boxes[:, 0]) > 5 and np.ptp(canvas.boxes[:, 1]) > 5


def test_upsample_attention_matches_pixel_loop():
    rng = np.random.default_rng(0)
    for height, width in [(8, 8), (10, 7), (3, 5)]:
        grid = (-(-height // 4), -(-width // 4))
        weights = rng.dirichlet(np.ones(grid[0] * grid[1]), size=3)
        maps = upsample_attention(weights, grid, (height, width))
        for step in range(3):
            for row in range(height):
                for col in range(width):
                    cell_rows = min(4, height - 4 * (row // 4))
                    cell_cols = min(4, width - 4 * (col // 4))
                    cell = (row // 4) * grid[1] + col // 4
                    expected = weights[step, cell] / (cell_rows * cell_cols)
                    assert maps[step, row, col] == pytest.approx(expected)
        np.testing.assert_allclose(maps.sum(axis=(1, 2)), 1.0)
    with pytest.raises(InvalidInputError, match="grid_shape"):
        upsample_attention(np.ones((1, 4)), (2, 2), (12, 8))
    with pytest.raises(InvalidInputError, match="weights"):
        upsample_attention(np.ones((1, 5)), (2, 2), (8, 8))


def test_box_fraction_of_uniform_attention_is_the_box_share():
    maps = np.full((20, 20), 1 / 400)
    assert _box_fraction(maps, (2.5, 4.0, 10.5, 12.0)) == pytest.approx(64 / 400)


@pytest.fixture(scope="module")
def caption_task():
    # 8-pixel digits on 20-pixel canvases (a 5 x 5 grid), for the quick checks.
    return _caption_task(1000, 200, digit_size=8)


@pytest.fixture(scope="module")
def protocol_task():
    """The issue's protocol: translated 16-pixel digits on 40-pixel canvases (10 x 10 cells)."""
    return _caption_task(1000, 300, kind="T")


@pytest.fixture(scope="module")
def captioner(protocol_task):
    # One training stays on the plateau now and then (about one in eight when its
    # initial weights are perturbed by 1e-4, see the user guide): keep the best of three.
    model = SoftAttentionAligner(
        input="grid", hidden_size=64, batch_size=16, max_epochs=25, n_init=3, random_state=0
    )
    return model.fit(protocol_task[0])  # about 80 s of CPU on one thread


@pytest.mark.slow
def test_grid_caption_protocol(protocol_task, captioner):
    """Held-out source digits: the class token's attention falls inside the digit's box."""
    _, test, canvas = protocol_task
    weights = captioner.attention(test[:3])
    assert captioner.grid_shape_ == (10, 10) and captioner.mode_ == "predict"
    assert all(w.shape == (2, 100) for w in weights)
    np.testing.assert_allclose(np.concatenate(weights).sum(axis=1), 1.0, rtol=1e-5)
    fraction, share, accuracy = _class_token_scores(captioner, test, canvas)
    # Untrained, the mass is the share (0.16). With n_init=3, over random_state 0-3 this
    # measured 4.9-6.2x the share and class accuracy 0.96-0.97 (single trainings: 5.3-6.2x
    # over random_state 0-4, but see the fixture; docs/user_guide/soft_attention.rst).
    assert fraction >= 3 * share, (fraction, share, accuracy, captioner.loss_curve_)
    assert accuracy >= 0.7, (fraction, share, accuracy)  # chance: 0.1


def test_grid_decoding_agrees_with_teacher_forcing(caption_task):
    # Any trained weights will do: greedy decoding must be what teacher forcing scores.
    captioner = SoftAttentionAligner(
        input="grid", hidden_size=32, batch_size=16, max_epochs=3, random_state=0, n_threads=1
    ).fit(caption_task[0][:300])
    images = caption_task[2].images[:10]
    decoded = captioner.predict(images)
    assert all(set(d) <= set(captioner.classes_) for d in decoded)
    assert all(1 <= len(d) <= captioner.max_target_length_ for d in decoded)
    # Feeding the decoded tokens back with teacher forcing reproduces them.
    pairs = _check_pairs(list(zip(images, decoded)), captioner._fitted_spec())
    for pair, tokens in zip(pairs, decoded):
        with torch.no_grad():
            logits = captioner._forward(_attention, captioner._batch(_attention, [pair]))[0][0]
        np.testing.assert_array_equal(captioner.classes_[logits.argmax(-1).numpy()], tokens)


def test_doubly_stochastic_counts_real_steps_only(caption_task):
    images = [image for image, _ in caption_task[0][:3]]
    pairs = list(zip(images, [np.array(["3"]), np.array(["4", "even", "4"]), np.array(["5"])]))
    model = SoftAttentionAligner(input="grid", max_epochs=1, random_state=0).fit(pairs)
    checked = _check_pairs(pairs, model._fitted_spec())
    with torch.no_grad():
        batch = model._batch(_attention, checked)  # captions padded to 3 tokens
        outputs = model._forward(_attention, batch)
        penalty = float(_loss(outputs, batch, 1.0) - _loss(outputs, batch, 0.0))
    coverage = [w.sum(axis=0) for w in model.attention(pairs)]  # each caption alone
    expected = np.mean([((1.0 - c) ** 2).mean() for c in coverage])
    assert penalty == pytest.approx(expected, rel=1e-4)
    # Counting the padded steps would give another value.
    padded = [outputs[2][k].numpy().sum(axis=0) for k in range(3)]
    assert abs(np.mean([((1.0 - c) ** 2).mean() for c in padded]) - expected) > 1e-3


def test_grid_pickle_and_reproducibility(caption_task):
    pairs = caption_task[0][:40]
    first = SoftAttentionAligner(input="grid", max_epochs=1, random_state=3, n_threads=1)
    first.fit(pairs)
    second = clone(first).fit(pairs)
    assert first.loss_curve_ == second.loss_curve_
    restored = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(restored.attention(pairs[:2])[1], first.attention(pairs[:2])[1])
    contexts = first.transform(pairs[:4])
    assert contexts.shape == (4, 2, first.hidden_size)


def test_grid_gate_scales_the_attended_annotations(caption_task):
    """Show, Attend and Tell's gate: context_t = sigmoid(f(s_{t-1})) * sum_i alpha_ti a_i."""
    pairs = caption_task[0][:40]
    model = SoftAttentionAligner(input="grid", max_epochs=2, random_state=0).fit(pairs)
    checked = _check_pairs(pairs[:3], model._fitted_spec())
    with torch.no_grad():
        source = model._sources(_attention, [image for image, _ in checked])[0]
        annotations = _annotate(model.model_, source, None).numpy()
    weights, contexts = model.attention(pairs[:3]), model.transform(pairs[:3])
    for k in range(3):
        ungated = weights[k] @ annotations[k]  # (steps, hidden)
        gates = (contexts[k] * ungated).sum(1) / (ungated**2).sum(1)
        # One scalar gate per step, strictly between 0 and 1, times the attended sum.
        np.testing.assert_allclose(contexts[k], gates[:, None] * ungated, rtol=1e-4, atol=1e-6)
        assert np.all((gates > 0) & (gates < 1))
    # Closing the gate removes the context; opening it fully leaves the plain attended sum.
    for bias, expected in ((-60.0, 0.0), (60.0, 1.0)):
        with torch.no_grad():
            model.model_["gate"].bias.fill_(bias)
        weights, contexts = model.attention(pairs[:1]), model.transform(pairs[:1])
        np.testing.assert_allclose(
            contexts[0], expected * (weights[0] @ annotations[0]), rtol=1e-4, atol=1e-6
        )


def test_grid_standardises_the_images(caption_task, fitted):
    pairs = caption_task[0][:40]
    model = SoftAttentionAligner(input="grid", max_epochs=2, random_state=1).fit(pairs)
    images = np.stack([image for image, _ in pairs])
    np.testing.assert_allclose(model.image_mean_, [images.mean()], rtol=1e-5)
    np.testing.assert_allclose(model.image_std_, [images.std()], rtol=1e-5)
    assert model.learning_rate_ == 0.001 and fitted.learning_rate_ == 0.003
    assert fitted.image_mean_ is None
    # Standardised inputs make training blind to the images' offset and scale.
    shifted = [(3.0 + 5.0 * image, caption) for image, caption in pairs]
    other = SoftAttentionAligner(input="grid", max_epochs=2, random_state=1).fit(shifted)
    np.testing.assert_allclose(other.loss_curve_, model.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(
        other.attention(shifted[:2])[1], model.attention(pairs[:2])[1], atol=1e-5
    )


def test_grid_bad_input(caption_task):
    pairs = caption_task[0][:8]
    model = SoftAttentionAligner(input="grid", max_epochs=1, random_state=0).fit(pairs)
    with pytest.raises(InvalidInputError, match=r"X\[0\]\[0\] has shape .* \(1, 20, 20\)"):
        model.attention([(np.zeros((16, 16)), np.array(["3", "odd"]))])
    with pytest.raises(InvalidInputError, match=r"X\[0\]\[1\] holds the token 'big'"):
        model.attention([(pairs[0][0], np.array([pairs[0][1][0], "big"]))])
    with pytest.raises(InvalidInputError, match=r"X\[1\] holds NaN"):
        model.predict([pairs[0][0], np.full((20, 20), np.nan)])
    with pytest.raises(InvalidInputError, match="input='sequence'"):
        model.align(pairs[0][0], pairs[0][1])
    with pytest.raises(InvalidInputError, match="token targets"):
        SoftAttentionAligner(input="grid").fit([(pairs[0][0], np.ones((2, 3)))])
    with pytest.raises(InvalidInputError, match="mode='predict'"):
        SoftAttentionAligner(input="grid", mode="align").fit(pairs)
    with pytest.raises(InvalidInputError, match="upsample=True needs input='grid'"):
        SoftAttentionAligner(max_epochs=1).fit(
            make_warped_copy(n_pairs=4, random_state=0)[0]
        ).attention(make_warped_copy(n_pairs=1, random_state=0)[0], upsample=True)


# -- token targets for sequences --------------------------------------------------------


def _token_copies(n_pairs, random_state):
    """One-hot sources of 4 symbols, and their symbols as integer-token targets."""
    rng = np.random.default_rng(random_state)
    pairs = []
    for _ in range(n_pairs):
        symbols = rng.integers(0, 4, rng.integers(4, 7))
        pairs.append((np.eye(4)[symbols], symbols + 10))
    return pairs


def test_predict_mode_decodes_tokens():
    train, test = _token_copies(300, 0), _token_copies(40, 1)
    model = SoftAttentionAligner(max_epochs=15, random_state=0).fit(train)
    assert model.target_type_ == "tokens" and model.mode_ == "predict"
    assert model.classes_.tolist() == [10, 11, 12, 13]
    decoded = model.predict([a for a, _ in test])
    exact = np.mean([len(d) == len(b) and (d == b).all() for d, (_, b) in zip(decoded, test)])
    weights = model.attention(test)
    diagonal = np.mean([np.diag(w).mean() for w in weights])
    # Chance of an exact copy is far below 1%, uniform attention puts about 0.2 on the
    # diagonal; measured: exact 1.0, diagonal mass 0.57.
    assert exact >= 0.8 and diagonal >= 0.4
    assert model.score(test) > model.score([(a, b[::-1]) for a, b in test])
    frames = SoftAttentionAligner(target_type="frames", max_epochs=1).fit(train[:8])
    assert frames.target_type_ == "frames" and frames.mode_ == "align"
    with pytest.raises(InvalidInputError, match=r"X\[0\]\[1\] holds the token 'a'"):
        model.attention([(train[0][0], np.array(["a", "b"]))])

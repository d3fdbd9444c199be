"""GlimpseAligner: the retina against plain crops, REINFORCE on a bandit, the estimator contract.

The reproduction of the paper's protocol (learned localisation on cluttered
canvases, against a fixed-centre glimpse, random glimpses and a CNN) takes
CPU minutes; it lives in ``benchmarks/repro_glimpse.py``.
"""

import ast
import inspect
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from alignkit.datasets import make_digit_canvas
from alignkit.exceptions import InvalidInputError

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from alignkit.estimators._glimpse import GlimpseAligner  # noqa: E402
from alignkit.kernels._torch import _glimpse  # noqa: E402


def _crop(image, row, col, size):
    """``image[row:row+size, col:col+size]`` with zeros outside the image."""
    padded = np.pad(image, size)
    return padded[row + size : row + 2 * size, col + size : col + 2 * size]


@pytest.mark.parametrize("row, col", [(0, 0), (3, 5), (6, 8), (-2, -3), (8, 10), (-4, 11)])
def test_retina_patches_equal_crops(row, col):
    rng = np.random.default_rng(0)
    image = rng.normal(size=(10, 12))
    height, width, size = 10, 12, 4
    # The centre of a size-4 patch whose top-left pixel is (row, col).
    location = torch.tensor(
        [[(2 * col + size) / width - 1, (2 * row + size) / height - 1]], dtype=torch.float64
    )
    images = torch.as_tensor(image[None, None])
    glimpses = _glimpse.retina(images, location, size, n_scales=3, scale_factor=2)
    assert glimpses.shape == (1, 3, 1, 4, 4)
    np.testing.assert_allclose(glimpses[0, 0, 0].numpy(), _crop(image, row, col, 4), atol=1e-12)
    for scale in (1, 2):
        factor = 2**scale
        side = size * factor
        wide = _crop(image, row - (side - size) // 2, col - (side - size) // 2, side)
        pooled = wide.reshape(size, factor, size, factor).mean(axis=(1, 3))
        np.testing.assert_allclose(glimpses[0, scale, 0].numpy(), pooled, atol=1e-12)


def test_retina_is_vectorised_over_the_batch():
    rng = np.random.default_rng(1)
    images = torch.as_tensor(rng.normal(size=(5, 2, 9, 9)))
    locations = torch.as_tensor(rng.uniform(-1, 1, size=(5, 2)))
    together = _glimpse.retina(images, locations, 3, 2)
    for k in range(5):
        alone = _glimpse.retina(images[k : k + 1], locations[k : k + 1], 3, 2)
        torch.testing.assert_close(together[k : k + 1], alone, rtol=0, atol=0)


def test_reinforce_moves_the_policy_mean_to_the_rewarded_location():
    """A one-step bandit: reward 1 within 0.3 of the target; the mean starts at the origin."""
    generator = torch.Generator().manual_seed(0)
    target = torch.tensor([0.6, -0.4])
    mean = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.SGD([mean], lr=0.05)
    baseline = torch.zeros(1)
    std = 0.3
    for _ in range(300):
        samples = mean.detach() + std * torch.randn(64, 2, generator=generator)
        log_probs = _glimpse.gaussian_log_prob(samples, mean.expand(64, 2), std)
        rewards = ((samples - target).norm(dim=1) < 0.3).float()
        loss = _glimpse.reinforce_loss(log_probs[:, None], rewards, baseline.expand(64, 1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        baseline = 0.9 * baseline + 0.1 * rewards.mean()
    assert (mean.detach() - target).norm() < 0.15  # started 0.72 away


def test_gaussian_log_prob_matches_torch_distributions():
    mean, sample = torch.tensor([[0.1, -0.2]]), torch.tensor([[0.3, 0.4]])
    expected = torch.distributions.Normal(mean, 0.2).log_prob(sample).sum(-1)
    torch.testing.assert_close(_glimpse.gaussian_log_prob(sample, mean, 0.2), expected)


@pytest.fixture(scope="module")
def canvas():
    return make_digit_canvas(200, kind="T", random_state=0)


def _box_centres(canvas):
    size = canvas.images.shape[-1]
    rows = (canvas.boxes[:, 0] + canvas.boxes[:, 2]) / 2
    cols = (canvas.boxes[:, 1] + canvas.boxes[:, 3]) / 2
    return np.column_stack([cols / size * 2 - 1, rows / size * 2 - 1])


def test_glimpses_at_the_true_centre_learn_the_digits(canvas):
    model = GlimpseAligner(
        n_glimpses=2,
        n_scales=2,
        max_epochs=15,
        batch_size=32,
        learning_rate=3e-3,
        random_state=0,
    )
    centres = _box_centres(canvas)
    model.fit(canvas.images, canvas.labels, locations=centres)
    accuracy = np.mean(model.predict(canvas.images, locations=centres) == canvas.labels)
    assert accuracy > 0.6  # chance is 0.1
    # Looking elsewhere (a far corner) is much worse: the model uses what the glimpse sees.
    corner = np.tile([0.9, 0.9], (len(centres), 1))
    assert np.mean(model.predict(canvas.images, locations=corner) == canvas.labels) < accuracy - 0.3


def test_learned_policy_outputs(canvas):
    model = GlimpseAligner(n_glimpses=3, max_epochs=2, random_state=0)
    model.fit(canvas.images, canvas.labels)
    locations = model.predict_locations(canvas.images[:7])
    assert locations.shape == (7, 3, 2) and np.all(np.abs(locations) <= 1)
    np.testing.assert_array_equal(locations[:, 0], 0.0)  # the first glimpse is the centre
    assert model.transform(canvas.images[:7]).shape == (7, 256)
    proba = model.predict_proba(canvas.images[:7])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert len(model.reward_curve_) == 2 and 0 <= model.reward_curve_[-1] <= 1
    # Monte-Carlo averaging over sampled trajectories (read at prediction time).
    averaged = model.set_params(n_mc_samples=4).predict_proba(canvas.images[:7])
    assert averaged.shape == (7, 10) and not np.allclose(averaged, proba)
    np.testing.assert_allclose(averaged.sum(axis=1), 1.0, rtol=1e-6)


def test_reproducible_pickle_and_warm_start(canvas):
    first = GlimpseAligner(n_glimpses=3, core="lstm", max_epochs=2, random_state=3, n_threads=1)
    first.fit(canvas.images, canvas.labels)
    second = clone(first).fit(canvas.images, canvas.labels)
    assert first.loss_curve_ == second.loss_curve_
    loaded = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(
        loaded.predict_locations(canvas.images), first.predict_locations(canvas.images)
    )
    first.set_params(warm_start=True, max_epochs=1).fit(canvas.images, canvas.labels)
    assert first.n_iter_ == 3 and len(first.reward_curve_) == 3


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"n_glimpses": 0},
            r"'n_glimpses' parameter of GlimpseAligner must be an int in the range \[1, inf\)",
        ),
        ({"core": "gru"}, "'core' parameter of GlimpseAligner must be a str among"),
        (
            {"policy_std": 0.0},
            r"'policy_std' parameter .* must be a float in the range \(0.0, inf\)",
        ),
        ({"first_location": "corner"}, "first_location"),
        ({"reinforce_weight": -1.0}, "reinforce_weight"),
    ],
)
def test_bad_params(canvas, params, message):
    with pytest.raises(InvalidInputError, match=message):
        GlimpseAligner(max_epochs=1, **params).fit(canvas.images[:10], canvas.labels[:10])


def test_bad_input(canvas):
    model = GlimpseAligner(n_glimpses=2, max_epochs=1)
    with pytest.raises(InvalidInputError, match="one label per image"):
        model.fit(canvas.images, canvas.labels[:5])
    with pytest.raises(InvalidInputError, match="at least two classes"):
        model.fit(canvas.images[:5], np.zeros(5))
    with pytest.raises(InvalidInputError, match=r"locations must have shape"):
        model.fit(canvas.images, canvas.labels, locations=np.zeros((3, 2)))
    model.fit(canvas.images[:20], canvas.labels[:20])
    with pytest.raises(InvalidInputError, match="expected"):
        model.predict(canvas.images[:, :20, :20])


def test_sampled_predictions_are_reproducible_and_leave_the_rng_alone(canvas):
    model = GlimpseAligner(n_glimpses=3, max_epochs=1, n_mc_samples=3, random_state=0)
    model.fit(canvas.images[:60], canvas.labels[:60])
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    first = model.predict_proba(canvas.images[:10])
    np.testing.assert_array_equal(torch.rand(2), expected)
    np.testing.assert_array_equal(model.predict_proba(canvas.images[:10]), first)
    random = GlimpseAligner(n_glimpses=3, max_epochs=1, policy="random", random_state=0)
    random.fit(canvas.images[:60], canvas.labels[:60])
    assert random.score(canvas.images[:30], canvas.labels[:30]) == random.score(
        canvas.images[:30], canvas.labels[:30]
    )


# -- docstring, scikit-learn composition, bad input --------------------------------------


def test_docstring_documents_every_parameter_and_fitted_attribute(canvas):
    from numpydoc.docscrape import ClassDoc

    doc = ClassDoc(GlimpseAligner)
    documented = {}
    for section in ("Parameters", "Attributes"):
        for entry in doc[section]:
            for name in entry.name.split(","):
                documented.setdefault(section, {})[name.strip()] = entry
    parameters = list(inspect.signature(GlimpseAligner.__init__).parameters)[1:]
    for name in parameters:
        entry = documented["Parameters"].get(name)
        assert entry is not None and entry.desc, f"parameter {name} is undocumented"
        default = inspect.signature(GlimpseAligner).parameters[name].default
        stated = entry.type.rpartition("default=")[2]
        assert ast.literal_eval(stated) == default, f"{name}: {entry.type!r} vs {default!r}"
    assert set(documented["Parameters"]) == set(parameters)
    model = GlimpseAligner(n_glimpses=2, max_epochs=1, early_stopping=True, random_state=0)
    model.fit(canvas.images[:40], canvas.labels[:40])
    fitted = {name for name in vars(model) if name.endswith("_") and not name.startswith("_")}
    assert fitted == set(documented["Attributes"])
    for name in fitted:
        assert documented["Attributes"][name].desc, f"attribute {name} is undocumented"


@pytest.fixture(scope="module")
def small_canvas():
    """A few dozen 20x20 canvases: each tiny fit below takes milliseconds."""
    return make_digit_canvas(40, kind="T", digit_size=8, random_state=1)


def _tiny(**params):
    sizes = {"n_glimpses": 2, "patch_size": 4, "n_scales": 2, "glimpse_hidden": 16}
    sizes.update(loc_hidden=8, core_hidden=16, max_epochs=2, batch_size=16, random_state=0)
    sizes.update(params)
    return GlimpseAligner(**sizes)


def _standardise(images):
    images = np.asarray(images, dtype=np.float64)
    return (images - 0.5) * 4.0


def test_pipeline_scales_the_images_before_the_glimpse_model(small_canvas):
    images, labels = small_canvas.images, small_canvas.labels
    model = _tiny(n_threads=1)  # a fixed thread count repeats a fit bit for bit
    pipeline = make_pipeline(FunctionTransformer(_standardise), model).fit(images, labels)
    # Oracle: the same composition done by hand.
    by_hand = _tiny(n_threads=1).fit(_standardise(images), labels)
    assert pipeline[-1].loss_curve_ == by_hand.loss_curve_
    np.testing.assert_array_equal(pipeline.predict(images), by_hand.predict(_standardise(images)))
    np.testing.assert_array_equal(
        pipeline.predict_proba(images), by_hand.predict_proba(_standardise(images))
    )
    assert pipeline.score(images, labels) == by_hand.score(_standardise(images), labels)
    # Control: the transformer is not bypassed (raw images train another model).
    assert _tiny().fit(images, labels).loss_curve_ != by_hand.loss_curve_


def test_grid_search_scores_each_candidate_and_refits_the_best(small_canvas):
    images, labels = small_canvas.images, small_canvas.labels
    grid = {"n_glimpses": [1, 3]}
    cv = KFold(2, shuffle=True, random_state=0)
    search = GridSearchCV(_tiny(max_epochs=1), grid, cv=cv).fit(images, labels)
    assert search.cv_results_["params"] == [{"n_glimpses": 1}, {"n_glimpses": 3}]
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    # Oracle: every split score recomputed by hand with the same folds.
    for k, params in enumerate(search.cv_results_["params"]):
        for split, (train, test) in enumerate(cv.split(images)):
            model = _tiny(max_epochs=1, **params).fit(images[train], labels[train])
            expected = model.score(images[test], labels[test])
            assert search.cv_results_[f"split{split}_test_score"][k] == expected
    refit = _tiny(max_epochs=1, **search.best_params_).fit(images, labels)
    np.testing.assert_array_equal(search.best_estimator_.predict(images), refit.predict(images))
    assert search.best_estimator_.predict_locations(images[:3]).shape == (
        3,
        search.best_params_["n_glimpses"],
        2,
    )


@pytest.fixture(scope="module")
def fitted(small_canvas):
    return _tiny(max_epochs=1).fit(small_canvas.images, small_canvas.labels)


def _with(images, index, value):
    bad = np.array(images, dtype=np.float64)
    bad[index, 5, 7] = value
    return bad


_METHODS = {
    "fit": lambda model, X, y: clone(model).fit(X, y),
    "predict": lambda model, X, y: model.predict(X),
    "predict_proba": lambda model, X, y: model.predict_proba(X),
    "predict_locations": lambda model, X, y: model.predict_locations(X),
    "transform": lambda model, X, y: model.transform(X),
    "score": lambda model, X, y: model.score(X, y),
}


@pytest.mark.parametrize("method", list(_METHODS))
@pytest.mark.parametrize("value, shown", [(np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_non_finite_images_are_named_by_index(fitted, small_canvas, method, value, shown):
    images, labels = small_canvas.images, small_canvas.labels
    bad = _with(images, 3, value)
    message = rf"^X\[3\] holds {shown} at channel 0, row 5, column 7; images must be finite$"
    with pytest.raises(InvalidInputError, match=message):
        _METHODS[method](fitted, bad, labels)
    # Control: the same call on the clean images passes.
    _METHODS[method](fitted, images, labels)


@pytest.mark.parametrize("method", list(_METHODS))
@pytest.mark.parametrize("shape", [(40, 400), (40, 1, 1, 20, 20), (16000,)])
def test_images_of_the_wrong_ndim(fitted, small_canvas, method, shape):
    images = small_canvas.images.reshape(shape)
    with pytest.raises(InvalidInputError, match=rf"^X has {len(shape)} dimensions"):
        _METHODS[method](fitted, images, small_canvas.labels)


@pytest.mark.parametrize("method", ["fit", "predict", "predict_proba"])
@pytest.mark.parametrize(
    "locations, message",
    [
        (np.zeros((39, 2)), r"locations must have shape .*\(40, 2, 2\), got \(39, 2\)"),
        (np.zeros((40, 3, 2)), r"locations must have shape .*\(40, 2, 2\), got \(40, 3, 2\)"),
        (np.zeros((40, 2, 3)), r"locations must have shape .*got \(40, 2, 3\)"),
        (np.zeros(80), r"locations must have shape .*got \(80,\)"),
        (np.zeros((40, 2, 2, 1)), r"locations must have shape .*got \(40, 2, 2, 1\)"),
        ([[0.0, 0.0], [0.0]] * 20, r"locations must be a numeric array"),
        ([["a", "b"]] * 40, r"locations must be a numeric array"),
    ],
)
def test_locations_of_the_wrong_shape(fitted, small_canvas, method, locations, message):
    images, labels = small_canvas.images, small_canvas.labels
    call = {
        "fit": lambda: clone(fitted).fit(images, labels, locations=locations),
        "predict": lambda: fitted.predict(images, locations=locations),
        "predict_proba": lambda: fitted.predict_proba(images, locations=locations),
    }[method]
    with pytest.raises(InvalidInputError, match=message):
        call()


@pytest.mark.parametrize("method", ["fit", "predict", "predict_proba"])
@pytest.mark.parametrize(
    "per_glimpse, expected",
    [
        (False, r"^locations\[6\] holds NaN at coordinate y; locations must be finite$"),
        (True, r"^locations\[6\] holds -inf at glimpse 1, coordinate x; locations must be finite$"),
    ],
)
def test_non_finite_locations_are_named_by_index(
    fitted, small_canvas, method, per_glimpse, expected
):
    images, labels = small_canvas.images, small_canvas.labels
    if per_glimpse:
        locations = np.zeros((40, 2, 2))
        locations[6, 1, 0] = -np.inf
    else:
        locations = np.zeros((40, 2))
        locations[6, 1] = np.nan
    call = {
        "fit": lambda where: clone(fitted).fit(images, labels, locations=where),
        "predict": lambda where: fitted.predict(images, locations=where),
        "predict_proba": lambda where: fitted.predict_proba(images, locations=where),
    }[method]
    with pytest.raises(InvalidInputError, match=expected):
        call(locations)
    call(np.zeros_like(locations))  # control: finite centres of the same shape pass


def test_score_needs_one_label_per_image(fitted, small_canvas):
    with pytest.raises(InvalidInputError, match=r"y must be 1-D with one label per image \(40\)"):
        fitted.score(small_canvas.images, small_canvas.labels[:30])


def test_is_a_classifier_and_cross_validation_stratifies(small_canvas, monkeypatch):
    from sklearn.base import is_classifier
    from sklearn.model_selection import StratifiedKFold, _validation, cross_validate

    X = small_canvas.images
    y = np.repeat([0, 1], len(X) // 2)  # sorted: unstratified folds would hold one class
    model = _tiny(n_glimpses=1)
    assert is_classifier(model) and is_classifier(GlimpseAligner())
    splitters = []
    check_cv = _validation.check_cv

    def spy(*args, **kwargs):
        splitters.append(check_cv(*args, **kwargs))
        return splitters[-1]

    monkeypatch.setattr(_validation, "check_cv", spy)
    result = cross_validate(model, X, y, cv=5, return_indices=True)
    assert [type(s) for s in splitters] == [StratifiedKFold]
    for test in result["indices"]["test"]:
        assert np.bincount(y[test]).tolist() == [4, 4]
    assert clone(model).fit(X, y).classes_.tolist() == [0, 1]
    features = clone(model).fit_transform(X, y)  # a transformer too: the core states
    assert features.shape == (len(X), model.core_hidden)


@pytest.mark.parametrize(
    "labels, message",
    [
        (np.where(np.arange(40) == 7, np.nan, np.arange(40) % 2), r"^y\[7\] is NaN: a missing"),
        (np.array([0, 1] * 19 + [None, 1], dtype=object), r"^y\[38\] is None: a missing"),
    ],
)
def test_missing_labels_are_refused(small_canvas, labels, message):
    with pytest.raises(InvalidInputError, match=message):
        _tiny().fit(small_canvas.images, labels)


def test_every_method_before_fit_raises_not_fitted():
    from sklearn.exceptions import NotFittedError

    X = np.zeros((4, 8, 8))
    model = GlimpseAligner()
    for method, args in {
        "predict": (X,),
        "predict_proba": (X,),
        "predict_locations": (X,),
        "transform": (X,),
        "score": (X, np.arange(4) % 2),
    }.items():
        with pytest.raises(NotFittedError):
            getattr(model, method)(*args)

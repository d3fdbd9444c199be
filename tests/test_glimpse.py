"""GlimpseAligner: the retina against plain crops, REINFORCE on a bandit, the estimator contract.

The reproduction of the paper's protocol (learned localisation on cluttered
canvases, against a fixed-centre glimpse, random glimpses and a CNN) takes
CPU minutes; it lives in ``benchmarks/repro_glimpse.py``.
"""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from alignkit._synthetic_images import make_digit_canvas
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
    first = GlimpseAligner(n_glimpses=3, core="lstm", max_epochs=2, random_state=3)
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
        ({"n_glimpses": 0}, "n_glimpses must be an int >= 1"),
        ({"core": "gru"}, "core must be one of"),
        ({"policy_std": 0.0}, "policy_std must be a float > 0"),
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

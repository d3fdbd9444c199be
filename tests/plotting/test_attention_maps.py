"""Tests of AttentionMapDisplay: the maps drawn are the attention spread over the image."""

import importlib
import io

import numpy as np
import pytest

from alignkit.exceptions import InvalidInputError

plt = importlib.import_module("matplotlib.pyplot")
from alignkit.plotting import AttentionMapDisplay  # noqa: E402


def _spread_by_brute_force(weights, grid_shape, image_shape):
    """Each pixel gets its cell's weight over the number of pixels of that cell."""
    height, width = image_shape
    maps = np.zeros((len(weights), height, width))
    for step, row in enumerate(weights):
        cells = row.reshape(grid_shape)
        for r in range(height):
            for c in range(width):
                rows_of_cell = sum(1 for rr in range(height) if rr // 4 == r // 4)
                cols_of_cell = sum(1 for cc in range(width) if cc // 4 == c // 4)
                maps[step, r, c] = cells[r // 4, c // 4] / (rows_of_cell * cols_of_cell)
    return maps


def test_from_grid_spreads_each_cell_over_its_pixels():
    rng = np.random.default_rng(0)
    image = rng.random((10, 7))  # edge cells cover 2 rows and 3 columns
    weights = rng.random((3, 3 * 2))
    weights /= weights.sum(axis=1, keepdims=True)
    display = AttentionMapDisplay.from_grid(
        image, weights, (3, 2), tokens=["x", "y", "z"], box=(1, 2, 6, 5)
    )
    assert len(display.axes_) == len(display.maps_) == len(display.images_) == 3
    expected = _spread_by_brute_force(weights, (3, 2), image.shape)
    for step in range(3):
        np.testing.assert_allclose(display.maps_[step].get_array(), expected[step])
        np.testing.assert_array_equal(display.images_[step].get_array(), image)
        assert display.axes_[step].get_title() == f"step {step}: '{'xyz'[step]}'"
    rectangle = display.boxes_[0]
    assert (rectangle.get_x(), rectangle.get_y()) == (1.5, 0.5)
    assert (rectangle.get_width(), rectangle.get_height()) == (3, 5)
    display.figure_.savefig(io.BytesIO(), bbox_inches=None)


def test_from_estimator_shows_the_models_attention():
    pytest.importorskip("torch")
    import alignkit
    from alignkit.datasets import make_digit_captions

    train, canvas = make_digit_captions(16, kind="T", random_state=0)
    model = alignkit.SoftAttentionAligner(
        mode="predict",
        input="grid",
        hidden_size=8,
        attention_size=8,
        batch_size=8,
        max_epochs=1,
        random_state=0,
    ).fit(train)
    image = train[0][0]
    display = AttentionMapDisplay.from_estimator(model, image, box=canvas.boxes[0])
    decoded = model.predict([image])[0]
    expected = model.attention([(image, decoded)], upsample=True)[0]
    assert len(display.maps_) == len(decoded)
    for step, shown in enumerate(display.maps_):
        np.testing.assert_allclose(shown.get_array(), expected[step])
        np.testing.assert_allclose(shown.get_array().sum(), 1.0, rtol=1e-5)  # float32 weights
    assert display.tokens == [str(token) for token in decoded]


def test_panels_replace_a_grid_cell():
    figure, (left, right) = plt.subplots(1, 2)
    display = AttentionMapDisplay(np.zeros((4, 4)), np.ones((2, 4, 4)) / 16)
    display.plot(ax=right)
    assert right not in figure.axes and left in figure.axes
    assert all(panel in figure.axes for panel in display.axes_)
    loose = figure.add_axes([0.1, 0.1, 0.2, 0.2])
    with pytest.raises(InvalidInputError, match="grid cell"):
        display.plot(ax=loose)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.zeros((4, 4)), np.zeros((2, 4, 5))), {}, r"maps must have shape \(n_steps, 4, 4\)"),
        ((np.zeros((2, 4, 4)), np.zeros((1, 4, 4))), {}, "image must be"),
        ((np.zeros((4, 4)), np.zeros((2, 4, 4))), {"tokens": ["a"]}, "tokens has 1 entries"),
        ((np.zeros((4, 4)), np.zeros((1, 4, 4))), {"box": [0, 1]}, "box must be"),
    ],
)
def test_bad_arguments(args, kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        AttentionMapDisplay(*args, **kwargs)


def test_bad_alpha_and_grid():
    display = AttentionMapDisplay(np.zeros((4, 4)), np.ones((1, 4, 4)) / 16)
    with pytest.raises(InvalidInputError, match=r"'alpha' parameter"):
        display.plot(alpha=2.0)
    with pytest.raises(InvalidInputError, match="does not match image_shape"):
        AttentionMapDisplay.from_grid(np.zeros((8, 8)), np.ones((1, 9)) / 9, (3, 3))

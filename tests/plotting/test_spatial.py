"""Tests of SamplingGridDisplay and GlimpseDisplay: known warps and the aligners' own outputs."""

import numpy as np
import pytest

from alignkit.exceptions import InvalidInputError
from alignkit.plotting import GlimpseDisplay, SamplingGridDisplay


def _outline(line):
    return np.column_stack([line.get_xdata(), line.get_ydata()])


def test_identity_samples_the_whole_input_and_a_shift_moves_it():
    images = np.zeros((2, 10, 10))
    shift = np.array([[1.0, 0.0, 0.2], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # 0.2 = one pixel
    display = SamplingGridDisplay(images, images, np.stack([np.eye(3), shift])).plot()
    # Without align_corners, -1 and 1 are the outer pixel edges: -0.5 and 9.5.
    corners = [[-0.5, -0.5], [9.5, -0.5], [9.5, 9.5], [-0.5, 9.5], [-0.5, -0.5]]
    np.testing.assert_allclose(_outline(display.outlines_[0]), corners)
    np.testing.assert_allclose(_outline(display.outlines_[1]), np.array(corners) + [1.0, 0.0])
    assert len(display.grid_lines_[0]) == 14  # 7 lines each way
    np.testing.assert_allclose(display.grid_lines_[0][3].get_xdata(), [4.5, 4.5])  # the middle
    assert len(display.axes_input_) == len(display.axes_output_) == 2


def test_align_corners_maps_to_the_outer_pixel_centres():
    images = np.zeros((1, 10, 10))
    display = SamplingGridDisplay(images, images, np.eye(3)[None], align_corners=True).plot()
    np.testing.assert_allclose(display.outlines_[0].get_xdata(), [0, 9, 9, 0, 0])


def test_stn_from_estimator_draws_its_transforms():
    pytest.importorskip("torch")
    import alignkit
    from alignkit.datasets import make_digit_canvas

    canvas = make_digit_canvas(16, kind="R", random_state=0)
    stn = alignkit.STNAligner(max_epochs=1, batch_size=16, random_state=0)
    stn.fit(canvas.images, canvas.labels)
    shown = canvas.images[:3]
    display = SamplingGridDisplay.from_estimator(stn, shown)
    matrices, warped = stn.predict_transform(shown), stn.transform(shown)[:, 0]
    size = shown.shape[-1]
    for k in range(3):
        corners = matrices[k] @ np.array([[-1.0, 1.0], [-1.0, -1.0], [1.0, 1.0]])
        corners = (corners[:2] / corners[2] + 1) * size / 2 - 0.5
        np.testing.assert_allclose(_outline(display.outlines_[k])[:2], corners.T)
        np.testing.assert_array_equal(display.axes_output_[k].images[0].get_array(), warped[k])


def test_sampling_grid_bad_arguments():
    images = np.zeros((2, 5, 5))
    with pytest.raises(InvalidInputError, match=r"matrices \(shape \(1, 3, 3\)\)"):
        SamplingGridDisplay(images, images, np.eye(3)[None])
    with pytest.raises(InvalidInputError, match="images must be finite images"):
        SamplingGridDisplay(np.zeros((5, 5)), images, np.eye(3)[None])
    with pytest.raises(InvalidInputError, match=r"'n_lines' parameter"):
        SamplingGridDisplay(images, images, np.stack([np.eye(3)] * 2), n_lines=1)


def test_glimpse_centres_and_retina_squares():
    locations = [[0.0, 0.0], [-1.0, -1.0], [1.0, 0.5]]
    display = GlimpseDisplay(
        np.zeros((20, 20)), locations, patch_size=4, n_scales=3, scale_factor=2, box=(2, 3, 8, 9)
    ).plot()
    # (0, 0) is the image centre, -1 and 1 the outer pixel edges (align_corners=False).
    np.testing.assert_allclose(display.trajectory_.get_xdata(), [9.5, -0.5, 19.5])
    np.testing.assert_allclose(display.trajectory_.get_ydata(), [9.5, -0.5, 14.5])
    assert len(display.patches_) == 3
    widths = [square.get_width() for square in display.patches_[0]]
    assert widths == [4, 8, 16]
    centre = display.patches_[2][1]
    assert (centre.get_x() + centre.get_width() / 2, centre.get_y() + 4) == (19.5, 14.5)
    assert (display.box_.get_x(), display.box_.get_y()) == (2.5, 1.5)


def test_glimpse_from_estimator_uses_its_policy_and_retina():
    pytest.importorskip("torch")
    import alignkit
    from alignkit.datasets import make_digit_canvas

    canvas = make_digit_canvas(16, kind="TC", random_state=0)
    model = alignkit.GlimpseAligner(
        n_glimpses=3,
        patch_size=4,
        n_scales=2,
        glimpse_hidden=16,
        loc_hidden=8,
        core_hidden=16,
        max_epochs=1,
        batch_size=16,
        random_state=0,
    ).fit(canvas.images, canvas.labels)
    image = canvas.images[0]
    display = GlimpseDisplay.from_estimator(model, image, box=canvas.boxes[0])
    locations = model.predict_locations(image[None])[0]
    size = image.shape[-1]
    np.testing.assert_allclose(
        display.trajectory_.get_xdata(), (locations[:, 0] + 1) * size / 2 - 0.5
    )
    np.testing.assert_allclose(
        display.trajectory_.get_ydata(), (locations[:, 1] + 1) * size / 2 - 0.5
    )
    assert [len(squares) for squares in display.patches_] == [2, 2, 2]
    assert display.patches_[0][1].get_width() == 4 * model.scale_factor


def test_glimpse_bad_arguments():
    with pytest.raises(InvalidInputError, match=r"locations must have shape \(n_glimpses, 2\)"):
        GlimpseDisplay(np.zeros((5, 5)), [0.0, 0.0])
    with pytest.raises(InvalidInputError, match="locations must be finite"):
        GlimpseDisplay(np.zeros((5, 5)), [[np.nan, 0.0]])
    with pytest.raises(InvalidInputError, match=r"'patch_size' parameter"):
        GlimpseDisplay(np.zeros((5, 5)), [[0.0, 0.0]], patch_size=0)
    with pytest.raises(InvalidInputError, match="box must be"):
        GlimpseDisplay(np.zeros((5, 5)), [[0.0, 0.0]], box=[1, 2])

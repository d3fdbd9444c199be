"""Tests of CanonicalVariatesDisplay and MultiAlignmentDisplay against the models they show."""

import copy
import importlib
import io

import numpy as np
import pytest

import alignkit
from alignkit.datasets import make_warped_spirals
from alignkit.exceptions import InvalidInputError
from alignkit.multiview import gctw

plt = importlib.import_module("matplotlib.pyplot")
from alignkit.plotting import CanonicalVariatesDisplay, MultiAlignmentDisplay  # noqa: E402


@pytest.fixture(scope="module")
def spirals():
    return make_warped_spirals(n_sequences=3, n_timepoints=120, random_state=0)[0]


@pytest.fixture(scope="module")
def ctw(spirals):
    a, b = spirals[:2]
    return alignkit.CTWAligner(n_components=2).fit([(a, b)])


def test_variates_after_warping_are_transforms_output(spirals, ctw):
    a, b = spirals[:2]
    display = CanonicalVariatesDisplay.from_estimator(ctw, a, b, components="all")
    assert len(display.lines_after_a_) == 2 and len(display.lines_before_b_) == 2
    alignment = ctw.align(a, b)
    # transform(output="a") is a's variates on a's own timeline: the "before" line of a.
    variates_a = copy.deepcopy(ctw).set_params(output="a").transform([(a, b)])[0]
    for component in range(2):
        np.testing.assert_allclose(
            display.lines_before_a_[component].get_ydata(), variates_a[:, component]
        )
        np.testing.assert_allclose(
            display.lines_after_a_[component].get_ydata(),
            variates_a[alignment.path[:, 0], component],
        )
    # b's line after warping, averaged onto a's frames, is transform's output for b.
    on_a = copy.deepcopy(ctw).set_params(output="b").transform([(a, b)])[0]
    after_b = np.column_stack([line.get_ydata() for line in display.lines_after_b_])
    np.testing.assert_allclose(_average_on_a(after_b, alignment.path), on_a)


def _average_on_a(values_along_path, path):
    """Brute force: the mean of the path points of each frame of a."""
    n_frames = path[-1, 0] + 1
    return np.array([values_along_path[path[:, 0] == i].mean(axis=0) for i in range(n_frames)])


def test_variates_display_rejects_mismatched_components(spirals):
    a, b = spirals[:2]
    alignment = alignkit.UniformAligner().align(a, b)
    with pytest.raises(InvalidInputError, match="variates_a has 2 components but variates_b has 1"):
        CanonicalVariatesDisplay(a[:, :2], b[:, :1], alignment)
    display = CanonicalVariatesDisplay(a[:, :2], b[:, :2], alignment)
    with pytest.raises(InvalidInputError, match="components: channel 2 does not exist"):
        display.plot(components=2)


def test_unfitted_aligner_is_refused(spirals):
    from sklearn.exceptions import NotFittedError

    a, b = spirals[:2]
    with pytest.raises(NotFittedError):
        CanonicalVariatesDisplay.from_estimator(alignkit.CTWAligner(), a, b)


def test_multi_alignment_lines_are_the_warps_and_projected_variates(spirals):
    result = gctw(spirals, n_components=2)
    display = MultiAlignmentDisplay(result, spirals, labels=["x", "y", "z"]).plot(component=1)
    assert [line.get_label() for line in display.warp_lines_] == ["x", "y", "z"]
    for k, line in enumerate(display.warp_lines_):
        np.testing.assert_array_equal(line.get_ydata(), result.paths[:, k])
    for k, line in enumerate(display.variate_lines_):
        # Brute force: interpolate sequence k at its warped positions, centre, project.
        positions = result.paths[:, k].astype(float)
        warped = np.column_stack(
            [np.interp(positions, np.arange(len(spirals[k])), spirals[k][:, c]) for c in range(3)]
        )
        expected = (warped - warped.mean(axis=0)) @ result.projections[k][:, 1]
        np.testing.assert_allclose(line.get_ydata(), expected)
    display.figure_.savefig(io.BytesIO(), bbox_inches=None)
    legend = display.legend_.get_window_extent(display.figure_.canvas.get_renderer())
    assert display.figure_.bbox.x0 <= legend.x0 and legend.x1 <= display.figure_.bbox.x1


def test_multi_alignment_without_sequences_draws_the_warps_alone(spirals):
    result = gctw(spirals, n_components=2)
    _, ax = plt.subplots()
    display = MultiAlignmentDisplay(result).plot(ax=ax)
    assert display.ax_warps_ is ax and display.ax_variates_ is None
    assert display.variate_lines_ == [] and len(display.warp_lines_) == 3


def test_multi_alignment_bad_arguments(spirals):
    result = gctw(spirals, n_components=2)
    with pytest.raises(InvalidInputError, match="expects a MultiAlignment"):
        MultiAlignmentDisplay(alignkit.dtw(spirals[0], spirals[1]))
    with pytest.raises(InvalidInputError, match="sequences holds 2 sequences"):
        MultiAlignmentDisplay(result, spirals[:2])
    with pytest.raises(InvalidInputError, match="labels has 1 names"):
        MultiAlignmentDisplay(result, labels=["x"])
    with pytest.raises(InvalidInputError, match="component: channel 5 does not exist"):
        MultiAlignmentDisplay(result).plot(component=5)

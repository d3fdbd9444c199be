"""Tests of AlignmentDisplay: the artists it promises show the alignment it was given."""

import importlib
import io

import numpy as np
import pytest

import alignkit
from alignkit.exceptions import InvalidInputError

plt = importlib.import_module("matplotlib.pyplot")
from alignkit.plotting import AlignmentDisplay  # noqa: E402


@pytest.fixture(scope="module")
def long_pair():
    """A 5,000-point pair whose path is known: b is a stretched by 6/5."""
    time_a, time_b = np.linspace(0, 30, 5000), np.linspace(0, 30, 6000)
    return np.sin(time_a), np.sin(time_b)


def test_lines_join_the_matched_points(pair):
    a, b = pair
    alignment = alignkit.dtw(a, b, window=3)
    display = AlignmentDisplay.from_alignment(alignment, a, b, offset=4.0)
    assert display.density_ is None and display.true_path_ is None
    assert display.ax_.figure is display.figure_
    segments = np.array(display.matches_.get_segments())
    np.testing.assert_array_equal(segments[:, :, 0], alignment.path)
    i, j = alignment.path.T
    np.testing.assert_allclose(segments[:, 0, 1] - segments[:, 1, 1], a[i, 0] - b[j, 0] + 4.0)
    (line_a,), (line_b,) = display.lines_a_, display.lines_b_
    np.testing.assert_allclose(np.diff(line_a.get_ydata()), np.diff(a[:, 0]))
    np.testing.assert_allclose(np.diff(line_b.get_ydata()), np.diff(b[:, 0]))


def test_from_estimator_draws_the_aligners_alignment(pair):
    a, b = pair
    display = AlignmentDisplay.from_estimator(alignkit.DTWAligner(window=3), a, b)
    ends = np.array(display.matches_.get_segments())[:, :, 0]
    np.testing.assert_array_equal(ends, alignkit.dtw(a, b, window=3).path)


def test_many_matches_are_shaded_not_drawn_one_by_one(long_pair):
    a, b = long_pair
    alignment = alignkit.UniformAligner().align(a, b)
    display = AlignmentDisplay.from_alignment(alignment, a, b)
    assert display.matches_ is None
    counts = display.density_.get_array()
    # Every match line crosses every level of the band once.
    np.testing.assert_array_equal(counts.sum(axis=1), np.full(counts.shape[0], len(alignment)))
    # Below that many pairs, or when lines are asked for, they are lines.
    lines = AlignmentDisplay.from_alignment(alignment, a, b, max_lines=50)
    assert lines.density_ is None and len(lines.matches_.get_segments()) == 50


def test_density_counts_the_lines_crossing_each_cell():
    a = np.sin(np.linspace(0, 3, 12))
    b = np.sin(np.linspace(0, 3, 17))
    alignment = alignkit.dtw(a, b)
    display = AlignmentDisplay.from_alignment(alignment, a, b, matches="density")
    counts = np.ma.filled(display.density_.get_array(), 0)
    n_levels, n_bins = counts.shape
    assert n_bins == 17  # one column per timepoint of the longer sequence
    # Brute force: walk each line and count the cell it is in at each level.
    expected = np.zeros_like(counts)
    for i, j in alignment.path:
        for level in range(n_levels):
            t = (level + 0.5) / n_levels  # 0 on b, 1 on a
            expected[level, int(np.floor(j + t * (i - j) + 0.5))] += 1
    np.testing.assert_array_equal(counts, expected)
    # The band runs from b's baseline up to a's (the y ticks that name the traces), under them.
    bottom, top = display.density_.get_extent()[2:]
    base_a, base_b = display.ax_.get_yticks()
    assert (bottom, top) == (base_b, base_a)
    assert display.density_.get_zorder() < display.lines_a_[0].get_zorder()


def test_true_path_over_density_is_subsampled(long_pair):
    a, b = long_pair
    alignment = alignkit.UniformAligner().align(a, b)
    display = AlignmentDisplay.from_alignment(alignment, a, b, true_path=alignment.path)
    truth = np.array(display.true_path_.get_segments())[:, :, 0].astype(int)
    assert 2 <= len(truth) <= 100
    assert {tuple(row) for row in truth.tolist()} <= {tuple(row) for row in alignment.path.tolist()}


def test_all_channels_of_sequences_with_different_channel_counts():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((30, 12)), rng.standard_normal((40, 17))
    alignment = alignkit.UniformAligner().align(a[:, 0], b[:, 0])
    display = AlignmentDisplay.from_alignment(alignment, a, b, channels="all")
    assert len(display.lines_a_) == 12 and len(display.lines_b_) == 17
    names = [tick.get_text() for tick in display.ax_.get_yticklabels()]
    assert names == [f"a[{c}]" for c in range(12)] + [f"b[{c}]" for c in range(17)]
    for channel, line in enumerate(display.lines_b_):
        np.testing.assert_allclose(np.diff(line.get_ydata()), np.diff(b[:, channel]))


def test_a_channel_missing_from_one_sequence_is_refused_with_the_fix():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((30, 12)), rng.standard_normal((40, 17))
    alignment = alignkit.UniformAligner().align(a[:, 0], b[:, 0])
    with pytest.raises(
        InvalidInputError, match=r"channel 14 does not exist; a has 12 .*channels_b"
    ):
        AlignmentDisplay.from_alignment(alignment, a, b, channels=[14])
    display = AlignmentDisplay.from_alignment(alignment, a, b, channels=[3], channels_b=[14])
    np.testing.assert_allclose(np.diff(display.lines_b_[0].get_ydata()), np.diff(b[:, 14]))
    with pytest.raises(InvalidInputError, match=r"channels_b: channel 17 does not exist; b has 17"):
        AlignmentDisplay.from_alignment(alignment, a, b, channels_b=17)


def test_legend_sits_above_the_traces_and_inside_its_own_axes(pair, inside):
    a, b = pair
    alignment = alignkit.dtw(a, b)
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(6, 4))  # no layout engine
    display = AlignmentDisplay.from_alignment(alignment, a, b, ax=top, channels="all")
    AlignmentDisplay.from_alignment(alignment, a, b, ax=bottom)
    figure.savefig(io.BytesIO(), bbox_inches=None)
    renderer = figure.canvas.get_renderer()
    legend = display.legend_.get_window_extent(renderer)
    assert inside(legend, top.get_window_extent(renderer))
    assert not legend.overlaps(bottom.get_window_extent(renderer))
    # Above every point of every trace.
    highest = max(max(line.get_ydata()) for line in display.lines_a_)
    assert legend.y0 >= top.transData.transform((0, highest))[1]


def test_saved_figure_does_not_clip_the_legend(pair, inside):
    a, b = pair
    display = AlignmentDisplay.from_alignment(
        alignkit.dtw(a, b), a, b, true_path=alignkit.UniformAligner().align(a, b).path
    )
    assert display.figure_.get_layout_engine() is not None
    display.figure_.savefig(io.BytesIO(), bbox_inches=None)
    renderer = display.figure_.canvas.get_renderer()
    assert inside(display.legend_.get_window_extent(renderer), display.figure_.bbox)
    texts = [text.get_text() for text in display.legend_.get_texts()]
    assert texts == ["a", "b", "matches", "true path"]


def test_plot_again_on_new_axes_returns_self(pair):
    a, b = pair
    display = AlignmentDisplay(alignkit.dtw(a, b), a, b)
    _, ax = plt.subplots()
    assert display.plot(ax=ax) is display and display.ax_ is ax


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"matches": "blob"}, r"'matches' parameter of AlignmentDisplay.plot"),
        ({"max_lines": 0}, r"'max_lines' parameter of AlignmentDisplay.plot"),
        ({"offset": np.inf}, r"'offset' parameter of AlignmentDisplay.plot"),
        ({"channels_b": "first"}, r"'channels_b' parameter of AlignmentDisplay.plot"),
        ({"channels": []}, "channels is empty"),
    ],
)
def test_bad_plot_arguments(pair, kwargs, match):
    a, b = pair
    display = AlignmentDisplay(alignkit.dtw(a, b), a, b)
    with pytest.raises(InvalidInputError, match=match):
        display.plot(**kwargs)


def test_bad_constructor_arguments(pair):
    a, b = pair
    alignment = alignkit.dtw(a, b)
    with pytest.raises(InvalidInputError, match="expects an Alignment"):
        AlignmentDisplay(alignment.path, a, b)
    with pytest.raises(InvalidInputError, match="a has 24 timepoints"):
        AlignmentDisplay(alignment, a[1:], b)
    with pytest.raises(InvalidInputError, match=r"true_path\[1\]"):
        AlignmentDisplay(alignment, a, b, true_path=[[0, 0], [0, 99]])
    with pytest.raises(InvalidInputError, match=r"'estimator' parameter"):
        AlignmentDisplay.from_estimator(object(), a, b)

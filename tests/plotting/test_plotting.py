"""Tests of alignkit.plotting: the artists drawn must show the alignment they were given."""

import importlib
import subprocess
import sys

import numpy as np
import pytest

import alignkit
import alignkit.plotting
from alignkit.exceptions import InvalidInputError

plt = importlib.import_module("matplotlib.pyplot")
from alignkit.plotting import plot_alignment, plot_cost_matrix  # noqa: E402


@pytest.fixture(scope="module")
def alignment(pair):
    a, b = pair
    return alignkit.dtw(a, b, window=3, return_cost_matrix=True)


def _collection(ax, label):
    (found,) = [c for c in ax.collections if c.get_label() == label]
    return found


def _line(ax, label):
    (found,) = [line for line in ax.lines if line.get_label() == label]
    return found


def test_plot_alignment_draws_one_line_per_matched_pair(pair, alignment):
    a, b = pair
    ax = plot_alignment(alignment, a, b, offset=5.0)
    segments = np.array(_collection(ax, "matches").get_segments())
    assert len(segments) == len(alignment.path)
    # Each line runs from x = i (on a) to x = j (on b) of one matched pair...
    np.testing.assert_array_equal(segments[:, :, 0], alignment.path)
    # ...and from the point a[i] to the point b[j]: the same centring shifts both, so the
    # drop of every line is the value difference plus the offset between the baselines.
    i, j = alignment.path.T
    drop = segments[:, 0, 1] - segments[:, 1, 1]
    np.testing.assert_allclose(drop, a[i, 0] - b[j, 0] + 5.0)


def test_plot_alignment_traces_are_the_sequences(pair, alignment):
    a, b = pair
    ax = plot_alignment(alignment, a, b)
    trace_a, trace_b = _line(ax, "a"), _line(ax, "b")
    np.testing.assert_array_equal(trace_a.get_xdata(), np.arange(len(a)))
    np.testing.assert_array_equal(trace_b.get_xdata(), np.arange(len(b)))
    # Shifted copies of the first channel: differences between timepoints are kept.
    np.testing.assert_allclose(np.diff(trace_a.get_ydata()), np.diff(a[:, 0]))
    np.testing.assert_allclose(np.diff(trace_b.get_ydata()), np.diff(b[:, 0]))
    assert min(trace_a.get_ydata()) > max(trace_b.get_ydata())  # a above b
    assert ax.get_xlabel() and ax.get_title()


@pytest.mark.parametrize("max_lines", [1, 7, 30])
def test_plot_alignment_max_lines_subsamples_the_path(pair, alignment, max_lines):
    a, b = pair
    ax = plot_alignment(alignment, a, b, max_lines=max_lines)
    ends = np.array(_collection(ax, "matches").get_segments())[:, :, 0]
    assert len(ends) == max_lines
    path_rows = {tuple(row) for row in alignment.path.tolist()}
    assert {tuple(row) for row in ends.astype(int).tolist()} <= path_rows
    if max_lines > 1:
        assert ends[0].tolist() == [0, 0]
        assert ends[-1].tolist() == [len(a) - 1, len(b) - 1]


def test_plot_alignment_max_lines_above_path_length_draws_every_pair(pair, alignment):
    a, b = pair
    ax = plot_alignment(alignment, a, b, max_lines=10_000)
    assert len(_collection(ax, "matches").get_segments()) == len(alignment.path)


def test_plot_alignment_stacks_all_channels_and_overlays_true_path(pair, alignment):
    a, b = pair
    true_path = alignkit.UniformAligner().align(a, b).path
    ax = plot_alignment(alignment, a, b, channels="all", true_path=true_path)
    assert len(ax.lines) == 2 * a.shape[1]
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    assert labels == ["a[0]", "a[1]", "b[0]", "b[1]"]
    truth = np.array(_collection(ax, "true path").get_segments())[:, :, 0]
    np.testing.assert_array_equal(truth, true_path)


def test_plot_alignment_draws_on_given_axes(pair, alignment):
    a, b = pair
    _, ax = plt.subplots()
    assert plot_alignment(alignment, a, b, ax=ax) is ax


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_lines": 0}, "max_lines"),
        ({"channels": 2}, "channel 2 does not exist"),
        ({"channels": "first"}, "channels"),
        ({"true_path": [[0, 0], [99, 0]]}, r"true_path\[1\]"),
    ],
)
def test_plot_alignment_rejects_bad_arguments(pair, alignment, kwargs, match):
    a, b = pair
    with pytest.raises(InvalidInputError, match=match):
        plot_alignment(alignment, a, b, **kwargs)


@pytest.mark.parametrize(
    ("function", "kwargs", "match"),
    [
        # Declared constraints: the message names the function, the parameter and the value.
        (plot_alignment, {"max_lines": 2.0}, r"'max_lines' parameter of plot_alignment .* Got 2.0"),
        (plot_alignment, {"max_lines": True}, r"'max_lines' parameter of plot_alignment"),
        (plot_alignment, {"offset": np.nan}, r"'offset' parameter of plot_alignment .* Got nan"),
        # An infinite offset used to pass and fail inside matplotlib ("Axis limits cannot be inf").
        (plot_alignment, {"offset": np.inf}, r"'offset' parameter of plot_alignment .* Got inf"),
        (plot_alignment, {"offset": "1.5"}, r"'offset' parameter of plot_alignment"),
        (plot_alignment, {"labels": "ab"}, r"'labels' parameter of plot_alignment"),
        (plot_alignment, {"title": 3}, r"'title' parameter of plot_alignment"),
        # show_cost=1 used to pass the `in (True, False, "auto")` test and act as "auto".
        (plot_cost_matrix, {"show_cost": 1}, r"'show_cost' parameter of plot_cost_matrix"),
        (plot_cost_matrix, {"show_cost": "yes"}, r"'show_cost' parameter of plot_cost_matrix"),
        (plot_cost_matrix, {"title": 3}, r"'title' parameter of plot_cost_matrix"),
    ],
)
def test_plot_parameters_are_declared(pair, alignment, function, kwargs, match):
    a, b = pair
    with pytest.raises(InvalidInputError, match=match):
        function(alignment, a, b, **kwargs)


def test_plot_alignment_rejects_sequences_of_other_lengths(pair, alignment):
    a, b = pair
    with pytest.raises(InvalidInputError, match="b has 34 timepoints"):
        plot_alignment(alignment, a, b[:-1])


def test_plot_cost_matrix_path_line_is_the_path(alignment):
    ax = plot_cost_matrix(alignment)
    line = _line(ax, "path")
    drawn = np.column_stack([line.get_ydata(), line.get_xdata()])
    np.testing.assert_array_equal(drawn, alignment.path)
    assert ax.get_xlabel() == "b (timepoint)" and ax.get_ylabel() == "a (timepoint)"
    assert ax.get_title()


def test_plot_cost_matrix_shows_the_cost_and_blanks_cells_outside_the_window(alignment):
    ax = plot_cost_matrix(alignment, show_cost=True)
    (image,) = ax.images
    shown = image.get_array()
    outside = ~np.isfinite(alignment.cost_matrix)
    assert outside.any()  # the window of radius 3 leaves cells out
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), outside)
    np.testing.assert_array_equal(shown.data[~outside], alignment.cost_matrix[~outside])


def test_plot_cost_matrix_without_cost_matrix(pair):
    a, b = pair
    bare = alignkit.dtw(a, b)
    with pytest.raises(InvalidInputError, match="return_cost_matrix=True"):
        plot_cost_matrix(bare, show_cost=True)
    ax = plot_cost_matrix(bare)  # "auto": the path alone on the (n, m) grid
    assert not ax.images
    assert ax.get_xlim() == (-0.5, len(b) - 0.5)
    assert ax.get_ylim() == (-0.5, len(a) - 0.5)
    assert not plot_cost_matrix(alignkit.dtw(a, b, return_cost_matrix=True), show_cost=False).images


def test_plot_cost_matrix_margins_show_the_sequences(pair, alignment):
    a, b = pair
    true_path = alignkit.UniformAligner().align(a, b).path
    ax = plot_cost_matrix(alignment, a, b, true_path=true_path)
    figure_axes = ax.figure.axes
    assert len(figure_axes) == 3  # the matrix and two margins; the colour bar is an inset
    assert len(ax.child_axes) == 1
    margin_a = next(other for other in figure_axes if other.get_ylabel() == "a (timepoint)")
    margin_b = next(other for other in figure_axes if other.get_xlabel() == "b (timepoint)")
    (line_a,), (line_b,) = margin_a.lines, margin_b.lines
    np.testing.assert_array_equal(line_a.get_xdata(), a[:, 0])
    np.testing.assert_array_equal(line_a.get_ydata(), np.arange(len(a)))
    np.testing.assert_array_equal(line_b.get_ydata(), b[:, 0])
    truth = _line(ax, "true path")
    np.testing.assert_array_equal(
        np.column_stack([truth.get_ydata(), truth.get_xdata()]), true_path
    )


def test_plot_cost_matrix_margins_replace_a_grid_cell(pair, alignment):
    a, b = pair
    figure, (left, right) = plt.subplots(1, 2)
    ax = plot_cost_matrix(alignment, a, b, ax=right)
    assert right not in figure.axes and left in figure.axes
    assert ax in figure.axes and len(figure.axes) == 4
    loose = figure.add_axes([0.1, 0.1, 0.2, 0.2])
    with pytest.raises(InvalidInputError, match="grid cell"):
        plot_cost_matrix(alignment, a, b, ax=loose)


def test_plot_cost_matrix_needs_both_sequences(pair, alignment):
    a, _ = pair
    with pytest.raises(InvalidInputError, match="both a and b"):
        plot_cost_matrix(alignment, a)


@pytest.mark.parametrize("function", [plot_alignment, plot_cost_matrix])
def test_missing_matplotlib_names_the_extra(monkeypatch, pair, alignment, function):
    a, b = pair
    # None in sys.modules makes `import matplotlib.pyplot` raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install alignkit\[plot\]"):
        function(alignment, a, b)


def test_plot_alignment_draws_every_channel_of_sequences_with_different_counts():
    # Issue 16: channels="all" drew 12 of b's 17 channels, and channels=[14] blamed "the sequences".
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((30, 12)), rng.standard_normal((36, 17))
    alignment = alignkit.UniformAligner().align(a[:, 0], b[:, 0])
    ax = plot_alignment(alignment, a, b, channels="all")
    assert len(ax.lines) == 12 + 17
    with pytest.raises(InvalidInputError, match="a has 12 channel.*b has 17"):
        plot_alignment(alignment, a, b, channels=[14])


def test_plot_alignment_shades_many_matches_instead_of_a_blob():
    a, b = np.sin(np.linspace(0, 20, 5000)), np.sin(np.linspace(0, 20, 5200))
    alignment = alignkit.UniformAligner().align(a, b)
    ax = plot_alignment(alignment, a, b)
    assert not ax.collections  # no LineCollection of 5,200 lines
    (density,) = ax.images
    np.testing.assert_array_equal(density.get_array().sum(axis=1), len(alignment))


def test_plot_cost_matrix_draws_an_itakura_window_without_cost_matrix(pair):
    a, b = pair
    window = ("itakura", 2.0)
    ax = plot_cost_matrix(alignkit.dtw(a, b, window=window), window=window)
    (shade,) = ax.images  # the cells outside the window, over the bare grid
    allowed = np.isfinite(alignkit.dtw(a, b, window=window, return_cost_matrix=True).cost_matrix)
    np.testing.assert_array_equal(np.ma.getmaskarray(shade.get_array()), allowed)


def test_plot_cost_matrix_of_attention_draws_the_attention():
    # Issue 16: an AttentionAlignment drew only its hard path, titled "distance 41.7".
    attention = np.full((6, 5), 0.1) + 0.5 * np.eye(6, 5)
    attention /= attention.sum(axis=1, keepdims=True)
    path, cost = alignkit.attention_path(attention)
    ax = plot_cost_matrix(alignkit.AttentionAlignment(path, cost, (5, 6), attention.T))
    (image,) = ax.images
    np.testing.assert_array_equal(image.get_array(), attention.T)
    assert ax.get_title().startswith("attention")


@pytest.mark.parametrize(
    "draw",
    [
        lambda: alignkit.plotting.TrainingHistoryDisplay([1.0]).plot(),
        lambda: alignkit.plotting.GlimpseDisplay(np.zeros((4, 4)), [[0.0, 0.0]]).plot(),
    ],
)
def test_displays_name_the_extra_without_matplotlib(monkeypatch, draw):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install alignkit\[plot\]"):
        draw()


def test_importing_plotting_does_not_import_matplotlib_or_numba():
    code = (
        "import sys, alignkit.plotting; "
        "sys.exit('matplotlib' in sys.modules or 'numba' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0

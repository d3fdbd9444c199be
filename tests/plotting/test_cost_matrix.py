"""Tests of CostMatrixDisplay: matrix, window, path and true path as drawn."""

import io

import numpy as np
import pytest

import alignkit
from alignkit import AttentionAlignment, attention_path
from alignkit.exceptions import InvalidInputError, WindowError
from alignkit.plotting import CostMatrixDisplay


def _drawn_path(line):
    return np.column_stack([line.get_ydata(), line.get_xdata()])


def test_image_is_the_cost_matrix_and_the_line_the_path(pair):
    a, b = pair
    alignment = alignkit.dtw(a, b, window=3, return_cost_matrix=True)
    display = CostMatrixDisplay.from_alignment(alignment, window=3)
    shown = display.im_.get_array()
    outside = ~np.isfinite(alignment.cost_matrix)
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), outside)
    np.testing.assert_array_equal(shown.data[~outside], alignment.cost_matrix[~outside])
    np.testing.assert_array_equal(_drawn_path(display.path_line_), alignment.path)
    assert display.colorbar_.ax.get_ylabel() == "accumulated cost"
    assert display.ax_.get_title().startswith("accumulated cost: distance")


@pytest.mark.parametrize("window", [("itakura", 1.5), ("itakura", 3.0), 0.2, 4])
def test_window_is_the_region_the_dynamic_programme_fills(pair, window):
    a, b = pair
    # Truth: the cells the DP of alignkit.dtw reaches (finite) are those of the window.
    allowed = np.isfinite(alignkit.dtw(a, b, window=window, return_cost_matrix=True).cost_matrix)
    alignment = alignkit.dtw(a, b, window=window)  # no cost matrix: the window alone
    display = CostMatrixDisplay.from_alignment(alignment, window=window)
    assert display.im_ is None and display.colorbar_ is None
    np.testing.assert_array_equal(display.window_mask, allowed)
    np.testing.assert_array_equal(np.ma.getmaskarray(display.window_.get_array()), allowed)
    assert "outside window" in [text.get_text() for text in display.legend_.get_texts()]


def test_sakoe_chiba_window_by_brute_force():
    a, b = np.sin(np.arange(20.0)), np.cos(np.arange(20.0))
    display = CostMatrixDisplay.from_alignment(alignkit.dtw(a, b, window=3), window=3)
    i, j = np.indices((20, 20))
    np.testing.assert_array_equal(display.window_mask, np.abs(i - j) <= 3)


def test_mask_window_is_drawn_as_given(pair):
    a, b = pair
    i, j = np.indices((len(a), len(b)))
    mask = np.abs(i * (len(b) - 1) - j * (len(a) - 1)) <= 3 * len(a)
    display = CostMatrixDisplay.from_alignment(alignkit.dtw(a, b, window=mask), window=mask)
    np.testing.assert_array_equal(display.window_mask, mask)
    with pytest.raises(WindowError, match="mask has shape"):
        CostMatrixDisplay(alignkit.dtw(a, b), window=mask[:, :-1])


def test_attention_alignment_shows_the_attention():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((9, 7)) + 4 * np.eye(9, 7)
    attention = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)  # (m, n): rows sum to 1
    path, cost = attention_path(attention)
    alignment = AttentionAlignment(path, cost, (7, 9), attention.T)
    display = CostMatrixDisplay.from_alignment(alignment)
    np.testing.assert_array_equal(display.im_.get_array(), attention.T)
    np.testing.assert_array_equal(_drawn_path(display.path_line_), path)
    assert display.colorbar_.ax.get_ylabel() == "attention weight"
    assert display.ax_.get_title().startswith("attention: hard path")
    assert not CostMatrixDisplay.from_alignment(alignment, matrix=None).ax_.images
    with pytest.raises(InvalidInputError, match="no cost matrix"):
        CostMatrixDisplay.from_alignment(alignment, matrix="cost")


def test_soft_attention_aligner_from_estimator():
    pytest.importorskip("torch")
    from alignkit.datasets import make_warped_copy

    pairs, _ = make_warped_copy(n_pairs=12, n_timepoints=6, random_state=0)
    aligner = alignkit.SoftAttentionAligner(
        mode="align", max_epochs=1, hidden_size=8, attention_size=8, batch_size=8, random_state=0
    ).fit(pairs)
    a, b = pairs[0]
    display = CostMatrixDisplay.from_estimator(aligner, a, b)
    np.testing.assert_allclose(display.im_.get_array(), aligner.attention([(a, b)])[0].T)
    np.testing.assert_array_equal(_drawn_path(display.path_line_), aligner.align(a, b).path)
    assert len(display.lines_a_) == 1 and len(display.lines_b_) == 1


def test_from_estimator_draws_the_aligners_window(pair):
    a, b = pair
    display = CostMatrixDisplay.from_estimator(
        alignkit.DTWAligner(window=("itakura", 2.0)), a, b, margins=False
    )
    allowed = np.isfinite(
        alignkit.dtw(a, b, window=("itakura", 2.0), return_cost_matrix=True).cost_matrix
    )
    np.testing.assert_array_equal(display.window_mask, allowed)
    np.testing.assert_array_equal(
        _drawn_path(display.path_line_), alignkit.dtw(a, b, window=("itakura", 2.0)).path
    )
    assert display.ax_a_ is None and display.lines_a_ == []


def test_true_path_and_margins_with_different_channel_counts():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((20, 3)), rng.standard_normal((26, 5))
    alignment = alignkit.UniformAligner().align(a[:, 0], b[:, 0])
    true_path = alignkit.dtw(a[:, 0], b[:, 0]).path
    display = CostMatrixDisplay.from_alignment(alignment, a, b, true_path=true_path, channels="all")
    assert len(display.lines_a_) == 3 and len(display.lines_b_) == 5
    np.testing.assert_array_equal(display.lines_b_[4].get_ydata(), b[:, 4])
    np.testing.assert_array_equal(display.lines_a_[2].get_xdata(), a[:, 2])
    np.testing.assert_array_equal(_drawn_path(display.true_path_line_), true_path)
    with pytest.raises(InvalidInputError, match="channel 4 does not exist; a has 3"):
        CostMatrixDisplay.from_alignment(alignment, a, b, channels=4)


def test_saved_figure_keeps_the_colour_bar_label_legend_and_title(pair, inside):
    a, b = pair
    alignment = alignkit.dtw(a, b, window=3, return_cost_matrix=True)
    true_path = alignkit.UniformAligner().align(a, b).path
    display = CostMatrixDisplay.from_alignment(alignment, a, b, window=3, true_path=true_path)
    figure = display.figure_
    figure.savefig(io.BytesIO(), bbox_inches=None)
    renderer = figure.canvas.get_renderer()
    label = display.colorbar_.ax.yaxis.label
    assert label.get_text() == "accumulated cost"
    assert inside(label.get_window_extent(renderer), figure.bbox)
    assert inside(display.legend_.get_window_extent(renderer), display.ax_.bbox)
    assert inside(display.ax_.title.get_window_extent(renderer), figure.bbox)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"matrix": "soft"}, r"'matrix' parameter of CostMatrixDisplay.plot"),
        ({"matrix": "attention"}, "no attention matrix"),
        ({"title": 1}, r"'title' parameter of CostMatrixDisplay.plot"),
    ],
)
def test_bad_plot_arguments(pair, kwargs, match):
    a, b = pair
    display = CostMatrixDisplay(alignkit.dtw(a, b, return_cost_matrix=True))
    with pytest.raises(InvalidInputError, match=match):
        display.plot(**kwargs)


def test_bad_constructor_arguments(pair):
    a, b = pair
    alignment = alignkit.dtw(a, b)
    with pytest.raises(InvalidInputError, match="both a and b"):
        CostMatrixDisplay(alignment, a)
    with pytest.raises(WindowError, match="Itakura"):
        CostMatrixDisplay(alignment, window=("itakura", 0.5))
    with pytest.raises(InvalidInputError, match=r"'labels' parameter"):
        CostMatrixDisplay(alignment, labels="ab")

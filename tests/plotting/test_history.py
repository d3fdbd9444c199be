"""Tests of TrainingHistoryDisplay: the curves drawn are the aligner's recorded losses."""

import io

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import alignkit
from alignkit.exceptions import InvalidInputError
from alignkit.plotting import TrainingHistoryDisplay


def test_curves_and_best_epoch_from_lists():
    display = TrainingHistoryDisplay([3.0, 2.0, 1.5, 1.4], [2.5, 1.8, 1.9, 2.0]).plot()
    np.testing.assert_array_equal(display.loss_line_.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(display.loss_line_.get_ydata(), [3.0, 2.0, 1.5, 1.4])
    np.testing.assert_array_equal(display.validation_line_.get_ydata(), [2.5, 1.8, 1.9, 2.0])
    assert display.best_marker_.get_xdata().tolist() == [2]
    assert display.best_marker_.get_ydata().tolist() == [1.8]
    assert display.ax_.get_xlabel() == "epoch" and display.ax_.get_ylabel() == "loss"


def test_without_validation_draws_the_loss_alone():
    display = TrainingHistoryDisplay([1.0, 0.5]).plot(log_scale=True)
    assert display.validation_line_ is None and display.best_marker_ is None
    assert display.ax_.get_yscale() == "log"
    assert [text.get_text() for text in display.legend_.get_texts()] == ["training loss"]


def test_from_estimator_draws_the_recorded_history():
    pytest.importorskip("torch")
    from alignkit.datasets import make_warped_copy

    pairs, _ = make_warped_copy(n_pairs=16, n_timepoints=6, random_state=0)
    aligner = alignkit.SoftAttentionAligner(
        mode="align",
        max_epochs=3,
        hidden_size=8,
        attention_size=8,
        batch_size=8,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=5,
        random_state=0,
    ).fit(pairs)
    display = TrainingHistoryDisplay.from_estimator(aligner)
    np.testing.assert_array_equal(display.loss_line_.get_ydata(), aligner.loss_curve_)
    np.testing.assert_array_equal(display.validation_line_.get_ydata(), aligner.validation_scores_)
    best = int(np.argmin(aligner.validation_scores_)) + 1
    assert display.best_marker_.get_xdata().tolist() == [best]
    assert display.ax_.get_title() == f"SoftAttentionAligner: {aligner.n_iter_} epoch(s)"


def test_unfitted_estimator_is_refused():
    with pytest.raises(NotFittedError, match="DTWAligner has no loss_curve_"):
        TrainingHistoryDisplay.from_estimator(alignkit.DTWAligner())


def test_saved_figure_keeps_the_legend():
    display = TrainingHistoryDisplay([3.0, 2.0, 1.0], [3.5, 2.5, 2.0]).plot()
    display.figure_.savefig(io.BytesIO(), bbox_inches=None)
    renderer = display.figure_.canvas.get_renderer()
    legend = display.legend_.get_window_extent(renderer)
    axes = display.ax_.get_window_extent(renderer)
    assert axes.x0 <= legend.x0 and legend.x1 <= axes.x1
    assert axes.y0 <= legend.y0 and legend.y1 <= axes.y1


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([1.0, np.nan],), {}, r"loss_curve\[1\] is nan"),
        (([],), {}, "loss_curve is empty"),
        (([[1.0, 2.0]],), {}, "1-D"),
        (([1.0, 2.0], [1.0]), {}, "validation_scores has 1 epochs but loss_curve has 2"),
        (([1.0],), {"estimator_name": 3}, r"'estimator_name' parameter"),
    ],
)
def test_bad_histories(args, kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        TrainingHistoryDisplay(*args, **kwargs)


def test_log_scale_needs_positive_losses():
    with pytest.raises(InvalidInputError, match="log_scale=True needs positive losses"):
        TrainingHistoryDisplay([1.0, -0.5]).plot(log_scale=True)
    with pytest.raises(InvalidInputError, match=r"'log_scale' parameter"):
        TrainingHistoryDisplay([1.0]).plot(log_scale="yes")

"""
TrainingHistoryDisplay: the loss of a learned aligner, epoch by epoch
=====================================================================

Every learned aligner records ``loss_curve_`` (the mean training loss of each
epoch) and, with ``early_stopping=True``, ``validation_scores_`` (the loss on
the held-out fraction). :class:`~alignkit.plotting.TrainingHistoryDisplay`
draws both and marks the epoch whose networks early stopping restores.
"""

# %%
# From a fitted aligner
# ---------------------
# A soft-attention aligner on 100 short warped copies, trained for 12 epochs
# only to keep the example fast.
import matplotlib.pyplot as plt

import alignkit
from alignkit.datasets import make_warped_copy
from alignkit.plotting import TrainingHistoryDisplay

pairs, _ = make_warped_copy(n_pairs=100, n_timepoints=(10, 14), random_state=0)
model = alignkit.SoftAttentionAligner(
    mode="align", max_epochs=12, early_stopping=True, n_iter_no_change=12, random_state=0
).fit(pairs)
display = TrainingHistoryDisplay.from_estimator(model)
best = int(display.best_marker_.get_xdata()[0])
print(f"{model.n_iter_} epochs; lowest validation loss at epoch {best}")

# %%
# From the curves, on axes of your own
# ------------------------------------
# The constructor takes the curves themselves, so a history saved with a
# model (or another library's) draws the same way; ``plot(ax=...)`` draws into
# a subplot grid. The artists are attributes: here the loss line is dotted.
figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
TrainingHistoryDisplay(model.loss_curve_, estimator_name="training loss only").plot(ax=left)
again = TrainingHistoryDisplay(model.loss_curve_, model.validation_scores_).plot(ax=right)
again.loss_line_.set_linestyle(":")
plt.show()

"""
Display objects: a picture of every kind of result
==================================================

:mod:`alignkit.plotting` follows scikit-learn's display pattern
(:class:`sklearn.metrics.ConfusionMatrixDisplay`): a ``*Display`` object holds
what it draws, ``from_alignment`` / ``from_estimator`` build and draw it in one
call, ``plot(ax=...)`` draws it again elsewhere, and the artists are kept as
attributes (``ax_``, ``figure_``, ``im_``, ``lines_a_`` ...) so that the
picture can be restyled or checked. Figures the displays make use
constrained layout, so ``savefig`` never clips a legend or a colour-bar label.
"""

# %%
# A pairwise alignment
# --------------------
# :class:`~alignkit.plotting.AlignmentDisplay` draws the two sequences one
# above the other and joins the matched points. Above 300 matched pairs it
# shades how many match lines cross each part of the band between the
# sequences instead of drawing a blob of lines; ``max_lines`` or
# ``matches="lines"`` asks for lines.
import matplotlib.pyplot as plt
import numpy as np

import alignkit
from alignkit.datasets import (
    make_digit_canvas,
    make_ecg_pair,
    make_warped_copy,
    make_warped_spirals,
)
from alignkit.multiview import gctw
from alignkit.plotting import (
    AlignmentDisplay,
    AttentionMapDisplay,
    CanonicalVariatesDisplay,
    CostMatrixDisplay,
    GlimpseDisplay,
    MultiAlignmentDisplay,
    SamplingGridDisplay,
    TrainingHistoryDisplay,
)

a, b, true_path = make_ecg_pair()
alignment = alignkit.dtw(a, b, window=0.1)
figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), layout="constrained")
AlignmentDisplay.from_alignment(alignment, a, b, ax=top, max_lines=80, true_path=true_path)
shaded = AlignmentDisplay.from_alignment(alignment, a, b, ax=bottom, true_path=true_path)
print("rows of the density sum to the", int(shaded.density_.get_array().sum(axis=1)[0]), "pairs")

# %%
# Sequences of two modalities may have different channel counts (CTW aligns
# them); ``channels="all"`` draws each sequence's own channels.
rng = np.random.default_rng(0)
x = np.cumsum(rng.standard_normal((40, 3)), axis=0)
y = np.cumsum(rng.standard_normal((55, 5)), axis=0)
uniform = alignkit.UniformAligner().align(x[:, 0], y[:, 0])
AlignmentDisplay.from_alignment(uniform, x, y, channels="all", labels=("video", "audio"))

# %%
# The cost matrix, the window and the true path
# ---------------------------------------------
# :class:`~alignkit.plotting.CostMatrixDisplay` shades the cells outside the
# window, here an Itakura parallelogram, with or without the cost matrix.
# ``from_estimator`` reads the window from the aligner.
window = ("itakura", 1.5)
figure, (left, right) = plt.subplots(1, 2, figsize=(12, 5), layout="constrained")
CostMatrixDisplay.from_estimator(
    alignkit.DTWAligner(window=window), a, b, margins=False, true_path=true_path, ax=left
)
with_cost = alignkit.dtw(a, b, window=window, return_cost_matrix=True)
CostMatrixDisplay.from_alignment(with_cost, a, b, window=window, true_path=true_path, ax=right)

# %%
# Soft attention and its training history
# ---------------------------------------
# For a :class:`~alignkit.SoftAttentionAligner` the display draws the
# attention matrix, not only the hard path read from it, and
# :class:`~alignkit.plotting.TrainingHistoryDisplay` its ``loss_curve_`` and
# ``validation_scores_`` (a few epochs here, to keep the example fast).
pairs, true_paths = make_warped_copy(n_pairs=100, n_timepoints=(10, 14), random_state=0)
attention = alignkit.SoftAttentionAligner(
    mode="align", max_epochs=4, early_stopping=True, n_iter_no_change=4, random_state=0
).fit(pairs)
figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
source, copy = pairs[0]
CostMatrixDisplay.from_estimator(
    attention,
    source,
    copy,
    margins=False,
    true_path=true_paths[0],
    ax=left,
    labels=("source", "copy"),
)
TrainingHistoryDisplay.from_estimator(attention, ax=right)

# %%
# Canonical variates before and after warping
# -------------------------------------------
# :class:`~alignkit.plotting.CanonicalVariatesDisplay` shows what CTW (or deep
# CTW) learned: the projected sequences on their own timelines, then along
# the path, where they agree.
spirals = make_warped_spirals(n_sequences=3, random_state=0)[0]
ctw = alignkit.CTWAligner(n_components=2).fit([(spirals[0], spirals[1])])
CanonicalVariatesDisplay.from_estimator(ctw, spirals[0], spirals[1], components="all")

# %%
# Several sequences at once (GCTW)
# --------------------------------
# :class:`~alignkit.plotting.MultiAlignmentDisplay` draws the warp of every
# sequence onto the latent timeline and their first canonical variate there.
MultiAlignmentDisplay(gctw(spirals, n_components=2), spirals).plot()

# %%
# Images: grid attention, sampling grids and glimpses
# ---------------------------------------------------
# :class:`~alignkit.plotting.AttentionMapDisplay` lays each decoding step's
# attention over the image at image resolution (a grid cell's weight spread
# over its pixels, :func:`~alignkit.upsample_attention`); here made-up
# weights over a 10 x 10 grid of cells, one step on the digit's box and one
# beside it. :class:`~alignkit.plotting.SamplingGridDisplay` maps the output
# frame of a spatial transformer into each input, and
# :class:`~alignkit.plotting.GlimpseDisplay` draws the glimpses of a
# recurrent attention model with the squares its retina sees. Both models
# train for a few epochs only, so what they learned is not the point here.
canvas = make_digit_canvas(200, kind="TC", random_state=0)
row_min, col_min, row_max, col_max = (canvas.boxes[0] // 4).astype(int)
on_box = np.zeros((10, 10))
on_box[row_min : row_max + 1, col_min : col_max + 1] = 1.0
beside = np.roll(on_box, 4, axis=1)
weights = np.stack([on_box.ravel() / on_box.sum(), beside.ravel() / beside.sum()])
AttentionMapDisplay.from_grid(
    canvas.images[0], weights, (10, 10), tokens=["digit", "elsewhere"], box=canvas.boxes[0]
)

rotated = make_digit_canvas(200, kind="R", random_state=0)
stn = alignkit.STNAligner(max_epochs=2, random_state=0).fit(rotated.images, rotated.labels)
SamplingGridDisplay.from_estimator(stn, rotated.images[:6])

glimpses = alignkit.GlimpseAligner(n_glimpses=4, max_epochs=2, random_state=0)
glimpses.fit(canvas.images, canvas.labels)
GlimpseDisplay.from_estimator(glimpses, canvas.images[0], box=canvas.boxes[0])
plt.show()

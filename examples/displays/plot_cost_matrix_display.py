"""
CostMatrixDisplay: the path in its cost matrix, window and true path
====================================================================

:class:`~alignkit.plotting.CostMatrixDisplay` draws the accumulated cost
matrix with the warping path, the cells outside the window shaded, and a true
path dashed. Row ``i`` is timepoint ``i`` of ``a`` (upwards), column ``j``
timepoint ``j`` of ``b``; the sequences run along the margins.
"""

# %%
# With and without the cost matrix
# --------------------------------
# ``from_estimator`` reads the window from the aligner, here an Itakura
# parallelogram, and draws the path without a matrix; ``from_alignment`` of
# ``dtw(..., return_cost_matrix=True)`` shades the matrix under it.
import matplotlib.pyplot as plt

import alignkit
from alignkit.datasets import make_ecg_pair, make_warped_copy
from alignkit.plotting import CostMatrixDisplay

a, b, true_path = make_ecg_pair()
window = ("itakura", 1.5)
figure, (left, right) = plt.subplots(1, 2, figsize=(12, 5), layout="constrained")
bare = CostMatrixDisplay.from_estimator(
    alignkit.DTWAligner(window=window), a, b, margins=False, true_path=true_path, ax=left
)
with_cost = alignkit.dtw(a, b, window=window, return_cost_matrix=True)
shaded = CostMatrixDisplay.from_alignment(
    with_cost, a, b, window=window, true_path=true_path, ax=right
)
print(f"cells inside the window: {int(bare.window_mask.sum())} of {bare.window_mask.size}")
print(f"path of {len(shaded.path_line_.get_xdata())} points")
print(f"colour bar: {shaded.colorbar_.ax.get_ylabel()!r}")

# %%
# An attention matrix
# -------------------
# For a fitted :class:`~alignkit.SoftAttentionAligner` the display draws the
# attention (``soft_matrix``) with the hard path read from it. Four epochs on
# 100 short pairs keep this fast; the model is not the point here (see
# :ref:`sphx_glr_auto_examples_plot_soft_attention.py` for a trained one).
pairs, true_paths = make_warped_copy(n_pairs=100, n_timepoints=(10, 14), random_state=0)
attention = alignkit.SoftAttentionAligner(mode="align", max_epochs=4, random_state=0).fit(pairs)
source, copy = pairs[0]
display = CostMatrixDisplay.from_estimator(
    attention, source, copy, true_path=true_paths[0], labels=("source", "copy")
)
print("the attention of each copy frame sums to", display.im_.get_array().sum(axis=0).round(6)[:3])
plt.show()

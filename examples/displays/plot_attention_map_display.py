"""
AttentionMapDisplay: where a captioning model looks, token by token
===================================================================

A grid attention model (:class:`~alignkit.SoftAttentionAligner` with
``input="grid"``) spreads its attention over the cells of a CNN's feature grid
at each decoded token. :class:`~alignkit.plotting.AttentionMapDisplay` lays
each token's attention over the image at image resolution: each cell's weight
is spread over the pixels it covers (:func:`~alignkit.upsample_attention`).
"""

# %%
# Attention over grid cells
# -------------------------
# ``from_grid`` takes the weights over the cells, row-major, as
# :meth:`~alignkit.SoftAttentionAligner.attention` returns them. Here they are
# made up over a 10 x 10 grid of cells (4 x 4 pixels each): one step on the
# digit's box, one beside it.
import matplotlib.pyplot as plt
import numpy as np

import alignkit
from alignkit.datasets import make_digit_captions
from alignkit.plotting import AttentionMapDisplay

pairs, canvas = make_digit_captions(200, kind="T", random_state=0)
image, box = canvas.images[0], canvas.boxes[0]
row_min, col_min, row_max, col_max = (box // 4).astype(int)
on_box = np.zeros((10, 10))
on_box[row_min : row_max + 1, col_min : col_max + 1] = 1.0
beside = np.roll(on_box, 4, axis=1)
weights = np.stack([on_box.ravel() / on_box.sum(), beside.ravel() / beside.sum()])
display = AttentionMapDisplay.from_grid(
    image, weights, (10, 10), tokens=["digit", "elsewhere"], box=box
)
print("each map still sums to", [round(float(m.get_array().sum()), 6) for m in display.maps_])

# %%
# From a fitted model
# -------------------
# ``from_estimator`` decodes the caption (or takes the tokens given) and draws
# the attention behind each token. Three epochs on 200 captioned canvases keep
# this fast, so the attention is still vague;
# :ref:`sphx_glr_auto_examples_plot_soft_attention_grid.py` trains one that
# finds the digit.
model = alignkit.SoftAttentionAligner(
    input="grid", hidden_size=32, batch_size=16, max_epochs=3, random_state=0
).fit(pairs)
display = AttentionMapDisplay.from_estimator(model, image, pairs[0][1], box=box)
print("tokens:", [ax.get_title() for ax in display.axes_])
plt.show()
